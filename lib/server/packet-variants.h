/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What clients that select some of the streams (MS-WMSP §3.2.5.6,
 * proto::asf::filter_packet) receive of one shared packet, made once per
 * distinct selection and form (the header's fixed size, or without padding
 * for a `$D`, §2.2.3.3) and shared by every client with that selection.
 *
 * A client that selects every stream never comes here: it sends the shared
 * packet itself. Each packet of the log carries one PacketVariants; it
 * holds at most kMaxVariants rewritten copies (the copies live as long as
 * the packet in the log); clients with further selections get a copy of
 * their own. It also carries the merged runs that begin at its packet
 * (MergedRun). Includes proto/ only.
 */
#pragma once

#include "proto/asf-filter.h"
#include "proto/asf.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace wmstream::server {

/** A packet as one selection receives it. */
struct PacketVariant {
    /** All: the packet as it is; Some: @c bytes; None: nothing of it. */
    proto::asf::PacketFilter::Kept kept = proto::asf::PacketFilter::Kept::All;
    std::shared_ptr<const std::vector<uint8_t>> bytes; /**< with Some */

    /** @p bytes filtered for @p selection and, with @p strip, without padding
     *  (proto::asf::strip_padding: for a `$D`), not cached (a packet that does not parse is
     *  sent as it is: the store parsed it before it was shared). */
    static PacketVariant make(const std::vector<uint8_t> &bytes,
                              const proto::asf::HeaderInfo &header,
                              const proto::asf::StreamSelection &selection, bool strip);
};

/** The payloads one selection keeps of a run of consecutive packets, merged into one `$D`
 *  (proto::asf::PacketMerger; server/selection-runs.h), published on the run's first
 *  packet. */
struct MergedRun {
    proto::asf::StreamSelection selection;
    uint64_t last_seq = 0;      /**< the PacketLog sequence number of its last packet */
    std::vector<uint8_t> bytes; /**< the merged packet, without padding */
};

class PacketVariants {
public:
    /** Distinct selections cached per packet. */
    static constexpr size_t kMaxVariants = 4;

    /**
     * @p data (the packet these variants belong to, always the same bytes)
     * as @p selection receives it, with @p strip without padding
     * (PacketVariant::make): the cached variant, else one made now and
     * cached while fewer than kMaxVariants are; past that, @p own filled
     * with one made now, and returned.
     *
     * A cached variant never moves or changes: the reference and its bytes
     * stay valid as long as this object, so a client holding the packet
     * needs no reference of its own to them. Any thread; a lookup of a
     * cached variant takes no lock (each one costs a client per packet);
     * the filtering runs without the lock.
     */
    const PacketVariant &get(const std::vector<uint8_t> &data, const proto::asf::HeaderInfo &header,
                             const proto::asf::StreamSelection &selection, bool strip,
                             PacketVariant &own) const;

    /** The merged run of @p selection that begins at this packet, or null. Any thread,
     *  without a lock; a run never moves or changes once published. */
    const MergedRun *run(const proto::asf::StreamSelection &selection) const;
    /** Publish @p run (one writer: the stream store, under its lock); dropped when
     *  kMaxVariants are published already. */
    void add_run(MergedRun run) const;

private:
    struct Entry {
        proto::asf::StreamSelection selection;
        bool strip = false;
        PacketVariant variant;
    };
    /** The entry for @p selection and @p strip among the first @p count, or null. */
    const Entry *find(size_t count, const proto::asf::StreamSelection &selection, bool strip) const;

    /* A leaf: held only to add an entry. */
    mutable std::mutex lock_;
    /* entries_[i] is written once, under lock_, before count_ passes i (a release store):
     * readers load count_ (acquire) and read the entries below it without the lock. */
    mutable std::array<Entry, kMaxVariants> entries_;
    mutable std::atomic<size_t> count_{0};
    /* runs_[i] is written once by the one writer before run_count_ passes i (a release
     * store): readers load run_count_ (acquire) and read the runs below it. */
    mutable std::array<MergedRun, kMaxVariants> runs_;
    mutable std::atomic<size_t> run_count_{0};
};

} // namespace wmstream::server
