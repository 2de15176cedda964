/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The description our gateway mappings carry: "wmstream <host> <port>", where
 * <host> is stable across restarts and reboots of this host (derived from
 * its machine ID, hashed so that the ID itself is not shown to the LAN, as
 * machine-id(5) asks). A mapping that carries it was made by wmstream on this
 * host: after a crash, the next run recognises it as its own (renews it and
 * deletes it at close) instead of taking it for someone else's. Internal to
 * lib/reach.
 */
#pragma once

#include <cstdint>
#include <string>

namespace wmstream::reach {

/** The description of our mapping of @p port. */
std::string mapping_description(uint16_t port);

} // namespace wmstream::reach
