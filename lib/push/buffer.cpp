/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "push/buffer.h"

#include <algorithm>

namespace wmstream::push {

uint32_t StreamBuffer::span_ms() const {
    if (packets_.empty())
        return 0;
    /* Modulo 2^32: ASF send times are 32-bit milliseconds. */
    return packets_.back().send_time_ms - packets_.front().send_time_ms;
}

void StreamBuffer::erase_front(size_t count) {
    for (size_t i = 0; i < count; i++)
        bytes_ -= packets_[i].data->size();
    packets_.erase(packets_.begin(), packets_.begin() + static_cast<ptrdiff_t>(count));
}

size_t StreamBuffer::drop_front(size_t count) {
    count = std::min(count, packets_.size());
    erase_front(count);
    dropped_ += count;
    return count;
}

std::optional<uint64_t> StreamBuffer::bitrate(uint32_t min_span_ms) const {
    /* The bytes of the last packet were sent after its send time: leave them out. */
    const uint32_t span = last_send_ms_ - first_send_ms_;
    if (pushed_bytes_ == 0 || span == 0 || span < min_span_ms)
        return std::nullopt;
    return (pushed_bytes_ - last_bytes_) * 8 * 1000 / span;
}

size_t StreamBuffer::push(BufferedPacket packet) {
    if (pushed_bytes_ == 0)
        first_send_ms_ = packet.send_time_ms;
    last_send_ms_ = packet.send_time_ms;
    last_bytes_ = packet.data->size();
    pushed_bytes_ += last_bytes_;
    if (need_key_ && !packet.key_frame_start) {
        dropped_++;
        next_seq_++;
        return 1;
    }
    need_key_ = false;
    packet.seq = next_seq_++;
    bytes_ += packet.data->size();
    packets_.push_back(std::move(packet));
    if (span_ms() <= max_time_ms_)
        return 0;

    /* Too much: drop the oldest until the rest fits, then up to a key frame. */
    size_t dropped = 0;
    while (span_ms() > max_time_ms_)
        dropped += drop_front(1);
    while (!packets_.empty() && !packets_.front().key_frame_start)
        dropped += drop_front(1);
    need_key_ = packets_.empty();
    return dropped;
}

const BufferedPacket *StreamBuffer::find(uint64_t seq) const {
    if (seq < begin_seq() || seq >= end_seq())
        return nullptr;
    return &packets_[seq - begin_seq()];
}

void StreamBuffer::release(uint64_t seq) {
    if (seq > begin_seq())
        erase_front(static_cast<size_t>(std::min<uint64_t>(seq, end_seq()) - begin_seq()));
}

void StreamBuffer::clear() {
    packets_.clear();
    bytes_ = 0;
    need_key_ = false;
    pushed_bytes_ = 0;
    last_bytes_ = 0;
}

} // namespace wmstream::push
