/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of bench/stream-check: the load generator's reader of what a
 * server sends. Streams are built from tests/data/asfmux-wmv2.asf (20
 * packets of 4800 bytes; key frames begin packets 0, 7, 11 and 15) with
 * lib/framing's writers, and taken from real FFmpeg output
 * (tests/data/ffmpeg-asf-stream.framed: LocationIds shared by $H and $D,
 * AFFlags 0 on every $D). Each stream is fed in several read sizes.
 * And bench/request: the load generator's Play (`--select`), read by the
 * server's own parsers against tests/data/asfmux-mbr.asf (three video
 * streams 1-3 and an audio stream 4).
 */
#include "proto/asf.h"
#include "proto/framing.h"
#include "proto/http-request.h"
#include "proto/wmsp-selection.h"
#include "request.h"
#include "stream-check.h"
#include "test-data.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace wmstream;
using namespace wmstream::bench;

namespace {

using Bytes = std::vector<uint8_t>;

constexpr size_t kPacketSize = 4800;
constexpr size_t kHeaderSize = 451;
constexpr size_t kPackets = 20;
const std::vector<size_t> kKeyPackets = {0, 7, 11, 15};

const char kOkHead[] = "HTTP/1.0 200 OK\r\nServer: Rex/9.0\r\nPragma: no-cache\r\n\r\n";

void append(Bytes &out, const void *data, size_t len) {
    const auto *p = static_cast<const uint8_t *>(data);
    out.insert(out.end(), p, p + len);
}

/* The 12-byte pull header of a $D carrying @p payload_len bytes. */
void data_header(uint8_t head[proto::framing::kPullHeaderSize], uint32_t location, uint8_t flags,
                 size_t payload_len) {
    g_assert_true(proto::framing::write_pull_data_header(head, location, flags, payload_len).ok());
}

struct Recording {
    Bytes file = test::load_bytes("asfmux-wmv2.asf");
    const uint8_t *header() const { return file.data(); }
    const uint8_t *packet(size_t i) const { return file.data() + kHeaderSize + i * kPacketSize; }
};

/* The response head, $H, then $D for packets [first, last) numbered from @location. */
Bytes wmsp_stream(const Recording &r, size_t first, size_t last, uint32_t location = 0,
                  size_t payload_len = kPacketSize) {
    Bytes out;
    append(out, kOkHead, sizeof kOkHead - 1);
    const Bytes header = proto::framing::pull_header_packets(r.header(), kHeaderSize);
    append(out, header.data(), header.size());
    for (size_t i = first; i < last; ++i) {
        uint8_t head[proto::framing::kPullHeaderSize];
        data_header(head, location, uint8_t(location), payload_len);
        ++location;
        append(out, head, sizeof head);
        append(out, r.packet(i), payload_len);
    }
    return out;
}

struct Outcome {
    size_t packets = 0;
    size_t parsed = 0;
    std::vector<size_t> key_packets; /* indexes (in arrival order) of key-frame starts */
    std::vector<uint32_t> send_times;
};

/* Feeds @stream @step bytes at a time, parsing every packet; asserts every byte is consumed. */
Outcome feed(StreamCheck &check, const Bytes &stream, size_t step) {
    Outcome outcome;
    for (size_t offset = 0; offset < stream.size(); offset += step) {
        const uint8_t *data = stream.data() + offset;
        size_t left = std::min(step, stream.size() - offset);
        while (left > 0) {
            PacketEvent event;
            const size_t used = check.consume(data, left, true, event);
            g_assert_cmpuint(used, >, 0);
            g_assert_cmpuint(used, <=, left);
            data += used;
            left -= used;
            if (!event.ready)
                continue;
            if (event.parsed) {
                ++outcome.parsed;
                outcome.send_times.push_back(event.send_time_ms);
                if (event.key_frame_start)
                    outcome.key_packets.push_back(outcome.packets);
            }
            ++outcome.packets;
        }
    }
    return outcome;
}

void assert_whole_recording(const Outcome &outcome, size_t first = 0) {
    g_assert_cmpuint(outcome.packets, ==, kPackets - first);
    g_assert_cmpuint(outcome.parsed, ==, kPackets - first);
    std::vector<size_t> expected;
    for (size_t k : kKeyPackets)
        if (k >= first)
            expected.push_back(k - first);
    g_assert_true(outcome.key_packets == expected);
}

void test_wmsp_stream() {
    Recording r;
    Bytes stream = wmsp_stream(r, 0, kPackets);
    const auto end = proto::framing::pull_end(proto::framing::kReasonDone);
    append(stream, end.data(), end.size());
    for (size_t step : {size_t(1), size_t(7), size_t(4812), size_t(65536), stream.size()}) {
        HeaderCache headers;
        StreamCheck check(StreamKind::Wmsp, headers);
        const Outcome outcome = feed(check, stream, step);
        g_assert_false(check.failed());
        g_assert_cmpint(check.http_status(), ==, 200);
        g_assert_true(check.has_header());
        g_assert_true(check.ended());
        g_assert_cmpuint(check.location_gaps(), ==, 0);
        g_assert_cmpuint(check.afflags_gaps(), ==, 0);
        assert_whole_recording(outcome);
        /* Send times are the packets' own. */
        auto info = proto::asf::parse_header(r.header(), kHeaderSize);
        g_assert_true(info.ok());
        for (size_t i = 0; i < kPackets; ++i) {
            auto packet = proto::asf::parse_packet(r.packet(i), kPacketSize, *info);
            g_assert_true(packet.ok());
            g_assert_cmpuint(outcome.send_times[i], ==, packet->send_time_ms);
        }
    }
}

void test_wmsp_join_mid_stream() {
    /* A server numbering packets in a virtual file: the first $D may carry any LocationId. */
    Recording r;
    HeaderCache headers;
    StreamCheck check(StreamKind::Wmsp, headers);
    const Outcome outcome = feed(check, wmsp_stream(r, 7, kPackets, 1234), 1000);
    g_assert_false(check.failed());
    g_assert_cmpuint(check.location_gaps(), ==, 0);
    assert_whole_recording(outcome, 7);
}

void test_wmsp_gaps() {
    Recording r;
    Bytes stream = wmsp_stream(r, 0, 3);
    /* Packet 3 numbered 4 (LocationId and AFFlags both skip one), then 5. */
    for (uint32_t location : {4u, 5u}) {
        uint8_t head[proto::framing::kPullHeaderSize];
        data_header(head, location, uint8_t(location), kPacketSize);
        append(stream, head, sizeof head);
        append(stream, r.packet(location - 1), kPacketSize);
    }
    HeaderCache headers;
    StreamCheck check(StreamKind::Wmsp, headers);
    const Outcome outcome = feed(check, stream, 4096);
    g_assert_false(check.failed());
    g_assert_cmpuint(outcome.packets, ==, 5);
    g_assert_cmpuint(check.location_gaps(), ==, 1);
    g_assert_cmpuint(check.afflags_gaps(), ==, 1);
}

void test_wmsp_stripped_padding() {
    /* [MS-WMSP] §2.2.3.3: padding may be stripped; the packet parses once re-padded. Packet 19,
     * the last one asfmux wrote, is mostly padding. */
    Recording r;
    auto info = proto::asf::parse_header(r.header(), kHeaderSize);
    g_assert_true(info.ok());
    const uint8_t *last = r.packet(kPackets - 1);
    size_t used = kPacketSize;
    while (used > 0 && last[used - 1] == 0)
        --used;
    g_assert_cmpuint(used, <, kPacketSize);
    Bytes stream = wmsp_stream(r, 0, 0);
    uint8_t head[proto::framing::kPullHeaderSize];
    data_header(head, 0, 0, used);
    append(stream, head, sizeof head);
    append(stream, last, used);
    HeaderCache headers;
    StreamCheck check(StreamKind::Wmsp, headers);
    const Outcome outcome = feed(check, stream, 100);
    g_assert_false(check.failed());
    g_assert_cmpuint(outcome.parsed, ==, 1);
    auto packet = proto::asf::parse_packet(last, kPacketSize, *info);
    g_assert_true(packet.ok());
    g_assert_cmpuint(outcome.send_times[0], ==, packet->send_time_ms);
}

void test_ffmpeg_framing() {
    /* FFmpeg's asf_stream muxer: $H LocationId 0, $D from 1 on, AFFlags 0 on every $D, and a
     * final $E of PacketLength 8 (an MMS data header where the spec has a 4-byte Reason). */
    const Bytes framed = test::load_bytes("ffmpeg-asf-stream.framed");
    Bytes stream;
    append(stream, kOkHead, sizeof kOkHead - 1);
    append(stream, framed.data(), framed.size());
    HeaderCache headers;
    StreamCheck check(StreamKind::Wmsp, headers);
    const Outcome outcome = feed(check, stream, 1500);
    g_assert_false(check.failed());
    g_assert_cmpuint(outcome.packets, >, 2);
    g_assert_cmpuint(outcome.parsed, ==, outcome.packets);
    g_assert_cmpuint(check.location_gaps(), ==, 0);
    g_assert_cmpuint(check.afflags_gaps(), ==, outcome.packets - 1);
    g_assert_false(outcome.key_packets.empty());
    g_assert_cmpuint(outcome.key_packets[0], ==, 0);
    /* Its "Reason" is the sequence number 12, not 0: not an end of stream. */
    g_assert_false(check.ended());
}

void test_raw_and_http() {
    Recording r;
    const Bytes raw(r.file.begin(),
                    r.file.begin() + ptrdiff_t(kHeaderSize + kPackets * kPacketSize));
    Bytes http;
    append(http, kOkHead, sizeof kOkHead - 1);
    append(http, raw.data(), raw.size());
    for (size_t step : {size_t(1), size_t(29), size_t(4800), raw.size()}) {
        HeaderCache headers;
        StreamCheck raw_check(StreamKind::Raw, headers);
        assert_whole_recording(feed(raw_check, raw, step));
        g_assert_false(raw_check.failed());
        g_assert_cmpint(raw_check.http_status(), ==, 0);
        StreamCheck http_check(StreamKind::Http, headers);
        assert_whole_recording(feed(http_check, http, step));
        g_assert_false(http_check.failed());
        g_assert_cmpint(http_check.http_status(), ==, 200);
    }
}

void test_parse_on_request_only() {
    Recording r;
    const Bytes stream = wmsp_stream(r, 0, kPackets);
    HeaderCache headers;
    StreamCheck check(StreamKind::Wmsp, headers);
    size_t ready = 0, parsed = 0;
    const uint8_t *data = stream.data();
    size_t left = stream.size();
    while (left > 0) {
        PacketEvent event;
        const size_t used = check.consume(data, left, false, event);
        data += used;
        left -= used;
        ready += event.ready;
        parsed += event.parsed;
    }
    g_assert_false(check.failed());
    g_assert_cmpuint(ready, ==, kPackets);
    g_assert_cmpuint(parsed, ==, 0);
}

/* The error for @stream (fed in one read), which must keep the check failed. */
std::string error_of(StreamKind kind, const Bytes &stream) {
    HeaderCache headers;
    StreamCheck check(kind, headers);
    PacketEvent event;
    size_t used = 0;
    while (used < stream.size() && !check.failed())
        used += check.consume(stream.data() + used, stream.size() - used, true, event);
    g_assert_true(check.failed());
    /* Once failed, everything is consumed and nothing reported. */
    const std::string error = check.error();
    g_assert_cmpuint(check.consume(stream.data(), stream.size(), true, event), ==, stream.size());
    g_assert_false(event.ready);
    g_assert_cmpstr(check.error().c_str(), ==, error.c_str());
    return error;
}

void test_errors() {
    Recording r;
    const std::string busy = "HTTP/1.0 503 Service Unavailable\r\n\r\n";
    const std::string status = error_of(StreamKind::Wmsp, Bytes(busy.begin(), busy.end()));
    g_assert_cmpstr(status.c_str(), ==, "HTTP status 503");

    Bytes data_first;
    append(data_first, kOkHead, sizeof kOkHead - 1);
    uint8_t head[proto::framing::kPullHeaderSize];
    data_header(head, 0, 0, kPacketSize);
    append(data_first, head, sizeof head);
    append(data_first, r.packet(0), kPacketSize);
    const std::string first = error_of(StreamKind::Wmsp, data_first);
    g_assert_cmpstr(first.c_str(), ==, "the first frame is $D, not $H");

    Bytes meta = wmsp_stream(r, 0, 1);
    const uint8_t m[] = {'$', 'M', 8, 0, 0, 0, 0, 0, 0, 0, 8, 0};
    append(meta, m, sizeof m);
    const std::string type = error_of(StreamKind::Wmsp, meta);
    g_assert_cmpstr(type.c_str(), ==, "unexpected packet type 0x4d ('M')");

    Bytes b_bit = wmsp_stream(r, 0, 1);
    const uint8_t d[] = {0xA4, 'D', 8, 0, 0, 0, 0, 0, 0, 0, 8, 0};
    append(b_bit, d, sizeof d);
    const std::string b = error_of(StreamKind::Wmsp, b_bit);
    g_assert_cmpstr(b.c_str(), ==, "framing header starts with 0xa4, not '$'");

    Bytes mismatch = wmsp_stream(r, 0, 0);
    uint8_t bad[proto::framing::kPullHeaderSize];
    data_header(bad, 0, 0, kPacketSize);
    bad[10] ^= 1; /* PacketSize ≠ PacketLength */
    append(mismatch, bad, sizeof bad);
    g_assert_true(error_of(StreamKind::Wmsp, mismatch).rfind("PacketSize", 0) == 0);

    const Bytes not_asf(100, 0x47);
    const std::string raw = error_of(StreamKind::Raw, not_asf);
    g_assert_cmpstr(raw.c_str(), ==, "the stream does not start with an ASF Header Object");
}

void test_header_cache_shares() {
    Recording r;
    HeaderCache headers;
    const proto::asf::HeaderInfo *a = headers.get(r.header(), kHeaderSize);
    const proto::asf::HeaderInfo *b = headers.get(r.header(), kHeaderSize);
    g_assert_nonnull(a);
    g_assert_true(a == b);
    g_assert_cmpuint(a->packet_size, ==, kPacketSize);
    g_assert_null(headers.get(r.packet(0), kHeaderSize));
}

/* The server selects @p expected ("1,4") of asfmux-mbr.asf for the loadgen's Play of @p select. */
void assert_served(const std::vector<unsigned> &select, const char *expected) {
    RequestTarget target;
    target.port = 8080;
    target.select = select;
    const std::string text = request_for(StreamKind::Wmsp, target);
    const proto::http::Scan scan = proto::http::scan_header_block(text.data(), text.size());
    g_assert_true(scan.state == proto::http::Scan::State::Complete);
    g_assert_cmpuint(scan.block_size, ==, text.size());
    auto request = proto::http::parse_request(text.data(), scan.block_size);
    g_assert_true(request.ok());
    const proto::wmsp::ClientRequest play = proto::wmsp::classify(*request);
    g_assert_true(play.kind == proto::wmsp::Kind::Play);
    const Bytes file = test::load_bytes("asfmux-mbr.asf");
    auto header = proto::asf::parse_header(file.data(), file.size());
    g_assert_true(header.ok());
    auto selection = proto::wmsp::select_streams(play, *header);
    g_assert_true(selection.ok());
    const std::string served = selection->stream_list(); /* outlives the check */
    g_assert_cmpstr(served.c_str(), ==, expected);
}

void test_request_select() {
    /* VLC's form: every stream up to the largest selected one listed, the others off. */
    RequestTarget target;
    target.select = {1, 4};
    const std::string low = request_for(StreamKind::Wmsp, target);
    g_assert_nonnull(strstr(low.c_str(), "\r\nPragma: stream-switch-count=4\r\n"));
    g_assert_nonnull(strstr(
        low.c_str(), "\r\nPragma: stream-switch-entry=ffff:1:0 ffff:2:2 ffff:3:2 ffff:4:0 \r\n"));

    assert_served({1, 4}, "1,4");
    assert_served({1, 2, 3, 4}, "1,2,3,4");
    assert_served({2}, "2");
    assert_served(RequestTarget{}.select, "1");

    /* Stream numbers above 9 go in hex, as the spec and VLC write them. */
    target.select = {12};
    g_assert_nonnull(
        strstr(request_for(StreamKind::Wmsp, target).c_str(), "ffff:b:2 ffff:c:0 \r\n"));
    /* No selection for the other kinds. */
    g_assert_null(strstr(request_for(StreamKind::Http, target).c_str(), "stream-switch"));
    g_assert_true(request_for(StreamKind::Raw, target).empty());
}

void test_parse_stream_list() {
    auto ok = parse_stream_list("4,1");
    g_assert_true(ok.ok());
    g_assert_true(*ok == (std::vector<unsigned>{1, 4}));
    auto all = parse_stream_list("1,2,3,127");
    g_assert_true(all.ok());
    g_assert_cmpuint(all->size(), ==, 4);
    for (const char *bad : {"", "1,", ",1", "0", "128", "1,x", "1;4", "-1", "1,1", "0001"}) {
        auto refused = parse_stream_list(bad);
        g_assert_false(refused.ok());
        g_assert_true(refused.error().code == Errc::InvalidArgument);
    }
    const auto twice = parse_stream_list("1,4,1"); /* outlives the check */
    g_assert_cmpstr(twice.error().message.c_str(), ==, "stream list '1,4,1': stream 1 given twice");
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/stream-check/wmsp", test_wmsp_stream);
    g_test_add_func("/stream-check/wmsp-join-mid-stream", test_wmsp_join_mid_stream);
    g_test_add_func("/stream-check/wmsp-gaps", test_wmsp_gaps);
    g_test_add_func("/stream-check/wmsp-stripped-padding", test_wmsp_stripped_padding);
    g_test_add_func("/stream-check/ffmpeg-framing", test_ffmpeg_framing);
    g_test_add_func("/stream-check/raw-and-http", test_raw_and_http);
    g_test_add_func("/stream-check/parse-on-request-only", test_parse_on_request_only);
    g_test_add_func("/stream-check/errors", test_errors);
    g_test_add_func("/stream-check/header-cache", test_header_cache_shares);
    g_test_add_func("/request/select", test_request_select);
    g_test_add_func("/request/parse-stream-list", test_parse_stream_list);
    return g_test_run();
}
