/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A NAT gateway protocol client, as PortMapper's worker uses it: one object
 * per attempt, every call blocking (bounded by MappingRequest::timeout_ms and
 * the protocol library's own socket timeouts). Internal to libwmstream.
 * Implementations: upnp-gateway.cpp (miniupnpc), natpmp-gateway.cpp
 * (libnatpmp).
 */
#pragma once

#include "reach/types.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace wmstream::reach {

struct MappingRequest {
    uint16_t port = 0;            /**< local TCP port, also the external port asked for */
    std::string internal_address; /**< the mapping's target; "" = our address towards the IGD */
    std::string description;      /**< our identity (mapping_description()); UPnP only */
    uint32_t lease_s = 3600;      /**< lease asked for, s */
    int timeout_ms = 2000;        /**< discovery / answer wait, ms */
};

class Gateway {
public:
    virtual ~Gateway() = default;

    /**
     * Find the gateway (bounded by timeout_ms). Returns nothing when found,
     * else a report (action Open, result Unavailable) saying why not.
     */
    virtual std::optional<PortReport> discover() = 0;

    /**
     * Map the port on the gateway discover() found: check for an existing
     * mapping (one carrying our description is ours: renewed), then add ours.
     * Reports (action Open) Opened, AlreadyOpen,
     * Conflict or Failed; Opened and AlreadyOpen carry the gateway, external
     * address and port, and the lease granted (0 = permanent).
     */
    virtual PortReport map() = 0;

    /** Extend the lease of the mapping map() made (action Renew): Opened or Failed. */
    virtual PortReport renew() = 0;

    /** Delete the mapping map() made (action Close): Closed or Failed. */
    virtual PortReport unmap() = 0;
};

std::unique_ptr<Gateway> make_upnp_gateway(const MappingRequest &request);
std::unique_ptr<Gateway> make_natpmp_gateway(const MappingRequest &request);

} // namespace wmstream::reach
