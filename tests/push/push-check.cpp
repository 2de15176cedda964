/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "push-check.h"

#include "asf-caps.h"

#include <gst/app/gstappsrc.h>

namespace pushtest {

Stream load_stream(const char *name) {
    g_autofree char *contents = nullptr;
    gsize len = 0;
    GError *error = nullptr;
    fail_unless(g_file_get_contents(data_path(name).c_str(), &contents, &len, &error), "%s: %s",
                name, error ? error->message : "?");
    const auto *bytes = reinterpret_cast<const uint8_t *>(contents);
    /* The streamable header ends with the 50-byte Data Object head; packets follow. */
    const size_t header_size = name == std::string("asfmux-wmv2.asf") ? 451 : 645;
    constexpr size_t kPacketSize = 4800;
    Stream stream;
    stream.header.assign(bytes, bytes + header_size);
    for (size_t offset = header_size; offset + kPacketSize <= len; offset += kPacketSize)
        stream.packets.emplace_back(bytes + offset, bytes + offset + kPacketSize);
    fail_unless(!stream.packets.empty());
    return stream;
}

/* ---- Recorder ---- */

Recorder::Recorder(GstBus *bus) : bus_(GST_BUS(gst_object_ref(bus))) {
    gst_bus_set_sync_handler(bus_, on_message, this, nullptr);
}

Recorder::~Recorder() {
    gst_bus_set_sync_handler(bus_, nullptr, nullptr, nullptr);
    gst_object_unref(bus_);
    for (GstMessage *message : messages_)
        gst_message_unref(message);
}

GstBusSyncReply Recorder::on_message(GstBus *, GstMessage *message, gpointer data) {
    auto *self = static_cast<Recorder *>(data);
    {
        /* GST_BUS_DROP hands the message to the handler: it is ours to keep. */
        std::lock_guard<std::mutex> locker(self->lock_);
        self->messages_.push_back(message);
    }
    self->changed_.notify_all();
    return GST_BUS_DROP;
}

GstMessage *Recorder::wait(const std::function<bool(GstMessage *)> &match, gint64 timeout_us) {
    std::unique_lock<std::mutex> locker(lock_);
    GstMessage *found = nullptr;
    changed_.wait_for(locker, std::chrono::microseconds(timeout_us), [&] {
        for (GstMessage *message : messages_) {
            if (match(message)) {
                found = message;
                return true;
            }
        }
        return false;
    });
    return found;
}

GstMessage *Recorder::wait_type(GstMessageType type, gint64 timeout_us) {
    return wait([type](GstMessage *m) { return GST_MESSAGE_TYPE(m) == type; }, timeout_us);
}

GstMessage *Recorder::wait_element(const char *name, gint64 timeout_us) {
    return wait(
        [name](GstMessage *m) {
            return GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && gst_message_has_name(m, name);
        },
        timeout_us);
}

std::vector<GstMessage *> Recorder::all(const std::function<bool(GstMessage *)> &match) const {
    std::lock_guard<std::mutex> locker(lock_);
    std::vector<GstMessage *> out;
    for (GstMessage *message : messages_) {
        if (match(message))
            out.push_back(message);
    }
    return out;
}

size_t Recorder::count(GstMessageType type) const {
    return all([type](GstMessage *m) { return GST_MESSAGE_TYPE(m) == type; }).size();
}

void Recorder::assert_clean() const {
    const auto problems = all([](GstMessage *m) {
        return GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR ||
               GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING;
    });
    for (GstMessage *message : problems)
        g_printerr("unexpected %s: %s\n", GST_MESSAGE_TYPE_NAME(message),
                   debug_text(message).c_str());
    fail_unless_equals_int(problems.size(), 0);
}

bool is_progress(GstMessage *message, GstProgressType type, const char *code) {
    if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_PROGRESS)
        return false;
    GstProgressType actual;
    g_autofree gchar *actual_code = nullptr;
    gst_message_parse_progress(message, &actual, &actual_code, nullptr);
    return actual == type && g_strcmp0(actual_code, code) == 0;
}

guint64 reported_drops(const Recorder &messages) {
    guint64 reported = 0;
    for (GstMessage *message : messages.all([](GstMessage *m) {
             return GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT &&
                    gst_message_has_name(m, "wmpushsink-dropped");
         })) {
        guint64 count = 0;
        fail_unless(gst_structure_get_uint64(gst_message_get_structure(message), "count", &count));
        reported += count;
    }
    return reported;
}

const GstStructure *assert_connection_failure(GstMessage *message) {
    return assert_error(message, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
                        "NS_E_CONNECTION_FAILURE", 0xC00D0029);
}

void assert_no_violations(const Snapshot &snapshot) {
    for (const std::string &violation : snapshot.violations)
        g_printerr("receiver violation: %s\n", violation.c_str());
    fail_unless_equals_int(snapshot.violations.size(), 0);
}

Snapshot assert_delivered(LivePipeline &pipeline, const Receiver &receiver) {
    pipeline.wait_eos();
    pipeline.messages().assert_clean();
    Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless_equals_int(snapshot.count('D'), pipeline.packets());
    return snapshot;
}

std::vector<Bytes> data_of(const Snapshot &snapshot) {
    std::vector<Bytes> out;
    for (const PacketRecord &packet : snapshot.packets) {
        if (packet.id == 'D')
            out.push_back(packet.payload);
    }
    return out;
}

std::vector<std::vector<Bytes>> runs_of(const Snapshot &snapshot) {
    std::vector<std::vector<Bytes>> runs;
    for (const PacketRecord &packet : snapshot.packets) {
        if (packet.id == 'H')
            runs.emplace_back();
        else if (packet.id == 'D' && !runs.empty())
            runs.back().push_back(packet.payload);
    }
    return runs;
}

/* ---- buffers and caps ---- */

static GstBuffer *buffer_of(const Bytes &bytes) {
    return gst_buffer_new_memdup(bytes.data(), bytes.size());
}

GstCaps *caps_with_header(const Bytes &header) {
    GstBuffer *buffer = buffer_of(header);
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_HEADER);
    GstCaps *caps = wmstream::plugin::asf_caps_with_header(buffer);
    gst_buffer_unref(buffer);
    return caps;
}

/* ---- a sink fed through a check src pad ---- */

GstPad *start_src_pad(GstElement *sink, const Bytes &header) {
    static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
        "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-ms-asf"));
    GstPad *src = gst_check_setup_src_pad(sink, &src_template);
    gst_pad_set_active(src, TRUE);
    fail_unless_equals_int(gst_element_set_state(sink, GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
    GstCaps *caps = gst_caps_new_empty_simple("video/x-ms-asf");
    gst_check_setup_events(src, sink, caps, GST_FORMAT_TIME);
    gst_caps_unref(caps);
    GstBuffer *buffer = buffer_of(header);
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_HEADER);
    fail_unless_equals_int(gst_pad_push(src, buffer), GST_FLOW_OK);
    return src;
}

void teardown_src_pad_sink(GstElement *sink, GstBus *bus) {
    gst_check_teardown_src_pad(sink);
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
    gst_check_teardown_element(sink);
}

/* ---- AppPipeline ---- */

AppPipeline::AppPipeline(const std::string &sink_properties) {
    const std::string description =
        "appsrc name=src format=time ! wmpushsink name=sink " + sink_properties;
    GError *error = nullptr;
    pipeline_ = gst_parse_launch(description.c_str(), &error);
    fail_unless(pipeline_ != nullptr && error == nullptr, "%s: %s", description.c_str(),
                error ? error->message : "");
    src_ = gst_bin_get_by_name(GST_BIN(pipeline_), "src");
    sink_ = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
    GstBus *bus = gst_element_get_bus(pipeline_);
    recorder_ = new Recorder(bus);
    gst_object_unref(bus);
}

AppPipeline::~AppPipeline() {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(src_);
    gst_object_unref(sink_);
    gst_object_unref(pipeline_);
    delete recorder_;
}

void AppPipeline::play(const Bytes &header) {
    GstCaps *caps = caps_with_header(header);
    gst_app_src_set_caps(GST_APP_SRC(src_), caps);
    gst_caps_unref(caps);
    fail_if(gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
}

void AppPipeline::stop() {
    fail_unless_equals_int(gst_element_set_state(pipeline_, GST_STATE_NULL),
                           GST_STATE_CHANGE_SUCCESS);
}

void AppPipeline::change_header(const Bytes &header) {
    GstCaps *caps = caps_with_header(header);
    gst_app_src_set_caps(GST_APP_SRC(src_), caps);
    gst_caps_unref(caps);
}

void AppPipeline::push(const Bytes &packet) {
    fail_unless_equals_int(gst_app_src_push_buffer(GST_APP_SRC(src_), buffer_of(packet)),
                           GST_FLOW_OK);
}

void AppPipeline::push_all(const Stream &stream, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        push(stream.packets[i]);
}

void AppPipeline::end_of_stream() {
    fail_unless_equals_int(gst_app_src_end_of_stream(GST_APP_SRC(src_)), GST_FLOW_OK);
}

/* ---- LivePipeline ---- */

std::string LivePipeline::video(guint frames, const std::string &sink_properties) {
    return "videotestsrc is-live=true num-buffers=" + std::to_string(frames) +
           " ! video/x-raw,width=160,height=120,framerate=25/1 ! avenc_wmv2 bitrate=400000 "
           "gop-size=5 ! asfmux streamable=true ! wmpushsink name=sink " +
           sink_properties;
}

LivePipeline::LivePipeline(const std::string &description) {
    GError *error = nullptr;
    pipeline_ = gst_parse_launch(description.c_str(), &error);
    fail_unless(pipeline_ != nullptr && error == nullptr, "%s: %s", description.c_str(),
                error ? error->message : "");
    sink_ = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
    GstPad *pad = gst_element_get_static_pad(sink_, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, count, this, nullptr);
    gst_object_unref(pad);
    GstBus *bus = gst_element_get_bus(pipeline_);
    recorder_ = new Recorder(bus);
    gst_object_unref(bus);
}

LivePipeline::~LivePipeline() {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(sink_);
    gst_object_unref(pipeline_);
    delete recorder_;
}

GstPadProbeReturn LivePipeline::count(GstPad *, GstPadProbeInfo *info, gpointer data) {
    auto *self = static_cast<LivePipeline *>(data);
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_HEADER)) {
        Bytes bytes(gst_buffer_get_size(buffer));
        gst_buffer_extract(buffer, 0, bytes.data(), bytes.size());
        std::lock_guard<std::mutex> locker(self->lock_);
        self->produced_.push_back(std::move(bytes));
    }
    return GST_PAD_PROBE_OK;
}

void LivePipeline::play() {
    fail_if(gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
}

void LivePipeline::end() {
    gst_element_send_event(pipeline_, gst_event_new_eos());
}

GstElement *LivePipeline::element(const char *name) const {
    GstElement *element = gst_bin_get_by_name(GST_BIN(pipeline_), name);
    fail_unless(element != nullptr, "no element %s", name);
    gst_object_unref(element); /* the pipeline keeps it */
    return element;
}

void LivePipeline::wait_eos() {
    GstMessage *end = recorder_->wait([](GstMessage *m) {
        return GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS || GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR;
    });
    fail_unless(end != nullptr, "no EOS within %d s", int(kWaitUs / G_USEC_PER_SEC));
    fail_unless(GST_MESSAGE_TYPE(end) == GST_MESSAGE_EOS, "ERROR: %s", debug_text(end).c_str());
}

guint LivePipeline::packets() const {
    std::lock_guard<std::mutex> locker(lock_);
    return static_cast<guint>(produced_.size());
}

std::vector<Bytes> LivePipeline::produced() const {
    std::lock_guard<std::mutex> locker(lock_);
    return produced_;
}

std::string location(const Receiver &receiver, const std::string &path) {
    return "location=" + receiver.url(path) + " ";
}

bool is_error(GstMessage *m) {
    return GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR;
}

bool is_warning(GstMessage *m) {
    return GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING;
}

guint64 get_u64(GstElement *sink, const char *property) {
    guint64 value = 0;
    g_object_get(sink, property, &value, nullptr);
    return value;
}

guint get_uint(GstElement *sink, const char *property) {
    guint value = 0;
    g_object_get(sink, property, &value, nullptr);
    return value;
}

Snapshot deliver(AppPipeline &pipeline, const Receiver &receiver, const Stream &stream) {
    pipeline.push_all(stream, 0, stream.packets.size());
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    pipeline.messages().assert_clean();
    Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless(data_of(snapshot) == stream.packets);
    return snapshot;
}

const GstStructure *assert_not_authorized(GstMessage *error, guint http_status) {
    const GstStructure *details = assert_error(
        error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "E_ACCESSDENIED", 0x80070005);
    guint status = 0;
    fail_unless(gst_structure_get_uint(details, "http-status", &status));
    fail_unless_equals_int(status, http_status);
    return details;
}

LogCapture::LogCapture() {
    gst_debug_set_active(TRUE);
    gst_debug_set_threshold_for_name("wmpushsink", GST_LEVEL_MEMDUMP);
    gst_debug_add_log_function(on_log, this, nullptr);
}

LogCapture::~LogCapture() {
    gst_debug_remove_log_function_by_data(this);
}

void LogCapture::on_log(GstDebugCategory *, GstDebugLevel, const gchar *, const gchar *, gint,
                        GObject *, GstDebugMessage *message, gpointer self) {
    auto *capture = static_cast<LogCapture *>(self);
    std::lock_guard<std::mutex> locker(capture->lock_);
    capture->text_ += gst_debug_message_get(message);
    capture->text_ += "\n";
}

void LogCapture::assert_not_logged(const std::string &secret) const {
    std::lock_guard<std::mutex> locker(lock_);
    fail_unless(text_.find("pushing to") != std::string::npos, "log capture did not work");
    fail_unless(text_.find(secret) == std::string::npos, "the secret was logged");
}

} // namespace pushtest
