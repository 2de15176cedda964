/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/backoff: the delay sequence (doubling, capped), the
 * retry budget (0, n, −1 = forever), reset after a success, and no overflow.
 */
#include "base/backoff.h"

#include <glib.h>

#include <cstdint>
#include <vector>

using wmstream::Backoff;
using wmstream::RetryPolicy;

namespace {

constexpr int64_t kSecond = 1000000;

std::vector<int64_t> delays(Backoff &backoff, int count) {
    std::vector<int64_t> out;
    for (int i = 0; i < count; i++) {
        const auto delay = backoff.next_delay();
        g_assert_true(delay.has_value());
        out.push_back(*delay);
    }
    return out;
}

void test_doubling_with_cap() {
    Backoff backoff(RetryPolicy{-1, 1 * kSecond, 30 * kSecond});
    const std::vector<int64_t> expected = {1 * kSecond,  2 * kSecond,  4 * kSecond,  8 * kSecond,
                                           16 * kSecond, 30 * kSecond, 30 * kSecond, 30 * kSecond};
    g_assert_true(delays(backoff, 8) == expected);
    g_assert_cmpuint(backoff.failures(), ==, 8);
}

void test_budget() {
    Backoff none(RetryPolicy{0, kSecond, kSecond});
    g_assert_false(none.next_delay().has_value());
    g_assert_cmpuint(none.failures(), ==, 1);

    Backoff three(RetryPolicy{3, 100000, 250000});
    const std::vector<int64_t> expected = {100000, 200000, 250000};
    g_assert_true(delays(three, 3) == expected);
    g_assert_false(three.next_delay().has_value());
    g_assert_false(three.next_delay().has_value());
}

void test_forever() {
    Backoff backoff(RetryPolicy{-1, kSecond, 4 * kSecond});
    for (int i = 0; i < 10000; i++)
        g_assert_true(backoff.next_delay().has_value());
    g_assert_cmpint(*backoff.next_delay(), ==, 4 * kSecond);
}

void test_reset() {
    Backoff backoff(RetryPolicy{2, kSecond, 10 * kSecond});
    delays(backoff, 2);
    g_assert_false(backoff.next_delay().has_value());
    backoff.reset();
    g_assert_cmpuint(backoff.failures(), ==, 0);
    g_assert_cmpint(*backoff.next_delay(), ==, kSecond);
}

void test_edges() {
    /* No delay at all. */
    Backoff zero(RetryPolicy{-1, 0, 0});
    g_assert_true(delays(zero, 5) == std::vector<int64_t>(5, 0));
    /* A cap below the initial delay does not shorten it. */
    Backoff low_cap(RetryPolicy{-1, 5 * kSecond, kSecond});
    g_assert_true(delays(low_cap, 3) == std::vector<int64_t>(3, 5 * kSecond));
    /* Huge values never overflow. */
    Backoff huge(RetryPolicy{-1, INT64_MAX / 3, INT64_MAX});
    for (int i = 0; i < 100; i++) {
        const int64_t delay = *huge.next_delay();
        g_assert_cmpint(delay, >, 0);
        g_assert_cmpint(delay, <=, INT64_MAX);
    }
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/backoff/doubling-with-cap", test_doubling_with_cap);
    g_test_add_func("/backoff/budget", test_budget);
    g_test_add_func("/backoff/forever", test_forever);
    g_test_add_func("/backoff/reset", test_reset);
    g_test_add_func("/backoff/edges", test_edges);
    return g_test_run();
}
