/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the intake (lib/server/intake.h) on its own: the caps on
 * connections held before admission, which connection makes room, and
 * which TLS handshakes may run. No socket, no thread; the time is given by
 * the test.
 */
#include "server/intake.h"

#include <glib.h>

#include <vector>

using namespace wmstream::server;

namespace {

constexpr int64_t kGrace = 500000;

IntakeLimits limits(size_t connecting, size_t per_address, size_t handshakes = 8,
                    size_t handshakes_per_address = 2) {
    IntakeLimits l;
    l.connecting = connecting;
    l.connecting_per_address = per_address;
    l.handshakes = handshakes;
    l.handshakes_per_address = handshakes_per_address;
    l.grace_us = kGrace;
    return l;
}

void keep(Intake &intake, uint64_t id, const char *address, int64_t now) {
    const Intake::Arrival arrival = intake.arrive(id, address, now);
    g_assert_true(arrival.keep);
    g_assert_cmpuint(arrival.evict, ==, 0);
}

/* Full: no room while every connection is within its grace; then the oldest makes room. */
void test_global_cap() {
    Intake intake(limits(3, 3));
    uint64_t evict = 99;
    for (uint64_t id = 1; id <= 3; ++id) {
        g_assert_true(intake.room(0, &evict));
        g_assert_cmpuint(evict, ==, 0);
        keep(intake, id, id == 2 ? "192.0.2.2" : "192.0.2.1", int64_t(id) * 1000);
    }
    g_assert_false(intake.room(kGrace, &evict)); /* the oldest is 1 ms short of its grace */
    g_assert_cmpuint(evict, ==, 0);
    g_assert_true(intake.room(kGrace + 1000, &evict));
    g_assert_cmpuint(evict, ==, 1);
    g_assert_true(intake.leave(1).empty());
    g_assert_true(intake.room(kGrace + 1000, &evict));
    g_assert_cmpuint(evict, ==, 0);
    g_assert_cmpuint(intake.size(), ==, 2);
}

/* A connection that left (admitted, answered, closed) frees its place; unknown ids are
 * ignored. */
void test_leave_frees() {
    Intake intake(limits(2, 2));
    keep(intake, 1, "192.0.2.1", 0);
    keep(intake, 2, "192.0.2.1", 0);
    uint64_t evict = 0;
    g_assert_false(intake.room(0, &evict));
    g_assert_true(intake.leave(2).empty());
    g_assert_true(intake.leave(2).empty());
    g_assert_true(intake.leave(77).empty());
    g_assert_true(intake.room(0, &evict));
    keep(intake, 3, "192.0.2.1", 0);
    g_assert_cmpuint(intake.size(), ==, 2);
}

/* Over the per-address cap: that address's oldest past its grace makes room, else the new
 * one is refused; other addresses are not touched. */
void test_per_address_cap() {
    Intake intake(limits(100, 2));
    keep(intake, 1, "192.0.2.1", 0);
    keep(intake, 2, "198.51.100.7", 0);
    keep(intake, 3, "192.0.2.1", 10);
    Intake::Arrival arrival = intake.arrive(4, "192.0.2.1", kGrace - 1);
    g_assert_false(arrival.keep);
    g_assert_cmpuint(arrival.evict, ==, 0);
    keep(intake, 5, "198.51.100.7", kGrace - 1);
    arrival = intake.arrive(6, "192.0.2.1", kGrace);
    g_assert_true(arrival.keep);
    g_assert_cmpuint(arrival.evict, ==, 1);
    g_assert_true(intake.leave(arrival.evict).empty());
    /* Now 3 and 6 from 192.0.2.1: 3 is the oldest, past its grace 10 µs later. */
    arrival = intake.arrive(7, "192.0.2.1", kGrace + 10);
    g_assert_cmpuint(arrival.evict, ==, 3);
    g_assert_cmpuint(intake.size(), ==, 5); /* 2, 3 (until left), 5, 6, 7 */
}

/* Handshakes: at most `handshakes` at once, and `handshakes_per_address` per address; the
 * others wait and start oldest first when a running one ends or leaves. */
void test_handshake_caps() {
    Intake intake(limits(100, 100, 3, 2));
    keep(intake, 1, "192.0.2.1", 0);
    keep(intake, 2, "192.0.2.1", 0);
    keep(intake, 3, "192.0.2.1", 0);
    keep(intake, 4, "198.51.100.7", 0);
    keep(intake, 5, "203.0.113.9", 0);
    keep(intake, 6, "203.0.113.9", 0);
    g_assert_true(intake.hello(1));
    g_assert_true(intake.hello(2));
    g_assert_false(intake.hello(3)); /* its address runs 2 */
    g_assert_true(intake.hello(4));
    g_assert_false(intake.hello(5)); /* 3 run in all */
    g_assert_false(intake.hello(6));
    g_assert_false(intake.hello(5)); /* asked twice: still waiting, counted once */
    /* 1 ends: 3 is the oldest waiting but its address still runs one (2), which leaves 2
     * running in all: 3 (address now at 1) starts, first in line. */
    g_assert_true(intake.handshaken(1) == std::vector<uint64_t>{3});
    g_assert_true(intake.handshaken(3) == std::vector<uint64_t>{5});
    g_assert_true(intake.handshaken(4) == std::vector<uint64_t>{6}); /* 203.0.113.9 runs 2 */
    g_assert_true(intake.handshaken(2).empty());                     /* nobody waits */
}

/* A waiting handshake that leaves is never started; a running one that leaves frees its
 * place. */
void test_handshake_leave() {
    Intake intake(limits(100, 100, 1, 1));
    keep(intake, 1, "192.0.2.1", 0);
    keep(intake, 2, "192.0.2.2", 0);
    keep(intake, 3, "192.0.2.3", 0);
    g_assert_true(intake.hello(1));
    g_assert_false(intake.hello(2));
    g_assert_false(intake.hello(3));
    g_assert_true(intake.leave(2).empty());
    g_assert_true(intake.leave(1) == std::vector<uint64_t>{3});
    g_assert_true(intake.handshaken(3).empty());
    g_assert_true(intake.handshaken(3).empty()); /* twice: no effect */
    keep(intake, 4, "192.0.2.4", 0);
    g_assert_true(intake.hello(4));
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/intake/global-cap", test_global_cap);
    g_test_add_func("/intake/leave-frees", test_leave_frees);
    g_test_add_func("/intake/per-address-cap", test_per_address_cap);
    g_test_add_func("/intake/handshake-caps", test_handshake_caps);
    g_test_add_func("/intake/handshake-leave", test_handshake_leave);
    return g_test_run();
}
