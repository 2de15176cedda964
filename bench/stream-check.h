/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The load generator's per-client stream reader and validator (sans-IO).
 *
 * Reads what a server sends one client, in place and without copying
 * payloads (only a data packet that straddles two reads and must be parsed
 * is gathered): the HTTP response head, then either MS-WMSP pull framing
 * ([MS-WMSP] §2.2.3.1: `$H` header fragments, `$D` data packets, `$E`, `$C`)
 * or raw ASF (the Header Object + 50-byte Data Object head, then fixed-size
 * data packets, as plain HTTP clients and tcpserversink get it).
 *
 * Validation: the HTTP status must be 200; the first frame must be `$H`
 * whose fragments carry LocationId 0,1,2… from the first; `$D` LocationIds
 * must follow each other without gaps (the first one may be any number: a
 * server may number packets in a virtual file, as VLC does) and so must
 * their AFFlags (mod 256, §2.2.3.1.2) — counted separately, because some
 * servers (VLC, FFmpeg's muxer) leave AFFlags at 0; `$M`, `$P`, `$T`, a set
 * B bit or a PacketSize that differs from PacketLength are errors (a `$E`
 * or `$C` longer than its 4-byte Reason, as FFmpeg's muxer writes `$E`, is
 * read for the Reason and the rest skipped). A data
 * packet is parsed (proto::asf::parse_packet with the header this client received)
 * only when the caller asks, so that a client costs little once its first
 * decodable packet is known.
 */
#pragma once

#include "proto/asf.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wmstream::bench {

enum class StreamKind {
    Wmsp, /**< HTTP response + MS-WMSP pull framing */
    Http, /**< HTTP response + raw ASF */
    Raw,  /**< raw ASF from the first byte (tcpserversink) */
};

/** Parsed ASF headers shared by the clients of one thread: all of them get the same header. */
class HeaderCache {
public:
    /** The HeaderInfo of @p data, parsed once per distinct header; null when it is not one. */
    const proto::asf::HeaderInfo *get(const uint8_t *data, size_t len);

private:
    struct Entry {
        std::vector<uint8_t> bytes;
        proto::asf::HeaderInfo info;
    };
    std::vector<std::unique_ptr<Entry>> entries_;
};

/** A data packet completed by consume(). */
struct PacketEvent {
    bool ready = false;  /**< a data packet was completed */
    bool parsed = false; /**< the fields below are valid (parsing was requested) */
    uint32_t send_time_ms = 0;
    bool key_frame_start = false;
};

class StreamCheck {
public:
    StreamCheck(StreamKind kind, HeaderCache &headers) : kind_(kind), headers_(&headers) {
        state_ = kind == StreamKind::Raw ? State::RawHeaderPrefix : State::HttpHead;
    }

    /**
     * Consume bytes from @p data (at most @p len), stopping right after a
     * completed data packet (reported in @p event) so that the caller sees
     * each packet at the read it completed in.
     * @param parse parse a data packet that starts in these bytes
     * @return bytes consumed (all of them once failed())
     */
    size_t consume(const uint8_t *data, size_t len, bool parse, PacketEvent &event);

    bool failed() const { return state_ == State::Failed; }
    /** The first error, "" when none. */
    const std::string &error() const { return error_; }
    /** The HTTP status, 0 before the response head (and for Raw). */
    int http_status() const { return http_status_; }
    /** True once `$E` with reason 0 was read (the stream ended). */
    bool ended() const { return ended_; }
    /** True once the ASF header was read and parsed. */
    bool has_header() const { return info_ != nullptr; }
    uint64_t packets() const { return packets_; }
    uint64_t location_gaps() const { return location_gaps_; }
    uint64_t afflags_gaps() const { return afflags_gaps_; }

private:
    enum class State {
        HttpHead,
        FrameHead,
        HeaderPayload,
        DataPayload,
        RawHeaderPrefix,
        RawHeader,
        RawPacket,
        Skip,
        Failed,
    };

    size_t consume_http_head(const uint8_t *data, size_t len);
    size_t consume_frame_head(const uint8_t *data, size_t len);
    size_t consume_header(const uint8_t *data, size_t len);
    size_t consume_raw_prefix(const uint8_t *data, size_t len);
    size_t consume_packet(const uint8_t *data, size_t len, bool parse, PacketEvent &event);
    void begin_frame();
    void begin_data(size_t payload_len, bool parse);
    bool finish_header();
    void fail(std::string message);

    StreamKind kind_;
    HeaderCache *headers_;
    State state_;
    std::string error_;
    int http_status_ = 0;
    std::string http_head_;

    /* Framing header being gathered: 4 bytes, then 8 more for $H/$D or 4 for $E/$C. */
    uint8_t frame_[12] = {};
    size_t frame_have_ = 0;
    bool seen_frame_ = false;
    bool last_header_fragment_ = false;
    uint32_t next_header_location_ = 0;

    std::vector<uint8_t> header_bytes_; /**< ASF header being gathered; freed once parsed */
    size_t header_total_ = 0;           /**< raw: bytes of Header Object + Data Object head */
    const proto::asf::HeaderInfo *info_ = nullptr;

    size_t left_ = 0; /**< bytes of the current data packet (or skipped frame) still to come */
    size_t payload_len_ = 0;     /**< its length */
    bool parse_this_ = false;    /**< parse it when complete */
    std::vector<uint8_t> carry_; /**< its bytes, when it straddles reads and is parsed */

    bool have_location_ = false;
    uint32_t next_location_ = 0;
    uint8_t next_afflags_ = 0;
    bool ended_ = false;
    uint64_t packets_ = 0;
    uint64_t location_gaps_ = 0;
    uint64_t afflags_gaps_ = 0;
};

} // namespace wmstream::bench
