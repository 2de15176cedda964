/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the shared packet log (lib/server/packet-log.h). */
#include "server/packet-log.h"

#include <glib.h>

using wmstream::server::Packet;
using wmstream::server::PacketLog;
using wmstream::server::PacketRef;

namespace {

std::shared_ptr<Packet> make_packet(int64_t arrival_us, bool key, size_t size = 100) {
    auto packet = std::make_shared<Packet>();
    packet->data.assign(size, 0);
    packet->key_frame_start = key;
    packet->arrival_us = arrival_us;
    return packet;
}

void test_append_and_at() {
    PacketLog log;
    g_assert_true(log.empty());
    g_assert_cmpuint(log.join_point(), ==, 0);
    g_assert_cmpuint(log.append(make_packet(0, false)), ==, 0);
    g_assert_cmpuint(log.append(make_packet(1, true)), ==, 1);
    g_assert_cmpuint(log.append(make_packet(2, false)), ==, 2);
    g_assert_cmpuint(log.begin(), ==, 0);
    g_assert_cmpuint(log.end(), ==, 3);
    g_assert_cmpuint(log.bytes(), ==, 300);
    g_assert_true(log.at(1)->key_frame_start);
    g_assert_null(log.at(3).get());
    g_assert_cmpuint(*log.newest_key_frame(), ==, 1);
    g_assert_cmpuint(log.join_point(), ==, 1);
}

/* Fast start: the newest key frame at least so much send time old, else the oldest. */
void test_join_point_fast_start() {
    PacketLog log;
    g_assert_cmpuint(log.join_point(1000), ==, 0); /* empty: the end */
    for (int i = 0; i < 10; ++i) {
        auto packet = std::make_shared<Packet>();
        packet->data.assign(100, 0);
        packet->key_frame_start = i % 3 == 0; /* keys at 0, 3, 6, 9 */
        packet->send_time_ms = uint32_t(1000 * i);
        log.append(std::move(packet));
    }
    g_assert_cmpuint(log.join_point(0), ==, 9);
    g_assert_cmpuint(log.join_point(1), ==, 6);
    g_assert_cmpuint(log.join_point(3000), ==, 6);
    g_assert_cmpuint(log.join_point(3001), ==, 3);
    g_assert_cmpuint(log.join_point(60000), ==, 0);
}

/* A client that receives some of the video streams joins and recovers at key frames of its own
 * (Packet::key_frame_streams): keys at 0 (streams 1 and 2), 3 (1), 6 (2), 9 (1). */
void test_key_frames_of_streams() {
    PacketLog log;
    for (int i = 0; i < 10; ++i) {
        auto packet = std::make_shared<Packet>();
        packet->data.assign(100, 0);
        packet->key_frame_start = i % 3 == 0;
        packet->key_frame_streams.set(1, i == 0 || i == 3 || i == 9);
        packet->key_frame_streams.set(2, i == 0 || i == 6);
        packet->send_time_ms = uint32_t(1000 * i);
        log.append(std::move(packet));
    }
    std::bitset<128> second, third;
    second.set(2);
    third.set(3);
    g_assert_cmpuint(*log.newest_key_frame(), ==, 9);
    g_assert_cmpuint(*log.newest_key_frame(&second), ==, 6);
    g_assert_false(log.newest_key_frame(&third).has_value());
    g_assert_cmpuint(log.join_point(0, &second), ==, 6);
    g_assert_cmpuint(log.join_point(3000, &second), ==, 6);
    g_assert_cmpuint(log.join_point(3001, &second), ==, 0);
    g_assert_cmpuint(log.join_point(60000, &second), ==, 0);
    g_assert_cmpuint(log.join_point(0, &third), ==, log.end()); /* none: wait for one */
    g_assert_cmpuint(log.join_point(1000, &third), ==, log.end());
    using wmstream::server::LagUnit;
    g_assert_cmpuint(*log.key_frame_within(1, LagUnit::Packets, 10), ==, 3);
    g_assert_cmpuint(*log.key_frame_within(1, LagUnit::Packets, 10, &second), ==, 6);
    g_assert_false(log.key_frame_within(7, LagUnit::Packets, 10, &second).has_value());
}

void test_join_without_key_frame_waits() {
    PacketLog log;
    log.append(make_packet(0, false));
    log.append(make_packet(1, false));
    g_assert_false(log.newest_key_frame().has_value());
    g_assert_cmpuint(log.join_point(), ==, log.end());
}

void test_trim_keeps_newest_key_frame() {
    PacketLog log;
    for (int i = 0; i < 10; ++i)
        log.append(make_packet(i * 1000, i == 2));
    /* Everything older than 9000 - 4000 would go, but the key frame at 2 (7000 behind, within
     * twice the limit) stays. */
    log.trim(wmstream::server::LagUnit::Time, 4000);
    g_assert_cmpuint(log.begin(), ==, 2);
    g_assert_cmpuint(log.size(), ==, 8);
    g_assert_cmpuint(log.bytes(), ==, 800);
    log.append(make_packet(10000, true));
    log.trim(wmstream::server::LagUnit::Time, 4000);
    /* Packets 2..5 are older than the window and before the newest key frame (10). */
    g_assert_cmpuint(log.begin(), ==, 6);
    g_assert_null(log.at(5).get());
    g_assert_nonnull(log.at(6).get());
}

/* The newest key frame of each video stream stays, not only the newest of any: a client that
 * receives stream 2 alone joins at its own. Keys at 1 (stream 2), 3 (stream 1). */
void test_trim_keeps_each_streams_key_frame() {
    PacketLog log;
    for (int i = 0; i < 10; ++i) {
        auto packet = make_packet(i * 1000, i == 1 || i == 3);
        packet->key_frame_streams.set(i == 1 ? 2 : 1, i == 1 || i == 3);
        log.append(std::move(packet));
    }
    std::bitset<128> second;
    second.set(2);
    /* 9000 - 4000: 0..4 are past the limit; stream 2's key frame at 1 (8000 behind) stays. */
    log.trim(wmstream::server::LagUnit::Time, 4000);
    g_assert_cmpuint(log.begin(), ==, 1);
    g_assert_cmpuint(*log.newest_key_frame(&second), ==, 1);
    /* Past twice the limit it goes all the same. */
    log.append(make_packet(10000, false));
    log.trim(wmstream::server::LagUnit::Time, 4000);
    g_assert_cmpuint(log.begin(), ==, 3);
    g_assert_false(log.newest_key_frame(&second).has_value());
}

/* When key frames stop, the log keeps at most twice the limit: the last key frame goes once
 * it is that far behind, and joiners wait for the next one. */
void test_trim_when_key_frames_stop() {
    using wmstream::server::LagUnit;
    for (LagUnit unit : {LagUnit::Time, LagUnit::Bytes, LagUnit::Packets}) {
        const int64_t max = unit == LagUnit::Bytes ? 1000 : unit == LagUnit::Time ? 10000 : 10;
        PacketLog log;
        for (int i = 0; i < 1000; ++i) {
            log.append(make_packet(i * 1000, i == 0));
            log.trim(unit, max);
            g_assert_cmpint(log.lag(log.begin(), unit), <=, 2 * max);
        }
        g_assert_cmpuint(log.size(), <=, 21);
        g_assert_false(log.newest_key_frame().has_value());
        g_assert_cmpuint(log.join_point(), ==, log.end());
    }
}

void test_trim_without_key_frame_uses_window() {
    PacketLog log;
    for (int i = 0; i < 10; ++i)
        log.append(make_packet(i * 1000, false));
    log.trim(wmstream::server::LagUnit::Time, 2500);
    g_assert_cmpuint(log.begin(), ==, 7);
}

void test_lag_units() {
    PacketLog log;
    for (int i = 0; i < 5; ++i)
        log.append(make_packet(i * 1000, i == 1 || i == 3, 100 + i));
    using wmstream::server::LagUnit;
    g_assert_cmpint(log.lag(0, LagUnit::Time), ==, 4000);
    g_assert_cmpint(log.lag(4, LagUnit::Time), ==, 0);
    g_assert_cmpint(log.lag(5, LagUnit::Time), ==, 0);
    g_assert_cmpint(log.lag(0, LagUnit::Packets), ==, 5);
    g_assert_cmpint(log.lag(3, LagUnit::Packets), ==, 2);
    /* Bytes from the packet to the end: 103 + 104. */
    g_assert_cmpint(log.lag(3, LagUnit::Bytes), ==, 207);
    g_assert_cmpint(log.lag(0, LagUnit::Bytes), ==, 100 + 101 + 102 + 103 + 104);
    /* The oldest key frame within a lag: 1 is 3000 µs behind, 3 is 1000. */
    g_assert_cmpuint(*log.key_frame_within(0, LagUnit::Time, 5000), ==, 1);
    g_assert_cmpuint(*log.key_frame_within(0, LagUnit::Time, 2000), ==, 3);
    g_assert_cmpuint(*log.key_frame_within(2, LagUnit::Time, 5000), ==, 3);
    g_assert_false(log.key_frame_within(0, LagUnit::Time, 500).has_value());
}

void test_trim_by_bytes_and_packets() {
    PacketLog log;
    for (int i = 0; i < 10; ++i)
        log.append(make_packet(i, i == 0 || i == 8));
    log.trim(wmstream::server::LagUnit::Bytes, 350); /* keep the last 3 (300 bytes) and 8 */
    g_assert_cmpuint(log.begin(), ==, 7);
    g_assert_cmpuint(log.bytes(), ==, 300);
    log.trim(wmstream::server::LagUnit::Packets, 1);
    /* Not past the newest key frame, 2 packets behind (within twice the limit). */
    g_assert_cmpuint(log.begin(), ==, 8);
    g_assert_cmpuint(*log.newest_key_frame(), ==, 8);
}

void test_clear_keeps_numbering() {
    PacketLog log;
    log.append(make_packet(0, true));
    log.append(make_packet(1, false));
    log.clear();
    g_assert_true(log.empty());
    g_assert_false(log.newest_key_frame().has_value());
    g_assert_cmpuint(log.begin(), ==, 2);
    g_assert_cmpuint(log.append(make_packet(2, true)), ==, 2);
    g_assert_cmpuint(log.bytes(), ==, 100);
}

void test_shared_not_copied() {
    PacketLog log;
    PacketRef packet = make_packet(0, true);
    log.append(packet);
    g_assert_true(log.at(0).get() == packet.get());
    g_assert_cmpint(packet.use_count(), ==, 2);
    log.clear();
    g_assert_cmpint(packet.use_count(), ==, 1);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/packet-log/append-and-at", test_append_and_at);
    g_test_add_func("/packet-log/join-without-key-frame-waits", test_join_without_key_frame_waits);
    g_test_add_func("/packet-log/join-point-fast-start", test_join_point_fast_start);
    g_test_add_func("/packet-log/trim-keeps-newest-key-frame", test_trim_keeps_newest_key_frame);
    g_test_add_func("/packet-log/key-frames-of-streams", test_key_frames_of_streams);
    g_test_add_func("/packet-log/trim-keeps-each-streams-key-frame",
                    test_trim_keeps_each_streams_key_frame);
    g_test_add_func("/packet-log/trim-when-key-frames-stop", test_trim_when_key_frames_stop);
    g_test_add_func("/packet-log/trim-without-key-frame-uses-window",
                    test_trim_without_key_frame_uses_window);
    g_test_add_func("/packet-log/lag-units", test_lag_units);
    g_test_add_func("/packet-log/trim-by-bytes-and-packets", test_trim_by_bytes_and_packets);
    g_test_add_func("/packet-log/clear-keeps-numbering", test_clear_keeps_numbering);
    g_test_add_func("/packet-log/shared-not-copied", test_shared_not_copied);
    return g_test_run();
}
