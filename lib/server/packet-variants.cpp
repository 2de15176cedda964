/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/packet-variants.h"

namespace wmstream::server {

PacketVariant PacketVariant::make(const std::vector<uint8_t> &bytes,
                                  const proto::asf::HeaderInfo &header,
                                  const proto::asf::StreamSelection &selection) {
    PacketVariant variant;
    auto filtered = proto::asf::filter_packet(bytes.data(), bytes.size(), header, selection);
    if (!filtered)
        return variant;
    variant.kept = filtered->kept;
    if (variant.kept == proto::asf::PacketFilter::Kept::Some)
        variant.bytes = std::make_shared<const std::vector<uint8_t>>(std::move(filtered->packet));
    return variant;
}

PacketVariant PacketVariants::get(const std::vector<uint8_t> &data,
                                  const proto::asf::HeaderInfo &header,
                                  const proto::asf::StreamSelection &selection) const {
    {
        std::lock_guard<std::mutex> locker(lock_);
        for (const auto &entry : cache_) {
            if (entry.first == selection)
                return entry.second;
        }
    }
    PacketVariant variant = PacketVariant::make(data, header, selection);
    std::lock_guard<std::mutex> locker(lock_);
    if (cache_.size() < kMaxVariants)
        cache_.emplace_back(selection, variant);
    return variant;
}

} // namespace wmstream::server
