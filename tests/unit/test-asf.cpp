/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/asf: header parsing and the live fix-up, data packet
 * parsing (key-frame detection), time rebasing, and robustness against
 * truncated or corrupted input.
 *
 * Fixtures (tests/data/README.md has the commands that made them):
 *   asfmux-wmv2.asf          asfmux streamable=true, WMV2 352x288, 451-byte
 *                            header + 20 packets of 4800 bytes
 *   asfmux-wmv2-wmav2.asf    asfmux streamable=true, WMV2 + WMA2, 645-byte
 *                            header + 12 packets of 4800 bytes
 *   ffmpeg-wmv2-wmav2.asfs   ffmpeg -f asf_stream ($H/$D/$E framed), 709-byte
 *                            header + 18 packets of 3200 bytes
 *
 * The expected per-packet values below (send times, payload counts, which
 * packets start a key frame) were checked independently of lib/asf:
 *   - key-frame starts: ffprobe -show_entries packet=pos,flags reports, for
 *     every video frame flagged K, the byte position of the ASF packet holding
 *     its first fragment: 451, 34051, 53251, 72451 (asfmux-wmv2: packets 0, 7,
 *     11, 15), 645, 15045, 29445, 39045 (asfmux-wmv2-wmav2: 0, 3, 6, 8) and
 *     709, 19909, 39109 (ffmpeg: 0, 6, 12).
 *   - GStreamer's buffer flags (identity silent=false in the generating
 *     pipeline) mark asfmux-wmv2 packets 0, 1, 2, 7, 8, 11, 12, 15, 16 as
 *     non-delta: asfmux clears DELTA_UNIT on every packet holding any key-frame
 *     fragment, including continuation fragments (1, 2, 8, 12, 16) where no
 *     join can start. In asfmux-wmv2-wmav2 every packet is non-delta because
 *     asfmux sets the key bit on every audio payload. key_frame_start is
 *     therefore the subset starting a video key frame at offset 0.
 *   - send times and payload counts: a separate Python dump of the packets.
 */
#include "proto/asf.h"
#include "test-data.h"

#include <glib.h>

#include <bitset>
#include <cstring>
#include <string>
#include <vector>

using namespace wmstream;
using namespace wmstream::proto::asf;

namespace {

using Bytes = std::vector<uint8_t>;

/* One fixture: the streamable header and the data packets that follow it. */
struct Stream {
    Bytes header;
    std::vector<Bytes> packets;
};

Bytes load_fixture(const char *name) {
    return wmstream::test::load_bytes(name);
}

/* Splits a header + packets file: the header size comes from parse_header(). */
Stream split_stream(const Bytes &file) {
    Result<HeaderInfo> info = parse_header(file.data(), file.size());
    g_assert_true(info.ok());
    Stream stream;
    stream.header.assign(file.begin(), file.begin() + info->total_size);
    for (size_t pos = info->total_size; pos < file.size(); pos += info->packet_size) {
        g_assert_cmpuint(file.size() - pos, >=, info->packet_size);
        stream.packets.emplace_back(file.begin() + pos, file.begin() + pos + info->packet_size);
    }
    return stream;
}

Stream load_asfmux(const char *name) {
    return split_stream(load_fixture(name));
}

/* Undoes MS-WMSP pull framing (reference §2.1-2.2): each chunk is '$', a type
 * byte, u16 length, then an 8-byte MMS data header and length-8 payload
 * bytes; $H and $D payloads are kept, $E ends the stream. */
Stream load_ffmpeg_stream() {
    Bytes framed = load_fixture("ffmpeg-wmv2-wmav2.asfs");
    Bytes plain;
    size_t pos = 0;
    while (pos + 4 <= framed.size() && framed[pos + 1] != 'E') {
        g_assert_cmpuint(framed[pos], ==, '$');
        size_t length = framed[pos + 2] | (framed[pos + 3] << 8);
        g_assert_cmpuint(length, >=, 8);
        g_assert_cmpuint(pos + 4 + length, <=, framed.size());
        plain.insert(plain.end(), framed.begin() + pos + 12, framed.begin() + pos + 4 + length);
        pos += 4 + length;
    }
    return split_stream(plain);
}

uint64_t get_le(const Bytes &bytes, size_t offset, size_t width) {
    uint64_t value = 0;
    for (size_t i = width; i-- > 0;) {
        value = (value << 8) | bytes[offset + i];
    }
    return value;
}

void put_le(Bytes &bytes, size_t offset, size_t width, uint64_t value) {
    for (size_t i = 0; i < width; ++i) {
        bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    }
}

/* asfmux's header layout (all fixtures made by asfmux): the File Properties
 * Object is the first child of the Header Object. */
constexpr size_t kFileProperties = 30;
constexpr size_t kFlags = kFileProperties + 88;
constexpr size_t kMinPacket = kFileProperties + 92;
constexpr size_t kMaxPacket = kFileProperties + 96;

void assert_invalid(const Error &error, const char *needle) {
    g_assert_cmpint(static_cast<int>(error.code), ==, static_cast<int>(Errc::InvalidData));
    if (strstr(error.message.c_str(), needle) == nullptr) {
        g_error("message \"%s\" does not mention \"%s\"", error.message.c_str(), needle);
    }
}

void assert_header_invalid(const Bytes &header, const char *needle) {
    Result<HeaderInfo> info = parse_header(header.data(), header.size());
    g_assert_false(info.ok());
    assert_invalid(info.error(), needle);
}

void test_parse_asfmux_video() {
    Stream stream = load_asfmux("asfmux-wmv2.asf");
    Result<HeaderInfo> info = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(info.ok());
    g_assert_cmpuint(info->header_object_size, ==, 401);
    g_assert_cmpuint(info->total_size, ==, 451);
    g_assert_cmpuint(info->packet_size, ==, 4800);
    g_assert_cmpuint(info->preroll_ms, ==, 5000);
    g_assert_cmpuint(info->flags, ==, 1);
    g_assert_cmpuint(info->max_bitrate, ==, 0);
    g_assert_cmpuint(info->streams.size(), ==, 1);
    g_assert_cmpuint(info->streams[0].number, ==, 1);
    g_assert_true(info->streams[0].video);
    g_assert_false(info->streams[0].audio);
    g_assert_true(info->has_video());
    g_assert_cmpuint(stream.packets.size(), ==, 20);
}

void test_parse_asfmux_audio_video() {
    Stream stream = load_asfmux("asfmux-wmv2-wmav2.asf");
    Result<HeaderInfo> info = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(info.ok());
    g_assert_cmpuint(info->total_size, ==, 645);
    g_assert_cmpuint(info->packet_size, ==, 4800);
    g_assert_cmpuint(info->preroll_ms, ==, 5000);
    g_assert_cmpuint(info->streams.size(), ==, 2);
    g_assert_cmpuint(info->streams[0].number, ==, 1);
    g_assert_true(info->streams[0].video);
    g_assert_cmpuint(info->streams[1].number, ==, 2);
    g_assert_true(info->streams[1].audio);
    g_assert_false(info->streams[1].video);
    g_assert_true(info->has_video());
    g_assert_cmpuint(stream.packets.size(), ==, 12);
}

void test_parse_ffmpeg() {
    Stream stream = load_ffmpeg_stream();
    Result<HeaderInfo> info = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(info.ok());
    g_assert_cmpuint(info->total_size, ==, 709);
    g_assert_cmpuint(info->packet_size, ==, 3200);
    g_assert_cmpuint(info->preroll_ms, ==, 3100);
    g_assert_cmpuint(info->flags, ==, 3);
    g_assert_cmpuint(info->max_bitrate, ==, 264000);
    g_assert_cmpuint(info->streams.size(), ==, 2);
    g_assert_true(info->streams[0].video);
    g_assert_true(info->streams[1].audio);
    g_assert_cmpuint(stream.packets.size(), ==, 18);
}

void test_parse_trailing_bytes() {
    /* A whole file parses: bytes after the Data Object head are ignored. */
    Bytes file = load_fixture("asfmux-wmv2.asf");
    Result<HeaderInfo> info = parse_header(file.data(), file.size());
    g_assert_true(info.ok());
    g_assert_cmpuint(info->total_size, ==, 451);
}

void test_parse_rejects() {
    const Bytes good = load_asfmux("asfmux-wmv2.asf").header;
    Bytes bad;

    assert_header_invalid(Bytes(), "too short");
    bad = good;
    bad[0] ^= 0xff;
    assert_header_invalid(bad, "Header Object GUID");
    bad = good;
    put_le(bad, 16, 8, 0);
    assert_header_invalid(bad, "Header Object size");
    bad = good;
    put_le(bad, 16, 8, good.size());
    assert_header_invalid(bad, "Header Object size");
    bad = good;
    put_le(bad, 16, 8, UINT64_MAX);
    assert_header_invalid(bad, "Header Object size");
    bad = good;
    put_le(bad, kFileProperties + 16, 8, 0);
    assert_header_invalid(bad, "object size 0");
    bad = good;
    put_le(bad, kFileProperties + 16, 8, 1u << 20);
    assert_header_invalid(bad, "runs past the Header Object");
    bad = good;
    put_le(bad, kFileProperties + 16, 8, 90);
    assert_header_invalid(bad, "File Properties Object size 90");
    bad = good;
    bad[kFileProperties] ^= 0xff;
    assert_header_invalid(bad, "no File Properties Object");
    bad = good;
    put_le(bad, kMinPacket, 4, 0);
    put_le(bad, kMaxPacket, 4, 0);
    assert_header_invalid(bad, "min data packet size 0");
    bad = good;
    put_le(bad, kMinPacket, 4, 65537);
    put_le(bad, kMaxPacket, 4, 65537);
    assert_header_invalid(bad, "min data packet size 65537");
    bad = good;
    put_le(bad, kMaxPacket, 4, 9600);
    assert_header_invalid(bad, "differs from max 9600");
    bad = good;
    bad[401] ^= 0xff;
    assert_header_invalid(bad, "Data Object GUID");
    bad.assign(good.begin(), good.end() - 1);
    assert_header_invalid(bad, "Data Object head");
    /* Stream Properties flags hold stream number 0. */
    bad = good;
    put_le(bad, 134 + 72, 2, 0);
    assert_header_invalid(bad, "stream number is 0");
}

void test_live_header_unchanged() {
    for (const char *name : {"asfmux-wmv2.asf", "asfmux-wmv2-wmav2.asf"}) {
        Bytes header = load_asfmux(name).header;
        Result<Bytes> live = make_live_header(header.data(), header.size());
        g_assert_true(live.ok());
        g_assert_true(*live == header);
    }
}

void test_live_header_fixes_fields() {
    /* asfmux's header already has the live values: make the non-live
     * version a seekable file would have, and expect the original back. */
    const Bytes original = load_asfmux("asfmux-wmv2.asf").header;
    Bytes file = original;
    put_le(file, kFlags, 4, 0x2);
    put_le(file, kFileProperties + 40, 8, 96451);    /* file size */
    put_le(file, kFileProperties + 56, 8, 20);       /* data packets count */
    put_le(file, kFileProperties + 64, 8, 21600000); /* play duration */
    put_le(file, kFileProperties + 72, 8, 16000000); /* send duration */
    put_le(file, 401 + 16, 8, 96050);                /* Data Object size */
    put_le(file, 401 + 40, 8, 20);                   /* total data packets */
    Bytes with_trailing = file;
    with_trailing.resize(file.size() + 4800, 0xAA);

    Result<Bytes> live = make_live_header(with_trailing.data(), with_trailing.size());
    g_assert_true(live.ok());
    g_assert_cmpuint(live->size(), ==, 451);
    g_assert_true(*live == original);

    Result<HeaderInfo> info = parse_header(live->data(), live->size());
    g_assert_true(info.ok());
    g_assert_cmpuint(info->flags, ==, 1);
    g_assert_cmpuint(info->preroll_ms, ==, 5000);

    /* Other flag bits survive, seekable is cleared, broadcast set. */
    put_le(file, kFlags, 4, 0x7);
    live = make_live_header(file.data(), file.size());
    g_assert_true(live.ok());
    g_assert_cmpuint(get_le(*live, kFlags, 4), ==, 0x5);
}

void test_live_header_ffmpeg() {
    /* ffmpeg -f asf_stream writes flags 3 and the preroll as play duration. */
    Bytes header = load_ffmpeg_stream().header;
    Result<Bytes> live = make_live_header(header.data(), header.size());
    g_assert_true(live.ok());
    g_assert_cmpuint(live->size(), ==, header.size());
    std::vector<size_t> changed;
    for (size_t i = 0; i < header.size(); ++i) {
        if ((*live)[i] != header[i]) {
            changed.push_back(i);
        }
    }
    g_assert_cmpuint(get_le(*live, kFlags, 4), ==, 1);
    g_assert_cmpuint(get_le(*live, kFileProperties + 64, 8), ==, 0);
    g_assert_cmpuint(get_le(*live, kFileProperties + 80, 8), ==, 3100);
    /* Only the flags byte and the play duration bytes differ. */
    for (size_t offset : changed) {
        bool in_flags = offset == kFlags;
        bool in_duration = offset >= kFileProperties + 64 && offset < kFileProperties + 72;
        g_assert_true(in_flags || in_duration);
    }
    g_assert_cmpuint(changed.size(), >, 1);
}

void test_live_header_rejects() {
    Bytes header = load_asfmux("asfmux-wmv2.asf").header;
    put_le(header, kMaxPacket, 4, 9600);
    Result<Bytes> live = make_live_header(header.data(), header.size());
    g_assert_false(live.ok());
    assert_invalid(live.error(), "differs from max");
}

struct ExpectedPacket {
    uint32_t send_time_ms;
    unsigned payload_count;
    bool key_frame_start;
};

void check_packets(const Stream &stream, const std::vector<ExpectedPacket> &expected) {
    Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(header.ok());
    g_assert_cmpuint(stream.packets.size(), ==, expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        const Bytes &packet = stream.packets[i];
        Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), *header);
        if (!info) {
            g_error("packet %zu: %s", i, info.error().message.c_str());
        }
        g_assert_cmpuint(info->send_time_ms, ==, expected[i].send_time_ms);
        g_assert_cmpuint(info->payload_count, ==, expected[i].payload_count);
        if (info->key_frame_start != expected[i].key_frame_start) {
            g_error("packet %zu: key_frame_start %d", i, info->key_frame_start);
        }
    }
}

void test_packets_asfmux_video() {
    constexpr uint32_t k = 3600000000u; /* avenc_wmv2 starts at 1000 h */
    check_packets(
        load_asfmux("asfmux-wmv2.asf"),
        {{k, 1, true},         {k, 1, false},        {k, 2, false},        {k + 40, 3, false},
         {k + 120, 2, false},  {k + 160, 3, false},  {k + 240, 3, false},  {k + 320, 3, true},
         {k + 400, 4, false},  {k + 520, 4, false},  {k + 640, 3, false},  {k + 760, 2, true},
         {k + 800, 4, false},  {k + 920, 4, false},  {k + 1040, 4, false}, {k + 1160, 2, true},
         {k + 1200, 4, false}, {k + 1320, 4, false}, {k + 1440, 4, false}, {k + 1560, 1, false}});
}

void test_packets_asfmux_audio_video() {
    constexpr uint32_t k = 3600000000u;
    check_packets(load_asfmux("asfmux-wmv2-wmav2.asf"), {{k, 1, true},
                                                         {k, 6, false},
                                                         {k + 92, 7, false},
                                                         {k + 232, 9, true},
                                                         {k + 400, 7, false},
                                                         {k + 520, 9, false},
                                                         {k + 696, 7, true},
                                                         {k + 840, 9, false},
                                                         {k + 1021, 9, true},
                                                         {k + 1200, 8, false},
                                                         {k + 1346, 9, false},
                                                         {k + 1520, 4, false}});
}

void test_packets_ffmpeg() {
    /* Error correction data, single-payload packets and byte padding. */
    check_packets(load_ffmpeg_stream(), {{0, 2, true},
                                         {46, 1, false},
                                         {46, 3, false},
                                         {86, 7, false},
                                         {206, 5, false},
                                         {325, 5, false},
                                         {418, 2, true},
                                         {446, 1, false},
                                         {446, 1, false},
                                         {446, 5, false},
                                         {526, 6, false},
                                         {650, 6, false},
                                         {766, 5, true},
                                         {846, 1, false},
                                         {846, 1, false},
                                         {846, 3, false},
                                         {886, 6, false},
                                         {1006, 1, false}});
}

void test_packets_without_video() {
    /* With the video stream declared as audio, every packet is a join point. */
    Stream stream = load_asfmux("asfmux-wmv2-wmav2.asf");
    Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(header.ok());
    header->streams[0].video = false;
    header->streams[0].audio = true;
    g_assert_false(header->has_video());
    for (const Bytes &packet : stream.packets) {
        Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), *header);
        g_assert_true(info.ok());
        g_assert_true(info->key_frame_start);
    }
}

void test_packet_wrong_size() {
    Stream stream = load_asfmux("asfmux-wmv2.asf");
    Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(header.ok());
    Bytes packet = stream.packets[0];
    Result<PacketInfo> info = parse_packet(packet.data(), packet.size() - 1, *header);
    g_assert_false(info.ok());
    assert_invalid(info.error(), "packet size is 4800");
    packet.push_back(0);
    info = parse_packet(packet.data(), packet.size(), *header);
    g_assert_false(info.ok());
    assert_invalid(info.error(), "4801 bytes");
    Bytes before = packet;
    Status status =
        rebase_packet_times(packet.data(), packet.size(), *header, TimeBase{1000, 1000});
    g_assert_false(status.ok());
    g_assert_true(packet == before);
}

void test_packet_length_field() {
    /* asfmux writes packet length = bytes used and padding = the rest (its
     * last packet: 398 and 4402); payloads must end within the packet length. */
    Stream stream = load_asfmux("asfmux-wmv2.asf");
    Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(header.ok());
    const Bytes &last = stream.packets.back();
    g_assert_cmpuint(get_le(last, 2, 2), ==, 398);
    g_assert_cmpuint(get_le(last, 4, 2), ==, 4402);
    g_assert_true(parse_packet(last.data(), last.size(), *header).ok());

    Bytes packet = stream.packets[0];
    put_le(packet, 2, 2, 4000);
    Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), *header);
    g_assert_false(info.ok());
    assert_invalid(info.error(), "payload data");
    put_le(packet, 2, 2, 4801);
    info = parse_packet(packet.data(), packet.size(), *header);
    g_assert_false(info.ok());
    assert_invalid(info.error(), "packet length 4801");
}

/* Test oracle for asfmux's packet layout (Length Type Flags 0x51, Property
 * Flags 0x5d: packet length and padding words, 8 bytes of replicated data,
 * word payload lengths): offsets of every presentation time field. */
std::vector<size_t> asfmux_presentation_times(const Bytes &packet) {
    g_assert_cmpuint(packet[0], ==, 0x51);
    g_assert_cmpuint(packet[1], ==, 0x5d);
    unsigned count = packet[12] & 0x3f;
    std::vector<size_t> offsets;
    size_t pos = 13;
    for (unsigned i = 0; i < count; ++i) {
        /* stream 1, object number 1, offset 4, replicated length 1 (= 8) */
        g_assert_cmpuint(packet[pos + 6], ==, 8);
        offsets.push_back(pos + 11);
        pos += 15 + 2 + get_le(packet, pos + 15, 2);
    }
    return offsets;
}

void test_rebase_asfmux() {
    /* asfmux writes the raw PTS (1000 h from avenc_*) as send time and
     * preroll + (PTS - first PTS) as presentation time: time_base_for() must
     * take 1000 h off the send times and leave the presentation times. */
    Stream stream = load_asfmux("asfmux-wmv2-wmav2.asf");
    Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(header.ok());
    Result<PacketInfo> first_info =
        parse_packet(stream.packets[0].data(), stream.packets[0].size(), *header);
    g_assert_true(first_info.ok());
    g_assert_true(first_info->first_presentation_ms.has_value());
    g_assert_cmpuint(*first_info->first_presentation_ms, ==, 5000);
    const TimeBase base = time_base_for(*first_info, *header);
    g_assert_cmpuint(base.send_ms, ==, first_info->send_time_ms);
    g_assert_cmpuint(base.presentation_ms, ==, 0);

    const TimeBase shifted{base.send_ms, 1000}; /* to see presentation times move too */
    for (Bytes &packet : stream.packets) {
        const Bytes before = packet;
        std::vector<size_t> pts = asfmux_presentation_times(packet);
        Status status = rebase_packet_times(packet.data(), packet.size(), *header, shifted);
        g_assert_true(status.ok());

        Result<PacketInfo> old_info = parse_packet(before.data(), before.size(), *header);
        Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), *header);
        g_assert_true(info.ok());
        g_assert_cmpuint(info->send_time_ms, ==, old_info->send_time_ms - shifted.send_ms);
        g_assert_cmpuint(info->key_frame_start, ==, old_info->key_frame_start);
        for (size_t offset : pts) {
            uint32_t old_pt = static_cast<uint32_t>(get_le(before, offset, 4));
            g_assert_cmpuint(get_le(packet, offset, 4), ==,
                             static_cast<uint32_t>(old_pt - shifted.presentation_ms));
        }
        /* Nothing but the send time (offset 6) and the presentation times changed. */
        for (size_t i = 0; i < packet.size(); ++i) {
            bool time_byte = i >= 6 && i < 10;
            for (size_t offset : pts) {
                time_byte = time_byte || (i >= offset && i < offset + 4);
            }
            if (!time_byte) {
                g_assert_cmpuint(packet[i], ==, before[i]);
            }
        }
    }
    /* With the computed base the first packet starts at send time 0 and
     * presentation time = preroll. */
    Bytes original;
    {
        Stream again = load_asfmux("asfmux-wmv2-wmav2.asf");
        original = again.packets[0];
    }
    g_assert_true(rebase_packet_times(original.data(), original.size(), *header, base).ok());
    g_assert_cmpuint(get_le(original, 6, 4), ==, 0);
    g_assert_cmpuint(get_le(original, asfmux_presentation_times(original)[0], 4), ==, 5000);
}

void test_rebase_zero_is_identity() {
    Stream stream = load_ffmpeg_stream();
    Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(header.ok());
    for (Bytes &packet : stream.packets) {
        const Bytes before = packet;
        g_assert_true(rebase_packet_times(packet.data(), packet.size(), *header, TimeBase{}).ok());
        g_assert_true(packet == before);
    }
}

/* A hand-built 64-byte packet: multiple payloads, byte padding, a compressed
 * video key payload (presentation time 1000 in the offset field, delta 40,
 * sub-payloads [3]abc [2]de) and a normal audio payload (presentation time
 * 2000), then padding (ASF §5.2.3.4). */
Bytes compressed_packet() {
    Bytes packet = {
        0x09, 0x5d,             /* multiple payloads, byte padding; flags */
        0x00,                   /* padding length, set below */
        0xE8, 0x03, 0x00, 0x00, /* send time 1000 */
        0x28, 0x00,             /* duration 40 */
        0x82,                   /* 2 payloads, word lengths */
        0x81, 0x07,             /* stream 1 key, object 7 */
        0xE8, 0x03, 0x00, 0x00, /* presentation time 1000 */
        0x01, 0x28,             /* replicated length 1, time delta 40 */
        0x07, 0x00,             /* payload length 7 */
        0x03, 'a',  'b',  'c',  0x02, 'd', 'e', 0x02, 0x03, /* stream 2, object 3 */
        0x00, 0x00, 0x00, 0x00,                             /* offset 0 */
        0x08,                                               /* replicated length 8 */
        0x04, 0x00, 0x00, 0x00,                             /* media object size 4 */
        0xD0, 0x07, 0x00, 0x00,                             /* presentation time 2000 */
        0x04, 0x00, 'w',  'x',  'y',  'z',
    };
    packet[2] = static_cast<uint8_t>(64 - packet.size());
    packet.resize(64, 0);
    return packet;
}

HeaderInfo synthetic_header(uint32_t packet_size) {
    HeaderInfo header;
    header.packet_size = packet_size;
    header.streams = {{1, true, false}, {2, false, true}};
    return header;
}

void test_compressed_payloads() {
    const HeaderInfo header = synthetic_header(64);
    Bytes packet = compressed_packet();
    Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), header);
    g_assert_true(info.ok());
    g_assert_cmpuint(info->send_time_ms, ==, 1000);
    g_assert_cmpuint(info->duration_ms, ==, 40);
    g_assert_cmpuint(info->payload_count, ==, 2);
    g_assert_true(info->key_frame_start);

    g_assert_true(
        rebase_packet_times(packet.data(), packet.size(), header, TimeBase{600, 600}).ok());
    g_assert_cmpuint(get_le(packet, 3, 4), ==, 400);
    g_assert_cmpuint(get_le(packet, 12, 4), ==, 400);
    g_assert_cmpuint(packet[17], ==, 40); /* the delta stays */
    g_assert_cmpuint(get_le(packet, 38, 4), ==, 1400);

    /* Without the key bit the compressed payload is no join point. */
    packet[10] = 0x01;
    info = parse_packet(packet.data(), packet.size(), header);
    g_assert_true(info.ok());
    g_assert_false(info->key_frame_start);

    /* A sub-payload running past its payload is rejected, bytes untouched. */
    packet = compressed_packet();
    packet[24] = 0x03;
    const Bytes before = packet;
    info = parse_packet(packet.data(), packet.size(), header);
    g_assert_false(info.ok());
    assert_invalid(info.error(), "compressed sub-payload data");
    g_assert_false(
        rebase_packet_times(packet.data(), packet.size(), header, TimeBase{600, 600}).ok());
    g_assert_true(packet == before);
}

void test_packet_rejects() {
    const HeaderInfo header = synthetic_header(64);
    const Bytes good = compressed_packet();
    struct Case {
        size_t offset;
        uint8_t value;
        const char *needle;
    };
    const Case cases[] = {
        {0, 0xA2, "error correction length type"},
        {1, 0x9d, "stream number length type"},
        {2, 0x30, "padding length"},
        {9, 0x02, "payload length type 0"},
        {16, 0x05, "replicated data length 5"},
        {18, 0x40, "payload data"},
        {33, 0xff, "replicated data of 255"},
        {0, 0x49, "packet length"}, /* word packet length 0xE810 > 64 */
    };
    for (const Case &c : cases) {
        Bytes packet = good;
        packet[c.offset] = c.value;
        Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), header);
        g_assert_false(info.ok());
        assert_invalid(info.error(), c.needle);
    }
    /* Padding longer than what the payloads leave. */
    Bytes packet = good;
    packet[2] = 20;
    Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), header);
    g_assert_false(info.ok());
    assert_invalid(info.error(), "padding length 20");
}

void test_single_payload_padding() {
    /* Single payload: its data runs to the packet end minus the padding. */
    Bytes packet = {0x08, 0x5d, 0x04, 0x10, 0x00, 0x00, 0x00, 0x00,
                    0x00, 0x81, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
    const HeaderInfo header = synthetic_header(static_cast<uint32_t>(packet.size() + 4 + 8));
    packet.resize(header.packet_size, 0); /* 8 bytes of payload data, 4 of padding */
    Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), header);
    g_assert_true(info.ok());
    g_assert_cmpuint(info->payload_count, ==, 1);
    g_assert_true(info->key_frame_start);
    /* Padding reaching into the payload header is rejected. */
    packet[2] = 20;
    info = parse_packet(packet.data(), packet.size(), header);
    g_assert_false(info.ok());
    assert_invalid(info.error(), "runs into the padding");
}

/* A joiner's first packet starts with the key frame: trimming removes the
 * complete delta frames in front of it and keeps everything from it on. */
void test_trim_to_key_frame() {
    size_t trimmed_packets = 0;
    for (const Stream &stream : {load_asfmux("asfmux-wmv2.asf"),
                                 load_asfmux("asfmux-wmv2-wmav2.asf"), load_ffmpeg_stream()}) {
        Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
        g_assert_true(header.ok());
        for (const Bytes &packet : stream.packets) {
            Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), *header);
            Result<Bytes> trimmed = trim_to_key_frame(packet.data(), packet.size(), *header);
            g_assert_true(trimmed.ok());
            g_assert_cmpuint(trimmed->size(), ==, packet.size());
            if (!info->key_frame_start || *trimmed == packet) {
                g_assert_true(*trimmed == packet);
                continue;
            }
            ++trimmed_packets;
            Result<PacketInfo> after = parse_packet(trimmed->data(), trimmed->size(), *header);
            g_assert_true(after.ok());
            g_assert_true(after->key_frame_start);
            g_assert_cmpuint(after->payload_count, <, info->payload_count);
            g_assert_cmpuint(after->send_time_ms, ==, info->send_time_ms);
            /* Idempotent: the key-frame payload is now the first one. */
            Result<Bytes> again = trim_to_key_frame(trimmed->data(), trimmed->size(), *header);
            g_assert_true(again.ok());
            g_assert_true(*again == *trimmed);
            /* What is left is the original's payload bytes from the key frame
             * on: apart from the packet header (≤ 32 bytes here), the used
             * bytes of both end the same. */
            auto used = [](const Bytes &b) {
                size_t n = b.size();
                while (n > 0 && b[n - 1] == 0) {
                    --n;
                }
                return n;
            };
            const size_t used_t = used(*trimmed);
            const size_t used_o = used(packet);
            size_t common = 0;
            while (common < used_t && common < used_o &&
                   (*trimmed)[used_t - 1 - common] == packet[used_o - 1 - common]) {
                ++common;
            }
            g_assert_cmpuint(common + 32, >=, used_t);
        }
    }
    /* asfmux packs whole delta frames in front of key frames: some were trimmed. */
    g_assert_cmpuint(trimmed_packets, >, 0);
}

/* asfmux's packets with padding (the one it fills at EOS, the last of its recordings, and a
 * few more) say only their payloads' bytes in Packet Length: completing the length makes it
 * the packet size and changes nothing else; full packets are left as they are. */
void test_complete_packet_length() {
    size_t completed = 0;
    for (const char *name : {"asfmux-wmv2.asf", "asfmux-wmv2-wmav2.asf"}) {
        const Stream stream = load_asfmux(name);
        Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
        g_assert_true(header.ok());
        for (const Bytes &packet : stream.packets) {
            Bytes copy = packet;
            Result<bool> changed = complete_packet_length(copy.data(), copy.size(), *header);
            g_assert_true(changed.ok());
            if (!*changed) {
                g_assert_true(copy == packet);
                continue;
            }
            ++completed;
            Result<PacketInfo> before = parse_packet(packet.data(), packet.size(), *header);
            Result<PacketInfo> after = parse_packet(copy.data(), copy.size(), *header);
            g_assert_true(before.ok() && after.ok());
            g_assert_cmpuint(after->payload_count, ==, before->payload_count);
            g_assert_cmpuint(after->send_time_ms, ==, before->send_time_ms);
            size_t differing = 0;
            for (size_t i = 0; i < copy.size(); ++i)
                differing += copy[i] != packet[i];
            g_assert_cmpuint(differing, >=, 1);
            g_assert_cmpuint(differing, <=, 2); /* the length field, a word here */
            Result<bool> again = complete_packet_length(copy.data(), copy.size(), *header);
            g_assert_true(again.ok() && !*again);
        }
        Bytes last = stream.packets.back();
        g_assert_true(*complete_packet_length(last.data(), last.size(), *header));
    }
    g_assert_cmpuint(completed, ==, 3);

    /* A single payload ends where the Packet Length, less the padding, says: completing the
     * length would lengthen it, so such a packet is left alone. 64 bytes: error correction
     * (3), flags (2), Packet Length 50 (word), Padding Length 14 (byte), send time, duration;
     * the payload's header (15) from 14, its 7 data bytes from 29. */
    HeaderInfo single;
    single.packet_size = 64;
    single.streams = {StreamInfo{1, true, false}};
    Bytes packet(64, 0);
    const Bytes head = {0x82, 0x00, 0x00, 0x48, 0x5d, 50,   0x00, 14,   0x10, 0x00,
                        0x00, 0x00, 0x00, 0x00, 0x81, 0x01, 0x00, 0x00, 0x00, 0x00,
                        0x08, 0x07, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00};
    std::copy(head.begin(), head.end(), packet.begin());
    Result<PacketInfo> parsed = parse_packet(packet.data(), packet.size(), single);
    g_assert_true(parsed.ok());
    g_assert_cmpuint(parsed->payload_count, ==, 1);
    const Bytes original = packet;
    Result<bool> single_changed = complete_packet_length(packet.data(), packet.size(), single);
    g_assert_true(single_changed.ok() && !*single_changed);
    g_assert_true(packet == original);

    /* Not a packet: refused, and left unmodified. */
    Bytes garbage(64, 0xff);
    const Bytes kept = garbage;
    const Stream stream = load_asfmux("asfmux-wmv2.asf");
    Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
    g_assert_false(complete_packet_length(garbage.data(), garbage.size(), *header).ok());
    g_assert_true(garbage == kept);
}

/* Issue 17: a join at any packet begins every stream with a media object's
 * first payload (video: a key frame's). Filtering what the filter let
 * through, from the same streams-started state, keeps it all: every kept
 * payload belongs to a stream begun before it or begins its stream. */
void test_drop_unstarted_payloads() {
    size_t dropped_packets = 0;
    size_t thinned_packets = 0;
    for (const Stream &stream : {load_asfmux("asfmux-wmv2.asf"),
                                 load_asfmux("asfmux-wmv2-wmav2.asf"), load_ffmpeg_stream()}) {
        Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
        g_assert_true(header.ok());
        for (size_t join = 0; join < stream.packets.size(); ++join) {
            std::bitset<128> started;
            for (size_t i = join; i < stream.packets.size() && i < join + 8; ++i) {
                const Bytes &packet = stream.packets[i];
                const std::bitset<128> before = started;
                Result<PacketFilter> filter =
                    drop_unstarted_payloads(packet.data(), packet.size(), *header, started);
                g_assert_true(filter.ok());
                g_assert_true((before & ~started).none()); /* started streams stay started */
                if (filter->kept == PacketFilter::Kept::None) {
                    ++dropped_packets;
                    g_assert_true(started == before);
                    continue;
                }
                const Bytes &sent =
                    filter->kept == PacketFilter::Kept::Some ? filter->packet : packet;
                if (filter->kept == PacketFilter::Kept::Some) {
                    ++thinned_packets;
                    g_assert_cmpuint(sent.size(), ==, packet.size());
                    g_assert_true(sent != packet);
                    Result<PacketInfo> info = parse_packet(sent.data(), sent.size(), *header);
                    g_assert_true(info.ok());
                    g_assert_cmpuint(
                        info->payload_count, <,
                        parse_packet(packet.data(), packet.size(), *header)->payload_count);
                } else {
                    g_assert_true(filter->packet.empty());
                }
                std::bitset<128> again = before;
                Result<PacketFilter> twice =
                    drop_unstarted_payloads(sent.data(), sent.size(), *header, again);
                g_assert_true(twice.ok());
                g_assert_true(twice->kept == PacketFilter::Kept::All);
                g_assert_true(again == started);
            }
        }
    }
    /* Joins in the middle of objects happen in these recordings. */
    g_assert_cmpuint(dropped_packets, >, 0);
    g_assert_cmpuint(thinned_packets, >, 0);
}

/* A video-only join (asfmux-wmv2.asf: key frames begin in packets 0, 7, 11
 * and 15) sends nothing before the next key frame, and from it on the
 * payloads of the video stream that follow the key frame's start. */
void test_drop_unstarted_video() {
    const Stream stream = load_asfmux("asfmux-wmv2.asf");
    Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
    g_assert_true(header.ok());
    for (size_t join = 1; join < 15; ++join) {
        const size_t key = join <= 7 ? 7 : join <= 11 ? 11 : 15;
        std::bitset<128> started;
        for (size_t i = join; i <= key + 1; ++i) {
            const Bytes &packet = stream.packets[i];
            Result<PacketFilter> filter =
                drop_unstarted_payloads(packet.data(), packet.size(), *header, started);
            g_assert_true(filter.ok());
            if (i < key) {
                g_assert_true(filter->kept == PacketFilter::Kept::None);
                g_assert_true(started.none());
                continue;
            }
            /* The key frame's packet: whatever precedes the key frame goes, as with
             * trim_to_key_frame(); the packet after it is sent whole. */
            Result<Bytes> trimmed = trim_to_key_frame(packet.data(), packet.size(), *header);
            const Bytes &sent = filter->kept == PacketFilter::Kept::Some ? filter->packet : packet;
            g_assert_true(i == key ? sent == *trimmed : filter->kept == PacketFilter::Kept::All);
            g_assert_true(started.count() == 1 && started[header->streams.front().number]);
        }
    }
}

/* A header's preroll can be set for serving; nothing else changes. */
void test_set_preroll() {
    const Stream stream = load_asfmux("asfmux-wmv2-wmav2.asf");
    Result<Bytes> live = make_live_header(stream.header.data(), stream.header.size());
    g_assert_true(live.ok());
    Bytes changed = *live;
    g_assert_true(set_preroll(changed, 1000).ok());
    Result<HeaderInfo> before = parse_header(live->data(), live->size());
    Result<HeaderInfo> after = parse_header(changed.data(), changed.size());
    g_assert_true(after.ok());
    g_assert_cmpuint(before->preroll_ms, !=, 1000);
    g_assert_cmpuint(after->preroll_ms, ==, 1000);
    g_assert_cmpuint(after->packet_size, ==, before->packet_size);
    g_assert_cmpuint(after->streams.size(), ==, before->streams.size());
    size_t differing = 0;
    for (size_t i = 0; i < changed.size(); ++i)
        differing += changed[i] != (*live)[i];
    g_assert_cmpuint(differing, <=, 8);

    Bytes short_header(changed.begin(), changed.begin() + 40);
    const Bytes kept = short_header;
    Status refused = set_preroll(short_header, 1000);
    g_assert_false(refused.ok());
    assert_invalid(refused.error(), "does not leave room");
    g_assert_true(short_header == kept);
}

/* A restarted encoder's header (new File ID) describes the same streams; a change in a
 * stream's codec data, the packet size, the preroll or the streams does not. */
void test_same_streams() {
    const Bytes header = load_asfmux("asfmux-wmv2-wmav2.asf").header;
    const HeaderInfo info = *parse_header(header.data(), header.size());
    const auto parsed = [](const Bytes &bytes) {
        return *parse_header(bytes.data(), bytes.size());
    };
    g_assert_true(same_streams(info, info));

    Bytes restarted = header;
    restarted[kFileProperties + 24] ^= 0xff; /* File ID (§3.2) */
    put_le(restarted, kFileProperties + 100, 4, info.max_bitrate + 1000);
    g_assert_true(restarted != header);
    g_assert_true(same_streams(info, parsed(restarted)));

    Bytes preroll = header;
    g_assert_true(set_preroll(preroll, info.preroll_ms + 1000).ok());
    g_assert_false(same_streams(info, parsed(preroll)));

    Bytes packet_size = header;
    put_le(packet_size, kMinPacket, 4, info.packet_size + 1);
    put_le(packet_size, kMaxPacket, 4, info.packet_size + 1);
    g_assert_false(same_streams(info, parsed(packet_size)));

    /* The last byte of the last Stream Properties Object: its codec data. */
    HeaderInfo codec = info;
    codec.streams.back().properties.back() ^= 1;
    g_assert_false(same_streams(info, codec));
    HeaderInfo fewer = info;
    fewer.streams.pop_back();
    g_assert_false(same_streams(info, fewer));
    HeaderInfo renumbered = info;
    renumbered.streams.back().number = 9;
    g_assert_false(same_streams(info, renumbered));
}

/* Every call must either succeed or fail with InvalidData; a failed rebase
 * leaves the bytes as they were. Buffers are exact-size heap copies so that
 * sanitizers and valgrind catch any read past len. */
void check_packet_robust(const Bytes &packet, const HeaderInfo &header) {
    Result<PacketInfo> info = parse_packet(packet.data(), packet.size(), header);
    if (!info) {
        g_assert_cmpint(static_cast<int>(info.error().code), ==,
                        static_cast<int>(Errc::InvalidData));
        g_assert_false(info.error().message.empty());
    }
    g_assert_cmpint(trim_to_key_frame(packet.data(), packet.size(), header).ok(), ==, info.ok());
    std::bitset<128> started;
    g_assert_cmpint(drop_unstarted_payloads(packet.data(), packet.size(), header, started).ok(), ==,
                    info.ok());
    Bytes copy = packet;
    Status status = rebase_packet_times(copy.data(), copy.size(), header, TimeBase{12345, 678});
    g_assert_cmpint(status.ok(), ==, info.ok());
    if (!status) {
        g_assert_true(copy == packet);
    }
}

void check_header_robust(const Bytes &header) {
    Result<HeaderInfo> info = parse_header(header.data(), header.size());
    Result<Bytes> live = make_live_header(header.data(), header.size());
    g_assert_cmpint(live.ok(), ==, info.ok());
    if (!info) {
        g_assert_cmpint(static_cast<int>(info.error().code), ==,
                        static_cast<int>(Errc::InvalidData));
        return;
    }
    Result<HeaderInfo> again = parse_header(live->data(), live->size());
    g_assert_true(again.ok());
    g_assert_cmpuint(again->flags & 0x3, ==, 0x1);
}

void test_truncation() {
    std::vector<Stream> streams = {load_asfmux("asfmux-wmv2.asf"),
                                   load_asfmux("asfmux-wmv2-wmav2.asf"), load_ffmpeg_stream()};
    for (const Stream &stream : streams) {
        for (size_t n = 0; n < stream.header.size(); ++n) {
            Bytes cut(stream.header.begin(), stream.header.begin() + n);
            Result<HeaderInfo> info = parse_header(cut.data(), cut.size());
            g_assert_false(info.ok());
            g_assert_cmpint(static_cast<int>(info.error().code), ==,
                            static_cast<int>(Errc::InvalidData));
            check_header_robust(cut);
        }
        Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
        g_assert_true(header.ok());
        /* A truncated packet is checked against a header claiming that size,
         * so the parser has to stop at every internal length field. */
        for (size_t index : {size_t(0), size_t(3), stream.packets.size() - 1}) {
            const Bytes &packet = stream.packets[index];
            for (size_t n = 0; n <= packet.size(); ++n) {
                HeaderInfo cut_header = *header;
                cut_header.packet_size = static_cast<uint32_t>(n);
                check_packet_robust(Bytes(packet.begin(), packet.begin() + n), cut_header);
            }
        }
    }
}

void test_random_corruption() {
    std::vector<Stream> streams = {load_asfmux("asfmux-wmv2-wmav2.asf"), load_ffmpeg_stream()};
    g_autoptr(GRand) rand = g_rand_new_with_seed(20240601);
    const HeaderInfo synthetic = synthetic_header(64);
    const Bytes compressed = compressed_packet();
    for (int iteration = 0; iteration < 2000; ++iteration) {
        const Stream &stream = streams[iteration % streams.size()];
        Result<HeaderInfo> header = parse_header(stream.header.data(), stream.header.size());
        g_assert_true(header.ok());

        Bytes bad_header = stream.header;
        Bytes bad_packet =
            stream.packets[g_rand_int_range(rand, 0, static_cast<gint32>(stream.packets.size()))];
        Bytes bad_compressed = compressed;
        int flips = g_rand_int_range(rand, 1, 5);
        for (int i = 0; i < flips; ++i) {
            size_t header_at = g_rand_int_range(rand, 0, static_cast<gint32>(bad_header.size()));
            /* Half the packet flips hit the first 64 bytes, where the
             * payload parsing information and first payload headers live. */
            gint32 packet_end = g_rand_boolean(rand) ? 64 : static_cast<gint32>(bad_packet.size());
            size_t packet_at = g_rand_int_range(rand, 0, packet_end);
            size_t compressed_at = g_rand_int_range(rand, 0, 64);
            bad_header[header_at] = static_cast<uint8_t>(g_rand_int(rand));
            bad_packet[packet_at] = static_cast<uint8_t>(g_rand_int(rand));
            bad_compressed[compressed_at] = static_cast<uint8_t>(g_rand_int(rand));
        }
        check_header_robust(bad_header);
        check_packet_robust(bad_packet, *header);
        check_packet_robust(bad_compressed, synthetic);
    }
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/asf/parse-header/asfmux-video", test_parse_asfmux_video);
    g_test_add_func("/asf/parse-header/asfmux-audio-video", test_parse_asfmux_audio_video);
    g_test_add_func("/asf/parse-header/ffmpeg", test_parse_ffmpeg);
    g_test_add_func("/asf/parse-header/trailing-bytes", test_parse_trailing_bytes);
    g_test_add_func("/asf/parse-header/rejects", test_parse_rejects);
    g_test_add_func("/asf/live-header/unchanged", test_live_header_unchanged);
    g_test_add_func("/asf/live-header/fixes-fields", test_live_header_fixes_fields);
    g_test_add_func("/asf/live-header/ffmpeg", test_live_header_ffmpeg);
    g_test_add_func("/asf/live-header/rejects", test_live_header_rejects);
    g_test_add_func("/asf/packet/asfmux-video", test_packets_asfmux_video);
    g_test_add_func("/asf/packet/asfmux-audio-video", test_packets_asfmux_audio_video);
    g_test_add_func("/asf/packet/ffmpeg", test_packets_ffmpeg);
    g_test_add_func("/asf/packet/without-video", test_packets_without_video);
    g_test_add_func("/asf/packet/wrong-size", test_packet_wrong_size);
    g_test_add_func("/asf/packet/packet-length", test_packet_length_field);
    g_test_add_func("/asf/packet/compressed", test_compressed_payloads);
    g_test_add_func("/asf/packet/rejects", test_packet_rejects);
    g_test_add_func("/asf/packet/single-payload", test_single_payload_padding);
    g_test_add_func("/asf/rebase/asfmux", test_rebase_asfmux);
    g_test_add_func("/asf/rebase/zero", test_rebase_zero_is_identity);
    g_test_add_func("/asf/trim-to-key-frame", test_trim_to_key_frame);
    g_test_add_func("/asf/complete-packet-length", test_complete_packet_length);
    g_test_add_func("/asf/join/drop-unstarted-payloads", test_drop_unstarted_payloads);
    g_test_add_func("/asf/join/drop-unstarted-video", test_drop_unstarted_video);
    g_test_add_func("/asf/join/set-preroll", test_set_preroll);
    g_test_add_func("/asf/same-streams", test_same_streams);
    g_test_add_func("/asf/robust/truncation", test_truncation);
    g_test_add_func("/asf/robust/random-corruption", test_random_corruption);
    return g_test_run();
}
