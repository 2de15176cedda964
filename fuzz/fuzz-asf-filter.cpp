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
 * PacketMerger, fed the packet and what filter_packet() sends of it in turn
 * until the 63-payload limit or the packet size stops it: a packet that does
 * not parse is refused, one with no payload of the selection adds nothing;
 * every merged packet is no larger than the packet size and, padded with
 * zeros back to it, parses with the send time of its first packet, only
 * selected streams and as many payloads as the packets it merged kept.
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

/* Payloads @p selection keeps of @p packet (what filter_packet() sends of it), or -1 when
 * it does not parse. */
int kept_count(const std::vector<uint8_t> &packet, const HeaderInfo &header,
               const StreamSelection &selection) {
    const Result<PacketFilter> filtered =
        filter_packet(packet.data(), packet.size(), header, selection);
    if (!filtered)
        return -1;
    if (filtered->kept == PacketFilter::Kept::None)
        return 0;
    const std::vector<uint8_t> &sent =
        filtered->kept == PacketFilter::Kept::Some ? filtered->packet : packet;
    const Result<PacketInfo> info = parse_packet(sent.data(), sent.size(), header);
    g_assert_true(info.ok());
    return int(info->payload_count);
}

/* The contract of PacketMerger::finish()'s @p merged packet of payloads @p kept, the first
 * merged packet sent at @p send_time_ms. */
void check_merged(const std::vector<uint8_t> &merged, const HeaderInfo &header,
                  const StreamSelection &selection, unsigned kept, uint32_t send_time_ms) {
    g_assert_cmpuint(merged.size(), >, 0);
    g_assert_cmpuint(merged.size(), <=, header.packet_size);
    std::vector<uint8_t> repadded = merged;
    repadded.resize(header.packet_size, 0);
    const Result<PacketInfo> info = parse_packet(repadded.data(), repadded.size(), header);
    g_assert_true(info.ok());
    g_assert_cmpuint(info->payload_count, ==, kept);
    g_assert_true((info->streams & ~selection.streams).none());
    g_assert_cmpuint(info->send_time_ms, ==, send_time_ms);
}

/* Merges @p packet and @p other (a packet of the same header) in turn; checks every packet
 * finish() makes. */
void check_merger(const std::vector<uint8_t> &packet, const std::vector<uint8_t> &other,
                  const HeaderInfo &header, const StreamSelection &selection) {
    const std::vector<uint8_t> *inputs[] = {&packet, &other};
    const int counts[] = {kept_count(packet, header, selection),
                          kept_count(other, header, selection)};
    uint32_t send_times[2] = {0, 0};
    for (int i = 0; i < 2; ++i) {
        const Result<PacketInfo> info = parse_packet(inputs[i]->data(), inputs[i]->size(), header);
        if (info)
            send_times[i] = info->send_time_ms;
    }
    PacketMerger merger(header, selection);
    unsigned kept = 0;
    uint32_t first_send_time = 0;
    /* 64 single-payload adds reach the 63-payload limit. */
    for (unsigned step = 0; step < 66; ++step) {
        const unsigned which = step % 2;
        const std::vector<uint8_t> &in = *inputs[which];
        const size_t before = merger.packets();
        const PacketMerger::Added added = merger.add(in.data(), in.size());
        if (counts[which] < 0)
            g_assert_true(added == PacketMerger::Added::Refused);
        if (added == PacketMerger::Added::Nothing) {
            g_assert_cmpint(counts[which], ==, 0);
            g_assert_cmpuint(merger.packets(), ==, before);
            continue;
        }
        if (added == PacketMerger::Added::Merged) {
            g_assert_cmpint(counts[which], >, 0);
            g_assert_cmpuint(merger.packets(), ==, before + 1);
            if (before == 0)
                first_send_time = send_times[which];
            kept += unsigned(counts[which]);
            continue;
        }
        g_assert_cmpuint(merger.packets(), ==, before);
        const std::vector<uint8_t> merged = merger.finish();
        g_assert_cmpuint(merger.packets(), ==, 0);
        if (before == 0) {
            g_assert_true(merged.empty());
            continue; /* cannot be merged at all */
        }
        check_merged(merged, header, selection, kept, first_send_time);
        kept = 0;
        /* The merger starts again: now the refused packet is the first one. */
        --step;
    }
    const size_t packets = merger.packets();
    const std::vector<uint8_t> merged = merger.finish();
    if (packets == 0)
        g_assert_true(merged.empty());
    else
        check_merged(merged, header, selection, kept, first_send_time);
    g_assert_true(merger.finish().empty());
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
    const std::vector<uint8_t> whole(packet, packet + len);
    if (!info) {
        g_assert_false(filtered.ok());
        g_assert_true(filtered.error().code == Errc::InvalidData);
        check_merger(whole, whole, header, selection);
        return 0;
    }
    g_assert_true(filtered.ok());
    check_merger(whole, filtered->kept == PacketFilter::Kept::Some ? filtered->packet : whole,
                 header, selection);
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
