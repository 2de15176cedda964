/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/send-gather: many small vectors become one copy
 * of their bytes in order, bounded by SendGather::kBytes; few or large ones
 * go as they are.
 */
#include "server/send-gather.h"

#include <glib.h>

#include <memory>
#include <vector>

using namespace wmstream::server;

namespace {

using Bytes = std::vector<uint8_t>;

/* @p sizes buffers of distinct bytes, and their vectors. */
struct Vectors {
    std::vector<Bytes> buffers;
    std::vector<GOutputVector> vectors;
    Bytes all; /**< every byte, in order */

    explicit Vectors(const std::vector<size_t> &sizes) {
        uint8_t next = 0;
        for (size_t size : sizes) {
            Bytes buffer(size);
            for (uint8_t &byte : buffer)
                byte = next++;
            all.insert(all.end(), buffer.begin(), buffer.end());
            buffers.push_back(std::move(buffer));
        }
        for (const Bytes &buffer : buffers)
            vectors.push_back({buffer.data(), buffer.size()});
    }
};

void test_small_ones_copied() {
    auto gather = std::make_unique<SendGather>();
    /* A $D head and a filtered packet, ten times. */
    std::vector<size_t> sizes;
    for (int i = 0; i < 10; ++i) {
        sizes.push_back(12);
        sizes.push_back(700);
    }
    Vectors v(sizes);
    GOutputVector one;
    size_t count = 0;
    const GOutputVector *sent = gather->gather(v.vectors.data(), v.vectors.size(), one, count);
    g_assert_cmpuint(count, ==, 1);
    g_assert_true(sent == &one);
    const auto *bytes = static_cast<const uint8_t *>(one.buffer);
    g_assert_true(Bytes(bytes, bytes + one.size) == v.all);
}

void test_bounded() {
    auto gather = std::make_unique<SendGather>();
    /* More than the copy holds: its first kBytes, ending inside a buffer. */
    Vectors v(std::vector<size_t>(SendGather::kBytes / 1000 + 10, 1000));
    GOutputVector one;
    size_t count = 0;
    gather->gather(v.vectors.data(), v.vectors.size(), one, count);
    g_assert_cmpuint(count, ==, 1);
    g_assert_cmpuint(one.size, ==, SendGather::kBytes);
    const auto *bytes = static_cast<const uint8_t *>(one.buffer);
    g_assert_true(Bytes(bytes, bytes + one.size) == Bytes(v.all.begin(), v.all.begin() + one.size));
}

void test_as_they_are() {
    auto gather = std::make_unique<SendGather>();
    GOutputVector one;
    size_t count = 0;
    /* Few. */
    Vectors few(std::vector<size_t>(SendGather::kMinVectors - 1, 100));
    g_assert_true(gather->gather(few.vectors.data(), few.vectors.size(), one, count) ==
                  few.vectors.data());
    g_assert_cmpuint(count, ==, few.vectors.size());
    /* Large: a full client's 4.8-KB packets. */
    Vectors large(std::vector<size_t>(20, 4800));
    g_assert_true(gather->gather(large.vectors.data(), large.vectors.size(), one, count) ==
                  large.vectors.data());
    g_assert_cmpuint(count, ==, 20);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/send-gather/small-ones-copied", test_small_ones_copied);
    g_test_add_func("/send-gather/bounded", test_bounded);
    g_test_add_func("/send-gather/as-they-are", test_as_they_are);
    return g_test_run();
}
