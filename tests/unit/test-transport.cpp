/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the TLS transport (lib/server/transport.h): real sockets on
 * 127.0.0.1, a GIO TLS client (glib-networking), the certificate of
 * tests/data. Closing never waits for a peer that stopped reading, and
 * close_notify still goes out once the peer reads. Skipped without a GIO
 * TLS backend.
 */
#include "server/transport.h"
#include "test-data.h"

#include <gio/gio.h>

#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <thread>

using namespace wmstream;
using namespace wmstream::server;

namespace {

/** Longest wait for what the test expects, µs (generous: sanitizers on a loaded machine). */
constexpr int64_t kWaitUs = 20 * G_USEC_PER_SEC;
/** Bytes per write while the test fills the connection. */
constexpr size_t kChunk = 64 * 1024;

/** The server's end (a Transport) and the client's (a GTlsClientConnection) of one TLS
 *  connection on 127.0.0.1, handshake done. */
struct TlsPair {
    GMainContext *context = g_main_context_new();
    GSocket *client_socket = nullptr;
    GIOStream *client = nullptr;
    std::unique_ptr<Transport> server;

    TlsPair() {
        g_autoptr(GError) error = nullptr;
        const std::string pem = test::load_text("push-cert.pem") + test::load_text("push-key.pem");
        g_autoptr(GTlsCertificate) certificate =
            g_tls_certificate_new_from_pem(pem.c_str(), -1, &error);
        g_assert_no_error(error);

        g_autoptr(GSocket) listener =
            g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
        g_assert_no_error(error);
        g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
        g_assert_true(g_socket_bind(listener, any, TRUE, &error));
        g_assert_true(g_socket_listen(listener, &error));
        g_autoptr(GSocketAddress) bound = g_socket_get_local_address(listener, &error);
        g_assert_no_error(error);

        client_socket =
            g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
        g_assert_no_error(error);
        /* A small receive window: the connection fills up sooner. */
        g_socket_set_option(client_socket, SOL_SOCKET, SO_RCVBUF, 4096, nullptr);
        g_socket_set_timeout(client_socket, kWaitUs / G_USEC_PER_SEC);
        g_assert_true(g_socket_connect(client_socket, bound, nullptr, &error));
        GSocket *accepted = g_socket_accept(listener, nullptr, &error);
        g_assert_no_error(error);
        g_socket_set_blocking(accepted, FALSE);
        server = Transport::tls(accepted, certificate);

        g_autoptr(GSocketConnection) base =
            g_socket_connection_factory_create_connection(client_socket);
        client = g_tls_client_connection_new(G_IO_STREAM(base), nullptr, &error);
        g_assert_no_error(error);
        g_signal_connect(client, "accept-certificate", G_CALLBACK(+[] { return TRUE; }), nullptr);
        handshake();
    }
    ~TlsPair() {
        server.reset();
        g_object_unref(client);
        g_object_unref(client_socket);
        g_main_context_unref(context);
    }
    TlsPair(const TlsPair &) = delete;
    TlsPair &operator=(const TlsPair &) = delete;

private:
    void handshake() {
        bool client_done = false;
        std::thread peer([this, &client_done] {
            g_autoptr(GError) error = nullptr;
            client_done = g_tls_connection_handshake(G_TLS_CONNECTION(client), nullptr, &error);
            g_assert_no_error(error);
        });
        struct Result {
            bool done = false;
            bool ok = false;
        } result;
        server->start(
            context,
            [](void *data, const GError *error) {
                auto *r = static_cast<Result *>(data);
                r->done = true;
                r->ok = error == nullptr;
            },
            &result);
        const int64_t deadline = g_get_monotonic_time() + kWaitUs;
        while (!result.done && g_get_monotonic_time() < deadline)
            if (!g_main_context_iteration(context, FALSE))
                g_usleep(1000);
        peer.join();
        g_assert_true(result.done && result.ok && client_done);
    }
};

/* A peer that stops reading while the socket is full: shutdown_write() returns at once
 * (false: not sent yet) instead of blocking its thread on the close_notify write (the old
 * code's freeze of the I/O thread, security review finding 3). Once the peer reads again,
 * close_notify goes out: the client sees a clean end of stream. */
void test_close_does_not_wait() {
    if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
        g_test_skip("no GIO TLS backend (glib-networking)");
        return;
    }
    TlsPair pair;
    std::vector<char> chunk(kChunk, 'x');
    GOutputVector vector = {chunk.data(), chunk.size()};
    size_t sent = 0;
    for (;;) {
        g_autoptr(GError) error = nullptr;
        const gssize n = pair.server->send(&vector, 1, &error);
        if (n < 0) {
            g_assert_error(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            break;
        }
        sent += size_t(n);
        g_assert_cmpuint(sent, <, 256u * 1024 * 1024); /* the client reads nothing */
    }

    std::atomic<bool> returned{false};
    bool shut = true;
    std::thread closer([&] {
        shut = pair.server->shutdown_write();
        returned = true;
    });
    const int64_t deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!returned && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    if (!returned)
        g_error("shutdown_write() still waits after 5 s for a peer that does not read");
    closer.join();
    g_assert_false(shut);

    /* The peer reads everything: then close_notify can be sent, and ends its stream. */
    size_t received = 0;
    gssize last = -1;
    std::thread reader([&] {
        GInputStream *in = g_io_stream_get_input_stream(pair.client);
        char buffer[16384];
        g_autoptr(GError) error = nullptr;
        while ((last = g_input_stream_read(in, buffer, sizeof buffer, nullptr, &error)) > 0)
            received += size_t(last);
        if (error)
            g_printerr("client read: %s\n", error->message);
    });
    const int64_t end = g_get_monotonic_time() + kWaitUs;
    while (!(shut = pair.server->shutdown_write()) && g_get_monotonic_time() < end)
        g_socket_condition_timed_wait(pair.server->socket(), G_IO_OUT, 100000, nullptr, nullptr);
    g_assert_true(shut);
    pair.server->close();
    reader.join();
    g_assert_cmpint(last, ==, 0); /* end of stream after close_notify, not an error */
    /* Everything sent, and the record the last write began (GnuTLS keeps it when the
     * socket is full, and sends it first). */
    g_assert_cmpuint(received, >=, sent);
    g_assert_cmpuint(received, <=, sent + kChunk);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/transport/tls-close-does-not-wait", test_close_does_not_wait);
    return g_test_run();
}
