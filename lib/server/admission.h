/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who is served as a streaming client (internal to lib/server; sans-IO):
 * viewers against ServerConfig::max_clients, and distribution servers
 * (relays: MS-WMSP §4.11 pull, §4.12 cache/proxy) against max_relays apart,
 * so that viewers never crowd out the relays that serve many more viewers
 * (what Windows Media Services and Icecast do for relays). It takes the
 * counts of those served now and says what to answer. Used on the I/O thread
 * only.
 */
#pragma once

#include "server/types.h"

#include <cstddef>

namespace wmstream::server {

/** What a streaming request gets. */
enum class Verdict {
    Admit,  /**< served (and counted) */
    Refuse, /**< 503: its limit is reached */
};

class Admission {
public:
    explicit Admission(const ServerConfig &config)
        : max_clients_(config.max_clients), max_relays_(config.max_relays) {}

    /** A streaming request from a relay (@p relay) or a viewer, while @p viewers viewers and
     *  @p relays relays are served. */
    [[nodiscard]] Verdict decide(bool relay, size_t viewers, size_t relays) const;

private:
    int max_clients_; /* -1 = unlimited */
    int max_relays_;  /* -1 = unlimited */
};

} // namespace wmstream::server
