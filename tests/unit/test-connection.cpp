/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of server::Connection without sockets: the peer is a scripted
 * FakePeer (tests/common/fake-server.h), the stream a StreamStore holding
 * tests/data/asfmux-wmv2.asf's header. They reproduce what fuzz-connection
 * found.
 */
#include "fake-server.h"
#include "proto/asf.h"
#include "server/connection.h"
#include "server/poller.h"
#include "server/stream-store.h"
#include "test-data.h"

#include <glib.h>

#include <memory>
#include <string>
#include <vector>

using namespace wmstream;
using namespace wmstream::server;

namespace {

/** One connection, its peer and the stream, with what it wrote in written. */
struct Client {
    explicit Client(bool full)
        : host(ServerConfig{}, nullptr, full), store(LagLimits::of(host.config())),
          peer(false, [this](const uint8_t *data, size_t len) {
              written.append(reinterpret_cast<const char *>(data), len);
          }) {
        const std::vector<uint8_t> file = test::load_bytes("asfmux-wmv2.asf");
        const auto info = proto::asf::parse_header(file.data(), file.size());
        g_assert_true(info.ok());
        g_assert_true(store.set_header(file.data(), info->total_size).ok());
        connection = std::make_unique<Connection>(host, store, 1, peer.transport(), poller);
        connection->start();
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

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/connection/full-socket-waits", test_full_socket_waits);
    g_test_add_func("/connection/describe-answered-once", test_describe_answered_once);
    g_test_add_func("/connection/refused-stays-refused", test_refused_stays_refused);
    return g_test_run();
}
