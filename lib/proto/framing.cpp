/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MS-WMSP pull framing (§2.2.3.1: framing header + MMS data packet header)
 * and MS-WMHTTP push framing (§2.2.3.1: framing header only), writers and
 * an incremental reader. All integers little-endian.
 */
#include "proto/framing.h"

#include <glib.h>

#include <algorithm>
#include <string>

namespace wmstream::proto::framing {

namespace {

constexpr uint8_t kFrame = '$';
constexpr uint8_t kBFlag = 0x80;
/* MMS data packet header size (LocationId, Incarnation, AFFlags, PacketSize). */
constexpr size_t kMmsHeaderSize = kPullHeaderSize - kPushHeaderSize;
constexpr size_t kReasonSize = 4;

void put_u16(uint8_t *out, size_t value) {
    out[0] = static_cast<uint8_t>(value);
    out[1] = static_cast<uint8_t>(value >> 8);
}

void put_u32(uint8_t *out, uint32_t value) {
    for (int i = 0; i < 4; i++)
        out[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint16_t get_u16(const uint8_t *in) {
    return static_cast<uint16_t>(in[0] | in[1] << 8);
}

uint32_t get_u32(const uint8_t *in) {
    return static_cast<uint32_t>(in[0]) | static_cast<uint32_t>(in[1]) << 8 |
           static_cast<uint32_t>(in[2]) << 16 | static_cast<uint32_t>(in[3]) << 24;
}

/* Framing header: B=0 + '$', PacketID, PacketLength (bytes after this header,
 * at most kMaxPacketLength: the callers check it). */
void put_framing_header(uint8_t *out, PacketId id, size_t packet_length) {
    out[0] = kFrame;
    out[1] = static_cast<uint8_t>(id);
    put_u16(out + 2, packet_length);
}

/* Framing header + MMS data packet header of a pull $H/$D/$M (payload_len at most
 * kMaxPullPayload: the callers check it). */
void put_pull_header(uint8_t *out, PacketId id, uint32_t location_id, uint8_t af_flags,
                     size_t payload_len) {
    const size_t packet_size = kMmsHeaderSize + payload_len;
    put_framing_header(out, id, packet_size);
    put_u32(out + 4, location_id);
    out[8] = 0; /* Incarnation */
    out[9] = af_flags;
    put_u16(out + 10, packet_size);
}

/* An 8-byte packet made of a framing header and a Reason (pull $E/$C, push $E). */
std::array<uint8_t, 8> reason_packet(PacketId id, uint32_t reason) {
    std::array<uint8_t, 8> out{};
    put_framing_header(out.data(), id, kReasonSize);
    put_u32(out.data() + kPushHeaderSize, reason);
    return out;
}

uint8_t header_fragment_flags(size_t index, size_t count) {
    if (count == 1)
        return kHeaderWhole;
    if (index == 0)
        return kHeaderFirst;
    return index + 1 == count ? kHeaderLast : kHeaderMiddle;
}

bool is_known_id(Reader::Mode mode, uint8_t id) {
    switch (static_cast<PacketId>(id)) {
    case PacketId::Header:
    case PacketId::Data:
    case PacketId::End:
    case PacketId::Change:
        return true;
    case PacketId::Meta:
    case PacketId::PacketPair:
    case PacketId::Test:
        return mode == Reader::Mode::Pull;
    case PacketId::Filler:
        return mode == Reader::Mode::Push;
    }
    return false;
}

/* Bytes that precede the payload inside PacketLength, for @id in @mode. */
size_t extension_size(Reader::Mode mode, PacketId id) {
    switch (id) {
    case PacketId::Header:
    case PacketId::Data:
    case PacketId::Meta:
        return mode == Reader::Mode::Pull ? kMmsHeaderSize : 0;
    case PacketId::End:
    case PacketId::Change:
    case PacketId::PacketPair:
        return kReasonSize;
    case PacketId::Test:
    case PacketId::Filler:
        break;
    }
    return 0;
}

} // namespace

Status write_pull_data_header(uint8_t out[kPullHeaderSize], uint32_t location_id, uint8_t af_flags,
                              size_t payload_len) {
    if (Status fits = check_pull_packet_size(payload_len); !fits)
        return fits;
    put_pull_header(out, PacketId::Data, location_id, af_flags, payload_len);
    return {};
}

Status check_pull_packet_size(size_t packet_size) {
    if (packet_size <= kMaxPullPayload)
        return {};
    return make_error(Errc::InvalidData,
                      "ASF packets of " + std::to_string(packet_size) +
                          " bytes do not fit an MS-WMSP $D packet (at most " +
                          std::to_string(kMaxPullPayload) +
                          " bytes: its length is 16 bits); set the muxer's packet size lower "
                          "(asfmux packet-size)");
}

std::vector<uint8_t> pull_header_packets(const uint8_t *asf_header, size_t len) {
    const size_t count = len == 0 ? 1 : (len + kMaxPullPayload - 1) / kMaxPullPayload;
    std::vector<uint8_t> out;
    out.reserve(len + count * kPullHeaderSize);
    for (size_t i = 0; i < count; i++) {
        const size_t offset = i * kMaxPullPayload;
        const size_t chunk = std::min(kMaxPullPayload, len - offset);
        uint8_t header[kPullHeaderSize];
        put_pull_header(header, PacketId::Header, static_cast<uint32_t>(i),
                        header_fragment_flags(i, count), chunk);
        out.insert(out.end(), header, header + kPullHeaderSize);
        out.insert(out.end(), asf_header + offset, asf_header + offset + chunk);
    }
    return out;
}

std::array<uint8_t, 8> pull_end(uint32_t reason) {
    return reason_packet(PacketId::End, reason);
}

std::array<uint8_t, 8> pull_change(uint32_t reason) {
    return reason_packet(PacketId::Change, reason);
}

Result<std::array<uint8_t, kPushHeaderSize>> push_header(PacketId id, size_t payload_len) {
    if (payload_len > kMaxPacketLength)
        return make_error(Errc::InvalidData, "a push packet of " + std::to_string(payload_len) +
                                                 " bytes does not fit PacketLength (at most " +
                                                 std::to_string(kMaxPacketLength) + ")");
    std::array<uint8_t, kPushHeaderSize> out{};
    put_framing_header(out.data(), id, payload_len);
    return out;
}

std::array<uint8_t, 8> push_end(uint32_t reason) {
    return reason_packet(PacketId::End, reason);
}

void Reader::feed(const uint8_t *data, size_t len) {
    /* Drop consumed bytes before growing, so the buffer stays one packet long. */
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(offset_));
    offset_ = 0;
    buffer_.insert(buffer_.end(), data, data + len);
}

Result<std::optional<Packet>> Reader::next() {
    using Next = Result<std::optional<Packet>>;
    if (error_)
        return *error_;

    const auto fail = [this](std::string message) -> Next {
        error_ = make_error(Errc::InvalidData, std::move(message));
        return *error_;
    };

    const size_t available = buffer_.size() - offset_;
    if (available < kPushHeaderSize)
        return Next(std::nullopt);
    const uint8_t *frame = buffer_.data() + offset_;
    if (frame[0] & kBFlag)
        return fail("framing header has the B bit set");
    if (frame[0] != kFrame)
        return fail("framing header does not start with '$'");
    if (!is_known_id(mode_, frame[1])) {
        char text[32];
        g_snprintf(text, sizeof text, "unknown PacketID 0x%02x", frame[1]);
        return fail(text);
    }
    const auto id = static_cast<PacketId>(frame[1]);
    const size_t packet_length = get_u16(frame + 2);
    const size_t extension = extension_size(mode_, id);
    if (packet_length < extension)
        return fail("PacketLength " + std::to_string(packet_length) + " too short for $" +
                    static_cast<char>(id));
    if (available < kPushHeaderSize + packet_length)
        return Next(std::nullopt);

    Packet packet;
    packet.id = id;
    const uint8_t *body = frame + kPushHeaderSize;
    if (extension == kMmsHeaderSize) {
        const size_t packet_size = get_u16(body + 6);
        if (packet_size != packet_length)
            return fail("PacketSize " + std::to_string(packet_size) + " != PacketLength " +
                        std::to_string(packet_length));
        packet.location_id = get_u32(body);
        packet.incarnation = body[4];
        packet.af_flags = body[5];
    } else if (extension == kReasonSize) {
        packet.reason = get_u32(body);
    }
    packet.payload.assign(body + extension, body + packet_length);
    offset_ += kPushHeaderSize + packet_length;
    return Next(std::move(packet));
}

} // namespace wmstream::proto::framing
