/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Merged runs for the selections clients watch (sans-IO): as each packet
 * enters the log, the payloads every watched selection keeps of it join that
 * selection's open run (proto::asf::PacketMerger); when a packet does not
 * fit, the run closes and is published on its first packet
 * (PacketVariants::add_run). A client of that selection then sends the run as
 * one `$D` instead of one short `$D` per packet (MS-WMSP §3.2.5.6 filtering a
 * multiple-bit-rate stream leaves packets a fraction of the packet size, and
 * each costs a send vector, a queue entry and the kernel's per-segment work).
 * A run of one packet is published too: its client then takes it as it is,
 * with no lookup or making of that packet's variant.
 *
 * Runs are the stream's, not a client's: every client of a selection that
 * reaches a run's first packet sends the same bytes. A run is published only
 * once closed, so the newest packets (its open run) go out one by one.
 *
 * Owned by the StreamStore, under its lock. Includes proto/ and the packet
 * log only.
 */
#pragma once

#include "proto/asf-filter.h"
#include "proto/asf.h"
#include "server/packet-log.h"

#include <cstddef>
#include <memory>
#include <vector>

namespace wmstream::server {

class SelectionRuns {
public:
    /** Selections merged at most (the runs a packet carries, PacketVariants). */
    static constexpr size_t kMaxSelections = PacketVariants::kMaxVariants;

    /** One more client of @p selection: its runs are merged from the next packet on.
     *  @return false (nothing watched) when kMaxSelections others are. */
    [[nodiscard]] bool watch(const proto::asf::StreamSelection &selection);
    /** One client of @p selection fewer (a watch() that returned true). */
    void unwatch(const proto::asf::StreamSelection &selection);

    /** @p packet (its seq set) entered the log, and follows @p header (kept by reference
     *  until the next restart()). */
    void append(const PacketRef &packet,
                const std::shared_ptr<const proto::asf::HeaderInfo> &header);

    /** Forget the open runs (a new header, a reset): the next packet starts new ones. */
    void restart();

    /** Selections watched now. */
    [[nodiscard]] size_t watched() const { return selections_.size(); }

private:
    struct Selection {
        proto::asf::StreamSelection selection;
        size_t clients = 0;
        std::unique_ptr<proto::asf::PacketMerger> merger; /* for header_, from a packet on */
        PacketRef first;                                  /* the open run's first packet */
        uint64_t last_seq = 0;                            /* its last packet merged */
    };
    /** Publish @p s's open run (if it holds a packet), and start a new one. */
    static void close(Selection &s);

    std::vector<Selection> selections_;
    /* The header the open runs follow: their mergers refer to it. */
    std::shared_ptr<const proto::asf::HeaderInfo> header_;
};

} // namespace wmstream::server
