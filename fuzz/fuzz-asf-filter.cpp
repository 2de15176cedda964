/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: per-client stream selection of ASF data packets
 * (lib/proto/asf-filter.h, filter_packet()).
 *
 * Input: one byte of selection, then one data packet of a header with
 * stream 1 video and stream 2 audio and packet size = the packet's size.
 * Selection byte: bit 0 sends stream 1, bit 1 stream 2, bit 2 thins stream 1
 * to key frames, bit 3 thins stream 2, bits 4-7 (1..15) send that stream too.
 * Seeds: fuzz/corpus/asf-filter/ (asfmux and FFmpeg packets of tests/data/
 * with several selections).
 *
 * Besides the sanitizers, it checks the documented contract: a packet that
 * does not parse is refused; one that parses comes back whole only when no
 * payload of an unselected stream is in it, or rewritten to the same size,
 * parsing, with the same send time and duration, fewer payloads and only
 * selected streams (and filtering it again keeps it whole), or not at all
 * only when no payload of a stream sent unthinned is in it. What is sent
 * without its padding (strip_padding()) is shorter and, padded with zeros
 * back to the packet size, parses with the same payloads and times.
 */
#include "proto/asf-filter.h"

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace wmstream;
using namespace wmstream::proto::asf;

namespace {

constexpr size_t kMaxPacketSize = 65536;

/* The contract of strip_padding() on @p sent, a packet that parses as @p info. */
void check_stripped(const std::vector<uint8_t> &sent, const HeaderInfo &header,
                    const PacketInfo &info) {
    const Result<PacketFilter> bare = strip_padding(sent.data(), sent.size(), header);
    g_assert_true(bare.ok());
    if (bare->kept != PacketFilter::Kept::Some)
        return;
    g_assert_cmpuint(bare->packet.size(), <, sent.size());
    std::vector<uint8_t> repadded = bare->packet;
    repadded.resize(sent.size(), 0);
    const Result<PacketInfo> again = parse_packet(repadded.data(), repadded.size(), header);
    g_assert_true(again.ok());
    g_assert_cmpuint(again->payload_count, ==, info.payload_count);
    g_assert_true(again->streams == info.streams);
    g_assert_true(again->key_frame_streams == info.key_frame_streams);
    g_assert_cmpuint(again->send_time_ms, ==, info.send_time_ms);
    g_assert_cmpuint(again->duration_ms, ==, info.duration_ms);
}

StreamSelection selection_of(uint8_t bits) {
    StreamSelection selection;
    selection.streams[1] = (bits & 0x01) != 0;
    selection.streams[2] = (bits & 0x02) != 0;
    selection.key_frames_only[1] = (bits & 0x04) != 0;
    selection.key_frames_only[2] = (bits & 0x08) != 0;
    if (bits >> 4)
        selection.streams.set(bits >> 4);
    selection.key_frames_only &= selection.streams;
    return selection;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size - 1 > kMaxPacketSize)
        return 0;
    const StreamSelection selection = selection_of(data[0]);
    const uint8_t *packet = data + 1;
    const size_t len = size - 1;
    HeaderInfo header;
    header.packet_size = uint32_t(len);
    header.streams = {StreamInfo{1, true, false}, StreamInfo{2, false, true}};

    const Result<PacketInfo> info = parse_packet(packet, len, header);
    const Result<PacketFilter> filtered = filter_packet(packet, len, header, selection);
    if (!info) {
        g_assert_false(filtered.ok());
        g_assert_true(filtered.error().code == Errc::InvalidData);
        return 0;
    }
    g_assert_true(filtered.ok());
    switch (filtered->kept) {
    case PacketFilter::Kept::All:
        g_assert_true((info->streams & ~selection.streams).none());
        check_stripped(std::vector<uint8_t>(packet, packet + len), header, *info);
        break;
    case PacketFilter::Kept::None:
        g_assert_true((info->streams & selection.streams & ~selection.key_frames_only).none());
        break;
    case PacketFilter::Kept::Some: {
        const auto &out = filtered->packet;
        g_assert_cmpuint(out.size(), ==, len);
        const Result<PacketInfo> reparsed = parse_packet(out.data(), out.size(), header);
        g_assert_true(reparsed.ok());
        g_assert_true((reparsed->streams & ~selection.streams).none());
        g_assert_cmpuint(reparsed->payload_count, <, info->payload_count);
        g_assert_cmpuint(reparsed->send_time_ms, ==, info->send_time_ms);
        g_assert_cmpuint(reparsed->duration_ms, ==, info->duration_ms);
        const Result<PacketFilter> again = filter_packet(out.data(), out.size(), header, selection);
        g_assert_true(again.ok());
        g_assert_true(again->kept == PacketFilter::Kept::All);
        check_stripped(out, header, *reparsed);
        break;
    }
    }
    return 0;
}
