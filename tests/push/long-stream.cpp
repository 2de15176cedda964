/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "long-stream.h"

#include <glib.h>

#include <algorithm>

namespace pushtest {

LongStream::LongStream() {
    g_autofree char *contents = nullptr;
    gsize len = 0;
    if (!g_file_get_contents(data_path("asfmux-wmv2.asf").c_str(), &contents, &len, nullptr))
        g_error("long-stream: cannot read asfmux-wmv2.asf");
    const auto *bytes = reinterpret_cast<const uint8_t *>(contents);
    auto info = wmstream::proto::asf::parse_header(bytes, len);
    g_assert_true(info.ok());
    g_assert_cmpuint(info->packet_size, ==, kPacketSize);
    g_assert_cmpuint(len, ==, info->total_size + kCyclePackets * kPacketSize);
    header_.assign(bytes, bytes + info->total_size);
    info_ = *info;
    uint32_t first = 0;
    for (size_t i = 0; i < kCyclePackets; i++) {
        const uint8_t *packet = bytes + info->total_size + i * kPacketSize;
        packets_[i].assign(packet, packet + kPacketSize);
        auto parsed = wmstream::proto::asf::parse_packet(packet, kPacketSize, *info);
        g_assert_true(parsed.ok());
        if (i == 0)
            first = parsed->send_time_ms;
        times_[i] = parsed->send_time_ms - first;
        keys_[i] = parsed->key_frame_start;
    }
    g_assert_cmpuint(times_[kCyclePackets - 1], <, kCycleMs);
}

Bytes LongStream::packet(uint64_t index) const {
    Bytes packet = packets_[index % kCyclePackets];
    const uint32_t shift = static_cast<uint32_t>(index / kCyclePackets * kCycleMs);
    if (shift == 0)
        return packet;
    /* Subtracting −shift modulo 2^32 adds shift. */
    const wmstream::proto::asf::TimeBase base{0u - shift, 0u - shift};
    g_assert_true(
        wmstream::proto::asf::rebase_packet_times(packet.data(), packet.size(), info_, base).ok());
    return packet;
}

uint64_t LongStream::send_time_ms(uint64_t index) const {
    return index / kCyclePackets * kCycleMs + times_[index % kCyclePackets];
}

bool LongStream::key_frame_start(uint64_t index) const {
    return keys_[index % kCyclePackets];
}

size_t LongStream::max_packets_within(uint64_t window_ms) const {
    /* The pattern repeats every cycle: every window starts in the first one. */
    size_t most = 0;
    for (uint64_t first = 0; first < kCyclePackets; first++) {
        uint64_t last = first;
        while (send_time_ms(last + 1) - send_time_ms(first) <= window_ms)
            last++;
        most = std::max<size_t>(most, last - first + 1);
    }
    return most;
}

} // namespace pushtest
