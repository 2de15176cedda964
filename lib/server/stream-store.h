/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stream store of the fan-out server (sans-IO): the current header and
 * its generations, the time base that rebases packet times, the packet log,
 * end of stream, and where each connection goes next (fetch(), with the
 * recover policy and the hard lag limit).
 *
 * Written by the streaming thread (through Server), read by the I/O thread
 * (through Connection). It has its own lock, a leaf: nothing is called with
 * it held. It takes the time as an argument and never wakes anybody: each
 * change returns what the clients need now (Due), for the server to schedule.
 * Includes base/, proto/, types.h and the packet log only.
 */
#pragma once

#include "base/error.h"
#include "proto/asf-mbr.h"
#include "proto/asf.h"
#include "server/packet-log.h"
#include "server/selection-runs.h"
#include "server/types.h"
#include "server/write-coalescing.h"

#include <atomic>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace wmstream::server {

/** The current stream header in the three shapes clients need. Immutable once shared. */
struct StreamHeader {
    proto::asf::HeaderInfo info;
    std::vector<uint8_t> raw;  /**< live-fixed Header Object + Data Object head */
    std::vector<uint8_t> pull; /**< raw framed as MS-WMSP $H packet(s) */
    uint64_t generation = 0;   /**< bumps on every header change */
};
using StreamHeaderRef = std::shared_ptr<const StreamHeader>;

/** What StreamStore::fetch() found besides the packets. */
struct Batch {
    bool skipped = false;       /**< the client was moved forward (recover-policy) */
    bool too_slow = false;      /**< past the hard lag limit: remove it (reason slow) */
    bool joined = false;        /**< the first packet is where the client's stream (re)starts */
    bool end_of_stream = false; /**< nothing follows: the stream ended */
    size_t bytes = 0;           /**< stored bytes of the packets it moved past (every stream) */
    int64_t lag_us = 0;         /**< how far behind live the client's next packet is, µs */
    /** How far behind live its next packet was before the batch beyond where its stream began
     *  (start_lag), in LagLimits::unit: what the soft limit is compared with; 0 while it
     *  waits for a key frame. */
    int64_t behind = 0;
    /** When joined: how far behind live the first packet is, µs (ClientInfo::start_lag_us). */
    int64_t join_lag_us = 0;
};

/** The lag limits: how much stream is kept and where a client behind live goes
 *  (ServerConfig's lag_unit, lag_soft_max, lag_max and recover_policy). */
struct LagLimits {
    LagUnit unit;
    int64_t soft_max; /**< in unit; -1 = none */
    int64_t max;      /**< in unit; -1 = unlimited */
    RecoverPolicy recover_policy;

    /** The limits @p config names. */
    static LagLimits of(const ServerConfig &config);
};

/** How a joiner's playback starts and what the served header says (ServerConfig's
 *  fast_start_ms, preroll_ms, mutual_exclusion and stream_bitrates). */
struct StartupPolicy {
    /** Join at the newest key frame at least this old, ms; 0 = the newest; -1 = the served
     *  preroll + kFastStartMarginMs. */
    int64_t fast_start_ms = 0;
    int64_t preroll_ms = -1; /**< the served header's preroll, ms; -1 = the muxer's */
    /** The alternatives and bit rates added to the served header. */
    proto::asf::BitrateDescription bitrates;

    /** The policy @p config names, or InvalidArgument when its mutual_exclusion or
     *  stream_bitrates is malformed (proto::asf::BitrateDescription::parse). */
    static Result<StartupPolicy> of(const ServerConfig &config);
};

/** What the clients need after a change to the store. */
enum class Due {
    Nothing, /**< nothing new for them */
    Flush,   /**< a new packet: serve them within ServerConfig::flush_interval_us */
    Wake,    /**< a new header, end of stream or a reset: serve them now */
};

class StreamStore;

/** A client's share in merging its selection's runs (StreamStore::watch()): the store
 *  stops merging for the selection when the last one is destroyed. */
class SelectionWatch {
public:
    SelectionWatch(const StreamStore &store, const proto::asf::StreamSelection &selection)
        : store_(store), selection_(selection) {}
    ~SelectionWatch();
    SelectionWatch(const SelectionWatch &) = delete;
    SelectionWatch &operator=(const SelectionWatch &) = delete;
    const proto::asf::StreamSelection &selection() const { return selection_; }

private:
    const StreamStore &store_;
    const proto::asf::StreamSelection selection_;
};

class StreamStore {
public:
    explicit StreamStore(const LagLimits &limits) : limits_(limits) {}
    StreamStore(const StreamStore &) = delete;
    StreamStore &operator=(const StreamStore &) = delete;

    /** Apply @p limits from the next push() and fetch() on. */
    void set_limits(const LagLimits &limits);
    /** Apply @p policy from the next set_header() and join_point() on. */
    void set_startup(const StartupPolicy &policy);

    /**
     * A stream header (Header Object + 50-byte Data Object head); the live
     * fields are fixed in the copy kept (proto::asf::make_live_header), and
     * its preroll is StartupPolicy::preroll_ms unless that is -1 (packet
     * presentation times follow through the time base); the alternatives and
     * bit rates of StartupPolicy::bitrates are added
     * (proto::asf::add_bitrate_objects), so $H, $C and plain HTTP all serve
     * them. A
     * header that differs from the current one starts a new generation and
     * forgets the packets, the time base and end of stream.
     * @return Wake when it differs, Nothing when it is the current one; or
     *         InvalidData when it is not an ASF header, its packets do not
     *         fit a $D (proto::framing::check_pull_packet_size) or the
     *         bit-rate description names streams it lacks; nothing changes
     *         then.
     */
    Result<Due> set_header(const uint8_t *data, size_t len);

    /**
     * One ASF data packet, arrived at @p now_us (monotonic, µs): parsed (key
     * frame), its times rebased to the stream's time base (set by the first
     * packet after a header or a reset), appended to the log, and the log
     * trimmed to the hard limit. Ends end of stream.
     * @return Flush; or InvalidData when there is no header yet or the packet
     *         is corrupt (nothing changes).
     */
    Result<Due> push(const uint8_t *data, size_t len, int64_t now_us);

    /** The stream ended: a client that reaches the end of the log is done. @return Wake. */
    Due end_of_stream();

    /** Flush: forget the packets and the time base (the header stays); clients resume at the
     *  next key frame. @return Wake. */
    Due reset();

    /** Forget the header and the packets: new clients wait for the next header. */
    void clear();

    /** The current header, or null before the first one (and after clear()). */
    StreamHeaderRef header() const;
    /** StreamHeader::generation of header() (0 without one), read without locking. */
    uint64_t header_generation() const {
        return header_generation_.load(std::memory_order_acquire);
    }
    /**
     * Where a new client starts in the log: the newest key-frame start at
     * least StartupPolicy::fast_start_ms old (PacketLog::join_point(min_age_ms);
     * automatic: the served header's preroll + kFastStartMarginMs),
     * or the end of the log when none is stored (wait for the next one).
     * Never further behind than the soft lag limit while a key-frame start
     * within it is stored (the soft limit bounds fast start): it then starts
     * at the oldest key-frame start within the limit. With @p key_streams (a
     * client that selected some of the video streams, as fetch()), only
     * key-frame starts of those streams count.
     */
    uint64_t join_point(const std::bitset<128> *key_streams = nullptr) const;

    /**
     * The packets from @p next_seq on until they make @p max_bytes or more,
     * in @p packets (cleared first; its capacity is reused), and @p next_seq
     * advanced past them.
     *
     * With @p need_key, packets before the next key-frame start are skipped
     * (a client joining or after a header change); @p need_key stays true
     * until one is found, and @p start_lag is then set to the lag of the
     * key-frame start it joins at (in LagLimits::unit: what fast start put
     * it behind live on purpose). Otherwise the lag limits apply, in
     * LagLimits::unit: a client whose next packet is gone from the log or
     * lags more than max is too_slow (and gets nothing); one that lags more
     * than start_lag + soft_max (it fell soft_max behind where its stream
     * began) moves on as recover_policy says (skipped; joined when it lands
     * on a key-frame start): None stays, Latest goes to the newest packet,
     * KeyFrame to the newest key-frame start, SoftLimit to the oldest
     * key-frame start within start_lag + soft_max, Thin stays (the
     * connection thins, server/thinning.h, from Batch::behind); never
     * backwards.
     *
     * @p key_streams (a client that selected some of the video streams,
     * MS-WMSP §3.2.5.6): with @p need_key, and for KeyFrame and SoftLimit,
     * go to a packet where a key frame of one of these streams starts instead
     * of any key-frame start.
     * @p streams (a client that selected some of the streams): only the
     * packets with a payload of one of them are put in @p packets; the others
     * are passed over (counted in @p max_bytes), so that a client receiving a
     * share of the stream does not touch the rest.
     */
    Batch fetch(uint64_t &next_seq, bool &need_key, int64_t &start_lag, size_t max_bytes,
                std::vector<PacketRef> &packets, const std::bitset<128> *key_streams = nullptr,
                const std::bitset<128> *streams = nullptr) const;

    /**
     * What waits in the log for a client whose next packet is @p next_seq and whose stream
     * began @p start_lag behind live (fetch()'s arguments), at @p now_us (monotonic µs),
     * without taking it: the stored bytes from @p next_seq on and the arrival of that packet;
     * urgent when the next fetch() acts on it: end of stream, its next packet gone, or its lag
     * past half a lag limit (the hard one, or the soft one beyond @p start_lag). Its recheck:
     * the progress() at which that half is passed, or (nothing pending) a packet arrives.
     */
    Pending pending(uint64_t next_seq, int64_t start_lag, int64_t now_us) const;

    /** The log's counters, without the lock (a round's look at a waiting client). */
    LogProgress progress() const {
        return {appended_bytes_.load(std::memory_order_acquire),
                end_seq_.load(std::memory_order_acquire), changes_.load(std::memory_order_acquire)};
    }

    /**
     * Merge the runs of @p selection (server/selection-runs.h) from the next packet on, for
     * a client that sends them (a `$D` client that selected some of the streams), until the
     * returned watch is destroyed; null when SelectionRuns::kMaxSelections others are
     * merged already (its packets then go out one by one). The store must outlive it.
     */
    [[nodiscard]] std::unique_ptr<SelectionWatch>
    watch(const proto::asf::StreamSelection &selection) const;

private:
    /* A leaf: nothing is called with it held. */
    mutable std::mutex lock_;
    LagLimits limits_;       /* Protected by lock_ */
    StartupPolicy startup_;  /* Protected by lock_ */
    StreamHeaderRef header_; /* Protected by lock_ */
    /* header_'s generation, written under lock_ with it; generations never repeat. */
    std::atomic<uint64_t> header_generation_{0};
    uint64_t generations_ = 0; /* Protected by lock_: the last generation given */
    PacketLog log_;            /* Protected by lock_ */
    /* Protected by lock_: rebasing origins of this stream, set by its first packet. */
    std::optional<proto::asf::TimeBase> time_base_;
    bool eos_ = false; /* Protected by lock_ */
    /* progress(): written under lock_ (publish()), read without it. */
    std::atomic<uint64_t> appended_bytes_{0};
    std::atomic<uint64_t> end_seq_{0};
    std::atomic<uint64_t> changes_{0};
    /** After log_, eos_, header_ or limits_ changed: progress() says so; @p changed: other
     *  than by an appended packet. lock_ held. */
    void publish(bool changed);
    /* Protected by lock_: the clients' watches change it from the I/O threads, which see
     * the store as const. */
    mutable SelectionRuns runs_;

    friend class SelectionWatch;
};

} // namespace wmstream::server
