/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/packet-variants.h"

#include <utility>

namespace wmstream::server {

using proto::asf::PacketFilter;

PacketVariant PacketVariant::make(const std::vector<uint8_t> &bytes,
                                  const proto::asf::HeaderInfo &header,
                                  const proto::asf::StreamSelection &selection, bool strip) {
    PacketVariant variant;
    auto filtered = proto::asf::filter_packet(bytes.data(), bytes.size(), header, selection);
    if (!filtered)
        return variant;
    variant.kept = filtered->kept;
    if (variant.kept == PacketFilter::Kept::None)
        return variant;
    std::vector<uint8_t> packet = variant.kept == PacketFilter::Kept::Some
                                      ? std::move(filtered->packet)
                                      : std::vector<uint8_t>();
    if (strip) {
        const std::vector<uint8_t> &whole = packet.empty() ? bytes : packet;
        auto stripped = proto::asf::strip_padding(whole.data(), whole.size(), header);
        if (stripped && stripped->kept == PacketFilter::Kept::Some) {
            variant.kept = PacketFilter::Kept::Some;
            packet = std::move(stripped->packet);
        }
    }
    if (variant.kept == PacketFilter::Kept::Some)
        variant.bytes = std::make_shared<const std::vector<uint8_t>>(std::move(packet));
    return variant;
}

const PacketVariants::Entry *
PacketVariants::find(size_t count, const proto::asf::StreamSelection &selection, bool strip) const {
    for (size_t i = 0; i < count; ++i) {
        const Entry &entry = entries_[i];
        if (entry.strip == strip && entry.selection == selection)
            return &entry;
    }
    return nullptr;
}

const PacketVariant &PacketVariants::get(const std::vector<uint8_t> &data,
                                         const proto::asf::HeaderInfo &header,
                                         const proto::asf::StreamSelection &selection, bool strip,
                                         PacketVariant &own) const {
    if (const Entry *cached = find(count_.load(std::memory_order_acquire), selection, strip))
        return cached->variant;
    own = PacketVariant::make(data, header, selection, strip);
    std::lock_guard<std::mutex> locker(lock_);
    const size_t count = count_.load(std::memory_order_relaxed);
    /* Another thread may have cached it meanwhile: one entry per selection. */
    if (const Entry *cached = find(count, selection, strip))
        return cached->variant;
    if (count == kMaxVariants)
        return own;
    entries_[count] = {selection, strip, std::move(own)};
    count_.store(count + 1, std::memory_order_release);
    return entries_[count].variant;
}

const MergedRun *PacketVariants::run(const proto::asf::StreamSelection &selection) const {
    const size_t count = run_count_.load(std::memory_order_acquire);
    for (size_t i = 0; i < count; ++i) {
        if (runs_[i].selection == selection)
            return &runs_[i];
    }
    return nullptr;
}

void PacketVariants::add_run(MergedRun run) const {
    const size_t count = run_count_.load(std::memory_order_relaxed);
    if (count == kMaxVariants)
        return;
    runs_[count] = std::move(run);
    run_count_.store(count + 1, std::memory_order_release);
}

} // namespace wmstream::server
