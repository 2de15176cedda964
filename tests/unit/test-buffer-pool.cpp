/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/buffer-pool: a dropped buffer serves a later
 * request of a size it holds, from any thread, and at most kMaxFree wait.
 */
#include "server/buffer-pool.h"

#include <glib.h>

#include <cstring>
#include <thread>
#include <vector>

using namespace wmstream::server;

namespace {

void test_reused() {
    BufferPool pool;
    uint8_t *first = nullptr;
    {
        std::shared_ptr<uint8_t> buffer = pool.get(1000);
        first = buffer.get();
        std::memset(first, 0xab, 1000);
        g_assert_cmpuint(pool.free_count(), ==, 0);
    }
    g_assert_cmpuint(pool.free_count(), ==, 1);
    /* Any size its capacity holds (a granule): the same block. */
    std::shared_ptr<uint8_t> again = pool.get(BufferPool::kGranule);
    g_assert_true(again.get() == first);
    g_assert_cmpuint(pool.free_count(), ==, 0);
    /* Larger than it: another block, the first still in use. */
    std::shared_ptr<uint8_t> larger = pool.get(BufferPool::kGranule + 1);
    g_assert_true(larger.get() != first);
    std::memset(larger.get(), 0, BufferPool::kGranule + 1);
    again.reset();
    larger.reset();
    /* The smallest that fits is taken. */
    g_assert_true(pool.get(10).get() == first);
}

void test_bounded() {
    BufferPool pool;
    std::vector<std::shared_ptr<uint8_t>> held;
    for (size_t i = 0; i < BufferPool::kMaxFree + 5; ++i)
        held.push_back(pool.get(100));
    held.clear();
    g_assert_cmpuint(pool.free_count(), ==, BufferPool::kMaxFree);
}

/* Dropped on another thread than the one that took it (a client closed by the I/O thread
 * after a helper thread wrote). */
void test_any_thread() {
    BufferPool pool;
    std::shared_ptr<uint8_t> buffer = pool.get(64);
    std::thread([moved = std::move(buffer)]() mutable { moved.reset(); }).join();
    g_assert_cmpuint(pool.free_count(), ==, 1);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/buffer-pool/reused", test_reused);
    g_test_add_func("/buffer-pool/bounded", test_bounded);
    g_test_add_func("/buffer-pool/any-thread", test_any_thread);
    return g_test_run();
}
