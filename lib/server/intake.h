/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connections a server holds before they are admitted or answered
 * (internal to lib/server): a TLS handshake, a request being read, the
 * application being asked, a Describe waiting for the first header. Sans-IO:
 * it takes connection ids (which grow with arrival), peer addresses and `now`,
 * and says which connection to keep, to refuse or to close to make room, and
 * which TLS handshakes may run. The server does the closing. Used on the I/O
 * thread only.
 */
#pragma once

#include "server/types.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace wmstream::server {

/** The caps an Intake enforces. */
struct IntakeLimits {
    size_t connecting = 512;            /**< connections held at once */
    size_t connecting_per_address = 64; /**< the same, per peer address */
    size_t handshakes = 16;             /**< TLS handshakes running at once */
    size_t handshakes_per_address = 4;  /**< the same, per peer address */
    /** A connection younger than this is never closed to make room, µs: a real client
     *  sends its request (and finishes its handshake) well within it. */
    int64_t grace_us = 500000;

    /** The caps of @p config (ServerConfig::max_connecting…), the default grace. */
    static IntakeLimits of(const ServerConfig &config);
};

class Intake {
public:
    explicit Intake(IntakeLimits limits = {}) : limits_(limits) {}

    /**
     * Whether one more connection may be accepted at @p now. When the global
     * cap is reached, @p evict is set to the oldest connection past the
     * grace, which the caller closes first (and reports with leave()); when
     * none is that old, false: the caller accepts later (the kernel's backlog
     * holds the connection meanwhile).
     */
    [[nodiscard]] bool room(int64_t now, uint64_t *evict) const;

    /** What to do with a connection that arrive() was told about. */
    struct Arrival {
        bool keep = true;   /**< false: refused, close it at once (it is not held) */
        uint64_t evict = 0; /**< nonzero: close this one first (then leave() it) */
    };
    /**
     * Connection @p id (larger than every id before) from @p address at
     * @p now. Over the per-address cap, its address's oldest connection past
     * the grace makes room; without one, the new connection is refused.
     */
    [[nodiscard]] Arrival arrive(uint64_t id, const std::string &address, int64_t now);

    /** @p id's ClientHello arrived: true when its handshake may start now; else it waits
     *  its turn, and a later leave() or handshaken() returns it. */
    [[nodiscard]] bool hello(uint64_t id);
    /** @p id's handshake ended (either way). @return the waiting handshakes that may start
     *  now, oldest first. */
    [[nodiscard]] std::vector<uint64_t> handshaken(uint64_t id);
    /** @p id is no longer held (admitted, answered or closed); unknown ids are ignored.
     *  @return as handshaken(). */
    [[nodiscard]] std::vector<uint64_t> leave(uint64_t id);

    /** Connections held. */
    size_t size() const { return held_.size(); }

private:
    enum class Tls { None, Waiting, Running };
    struct Held {
        std::string address;
        int64_t since_us;
        Tls tls;
    };
    /** Per address: its connections held (ids, so oldest first) and its running
     *  handshakes. */
    struct Address {
        std::set<uint64_t> held;
        size_t running = 0;
    };

    bool may_run(const Held &held) const;
    /** Counts @p held's handshake as running. */
    void run(Held &held);
    /** Starts (marks Running) the waiting handshakes that fit now, oldest first. */
    std::vector<uint64_t> start_waiting();
    /** @p id when it is past the grace at @p now, else 0. */
    uint64_t evictable(uint64_t id, int64_t now) const;

    IntakeLimits limits_;
    std::map<uint64_t, Held> held_;                      /* by id: oldest first */
    std::unordered_map<std::string, Address> addresses_; /* those with a connection held */
    std::set<uint64_t> waiting_;                         /* handshakes waiting their turn */
    size_t running_ = 0;                                 /* handshakes running */
};

} // namespace wmstream::server
