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
 *   #GstWmNetSinkRemoveReason nick), bytes-sent (guint64).
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
#include "errors.h"
#include "reach/firewall.h"
#include "reach/port-mapper.h"
#include "relay.h"
#include "server/server.h"
#include "server/thread-priority.h"

#include <gio/gio.h>

#include <mutex>
#include <optional>
#include <string>
#include <utility>

GST_DEBUG_CATEGORY_STATIC(gst_wm_net_sink_debug);
#define GST_CAT_DEFAULT gst_wm_net_sink_debug

/* How the bound port is mapped on the NAT gateway (the port-mapping property). */
typedef enum {
    GST_WM_NET_SINK_PORT_MAPPING_NONE,
    GST_WM_NET_SINK_PORT_MAPPING_UPNP,
    GST_WM_NET_SINK_PORT_MAPPING_NAT_PMP,
    GST_WM_NET_SINK_PORT_MAPPING_AUTO,
} GstWmNetSinkPortMapping;

static GType gst_wm_net_sink_port_mapping_get_type(void);
#define GST_TYPE_WM_NET_SINK_PORT_MAPPING (gst_wm_net_sink_port_mapping_get_type())

namespace {

/* The element's properties. The core's ServerConfig holds the listener and
 * client policy with its documented defaults. */
/* Port reachability: used from the next open. */
struct ReachSettings {
    bool open_firewall = false;
    std::string firewall_zone; /* "" = the default zone */
    GstWmNetSinkPortMapping port_mapping = GST_WM_NET_SINK_PORT_MAPPING_NONE;
    guint lease_s = wmstream::reach::PortMappingConfig().lease_s;
};

struct Settings {
    wmstream::server::ServerConfig config;
    ReachSettings reach;
    GstWmNetSinkProtocol protocol = GST_WM_NET_SINK_PROTOCOL_HTTP;
    /* The lag limits in GStreamer units (ns, bytes or buffers); turned into
     * config's lag_* fields by server_config(). */
    GstFormat unit_format = GST_FORMAT_TIME;
    gint64 units_max = 30 * GST_SECOND;
    gint64 units_soft_max = 5 * GST_SECOND;
    GstWmNetSinkRecoverPolicy recover_policy = GST_WM_NET_SINK_RECOVER_POLICY_KEYFRAME;
    /* Access control, as set (lists split by server_config()). */
    std::string allow;
    std::string deny;
    /* PEM file with certificate and key, loaded at Open, when no tls-certificate is set. */
    std::string tls_certificate_file;
};

/* "10.0.0.0/8, 192.168.1.0/24" → its ranges (commas and/or white space separate them). */
static std::vector<std::string> split_ranges(const std::string &list) {
    std::vector<std::string> ranges;
    g_auto(GStrv) parts = g_strsplit_set(list.c_str(), ", \t\n", -1);
    for (char **part = parts; *part; ++part)
        if (**part)
            ranges.emplace_back(*part);
    return ranges;
}

/* The server configuration for @settings. */
static wmstream::server::ServerConfig server_config(const Settings &settings) {
    wmstream::server::ServerConfig config = settings.config;
    const bool time = settings.unit_format == GST_FORMAT_TIME;
    auto units = [time](gint64 value) -> int64_t {
        return value < 0 ? -1 : time ? value / GST_USECOND : value;
    };
    config.lag_unit = time ? wmstream::server::LagUnit::Time
                      : settings.unit_format == GST_FORMAT_BYTES
                          ? wmstream::server::LagUnit::Bytes
                          : wmstream::server::LagUnit::Packets;
    config.lag_max = units(settings.units_max);
    config.allow = split_ranges(settings.allow);
    config.deny = split_ranges(settings.deny);
    config.lag_soft_max = units(settings.units_soft_max);
    switch (settings.recover_policy) {
    case GST_WM_NET_SINK_RECOVER_POLICY_NONE:
        config.recover_policy = wmstream::server::RecoverPolicy::None;
        break;
    case GST_WM_NET_SINK_RECOVER_POLICY_LATEST:
        config.recover_policy = wmstream::server::RecoverPolicy::Latest;
        break;
    case GST_WM_NET_SINK_RECOVER_POLICY_SOFT_LIMIT:
        config.recover_policy = wmstream::server::RecoverPolicy::SoftLimit;
        break;
    case GST_WM_NET_SINK_RECOVER_POLICY_KEYFRAME:
        config.recover_policy = wmstream::server::RecoverPolicy::KeyFrame;
        break;
    }
    return config;
}

} // namespace

/* The C++ side of the element: settings, the server and the relay thread.
 * Implements ServerEvents: the callbacks run on the server's I/O thread and
 * only hand the event to the relay. */
struct GstWmNetSinkState final : public wmstream::server::ServerEvents,
                                 public wmstream::reach::PortEvents {
    explicit GstWmNetSinkState(GstWmNetSink *sink)
        : sink_(sink), server_(this), firewall_(this), mapper_(this) {}

    void client_added(const wmstream::server::ClientInfo &client) override;
    void client_removed(const wmstream::server::ClientInfo &client,
                        wmstream::server::RemoveReason reason) override;
    void client_resolved(const wmstream::server::ClientInfo &client) override;
    /* PortEvents: called on the Firewall's and PortMapper's threads. */
    void port_report(const wmstream::reach::PortReport &report) override;
    void warning(const wmstream::Error &error) override;
    void authorize(const wmstream::server::AuthorizationRequest &request) override;

    GstWmNetSink *sink_; /* C-style friend. */

    std::mutex lock_;
    /* Protected by lock_ */
    Settings settings_;
    /* Protected by lock_: true from Open until Close, while the server
     * uses the listener settings. */
    bool open_ = false;
    /* Protected by lock_: 0 when not open. */
    guint current_port_ = 0;
    /* Protected by lock_: empty when not open. */
    std::string host_url_;
    /* Protected by lock_: "https" when serving TLS, else "http". */
    std::string scheme_ = "http";
    /* Protected by lock_: the gateway's external address and port while a
     * mapping exists ("" and 0 otherwise); host-url uses them. */
    std::string external_address_;
    guint external_port_ = 0;

    /* Declared before server_ so that it outlives it: closing the server
     * reports the last removals into it. */
    wmstream::plugin::Relay relay_;
    wmstream::server::Server server_;
    /* Declared after relay_ for the same reason: they report into it. */
    wmstream::reach::Firewall firewall_;
    wmstream::reach::PortMapper mapper_;
};

struct _GstWmNetSink {
    GstBaseSink parent;

    /* Used for C++ object with destructors. */
    GstWmNetSinkState *state;
};

enum {
    PROP_0,
    PROP_PORT,
    PROP_CURRENT_PORT,
    PROP_ADDRESS,
    PROP_HOST_URL,
    PROP_MAX_CLIENTS,
    PROP_PROTOCOL,
    PROP_NUM_CLIENTS,
    PROP_BACKLOG,
    PROP_UNIT_FORMAT,
    PROP_UNITS_MAX,
    PROP_UNITS_SOFT_MAX,
    PROP_RECOVER_POLICY,
    PROP_TIMEOUT,
    PROP_FLUSH_INTERVAL,
    PROP_IO_THREADS,
    PROP_IO_REALTIME_PRIORITY,
    PROP_REQUEST_TIMEOUT,
    PROP_BYTES_SERVED,
    PROP_SERVER_STATS,
    PROP_OPEN_FIREWALL,
    PROP_FIREWALL_ZONE,
    PROP_PORT_MAPPING,
    PROP_PORT_MAPPING_LEASE,
    PROP_EXTERNAL_ADDRESS,
    PROP_EXTERNAL_PORT,
    PROP_ALLOW,
    PROP_DENY,
    PROP_USER_ID,
    PROP_USER_PW,
    PROP_TLS_CERTIFICATE,
    PROP_TLS_CERTIFICATE_FILE,
    N_PROPERTIES,
};

enum {
    SIGNAL_CLIENT_ADDED,
    SIGNAL_CLIENT_REMOVED,
    SIGNAL_CLIENT_CONNECTING,
    SIGNAL_DISCONNECT,
    SIGNAL_GET_CLIENTS,
    SIGNAL_GET_STATS,
    N_SIGNALS,
};

static GParamSpec *properties[N_PROPERTIES];
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

static GType gst_wm_net_sink_port_mapping_get_type(void) {
    static gsize type = 0;
    static const GEnumValue values[] = {
        {GST_WM_NET_SINK_PORT_MAPPING_NONE, "No gateway mapping", "none"},
        {GST_WM_NET_SINK_PORT_MAPPING_UPNP, "UPnP IGD (WANIPConnection)", "upnp"},
        {GST_WM_NET_SINK_PORT_MAPPING_NAT_PMP, "NAT-PMP (RFC 6886)", "nat-pmp"},
        {GST_WM_NET_SINK_PORT_MAPPING_AUTO, "UPnP IGD, then NAT-PMP when no IGD answers", "auto"},
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
        {0, nullptr, nullptr},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstWmNetSinkRecoverPolicy", values));
    return type;
}

static GstWmNetSinkRemoveReason to_gst_reason(wmstream::server::RemoveReason reason) {
    switch (reason) {
    case wmstream::server::RemoveReason::ClosedByPeer:
        return GST_WM_NET_SINK_REMOVE_REASON_CLOSED;
    case wmstream::server::RemoveReason::Disconnected:
        return GST_WM_NET_SINK_REMOVE_REASON_DISCONNECTED;
    case wmstream::server::RemoveReason::Slow:
        return GST_WM_NET_SINK_REMOVE_REASON_SLOW;
    case wmstream::server::RemoveReason::Error:
        return GST_WM_NET_SINK_REMOVE_REASON_ERROR;
    case wmstream::server::RemoveReason::OverLimit:
        return GST_WM_NET_SINK_REMOVE_REASON_OVER_LIMIT;
    case wmstream::server::RemoveReason::Forbidden:
        return GST_WM_NET_SINK_REMOVE_REASON_FORBIDDEN;
    case wmstream::server::RemoveReason::Unauthorized:
        return GST_WM_NET_SINK_REMOVE_REASON_UNAUTHORIZED;
    case wmstream::server::RemoveReason::EndOfStream:
        break;
    }
    return GST_WM_NET_SINK_REMOVE_REASON_EOS;
}

/* The "wmnetsink-client" structure of get-stats / get-clients. */
static GstStructure *client_structure(const wmstream::server::ClientInfo &client) {
    return gst_structure_new(
        "wmnetsink-client", "id", G_TYPE_UINT64, static_cast<guint64>(client.id), "address",
        G_TYPE_STRING, client.address.c_str(), "port", G_TYPE_UINT, static_cast<guint>(client.port),
        "dns-name", G_TYPE_STRING, client.dns_name.c_str(), "user-agent", G_TYPE_STRING,
        client.user_agent.c_str(), "protocol", G_TYPE_STRING, to_string(client.protocol),
        "connected-time", G_TYPE_INT64, static_cast<gint64>(client.connected_at_us),
        "connect-duration", G_TYPE_UINT64,
        static_cast<guint64>(client.connected_for_us) * GST_USECOND, "bytes-sent", G_TYPE_UINT64,
        static_cast<guint64>(client.bytes_sent), "packets-sent", G_TYPE_UINT64,
        static_cast<guint64>(client.packets_sent), "bitrate", G_TYPE_UINT64,
        static_cast<guint64>(client.bitrate_bps), "lag", G_TYPE_INT64,
        static_cast<gint64>(client.lag_us) * GST_USECOND, "key-frame-skips", G_TYPE_UINT64,
        static_cast<guint64>(client.key_frame_skips), nullptr);
}

static void post_element_message(GstWmNetSink *self, GstStructure *structure) {
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_element(GST_OBJECT(self), structure));
}

/* The URL clients can use (IWMWriterNetworkSink::GetHostURL): the host name
 * when bound to every interface, else the bind address. */
static std::string host_url(const std::string &scheme, const std::string &address, uint16_t port) {
    std::string host = address;
    g_autoptr(GInetAddress) inet =
        address.empty() ? nullptr : g_inet_address_new_from_string(address.c_str());
    if (address.empty() || (inet && g_inet_address_get_is_any(inet)))
        host = g_get_host_name();
    else if (inet && g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6)
        host = "[" + address + "]";
    return scheme + "://" + host + ":" + std::to_string(port) + "/";
}

/* Relay-thread side of the ServerEvents: signals and element messages. */

static void relay_client_added(GstWmNetSink *self, const wmstream::server::ClientInfo &client) {
    GST_INFO_OBJECT(self, "client %" G_GUINT64_FORMAT " added: %s:%u, %s, '%s'",
                    static_cast<guint64>(client.id), client.address.c_str(), client.port,
                    to_string(client.protocol), client.user_agent.c_str());
    g_signal_emit(self, signals[SIGNAL_CLIENT_ADDED], 0, static_cast<guint64>(client.id));
    post_element_message(
        self, gst_structure_new("wmnetsink-client-added", "id", G_TYPE_UINT64,
                                static_cast<guint64>(client.id), "address", G_TYPE_STRING,
                                client.address.c_str(), "port", G_TYPE_UINT,
                                static_cast<guint>(client.port), "user-agent", G_TYPE_STRING,
                                client.user_agent.c_str(), "protocol", G_TYPE_STRING,
                                to_string(client.protocol), nullptr));
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_NUM_CLIENTS]);
}

static void relay_client_removed(GstWmNetSink *self, const wmstream::server::ClientInfo &client,
                                 wmstream::server::RemoveReason reason) {
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
                  "bytes-sent", G_TYPE_UINT64, static_cast<guint64>(client.bytes_sent), nullptr));
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_NUM_CLIENTS]);
}

static void relay_client_resolved(GstWmNetSink *self, const wmstream::server::ClientInfo &client) {
    post_element_message(self, gst_structure_new("wmnetsink-client-resolved", "id", G_TYPE_UINT64,
                                                 static_cast<guint64>(client.id), "address",
                                                 G_TYPE_STRING, client.address.c_str(), "dns-name",
                                                 G_TYPE_STRING, client.dns_name.c_str(), nullptr));
}

void GstWmNetSinkState::client_added(const wmstream::server::ClientInfo &client) {
    relay_.post([sink = sink_, client] { relay_client_added(sink, client); });
}

void GstWmNetSinkState::client_removed(const wmstream::server::ClientInfo &client,
                                       wmstream::server::RemoveReason reason) {
    relay_.post([sink = sink_, client, reason] { relay_client_removed(sink, client, reason); });
}

void GstWmNetSinkState::client_resolved(const wmstream::server::ClientInfo &client) {
    relay_.post([sink = sink_, client] { relay_client_resolved(sink, client); });
}

/* Port reachability (open-firewall, port-mapping): the core reports through
 * PortEvents; the element maps each report onto a `wmnetsink-port-open`
 * message, a WARNING for a failure, and external-address/external-port. */

/* The "wmnetsink-port-open" structure of @report. */
static GstStructure *port_report_structure(const wmstream::reach::PortReport &report) {
    GstStructure *structure = gst_structure_new(
        "wmnetsink-port-open", "backend", G_TYPE_STRING, to_string(report.backend), "action",
        G_TYPE_STRING, to_string(report.action), "result", G_TYPE_STRING, to_string(report.result),
        "port", G_TYPE_UINT, static_cast<guint>(report.port), "protocol", G_TYPE_STRING,
        report.protocol.c_str(), nullptr);
    if (report.backend == wmstream::reach::PortBackend::Firewalld)
        gst_structure_set(structure, "zone", G_TYPE_STRING, report.zone.c_str(), nullptr);
    else
        gst_structure_set(structure, "gateway", G_TYPE_STRING, report.gateway.c_str(),
                          "external-address", G_TYPE_STRING, report.external_address.c_str(),
                          "external-port", G_TYPE_UINT, static_cast<guint>(report.external_port),
                          "lease", G_TYPE_UINT, static_cast<guint>(report.lease_s), nullptr);
    if (report.error)
        gst_structure_set(structure, "error-message", G_TYPE_STRING, report.error->message.c_str(),
                          "error-name", G_TYPE_STRING, report.error_name.c_str(), "error-code",
                          G_TYPE_INT, report.error_code, nullptr);
    return structure;
}

/* The WARNING's user text for a failed @report. */
static std::string port_failure_text(const wmstream::reach::PortReport &report) {
    const std::string port = "port " + std::to_string(report.port) + "/" + report.protocol;
    if (report.backend == wmstream::reach::PortBackend::Firewalld)
        return report.action == wmstream::reach::PortAction::Close
                   ? "Could not close " + port + " in the firewall."
                   : "Could not open " + port + " in the firewall.";
    const std::string gateway = std::string(" (") + to_string(report.backend) + ").";
    if (report.action == wmstream::reach::PortAction::Open)
        return "Could not map " + port + " on the gateway" + gateway;
    if (report.action == wmstream::reach::PortAction::Renew)
        return "Could not renew the mapping of " + port + " on the gateway" + gateway;
    return "Could not remove the mapping of " + port + " from the gateway" + gateway;
}

/* host-url: the gateway's external address and port while a mapping exists,
 * else the local URL. Called with lock_ held. */
static std::string reachable_url(const GstWmNetSinkState &state) {
    if (state.external_address_.empty() || state.external_port_ == 0)
        return state.host_url_;
    return state.scheme_ + "://" + state.external_address_ + ":" +
           std::to_string(state.external_port_) + "/";
}

/* A mapping report: external-address and external-port are the mapping's
 * while it exists, cleared by any other outcome. */
static void update_external(GstWmNetSink *self, const wmstream::reach::PortReport &report) {
    GstWmNetSinkState *state = self->state;
    const bool mapped = report.result == wmstream::reach::PortResult::Opened ||
                        report.result == wmstream::reach::PortResult::AlreadyOpen;
    const std::string address = mapped ? report.external_address : "";
    const guint port = mapped ? report.external_port : 0;
    {
        std::lock_guard<std::mutex> locker(state->lock_);
        if (!state->open_ || (state->external_address_ == address && state->external_port_ == port))
            return;
        state->external_address_ = address;
        state->external_port_ = port;
    }
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_EXTERNAL_ADDRESS]);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_EXTERNAL_PORT]);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_HOST_URL]);
}

static void relay_port_report(GstWmNetSink *self, const wmstream::reach::PortReport &report) {
    GST_INFO_OBJECT(self, "%s %s port %u: %s%s%s", to_string(report.backend),
                    to_string(report.action), report.port, to_string(report.result),
                    report.error ? ": " : "", report.error ? report.error->message.c_str() : "");
    GstStructure *structure = port_report_structure(report);
    GstStructure *context = gst_structure_copy(structure);
    post_element_message(self, structure);
    /* Never an ERROR: the stream is still served on the local network. */
    if (wmstream::reach::is_failure(report.result) && report.error)
        WMSTREAM_POST_ERROR(self, GST_MESSAGE_WARNING, *report.error, port_failure_text(report),
                            context);
    else
        gst_structure_free(context);
    if (report.backend != wmstream::reach::PortBackend::Firewalld)
        update_external(self, report);
}

void GstWmNetSinkState::port_report(const wmstream::reach::PortReport &report) {
    relay_.post([sink = sink_, report] { relay_port_report(sink, report); });
}

/* Asks the application (on the relay thread) and hands its answer back to the server. */
void GstWmNetSinkState::authorize(const wmstream::server::AuthorizationRequest &request) {
    relay_.post([sink = sink_, request] {
        gboolean allowed = TRUE;
        g_signal_emit(sink, signals[SIGNAL_CLIENT_CONNECTING], 0,
                      static_cast<guint64>(request.client_id), request.address.c_str(),
                      request.user_agent.c_str(), request.path.c_str(),
                      request.user.empty() ? nullptr : request.user.c_str(), &allowed);
        GST_INFO_OBJECT(sink, "client %" G_GUINT64_FORMAT " from %s %s by the application",
                        static_cast<guint64>(request.client_id), request.address.c_str(),
                        allowed ? "allowed" : "refused");
        sink->state->server_.authorize(request.client_id, allowed);
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
    self->state->server_.disconnect_all();
}

static GstStructure *gst_wm_net_sink_get_clients(GstWmNetSink *self) {
    GValue clients = G_VALUE_INIT;
    g_value_init(&clients, GST_TYPE_ARRAY);
    for (const wmstream::server::ClientInfo &client : self->state->server_.clients()) {
        GValue value = G_VALUE_INIT;
        g_value_init(&value, GST_TYPE_STRUCTURE);
        g_value_take_boxed(&value, client_structure(client));
        gst_value_array_append_and_take_value(&clients, &value);
    }
    GstStructure *result = gst_structure_new_empty("wmnetsink-clients");
    gst_structure_take_value(result, "clients", &clients);
    return result;
}

static GstStructure *gst_wm_net_sink_get_stats(GstWmNetSink *self, guint64 client_id) {
    std::optional<wmstream::server::ClientInfo> client = self->state->server_.client(client_id);
    if (!client) {
        GST_DEBUG_OBJECT(self, "get-stats: no client %" G_GUINT64_FORMAT, client_id);
        return nullptr;
    }
    return client_structure(*client);
}

/* Data */

/* Hands @buffer to the server as the stream header or as one data packet.
 * When the server refuses it (not ASF), posts STREAM/FORMAT, ends the stream
 * for the clients ($E) and returns false; the port stays open. */
static bool gst_wm_net_sink_serve(GstWmNetSink *self, GstBuffer *buffer, bool header) {
    wmstream::server::Server &server = self->state->server_;
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
        self->state->server_.end_of_stream();
        break;
    case GST_EVENT_FLUSH_STOP:
        self->state->server_.reset_stream();
        break;
    default:
        break;
    }
    return GST_BASE_SINK_CLASS(gst_wm_net_sink_parent_class)->event(bsink, event);
}

/* States */

/* After the bind (port 0 is resolved): start opening @port in the firewall
 * and mapping it on the gateway, as the settings ask. Both run on threads of
 * their own and report through GstWmNetSinkState::port_report(); the state
 * change never waits for them. */
static void gst_wm_net_sink_open_port(GstWmNetSink *self, const std::string &address,
                                      uint16_t port) {
    GstWmNetSinkState *state = self->state;
    ReachSettings reach;
    {
        std::lock_guard<std::mutex> locker(state->lock_);
        reach = state->settings_.reach;
    }
    if (reach.open_firewall) {
        wmstream::reach::FirewallConfig firewall;
        firewall.zone = reach.firewall_zone;
        firewall.port = port;
        firewall.bind_address = address;
        wmstream::Status status = state->firewall_.open(firewall);
        if (!status)
            GST_WARNING_OBJECT(self, "firewall: %s", status.error().message.c_str());
    }
    if (reach.port_mapping != GST_WM_NET_SINK_PORT_MAPPING_NONE) {
        wmstream::reach::PortMappingConfig mapping;
        mapping.method = reach.port_mapping == GST_WM_NET_SINK_PORT_MAPPING_UPNP
                             ? wmstream::reach::PortMappingMethod::Upnp
                         : reach.port_mapping == GST_WM_NET_SINK_PORT_MAPPING_NAT_PMP
                             ? wmstream::reach::PortMappingMethod::NatPmp
                             : wmstream::reach::PortMappingMethod::Auto;
        mapping.port = port;
        mapping.bind_address = address;
        mapping.lease_s = reach.lease_s;
        wmstream::Status status = state->mapper_.open(mapping);
        if (!status)
            GST_WARNING_OBJECT(self, "port mapping: %s", status.error().message.c_str());
    }
}

/* NULL→READY: IWMWriterNetworkSink::Open. Done in change_state rather than
 * GstBaseSink::start() so that a failure posts only our error (basesink adds
 * a generic "Failed to start" after a failed start()). */
static gboolean gst_wm_net_sink_open(GstWmNetSink *self) {
    GstWmNetSinkState *state = self->state;

    wmstream::server::ServerConfig config;
    std::string certificate_file;
    {
        std::lock_guard<std::mutex> locker(state->lock_);
        config = server_config(state->settings_);
        certificate_file = state->settings_.tls_certificate_file;
        config.ask_application =
            g_signal_has_handler_pending(self, signals[SIGNAL_CLIENT_CONNECTING], 0, FALSE);
        state->open_ = true;
    }
    if (!config.tls_certificate && !certificate_file.empty()) {
        const std::string &file = certificate_file;
        g_autoptr(GError) error = nullptr;
        GTlsCertificate *certificate = g_tls_certificate_new_from_file(file.c_str(), &error);
        if (!certificate) {
            {
                std::lock_guard<std::mutex> locker(state->lock_);
                state->open_ = false;
            }
            WMSTREAM_POST_ERROR(
                self, GST_MESSAGE_ERROR,
                wmstream::make_error(wmstream::Errc::InvalidArgument,
                                     "g_tls_certificate_new_from_file: " +
                                         std::string(error->message)),
                "Could not load the TLS certificate and key from '" + file + "'.",
                gst_structure_new("context", "file", G_TYPE_STRING, file.c_str(), nullptr));
            return FALSE;
        }
        config.tls_certificate.reset(certificate, g_object_unref);
    }

    state->relay_.start();
    wmstream::Result<uint16_t> port = state->server_.open(config);
    if (!port) {
        state->relay_.stop();
        {
            std::lock_guard<std::mutex> locker(state->lock_);
            state->open_ = false;
        }
        const std::string where = config.address.empty() ? "all interfaces" : config.address;
        WMSTREAM_POST_ERROR(self, GST_MESSAGE_ERROR, port.error(),
                            "Could not listen on port " + std::to_string(config.port) + " of " +
                                where + ": " + to_string(port.error().code) + ".",
                            gst_structure_new("context", "port", G_TYPE_UINT,
                                              static_cast<guint>(config.port), "address",
                                              G_TYPE_STRING, config.address.c_str(), nullptr));
        return FALSE;
    }

    const std::string scheme = config.tls_certificate ? "https" : "http";
    const std::string url = host_url(scheme, config.address, *port);
    {
        std::lock_guard<std::mutex> locker(state->lock_);
        state->scheme_ = scheme;
        state->current_port_ = *port;
        state->host_url_ = url;
    }
    GST_INFO_OBJECT(self, "listening on port %u, %s", *port, url.c_str());
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CURRENT_PORT]);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_HOST_URL]);
    post_element_message(self, gst_structure_new("wmnetsink-open", "port", G_TYPE_UINT,
                                                 static_cast<guint>(*port), "host-url",
                                                 G_TYPE_STRING, url.c_str(), "address",
                                                 G_TYPE_STRING, config.address.c_str(), nullptr));
    gst_wm_net_sink_open_port(self, config.address, *port);
    return TRUE;
}

/* READY→NULL: IWMWriterNetworkSink::Close. */
static void gst_wm_net_sink_close(GstWmNetSink *self) {
    GstWmNetSinkState *state = self->state;

    /* The firewall rule and the gateway mapping are undone in parallel with
     * the server's close, each bounded (about 2 s). */
    state->firewall_.begin_close();
    state->mapper_.begin_close();
    state->server_.close();
    state->firewall_.close();
    state->mapper_.close();
    /* Emits the removals close() reported and the port reports. */
    state->relay_.stop();
    {
        std::lock_guard<std::mutex> locker(state->lock_);
        state->open_ = false;
        state->current_port_ = 0;
        state->host_url_.clear();
        state->external_address_.clear();
        state->external_port_ = 0;
    }
    GST_INFO_OBJECT(self, "closed");
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CURRENT_PORT]);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_HOST_URL]);
}

static GstStateChangeReturn gst_wm_net_sink_change_state(GstElement *element,
                                                         GstStateChange transition) {
    GstWmNetSink *self = GST_WM_NET_SINK(element);
    wmstream::server::Server &server = self->state->server_;

    switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
        if (!gst_wm_net_sink_open(self))
            return GST_STATE_CHANGE_FAILURE;
        break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
        server.set_accepting(true);
        break;
    default:
        break;
    }

    GstStateChangeReturn ret =
        GST_ELEMENT_CLASS(gst_wm_net_sink_parent_class)->change_state(element, transition);

    switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
        if (ret == GST_STATE_CHANGE_FAILURE)
            gst_wm_net_sink_close(self);
        break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
        if (ret == GST_STATE_CHANGE_FAILURE)
            server.set_accepting(false);
        break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
        /* The session leaves the active state: drop every client, keep the port. */
        server.set_accepting(false);
        server.disconnect_all();
        server.clear_stream();
        break;
    case GST_STATE_CHANGE_READY_TO_NULL:
        gst_wm_net_sink_close(self);
        break;
    default:
        break;
    }
    return ret;
}

/* Properties */

/* The listener settings: fixed while open (IWMWriterNetworkSink). */
static bool fixed_while_open(guint prop_id) {
    return prop_id == PROP_PORT || prop_id == PROP_ADDRESS || prop_id == PROP_MAX_CLIENTS ||
           prop_id == PROP_BACKLOG || prop_id == PROP_ALLOW || prop_id == PROP_DENY ||
           prop_id == PROP_USER_ID || prop_id == PROP_USER_PW || prop_id == PROP_TLS_CERTIFICATE ||
           prop_id == PROP_TLS_CERTIFICATE_FILE;
}

/* Stores @value of property @prop_id in @settings; returns whether it changed. */
static bool apply_setting(Settings &settings, guint prop_id, const GValue *value) {
    wmstream::server::ServerConfig &config = settings.config;
    switch (prop_id) {
    case PROP_PORT: {
        const auto port = static_cast<uint16_t>(g_value_get_int(value));
        return std::exchange(config.port, port) != port;
    }
    case PROP_ADDRESS: {
        const gchar *address = g_value_get_string(value);
        const std::string text = address ? address : "";
        return std::exchange(config.address, text) != text;
    }
    case PROP_MAX_CLIENTS: {
        const gint max_clients = g_value_get_int(value);
        return std::exchange(config.max_clients, max_clients) != max_clients;
    }
    case PROP_PROTOCOL: {
        const auto protocol = static_cast<GstWmNetSinkProtocol>(g_value_get_enum(value));
        return std::exchange(settings.protocol, protocol) != protocol;
    }
    case PROP_BACKLOG: {
        const gint backlog = g_value_get_int(value);
        return std::exchange(config.backlog, backlog) != backlog;
    }
    case PROP_UNIT_FORMAT: {
        const auto format = static_cast<GstFormat>(g_value_get_enum(value));
        if (format != GST_FORMAT_TIME && format != GST_FORMAT_BYTES && format != GST_FORMAT_BUFFERS)
            return false;
        return std::exchange(settings.unit_format, format) != format;
    }
    case PROP_UNITS_MAX: {
        const gint64 units = g_value_get_int64(value);
        return std::exchange(settings.units_max, units) != units;
    }
    case PROP_UNITS_SOFT_MAX: {
        const gint64 units = g_value_get_int64(value);
        return std::exchange(settings.units_soft_max, units) != units;
    }
    case PROP_RECOVER_POLICY: {
        const auto policy = static_cast<GstWmNetSinkRecoverPolicy>(g_value_get_enum(value));
        return std::exchange(settings.recover_policy, policy) != policy;
    }
    case PROP_TIMEOUT: {
        const auto timeout_us = static_cast<int64_t>(g_value_get_uint64(value) / GST_USECOND);
        return std::exchange(config.timeout_us, timeout_us) != timeout_us;
    }
    case PROP_FLUSH_INTERVAL: {
        const auto interval_us = static_cast<int64_t>(g_value_get_uint64(value) / GST_USECOND);
        return std::exchange(config.flush_interval_us, interval_us) != interval_us;
    }
    case PROP_IO_THREADS: {
        const guint threads = g_value_get_uint(value);
        return std::exchange(config.io_threads, threads) != threads;
    }
    case PROP_IO_REALTIME_PRIORITY: {
        const gint priority = g_value_get_int(value);
        return std::exchange(config.io_realtime_priority, priority) != priority;
    }
    case PROP_REQUEST_TIMEOUT: {
        const auto timeout_us = static_cast<int64_t>(g_value_get_uint64(value) / GST_USECOND);
        return std::exchange(config.request_timeout_us, timeout_us) != timeout_us;
    }
    case PROP_OPEN_FIREWALL: {
        const bool open = g_value_get_boolean(value);
        return std::exchange(settings.reach.open_firewall, open) != open;
    }
    case PROP_FIREWALL_ZONE: {
        const gchar *zone = g_value_get_string(value);
        const std::string text = zone ? zone : "";
        return std::exchange(settings.reach.firewall_zone, text) != text;
    }
    case PROP_PORT_MAPPING: {
        const auto mapping = static_cast<GstWmNetSinkPortMapping>(g_value_get_enum(value));
        return std::exchange(settings.reach.port_mapping, mapping) != mapping;
    }
    case PROP_PORT_MAPPING_LEASE: {
        const guint lease_s = g_value_get_uint(value);
        return std::exchange(settings.reach.lease_s, lease_s) != lease_s;
    }
    case PROP_ALLOW:
    case PROP_DENY:
    case PROP_USER_ID:
    case PROP_USER_PW:
    case PROP_TLS_CERTIFICATE_FILE: {
        std::string &field = prop_id == PROP_ALLOW     ? settings.allow
                             : prop_id == PROP_DENY    ? settings.deny
                             : prop_id == PROP_USER_ID ? config.user
                             : prop_id == PROP_USER_PW ? config.password
                                                       : settings.tls_certificate_file;
        const char *text = g_value_get_string(value);
        return std::exchange(field, text ? text : "") != (text ? text : "");
    }
    case PROP_TLS_CERTIFICATE: {
        auto *certificate = static_cast<GTlsCertificate *>(g_value_dup_object(value));
        const bool changed = certificate != config.tls_certificate.get();
        if (certificate)
            config.tls_certificate.reset(certificate, g_object_unref);
        else
            config.tls_certificate.reset();
        return changed;
    }
    default:
        g_return_val_if_reached(false);
    }
}

static void gst_wm_net_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                         GParamSpec *pspec) {
    GstWmNetSink *self = GST_WM_NET_SINK(object);
    GstWmNetSinkState *state = self->state;
    bool refused = false;
    bool changed = false;
    {
        std::lock_guard<std::mutex> locker(state->lock_);
        refused = state->open_ && fixed_while_open(prop_id);
        if (!refused)
            changed = apply_setting(state->settings_, prop_id, value);
    }

    if (refused) {
        GST_WARNING_OBJECT(self, "refusing to change '%s' while open", pspec->name);
        WMSTREAM_POST_ERROR(
            self, GST_MESSAGE_WARNING,
            wmstream::make_error(wmstream::Errc::InvalidRequest,
                                 std::string("'") + pspec->name +
                                     "' is fixed from NULL→READY until READY→NULL"),
            std::string("Cannot change '") + pspec->name + "' while the sink is open.",
            gst_structure_new("context", "property", G_TYPE_STRING, pspec->name, nullptr));
    } else if (changed) {
        g_object_notify_by_pspec(object, pspec);
    }
}

static void gst_wm_net_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                         GParamSpec *pspec) {
    GstWmNetSink *self = GST_WM_NET_SINK(object);
    GstWmNetSinkState *state = self->state;

    /* Live values of the server, read without lock_ held. */
    switch (prop_id) {
    case PROP_NUM_CLIENTS:
        g_value_set_uint(value, static_cast<guint>(state->server_.num_clients()));
        return;
    case PROP_BYTES_SERVED:
        g_value_set_uint64(value, state->server_.stats().bytes_sent);
        return;
    case PROP_SERVER_STATS: {
        const wmstream::server::ServerStats s = state->server_.stats();
        g_value_take_boxed(
            value,
            gst_structure_new(
                "wmnetsink-stats", "num-clients", G_TYPE_UINT,
                static_cast<guint>(state->server_.num_clients()), "bytes-sent", G_TYPE_UINT64,
                static_cast<guint64>(s.bytes_sent), "clients-served", G_TYPE_UINT64,
                static_cast<guint64>(s.clients_served), "clients-refused", G_TYPE_UINT64,
                static_cast<guint64>(s.clients_refused), "clients-forbidden", G_TYPE_UINT64,
                static_cast<guint64>(s.clients_forbidden), "clients-unauthorized", G_TYPE_UINT64,
                static_cast<guint64>(s.clients_unauthorized), "tls-handshakes-failed",
                G_TYPE_UINT64, static_cast<guint64>(s.tls_handshakes_failed), "packets-in",
                G_TYPE_UINT64, static_cast<guint64>(s.packets_in), "bytes-in", G_TYPE_UINT64,
                static_cast<guint64>(s.bytes_in), nullptr));
        return;
    }
    default:
        break;
    }

    std::lock_guard<std::mutex> locker(state->lock_);
    const wmstream::server::ServerConfig &config = state->settings_.config;
    switch (prop_id) {
    case PROP_PORT:
        g_value_set_int(value, config.port);
        break;
    case PROP_CURRENT_PORT:
        g_value_set_int(value, static_cast<gint>(state->current_port_));
        break;
    case PROP_ADDRESS:
        g_value_set_string(value, config.address.empty() ? nullptr : config.address.c_str());
        break;
    case PROP_HOST_URL: {
        const std::string url = reachable_url(*state);
        g_value_set_string(value, url.empty() ? nullptr : url.c_str());
        break;
    }
    case PROP_OPEN_FIREWALL:
        g_value_set_boolean(value, state->settings_.reach.open_firewall);
        break;
    case PROP_FIREWALL_ZONE: {
        const std::string &zone = state->settings_.reach.firewall_zone;
        g_value_set_string(value, zone.empty() ? nullptr : zone.c_str());
        break;
    }
    case PROP_PORT_MAPPING:
        g_value_set_enum(value, state->settings_.reach.port_mapping);
        break;
    case PROP_PORT_MAPPING_LEASE:
        g_value_set_uint(value, state->settings_.reach.lease_s);
        break;
    case PROP_ALLOW:
        g_value_set_string(value, state->settings_.allow.empty() ? nullptr
                                                                 : state->settings_.allow.c_str());
        break;
    case PROP_DENY:
        g_value_set_string(value,
                           state->settings_.deny.empty() ? nullptr : state->settings_.deny.c_str());
        break;
    case PROP_USER_ID:
        g_value_set_string(value, config.user.empty() ? nullptr : config.user.c_str());
        break;
    case PROP_TLS_CERTIFICATE:
        g_value_set_object(value, config.tls_certificate.get());
        break;
    case PROP_TLS_CERTIFICATE_FILE: {
        const std::string &file = state->settings_.tls_certificate_file;
        g_value_set_string(value, file.empty() ? nullptr : file.c_str());
        break;
    }
    case PROP_EXTERNAL_ADDRESS:
        g_value_set_string(
            value, state->external_address_.empty() ? nullptr : state->external_address_.c_str());
        break;
    case PROP_EXTERNAL_PORT:
        g_value_set_int(value, static_cast<gint>(state->external_port_));
        break;
    case PROP_MAX_CLIENTS:
        g_value_set_int(value, config.max_clients);
        break;
    case PROP_PROTOCOL:
        g_value_set_enum(value, state->settings_.protocol);
        break;
    case PROP_BACKLOG:
        g_value_set_int(value, config.backlog);
        break;
    case PROP_UNIT_FORMAT:
        g_value_set_enum(value, state->settings_.unit_format);
        break;
    case PROP_UNITS_MAX:
        g_value_set_int64(value, state->settings_.units_max);
        break;
    case PROP_UNITS_SOFT_MAX:
        g_value_set_int64(value, state->settings_.units_soft_max);
        break;
    case PROP_RECOVER_POLICY:
        g_value_set_enum(value, state->settings_.recover_policy);
        break;
    case PROP_TIMEOUT:
        g_value_set_uint64(value, static_cast<guint64>(config.timeout_us) * GST_USECOND);
        break;
    case PROP_FLUSH_INTERVAL:
        g_value_set_uint64(value, static_cast<guint64>(config.flush_interval_us) * GST_USECOND);
        break;
    case PROP_IO_THREADS:
        g_value_set_uint(value, config.io_threads);
        break;
    case PROP_IO_REALTIME_PRIORITY:
        g_value_set_int(value, config.io_realtime_priority);
        break;
    case PROP_REQUEST_TIMEOUT:
        g_value_set_uint64(value, static_cast<guint64>(config.request_timeout_us) * GST_USECOND);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

/* GObject */

static void gst_wm_net_sink_init(GstWmNetSink *self) {
    self->state = new GstWmNetSinkState(self);
    gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
}

static void gst_wm_net_sink_finalize(GObject *object) {
    GstWmNetSink *self = GST_WM_NET_SINK(object);
    delete self->state;
    G_OBJECT_CLASS(gst_wm_net_sink_parent_class)->finalize(object);
}

static void install_properties(GObjectClass *object_class) {
    const wmstream::server::ServerConfig defaults;
    constexpr auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 G_PARAM_EXPLICIT_NOTIFY);
    constexpr auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    properties[PROP_PORT] = g_param_spec_int(
        "port", "Port",
        "TCP port to listen on; 0 = pick a free port (see current-port). Refused while open "
        "(0..65535, default 8080)",
        0, G_MAXUINT16, defaults.port, rw);
    properties[PROP_CURRENT_PORT] = g_param_spec_int(
        "current-port", "Current port",
        "The TCP port listened on, 0 when not open; notified on open and close (0..65535)", 0,
        G_MAXUINT16, 0, ro);
    properties[PROP_ADDRESS] = g_param_spec_string(
        "address", "Address",
        "Local address to bind (IP literal or host name); NULL or empty = all interfaces, IPv4 "
        "and IPv6. Refused while open (default NULL)",
        nullptr, rw);
    properties[PROP_HOST_URL] = g_param_spec_string(
        "host-url", "Host URL",
        "URL of the stream, http://host:port/ (IWMWriterNetworkSink::GetHostURL): the gateway's "
        "external address and port while port-mapping holds a mapping; NULL when not open",
        nullptr, ro);
    properties[PROP_OPEN_FIREWALL] = g_param_spec_boolean(
        "open-firewall", "Open firewall",
        "After the bind, open the TCP port in the host firewall (a firewalld runtime rule in "
        "firewall-zone, asynchronously) and close it at READY->NULL; a rule that was already "
        "there is left alone. Used from the next open (default false)",
        FALSE, rw);
    properties[PROP_FIREWALL_ZONE] = g_param_spec_string(
        "firewall-zone", "Firewall zone",
        "firewalld zone for open-firewall; NULL = the default zone. Used from the next open "
        "(default NULL)",
        nullptr, rw);
    properties[PROP_PORT_MAPPING] = g_param_spec_enum(
        "port-mapping", "Port mapping",
        "After the bind, map the TCP port on the NAT gateway (UPnP IGD, NAT-PMP, or UPnP then "
        "NAT-PMP) until READY->NULL; see external-address and external-port. Used from the next "
        "open (default none)",
        GST_TYPE_WM_NET_SINK_PORT_MAPPING, GST_WM_NET_SINK_PORT_MAPPING_NONE, rw);
    properties[PROP_PORT_MAPPING_LEASE] = g_param_spec_uint(
        "port-mapping-lease", "Port mapping lease",
        "Lease asked for the gateway mapping, renewed at half its length. Used from the next "
        "open (1..604800 s, default 3600)",
        1, 604800, wmstream::reach::PortMappingConfig().lease_s, rw);
    properties[PROP_EXTERNAL_ADDRESS] = g_param_spec_string(
        "external-address", "External address",
        "The gateway's external IPv4 address while port-mapping holds a mapping, else NULL; "
        "notified on change",
        nullptr, ro);
    properties[PROP_EXTERNAL_PORT] = g_param_spec_int(
        "external-port", "External port",
        "The gateway's external TCP port while port-mapping holds a mapping, else 0; notified "
        "on change (0..65535)",
        0, G_MAXUINT16, 0, ro);
    properties[PROP_ALLOW] = g_param_spec_string(
        "allow", "Allowed addresses",
        "Only clients from these address ranges may connect, checked at accept: CIDR ranges or "
        "addresses, IPv4 or IPv6, separated by commas or spaces (e.g. \"10.0.0.0/8, "
        "2001:db8::/32\"); NULL = everyone. Others are closed at once (client-removed reason "
        "forbidden). Refused while open (default NULL)",
        nullptr, rw);
    properties[PROP_DENY] = g_param_spec_string(
        "deny", "Denied addresses",
        "Clients from these address ranges may not connect (same syntax as allow; wins over "
        "allow). Refused while open (default NULL)",
        nullptr, rw);
    properties[PROP_USER_ID] = g_param_spec_string(
        "user-id", "Viewer user name",
        "With user-pw: viewers must authenticate with HTTP Digest or Basic before any stream "
        "byte (wrong credentials: 401, client-removed reason unauthorized). Basic sends the "
        "password readable by anyone on the path unless tls-certificate is set. Refused while "
        "open (default NULL = no credentials)",
        nullptr, rw);
    properties[PROP_USER_PW] = g_param_spec_string(
        "user-pw", "Viewer password",
        "Password for user-id. Write-only, never logged or posted. Refused while open (default "
        "NULL)",
        nullptr, GParamFlags(G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY));
    properties[PROP_TLS_CERTIFICATE] = g_param_spec_object(
        "tls-certificate", "TLS certificate",
        "Serve HTTPS with this certificate, which must carry its private key (host-url becomes "
        "https://…; needs glib-networking). Refused while open (default NULL = plain HTTP)",
        G_TYPE_TLS_CERTIFICATE, rw);
    properties[PROP_TLS_CERTIFICATE_FILE] = g_param_spec_string(
        "tls-certificate-file", "TLS certificate file",
        "PEM file with the certificate (chain) and its private key, loaded at Open when "
        "tls-certificate is not set: the way to serve HTTPS from gst-launch-1.0. Refused while "
        "open (default NULL)",
        nullptr, rw);
    properties[PROP_MAX_CLIENTS] = g_param_spec_int(
        "max-clients", "Maximum clients",
        "Streaming clients served at once, more get 503; -1 = unlimited. Refused while open "
        "(-1..2147483647, default 5)",
        -1, G_MAXINT, defaults.max_clients, rw);
    properties[PROP_PROTOCOL] = g_param_spec_enum(
        "protocol", "Protocol", "Network protocol; only http (WMT_PROTOCOL_HTTP) (default http)",
        GST_TYPE_WM_NET_SINK_PROTOCOL, GST_WM_NET_SINK_PROTOCOL_HTTP, rw);
    properties[PROP_NUM_CLIENTS] =
        g_param_spec_uint("num-clients", "Number of clients",
                          "Clients being served now (0..4294967295)", 0, G_MAXUINT, 0, ro);
    properties[PROP_BACKLOG] = g_param_spec_int(
        "backlog", "Listen backlog",
        "Connections the kernel queues until they are accepted (listen(2) backlog). Refused "
        "while open (1..65535, default 1024)",
        1, G_MAXUINT16, defaults.backlog, rw);
    const Settings default_settings;
    properties[PROP_UNIT_FORMAT] = g_param_spec_enum(
        "unit-format", "Unit format",
        "Unit of units-max and units-soft-max: time (ns behind live), bytes or buffers (ASF "
        "packets); used from the next open (default time)",
        GST_TYPE_FORMAT, default_settings.unit_format, rw);
    properties[PROP_UNITS_MAX] = g_param_spec_int64(
        "units-max", "Units max",
        "Hard limit: a client further behind live than this (in unit-format) is removed as "
        "slow; also how much stream is kept for slow clients, so it bounds memory; -1 = "
        "unlimited (memory grows with the slowest client). Used from the next open "
        "(-1..9223372036854775807, default 30000000000 = 30 s)",
        -1, G_MAXINT64, default_settings.units_max, rw);
    properties[PROP_UNITS_SOFT_MAX] = g_param_spec_int64(
        "units-soft-max", "Units soft max",
        "Soft limit: a client further behind live than this (in unit-format) continues where "
        "recover-policy says; -1 = no soft limit. Used from the next open "
        "(-1..9223372036854775807, default 5000000000 = 5 s)",
        -1, G_MAXINT64, default_settings.units_soft_max, rw);
    properties[PROP_RECOVER_POLICY] = g_param_spec_enum(
        "recover-policy", "Recover policy",
        "Where a client past units-soft-max continues; used from the next open (default "
        "keyframe)",
        GST_TYPE_WM_NET_SINK_RECOVER_POLICY, default_settings.recover_policy, rw);
    properties[PROP_TIMEOUT] = g_param_spec_uint64(
        "timeout", "Timeout",
        "Nanoseconds a client may accept no byte before it is removed as slow; 0 = never; used "
        "from the next open (0..9223372036854775807 ns, default 10000000000 = 10 s)",
        0, G_MAXINT64, static_cast<guint64>(defaults.timeout_us) * GST_USECOND, rw);
    properties[PROP_FLUSH_INTERVAL] = g_param_spec_uint64(
        "flush-interval", "Flush interval",
        "Nanoseconds new packets may wait so that each client gets them in one write: fewer, "
        "larger writes cost far less CPU per client; 0 = write every packet at once (lowest "
        "latency). Joins and headers are never delayed. Used from the next open "
        "(0..1000000000 ns, default 125000000 = 125 ms)",
        0, GST_SECOND, static_cast<guint64>(defaults.flush_interval_us) * GST_USECOND, rw);
    properties[PROP_IO_THREADS] = g_param_spec_uint(
        "io-threads", "I/O threads",
        "Threads that write to the clients in each round (the I/O thread and helpers); 0 = "
        "automatic: 2 with two cores or more, else 1. More shorten a round on a multi-core "
        "machine, so the last clients of a round get new packets sooner: the low-latency "
        "setting is flush-interval=0 io-threads=2 io-realtime-priority=10. TLS clients are "
        "always written by the I/O thread. Used from the next open",
        0, wmstream::server::kMaxIoThreads, defaults.io_threads, rw);
    properties[PROP_IO_REALTIME_PRIORITY] = g_param_spec_int(
        "io-realtime-priority", "I/O real-time priority",
        "Run the I/O threads under the real-time scheduler (SCHED_FIFO) at this priority, so "
        "that other work on their cores never delays a round: part of the low-latency "
        "setting on a busy machine. 0 = the normal scheduler. Needs CAP_SYS_NICE or an "
        "RLIMIT_RTPRIO of at least the priority; without, the sink streams with the normal "
        "scheduler and posts a WARNING (E_ACCESSDENIED). Used from the next open",
        0, wmstream::server::kMaxRealtimePriority, defaults.io_realtime_priority, rw);
    properties[PROP_REQUEST_TIMEOUT] = g_param_spec_uint64(
        "request-timeout", "Request timeout",
        "Nanoseconds a connection has to send its complete request (at most 16 KiB and 100 "
        "lines); slower or silent ones (slowloris) are closed. Used from the next open "
        "(1000000..9223372036854775807 ns, default 10000000000 = 10 s)",
        GST_MSECOND, G_MAXINT64, static_cast<guint64>(defaults.request_timeout_us) * GST_USECOND,
        rw);
    properties[PROP_BYTES_SERVED] = g_param_spec_uint64(
        "bytes-served", "Bytes served",
        "Bytes sent to all clients since the sink opened, HTTP headers included "
        "(0..18446744073709551615)",
        0, G_MAXUINT64, 0, ro);
    properties[PROP_SERVER_STATS] = g_param_spec_boxed(
        "server-stats", "Server statistics",
        "Totals since the sink opened, as a wmnetsink-stats structure: num-clients (guint), "
        "bytes-sent, clients-served, clients-refused (503 over max-clients), clients-forbidden "
        "(address or client-connecting refusals), clients-unauthorized (wrong credentials), "
        "tls-handshakes-failed (connections closed in the TLS handshake), packets-in, bytes-in "
        "(guint64). Per-client figures: get-clients / get-stats",
        GST_TYPE_STRUCTURE, ro);

    g_object_class_install_properties(object_class, N_PROPERTIES, properties);
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
     * #GstWmNetSink::client-added.
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
     * its address and credentials passed, when at least one handler is
     * connected at Open (srtsink's caller-connecting). Return %FALSE to refuse
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
     * (string), protocol (string, "wmsp" or "http"), connected-time (gint64,
     * µs since the epoch), connect-duration (guint64, ns), bytes-sent
     * (guint64), packets-sent (guint64), bitrate (guint64, bit/s), lag
     * (gint64, ns behind live), key-frame-skips (guint64).
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
    install_properties(object_class);
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
}
