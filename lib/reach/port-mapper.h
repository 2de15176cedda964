/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Maps a listening TCP port on the NAT gateway, through UPnP IGD
 * (WANIPConnection, miniupnpc) or NAT-PMP (RFC 6886, libnatpmp), and keeps
 * the mapping alive until close.
 *
 * Semantics (docs/wmnetsink.md, "Port reachability"): the external port asked for is the
 * local port. UPnP: GetSpecificPortMappingEntry first; a mapping whose
 * description is ours (mapping_description(): wmstream on this host, e.g. a
 * run that crashed) is taken over: renewed, deleted at close. Any other
 * mapping that already points to this host and port is AlreadyOpen (left
 * alone: neither renewed nor deleted), one that points elsewhere is a
 * Conflict (never overwritten).
 * NAT-PMP has no query: the gateway answers with the external port it chose
 * (a different one when the port is taken). A mapping we made is renewed at
 * half its lease and deleted at close. In auto mode UPnP is tried first and
 * NAT-PMP when no IGD answered; when no gateway answers at all, the outcome is
 * Failed (NetworkFailure).
 *
 * Threading: open/begin_close/close are called from one controlling
 * thread. The protocol calls block, so they run on a worker thread; PortEvents
 * callbacks run on it with no lock held. close() waits at most
 * PortMappingConfig::close_timeout_us: when the gateway is slower, the worker
 * is left to finish on its own (it deletes the mapping if it gets to, and
 * reports nothing more) and close() reports Close/Failed from its own thread.
 */
#pragma once

#include "base/error.h"
#include "reach/port-opener.h"

#include <cstdint>
#include <memory>
#include <string>

namespace wmstream::reach {

/** How to map. */
enum class PortMappingMethod {
    Upnp,   /**< UPnP IGD only */
    NatPmp, /**< NAT-PMP only */
    Auto,   /**< UPnP IGD, then NAT-PMP when no IGD answered */
};

struct PortMappingConfig {
    PortMappingMethod method = PortMappingMethod::Auto;
    uint16_t port = 0;        /**< the bound TCP port, 1..65535; also the external port asked for */
    std::string bind_address; /**< the listener's address: a specific IPv4 address is the mapping's
                                   target, "" / 0.0.0.0 / :: = the address the gateway is reached
                                   from; loopback → Unavailable */
    uint32_t lease_s = 3600;  /**< lease asked for, s (renewed at half the lease granted) */
    int timeout_ms = 2000;    /**< how long to wait for a gateway to answer (SSDP / NAT-PMP), ms */
    /** How long close() waits for the mapping to be deleted, µs. */
    int64_t close_timeout_us = 2000000;
};

/** Closing (PortOpener::begin_close, close): the worker deletes a mapping it made and reports
 *  Close: Closed, Kept for a mapping that was not ours, Failed. */
class PortMapper final : public PortOpener {
public:
    using PortOpener::PortOpener;

    /**
     * Start mapping config.port/tcp on a worker thread. Returns at once; the
     * outcome comes as PortReports: action Open (Opened, AlreadyOpen,
     * Unavailable, Conflict, Failed), then Renew when a renewal's result
     * differs from the previous one.
     * @return InvalidRequest when already open, InvalidArgument for port 0.
     */
    Status open(const PortMappingConfig &config);

    class Impl;
};

} // namespace wmstream::reach
