/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The body of an MS-WMSP answer, client side (sans-IO): framed packets in,
 * typed stream events out. The $H packets of a header are joined into one
 * ASF header (parsed with proto::asf::parse_header() for its packet size),
 * each $D payload becomes one ASF data packet padded to that size with its
 * send time, $C announces a new header, $E ends the entry or the stream.
 *
 * Source: [MS-WMSP] §2.2.3.1 (framing), §2.2.3.2 ($C), §2.2.3.3 ($D, padding
 * removed by the server: re-padded with zeros as FFmpeg and VLC do),
 * §2.2.3.4 ($E reasons), §2.2.3.5 ($H split over several packets: AFFlags
 * first/middle/last); ../shared/reference/ms-wmsp-and-wmhttp.md §2.
 */
#pragma once

#include "base/error.h"
#include "proto/asf.h"
#include "proto/framing.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wmstream::pull {

/** Largest ASF header joined from $H packets, bytes (16 full $H packets): more is refused. */
constexpr size_t kMaxHeaderBytes = 16 * proto::framing::kMaxPullPayload;

/** One thing the stream says. */
struct Event {
    enum class Kind {
        Header, /**< a (new) ASF header: bytes = Header Object + 50-byte Data Object head */
        Data,   /**< one ASF data packet: bytes = exactly the header's packet size */
        Change, /**< $C: a new header follows (reason) */
        End,    /**< $E: reason 0 = the stream is over; 1 = the entry is over, $C follows */
    };
    Kind kind = Kind::Data;
    std::vector<uint8_t> bytes;
    uint32_t send_time_ms = 0; /**< Data: the packet's send time ([MS-ASF] §5.2.2) */
    bool key_frame = false;   /**< Data: a join may start here (asf::PacketInfo::key_frame_start) */
    uint32_t location_id = 0; /**< Data: the packet number the server gave */
    /** Data: the first packet after a lost connection, resumed under the same header
     *  (pull/resume.h): a gap in the stream before it. */
    bool discont = false;
    uint32_t reason = 0; /**< Change, End: the HRESULT the server sent */
};

/**
 * Reads the framed body of one Describe or Play answer. Feed the bytes as
 * they arrive, then call next() until it returns nullopt. Memory: one
 * framed packet (at most 64 KiB) plus a header being joined (at most
 * kMaxHeaderBytes).
 *
 * The data packets before the first key frame of each header are skipped
 * (counted): a stream starts, or resumes after a reconnect, at a key frame
 * ([MS-WMSP] §3.2.5.7), whatever the server starts with; when no video
 * stream is received (select()), at the first packet. $M (metadata),
 * $P and $T packets are skipped. Errors are sticky Errc::InvalidData: a
 * framing error, a $D before any header, a payload longer than the packet
 * size or that does not parse as an ASF data packet, a header that does not
 * parse or is longer than kMaxHeaderBytes.
 */
class Stream {
public:
    Stream() : reader_(proto::framing::Reader::Mode::Pull) {}

    /** The stream numbers the client asked for (empty = every stream): only a received video
     *  stream makes the stream wait for a key frame. */
    void select(std::vector<uint8_t> streams) { streams_ = std::move(streams); }

    /** Append @p len bytes of the body. */
    void feed(const uint8_t *data, size_t len) { reader_.feed(data, len); }

    /** The next event, nullopt when more bytes are needed, or an error. */
    Result<std::optional<Event>> next();

    /** The current header's description (packet size, streams, preroll); nullopt before one. */
    const std::optional<proto::asf::HeaderInfo> &header() const { return header_; }

    /** Data packets skipped while waiting for a key frame. */
    uint64_t skipped() const { return skipped_; }

private:
    Result<std::optional<Event>> on_header(proto::framing::Packet &packet);
    Result<std::optional<Event>> on_data(proto::framing::Packet &packet);
    Result<std::optional<Event>> fail(std::string message);
    /** Whether the header has a video stream among those selected. */
    bool receives_video() const;

    proto::framing::Reader reader_;
    std::vector<uint8_t> joining_; /**< $H payloads of the header being joined */
    std::optional<proto::asf::HeaderInfo> header_;
    std::vector<uint8_t> streams_; /**< select()ed; empty = every stream */
    bool key_frame_seen_ = false;  /**< since the last header */
    uint64_t skipped_ = 0;
    std::optional<Error> error_;
};

} // namespace wmstream::pull
