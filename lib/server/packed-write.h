/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One refill of a client that receives a share of the stream, copied into
 * one buffer (sans-IO).
 *
 * Such a client (MS-WMSP §3.2.5.6) receives rewritten packets of a few
 * hundred bytes, each behind its own 12-byte `$D` head (§2.2.3.1.2): as
 * references, a 64-KiB write would gather some 200 buffers, each a queued
 * segment, a reference to take and drop, and an iovec for the kernel to
 * walk. Copied into one buffer, the write is one iovec of memory still hot
 * from the copy; the packets' bytes are read once either way (by the copy
 * instead of the kernel). A client that receives every stream never comes
 * here: it writes the shared packets themselves. The buffers come from
 * BufferPool. Includes server/buffer-pool.h.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace wmstream::server {

class PackedWrite {
public:
    /** The largest head add() takes, bytes (a `$D` head is 12). */
    static constexpr size_t kMaxHead = 16;

    /** One buffer: every piece added, in order. */
    struct Buffer {
        std::shared_ptr<const void> keep; /**< owns @c data */
        const uint8_t *data = nullptr;
        size_t size = 0;    /**< bytes */
        size_t packets = 0; /**< pieces (one per ASF data packet) */
    };

    /**
     * Add one packet: @p head_len bytes of @p head (≤ kMaxHead; copied now),
     * then @p len bytes at @p data, which @p keep holds until take().
     */
    void add(const uint8_t *head, size_t head_len, const uint8_t *data, size_t len,
             std::shared_ptr<const void> keep);

    bool empty() const { return pieces_.empty(); }

    /** Copy every piece added into one buffer (BufferPool's, at least their size), and start
     *  over (the pieces' references are dropped; the capacity is kept). Empty: a null
     *  Buffer. */
    Buffer take();

private:
    struct Piece {
        std::shared_ptr<const void> keep;
        const uint8_t *data;
        uint32_t len;
        uint8_t head_len;
        uint8_t head[kMaxHead];
    };
    std::vector<Piece> pieces_;
    size_t size_ = 0;
};

} // namespace wmstream::server
