/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The embedding examples (examples/) run as users run them, each in its own
 * process: FFmpeg decodes their stream over mmsh:// while the test reads what
 * they print (the client must show up in client-added and get-clients, or in
 * the OBS output's bus messages); then SIGINT must end them with exit status
 * 0 within a bound. The OBS-style output also pushes with wmpushsink to the
 * push tests' strict publishing point (tests/push/receiver.h), and its stop
 * sequence (EOS awaited at most 3 s, then NULL) must end in time.
 *
 * Usage (tests/examples/meson.build): test-examples MODE PROGRAM [SCRIPT],
 * MODE one of python, c, obs-wmnetsink, obs-wmpushsink, obs-wmpushsink-silent.
 */
#include "interop.h"
#include "program.h"
#include "receiver.h"

#include <glib/gstdio.h>

namespace {

/** Bound of one ffmpeg run, s. */
constexpr guint kToolLimitS = 30;
/** ffmpeg decodes this many seconds of the stream (25 fps); the examples list clients every 1 s. */
constexpr guint kDecodeSeconds = 3;
constexpr guint kMinFrames = 60;
/** From SIGINT to exit, s (EOS_TIMEOUT_S of the examples is 3). */
constexpr double kExitLimitS = 5;
/** obs-gstreamer's OUTPUT_EOS_TIMEOUT, s. */
constexpr double kObsEosTimeoutS = 3;
/** The NULL after it, s. */
constexpr double kNullLimitS = 1;

const char *g_mode = nullptr;
std::vector<std::string> g_command; /* PROGRAM [SCRIPT] */
/* The examples' own plugin registry (GST_REGISTRY): the user's is left alone. */
std::string g_registry;

/** The example with the extra arguments @p args, on the examples' own registry. */
class Example : public interop::Program {
public:
    explicit Example(const std::vector<std::string> &args)
        : Program(command(args), {{"GST_REGISTRY", g_registry}}) {}

private:
    static std::vector<std::string> command(const std::vector<std::string> &args) {
        std::vector<std::string> argv = g_command;
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
};

/** FFmpeg decodes kDecodeSeconds of mmsh://127.0.0.1:@p port/ with no error. */
void decode(guint port) {
    const std::string url = "mmsh://127.0.0.1:" + std::to_string(port) + "/";
    const guint frames = interop::decoded_frames(url, kDecodeSeconds, kToolLimitS);
    fail_unless(frames >= kMinFrames, "FFmpeg decoded %u frames of %s", frames, url.c_str());
}

/** The seconds in "stop: EOS after S s, NULL after S s" for @p what ("EOS", "NULL"); -1 for "EOS
 *  not reached". */
double stop_time(Example &example, const char *what) {
    const std::string line = example.wait_line({"stop: "});
    const std::string key = std::string(what) + " after ";
    const size_t at = line.find(key);
    return at == std::string::npos ? -1 : g_ascii_strtod(line.c_str() + at + key.size(), nullptr);
}

/** The Python or the C broadcaster: the same options, the same output. */
GST_START_TEST(test_broadcaster) {
    Example example({"--port", "0", "--address", "127.0.0.1", "--interval", "1"});
    const guint port =
        interop::number_after(example.wait_line({"Serving on port "}), "Serving on port ");
    decode(port);
    const guint id = interop::number_after(example.wait_line({"client-added: "}), "client-added: ");
    const std::string client = "  " + std::to_string(id) + " 127.0.0.1 wmsp \"NSPlayer/";
    example.wait_line({client}); /* listed by get-clients while it played */
    example.wait_line({"client-removed: " + std::to_string(id) + " (closed)"});
    fail_unless_equals_int(example.interrupt_and_wait(kExitLimitS), 0);
    example.wait_line({"Stopping..."});
}
GST_END_TEST

/** The OBS launch string ending in @p sink. */
std::string obs_pipeline(const std::string &sink) {
    return "video. ! decodebin ! videoconvert ! avenc_wmv2 bitrate=500000 gop-size=25 ! "
           "asfmux streamable=true ! " +
           sink + " audio. ! fakesink";
}

/** The OBS-style output into wmnetsink: FFmpeg plays it, the stop is OBS's. */
GST_START_TEST(test_obs_wmnetsink) {
    Example example({obs_pipeline("wmnetsink port=0 address=127.0.0.1")});
    const guint port = interop::number_after(example.wait_line({"wmnetsink-open"}), "port=(uint)");
    decode(port);
    example.wait_line({"wmnetsink-client-added", "address=(string)127.0.0.1", "NSPlayer/"});
    fail_unless_equals_int(example.interrupt_and_wait(kExitLimitS), 0);
    const double eos = stop_time(example, "EOS");
    fail_unless(eos >= 0 && eos <= kObsEosTimeoutS, "EOS after %.2f s", eos);
}
GST_END_TEST

/**
 * The OBS-style output pushing to the strict publishing point. With @p silent the server never
 * answers the end of the session ($E): the EOS cannot come, and NULL after obs-gstreamer's 3 s
 * must still be quick and clean.
 */
void check_obs_wmpushsink(bool silent) {
    pushtest::Receiver receiver;
    receiver.start();
    if (silent) {
        pushtest::Options options;
        options.stalled_bodies = -1;
        receiver.set_options(options);
    }
    Example example({obs_pipeline("wmpushsink location=" + receiver.url("/live"))});
    example.wait_line({"wmpushsink-connected", "push-id="});
    if (silent) {
        fail_unless(receiver.wait_for([](const pushtest::Snapshot &s) { return s.stalled > 0; }),
                    "the PushStart never came");
        g_usleep(G_USEC_PER_SEC); /* a second of stream into the socket nobody reads */
    } else {
        fail_unless(
            receiver.wait_for([](const pushtest::Snapshot &s) { return s.count('D') >= 20; }),
            "the publishing point got %zu packets", receiver.snapshot().count('D'));
    }
    fail_unless_equals_int(example.interrupt_and_wait(kExitLimitS), 0);
    const double eos = stop_time(example, "EOS");
    const double null = stop_time(example, "NULL");
    const pushtest::Snapshot received = receiver.snapshot();
    fail_unless(received.violations.empty(), "violation: %s",
                received.violations.empty() ? "" : received.violations[0].c_str());
    if (silent) {
        fail_unless(eos < 0, "EOS after %.2f s from a server that never answers", eos);
    } else {
        fail_unless(eos >= 0 && eos <= kObsEosTimeoutS, "EOS after %.2f s", eos);
        /* EndSession happened. (wmpushsink-ended is not awaited: it may reach the bus after the
         * EOS, and the example stops reading at the EOS.) */
        fail_unless(received.end_reasons() == std::vector<uint32_t>{0}, "no $E(0) received");
    }
    fail_unless(null <= kObsEosTimeoutS + kNullLimitS * interop::slowdown(), "NULL after %.2f s",
                null);
}

GST_START_TEST(test_obs_wmpushsink) {
    check_obs_wmpushsink(false);
}
GST_END_TEST

GST_START_TEST(test_obs_wmpushsink_silent) {
    check_obs_wmpushsink(true);
}
GST_END_TEST

Suite *examples_suite() {
    Suite *suite = suite_create("examples");
    TCase *tcase = tcase_create(g_mode);
    tcase_set_timeout(tcase, 120);
    const std::string mode = g_mode;
    if (mode == "python" || mode == "c")
        tcase_add_test(tcase, test_broadcaster);
    else if (mode == "obs-wmnetsink")
        tcase_add_test(tcase, test_obs_wmnetsink);
    else if (mode == "obs-wmpushsink")
        tcase_add_test(tcase, test_obs_wmpushsink);
    else if (mode == "obs-wmpushsink-silent")
        tcase_add_test(tcase, test_obs_wmpushsink_silent);
    suite_add_tcase(suite, tcase);
    return suite;
}

/** Whether @p python imports PyGObject with GStreamer 1.0 (python3-gi, gir1.2-gstreamer-1.0). */
bool has_gi(const std::string &python) {
    const char *argv[] = {python.c_str(), "-c",
                          "import gi; gi.require_version('Gst', '1.0'); "
                          "from gi.repository import Gst",
                          nullptr};
    gint status = -1;
    return g_spawn_sync(nullptr, const_cast<gchar **>(argv), nullptr, G_SPAWN_DEFAULT, nullptr,
                        nullptr, nullptr, nullptr, &status, nullptr) &&
           g_spawn_check_wait_status(status, nullptr);
}

} // namespace

int main(int argc, char **argv) {
    gst_check_init(&argc, &argv);
    if (argc < 3) {
        g_printerr("usage: %s MODE PROGRAM [SCRIPT]\n", argv[0]);
        return 2;
    }
    g_mode = argv[1];
    g_command.assign(argv + 2, argv + argc);
    const std::string name = std::string("examples-") + g_mode;
    const bool obs = g_str_has_prefix(g_mode, "obs-");
    std::string lacking = interop::missing(
        {"ffmpeg", "timeout"}, obs ? std::vector<const char *>{"x264enc", "avenc_aac", "h264parse",
                                                               "aacparse", "avdec_h264"}
                                   : std::vector<const char *>{});
    if (g_command.size() > 1 && !has_gi(g_command[0]))
        lacking += std::string(lacking.empty() ? "" : ", ") + "PyGObject with GStreamer for " +
                   g_command[0] + " (python3-gi, gir1.2-gstreamer-1.0)";
    if (!lacking.empty())
        return interop::skip(name.c_str(), lacking);
    gchar *dir = g_dir_make_tmp("wmstream-examples-XXXXXX", nullptr);
    g_registry = std::string(dir) + "/registry.bin";
    const int status = gst_check_run_suite(examples_suite(), name.c_str(), __FILE__);
    g_remove(g_registry.c_str());
    g_rmdir(dir);
    g_free(dir);
    return status;
}
