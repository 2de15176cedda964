/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who is served as a streaming client (internal to lib/server; sans-IO):
 * viewers against ServerConfig::max_clients, and distribution servers
 * (relays: MS-WMSP §4.11 pull, §4.12 cache/proxy) against max_relays apart,
 * so that viewers never crowd out the relays that serve many more viewers
 * (what Windows Media Services and Icecast do for relays); and, when the
 * viewers are full, the overflow redirect: a viewer is sent to the next of
 * ServerConfig::edges in turn (302) instead of being refused (Icecast's
 * overflow to its relays). It takes the counts of those served now and says
 * what to answer. Used on the I/O thread only.
 */
#pragma once

#include "base/error.h"
#include "server/types.h"

#include <cstddef>
#include <string>
#include <vector>

namespace wmstream::server {

/** What a request gets. */
enum class Verdict {
    Admit,    /**< served (a streaming request is counted) */
    Refuse,   /**< 503: its limit is reached */
    Redirect, /**< 302 to Decision::location: the viewers are full and there are edges */
};

struct Decision {
    Verdict verdict = Verdict::Admit;
    std::string location; /**< with Redirect: the edge's URL, as configured */
};

class Admission {
public:
    /** @return InvalidArgument naming the first of @p config's edges that is not an
     *          absolute http:// or https:// URL (GLib's GUri); else success. */
    static Status check(const ServerConfig &config);

    explicit Admission(const ServerConfig &config)
        : max_clients_(config.max_clients), max_relays_(config.max_relays), edges_(config.edges) {}

    /**
     * A request from a relay (@p relay) or a viewer, while @p viewers viewers and @p relays
     * relays are served. A streaming request (Play, plain GET) is admitted under its limit;
     * over it a viewer is redirected to the next edge in turn when there are edges, else
     * refused, and a relay is refused. A Describe (@p describe: a short exchange, never
     * counted) is never refused: it is admitted, or redirected when a viewer's Play would
     * be, so that the player's whole session moves to the edge.
     */
    [[nodiscard]] Decision decide(bool relay, bool describe, size_t viewers, size_t relays);

private:
    int max_clients_; /* -1 = unlimited */
    int max_relays_;  /* -1 = unlimited */
    std::vector<std::string> edges_;
    size_t next_edge_ = 0; /* the edge of the next redirect */
};

} // namespace wmstream::server
