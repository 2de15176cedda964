/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: server::Connection, the state machine of one client of
 * the fan-out server (request, authorisation, admission, waiting for the
 * header, streaming, closing), through a transport without a socket
 * (tests/common/fake-server.h) and with a real StreamStore holding the asfmux fixtures
 * of tests/data/. The input is a script of what the peer, the clock, the
 * stream and the application do, one event at a time, in the order the
 * server's I/O thread would deliver them.
 *
 * Input layout:
 *   byte 0     bit 0: the application authorises (ServerConfig::ask_application)
 *              bit 1: viewer credentials (viewer:pw, Basic or Digest)
 *              bit 2: max-clients reached (admit() says no)
 *              bit 3: TLS (the handshake ends by an event; sends on the I/O thread only)
 *              bit 4: the stream has a header at the start
 *              bit 5: no write timeout (ServerConfig::timeout_us = 0)
 *   then events, each an opcode byte (% 13) and its arguments:
 *     0 send      u8 n, then n bytes the peer sends (fewer at the end of the input)
 *     1 eof       the peer closes its side
 *     2 read-err  u8: the next read fails (connection closed, broken pipe, failed, …)
 *     3 room      u8 k: the next sends may take 512·k + 1 bytes more
 *     4 write-err u8: the next send fails
 *     5 tick      u8 t: the clock moves t·100 ms (t ≥ 128: (t − 127) s · 10), then tick()
 *     6 header    u8: set fixture (bit 0) as the header, then wake()
 *     7 packets   u8 n: the next n % 4 + 1 packets of the fixture arrive (48 in all at
 *                 most), then wake()
 *     8 stream    u8: end of stream, reset or clear (% 3), then wake()
 *     9 answer    u8: the application's answer (bit 0 = allowed)
 *    10 round     u8: a parallel round (prepare, send, complete); bit 0: the client is
 *                 aborted between prepare and send (a disconnect racing the round)
 *    11 handshake u8: the pending TLS handshake ends (bit 0 = ok)
 *    12 abort     the application disconnects the client
 *   The connection is destroyed at the end, as the server's reap does.
 * Seeds: fuzz/corpus/connection/ (fuzz/make-corpus.py: the captured requests of
 * tests/data/requests/ played against a stream, with and without credentials).
 *
 * Besides the sanitizers, it checks: the host is told finished() once; the
 * transport is not used after close(), holds one watch per direction, and
 * gets no empty send; a request not complete within request_timeout is
 * removed; what is written starts with an HTTP/1.0 status line, and a
 * framed answer (Describe, Play) continues with MS-WMSP packets that parse,
 * the $D numbered 0, 1, 2… with AFFlags = LocationId mod 256.
 */
#include "fake-server.h"
#include "proto/asf.h"
#include "proto/framing.h"
#include "server/access.h"
#include "server/connection.h"
#include "server/poller.h"
#include "server/stream-store.h"

#include <glib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace wmstream;
using namespace wmstream::server;

namespace {

/* Bounds the work per input: events, and packets (each a 4,800-byte copy in the store). */
constexpr size_t kMaxEvents = 128;
constexpr size_t kMaxPackets = 48;
/* Calls of a readiness callback per event (the poller is level-triggered). */
constexpr int kDeliveries = 16;

/** A header and its packets, read from tests/data/ once. */
struct Fixture {
    std::vector<uint8_t> header;
    std::vector<std::vector<uint8_t>> packets;
};

Fixture load_fixture(const char *name) {
    g_autofree char *path = g_build_filename(WMSTREAM_TEST_DATA, name, nullptr);
    g_autofree char *contents = nullptr;
    gsize len = 0;
    g_autoptr(GError) error = nullptr;
    if (!g_file_get_contents(path, &contents, &len, &error))
        g_error("fuzz-connection needs its fixture: %s", error->message);
    const auto *bytes = reinterpret_cast<const uint8_t *>(contents);
    const Result<proto::asf::HeaderInfo> info = proto::asf::parse_header(bytes, len);
    g_assert_true(info.ok());
    Fixture fixture;
    fixture.header.assign(bytes, bytes + info->total_size);
    for (size_t pos = info->total_size; pos + info->packet_size <= len; pos += info->packet_size)
        fixture.packets.emplace_back(bytes + pos, bytes + pos + info->packet_size);
    return fixture;
}

const Fixture &fixture(unsigned which) {
    static const Fixture fixtures[] = {load_fixture("asfmux-wmv2.asf"),
                                       load_fixture("asfmux-wmv2-wmav2.asf")};
    return fixtures[which % 2];
}

Poller &poller() {
    static Poller poller(g_main_context_new());
    return poller;
}

const access::Authenticator &authenticator() {
    static const access::Authenticator auth("wmstream", "viewer", "pw", "fuzzing-secret");
    return auth;
}

/** Reads the input front to back; zeros once it is used up. */
class Script {
public:
    Script(const uint8_t *data, size_t size) : data_(data), size_(size) {}
    bool done() const { return pos_ >= size_; }
    uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::string bytes(size_t n) {
        n = std::min(n, size_ - pos_);
        std::string out(reinterpret_cast<const char *>(data_ + pos_), n);
        pos_ += n;
        return out;
    }

private:
    const uint8_t *data_;
    size_t size_;
    size_t pos_ = 0;
};

/** Checks what the connection writes: a status line, then for a framed answer MS-WMSP. */
class Output {
public:
    void write(const uint8_t *data, size_t len) {
        if (head_done_) {
            if (framed_)
                read_framed(data, len);
            return;
        }
        head_.append(reinterpret_cast<const char *>(data), len);
        const size_t end = head_.find("\r\n\r\n");
        if (head_.size() >= 9)
            g_assert_true(head_.compare(0, 9, "HTTP/1.0 ") == 0);
        if (end == std::string::npos)
            return;
        head_done_ = true;
        const std::string head = head_.substr(0, end);
        framed_ = head.compare(0, 12, "HTTP/1.0 200") == 0 &&
                  (head.find("application/x-mms-framed") != std::string::npos ||
                   head.find("application/vnd.ms.wms-hdr.asfv1") != std::string::npos);
        if (framed_)
            read_framed(reinterpret_cast<const uint8_t *>(head_.data()) + end + 4,
                        head_.size() - end - 4);
    }

private:
    void read_framed(const uint8_t *data, size_t len) {
        reader_.feed(data, len);
        for (;;) {
            Result<std::optional<proto::framing::Packet>> next = reader_.next();
            if (!next)
                g_error("the framed answer does not parse: %s", next.error().message.c_str());
            if (!*next)
                return;
            const proto::framing::Packet &packet = **next;
            if (packet.id != proto::framing::PacketId::Data)
                continue;
            g_assert_cmpuint(packet.location_id, ==, next_location_);
            g_assert_cmpuint(packet.af_flags, ==, next_location_ & 0xff);
            ++next_location_;
        }
    }

    std::string head_;
    bool head_done_ = false;
    bool framed_ = false;
    proto::framing::Reader reader_{proto::framing::Reader::Mode::Pull};
    uint32_t next_location_ = 0;
};

GIOErrorEnum pick_error(uint8_t byte) {
    static constexpr GIOErrorEnum kErrors[] = {
        G_IO_ERROR_CONNECTION_CLOSED, G_IO_ERROR_BROKEN_PIPE,
        G_IO_ERROR_NOT_CONNECTED,     G_IO_ERROR_FAILED,
        G_IO_ERROR_TIMED_OUT,         G_IO_ERROR_CLOSED,
    };
    return kErrors[byte % G_N_ELEMENTS(kErrors)];
}

int64_t tick_step_us(uint8_t t) {
    return t < 128 ? int64_t(t) * 100000 : int64_t(t - 127) * 10 * G_USEC_PER_SEC;
}

/** One client's life: the stream, the connection and the script of events. */
class Run {
public:
    explicit Run(uint8_t flags)
        : host_(make_config(flags), flags & 2 ? &authenticator() : nullptr, flags & 4),
          store_(LagLimits::of(host_.config())),
          peer_(flags & 8, [this](const uint8_t *data, size_t len) { output_.write(data, len); }) {
        /* The fuzzer's config names no MBR groups or bit rates: the policy is always valid. */
        if (auto startup = StartupPolicy::of(host_.config()))
            store_.set_startup(*startup);
        if (flags & 16)
            set_header(0);
        connection_ = std::make_unique<Connection>(host_, store_, 1, peer_.transport(), poller());
        connection_->start();
    }
    ~Run() {
        connection_.reset();
        g_assert_cmpint(host_.finished_count(), <=, 1);
    }

    void play(Script &script) {
        for (size_t i = 0; i < kMaxEvents && !script.done(); ++i)
            event(script);
    }

private:
    static ServerConfig make_config(uint8_t flags) {
        ServerConfig config;
        config.ask_application = flags & 1;
        if (flags & 32)
            config.timeout_us = 0;
        return config;
    }

    bool done() const { return host_.finished_count() > 0; }

    void set_header(unsigned which) {
        which_ = which % 2;
        next_packet_ = 0;
        const Fixture &f = fixture(which_);
        g_assert_true(store_.set_header(f.header.data(), f.header.size()).ok());
    }

    void push_packets(unsigned count) {
        if (!store_.header())
            return;
        const Fixture &f = fixture(which_);
        for (unsigned i = 0; i < count && pushed_ < kMaxPackets; ++i, ++pushed_) {
            const std::vector<uint8_t> &packet = f.packets[next_packet_++ % f.packets.size()];
            now_us_ += 40000;
            /* The fixture loops; a packet the store refuses is left out, as Server does. */
            (void)store_.push(packet.data(), packet.size(), now_us_);
        }
    }

    void wake() {
        if (!done())
            connection_->wake();
    }

    void event(Script &script) {
        const uint8_t op = script.byte() % 13;
        const uint8_t arg = op == 1 || op == 12 ? 0 : script.byte();
        switch (op) {
        case 0: {
            const std::string bytes = script.bytes(arg);
            peer_.send(bytes.data(), bytes.size());
            peer_.deliver_readable(kDeliveries);
            break;
        }
        case 1:
            peer_.end_stream();
            peer_.deliver_readable(kDeliveries);
            break;
        case 2:
            peer_.fail_read(pick_error(arg));
            peer_.deliver_readable(kDeliveries);
            break;
        case 3:
            peer_.make_room(size_t(arg) * 512 + 1);
            peer_.deliver_writable(kDeliveries);
            break;
        case 4:
            peer_.fail_write(pick_error(arg));
            peer_.deliver_writable(kDeliveries);
            break;
        case 5:
            tick(arg);
            break;
        case 6:
            set_header(arg);
            wake();
            break;
        case 7:
            push_packets(arg % 4 + 1);
            wake();
            break;
        case 8:
            if (arg % 3 == 0)
                (void)store_.end_of_stream();
            else if (arg % 3 == 1)
                (void)store_.reset();
            else
                store_.clear();
            wake();
            break;
        case 9:
            if (!done())
                connection_->authorized(arg & 1);
            break;
        case 10:
            round(arg & 1);
            break;
        case 11:
            peer_.end_handshake(arg & 1);
            break;
        default:
            connection_->abort(RemoveReason::Disconnected);
            break;
        }
    }

    void tick(uint8_t arg) {
        now_us_ = std::max(now_us_, g_get_monotonic_time()) + tick_step_us(arg);
        if (done())
            return;
        const bool reading = connection_->reading_request();
        connection_->tick(now_us_);
        if (reading && now_us_ - connection_->connected_us() > host_.config().request_timeout_us)
            g_assert_true(done());
    }

    /* rounds.cpp's serve_slice_parallel() for this one client. */
    void round(bool abort_between) {
        if (done())
            return;
        GOutputVector vectors[Connection::kMaxVectors];
        const size_t count = connection_->prepare_round_send(vectors);
        if (count == 0)
            return;
        if (abort_between)
            connection_->abort(RemoveReason::Disconnected);
        g_autoptr(GError) error = nullptr;
        const gssize n = connection_->round_send(vectors, count, &error);
        connection_->complete_round_send(n, error);
    }

    test::FakeHost host_;
    StreamStore store_;
    Output output_;
    test::FakePeer peer_;
    std::unique_ptr<Connection> connection_;
    unsigned which_ = 0;
    size_t next_packet_ = 0;
    size_t pushed_ = 0;
    int64_t now_us_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Script script(data, size);
    Run run(script.byte());
    run.play(script);
    return 0;
}
