/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Write buffers recycled (PackedWrite's).
 *
 * Filtered clients make and drop a buffer of some 60 KiB per write, more
 * than a thousand a second at a thousand clients. Through malloc they land
 * between the packet log's long-lived rewrites and fragment the heap: RSS
 * grew by ~20 KiB per client (bench/run --mbr). A dropped buffer returns
 * here instead and serves a later write; at most kMaxFree wait. Includes
 * nothing of the project.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace wmstream::server {

class BufferPool {
public:
    /** Capacities are multiples of this, bytes. */
    static constexpr size_t kGranule = 64 * 1024;
    /** Free buffers kept; more are freed. */
    static constexpr size_t kMaxFree = 32;

    /** The process's pool (never destroyed: buffers may be dropped at any time). */
    static BufferPool &shared();

    /** A buffer of at least @p size bytes, uninitialised; it returns to the pool when its
     *  last reference is dropped. Any thread. */
    std::shared_ptr<uint8_t> get(size_t size);

    /** Free buffers waiting (for tests). */
    size_t free_count() const;

private:
    struct Block {
        size_t capacity;
        std::unique_ptr<uint8_t[]> bytes;
    };
    void put(Block block);

    /* A leaf, held only to take or return a block. */
    mutable std::mutex lock_;
    std::vector<Block> free_; /* protected by lock_ */
};

} // namespace wmstream::server
