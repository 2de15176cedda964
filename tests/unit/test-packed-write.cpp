/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/packed-write: one refill of a filtered client's
 * packets, each behind its head, copied into one buffer of their exact size,
 * in order, holding nothing of the packets once taken.
 */
#include "server/packed-write.h"

#include <glib.h>

#include <memory>
#include <vector>

using namespace wmstream::server;

namespace {

using Bytes = std::vector<uint8_t>;

std::shared_ptr<const Bytes> bytes_of(Bytes bytes) {
    return std::make_shared<const Bytes>(std::move(bytes));
}

void test_packets_in_order() {
    PackedWrite packed;
    const auto first = bytes_of({1, 2, 3});
    const auto second = bytes_of({4, 5});
    const uint8_t head_a[] = {0x24, 0x44, 0x0d, 0x00};
    const uint8_t head_b[] = {0x24, 0x44, 0x0c, 0x00};
    packed.add(head_a, sizeof head_a, first->data(), first->size(), first);
    packed.add(head_b, sizeof head_b, second->data(), second->size(), second);
    packed.add(nullptr, 0, first->data() + 1, 2, first); /* a packet with no head */
    g_assert_false(packed.empty());
    /* The pieces hold the packets until taken. */
    g_assert_cmpint(first.use_count(), ==, 3);
    const PackedWrite::Buffer buffer = packed.take();
    const Bytes want = {0x24, 0x44, 0x0d, 0x00, 1, 2, 3, 0x24, 0x44, 0x0c, 0x00, 4, 5, 2, 3};
    g_assert_cmpuint(buffer.size, ==, want.size());
    g_assert_cmpuint(buffer.packets, ==, 3);
    g_assert_true(Bytes(buffer.data, buffer.data + buffer.size) == want);
    /* Taken: the packets are no longer held, and the buffer is a copy of its own. */
    g_assert_cmpint(first.use_count(), ==, 1);
    g_assert_cmpint(second.use_count(), ==, 1);
    g_assert_true(buffer.keep.get() == buffer.data);
    g_assert_true(packed.empty());
}

void test_starts_over() {
    PackedWrite packed;
    g_assert_true(packed.empty());
    g_assert_null(packed.take().data);
    const auto one = bytes_of({9});
    packed.add(nullptr, 0, one->data(), one->size(), one);
    g_assert_cmpuint(packed.take().size, ==, 1);
    /* After a take, the next refill's packets alone. */
    const auto two = bytes_of({7, 8});
    packed.add(nullptr, 0, two->data(), two->size(), two);
    const PackedWrite::Buffer buffer = packed.take();
    g_assert_cmpuint(buffer.size, ==, 2);
    g_assert_cmpuint(buffer.packets, ==, 1);
    g_assert_cmpuint(buffer.data[0], ==, 7);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/packed-write/packets-in-order", test_packets_in_order);
    g_test_add_func("/packed-write/starts-over", test_starts_over);
    return g_test_run();
}
