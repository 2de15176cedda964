/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/selection-runs.h"

#include <algorithm>

namespace wmstream::server {

using proto::asf::PacketMerger;

bool SelectionRuns::watch(const proto::asf::StreamSelection &selection) {
    for (Selection &s : selections_) {
        if (s.selection == selection) {
            ++s.clients;
            return true;
        }
    }
    if (selections_.size() == kMaxSelections)
        return false;
    selections_.push_back({selection, 1, nullptr, nullptr, 0});
    return true;
}

void SelectionRuns::unwatch(const proto::asf::StreamSelection &selection) {
    const auto it = std::find_if(selections_.begin(), selections_.end(),
                                 [&](const Selection &s) { return s.selection == selection; });
    if (it != selections_.end() && --it->clients == 0)
        selections_.erase(it);
}

void SelectionRuns::close(Selection &s) {
    if (!s.merger)
        return;
    const bool merged = s.merger->packets() > 0;
    std::vector<uint8_t> bytes = s.merger->finish();
    if (merged)
        s.first->variants.add_run({s.selection, s.last_seq, std::move(bytes)});
    s.first.reset();
}

void SelectionRuns::append(const PacketRef &packet,
                           const std::shared_ptr<const proto::asf::HeaderInfo> &header) {
    if (header != header_) {
        restart();
        header_ = header;
    }
    for (Selection &s : selections_) {
        if (!s.merger)
            s.merger = std::make_unique<PacketMerger>(*header_, s.selection);
        PacketMerger::Added added = s.merger->add(packet->data.data(), packet->data.size());
        if (added == PacketMerger::Added::Refused) {
            close(s);
            added = s.merger->add(packet->data.data(), packet->data.size());
        }
        if (added != PacketMerger::Added::Merged)
            continue; /* nothing of it, or a packet that is sent on its own */
        if (!s.first)
            s.first = packet;
        s.last_seq = packet->seq;
    }
}

void SelectionRuns::restart() {
    for (Selection &s : selections_) {
        if (s.merger)
            (void)s.merger->finish();
        s.merger.reset();
        s.first.reset();
    }
    header_.reset();
}

} // namespace wmstream::server
