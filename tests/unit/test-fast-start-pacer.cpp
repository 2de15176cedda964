/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/fast-start-pacer: a fast start's join backlog at
 * no more than the bandwidth the Play asked for (MS-WMSP §2.2.1.4.1–4), with
 * at most FastStartPacer::kDepthUs of it banked and one packet of debt.
 */
#include "server/fast-start-pacer.h"

#include <glib.h>

using wmstream::server::FastStartPacer;

namespace {

constexpr size_t kPacket = 3200; /* asfmux's packet size at these rates */

/* 8 Mbit/s = 1 byte/µs: the bucket starts with 100 ms of it, then fills at the rate. */
void test_rate_and_depth() {
    FastStartPacer pacer(8000000, 0);
    g_assert_cmpuint(pacer.allowance(0), ==, 100000);
    pacer.spend(100000);
    g_assert_cmpuint(pacer.allowance(0), ==, 0);
    g_assert_cmpuint(pacer.allowance(5000), ==, 5000);
    /* Unused bandwidth is banked no further than the depth. */
    g_assert_cmpuint(pacer.allowance(10 * G_USEC_PER_SEC), ==, 100000);
    /* Time going backwards changes nothing. */
    g_assert_cmpuint(pacer.allowance(0), ==, 100000);
}

/* A whole packet past the tokens is a debt the next allowances repay. */
void test_debt() {
    FastStartPacer pacer(4000000, 0); /* 0.5 byte/µs: 50,000 bytes banked at most */
    g_assert_cmpuint(pacer.allowance(0), ==, 50000);
    pacer.spend(16 * kPacket); /* 51,200: 1,200 owed */
    g_assert_cmpuint(pacer.allowance(0), ==, 0);
    g_assert_cmpuint(pacer.allowance(2400), ==, 0); /* repaid */
    g_assert_cmpuint(pacer.allowance(4400), ==, 1000);
}

/* Driven as a client's refills are: over any span, no more than the rate, the depth and one
 * packet, and no less than the rate minus one packet (it keeps up). */
void test_paced_backlog() {
    const uint32_t bps = 3500000; /* MS-WMSP §4.11's BurstBW */
    FastStartPacer pacer(bps, 0);
    size_t sent = 0;
    const int64_t step_us = 25000; /* a round per packet of a 1 Mbit/s stream */
    for (int64_t now = 0; now <= 2 * G_USEC_PER_SEC; now += step_us) {
        size_t allowed = pacer.allowance(now);
        size_t batch = 0;
        while (batch < allowed) /* StreamStore::fetch() takes whole packets */
            batch += kPacket;
        pacer.spend(batch);
        sent += batch;
        const double limit = double(bps) / 8e6 * double(now + FastStartPacer::kDepthUs) + kPacket;
        g_assert_cmpfloat(double(sent), <=, limit);
        g_assert_cmpfloat(double(sent), >=, double(bps) / 8e6 * double(now) - kPacket);
    }
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/fast-start-pacer/rate-and-depth", test_rate_and_depth);
    g_test_add_func("/fast-start-pacer/debt", test_debt);
    g_test_add_func("/fast-start-pacer/paced-backlog", test_paced_backlog);
    return g_test_run();
}
