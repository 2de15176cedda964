/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of bench/stats: histogram percentiles and nearest-rank percentiles. */
#include "stats.h"

#include <glib.h>

#include <cmath>
#include <vector>

using namespace wmstream::bench;

namespace {

void test_histogram_exact_small() {
    Histogram h;
    for (int v = 1; v <= 50; ++v)
        h.add(v);
    g_assert_cmpuint(h.count(), ==, 50);
    g_assert_cmpint(h.percentile(0.5), ==, 25);
    g_assert_cmpint(h.percentile(0.99), ==, 50);
    g_assert_cmpint(h.max(), ==, 50);
}

void test_histogram_relative_error() {
    Histogram h;
    for (int64_t v = 1000; v <= 1000000; v += 1000)
        h.add(v);
    for (double p : {0.1, 0.5, 0.9, 0.99}) {
        const double exact = 1000.0 * std::ceil(p * 1000);
        const double got = double(h.percentile(p));
        g_assert_cmpfloat(got, >=, exact);
        g_assert_cmpfloat(got, <=, exact * (1 + 1.0 / 128));
    }
    g_assert_cmpint(h.percentile(1.0), ==, 1000000);
}

void test_histogram_merge_and_clamp() {
    Histogram a, b;
    a.add(-5);               /* clamped to 0 */
    b.add(int64_t(1) << 45); /* beyond the range: last bucket, max kept */
    a.merge(b);
    g_assert_cmpuint(a.count(), ==, 2);
    g_assert_cmpint(a.percentile(0.5), ==, 0);
    g_assert_cmpint(a.percentile(1.0), ==, int64_t(1) << 45);
    Histogram empty;
    g_assert_cmpint(empty.percentile(0.99), ==, 0);
}

void test_percentile() {
    std::vector<double> values = {5, 1, 4, 2, 3};
    g_assert_cmpfloat(percentile(values, 0.05), ==, 1);
    g_assert_cmpfloat(percentile(values, 0.5), ==, 3);
    g_assert_cmpfloat(percentile(values, 0.99), ==, 5);
    std::vector<double> none;
    g_assert_cmpfloat(percentile(none, 0.5), ==, 0);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/stats/histogram-exact-small", test_histogram_exact_small);
    g_test_add_func("/stats/histogram-relative-error", test_histogram_relative_error);
    g_test_add_func("/stats/histogram-merge-and-clamp", test_histogram_merge_and_clamp);
    g_test_add_func("/stats/percentile", test_percentile);
    return g_test_run();
}
