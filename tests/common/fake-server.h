/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a server::Connection needs around it, without sockets or a Server,
 * for fuzz/fuzz-connection.cpp and tests/unit/test-connection.cpp:
 *
 * FakePeer makes transports (server::Transport) without a socket: the test
 * scripts the peer (bytes to read, end of stream, read and write errors,
 * how many bytes the next sends may take, when a TLS handshake ends) and
 * gets what the connection wrote. It delivers readiness
 * (deliver_readable/writable) to the watches the connection holds, as the
 * server's poller would. It checks the transport contract the connection
 * must keep: nothing is read, written, watched or shut down after close();
 * at most one watch per direction (Poller::watch); no empty send.
 *
 * FakeHost is the server as one connection sees it (server::ConnectionHost).
 */
#pragma once

#include "server/access.h"
#include "server/connection.h"
#include "server/transport.h"

#include <gio/gio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace wmstream::test {

class FakePeer {
public:
    /** What the connection wrote, in order (@p data, @p len), as it is sent. */
    using Sink = std::function<void(const uint8_t *data, size_t len)>;

    FakePeer(bool tls, Sink sink) : tls_(tls), sink_(std::move(sink)) {}

    /** A new transport of this peer, for one Connection; the peer must outlive it. */
    std::unique_ptr<server::Transport> transport();

    /* The peer's script. */
    /** Bytes the connection can now read. */
    void send(const char *data, size_t len) { inbound_.append(data, len); }
    /** After what was sent, reads give end of stream. */
    void end_stream() { eof_ = true; }
    /** The next read fails with @p code (G_IO_ERROR_WOULD_BLOCK: nothing to read yet). */
    void fail_read(GIOErrorEnum code) { read_error_ = code; }
    /** The next sends may take @p bytes more in all. */
    void make_room(size_t bytes) { room_ += bytes; }
    /** The next send fails with @p code. */
    void fail_write(GIOErrorEnum code) { write_error_ = code; }
    /** End a pending TLS handshake (nothing when none is pending). */
    void end_handshake(bool ok);

    /** Call the read watch's callback while there is something to read (at most @p times). */
    void deliver_readable(int times);
    /** Call the write watch's callback while a send could make progress (at most @p times). */
    void deliver_writable(int times);

    bool closed() const { return closed_; }
    /** Sends that wrote something (each one vectored write). */
    size_t sends() const { return sends_; }
    bool watched(bool writable) const { return (writable ? write_ : read_).ready != nullptr; }

private:
    friend class FakeTransport;
    friend class FakeWatch;

    struct Slot {
        server::Transport::Ready ready = nullptr;
        void *data = nullptr;
    };

    const bool tls_;
    Sink sink_;
    std::string inbound_;
    bool eof_ = false;
    GIOErrorEnum read_error_ = G_IO_ERROR_WOULD_BLOCK; /* WOULD_BLOCK: none */
    GIOErrorEnum write_error_ = G_IO_ERROR_WOULD_BLOCK;
    size_t room_ = 0;
    size_t sends_ = 0;
    bool closed_ = false;
    bool shut_down_ = false;
    Slot read_;
    Slot write_;
    server::Transport::Handshaken handshake_ = nullptr;
    void *handshake_data_ = nullptr;
};

/** The server, as far as one connection sees it: it admits unless @p full, asks nobody (the
 *  test answers with Connection::authorized()) and counts finished(). */
class FakeHost final : public server::ConnectionHost {
public:
    /** @p auth: the viewer credentials checker, or null. */
    FakeHost(server::ServerConfig config, const server::access::Authenticator *auth, bool full)
        : config_(std::move(config)), auth_(auth), full_(full) {}

    server::Decision admit(server::Connection &client) override {
        return {full_ && !client.describe() ? server::Verdict::Refuse : server::Verdict::Admit, {}};
    }
    void finished(server::Connection &, server::RemoveReason reason) override {
        ++finished_;
        reason_ = reason;
    }
    void count_sent(size_t) override {}
    void count_tls_failure() override {}
    bool may_handshake(server::Connection &) override { return true; }
    void handshaken(server::Connection &) override {}
    void answered(server::Connection &) override {}
    const server::ServerConfig &config() const override { return config_; }
    const server::access::Authenticator *authenticator() const override { return auth_; }
    const server::access::Authenticator *status_authenticator() const override { return auth_; }
    std::string status_document(bool json) const override { return json ? "{}" : "<p></p>"; }
    void ask(server::Connection &, const std::string &, const std::string &) override {}
    /** A connection alone has no other client to switch. */
    server::SwitchOutcome
    switch_streams(const server::Connection &, uint32_t,
                   const std::vector<proto::wmsp::StreamSwitchEntry> &) override {
        return server::SwitchOutcome::NoSession;
    }

    /** How often finished() was called, and its last reason. */
    int finished_count() const { return finished_; }
    server::RemoveReason reason() const { return reason_; }

private:
    const server::ServerConfig config_;
    const server::access::Authenticator *auth_;
    const bool full_;
    int finished_ = 0;
    server::RemoveReason reason_ = server::RemoveReason::ClosedByPeer;
};

} // namespace wmstream::test
