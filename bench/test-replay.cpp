/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of bench/replay: loading a recording and replaying it as an
 * endless live stream, with tests/data/asfmux-wmv2.asf (20 packets of
 * 4800 bytes, send times from 1000 h, key frames begin packets 0, 7, 11, 15).
 */
#include "replay.h"
#include "test-data.h"

#include <glib.h>

#include <algorithm>
#include <vector>

using namespace wmstream;
using namespace wmstream::bench;

namespace {

constexpr size_t kPackets = 20;

Recording load() {
    const std::vector<uint8_t> file = test::load_bytes("asfmux-wmv2.asf");
    auto recording = load_recording(file.data(), file.size());
    g_assert_true(recording.ok());
    return std::move(*recording);
}

void test_load() {
    const Recording r = load();
    g_assert_cmpuint(r.count(), ==, kPackets);
    g_assert_cmpuint(r.header.size(), ==, 451);
    g_assert_cmpuint(r.packets.size(), ==, kPackets * 4800);
    g_assert_cmpuint(r.info.packet_size, ==, 4800);
    const std::vector<uint8_t> keys = {1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    g_assert_true(r.key_frame_start == keys);
    /* avenc_wmv2 starts at 1000 h; one pass spans the send times plus the median step. */
    g_assert_cmpuint(r.base.send_ms, ==, r.send_ms[0]);
    g_assert_cmpuint(r.send_ms[0], >=, 3600000000u);
    std::vector<uint32_t> steps;
    for (size_t i = 1; i < r.count(); ++i)
        if (r.send_ms[i] > r.send_ms[i - 1])
            steps.push_back(r.send_ms[i] - r.send_ms[i - 1]);
    std::sort(steps.begin(), steps.end());
    g_assert_cmpuint(r.loop_ms, ==, r.send_ms.back() - r.send_ms.front() + steps[steps.size() / 2]);
    g_assert_cmpuint(steps[steps.size() / 2], >=, 40); /* one frame at 25 fps */
    g_assert_cmpuint(r.rate_bps(), ==, uint64_t(kPackets) * 4800 * 8 * 1000 / r.loop_ms);
}

void test_load_rejects() {
    const std::vector<uint8_t> file = test::load_bytes("asfmux-wmv2.asf");
    auto not_asf = load_recording(file.data() + 451, file.size() - 451);
    g_assert_false(not_asf.ok());
    g_assert_true(not_asf.error().code == Errc::InvalidData);
    /* The header and one packet: a single send time gives no pass length. */
    auto one = load_recording(file.data(), 451 + 4800);
    g_assert_false(one.ok());
}

void test_replay_times() {
    const Recording r = load();
    Replay replay(r);
    uint32_t previous = 0, previous_due = 0;
    for (size_t i = 0; i < 3 * kPackets; ++i) {
        const ReplayPacket packet = replay.next();
        const size_t index = i % kPackets;
        const uint32_t pass = uint32_t(i / kPackets);
        g_assert_cmpuint(packet.data.size(), ==, 4800);
        g_assert_cmpint(packet.key_frame_start, ==, r.key_frame_start[index] != 0);
        /* Unique, increasing, never earlier than the recording's own timing. */
        if (i == 0)
            g_assert_cmpuint(packet.send_ms, ==, 0);
        else
            g_assert_cmpuint(packet.send_ms, >, previous);
        g_assert_cmpuint(packet.send_ms, >=, r.send_ms[index] - r.send_ms[0] + pass * r.loop_ms);
        previous = packet.send_ms;
        /* Due at the recording's own timing: the fragments of one frame together. */
        g_assert_cmpuint(packet.due_ms, ==, r.send_ms[index] - r.send_ms[0] + pass * r.loop_ms);
        if (index > 0 && r.send_ms[index] == r.send_ms[index - 1])
            g_assert_cmpuint(packet.due_ms, ==, previous_due);
        previous_due = packet.due_ms;

        auto info = proto::asf::parse_packet(packet.data.data(), packet.data.size(), r.info);
        g_assert_true(info.ok());
        g_assert_cmpuint(info->send_time_ms, ==, packet.send_ms);
        /* Presentation times start at the preroll and advance by one pass each time. */
        auto original = proto::asf::parse_packet(r.packets.data() + index * 4800, 4800, r.info);
        g_assert_true(original.ok());
        if (original->first_presentation_ms) {
            g_assert_true(info->first_presentation_ms.has_value());
            g_assert_cmpuint(*info->first_presentation_ms, ==,
                             *original->first_presentation_ms - r.base.presentation_ms +
                                 pass * r.loop_ms);
        }
    }
}

void test_replay_first_presentation_is_preroll() {
    const Recording r = load();
    Replay replay(r);
    const ReplayPacket first = replay.next();
    auto info = proto::asf::parse_packet(first.data.data(), first.data.size(), r.info);
    g_assert_true(info.ok());
    g_assert_true(info->first_presentation_ms.has_value());
    g_assert_cmpuint(*info->first_presentation_ms, ==, r.info.preroll_ms);
    /* A server rebasing with the first packet's origins (wmnetsink) changes nothing. */
    const proto::asf::TimeBase base = proto::asf::time_base_for(*info, r.info);
    g_assert_cmpuint(base.send_ms, ==, 0);
    g_assert_cmpuint(base.presentation_ms, ==, 0);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/replay/load", test_load);
    g_test_add_func("/replay/load-rejects", test_load_rejects);
    g_test_add_func("/replay/times", test_replay_times);
    g_test_add_func("/replay/first-presentation-is-preroll",
                    test_replay_first_presentation_is_preroll);
    return g_test_run();
}
