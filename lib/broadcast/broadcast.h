/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * broadcast: a live broadcast served from this host, the core of wmnetsink
 * (the Windows Media Format SDK's IWMWriterNetworkSink; Windows Media
 * Encoder calls this session "Broadcast a live event"). A Broadcast owns the
 * fan-out server and the port reachability helpers (firewall rule, gateway
 * mapping) and orders them: the TLS certificate file is loaded, the port is
 * bound, then opened and mapped; at close the rule and mapping are undone in
 * parallel with the server's close. It owns the URLs clients use (GetHostURL)
 * and forwards every event of the server and of port reachability through one
 * interface, BroadcastEvents. May include base/, server/ and reach/; nothing
 * includes it but the plugin and its tests.
 *
 * Port reachability is a build feature (meson -Dreach): without it, a
 * configuration that asks for a firewall rule or a gateway mapping fails
 * open() with InvalidArgument and kReachMissing.
 *
 * Threading: open, activate, deactivate and close are called from one
 * controlling thread (the element's state changes); server() is used as
 * Server documents; the URL getters from any thread. BroadcastEvents::opened
 * runs on the thread calling open(); every other callback on a core thread
 * (the server's I/O thread, a reachability thread) with no lock held.
 */
#pragma once

#include "base/error.h"
#include "reach/types.h"
#include "server/server.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace wmstream::broadcast {

/** Why open() refused a firewall rule or a port mapping in a build without them. */
extern const char *const kReachMissing;

/** How the bound port is mapped on the NAT gateway. */
enum class PortMapping {
    None,   /**< no mapping */
    Upnp,   /**< UPnP IGD (WANIPConnection) */
    NatPmp, /**< NAT-PMP (RFC 6886) */
    Auto,   /**< UPnP IGD, then NAT-PMP when no IGD answers */
};

/** Port reachability: what is done with the port once it is bound. */
struct ReachConfig {
    bool open_firewall = false; /**< open it in the host firewall (firewalld runtime rule) */
    std::string firewall_zone;  /**< firewalld zone; "" = the default zone */
    PortMapping port_mapping = PortMapping::None;
    uint32_t lease_s = 3600; /**< lease asked for the mapping, s, 1..604800 */
};

struct BroadcastConfig {
    server::ServerConfig server;
    /** PEM file with the certificate (chain) and its private key, loaded by open()
     *  when server.tls_certificate is null; "" = none. */
    std::string tls_certificate_file;
    ReachConfig reach;
};

/** Everything a Broadcast reports: the server's events and port reachability's. */
class BroadcastEvents : public server::ServerEvents {
public:
    /** The port is bound (@p port, with port 0 resolved) and clients can use @p host_url;
     *  called by open() on its own thread, before the port is opened or mapped. */
    virtual void opened(uint16_t port, const std::string &host_url) = 0;
    /** An outcome of opening, renewing or closing the firewall rule or the mapping. */
    virtual void port_report(const reach::PortReport &report) = 0;
    /** The gateway mapping appeared, changed or went away: external_address(),
     *  external_port() and reachable_url() changed. Follows the port_report() that did it. */
    virtual void external_changed() = 0;
};

/** The step of open() that failed. */
enum class OpenStep {
    Reach,       /**< port reachability asked for in a build without it (kReachMissing) */
    Certificate, /**< tls_certificate_file could not be loaded (InvalidArgument) */
    Listen,      /**< the server could not bind or listen (Server::open's errors) */
};

/** open()'s failure: the step and its error. */
struct OpenError {
    OpenStep step = OpenStep::Listen;
    Error error;
};

/** The port open() bound, or its failure. */
class [[nodiscard]] OpenResult {
public:
    OpenResult(uint16_t port) : port_(port) {}
    OpenResult(OpenError error) : error_(std::move(error)) {}
    explicit operator bool() const { return !error_.has_value(); }
    uint16_t port() const { return port_; }
    const OpenError &error() const { return *error_; }

private:
    uint16_t port_ = 0;
    std::optional<OpenError> error_;
};

class Broadcast {
public:
    /** @p events must outlive the Broadcast. */
    explicit Broadcast(BroadcastEvents *events);
    ~Broadcast(); /**< close()s */
    Broadcast(const Broadcast &) = delete;
    Broadcast &operator=(const Broadcast &) = delete;

    /** True when this build has port reachability (meson -Dreach). */
    static bool reach_built();

    /**
     * Open (IWMWriterNetworkSink::Open): refuse port reachability the build
     * lacks, load the TLS certificate file, open the server (connections wait
     * in the backlog until activate()), report opened(), then start opening
     * the port in the firewall and mapping it, as @p config asks. Those run on
     * threads of their own and report through port_report(); open() never
     * waits for them.
     * @return the bound port, or the failed step (nothing stays open).
     */
    OpenResult open(const BroadcastConfig &config);

    /** The session becomes active (READY→PAUSED): accept and serve clients. */
    void activate();
    /** The session leaves the active state (PAUSED→READY): stop accepting, drop every
     *  client (reason Disconnected), forget the stream; the port stays bound. */
    void deactivate();

    /**
     * Close (IWMWriterNetworkSink::Close): undo the firewall rule and the
     * mapping in parallel with the server's close (each bounded, about 2 s),
     * then forget the URLs. No callback runs after it returns. Idempotent.
     */
    void close();

    /** The server: the stream (set_header, push_packet…), clients and statistics. */
    server::Server &server();

    /** The bound port, 0 when not open. */
    uint16_t port() const;
    /** The URL of the stream on this host, "scheme://host:port/": the host name when
     *  bound to every interface, else the bind address; "" when not open. */
    std::string host_url() const;
    /** The URL clients outside use: the gateway's external address and port while a
     *  mapping exists, else host_url() (IWMWriterNetworkSink::GetHostURL). */
    std::string reachable_url() const;
    /** The gateway's external IPv4 address while a mapping exists, else "". */
    std::string external_address() const;
    /** The gateway's external port while a mapping exists, else 0. */
    uint16_t external_port() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace wmstream::broadcast
