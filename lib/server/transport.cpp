/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/transport.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <utility>

namespace wmstream::server {

namespace {

/** What a TLS watch source calls back; freed with the source. */
struct Callback {
    Transport::Ready ready;
    void *data;
};

void free_callback(gpointer callback) {
    delete static_cast<Callback *>(callback);
}

gboolean on_stream_ready(GObject *, gpointer callback) {
    auto *c = static_cast<Callback *>(callback);
    c->ready(c->data);
    return G_SOURCE_CONTINUE;
}

/** A plain socket's watch: an entry in the shared epoll. */
class PollerWatch final : public Transport::Watch {
public:
    explicit PollerWatch(std::unique_ptr<Poller::Watch> watch) : watch_(std::move(watch)) {}

private:
    std::unique_ptr<Poller::Watch> watch_;
};

/** A TLS stream's watch: a pollable-stream GSource. */
class SourceWatch final : public Transport::Watch {
public:
    explicit SourceWatch(GSource *source) : source_(source) {}
    ~SourceWatch() override {
        g_source_destroy(source_);
        g_source_unref(source_);
    }

private:
    GSource *source_;
};

class PlainTransport final : public Transport {
public:
    explicit PlainTransport(GSocket *socket) : socket_(socket), fd_(g_socket_get_fd(socket)) {}
    ~PlainTransport() override { g_object_unref(socket_); }

    GSocket *socket() const override { return socket_; }
    bool encrypted() const override { return false; }
    void start(GMainContext *, Handshaken done, void *data) override { done(data, nullptr); }
    gssize receive(char *buffer, size_t size, GError **error) override {
        return g_socket_receive(socket_, buffer, size, nullptr, error);
    }
    /* sendmsg(2) directly: this is the per-client hot path, and GSocket adds
     * timeout and condition bookkeeping we do not use. */
    gssize send(const GOutputVector *vectors, size_t count, GError **error) override {
        static_assert(sizeof(GOutputVector) == sizeof(struct iovec) &&
                          offsetof(GOutputVector, buffer) == offsetof(struct iovec, iov_base) &&
                          offsetof(GOutputVector, size) == offsetof(struct iovec, iov_len),
                      "GOutputVector must match struct iovec");
        struct msghdr message = {};
        message.msg_iov = reinterpret_cast<struct iovec *>(const_cast<GOutputVector *>(vectors));
        message.msg_iovlen = count;
        const ssize_t n = sendmsg(fd_, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            const int code = errno;
            g_set_error_literal(error, G_IO_ERROR, g_io_error_from_errno(code), g_strerror(code));
        }
        return n;
    }
    bool send_from_any_thread() const override { return true; }
    std::unique_ptr<Watch> watch(Poller &poller, bool writable, Ready ready, void *data) override {
        return std::make_unique<PollerWatch>(
            poller.watch(g_socket_get_fd(socket_), writable, ready, data));
    }
    bool shutdown_write() override {
        g_socket_shutdown(socket_, FALSE, TRUE, nullptr);
        return true;
    }
    void close() override { g_socket_close(socket_, nullptr); }

private:
    GSocket *socket_;
    const int fd_; /* socket_'s, cached: send() is the hot path */
};

class TlsTransport final : public Transport {
public:
    TlsTransport(GSocket *socket, GTlsCertificate *certificate)
        : socket_(socket), certificate_(G_TLS_CERTIFICATE(g_object_ref(certificate))) {}
    ~TlsTransport() override {
        g_cancellable_cancel(cancellable_);
        g_object_unref(cancellable_);
        g_clear_object(&tls_);
        g_object_unref(certificate_);
        g_object_unref(socket_);
    }

    GSocket *socket() const override { return socket_; }
    bool encrypted() const override { return true; }
    /* The TLS connection is made here, not at accept: glib-networking imports the
     * certificate and key for each one, which a silent connection need not cost. It runs
     * the handshake blocking on a thread of GIO's shared pool, until it ends or
     * cancellable_ is cancelled. */
    void start(GMainContext *context, Handshaken done, void *data) override {
        g_autoptr(GError) failure = nullptr;
        g_autoptr(GSocketConnection) base = g_socket_connection_factory_create_connection(socket_);
        tls_ = g_tls_server_connection_new(G_IO_STREAM(base), certificate_, &failure);
        if (!tls_) {
            done(data, failure);
            return;
        }
        g_main_context_push_thread_default(context);
        struct Pending {
            TlsTransport *transport;
            Handshaken done;
            void *data;
        };
        handshaking_ = true;
        g_tls_connection_handshake_async(
            G_TLS_CONNECTION(tls_), G_PRIORITY_DEFAULT, cancellable_,
            [](GObject *tls, GAsyncResult *result, gpointer pending) {
                std::unique_ptr<Pending> p(static_cast<Pending *>(pending));
                g_autoptr(GError) error = nullptr;
                if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(tls), result, &error) &&
                    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                    return; /* the transport is gone, or closed */
                p->transport->handshaking_ = false;
                p->done(p->data, error);
            },
            new Pending{this, done, data});
        g_main_context_pop_thread_default(context);
    }
    gssize receive(char *buffer, size_t size, GError **error) override {
        return g_pollable_input_stream_read_nonblocking(input(), buffer, size, nullptr, error);
    }
    gssize send(const GOutputVector *vectors, size_t count, GError **error) override {
        gsize written = 0;
        const GPollableReturn result = g_pollable_output_stream_writev_nonblocking(
            output(), vectors, count, &written, nullptr, error);
        if (result == G_POLLABLE_RETURN_WOULD_BLOCK) {
            g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "would block");
            return -1;
        }
        return result == G_POLLABLE_RETURN_OK ? gssize(written) : -1;
    }
    bool send_from_any_thread() const override { return false; }
    std::unique_ptr<Watch> watch(Poller &poller, bool writable, Ready ready, void *data) override {
        GSource *source = writable ? g_pollable_output_stream_create_source(output(), nullptr)
                                   : g_pollable_input_stream_create_source(input(), nullptr);
        g_source_set_callback(source, G_SOURCE_FUNC(on_stream_ready), new Callback{ready, data},
                              free_callback);
        g_source_attach(source, poller.context());
        return std::make_unique<SourceWatch>(source);
    }
    /* close_notify is sent when the output side closes, and glib-networking writes it
     * blocking (no timeout): only once the socket has room for it, so that the write cannot
     * wait, with a 1 s socket timeout as the backstop. */
    bool shutdown_write() override {
        if (!(g_socket_condition_check(socket_, G_IO_OUT) & (G_IO_OUT | G_IO_ERR | G_IO_HUP)))
            return false;
        g_socket_set_timeout(socket_, kCloseTimeoutS);
        g_output_stream_close(g_io_stream_get_output_stream(tls_), nullptr, nullptr);
        return true;
    }
    void close() override {
        g_cancellable_cancel(cancellable_);
        /* A handshake thread may still poll the descriptor: closing it could let a new
         * connection reuse its number under that thread. Shut down, it wakes and ends, and
         * the descriptor is closed with the last reference. */
        if (handshaking_)
            g_socket_shutdown(socket_, TRUE, TRUE, nullptr);
        else
            g_socket_close(socket_, nullptr);
    }

private:
    GPollableInputStream *input() const {
        return G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(tls_));
    }
    GPollableOutputStream *output() const {
        return G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(tls_));
    }

    /** The longest a close_notify write may wait, s (it should not wait at all). */
    static constexpr guint kCloseTimeoutS = 1;

    GSocket *socket_;
    GTlsCertificate *certificate_;
    GIOStream *tls_ = nullptr; /* from start() on */
    GCancellable *cancellable_ = g_cancellable_new();
    bool handshaking_ = false; /* a handshake thread may be using socket_ */
};

} // namespace

Status Transport::check_tls(GTlsCertificate *certificate) {
    if (!g_tls_backend_supports_tls(g_tls_backend_get_default()))
        return make_error(Errc::InvalidArgument, "TLS was asked for but GIO has no TLS "
                                                 "backend (install glib-networking)");
    g_autofree char *key_pem = nullptr;
    g_autofree char *key_uri = nullptr;
    g_object_get(certificate, "private-key-pem", &key_pem, "private-key-pkcs11-uri", &key_uri,
                 nullptr);
    if (!key_pem && !key_uri)
        return make_error(Errc::InvalidArgument,
                          "The TLS certificate has no private key: give certificate and "
                          "key in one PEM file");
    /* One TLS connection over memory, made and dropped here: the first one made in a process
     * loads GnuTLS and the system trust store (some 70 ms, seconds under a sanitizer), which
     * must not be paid on the I/O thread by the first viewer while every client waits. It
     * also finds a certificate glib-networking cannot use before the port opens. */
    g_autoptr(GInputStream) in = g_memory_input_stream_new();
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    g_autoptr(GIOStream) base = g_simple_io_stream_new(in, out);
    g_autoptr(GError) failure = nullptr;
    g_autoptr(GIOStream) warm = g_tls_server_connection_new(base, certificate, &failure);
    if (!warm)
        return make_error(Errc::InvalidArgument,
                          std::string("The TLS certificate cannot be used: ") + failure->message);
    return {};
}

GSocketAddress *Transport::remote_address() const {
    return g_socket_get_remote_address(socket(), nullptr);
}

std::unique_ptr<Transport> Transport::plain(GSocket *socket) {
    return std::make_unique<PlainTransport>(socket);
}

std::unique_ptr<Transport> Transport::tls(GSocket *socket, GTlsCertificate *certificate) {
    return std::make_unique<TlsTransport>(socket, certificate);
}

} // namespace wmstream::server
