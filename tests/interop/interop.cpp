/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "interop.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <algorithm>

namespace interop {

const char *const kVideoPipeline =
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! "
    "avenc_wmv2 name=venc bitrate=500000 gop-size=25 ! "
    "asfmux name=mux streamable=true ! "
    "wmnetsink name=sink port=0 address=127.0.0.1 max-clients=-1";

const char *const kAudioVideoPipeline =
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! "
    "avenc_wmv2 name=venc bitrate=500000 gop-size=25 ! mux. "
    "audiotestsrc is-live=true ! audioconvert ! audio/x-raw,rate=44100,channels=2 ! "
    "avenc_wmav2 name=aenc bitrate=64000 ! mux. "
    "asfmux name=mux streamable=true ! "
    "wmnetsink name=sink port=0 address=127.0.0.1 max-clients=-1";

/* ---- client programs ---- */

namespace {

struct Communication {
    bool done = false;
    bool expired = false;
    GBytes *out = nullptr;
    GBytes *err = nullptr;
    GError *error = nullptr;
};

void on_communicated(GObject *process, GAsyncResult *result, gpointer data) {
    auto *state = static_cast<Communication *>(data);
    g_subprocess_communicate_finish(G_SUBPROCESS(process), result, &state->out, &state->err,
                                    &state->error);
    state->done = true;
}

gboolean on_expired(gpointer data) {
    static_cast<Communication *>(data)->expired = true;
    return G_SOURCE_REMOVE;
}

std::string to_string(GBytes *bytes) {
    if (!bytes)
        return "";
    gsize size = 0;
    const auto *data = static_cast<const char *>(g_bytes_get_data(bytes, &size));
    return std::string(data ? data : "", size);
}

std::string join(const std::vector<std::string> &argv) {
    std::string text;
    for (const std::string &arg : argv)
        text += (text.empty() ? "" : " ") + arg;
    return text;
}

} // namespace

Run run(const std::vector<std::string> &argv, guint limit_s, const std::vector<std::string> &env) {
    const std::string limit = std::to_string(limit_s);
    std::vector<const char *> args = {"timeout", "-k", "5", limit.c_str()};
    for (const std::string &arg : argv)
        args.push_back(arg.c_str());
    args.push_back(nullptr);

    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(static_cast<GSubprocessFlags>(G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDERR_PIPE));
    for (const std::string &entry : env) {
        const size_t equals = entry.find('=');
        g_subprocess_launcher_setenv(launcher, entry.substr(0, equals).c_str(),
                                     entry.substr(equals + 1).c_str(), TRUE);
    }
    g_autoptr(GMainContext) context = g_main_context_new();
    g_main_context_push_thread_default(context);
    g_autoptr(GError) error = nullptr;
    g_autoptr(GSubprocess) process = g_subprocess_launcher_spawnv(launcher, args.data(), &error);
    fail_unless(process != nullptr, "cannot start %s: %s", join(argv).c_str(),
                error ? error->message : "?");

    /* Stdin gets nothing and is closed at once; both outputs are collected until exit. */
    Communication state;
    g_autoptr(GBytes) no_input = g_bytes_new_static("", 0);
    g_subprocess_communicate_async(process, no_input, nullptr, on_communicated, &state);
    /* Iterate until the communication is done or @p seconds passed. */
    const auto wait = [&](guint seconds) {
        state.expired = false;
        GSource *timer = g_timeout_source_new_seconds(seconds);
        g_source_set_callback(timer, on_expired, &state, nullptr);
        g_source_attach(timer, context);
        while (!state.done && !state.expired)
            g_main_context_iteration(context, TRUE);
        g_source_destroy(timer);
        g_source_unref(timer);
    };
    wait(limit_s + 15);
    const bool in_time = state.done;
    if (!state.done) {
        /* `timeout -k` should never let it come to this: kill it, reap it. */
        g_subprocess_force_exit(process);
        wait(5);
    }
    g_main_context_pop_thread_default(context);
    fail_unless(in_time, "%s did not end within %u s", join(argv).c_str(), limit_s + 15);

    Run result;
    result.out = to_string(state.out);
    result.err = to_string(state.err);
    g_clear_pointer(&state.out, g_bytes_unref);
    g_clear_pointer(&state.err, g_bytes_unref);
    fail_unless(state.error == nullptr, "%s: %s", join(argv).c_str(),
                state.error ? state.error->message : "");
    g_clear_error(&state.error);
    if (g_subprocess_get_if_exited(process)) {
        result.exited = true;
        result.status = g_subprocess_get_exit_status(process);
    }
    return result;
}

/* ---- VLC ---- */

namespace {

/** The unprivileged user VLC runs as when the test is root. */
constexpr guint kNobody = 65534;

/** Remove @p path and everything below it. */
void remove_tree(const std::string &path) {
    if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR) &&
        !g_file_test(path.c_str(), G_FILE_TEST_IS_SYMLINK)) {
        if (GDir *dir = g_dir_open(path.c_str(), 0, nullptr)) {
            while (const char *name = g_dir_read_name(dir))
                remove_tree(path + "/" + name);
            g_dir_close(dir);
        }
    }
    g_remove(path.c_str());
}

} // namespace

VlcHome::VlcHome() {
    GError *error = nullptr;
    gchar *dir = g_dir_make_tmp("wmstream-vlc-XXXXXX", &error);
    fail_unless(dir != nullptr, "no temporary directory: %s", error ? error->message : "?");
    path_ = dir;
    g_free(dir);
    if (geteuid() == 0)
        fail_unless(chown(path_.c_str(), kNobody, kNobody) == 0, "cannot chown %s", path_.c_str());
}

VlcHome::~VlcHome() {
    remove_tree(path_);
}

std::vector<std::string> vlc_command(const std::vector<std::string> &args) {
    std::vector<std::string> argv;
    if (geteuid() == 0)
        argv = {"setpriv", "--reuid=" + std::to_string(kNobody),
                "--regid=" + std::to_string(kNobody), "--clear-groups"};
    argv.push_back("cvlc");
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::vector<const char *> vlc_programs() {
    std::vector<const char *> programs = {"cvlc", "timeout"};
    if (geteuid() == 0)
        programs.push_back("setpriv");
    return programs;
}

guint16 free_port() {
    g_autoptr(GSocket) socket =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
    fail_unless(socket && g_socket_bind(socket, any, TRUE, nullptr));
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(socket, nullptr);
    return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

double slowdown() {
    const char *multiplier = g_getenv("CK_TIMEOUT_MULTIPLIER");
    const double factor = multiplier ? g_ascii_strtod(multiplier, nullptr) : 1.0;
    return factor >= 1.0 ? factor : 1.0;
}

std::string describe(const std::vector<std::string> &argv, const Run &result) {
    return join(argv) + "\n  exit " +
           (result.exited ? std::to_string(result.status) : std::string("by signal")) +
           "\n  stdout: " + result.out.substr(0, 2000) +
           "\n  stderr: " + result.err.substr(0, 4000);
}

std::string run_clean(const std::vector<std::string> &argv, guint limit_s,
                      const std::vector<std::string> &tolerated) {
    const Run result = run(argv, limit_s);
    const std::string text = describe(argv, result);
    fail_unless(result.exited && result.status == 0, "%s", text.c_str());
    for (const std::string &line : lines(result.err)) {
        bool known = false;
        for (const std::string &prefix : tolerated)
            known = known || line.compare(0, prefix.size(), prefix) == 0;
        fail_unless(known, "%s", text.c_str());
    }
    return result.out;
}

guint decoded_frames(const std::string &url, guint seconds, guint limit_s) {
    const std::string out =
        run_clean({"ffmpeg", "-nostdin", "-v", "error", "-i", url, "-t", std::to_string(seconds),
                   "-f", "null", "-", "-progress", "pipe:1"},
                  limit_s);
    return guint(g_ascii_strtoull(last_value(out, "frame").c_str(), nullptr, 10));
}

Run vlc_view(const std::string &url, guint seconds, guint limit_s) {
    VlcHome home;
    return run(vlc_command({"-I", "dummy", "-vv", "--play-and-exit", "--vout=dummy", "--aout=dummy",
                            "--no-dbus", "--run-time=" + std::to_string(seconds), url}),
               limit_s, {home.env()});
}

void assert_vlc_decoded(const Run &result) {
    fail_unless(result.exited && result.status == 0, "VLC viewer: exit %d\n%s", result.status,
                result.err.c_str());
    const std::string log = result.out + result.err;
    for (const char *text :
         {"using access module \"access_mms\"", "main decoder debug: Received first picture"}) {
        if (log.find(text) == std::string::npos)
            g_printerr("VLC viewer's log:\n%s\n", log.c_str());
        fail_unless(log.find(text) != std::string::npos, "the VLC viewer never logged \"%s\"",
                    text);
    }
}

std::vector<std::string> lines(const std::string &text) {
    std::vector<std::string> found;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        found.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return found;
}

std::string last_value(const std::string &text, const std::string &key) {
    const std::string prefix = key + "=";
    std::string value;
    for (const std::string &line : lines(text))
        if (line.compare(0, prefix.size(), prefix) == 0)
            value = line.substr(prefix.size());
    return value;
}

std::vector<Fields> sections(const std::string &text, const std::string &name) {
    const std::string open = "[" + name + "]";
    const std::string close = "[/" + name + "]";
    std::vector<Fields> found;
    bool inside = false;
    for (const std::string &line : lines(text)) {
        const size_t equals = line.find('=');
        if (line == open) {
            found.emplace_back();
            inside = true;
        } else if (line == close) {
            inside = false;
        } else if (inside && equals != std::string::npos) {
            found.back()[line.substr(0, equals)] = line.substr(equals + 1);
        }
    }
    return found;
}

/* ---- requirements ---- */

std::string missing(const std::vector<const char *> &programs,
                    const std::vector<const char *> &elements) {
    std::string lacking;
    for (const char *program : programs) {
        g_autofree gchar *path = g_find_program_in_path(program);
        if (!path)
            lacking += std::string(lacking.empty() ? "" : ", ") + "program '" + program + "'";
    }
    for (const char *element : elements) {
        GstElementFactory *factory = gst_element_factory_find(element);
        if (!factory)
            lacking += std::string(lacking.empty() ? "" : ", ") + "element '" + element + "'";
        else
            gst_object_unref(factory);
    }
    return lacking;
}

int skip(const char *test, const std::string &what) {
    if (g_strcmp0(g_getenv("CI"), "true") == 0) {
        g_printerr("FAIL: %s: missing %s (under CI a missing peer is a failure: "
                   "tools/install-deps.sh --tests installs every one)\n",
                   test, what.c_str());
        return 1;
    }
    g_printerr("SKIP: %s: missing %s (tools/install-deps.sh --tests installs it)\n", test,
               what.c_str());
    return 77; /* meson's and automake's "skipped" */
}

int main_with_requirements(int argc, char **argv, const char *name, Suite *(*make_suite)(),
                           const std::vector<const char *> &programs,
                           const std::vector<const char *> &elements) {
    gst_check_init(&argc, &argv);
    const std::string lacking = missing(programs, elements);
    if (!lacking.empty())
        return skip(name, lacking);
    return gst_check_run_suite(make_suite(), name, __FILE__);
}

/* ---- running time ---- */

namespace {

GstPadProbeReturn rebase_probe(GstPad *, GstPadProbeInfo *info, gpointer data) {
    auto *segment = static_cast<GstSegment *>(data);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer *buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
        GST_PAD_PROBE_INFO_DATA(info) = buffer;
        if (GST_BUFFER_PTS_IS_VALID(buffer))
            GST_BUFFER_PTS(buffer) =
                gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
        if (GST_BUFFER_DTS_IS_VALID(buffer))
            GST_BUFFER_DTS(buffer) =
                gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_DTS(buffer));
        return GST_PAD_PROBE_OK;
    }
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_SEGMENT)
        return GST_PAD_PROBE_OK;
    /* Remember the encoder's segment; downstream sees running time from 0. */
    gst_event_copy_segment(event, segment);
    GstSegment running;
    gst_segment_init(&running, GST_FORMAT_TIME);
    GstEvent *replacement = gst_event_new_segment(&running);
    gst_event_set_seqnum(replacement, gst_event_get_seqnum(event));
    gst_event_unref(event);
    GST_PAD_PROBE_INFO_DATA(info) = replacement;
    return GST_PAD_PROBE_OK;
}

void free_segment(gpointer segment) {
    gst_segment_free(static_cast<GstSegment *>(segment));
}

} // namespace

void rebase_to_running_time(GstPad *pad) {
    GstSegment *segment = gst_segment_new();
    gst_segment_init(segment, GST_FORMAT_TIME);
    gst_pad_add_probe(pad,
                      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      rebase_probe, segment, free_segment);
}

/* ---- the pipeline ---- */

LivePipeline::LivePipeline(const char *description) {
    GError *error = nullptr;
    pipeline_ = gst_parse_launch(description, &error);
    fail_unless(pipeline_ != nullptr && error == nullptr, "cannot build '%s': %s", description,
                error ? error->message : "?");
    sink_ = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
    fail_unless(sink_ != nullptr, "no element named 'sink' in '%s'", description);
    bus_ = gst_element_get_bus(pipeline_);
    GstPad *pad = gst_element_get_static_pad(sink_, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, count_packet, this, nullptr);
    gst_object_unref(pad);
}

LivePipeline::~LivePipeline() {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(bus_);
    gst_object_unref(sink_);
    gst_object_unref(pipeline_);
}

GstPadProbeReturn LivePipeline::count_packet(GstPad *, GstPadProbeInfo *info, gpointer self) {
    auto *pipeline = static_cast<LivePipeline *>(self);
    if (!GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_HEADER) &&
        pipeline->packets_++ == 0)
        pipeline->first_packet_us_ = g_get_monotonic_time();
    return GST_PAD_PROBE_OK;
}

GstElement *LivePipeline::element(const char *name) const {
    GstElement *element = gst_bin_get_by_name(GST_BIN(pipeline_), name);
    fail_unless(element != nullptr, "no element named '%s'", name);
    gst_object_unref(element); /* the bin keeps it alive */
    return element;
}

void LivePipeline::rebase(const char *name) {
    GstPad *pad = gst_element_get_static_pad(element(name), "src");
    fail_unless(pad != nullptr);
    rebase_to_running_time(pad);
    gst_object_unref(pad);
}

void LivePipeline::set_state(GstState state) {
    const GstStateChangeReturn ret = gst_element_set_state(pipeline_, state);
    fail_if(ret == GST_STATE_CHANGE_FAILURE, "cannot go to %s", gst_element_state_get_name(state));
    fail_unless(port() != 0, "current-port is 0 after the state change");
}

void LivePipeline::wait_packets(guint count) {
    const gint64 end = g_get_monotonic_time() + kWaitUs;
    while (packets() < count && g_get_monotonic_time() < end) {
        assert_no_errors();
        g_usleep(20 * 1000);
    }
    fail_unless(packets() >= count, "only %u of %u packets reached the sink", packets(), count);
}

guint16 LivePipeline::port() const {
    gint port = 0;
    g_object_get(sink_, "current-port", &port, nullptr);
    return guint16(port);
}

std::string LivePipeline::url(const char *scheme) const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port()) + "/";
}

namespace {

/** "ERROR from sink: text (debug)" for an ERROR or WARNING message. */
std::string message_text(GstMessage *message) {
    GError *error = nullptr;
    gchar *debug = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
        gst_message_parse_error(message, &error, &debug);
    else
        gst_message_parse_warning(message, &error, &debug);
    const std::string text = std::string(GST_MESSAGE_TYPE_NAME(message)) + " from " +
                             GST_OBJECT_NAME(GST_MESSAGE_SRC(message)) + ": " + error->message +
                             " (" + (debug ? debug : "") + ")";
    g_error_free(error);
    g_free(debug);
    return text;
}

} // namespace

void LivePipeline::assert_no_errors() {
    while (GstMessage *message = gst_bus_pop_filtered(
               bus_, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
        const std::string text = message_text(message);
        gst_message_unref(message);
        fail("%s", text.c_str());
    }
}

std::vector<Fields> LivePipeline::element_messages(const char *name, size_t at_least) {
    std::vector<Fields> found;
    const gint64 end = g_get_monotonic_time() + kWaitUs;
    for (;;) {
        const gint64 left = found.size() < at_least ? end - g_get_monotonic_time() : 0;
        GstMessage *message = gst_bus_timed_pop_filtered(
            bus_, std::max<gint64>(left, 0) * GST_USECOND, GST_MESSAGE_ELEMENT);
        if (!message)
            break;
        const GstStructure *structure = gst_message_get_structure(message);
        if (gst_structure_has_name(structure, name)) {
            Fields fields;
            for (int i = 0; i < gst_structure_n_fields(structure); ++i) {
                const char *field = gst_structure_nth_field_name(structure, i);
                const GValue *value = gst_structure_get_value(structure, field);
                g_autofree gchar *text = G_VALUE_HOLDS_STRING(value) ? g_value_dup_string(value)
                                                                     : gst_value_serialize(value);
                fields[field] = text ? text : "";
            }
            found.push_back(std::move(fields));
        }
        gst_message_unref(message);
    }
    fail_unless(found.size() >= at_least, "only %zu of %zu '%s' messages", found.size(), at_least,
                name);
    return found;
}

void LivePipeline::wait_eos() {
    GstMessage *message = gst_bus_timed_pop_filtered(
        bus_, kWaitUs * GST_USECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    fail_unless(message != nullptr, "no EOS within %d s", int(kWaitUs / G_USEC_PER_SEC));
    const std::string text =
        GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR ? message_text(message) : "";
    gst_message_unref(message);
    fail_unless(text.empty(), "%s", text.c_str());
}

} // namespace interop
