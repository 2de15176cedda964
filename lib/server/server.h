/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fan-out server behind wmnetsink: one listening socket, one I/O thread
 * on its own GMainContext, many clients served MS-WMSP or raw ASF over HTTP.
 *
 * Semantics follow IWMWriterNetworkSink (Open / Close / Disconnect /
 * SetMaximumClients / GetHostURL) and IWMClientConnections(2); see
 * docs/wmnetsink.md. Threading: open/close/set_accepting/disconnect_all
 * are called from the application (element state changes); set_header,
 * push_packet and end_of_stream from the streaming thread; none of them
 * blocks on a client. ServerEvents callbacks run on the I/O thread with no
 * lock held.
 */
#pragma once

#include "base/error.h"
#include "server/types.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wmstream::server {

/** Notifications from the I/O thread (a warning also from Server::open()); implementations
 *  must not block. */
class ServerEvents {
public:
    virtual ~ServerEvents() = default;
    /** A client was admitted and starts being served (after its request was read). */
    virtual void client_added(const ClientInfo &client) = 0;
    /** A client went away; @p client is its final snapshot. */
    virtual void client_removed(const ClientInfo &client, RemoveReason reason) = 0;
    /** The reverse DNS name of a client became known. */
    virtual void client_resolved(const ClientInfo &client) = 0;
    /** Something went wrong that affects no served client, e.g. accepting
     *  paused because the process ran out of file descriptors. */
    virtual void warning(const Error &error) = 0;
    /** With ServerConfig::ask_application: may this viewer be served? Answer
     *  (from any thread, any time) with Server::authorize(); a request left
     *  unanswered is closed after request_timeout_us. */
    virtual void authorize(const AuthorizationRequest &request) = 0;
};

class Server {
public:
    /** @p events may be null; when not, it must outlive the server. */
    explicit Server(ServerEvents *events);
    ~Server(); /**< close()s */
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    /**
     * Open (IWMWriterNetworkSink::Open): resolve the bind address, bind,
     * listen and start the I/O thread. Connections wait in the backlog until
     * set_accepting(true).
     * @return the bound port (port 0 resolved), or InvalidRequest (already
     *         open), InvalidArgument (address not a local address or not
     *         resolvable), PortInUse (EADDRINUSE), AccessDenied (EACCES),
     *         NetworkFailure (anything else).
     */
    Result<uint16_t> open(const ServerConfig &config);

    /** True between a successful open() and close(). */
    bool is_open() const;
    /** The bound port, 0 when not open. */
    uint16_t port() const;
    /** The configuration open() used (with the port bound and the io_threads in use). */
    ServerConfig config() const;

    /** Start (true) or stop (false) accepting and serving: the sharing session's active state. */
    void set_accepting(bool accepting);

    /** Disconnect every client (reason Disconnected), keep the port
     * (IWMWriterNetworkSink::Disconnect). */
    void disconnect_all();

    /**
     * Disconnect client @p client_id at once (reason Removed), keep the others
     * (tcpserversink's remove; IWMClientConnections has no equivalent). The
     * client is closed without $E, as by disconnect_all().
     * @return true when @p client_id is a client being served now (an id of
     *         clients() or ServerEvents::client_added()); false for an unknown
     *         id, a client already gone, or a connection not admitted yet.
     */
    bool remove(uint64_t client_id);

    /** Close: disconnect every client, release the port, stop the I/O thread. Idempotent. */
    void close();

    /**
     * A new stream header (Header Object + 50-byte Data Object head). The
     * live fields are fixed in the copy served. When it differs from the
     * current one, WMSP clients get $C and the new $H, then data from the
     * next key frame; HTTP clients are closed (a raw ASF file cannot change
     * its header). Waiting clients are answered.
     * @return InvalidData when it is not an ASF header.
     */
    Status set_header(const uint8_t *data, size_t len);

    /**
     * One ASF data packet: parsed (key frame), its times rebased to start
     * near zero, stored once and queued to every client.
     * @return InvalidData when there is no header yet or the packet is corrupt
     *         (the stream is not changed).
     */
    Status push_packet(const uint8_t *data, size_t len);

    /** End of stream: WMSP clients get $E(0); every client is closed once flushed. */
    void end_of_stream();

    /** Flush: forget the stored packets and restart time rebasing; the header
     *  stays; clients resume at the next key frame. */
    void reset_stream();

    /** Forget the header and the packets (the session left the active
     *  state); new clients wait for the next header. */
    void clear_stream();

    /** The application's answer to ServerEvents::authorize(): serve the
     *  viewer, or refuse it with 403 (reason Forbidden). Unknown ids are ignored. */
    void authorize(uint64_t client_id, bool allowed);

    /** Clients being served now, relays included. */
    size_t num_clients() const;
    /** Relays (ClientInfo::relay) being served now. */
    size_t num_relays() const;
    /** Snapshots of every served client. */
    std::vector<ClientInfo> clients() const;
    /** Snapshot of client @p id, or nullopt (IWMClientConnections NS_E_INVALID_CLIENT). */
    std::optional<ClientInfo> client(uint64_t id) const;
    /** Totals since open(). */
    ServerStats stats() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace wmstream::server
