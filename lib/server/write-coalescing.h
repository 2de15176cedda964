/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * When a client that receives a fraction of the stream writes (sans-IO).
 *
 * A send costs about the same whatever it carries (the system call, the
 * loopback or NIC path, the walk over the client's packets), so a client
 * that selected a low-rate stream of a multiple-bit-rate broadcast (MS-WMSP
 * §3.2.5.6) and wrote every round would pay as much per write as one that
 * receives everything, for a ninth of the bytes. Its new packets instead
 * wait in the shared packet log (nothing is copied or queued for it) until
 * it has about as much to write as one refill of a full client
 * (kMinBytes), or until the oldest of them would otherwise wait longer
 * than the delay bound (ServerConfig::max_write_delay_us), whichever comes
 * first; then they go out in one vectored write.
 *
 * What it receives of the log is estimated from what it received of the
 * packets it took before (taken()): the share of stored bytes it kept,
 * weighted towards the recent packets.
 *
 * A decision to wait says until when it stands (Recheck): the store's
 * counters (LogProgress) and the time at which it could change. A send round
 * (8 per second) then skips a waiting client by comparing them, without the
 * store's lock and without touching the rest of the client: at 1,000 such
 * clients, those looks had cost a twentieth of the server's CPU. Includes
 * nothing of the project.
 */
#pragma once

#include <cstddef>
#include <cstdint>

namespace wmstream::server {

/** The packet log's counters, read without its lock (StreamStore::progress()); each only
 *  grows. */
struct LogProgress {
    uint64_t appended_bytes = 0; /**< bytes of every packet stored so far (PacketLog) */
    uint64_t end_seq = 0;        /**< sequence number the next packet gets */
    uint64_t changes = 0;        /**< a new header, a flush, end of stream, new lag limits */
};

/** Until when a decision not to write stands: while holds(). The default never holds. */
struct Recheck {
    int64_t at_us = INT64_MAX;      /**< monotonic µs: a packet due, a time lag limit */
    uint64_t at_bytes = UINT64_MAX; /**< LogProgress::appended_bytes reaching this */
    uint64_t at_seq = UINT64_MAX;   /**< LogProgress::end_seq reaching this */
    uint64_t changes = UINT64_MAX;  /**< LogProgress::changes other than this */

    bool holds(const LogProgress &progress, int64_t now_us) const {
        return now_us < at_us && progress.appended_bytes < at_bytes && progress.end_seq < at_seq &&
               progress.changes == changes;
    }
};

/** What waits for one client in the packet log (StreamStore::pending()). */
struct Pending {
    /** Bytes of the stored packets it has not taken yet, as stored (every stream). */
    uint64_t bytes = 0;
    /** Monotonic arrival time of the oldest of them, µs; meaningless with bytes 0. */
    int64_t oldest_us = 0;
    /** The store acts on it at its next fetch (end of stream, its next packet gone from the
     *  log, its lag past half a lag limit): it must be served now. */
    bool urgent = false;
    /** LogProgress::appended_bytes before its next packet (with bytes > 0). */
    uint64_t offset = 0;
    /** When the store's part of this answer may change: a lag limit's half reached (in its
     *  unit), a first packet arriving (bytes 0), anything counted in LogProgress::changes. */
    Recheck recheck;
};

class WriteCoalescing {
public:
    /** A client writes once it has about this much to write, bytes (a full client's
     *  refill, Connection's batch). */
    static constexpr uint64_t kMinBytes = 64 * 1024;
    /** At most this many stored bytes are fetched for one write: a client that receives
     *  almost nothing of the stream does not take the whole log at once. */
    static constexpr uint64_t kMaxFetchBytes = 16 * kMinBytes;

    /** The automatic bound (max_delay_us < 0): this many round intervals, 1 s at the
     *  default flush-interval of 125 ms; none when every packet makes a round (0). */
    static constexpr int64_t kAutoRounds = 8;

    /**
     * Its packets wait at most @p max_delay_us after they arrive (0: never: every round
     * writes what is new; < 0: kAutoRounds × @p round_interval_us); rounds come every
     * @p round_interval_us while packets arrive (ServerConfig::flush_interval_us), so a
     * write is due one interval before the bound: the next round would be too late.
     */
    WriteCoalescing(int64_t max_delay_us, int64_t round_interval_us);

    /** It took @p stored bytes of packets (as stored) and received @p kept bytes of them. */
    void taken(uint64_t stored, uint64_t kept);

    /** What decide() says. */
    struct Decision {
        bool write = true;  /**< write now */
        int64_t due_us = 0; /**< without write: when it is due at the latest, monotonic µs */
        /** Without write: until when this decision stands (Pending::recheck, and the
         *  estimate reaching kMinBytes, due_us). */
        Recheck recheck;
    };

    /**
     * Whether a client with @p pending, at @p now_us (monotonic, µs), writes now: when
     * coalescing is off, @p pending is urgent, its estimated bytes reach kMinBytes (before it
     * took any packet: any bytes) or its oldest packet is due. Nothing pending: no write, due
     * never (INT64_MAX).
     */
    [[nodiscard]] Decision decide(const Pending &pending, int64_t now_us) const;

    /** Stored bytes to fetch so that it receives about @p bytes: @p bytes over its share,
     *  within [@p bytes, kMaxFetchBytes]. */
    [[nodiscard]] uint64_t fetch_bytes(uint64_t bytes) const;

    bool enabled() const { return lead_us_ > 0; }

private:
    /** Past this many stored bytes, both totals are halved: recent packets weigh more. */
    static constexpr uint64_t kHistoryBytes = 4 * 1024 * 1024;

    /** How long its oldest packet may wait before the round that writes it, µs; ≤ 0: off. */
    int64_t lead_us_;
    /* Its share of the stream: kept_ of stored_ bytes (none taken yet: all). */
    uint64_t stored_ = 0;
    uint64_t kept_ = 0;
};

} // namespace wmstream::server
