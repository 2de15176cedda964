/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-wmpushsink
 * @title: wmpushsink
 * @short_description: push a live ASF stream to a Windows Media publishing point
 *
 * wmpushsink delivers the live ASF stream it receives (from
 * `asfmux streamable=true`) to a media server's publishing point with the
 * Windows Media HTTP Push Distribution Protocol (MS-WMHTTP), like the
 * Windows Media Format SDK's push sink (IWMWriterPushSink): a PushSetup
 * POST (application/x-wms-pushsetup, Template-URL, AutoDestroy), then a
 * PushStart POST whose body is the `$H` header packet followed by one `$D`
 * packet per ASF data packet as they are produced. The server must answer
 * as a Windows Media server (Server: Cougar/… or Rex/…).
 *
 * The sink connects in NULL→READY (IWMWriterPushSink::Connect) without
 * blocking the state change; a bad URL fails the state change with one
 * ERROR (plugin/lifecycle.h). EOS is EndSession: `$E` with reason 0 is sent,
 * the server's answer read, the connection closed, then EOS is posted. A
 * new stream header mid-stream is sent as `$E` reason 1 followed by `$C`.
 * The #GstWmPushSink::disconnect action drops the connection without `$E`
 * (IWMWriterPushSink::Disconnect): the server keeps the publishing point.
 *
 * When the connection is refused or lost, the sink posts a WARNING per
 * failed attempt and reconnects after a backoff (#GstWmPushSink:retry-delay
 * doubling up to #GstWmPushSink:max-retry-delay), asking for the same
 * session (push-id) first, then for a new one; it sends the header again
 * and resumes with the data it held (at most #GstWmPushSink:max-buffer-time
 * of stream, then from a key frame). Rendering never blocks. When
 * #GstWmPushSink:retries attempts in a row failed, or at once for an
 * unknown host, a refused authorization, a missing publishing point or a
 * plain web server, it posts an ERROR. Connection progress is posted as
 * GST_MESSAGE_PROGRESS ("connect" / "reconnect"); the element messages
 * `wmpushsink-connected`, `wmpushsink-dropped`, `wmpushsink-disconnected`
 * and `wmpushsink-ended` carry the push-id, the proxy and authentication
 * scheme in use, the bytes and packets sent, the packets dropped and the
 * reconnection count.
 *
 * The server is not trusted: its answer heads are read within 16 KiB and
 * 100 lines, garbage or oversized answers fail the attempt (WARNING, then
 * ERROR when the retries are spent), a server that stops reading makes the
 * write time out after #GstWmPushSink:timeout while at most
 * #GstWmPushSink:max-buffer-time of stream is held. Over https a
 * certificate that fails validation is an ERROR at once, whose details
 * carry the GTlsCertificateFlags found (`tls-errors`, `tls-errors-text`);
 * #GstWmPushSink:tls-validation-flags relaxes the checks deliberately.
 *
 * Redirects are followed within limits: one from https to plain http is an
 * ERROR, a `305 Use Proxy` is an ERROR unless
 * #GstWmPushSink:allow-use-proxy is set, and the credentials
 * (#GstWmPushSink:user-id, #GstWmPushSink:user-pw) are sent only to the
 * origin (scheme, host, port) of #GstWmPushSink:location, directly or
 * through the configured proxy: a 401 from anywhere a redirect led is an ERROR unless
 * #GstWmPushSink:allow-redirect-credentials is set. A Digest nonce the
 * server calls stale is renewed at most twice per attempt; a server that
 * keeps calling it stale fails the attempt, which is retried after the
 * backoff like any other. The durations are taken within 100 ms (the
 * retry delays) and 2^32 − 1 ms (every one).
 *
 * Authentication follows the server's 401 with the strongest scheme it
 * offers, as Windows Media Services expects (MS-WMHTTP §3.1.5.1):
 * Negotiate and NTLM through GSSAPI (MIT krb5 with the gss-ntlmssp
 * mechanism; Negotiate offers NTLM, not Kerberos), whose legs stay on one
 * connection, then Digest and Basic. A refused password is an ERROR
 * (RESOURCE NOT_AUTHORIZED). #GstWmPushSink:proxy sends every request
 * through an HTTP forward proxy; its 407 is answered with
 * #GstWmPushSink:proxy-id and #GstWmPushSink:proxy-pw (Basic or Digest),
 * and each PushStart then announces about 60 s of stream (the header's bit
 * rate, else the rate measured over the first second), after which a new
 * PushStart follows.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! avenc_wmv2 ! asfmux streamable=true ! \
 *     wmpushsink location=http://mediaserver:8080/live
 * ]| Pushes a test video to the publishing point "live"; Ctrl-C (with -e)
 * ends the session.
 * |[
 * gst-launch-1.0 -e audiotestsrc is-live=true ! avenc_wmav2 ! asfmux streamable=true ! \
 *     wmpushsink location=http://mediaserver/radio template-url=/template auto-destroy=true \
 *     user-id=encoder user-pw=secret retries=-1
 * ]| Creates the publishing point "radio" from "template", removes it when the
 * session ends, authenticates (Digest or Basic) and never gives up reconnecting.
 */
#include "gstwmpushsink.h"

#include "asf-input.h"
#include "errors.h"
#include "lifecycle.h"
#include "properties.h"
#include "push/client.h"
#include "uri-location.h"

#include <atomic>
#include <string>

GST_DEBUG_CATEGORY_STATIC(gst_wm_push_sink_debug);
#define GST_CAT_DEFAULT gst_wm_push_sink_debug

namespace push = wmstream::push;
using wmstream::plugin::Mutability;

/* The C++ side of the element: settings (the client's configuration, whose
 * defaults are the element's), the push client and the relay thread.
 * Implements ClientEvents: the callbacks run on the client's I/O thread and
 * only hand the event to the relay. */
struct GstWmPushSinkState final : public wmstream::plugin::Lifecycle<push::ClientConfig>,
                                  public push::ClientEvents {
    explicit GstWmPushSinkState(GstWmPushSink *sink)
        : Lifecycle(GST_ELEMENT(sink)), sink_(sink), client_(this) {}

    void connecting(const std::string &url, bool reconnect) override;
    void connected(const push::ClientStats &stats, bool reconnect) override;
    void attempt_failed(const push::Failure &failure, int64_t retry_in_us) override;
    void failed(const push::Failure &failure) override;
    void ended(const push::ClientStats &stats) override;

    bool open_core(const push::ClientConfig &config) override;
    void close_core() override;
    void closed() override;

    GstWmPushSink *sink_; /* C-style friend. */

    /* Set by the relay once the fatal ERROR is on the bus: render then
     * returns GST_FLOW_ERROR (never before, so that our ERROR comes first). */
    std::atomic<bool> error_posted_{false};
    /* Between unlock() and unlock_stop(). */
    std::atomic<bool> flushing_{false};

    /* Declared after the relay (in Lifecycle), which it reports into. */
    push::Client client_;
};

struct _GstWmPushSink {
    GstBaseSink parent;

    /* Used for C++ object with destructors. */
    GstWmPushSinkState *state;
};

enum {
    SIGNAL_DISCONNECT,
    N_SIGNALS,
};

static wmstream::plugin::PropertyTable<push::ClientConfig> properties;
/* The properties notified by the element itself. */
static GParamSpec *location_spec;
static GParamSpec *push_id_spec;
static guint signals[N_SIGNALS];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-ms-asf"));

static void gst_wm_push_sink_uri_handler_init(gpointer iface, gpointer data);

G_DEFINE_TYPE_WITH_CODE(GstWmPushSink, gst_wm_push_sink, GST_TYPE_BASE_SINK,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER,
                                              gst_wm_push_sink_uri_handler_init);
                        GST_DEBUG_CATEGORY_INIT(gst_wm_push_sink_debug, "wmpushsink", 0,
                                                "Windows Media push sink"))
GST_ELEMENT_REGISTER_DEFINE(wmpushsink, "wmpushsink", GST_RANK_NONE, GST_TYPE_WM_PUSH_SINK)

static constexpr guint64 to_ns(gint64 us) {
    return static_cast<guint64>(us) * GST_USECOND;
}

static void post_element_message(GstWmPushSink *self, GstStructure *structure) {
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_element(GST_OBJECT(self), structure));
}

static void post_progress(GstWmPushSink *self, GstProgressType type, bool reconnect,
                          const std::string &text) {
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_progress(GST_OBJECT(self), type,
                                                      reconnect ? "reconnect" : "connect",
                                                      text.c_str()));
}

/* Element message @name with the session counters of @stats. */
static GstStructure *stats_structure(const char *name, const push::ClientStats &stats) {
    return gst_structure_new(
        name, "url", G_TYPE_STRING, stats.url.c_str(), "push-id", G_TYPE_STRING,
        stats.push_id.c_str(), "proxy", G_TYPE_STRING, stats.proxy.c_str(), "auth-scheme",
        G_TYPE_STRING, stats.auth_scheme.c_str(), "bytes-sent", G_TYPE_UINT64,
        static_cast<guint64>(stats.bytes_sent), "packets-sent", G_TYPE_UINT64,
        static_cast<guint64>(stats.packets_sent), "packets-dropped", G_TYPE_UINT64,
        static_cast<guint64>(stats.packets_dropped), "reconnects", G_TYPE_UINT,
        static_cast<guint>(stats.reconnects), nullptr);
}

/* The details of a failure: where, the HTTP status, the GIO error, the certificate problems,
 * the attempt. */
static GstStructure *failure_context(const push::Failure &failure, int retries) {
    const std::string tls_text =
        failure.tls_errors ? push::describe_tls_errors(failure.tls_errors) : "";
    return gst_structure_new(
        "context", "url", G_TYPE_STRING, failure.url.c_str(), "host", G_TYPE_STRING,
        failure.host.c_str(), "port", G_TYPE_UINT, static_cast<guint>(failure.port), "http-status",
        G_TYPE_UINT, static_cast<guint>(failure.http_status), "io-domain", G_TYPE_STRING,
        failure.io_domain.c_str(), "io-code", G_TYPE_INT, failure.io_code, "tls-errors",
        G_TYPE_TLS_CERTIFICATE_FLAGS, failure.tls_errors, "tls-errors-text", G_TYPE_STRING,
        tls_text.c_str(), "attempt", G_TYPE_UINT, static_cast<guint>(failure.attempt), "retries",
        G_TYPE_INT, retries, nullptr);
}

/* Relay-thread side of the ClientEvents: progress, warnings, errors, messages. */

static void relay_connecting(GstWmPushSink *self, const std::string &url, bool reconnect) {
    GST_INFO_OBJECT(self, "%s to %s", reconnect ? "reconnecting" : "connecting", url.c_str());
    post_progress(self, GST_PROGRESS_TYPE_START, reconnect,
                  (reconnect ? "Reconnecting to " : "Connecting to ") + url);
}

static void relay_connected(GstWmPushSink *self, const push::ClientStats &stats, bool reconnect) {
    GST_INFO_OBJECT(self, "streaming to %s, push-id %s, %u reconnects", stats.url.c_str(),
                    stats.push_id.c_str(), stats.reconnects);
    post_progress(self, GST_PROGRESS_TYPE_COMPLETE, reconnect,
                  "Streaming to " + stats.url + " (push-id " + stats.push_id + ")");
    post_element_message(self, stats_structure("wmpushsink-connected", stats));
    g_object_notify_by_pspec(G_OBJECT(self), push_id_spec);
}

static void relay_attempt_failed(GstWmPushSink *self, const push::Failure &failure,
                                 int64_t retry_in_us, int retries) {
    GST_WARNING_OBJECT(self, "attempt %u failed: %s; next in %" G_GINT64_FORMAT " us",
                       failure.attempt, failure.error.message.c_str(), retry_in_us);
    post_progress(self, GST_PROGRESS_TYPE_ERROR, self->state->client_.stats().connections > 0,
                  "Attempt " + std::to_string(failure.attempt) + " failed");
    GstStructure *context = failure_context(failure, retries);
    gst_structure_set(context, "retry-in", G_TYPE_UINT64, to_ns(retry_in_us), nullptr);
    char delay[32];
    g_snprintf(delay, sizeof delay, "%.3g s", static_cast<double>(retry_in_us) / G_USEC_PER_SEC);
    WMSTREAM_POST_ERROR(self, GST_MESSAGE_WARNING, failure.error,
                        "Could not push to " + failure.url + "; trying again in " + delay +
                            " (failed attempt " + std::to_string(failure.attempt) +
                            (retries < 0 ? "" : " of " + std::to_string(retries + 1)) + ").",
                        context);
}

static void relay_failed(GstWmPushSink *self, const push::Failure &failure, int retries) {
    GST_ERROR_OBJECT(self, "giving up: %s", failure.error.message.c_str());
    post_progress(self, GST_PROGRESS_TYPE_ERROR, false, "Push to " + failure.url + " failed");
    std::string text;
    switch (failure.error.code) {
    case wmstream::Errc::InvalidName:
        text = failure.http_status ? "The publishing point " + failure.url + " does not exist."
                                   : "Unknown host in " + failure.url + ".";
        break;
    case wmstream::Errc::AccessDenied:
        text = "Not authorized to push to " + failure.url + ".";
        break;
    default:
        if (failure.tls_errors)
            text = "The certificate of " + failure.host + " was refused (" +
                   push::describe_tls_errors(failure.tls_errors) + ").";
        else if (failure.http_status >= 300 && failure.http_status < 400)
            text = "Refused to follow the redirect of " + failure.url + ".";
        else
            text = "Could not push to " + failure.url + ".";
        break;
    }
    WMSTREAM_POST_ERROR(self, GST_MESSAGE_ERROR, failure.error, text,
                        failure_context(failure, retries));
    self->state->error_posted_ = true;
}

static void relay_ended(GstWmPushSink *self, const push::ClientStats &stats) {
    GST_INFO_OBJECT(self, "session ended after %" G_GUINT64_FORMAT " bytes",
                    static_cast<guint64>(stats.bytes_sent));
    post_element_message(self, stats_structure("wmpushsink-ended", stats));
}

static int configured_retries(GstWmPushSinkState *state) {
    return state->settings_.read(
        [](const push::ClientConfig &config) { return config.retry.retries; });
}

void GstWmPushSinkState::connecting(const std::string &url, bool reconnect) {
    relay_.post([sink = sink_, url, reconnect] { relay_connecting(sink, url, reconnect); });
}

void GstWmPushSinkState::connected(const push::ClientStats &stats, bool reconnect) {
    relay_.post([sink = sink_, stats, reconnect] { relay_connected(sink, stats, reconnect); });
}

void GstWmPushSinkState::attempt_failed(const push::Failure &failure, int64_t retry_in_us) {
    relay_.post([sink = sink_, failure, retry_in_us, retries = configured_retries(this)] {
        relay_attempt_failed(sink, failure, retry_in_us, retries);
    });
}

void GstWmPushSinkState::failed(const push::Failure &failure) {
    relay_.post([sink = sink_, failure, retries = configured_retries(this)] {
        relay_failed(sink, failure, retries);
    });
}

void GstWmPushSinkState::ended(const push::ClientStats &stats) {
    relay_.post([sink = sink_, stats] { relay_ended(sink, stats); });
}

/* Action signals */

static void gst_wm_push_sink_disconnect(GstWmPushSink *self) {
    GST_INFO_OBJECT(self, "disconnecting (no $E: the publishing point stays)");
    self->state->client_.disconnect();
    post_progress(self, GST_PROGRESS_TYPE_CANCELED, false, "Disconnected");
    post_element_message(self,
                         stats_structure("wmpushsink-disconnected", self->state->client_.stats()));
}

/* Data */

/* Hands @buffer to the client as the stream header or as one data packet. */
static GstFlowReturn gst_wm_push_sink_feed(GstWmPushSink *self, GstBuffer *buffer, bool header) {
    GstWmPushSinkState *state = self->state;
    wmstream::plugin::BufferMapping mapping(buffer);
    if (!mapping.mapped()) {
        GST_ELEMENT_ERROR(self, RESOURCE, READ, (nullptr), ("cannot map buffer"));
        return GST_FLOW_ERROR;
    }
    size_t dropped = 0;
    wmstream::Status status;
    if (header) {
        status = state->client_.set_header(mapping.data(), mapping.size());
    } else {
        wmstream::Result<size_t> pushed =
            state->client_.push_packet(mapping.data(), mapping.size());
        if (pushed)
            dropped = *pushed;
        else
            status = pushed.error();
    }

    if (dropped > 0) {
        const push::ClientStats stats = state->client_.stats();
        GST_DEBUG_OBJECT(self, "%" G_GSIZE_FORMAT " packets dropped (%" G_GUINT64_FORMAT " total)",
                         dropped, static_cast<guint64>(stats.packets_dropped));
        GstStructure *message = stats_structure("wmpushsink-dropped", stats);
        gst_structure_set(message, "count", G_TYPE_UINT64, static_cast<guint64>(dropped), nullptr);
        post_element_message(self, message);
    }
    if (status)
        return GST_FLOW_OK;
    if (state->client_.failure()) {
        /* The relay posts the ERROR; fail the flow once it is on the bus. */
        return state->error_posted_ ? GST_FLOW_ERROR : GST_FLOW_OK;
    }
    wmstream::plugin::post_asf_input_error(GST_ELEMENT(self), status.error(), header,
                                           mapping.size());
    return GST_FLOW_ERROR;
}

static gboolean gst_wm_push_sink_set_caps(GstBaseSink *bsink, GstCaps *caps) {
    GstWmPushSink *self = GST_WM_PUSH_SINK(bsink);
    GstBuffer *header = nullptr;
    if (!wmstream::plugin::caps_stream_header(GST_ELEMENT(self), caps, &header))
        return FALSE;
    return !header || gst_wm_push_sink_feed(self, header, true) == GST_FLOW_OK;
}

static GstFlowReturn gst_wm_push_sink_render(GstBaseSink *bsink, GstBuffer *buffer) {
    GstWmPushSink *self = GST_WM_PUSH_SINK(bsink);
    return gst_wm_push_sink_feed(self, buffer,
                                 GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_HEADER));
}

/* EOS: IWMWriterPushSink::EndSession, then EOS is posted. */
static gboolean gst_wm_push_sink_event(GstBaseSink *bsink, GstEvent *event) {
    GstWmPushSink *self = GST_WM_PUSH_SINK(bsink);
    GstWmPushSinkState *state = self->state;
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
        const wmstream::Status status = state->client_.end_session();
        if (!status) {
            gst_event_unref(event);
            if (state->flushing_ || state->client_.failure())
                return FALSE; /* cancelled, or the ERROR is (being) posted */
            const push::ClientStats stats = state->client_.stats();
            WMSTREAM_POST_ERROR(
                self, GST_MESSAGE_ERROR, status.error(),
                "Could not end the session at " + stats.url + ".",
                gst_structure_new("context", "url", G_TYPE_STRING, stats.url.c_str(), nullptr));
            return FALSE;
        }
        GST_INFO_OBJECT(self, "session ended");
    }
    return GST_BASE_SINK_CLASS(gst_wm_push_sink_parent_class)->event(bsink, event);
}

static gboolean gst_wm_push_sink_unlock(GstBaseSink *bsink) {
    GstWmPushSinkState *state = GST_WM_PUSH_SINK(bsink)->state;
    state->flushing_ = true;
    state->client_.cancel();
    return TRUE;
}

static gboolean gst_wm_push_sink_unlock_stop(GstBaseSink *bsink) {
    GstWmPushSinkState *state = GST_WM_PUSH_SINK(bsink)->state;
    state->flushing_ = false;
    state->client_.uncancel();
    return TRUE;
}

/* States (plugin/lifecycle.h) */

/* NULL→READY: IWMWriterPushSink::Connect (asynchronous: PushSetup at once). */
bool GstWmPushSinkState::open_core(const push::ClientConfig &config) {
    error_posted_ = false;
    push::ClientConfig with_hook = config;
    with_hook.thread_hook = stream_status_.hook();
    const wmstream::Status status = client_.start(with_hook);
    if (!status) {
        const std::string location =
            config.session.location.empty() ? "(none)" : config.session.location;
        WMSTREAM_POST_ERROR(
            sink_, GST_MESSAGE_ERROR, status.error(),
            status.error().code == wmstream::Errc::InvalidName
                ? "Invalid push URL " + location + "."
                : "Invalid settings: " + status.error().message + ".",
            gst_structure_new("context", "url", G_TYPE_STRING, location.c_str(), nullptr));
        return false;
    }
    GST_INFO_OBJECT(sink_, "pushing to %s", config.session.location.c_str());
    return true;
}

/* READY→NULL: drop the connection (without $E unless EOS ended the session). */
void GstWmPushSinkState::close_core() {
    client_.stop();
}

void GstWmPushSinkState::closed() {
    GST_INFO_OBJECT(sink_, "stopped");
}

static GstStateChangeReturn gst_wm_push_sink_change_state(GstElement *element,
                                                          GstStateChange transition) {
    return wmstream::plugin::change_state(*GST_WM_PUSH_SINK(element)->state, element, transition,
                                          GST_ELEMENT_CLASS(gst_wm_push_sink_parent_class));
}

/* Properties */

static void gst_wm_push_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                          GParamSpec *pspec) {
    properties.set_property(GST_WM_PUSH_SINK(object)->state->settings_, object, prop_id, value,
                            pspec);
}

static void gst_wm_push_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                          GParamSpec *pspec) {
    properties.get_property(GST_WM_PUSH_SINK(object)->state->settings_, object, prop_id, value,
                            pspec);
}

/* GstURIHandler: wmpush+http:// and wmpush+https:// push URLs (plain http and https belong
 * to every HTTP sink), settable in NULL only. */

static GstURIType gst_wm_push_sink_uri_get_type(GType) {
    return GST_URI_SINK;
}

static const gchar *const *gst_wm_push_sink_uri_get_protocols(GType) {
    static const gchar *const protocols[] = {"wmpush+http", "wmpush+https", nullptr};
    return protocols;
}

static gchar *gst_wm_push_sink_uri_get_uri(GstURIHandler *handler) {
    const std::string location = GST_WM_PUSH_SINK(handler)->state->settings_.read(
        [](const push::ClientConfig &config) { return config.session.location; });
    if (location.empty())
        return nullptr;
    const bool prefixed = g_ascii_strncasecmp(location.c_str(), push::kUriSchemePrefix,
                                              strlen(push::kUriSchemePrefix)) == 0;
    return g_strconcat(prefixed ? "" : push::kUriSchemePrefix, location.c_str(), nullptr);
}

static gboolean gst_wm_push_sink_uri_set_uri(GstURIHandler *handler, const gchar *uri,
                                             GError **error) {
    const wmstream::Result<push::Url> url = push::parse_push_url(uri ? uri : "");
    return wmstream::plugin::set_uri_location(
        GST_WM_PUSH_SINK(handler)->state->settings_, G_OBJECT(handler), location_spec, uri,
        url ? wmstream::Status() : wmstream::Status(url.error()),
        [](push::ClientConfig & config) -> auto & { return config.session.location; }, error);
}

static void gst_wm_push_sink_uri_handler_init(gpointer iface, gpointer) {
    auto *handler = static_cast<GstURIHandlerInterface *>(iface);
    handler->get_type = gst_wm_push_sink_uri_get_type;
    handler->get_protocols = gst_wm_push_sink_uri_get_protocols;
    handler->get_uri = gst_wm_push_sink_uri_get_uri;
    handler->set_uri = gst_wm_push_sink_uri_set_uri;
}

/* GObject */

static void gst_wm_push_sink_init(GstWmPushSink *self) {
    self->state = new GstWmPushSinkState(self);
    gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
}

static void gst_wm_push_sink_finalize(GObject *object) {
    GstWmPushSink *self = GST_WM_PUSH_SINK(object);
    self->state->stream_status_.detach();
    delete self->state;
    G_OBJECT_CLASS(gst_wm_push_sink_parent_class)->finalize(object);
}

static const push::Client &client_of(GObject *object) {
    return GST_WM_PUSH_SINK(object)->state->client_;
}

/* A read-only counter of the client: @p field of its stats. */
template <typename Field>
static GParamSpec *add_counter(const char *name, const char *nick, const char *blurb,
                               Field push::ClientStats::*field) {
    return properties.add_live(
        g_param_spec_uint64(name, nick, blurb, 0, G_MAXUINT64, 0,
                            wmstream::plugin::param_flags(Mutability::ReadOnly)),
        [field](GObject *object, GValue *value) {
            g_value_set_uint64(value, client_of(object).stats().*field);
        });
}

/* Every property is read at NULL→READY and refused while open. */
static void add_properties() {
    constexpr Mutability fixed = Mutability::Fixed;
    auto &table = properties;

    location_spec = table.add_string(
        "location", "Location",
        "Push URL of the publishing point, http://server[:port]/pubpoint or https://… (or "
        "wmpush+http://…, wmpush+https://…, the URI handler's schemes). Read in NULL→READY",
        fixed, [](auto &c) -> auto & { return c.session.location; });
    table.add_string(
        "template-url", "Template URL",
        "Existing publishing point the server copies when the target does not "
        "exist yet: a path (/template) or a URL on the same server; NULL = none",
        fixed, [](auto &c) -> auto & { return c.session.template_url; });
    table.add_boolean(
        "auto-destroy", "Auto destroy",
        "Ask the server to remove the publishing point when the session ends "
        "(AutoDestroy)",
        fixed, [](auto &c) -> auto & { return c.session.auto_destroy; });
    table.add_string(
        "user-id", "User ID",
        "User name for the server's HTTP authentication: Negotiate or NTLM (\"DOMAIN\\user\" or "
        "\"user\"; GSSAPI with gss-ntlmssp), Digest or Basic, the strongest the server offers; "
        "NULL = none",
        fixed, [](auto &c) -> auto & { return c.session.credentials.user; });
    table.add_string(
        "user-pw", "User password", "Password of user-id; write-only and never logged", fixed,
        [](auto &c) -> auto & { return c.session.credentials.password; }, true);
    table.add_boolean(
        "allow-redirect-credentials", "Allow redirect credentials",
        "Send user-id and user-pw to wherever a redirect or a 305 proxy leads; else only to the "
        "scheme, host and port of location, directly or through the proxy property's proxy",
        fixed, [](auto &c) -> auto & { return c.session.allow_redirect_credentials; });
    table.add_boolean(
        "allow-use-proxy", "Allow Use Proxy",
        "Follow a 305 Use Proxy answer (the proxy the server names sees the whole stream); "
        "else it is an ERROR",
        fixed, [](auto &c) -> auto & { return c.session.allow_use_proxy; });
    table.add_string(
        "proxy", "Proxy",
        "HTTP forward proxy every connection goes through, http://host:port; PushStart then "
        "announces about 60 s of data per request (MS-WMHTTP §3.1.4.2.1). NULL = direct",
        fixed, [](auto &c) -> auto & { return c.session.proxy; });
    table.add_string(
        "proxy-id", "Proxy user ID",
        "User name answering the 407 of the proxy property's proxy (Basic or Digest), sent to "
        "that proxy only; NULL = none",
        fixed, [](auto &c) -> auto & { return c.session.proxy_credentials.user; });
    table.add_string(
        "proxy-pw", "Proxy password", "Password of proxy-id; write-only and never logged", fixed,
        [](auto &c) -> auto & { return c.session.proxy_credentials.password; }, true);
    table.add_string(
        "user-agent", "User agent",
        "User-Agent of the requests; Windows Media servers require "
        "WMEncoder/<9|10|11|12>.0 (MS-WMHTTP §2.2.1.8)",
        fixed, [](auto &c) -> auto & { return c.session.user_agent; });
    table.add_duration(
        "timeout", "Timeout",
        "Nanoseconds to wait for a connection, an answer or write progress "
        "before an attempt fails; also the longest EOS (EndSession) blocks; at most 2^32-1 ms",
        GST_MSECOND, G_MAXINT64, fixed, [](auto &c) -> auto & { return c.timeout_us; });
    table.add_number(
        "retries", "Retries",
        "Reconnection attempts in a row after a failure before an ERROR is posted; "
        "-1 = forever; the count restarts once data flows again",
        -1, G_MAXINT, fixed, [](auto &c) -> auto & { return c.retry.retries; });
    table.add_duration(
        "retry-delay", "Retry delay",
        "Nanoseconds before the first reconnection attempt; the delay doubles "
        "with each failed attempt up to max-retry-delay; at least 100 ms, at most 2^32-1 ms",
        0, G_MAXINT64, fixed, [](auto &c) -> auto & { return c.retry.initial_delay_us; });
    table.add_duration(
        "max-retry-delay", "Maximum retry delay",
        "Cap of the reconnection delay in nanoseconds; at least retry-delay, at most 2^32-1 ms", 0,
        G_MAXINT64, fixed, [](auto &c) -> auto & { return c.retry.max_delay_us; });
    table.add_duration(
        "max-buffer-time", "Maximum buffer time",
        "Stream time held while the server is away, in nanoseconds of ASF send "
        "time; older data is dropped (reported) and the stream resumes at a key "
        "frame; at most 2^32-1 ms",
        0, G_MAXINT64, fixed, [](auto &c) -> auto & { return c.max_buffer_time_us; });
    table.add_number(
        "content-length", "Content length",
        "Content-Length of each PushStart request (Length-Remaining), in bytes; "
        "when it is used up the sink sends $F filler and a new PushStart. Behind a proxy at "
        "most about 60 s of data. Raised to the protocol minimum of three data packets",
        1u, push::kMaxContentLength, fixed, [](auto &c) -> auto & { return c.content_length; });
    table.add_string(
        "ca-file", "CA file",
        "PEM file of the certificate authorities trusted for https; NULL = the "
        "system's",
        fixed, [](auto &c) -> auto & { return c.ca_file; });
    table.add_enum(
        "tls-validation-flags", "TLS validation flags",
        "Certificate problems that refuse an https server (as rtmp2sink): clear a flag only for "
        "a server you trust, e.g. unknown-ca for a self-signed certificate. GLib may report one "
        "problem of several, so clearing a flag can let others pass",
        G_TYPE_TLS_CERTIFICATE_FLAGS, fixed,
        [](auto &c) -> auto & { return c.tls_validation_flags; });
    push_id_spec = table.add_live(
        g_param_spec_string("push-id", "Push ID",
                            "The session identifier the server assigned (push-id cookie); NULL "
                            "before it did",
                            nullptr, wmstream::plugin::param_flags(Mutability::ReadOnly)),
        [](GObject *object, GValue *value) {
            const std::string push_id = client_of(object).stats().push_id;
            g_value_set_string(value,
                               push_id.empty() || push_id == "0" ? nullptr : push_id.c_str());
        });
    add_counter("bytes-sent", "Bytes sent",
                "Bytes written to the server since the sink started, request heads included",
                &push::ClientStats::bytes_sent);
    add_counter("packets-sent", "Packets sent",
                "ASF data packets written to the server since the sink started",
                &push::ClientStats::packets_sent);
    add_counter("packets-dropped", "Packets dropped",
                "ASF data packets dropped because the server was away longer than "
                "max-buffer-time, or after disconnect",
                &push::ClientStats::packets_dropped);
    table.add_live(g_param_spec_uint("reconnects", "Reconnects",
                                     "Times the stream was resumed on a new connection since the "
                                     "sink started",
                                     0, G_MAXUINT, 0,
                                     wmstream::plugin::param_flags(Mutability::ReadOnly)),
                   [](GObject *object, GValue *value) {
                       g_value_set_uint(value, client_of(object).stats().reconnects);
                   });
}

static void gst_wm_push_sink_class_init(GstWmPushSinkClass *klass) {
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSinkClass *base_sink_class = GST_BASE_SINK_CLASS(klass);

    object_class->set_property = gst_wm_push_sink_set_property;
    object_class->get_property = gst_wm_push_sink_get_property;
    object_class->finalize = gst_wm_push_sink_finalize;
    add_properties();
    properties.install(object_class);

    /**
     * GstWmPushSink::disconnect:
     * @sink: the sink
     *
     * Drop the connection without ending the session (no `$E`), as
     * IWMWriterPushSink::Disconnect: the server keeps the publishing point
     * and the session for a while. Nothing more is sent; later buffers are
     * dropped. A restart of the sink (NULL→READY) asks for the same session
     * first. Posts `wmpushsink-disconnected`.
     */
    signals[SIGNAL_DISCONNECT] = g_signal_new_class_handler(
        "disconnect", G_TYPE_FROM_CLASS(klass),
        static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
        G_CALLBACK(gst_wm_push_sink_disconnect), nullptr, nullptr, nullptr, G_TYPE_NONE, 0);

    gst_element_class_set_static_metadata(
        element_class, "Windows Media push sink", "Sink/Network",
        "Pushes a live ASF stream to a Windows Media publishing point (MS-WMHTTP) and reconnects "
        "when the server goes away",
        "wmstream authors");
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    element_class->change_state = gst_wm_push_sink_change_state;

    base_sink_class->set_caps = gst_wm_push_sink_set_caps;
    base_sink_class->render = gst_wm_push_sink_render;
    base_sink_class->event = gst_wm_push_sink_event;
    base_sink_class->unlock = gst_wm_push_sink_unlock;
    base_sink_class->unlock_stop = gst_wm_push_sink_unlock_stop;
}
