/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-wmnetsink
 * @title: wmnetsink
 * @short_description: serve a live ASF stream Windows Media style
 *
 * wmnetsink is an HTTP server that serves the live ASF stream it receives
 * (from `asfmux streamable=true`) to many clients at once, like the Windows
 * Media Format SDK's network sink (IWMWriterNetworkSink). Windows Media
 * clients (User-Agent NSPlayer/, NSServer/, WMCacheProxy/: Windows Media
 * Player, `ffplay mmsh://`, `vlc mmsh://`) get MS-WMSP framing (`$H`, `$D`…,
 * `$E`, application/x-mms-framed); every other HTTP client gets raw ASF
 * (video/x-ms-asf). Each client starts with the stream header, then whole
 * data packets from a key frame on.
 *
 * The port is bound in NULL→READY (a failure fails the state change; with
 * port=0 a free port is picked and reported by #GstWmNetSink:current-port and
 * the `wmnetsink-open` element message), clients are served from READY→PAUSED
 * on (those that come before the stream header wait for it), PAUSED→READY
 * disconnects them and READY→NULL releases the port. Client arrivals and
 * departures are reported by the #GstWmNetSink::client-added and
 * #GstWmNetSink::client-removed signals and by element messages, all emitted
 * from a thread of the element's own, in the order they happened:
 *
 * * `wmnetsink-open`: port (guint), host-url (string), address (string, ""
 *   for all interfaces) — the port is bound.
 * * `wmnetsink-client-added`: id (guint64), address (string), port (guint),
 *   user-agent (string), protocol (string, "wmsp" or "http").
 * * `wmnetsink-client-removed`: id, address, port, reason (string, a
 *   #GstWmNetSinkRemoveReason nick), bytes-sent (guint64), user-agent,
 *   start-lag (gint64, ns behind live its stream began; -1 if it never did).
 * * `wmnetsink-client-resolved`: id, address, dns-name (string).
 * * `wmnetsink-port-open`: backend (string: "firewalld", "upnp", "nat-pmp"),
 *   action ("open", "renew", "close"), result ("opened", "already-open",
 *   "closed", "kept", "unavailable", "conflict", "failed"), port (guint),
 *   protocol ("tcp"), zone (firewalld) or gateway, external-address,
 *   external-port and lease (gateways), and for a failure error-message,
 *   error-name, error-code — see open-firewall and port-mapping.
 *
 * With #GstWmNetSink:open-firewall the bound port is opened in the host
 * firewall (a firewalld runtime rule, the counterpart of
 * INetFwV6Connection::OpenPort) and with #GstWmNetSink:port-mapping mapped on
 * the NAT gateway (UPnP IGD or NAT-PMP), both after the bind and without
 * delaying the state change; READY→NULL removes only what the element added.
 * A failure (conflict, refusal) is a WARNING, never an ERROR: the stream is
 * still served on the local network. A polkit or uid refusal carries the
 * condition E_ACCESSDENIED, a refused mapping NS_E_NETWORK_RESOURCE_FAILURE.
 * See docs/wmnetsink.md, "Port reachability".
 *
 * Errors and warnings carry a details structure with "condition" (the
 * Windows Media condition, e.g. "NS_E_NETWORK_RESOURCE_FAILURE") and
 * "hresult" (guint, e.g. 0xC00D0028): port in use is RESOURCE/BUSY, a bind
 * address that is not local RESOURCE/SETTINGS (E_INVALIDARG), data that is
 * not ASF STREAM/FORMAT (NS_E_INVALID_DATA; the clients get `$E`, the port
 * stays open). Changing port, address, max-clients or backlog while open is
 * refused with a RESOURCE/SETTINGS warning (NS_E_INVALID_REQUEST).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! avenc_wmv2 ! asfmux streamable=true ! \
 *     wmnetsink port=8080
 * ]| Serves a test video on port 8080 of every interface. Play it with
 * `ffplay mmsh://HOST:8080/`, `vlc mmsh://HOST:8080/` or, as raw ASF over
 * plain HTTP, `ffplay http://HOST:8080/`.
 * |[
 * gst-launch-1.0 -v audiotestsrc is-live=true ! avenc_wmav2 ! asfmux streamable=true ! \
 *     wmnetsink port=0 address=127.0.0.1 max-clients=2
 * ]| Serves a test tone on a free port of the loopback interface (`-v` prints
 * current-port) to at most two clients at once; a third gets 503.
 *
 * The video encoders of gst-libav stamp their output from 1000 hours on,
 * which asfmux copies; this is why #GstBaseSink:sync defaults to %FALSE here.
 */
#include "gstwmnetsink.h"

#include "asf-input.h"
#include "base/text.h"
#include "broadcast/broadcast.h"
#include "errors.h"
#include "lifecycle.h"
#include "netsink-messages.h"
#include "properties.h"
#include "server/thread-priority.h"

#include <gio/gio.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_wm_net_sink_debug);
#define GST_CAT_DEFAULT gst_wm_net_sink_debug

static GType gst_wm_net_sink_port_mapping_get_type(void);
#define GST_TYPE_WM_NET_SINK_PORT_MAPPING (gst_wm_net_sink_port_mapping_get_type())

namespace {

namespace broadcast = wmstream::broadcast;
namespace messages = wmstream::plugin::netsink;
namespace server = wmstream::server;
namespace reach = wmstream::reach;
using wmstream::printable;
using wmstream::plugin::Mutability;

/* The element's properties. The core's BroadcastConfig holds the listener,
 * the client policy and port reachability with their documented defaults. */
struct Settings {
    broadcast::BroadcastConfig broadcast;
    GstWmNetSinkProtocol protocol = GST_WM_NET_SINK_PROTOCOL_HTTP;
    /* The lag limits in GStreamer units (ns, bytes or buffers); turned into
     * the server's lag_* fields by broadcast_config(). */
    GstFormat unit_format = GST_FORMAT_TIME;
    gint64 units_max = 30 * GST_SECOND;
    gint64 units_soft_max = 5 * GST_SECOND;
    GstWmNetSinkRecoverPolicy recover_policy = GST_WM_NET_SINK_RECOVER_POLICY_KEYFRAME;
    /* Access control, as set (lists split by broadcast_config()). */
    std::string allow;
    std::string deny;
    /* Overflow redirect targets, as set (split by broadcast_config()). */
    std::string edges;
};

/* "10.0.0.0/8, 192.168.1.0/24" → its items (commas and/or white space separate them). */
std::vector<std::string> split_list(const std::string &list) {
    std::vector<std::string> ranges;
    g_auto(GStrv) parts = g_strsplit_set(list.c_str(), ", \t\n", -1);
    for (char **part = parts; *part; ++part)
        if (**part)
            ranges.emplace_back(*part);
    return ranges;
}

server::RecoverPolicy to_core(GstWmNetSinkRecoverPolicy policy) {
    switch (policy) {
    case GST_WM_NET_SINK_RECOVER_POLICY_NONE:
        return server::RecoverPolicy::None;
    case GST_WM_NET_SINK_RECOVER_POLICY_LATEST:
        return server::RecoverPolicy::Latest;
    case GST_WM_NET_SINK_RECOVER_POLICY_SOFT_LIMIT:
        return server::RecoverPolicy::SoftLimit;
    case GST_WM_NET_SINK_RECOVER_POLICY_THIN:
        return server::RecoverPolicy::Thin;
    case GST_WM_NET_SINK_RECOVER_POLICY_KEYFRAME:
        break;
    }
    return server::RecoverPolicy::KeyFrame;
}

/* The core's configuration for @settings. */
broadcast::BroadcastConfig broadcast_config(const Settings &settings) {
    broadcast::BroadcastConfig config = settings.broadcast;
    const bool time = settings.unit_format == GST_FORMAT_TIME;
    auto units = [time](gint64 value) -> int64_t {
        return value < 0 ? -1 : time ? value / GST_USECOND : value;
    };
    config.server.lag_unit = time                                       ? server::LagUnit::Time
                             : settings.unit_format == GST_FORMAT_BYTES ? server::LagUnit::Bytes
                                                                        : server::LagUnit::Packets;
    config.server.lag_max = units(settings.units_max);
    config.server.lag_soft_max = units(settings.units_soft_max);
    config.server.recover_policy = to_core(settings.recover_policy);
    config.server.allow = split_list(settings.allow);
    config.server.deny = split_list(settings.deny);
    config.server.edges = split_list(settings.edges);
    return config;
}

} // namespace

/* The C++ side of the element: settings, the broadcast and the relay
 * thread. Implements BroadcastEvents: the callbacks run on the core's
 * threads and only hand the event to the relay. */
struct GstWmNetSinkState final : public wmstream::plugin::Lifecycle<Settings>,
                                 public broadcast::BroadcastEvents {
    explicit GstWmNetSinkState(GstWmNetSink *sink)
        : Lifecycle(GST_ELEMENT(sink)), sink_(sink), broadcast_(this) {}

    void opened(uint16_t port, const std::string &host_url) override;
    void client_added(const server::ClientInfo &client) override;
    void client_removed(const server::ClientInfo &client, server::RemoveReason reason) override;
    void client_resolved(const server::ClientInfo &client) override;
    void warning(const wmstream::Error &error) override;
    void authorize(const server::AuthorizationRequest &request) override;
    void port_report(const reach::PortReport &report) override;
    void external_changed() override;

    bool open_core(const Settings &settings) override;
    void close_core() override;
    void closed() override;
    void activate() override;
    void deactivate() override;

    GstWmNetSink *sink_; /* C-style friend. */

    /* Declared after the relay (in Lifecycle), which it reports into. */
    broadcast::Broadcast broadcast_;
};

struct _GstWmNetSink {
    GstBaseSink parent;

    /* Used for C++ object with destructors. */
    GstWmNetSinkState *state;
};

enum {
    SIGNAL_CLIENT_ADDED,
    SIGNAL_CLIENT_REMOVED,
    SIGNAL_CLIENT_CONNECTING,
    SIGNAL_DISCONNECT,
    SIGNAL_REMOVE,
    SIGNAL_GET_CLIENTS,
    SIGNAL_GET_STATS,
    N_SIGNALS,
};

static wmstream::plugin::PropertyTable<Settings> properties;
/* The properties notified by the element itself. */
static GParamSpec *current_port_spec;
static GParamSpec *host_url_spec;
static GParamSpec *num_clients_spec;
static GParamSpec *external_address_spec;
static GParamSpec *external_port_spec;
static guint signals[N_SIGNALS];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-ms-asf"));

G_DEFINE_TYPE_WITH_CODE(GstWmNetSink, gst_wm_net_sink, GST_TYPE_BASE_SINK,
                        GST_DEBUG_CATEGORY_INIT(gst_wm_net_sink_debug, "wmnetsink", 0,
                                                "Windows Media network sink"))
GST_ELEMENT_REGISTER_DEFINE(wmnetsink, "wmnetsink", GST_RANK_NONE, GST_TYPE_WM_NET_SINK)

GType gst_wm_net_sink_protocol_get_type(void) {
    static gsize type = 0;
    static const GEnumValue values[] = {
        {GST_WM_NET_SINK_PROTOCOL_HTTP, "HTTP (WMT_PROTOCOL_HTTP)", "http"},
        {0, nullptr, nullptr},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstWmNetSinkProtocol", values));
    return type;
}

/* How the bound port is mapped on the NAT gateway (the port-mapping property):
 * the values of broadcast::PortMapping. */
static GType gst_wm_net_sink_port_mapping_get_type(void) {
    static gsize type = 0;
    static const GEnumValue values[] = {
        {static_cast<gint>(broadcast::PortMapping::None), "No gateway mapping", "none"},
        {static_cast<gint>(broadcast::PortMapping::Upnp), "UPnP IGD (WANIPConnection)", "upnp"},
        {static_cast<gint>(broadcast::PortMapping::NatPmp), "NAT-PMP (RFC 6886)", "nat-pmp"},
        {static_cast<gint>(broadcast::PortMapping::Auto),
         "UPnP IGD, then NAT-PMP when no IGD answers", "auto"},
        {0, nullptr, nullptr},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstWmNetSinkPortMapping", values));
    return type;
}

GType gst_wm_net_sink_remove_reason_get_type(void) {
    static gsize type = 0;
    /* Nicks as to_string(RemoveReason). */
    static const GEnumValue values[] = {
        {GST_WM_NET_SINK_REMOVE_REASON_CLOSED, "The client closed the connection", "closed"},
        {GST_WM_NET_SINK_REMOVE_REASON_DISCONNECTED, "The application disconnected it",
         "disconnected"},
        {GST_WM_NET_SINK_REMOVE_REASON_SLOW, "Too far behind or no progress", "slow"},
        {GST_WM_NET_SINK_REMOVE_REASON_ERROR, "Socket error or bad request", "error"},
        {GST_WM_NET_SINK_REMOVE_REASON_OVER_LIMIT, "Refused: max-clients reached", "over-limit"},
        {GST_WM_NET_SINK_REMOVE_REASON_EOS, "The stream ended", "eos"},
        {GST_WM_NET_SINK_REMOVE_REASON_FORBIDDEN,
         "Refused: address not allowed or the application said no", "forbidden"},
        {GST_WM_NET_SINK_REMOVE_REASON_UNAUTHORIZED, "Refused: wrong viewer credentials",
         "unauthorized"},
        {GST_WM_NET_SINK_REMOVE_REASON_NO_STREAMS,
         "Refused: its stream selection names none of the streams", "no-streams"},
        {GST_WM_NET_SINK_REMOVE_REASON_REMOVED, "The application removed it", "removed"},
        {GST_WM_NET_SINK_REMOVE_REASON_LOOP,
         "Refused: a loop of relays (its Via names this server, or Max-Forwards 0)", "loop"},
        {GST_WM_NET_SINK_REMOVE_REASON_REDIRECTED, "Sent to an edge (302)", "redirected"},
        {0, nullptr, nullptr},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstWmNetSinkRemoveReason", values));
    return type;
}

GType gst_wm_net_sink_recover_policy_get_type(void) {
    static gsize type = 0;
    static const GEnumValue values[] = {
        {GST_WM_NET_SINK_RECOVER_POLICY_NONE, "Stay until units-max removes it", "none"},
        {GST_WM_NET_SINK_RECOVER_POLICY_LATEST, "Continue at the newest packet", "latest"},
        {GST_WM_NET_SINK_RECOVER_POLICY_SOFT_LIMIT,
         "Continue at the oldest key frame within units-soft-max", "soft-limit"},
        {GST_WM_NET_SINK_RECOVER_POLICY_KEYFRAME, "Continue at the newest key frame", "keyframe"},
        {GST_WM_NET_SINK_RECOVER_POLICY_THIN,
         "Stay, with whole audio and only video key frames until caught up (lag at most half "
         "units-soft-max), then full video from a key frame",
         "thin"},
        {0, nullptr, nullptr},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstWmNetSinkRecoverPolicy", values));
    return type;
}

static GstWmNetSinkRemoveReason to_gst_reason(server::RemoveReason reason) {
    switch (reason) {
    case server::RemoveReason::ClosedByPeer:
        return GST_WM_NET_SINK_REMOVE_REASON_CLOSED;
    case server::RemoveReason::Disconnected:
        return GST_WM_NET_SINK_REMOVE_REASON_DISCONNECTED;
    case server::RemoveReason::Slow:
        return GST_WM_NET_SINK_REMOVE_REASON_SLOW;
    case server::RemoveReason::Error:
        return GST_WM_NET_SINK_REMOVE_REASON_ERROR;
    case server::RemoveReason::OverLimit:
        return GST_WM_NET_SINK_REMOVE_REASON_OVER_LIMIT;
    case server::RemoveReason::Forbidden:
        return GST_WM_NET_SINK_REMOVE_REASON_FORBIDDEN;
    case server::RemoveReason::Unauthorized:
        return GST_WM_NET_SINK_REMOVE_REASON_UNAUTHORIZED;
    case server::RemoveReason::NoStreams:
        return GST_WM_NET_SINK_REMOVE_REASON_NO_STREAMS;
    case server::RemoveReason::Removed:
        return GST_WM_NET_SINK_REMOVE_REASON_REMOVED;
    case server::RemoveReason::Loop:
        return GST_WM_NET_SINK_REMOVE_REASON_LOOP;
    case server::RemoveReason::Redirected:
        return GST_WM_NET_SINK_REMOVE_REASON_REDIRECTED;
    case server::RemoveReason::EndOfStream:
        break;
    }
    return GST_WM_NET_SINK_REMOVE_REASON_EOS;
}

static void post_element_message(GstWmNetSink *self, GstStructure *structure) {
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_element(GST_OBJECT(self), structure));
}

/* Relay-thread side of the BroadcastEvents: signals and element messages. */

static void relay_client_added(GstWmNetSink *self, const server::ClientInfo &client) {
    GST_INFO_OBJECT(self, "client %" G_GUINT64_FORMAT " added: %s:%u, %s, '%s'",
                    static_cast<guint64>(client.id), client.address.c_str(), client.port,
                    to_string(client.protocol), printable(client.user_agent).c_str());
    g_signal_emit(self, signals[SIGNAL_CLIENT_ADDED], 0, static_cast<guint64>(client.id));
    post_element_message(
        self, gst_structure_new("wmnetsink-client-added", "id", G_TYPE_UINT64,
                                static_cast<guint64>(client.id), "address", G_TYPE_STRING,
                                client.address.c_str(), "port", G_TYPE_UINT,
                                static_cast<guint>(client.port), "user-agent", G_TYPE_STRING,
                                client.user_agent.c_str(), "protocol", G_TYPE_STRING,
                                to_string(client.protocol), nullptr));
    g_object_notify_by_pspec(G_OBJECT(self), num_clients_spec);
}

static void relay_client_removed(GstWmNetSink *self, const server::ClientInfo &client,
                                 server::RemoveReason reason) {
    GST_INFO_OBJECT(self,
                    "client %" G_GUINT64_FORMAT " removed (%s) after %" G_GUINT64_FORMAT " bytes",
                    static_cast<guint64>(client.id), to_string(reason),
                    static_cast<guint64>(client.bytes_sent));
    g_signal_emit(self, signals[SIGNAL_CLIENT_REMOVED], 0, static_cast<guint64>(client.id),
                  to_gst_reason(reason));
    post_element_message(
        self, gst_structure_new(
                  "wmnetsink-client-removed", "id", G_TYPE_UINT64, static_cast<guint64>(client.id),
                  "address", G_TYPE_STRING, client.address.c_str(), "port", G_TYPE_UINT,
                  static_cast<guint>(client.port), "reason", G_TYPE_STRING, to_string(reason),
                  "bytes-sent", G_TYPE_UINT64, static_cast<guint64>(client.bytes_sent),
                  "user-agent", G_TYPE_STRING, client.user_agent.c_str(), "start-lag", G_TYPE_INT64,
                  client.start_lag_us < 0 ? gint64(-1)
                                          : static_cast<gint64>(client.start_lag_us) * GST_USECOND,
                  nullptr));
    g_object_notify_by_pspec(G_OBJECT(self), num_clients_spec);
}

static void relay_client_resolved(GstWmNetSink *self, const server::ClientInfo &client) {
    post_element_message(self, gst_structure_new("wmnetsink-client-resolved", "id", G_TYPE_UINT64,
                                                 static_cast<guint64>(client.id), "address",
                                                 G_TYPE_STRING, client.address.c_str(), "dns-name",
                                                 G_TYPE_STRING, client.dns_name.c_str(), nullptr));
}

void GstWmNetSinkState::client_added(const server::ClientInfo &client) {
    relay_.post([sink = sink_, client] { relay_client_added(sink, client); });
}

void GstWmNetSinkState::client_removed(const server::ClientInfo &client,
                                       server::RemoveReason reason) {
    relay_.post([sink = sink_, client, reason] { relay_client_removed(sink, client, reason); });
}

void GstWmNetSinkState::client_resolved(const server::ClientInfo &client) {
    relay_.post([sink = sink_, client] { relay_client_resolved(sink, client); });
}

/* Port reachability (open-firewall, port-mapping): the core reports through
 * BroadcastEvents; the element maps each report onto a `wmnetsink-port-open`
 * message, a WARNING for a failure, and external-address/external-port. */

static void relay_port_report(GstWmNetSink *self, const reach::PortReport &report) {
    GST_INFO_OBJECT(self, "%s %s port %u: %s%s%s", to_string(report.backend),
                    to_string(report.action), report.port, to_string(report.result),
                    report.error ? ": " : "", report.error ? report.error->message.c_str() : "");
    GstStructure *structure = messages::port_report_structure(report);
    GstStructure *context = gst_structure_copy(structure);
    post_element_message(self, structure);
    /* Never an ERROR: the stream is still served on the local network. */
    if (reach::is_failure(report.result) && report.error)
        WMSTREAM_POST_ERROR(self, GST_MESSAGE_WARNING, *report.error,
                            messages::port_failure_text(report), context);
    else
        gst_structure_free(context);
}

void GstWmNetSinkState::port_report(const reach::PortReport &report) {
    relay_.post([sink = sink_, report] { relay_port_report(sink, report); });
}

void GstWmNetSinkState::external_changed() {
    relay_.post([sink = sink_] {
        g_object_notify_by_pspec(G_OBJECT(sink), external_address_spec);
        g_object_notify_by_pspec(G_OBJECT(sink), external_port_spec);
        g_object_notify_by_pspec(G_OBJECT(sink), host_url_spec);
    });
}

/* Asks the application (on the relay thread) and hands its answer back to the server; with no
 * handler connected now (it may be connected or disconnected at any time), allowed at once. */
void GstWmNetSinkState::authorize(const server::AuthorizationRequest &request) {
    if (!g_signal_has_handler_pending(sink_, signals[SIGNAL_CLIENT_CONNECTING], 0, FALSE)) {
        broadcast_.server().authorize(request.client_id, true);
        return;
    }
    relay_.post([sink = sink_, request] {
        gboolean allowed = TRUE;
        g_signal_emit(sink, signals[SIGNAL_CLIENT_CONNECTING], 0,
                      static_cast<guint64>(request.client_id), request.address.c_str(),
                      request.user_agent.c_str(), request.path.c_str(),
                      request.user.empty() ? nullptr : request.user.c_str(), &allowed);
        GST_INFO_OBJECT(sink, "client %" G_GUINT64_FORMAT " from %s %s by the application",
                        static_cast<guint64>(request.client_id), request.address.c_str(),
                        allowed ? "allowed" : "refused");
        sink->state->broadcast_.server().authorize(request.client_id, allowed);
    });
}

void GstWmNetSinkState::warning(const wmstream::Error &error) {
    relay_.post([sink = sink_, error] {
        WMSTREAM_POST_ERROR(sink, GST_MESSAGE_WARNING, error, error.message, nullptr);
    });
}

/* Action signals */

static void gst_wm_net_sink_disconnect(GstWmNetSink *self) {
    GST_INFO_OBJECT(self, "disconnecting every client");
    self->state->broadcast_.server().disconnect_all();
}

static gboolean gst_wm_net_sink_remove(GstWmNetSink *self, guint64 client_id) {
    const bool found = self->state->broadcast_.server().remove(client_id);
    GST_INFO_OBJECT(self, "remove client %" G_GUINT64_FORMAT ": %s", client_id,
                    found ? "disconnected" : "no such client");
    return found;
}

static GstStructure *gst_wm_net_sink_get_clients(GstWmNetSink *self) {
    GValue clients = G_VALUE_INIT;
    g_value_init(&clients, GST_TYPE_ARRAY);
    for (const server::ClientInfo &client : self->state->broadcast_.server().clients()) {
        GValue value = G_VALUE_INIT;
        g_value_init(&value, GST_TYPE_STRUCTURE);
        g_value_take_boxed(&value, messages::client_structure(client));
        gst_value_array_append_and_take_value(&clients, &value);
    }
    GstStructure *result = gst_structure_new_empty("wmnetsink-clients");
    gst_structure_take_value(result, "clients", &clients);
    return result;
}

static GstStructure *gst_wm_net_sink_get_stats(GstWmNetSink *self, guint64 client_id) {
    std::optional<server::ClientInfo> client = self->state->broadcast_.server().client(client_id);
    if (!client) {
        GST_DEBUG_OBJECT(self, "get-stats: no client %" G_GUINT64_FORMAT, client_id);
        return nullptr;
    }
    return messages::client_structure(*client);
}

/* Data */

/* Hands @buffer to the server as the stream header or as one data packet.
 * When the server refuses it (not ASF), posts STREAM/FORMAT, ends the stream
 * for the clients ($E) and returns false; the port stays open. */
static bool gst_wm_net_sink_serve(GstWmNetSink *self, GstBuffer *buffer, bool header) {
    server::Server &server = self->state->broadcast_.server();
    wmstream::plugin::BufferMapping mapping(buffer);
    wmstream::Status status =
        !mapping.mapped()
            ? wmstream::Status(wmstream::make_error(wmstream::Errc::Failed, "cannot map buffer"))
        : header ? server.set_header(mapping.data(), mapping.size())
                 : server.push_packet(mapping.data(), mapping.size());
    if (status)
        return true;

    wmstream::plugin::post_asf_input_error(GST_ELEMENT(self), status.error(), header,
                                           mapping.size());
    server.end_of_stream();
    return false;
}

static gboolean gst_wm_net_sink_set_caps(GstBaseSink *bsink, GstCaps *caps) {
    GstWmNetSink *self = GST_WM_NET_SINK(bsink);
    GstBuffer *header = nullptr;
    if (!wmstream::plugin::caps_stream_header(GST_ELEMENT(self), caps, &header))
        return FALSE;
    return !header || gst_wm_net_sink_serve(self, header, true);
}

static GstFlowReturn gst_wm_net_sink_render(GstBaseSink *bsink, GstBuffer *buffer) {
    GstWmNetSink *self = GST_WM_NET_SINK(bsink);
    const bool header = GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_HEADER);
    return gst_wm_net_sink_serve(self, buffer, header) ? GST_FLOW_OK : GST_FLOW_ERROR;
}

static gboolean gst_wm_net_sink_event(GstBaseSink *bsink, GstEvent *event) {
    GstWmNetSink *self = GST_WM_NET_SINK(bsink);
    switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_EOS:
        self->state->broadcast_.server().end_of_stream();
        break;
    case GST_EVENT_FLUSH_STOP:
        self->state->broadcast_.server().reset_stream();
        break;
    default:
        break;
    }
    return GST_BASE_SINK_CLASS(gst_wm_net_sink_parent_class)->event(bsink, event);
}

/* States (plugin/lifecycle.h) */

/* NULL→READY: IWMWriterNetworkSink::Open. */
bool GstWmNetSinkState::open_core(const Settings &settings) {
    broadcast::BroadcastConfig config = broadcast_config(settings);
    /* Every viewer is offered to client-connecting: a handler connected after open counts. */
    config.server.ask_application = true;
    config.server.thread_hook = stream_status_.hook();
    const broadcast::OpenResult result = broadcast_.open(config);
    if (result)
        return true;
    WMSTREAM_POST_ERROR(sink_, GST_MESSAGE_ERROR, result.error().error,
                        messages::open_failure_text(result.error(), config),
                        messages::open_failure_context(result.error(), config));
    return false;
}

/* The port is bound: tell the application (on the state change's thread). */
void GstWmNetSinkState::opened(uint16_t port, const std::string &host_url) {
    const std::string address =
        settings_.read([](const Settings &settings) { return settings.broadcast.server.address; });
    GST_INFO_OBJECT(sink_, "listening on port %u, %s", port, host_url.c_str());
    g_object_notify_by_pspec(G_OBJECT(sink_), current_port_spec);
    g_object_notify_by_pspec(G_OBJECT(sink_), host_url_spec);
    post_element_message(sink_, gst_structure_new("wmnetsink-open", "port", G_TYPE_UINT,
                                                  static_cast<guint>(port), "host-url",
                                                  G_TYPE_STRING, host_url.c_str(), "address",
                                                  G_TYPE_STRING, address.c_str(), nullptr));
}

/* READY→NULL: IWMWriterNetworkSink::Close. */
void GstWmNetSinkState::close_core() {
    broadcast_.close();
}

void GstWmNetSinkState::closed() {
    GST_INFO_OBJECT(sink_, "closed");
    g_object_notify_by_pspec(G_OBJECT(sink_), current_port_spec);
    g_object_notify_by_pspec(G_OBJECT(sink_), host_url_spec);
}

void GstWmNetSinkState::activate() {
    broadcast_.activate();
}

/* The session leaves the active state: drop every client, keep the port. */
void GstWmNetSinkState::deactivate() {
    broadcast_.deactivate();
}

static GstStateChangeReturn gst_wm_net_sink_change_state(GstElement *element,
                                                         GstStateChange transition) {
    return wmstream::plugin::change_state(*GST_WM_NET_SINK(element)->state, element, transition,
                                          GST_ELEMENT_CLASS(gst_wm_net_sink_parent_class));
}

/* Properties */

static void gst_wm_net_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                         GParamSpec *pspec) {
    properties.set_property(GST_WM_NET_SINK(object)->state->settings_, object, prop_id, value,
                            pspec);
}

static void gst_wm_net_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                         GParamSpec *pspec) {
    properties.get_property(GST_WM_NET_SINK(object)->state->settings_, object, prop_id, value,
                            pspec);
}

/* GObject */

static void gst_wm_net_sink_init(GstWmNetSink *self) {
    self->state = new GstWmNetSinkState(self);
    gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
}

static void gst_wm_net_sink_finalize(GObject *object) {
    GstWmNetSink *self = GST_WM_NET_SINK(object);
    self->state->stream_status_.detach();
    delete self->state;
    G_OBJECT_CLASS(gst_wm_net_sink_parent_class)->finalize(object);
}

static broadcast::Broadcast &broadcast_of(GObject *object) {
    return GST_WM_NET_SINK(object)->state->broadcast_;
}

/* A string property read back: NULL for "". */
static void set_text(GValue *value, const std::string &text) {
    g_value_set_string(value, text.empty() ? nullptr : text.c_str());
}

static void add_properties() {
    constexpr Mutability fixed = Mutability::Fixed;
    constexpr Mutability next_open = Mutability::NextOpen;
    const GParamFlags ro = wmstream::plugin::param_flags(Mutability::ReadOnly);
    auto &table = properties;

    table.add_number(
        "port", "Port",
        "TCP port to listen on; 0 = pick a free port (see current-port). Refused "
        "while open",
        0, gint(G_MAXUINT16), fixed, [](auto &s) -> auto & { return s.broadcast.server.port; });
    current_port_spec = table.add_live(
        g_param_spec_int("current-port", "Current port",
                         "The TCP port listened on, 0 when not open; notified on open and close", 0,
                         G_MAXUINT16, 0, ro),
        [](GObject *object, GValue *value) {
            g_value_set_int(value, broadcast_of(object).port());
        });
    table.add_string(
        "address", "Address",
        "Local address to bind (IP literal or host name); NULL or empty = all "
        "interfaces, IPv4 and IPv6. Refused while open",
        fixed, [](auto &s) -> auto & { return s.broadcast.server.address; });
    host_url_spec = table.add_live(
        g_param_spec_string("host-url", "Host URL",
                            "URL of the stream, http://host:port/ "
                            "(IWMWriterNetworkSink::GetHostURL): the gateway's external address "
                            "and port while port-mapping holds a mapping; NULL when not open",
                            nullptr, ro),
        [](GObject *object, GValue *value) {
            set_text(value, broadcast_of(object).reachable_url());
        });
    table.add_boolean(
        "open-firewall", "Open firewall",
        "After the bind, open the TCP port in the host firewall (a firewalld runtime rule in "
        "firewall-zone, asynchronously) and close it at READY->NULL; a rule that was already "
        "there is left alone. Needs a build with port reachability (-Dreach). Used from the "
        "next open",
        next_open, [](auto &s) -> auto & { return s.broadcast.reach.open_firewall; });
    table.add_string(
        "firewall-zone", "Firewall zone",
        "firewalld zone for open-firewall; NULL = the default zone. Used from the "
        "next open",
        next_open, [](auto &s) -> auto & { return s.broadcast.reach.firewall_zone; });
    table.add_enum(
        "port-mapping", "Port mapping",
        "After the bind, map the TCP port on the NAT gateway (UPnP IGD, NAT-PMP, or "
        "UPnP then NAT-PMP) until READY->NULL; see external-address and "
        "external-port. Needs a build with port reachability (-Dreach). Used from the "
        "next open",
        GST_TYPE_WM_NET_SINK_PORT_MAPPING, next_open,
        [](auto &s) -> auto & { return s.broadcast.reach.port_mapping; });
    table.add_number(
        "port-mapping-lease", "Port mapping lease",
        "Lease asked for the gateway mapping in seconds, renewed at half its "
        "length. Used from the next open",
        1u, 604800u, next_open, [](auto &s) -> auto & { return s.broadcast.reach.lease_s; });
    external_address_spec = table.add_live(
        g_param_spec_string("external-address", "External address",
                            "The gateway's external IPv4 address while port-mapping holds a "
                            "mapping, else NULL; notified on change",
                            nullptr, ro),
        [](GObject *object, GValue *value) {
            set_text(value, broadcast_of(object).external_address());
        });
    external_port_spec = table.add_live(
        g_param_spec_int("external-port", "External port",
                         "The gateway's external TCP port while port-mapping holds a mapping, "
                         "else 0; notified on change",
                         0, G_MAXUINT16, 0, ro),
        [](GObject *object, GValue *value) {
            g_value_set_int(value, broadcast_of(object).external_port());
        });
    table.add_string(
        "allow", "Allowed addresses",
        "Only clients from these address ranges may connect, checked at accept: CIDR ranges or "
        "addresses, IPv4 or IPv6, separated by commas or spaces (e.g. \"10.0.0.0/8, "
        "2001:db8::/32\"); NULL = everyone. Others are closed at once (client-removed reason "
        "forbidden). Refused while open",
        fixed, [](auto &s) -> auto & { return s.allow; });
    table.add_string(
        "deny", "Denied addresses",
        "Clients from these address ranges may not connect (same syntax as allow; "
        "wins over allow). Refused while open",
        fixed, [](auto &s) -> auto & { return s.deny; });
    table.add_string(
        "user-id", "Viewer user name",
        "With user-pw: viewers must authenticate with HTTP Digest or Basic before any stream "
        "byte (wrong credentials: 401, client-removed reason unauthorized). Basic sends the "
        "password readable by anyone on the path unless tls-certificate is set. NULL = no "
        "credentials. Refused while open",
        fixed, [](auto &s) -> auto & { return s.broadcast.server.user; });
    table.add_string(
        "user-pw", "Viewer password",
        "Password for user-id. Write-only, never logged or posted. Refused while "
        "open",
        fixed, [](auto &s) -> auto & { return s.broadcast.server.password; }, true);
    table.add_string(
        "status-path", "Status view path",
        "Serve the operator's status view on the same port: GET of this path (e.g. "
        "\"/status\") answers an HTML page of the viewers and the in/out bit rate of the last "
        "5 minutes, reloading itself every 5 s; this path + \".json\" the same as JSON. Not "
        "viewers: not counted, no client-added. Needs status-user-id and status-user-pw, or "
        "status-open (else NULL->READY fails). NULL = off. Refused while open",
        fixed, [](auto &s) -> auto & { return s.broadcast.server.status_path; });
    table.add_string(
        "status-user-id", "Status view user name",
        "With status-user-pw: the status view asks for these credentials (HTTP Digest or "
        "Basic), whatever user-id says. NULL = none. Refused while open",
        fixed, [](auto &s) -> auto & { return s.broadcast.server.status_user; });
    table.add_string(
        "status-user-pw", "Status view password",
        "Password for status-user-id. Write-only, never logged or posted. Refused while open",
        fixed, [](auto &s) -> auto & { return s.broadcast.server.status_password; }, true);
    table.add_boolean(
        "status-open", "Status view open to anyone",
        "Serve status-path without credentials when status-user-id is not set: anyone who "
        "can connect sees the viewers' addresses and user agents. Refused while open",
        fixed, [](auto &s) -> auto & { return s.broadcast.server.status_open; });
    table.add(
        g_param_spec_object("tls-certificate", "TLS certificate",
                            "Serve HTTPS with this certificate, which must carry its private key "
                            "(host-url becomes https://…; needs glib-networking); NULL = plain "
                            "HTTP. Refused while open",
                            G_TYPE_TLS_CERTIFICATE, wmstream::plugin::param_flags(fixed)),
        fixed,
        [](Settings &settings, const GValue *value) {
            std::shared_ptr<GTlsCertificate> &field = settings.broadcast.server.tls_certificate;
            auto *certificate = static_cast<GTlsCertificate *>(g_value_dup_object(value));
            const bool changed = certificate != field.get();
            if (certificate)
                field.reset(certificate, g_object_unref);
            else
                field.reset();
            return changed;
        },
        [](const Settings &settings, GValue *value) {
            g_value_set_object(value, settings.broadcast.server.tls_certificate.get());
        });
    table.add_string(
        "tls-certificate-file", "TLS certificate file",
        "PEM file with the certificate (chain) and its private key, loaded at Open "
        "when tls-certificate is not set: the way to serve HTTPS from "
        "gst-launch-1.0. Refused while open",
        fixed, [](auto &s) -> auto & { return s.broadcast.tls_certificate_file; });
    table.add_number(
        "max-clients", "Maximum clients",
        "Streaming viewers served at once, more get 503 (relays are counted apart, see "
        "max-relays); -1 = unlimited. Refused while open",
        -1, G_MAXINT, fixed, [](auto &s) -> auto & { return s.broadcast.server.max_clients; });
    table.add_number(
        "max-relays", "Maximum relays",
        "Distribution servers streamed at once (User-Agent NSServer/ or WMCacheProxy/, or any "
        "request with a Via header; MS-WMSP 4.11, 4.12), apart from max-clients: more get "
        "503. -1 = unlimited, 0 = none. Refused while open",
        -1, G_MAXINT, fixed, [](auto &s) -> auto & { return s.broadcast.server.max_relays; });
    table.add_string(
        "edges", "Edges",
        "Other servers' URLs (http:// or https://, separated by commas or spaces), e.g. "
        "\"http://edge1:8080/, http://edge2:8080/\": when max-clients viewers are served, a "
        "new viewer gets 302 Found to the next one in turn (its Location the URL as given) "
        "instead of 503, and so does its Describe (client-removed reason redirected, counted "
        "in clients-redirected). NULL = refuse with 503. Refused while open",
        fixed, [](auto &s) -> auto & { return s.edges; });
    table.add_string(
        "via-name", "Via name",
        "This server's name in the Via header of its answers to relays (\"Via: 1.1 NAME\", "
        "RFC 9110 7.6.3); a request whose Via names it again has come round a loop of relays "
        "and is refused (508). NULL = the host name and the bound port (\"host:8080\"). "
        "Refused while open",
        fixed, [](auto &s) -> auto & { return s.broadcast.server.via_name; });
    table.add_enum(
        "protocol", "Protocol", "Network protocol; only http (WMT_PROTOCOL_HTTP)",
        GST_TYPE_WM_NET_SINK_PROTOCOL, Mutability::Any,
        [](auto &s) -> auto & { return s.protocol; });
    num_clients_spec = table.add_live(
        g_param_spec_uint("num-clients", "Number of clients",
                          "Clients being served now, relays included", 0, G_MAXUINT, 0, ro),
        [](GObject *object, GValue *value) {
            g_value_set_uint(value,
                             static_cast<guint>(broadcast_of(object).server().num_clients()));
        });
    table.add_number(
        "backlog", "Listen backlog",
        "Connections the kernel queues until they are accepted (listen(2) "
        "backlog). Refused while open",
        1, gint(G_MAXUINT16), fixed, [](auto &s) -> auto & { return s.broadcast.server.backlog; });
    table.add(
        g_param_spec_enum("unit-format", "Unit format",
                          "Unit of units-max and units-soft-max: time (ns behind live), "
                          "bytes or buffers (ASF packets); used from the next open",
                          GST_TYPE_FORMAT, GST_FORMAT_TIME,
                          wmstream::plugin::param_flags(next_open)),
        next_open,
        [](Settings &settings, const GValue *value) {
            const auto format = static_cast<GstFormat>(g_value_get_enum(value));
            if (format != GST_FORMAT_TIME && format != GST_FORMAT_BYTES &&
                format != GST_FORMAT_BUFFERS)
                return false;
            return std::exchange(settings.unit_format, format) != format;
        },
        [](const Settings &settings, GValue *value) {
            g_value_set_enum(value, settings.unit_format);
        });
    table.add_number(
        "units-max", "Units max",
        "Hard limit: a client further behind live than this (in unit-format) is "
        "removed as slow; also how much stream is kept for slow clients, so it "
        "bounds memory; -1 = unlimited (memory grows with the slowest client). Used "
        "from the next open",
        gint64(-1), G_MAXINT64, next_open, [](auto &s) -> auto & { return s.units_max; });
    table.add_number(
        "units-soft-max", "Units soft max",
        "Soft limit: a client further behind live than this (in unit-format), beyond where "
        "its stream began (fast-start), continues where recover-policy says; -1 = no soft "
        "limit. Used from the next open",
        gint64(-1), G_MAXINT64, next_open, [](auto &s) -> auto & { return s.units_soft_max; });
    table.add_enum(
        "recover-policy", "Recover policy",
        "Where a client past units-soft-max continues; used from the next open",
        GST_TYPE_WM_NET_SINK_RECOVER_POLICY, next_open,
        [](auto &s) -> auto & { return s.recover_policy; });
    table.add_number(
        "fast-start", "Fast start",
        "Milliseconds of recent stream a joining client gets at once (by send time): it starts "
        "at the newest key frame at least this old, so its player fills its preroll at once, "
        "and then plays that much (up to one key-frame interval more) behind live. Never further "
        "behind than units-soft-max allows (the oldest key frame within it instead), nor than "
        "the packets units-max keeps. 0 = the newest key frame (least delay, but players wait "
        "to fill their preroll); -1 = automatic: the served preroll + 1200, with which every "
        "player tested (VLC too) starts at once. Used from the next open",
        -1, 60000, next_open, [](auto &s) -> auto & { return s.broadcast.server.fast_start_ms; });
    table.add_number(
        "preroll", "Preroll",
        "Milliseconds of stream players buffer before they start, written in the served "
        "header (the packets' presentation times move with it); see fast-start. A stream's "
        "first viewers wait this long in real time. -1 = the muxer's (asfmux: 5000). Used from "
        "the next open",
        -1, 60000, next_open, [](auto &s) -> auto & { return s.broadcast.server.preroll_ms; });
    table.add_string(
        "mutual-exclusion", "Mutual exclusion",
        "Which streams are one content at different bit rates, for a multiple-bit-rate "
        "broadcast (several encoders of one source into asfmux's video_%u pads): players "
        "choose one stream of each group (VLC by bit rate, --mms-maxbitrate) and receive only "
        "it. Written in the served header as ASF Bitrate Mutual Exclusion Objects with a "
        "Stream Bitrate Properties Object (see stream-bitrates). NULL or \"auto\" = every "
        "video stream when there are two or more; \"none\" = no group; else ASF stream "
        "numbers (asfmux numbers its pads 1, 2, … in the order they were requested), ',' "
        "within a group, ';' between groups: \"1,2,3\" or \"1,2;4,5\". Used from the next "
        "open",
        next_open, [](auto &s) -> auto & { return s.broadcast.server.mutual_exclusion; });
    table.add_string(
        "stream-bitrates", "Stream bit rates",
        "Average bit rate of streams, bits/s, written in the served header's Stream Bitrate "
        "Properties Object (asfmux writes no video bit rate): NUMBER:BITS items separated by "
        "',', e.g. \"1:300000,2:700000,3:1500000\". Streams not named: audio its format's "
        "rate, video 0 (unknown: players cannot choose by rate). NULL = none. Used from the "
        "next open",
        next_open, [](auto &s) -> auto & { return s.broadcast.server.stream_bitrates; });
    table.add_duration(
        "timeout", "Timeout",
        "Nanoseconds a client may accept no byte before it is removed as slow; 0 "
        "= never; used from the next open",
        0, G_MAXINT64, next_open, [](auto &s) -> auto & { return s.broadcast.server.timeout_us; });
    table.add_duration(
        "flush-interval", "Flush interval",
        "Nanoseconds new packets may wait so that each client gets them in one write: fewer, "
        "larger writes cost far less CPU per client; 0 = write every packet at once (lowest "
        "latency). Joins and headers are never delayed. Used from the next open",
        0, GST_SECOND, next_open,
        [](auto &s) -> auto & { return s.broadcast.server.flush_interval_us; });
    table.add_duration_or_auto(
        "max-write-delay", "Maximum write delay",
        "Nanoseconds new packets may wait for a client that receives some of the streams (a "
        "low-rate stream of a multiple-bit-rate broadcast), so that it writes about 64 KiB at "
        "once instead of a little every flush-interval: a write costs about the same whatever "
        "it carries. Its packets go out once it has 64 KiB or when the oldest has waited this "
        "long. -1 = automatic: 8 flush-intervals (1 s at the default; none with "
        "flush-interval=0). 0 (or at most flush-interval) = every flush-interval, as clients "
        "that receive every stream, which are never delayed. Joins, headers, stream switches "
        "and clients behind live are never delayed. Used from the next open",
        gint64(10 * GST_SECOND), next_open,
        [](auto &s) -> auto & { return s.broadcast.server.max_write_delay_us; });
    table.add_number(
        "io-threads", "I/O threads",
        "Threads that write to the clients in each round (the I/O thread and helpers); 0 = "
        "automatic: 2 with two cores or more, else 1. More shorten a round on a multi-core "
        "machine, so the last clients of a round get new packets sooner: the low-latency "
        "setting is flush-interval=0 io-threads=2 io-realtime-priority=10. TLS clients, and "
        "clients whose writes wait to gather bytes (max-write-delay), are always written by "
        "the I/O thread. Used from the next open",
        0u, server::kMaxIoThreads, next_open,
        [](auto &s) -> auto & { return s.broadcast.server.io_threads; });
    table.add_number(
        "io-realtime-priority", "I/O real-time priority",
        "Run the I/O threads under the real-time scheduler (SCHED_FIFO) at this priority, so "
        "that other work on their cores never delays a round: part of the low-latency "
        "setting on a busy machine. 0 = the normal scheduler. Needs CAP_SYS_NICE or an "
        "RLIMIT_RTPRIO of at least the priority; without, the sink streams with the normal "
        "scheduler and posts a WARNING (E_ACCESSDENIED). Used from the next open",
        0, server::kMaxRealtimePriority, next_open,
        [](auto &s) -> auto & { return s.broadcast.server.io_realtime_priority; });
    table.add_duration(
        "request-timeout", "Request timeout",
        "Nanoseconds a connection has to send its complete request (at most 16 "
        "KiB and 100 lines); slower or silent ones (slowloris) are closed. Used "
        "from the next open",
        GST_MSECOND, G_MAXINT64, next_open,
        [](auto &s) -> auto & { return s.broadcast.server.request_timeout_us; });
    table.add_duration(
        "handshake-timeout", "Handshake timeout",
        "Nanoseconds a TLS connection has to send its ClientHello (from its connection) and "
        "to finish its handshake (from the handshake's start); slower or silent ones are "
        "closed (counted in tls-handshakes-failed). Used from the next open",
        GST_MSECOND, G_MAXINT64, next_open,
        [](auto &s) -> auto & { return s.broadcast.server.handshake_timeout_us; });
    table.add_number(
        "max-connecting", "Maximum connecting",
        "Connections held at once before they are admitted or answered (TLS handshake, "
        "request, client-connecting, a Describe waiting for the first header); when full, the "
        "oldest one older than 0.5 s is closed to make room, and new ones wait in the backlog "
        "while none is. Bounds descriptors. Used from the next open",
        1, G_MAXINT, next_open,
        [](auto &s) -> auto & { return s.broadcast.server.max_connecting; });
    table.add_number(
        "max-connecting-per-address", "Maximum connecting per address",
        "max-connecting for one peer address: over it, its oldest connection older than 0.5 s "
        "is closed to make room, or the new one is refused. Raise it for many viewers behind "
        "one NAT address joining at once. Used from the next open",
        1, G_MAXINT, next_open,
        [](auto &s) -> auto & { return s.broadcast.server.max_connecting_per_address; });
    table.add_live(g_param_spec_uint64("bytes-served", "Bytes served",
                                       "Bytes sent to all clients since the sink opened, HTTP "
                                       "headers included",
                                       0, G_MAXUINT64, 0, ro),
                   [](GObject *object, GValue *value) {
                       g_value_set_uint64(value, broadcast_of(object).server().stats().bytes_sent);
                   });
    table.add_live(
        g_param_spec_boxed(
            "server-stats", "Server statistics",
            "Totals since the sink opened, as a wmnetsink-stats structure: num-clients (guint, "
            "relays included), num-relays (guint), bytes-sent, clients-served, clients-refused "
            "(503 over max-clients or max-relays), "
            "clients-forbidden (address or client-connecting refusals), clients-unauthorized "
            "(wrong credentials), loops-refused (relay loops refused with 508, see via-name), "
            "clients-redirected (302 to one of edges), "
            "tls-handshakes-failed (connections closed in the TLS "
            "handshake or at handshake-timeout), connections-refused (over "
            "max-connecting-per-address), connections-evicted (closed to make room under "
            "max-connecting or max-connecting-per-address), packets-in, bytes-in (guint64). "
            "Per-client figures: get-clients / get-stats",
            GST_TYPE_STRUCTURE, ro),
        [](GObject *object, GValue *value) {
            g_value_take_boxed(value, messages::stats_structure(broadcast_of(object).server()));
        });
}

static void install_signals(GstWmNetSinkClass *klass) {
    const GType type = G_TYPE_FROM_CLASS(klass);
    constexpr auto action = static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION);

    /**
     * GstWmNetSink::client-added:
     * @sink: the sink
     * @client_id: the client, unique for the sink's lifetime
     *
     * A client was admitted (its request was read) and is being served.
     * Emitted from the element's relay thread: do not change the element's
     * state from the handler (use gst_element_call_async()).
     */
    signals[SIGNAL_CLIENT_ADDED] = g_signal_new("client-added", type, G_SIGNAL_RUN_LAST, 0, nullptr,
                                                nullptr, nullptr, G_TYPE_NONE, 1, G_TYPE_UINT64);
    /**
     * GstWmNetSink::client-removed:
     * @sink: the sink
     * @client_id: the client
     * @reason: why it went away
     *
     * A client went away. Emitted from the element's relay thread, like
     * #GstWmNetSink::client-added. Refusals (over-limit, forbidden,
     * unauthorized) are emitted up to 10 at once and 10 per second; the rest
     * are counted in #GstWmNetSink:server-stats only, and one WARNING says so.
     */
    signals[SIGNAL_CLIENT_REMOVED] =
        g_signal_new("client-removed", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
                     G_TYPE_NONE, 2, G_TYPE_UINT64, GST_TYPE_WM_NET_SINK_REMOVE_REASON);
    /**
     * GstWmNetSink::client-connecting:
     * @sink: the sink
     * @client_id: the id the client will have
     * @address: its IP address
     * @user_agent: its User-Agent
     * @path: the path it asks for
     * @user: (nullable): the user it authenticated as (#GstWmNetSink:user-id), or %NULL
     *
     * Asked for every viewer request (Describe, Play, plain GET, HEAD) once
     * its address and credentials passed, while at least one handler is
     * connected (connected or disconnected at any time; srtsink's
     * caller-connecting). Return %FALSE to refuse
     * the viewer: it gets 403 and #GstWmNetSink::client-removed with reason
     * forbidden. Emitted from the element's relay thread; the network thread
     * keeps serving other clients meanwhile. An unanswered request times out.
     *
     * Returns: %TRUE to serve the viewer.
     */
    signals[SIGNAL_CLIENT_CONNECTING] =
        g_signal_new("client-connecting", type, G_SIGNAL_RUN_LAST, 0,
                     g_signal_accumulator_first_wins, nullptr, nullptr, G_TYPE_BOOLEAN, 5,
                     G_TYPE_UINT64, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
    /**
     * GstWmNetSink::disconnect:
     * @sink: the sink
     *
     * Drop every client and keep the port (IWMWriterNetworkSink::Disconnect).
     * Each gets #GstWmNetSink::client-removed with reason disconnected.
     */
    signals[SIGNAL_DISCONNECT] = g_signal_new_class_handler(
        "disconnect", type, action, G_CALLBACK(gst_wm_net_sink_disconnect), nullptr, nullptr,
        nullptr, G_TYPE_NONE, 0);
    /**
     * GstWmNetSink::remove:
     * @sink: the sink
     * @client_id: the client, as #GstWmNetSink::client-added and
     *   #GstWmNetSink::get-clients give it
     *
     * Disconnect this one client at once and keep the others
     * (tcpserversink's remove). It gets #GstWmNetSink::client-removed with
     * reason removed. A player may connect again: allow and deny, or a
     * #GstWmNetSink::client-connecting handler, keep it out.
     *
     * Returns: %TRUE when @client_id was a client being served; %FALSE for
     * an unknown id, a client already gone, or one not admitted yet.
     */
    signals[SIGNAL_REMOVE] =
        g_signal_new_class_handler("remove", type, action, G_CALLBACK(gst_wm_net_sink_remove),
                                   nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1, G_TYPE_UINT64);
    /**
     * GstWmNetSink::get-clients:
     * @sink: the sink
     *
     * Returns: (transfer full): a "wmnetsink-clients" structure whose
     * "clients" field is an array of "wmnetsink-client" structures, one per
     * served client (fields as #GstWmNetSink::get-stats).
     */
    signals[SIGNAL_GET_CLIENTS] = g_signal_new_class_handler(
        "get-clients", type, action, G_CALLBACK(gst_wm_net_sink_get_clients), nullptr, nullptr,
        nullptr, GST_TYPE_STRUCTURE, 0);
    /**
     * GstWmNetSink::get-stats:
     * @sink: the sink
     * @client_id: the client
     *
     * Returns: (transfer full) (nullable): a "wmnetsink-client" structure, or
     * %NULL for an unknown client. Fields: id (guint64), address (string),
     * port (guint), dns-name (string, "" until resolved), user-agent
     * (string), protocol (string, "wmsp" or "http"), relay (gboolean: a
     * distribution server, counted against max-relays), connected-time (gint64,
     * µs since the epoch), connect-duration (guint64, ns), bytes-sent
     * (guint64), packets-sent (guint64), bitrate (guint64, bit/s), lag
     * (gint64, ns behind live), key-frame-skips (guint64), start-lag (gint64,
     * ns behind live its stream began: fast-start and the key-frame interval;
     * -1 until it began), selected-streams (GstValueArray of guint: the ASF
     * stream numbers it receives, from its Play's stream-switch-entry, MS-WMSP
     * §3.2.5.6; every stream for plain HTTP; empty until answered), thinning
     * (guint: 0 those streams whole, 1 some thinned to key frames).
     */
    signals[SIGNAL_GET_STATS] =
        g_signal_new_class_handler("get-stats", type, action, G_CALLBACK(gst_wm_net_sink_get_stats),
                                   nullptr, nullptr, nullptr, GST_TYPE_STRUCTURE, 1, G_TYPE_UINT64);
}

static void gst_wm_net_sink_class_init(GstWmNetSinkClass *klass) {
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSinkClass *base_sink_class = GST_BASE_SINK_CLASS(klass);

    object_class->set_property = gst_wm_net_sink_set_property;
    object_class->get_property = gst_wm_net_sink_get_property;
    object_class->finalize = gst_wm_net_sink_finalize;
    add_properties();
    properties.install(object_class);
    install_signals(klass);

    gst_element_class_set_static_metadata(
        element_class, "Windows Media network sink", "Sink/Network",
        "Serves a live ASF stream over HTTP to Windows Media (MS-WMSP), FFmpeg, VLC and plain "
        "HTTP clients",
        "wmstream authors");
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    element_class->change_state = gst_wm_net_sink_change_state;

    base_sink_class->set_caps = gst_wm_net_sink_set_caps;
    base_sink_class->render = gst_wm_net_sink_render;
    base_sink_class->event = gst_wm_net_sink_event;

    gst_type_mark_as_plugin_api(GST_TYPE_WM_NET_SINK_PROTOCOL, static_cast<GstPluginAPIFlags>(0));
    gst_type_mark_as_plugin_api(GST_TYPE_WM_NET_SINK_REMOVE_REASON,
                                static_cast<GstPluginAPIFlags>(0));
    gst_type_mark_as_plugin_api(GST_TYPE_WM_NET_SINK_PORT_MAPPING,
                                static_cast<GstPluginAPIFlags>(0));
    gst_type_mark_as_plugin_api(GST_TYPE_WM_NET_SINK_RECOVER_POLICY,
                                static_cast<GstPluginAPIFlags>(0));
}
