/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The push sink's stream buffer (sans-IO): ASF data packets produced but
 * not yet written to the server, bounded by the stream time they span.
 *
 * While the connection keeps up the buffer stays nearly empty; while the
 * server is away it holds up to max-buffer-time of stream, which is sent
 * as soon as the connection is back, so an outage shorter than that loses
 * nothing. When the packets held span more than the limit (the ASF send
 * times of the oldest and newest, ms), the oldest are dropped, then more
 * until the oldest left begins a key frame, so the stream resumes at the
 * oldest key frame inside the window (the newest one when the window is
 * shorter than a group of pictures), where a receiver can decode from.
 * When the window holds no key frame start, everything is dropped and new
 * packets are dropped too until the next key frame start arrives. Every
 * drop is counted.
 *
 * Packets carry increasing sequence numbers; the writer refers to them by
 * number, so drops that happen while a batch is being written are harmless.
 */
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace wmstream::push {

struct BufferedPacket {
    std::shared_ptr<const std::vector<uint8_t>> data;   /**< one ASF data packet */
    std::shared_ptr<const std::vector<uint8_t>> header; /**< the ASF file header it belongs to */
    bool key_frame_start = false; /**< proto::asf::PacketInfo::key_frame_start */
    uint32_t send_time_ms = 0;    /**< ASF send time (wraps at 2^32) */
    uint64_t seq = 0;             /**< assigned by push() */
};

class StreamBuffer {
public:
    /** @p max_time_us: the longest stream time held, µs (0 = only from the newest key frame);
     *  at most 2^32 − 1 ms, the range of the send times (a longer time is taken as that). */
    explicit StreamBuffer(int64_t max_time_us = 0)
        : max_time_ms_(static_cast<uint32_t>(
              std::clamp<int64_t>(max_time_us / 1000, 0, std::numeric_limits<uint32_t>::max()))) {}

    /** Append @p packet (its seq is assigned here). @return packets dropped by this call. */
    size_t push(BufferedPacket packet);

    /** Packets held. */
    size_t size() const { return packets_.size(); }
    /** Bytes of the data packets held (the headers they share are not counted). */
    size_t bytes() const { return bytes_; }
    bool empty() const { return packets_.empty(); }
    /** Sequence number of the oldest packet held (== end_seq() when empty). */
    uint64_t begin_seq() const { return next_seq_ - packets_.size(); }
    /** One past the newest sequence number. */
    uint64_t end_seq() const { return next_seq_; }
    /** The packet with sequence number @p seq, or nullptr when not held. */
    const BufferedPacket *find(uint64_t seq) const;
    /** Forget the packets up to (not including) @p seq: they were written. */
    void release(uint64_t seq);
    /** Stream time held, ms (newest send time − oldest). */
    uint32_t span_ms() const;
    /**
     * The stream's rate, bits per second of send time, over every packet
     * pushed since construction or clear() (released and dropped ones
     * included), once they span at least @p min_span_ms; nullopt before.
     */
    std::optional<uint64_t> bitrate(uint32_t min_span_ms) const;
    /** Packets dropped since construction or clear(). */
    uint64_t dropped() const { return dropped_; }
    /** True after everything was dropped, until a key frame start arrives. */
    bool waiting_for_key_frame() const { return need_key_; }
    /** Drop every packet held without counting it (a new stream begins). */
    void clear();

private:
    void erase_front(size_t count);
    size_t drop_front(size_t count);

    uint32_t max_time_ms_;
    std::deque<BufferedPacket> packets_;
    size_t bytes_ = 0; /**< sum of packets_[i].data->size() */
    uint64_t next_seq_ = 0;
    uint64_t dropped_ = 0;
    bool need_key_ = false;
    /* Every packet pushed, for bitrate(). */
    uint64_t pushed_bytes_ = 0;
    uint32_t first_send_ms_ = 0;
    uint32_t last_send_ms_ = 0;
    uint64_t last_bytes_ = 0;
};

} // namespace wmstream::push
