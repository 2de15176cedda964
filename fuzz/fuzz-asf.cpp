/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the ASF code that reads the upstream muxer's output
 * (lib/proto/asf.h): parse_header(), make_live_header(), parse_packet(),
 * time_base_for(), rebase_packet_times(), trim_to_key_frame() and
 * complete_packet_length(); and
 * add_bitrate_objects() (lib/proto/asf-mbr.h) on the header.
 *
 * Input: when it starts with a parsable streamable ASF header, that header,
 * then data packets of its packet size (the last one may be short). Else
 * the whole input is one data packet of a fallback header (packet size =
 * input size, stream 1 video, stream 2 audio), so that packet parsing is
 * covered from small inputs too.
 * Seeds: fuzz/corpus/asf/ (asfmux and FFmpeg output, the .asf and .asfs files
 * of tests/data/, cut to the header and a few packets, and single packets).
 *
 * Besides the sanitizers, it checks the documented contracts: the live
 * header parses, has the broadcast values and is a fixed point; the header
 * with the MBR objects parses, keeps its streams and packet size and is a
 * fixed point too; a packet
 * that parses can be rebased (times shifted, nothing else changed) and
 * trimmed (same size, still parses, still starts a key frame) and its
 * length completed (still parses with the same payloads; a second time
 * changes nothing); a packet that does not parse is refused by all three and
 * left unmodified.
 */
#include "proto/asf-mbr.h"
#include "proto/asf.h"

#include <glib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

using namespace wmstream;
using namespace wmstream::proto::asf;

namespace {

using Bytes = std::vector<uint8_t>;

/* Bounds the work per input. */
constexpr size_t kMaxPackets = 16;
constexpr size_t kMaxPacketSize = 65536;

void check_live_header(const uint8_t *data, size_t size, const HeaderInfo &info) {
    Result<Bytes> live = make_live_header(data, size);
    g_assert_true(live.ok());
    g_assert_cmpuint(live->size(), ==, info.total_size);
    Result<HeaderInfo> reparsed = parse_header(live->data(), live->size());
    g_assert_true(reparsed.ok());
    g_assert_cmpuint(reparsed->total_size, ==, info.total_size);
    g_assert_cmpuint(reparsed->packet_size, ==, info.packet_size);
    g_assert_cmpuint(reparsed->streams.size(), ==, info.streams.size());
    g_assert_cmpuint(reparsed->flags & 0x3, ==, 0x1); /* broadcast, not seekable */
    Result<Bytes> again = make_live_header(live->data(), live->size());
    g_assert_true(again.ok());
    g_assert_true(*again == *live);
}

/* The automatic MBR description with a declared rate for stream 1: refused only for a
 * stream 1 the header lacks (a header already described comes back as it is). */
void check_bitrate_objects(const uint8_t *data, size_t size, const HeaderInfo &info) {
    BitrateDescription description;
    description.bitrates = {{1, 300000}};
    Result<Bytes> described = add_bitrate_objects(data, size, description);
    const bool has_stream_1 = std::any_of(info.streams.begin(), info.streams.end(),
                                          [](const StreamInfo &s) { return s.number == 1; });
    const bool described_before = info.has_stream_bitrates || !info.exclusion_groups.empty();
    g_assert_true(described.ok() == (has_stream_1 || described_before));
    if (!described.ok())
        return;
    Result<HeaderInfo> reparsed = parse_header(described->data(), described->size());
    g_assert_true(reparsed.ok());
    g_assert_cmpuint(reparsed->total_size, ==, described->size());
    g_assert_cmpuint(reparsed->packet_size, ==, info.packet_size);
    g_assert_cmpuint(reparsed->streams.size(), ==, info.streams.size());
    Result<Bytes> again = add_bitrate_objects(described->data(), described->size(), description);
    g_assert_true(again.ok());
    g_assert_true(*again == *described);
}

/* Rebases and trims a copy of @p packet; checks what the header promises. */
void check_packet(const uint8_t *packet, size_t len, const HeaderInfo &header,
                  std::optional<TimeBase> &base) {
    const Result<PacketInfo> info = parse_packet(packet, len, header);
    Bytes copy(packet, packet + len);
    if (!info) {
        g_assert_true(info.error().code == Errc::InvalidData);
        g_assert_false(rebase_packet_times(copy.data(), len, header, TimeBase{}).ok());
        g_assert_true(std::equal(copy.begin(), copy.end(), packet));
        g_assert_false(trim_to_key_frame(packet, len, header).ok());
        g_assert_false(complete_packet_length(copy.data(), len, header).ok());
        g_assert_true(std::equal(copy.begin(), copy.end(), packet));
        return;
    }
    if (!base)
        base = time_base_for(*info, header);

    g_assert_true(rebase_packet_times(copy.data(), len, header, *base).ok());
    const Result<PacketInfo> rebased = parse_packet(copy.data(), len, header);
    g_assert_true(rebased.ok());
    g_assert_cmpuint(rebased->send_time_ms, ==, uint32_t(info->send_time_ms - base->send_ms));
    g_assert_cmpuint(rebased->duration_ms, ==, info->duration_ms);
    g_assert_cmpuint(rebased->payload_count, ==, info->payload_count);
    g_assert_true(rebased->key_frame_start == info->key_frame_start);

    const Result<Bytes> trimmed = trim_to_key_frame(packet, len, header);
    g_assert_true(trimmed.ok());
    g_assert_cmpuint(trimmed->size(), ==, len);
    const Result<PacketInfo> reparsed = parse_packet(trimmed->data(), len, header);
    g_assert_true(reparsed.ok());
    g_assert_true(reparsed->key_frame_start == info->key_frame_start);
    g_assert_cmpuint(reparsed->payload_count, <=, info->payload_count);
    g_assert_cmpuint(reparsed->send_time_ms, ==, info->send_time_ms);

    Bytes completed(packet, packet + len);
    const Result<bool> changed = complete_packet_length(completed.data(), len, header);
    g_assert_true(changed.ok());
    const Result<PacketInfo> whole = parse_packet(completed.data(), len, header);
    g_assert_true(whole.ok());
    g_assert_cmpuint(whole->payload_count, ==, info->payload_count);
    g_assert_cmpuint(whole->send_time_ms, ==, info->send_time_ms);
    g_assert_true(whole->key_frame_start == info->key_frame_start);
    g_assert_true(whole->streams == info->streams);
    const Result<bool> again = complete_packet_length(completed.data(), len, header);
    g_assert_true(again.ok() && !*again);
    g_assert_true(*changed || std::equal(completed.begin(), completed.end(), packet));
}

/* The header used when the input does not start with one. */
HeaderInfo fallback_header(size_t packet_size) {
    HeaderInfo header;
    header.packet_size = uint32_t(packet_size);
    header.streams = {StreamInfo{1, true, false}, StreamInfo{2, false, true}};
    return header;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const Result<HeaderInfo> parsed = parse_header(data, size);
    HeaderInfo header;
    size_t pos = 0;
    if (parsed) {
        header = *parsed;
        g_assert_cmpuint(header.total_size, ==, header.header_object_size + kDataObjectHeadSize);
        g_assert_cmpuint(header.total_size, <=, size);
        g_assert_cmpuint(header.packet_size, >=, 1);
        g_assert_cmpuint(header.packet_size, <=, kMaxPacketSize);
        check_live_header(data, size, header);
        check_bitrate_objects(data, size, header);
        pos = header.total_size;
    } else {
        g_assert_true(parsed.error().code == Errc::InvalidData);
        g_assert_false(make_live_header(data, size).ok());
        if (size == 0 || size > kMaxPacketSize)
            return 0;
        header = fallback_header(size);
    }

    std::optional<TimeBase> base;
    for (size_t n = 0; pos < size && n < kMaxPackets; n++) {
        const size_t len = std::min<size_t>(header.packet_size, size - pos);
        check_packet(data + pos, len, header, base);
        pos += len;
    }
    return 0;
}
