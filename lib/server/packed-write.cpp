/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/packed-write.h"
#include "server/buffer-pool.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace wmstream::server {

void PackedWrite::add(const uint8_t *head, size_t head_len, const uint8_t *data, size_t len,
                      std::shared_ptr<const void> keep) {
    Piece piece;
    piece.keep = std::move(keep);
    piece.data = data;
    piece.len = uint32_t(len);
    piece.head_len = uint8_t(std::min(head_len, kMaxHead));
    if (piece.head_len != 0)
        std::memcpy(piece.head, head, piece.head_len);
    size_ += piece.head_len + len;
    pieces_.push_back(std::move(piece));
}

PackedWrite::Buffer PackedWrite::take() {
    Buffer buffer;
    if (pieces_.empty())
        return buffer;
    /* Uninitialised: every byte is written below. */
    std::shared_ptr<uint8_t> block = BufferPool::shared().get(size_);
    uint8_t *bytes = block.get();
    buffer.keep = std::move(block);
    buffer.data = bytes;
    buffer.size = size_;
    buffer.packets = pieces_.size();
    uint8_t *at = bytes;
    for (const Piece &piece : pieces_) {
        std::memcpy(at, piece.head, piece.head_len);
        at += piece.head_len;
        std::memcpy(at, piece.data, piece.len);
        at += piece.len;
    }
    pieces_.clear();
    size_ = 0;
    return buffer;
}

} // namespace wmstream::server
