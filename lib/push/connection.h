/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One connection of the push client (internal to lib/push): the TCP connect
 * (TLS over TCP for https, with the server certificate checked against the
 * enforced GTlsCertificateFlags), the write queue (framed bytes handed to
 * one write in flight at a time, with a write-progress timeout) and the
 * reading of the server's answers into an AnswerReader (bounded heads).
 * What to send and what the answers mean is the client's (client.h); the
 * Connector opens the connections of one run and counts what is in flight.
 *
 * Threading: the push client's I/O thread only (the context given to the
 * Connector): every method, every asynchronous completion and every
 * ConnectionListener call, the latter with no lock held.
 *
 * Lifetime: every asynchronous operation holds a reference to its
 * Connection; once close()d, a Connection reports nothing more, so a late
 * completion never reaches the listener.
 */
#pragma once

#include "base/timer.h"
#include "push/session.h"

#include <gio/gio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace wmstream::push {

/** What a Connection reports to its owner; nothing after close(). */
class ConnectionListener {
public:
    virtual ~ConnectionListener() = default;
    /** The connection is up; nothing is read until Connection::read(). */
    virtual void on_connected() = 0;
    /** The connect failed (@p error: GIO's; Connection::tls_errors() has what a refused
     *  certificate had). */
    virtual void on_connect_failed(const GError *error) = 0;
    /** No connection within the timeout. */
    virtual void on_connect_timeout() = 0;
    /** Bytes were appended to Connection::answers(); nothing more is read until read(). */
    virtual void on_received() = 0;
    /** The server closed (@p error null) or reading failed while no write was in flight (during
     *  a write, Connection::peer_closed() says so after on_written()). */
    virtual void on_read_end(const GError *error) = 0;
    /** The write in flight completed: @p bytes written, tagged @p release_seq by flush(). */
    virtual void on_written(size_t bytes, uint64_t release_seq) = 0;
    /** The write in flight failed. */
    virtual void on_write_failed(const GError *error) = 0;
    /** The write in flight made no progress within the timeout. */
    virtual void on_write_timeout() = 0;
};

class Connector;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    /** Use Connector::open(). */
    Connection(Connector &connector, ConnectionListener &listener);
    ~Connection(); /**< close()s */
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    /** Cancel what is in flight, disarm the timers and close the socket at once (the peer sees
     *  the end now, even under TLS); nothing is reported afterwards. Idempotent. */
    void close();

    /** Read once into answers(): on_received() or on_read_end() follows. */
    void read();
    /** Do not read on after a full answer head (the one waiting for the write in flight). */
    void pause_reading() { read_paused_ = true; }
    /** Read again when pause_reading() stopped it. */
    void resume_reading();

    /** The bytes framed and not yet written: append to it, then flush(). */
    std::vector<uint8_t> &queue() { return pending_; }
    /** Write the queue when connected, no write is in flight and it is not empty; on_written()
     *  reports @p release_seq back with the bytes. */
    void flush(uint64_t release_seq);
    /** A write is in flight. */
    bool writing() const { return writing_; }
    /** The server closed (or reading failed) while a write was in flight. */
    bool peer_closed() const { return peer_closed_; }

    /** What was received and not yet consumed. */
    proto::http::AnswerReader &answers() { return answers_; }
    const proto::http::AnswerReader &answers() const { return answers_; }
    /** What glib-networking found wrong with the server's certificate (accept-certificate). */
    GTlsCertificateFlags tls_errors() const { return tls_errors_; }

private:
    friend class Connector;

    static void on_connect_done(GObject *source, GAsyncResult *result, gpointer data);
    static void on_read_done(GObject *source, GAsyncResult *result, gpointer data);
    static void on_write_done(GObject *source, GAsyncResult *result, gpointer data);

    Connector &connector_;
    ConnectionListener *listener_; /* null once closed */
    GIOStream *stream_ = nullptr;  /* from the connect's success to close() */
    GCancellable *cancellable_;
    std::array<char, 16 * 1024> in_{}; /* one read */
    proto::http::AnswerReader answers_;
    std::vector<uint8_t> pending_; /* framed, not yet handed to a write */
    std::vector<uint8_t> out_;     /* being written */
    uint64_t release_seq_ = 0;     /* the tag of the write in flight */
    bool writing_ = false;
    bool read_paused_ = false;
    bool peer_closed_ = false; /* EOF or read error seen while a write was in flight */
    GTlsCertificateFlags tls_errors_ = GTlsCertificateFlags(0);
    Timer connect_timer_;
    Timer write_timer_;
};

/**
 * The connections of one run: one GSocketClient, the trusted CAs and the
 * certificate problems that refuse a server; counts the asynchronous
 * operations in flight, so that the run can let them complete (idle())
 * before the Connector goes.
 */
class Connector {
public:
    /** @p database: the trusted CAs, null = the system's (a reference is taken);
     *  @p timeout_us: the connect and write-progress timeout, µs. */
    Connector(GMainContext *context, GTlsDatabase *database, GTlsCertificateFlags enforced,
              int64_t timeout_us);
    ~Connector();
    Connector(const Connector &) = delete;
    Connector &operator=(const Connector &) = delete;

    /** Begin connecting to @p target (TLS when target.tls): on_connected(),
     *  on_connect_failed() or on_connect_timeout() follows. */
    std::shared_ptr<Connection> open(ConnectionListener &listener, const Url &target);

    /** No asynchronous operation is in flight. */
    bool idle() const { return in_flight_ == 0; }

private:
    friend class Connection;

    static void on_socket_event(GSocketClient *client, GSocketClientEvent event,
                                GSocketConnectable *connectable, GIOStream *stream, gpointer data);
    static gboolean on_accept_certificate(GTlsConnection *connection, GTlsCertificate *certificate,
                                          GTlsCertificateFlags errors, gpointer data);

    GMainContext *const context_;
    GTlsDatabase *const database_;
    const GTlsCertificateFlags enforced_;
    const int64_t timeout_us_;
    GSocketClient *const client_;
    std::weak_ptr<Connection> connecting_; /* the last one open()ed: its handshake is checked */
    int in_flight_ = 0;
};

} // namespace wmstream::push
