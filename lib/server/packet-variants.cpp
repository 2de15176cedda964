/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/packet-variants.h"

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

PacketVariant PacketVariants::get(const std::vector<uint8_t> &data,
                                  const proto::asf::HeaderInfo &header,
                                  const proto::asf::StreamSelection &selection, bool strip) const {
    {
        std::lock_guard<std::mutex> locker(lock_);
        for (const Entry &entry : cache_) {
            if (entry.selection == selection && entry.strip == strip)
                return entry.variant;
        }
    }
    PacketVariant variant = PacketVariant::make(data, header, selection, strip);
    std::lock_guard<std::mutex> locker(lock_);
    if (cache_.size() < kMaxVariants)
        cache_.push_back({selection, strip, variant});
    return variant;
}

} // namespace wmstream::server
