/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Interop with the real FFmpeg tools: ffprobe and ffmpeg read a live
 * videotestsrc → avenc_wmv2 (→ + avenc_wmav2) → asfmux → wmnetsink stream
 * run in this process, over MS-WMSP (mmsh://) and as raw ASF (http://),
 * from the start and as late joiners. Every run must be quiet at its log
 * level: exit 0 and nothing on stderr.
 */
#include "interop.h"

#include <string>
#include <utility>
#include <vector>

using interop::Fields;
using interop::LivePipeline;

namespace {

/** Bound of one ffprobe/ffmpeg run, s. */
constexpr guint kToolLimitS = 30;
/** ffmpeg decodes this many seconds, at 25 fps. */
constexpr guint kDecodeSeconds = 3;
constexpr guint kMinFrames = 50;
/**
 * The one warning ffmpeg prints for every WMA input (the ASF WAVEFORMATEX
 * has no channel mask, so it guesses stereo from 2 channels).
 */
const std::vector<std::string> kLayoutGuess = {"Guessed Channel Layout for Input Stream"};

/** ffprobe at log level @p level with @p options on @p url; must be quiet. @return stdout. */
std::string probe(const char *level, std::vector<std::string> options, const std::string &url) {
    std::vector<std::string> argv = {"ffprobe", "-v", level};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(url);
    return interop::run_clean(argv, kToolLimitS);
}

/** ffprobe's streams of @p url, which must be ASF. */
std::vector<Fields> probe_streams(const std::string &url) {
    const std::string out = probe("error", {"-show_streams", "-show_format"}, url);
    const std::vector<Fields> formats = interop::sections(out, "FORMAT");
    fail_unless_equals_int(formats.size(), 1);
    fail_unless_equals_string(formats[0].at("format_name").c_str(), "asf");
    return interop::sections(out, "STREAM");
}

void assert_wmv2_320x240(const Fields &stream) {
    fail_unless_equals_string(stream.at("codec_type").c_str(), "video");
    fail_unless_equals_string(stream.at("codec_name").c_str(), "wmv2");
    fail_unless_equals_string(stream.at("width").c_str(), "320");
    fail_unless_equals_string(stream.at("height").c_str(), "240");
}

/**
 * Decode @p seconds of @p url with ffmpeg at log level @p level; it must be
 * quiet (but for the channel layout guess).
 * @return the number of video frames decoded.
 */
guint decode(const std::string &url, guint seconds, const char *level) {
    const std::string out =
        interop::run_clean({"ffmpeg", "-nostdin", "-v", level, "-i", url, "-t",
                            std::to_string(seconds), "-f", "null", "-", "-progress", "pipe:1"},
                           kToolLimitS, kLayoutGuess);
    const std::string progress = interop::last_value(out, "progress");
    fail_unless_equals_string(progress.c_str(), "end");
    return guint(g_ascii_strtoull(interop::last_value(out, "frame").c_str(), nullptr, 10));
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

/** ffprobe sees one WMV2 320x240 stream in ASF over @p scheme. */
void check_probe(const char *scheme, const char *protocol) {
    LivePipeline pipeline(interop::kVideoPipeline);
    play(pipeline, false);
    const std::vector<Fields> streams = probe_streams(pipeline.url(scheme));
    fail_unless_equals_int(streams.size(), 1);
    assert_wmv2_320x240(streams[0]);
    assert_clients(pipeline, protocol);
    pipeline.assert_no_errors();
}

/** ffmpeg decodes kDecodeSeconds over @p scheme without an error. */
void check_decode(const char *scheme, const char *protocol) {
    LivePipeline pipeline(interop::kVideoPipeline);
    play(pipeline, false);
    const guint frames = decode(pipeline.url(scheme), kDecodeSeconds, "error");
    fail_unless(frames >= kMinFrames, "%u frames decoded", frames);
    assert_clients(pipeline, protocol);
    pipeline.assert_no_errors();
}

GST_START_TEST(test_probe_mmsh) {
    check_probe("mmsh", "wmsp");
}
GST_END_TEST;

GST_START_TEST(test_decode_mmsh) {
    check_decode("mmsh", "wmsp");
}
GST_END_TEST;

GST_START_TEST(test_probe_http) {
    check_probe("http", "http");
}
GST_END_TEST;

GST_START_TEST(test_decode_http) {
    check_decode("http", "http");
}
GST_END_TEST;

/**
 * The packets of the first @p seconds of @p url: how many are video and
 * how many audio (the muxer interleaves both from the start).
 */
std::pair<guint, guint> count_packets(const std::string &url, guint seconds) {
    const std::string out = probe("error",
                                  {"-show_packets", "-show_entries", "packet=codec_type",
                                   "-read_intervals", "%+" + std::to_string(seconds)},
                                  url);
    guint video = 0;
    guint audio = 0;
    for (const Fields &packet : interop::sections(out, "PACKET"))
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
 * frame some seconds into the stream, and decodes without a warning. With
 * fast-start=0 it starts at the newest key frame (the default fast start
 * begins 2.2 s further back; the join matrix covers it).
 */
void check_late_joiner(bool with_audio) {
    const std::string description =
        std::string(with_audio ? interop::kAudioVideoPipeline : interop::kVideoPipeline) +
        " fast-start=0";
    LivePipeline pipeline(description.c_str());
    play(pipeline, with_audio);
    pipeline.wait_packets(1);
    g_usleep(kJoinAfterS * G_USEC_PER_SEC);
    pipeline.assert_no_errors();
    const std::string url = pipeline.url("mmsh");

    /* The first video packet is a key frame, and not the stream's first one. */
    const std::string packets_out =
        probe("warning",
              {"-select_streams", "v", "-show_packets", "-read_intervals", "%+#3", "-show_entries",
               "packet=flags,pts_time"},
              url);
    const std::vector<Fields> packets = interop::sections(packets_out, "PACKET");
    fail_unless_equals_int(packets.size(), 3);
    fail_unless(packets[0].at("flags")[0] == 'K', "%s", packets_out.c_str());
    fail_unless(g_ascii_strtod(packets[0].at("pts_time").c_str(), nullptr) >= kJoinAfterS - 1.0,
                "did not join mid-stream: %s", packets_out.c_str());

    /* The first decoded picture is an intra picture. */
    const std::string frames_out = probe("warning",
                                         {"-select_streams", "v", "-show_frames", "-read_intervals",
                                          "%+#2", "-show_entries", "frame=key_frame,pict_type"},
                                         url);
    const std::vector<Fields> frames = interop::sections(frames_out, "FRAME");
    fail_unless(!frames.empty(), "no frame: %s", frames_out.c_str());
    fail_unless_equals_string(frames[0].at("pict_type").c_str(), "I");
    fail_unless_equals_string(frames[0].at("key_frame").c_str(), "1");

    /* And ffmpeg decodes on without a warning ("first frame is no keyframe" …). */
    const guint decoded = decode(url, 2, "warning");
    fail_unless(decoded >= 40, "%u frames decoded", decoded);
    pipeline.assert_no_errors();
}

GST_START_TEST(test_late_joiner) {
    check_late_joiner(false);
}
GST_END_TEST;

GST_START_TEST(test_late_joiner_audio_video) {
    check_late_joiner(true);
}
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
        {"videotestsrc", "audiotestsrc", "audioconvert", "avenc_wmv2", "avenc_wmav2", "asfmux"});
}
