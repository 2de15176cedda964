/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The operator's status view (sans-IO): a history of the stream's in and out
 * bit rates, one sample a second, and the two documents the network sink
 * serves at its status path when ServerConfig::status_path is set: an HTML
 * page (a table of the viewers, an inline SVG chart of the rates, a meta
 * refresh; no script, nothing fetched from elsewhere) and the same data as
 * JSON (built with json-glib). Every text a peer chose (user agent, DNS name)
 * is escaped for HTML with g_markup_escape_text(). Field names follow
 * ClientInfo (server/types.h) and wmnetsink's get-clients.
 */
#pragma once

#include "server/types.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace wmstream::server::status {

/** One second of the stream: bits received from upstream and bits sent to clients. */
struct RateSample {
    int64_t at_us = 0;    /**< monotonic time the second ended, µs */
    uint64_t in_bps = 0;  /**< bits/s pushed into the server (ServerStats::bytes_in × 8) */
    uint64_t out_bps = 0; /**< bits/s written to every client (ServerStats::bytes_sent × 8) */
};

/** The last kSeconds per-second rate samples, from running byte totals. */
class RateHistory {
public:
    /** Samples kept: five minutes. */
    static constexpr size_t kSeconds = 300;

    /**
     * Note the totals @p bytes_in and @p bytes_out at monotonic time @p now_us
     * (call often, at least once a second): whenever a second or more passed
     * since the last sample, one sample of the rates over that time is kept.
     * The first call only starts counting. Totals that went down (the server
     * reopened) restart it.
     */
    void record(int64_t now_us, uint64_t bytes_in, uint64_t bytes_out);
    /** The samples, oldest first; at most kSeconds. */
    const std::deque<RateSample> &samples() const { return samples_; }

private:
    bool started_ = false;
    int64_t last_us_ = 0;
    uint64_t last_in_ = 0;
    uint64_t last_out_ = 0;
    std::deque<RateSample> samples_;
};

/** What the status documents show. */
struct Snapshot {
    std::vector<ClientInfo> clients; /**< the viewers being served (Server::clients()) */
    std::vector<RateSample> rates;   /**< oldest first (RateHistory::samples()) */
    ServerStats totals;              /**< since open() */
    int64_t now_us = 0;              /**< monotonic time of the snapshot, µs */
};

/** How often the HTML page reloads itself, s. */
constexpr int kRefreshSeconds = 5;

/**
 * The HTML page: a heading with the totals, the chart of the last rates
 * (inline SVG, kbit/s against seconds ago), a table of the viewers (id,
 * address:port, DNS name, user agent, protocol, selected streams, connected
 * for, rate, lag, bytes sent), each in one `<tr class="client">`, and a link
 * to @p json_path. UTF-8; reloads every kRefreshSeconds.
 */
std::string html(const Snapshot &snapshot, const std::string &json_path);

/**
 * The same as a JSON object: "clients" (an array of objects: "id", "address",
 * "port", "dns-name", "user-agent", "protocol" ("wmsp"/"http"),
 * "selected-streams" (array of stream numbers), "connected-for-us",
 * "bitrate-bps", "lag-us", "bytes-sent", "packets-sent"), "rates" (array of
 * {"age-ms" (how long ago the second ended), "in-bps", "out-bps"}, oldest first), "bytes-in",
 * "bytes-sent", "clients-served".
 */
std::string json(const Snapshot &snapshot);

} // namespace wmstream::server::status
