/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "broadcast/broadcast.h"
#include "base/log.h"

#if WMSTREAM_REACH
#include "reach/firewall.h"
#include "reach/port-mapper.h"
#endif

#include <gio/gio.h>

#include <mutex>

namespace wmstream::broadcast {

const char *const kReachMissing = "built without port reachability: reconfigure with "
                                  "-Dreach=enabled (needs libminiupnpc-dev, libnatpmp-dev)";

namespace {

/* "scheme://host:port/" for a listener on @p address: the host name when bound
 * to every interface, an IPv6 address in brackets. */
std::string local_url(const std::string &scheme, const std::string &address, uint16_t port) {
    std::string host = address;
    g_autoptr(GInetAddress) inet =
        address.empty() ? nullptr : g_inet_address_new_from_string(address.c_str());
    if (address.empty() || (inet && g_inet_address_get_is_any(inet)))
        host = g_get_host_name();
    else if (inet && g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6)
        host = "[" + address + "]";
    return scheme + "://" + host + ":" + std::to_string(port) + "/";
}

/* The certificate of @p config: the one set, else the file loaded. */
Result<std::shared_ptr<GTlsCertificate>> load_certificate(const BroadcastConfig &config) {
    if (config.server.tls_certificate || config.tls_certificate_file.empty())
        return config.server.tls_certificate;
    g_autoptr(GError) error = nullptr;
    GTlsCertificate *certificate =
        g_tls_certificate_new_from_file(config.tls_certificate_file.c_str(), &error);
    if (!certificate)
        return make_error(Errc::InvalidArgument,
                          std::string("g_tls_certificate_new_from_file: ") + error->message);
    return std::shared_ptr<GTlsCertificate>(certificate, g_object_unref);
}

} // namespace

class Broadcast::Impl final : public reach::PortEvents {
public:
    explicit Impl(BroadcastEvents *events)
        : events_(events), server_(events)
#if WMSTREAM_REACH
          ,
          firewall_(this), mapper_(this)
#endif
    {
    }

    /* PortEvents, on a reachability thread: a gateway report sets or clears
     * the external address, then both are forwarded. */
    void port_report(const reach::PortReport &report) override {
        bool changed = false;
        if (report.backend != reach::PortBackend::Firewalld) {
            const bool mapped = report.result == reach::PortResult::Opened ||
                                report.result == reach::PortResult::AlreadyOpen;
            const std::string address = mapped ? report.external_address : "";
            const uint16_t port = mapped ? report.external_port : 0;
            std::lock_guard<std::mutex> locker(lock_);
            changed = port_ != 0 && (external_address_ != address || external_port_ != port);
            if (changed) {
                external_address_ = address;
                external_port_ = port;
            }
        }
        events_->port_report(report);
        if (changed)
            events_->external_changed();
    }

    /* Starts opening and mapping @p port as @p reach asks; a refusal (already
     * open) is only logged: the outcome comes as a PortReport. */
    void open_port(const ReachConfig &reach, const std::string &address, uint16_t port) {
#if WMSTREAM_REACH
        if (reach.open_firewall) {
            reach::FirewallConfig firewall;
            firewall.zone = reach.firewall_zone;
            firewall.port = port;
            firewall.bind_address = address;
            const Status status = firewall_.open(firewall);
            if (!status)
                WMSTREAM_LOG_WARNING("firewall: %s", status.error().message.c_str());
        }
        if (reach.port_mapping != PortMapping::None) {
            reach::PortMappingConfig mapping;
            mapping.method =
                reach.port_mapping == PortMapping::Upnp     ? reach::PortMappingMethod::Upnp
                : reach.port_mapping == PortMapping::NatPmp ? reach::PortMappingMethod::NatPmp
                                                            : reach::PortMappingMethod::Auto;
            mapping.port = port;
            mapping.bind_address = address;
            mapping.lease_s = reach.lease_s;
            const Status status = mapper_.open(mapping);
            if (!status)
                WMSTREAM_LOG_WARNING("port mapping: %s", status.error().message.c_str());
        }
#else
        (void)reach;
        (void)address;
        (void)port;
#endif
    }

    /* Undoes the rule and the mapping in parallel with the server's close. */
    void close_all() {
#if WMSTREAM_REACH
        firewall_.begin_close();
        mapper_.begin_close();
#endif
        server_.close();
#if WMSTREAM_REACH
        firewall_.close();
        mapper_.close();
#endif
    }

    BroadcastEvents *events_;

    /* A leaf lock: never held while calling out (server, reach, events). */
    mutable std::mutex lock_;
    /* Protected by lock_: 0 when not open. */
    uint16_t port_ = 0;
    /* Protected by lock_: "" when not open. */
    std::string host_url_;
    /* Protected by lock_: "https" when serving TLS, else "http". */
    std::string scheme_ = "http";
    /* Protected by lock_: the mapping's, "" and 0 without one. */
    std::string external_address_;
    uint16_t external_port_ = 0;

    /* Declared after the members above, which their callbacks use. */
    server::Server server_;
#if WMSTREAM_REACH
    reach::Firewall firewall_;
    reach::PortMapper mapper_;
#endif
};

Broadcast::Broadcast(BroadcastEvents *events) : impl_(std::make_unique<Impl>(events)) {}

Broadcast::~Broadcast() {
    close();
}

bool Broadcast::reach_built() {
    return WMSTREAM_REACH;
}

OpenResult Broadcast::open(const BroadcastConfig &config) {
    if (!reach_built() &&
        (config.reach.open_firewall || config.reach.port_mapping != PortMapping::None))
        return OpenError{OpenStep::Reach, make_error(Errc::InvalidArgument, kReachMissing)};

    server::ServerConfig server_config = config.server;
    Result<std::shared_ptr<GTlsCertificate>> certificate = load_certificate(config);
    if (!certificate)
        return OpenError{OpenStep::Certificate, certificate.error()};
    server_config.tls_certificate = *certificate;

    const Result<uint16_t> port = impl_->server_.open(server_config);
    if (!port)
        return OpenError{OpenStep::Listen, port.error()};

    const std::string scheme = server_config.tls_certificate ? "https" : "http";
    const std::string url = local_url(scheme, server_config.address, *port);
    {
        std::lock_guard<std::mutex> locker(impl_->lock_);
        impl_->scheme_ = scheme;
        impl_->port_ = *port;
        impl_->host_url_ = url;
    }
    impl_->events_->opened(*port, url);
    impl_->open_port(config.reach, server_config.address, *port);
    return *port;
}

void Broadcast::activate() {
    impl_->server_.set_accepting(true);
}

void Broadcast::deactivate() {
    server::Server &server = impl_->server_;
    server.set_accepting(false);
    server.disconnect_all();
    server.clear_stream();
}

void Broadcast::close() {
    impl_->close_all();
    std::lock_guard<std::mutex> locker(impl_->lock_);
    impl_->port_ = 0;
    impl_->host_url_.clear();
    impl_->scheme_ = "http";
    impl_->external_address_.clear();
    impl_->external_port_ = 0;
}

server::Server &Broadcast::server() {
    return impl_->server_;
}

uint16_t Broadcast::port() const {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    return impl_->port_;
}

std::string Broadcast::host_url() const {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    return impl_->host_url_;
}

std::string Broadcast::reachable_url() const {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    if (impl_->external_address_.empty() || impl_->external_port_ == 0)
        return impl_->host_url_;
    return impl_->scheme_ + "://" + impl_->external_address_ + ":" +
           std::to_string(impl_->external_port_) + "/";
}

std::string Broadcast::external_address() const {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    return impl_->external_address_;
}

uint16_t Broadcast::external_port() const {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    return impl_->external_port_;
}

} // namespace wmstream::broadcast
