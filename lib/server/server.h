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
#include "server/packet-log.h"

#include <gio/gio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wmstream::server {

/** The most threads ServerConfig::io_threads may name. */
constexpr unsigned kMaxIoThreads = 16;

/** How a client is served. */
enum class ClientProtocol {
    Wmsp, /**< MS-WMSP Play: $H, $D…, $E (application/x-mms-framed) */
    Http, /**< plain HTTP: raw ASF (video/x-ms-asf) */
};
const char *to_string(ClientProtocol protocol); /**< "wmsp" / "http" */

/** Why a client went away (client-removed). */
enum class RemoveReason {
    ClosedByPeer, /**< the client closed the connection */
    Disconnected, /**< the application asked (disconnect, →READY, Close) */
    Slow,         /**< fell too far behind or made no progress within the timeout */
    Error,        /**< socket error or bad request */
    OverLimit,    /**< refused: max-clients reached (503) */
    EndOfStream,  /**< the stream ended ($E sent) */
    Forbidden,    /**< refused: address not allowed, or the application said no (403) */
    Unauthorized, /**< refused: wrong viewer credentials (401) */
};
/** "closed", "disconnected", "slow", "error", "over-limit", "eos", "forbidden", "unauthorized" */
const char *to_string(RemoveReason reason);

/** A viewer request the application is asked about (ServerConfig::ask_application). */
struct AuthorizationRequest {
    uint64_t client_id = 0; /**< answer with Server::authorize(client_id, …) */
    std::string address;    /**< peer address */
    std::string user_agent; /**< User-Agent as sent */
    std::string path;       /**< request target */
    std::string user;       /**< the authenticated user, "" without credentials */
};

/** A snapshot of one served client (IWMClientConnections2::GetClientInfo + stats). */
struct ClientInfo {
    uint64_t id = 0;        /**< unique per server, never reused */
    std::string address;    /**< peer IP address, text */
    uint16_t port = 0;      /**< peer port */
    std::string dns_name;   /**< reverse lookup, "" until resolved (asynchronous) */
    std::string user_agent; /**< User-Agent as sent */
    ClientProtocol protocol = ClientProtocol::Http;
    int64_t connected_at_us = 0;  /**< wall-clock time of connection, µs since the epoch */
    int64_t connected_for_us = 0; /**< how long it has been connected, µs */
    uint64_t bytes_sent = 0;      /**< bytes written to the socket, HTTP headers included */
    uint64_t packets_sent = 0;    /**< ASF data packets written completely */
    uint64_t bitrate_bps = 0;     /**< average send rate since connection, bits/s */
    int64_t lag_us = 0;           /**< how far behind live its next packet is, µs */
    uint64_t key_frame_skips = 0; /**< times it was moved forward to the newest key frame */
};

/** Where a client past the soft lag limit continues (tcpserversink's recover-policy). */
enum class RecoverPolicy {
    None,      /**< nowhere else: it stays until the hard limit removes it */
    Latest,    /**< at the newest packet (its decoder resynchronises at the next key frame) */
    KeyFrame,  /**< at the newest key-frame start: its next picture is clean */
    SoftLimit, /**< at the oldest key-frame start within the soft limit: loses the least */
};

/** Listener and client policy. */
struct ServerConfig {
    std::string address;  /**< bind address; "" = all interfaces, IPv4 and IPv6 (dual-stack) */
    uint16_t port = 8080; /**< 0 = pick a free port */
    int backlog = 1024;   /**< listen(2) backlog: room for a burst of connects */
    int max_clients = 5;  /**< streaming clients served at once; -1 = unlimited; over it → 503 */
    /** How lag behind live is measured for the two limits below (unit-format). */
    LagUnit lag_unit = LagUnit::Time;
    /** Soft limit (units-soft-max): a client further behind live is recovered
     *  with recover_policy; in lag_unit (µs, bytes or packets); -1 = none. */
    int64_t lag_soft_max = 5000000;
    /** Hard limit (units-max): a client further behind live is removed
     *  (reason slow). It is also how much stream is kept for slow clients, so
     *  it bounds memory; -1 = unlimited (memory then grows with the slowest
     *  client). */
    int64_t lag_max = 30000000;
    /** What happens to a client past the soft limit. */
    RecoverPolicy recover_policy = RecoverPolicy::KeyFrame;
    /** A client that accepts no byte for this long is removed (slow), µs; 0 = never. */
    int64_t timeout_us = 10000000;
    /** A connection must send its complete request within this time, µs
     *  (slowloris, idle connections). */
    int64_t request_timeout_us = 10000000;
    /**
     * New packets are written to clients at most this long after they arrive,
     * µs: packets arriving meanwhile go out together in one vectored send per
     * client. Fewer, larger sends cost far less CPU per byte (a loopback send
     * costs ~5 µs + 0.2 µs/KB); 0 = write every packet at once (lowest
     * latency, most CPU). Joins, headers and end of stream are never delayed.
     */
    int64_t flush_interval_us = 125000;
    /**
     * Threads that make a round's sends to plain-TCP clients, 0–16: the I/O
     * thread and io_threads − 1 helpers; 0 = automatic: 2 on a machine with
     * two cores or more, else 1 (config() gives the number in use). More
     * threads shorten a round on a multi-core machine, and so the latency of
     * the clients served last, for the cost of waking the helpers once per
     * 512 clients; the sends are the same.
     */
    unsigned io_threads = 0;
    /**
     * Run the I/O thread and its helpers under SCHED_FIFO at this priority,
     * 1–99 (kMaxRealtimePriority); 0 = the normal scheduler. Nothing else
     * then delays a round on its core, which shortens the rounds of the
     * low-latency setting on a busy machine. Needs CAP_SYS_NICE or an
     * RLIMIT_RTPRIO of at least the priority; without, open() succeeds, the
     * threads keep the normal scheduler and ServerEvents::warning() says why
     * (Errc::AccessDenied).
     */
    int io_realtime_priority = 0;

    /** Only peers in these CIDR ranges may connect; empty = everyone (checked at accept). */
    std::vector<std::string> allow;
    /** Peers in these CIDR ranges may not connect; wins over allow. */
    std::vector<std::string> deny;
    /** Viewer credentials (HTTP Digest or Basic before any stream byte); "" = none. */
    std::string user;
    std::string password;
    /** Realm shown in the credentials prompt. */
    std::string realm = "wmstream";
    /** Ask ServerEvents::authorize() about every viewer request (after the credentials). */
    bool ask_application = false;
    /** Serve HTTPS with this certificate (with its private key); null = plain HTTP. */
    std::shared_ptr<GTlsCertificate> tls_certificate;
};

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

/** Totals since open(). */
struct ServerStats {
    uint64_t bytes_sent = 0;           /**< all clients, all bytes */
    uint64_t clients_served = 0;       /**< clients admitted */
    uint64_t clients_refused = 0;      /**< 503 over max-clients */
    uint64_t clients_forbidden = 0;    /**< refused by address or by the application */
    uint64_t clients_unauthorized = 0; /**< refused for wrong credentials */
    /** Connections closed because their TLS handshake failed (no request read, not reported
     *  as clients): plain HTTP to a TLS port, an untrusted certificate, a port scanner. */
    uint64_t tls_handshakes_failed = 0;
    uint64_t packets_in = 0; /**< data packets pushed */
    uint64_t bytes_in = 0;   /**< data bytes pushed */
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

    /** Clients being served now. */
    size_t num_clients() const;
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
