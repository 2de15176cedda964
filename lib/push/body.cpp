/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PushStart body framing with Length-Remaining accounting and $F filler
 * [MS-WMHTTP §2.2.3, §3.1.4.2.1–§3.1.4.5].
 */
#include "push/body.h"

#include <algorithm>
#include <array>
#include <string>

namespace wmstream::push {

namespace {

using proto::framing::kPushHeaderSize;
using proto::framing::PacketId;

constexpr size_t kReasonSize = 4;
/* Smallest and largest $F packet, framing header included. */
constexpr size_t kMinFiller = kPushHeaderSize;
constexpr size_t kMaxFiller = kPushHeaderSize + kMaxPayload;

/* Whether a packet of @size bytes (framing header included) may be sent with
 * @remaining bytes left, per the rules in push/body.h. */
bool fits(PacketId id, size_t size, size_t remaining) {
    switch (id) {
    case PacketId::Data:
        return size + kPushHeaderSize < remaining;
    case PacketId::End:
        return size == remaining || size + kMinFiller <= remaining;
    default:
        return size + kPushHeaderSize <= remaining;
    }
}

void put_u32(uint8_t *out, uint32_t value) {
    for (int i = 0; i < 4; i++)
        out[i] = static_cast<uint8_t>(value >> (8 * i));
}

} // namespace

uint32_t minimum_content_length(size_t header_len, size_t packet_size) {
    const size_t data = 3 * (kPushHeaderSize + packet_size);
    const size_t header = kPushHeaderSize + kReasonSize + header_len + kPushHeaderSize;
    return static_cast<uint32_t>(std::min<size_t>(std::max(data, header), kMaxContentLength));
}

uint32_t proxy_content_length(uint64_t bits_per_second, size_t packet_size) {
    const uint64_t data = bits_per_second / 8 * kProxyBodySeconds;
    const uint64_t framing = packet_size ? data / packet_size * kPushHeaderSize : 0;
    return static_cast<uint32_t>(std::min<uint64_t>(data + framing, kMaxContentLength));
}

Result<Body::Fit> Body::offer(PacketId id, const uint8_t *reason, const uint8_t *payload,
                              size_t len, size_t max_len, std::vector<uint8_t> &out) {
    if (complete())
        return make_error(Errc::InvalidRequest, "the PushStart body is already complete");
    if (remaining_ < kMinFiller)
        return make_error(Errc::InvalidArgument,
                          "a PushStart body of " + std::to_string(remaining_) +
                              " bytes cannot be framed: no push packet is under 4 bytes");
    if (id != PacketId::End && (len == 0 || len > max_len))
        return make_error(Errc::InvalidData, std::string("$") + static_cast<char>(id) +
                                                 " payload of " + std::to_string(len) +
                                                 " bytes (1.." + std::to_string(max_len) + ")");
    const size_t extension = reason ? kReasonSize : 0;
    const auto header = proto::framing::push_header(id, extension + len);
    if (!header)
        return header.error();
    const size_t size = kPushHeaderSize + extension + len;
    if (!fits(id, size, remaining_)) {
        fill(out);
        return Fit::Filled;
    }
    out.insert(out.end(), header->begin(), header->end());
    if (reason)
        out.insert(out.end(), reason, reason + kReasonSize);
    if (len)
        out.insert(out.end(), payload, payload + len);
    remaining_ -= static_cast<uint32_t>(size);
    return Fit::Sent;
}

void Body::fill(std::vector<uint8_t> &out) {
    size_t left = remaining_;
    while (left > 0) {
        size_t size = std::min(left, kMaxFiller);
        /* Never leave 1..3 bytes: no $F is that small. */
        if (left - size > 0 && left - size < kMinFiller)
            size = left - kMinFiller;
        /* Cannot fail: the payload is at most kMaxPayload. */
        const auto header = proto::framing::push_header(PacketId::Filler, size - kPushHeaderSize);
        out.insert(out.end(), header->begin(), header->end());
        out.insert(out.end(), size - kPushHeaderSize, 0);
        left -= size;
    }
    remaining_ = 0;
}

Result<Body::Fit> Body::header(const uint8_t *asf_header, size_t len, std::vector<uint8_t> &out) {
    return offer(PacketId::Header, nullptr, asf_header, len, kMaxPayload, out);
}

Result<Body::Fit> Body::data(const uint8_t *packet, size_t len, std::vector<uint8_t> &out) {
    return offer(PacketId::Data, nullptr, packet, len, kMaxDataPayload, out);
}

Result<Body::Fit> Body::change(const uint8_t *asf_header, size_t len, std::vector<uint8_t> &out) {
    std::array<uint8_t, kReasonSize> reason{};
    put_u32(reason.data(), 0);
    return offer(PacketId::Change, reason.data(), asf_header, len, kMaxChangeHeader, out);
}

Result<Body::Fit> Body::end(uint32_t reason, std::vector<uint8_t> &out) {
    std::array<uint8_t, kReasonSize> bytes{};
    put_u32(bytes.data(), reason);
    return offer(PacketId::End, bytes.data(), nullptr, 0, 0, out);
}

} // namespace wmstream::push
