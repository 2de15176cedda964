/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of server::Connection without sockets: the peer is a scripted
 * FakePeer (tests/common/fake-server.h), the stream a StreamStore holding
 * tests/data/asfmux-wmv2.asf's header. They reproduce what fuzz-connection
 * found.
 */
#include "fake-server.h"
#include "proto/asf-packet.h"
#include "proto/asf.h"
#include "server/connection.h"
#include "server/poller.h"
#include "server/stream-store.h"
#include "test-data.h"

#include <glib.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace wmstream;
using namespace wmstream::server;

namespace {

/** One connection, its peer and the stream (@p fixture's header), with what it wrote in
 *  written. */
struct Client {
    explicit Client(bool full, ServerConfig config = {}, const char *fixture = "asfmux-wmv2.asf")
        : host(std::move(config), nullptr, full), store(LagLimits::of(host.config())),
          peer(false,
               [this](const uint8_t *data, size_t len) {
                   written.append(reinterpret_cast<const char *>(data), len);
               }),
          file(test::load_bytes(fixture)) {
        const auto info = proto::asf::parse_header(file.data(), file.size());
        g_assert_true(info.ok());
        header = *info;
        g_assert_true(store.set_header(file.data(), info->total_size).ok());
        connection = std::make_unique<Connection>(host, store, 1, peer.transport(), poller);
        connection->start();
    }

    /** Packet @p i of the fixture into the store, arrived at @p now_us. */
    void push(size_t i, int64_t now_us) {
        const uint8_t *packet = file.data() + header.total_size + i * header.packet_size;
        g_assert_true(store.push(packet, header.packet_size, now_us).ok());
    }

    /** The peer sends tests/data/requests/@p name; nothing can be written yet. */
    void request(const char *name) {
        const std::string text = test::load_text(name);
        peer.send(text.data(), text.size());
        peer.deliver_readable(4);
        g_assert_cmpuint(written.size(), ==, 0);
    }

    /** How often @p text occurs in what was written. */
    size_t count(const std::string &text) const {
        size_t n = 0;
        for (size_t pos = written.find(text); pos != std::string::npos;
             pos = written.find(text, pos + 1))
            ++n;
        return n;
    }

    struct Context {
        GMainContext *context = g_main_context_new();
        ~Context() { g_main_context_unref(context); }
    } context;
    Poller poller{context.context};
    test::FakeHost host;
    StreamStore store;
    std::string written;
    test::FakePeer peer;
    std::vector<uint8_t> file;
    proto::asf::HeaderInfo header;
    std::unique_ptr<Connection> connection;
};

/* Found by this test's first run (the fuzzer, built by clang, could not see it): with
 * `sent(transport_->send(…, &error), error)`, GCC read error before send() set it, so a send
 * that would block looked like a failure without an error, and a client whose socket was full
 * was removed with reason "error" instead of waiting until it is writable. */
void test_full_socket_waits() {
    Client client(false);
    client.request("requests/vlc-play.http");
    g_assert_cmpint(client.host.finished_count(), ==, 0);
    g_assert_true(client.peer.watched(true));
    client.peer.make_room(1 << 20);
    client.peer.deliver_writable(4);
    g_assert_cmpint(client.written.compare(0, 13, "HTTP/1.0 200 "), ==, 0);
    g_assert_cmpint(client.host.finished_count(), ==, 0);
}

/* Found by fuzz-connection (fuzz/corpus/connection/describe-answered-twice): a Describe whose
 * answer could not be written at once was answered again at every wake(), i.e. every send
 * round, so a slow reader got the header over and over and its queue grew. */
void test_describe_answered_once() {
    Client client(false);
    client.request("requests/ffmpeg-describe.http");
    for (int round = 0; round < 3; ++round)
        client.connection->wake();
    client.peer.make_room(1 << 20);
    client.peer.deliver_writable(4);
    g_assert_cmpuint(client.count("HTTP/1.0 200"), ==, 1);
    g_assert_cmpuint(client.count("\x30\x26\xb2\x75"), ==, 1); /* the Header Object GUID */
}

/* Found by fuzz-connection as well: a Play refused with 503 (max-clients) whose answer was not
 * written yet was answered 200 and streamed to at the next wake() (review item "a refused
 * client whose error reply is still queued can later get 200"). */
void test_refused_stays_refused() {
    Client client(true);
    client.request("requests/vlc-play.http");
    client.connection->wake();
    client.peer.make_room(1 << 20);
    client.peer.deliver_writable(4);
    g_assert_cmpint(client.written.compare(0, 13, "HTTP/1.0 503 "), ==, 0);
    g_assert_cmpuint(client.count("HTTP/1.0"), ==, 1);
    g_assert_cmpuint(client.count("\x30\x26\xb2\x75"), ==, 0);
}

/** What a client that receives the audio alone wrote after its answer: its sends, the
 *  stream ($H, $D…), its `$D` packets and their payloads, in order (headers included). */
struct Served {
    size_t sends = 0;
    std::string stream;
    size_t data_packets = 0;
    std::string payloads;
};

/** Counts the `$D` packets of @p served.stream and gathers their payloads; each must parse
 *  (padded back to the packet size of @p header, as players do). */
void read_data_packets(Served &served, const proto::asf::HeaderInfo &header) {
    const std::string &stream = served.stream;
    size_t pos = stream.find('$');
    while (pos != std::string::npos && pos + 4 <= stream.size()) {
        const auto *frame = reinterpret_cast<const uint8_t *>(stream.data() + pos);
        const size_t length = size_t(frame[2]) | size_t(frame[3]) << 8;
        g_assert_cmpuint(pos + 4 + length, <=, stream.size());
        if (frame[1] == 'D') {
            std::vector<uint8_t> packet(frame + 12, frame + 4 + length);
            g_assert_cmpuint(packet.size(), <=, header.packet_size);
            packet.resize(header.packet_size, 0);
            proto::asf::detail::Layout layout;
            g_assert_true(
                proto::asf::detail::walk_packet(packet.data(), packet.size(), header, &layout)
                    .ok());
            for (const proto::asf::detail::PayloadSpan &payload : layout.payloads)
                served.payloads.append(reinterpret_cast<const char *>(packet.data()) +
                                           payload.start,
                                       payload.end - payload.start);
            ++served.data_packets;
        }
        pos += 4 + length;
    }
}

/* The audio alone of asfmux-wmv2-wmav2.asf (stream 2), its 12 packets arriving one per 100 ms,
 * served as the server's rounds do, one every 125 ms: deferred(), else wake(). A round that
 * skips the client leaves no packet in the log older than max-write-delay (or a round). */
Served serve_audio_alone(int64_t max_write_delay_us) {
    constexpr int64_t kRoundUs = 125000;
    constexpr int64_t kPacketGapUs = 100000;
    constexpr size_t kPackets = 12;
    ServerConfig config;
    config.max_write_delay_us = max_write_delay_us;
    Client client(false, config, "asfmux-wmv2-wmav2.asf");
    std::string play = test::load_text("requests/ffmpeg-play.http");
    const std::string every = "ffff:1:0 ffff:2:0";
    play.replace(play.find(every), every.size(), "ffff:1:2 ffff:2:0");
    client.peer.make_room(size_t(1) << 24);
    client.peer.send(play.data(), play.size());
    client.peer.deliver_readable(4);
    const size_t answered = client.peer.sends(); /* the answer and $H */
    g_assert_cmpuint(answered, >, 0);
    const int64_t t0 = g_get_monotonic_time();
    size_t pushed = 0;
    int64_t waiting_since = -1; /* arrival of the oldest packet the client has not taken */
    for (int64_t now = t0; now <= t0 + int64_t(kPackets) * kPacketGapUs + 1200000;
         now += kRoundUs) {
        for (; pushed < kPackets && t0 + int64_t(pushed) * kPacketGapUs <= now; ++pushed) {
            client.push(pushed, t0 + int64_t(pushed) * kPacketGapUs);
            if (waiting_since < 0)
                waiting_since = t0 + int64_t(pushed) * kPacketGapUs;
        }
        if (client.connection->deferred(now)) {
            if (waiting_since >= 0)
                g_assert_cmpint(now - waiting_since, <, std::max(max_write_delay_us, kRoundUs));
        } else {
            client.connection->wake();
            waiting_since = -1;
        }
    }
    g_assert_cmpint(client.host.finished_count(), ==, 0);
    const size_t body = client.written.find("\r\n\r\n");
    g_assert_cmpuint(body, !=, std::string::npos);
    Served served{client.peer.sends() - answered, client.written.substr(body + 4)};
    read_data_packets(served, client.header);
    return served;
}

/* Issue 13: with max-write-delay 1 s, a client that receives a share of the stream writes a
 * few times instead of once a round (max-write-delay 0), none of its packets waits longer
 * than the bound, and it receives the same payloads. Its writes then find the runs of its
 * selection closed (server/selection-runs.h): fewer `$D` packets carry them; one written
 * every round takes each packet as it comes. */
void test_share_writes_coalesced() {
    const Served every_round = serve_audio_alone(0);
    const Served coalesced = serve_audio_alone(1000000);
    g_assert_cmpuint(every_round.sends, >=, 8);
    g_assert_cmpuint(coalesced.sends, <=, every_round.sends / 3);
    g_assert_cmpuint(coalesced.payloads.size(), >, 12 * 100);
    g_assert_true(coalesced.payloads == every_round.payloads);
    g_assert_cmpuint(every_round.data_packets, >=, 8);
    g_assert_cmpuint(coalesced.data_packets, <, every_round.data_packets);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/connection/full-socket-waits", test_full_socket_waits);
    g_test_add_func("/connection/describe-answered-once", test_describe_answered_once);
    g_test_add_func("/connection/refused-stays-refused", test_refused_stays_refused);
    g_test_add_func("/connection/share-writes-coalesced", test_share_writes_coalesced);
    return g_test_run();
}
