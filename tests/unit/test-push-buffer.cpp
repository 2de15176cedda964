/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/push-buffer: nothing is dropped within max-buffer-time;
 * beyond it the oldest packets go, then up to a key frame start (the
 * fixture's send times and key frames: tests/data/asfmux-wmv2.asf); with
 * no key frame in the window everything goes until the next key frame; ASF
 * send-time wrap-around; a window beyond the 32-bit send times; sequence numbers, find() and
 * release(); the bytes held.
 */
#include "push/buffer.h"

#include <glib.h>

#include <vector>

using wmstream::push::BufferedPacket;
using wmstream::push::StreamBuffer;

namespace {

BufferedPacket packet(uint32_t send_time_ms, bool key, uint8_t tag = 0) {
    BufferedPacket p;
    p.data = std::make_shared<const std::vector<uint8_t>>(1, tag);
    p.send_time_ms = send_time_ms;
    p.key_frame_start = key;
    return p;
}

/* Send times (ms after the first) and key frame starts of asfmux-wmv2.asf's 20 packets. */
const uint32_t kTimes[20] = {0,   0,   0,   40,  120,  160,  240,  320,  400,  520,
                             640, 760, 800, 920, 1040, 1160, 1200, 1320, 1440, 1560};
const bool kKeys[20] = {true,  false, false, false, false, false, false, true,  false, false,
                        false, true,  false, false, false, true,  false, false, false, false};

std::vector<uint8_t> tags(const StreamBuffer &buffer) {
    std::vector<uint8_t> out;
    for (uint64_t seq = buffer.begin_seq(); seq < buffer.end_seq(); seq++)
        out.push_back((*buffer.find(seq)->data)[0]);
    return out;
}

void test_within_window() {
    StreamBuffer buffer(2000000);
    for (int i = 0; i < 20; i++)
        g_assert_cmpuint(buffer.push(packet(kTimes[i], kKeys[i], uint8_t(i))), ==, 0);
    g_assert_cmpuint(buffer.size(), ==, 20);
    g_assert_cmpuint(buffer.span_ms(), ==, 1560);
    g_assert_cmpuint(buffer.dropped(), ==, 0);
}

/* A max buffer time of 2^32 ms or more (max-buffer-time accepts 2^63 ns) is the longest the
 * 32-bit send times can span: nothing of a 1.5 s stream is dropped (it wrapped to 0 before). */
void test_longest_window() {
    for (const int64_t max_time_us :
         {(int64_t{1} << 32) * 1000, (int64_t{1} << 33) * 1000, INT64_MAX / 1000}) {
        StreamBuffer buffer(max_time_us);
        for (int i = 0; i < 20; i++)
            g_assert_cmpuint(buffer.push(packet(kTimes[i], kKeys[i], uint8_t(i))), ==, 0);
        g_assert_cmpuint(buffer.size(), ==, 20);
    }
}

/* The outage of the element test: packets 5..19 with a 600 ms window keep 15..19. */
void test_overflow_resumes_at_key_frame() {
    StreamBuffer buffer(600000);
    size_t dropped = 0;
    for (int i = 5; i < 20; i++)
        dropped += buffer.push(packet(kTimes[i], kKeys[i], uint8_t(i)));
    g_assert_cmpuint(dropped, ==, 10);
    g_assert_cmpuint(buffer.dropped(), ==, 10);
    g_assert_true(tags(buffer) == (std::vector<uint8_t>{15, 16, 17, 18, 19}));
    g_assert_true(buffer.find(buffer.begin_seq())->key_frame_start);
    g_assert_cmpuint(buffer.span_ms(), <=, 600);
}

/* No key frame start inside the window: all goes, then until the next key frame. */
void test_no_key_frame_in_window() {
    StreamBuffer buffer(100000);
    g_assert_cmpuint(buffer.push(packet(0, true, 0)), ==, 0);
    g_assert_cmpuint(buffer.push(packet(50, false, 1)), ==, 0);
    g_assert_cmpuint(buffer.push(packet(150, false, 2)), ==, 3);
    g_assert_true(buffer.empty());
    g_assert_true(buffer.waiting_for_key_frame());
    g_assert_cmpuint(buffer.push(packet(200, false, 3)), ==, 1);
    g_assert_true(buffer.empty());
    g_assert_cmpuint(buffer.push(packet(250, true, 4)), ==, 0);
    g_assert_false(buffer.waiting_for_key_frame());
    g_assert_true(tags(buffer) == (std::vector<uint8_t>{4}));
    g_assert_cmpuint(buffer.dropped(), ==, 4);
}

/* Audio only (every packet a join point): the whole window is kept. */
void test_all_key_frames() {
    StreamBuffer buffer(100000);
    for (uint32_t t = 0; t <= 1000; t += 10)
        buffer.push(packet(t, true, uint8_t(t / 10)));
    g_assert_cmpuint(buffer.span_ms(), ==, 100);
    g_assert_cmpuint(buffer.size(), ==, 11);
}

/* ASF send times are 32-bit milliseconds: spans are computed across the wrap. */
void test_wrap_around() {
    StreamBuffer buffer(500000);
    buffer.push(packet(0xFFFFFF00u, true, 0));
    buffer.push(packet(0x00000050u, false, 1));
    g_assert_cmpuint(buffer.span_ms(), ==, 0x150);
    g_assert_cmpuint(buffer.dropped(), ==, 0);
    buffer.push(packet(0x00000200u, false, 2));
    /* 0x300 ms > 500 ms: dropped down to the next key frame start (none): all. */
    g_assert_true(buffer.empty());
}

void test_sequence_and_release() {
    StreamBuffer buffer(10000000);
    for (int i = 0; i < 5; i++)
        buffer.push(packet(uint32_t(i * 10), i == 0, uint8_t(i)));
    g_assert_cmpuint(buffer.begin_seq(), ==, 0);
    g_assert_cmpuint(buffer.end_seq(), ==, 5);
    g_assert_null(buffer.find(5));
    g_assert_cmpuint((*buffer.find(3)->data)[0], ==, 3);
    buffer.release(3);
    g_assert_cmpuint(buffer.begin_seq(), ==, 3);
    g_assert_null(buffer.find(2));
    g_assert_cmpuint(buffer.size(), ==, 2);
    /* Releasing past the end or backwards is harmless. */
    buffer.release(1);
    g_assert_cmpuint(buffer.size(), ==, 2);
    buffer.release(100);
    g_assert_true(buffer.empty());
    g_assert_cmpuint(buffer.begin_seq(), ==, 5);
    buffer.push(packet(60, true, 9));
    g_assert_cmpuint(buffer.find(5)->seq, ==, 5);
    buffer.clear();
    g_assert_true(buffer.empty());
    g_assert_cmpuint(buffer.dropped(), ==, 0);
}

/* bytes() follows every push, drop, release and clear: the memory bound of the held data. */
void test_bytes() {
    StreamBuffer buffer(100000);
    const auto sized = [](uint32_t send_time_ms, bool key, size_t size) {
        BufferedPacket p;
        p.data = std::make_shared<const std::vector<uint8_t>>(size, 0);
        p.send_time_ms = send_time_ms;
        p.key_frame_start = key;
        return p;
    };
    g_assert_cmpuint(buffer.bytes(), ==, 0);
    buffer.push(sized(0, true, 100));
    buffer.push(sized(50, false, 200));
    buffer.push(sized(60, true, 300));
    g_assert_cmpuint(buffer.bytes(), ==, 600);
    /* 150 ms > 100: 0 and 50 go, 60 (a key frame) stays. */
    g_assert_cmpuint(buffer.push(sized(150, false, 400)), ==, 2);
    g_assert_cmpuint(buffer.bytes(), ==, 700);
    buffer.release(buffer.begin_seq() + 1);
    g_assert_cmpuint(buffer.bytes(), ==, 400);
    buffer.clear();
    g_assert_cmpuint(buffer.bytes(), ==, 0);
}

/* The rate over every packet pushed (released ones too), once they span enough send time; the
 * last packet's bytes are left out (they go after its send time). */
void test_bitrate() {
    StreamBuffer buffer(10000000);
    const auto sized = [](uint32_t send_time_ms) {
        BufferedPacket p;
        p.data = std::make_shared<const std::vector<uint8_t>>(1000, 0);
        p.send_time_ms = send_time_ms;
        p.key_frame_start = true;
        return p;
    };
    g_assert_false(buffer.bitrate(0).has_value());
    buffer.push(sized(500));
    g_assert_false(buffer.bitrate(0).has_value());
    buffer.push(sized(1000));
    buffer.push(sized(1500));
    g_assert_false(buffer.bitrate(1001).has_value());
    g_assert_cmpuint(*buffer.bitrate(1000), ==, 2000 * 8);
    buffer.release(buffer.end_seq());
    g_assert_cmpuint(*buffer.bitrate(1000), ==, 2000 * 8);
    buffer.clear();
    g_assert_false(buffer.bitrate(0).has_value());
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/push-buffer/within-window", test_within_window);
    g_test_add_func("/push-buffer/longest-window", test_longest_window);
    g_test_add_func("/push-buffer/overflow-resumes-at-key-frame",
                    test_overflow_resumes_at_key_frame);
    g_test_add_func("/push-buffer/no-key-frame-in-window", test_no_key_frame_in_window);
    g_test_add_func("/push-buffer/all-key-frames", test_all_key_frames);
    g_test_add_func("/push-buffer/wrap-around", test_wrap_around);
    g_test_add_func("/push-buffer/sequence-and-release", test_sequence_and_release);
    g_test_add_func("/push-buffer/bytes", test_bytes);
    g_test_add_func("/push-buffer/bitrate", test_bitrate);
    return g_test_run();
}
