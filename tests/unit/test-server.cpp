/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the fan-out server (lib/server/server.h) on its own: real sockets on
 * 127.0.0.1, port 0, real asfmux output from tests/data, no GStreamer.
 */
#include "bounded.h"
#include "proto/asf.h"
#include "proto/framing.h"
#include "realtime.h"
#include "server/server.h"
#include "server/thread-priority.h"
#include "test-data.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bitset>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace wmstream;
using namespace wmstream::server;

namespace {

/** asfmux streamable=true output: 451-byte header + 20 packets of 4800 bytes
 * (tests/data/README.md). */
struct Fixture {
    std::vector<uint8_t> bytes;
    proto::asf::HeaderInfo header;
    std::vector<std::vector<uint8_t>> packets;

    Fixture() {
        bytes = test::load_bytes("asfmux-wmv2.asf");
        auto parsed = proto::asf::parse_header(bytes.data(), bytes.size());
        g_assert_true(parsed.ok());
        header = *parsed;
        for (size_t off = header.total_size; off + header.packet_size <= bytes.size();
             off += header.packet_size)
            packets.emplace_back(bytes.begin() + off, bytes.begin() + off + header.packet_size);
        g_assert_cmpuint(packets.size(), >=, 10);
    }
    const uint8_t *header_bytes() const { return bytes.data(); }
    size_t header_size() const { return header.total_size; }
};

const Fixture &fixture() {
    static const Fixture f;
    return f;
}

/** Longest wait for an event the test expects (generous: ASan on a loaded machine). */
constexpr auto kEventWait = std::chrono::seconds(20);

/** Records events from the I/O thread. */
class Recorder : public ServerEvents {
public:
    void client_added(const ClientInfo &c) override {
        std::lock_guard<std::mutex> l(lock_);
        added_.push_back(c);
        cond_.notify_all();
    }
    void client_removed(const ClientInfo &c, RemoveReason r) override {
        std::lock_guard<std::mutex> l(lock_);
        removed_.emplace_back(c, r);
        cond_.notify_all();
    }
    void client_resolved(const ClientInfo &) override {}
    void warning(const Error &error) override {
        std::lock_guard<std::mutex> l(lock_);
        warnings_.push_back(error);
        cond_.notify_all();
    }

    void authorize(const AuthorizationRequest &request) override {
        std::lock_guard<std::mutex> l(lock_);
        asked_.push_back(request);
        cond_.notify_all();
    }
    bool wait_asked(size_t n) {
        std::unique_lock<std::mutex> l(lock_);
        return cond_.wait_for(l, kEventWait, [&] { return asked_.size() >= n; });
    }
    AuthorizationRequest asked(size_t i) {
        std::lock_guard<std::mutex> l(lock_);
        return asked_.at(i);
    }

    bool wait_warning() {
        std::unique_lock<std::mutex> l(lock_);
        return cond_.wait_for(l, kEventWait, [&] { return !warnings_.empty(); });
    }
    Error first_warning() {
        std::lock_guard<std::mutex> l(lock_);
        return warnings_.at(0);
    }
    size_t warnings() {
        std::lock_guard<std::mutex> l(lock_);
        return warnings_.size();
    }

    bool wait_added(size_t n) {
        std::unique_lock<std::mutex> l(lock_);
        return cond_.wait_for(l, kEventWait, [&] { return added_.size() >= n; });
    }
    bool wait_removed(size_t n) {
        std::unique_lock<std::mutex> l(lock_);
        return cond_.wait_for(l, kEventWait, [&] { return removed_.size() >= n; });
    }
    size_t removed() {
        std::lock_guard<std::mutex> l(lock_);
        return removed_.size();
    }
    RemoveReason reason(size_t i) {
        std::lock_guard<std::mutex> l(lock_);
        return removed_.at(i).second;
    }
    ClientInfo added(size_t i) {
        std::lock_guard<std::mutex> l(lock_);
        return added_.at(i);
    }

private:
    std::mutex lock_;
    std::condition_variable cond_;
    std::vector<ClientInfo> added_;                            /* Protected by lock_ */
    std::vector<std::pair<ClientInfo, RemoveReason>> removed_; /* Protected by lock_ */
    std::vector<Error> warnings_;                              /* Protected by lock_ */
    std::vector<AuthorizationRequest> asked_;                  /* Protected by lock_ */
};

ServerConfig loopback(int max_clients = 5) {
    ServerConfig config;
    config.address = "127.0.0.1";
    config.port = 0;
    config.max_clients = max_clients;
    /* Joins at the newest key frame and the muxer's header: the tests count what is sent. */
    config.fast_start_ms = 0;
    config.preroll_ms = -1;
    return config;
}

/** A blocking test client with a 5 s timeout on every call. */
class TestClient {
public:
    TestClient(uint16_t port, const std::string &request) {
        g_autoptr(GError) error = nullptr;
        socket_ =
            g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
        g_assert_no_error(error);
        g_socket_set_timeout(socket_, 5);
        g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) to = g_inet_socket_address_new(lo, port);
        g_assert_true(g_socket_connect(socket_, to, nullptr, &error));
        if (!request.empty())
            send(request);
    }
    ~TestClient() { g_object_unref(socket_); }

    void send(const std::string &text) {
        g_assert_cmpint(g_socket_send(socket_, text.data(), text.size(), nullptr, nullptr), ==,
                        gssize(text.size()));
    }
    /** Read until @p n bytes are buffered or EOF/timeout; @return bytes buffered. */
    size_t read_at_least(size_t n) {
        char chunk[65536];
        while (data.size() < n) {
            gssize got = g_socket_receive(socket_, chunk, sizeof chunk, nullptr, nullptr);
            if (got <= 0) {
                eof = got == 0;
                break;
            }
            data.append(chunk, size_t(got));
        }
        return data.size();
    }
    /** Read until EOF (or timeout). */
    void read_to_end() { read_at_least(SIZE_MAX); }
    /** Read until the response head and @p n bytes of the body are in; fails on EOF or timeout. */
    void read_body_at_least(size_t n) {
        while (!has_head() || body().size() < n) {
            const size_t before = data.size();
            g_assert_cmpuint(read_at_least(before + 1), >, before);
        }
    }
    /** Response header block, and the body after it. */
    std::string head() const { return data.substr(0, data.find("\r\n\r\n") + 4); }
    std::string body() const { return data.substr(data.find("\r\n\r\n") + 4); }
    bool has_head() const { return data.find("\r\n\r\n") != std::string::npos; }
    void close() { g_socket_close(socket_, nullptr); }

    std::string data;
    bool eof = false;

private:
    GSocket *socket_ = nullptr;
};

const std::string kPlay = "GET / HTTP/1.0\r\nUser-Agent: NSPlayer/7.10.0.3059\r\n"
                          "Pragma: no-cache,rate=1.000000,request-context=2\r\n"
                          "Pragma: xPlayStrm=1\r\nPragma: stream-switch-count=2\r\n"
                          "Pragma: stream-switch-entry=ffff:1:0 ffff:2:0 \r\n\r\n";
const std::string kDescribe = "GET / HTTP/1.0\r\nUser-Agent: NSPlayer/7.10.0.3059\r\n"
                              "Pragma: no-cache,rate=1.000000,request-context=1\r\n\r\n";
const std::string kHttpGet = "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/7.88.1\r\n\r\n";

void push_all(Server &server) {
    for (const auto &packet : fixture().packets)
        g_assert_true(server.push_packet(packet.data(), packet.size()).ok());
}

/** Let @p server accept clients; assert it takes the fixture's header and every fixture packet. */
void serve_fixture(Server &server) {
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    push_all(server);
}

/** Indices of the fixture packets that begin a key frame. */
std::vector<size_t> key_frames() {
    std::vector<size_t> keys;
    for (size_t i = 0; i < fixture().packets.size(); ++i) {
        auto info = proto::asf::parse_packet(fixture().packets[i].data(),
                                             fixture().packets[i].size(), fixture().header);
        g_assert_true(info.ok());
        if (info->key_frame_start)
            keys.push_back(i);
    }
    /* The fixture must let a late joiner skip something: more than one key frame. */
    g_assert_cmpuint(keys.size(), >=, 2);
    return keys;
}

/** A joiner starts at the newest key frame, not at the oldest stored packet. */
size_t newest_key_frame() {
    return key_frames().back();
}

void test_open_port_zero_and_reopen() {
    Server server(nullptr);
    auto port = server.open(loopback());
    g_assert_true(port.ok());
    g_assert_cmpuint(*port, >, 0);
    g_assert_cmpuint(server.port(), ==, *port);
    auto again = server.open(loopback());
    g_assert_false(again.ok());
    g_assert_true(again.error().code == Errc::InvalidRequest);
    server.close();
    g_assert_false(server.is_open());
    g_assert_cmpuint(server.port(), ==, 0);
    server.close(); /* idempotent */
}

void test_port_in_use_and_release() {
    Server first(nullptr);
    auto port = first.open(loopback());
    g_assert_true(port.ok());
    Server second(nullptr);
    ServerConfig config = loopback();
    config.port = *port;
    auto busy = second.open(config);
    g_assert_false(busy.ok());
    g_assert_true(busy.error().code == Errc::PortInUse);
    g_assert_true(std::strstr(busy.error().message.c_str(), "127.0.0.1") != nullptr);
    first.close();
    /* Close released the port: it can be bound again at once. */
    auto rebound = second.open(config);
    g_assert_true(rebound.ok());
    g_assert_cmpuint(*rebound, ==, *port);
}

/* Open must refuse @p config as an invalid argument; @return the error's text. */
std::string refused_as_invalid(const ServerConfig &config) {
    Server server(nullptr);
    auto result = server.open(config);
    g_assert_false(result.ok());
    g_assert_true(result.error().code == Errc::InvalidArgument);
    return result.error().message;
}

void test_bad_address() {
    for (const char *address : {"192.0.2.1", "300.1.2.3", "no-such-host.invalid"}) {
        ServerConfig config = loopback();
        config.address = address;
        refused_as_invalid(config);
    }
}

void test_dual_stack_default() {
    Server server(nullptr);
    ServerConfig config;
    config.port = 0;
    auto port = server.open(config);
    g_assert_true(port.ok());
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    TestClient v4(*port, kDescribe);
    v4.read_to_end();
    g_assert_true(g_str_has_prefix(v4.data.c_str(), "HTTP/1.0 200"));
}

void test_http_client_gets_raw_asf_from_key_frame() {
    Recorder events;
    Server server(&events);
    auto port = server.open(loopback());
    serve_fixture(server);

    TestClient client(*port, kHttpGet);
    const size_t key = newest_key_frame();
    const size_t expected_packets = fixture().packets.size() - key;
    const size_t want = fixture().header_size() + expected_packets * fixture().header.packet_size;
    client.read_body_at_least(want);
    g_assert_true(g_str_has_prefix(client.data.c_str(), "HTTP/1.0 200"));
    g_assert_nonnull(std::strstr(client.head().c_str(), "Content-Type: video/x-ms-asf"));
    const std::string body = client.body();
    g_assert_cmpuint(body.size(), ==, want);
    /* The header is served live-fixed and parses; the first packet begins a key frame. */
    auto header =
        proto::asf::parse_header(reinterpret_cast<const uint8_t *>(body.data()), body.size());
    g_assert_true(header.ok());
    g_assert_cmphex(header->flags & 0x3, ==, 0x1);
    auto first = proto::asf::parse_packet(reinterpret_cast<const uint8_t *>(body.data()) +
                                              header->total_size,
                                          header->packet_size, *header);
    g_assert_true(first.ok());
    g_assert_true(first->key_frame_start);
    /* Times are rebased: the first packet served starts near zero. */
    g_assert_cmpuint(first->send_time_ms, <, 10000);

    g_assert_true(events.wait_added(1));
    ClientInfo info = events.added(0);
    g_assert_cmpstr(info.address.c_str(), ==, "127.0.0.1");
    g_assert_cmpstr(info.user_agent.c_str(), ==, "curl/7.88.1");
    g_assert_true(info.protocol == ClientProtocol::Http);
    g_assert_cmpuint(server.num_clients(), ==, 1);
    /* The I/O thread counts a send after it returns, maybe after we read it. */
    std::optional<ClientInfo> snapshot;
    for (int i = 0; i < 200; ++i) {
        snapshot = server.client(info.id);
        g_assert_true(snapshot.has_value());
        if (snapshot->bytes_sent >= want)
            break;
        g_usleep(10000);
    }
    g_assert_cmpuint(snapshot->bytes_sent, >=, want);
    g_assert_false(server.client(info.id + 1000).has_value());

    client.close();
    g_assert_true(events.wait_removed(1));
    g_assert_true(events.reason(0) == RemoveReason::ClosedByPeer);
}

/** Parses a WMSP Play body with the framing reader. */
std::vector<proto::framing::Packet> read_frames(const std::string &body) {
    proto::framing::Reader reader(proto::framing::Reader::Mode::Pull);
    reader.feed(reinterpret_cast<const uint8_t *>(body.data()), body.size());
    std::vector<proto::framing::Packet> packets;
    for (;;) {
        auto next = reader.next();
        g_assert_true(next.ok());
        if (!next->has_value())
            break;
        packets.push_back(std::move(**next));
    }
    return packets;
}

void test_wmsp_play_framing_and_eos() {
    Server server(nullptr);
    auto port = server.open(loopback());
    serve_fixture(server);
    TestClient client(*port, kPlay);
    const size_t packets = fixture().packets.size() - newest_key_frame();
    client.read_at_least(fixture().header_size() + 12 +
                         packets * (fixture().header.packet_size + 12));
    server.end_of_stream();
    client.read_to_end();
    g_assert_true(client.eof);
    g_assert_nonnull(std::strstr(client.head().c_str(), "application/x-mms-framed"));
    g_assert_nonnull(std::strstr(client.head().c_str(), "Server: Rex/"));
    g_assert_null(std::strstr(client.head().c_str(), "Content-Length"));

    auto frames = read_frames(client.body());
    g_assert_cmpuint(frames.size(), ==, packets + 2);
    g_assert_true(frames.front().id == proto::framing::PacketId::Header);
    g_assert_cmphex(frames.front().af_flags, ==, proto::framing::kHeaderWhole);
    for (size_t i = 1; i + 1 < frames.size(); ++i) {
        g_assert_true(frames[i].id == proto::framing::PacketId::Data);
        g_assert_cmpuint(frames[i].location_id, ==, i - 1);
        g_assert_cmpuint(frames[i].af_flags, ==, (i - 1) & 0xff);
        g_assert_cmpuint(frames[i].payload.size(), ==, fixture().header.packet_size);
    }
    g_assert_true(frames.back().id == proto::framing::PacketId::End);
    g_assert_cmpuint(*frames.back().reason, ==, 0);
}

/*
 * Issue 17: a late joiner's streams each begin with a media object's first
 * payload. In the audio-only fixture (tests/data/README.md) every packet is
 * a join point and every later one begins with the tail of an audio object.
 * With fast start (2000 ms) the client joins at packet 4 (send time 2275 ms,
 * the newest 4551) and gets packets 4..8 at once, packet 4 without its
 * leading fragment, numbered without a gap.
 */
void test_join_begins_every_stream_whole() {
    const std::vector<uint8_t> file = test::load_bytes("asfmux-wmav2.asf");
    auto header = proto::asf::parse_header(file.data(), file.size());
    g_assert_true(header.ok());
    std::vector<std::vector<uint8_t>> packets;
    for (size_t off = header->total_size; off + header->packet_size <= file.size();
         off += header->packet_size)
        packets.emplace_back(file.begin() + off, file.begin() + off + header->packet_size);
    g_assert_cmpuint(packets.size(), ==, 9);
    std::bitset<128> started;
    auto leading =
        proto::asf::drop_unstarted_payloads(packets[4].data(), packets[4].size(), *header, started);
    g_assert_true(leading->kept == proto::asf::PacketFilter::Kept::Some);

    Server server(nullptr);
    ServerConfig config = loopback();
    config.fast_start_ms = 2000;
    auto port = server.open(config);
    server.set_accepting(true);
    g_assert_true(server.set_header(file.data(), header->total_size).ok());
    for (const auto &packet : packets)
        g_assert_true(server.push_packet(packet.data(), packet.size()).ok());
    TestClient client(*port, kPlay);
    server.end_of_stream();
    client.read_to_end();
    g_assert_true(client.eof);
    auto frames = read_frames(client.body());
    g_assert_cmpuint(frames.size(), ==, 5 + 2); /* $H, packets 4..8, $E */
    g_assert_true(frames[1].payload == leading->packet);
    started.reset();
    for (size_t i = 1; i + 1 < frames.size(); ++i) {
        g_assert_cmpuint(frames[i].location_id, ==, i - 1);
        const std::vector<uint8_t> &packet = frames[i].payload;
        if (i > 1) {
            /* Shared, as pushed (times rebased from 0), with asfmux's short Packet Length in
             * the last completed. */
            std::vector<uint8_t> pushed = packets[3 + i];
            g_assert_true(
                proto::asf::complete_packet_length(pushed.data(), pushed.size(), *header).ok());
            g_assert_true(packet == pushed);
        }
        auto filter =
            proto::asf::drop_unstarted_payloads(packet.data(), packet.size(), *header, started);
        g_assert_true(filter.ok());
        g_assert_true(filter->kept == proto::asf::PacketFilter::Kept::All);
    }
}

/* A Play from VLC's User-Agent with @p entries as its stream-switch-entry. */
std::string play_selecting(const char *entries) {
    return "GET / HTTP/1.0\r\nUser-Agent: NSPlayer/7.10.0.3059\r\nPragma: xPlayStrm=1\r\n"
           "Pragma: stream-switch-entry=" +
           std::string(entries) + "\r\n\r\n";
}

/*
 * MS-WMSP §3.2.5.6 (issue 13): each client gets the payloads of the streams
 * its Play selected, in packets of the header's size numbered without gaps;
 * clients with the same selection get the same bytes; one selecting every
 * stream gets the packets as pushed. Audio + video fixture (stream 1 video,
 * 2 audio), the clients connected before the first packet.
 */
void test_stream_selection() {
    const std::vector<uint8_t> file = test::load_bytes("asfmux-wmv2-wmav2.asf");
    auto header = proto::asf::parse_header(file.data(), file.size());
    g_assert_true(header.ok());
    Recorder events;
    Server server(&events);
    auto port = server.open(loopback());
    server.set_accepting(true);
    g_assert_true(server.set_header(file.data(), header->total_size).ok());
    TestClient audio(*port, play_selecting("ffff:1:2 ffff:2:0"));
    TestClient audio_too(*port, play_selecting("ffff:2:0"));
    TestClient video(*port, play_selecting("ffff:1:0"));
    TestClient all(*port, kPlay);
    g_assert_true(events.wait_added(4));
    /* Answered (their join points taken) before the first packet. */
    for (TestClient *client : {&audio, &audio_too, &video, &all})
        client->read_body_at_least(0);
    const std::bitset<128> audio_only = std::bitset<128>().set(2);
    g_assert_true(events.added(0).selected_streams == audio_only);
    g_assert_cmpuint(events.added(0).thinning, ==, 0);
    g_assert_true(events.added(3).selected_streams == std::bitset<128>().set(1).set(2));
    for (size_t off = header->total_size; off + header->packet_size <= file.size();
         off += header->packet_size)
        g_assert_true(server.push_packet(file.data() + off, header->packet_size).ok());
    server.end_of_stream();

    std::vector<std::vector<proto::framing::Packet>> received;
    for (TestClient *client : {&audio, &audio_too, &video, &all}) {
        client->read_to_end();
        g_assert_true(client->eof);
        received.push_back(read_frames(client->body()));
    }
    const std::bitset<128> kept[] = {audio_only, audio_only, std::bitset<128>().set(1),
                                     std::bitset<128>().set(1).set(2)};
    for (size_t c = 0; c < received.size(); ++c) {
        const auto &frames = received[c];
        g_assert_true(frames.back().id == proto::framing::PacketId::End);
        for (size_t i = 1; i + 1 < frames.size(); ++i) {
            g_assert_cmpuint(frames[i].location_id, ==, i - 1);
            /* Filtered: without padding (MS-WMSP §2.2.3.3), re-padded as players do. */
            std::vector<uint8_t> whole = frames[i].payload;
            g_assert_cmpuint(whole.size(), <=, header->packet_size);
            if (c == 3)
                g_assert_cmpuint(whole.size(), ==, header->packet_size);
            whole.resize(header->packet_size, 0);
            auto info = proto::asf::parse_packet(whole.data(), whole.size(), *header);
            g_assert_true(info.ok());
            g_assert_true((info->streams & ~kept[c]).none());
            g_assert_true(info->streams.any());
            if (c == 2 && i == 1) /* video begins at a key frame */
                g_assert_true(info->key_frame_streams[1]);
        }
    }
    g_assert_cmpuint(received[3].size(), ==, 12 + 2); /* every packet, $H and $E */
    g_assert_cmpuint(received[0].size(), <, received[3].size());
    g_assert_cmpuint(received[0].size(), ==, received[1].size());
    for (size_t i = 0; i < received[0].size(); ++i)
        g_assert_true(received[0][i].payload == received[1][i].payload);
}

/* A Play whose stream-switch-entry names none of the header's streams is
 * refused with 400 (reason no-streams), never counted as a client. */
void test_stream_selection_refused() {
    Recorder events;
    Server server(&events);
    auto port = server.open(loopback());
    serve_fixture(server);
    TestClient client(*port, play_selecting("ffff:5:0"));
    client.read_to_end();
    g_assert_true(g_str_has_prefix(client.data.c_str(), "HTTP/1.0 400"));
    g_assert_true(events.wait_removed(1));
    g_assert_true(events.reason(0) == RemoveReason::NoStreams);
    g_assert_cmpuint(server.stats().clients_served, ==, 0);
}

void test_describe_waits_for_header() {
    Server server(nullptr);
    auto port = server.open(loopback());
    server.set_accepting(true);
    TestClient client(*port, kDescribe);
    g_usleep(200000);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    client.read_to_end();
    g_assert_true(client.eof);
    g_assert_nonnull(std::strstr(client.head().c_str(), "application/vnd.ms.wms-hdr.asfv1"));
    auto frames = read_frames(client.body());
    g_assert_cmpuint(frames.size(), ==, 1);
    g_assert_true(frames[0].id == proto::framing::PacketId::Header);
    g_assert_cmpuint(frames[0].payload.size(), ==, fixture().header_size());
    g_assert_cmpuint(server.num_clients(), ==, 0);
}

void test_max_clients_503() {
    Recorder events;
    Server server(&events);
    auto port = server.open(loopback(1));
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    TestClient first(*port, kPlay);
    g_assert_true(events.wait_added(1));
    TestClient second(*port, kPlay);
    second.read_to_end();
    g_assert_true(g_str_has_prefix(second.data.c_str(), "HTTP/1.0 503"));
    g_assert_nonnull(std::strstr(second.data.c_str(), "Server: Rex/"));
    g_assert_true(events.wait_removed(1));
    g_assert_true(events.reason(0) == RemoveReason::OverLimit);
    g_assert_cmpuint(server.num_clients(), ==, 1);
    g_assert_cmpuint(server.stats().clients_refused, ==, 1);
}

void test_disconnect_keeps_port() {
    Recorder events;
    Server server(&events);
    auto port = server.open(loopback());
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    TestClient a(*port, kPlay);
    g_assert_true(events.wait_added(1));
    server.disconnect_all();
    g_assert_true(events.wait_removed(1));
    g_assert_true(events.reason(0) == RemoveReason::Disconnected);
    a.read_to_end();
    g_assert_true(a.eof);
    TestClient b(*port, kPlay);
    g_assert_true(events.wait_added(2));
    g_assert_cmpuint(server.num_clients(), ==, 1);
}

void test_header_change_sends_change_then_header() {
    Server server(nullptr);
    auto port = server.open(loopback());
    serve_fixture(server);
    TestClient client(*port, kPlay);
    client.read_at_least(600);
    /* A different header: same layout, another preroll. */
    std::vector<uint8_t> changed(fixture().header_bytes(),
                                 fixture().header_bytes() + fixture().header_size());
    auto live = proto::asf::make_live_header(changed.data(), changed.size());
    g_assert_true(live.ok());
    changed = *live;
    /* Preroll lives at File Properties offset 80; find the object by its first GUID bytes. */
    const uint8_t fp_guid[4] = {0xa1, 0xdc, 0xab, 0x8c};
    auto at = std::search(changed.begin(), changed.end(), fp_guid, fp_guid + 4);
    g_assert_true(at != changed.end());
    at[80] ^= 0x01;
    g_assert_true(server.set_header(changed.data(), changed.size()).ok());
    push_all(server);
    server.end_of_stream();
    client.read_to_end();
    auto frames = read_frames(client.body());
    size_t change = 0;
    while (change < frames.size() && frames[change].id != proto::framing::PacketId::Change)
        ++change;
    g_assert_cmpuint(change + 1, <, frames.size());
    g_assert_true(frames[change + 1].id == proto::framing::PacketId::Header);
    g_assert_true(frames[change + 1].payload == changed);
    g_assert_true(frames.back().id == proto::framing::PacketId::End);
}

void test_corrupt_packet_rejected() {
    Server server(nullptr);
    auto port = server.open(loopback());
    g_assert_true(port.ok());
    std::vector<uint8_t> garbage(fixture().header.packet_size, 0xff);
    /* No header yet. */
    g_assert_false(server.push_packet(garbage.data(), garbage.size()).ok());
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    auto status = server.push_packet(garbage.data(), 100);
    g_assert_false(status.ok());
    g_assert_true(status.error().code == Errc::InvalidData);
    const uint8_t not_asf[] = "this is not an ASF header at all";
    g_assert_false(server.set_header(not_asf, sizeof not_asf).ok());
}

/* Every one of @p count clients gets the same bytes, and one that leaves midway harms no other. */
void serve_many(const ServerConfig &config, int count) {
    Recorder events;
    Server server(&events);
    auto port = server.open(config);
    g_assert_true(port.ok());
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < count; ++i)
        clients.push_back(std::make_unique<TestClient>(*port, kHttpGet));
    TestClient leaver(*port, kHttpGet);
    /* Wait until all are admitted, then stream. */
    for (int i = 0; i < 500 && server.num_clients() < size_t(count + 1); ++i)
        g_usleep(10000);
    g_assert_cmpuint(server.num_clients(), ==, count + 1);
    push_all(server);
    leaver.close();
    push_all(server);
    server.end_of_stream();
    for (auto &c : clients)
        c->read_to_end();
    for (auto &c : clients) {
        g_assert_true(c->eof);
        g_assert_true(c->body() == clients[0]->body());
    }
    /* At least the second push whole (the first from its first key frame on). */
    g_assert_cmpuint(clients[0]->body().size(), >,
                     fixture().packets.size() * fixture().header.packet_size);
    g_assert_true(events.wait_removed(size_t(count + 1)));
}

/* One I/O thread making every send (the automatic io_threads is 2 on a multi-core machine). */
void test_many_clients_same_bytes() {
    ServerConfig config = loopback(-1);
    config.io_threads = 1;
    serve_many(config, 50);
}

/* io_threads: the sends of a round run on three threads; packets go out one by one. */
void test_parallel_sends_same_bytes() {
    ServerConfig config = loopback(-1);
    config.io_threads = 3;
    config.flush_interval_us = 0;
    serve_many(config, 300);
}

void test_io_threads_range() {
    ServerConfig config = loopback();
    config.io_threads = kMaxIoThreads + 1;
    g_assert_nonnull(std::strstr(refused_as_invalid(config).c_str(), "io-threads"));
    /* 0 = automatic: two with two cores or more; a number is taken as it is. */
    for (unsigned threads : {0u, 1u, 3u}) {
        Server server(nullptr);
        config.io_threads = threads;
        g_assert_true(server.open(config).ok());
        const unsigned automatic = g_get_num_processors() >= 2 ? 2 : 1;
        g_assert_cmpuint(server.config().io_threads, ==, threads ? threads : automatic);
    }
    config.io_threads = 0;
    for (int priority : {-1, kMaxRealtimePriority + 1}) {
        config.io_realtime_priority = priority;
        g_assert_nonnull(std::strstr(refused_as_invalid(config).c_str(), "io-realtime-priority"));
    }
}

/** Threads of this process under SCHED_FIFO (the policy field of /proc/self/task/N/stat). */
int fifo_threads() {
    int count = 0;
    g_autoptr(GDir) tasks = g_dir_open("/proc/self/task", 0, nullptr);
    g_assert_nonnull(tasks);
    while (const char *task = g_dir_read_name(tasks)) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/stat", task);
        g_autofree char *stat = nullptr;
        if (!g_file_get_contents(path, &stat, nullptr, nullptr))
            continue; /* the thread ended meanwhile */
        /* Fields after the parenthesised name: state is field 3, policy field 41. */
        g_auto(GStrv) fields = g_strsplit(std::strrchr(stat, ')') + 2, " ", -1);
        g_assert_cmpuint(g_strv_length(fields), >, 41 - 3);
        count += std::atoi(fields[41 - 3]) == SCHED_FIFO;
    }
    return count;
}

/** Wait (at most 5 s) until no thread of this process runs SCHED_FIFO: a thread that
 *  pthread_join() has returned for may still be listed in /proc while the kernel ends it. */
bool no_fifo_threads_left() {
    const int64_t deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (fifo_threads() != 0) {
        if (g_get_monotonic_time() > deadline)
            return false;
        g_usleep(1000);
    }
    return true;
}

/** Open a server with real-time I/O threads and check that it serves: a client gets the
 *  header and packets. */
void serve_with_priority(Recorder &events, Server &server) {
    ServerConfig config = loopback();
    config.io_threads = 2;
    config.io_realtime_priority = 5;
    auto port = server.open(config);
    g_assert_true(port.ok());
    serve_fixture(server);
    TestClient client(*port, kHttpGet);
    client.read_body_at_least(fixture().header_size());
    g_assert_true(events.wait_added(1));
}

/* Granted (CAP_SYS_NICE or an RLIMIT_RTPRIO ≥ 5: tried on this thread, then undone): the I/O
 * thread and its helper run SCHED_FIFO until close; a name lookup they start does not. */
void test_io_realtime_priority() {
    if (!wmtest::realtime_priority_allowed(5)) {
        g_test_skip("needs CAP_SYS_NICE or an RLIMIT_RTPRIO of 5");
        return;
    }
    g_assert_cmpint(fifo_threads(), ==, 0);
    Recorder events;
    Server server(&events);
    serve_with_priority(events, server);
    g_assert_cmpint(fifo_threads(), ==, 2);
    g_assert_cmpuint(events.warnings(), ==, 0); /* a refusal is posted by open() itself */
    server.close();
    g_assert_true(no_fifo_threads_left());
}

/** Take CAP_SYS_NICE out of the calling thread's effective set (capabilities are per thread). */
void drop_sys_nice() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    g_assert_cmpint(syscall(SYS_capget, &header, data), ==, 0);
    data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
    g_assert_cmpint(syscall(SYS_capset, &header, data), ==, 0);
}

/* Refused (no CAP_SYS_NICE, RLIMIT_RTPRIO 0): the server streams with the
 * normal scheduler, and one warning says why. */
void test_io_realtime_priority_refused() {
    struct rlimit saved;
    g_assert_cmpint(getrlimit(RLIMIT_RTPRIO, &saved), ==, 0);
    struct rlimit none = saved;
    none.rlim_cur = 0;
    g_assert_cmpint(setrlimit(RLIMIT_RTPRIO, &none), ==, 0);
    std::thread opener([] {
        drop_sys_nice();
        Recorder events;
        Server server(&events);
        serve_with_priority(events, server);
        g_assert_cmpint(fifo_threads(), ==, 0);
        g_assert_cmpuint(events.warnings(), ==, 1); /* posted by open(), once for all threads */
        const Error warning = events.first_warning();
        g_assert_true(warning.code == Errc::AccessDenied);
        g_assert_nonnull(std::strstr(warning.message.c_str(), "real-time priority 5"));
        g_assert_nonnull(std::strstr(warning.message.c_str(), "RLIMIT_RTPRIO"));
    });
    opener.join();
    g_assert_cmpint(setrlimit(RLIMIT_RTPRIO, &saved), ==, 0);
}

void test_slow_client_removed() {
    Recorder events;
    Server server(&events);
    ServerConfig config = loopback();
    config.timeout_us = 300000;
    auto port = server.open(config);
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    TestClient stalled(*port, kHttpGet); /* reads the header only */
    g_assert_true(events.wait_added(1));
    stalled.read_body_at_least(fixture().header_size()); /* started: joins the first pushed */
    /* Far more than the socket buffers hold; it cannot keep up. */
    for (int round = 0; round < 200; ++round)
        push_all(server);
    g_assert_true(events.wait_removed(1));
    g_assert_true(events.reason(0) == RemoveReason::Slow);
}

void test_address_filter_at_accept() {
    Recorder events;
    Server server(&events);
    ServerConfig config = loopback();
    config.deny = {"127.0.0.0/8"};
    auto port = server.open(config);
    g_assert_true(port.ok());
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    TestClient denied(*port, "");
    denied.read_to_end();
    g_assert_true(denied.eof);
    g_assert_cmpuint(denied.data.size(), ==, 0); /* closed before any byte */
    g_assert_true(events.wait_removed(1));
    g_assert_true(events.reason(0) == RemoveReason::Forbidden);
    g_assert_cmpuint(server.stats().clients_forbidden, ==, 1);
    /* The totals count from Open: a reopened server starts at 0. */
    server.close();
    config.deny = {};
    g_assert_true(server.open(config).ok());
    g_assert_cmpuint(server.stats().clients_forbidden, ==, 0);
    server.close();

    /* A bad range is refused at open. */
    Server other(nullptr);
    config.deny = {"127.0.0.0/99"};
    auto bad = other.open(config);
    g_assert_false(bad.ok());
    g_assert_true(bad.error().code == Errc::InvalidArgument);
}

void test_credentials() {
    Recorder events;
    Server server(&events);
    ServerConfig config = loopback();
    config.user = "viewer";
    config.password = "pw";
    auto port = server.open(config);
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());

    /* No credentials: a challenge, not a refusal. */
    TestClient anonymous(*port, kHttpGet);
    anonymous.read_to_end();
    g_assert_true(g_str_has_prefix(anonymous.data.c_str(), "HTTP/1.0 401"));
    g_assert_nonnull(std::strstr(anonymous.data.c_str(), "WWW-Authenticate: Digest realm="));
    g_assert_nonnull(std::strstr(anonymous.data.c_str(), "WWW-Authenticate: Basic realm="));
    g_assert_null(std::strstr(anonymous.data.c_str(), "ASF"));

    /* Wrong password: refused and reported. */
    g_autofree char *wrong = g_base64_encode(reinterpret_cast<const guchar *>("viewer:px"), 9);
    TestClient bad(*port,
                   "GET / HTTP/1.0\r\nAuthorization: Basic " + std::string(wrong) + "\r\n\r\n");
    bad.read_to_end();
    g_assert_true(g_str_has_prefix(bad.data.c_str(), "HTTP/1.0 401"));
    g_assert_true(events.wait_removed(1));
    g_assert_true(events.reason(0) == RemoveReason::Unauthorized);
    g_assert_cmpuint(server.stats().clients_unauthorized, ==, 1);

    /* Basic with the right password: served. */
    g_autofree char *right = g_base64_encode(reinterpret_cast<const guchar *>("viewer:pw"), 9);
    TestClient good(*port,
                    "GET / HTTP/1.0\r\nAuthorization: Basic " + std::string(right) + "\r\n\r\n");
    good.read_body_at_least(fixture().header_size());
    g_assert_true(g_str_has_prefix(good.data.c_str(), "HTTP/1.0 200"));
    g_assert_true(events.wait_added(1));

    /* Digest, answered by a real client (curl). */
    g_autofree char *curl = g_find_program_in_path("curl");
    if (!curl) {
        g_test_message("curl not installed: Digest checked by test-access only");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("wmstream-XXXXXX", nullptr);
    g_autofree char *out = g_build_filename(dir, "body", nullptr);
    const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/live";
    /* The stream does not end: head takes the header's bytes and ends curl (SIGPIPE); the 20 s
     * bound is for a curl that gets nothing. */
    const std::string size = std::to_string(fixture().header_size());
    const char *argv[] = {
        "/bin/sh",
        "-c",
        "\"$0\" -s --digest -u viewer:pw --max-time 20 \"$1\" | head -c \"$2\" >\"$3\"",
        curl,
        url.c_str(),
        size.c_str(),
        out,
        nullptr};
    g_spawn_sync(nullptr, const_cast<char **>(argv), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr,
                 nullptr, nullptr, nullptr, nullptr);
    g_autofree char *body = nullptr;
    gsize len = 0;
    g_assert_true(g_file_get_contents(out, &body, &len, nullptr));
    g_assert_cmpuint(len, >=, fixture().header_size());
    auto header = proto::asf::parse_header(reinterpret_cast<const uint8_t *>(body), len);
    g_assert_true(header.ok());
    g_unlink(out);
    g_rmdir(dir);
}

void test_application_decides() {
    Recorder events;
    Server server(&events);
    ServerConfig config = loopback();
    config.ask_application = true;
    auto port = server.open(config);
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());

    TestClient refused(*port, "GET /secret HTTP/1.0\r\nUser-Agent: curl/7.88.1\r\n\r\n");
    g_assert_true(events.wait_asked(1));
    const AuthorizationRequest request = events.asked(0);
    g_assert_cmpstr(request.path.c_str(), ==, "/secret");
    g_assert_cmpstr(request.user_agent.c_str(), ==, "curl/7.88.1");
    g_assert_cmpstr(request.address.c_str(), ==, "127.0.0.1");
    server.authorize(request.client_id, false);
    refused.read_to_end();
    g_assert_true(g_str_has_prefix(refused.data.c_str(), "HTTP/1.0 403"));
    g_assert_true(events.wait_removed(1));
    g_assert_true(events.reason(0) == RemoveReason::Forbidden);

    TestClient allowed(*port, kPlay);
    g_assert_true(events.wait_asked(2));
    server.authorize(events.asked(1).client_id, true);
    g_assert_true(events.wait_added(1));
    allowed.read_at_least(100);
    g_assert_true(g_str_has_prefix(allowed.data.c_str(), "HTTP/1.0 200"));
}

/* A connection that sends half a request (slowloris), or nothing, is closed
 * after request_timeout_us without an answer. */
void test_request_timeout() {
    Server server(nullptr);
    ServerConfig config = loopback();
    config.request_timeout_us = 300000;
    auto port = server.open(config);
    server.set_accepting(true);
    TestClient silent(*port, "");
    TestClient slow(*port, "GET / HTTP/1.0\r\nUser-Agent: NSPlayer/7.10.0.3059\r\n");
    const int64_t start = g_get_monotonic_time();
    silent.read_to_end();
    slow.read_to_end();
    g_assert_true(silent.eof);
    g_assert_true(slow.eof);
    g_assert_cmpuint(silent.data.size() + slow.data.size(), ==, 0);
    /* Closed by the timeout, well before the clients' own 5 s one. */
    g_assert_cmpint(g_get_monotonic_time() - start, <, 4 * G_USEC_PER_SEC);
}

/* A client that stops reading while far more than its socket buffers is
 * pushed, then reads again. */
struct StalledRun {
    RemoveReason reason = RemoveReason::ClosedByPeer;
    std::string body;
};

StalledRun run_stalled_client(ServerConfig config) {
    Recorder events;
    Server server(&events);
    config.timeout_us = 0;
    auto port = server.open(config);
    serve_fixture(server);
    TestClient stalled(*port, kHttpGet);
    g_assert_true(events.wait_added(1));
    /* Its join first (the header and the first packet read): client_added comes just before a
     * client starts, and one that started after the pushes would join at the newest key frame,
     * within the limits, and never fall behind. */
    stalled.read_body_at_least(fixture().header_size() + fixture().header.packet_size);
    for (int round = 0; round < 200; ++round)
        push_all(server);
    StalledRun run;
    server.end_of_stream();
    stalled.read_to_end();
    g_assert_true(stalled.eof);
    g_assert_true(events.wait_removed(1));
    run.reason = events.reason(0);
    run.body = stalled.body();
    return run;
}

void test_hard_lag_limit_removes() {
    ServerConfig config = loopback();
    config.lag_unit = LagUnit::Packets;
    config.lag_max = 100; /* far less than the 4000 packets pushed while it stalls */
    config.lag_soft_max = -1;
    const StalledRun run = run_stalled_client(config);
    g_assert_cmpstr(to_string(run.reason), ==, to_string(RemoveReason::Slow));
}

void test_soft_lag_limit_skips_to_key_frame() {
    ServerConfig config = loopback();
    config.lag_unit = LagUnit::Bytes;
    config.lag_soft_max = 50 * 4800;
    config.lag_max = -1;
    config.recover_policy = RecoverPolicy::KeyFrame;
    const StalledRun run = run_stalled_client(config);
    /* It was moved forward instead of removed, and the stream ended normally. */
    g_assert_true(run.reason == RemoveReason::EndOfStream);
    const size_t pushed = 201 * fixture().packets.size() * fixture().header.packet_size;
    g_assert_cmpuint(run.body.size(), <, pushed);
}

/* Out of file descriptors: accepting pauses with one warning, the clients
 * already served keep streaming, and accepting resumes once descriptors are
 * free. Runs in a subprocess because it lowers RLIMIT_NOFILE. */
void fd_exhaustion_in_subprocess() {
    Recorder events;
    Server server(&events);
    auto port = server.open(loopback(-1));
    server.set_accepting(true);
    g_assert_true(server.set_header(fixture().header_bytes(), fixture().header_size()).ok());
    TestClient served(*port, kHttpGet);
    g_assert_true(events.wait_added(1));
    served.read_at_least(served.data.size() + 100);

    /* Leave room for a few descriptors only, then connect until it fails. Accepting waits
     * until the connections are made: accepted as they come, they would share the room with
     * the clients, and none might be left waiting once the room is gone. */
    server.set_accepting(false);
    int open_fds = 0;
    for (int fd = 0; fd < 4096; ++fd)
        open_fds += fcntl(fd, F_GETFD) != -1;
    struct rlimit limit;
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &limit), ==, 0);
    limit.rlim_cur = rlim_t(open_fds + 6);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &limit), ==, 0);
    std::vector<GSocket *> waiting;
    for (int i = 0; i < 6; ++i) {
        GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                  nullptr);
        if (!s)
            break;
        g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) to = g_inet_socket_address_new(lo, *port);
        g_assert_true(g_socket_connect(s, to, nullptr, nullptr));
        g_assert_cmpint(g_socket_send(s, kHttpGet.data(), kHttpGet.size(), nullptr, nullptr), ==,
                        gssize(kHttpGet.size()));
        waiting.push_back(s);
    }
    server.set_accepting(true);
    g_assert_true(events.wait_warning());
    const Error warning = events.first_warning();
    g_assert_true(warning.code == Errc::NetworkFailure);
    g_assert_nonnull(std::strstr(warning.message.c_str(), "accepting pauses"));

    /* The served client still gets new packets. */
    const size_t before = served.data.size();
    push_all(server);
    served.read_at_least(before + fixture().header.packet_size);
    g_assert_cmpuint(served.data.size(), >=, before + fixture().header.packet_size);

    /* Free descriptors: the waiting connections are accepted and admitted. */
    limit.rlim_cur = limit.rlim_max;
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &limit), ==, 0);
    g_assert_true(events.wait_added(1 + waiting.size()));
    for (GSocket *s : waiting)
        g_object_unref(s);
}

void test_fd_exhaustion() {
    if (g_test_subprocess()) {
        fd_exhaustion_in_subprocess();
        return;
    }
    g_test_trap_subprocess(nullptr, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

/* RFC 9112 §6.3: a request whose Content-Length is invalid is answered 400 and closed, over
 * a real socket (it was answered 200). */
void test_invalid_content_length_400() {
    Server server(nullptr);
    auto port = server.open(loopback());
    serve_fixture(server);
    for (const char *length : {"99999999999999999999", "-1", "5\r\nContent-Length: 6"}) {
        TestClient client(*port, std::string("POST / HTTP/1.0\r\nUser-Agent: NSPlayer/9.0\r\n"
                                             "Content-Length: ") +
                                     length + "\r\n\r\n");
        client.read_to_end();
        g_assert_true(client.eof);
        g_assert_true(g_str_has_prefix(client.data.c_str(), "HTTP/1.0 400 ") ||
                      g_str_has_prefix(client.data.c_str(), "HTTP/1.1 400 "));
    }
    /* A valid one is still answered. */
    TestClient valid(*port, "POST / HTTP/1.0\r\nUser-Agent: NSPlayer/9.0\r\n"
                            "Content-Length: 4\r\n\r\nbody");
    valid.read_to_end();
    g_assert_true(g_str_has_prefix(valid.data.c_str(), "HTTP/1.0 200 OK"));
}

/* disconnect_all() from another thread while the server closes and opens again, with clients
 * to disconnect: every call returns, none waits on a loop that quit or touches one that is
 * gone (bounded: a hang fails the test). */
void test_disconnect_races_close() {
    Recorder events;
    Server server(&events);
    std::atomic<bool> stop{false};
    std::atomic<unsigned> calls{0};
    std::thread hammer([&] {
        while (!stop) {
            server.disconnect_all();
            ++calls;
        }
    });
    const bool cycled = wmtest::returns_within(
        [&] {
            for (int cycle = 0; cycle < 30; ++cycle) {
                auto port = server.open(loopback());
                g_assert_true(port.ok());
                serve_fixture(server);
                TestClient client(*port, kPlay);
                g_usleep(g_random_int_range(0, 3000));
                server.close();
            }
            stop = true;
        },
        kEventWait);
    g_assert_true(cycled);
    g_assert_true(wmtest::returns_within([&] { hammer.join(); }, kEventWait));
    g_assert_cmpuint(calls.load(), >, 0);
}

/* A flood of refused connections is reported one by one only within a budget (10 at once,
 * 10 per second), then once as a warning; the totals count every one. */
void test_refusals_reported_within_budget() {
    Recorder events;
    Server server(&events);
    ServerConfig config = loopback();
    config.deny = {"127.0.0.0/8"};
    auto port = server.open(config);
    serve_fixture(server);
    const int64_t start = g_get_monotonic_time();
    constexpr unsigned kConnects = 60;
    for (unsigned i = 0; i < kConnects; ++i) {
        TestClient denied(*port, "");
        denied.read_to_end();
    }
    const int64_t end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (server.stats().clients_forbidden < kConnects && g_get_monotonic_time() < end)
        g_usleep(10000);
    const int64_t elapsed_s = (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    g_assert_cmpuint(server.stats().clients_forbidden, ==, kConnects);
    g_assert_true(events.wait_removed(10));
    g_assert_cmpuint(events.removed(), <=, size_t(10 + 10 * (elapsed_s + 1)));
    g_assert_cmpuint(events.removed(), <, kConnects);
    g_assert_true(events.wait_warning());
    g_assert_nonnull(std::strstr(events.first_warning().message.c_str(), "refused"));
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/server/open-port-zero-and-reopen", test_open_port_zero_and_reopen);
    g_test_add_func("/server/port-in-use-and-release", test_port_in_use_and_release);
    g_test_add_func("/server/bad-address", test_bad_address);
    g_test_add_func("/server/dual-stack-default", test_dual_stack_default);
    g_test_add_func("/server/http-client-gets-raw-asf-from-key-frame",
                    test_http_client_gets_raw_asf_from_key_frame);
    g_test_add_func("/server/wmsp-play-framing-and-eos", test_wmsp_play_framing_and_eos);
    g_test_add_func("/server/join-begins-every-stream-whole", test_join_begins_every_stream_whole);
    g_test_add_func("/server/stream-selection", test_stream_selection);
    g_test_add_func("/server/stream-selection-refused", test_stream_selection_refused);
    g_test_add_func("/server/describe-waits-for-header", test_describe_waits_for_header);
    g_test_add_func("/server/max-clients-503", test_max_clients_503);
    g_test_add_func("/server/disconnect-keeps-port", test_disconnect_keeps_port);
    g_test_add_func("/server/header-change", test_header_change_sends_change_then_header);
    g_test_add_func("/server/corrupt-packet-rejected", test_corrupt_packet_rejected);
    g_test_add_func("/server/many-clients-same-bytes", test_many_clients_same_bytes);
    g_test_add_func("/server/parallel-sends-same-bytes", test_parallel_sends_same_bytes);
    g_test_add_func("/server/io-threads-range", test_io_threads_range);
    g_test_add_func("/server/io-realtime-priority", test_io_realtime_priority);
    g_test_add_func("/server/io-realtime-priority-refused", test_io_realtime_priority_refused);
    g_test_add_func("/server/slow-client-removed", test_slow_client_removed);
    g_test_add_func("/server/fd-exhaustion", test_fd_exhaustion);
    g_test_add_func("/server/address-filter", test_address_filter_at_accept);
    g_test_add_func("/server/request-timeout", test_request_timeout);
    g_test_add_func("/server/credentials", test_credentials);
    g_test_add_func("/server/application-decides", test_application_decides);
    g_test_add_func("/server/hard-lag-limit-removes", test_hard_lag_limit_removes);
    g_test_add_func("/server/soft-lag-limit-skips", test_soft_lag_limit_skips_to_key_frame);
    g_test_add_func("/server/invalid-content-length-400", test_invalid_content_length_400);
    g_test_add_func("/server/disconnect-races-close", test_disconnect_races_close);
    g_test_add_func("/server/refusals-reported-within-budget",
                    test_refusals_reported_within_budget);
    return g_test_run();
}
