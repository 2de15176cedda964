/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/thinning: the thin recover policy of one client
 * (when it thins its video to key frames, when it counts as caught up, and
 * that full video resumes only where a key frame of its video begins), and
 * the same policy driven by the stream store's lag over the audio + video
 * fixture (tests/data/asfmux-wmv2-wmav2.asf: stream 1 video, 2 audio).
 */
#include "server/stream-store.h"
#include "server/thinning.h"
#include "stream-numbers.h"
#include "test-data.h"

#include <glib.h>

#include <vector>

using namespace wmstream;
using namespace wmstream::server;
using Mode = Thinning::Mode;
using wmstream::test::stream_bits;

namespace {

/* Soft limit 100: thinned past it, caught up at 50 or less, back to full at a key frame. */
void test_modes() {
    Thinning thinning;
    const auto video = stream_bits({1});
    g_assert_true(thinning.update(100, 100) == Mode::Full);
    g_assert_false(thinning.resume_at(video, video));
    g_assert_true(thinning.update(101, 100) == Mode::Thinned);
    g_assert_cmpuint(thinning.episodes(), ==, 1);
    g_assert_false(thinning.resume_at(video, video)); /* not caught up yet */
    g_assert_true(thinning.update(51, 100) == Mode::Thinned);
    g_assert_true(thinning.update(50, 100) == Mode::Resuming);
    /* Behind again before a key frame came: thinned, the same episode. */
    g_assert_true(thinning.update(150, 100) == Mode::Thinned);
    g_assert_true(thinning.update(20, 100) == Mode::Resuming);
    g_assert_true(thinning.update(70, 100) == Mode::Resuming);   /* under the limit: waits */
    g_assert_false(thinning.resume_at(stream_bits({}), video));  /* no key frame */
    g_assert_false(thinning.resume_at(stream_bits({3}), video)); /* another stream's */
    g_assert_true(thinning.resume_at(stream_bits({1, 3}), video));
    g_assert_true(thinning.mode() == Mode::Full);
    g_assert_cmpuint(thinning.episodes(), ==, 1);
    g_assert_true(thinning.update(101, 100) == Mode::Thinned);
    g_assert_cmpuint(thinning.episodes(), ==, 2);
    /* A soft limit of 0: thinned at any lag, caught up at none. */
    Thinning zero;
    g_assert_true(zero.update(1, 0) == Mode::Thinned);
    g_assert_true(zero.update(0, 0) == Mode::Resuming);
}

/* Only the selected video streams are thinned; audio and unselected streams keep theirs. */
void test_thinned_selection() {
    proto::asf::StreamSelection selection;
    selection.streams = stream_bits({1, 3, 4});
    const proto::asf::StreamSelection thin = Thinning::thinned(selection, stream_bits({1, 2}));
    g_assert_true(thin.streams == selection.streams);
    g_assert_true(thin.key_frames_only == stream_bits({1}));
    g_assert_cmpuint(thin.thinning(), ==, 1);
}

/*
 * Driven by the store: soft limit 3 packets, recover-policy thin. A client
 * that joined at packet 0 (start lag 1) and read nothing while packets 1-6
 * arrived is 5 behind: fetch() leaves it where it is (no skip) and reports
 * it. Reading one packet a fetch, it is thinned until it is 1 behind
 * (caught up: at most half the soft limit), then resumes full video at the
 * next packet where a video key frame begins (packets 0, 3, 6 and 8 of the
 * fixture): 6, not 5.
 */
void test_store_lag() {
    const std::vector<uint8_t> file = test::load_bytes("asfmux-wmv2-wmav2.asf");
    auto header = proto::asf::parse_header(file.data(), file.size());
    g_assert_true(header.ok());
    StreamStore store({LagUnit::Packets, 3, -1, RecoverPolicy::Thin});
    g_assert_true(store.set_header(file.data(), header->total_size).ok());
    auto push = [&](size_t i) {
        const uint8_t *packet = file.data() + header->total_size + i * header->packet_size;
        g_assert_true(store.push(packet, header->packet_size, int64_t(i) * 1000).ok());
    };
    push(0);
    uint64_t next = store.join_point();
    bool need_key = true;
    int64_t start_lag = 0;
    std::vector<PacketRef> packets;
    Batch batch = store.fetch(next, need_key, start_lag, 1, packets);
    g_assert_true(batch.joined);
    g_assert_cmpint(start_lag, ==, 1);
    for (size_t i = 1; i <= 6; ++i)
        push(i);
    Thinning thinning;
    const auto video = stream_bits({1});
    const struct {
        int64_t behind;
        Mode mode;
        uint64_t packet;
    } steps[] = {{5, Mode::Thinned, 1},
                 {4, Mode::Thinned, 2},
                 {3, Mode::Thinned, 3},
                 {2, Mode::Thinned, 4},
                 {1, Mode::Resuming, 5}};
    for (const auto &step : steps) {
        batch = store.fetch(next, need_key, start_lag, 1, packets);
        g_assert_false(batch.skipped);
        g_assert_cmpint(batch.behind, ==, step.behind);
        g_assert_true(thinning.update(batch.behind, 3) == step.mode);
        g_assert_cmpuint(packets.size(), ==, 1);
        g_assert_cmpuint(next, ==, step.packet + 1);
        g_assert_false(thinning.resume_at(packets[0]->key_frame_streams, video));
    }
    push(7);
    push(8);
    batch = store.fetch(next, need_key, start_lag, 1, packets);
    g_assert_cmpint(batch.behind, ==, 2);
    g_assert_true(thinning.update(batch.behind, 3) == Mode::Resuming);
    g_assert_true(thinning.resume_at(packets[0]->key_frame_streams, video));
    g_assert_true(thinning.mode() == Mode::Full);
    g_assert_cmpuint(thinning.episodes(), ==, 1);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/thinning/modes", test_modes);
    g_test_add_func("/thinning/thinned-selection", test_thinned_selection);
    g_test_add_func("/thinning/store-lag", test_store_lag);
    return g_test_run();
}
