/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port reachability, the shared vocabulary: what happened when a listening port was opened
 * in the host firewall (Firewall, firewalld) or mapped on the NAT gateway
 * (PortMapper, UPnP IGD or NAT-PMP). Both report through PortEvents, the
 * way Server reports through ServerEvents. This is the Linux counterpart of
 * INetFwV6Connection::OpenPort / ClosePort (opening a pair that is already
 * open is not an error) plus a gateway port mapping; see
 * docs/wmnetsink.md, "Port reachability".
 */
#pragma once

#include "base/error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace wmstream::reach {

/** Who was asked. */
enum class PortBackend {
    Firewalld, /**< the host firewall, org.fedoraproject.FirewallD1 on the system bus */
    Upnp,      /**< a UPnP Internet Gateway Device (WANIPConnection) */
    NatPmp,    /**< a NAT-PMP gateway (RFC 6886) */
};
const char *to_string(PortBackend backend); /**< "firewalld", "upnp", "nat-pmp" */

/** What was attempted. */
enum class PortAction {
    Open,  /**< open or map the port (also again after a firewalld reload) */
    Renew, /**< extend the lease of a mapping we made */
    Close, /**< undo what Open did, at close */
};
const char *to_string(PortAction action); /**< "open", "renew", "close" */

/** How it went. Conflict and Failed are failures; every other result is not. */
enum class PortResult {
    Opened,      /**< we added the rule or mapping: it is ours and is removed at close */
    AlreadyOpen, /**< it existed before: left alone, never removed */
    Closed,      /**< we removed what we had added (or it was already gone) */
    Kept,        /**< close left a rule or mapping that was not ours in place */
    Unavailable, /**< nothing to ask: no firewalld, no UPnP IGD (before NAT-PMP is tried in
                      auto mode), or a listener on loopback */
    Conflict,    /**< the external port is mapped to another host: not overwritten */
    Failed,      /**< refused or broken (see error) */
};
/** "opened", "already-open", "closed", "kept", "unavailable", "conflict", "failed" */
const char *to_string(PortResult result);

/** True for Conflict and Failed: what was asked could not be done. */
bool is_failure(PortResult result);

/** One outcome. Fields that do not apply to the backend stay empty / 0. */
struct PortReport {
    PortBackend backend = PortBackend::Firewalld;
    PortAction action = PortAction::Open;
    PortResult result = PortResult::Failed;
    uint16_t port = 0;            /**< the local (listening) port */
    std::string protocol = "tcp"; /**< transport protocol, lower case */
    std::string zone;             /**< firewalld: the zone used */
    /** UPnP: the IGD's root description URL; NAT-PMP: the gateway's IPv4 address. */
    std::string gateway;
    std::string external_address; /**< the gateway's external IPv4 address, text */
    uint16_t external_port = 0;   /**< the gateway's external port */
    uint32_t lease_s = 0;         /**< mapping lease, s; 0 = permanent or not applicable */
    /**
     * Set for Unavailable (the reason), Conflict and Failed. Its code is
     * AccessDenied for an authorization refusal (polkit/uid: E_ACCESSDENIED),
     * NetworkFailure for a mapping the gateway refused, a conflict, or no
     * gateway (NS_E_NETWORK_RESOURCE_FAILURE), InvalidArgument for an unknown
     * zone, Failed otherwise.
     */
    std::optional<Error> error;
    /** The backend's own error: a D-Bus error name ("org.fedoraproject.FirewallD1.Exception"),
     *  "" when none. */
    std::string error_name;
    /** The backend's own error code: UPnP (e.g. 718, 606) or NAT-PMP result code; 0 when none. */
    int error_code = 0;
};

/**
 * True when a listener bound to @p bind_address is reachable from this host
 * only (127.0.0.0/8, ::1): no firewall rule or mapping can help it. "" (all
 * interfaces) and anything that is not an IP literal are not loopback.
 */
bool is_loopback_address(const std::string &bind_address);

/** Notifications from a Firewall or PortMapper thread, with no lock held;
 *  implementations must not block. */
class PortEvents {
public:
    virtual ~PortEvents() = default;
    virtual void port_report(const PortReport &report) = 0;
};

} // namespace wmstream::reach
