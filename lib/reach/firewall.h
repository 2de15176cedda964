/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opens a listening TCP port in the host firewall through firewalld's D-Bus
 * API (org.fedoraproject.FirewallD1.zone on the system bus): the Linux
 * equivalent of INetFwV6Connection::OpenPort / ClosePort.
 *
 * Semantics (docs/wmnetsink.md, "Port reachability"): runtime rules only, never a
 * permanent one, added with a timeout (FirewallConfig::rule_timeout_s) so that
 * the rule of a process that crashed expires by itself; it is renewed at half
 * the timeout by adding its other form (a rich rule for a port rule and back,
 * RuleForm) before removing the one in place, so the port never closes. One
 * rule per zone/port is shared by every Firewall of this process
 * (RuleRegistry): the last to close removes it. Otherwise queryPort first: a
 * port that is already open is reported AlreadyOpen and never removed; when
 * that rule goes (PortRemoved: removed, or timed out because its process
 * died), ours is added. ALREADY_ENABLED (addPort) and NOT_ENABLED (removePort)
 * count as success. After firewalld's Reloaded signal (which drops runtime
 * rules), or when firewalld reappears on the bus, the port is queried and
 * added again. At close only a rule we added is removed.
 *
 * Threading: open/begin_close/close are called from one controlling thread;
 * everything else runs asynchronously on a thread of the Firewall's
 * own with its own GMainContext and a private bus connection; open() and
 * begin_close() return at once (polkit may take up to a minute to answer
 * addPort), close() waits at most FirewallConfig::close_timeout_us. PortEvents
 * callbacks run on that thread with no lock held.
 */
#pragma once

#include "base/error.h"
#include "reach/port-opener.h"

#include <cstdint>
#include <memory>
#include <string>

namespace wmstream::reach {

struct FirewallConfig {
    std::string zone;         /**< firewalld zone; "" = the default zone (getDefaultZone) */
    uint16_t port = 0;        /**< the bound TCP port, 1..65535 */
    std::string bind_address; /**< the listener's address; loopback → Unavailable, nothing asked */
    /** The rule's timeout, s: firewalld removes it this long after it was added or last renewed
     *  (renewed at half); 0 = none (a crash leaves it until firewalld reloads). */
    uint32_t rule_timeout_s = 300;
    /** How long close() waits for removePort (or an answer still pending), µs. */
    int64_t close_timeout_us = 2000000;
    /** D-Bus call timeout, ms: above polkit's 60 s interactive authorization. */
    int call_timeout_ms = 90000;
};

/** Closing (PortOpener::begin_close, close): remove the rule once no call is pending (a pending
 *  addPort or renewal is awaited, not cancelled), report Close: Closed, Kept for a rule that was
 *  not ours or that another Firewall of this process still holds, Failed; past close_timeout_us
 *  cancel what is pending (Close Failed: a runtime rule may stay until it times out). */
class Firewall final : public PortOpener {
public:
    using PortOpener::PortOpener;

    /**
     * Start opening config.port/tcp: connect to the system bus
     * (DBUS_SYSTEM_BUS_ADDRESS is honoured), then getDefaultZone (when
     * config.zone is ""), queryPort, addPort(zone, port, "tcp", timeout). Returns
     * at once; the outcome comes as a PortReport (action Open): Opened (also when
     * sharing the rule of another Firewall of this process),
     * AlreadyOpen, Unavailable (no system bus, firewalld not on it, loopback
     * listener) or Failed (AccessDenied for NotAuthorizedException,
     * InvalidArgument for INVALID_ZONE, Failed otherwise); then Renew when a
     * renewal's result differs from the previous one.
     * @return InvalidRequest when already open, InvalidArgument for port 0.
     */
    Status open(const FirewallConfig &config);

    class Impl;
};

} // namespace wmstream::reach
