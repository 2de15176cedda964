/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/buffer-pool.h"

#include <utility>

namespace wmstream::server {

BufferPool &BufferPool::shared() {
    static BufferPool *pool = new BufferPool;
    return *pool;
}

std::shared_ptr<uint8_t> BufferPool::get(size_t size) {
    Block block{0, nullptr};
    {
        std::lock_guard<std::mutex> locker(lock_);
        size_t best = free_.size();
        for (size_t i = 0; i < free_.size(); ++i) {
            if (free_[i].capacity >= size &&
                (best == free_.size() || free_[i].capacity < free_[best].capacity))
                best = i;
        }
        if (best != free_.size()) {
            block = std::move(free_[best]);
            free_[best] = std::move(free_.back());
            free_.pop_back();
        }
    }
    if (!block.bytes) {
        block.capacity = (size + kGranule - 1) / kGranule * kGranule;
        block.bytes.reset(new uint8_t[block.capacity]);
    }
    const size_t capacity = block.capacity;
    uint8_t *bytes = block.bytes.release();
    return std::shared_ptr<uint8_t>(bytes, [this, capacity](uint8_t *returned) {
        put({capacity, std::unique_ptr<uint8_t[]>(returned)});
    });
}

void BufferPool::put(Block block) {
    std::lock_guard<std::mutex> locker(lock_);
    if (free_.size() < kMaxFree)
        free_.push_back(std::move(block));
    /* else freed as @p block goes */
}

size_t BufferPool::free_count() const {
    std::lock_guard<std::mutex> locker(lock_);
    return free_.size();
}

} // namespace wmstream::server
