/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Interop with the real FFmpeg tools: ffprobe and ffmpeg read a live
 * videotestsrc → avenc_wmv2 (→ + avenc_wmav2) → asfmux → wmnetsink stream
 * run in this process, over MS-WMSP (mmsh://) and as raw ASF (http://),
 * from the start and as late joiners.
 */
#include "interop.h"

#include <string>
#include <utility>
#include <vector>

using interop::Fields;
using interop::LivePipeline;
using interop::Run;

namespace {

/** Bound of one ffprobe/ffmpeg run, s. */
constexpr guint kToolLimitS = 30;
/** ffmpeg decodes this many seconds, at 25 fps. */
constexpr guint kDecodeSeconds = 3;
constexpr guint kMinFrames = 50;

/** ffprobe's streams of @p url; asserts a clean run (exit 0, nothing on stderr at -v error). */
std::vector<Fields> probe_streams(const std::string &url) {
    const std::vector<std::string> argv = {"ffprobe", "-v",           "error", "-show_streams",
                                           "-show_format", url};
    const Run result = interop::run(argv, kToolLimitS);
    const std::string text = interop::describe(argv, result);
    fail_unless(result.exited && result.status == 0, "%s", text.c_str());
    fail_unless(result.err.empty(), "%s", text.c_str());
    const std::vector<Fields> formats = interop::sections(result.out, "FORMAT");
    fail_unless_equals_int(formats.size(), 1);
    fail_unless_equals_string(formats[0].at("format_name").c_str(), "asf");
    return interop::sections(result.out, "STREAM");
}

void assert_wmv2_320x240(const Fields &stream) {
    fail_unless_equals_string(stream.at("codec_type").c_str(), "video");
    fail_unless_equals_string(stream.at("codec_name").c_str(), "wmv2");
    fail_unless_equals_string(stream.at("width").c_str(), "320");
    fail_unless_equals_string(stream.at("height").c_str(), "240");
}

/**
 * @p err without the warning ffmpeg prints for every WMA input: the ASF
 * WAVEFORMATEX has no channel mask, so ffmpeg guesses stereo from 2 channels.
 */
std::string without_layout_guess(const std::string &err) {
    std::string kept;
    for (const std::string &line : interop::lines(err))
        if (line.rfind("Guessed Channel Layout for Input Stream", 0) != 0)
            kept += line + "\n";
    return kept;
}

/**
 * Decode @p seconds of @p url with ffmpeg at log level @p level; asserts
 * exit 0 and an empty stderr (nothing at that level or worse, but the
 * channel layout guess).
 * @return the number of video frames decoded.
 */
guint decode(const std::string &url, guint seconds, const char *level) {
    const std::vector<std::string> argv = {
        "ffmpeg", "-nostdin", "-v", level, "-i",       url, "-t", std::to_string(seconds),
        "-f",     "null",     "-",  "-progress", "pipe:1"};
    const Run result = interop::run(argv, kToolLimitS);
    const std::string text = interop::describe(argv, result);
    fail_unless(result.exited && result.status == 0, "%s", text.c_str());
    fail_unless(without_layout_guess(result.err).empty(), "%s", text.c_str());
    fail_unless_equals_string(interop::last_value(result.out, "progress").c_str(), "end");
    return guint(g_ascii_strtoull(interop::last_value(result.out, "frame").c_str(), nullptr, 10));
}

/**
 * Every client the sink admitted so far (at least one) spoke @p protocol
 * ("wmsp" for mmsh://, "http" for http://) with FFmpeg's user agent for it.
 */
void assert_clients(LivePipeline &pipeline, const std::string &protocol) {
    const std::string agent = protocol == "wmsp" ? "NSPlayer/" : "Lavf/";
    for (const Fields &client : pipeline.element_messages("wmnetsink-client-added", 1)) {
        fail_unless_equals_string(client.at("protocol").c_str(), protocol.c_str());
        fail_unless(client.at("user-agent").rfind(agent, 0) == 0, "user agent %s",
                    client.at("user-agent").c_str());
    }
}

/** Start @p pipeline streaming (A/V: with both encoders rebased). */
void play(LivePipeline &pipeline, bool with_audio) {
    if (with_audio) {
        pipeline.rebase("venc");
        pipeline.rebase("aenc");
    }
    pipeline.set_state(GST_STATE_PLAYING);
}

/* ---- a client from the start ---- */

GST_START_TEST(test_probe_mmsh) {
    LivePipeline pipeline(interop::kVideoPipeline);
    play(pipeline, false);
    const std::vector<Fields> streams = probe_streams(pipeline.url("mmsh"));
    fail_unless_equals_int(streams.size(), 1);
    assert_wmv2_320x240(streams[0]);
    assert_clients(pipeline, "wmsp");
    pipeline.assert_no_errors();
}
GST_END_TEST;

GST_START_TEST(test_decode_mmsh) {
    LivePipeline pipeline(interop::kVideoPipeline);
    play(pipeline, false);
    const guint frames = decode(pipeline.url("mmsh"), kDecodeSeconds, "error");
    fail_unless(frames >= kMinFrames, "%u frames decoded", frames);
    assert_clients(pipeline, "wmsp");
    pipeline.assert_no_errors();
}
GST_END_TEST;

GST_START_TEST(test_probe_http) {
    LivePipeline pipeline(interop::kVideoPipeline);
    play(pipeline, false);
    const std::vector<Fields> streams = probe_streams(pipeline.url("http"));
    fail_unless_equals_int(streams.size(), 1);
    assert_wmv2_320x240(streams[0]);
    assert_clients(pipeline, "http");
    pipeline.assert_no_errors();
}
GST_END_TEST;

GST_START_TEST(test_decode_http) {
    LivePipeline pipeline(interop::kVideoPipeline);
    play(pipeline, false);
    const guint frames = decode(pipeline.url("http"), kDecodeSeconds, "error");
    fail_unless(frames >= kMinFrames, "%u frames decoded", frames);
    assert_clients(pipeline, "http");
    pipeline.assert_no_errors();
}
GST_END_TEST;

/**
 * The packets of the first @p seconds of @p url: how many are video and
 * how many audio (the muxer interleaves both from the start).
 */
std::pair<guint, guint> count_packets(const std::string &url, guint seconds) {
    const std::vector<std::string> argv = {"ffprobe",       "-v",
                                           "error",         "-show_packets",
                                           "-show_entries", "packet=codec_type",
                                           "-read_intervals", "%+" + std::to_string(seconds),
                                           url};
    const Run result = interop::run(argv, kToolLimitS);
    const std::string text = interop::describe(argv, result);
    fail_unless(result.exited && result.status == 0, "%s", text.c_str());
    fail_unless(result.err.empty(), "%s", text.c_str());
    guint video = 0;
    guint audio = 0;
    for (const Fields &packet : interop::sections(result.out, "PACKET"))
        (packet.at("codec_type") == "video" ? video : audio)++;
    return {video, audio};
}

GST_START_TEST(test_audio_video) {
    LivePipeline pipeline(interop::kAudioVideoPipeline);
    play(pipeline, true);
    for (const char *scheme : {"mmsh", "http"}) {
        const std::string url = pipeline.url(scheme);
        const std::vector<Fields> streams = probe_streams(url);
        fail_unless_equals_int(streams.size(), 2);
        assert_wmv2_320x240(streams[0]);
        fail_unless_equals_string(streams[1].at("codec_type").c_str(), "audio");
        fail_unless_equals_string(streams[1].at("codec_name").c_str(), "wmav2");
        /* 2 s: 50 video frames, about 43 WMA frames of 2048 samples at 44.1 kHz. */
        const auto [video, audio] = count_packets(url, 2);
        fail_unless(video >= 40 && audio >= 30, "%s: %u video and %u audio packets in 2 s", scheme,
                    video, audio);
        const guint frames = decode(url, kDecodeSeconds, "error");
        fail_unless(frames >= kMinFrames, "%s: %u frames decoded", scheme, frames);
    }
    pipeline.assert_no_errors();
}
GST_END_TEST;

/* ---- late joiners ---- */

/** Seconds of streaming before the late client connects. */
constexpr guint kJoinAfterS = 3;

/**
 * A client that joins a stream running for kJoinAfterS starts at a key
 * frame some seconds into the stream, and decodes without a warning.
 */
void check_late_joiner(bool with_audio) {
    LivePipeline pipeline(with_audio ? interop::kAudioVideoPipeline : interop::kVideoPipeline);
    play(pipeline, with_audio);
    pipeline.wait_packets(1);
    g_usleep(kJoinAfterS * G_USEC_PER_SEC);
    pipeline.assert_no_errors();
    const std::string url = pipeline.url("mmsh");

    /* The first video packet is a key frame, and not the stream's first one. */
    const std::vector<std::string> packets_argv = {
        "ffprobe",         "-v",           "warning",
        "-select_streams", "v",            "-show_packets",
        "-read_intervals", "%+#3",         "-show_entries",
        "packet=flags,pts_time", url};
    const Run packets_run = interop::run(packets_argv, kToolLimitS);
    const std::string packets_text = interop::describe(packets_argv, packets_run);
    fail_unless(packets_run.exited && packets_run.status == 0, "%s", packets_text.c_str());
    fail_unless(packets_run.err.empty(), "%s", packets_text.c_str());
    const std::vector<Fields> packets = interop::sections(packets_run.out, "PACKET");
    fail_unless_equals_int(packets.size(), 3);
    fail_unless(packets[0].at("flags")[0] == 'K', "%s", packets_text.c_str());
    fail_unless(g_ascii_strtod(packets[0].at("pts_time").c_str(), nullptr) >= kJoinAfterS - 1.0,
                "did not join mid-stream: %s", packets_text.c_str());

    /* The first decoded picture is an intra picture. */
    const std::vector<std::string> frames_argv = {
        "ffprobe",         "-v",   "warning",       "-select_streams",
        "v",               "-show_frames",          "-read_intervals",
        "%+#2",            "-show_entries",         "frame=key_frame,pict_type",
        url};
    const Run frames_run = interop::run(frames_argv, kToolLimitS);
    const std::string frames_text = interop::describe(frames_argv, frames_run);
    fail_unless(frames_run.exited && frames_run.status == 0, "%s", frames_text.c_str());
    fail_unless(frames_run.err.empty(), "%s", frames_text.c_str());
    const std::vector<Fields> frames = interop::sections(frames_run.out, "FRAME");
    fail_unless(!frames.empty(), "%s", frames_text.c_str());
    fail_unless_equals_string(frames[0].at("pict_type").c_str(), "I");
    fail_unless_equals_string(frames[0].at("key_frame").c_str(), "1");

    /* And ffmpeg decodes on without a warning ("first frame is no keyframe" …). */
    const guint decoded = decode(url, 2, "warning");
    fail_unless(decoded >= 40, "%u frames decoded", decoded);
    pipeline.assert_no_errors();
}

GST_START_TEST(test_late_joiner) { check_late_joiner(false); }
GST_END_TEST;

GST_START_TEST(test_late_joiner_audio_video) { check_late_joiner(true); }
GST_END_TEST;

Suite *ffmpeg_suite() {
    Suite *suite = suite_create("interop-ffmpeg");
    TCase *tcase = tcase_create("ffmpeg");
    tcase_set_timeout(tcase, 120);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_probe_mmsh);
    tcase_add_test(tcase, test_decode_mmsh);
    tcase_add_test(tcase, test_probe_http);
    tcase_add_test(tcase, test_decode_http);
    tcase_add_test(tcase, test_audio_video);
    tcase_add_test(tcase, test_late_joiner);
    tcase_add_test(tcase, test_late_joiner_audio_video);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    return interop::main_with_requirements(
        argc, argv, "interop-ffmpeg", ffmpeg_suite, {"ffmpeg", "ffprobe", "timeout"},
        {"wmnetsink", "videotestsrc", "audiotestsrc", "avenc_wmv2", "avenc_wmav2", "asfmux"});
}
