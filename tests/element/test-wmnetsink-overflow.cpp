/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The overflow redirect of wmnetsink (issue 14) with real players (GstCheck):
 * an origin wmnetsink with max-clients=1, one viewer already served, and as
 * its edge a second wmnetsink in this process; FFmpeg (mmsh:// and http://)
 * and VLC (mmsh://) opened at the origin must be sent to the edge with
 * 302 Found, be served there (the edge's client-added with the user agent
 * the player has there) and decode pictures, while the origin still serves its one
 * viewer; wmsrc (issue 14) follows the same way. Two live pipelines (videotestsrc → avenc_wmv2 →
 * asfmux → wmnetsink) on port 0 of 127.0.0.1; every wait and every player is bounded. A missing
 * ffmpeg or cvlc skips (fails under CI=true).
 */
#include "interop.h"
#include "netsink-check.h"

#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <string>

using namespace netsinktest;

namespace {

/** Seconds each player plays. */
constexpr guint kPlaySeconds = 2;

guint player_limit_s() {
    return guint(20 * interop::slowdown());
}

/** True once @p bus had a wmnetsink-client-added whose user-agent starts with @p agent
 *  (others are dropped); false after kWaitUs. */
bool served_agent(GstBus *bus, const char *agent) {
    for (;;) {
        GstMessage *message = pop_element_message(bus, "wmnetsink-client-added");
        if (!message)
            return false;
        const char *user_agent =
            gst_structure_get_string(gst_message_get_structure(message), "user-agent");
        const bool match = user_agent && g_str_has_prefix(user_agent, agent);
        gst_message_unref(message);
        if (match)
            return true;
    }
}

/** The origin (max-clients=1, its edge the other sink) with its one viewer served. */
struct Overflow {
    LivePipeline edge;
    std::string edge_url = "http://127.0.0.1:" + std::to_string(edge.port) + "/";
    LivePipeline origin{("max-clients=1 edges=" + edge_url).c_str()};
    TestClient viewer{origin.port};

    Overflow() {
        viewer.get(kBrowserAgent);
        expect_raw_asf_response(viewer);
        fail_unless_equals_int(num_clients(origin.sink), 1);
    }
    std::string origin_url(const char *scheme) const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(origin.port) + "/";
    }
    /** The origin still serves its viewer (and no one else), and redirected at least
     *  @p redirects. */
    void check_origin(guint64 redirects) {
        fail_unless_equals_int(num_clients(origin.sink), 1);
        fail_unless(server_stat(origin.sink, "clients-redirected") >= redirects);
        const size_t had = viewer.body().size();
        fail_unless(viewer.read_body(had + 1000), "the origin's viewer starves");
        origin.check_no_error();
        edge.check_no_error();
    }
};

} // namespace

/* FFmpeg's mmsh: its Describe is redirected (its http layer follows, so the header comes
 * from the edge), and so is its Play, which it opens at the origin's URL again. */
GST_START_TEST(test_ffmpeg_mmsh_follows) {
    Overflow overflow;
    const guint frames =
        interop::decoded_frames(overflow.origin_url("mmsh"), kPlaySeconds, player_limit_s());
    fail_unless(frames > 0, "FFmpeg decoded no frame");
    fail_unless(served_agent(overflow.edge.bus, "NSPlayer/4.1.0.3856"),
                "the edge never served FFmpeg");
    overflow.check_origin(2);
}
GST_END_TEST;

/* FFmpeg over plain HTTP: one GET, redirected. */
GST_START_TEST(test_ffmpeg_http_follows) {
    Overflow overflow;
    const guint frames =
        interop::decoded_frames(overflow.origin_url("http"), kPlaySeconds, player_limit_s());
    fail_unless(frames > 0, "FFmpeg decoded no frame");
    fail_unless(served_agent(overflow.edge.bus, "Lavf/"), "the edge never served FFmpeg");
    overflow.check_origin(1);
}
GST_END_TEST;

/* VLC's mmsh: its Describe is redirected; VLC opens the http:// Location anew with its HTTP
 * access (VLC_ACCESS_REDIRECT), as a plain HTTP client (User-Agent VLC/…): the edge serves it
 * raw ASF, which it decodes. */
GST_START_TEST(test_vlc_mmsh_follows) {
    Overflow overflow;
    interop::VlcHome home;
    const std::vector<std::string> argv = interop::vlc_command(
        {"-I", "dummy", "-vv", "--play-and-exit", "--vout=dummy", "--aout=dummy", "--no-dbus",
         "--run-time=" + std::to_string(kPlaySeconds), overflow.origin_url("mmsh")});
    const interop::Run run = interop::run(argv, player_limit_s(), {home.env()});
    const std::string log = run.out + run.err;
    const bool pictures = log.find("Received first picture") != std::string::npos;
    if (!pictures)
        g_printerr("VLC log:\n%s\n", log.c_str());
    fail_unless(pictures, "VLC decoded no picture");
    fail_unless(served_agent(overflow.edge.bus, "VLC/3"), "the edge never served VLC");
    overflow.check_origin(1);
}
GST_END_TEST;

/* wmsrc: its Describe is redirected and it follows to the edge, where it sends its Play and
 * receives the stream (the redirect's target holds for the rest of the attempt). */
GST_START_TEST(test_wmsrc_follows) {
    Overflow overflow;
    const std::string description =
        "wmsrc name=src location=" + overflow.origin_url("mmsh") + " ! fakesink";
    GstElement *pipeline = gst_parse_launch(description.c_str(), nullptr);
    fail_unless(pipeline != nullptr);
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    fail_unless(served_agent(overflow.edge.bus, "NSPlayer/12.0"), "the edge never served wmsrc");
    guint64 packets = 0;
    const gint64 end = g_get_monotonic_time() + interop::kWaitUs;
    while (packets < 25 && g_get_monotonic_time() < end) {
        g_usleep(50 * 1000);
        g_object_get(src, "packets-received", &packets, nullptr);
    }
    fail_unless(packets >= 25, "wmsrc received %" G_GUINT64_FORMAT " packets from the edge",
                packets);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(pipeline);
    overflow.check_origin(1);
}
GST_END_TEST;

static Suite *overflow_suite() {
    Suite *suite = suite_create("wmnetsink-overflow");
    TCase *tc = tcase_create("overflow");
    tcase_set_timeout(tc, 120);
    suite_add_tcase(suite, tc);
    tcase_add_test(tc, test_ffmpeg_mmsh_follows);
    tcase_add_test(tc, test_ffmpeg_http_follows);
    tcase_add_test(tc, test_vlc_mmsh_follows);
    tcase_add_test(tc, test_wmsrc_follows);
    return suite;
}

int main(int argc, char **argv) {
    std::vector<const char *> programs = {"ffmpeg", "timeout"};
    for (const char *program : interop::vlc_programs())
        programs.push_back(program);
    return interop::main_with_requirements(argc, argv, "wmnetsink-overflow", overflow_suite,
                                           programs, {"videotestsrc", "avenc_wmv2", "asfmux"});
}
