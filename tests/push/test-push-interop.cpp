/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmpushsink with real decoders (GstCheck). Skipped (a failure under CI,
 * interop::skip) when FFmpeg, gst-discoverer-1.0 (gstreamer1.0-plugins-base-apps), asfdemux
 * (gstreamer1.0-plugins-ugly) or an encoder is missing.
 *  - A live WMV2 + WMA2 stream pushed to the strict receiver and
 *    re-assembled there as an ASF file: every packet the pipeline produced
 *    is in it (counted on both sides); `ffmpeg -v error` decodes every
 *    frame without a message; `gst-discoverer-1.0` and the GstDiscoverer
 *    API find both streams without an error; GStreamer decodes every frame.
 *  - The relay a publishing point performs: wmpushsink → receiver → the
 *    same header and packets fed to wmnetsink in a second pipeline →
 *    `ffmpeg -i mmsh://…` decodes without a message; and an edge
 *    (`wmsrc ! wmnetsink`) pulling that re-served stream, whose viewer
 *    FFmpeg decodes without a message too.
 */
#include "interop.h"
#include "push-check.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/pbutils/pbutils.h>

#include <atomic>
#include <string>
#include <vector>

using namespace pushtest;

namespace {

constexpr guint kToolLimitS = 60;
constexpr guint kFrames = 75; /* 3 s at 25 fps */

/* A live A/V encoder ending in wmpushsink (encoders rebased as in the interop tests). */
std::string audio_video(const std::string &sink_properties) {
    return "videotestsrc is-live=true num-buffers=" + std::to_string(kFrames) +
           " ! video/x-raw,width=320,height=240,framerate=25/1 ! avenc_wmv2 name=venc "
           "bitrate=500000 gop-size=25 ! mux. audiotestsrc is-live=true num-buffers=130 ! "
           "audioconvert ! audio/x-raw,rate=44100,channels=2 ! avenc_wmav2 name=aenc "
           "bitrate=64000 ! mux. asfmux name=mux streamable=true ! wmpushsink name=sink " +
           sink_properties;
}

void rebase(LivePipeline &pipeline, const char *name) {
    GstPad *pad = gst_element_get_static_pad(pipeline.element(name), "src");
    interop::rebase_to_running_time(pad);
    gst_object_unref(pad);
}

/* ffmpeg decodes @p input_args at log level error; returns the video frames decoded. */
guint ffmpeg_decode(const std::vector<std::string> &input_args) {
    std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-v", "error"};
    argv.insert(argv.end(), input_args.begin(), input_args.end());
    for (const char *arg : {"-f", "null", "-", "-progress", "pipe:1"})
        argv.emplace_back(arg);
    const std::string out = interop::run_clean(argv, kToolLimitS);
    const std::string progress = interop::last_value(out, "progress");
    fail_unless_equals_string(progress.c_str(), "end");
    return guint(g_ascii_strtoull(interop::last_value(out, "frame").c_str(), nullptr, 10));
}

/* GStreamer decodes @p path: every video frame reaches the sink, no ERROR or WARNING. */
guint gstreamer_decode(const std::string &path) {
    const std::string description = "filesrc location=" + path +
                                    " ! decodebin name=d d. ! queue ! videoconvert ! fakesink "
                                    "name=video d. ! queue ! audioconvert ! fakesink";
    GstElement *pipeline = gst_parse_launch(description.c_str(), nullptr);
    fail_unless(pipeline != nullptr);
    std::atomic<guint> frames{0};
    GstElement *video = gst_bin_get_by_name(GST_BIN(pipeline), "video");
    GstPad *pad = gst_element_get_static_pad(video, "sink");
    gst_pad_add_probe(
        pad, GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad *, GstPadProbeInfo *, gpointer data) {
            (*static_cast<std::atomic<guint> *>(data))++;
            return GST_PAD_PROBE_OK;
        },
        &frames, nullptr);
    gst_object_unref(pad);
    gst_object_unref(video);
    GstBus *bus = gst_element_get_bus(pipeline);
    Recorder messages(bus);
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstMessage *end = messages.wait([](GstMessage *m) {
        return GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS || GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR;
    });
    fail_unless(end != nullptr && GST_MESSAGE_TYPE(end) == GST_MESSAGE_EOS, "%s",
                end ? debug_text(end).c_str() : "no EOS");
    messages.assert_clean();
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    return frames.load();
}

GST_START_TEST(test_received_file_decodes) {
    g_autofree gchar *dir = g_dir_make_tmp("wmpush-XXXXXX", nullptr);
    fail_unless(dir != nullptr);
    g_autofree gchar *path = g_build_filename(dir, "received.asf", nullptr);
    Receiver receiver;
    receiver.start();
    receiver.record_to(path);
    LivePipeline pipeline(audio_video("location=" + receiver.url()));
    rebase(pipeline, "venc");
    rebase(pipeline, "aenc");
    pipeline.play();
    assert_delivered(pipeline, receiver);
    fail_unless(pipeline.packets() > 0);

    /* FFmpeg: every video frame, not a single message at level error. */
    fail_unless_equals_int(ffmpeg_decode({"-i", path}), kFrames);

    /* gst-discoverer-1.0: both streams, no error. */
    const std::string out = interop::run_clean({"gst-discoverer-1.0", path}, kToolLimitS);
    fail_unless(out.find("video #") != std::string::npos, "%s", out.c_str());
    fail_unless(out.find("audio #") != std::string::npos, "%s", out.c_str());
    fail_unless(out.find("rror") == std::string::npos, "%s", out.c_str());

    /* The GstDiscoverer API says the same, with the picture size. */
    GError *error = nullptr;
    GstDiscoverer *discoverer = gst_discoverer_new(20 * GST_SECOND, &error);
    fail_unless(discoverer != nullptr);
    g_autofree gchar *uri = gst_filename_to_uri(path, nullptr);
    GstDiscovererInfo *info = gst_discoverer_discover_uri(discoverer, uri, &error);
    fail_unless(info != nullptr && error == nullptr, "%s", error ? error->message : "");
    fail_unless_equals_int(gst_discoverer_info_get_result(info), GST_DISCOVERER_OK);
    GList *video = gst_discoverer_info_get_video_streams(info);
    GList *audio = gst_discoverer_info_get_audio_streams(info);
    fail_unless_equals_int(g_list_length(video), 1);
    fail_unless_equals_int(g_list_length(audio), 1);
    auto *video_info = GST_DISCOVERER_VIDEO_INFO(video->data);
    fail_unless_equals_int(gst_discoverer_video_info_get_width(video_info), 320);
    fail_unless_equals_int(gst_discoverer_video_info_get_height(video_info), 240);
    gst_discoverer_stream_info_list_free(video);
    gst_discoverer_stream_info_list_free(audio);
    gst_discoverer_info_unref(info);
    g_object_unref(discoverer);

    /* GStreamer decodes every frame too. */
    fail_unless_equals_int(gstreamer_decode(path), kFrames);

    g_remove(path);
    g_rmdir(dir);
}
GST_END_TEST;

/* Feeds what the receiver gets into an appsrc, as a publishing point re-serves it. */
class Relay {
public:
    explicit Relay(Receiver &receiver)
        : receiver_(receiver), pipeline_("appsrc name=src format=time ! wmnetsink name=sink port=0 "
                                         "address=127.0.0.1 max-clients=-1") {
        src_ = pipeline_.element("src");
        receiver.on_header([this](const Bytes &header) { set_header(header); });
        receiver.on_packet([this](const Bytes &packet) {
            gst_app_src_push_buffer(GST_APP_SRC(src_),
                                    gst_buffer_new_memdup(packet.data(), packet.size()));
        });
        receiver.on_end([this] { gst_app_src_end_of_stream(GST_APP_SRC(src_)); });
        pipeline_.set_state(GST_STATE_PLAYING);
    }
    ~Relay() {
        receiver_.on_header(nullptr);
        receiver_.on_packet(nullptr);
        receiver_.on_end(nullptr);
    }

    interop::LivePipeline &pipeline() { return pipeline_; }

private:
    void set_header(const Bytes &header) {
        GstCaps *caps = caps_with_header(header);
        gst_app_src_set_caps(GST_APP_SRC(src_), caps);
        gst_caps_unref(caps);
    }

    Receiver &receiver_;
    interop::LivePipeline pipeline_;
    GstElement *src_ = nullptr; /* borrowed from pipeline_ */
};

GST_START_TEST(test_relay_to_wmnetsink) {
    Receiver receiver;
    receiver.start();
    Relay relay(receiver);
    LivePipeline pusher(
        "videotestsrc is-live=true num-buffers=375 ! video/x-raw,width=320,height=240,"
        "framerate=25/1 ! avenc_wmv2 bitrate=500000 gop-size=25 ! asfmux streamable=true ! "
        "wmpushsink name=sink location=" +
        receiver.url());
    pusher.play();
    relay.pipeline().wait_packets(10);

    /* A Windows Media client of the relaying server decodes 3 s without a message. */
    const guint frames = ffmpeg_decode({"-i", relay.pipeline().url("mmsh"), "-t", "3"});
    fail_unless(frames >= 60, "%u frames decoded", frames);
    {
        /* An edge pulls the re-served stream with wmsrc and serves it again: FFmpeg decodes it
         * there too (issue 14: the strict receiver's re-served stream). */
        const std::string edge_description =
            "wmsrc location=" + relay.pipeline().url("mmsh") +
            " user-agent=NSServer/9.0.0.3171 ! wmnetsink name=sink port=0 address=127.0.0.1 "
            "max-clients=-1";
        interop::LivePipeline edge(edge_description.c_str());
        edge.set_state(GST_STATE_PLAYING);
        edge.wait_packets(10);
        const guint edge_frames = ffmpeg_decode({"-i", edge.url("mmsh"), "-t", "3"});
        fail_unless(edge_frames >= 60, "%u frames decoded from the edge", edge_frames);
        edge.assert_no_errors();
    }

    pusher.end();
    pusher.wait_eos();
    pusher.messages().assert_clean();
    relay.pipeline().wait_eos();
    relay.pipeline().assert_no_errors();
    assert_no_violations(receiver.snapshot());
    /* The relay saw every packet the encoder pushed. */
    fail_unless_equals_int(relay.pipeline().packets(), pusher.packets());
}
GST_END_TEST;

Suite *push_interop_suite() {
    Suite *suite = suite_create("push-interop");
    TCase *tcase = tcase_create("decoders");
    tcase_set_timeout(tcase, 180);
    tcase_add_test(tcase, test_received_file_decodes);
    tcase_add_test(tcase, test_relay_to_wmnetsink);
    suite_add_tcase(suite, tcase);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    return interop::main_with_requirements(
        argc, argv, "push-interop", push_interop_suite, {"ffmpeg", "gst-discoverer-1.0", "timeout"},
        {"avenc_wmv2", "avenc_wmav2", "asfmux", "asfdemux", "videotestsrc", "audiotestsrc",
         "appsrc", "decodebin", "wmsrc"});
}
