/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/framing: byte-exact pull/push writers, $H splitting, the
 * incremental Reader (split feeds, sticky errors), and a comparison against
 * real `ffmpeg -f asf_stream` output (tests/data/ffmpeg-asf-stream.framed,
 * FFmpeg 5.1.9: testsrc 160x120 wmv2 + sine wmav2, 1.5 s, -fflags +bitexact).
 */
#include "proto/framing.h"
#include "test-data.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using wmstream::Errc;
using wmstream::Status;
using namespace wmstream::proto::framing;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes load_data(const char *name) {
    return wmstream::test::load_bytes(name);
}

/* @len bytes counting 0, 1, 2, … (mod 251, so fragment borders are visible). */
Bytes pattern(size_t len) {
    Bytes out;
    out.reserve(len);
    for (size_t i = 0; i < len; i++)
        out.push_back(static_cast<uint8_t>(i % 251));
    return out;
}

void assert_bytes(const uint8_t *actual, size_t actual_len, const Bytes &expected) {
    g_assert_cmpmem(actual, actual_len, expected.data(), expected.size());
}

/* Every packet of @stream, fed @step bytes at a time; asserts no error and no leftover. */
std::vector<Packet> read_all(Reader::Mode mode, const Bytes &stream, size_t step) {
    Reader reader(mode);
    std::vector<Packet> packets;
    for (size_t offset = 0; offset < stream.size(); offset += step) {
        reader.feed(stream.data() + offset, std::min(step, stream.size() - offset));
        for (;;) {
            auto next = reader.next();
            g_assert_true(next.ok());
            if (!next.value())
                break;
            packets.push_back(std::move(*next.value()));
        }
    }
    auto last = reader.next();
    g_assert_true(last.ok());
    g_assert_false(last.value().has_value());
    return packets;
}

/* The error the Reader reports for @stream, which must be sticky. */
std::string read_error(Reader::Mode mode, const Bytes &stream) {
    Reader reader(mode);
    reader.feed(stream.data(), stream.size());
    auto first = reader.next();
    g_assert_false(first.ok());
    g_assert_true(first.error().code == Errc::InvalidData);
    /* Sticky: valid bytes afterwards do not clear it. */
    const auto end = pull_end(kReasonDone);
    reader.feed(end.data(), end.size());
    auto again = reader.next();
    g_assert_false(again.ok());
    g_assert_cmpstr(again.error().message.c_str(), ==, first.error().message.c_str());
    return first.error().message;
}

void test_pull_data_header() {
    uint8_t out[kPullHeaderSize];
    g_assert_true(write_pull_data_header(out, 0x01020304, 7, 3200).ok());
    assert_bytes(out, sizeof out,
                 {0x24, 0x44, 0x88, 0x0c, 0x04, 0x03, 0x02, 0x01, 0x00, 0x07, 0x88, 0x0c});
    g_assert_true(write_pull_data_header(out, 0, 0xff, kMaxPullPayload).ok());
    assert_bytes(out, sizeof out,
                 {0x24, 0x44, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff});
}

/* Issue 16 item 13: a payload over the 16-bit PacketLength was a g_assert (an ASF packet size
 * of 65,528–65,536, which the header parser accepts, aborted the process); the writers now
 * refuse it and write nothing. */
void test_writers_refuse_oversize() {
    uint8_t out[kPullHeaderSize] = {};
    for (const size_t len : {kMaxPullPayload + 1, size_t{65536}, size_t{1} << 32}) {
        const Status refused = write_pull_data_header(out, 1, 1, len);
        g_assert_false(refused.ok());
        g_assert_true(refused.error().code == Errc::InvalidData);
        g_assert_nonnull(strstr(refused.error().message.c_str(), "65527"));
    }
    assert_bytes(out, sizeof out, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});

    g_assert_true(push_header(PacketId::Data, kMaxPacketLength).ok());
    const auto over = push_header(PacketId::Data, kMaxPacketLength + 1);
    g_assert_false(over.ok());
    g_assert_true(over.error().code == Errc::InvalidData);
}

void test_pull_header_whole() {
    const Bytes asf = pattern(709); /* PacketLength 717 = 0x2cd, as in FFmpeg's sample */
    const Bytes out = pull_header_packets(asf.data(), asf.size());
    g_assert_cmpuint(out.size(), ==, kPullHeaderSize + asf.size());
    assert_bytes(out.data(), kPullHeaderSize,
                 {0x24, 0x48, 0xcd, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0xcd, 0x02});
    g_assert_cmpmem(out.data() + kPullHeaderSize, asf.size(), asf.data(), asf.size());

    /* Exactly the largest payload still fits one whole $H. */
    const Bytes max = pattern(kMaxPullPayload);
    const Bytes one = pull_header_packets(max.data(), max.size());
    g_assert_cmpuint(one.size(), ==, kPullHeaderSize + kMaxPullPayload);
    g_assert_cmphex(one[9], ==, kHeaderWhole);
}

void test_pull_header_split() {
    const Bytes asf = pattern(2 * kMaxPullPayload + 100);
    const Bytes out = pull_header_packets(asf.data(), asf.size());
    g_assert_cmpuint(out.size(), ==, 3 * kPullHeaderSize + asf.size());

    const auto packets = read_all(Reader::Mode::Pull, out, out.size());
    g_assert_cmpuint(packets.size(), ==, 3);
    const uint8_t flags[] = {kHeaderFirst, kHeaderMiddle, kHeaderLast};
    const size_t sizes[] = {kMaxPullPayload, kMaxPullPayload, 100};
    Bytes joined;
    for (size_t i = 0; i < 3; i++) {
        g_assert_true(packets[i].id == PacketId::Header);
        g_assert_cmpuint(packets[i].location_id, ==, i);
        g_assert_cmphex(packets[i].af_flags, ==, flags[i]);
        g_assert_cmpuint(packets[i].payload.size(), ==, sizes[i]);
        joined.insert(joined.end(), packets[i].payload.begin(), packets[i].payload.end());
    }
    g_assert_true(joined == asf);

    /* One byte over the limit: first + last. */
    const Bytes over = pattern(kMaxPullPayload + 1);
    const auto two =
        read_all(Reader::Mode::Pull, pull_header_packets(over.data(), over.size()), 4096);
    g_assert_cmpuint(two.size(), ==, 2);
    g_assert_cmphex(two[0].af_flags, ==, kHeaderFirst);
    g_assert_cmphex(two[1].af_flags, ==, kHeaderLast);
    g_assert_cmpuint(two[1].payload.size(), ==, 1);
}

void test_reason_packets() {
    const auto end = pull_end(kReasonDone);
    assert_bytes(end.data(), end.size(), {0x24, 0x45, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00});
    const auto change = pull_change(kReasonNextEntry);
    assert_bytes(change.data(), change.size(), {0x24, 0x43, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00});
    const auto push = push_end(0x000d2f09);
    assert_bytes(push.data(), push.size(), {0x24, 0x45, 0x04, 0x00, 0x09, 0x2f, 0x0d, 0x00});
}

void test_push_header() {
    const auto data = push_header(PacketId::Data, 3200).value();
    assert_bytes(data.data(), data.size(), {0x24, 0x44, 0x80, 0x0c});
    const auto filler = push_header(PacketId::Filler, 0).value();
    assert_bytes(filler.data(), filler.size(), {0x24, 0x46, 0x00, 0x00});
    const auto change = push_header(PacketId::Change, 4 + 717).value();
    assert_bytes(change.data(), change.size(), {0x24, 0x43, 0xd1, 0x02});
}

void test_reader_pull_stream() {
    const Bytes asf = pattern(300);
    Bytes stream = pull_header_packets(asf.data(), asf.size());
    for (uint32_t i = 0; i < 3; i++) {
        uint8_t header[kPullHeaderSize];
        const Bytes payload = pattern(100 + i);
        g_assert_true(
            write_pull_data_header(header, 40 + i, static_cast<uint8_t>(i), payload.size()).ok());
        stream.insert(stream.end(), header, header + kPullHeaderSize);
        stream.insert(stream.end(), payload.begin(), payload.end());
    }
    const auto end = pull_end(kReasonDone);
    stream.insert(stream.end(), end.begin(), end.end());

    /* Same result whether the bytes arrive whole, one at a time or in 7s. */
    for (const size_t step : {stream.size(), size_t{1}, size_t{7}}) {
        const auto packets = read_all(Reader::Mode::Pull, stream, step);
        g_assert_cmpuint(packets.size(), ==, 5);
        g_assert_true(packets[0].id == PacketId::Header);
        g_assert_true(packets[0].payload == asf);
        g_assert_false(packets[0].reason.has_value());
        for (uint32_t i = 0; i < 3; i++) {
            const Packet &data = packets[1 + i];
            g_assert_true(data.id == PacketId::Data);
            g_assert_cmpuint(data.location_id, ==, 40 + i);
            g_assert_cmpuint(data.af_flags, ==, i);
            g_assert_cmpuint(data.incarnation, ==, 0);
            g_assert_true(data.payload == pattern(100 + i));
        }
        g_assert_true(packets[4].id == PacketId::End);
        g_assert_cmpuint(packets[4].reason.value(), ==, kReasonDone);
        g_assert_true(packets[4].payload.empty());
    }
}

void test_reader_push_stream() {
    const Bytes asf = pattern(200);
    const Bytes data = pattern(64);
    Bytes stream;
    const auto append_packet = [&stream](PacketId id, const Bytes &payload) {
        const auto header = push_header(id, payload.size()).value();
        stream.insert(stream.end(), header.begin(), header.end());
        stream.insert(stream.end(), payload.begin(), payload.end());
    };
    append_packet(PacketId::Header, asf);
    append_packet(PacketId::Data, data);
    Bytes change_body = {0, 0, 0, 0};
    change_body.insert(change_body.end(), asf.begin(), asf.end());
    append_packet(PacketId::Change, change_body);
    append_packet(PacketId::Filler, Bytes(10, 0));
    const auto end = push_end(kReasonNextEntry);
    stream.insert(stream.end(), end.begin(), end.end());

    const auto packets = read_all(Reader::Mode::Push, stream, 3);
    g_assert_cmpuint(packets.size(), ==, 5);
    g_assert_true(packets[0].id == PacketId::Header);
    g_assert_true(packets[0].payload == asf);
    g_assert_true(packets[1].id == PacketId::Data);
    g_assert_true(packets[1].payload == data);
    g_assert_cmpuint(packets[1].location_id, ==, 0);
    g_assert_true(packets[2].id == PacketId::Change);
    g_assert_cmpuint(packets[2].reason.value(), ==, 0);
    g_assert_true(packets[2].payload == asf);
    g_assert_true(packets[3].id == PacketId::Filler);
    g_assert_cmpuint(packets[3].payload.size(), ==, 10);
    g_assert_true(packets[4].id == PacketId::End);
    g_assert_cmpuint(packets[4].reason.value(), ==, kReasonNextEntry);
}

/* ASF allows packets of up to 65,536 bytes; a pull $D carries at most 65,527. */
void test_pull_packet_size() {
    g_assert_true(check_pull_packet_size(4800));
    g_assert_true(check_pull_packet_size(kMaxPullPayload));
    for (size_t too_big : {kMaxPullPayload + 1, size_t(65536)}) {
        const Status status = check_pull_packet_size(too_big);
        g_assert_false(status);
        g_assert_true(status.error().code == Errc::InvalidData);
        g_assert_nonnull(strstr(status.error().message.c_str(), "65527"));
    }
}

void test_reader_errors() {
    /* B bit set (0xA4): fatal for FFmpeg and VLC, so an error here too. */
    g_assert_nonnull(strstr(
        read_error(Reader::Mode::Pull, {0xa4, 0x44, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0x08, 0x00})
            .c_str(),
        "B bit"));
    read_error(Reader::Mode::Pull, {'#', 0x44, 0x08, 0x00});
    /* Unknown PacketID, and IDs that only exist in the other mode. */
    g_assert_nonnull(
        strstr(read_error(Reader::Mode::Pull, {0x24, 'X', 0, 0}).c_str(), "PacketID 0x58"));
    read_error(Reader::Mode::Pull, {0x24, 'F', 0, 0});
    read_error(Reader::Mode::Push, {0x24, 'M', 0, 0});
    /* PacketSize must equal PacketLength. */
    g_assert_nonnull(strstr(
        read_error(Reader::Mode::Pull, {0x24, 0x44, 0x09, 0x00, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0xaa})
            .c_str(),
        "PacketSize"));
    /* Too short for the MMS header / the Reason (reported before the body arrives). */
    read_error(Reader::Mode::Pull, {0x24, 0x44, 0x04, 0x00});
    read_error(Reader::Mode::Pull, {0x24, 0x45, 0x02, 0x00});
    read_error(Reader::Mode::Push, {0x24, 0x43, 0x03, 0x00});
}

void test_reader_incomplete() {
    Reader reader(Reader::Mode::Pull);
    const Bytes asf = pattern(50);
    const Bytes packet = pull_header_packets(asf.data(), asf.size());
    reader.feed(packet.data(), 3);
    auto next = reader.next();
    g_assert_true(next.ok() && !next.value());
    reader.feed(packet.data() + 3, packet.size() - 4);
    next = reader.next();
    g_assert_true(next.ok() && !next.value());
    reader.feed(packet.data() + packet.size() - 1, 1);
    next = reader.next();
    g_assert_true(next.ok() && next.value());
    g_assert_true(next.value()->payload == asf);
}

/*
 * Real `ffmpeg -f asf_stream` output: every packet parses in Pull mode, $H
 * first, then $D…, then $E; our writers reproduce the $H and $D bytes exactly.
 * Where FFmpeg differs from MS-WMSP (documented, not reproduced):
 *  - LocationId is one sequence shared by $H and $D ($H 0, $D 1, 2, …);
 *  - $D AFFlags is always 0 (the spec wants a per-Play counter);
 *  - $E is written like a data packet (PacketLength 8 = a full MMS header with
 *    the next LocationId, AFFlags 0, PacketSize 8) instead of PacketLength 4 +
 *    Reason, so the Reader sees Reason = that LocationId and 4 payload bytes.
 */
void test_ffmpeg_asf_stream() {
    const Bytes file = load_data("ffmpeg-asf-stream.framed");
    g_assert_cmpuint(file.size(), <, 60 * 1024);
    /* Reference §6 recipe 1: starts "24 48 LLLL 0000 0000 000c LLLL 3026 b275". */
    g_assert_cmphex(file[0], ==, 0x24);
    g_assert_cmphex(file[1], ==, 0x48);
    g_assert_cmphex(file[9], ==, 0x0c);
    g_assert_cmpmem(file.data() + 12, 4, "\x30\x26\xb2\x75", 4);

    const auto packets = read_all(Reader::Mode::Pull, file, 1000);
    g_assert_cmpuint(packets.size(), >=, 3);
    g_assert_true(packets.front().id == PacketId::Header);
    g_assert_true(packets.back().id == PacketId::End);

    /* The $H payload is the Header Object + the 50-byte Data Object head. */
    const Bytes &asf = packets.front().payload;
    g_assert_cmpuint(asf.size(), >, 50);
    g_assert_cmpmem(asf.data() + asf.size() - 50, 4, "\x36\x26\xb2\x75", 4);

    Bytes rebuilt = pull_header_packets(asf.data(), asf.size());
    const size_t data_count = packets.size() - 2;
    for (size_t i = 0; i < data_count; i++) {
        const Packet &data = packets[1 + i];
        g_assert_true(data.id == PacketId::Data);
        g_assert_cmpuint(data.location_id, ==, 1 + i);
        g_assert_cmpuint(data.af_flags, ==, 0);
        /* Fixed-size live packets, never padding-stripped by FFmpeg. */
        g_assert_cmpuint(data.payload.size(), ==, packets[1].payload.size());
        uint8_t header[kPullHeaderSize];
        g_assert_true(
            write_pull_data_header(header, data.location_id, data.af_flags, data.payload.size())
                .ok());
        rebuilt.insert(rebuilt.end(), header, header + kPullHeaderSize);
        rebuilt.insert(rebuilt.end(), data.payload.begin(), data.payload.end());
    }
    const size_t ffmpeg_end_size = 12;
    g_assert_cmpuint(rebuilt.size() + ffmpeg_end_size, ==, file.size());
    g_assert_cmpmem(rebuilt.data(), rebuilt.size(), file.data(), rebuilt.size());

    const Packet &end = packets.back();
    g_assert_cmpuint(end.reason.value(), ==, 1 + data_count);
    assert_bytes(end.payload.data(), end.payload.size(), {0x00, 0x00, 0x08, 0x00});
    const auto ours = pull_end(kReasonDone);
    g_assert_cmpuint(ours.size(), <, ffmpeg_end_size);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/framing/pull/data-header", test_pull_data_header);
    g_test_add_func("/framing/pull/header-whole", test_pull_header_whole);
    g_test_add_func("/framing/pull/header-split", test_pull_header_split);
    g_test_add_func("/framing/reason-packets", test_reason_packets);
    g_test_add_func("/framing/push/header", test_push_header);
    g_test_add_func("/framing/writers-refuse-oversize", test_writers_refuse_oversize);
    g_test_add_func("/framing/reader/pull-stream", test_reader_pull_stream);
    g_test_add_func("/framing/reader/push-stream", test_reader_push_stream);
    g_test_add_func("/framing/pull-packet-size", test_pull_packet_size);
    g_test_add_func("/framing/reader/errors", test_reader_errors);
    g_test_add_func("/framing/reader/incomplete", test_reader_incomplete);
    g_test_add_func("/framing/ffmpeg-asf-stream", test_ffmpeg_asf_stream);
    return g_test_run();
}
