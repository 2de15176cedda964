/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What one client has queued for writing, in order (sans-IO): shared packet
 * memory by reference (a shared_ptr keeps it alive until written) and small
 * framing heads (a `$D` or `$C` head, MS-WMSP §2.2.3) copied inline;
 * gathered into vectors for one vectored send, then advanced by what the
 * send wrote.
 *
 * A ring that keeps its slots between writes. A client queues and drains
 * about as many segments every write, and a std::deque freed and allocated
 * its 512-byte nodes each time: at 1,000 clients the I/O thread's malloc
 * arena filled with them, and each larger allocation on that thread (a
 * packet variant) walked them. Includes nothing of the project.
 */
#pragma once

#include <gio/gio.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace wmstream::server {

class SendQueue {
public:
    /** Bytes an inline segment holds at most (push_inline()). */
    static constexpr size_t kInlineSize = 16;
    /** Slots of a new ring; it doubles when full. When it empties, a ring more than four
     *  times larger than the most it held since it last emptied is released (a burst's, e.g. a
     *  join's): what a client keeps between writes follows what its writes need. */
    static constexpr size_t kFirstSlots = 16;

    /** Queue @p len bytes at @p data, which @p keep keeps alive until they are written;
     *  @p ends_packet: writing them completes one ASF data packet (advance()'s count). */
    void push_shared(std::shared_ptr<const void> keep, const uint8_t *data, size_t len,
                     bool ends_packet);
    /** Queue a copy of @p len bytes at @p data; at most kInlineSize are kept (callers
     *  queue fixed framing heads that fit). */
    void push_inline(const uint8_t *data, size_t len);

    /** The queued bytes from the first unwritten one, as up to @p max vectors.
     *  @return the count filled. */
    size_t gather(GOutputVector *vectors, size_t max) const;
    /** @p written bytes of the front were sent (no more than gather() offered).
     *  @return the ASF data packets completed by them. */
    size_t advance(size_t written);

    [[nodiscard]] bool empty() const { return size_ == 0; }
    /** Drops everything queued (the memory it kept is released). */
    void clear();
    /** Slots allocated (a power of two, or 0 before the first push and once released). */
    [[nodiscard]] size_t capacity() const { return capacity_; }

private:
    struct Segment {
        std::shared_ptr<const void> keep;
        const uint8_t *data = nullptr;
        uint32_t len = 0;
        uint8_t inline_bytes[kInlineSize] = {};
        bool is_inline = false;
        bool ends_packet = false;
        const uint8_t *ptr() const { return is_inline ? inline_bytes : data; }
    };

    Segment &slot(size_t i) const { return slots_[(head_ + i) & (capacity_ - 1)]; }
    Segment &push();
    void pop_front();
    /** Frees the slots (and what they keep). */
    void release();

    std::unique_ptr<Segment[]> slots_; /* capacity_ of them, a power of two (or none) */
    size_t capacity_ = 0;
    size_t head_ = 0;   /* slot of the front segment */
    size_t size_ = 0;   /* segments queued */
    size_t peak_ = 0;   /* the most queued since it last emptied */
    size_t offset_ = 0; /* bytes of the front segment already written */
};

} // namespace wmstream::server
