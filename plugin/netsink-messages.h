/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What wmnetsink puts on the bus and in its action signals, built from the
 * core's types: the client and statistics structures, the
 * `wmnetsink-port-open` report and its WARNING text, and the text and
 * details of a failed open (docs/wmnetsink.md, "Messages").
 */
#pragma once

#include "broadcast/broadcast.h"
#include "reach/types.h"
#include "server/server.h"

#include <gst/gst.h>

#include <string>

namespace wmstream::plugin::netsink {

/** The "wmnetsink-client" structure of get-stats / get-clients (transfer full). */
GstStructure *client_structure(const server::ClientInfo &client);

/** The "wmnetsink-stats" structure of server-stats (transfer full). */
GstStructure *stats_structure(server::Server &server);

/** The "wmnetsink-port-open" structure of @p report (transfer full). */
GstStructure *port_report_structure(const reach::PortReport &report);

/** The WARNING's user text for a failed @p report. */
std::string port_failure_text(const reach::PortReport &report);

/** The ERROR's user text for an open of @p config that failed with @p failure. */
std::string open_failure_text(const broadcast::OpenError &failure,
                              const broadcast::BroadcastConfig &config);

/** The ERROR's details for the same (transfer full), or null. */
GstStructure *open_failure_context(const broadcast::OpenError &failure,
                                   const broadcast::BroadcastConfig &config);

} // namespace wmstream::plugin::netsink
