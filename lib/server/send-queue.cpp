/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/send-queue.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace wmstream::server {

SendQueue::Segment &SendQueue::push() {
    if (size_ == capacity_) {
        const size_t capacity = capacity_ == 0 ? kFirstSlots : 2 * capacity_;
        std::unique_ptr<Segment[]> slots(new Segment[capacity]);
        for (size_t i = 0; i < size_; ++i)
            slots[i] = std::move(slot(i));
        slots_ = std::move(slots);
        capacity_ = capacity;
        head_ = 0;
    }
    peak_ = std::max(peak_, size_ + 1);
    return slot(size_++);
}

void SendQueue::push_shared(std::shared_ptr<const void> keep, const uint8_t *data, size_t len,
                            bool ends_packet) {
    Segment &segment = push();
    segment.keep = std::move(keep);
    segment.data = data;
    segment.len = uint32_t(len);
    segment.is_inline = false;
    segment.ends_packet = ends_packet;
}

void SendQueue::push_inline(const uint8_t *data, size_t len) {
    Segment &segment = push();
    segment.len = uint32_t(std::min(len, kInlineSize));
    std::memcpy(segment.inline_bytes, data, segment.len);
    segment.is_inline = true;
    segment.ends_packet = false;
}

size_t SendQueue::gather(GOutputVector *vectors, size_t max) const {
    const size_t count = std::min(size_, max);
    for (size_t i = 0; i < count; ++i) {
        const Segment &segment = slot(i);
        const size_t skip = i == 0 ? offset_ : 0;
        vectors[i].buffer = segment.ptr() + skip;
        vectors[i].size = segment.len - skip;
    }
    return count;
}

void SendQueue::pop_front() {
    slot(0).keep.reset();
    head_ = (head_ + 1) & (capacity_ - 1);
    offset_ = 0;
    if (--size_ == 0) {
        if (capacity_ > kFirstSlots && capacity_ > 4 * peak_)
            release();
        peak_ = 0;
    }
}

size_t SendQueue::advance(size_t written) {
    size_t packets = 0;
    while (size_ > 0) { /* also past empty segments that the last byte reached */
        const Segment &front = slot(0);
        const size_t left = front.len - offset_;
        if (written < left) {
            offset_ += written;
            break;
        }
        written -= left;
        packets += front.ends_packet ? 1 : 0;
        pop_front();
    }
    return packets;
}

void SendQueue::clear() {
    release();
    peak_ = 0;
}

void SendQueue::release() {
    slots_.reset();
    capacity_ = head_ = size_ = offset_ = 0;
}

} // namespace wmstream::server
