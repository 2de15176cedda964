/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ASF parsing for live serving (sans-IO: bytes in, typed results out).
 *
 * Source: Advanced Systems Format (ASF) Specification rev. 01.20.03
 * (§3.1 Header Object, §3.2 File Properties, §3.3 Stream Properties,
 * §3.8 Bitrate Mutual Exclusion, §3.12 Stream Bitrate Properties,
 * §5.2 data packets: Error Correction Data, Payload Parsing Information,
 * single / multiple payloads, compressed payloads), and MS-WMSP §2.2.3.1
 * / ../shared/reference/ms-wmsp-and-wmhttp.md §2.5 for the live-broadcast
 * header values.
 *
 * All multi-byte integers are little-endian.
 */
#pragma once

#include "base/error.h"

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace wmstream::proto::asf {

/** Size of the Data Object head that follows the Header Object in a
 *  streamable ASF header (GUID 16 + size 8 + File ID 16 + Total Data
 *  Packets 8 + Reserved 2). */
constexpr size_t kDataObjectHeadSize = 50;

/** One stream declared by a Stream Properties Object. */
struct StreamInfo {
    uint8_t number = 0; /**< stream number, 1..127 */
    bool video = false; /**< stream type is ASF_Video_Media */
    bool audio = false; /**< stream type is ASF_Audio_Media */
    /** Average bit rate, bits/s: the Stream Bitrate Properties Object's record (§3.12), else
     *  for audio its WAVEFORMATEX nAvgBytesPerSec × 8 (§9.1); 0 = unknown. */
    uint32_t bitrate = 0;
    /** The Stream Properties Object's bytes (§3.3): stream type, stream number, the
     *  type-specific (codec) data and error correction data. */
    std::vector<uint8_t> properties;
};

/** What the server needs to know about a header. */
struct HeaderInfo {
    size_t header_object_size = 0; /**< bytes of the Header Object (without the Data Object head) */
    size_t total_size = 0;         /**< header_object_size + kDataObjectHeadSize */
    uint32_t packet_size = 0;      /**< File Properties min data packet size (= max for live) */
    uint32_t max_bitrate = 0;      /**< File Properties max bitrate, bits/s */
    uint64_t preroll_ms = 0;       /**< File Properties preroll, milliseconds */
    uint32_t flags = 0;            /**< File Properties flags (0x1 broadcast, 0x2 seekable) */
    std::vector<StreamInfo> streams;
    /** The header has a Stream Bitrate Properties Object (§3.12). */
    bool has_stream_bitrates = false;
    /** The stream numbers of each Bitrate Mutual Exclusion Object (§3.8), in header order. */
    std::vector<std::vector<uint8_t>> exclusion_groups;

    /** True when at least one stream is video (key frames then matter for joins). */
    bool has_video() const;
};

/**
 * Parse a streamable ASF header: the Header Object followed by the 50-byte
 * Data Object head (exactly what asfmux streamable=true puts in the caps
 * streamheader and MS-WMSP sends in $H).
 *
 * @param data  the bytes; @p len their count (bytes after the Data Object
 *              head, e.g. the data packets of a whole file, are ignored).
 * @return HeaderInfo, or Errc::InvalidData when the bytes are not an ASF
 *         header (wrong GUID, an object size of zero or past the end, no File
 *         Properties Object, packet size 0 or > 65536, min != max packet size,
 *         or missing/short Data Object head).
 */
Result<HeaderInfo> parse_header(const uint8_t *data, size_t len);

/**
 * Whether two headers describe the same streams to a decoder and to a server's stream
 * filtering: the same packet size and preroll, the same Stream Properties Objects byte for
 * byte in the same order (numbers, types, codec data), the same stream bitrates and Bitrate
 * Mutual Exclusion groups. What may differ: the File ID, creation date, the max bitrate and
 * any other object (§3.2: a restarted encoder writes a new File ID). Packets of one then read
 * correctly under the other.
 */
bool same_streams(const HeaderInfo &a, const HeaderInfo &b);

/**
 * Copy of a header with the live-broadcast fields fixed (reference §2.5):
 * File Properties flags = broadcast (seekable cleared), File Size = 0, Data
 * Packets Count = 0, Play Duration = 0, Send Duration = 0 (preroll kept),
 * min = max packet size; Data Object size = 50, Total Data Packets = 0.
 * A header that already has these values comes back byte-identical.
 *
 * @return the fixed copy (exactly HeaderInfo::total_size bytes), or the
 *         parse_header() error.
 */
Result<std::vector<uint8_t>> make_live_header(const uint8_t *data, size_t len);

/** What one ASF data packet carries, as far as joins and timing need. */
struct PacketInfo {
    uint32_t send_time_ms = 0;  /**< Payload Parsing Information send time */
    uint16_t duration_ms = 0;   /**< Payload Parsing Information duration */
    unsigned payload_count = 0; /**< payloads (sub-payloads of compressed payloads count once) */
    std::bitset<128> streams;   /**< the streams with a payload here (bit = stream number) */
    /** True when a join may start here: the packet carries the first
     *  fragment (offset 0) of a key-frame media object of a video stream, or
     *  the header declares no video stream at all. */
    bool key_frame_start = false;
    /** The video streams (bit = stream number) whose key-frame media object
     *  starts in this packet (offset 0 or a compressed payload). */
    std::bitset<128> key_frame_streams;
    /** Presentation time of the first payload that has one, ms. */
    std::optional<uint32_t> first_presentation_ms;
};

/**
 * Parse one data packet (error correction data, payload parsing
 * information, payloads) without modifying it.
 *
 * An explicit Packet Length shorter than the packet leaves the rest as
 * padding; payloads must end within it, and the Padding Length must fit
 * between the last payload and the packet's end (asfmux writes Packet Length
 * = bytes used and Padding Length = the rest, see gstasfmux.c
 * gst_asf_mux_flush_payloads).
 *
 * @param header the header the packet belongs to (packet size, stream types).
 * @return PacketInfo, or Errc::InvalidData when the packet's size differs
 *         from header.packet_size or any length field runs past the end.
 */
Result<PacketInfo> parse_packet(const uint8_t *data, size_t len, const HeaderInfo &header);

/** The origins subtracted by rebase_packet_times(), ms. Send and presentation
 *  times need separate origins: asfmux writes the raw PTS (1000 h with
 *  avenc_*) as send time but preroll + (PTS − first PTS) as presentation time. */
struct TimeBase {
    uint32_t send_ms = 0;
    uint32_t presentation_ms = 0;
};

/**
 * The origins that make a stream whose first packet is @p first start at
 * send time 0 and presentation time = preroll: send_ms is its send time,
 * presentation_ms its first presentation time minus the header's preroll
 * (0 when that would be negative or there is none).
 */
TimeBase time_base_for(const PacketInfo &first, const HeaderInfo &header);

/**
 * Rebase a packet's times in place: subtract @p base.send_ms from the send
 * time and @p base.presentation_ms from every payload's presentation time
 * (replicated data bytes 4..7 when replicated data is ≥ 8 bytes; the
 * presentation-time field of compressed payloads), modulo 2^32 as the fields
 * are 32-bit milliseconds. Used so that the served stream starts near time
 * zero even though avenc_* encoders start at 1000 hours
 * (../shared/reference/gstreamer-peers.md §2).
 *
 * @return success, or Errc::InvalidData as parse_packet() (the packet is then
 *         left unmodified).
 */
Status rebase_packet_times(uint8_t *data, size_t len, const HeaderInfo &header, TimeBase base);

/**
 * A copy of a key-frame-start packet in which the payloads before the first
 * key-frame-start payload are removed, so that a client joining there
 * decodes a key frame first (without this, complete delta frames that
 * precede the key frame in the same packet are decoded first). The copy has
 * the same size: the remaining payloads move up, the payload count drops,
 * the padding length grows, and an explicit packet length is set to the
 * packet size (ASF §5.2.2: padding, not a short packet length, fills the
 * rest — FFmpeg counts both; a padding length field is added when there is
 * none). A packet that already starts with the key frame, has no key frame
 * or is single-payload comes back unchanged.
 *
 * @return the copy, or Errc::InvalidData as parse_packet().
 */
Result<std::vector<uint8_t>> trim_to_key_frame(const uint8_t *data, size_t len,
                                               const HeaderInfo &header);

/**
 * Make a packet's explicit Packet Length the packet size, in place (ASF §5.2.2: the length
 * counts the padding). asfmux writes a packet with padding (the one it fills at EOS, among
 * others) with a Packet Length that counts its payloads only, beside a Padding Length for the
 * rest (GStreamer 1.22, gst_asf_mux_flush_payloads); FFmpeg, which then counts the padding
 * twice, reports the packet ("invalid padsize") when the padding is the larger part. Only
 * multiple-payload packets, whose payloads say their own lengths (a single payload's size
 * follows from the packet length); nothing when the length is absent (= the packet size),
 * already the packet size, or its field is too narrow for the packet size.
 *
 * @return whether the field was rewritten, or Errc::InvalidData as parse_packet() (the
 *         packet is then left unmodified).
 */
Result<bool> complete_packet_length(uint8_t *data, size_t len, const HeaderInfo &header);

/**
 * Set the File Properties preroll (§3.2) of a header, in place: how much
 * stream, ms of send time, players buffer before they start. Nothing else
 * changes; the packets' presentation times must follow (time_base_for()
 * with the rewritten header's HeaderInfo).
 *
 * @param header Header Object + Data Object head, as parse_header() takes.
 * @return success, or the parse_header() error (the header is unchanged).
 */
Status set_preroll(std::vector<uint8_t> &header, uint64_t preroll_ms);

/** What a payload filter (drop_unstarted_payloads(), filter_packet() of
 *  asf-filter.h) lets through of one packet. */
struct PacketFilter {
    enum class Kept {
        All,  /**< send the packet as it is */
        Some, /**< send PacketFilter::packet instead */
        None, /**< send nothing of it */
    };
    Kept kept = Kept::All;
    /** With Some: the packet without the dropped payloads, the same size (the kept payloads
     *  move up, the payload count drops, the padding grows, as trim_to_key_frame()); from
     *  strip_padding() of asf-filter.h, shorter. */
    std::vector<uint8_t> packet;
};

/**
 * What a client whose stream has just (re)started may be sent of a packet,
 * so that every stream begins with the first payload of a media object
 * (§5.2.3: offset into the media object 0, or a compressed payload; a video
 * stream with a key frame's): the payloads of streams not started yet are
 * dropped. A leading fragment (the tail of an object begun before the join)
 * is what VLC hands its decoder as a short frame ("[wmav2] Input packet
 * size too small"). @p started (bit = stream number) records the streams
 * started so far and is updated. A single-payload packet is kept or dropped
 * whole.
 *
 * @return the verdict, or Errc::InvalidData as parse_packet() (@p started
 *         then unchanged).
 */
Result<PacketFilter> drop_unstarted_payloads(const uint8_t *data, size_t len,
                                             const HeaderInfo &header, std::bitset<128> &started);

} // namespace wmstream::proto::asf
