/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared packet log of the fan-out server (sans-IO).
 *
 * Every ASF data packet is stored once, reference-counted, and numbered
 * with an ever-growing sequence number. Clients hold only a sequence number
 * into the log (and references to the packets they are writing), never a
 * copy. The log keeps packets up to a lag limit behind the newest one and
 * the newest packet that begins a key frame (of each video stream) up to
 * twice that limit, so a late joiner can start there at once.
 */
#pragma once

#include "server/packet-variants.h"
#include "server/types.h"

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace wmstream::server {

/** One ASF data packet as served (times already rebased). Immutable once shared. */
struct Packet {
    std::vector<uint8_t> data; /**< exactly the header's packet size */
    /** For a key-frame start that does not begin with the key frame: the
     *  same packet trimmed to start there (proto::asf::trim_to_key_frame), sent to
     *  a client whose stream starts at this packet; empty otherwise. */
    std::vector<uint8_t> join_data;
    bool key_frame_start = false; /**< a join may start here (proto::asf::PacketInfo) */
    /** The video streams whose key frame starts here (proto::asf::PacketInfo). */
    std::bitset<128> key_frame_streams;
    /** The streams with a payload here (proto::asf::PacketInfo). */
    std::bitset<128> streams;
    uint64_t seq = 0;          /**< its sequence number in the log */
    uint32_t send_time_ms = 0; /**< rebased send time */
    int64_t arrival_us = 0;    /**< monotonic time the packet entered the log, µs */
    /** What clients that select some of the streams receive of @c data (their own lock). */
    PacketVariants variants;
};
using PacketRef = std::shared_ptr<const Packet>;

class PacketLog {
public:
    /** Append @p packet; @return its sequence number. */
    uint64_t append(PacketRef packet);

    /** First sequence number still stored (== end() when empty). */
    uint64_t begin() const { return begin_; }
    /** One past the newest sequence number. */
    uint64_t end() const { return begin_ + packets_.size(); }
    bool empty() const { return packets_.empty(); }
    size_t size() const { return packets_.size(); }

    /** The packet with sequence @p seq, or nullptr when not stored. */
    const PacketRef &at(uint64_t seq) const;

    /** Sequence number of the newest stored key-frame start, if any; with @p streams, the
     *  newest where a key frame of one of those video streams starts (Packet::key_frame_streams:
     *  a client that receives some of the streams resumes where its own picture does). */
    std::optional<uint64_t> newest_key_frame(const std::bitset<128> *streams = nullptr) const;

    /**
     * Where a client joining now starts: the newest key-frame start, or
     * end() (wait for the next one) when none is stored.
     */
    uint64_t join_point() const { return newest_key_frame().value_or(end()); }

    /**
     * Where a client joining now starts with fast start: the newest stored
     * key-frame start whose send time is at least @p min_age_ms (ms of send
     * time) before the newest packet's, else the oldest stored one; as
     * join_point() for 0 or without a stored key-frame start. With @p streams,
     * only key-frame starts of those video streams count (newest_key_frame()),
     * and end() stands for none.
     */
    uint64_t join_point(uint32_t min_age_ms, const std::bitset<128> *streams = nullptr) const;

    /**
     * How far stored packet @p seq is behind the newest packet, in @p unit
     * (0 for end()). Requires begin() ≤ seq ≤ end().
     */
    int64_t lag(uint64_t seq, LagUnit unit) const;

    /** The oldest stored key-frame start at or after @p from whose lag is at most @p max
     *  (with @p streams: of one of those video streams, as newest_key_frame()). */
    std::optional<uint64_t> key_frame_within(uint64_t from, LagUnit unit, int64_t max,
                                             const std::bitset<128> *streams = nullptr) const;

    /**
     * Drop the oldest packets while their lag is more than @p max, but not
     * the newest key-frame start, nor the newest of each video stream
     * (Packet::key_frame_streams: a client that receives some of the streams
     * joins at its own), or anything after them while their lag is at most
     * 2 × @p max: when key frames stop (an endless GOP, intra refresh, a
     * mislabelled stream), the log must not keep everything since the last
     * one. Joiners then wait for the next key frame.
     */
    void trim(LagUnit unit, int64_t max);

    /** Forget everything (new stream); sequence numbers keep growing. */
    void clear();

    /** Bytes of every packet appended so far, also before a clear(): only grows. */
    uint64_t appended_bytes() const { return appended_bytes_; }
    /** Sum of stored packet sizes, bytes. */
    size_t bytes() const { return size_t(appended_bytes_ - offsets_.front()); }

private:
    /** The oldest of the newest key-frame start and the newest of each video stream; end()
     *  without any. */
    uint64_t newest_key_frames_from() const;
    /** Whether key-frame start @p seq begins a key frame of one of @p streams (any: null). */
    bool starts_key_frame_of(uint64_t seq, const std::bitset<128> *streams) const;
    std::deque<PacketRef> packets_;
    /** offsets_[i]: bytes appended before packets_[i]; one extra entry = appended_bytes_. */
    std::deque<uint64_t> offsets_{0};
    std::deque<uint64_t> keys_; /**< stored key-frame starts, oldest first */
    /** The video streams of every key-frame start appended since the last clear(). */
    std::bitset<128> key_streams_;
    uint64_t begin_ = 0;
    uint64_t appended_bytes_ = 0;
};

} // namespace wmstream::server
