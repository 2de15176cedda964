/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Distribution tiers (docs/distribution.md): a real VLC relays a live wmnetsink
 * origin, as a Windows Media distribution server would. VLC pulls mmsh://origin/
 * over MS-WMSP and serves the stream again with its own MS-WMSP server (its mmsh
 * output, `--sout '#std{access=mmsh,mux=asfh,dst=…}'`); FFmpeg and VLC viewers
 * decode from the relay, and the origin serves the relay alone.
 *
 * VLC runs as interop::vlc_command() says (as nobody when the test runs as root),
 * on a port the kernel picked (interop::free_port()), on 127.0.0.1.
 */
#include "interop.h"
#include "program.h"

#include <string>
#include <vector>

using interop::Fields;
using interop::LivePipeline;
using interop::Run;

namespace {

/** Bound of one ffprobe/ffmpeg/cvlc run, s. */
constexpr guint kToolLimitS = 30;
/** Seconds each viewer decodes, at 25 fps. */
constexpr guint kViewSeconds = 3;
/** Frames FFmpeg must decode in kViewSeconds (of 75). */
constexpr guint kMinFrames = 50;
/** How long the relay may take to serve its first viewer after the origin admitted it, µs:
 *  VLC's mmsh output refuses viewers until its muxer has written a header. */
constexpr gint64 kRelayReadyUs = 20 * G_USEC_PER_SEC;

/** Wait (bounded) until ffprobe finds the WMV2 stream at @p url; fails the test showing the
 *  last attempt's output when it never does. */
void wait_until_served(const std::string &url) {
    const std::vector<std::string> argv = {"ffprobe",           "-v",  "error",   "-show_entries",
                                           "stream=codec_name", "-of", "csv=p=0", url};
    const gint64 deadline =
        g_get_monotonic_time() + gint64(double(kRelayReadyUs) * interop::slowdown());
    Run last;
    do {
        last = interop::run(argv, kToolLimitS);
        if (last.exited && last.status == 0 && last.out.find("wmv2") != std::string::npos)
            return;
        g_usleep(G_USEC_PER_SEC / 2);
    } while (g_get_monotonic_time() < deadline);
    fail("the relay never served the stream: %s", interop::describe(argv, last).c_str());
}

/**
 * ffmpeg decodes kViewSeconds of @p url: at least kMinFrames frames, exit 0, and on stderr at
 * most FFmpeg's warning that the first frame is no key frame. VLC's relay starts a viewer at
 * the packet it has, not at a key frame (wmnetsink starts one at a key frame).
 */
void assert_ffmpeg_decodes(const std::string &url) {
    const std::vector<std::string> argv = {
        "ffmpeg", "-nostdin", "-v", "warning",   "-i",    url, "-t", std::to_string(kViewSeconds),
        "-f",     "null",     "-",  "-progress", "pipe:1"};
    const Run result = interop::run(argv, kToolLimitS);
    fail_unless(result.exited && result.status == 0, "%s", interop::describe(argv, result).c_str());
    for (const std::string &line : interop::lines(result.err))
        fail_unless(line.find("first frame is no keyframe") != std::string::npos, "%s",
                    interop::describe(argv, result).c_str());
    const guint frames =
        guint(g_ascii_strtoull(interop::last_value(result.out, "frame").c_str(), nullptr, 10));
    fail_unless(frames >= kMinFrames, "FFmpeg decoded %u frames from the relay, not %u", frames,
                kMinFrames);
}

GST_START_TEST(test_vlc_relays_origin) {
    LivePipeline origin(interop::kVideoPipeline);
    origin.set_state(GST_STATE_PLAYING);
    origin.wait_packets(1);

    const std::string port = std::to_string(interop::free_port());
    const std::string relay_url = "mmsh://127.0.0.1:" + port + "/";
    interop::VlcHome home;
    interop::Program relay(
        interop::vlc_command({"-I", "dummy", "--no-dbus", origin.url("mmsh"), "--sout",
                              "#std{access=mmsh,mux=asfh,dst=127.0.0.1:" + port + "}"}),
        {{"HOME", home.path()}});
    const std::vector<Fields> pulled = origin.element_messages("wmnetsink-client-added", 1);
    fail_unless_equals_string(pulled.at(0).at("protocol").c_str(), "wmsp");
    wait_until_served(relay_url);

    assert_ffmpeg_decodes(relay_url);
    interop::assert_vlc_decoded(interop::vlc_view(relay_url, kViewSeconds, kToolLimitS));

    /* Every viewer was the relay's: the origin admitted one client, VLC's pull, and none since. */
    fail_unless_equals_string(pulled.at(0).at("user-agent").c_str(), "NSPlayer/7.10.0.3059");
    fail_unless_equals_int(origin.element_messages("wmnetsink-client-added").size(), 0);
    origin.assert_no_errors();
}
GST_END_TEST;

Suite *distribution_suite() {
    Suite *suite = suite_create("interop-distribution");
    TCase *tcase = tcase_create("tiers");
    tcase_set_timeout(tcase, 120);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_vlc_relays_origin);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    std::vector<const char *> programs = interop::vlc_programs();
    programs.push_back("ffmpeg");
    programs.push_back("ffprobe");
    return interop::main_with_requirements(argc, argv, "interop-distribution", distribution_suite,
                                           programs, {"videotestsrc", "avenc_wmv2", "asfmux"});
}
