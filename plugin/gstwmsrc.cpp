/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-wmsrc
 * @title: wmsrc
 * @short_description: receive a live ASF stream from a Windows Media server (MS-WMSP)
 *
 * wmsrc pulls a live stream over the Windows Media HTTP Streaming Protocol
 * (MS-WMSP), as Windows Media Player and distribution servers do: a
 * Describe request for the header, then a Play request on a new connection
 * (stream selection in `stream-switch-entry`). It outputs `video/x-ms-asf`
 * as `asfmux streamable=true` does: the ASF header in the caps'
 * `streamheader` and as a first buffer flagged HEADER, then one buffer per
 * ASF data packet, padded to the header's packet size, timestamped by its
 * send time. So `wmsrc ! wmnetsink` serves the stream again packet for
 * packet (an edge server, docs/distribution.md) and
 * `wmsrc ! asfdemux` plays it. A new header from the server (`$C`) gives
 * new caps and a new HEADER buffer; `$E` with reason 0 is EOS.
 *
 * Locations are `mmsh://host[:port]/path`, `http://…` (the same request),
 * and `mms://…`, which players roll over to MS-WMSP over HTTP (port 80 when
 * none is given). #GstWmSrc:user-agent says who asks: `NSPlayer/…` (a
 * player, the default) or `NSServer/9.0.0.3171` to pull as a distribution
 * server, which Windows Media servers and wmnetsink count as a relay.
 *
 * wmsrc is a live source: it reports the header's preroll (the stream's
 * buffer window) as its latency. When the server cannot be reached,
 * refuses for now (5xx), goes silent for #GstWmSrc:timeout or closes the
 * stream, it posts a WARNING and a progress message ("reconnect") and
 * connects again after #GstWmSrc:retry-delay, doubling up to
 * #GstWmSrc:max-retry-delay; the stream resumes at the next key frame. When
 * the server's new header describes the same streams (a restarted encoder
 * or origin writes a new File ID, nothing a decoder depends on), the caps
 * and header stay and the packets' send times and timestamps continue
 * across the gap (the first buffer after it is DISCONT): downstream, e.g. an
 * edge's wmnetsink and its viewers, sees one stream. Otherwise it resumes
 * with the new header (new caps and HEADER buffer, DISCONT). After
 * #GstWmSrc:retries failed attempts in a row, or at once for an unknown
 * host, a missing stream (404) or a refused authorization, it posts an
 * ERROR. Memory is bounded: one packet and one header at a time.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 wmsrc location=mmsh://encoder:8080/ ! asfdemux name=d d.video_0 ! \
 *     queue ! decodebin ! autovideosink
 * ]| Plays the video of a live Windows Media stream.
 * |[
 * gst-launch-1.0 wmsrc location=mmsh://origin:8080/ user-agent=NSServer/9.0.0.3171 ! \
 *     wmnetsink port=8090
 * ]| An edge server: pulls the origin's stream as a relay and serves it again.
 */
#include "gstwmsrc.h"

#include "asf-caps.h"
#include "errors.h"
#include "lifecycle.h"
#include "properties.h"
#include "pull/client.h"
#include "uri-location.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

GST_DEBUG_CATEGORY_STATIC(gst_wm_src_debug);
#define GST_CAT_DEFAULT gst_wm_src_debug

namespace pull = wmstream::pull;
using wmstream::plugin::Mutability;

/* The element's settings: the client's configuration (whose defaults are the element's) and
 * the stream selection as written. */
struct WmSrcSettings {
    pull::ClientConfig client;
    std::string streams;
};

/* The C++ side of the element: settings, the client (between NULL→READY and READY→NULL),
 * and the stream's timing. Implements ClientEvents: they run on the streaming thread. */
struct GstWmSrcState final : public wmstream::plugin::LifecycleSteps, public pull::ClientEvents {
    explicit GstWmSrcState(GstWmSrc *src) : src_(src) {}

    bool open() override;
    void close() override;

    void connecting(const std::string &url, bool reconnect) override;
    void connected(const std::string &url, bool reconnect) override;
    void attempt_failed(const pull::Failure &failure, int64_t retry_in_us) override;

    GstWmSrc *src_; /* C-style friend. */
    wmstream::plugin::PropertyStore<WmSrcSettings> settings_;
    int retries_ = 0; /* of the open client, for messages */

    /* The client: created in open(), deleted in close(). Used without the lock by the
     * streaming thread only (which close() follows); client_lock_ guards the pointer for
     * readers on other threads (stats, cancel). */
    std::mutex client_lock_;
    std::unique_ptr<pull::Client> client_;

    /* Streaming thread only. */
    bool reconnecting_ = false; /* the attempt under way follows a stream received */
    bool discont_ = true;       /* the next buffer follows a gap */
    GstClockTime anchor_running_ = GST_CLOCK_TIME_NONE; /* running time of anchor_send_ms_ */
    uint32_t anchor_send_ms_ = 0;
    /* The current header's preroll, for the LATENCY query (any thread). */
    std::atomic<guint64> preroll_ns_{0};
};

struct _GstWmSrc {
    GstPushSrc parent;

    /* Used for C++ object with destructors. */
    GstWmSrcState *state;
};

static wmstream::plugin::PropertyTable<WmSrcSettings> properties;
static GParamSpec *location_spec;

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-ms-asf"));

static void gst_wm_src_uri_handler_init(gpointer iface, gpointer data);

G_DEFINE_TYPE_WITH_CODE(GstWmSrc, gst_wm_src, GST_TYPE_PUSH_SRC,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER, gst_wm_src_uri_handler_init);
                        GST_DEBUG_CATEGORY_INIT(gst_wm_src_debug, "wmsrc", 0,
                                                "Windows Media (MS-WMSP) source"))
/* Secondary: uridecodebin (playbin) picks it for mmsh:// and mms://, which no other
 * element of GStreamer 1.22 handles. */
GST_ELEMENT_REGISTER_DEFINE(wmsrc, "wmsrc", GST_RANK_SECONDARY, GST_TYPE_WM_SRC)

static void post_progress(GstWmSrc *self, GstProgressType type, bool reconnect,
                          const std::string &text) {
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_progress(GST_OBJECT(self), type,
                                                      reconnect ? "reconnect" : "connect",
                                                      text.c_str()));
}

/* The details of a failure: where, the HTTP status, the attempt. */
static GstStructure *failure_context(const pull::Failure &failure, int retries) {
    return gst_structure_new("context", "url", G_TYPE_STRING, failure.url.c_str(), "http-status",
                             G_TYPE_UINT, failure.http_status, "attempt", G_TYPE_UINT,
                             failure.attempt, "retries", G_TYPE_INT, retries, nullptr);
}

/* Client events (streaming thread) */

void GstWmSrcState::connecting(const std::string &url, bool reconnect) {
    reconnecting_ = reconnect;
    GST_INFO_OBJECT(src_, "%s to %s", reconnect ? "reconnecting" : "connecting", url.c_str());
    post_progress(src_, GST_PROGRESS_TYPE_START, reconnect,
                  (reconnect ? "Reconnecting to " : "Connecting to ") + url);
}

void GstWmSrcState::connected(const std::string &url, bool reconnect) {
    GST_INFO_OBJECT(src_, "receiving from %s", url.c_str());
    post_progress(src_, GST_PROGRESS_TYPE_COMPLETE, reconnect, "Receiving from " + url);
}

void GstWmSrcState::attempt_failed(const pull::Failure &failure, int64_t retry_in_us) {
    GST_WARNING_OBJECT(src_, "attempt %u failed: %s; next in %" G_GINT64_FORMAT " us",
                       failure.attempt, failure.error.message.c_str(), retry_in_us);
    post_progress(src_, GST_PROGRESS_TYPE_ERROR, reconnecting_,
                  "Attempt " + std::to_string(failure.attempt) + " failed");
    GstStructure *context = failure_context(failure, retries_);
    gst_structure_set(context, "retry-in", G_TYPE_UINT64,
                      static_cast<guint64>(retry_in_us) * GST_USECOND, nullptr);
    char delay[32];
    g_snprintf(delay, sizeof delay, "%.3g s", static_cast<double>(retry_in_us) / G_USEC_PER_SEC);
    WMSTREAM_POST_ERROR(src_, GST_MESSAGE_WARNING, failure.error,
                        "Could not receive the stream from " + failure.url + "; trying again in " +
                            delay + " (failed attempt " + std::to_string(failure.attempt) +
                            (retries_ < 0 ? "" : " of " + std::to_string(retries_ + 1)) + ").",
                        context);
}

static void post_failure(GstWmSrc *self, const pull::Failure &failure, int retries) {
    GST_ERROR_OBJECT(self, "giving up: %s", failure.error.message.c_str());
    post_progress(self, GST_PROGRESS_TYPE_ERROR, self->state->reconnecting_,
                  "Receiving from " + failure.url + " failed");
    std::string text;
    switch (failure.error.code) {
    case wmstream::Errc::InvalidName:
        text = failure.http_status ? "The stream " + failure.url + " does not exist."
                                   : "Unknown host in " + failure.url + ".";
        break;
    case wmstream::Errc::AccessDenied:
        text = "Not authorized to receive " + failure.url + ".";
        break;
    case wmstream::Errc::InvalidArgument:
        text = "The stream " + failure.url + " has none of the streams asked for.";
        break;
    case wmstream::Errc::InvalidData:
        text = "The stream from " + failure.url + " is not a Windows Media stream.";
        break;
    default:
        text = "Could not receive the stream from " + failure.url + ".";
        break;
    }
    WMSTREAM_POST_ERROR(self, GST_MESSAGE_ERROR, failure.error, text,
                        failure_context(failure, retries));
}

/* Data */

static GstBuffer *buffer_from(std::vector<uint8_t> &&bytes) {
    auto *owned = new std::vector<uint8_t>(std::move(bytes));
    return gst_buffer_new_wrapped_full(
        GST_MEMORY_FLAG_READONLY, owned->data(), owned->size(), 0, owned->size(), owned,
        [](gpointer data) { delete static_cast<std::vector<uint8_t> *>(data); });
}

/* The running time of the clock now, or NONE without a clock. */
static GstClockTime running_time_now(GstWmSrc *self) {
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
    if (!clock)
        return GST_CLOCK_TIME_NONE;
    const GstClockTime now = gst_clock_get_time(clock);
    gst_object_unref(clock);
    const GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
    return now > base ? now - base : 0;
}

/* New caps with the header as streamheader; the header buffer goes out next. */
static GstFlowReturn output_header(GstWmSrc *self, pull::Event &event, GstBuffer **out) {
    GstWmSrcState *state = self->state;
    const pull::Client &client = *state->client_;
    GstBuffer *header = buffer_from(std::move(event.bytes));
    GST_BUFFER_FLAG_SET(header, GST_BUFFER_FLAG_HEADER);
    GST_BUFFER_FLAG_SET(header, GST_BUFFER_FLAG_DISCONT);
    GstCaps *caps = wmstream::plugin::asf_caps_with_header(header);
    const bool set = gst_base_src_set_caps(GST_BASE_SRC(self), caps);
    gst_caps_unref(caps);
    if (!set) {
        gst_buffer_unref(header);
        return GST_FLOW_NOT_NEGOTIATED;
    }
    const pull::ClientStats stats = client.stats();
    GST_INFO_OBJECT(self, "header of %" G_GSIZE_FORMAT " bytes (reconnects: %u)",
                    gst_buffer_get_size(header), stats.reconnects);
    state->discont_ = true;
    state->anchor_running_ = GST_CLOCK_TIME_NONE;
    /* The latency changes with the preroll of a new header. */
    const guint64 preroll = client.header() ? client.header()->preroll_ms * GST_MSECOND : 0;
    if (state->preroll_ns_.exchange(preroll) != preroll)
        gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
    *out = header;
    return GST_FLOW_OK;
}

/* A data packet timestamped by its send time, anchored at the running time the first packet
 * after a header arrived (send times continue across a seamless reconnection, and so do the
 * timestamps). */
static GstBuffer *data_buffer(GstWmSrc *self, pull::Event &event) {
    GstWmSrcState *state = self->state;
    const uint32_t send_ms = event.send_time_ms;
    if (!GST_CLOCK_TIME_IS_VALID(state->anchor_running_) || send_ms < state->anchor_send_ms_) {
        state->anchor_running_ = running_time_now(self);
        state->anchor_send_ms_ = send_ms;
    }
    GstBuffer *buffer = buffer_from(std::move(event.bytes));
    if (GST_CLOCK_TIME_IS_VALID(state->anchor_running_)) {
        GST_BUFFER_PTS(buffer) = GST_BUFFER_DTS(buffer) =
            state->anchor_running_ + (send_ms - state->anchor_send_ms_) * GST_MSECOND;
    }
    if (!event.key_frame)
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    if (state->discont_ || event.discont)
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    state->discont_ = false;
    return buffer;
}

static GstFlowReturn gst_wm_src_create(GstPushSrc *psrc, GstBuffer **out) {
    GstWmSrc *self = GST_WM_SRC(psrc);
    GstWmSrcState *state = self->state;
    pull::Client &client = *state->client_;
    wmstream::Result<pull::Event> event = client.next();
    if (!event) {
        /* A cancellation we asked for (unlock) is no error. */
        if (client.cancelled())
            return GST_FLOW_FLUSHING;
        post_failure(self, client.failure().value_or(pull::Failure{event.error(), "", 0, 0}),
                     state->retries_);
        return GST_FLOW_ERROR;
    }
    switch (event->kind) {
    case pull::Event::Kind::Header:
        return output_header(self, *event, out);
    case pull::Event::Kind::Data:
        *out = data_buffer(self, *event);
        return GST_FLOW_OK;
    default:
        GST_INFO_OBJECT(self, "the server ended the stream");
        return GST_FLOW_EOS;
    }
}

static gboolean gst_wm_src_query(GstBaseSrc *bsrc, GstQuery *query) {
    GstWmSrc *self = GST_WM_SRC(bsrc);
    if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
        /* The header's preroll: how much stream players buffer before they start (the
         * encoder's buffer window). */
        const GstClockTime latency = self->state->preroll_ns_;
        GST_DEBUG_OBJECT(self, "latency %" GST_TIME_FORMAT, GST_TIME_ARGS(latency));
        gst_query_set_latency(query, TRUE, latency, GST_CLOCK_TIME_NONE);
        return TRUE;
    }
    return GST_BASE_SRC_CLASS(gst_wm_src_parent_class)->query(bsrc, query);
}

static gboolean gst_wm_src_unlock(GstBaseSrc *bsrc) {
    GstWmSrcState *state = GST_WM_SRC(bsrc)->state;
    std::lock_guard<std::mutex> locker(state->client_lock_);
    if (state->client_)
        state->client_->cancel();
    return TRUE;
}

static gboolean gst_wm_src_unlock_stop(GstBaseSrc *bsrc) {
    GstWmSrcState *state = GST_WM_SRC(bsrc)->state;
    std::lock_guard<std::mutex> locker(state->client_lock_);
    if (state->client_)
        state->client_->uncancel();
    return TRUE;
}

/* PAUSED→READY: the connection goes; the next start connects again. */
static gboolean gst_wm_src_stop(GstBaseSrc *bsrc) {
    GstWmSrcState *state = GST_WM_SRC(bsrc)->state;
    if (state->client_)
        state->client_->close();
    state->discont_ = true;
    state->anchor_running_ = GST_CLOCK_TIME_NONE;
    return TRUE;
}

/* States (plugin/lifecycle.h) */

/* NULL→READY: check the settings and make the client (nothing is connected yet). */
bool GstWmSrcState::open() {
    WmSrcSettings settings = settings_.open();
    const std::string location =
        settings.client.session.location.empty() ? "(none)" : settings.client.session.location;
    wmstream::Result<std::vector<uint8_t>> streams = pull::parse_stream_numbers(settings.streams);
    wmstream::Result<std::unique_ptr<pull::Client>> client =
        streams ? (settings.client.session.streams = *streams,
                   pull::Client::create(settings.client, *this))
                : wmstream::Result<std::unique_ptr<pull::Client>>(streams.error());
    if (!client) {
        WMSTREAM_POST_ERROR(
            src_, GST_MESSAGE_ERROR, client.error(),
            client.error().code == wmstream::Errc::InvalidName
                ? "Invalid location " + location + "."
                : "Invalid settings: " + client.error().message + ".",
            gst_structure_new("context", "url", G_TYPE_STRING, location.c_str(), nullptr));
        settings_.close();
        return false;
    }
    retries_ = settings.client.retry.retries;
    std::lock_guard<std::mutex> locker(client_lock_);
    client_ = std::move(*client);
    return true;
}

/* READY→NULL */
void GstWmSrcState::close() {
    std::unique_ptr<pull::Client> closing;
    {
        std::lock_guard<std::mutex> locker(client_lock_);
        closing = std::move(client_);
    }
    closing.reset();
    settings_.close();
}

static GstStateChangeReturn gst_wm_src_change_state(GstElement *element,
                                                    GstStateChange transition) {
    return wmstream::plugin::change_state(*GST_WM_SRC(element)->state, element, transition,
                                          GST_ELEMENT_CLASS(gst_wm_src_parent_class));
}

/* Properties */

static void gst_wm_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                    GParamSpec *pspec) {
    properties.set_property(GST_WM_SRC(object)->state->settings_, object, prop_id, value, pspec);
}

static void gst_wm_src_get_property(GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec) {
    properties.get_property(GST_WM_SRC(object)->state->settings_, object, prop_id, value, pspec);
}

/* GstURIHandler: mmsh:// and mms:// (rolled over to MS-WMSP over HTTP), settable in NULL
 * only. */

static GstURIType gst_wm_src_uri_get_type(GType) {
    return GST_URI_SRC;
}

static const gchar *const *gst_wm_src_uri_get_protocols(GType) {
    static const gchar *const protocols[] = {"mmsh", "mms", nullptr};
    return protocols;
}

static gchar *gst_wm_src_uri_get_uri(GstURIHandler *handler) {
    const std::string location = GST_WM_SRC(handler)->state->settings_.read(
        [](const WmSrcSettings &settings) { return settings.client.session.location; });
    return location.empty() ? nullptr : g_strdup(location.c_str());
}

static gboolean gst_wm_src_uri_set_uri(GstURIHandler *handler, const gchar *uri, GError **error) {
    const wmstream::Result<wmstream::proto::http::Url> url = pull::parse_location(uri ? uri : "");
    return wmstream::plugin::set_uri_location(
        GST_WM_SRC(handler)->state->settings_, G_OBJECT(handler), location_spec, uri,
        url ? wmstream::Status() : wmstream::Status(url.error()),
        [](WmSrcSettings & settings) -> auto & { return settings.client.session.location; }, error);
}

static void gst_wm_src_uri_handler_init(gpointer iface, gpointer) {
    auto *handler = static_cast<GstURIHandlerInterface *>(iface);
    handler->get_type = gst_wm_src_uri_get_type;
    handler->get_protocols = gst_wm_src_uri_get_protocols;
    handler->get_uri = gst_wm_src_uri_get_uri;
    handler->set_uri = gst_wm_src_uri_set_uri;
}

/* GObject */

static void gst_wm_src_init(GstWmSrc *self) {
    self->state = new GstWmSrcState(self);
    gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
    gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}

static void gst_wm_src_finalize(GObject *object) {
    delete GST_WM_SRC(object)->state;
    G_OBJECT_CLASS(gst_wm_src_parent_class)->finalize(object);
}

/* A read-only counter of the client: @p field of its stats, 0 while closed. */
template <typename Field>
static void add_counter(const char *name, const char *nick, const char *blurb,
                        Field pull::ClientStats::*field) {
    properties.add_live(g_param_spec_uint64(name, nick, blurb, 0, G_MAXUINT64, 0,
                                            wmstream::plugin::param_flags(Mutability::ReadOnly)),
                        [field](GObject *object, GValue *value) {
                            GstWmSrcState *state = GST_WM_SRC(object)->state;
                            std::lock_guard<std::mutex> locker(state->client_lock_);
                            g_value_set_uint64(value,
                                               state->client_ ? state->client_->stats().*field : 0);
                        });
}

/* Every property is read at NULL→READY and refused while open. */
static void add_properties() {
    constexpr Mutability fixed = Mutability::Fixed;
    auto &table = properties;

    location_spec = table.add_string(
        "location", "Location",
        "URL of the stream: mmsh://host[:port]/path, http://… (the same), or mms://… (rolled "
        "over to MS-WMSP over HTTP, port 80 by default). Read in NULL->READY",
        fixed, [](auto &s) -> auto & { return s.client.session.location; });
    table.add_string(
        "user-agent", "User agent",
        "User-Agent of the requests: NSPlayer/… pulls as a player; NSServer/9.0.0.3171 pulls as "
        "a distribution server (servers count it as a relay)",
        fixed, [](auto &s) -> auto & { return s.client.session.user_agent; });
    table.add_string(
        "streams", "Streams",
        "Stream numbers of the ASF header to receive, comma-separated (e.g. \"1,2\"); NULL or "
        "\"all\" = every stream",
        fixed, [](auto &s) -> auto & { return s.streams; });
    table.add_number(
        "max-redirects", "Maximum redirects",
        "HTTP redirects followed per connection attempt before it fails", 0, 100, fixed,
        [](auto &s) -> auto & { return s.client.session.max_redirects; });
    table.add_duration(
        "timeout", "Timeout",
        "Nanoseconds to wait for a connection, an answer or the next bytes of the stream before "
        "the attempt fails (then a reconnection); taken in whole seconds, at least 1 s, at most "
        "2^32-1 ms",
        GST_SECOND, G_MAXINT64, fixed, [](auto &s) -> auto & { return s.client.timeout_us; });
    table.add_number(
        "retries", "Retries",
        "Reconnection attempts in a row after a failure before an ERROR is posted; "
        "-1 = forever; the count restarts once data flows again",
        -1, G_MAXINT, fixed, [](auto &s) -> auto & { return s.client.retry.retries; });
    table.add_duration(
        "retry-delay", "Retry delay",
        "Nanoseconds before the first reconnection attempt; the delay doubles "
        "with each failed attempt up to max-retry-delay; at least 100 ms, at most 2^32-1 ms",
        0, G_MAXINT64, fixed, [](auto &s) -> auto & { return s.client.retry.initial_delay_us; });
    table.add_duration(
        "max-retry-delay", "Maximum retry delay",
        "Cap of the reconnection delay in nanoseconds; at least retry-delay, at most 2^32-1 ms", 0,
        G_MAXINT64, fixed, [](auto &s) -> auto & { return s.client.retry.max_delay_us; });
    add_counter("bytes-received", "Bytes received",
                "Bytes read from the server since the source started, answer heads included",
                &pull::ClientStats::bytes_received);
    add_counter("packets-received", "Packets received",
                "ASF data packets output since the source started",
                &pull::ClientStats::packets_received);
    add_counter("packets-skipped", "Packets skipped",
                "ASF data packets skipped since the source started because a stream (or a "
                "reconnection) starts at a key frame",
                &pull::ClientStats::packets_skipped);
    table.add_live(
        g_param_spec_uint("reconnects", "Reconnects",
                          "Times the stream was resumed on a new connection since the "
                          "source started",
                          0, G_MAXUINT, 0, wmstream::plugin::param_flags(Mutability::ReadOnly)),
        [](GObject *object, GValue *value) {
            GstWmSrcState *state = GST_WM_SRC(object)->state;
            std::lock_guard<std::mutex> locker(state->client_lock_);
            g_value_set_uint(value, state->client_ ? state->client_->stats().reconnects : 0);
        });
    table.add_live(
        g_param_spec_uint("seamless-reconnects", "Seamless reconnects",
                          "Of the reconnects, those whose new header had the same streams: the "
                          "caps and header stayed and the times went on",
                          0, G_MAXUINT, 0, wmstream::plugin::param_flags(Mutability::ReadOnly)),
        [](GObject *object, GValue *value) {
            GstWmSrcState *state = GST_WM_SRC(object)->state;
            std::lock_guard<std::mutex> locker(state->client_lock_);
            g_value_set_uint(value,
                             state->client_ ? state->client_->stats().seamless_reconnects : 0);
        });
}

static void gst_wm_src_class_init(GstWmSrcClass *klass) {
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSrcClass *base_src_class = GST_BASE_SRC_CLASS(klass);
    GstPushSrcClass *push_src_class = GST_PUSH_SRC_CLASS(klass);

    object_class->set_property = gst_wm_src_set_property;
    object_class->get_property = gst_wm_src_get_property;
    object_class->finalize = gst_wm_src_finalize;
    add_properties();
    properties.install(object_class);

    gst_element_class_set_static_metadata(
        element_class, "Windows Media source", "Source/Network",
        "Receives a live ASF stream from a Windows Media server or encoder (MS-WMSP, mmsh://) "
        "and reconnects when the server goes away",
        "wmstream authors");
    gst_element_class_add_static_pad_template(element_class, &src_template);
    element_class->change_state = gst_wm_src_change_state;

    base_src_class->query = gst_wm_src_query;
    base_src_class->unlock = gst_wm_src_unlock;
    base_src_class->unlock_stop = gst_wm_src_unlock_stop;
    base_src_class->stop = gst_wm_src_stop;
    push_src_class->create = gst_wm_src_create;
}
