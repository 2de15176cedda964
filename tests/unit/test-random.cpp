/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the secret random bytes (lib/base/random.h). */
#include "base/random.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace wmstream;

namespace {

/* Every byte is written: a buffer past the 256 bytes getrandom(2) always returns whole,
 * zeroed first, has no run of 64 zero bytes left (chance 2^-512 per window). */
void test_fills_every_byte() {
    std::vector<uint8_t> buffer(1 << 20, 0);
    g_assert_true(random_bytes(buffer.data(), buffer.size()).ok());
    const std::vector<uint8_t> zeros(64, 0);
    g_assert_true(std::search(buffer.begin(), buffer.end(), zeros.begin(), zeros.end()) ==
                  buffer.end());
    g_assert_true(random_bytes(buffer.data(), 0).ok());
}

/* Two draws differ (two Digest secrets of one process, say). */
void test_draws_differ() {
    uint8_t a[32] = {};
    uint8_t b[32] = {};
    g_assert_true(random_bytes(a, sizeof a).ok());
    g_assert_true(random_bytes(b, sizeof b).ok());
    g_assert_true(std::memcmp(a, b, sizeof a) != 0);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/random/fills-every-byte", test_fills_every_byte);
    g_test_add_func("/random/draws-differ", test_draws_differ);
    return g_test_run();
}
