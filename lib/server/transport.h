/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The byte stream of one client connection: plain TCP, or TLS over it
 * (GIO's GTlsServerConnection, provided by glib-networking). Non-blocking,
 * used on the server's I/O thread only.
 */
#pragma once

#include "base/error.h"
#include "server/poller.h"

#include <gio/gio.h>

#include <cstddef>
#include <memory>

namespace wmstream::server {

class Transport {
public:
    /** Called when the transport is ready to read (or write), with the data given to watch(). */
    using Ready = void (*)(void *data);
    /** Called once a TLS handshake finished; @p error is null on success. */
    using Handshaken = void (*)(void *data, const GError *error);

    /**
     * Whether tls() can serve with @p certificate: GIO has a TLS backend
     * (glib-networking), the certificate carries its private key and a TLS
     * server connection can be made with it (which also loads the backend's
     * process-wide state, so the first viewer's handshake does not).
     * @return InvalidArgument saying which is missing or what failed.
     */
    static Status check_tls(GTlsCertificate *certificate);
    /** Plain TCP over @p socket (takes ownership). */
    static std::unique_ptr<Transport> plain(GSocket *socket);
    /**
     * TLS over @p socket (takes ownership) with @p certificate (which must
     * carry its private key, check_tls()). The TLS connection is made by
     * start(), which reports a failure to make it as a failed handshake.
     */
    static std::unique_ptr<Transport> tls(GSocket *socket, GTlsCertificate *certificate);

    virtual ~Transport() = default;

    /** The underlying socket (peer address). */
    virtual GSocket *socket() const = 0;
    /** True for TLS: start() runs a handshake, on a thread of GIO's shared pool. */
    virtual bool encrypted() const = 0;
    /**
     * The peer's address (a new reference), or null when unknown. Connection asks this, not
     * socket(), so that a transport need not have a GSocket (fuzz/fake-transport.h); the
     * default asks socket().
     */
    virtual GSocketAddress *remote_address() const;
    /**
     * Start the connection in @p context: at once for plain TCP (@p done is
     * called before this returns), after the handshake for TLS (@p done is
     * called before this returns when the TLS connection cannot be made).
     */
    virtual void start(GMainContext *context, Handshaken done, void *data) = 0;
    /** Bytes read into @p buffer; 0 at end of stream; -1 with @p error (G_IO_ERROR_WOULD_BLOCK =
     * try later). */
    virtual gssize receive(char *buffer, size_t size, GError **error) = 0;
    /** Bytes written from @p vectors (one vectored write); -1 with @p error as receive(). */
    virtual gssize send(const GOutputVector *vectors, size_t count, GError **error) = 0;
    /**
     * True when send() may run on another thread while the I/O thread waits
     * for it (plain TCP: one sendmsg(2)); false for TLS, whose GIO stream
     * belongs to the I/O thread.
     */
    virtual bool send_from_any_thread() const = 0;
    /** Keeps a readiness watch alive; destroying it stops the calls. */
    class Watch {
    public:
        virtual ~Watch() = default;
    };
    /**
     * Call @p ready(@p data) while the connection is readable (or, with
     * @p writable, writable). Plain TCP sockets are watched by @p poller
     * (one epoll for all clients); TLS streams by a GSource of the poller's
     * context, since TLS may have bytes buffered that the socket does not show.
     */
    virtual std::unique_ptr<Watch> watch(Poller &poller, bool writable, Ready ready,
                                         void *data) = 0;
    /**
     * No more bytes will be sent (TLS: close_notify; TCP: shutdown(SHUT_WR)),
     * without waiting. @return false when TLS cannot send close_notify now (the
     * socket is full): call again once writable, or close() without it.
     */
    [[nodiscard]] virtual bool shutdown_write() = 0;
    /** Close the connection. During a TLS handshake: cancel it and shut the socket down;
     *  the descriptor is closed once the handshake's thread let go of it. */
    virtual void close() = 0;
};

} // namespace wmstream::server
