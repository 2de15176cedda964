/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Multiple bit rates (issue 13) against the real players: one live source
 * (videotestsrc, tee) encoded three times at clearly different picture
 * sizes and rates (kRenditions) plus one WMA2 stream, into asfmux and
 * wmnetsink with `stream-bitrates` declaring the video rates.
 *   - VLC with a low --mms-maxbitrate selects the lowest video and the audio
 *     (get-clients), is sent about their rate (the bytes wmnetsink sent it
 *     over a measured interval against the bytes the encoders made in it:
 *     its $D packets go without padding, see check_vlc()), and decodes
 *     pictures of that size; with a high one, the same for the highest
 *     video.
 *   - FFmpeg (mmsh://, which selects every stream) decodes all four.
 * A client selecting only the audio gets no video payload: see
 * tests/element/test-wmnetsink-selection.cpp.
 */
#include "interop.h"

#include <array>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

using interop::Fields;
using interop::LivePipeline;
using interop::Run;

namespace {

/** One video encoding of the source: picture size, coarsest quantizer (avenc_wmv2's `bitrate`
 *  has no effect: qmax sets the rate), the rate declared in `stream-bitrates`. */
struct Rendition {
    int width;
    int height;
    int max_quantizer;
    int declared_bitrate;
};
/* Measured on this source: about 0.31, 0.71 and 2.0 Mbit/s. */
constexpr Rendition kRenditions[] = {
    {320, 180, 20, 300000},
    {480, 270, 16, 700000},
    {720, 405, 14, 2000000},
};
constexpr size_t kVideoStreams = std::size(kRenditions);
/** asfmux numbers streams as its pads are requested: video_0..2 are 1..3, the audio 4. */
constexpr guint kAudioStream = kVideoStreams + 1;
constexpr const char *kEncoders[kVideoStreams + 1] = {"venc0", "venc1", "venc2", "aenc"};

/** VLC plays this long; the sent bytes are measured in the middle of it. */
constexpr guint kPlaySeconds = 7;
constexpr guint kVlcLimitS = 30;
/** From VLC's Play until the first sample (its start burst: fast start, key frame wait). */
constexpr double kSettleSeconds = 2.0;
constexpr double kMeasureSeconds = 3.0;
/** What a filtered client may be sent over its streams' rate: packet, payload and $D headers,
 *  and the sampling of a bursty encoder over kMeasureSeconds. */
constexpr double kMaxSentOverSelected = 1.4;
constexpr guint kToolLimitS = 30;
constexpr guint kDecodeSeconds = 3;

std::string pipeline_description() {
    std::string description = "videotestsrc is-live=true pattern=smpte horizontal-speed=4 ! "
                              "video/x-raw,width=720,height=405,framerate=25/1 ! tee name=vt";
    for (size_t i = 0; i < kVideoStreams; ++i) {
        const Rendition &r = kRenditions[i];
        description += " vt. ! queue ! videoscale ! video/x-raw,width=" + std::to_string(r.width) +
                       ",height=" + std::to_string(r.height) +
                       " ! avenc_wmv2 name=" + kEncoders[i] +
                       " qmax=" + std::to_string(r.max_quantizer) + " gop-size=25 ! mux.video_" +
                       std::to_string(i);
    }
    std::string bitrates;
    for (size_t i = 0; i < kVideoStreams; ++i)
        bitrates += (i ? "," : "") + std::to_string(i + 1) + ":" +
                    std::to_string(kRenditions[i].declared_bitrate);
    return description +
           " audiotestsrc is-live=true ! audioconvert ! audio/x-raw,rate=44100,channels=2 ! "
           "avenc_wmav2 name=aenc bitrate=64000 ! mux.audio_0 "
           "asfmux name=mux streamable=true ! wmnetsink name=sink port=0 address=127.0.0.1 "
           "max-clients=-1 stream-bitrates=\"" +
           bitrates + "\"";
}

/** The MBR pipeline, playing, with the bytes each encoder made counted. */
class MbrStream {
public:
    MbrStream() : pipeline_(pipeline_description().c_str()) {
        for (size_t i = 0; i < std::size(kEncoders); ++i) {
            pipeline_.rebase(kEncoders[i]);
            GstPad *pad = gst_element_get_static_pad(pipeline_.element(kEncoders[i]), "src");
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, count_bytes, &bytes_[i], nullptr);
            gst_object_unref(pad);
        }
        pipeline_.set_state(GST_STATE_PLAYING);
    }

    LivePipeline &pipeline() { return pipeline_; }
    /** Bytes the encoder of ASF stream @p number made so far. */
    guint64 stream_bytes(guint number) const { return bytes_.at(number - 1).load(); }

private:
    static GstPadProbeReturn count_bytes(GstPad *, GstPadProbeInfo *info, gpointer counter) {
        static_cast<std::atomic<guint64> *>(counter)->fetch_add(
            gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)));
        return GST_PAD_PROBE_OK;
    }

    LivePipeline pipeline_;
    std::array<std::atomic<guint64>, kVideoStreams + 1> bytes_{};
};

/** The playing MS-WMSP client (the one with a selection) as get-clients lists it. */
struct Player {
    bool found = false;
    std::vector<guint> selected;
    guint64 bytes_sent = 0;
};

Player find_player(GstElement *sink) {
    GstStructure *all = nullptr;
    g_signal_emit_by_name(sink, "get-clients", &all);
    fail_unless(all != nullptr);
    const GValue *clients = gst_structure_get_value(all, "clients");
    Player player;
    for (guint i = 0; clients && i < gst_value_array_get_size(clients); ++i) {
        const GstStructure *c = gst_value_get_structure(gst_value_array_get_value(clients, i));
        const GValue *array = gst_structure_get_value(c, "selected-streams");
        if (!array || gst_value_array_get_size(array) == 0)
            continue;
        player.found = true;
        for (guint j = 0; j < gst_value_array_get_size(array); ++j)
            player.selected.push_back(g_value_get_uint(gst_value_array_get_value(array, j)));
        gst_structure_get_uint64(c, "bytes-sent", &player.bytes_sent);
    }
    gst_structure_free(all);
    return player;
}

/** What was sent to the player and made by each encoder at one moment. */
struct Sample {
    gint64 at_us = 0;
    guint64 sent = 0;
    std::array<guint64, kVideoStreams + 1> made{};
};

Sample sample(MbrStream &stream) {
    Sample s;
    s.at_us = g_get_monotonic_time();
    s.sent = find_player(stream.pipeline().sink()).bytes_sent;
    for (guint number = 1; number <= kAudioStream; ++number)
        s.made[number - 1] = stream.stream_bytes(number);
    return s;
}

/** Bits per second between two samples. */
double rate(guint64 from, guint64 to, const Sample &a, const Sample &b) {
    return double(to - from) * 8.0 * G_USEC_PER_SEC / double(b.at_us - a.at_us);
}

/** The line VLC's video output logs for decoded pictures of @p size ("WxH"): their visible
 *  size. */
std::string decoded_size_line(const std::string &size) {
    return "vsz " + size + ",";
}

/**
 * VLC (-vv, dummy outputs) plays the stream with `--mms-maxbitrate=@p max_bitrate`; while it
 * plays, the bytes sent to it are sampled kMeasureSeconds apart. It must select video stream
 * @p video and the audio, be sent about their rate, and decode pictures of that stream's size.
 */
void check_vlc(int max_bitrate, guint video) {
    MbrStream stream;
    LivePipeline &pipeline = stream.pipeline();
    pipeline.wait_packets(1);

    interop::VlcHome home;
    const std::vector<std::string> argv = interop::vlc_command(
        {"-I", "dummy", "-vv", "--play-and-exit", "--vout=dummy", "--aout=dummy", "--no-dbus",
         "--mms-maxbitrate=" + std::to_string(max_bitrate),
         "--run-time=" + std::to_string(kPlaySeconds), pipeline.url("mmsh")});
    Run result;
    std::thread vlc([&] { result = interop::run(argv, kVlcLimitS, {home.env()}); });

    /* Wait (bounded) for its Play, then let its start settle and measure. */
    const gint64 give_up = g_get_monotonic_time() + interop::kWaitUs * interop::slowdown();
    Player player;
    while (!(player = find_player(pipeline.sink())).found && g_get_monotonic_time() < give_up)
        g_usleep(50000);
    if (player.found) {
        g_usleep(gulong(kSettleSeconds * G_USEC_PER_SEC));
        player = find_player(pipeline.sink());
    }
    const Sample first = sample(stream);
    g_usleep(gulong(kMeasureSeconds * G_USEC_PER_SEC));
    const Sample last = sample(stream);
    vlc.join();

    const std::string log = result.out + result.err;
    const auto fail_with_log = [&](bool ok, const std::string &what) {
        if (!ok)
            g_printerr("VLC log:\n%s\n", log.c_str());
        fail_unless(ok, "VLC --mms-maxbitrate=%d: %s", max_bitrate, what.c_str());
    };
    fail_with_log(result.exited && result.status == 0, interop::describe(argv, result));
    fail_with_log(player.found, "never sent a Play with a selection");
    fail_with_log(player.selected == std::vector<guint>({video, kAudioStream}),
                  "selected " + std::to_string(player.selected.size()) + " streams, not " +
                      std::to_string(video) + " and " + std::to_string(kAudioStream));

    /* Sent: about the selected streams' rate. Its $D packets go without padding (MS-WMSP
     * §2.2.3.3), so what is sent is their payloads plus packet and payload headers; with the
     * padding (the header's fixed size) a client of the lowest video was sent 3.6 times its
     * streams' rate (docs/protocol.md, "Multiple bit rates"). */
    const double sent = rate(first.sent, last.sent, first, last);
    const double selected =
        rate(first.made[video - 1], last.made[video - 1], first, last) +
        rate(first.made[kAudioStream - 1], last.made[kAudioStream - 1], first, last);
    double all = 0;
    for (guint number = 1; number <= kAudioStream; ++number)
        all += rate(first.made[number - 1], last.made[number - 1], first, last);
    g_print("VLC --mms-maxbitrate=%d: sent %.0f bit/s; streams %u+%u made %.0f bit/s, all %.0f\n",
            max_bitrate, sent, video, kAudioStream, selected, all);
    fail_unless(sent >= 0.5 * selected && sent <= kMaxSentOverSelected * selected,
                "sent %.0f bit/s for streams making %.0f bit/s", sent, selected);

    /* Decoded: that stream's picture size. */
    const Rendition &r = kRenditions[video - 1];
    const std::string size = std::to_string(r.width) + "x" + std::to_string(r.height);
    fail_with_log(log.find("main decoder debug: Received first picture") != std::string::npos,
                  "no picture decoded");
    fail_with_log(log.find(decoded_size_line(size)) != std::string::npos,
                  "no picture of " + size + " decoded");
    pipeline.assert_no_errors();
}

GST_START_TEST(test_vlc_low_bitrate) {
    check_vlc(400000, 1);
}
GST_END_TEST;

GST_START_TEST(test_vlc_high_bitrate) {
    check_vlc(10000000, kVideoStreams);
}
GST_END_TEST;

/* FFmpeg selects every stream: it decodes all three video streams, each at its size, and the
 * audio. */
GST_START_TEST(test_ffmpeg_all_streams) {
    MbrStream stream;
    LivePipeline &pipeline = stream.pipeline();
    pipeline.wait_packets(1);
    const std::string out = interop::run_clean(
        {"ffprobe", "-v", "error", "-count_frames", "-read_intervals",
         "%+" + std::to_string(kDecodeSeconds), "-show_entries",
         "stream=index,codec_type,codec_name,width,height,nb_read_frames", pipeline.url("mmsh")},
        kToolLimitS, {"Guessed Channel Layout for Input Stream"});
    const std::vector<Fields> streams = interop::sections(out, "STREAM");
    fail_unless_equals_int(streams.size(), kAudioStream);
    for (size_t i = 0; i < kVideoStreams; ++i) {
        fail_unless_equals_string(streams[i].at("codec_name").c_str(), "wmv2");
        fail_unless_equals_int(std::stoi(streams[i].at("width")), kRenditions[i].width);
        fail_unless_equals_int(std::stoi(streams[i].at("height")), kRenditions[i].height);
    }
    fail_unless_equals_string(streams[kVideoStreams].at("codec_name").c_str(), "wmav2");
    /* kDecodeSeconds at 25 fps, and about 21 WMA frames a second; half is plenty. */
    for (size_t i = 0; i < streams.size(); ++i) {
        const int frames = std::stoi(streams[i].at("nb_read_frames"));
        const int least = i < kVideoStreams ? 25 * kDecodeSeconds / 2 : 21 * kDecodeSeconds / 2;
        fail_unless(frames >= least, "stream %zu: %d frames decoded\n%s", i, frames, out.c_str());
    }
    const std::vector<Fields> clients = pipeline.element_messages("wmnetsink-client-added", 1);
    fail_unless_equals_string(clients.at(0).at("protocol").c_str(), "wmsp");
    pipeline.assert_no_errors();
}
GST_END_TEST;

Suite *mbr_suite() {
    Suite *suite = suite_create("interop-mbr");
    TCase *tcase = tcase_create("mbr");
    tcase_set_timeout(tcase, 120);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_vlc_low_bitrate);
    tcase_add_test(tcase, test_vlc_high_bitrate);
    tcase_add_test(tcase, test_ffmpeg_all_streams);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    std::vector<const char *> programs = interop::vlc_programs();
    programs.insert(programs.end(), {"ffprobe"});
    return interop::main_with_requirements(argc, argv, "interop-mbr", mbr_suite, programs,
                                           {"videotestsrc", "audiotestsrc", "audioconvert",
                                            "videoscale", "tee", "avenc_wmv2", "avenc_wmav2",
                                            "asfmux"});
}
