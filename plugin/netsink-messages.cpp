/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "netsink-messages.h"

namespace wmstream::plugin::netsink {

namespace {

/* The stream numbers of @p streams, ascending, as a GstValueArray of guint. */
void set_stream_array(GstStructure *structure, const char *field, const std::bitset<128> &streams) {
    GValue array = G_VALUE_INIT;
    gst_value_array_init(&array, 0);
    for (size_t number = 1; number < streams.size(); ++number) {
        if (!streams[number])
            continue;
        GValue value = G_VALUE_INIT;
        g_value_init(&value, G_TYPE_UINT);
        g_value_set_uint(&value, guint(number));
        gst_value_array_append_and_take_value(&array, &value);
    }
    gst_structure_take_value(structure, field, &array);
}

} // namespace

/* The "wmnetsink-client" structure of get-stats / get-clients. */
GstStructure *client_structure(const server::ClientInfo &client) {
    GstStructure *structure = gst_structure_new(
        "wmnetsink-client", "id", G_TYPE_UINT64, static_cast<guint64>(client.id), "address",
        G_TYPE_STRING, client.address.c_str(), "port", G_TYPE_UINT, static_cast<guint>(client.port),
        "dns-name", G_TYPE_STRING, client.dns_name.c_str(), "user-agent", G_TYPE_STRING,
        client.user_agent.c_str(), "protocol", G_TYPE_STRING, to_string(client.protocol), "relay",
        G_TYPE_BOOLEAN, gboolean(client.relay), "connected-time", G_TYPE_INT64,
        static_cast<gint64>(client.connected_at_us), "connect-duration", G_TYPE_UINT64,
        static_cast<guint64>(client.connected_for_us) * GST_USECOND, "bytes-sent", G_TYPE_UINT64,
        static_cast<guint64>(client.bytes_sent), "packets-sent", G_TYPE_UINT64,
        static_cast<guint64>(client.packets_sent), "bitrate", G_TYPE_UINT64,
        static_cast<guint64>(client.bitrate_bps), "lag", G_TYPE_INT64,
        static_cast<gint64>(client.lag_us) * GST_USECOND, "key-frame-skips", G_TYPE_UINT64,
        static_cast<guint64>(client.key_frame_skips), "start-lag", G_TYPE_INT64,
        client.start_lag_us < 0 ? gint64(-1)
                                : static_cast<gint64>(client.start_lag_us) * GST_USECOND,
        "thinning", G_TYPE_UINT, guint(client.thinning), nullptr);
    set_stream_array(structure, "selected-streams", client.selected_streams);
    return structure;
}

/* The "wmnetsink-stats" structure of server-stats. */
GstStructure *stats_structure(server::Server &server) {
    const server::ServerStats s = server.stats();
    return gst_structure_new(
        "wmnetsink-stats", "num-clients", G_TYPE_UINT, static_cast<guint>(server.num_clients()),
        "num-relays", G_TYPE_UINT, static_cast<guint>(server.num_relays()), "bytes-sent",
        G_TYPE_UINT64, static_cast<guint64>(s.bytes_sent), "clients-served", G_TYPE_UINT64,
        static_cast<guint64>(s.clients_served), "clients-refused", G_TYPE_UINT64,
        static_cast<guint64>(s.clients_refused), "clients-forbidden", G_TYPE_UINT64,
        static_cast<guint64>(s.clients_forbidden), "clients-unauthorized", G_TYPE_UINT64,
        static_cast<guint64>(s.clients_unauthorized), "loops-refused", G_TYPE_UINT64,
        static_cast<guint64>(s.loops_refused), "clients-redirected", G_TYPE_UINT64,
        static_cast<guint64>(s.clients_redirected), "tls-handshakes-failed", G_TYPE_UINT64,
        static_cast<guint64>(s.tls_handshakes_failed), "connections-refused", G_TYPE_UINT64,
        static_cast<guint64>(s.connections_refused), "connections-evicted", G_TYPE_UINT64,
        static_cast<guint64>(s.connections_evicted), "packets-in", G_TYPE_UINT64,
        static_cast<guint64>(s.packets_in), "bytes-in", G_TYPE_UINT64,
        static_cast<guint64>(s.bytes_in), nullptr);
}

/* The "wmnetsink-port-open" structure of @report. */
GstStructure *port_report_structure(const reach::PortReport &report) {
    GstStructure *structure = gst_structure_new(
        "wmnetsink-port-open", "backend", G_TYPE_STRING, to_string(report.backend), "action",
        G_TYPE_STRING, to_string(report.action), "result", G_TYPE_STRING, to_string(report.result),
        "port", G_TYPE_UINT, static_cast<guint>(report.port), "protocol", G_TYPE_STRING,
        report.protocol.c_str(), nullptr);
    if (report.backend == reach::PortBackend::Firewalld)
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
std::string port_failure_text(const reach::PortReport &report) {
    const std::string port = "port " + std::to_string(report.port) + "/" + report.protocol;
    if (report.backend == reach::PortBackend::Firewalld)
        return report.action == reach::PortAction::Close
                   ? "Could not close " + port + " in the firewall."
                   : "Could not open " + port + " in the firewall.";
    const std::string gateway = std::string(" (") + to_string(report.backend) + ").";
    if (report.action == reach::PortAction::Open)
        return "Could not map " + port + " on the gateway" + gateway;
    if (report.action == reach::PortAction::Renew)
        return "Could not renew the mapping of " + port + " on the gateway" + gateway;
    return "Could not remove the mapping of " + port + " from the gateway" + gateway;
}

/* The user text of a failed open. */
std::string open_failure_text(const broadcast::OpenError &failure,
                              const broadcast::BroadcastConfig &config) {
    switch (failure.step) {
    case broadcast::OpenStep::Reach:
        return "Cannot open the port in the firewall or map it on the gateway: " +
               failure.error.message + ".";
    case broadcast::OpenStep::Certificate:
        return "Could not load the TLS certificate and key from '" + config.tls_certificate_file +
               "'.";
    case broadcast::OpenStep::Listen:
        break;
    }
    if (failure.error.code == wmstream::Errc::InvalidArgument)
        return "Invalid setting: " + failure.error.message + ".";
    const std::string &address = config.server.address;
    return "Could not listen on port " + std::to_string(config.server.port) + " of " +
           (address.empty() ? "all interfaces" : address) + ": " + to_string(failure.error.code) +
           ".";
}

/* The details of a failed open. */
GstStructure *open_failure_context(const broadcast::OpenError &failure,
                                   const broadcast::BroadcastConfig &config) {
    switch (failure.step) {
    case broadcast::OpenStep::Reach:
        return nullptr;
    case broadcast::OpenStep::Certificate:
        return gst_structure_new("context", "file", G_TYPE_STRING,
                                 config.tls_certificate_file.c_str(), nullptr);
    case broadcast::OpenStep::Listen:
        break;
    }
    return gst_structure_new("context", "port", G_TYPE_UINT, static_cast<guint>(config.server.port),
                             "address", G_TYPE_STRING, config.server.address.c_str(), nullptr);
}

} // namespace wmstream::plugin::netsink
