/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/proto/asf-filter: per-client stream selection of ASF
 * data packets (MS-WMSP §3.2.5.6, thinning levels of §2.2.1.4.27).
 *
 * Hand-built packets (ASF §5.2) check the exact bytes of the rewrite: which
 * payloads stay, the payload count, the padding and packet length fields
 * (kept, widened, added or left out), error correction data, compressed
 * payloads and single-payload packets; and strip_padding() (MS-WMSP
 * §2.2.3.3), whose packets re-padded with zeros parse as before. The fixtures
 * (tests/data/README.md) check that real asfmux and FFmpeg packets split by stream lose nothing:
 * the payloads of stream 1 plus those of stream 2 are the packet's payloads.
 * PacketMerger gathers the payloads filter_packet() keeps of consecutive
 * packets into one unpadded packet: the same payload bytes, in order.
 */
#include "proto/asf-filter.h"
#include "proto/asf-packet.h"
#include "stream-numbers.h"
#include "test-data.h"

#include <glib.h>

#include <initializer_list>
#include <vector>

using namespace wmstream;
using namespace wmstream::proto::asf;
using wmstream::test::selection_of;

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint32_t kSize = 96;

/* Payload headers with property flags 0x5d: byte object number, dword
 * offset, byte replicated length (8: object size, presentation time), then a
 * word payload length (payload flags 0x80). */
Bytes payload(uint8_t stream, uint8_t object, uint32_t offset, const Bytes &data) {
    Bytes out = {stream, object};
    for (int i = 0; i < 4; ++i)
        out.push_back(uint8_t(offset >> (8 * i)));
    out.insert(out.end(), {0x08, 0x10, 0x00, 0x00, 0x00, 0xE8, 0x03, 0x00, 0x00});
    out.push_back(uint8_t(data.size()));
    out.push_back(0x00);
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

/* Video key frame start, audio, video delta frame (streams 1 video, 2 audio). */
const Bytes kKey = payload(0x81, 7, 0, {'V', 'V', 'V', 'V'});
const Bytes kAudio = payload(0x02, 3, 0, {'a', 'a'});
const Bytes kDelta = payload(0x01, 8, 0, {'d', 'd', 'd'});

/* The fields after the padding length: send time 1000, duration 40. */
const Bytes kTimes = {0xE8, 0x03, 0x00, 0x00, 0x28, 0x00};

/* A multiple-payload packet of @p size: @p prefix (error correction data,
 * length type flags, property flags, packet length, sequence), the
 * padding length field of @p padding_width bytes (the padding the packet
 * leaves), the times, payload flags and @p payloads, zero-padded. */
Bytes packet(const Bytes &prefix, size_t padding_width, const std::vector<Bytes> &payloads,
             uint32_t size = kSize) {
    size_t used = prefix.size() + padding_width + kTimes.size() + 1;
    for (const Bytes &p : payloads)
        used += p.size();
    g_assert_cmpuint(used, <=, size);
    Bytes out = prefix;
    for (size_t i = 0; i < padding_width; ++i)
        out.push_back(uint8_t((size - used) >> (8 * i)));
    out.insert(out.end(), kTimes.begin(), kTimes.end());
    out.push_back(uint8_t(0x80 | payloads.size()));
    for (const Bytes &p : payloads)
        out.insert(out.end(), p.begin(), p.end());
    out.resize(size, 0);
    return out;
}

HeaderInfo header_of(uint32_t size) {
    HeaderInfo header;
    header.packet_size = size;
    header.streams = {{1, true, false}, {2, false, true}};
    return header;
}

PacketFilter filter(const Bytes &in, const StreamSelection &selection, uint32_t size = kSize) {
    Result<PacketFilter> result = filter_packet(in.data(), in.size(), header_of(size), selection);
    g_assert_true(result.ok());
    return std::move(*result);
}

/* @p in filtered by @p selection is exactly @p expected, which parses. */
void assert_some(const Bytes &in, const StreamSelection &selection, const Bytes &expected,
                 uint32_t size = kSize) {
    PacketFilter out = filter(in, selection, size);
    g_assert_true(out.kept == PacketFilter::Kept::Some);
    g_assert_cmpmem(out.packet.data(), out.packet.size(), expected.data(), expected.size());
    g_assert_true(parse_packet(out.packet.data(), out.packet.size(), header_of(size)).ok());
}

void test_byte_padding() {
    const Bytes prefix = {0x09, 0x5d}; /* multiple payloads, byte padding length */
    const Bytes in = packet(prefix, 1, {kKey, kAudio, kDelta});
    assert_some(in, selection_of({1}), packet(prefix, 1, {kKey, kDelta}));
    assert_some(in, selection_of({2}), packet(prefix, 1, {kAudio}));
    assert_some(in, selection_of({1, 2}, {1}), packet(prefix, 1, {kKey, kAudio}));
    assert_some(in, selection_of({1}, {1}), packet(prefix, 1, {kKey}));
    g_assert_true(filter(in, selection_of({1, 2})).kept == PacketFilter::Kept::All);
    g_assert_true(filter(in, selection_of({1, 2, 5})).kept == PacketFilter::Kept::All);
    g_assert_true(filter(in, selection_of({3})).kept == PacketFilter::Kept::None);
    g_assert_true(filter(in, selection_of({})).kept == PacketFilter::Kept::None);
}

void test_padding_field_added() {
    /* No padding length field: one byte wide is added (length type 1). */
    const Bytes in = packet({0x01, 0x5d}, 0, {kKey, kAudio, kDelta});
    assert_some(in, selection_of({2}), packet({0x09, 0x5d}, 1, {kAudio}));
}

void test_error_correction_and_sequence() {
    /* Error correction data (2 bytes) and a byte sequence are copied. */
    const Bytes in = packet({0x82, 0xAB, 0xCD, 0x0B, 0x5d, 0x42}, 1, {kKey, kAudio});
    assert_some(in, selection_of({1}), packet({0x82, 0xAB, 0xCD, 0x0B, 0x5d, 0x42}, 1, {kKey}));
}

void test_packet_length_field() {
    /* Word packet length and padding: the packet length stays the packet size. */
    const Bytes in = packet({0x51, 0x5d, uint8_t(kSize), 0x00}, 2, {kKey, kAudio, kDelta});
    assert_some(in, selection_of({1}),
                packet({0x51, 0x5d, uint8_t(kSize), 0x00}, 2, {kKey, kDelta}));

    /* A byte packet length (short: the rest is implicit padding) cannot hold
     * a 300-byte packet size: it is left out, and the padding no longer fits
     * a byte: the field widens to a word. */
    constexpr uint32_t kLarge = 300;
    Bytes short_packet = packet({0x29, 0x5d, 0x00}, 1, {kKey, kAudio}, 80);
    short_packet[2] = 80;
    short_packet.resize(kLarge, 0);
    assert_some(short_packet, selection_of({2}), packet({0x11, 0x5d}, 2, {kAudio}, kLarge), kLarge);
}

/* A compressed payload (replicated length 1) of stream 1 is kept or dropped whole. */
void test_compressed_payload() {
    const Bytes compressed = {0x81, 0x07, 0xE8, 0x03, 0x00, 0x00, 0x01, 0x28, 0x07,
                              0x00, 0x03, 'a',  'b',  'c',  0x02, 'd',  'e'};
    const Bytes prefix = {0x09, 0x5d};
    const Bytes in = packet(prefix, 1, {compressed, kAudio});
    assert_some(in, selection_of({1}), packet(prefix, 1, {compressed}));
    assert_some(in, selection_of({2}), packet(prefix, 1, {kAudio}));
    assert_some(in, selection_of({1}, {1}), packet(prefix, 1, {compressed}));
}

/* A single-payload packet is sent whole or not at all. */
void test_single_payload() {
    Bytes in = {0x08, 0x5d, 0x00, 0xE8, 0x03, 0x00, 0x00, 0x28, 0x00,
                0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00}; /* stream 1 delta, no replicated data */
    in.resize(kSize, 'x');
    g_assert_true(filter(in, selection_of({1})).kept == PacketFilter::Kept::All);
    g_assert_true(filter(in, selection_of({2})).kept == PacketFilter::Kept::None);
    g_assert_true(filter(in, selection_of({1}, {1})).kept == PacketFilter::Kept::None);
    in[9] = 0x81; /* a key frame */
    g_assert_true(filter(in, selection_of({1}, {1})).kept == PacketFilter::Kept::All);
}

/* strip_padding() of @p in is Some and exactly @p expected; padded with zeros back to the
 * packet size (as FFmpeg and VLC do with a short $D) it parses with the payloads of @p in. */
void assert_stripped(const Bytes &in, const Bytes &expected) {
    Result<PacketFilter> out = strip_padding(in.data(), in.size(), header_of(kSize));
    g_assert_true(out.ok());
    g_assert_true(out->kept == PacketFilter::Kept::Some);
    g_assert_cmpmem(out->packet.data(), out->packet.size(), expected.data(), expected.size());
    Bytes repadded = out->packet;
    repadded.resize(kSize, 0);
    Result<PacketInfo> before = parse_packet(in.data(), in.size(), header_of(kSize));
    Result<PacketInfo> after = parse_packet(repadded.data(), repadded.size(), header_of(kSize));
    g_assert_true(before.ok() && after.ok());
    g_assert_cmpuint(after->payload_count, ==, before->payload_count);
    g_assert_true(after->streams == before->streams);
    g_assert_true(after->key_frame_streams == before->key_frame_streams);
}

/* The packet strip_padding() makes of payloads @p payloads: word packet length (the bytes
 * sent), no padding length field, @p prefix before the length type flags (error correction). */
Bytes stripped(const std::vector<Bytes> &payloads, uint8_t flags = 0x41, const Bytes &prefix = {}) {
    Bytes out = prefix;
    out.insert(out.end(), {flags, 0x5d, 0x00, 0x00});
    out.insert(out.end(), kTimes.begin(), kTimes.end());
    if (flags & 0x01)
        out.push_back(uint8_t(0x80 | payloads.size()));
    for (const Bytes &p : payloads)
        out.insert(out.end(), p.begin(), p.end());
    out[prefix.size() + 2] = uint8_t(out.size());
    out[prefix.size() + 3] = uint8_t(out.size() >> 8);
    return out;
}

void test_strip_padding() {
    /* Byte padding length: a word packet length takes its place. */
    assert_stripped(packet({0x09, 0x5d}, 1, {kKey, kAudio, kDelta}),
                    stripped({kKey, kAudio, kDelta}));
    /* A word packet length already there (asfmux) says the bytes sent; error correction data
     * is copied. */
    assert_stripped(packet({0x82, 0xAB, 0xCD, 0x51, 0x5d, uint8_t(kSize), 0x00}, 2, {kAudio}),
                    stripped({kAudio}, 0x41, {0x82, 0xAB, 0xCD}));
    /* A filtered packet: what filter_packet() kept, without the padding it left. */
    const Bytes in = packet({0x09, 0x5d}, 1, {kKey, kAudio, kDelta});
    const PacketFilter audio = filter(in, selection_of({2}));
    assert_stripped(audio.packet, stripped({kAudio}));
    /* A single-payload packet: its payload runs to the packet length. */
    Bytes single = {0x08, 0x5d, 0x00, 0xE8, 0x03, 0x00, 0x00, 0x28, 0x00,
                    0x81, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 'k',  'k'};
    const Bytes single_payload(single.begin() + 9, single.end());
    single[2] = uint8_t(kSize - single.size());
    single.resize(kSize, 0);
    assert_stripped(single, stripped({single_payload}, 0x40));
    /* No padding: nothing to strip (a packet length field would cost more than it saves). */
    const auto exact_size = uint32_t(2 + 1 + kTimes.size() + 1 + kKey.size() + kAudio.size());
    const Bytes exact = packet({0x09, 0x5d}, 1, {kKey, kAudio}, exact_size);
    Result<PacketFilter> none = strip_padding(exact.data(), exact.size(), header_of(exact_size));
    g_assert_true(none.ok());
    g_assert_true(none->kept == PacketFilter::Kept::All);
}

void test_rejects_corrupt() {
    Bytes in = packet({0x09, 0x5d}, 1, {kKey, kAudio});
    in[9] = 0x85; /* five payloads: the fourth runs past the end */
    Result<PacketFilter> result =
        filter_packet(in.data(), in.size(), header_of(kSize), selection_of({1}));
    g_assert_false(result.ok());
    g_assert_true(result.error().code == Errc::InvalidData);
    result = filter_packet(in.data(), 10, header_of(kSize), selection_of({1}));
    g_assert_false(result.ok());
}

/* Splits every packet of a real stream by stream: nothing is lost, nothing
 * foreign stays, the size, times and key-frame starts of the kept stream are
 * the original's. */
void check_split(const Bytes &header_bytes, const std::vector<Bytes> &packets) {
    Result<HeaderInfo> header = parse_header(header_bytes.data(), header_bytes.size());
    g_assert_true(header.ok());
    g_assert_cmpuint(header->streams.size(), ==, 2);
    unsigned rewritten = 0;
    for (const Bytes &in : packets) {
        Result<PacketInfo> original = parse_packet(in.data(), in.size(), *header);
        g_assert_true(original.ok());
        unsigned payloads = 0;
        for (const StreamInfo &stream : header->streams) {
            const StreamSelection selection = selection_of({stream.number});
            Result<PacketFilter> out = filter_packet(in.data(), in.size(), *header, selection);
            g_assert_true(out.ok());
            if (out->kept == PacketFilter::Kept::None) {
                g_assert_false(original->streams[stream.number]);
                continue;
            }
            const Bytes &sent = out->kept == PacketFilter::Kept::Some ? out->packet : in;
            rewritten += out->kept == PacketFilter::Kept::Some ? 1 : 0;
            g_assert_cmpuint(sent.size(), ==, header->packet_size);
            Result<PacketInfo> info = parse_packet(sent.data(), sent.size(), *header);
            g_assert_true(info.ok());
            g_assert_true((info->streams & ~selection.streams).none());
            g_assert_cmpuint(info->send_time_ms, ==, original->send_time_ms);
            g_assert_cmpuint(info->duration_ms, ==, original->duration_ms);
            g_assert_true(info->key_frame_streams[stream.number] ==
                          original->key_frame_streams[stream.number]);
            payloads += info->payload_count;
            /* Without padding for a $D, re-padded: the same payloads. */
            Result<PacketFilter> bare = strip_padding(sent.data(), sent.size(), *header);
            g_assert_true(bare.ok());
            if (bare->kept == PacketFilter::Kept::Some) {
                g_assert_cmpuint(bare->packet.size(), <, header->packet_size);
                Bytes repadded = bare->packet;
                repadded.resize(header->packet_size, 0);
                Result<PacketInfo> again = parse_packet(repadded.data(), repadded.size(), *header);
                g_assert_true(again.ok());
                g_assert_cmpuint(again->payload_count, ==, info->payload_count);
                g_assert_true(again->streams == info->streams);
                g_assert_cmpuint(again->send_time_ms, ==, info->send_time_ms);
            }
        }
        g_assert_cmpuint(payloads, ==, original->payload_count);
    }
    g_assert_cmpuint(rewritten, >, 0);
}

void test_asfmux_split() {
    const Bytes file = test::load_bytes("asfmux-wmv2-wmav2.asf");
    Result<HeaderInfo> header = parse_header(file.data(), file.size());
    g_assert_true(header.ok());
    std::vector<Bytes> packets;
    for (size_t pos = header->total_size; pos + header->packet_size <= file.size();
         pos += header->packet_size)
        packets.emplace_back(file.begin() + pos, file.begin() + pos + header->packet_size);
    g_assert_cmpuint(packets.size(), ==, 12);
    check_split(Bytes(file.begin(), file.begin() + header->total_size), packets);
}

/* FFmpeg's asf_stream packets, unframed ($H and $D payloads after the 8-byte MMS header). */
void test_ffmpeg_split() {
    const Bytes framed = test::load_bytes("ffmpeg-wmv2-wmav2.asfs");
    Bytes header;
    std::vector<Bytes> packets;
    for (size_t pos = 0; pos + 4 <= framed.size() && framed[pos + 1] != 'E';) {
        const size_t length = framed[pos + 2] | (framed[pos + 3] << 8);
        const Bytes body(framed.begin() + pos + 12, framed.begin() + pos + 4 + length);
        if (framed[pos + 1] == 'H')
            header.insert(header.end(), body.begin(), body.end());
        else
            packets.push_back(body);
        pos += 4 + length;
    }
    g_assert_cmpuint(packets.size(), ==, 18);
    check_split(header, packets);
}

void test_selection_helpers() {
    const HeaderInfo header = header_of(kSize);
    const StreamSelection all = StreamSelection::all_of(header);
    g_assert_true(all.keeps_all(header));
    const std::string all_list = all.stream_list(); /* outlives the check */
    g_assert_cmpstr(all_list.c_str(), ==, "1,2");
    g_assert_cmpuint(all.thinning(), ==, 0);
    g_assert_false(selection_of({2}).keeps_all(header));
    g_assert_false(selection_of({1, 2}, {1}).keeps_all(header));
    g_assert_cmpuint(selection_of({1, 2}, {1}).thinning(), ==, 1);
    const std::string none_list = selection_of({}).stream_list();
    const std::string two_list = selection_of({127, 10}).stream_list();
    g_assert_cmpstr(none_list.c_str(), ==, "");
    g_assert_cmpstr(two_list.c_str(), ==, "10,127");
}

/* The payloads of @p in (a whole packet of @p header's size, or a shorter one with an
 * explicit packet length, re-padded with zeros as a $D reader does), each with its
 * payload header. */
std::vector<Bytes> payloads_of(const Bytes &in, const HeaderInfo &header) {
    Bytes padded = in;
    g_assert_cmpuint(padded.size(), <=, header.packet_size);
    padded.resize(header.packet_size, 0);
    detail::Layout layout;
    g_assert_true(detail::walk_packet(padded.data(), padded.size(), header, &layout).ok());
    std::vector<Bytes> out;
    for (const detail::PayloadSpan &span : layout.payloads)
        out.emplace_back(padded.begin() + long(span.start), padded.begin() + long(span.end));
    return out;
}

/* What filter_packet() sends of @p in for @p selection, as payloads (none when it drops
 * the packet). */
std::vector<Bytes> kept_payloads(const Bytes &in, const HeaderInfo &header,
                                 const StreamSelection &selection) {
    Result<PacketFilter> out = filter_packet(in.data(), in.size(), header, selection);
    g_assert_true(out.ok());
    if (out->kept == PacketFilter::Kept::None)
        return {};
    return payloads_of(out->kept == PacketFilter::Kept::Some ? out->packet : in, header);
}

/* @p merged, a PacketMerger's packet, parses re-padded to @p header's packet size, says
 * its size in an explicit packet length, has no padding length field, the send time of
 * @p first and exactly the payloads @p expected. */
void assert_merged(const Bytes &merged, const HeaderInfo &header, const Bytes &first,
                   const std::vector<Bytes> &expected) {
    g_assert_cmpuint(merged.size(), >, 0);
    g_assert_cmpuint(merged.size(), <=, header.packet_size);
    Bytes padded = merged;
    padded.resize(header.packet_size, 0);
    detail::Layout layout;
    Result<PacketInfo> info = detail::walk_packet(padded.data(), padded.size(), header, &layout);
    g_assert_true(info.ok());
    g_assert_cmpuint(layout.packet_length.width, >, 0);
    g_assert_cmpuint(
        detail::load_le(merged.data() + layout.packet_length.offset, layout.packet_length.width),
        ==, merged.size());
    g_assert_cmpuint(layout.padding.width, ==, 0);
    g_assert_cmpuint(layout.payloads.size(), ==, expected.size());
    g_assert_cmpuint(layout.payloads.back().end, ==, merged.size());
    Result<PacketInfo> first_info = parse_packet(first.data(), first.size(), header);
    g_assert_true(first_info.ok());
    g_assert_cmpuint(info->send_time_ms, ==, first_info->send_time_ms);
    g_assert_cmpuint(info->duration_ms, ==, first_info->duration_ms);
    const std::vector<Bytes> got = payloads_of(merged, header);
    g_assert_cmpuint(got.size(), ==, expected.size());
    for (size_t i = 0; i < got.size(); ++i)
        g_assert_cmpmem(got[i].data(), got[i].size(), expected[i].data(), expected[i].size());
}

/* The data packets of fixture @p name and its header. */
std::vector<Bytes> fixture_packets(const char *name, HeaderInfo &header) {
    const Bytes file = test::load_bytes(name);
    Result<HeaderInfo> parsed = parse_header(file.data(), file.size());
    g_assert_true(parsed.ok());
    header = *parsed;
    std::vector<Bytes> packets;
    for (size_t pos = header.total_size; pos + header.packet_size <= file.size();
         pos += header.packet_size)
        packets.emplace_back(file.begin() + long(pos),
                             file.begin() + long(pos + header.packet_size));
    return packets;
}

/* Merges packets of @p packets from @p begin with @p merger until one is refused (or
 * they end); @return the index after the last packet merged or skipped. Every packet
 * merged or skipped is checked against filter_packet(); @p expected receives the
 * payloads kept of them. */
size_t merge_from(PacketMerger &merger, const std::vector<Bytes> &packets, size_t begin,
                  const HeaderInfo &header, const StreamSelection &selection,
                  std::vector<Bytes> &expected) {
    size_t i = begin;
    for (; i < packets.size(); ++i) {
        const size_t before = merger.packets();
        const std::vector<Bytes> kept = kept_payloads(packets[i], header, selection);
        const PacketMerger::Added added = merger.add(packets[i].data(), packets[i].size());
        if (added == PacketMerger::Added::Refused) {
            g_assert_cmpuint(merger.packets(), ==, before);
            break;
        }
        if (added == PacketMerger::Added::Nothing) {
            g_assert_true(kept.empty());
            g_assert_cmpuint(merger.packets(), ==, before);
            continue;
        }
        g_assert_false(kept.empty());
        g_assert_cmpuint(merger.packets(), ==, before + 1);
        expected.insert(expected.end(), kept.begin(), kept.end());
    }
    return i;
}

/* Low-rate video (1) and audio (4) of the multiple-bit-rate fixture: consecutive packets
 * merge into packets of the same payloads, until one no longer fits. */
void test_merger_keeps_payloads() {
    HeaderInfo header;
    const std::vector<Bytes> packets = fixture_packets("asfmux-mbr.asf", header);
    g_assert_cmpuint(header.streams.size(), ==, 4);
    g_assert_cmpuint(packets.size(), >, 4);
    const StreamSelection selection = selection_of({1, 4});
    PacketMerger merger(header, selection);

    /* Packets 1 and 2 hold only streams 2 and 3; 3 to 6 merge; 7's key frame of stream 1
     * does not fit. */
    std::vector<Bytes> expected;
    const size_t refused = merge_from(merger, packets, 1, header, selection, expected);
    g_assert_cmpuint(refused, ==, 7);
    g_assert_cmpuint(merger.packets(), ==, 4);
    g_assert_cmpuint(expected.size(), ==, 8);
    /* Refused for its size: the kept payloads of the refused packet do not fit. */
    const std::vector<Bytes> next = kept_payloads(packets[refused], header, selection);
    size_t next_bytes = 0;
    for (const Bytes &p : next)
        next_bytes += p.size();
    const Bytes merged = merger.finish();
    g_assert_cmpuint(merged.size() + next_bytes, >, header.packet_size);
    assert_merged(merged, header, packets[3], expected);
    g_assert_cmpuint(merger.packets(), ==, 0);
    g_assert_cmpuint(merger.finish().size(), ==, 0);

    /* The merger starts again: the refused packet opens the next group, which is what a
     * fresh merger makes of the same packets. */
    std::vector<Bytes> second_expected;
    g_assert_cmpuint(merge_from(merger, packets, refused, header, selection, second_expected), ==,
                     packets.size());
    g_assert_cmpuint(merger.packets(), ==, packets.size() - refused);
    const Bytes second = merger.finish();
    assert_merged(second, header, packets[refused], second_expected);
    PacketMerger fresh(header, selection);
    std::vector<Bytes> fresh_expected;
    merge_from(fresh, packets, refused, header, selection, fresh_expected);
    const Bytes again = fresh.finish();
    g_assert_cmpmem(again.data(), again.size(), second.data(), second.size());

    /* Every stream: a whole packet's payloads, in a shorter packet. */
    const StreamSelection all = StreamSelection::all_of(header);
    PacketMerger whole(header, all);
    g_assert_true(whole.add(packets[0].data(), packets[0].size()) == PacketMerger::Added::Merged);
    g_assert_true(whole.add(packets[1].data(), packets[1].size()) == PacketMerger::Added::Refused);
    const Bytes one = whole.finish();
    assert_merged(one, header, packets[0], payloads_of(packets[0], header));
}

/* Hand-built packets: the exact bytes of the merged packet, Nothing, and Refused for the
 * packet size. */
void test_merger_exact() {
    const HeaderInfo header = header_of(kSize);
    const StreamSelection video = selection_of({1});
    PacketMerger merger(header, video);
    g_assert_cmpuint(merger.finish().size(), ==, 0);

    const Bytes in = packet({0x09, 0x5d}, 1, {kKey, kAudio, kDelta});
    const Bytes audio_only = packet({0x09, 0x5d}, 1, {kAudio});
    g_assert_true(merger.add(audio_only.data(), audio_only.size()) == PacketMerger::Added::Nothing);
    g_assert_cmpuint(merger.packets(), ==, 0);
    g_assert_true(merger.add(in.data(), in.size()) == PacketMerger::Added::Merged);
    g_assert_true(merger.add(audio_only.data(), audio_only.size()) == PacketMerger::Added::Nothing);
    g_assert_true(merger.add(in.data(), in.size()) == PacketMerger::Added::Merged);
    g_assert_cmpuint(merger.packets(), ==, 2);
    /* 11 + 2 × 41 = 93 bytes; a third would make 134 > 96. */
    g_assert_true(merger.add(in.data(), in.size()) == PacketMerger::Added::Refused);
    g_assert_cmpuint(merger.packets(), ==, 2);
    const Bytes merged = merger.finish();
    const Bytes expected = stripped({kKey, kDelta, kKey, kDelta});
    g_assert_cmpuint(expected.size(), ==, 93);
    g_assert_cmpmem(merged.data(), merged.size(), expected.data(), expected.size());
    assert_merged(merged, header, in, {kKey, kDelta, kKey, kDelta});
    g_assert_cmpuint(merger.packets(), ==, 0);

    /* Starting again: the same as a fresh merger. */
    g_assert_true(merger.add(in.data(), in.size()) == PacketMerger::Added::Merged);
    const Bytes single = merger.finish();
    const Bytes single_expected = stripped({kKey, kDelta});
    g_assert_cmpmem(single.data(), single.size(), single_expected.data(), single_expected.size());

    /* Error correction data, sequence and the word packet length of the first packet; key
     * frames only. */
    const Bytes with_ec = packet({0x82, 0xAB, 0xCD, 0x53, 0x5d, uint8_t(kSize), 0x00, 0x42}, 2,
                                 {kDelta, kKey, kAudio});
    PacketMerger keys(header, selection_of({1, 2}, {1}));
    g_assert_true(keys.add(with_ec.data(), with_ec.size()) == PacketMerger::Added::Merged);
    g_assert_true(keys.add(in.data(), in.size()) == PacketMerger::Added::Merged);
    const Bytes ec_merged = keys.finish();
    Bytes ec_expected = {0x82, 0xAB, 0xCD, 0x43, 0x5d, 0x00, 0x00, 0x42};
    ec_expected.insert(ec_expected.end(), kTimes.begin(), kTimes.end());
    ec_expected.push_back(0x80 | 4);
    for (const Bytes *p : {&kKey, &kAudio, &kKey, &kAudio})
        ec_expected.insert(ec_expected.end(), p->begin(), p->end());
    ec_expected[5] = uint8_t(ec_expected.size());
    g_assert_cmpmem(ec_merged.data(), ec_merged.size(), ec_expected.data(), ec_expected.size());
    assert_merged(ec_merged, header, with_ec, {kKey, kAudio, kKey, kAudio});
}

/* 63 payloads at most (the payload flags' 6-bit count). */
void test_merger_payload_limit() {
    constexpr uint32_t kBig = 1500;
    const HeaderInfo header = header_of(kBig);
    const Bytes tiny = payload(0x02, 1, 0, {'a'});
    const std::vector<Bytes> twenty_one(21, tiny);
    const Bytes full = packet({0x11, 0x5d}, 2, twenty_one, kBig);
    const Bytes one = packet({0x11, 0x5d}, 2, {tiny}, kBig);
    PacketMerger merger(header, selection_of({2}));
    for (int i = 0; i < 3; ++i)
        g_assert_true(merger.add(full.data(), full.size()) == PacketMerger::Added::Merged);
    g_assert_true(merger.add(one.data(), one.size()) == PacketMerger::Added::Refused);
    g_assert_cmpuint(merger.packets(), ==, 3);
    const Bytes merged = merger.finish();
    g_assert_cmpuint(merged.size(), ==, 11 + 63 * tiny.size());
    assert_merged(merged, header, full, std::vector<Bytes>(63, tiny));
    g_assert_true(merger.add(one.data(), one.size()) == PacketMerger::Added::Merged);
    assert_merged(merger.finish(), header, one, {tiny});
}

/* What cannot be merged at all: a packet that does not parse, a single-payload packet;
 * and a packet whose payload header format differs from the first one's. */
void test_merger_refuses() {
    const HeaderInfo header = header_of(kSize);
    PacketMerger merger(header, selection_of({1, 2}));
    Bytes corrupt = packet({0x09, 0x5d}, 1, {kKey, kAudio});
    corrupt[9] = 0x85; /* five payloads: the fourth runs past the end */
    g_assert_false(parse_packet(corrupt.data(), corrupt.size(), header).ok());
    g_assert_true(merger.add(corrupt.data(), corrupt.size()) == PacketMerger::Added::Refused);
    const Bytes garbage(kSize, 0xff);
    g_assert_false(parse_packet(garbage.data(), garbage.size(), header).ok());
    g_assert_true(merger.add(garbage.data(), garbage.size()) == PacketMerger::Added::Refused);
    g_assert_true(merger.add(garbage.data(), 10) == PacketMerger::Added::Refused);
    g_assert_cmpuint(merger.packets(), ==, 0);
    g_assert_cmpuint(merger.finish().size(), ==, 0);

    Bytes single = {0x08, 0x5d, 0x00, 0xE8, 0x03, 0x00, 0x00, 0x28,
                    0x00, 0x81, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};
    single.resize(kSize, 'x');
    g_assert_true(merger.add(single.data(), single.size()) == PacketMerger::Added::Refused);
    g_assert_cmpuint(merger.finish().size(), ==, 0);

    /* Other property flags (0x59: word replicated data length) than the first packet's. */
    const Bytes in = packet({0x09, 0x5d}, 1, {kKey, kAudio});
    Bytes other = packet({0x09, 0x59}, 1, {kAudio});
    other.erase(other.begin() + 12); /* kAudio's replicated length is a byte: make it a word */
    other.insert(other.begin() + 12, {0x08, 0x00});
    other.resize(kSize);
    g_assert_true(parse_packet(other.data(), other.size(), header).ok());
    g_assert_true(merger.add(in.data(), in.size()) == PacketMerger::Added::Merged);
    g_assert_true(merger.add(other.data(), other.size()) == PacketMerger::Added::Refused);
    g_assert_cmpuint(merger.packets(), ==, 1);
    const Bytes merged = merger.finish();
    assert_merged(merged, header, in, {kKey, kAudio});
    g_assert_true(merger.add(other.data(), other.size()) == PacketMerger::Added::Merged);
    g_assert_cmpuint(merger.finish().size(), >, 0);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/asf-filter/byte-padding", test_byte_padding);
    g_test_add_func("/asf-filter/padding-field-added", test_padding_field_added);
    g_test_add_func("/asf-filter/error-correction", test_error_correction_and_sequence);
    g_test_add_func("/asf-filter/packet-length", test_packet_length_field);
    g_test_add_func("/asf-filter/compressed", test_compressed_payload);
    g_test_add_func("/asf-filter/single-payload", test_single_payload);
    g_test_add_func("/asf-filter/strip-padding", test_strip_padding);
    g_test_add_func("/asf-filter/rejects-corrupt", test_rejects_corrupt);
    g_test_add_func("/asf-filter/asfmux-split", test_asfmux_split);
    g_test_add_func("/asf-filter/ffmpeg-split", test_ffmpeg_split);
    g_test_add_func("/asf-filter/selection", test_selection_helpers);
    g_test_add_func("/asf-filter/merger/keeps-payloads", test_merger_keeps_payloads);
    g_test_add_func("/asf-filter/merger/exact", test_merger_exact);
    g_test_add_func("/asf-filter/merger/payload-limit", test_merger_payload_limit);
    g_test_add_func("/asf-filter/merger/refuses", test_merger_refuses);
    return g_test_run();
}
