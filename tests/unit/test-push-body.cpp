/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/push-body: PushStart body framing and Length-Remaining
 * [MS-WMHTTP §3.1.4.2.1–§3.1.4.5]: byte-exact $H/$D/$C/$E, the fit rule of
 * each packet type at its boundary, $F filler that closes a body exactly
 * (split when more than 65535 bytes are left), errors, the minimum
 * Content-Length, and a randomized run whose every body is read back with
 * the push framing Reader and must add up to its Content-Length.
 */
#include "proto/framing.h"
#include "push/body.h"

#include <glib.h>

#include <algorithm>
#include <vector>

using wmstream::Errc;
using wmstream::proto::framing::PacketId;
using wmstream::proto::framing::Reader;
using wmstream::push::Body;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes filled(size_t len, uint8_t value) {
    return Bytes(len, value);
}

/* Every packet of @bytes, read with the push Reader; asserts nothing is left over. */
std::vector<wmstream::proto::framing::Packet> read_packets(const Bytes &bytes) {
    Reader reader(Reader::Mode::Push);
    reader.feed(bytes.data(), bytes.size());
    std::vector<wmstream::proto::framing::Packet> packets;
    for (;;) {
        auto next = reader.next();
        g_assert_true(next.ok());
        if (!next.value())
            break;
        packets.push_back(std::move(*next.value()));
    }
    return packets;
}

size_t framed_size(const wmstream::proto::framing::Packet &packet) {
    return 4 + (packet.reason ? 4 : 0) + packet.payload.size();
}

void test_framing() {
    Body body(1000);
    Bytes out;
    const Bytes header = filled(10, 0xAA);
    g_assert_true(*body.header(header.data(), header.size(), out) == Body::Fit::Sent);
    const Bytes expected_h = {'$',  'H',  10,   0,    0xAA, 0xAA, 0xAA,
                              0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};
    g_assert_true(out == expected_h);
    g_assert_cmpuint(body.remaining(), ==, 1000 - 14);

    out.clear();
    const Bytes data = filled(3, 0x11);
    g_assert_true(*body.data(data.data(), data.size(), out) == Body::Fit::Sent);
    g_assert_true(out == (Bytes{'$', 'D', 3, 0, 0x11, 0x11, 0x11}));

    out.clear();
    g_assert_true(*body.change(data.data(), data.size(), out) == Body::Fit::Sent);
    g_assert_true(out == (Bytes{'$', 'C', 7, 0, 0, 0, 0, 0, 0x11, 0x11, 0x11}));

    out.clear();
    g_assert_true(*body.end(1, out) == Body::Fit::Sent);
    g_assert_true(out == (Bytes{'$', 'E', 4, 0, 1, 0, 0, 0}));
    g_assert_cmpuint(body.remaining(), ==, 1000 - 14 - 7 - 11 - 8);
}

/* $D: sent when size + 4 < Length-Remaining, else $F uses the rest up. */
void test_data_boundary() {
    const Bytes packet = filled(100, 1); /* 104 bytes framed */
    {
        Body body(104 + 4 + 1);
        Bytes out;
        g_assert_true(*body.data(packet.data(), packet.size(), out) == Body::Fit::Sent);
        g_assert_cmpuint(body.remaining(), ==, 5);
    }
    {
        Body body(104 + 4);
        Bytes out;
        g_assert_true(*body.data(packet.data(), packet.size(), out) == Body::Fit::Filled);
        g_assert_true(body.complete());
        g_assert_cmpuint(out.size(), ==, 108);
        const auto packets = read_packets(out);
        g_assert_cmpuint(packets.size(), ==, 1);
        g_assert_cmpint(static_cast<int>(packets[0].id), ==, 'F');
        g_assert_cmpuint(packets[0].payload.size(), ==, 104);
        for (uint8_t byte : packets[0].payload)
            g_assert_cmpuint(byte, ==, 0);
    }
}

/* $E: needs 8 and leaves 0 or ≥ 4 (a $F is at least 4 bytes). */
void test_end_boundary() {
    for (uint32_t remaining = 4; remaining <= 16; remaining++) {
        Body body(remaining);
        Bytes out;
        const Body::Fit fit = *body.end(0, out);
        const bool sendable = remaining == 8 || remaining >= 12;
        g_assert_true(fit == (sendable ? Body::Fit::Sent : Body::Fit::Filled));
        if (!sendable) {
            g_assert_cmpuint(out.size(), ==, remaining);
            g_assert_cmpint(static_cast<int>(read_packets(out).at(0).id), ==, 'F');
        }
    }
}

/* $H / $C: sent when size + 4 ≤ Length-Remaining. */
void test_header_boundary() {
    const Bytes header = filled(50, 7);
    Body exact(54 + 4);
    Bytes out;
    g_assert_true(*exact.header(header.data(), header.size(), out) == Body::Fit::Sent);
    g_assert_cmpuint(exact.remaining(), ==, 4);
    Body short_body(54 + 3);
    out.clear();
    g_assert_true(*short_body.header(header.data(), header.size(), out) == Body::Fit::Filled);
    Body change(58 + 4);
    out.clear();
    g_assert_true(*change.change(header.data(), header.size(), out) == Body::Fit::Sent);
    Body change_short(58 + 3);
    out.clear();
    g_assert_true(*change_short.change(header.data(), header.size(), out) == Body::Fit::Filled);
}

/* More than 65535 bytes left: several $F of ≤ 65535 bytes, never a 1..3-byte rest. */
void test_filler_split() {
    for (uint32_t remaining :
         {65535u + 1, 65535u + 2, 65535u + 3, 65535u + 4, 200000u, 3 * 65535u}) {
        Body body(remaining);
        Bytes out;
        const Bytes big = filled(65531, 9);
        /* A maximum $D (65535 framed) never fits when size + 4 ≥ remaining. */
        Body::Fit fit = Body::Fit::Sent;
        while (fit == Body::Fit::Sent)
            fit = *body.data(big.data(), big.size(), out);
        g_assert_true(body.complete());
        const auto packets = read_packets(out);
        size_t total = 0;
        for (const auto &packet : packets) {
            total += framed_size(packet);
            if (packet.id == PacketId::Filler) {
                g_assert_cmpuint(framed_size(packet), <=, 65535);
                g_assert_cmpuint(framed_size(packet), >=, 4);
            }
        }
        g_assert_cmpuint(total, ==, remaining);
    }
}

void test_errors() {
    Body body(100000);
    Bytes out;
    g_assert_true(body.data(nullptr, 0, out).error().code == Errc::InvalidData);
    const Bytes too_big = filled(65532, 0);
    g_assert_true(body.header(too_big.data(), too_big.size(), out).error().code ==
                  Errc::InvalidData);
    const Bytes data_too_big = filled(65536, 0);
    g_assert_true(body.data(data_too_big.data(), data_too_big.size(), out).error().code ==
                  Errc::InvalidData);
    const Bytes change_too_big = filled(65528, 0);
    g_assert_true(body.change(change_too_big.data(), change_too_big.size(), out).error().code ==
                  Errc::InvalidData);
    g_assert_cmpuint(out.size(), ==, 0);
    g_assert_cmpuint(body.remaining(), ==, 100000);

    Body done(8);
    g_assert_true(*done.end(0, out) == Body::Fit::Sent);
    g_assert_true(done.end(0, out).error().code == Errc::InvalidRequest);
}

/* Found by fuzz-framing-writers (fuzz/corpus/framing-writers/body-content-length-1): a body
 * announced with 1..3 bytes, which no packet fits, made the $F filler's length underflow
 * (std::length_error from a 2^64-byte insert). Every offer is now refused and nothing written. */
void test_unfillable_content_length() {
    const Bytes packet = filled(100, 1);
    for (const uint32_t length : {1u, 2u, 3u}) {
        Body body(length);
        Bytes out;
        g_assert_true(body.end(0, out).error().code == Errc::InvalidArgument);
        g_assert_true(body.data(packet.data(), packet.size(), out).error().code ==
                      Errc::InvalidArgument);
        g_assert_true(body.header(packet.data(), packet.size(), out).error().code ==
                      Errc::InvalidArgument);
        g_assert_cmpuint(out.size(), ==, 0);
        g_assert_cmpuint(body.remaining(), ==, length);
    }
}

void test_minimum_content_length() {
    using wmstream::push::minimum_content_length;
    /* Three maximum $D. */
    g_assert_cmpuint(minimum_content_length(451, 4800), ==, 3 * 4804);
    /* A header larger than three packets: $C (4 + 4 + header) + 4. */
    g_assert_cmpuint(minimum_content_length(20000, 1000), ==, 20012);
    g_assert_cmpuint(minimum_content_length(1000, 1000000000), ==, 2147483647u);
}

/* Behind a proxy: 60 s of the stream and the $D framing of its packets, within 2^31 - 1. */
void test_proxy_content_length() {
    using wmstream::push::proxy_content_length;
    /* 1 Mbit/s: 7,500,000 bytes in 60 s, 1562 packets of 4800 bytes, 4 framing bytes each. */
    g_assert_cmpuint(proxy_content_length(1000000, 4800), ==, 7500000 + 1562 * 4);
    g_assert_cmpuint(proxy_content_length(1000000000000ull, 4800), ==, 2147483647u);
}

/*
 * Random packets into bodies of random Content-Length: each body, read back,
 * is made of valid push packets whose sizes add up to exactly its
 * Content-Length, and every data packet appears once, in order.
 */
void test_random_bodies() {
    GRand *rand = g_rand_new_with_seed(20240423);
    for (int round = 0; round < 200; round++) {
        const size_t packet_size = static_cast<size_t>(g_rand_int_range(rand, 1, 65532));
        const uint32_t content_length =
            std::max(wmstream::push::minimum_content_length(200, packet_size),
                     static_cast<uint32_t>(g_rand_int_range(rand, 1, 400000)));
        const int count = g_rand_int_range(rand, 1, 40);
        std::vector<Bytes> sent;
        Body body(content_length);
        Bytes out;
        const Bytes header = filled(200, 0x30);
        g_assert_true(*body.header(header.data(), header.size(), out) == Body::Fit::Sent);
        std::vector<Bytes> bodies;
        for (int i = 0; i < count; i++) {
            const Bytes packet = filled(packet_size, static_cast<uint8_t>(i + 1));
            while (*body.data(packet.data(), packet.size(), out) == Body::Fit::Filled) {
                bodies.push_back(std::move(out));
                out.clear();
                body = Body(content_length);
            }
            sent.push_back(packet);
        }
        while (*body.end(0, out) == Body::Fit::Filled) {
            bodies.push_back(std::move(out));
            out.clear();
            body = Body(content_length);
        }
        bodies.push_back(std::move(out));

        std::vector<Bytes> received;
        for (size_t b = 0; b < bodies.size(); b++) {
            size_t total = 0;
            for (const auto &packet : read_packets(bodies[b])) {
                total += framed_size(packet);
                if (packet.id == PacketId::Data)
                    received.push_back(packet.payload);
            }
            /* Every body but the last one (ended by $E) is exactly Content-Length. */
            if (b + 1 < bodies.size())
                g_assert_cmpuint(total, ==, content_length);
            else
                g_assert_cmpuint(total, <=, content_length);
        }
        g_assert_true(received == sent);
    }
    g_rand_free(rand);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/push-body/framing", test_framing);
    g_test_add_func("/push-body/data-boundary", test_data_boundary);
    g_test_add_func("/push-body/end-boundary", test_end_boundary);
    g_test_add_func("/push-body/header-boundary", test_header_boundary);
    g_test_add_func("/push-body/filler-split", test_filler_split);
    g_test_add_func("/push-body/errors", test_errors);
    g_test_add_func("/push-body/unfillable-content-length", test_unfillable_content_length);
    g_test_add_func("/push-body/minimum-content-length", test_minimum_content_length);
    g_test_add_func("/push-body/proxy-content-length", test_proxy_content_length);
    g_test_add_func("/push-body/random-bodies", test_random_bodies);
    return g_test_run();
}
