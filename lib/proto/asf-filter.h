/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-client stream selection of ASF data packets (sans-IO): which payloads
 * of a packet a client that selected some of the streams receives, as a
 * packet of the same fixed size, and that packet without its padding for a
 * `$D`.
 *
 * Source: [MS-WMSP] §2.2.1.4.27 (stream-switch-entry thinning levels: 0 the
 * stream is sent whole, 1 only its key-frame media objects, 2 none of it),
 * §3.2.5.6 ("the ASF payloads … MUST be filtered such that only ASF payloads
 * that belong to streams that have been selected by the client are
 * included"), §2.2.3.3 (padding removed from `$D` packets); ASF
 * Specification §5.2 (data packet layout).
 */
#pragma once

#include "base/error.h"
#include "proto/asf.h"

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wmstream::proto::asf {

/** What a client receives of each stream (bit = ASF stream number, 1..127). */
struct StreamSelection {
    /** Streams whose payloads are sent (thinning level 0 or 1). */
    std::bitset<128> streams;
    /** Of those, the streams thinned to key frames (thinning level 1): only
     *  their payloads with the key-frame bit (every fragment of a key-frame
     *  media object carries it, ASF §5.2.3.1) are sent. */
    std::bitset<128> key_frames_only;

    bool operator==(const StreamSelection &other) const {
        return streams == other.streams && key_frames_only == other.key_frames_only;
    }
    bool operator!=(const StreamSelection &other) const { return !(*this == other); }

    /** Every stream @p header declares, none thinned: what a client that filters nothing
     *  gets. */
    static StreamSelection all_of(const HeaderInfo &header);
    /** True when no payload of a stream @p header declares is dropped. */
    [[nodiscard]] bool keeps_all(const HeaderInfo &header) const;
    /** The sent stream numbers, ascending, comma-separated ("1,2"); "" for none. */
    [[nodiscard]] std::string stream_list() const;
    /** Whether a payload of stream @p stream, with the key-frame bit @p key, is sent. */
    [[nodiscard]] bool keeps(unsigned stream, bool key) const {
        return stream < 128 && streams[stream] && (key || !key_frames_only[stream]);
    }
    /** The highest thinning level of the sent streams: 0 none thinned, 1 some key frames
     *  only (MS-WMSP §2.2.1.4.27's levels). */
    [[nodiscard]] unsigned thinning() const { return key_frames_only.any() ? 1 : 0; }
};

/**
 * What a client with @p selection receives of one data packet.
 *
 * Payloads of streams not selected, and the non-key-frame payloads of
 * streams thinned to key frames, are dropped; the kept ones stay intact and
 * in order (fragments of a media object spanning packets included, key-frame
 * bits, replicated data and compressed payloads as they are). The copy has
 * the header's fixed packet size (detail::keep_payloads: count, padding and
 * packet length rewritten; send time, duration and error correction data
 * kept). A single-payload packet is kept or dropped whole.
 *
 * @param header the header the packet belongs to (packet size, streams).
 * @return PacketFilter::Kept::All (send the packet as it is: nothing
 *         dropped), Some (send PacketFilter::packet) or None (send nothing of
 *         it; the caller skips the packet, and the $D LocationIds it numbers
 *         stay continuous); or Errc::InvalidData as parse_packet().
 */
[[nodiscard]] Result<PacketFilter> filter_packet(const uint8_t *data, size_t len,
                                                 const HeaderInfo &header,
                                                 const StreamSelection &selection);

/**
 * One data packet of the header's fixed size without its padding, for a
 * `$D` (MS-WMSP §2.2.3.3: the server SHOULD remove the padding of the ASF
 * data packets it sends; FFmpeg and VLC pad a short `$D` with zeros back to
 * the packet size). The payloads and the other fields stay as they are; an
 * explicit Packet Length (ASF §5.2.2) says how many bytes remain, so that a
 * reader counts the zeros up to the fixed size as padding; the padding
 * length field is left out.
 *
 * @return Kept::Some with the shorter packet, Kept::All when there is no
 *         padding to remove, or Errc::InvalidData as parse_packet().
 */
[[nodiscard]] Result<PacketFilter> strip_padding(const uint8_t *data, size_t len,
                                                 const HeaderInfo &header);

/**
 * The payloads one selection keeps of consecutive data packets, gathered
 * into one `$D` packet (ASF §5.2: a multiple-payload packet; MS-WMSP
 * §2.2.3.3: without padding): a client that receives a small share of a
 * multiple-bit-rate stream then gets packets about as full as the stream's
 * own, rather than one short packet for each packet of the stream. The
 * payloads stay intact and in order (the same bytes as filter_packet()
 * keeps); the merged packet has the first packet's error correction data,
 * sequence, send time and duration, an explicit Packet Length and no padding.
 *
 * Add packets in stream order, then finish(). Any thread; not shared.
 */
class PacketMerger {
public:
    /** Merges for @p selection of the streams of @p header (kept by reference: it must
     *  outlive the merger). */
    PacketMerger(const HeaderInfo &header, const StreamSelection &selection)
        : header_(header), selection_(selection) {}

    enum class Added {
        Merged,  /**< its kept payloads were appended */
        Nothing, /**< it has no payload of the selection: nothing to merge */
        /** Not merged: it does not fit the packet size or the 63 payloads of a packet with
         *  the ones merged so far, its payload header formats differ from theirs (property
         *  flags, payload length type), it is a single-payload packet, or it does not parse
         *  (parse_packet()). finish() and add it again: when it is refused by an empty
         *  merger, it cannot be merged at all. */
        Refused,
    };

    /** Appends the kept payloads of the data packet @p data, @p len bytes. */
    [[nodiscard]] Added add(const uint8_t *data, size_t len);

    /** Packets merged since the last finish(). */
    [[nodiscard]] size_t packets() const { return packets_; }

    /** The merged packet (empty when no packet was merged); the merger starts again. */
    [[nodiscard]] std::vector<uint8_t> finish();

private:
    /** Bytes of the merged packet besides its payloads and its length field: error
     *  correction data, the two flag bytes, sequence, send time and duration, payload flags. */
    size_t fixed_bytes() const;
    /** The width of the merged packet's length field with @p payload_bytes of payloads:
     *  the first packet's when it holds the size, else a word, else a dword. */
    size_t length_width(size_t payload_bytes) const;
    /** Bytes of the merged packet with @p payload_bytes of payloads. */
    size_t size_with(size_t payload_bytes) const;

    const HeaderInfo &header_;
    StreamSelection selection_;
    /* Taken from the first packet merged. */
    std::vector<uint8_t> error_correction_; /* the bytes before the length type flags */
    uint8_t length_flags_ = 0;              /* its length type flags, without the field types */
    uint8_t property_flags_ = 0;
    uint8_t payload_length_type_ = 0; /* the top bits of its payload flags */
    std::vector<uint8_t> sequence_;   /* its sequence field */
    std::vector<uint8_t> times_;      /* send time and duration, 6 bytes */
    size_t length_width_ = 0;         /* its packet length field's width, 0 = absent */
    std::vector<uint8_t> payloads_;   /* the kept payloads, headers included */
    unsigned count_ = 0;              /* payloads in payloads_ */
    size_t packets_ = 0;
};

} // namespace wmstream::proto::asf
