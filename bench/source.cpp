/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmstream-bench-source: the benchmark's live source and server process in
 * one: `appsrc ! SINK` (wmnetsink, tcpserversink or any sink with port /
 * current-port), fed a pre-encoded ASF recording in real time (replay.h),
 * so that the process's CPU time is the server's plus a pacing thread that
 * wakes once a packet. That thread is the benchmark's, not the server's: it
 * is named "wmsb-pace" (kPaceThreadName), so that the load generator can
 * sample it apart and subtract it (wmstream-loadgen --harness-thread).
 *
 * The caps carry the stream header as streamheader and the first buffer is
 * that header flagged HEADER, as asfmux streamable=true does; data packets
 * that do not begin a key frame are flagged DELTA_UNIT (so tcpserversink's
 * sync-method=next-keyframe works). A buffer probe on the sink pad stamps
 * each packet's arrival at the sink (just before render()) into the timing
 * side channel (timing-channel.h).
 *
 * `--sink floor` serves the same replay with the benchmark's floor server
 * (floor-server.h, raw TCP, flush interval from --set flush-interval=NS)
 * instead of a pipeline; packets are stamped as they are handed over.
 *
 * Prints one JSON line on stdout once the sink listens:
 *   {"event":"listening","port":P,"pid":…,"rate_bps":…,"packet_size":…,…}
 * and runs until SIGINT/SIGTERM or --duration.
 */
#include "asf-caps.h"
#include "floor-server.h"
#include "replay.h"
#include "timing-channel.h"

#include <glib-unix.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace wmstream::bench {
namespace {

/** The first packet is pushed this long after the pipeline plays, µs. */
constexpr int64_t kStartDelayUs = 100000;
/** The pacing loop checks for a stop request at least this often, µs. */
constexpr int64_t kMaxSleepUs = 100000;
/** The pacing thread's name (comm, at most 15 characters), which bench/run passes to
 * wmstream-loadgen --harness-thread. */
constexpr char kPaceThreadName[] = "wmsb-pace";

struct Options {
    std::string recording;
    std::string sink = "wmnetsink";
    std::vector<std::pair<std::string, std::string>> settings;
    std::string timing;
    double duration = 0;
    rlim_t max_fds = 65536;
};

struct Source {
    const Recording *recording = nullptr;
    TimingWriter timing;
    GstElement *pipeline = nullptr;
    GstElement *appsrc = nullptr;
    std::unique_ptr<FloorServer> floor; /* --sink floor instead of a pipeline */
    GMainLoop *loop = nullptr;
    std::atomic<bool> stop{false};
    int exit_code = 0;
    /* Written by the pacing thread, read after it is joined. */
    uint64_t pushed = 0;
    int64_t max_late_us = 0;
};

void sleep_until(int64_t deadline_us, const std::atomic<bool> &stop) {
    while (!stop.load()) {
        const int64_t left = deadline_us - g_get_monotonic_time();
        if (left <= 0)
            return;
        const int64_t chunk = std::min(left, kMaxSleepUs);
        timespec ts{time_t(chunk / 1000000), long(chunk % 1000000) * 1000};
        nanosleep(&ts, nullptr);
    }
}

/* Hands one data packet to the server; false when it is gone. */
bool deliver(Source &source, ReplayPacket &packet) {
    if (source.floor) {
        if (source.timing.is_open())
            source.timing.stamp(packet.send_ms, g_get_monotonic_time());
        source.floor->push(std::move(packet.data), packet.key_frame_start);
        return true;
    }
    GstBuffer *buffer = gst_buffer_new_memdup(packet.data.data(), packet.data.size());
    GST_BUFFER_OFFSET(buffer) = packet.send_ms;
    GST_BUFFER_PTS(buffer) = GstClockTime(packet.send_ms) * GST_MSECOND;
    if (!packet.key_frame_start)
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    return gst_app_src_push_buffer(GST_APP_SRC(source.appsrc), buffer) == GST_FLOW_OK;
}

/* The pacing thread: the header, then every packet at t0 + its send time. */
void pace(Source &source) {
    const Recording &recording = *source.recording;
    if (!source.floor) {
        GstBuffer *header = gst_buffer_new_memdup(recording.header.data(), recording.header.size());
        GST_BUFFER_FLAG_SET(header, GST_BUFFER_FLAG_HEADER);
        if (gst_app_src_push_buffer(GST_APP_SRC(source.appsrc), header) != GST_FLOW_OK)
            return;
    }
    Replay replay(recording);
    const int64_t t0 = g_get_monotonic_time() + kStartDelayUs;
    if (source.timing.is_open())
        source.timing.set_t0(t0);
    while (!source.stop.load()) {
        ReplayPacket packet = replay.next();
        const int64_t due = t0 + int64_t(packet.due_ms) * 1000;
        sleep_until(due, source.stop);
        source.max_late_us = std::max(source.max_late_us, g_get_monotonic_time() - due);
        if (!deliver(source, packet))
            return;
        ++source.pushed;
    }
}

GstPadProbeReturn on_buffer(GstPad *, GstPadProbeInfo *info, gpointer data) {
    auto *source = static_cast<Source *>(data);
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (buffer && GST_BUFFER_OFFSET_IS_VALID(buffer))
        source->timing.stamp(uint32_t(GST_BUFFER_OFFSET(buffer)), g_get_monotonic_time());
    return GST_PAD_PROBE_OK;
}

gboolean on_bus(GstBus *, GstMessage *message, gpointer data) {
    auto *source = static_cast<Source *>(data);
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        g_autoptr(GError) error = nullptr;
        g_autofree char *debug = nullptr;
        gst_message_parse_error(message, &error, &debug);
        std::fprintf(stderr, "source: error from %s: %s (%s)\n", GST_OBJECT_NAME(message->src),
                     error->message, debug ? debug : "");
        source->exit_code = 1;
        g_main_loop_quit(source->loop);
    }
    return G_SOURCE_CONTINUE;
}

gboolean on_stop(gpointer data) {
    g_main_loop_quit(static_cast<Source *>(data)->loop);
    return G_SOURCE_REMOVE;
}

void raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur >= wanted)
        return;
    limit.rlim_max = std::max(limit.rlim_max, wanted);
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        getrlimit(RLIMIT_NOFILE, &limit);
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

/* The sink with the benchmark's defaults, then the --set overrides (every one must exist). */
GstElement *make_sink(const Options &options) {
    GstElement *sink = gst_element_factory_make(options.sink.c_str(), "sink");
    if (!sink) {
        std::fprintf(stderr, "source: no element '%s'\n", options.sink.c_str());
        return nullptr;
    }
    for (const auto &setting : options.settings) {
        if (!g_object_class_find_property(G_OBJECT_GET_CLASS(sink), setting.first.c_str())) {
            std::fprintf(stderr, "source: %s has no property '%s'\n", options.sink.c_str(),
                         setting.first.c_str());
            gst_object_unref(sink);
            return nullptr;
        }
    }
    const bool tcp = options.sink == "tcpserversink";
    gst_util_set_object_arg(G_OBJECT(sink), tcp ? "host" : "address", "127.0.0.1");
    gst_util_set_object_arg(G_OBJECT(sink), "port", "0");
    gst_util_set_object_arg(G_OBJECT(sink), "sync", "false");
    if (tcp)
        gst_util_set_object_arg(G_OBJECT(sink), "sync-method", "next-keyframe");
    else
        gst_util_set_object_arg(G_OBJECT(sink), "max-clients", "-1");
    for (const auto &setting : options.settings)
        gst_util_set_object_arg(G_OBJECT(sink), setting.first.c_str(), setting.second.c_str());
    return sink;
}

GstCaps *make_caps(const Recording &recording) {
    GstBuffer *header = gst_buffer_new_memdup(recording.header.data(), recording.header.size());
    GST_BUFFER_FLAG_SET(header, GST_BUFFER_FLAG_HEADER);
    GstCaps *caps = wmstream::plugin::asf_caps_with_header(header);
    gst_buffer_unref(header);
    gst_caps_set_simple(caps, "parsed", G_TYPE_BOOLEAN, TRUE, nullptr);
    return caps;
}

bool parse_options(int argc, char **argv, Options &o) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--recording" && has_value) {
            o.recording = argv[++i];
        } else if (arg == "--sink" && has_value) {
            o.sink = argv[++i];
        } else if (arg == "--set" && has_value) {
            const std::string setting = argv[++i];
            const size_t eq = setting.find('=');
            if (eq == std::string::npos || eq == 0)
                return false;
            o.settings.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
        } else if (arg == "--timing" && has_value) {
            o.timing = argv[++i];
        } else if (arg == "--duration" && has_value) {
            o.duration = std::atof(argv[++i]);
        } else if (arg == "--max-fds" && has_value) {
            o.max_fds = rlim_t(std::strtoull(argv[++i], nullptr, 10));
        } else {
            return false;
        }
    }
    return !o.recording.empty();
}

/* Prints the "listening" line, paces packets until stopped, reports. */
void serve(Source &source, const Options &options, int port) {
    const Recording &recording = *source.recording;
    std::printf("{\"event\":\"listening\",\"sink\":\"%s\",\"port\":%d,\"pid\":%d,"
                "\"rate_bps\":%llu,\"packet_size\":%u,\"packets\":%zu,\"loop_ms\":%u}\n",
                options.sink.c_str(), port, int(getpid()),
                static_cast<unsigned long long>(recording.rate_bps()), recording.info.packet_size,
                recording.count(), recording.loop_ms);
    std::fflush(stdout);
    std::thread pacer([&source] {
        pthread_setname_np(pthread_self(), kPaceThreadName);
        pace(source);
    });
    g_main_loop_run(source.loop);
    source.stop = true;
    pacer.join();
    std::fprintf(stderr, "source: %llu packets pushed, latest push %.1f ms late\n",
                 static_cast<unsigned long long>(source.pushed), double(source.max_late_us) / 1000);
}

int serve_pipeline(Source &source, const Options &options) {
    GstElement *sink = make_sink(options);
    if (!sink)
        return 2;
    source.pipeline = gst_pipeline_new("bench");
    source.appsrc = gst_element_factory_make("appsrc", "src");
    g_autoptr(GstCaps) caps = make_caps(*source.recording);
    g_object_set(source.appsrc, "caps", caps, "is-live", TRUE, "format", GST_FORMAT_TIME, "block",
                 FALSE, "max-bytes", guint64(64 * 1024 * 1024), nullptr);
    gst_bin_add_many(GST_BIN(source.pipeline), source.appsrc, sink, nullptr);
    gst_element_link(source.appsrc, sink);
    if (source.timing.is_open()) {
        g_autoptr(GstPad) pad = gst_element_get_static_pad(sink, "sink");
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &source, nullptr);
    }
    g_autoptr(GstBus) bus = gst_element_get_bus(source.pipeline);
    gst_bus_add_watch(bus, on_bus, &source);

    if (gst_element_set_state(source.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        std::fprintf(stderr, "source: the pipeline does not start (%s)\n", options.sink.c_str());
        source.exit_code = 1;
    } else {
        gint port = 0;
        g_object_get(sink, "current-port", &port, nullptr);
        serve(source, options, port);
    }
    gst_element_set_state(source.pipeline, GST_STATE_NULL);
    gst_bus_remove_watch(bus);
    gst_object_unref(source.pipeline);
    return source.exit_code;
}

int serve_floor(Source &source, const Options &options) {
    int64_t interval_us = 125000;
    for (const auto &setting : options.settings) {
        if (setting.first != "flush-interval") {
            std::fprintf(stderr, "source: floor has no property '%s'\n", setting.first.c_str());
            return 2;
        }
        interval_us = int64_t(std::strtoll(setting.second.c_str(), nullptr, 10) / 1000);
    }
    source.floor = std::make_unique<FloorServer>();
    const std::string error = source.floor->open(0, interval_us, source.recording->header);
    if (!error.empty()) {
        std::fprintf(stderr, "source: floor: %s\n", error.c_str());
        return 1;
    }
    serve(source, options, source.floor->port());
    source.floor.reset();
    return source.exit_code;
}

int run(const Options &options) {
    raise_fd_limit(options.max_fds);
    g_autofree char *contents = nullptr;
    gsize len = 0;
    g_autoptr(GError) error = nullptr;
    if (!g_file_get_contents(options.recording.c_str(), &contents, &len, &error)) {
        std::fprintf(stderr, "source: %s\n", error->message);
        return 2;
    }
    auto recording = load_recording(reinterpret_cast<const uint8_t *>(contents), len);
    if (!recording) {
        std::fprintf(stderr, "source: %s: %s\n", options.recording.c_str(),
                     recording.error().message.c_str());
        return 2;
    }
    g_clear_pointer(&contents, g_free);

    Source source;
    source.recording = &*recording;
    if (!options.timing.empty()) {
        const std::string failure =
            source.timing.open(options.timing, recording->info.packet_size, recording->rate_bps());
        if (!failure.empty()) {
            std::fprintf(stderr, "source: %s\n", failure.c_str());
            return 2;
        }
    }

    source.loop = g_main_loop_new(nullptr, FALSE);
    g_unix_signal_add(SIGINT, on_stop, &source);
    g_unix_signal_add(SIGTERM, on_stop, &source);
    if (options.duration > 0)
        g_timeout_add(guint(options.duration * 1000), on_stop, &source);
    const int exit_code =
        options.sink == "floor" ? serve_floor(source, options) : serve_pipeline(source, options);
    g_main_loop_unref(source.loop);
    return exit_code;
}

} // namespace
} // namespace wmstream::bench

int main(int argc, char **argv) {
    gst_init(&argc, &argv);
    wmstream::bench::Options options;
    if (!wmstream::bench::parse_options(argc, argv, options)) {
        std::fprintf(stderr,
                     "usage: wmstream-bench-source --recording FILE.asf [--sink NAME|floor] "
                     "[--set PROPERTY=VALUE]... [--timing FILE] [--duration S] "
                     "[--max-fds N]\n");
        return 2;
    }
    return wmstream::bench::run(options);
}
