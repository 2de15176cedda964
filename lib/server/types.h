/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fan-out server's vocabulary: what Server, its connections, its stream
 * store and its listener all speak (protocols, removal reasons, client
 * snapshots, the configuration and the totals). Public: server.h includes
 * it. Includes only GIO.
 */
#pragma once

#include "base/thread-hook.h"

#include <gio/gio.h>

#include <bitset>
#include <cstdint>
#include <memory>
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
    NoStreams,    /**< refused: its stream-switch-entry selects none of the header's streams (400,
                       MS-WMSP §3.2.5.6) */
    Removed,      /**< the application removed this one client (Server::remove) */
    Redirected,   /**< sent to an edge instead (302; ServerConfig::edges) */
    Loop,         /**< refused: a relay loop, its Via names this server or its Max-Forwards
                       is 0 (508, proto::wmsp::is_loop) */
};
/** "closed", "disconnected", "slow", "error", "over-limit", "eos", "forbidden", "unauthorized",
 *  "no-streams", "removed", "redirected", "loop" */
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
    /** A distribution server (proto::wmsp::ClientRequest::relay), counted against
     *  ServerConfig::max_relays instead of max_clients. */
    bool relay = false;
    int64_t connected_at_us = 0;  /**< wall-clock time of connection, µs since the epoch */
    int64_t connected_for_us = 0; /**< how long it has been connected, µs */
    uint64_t bytes_sent = 0;      /**< bytes written to the socket, HTTP headers included */
    uint64_t packets_sent = 0;    /**< ASF data packets written completely (a merged run:
                                   *   one, server/selection-runs.h) */
    uint64_t bitrate_bps = 0;     /**< average send rate since connection, bits/s */
    int64_t lag_us = 0;           /**< how far behind live its next packet is, µs */
    uint64_t key_frame_skips = 0; /**< times it was moved forward to the newest key frame */
    /** How far behind live its stream began (the join point's age when it joined: fast
     *  start and the key-frame interval), µs; -1 until it began. */
    int64_t start_lag_us = -1;
    /** The ASF streams it receives (bit = stream number; MS-WMSP §3.2.5.6; every stream
     *  for plain HTTP clients); none until it is answered. */
    std::bitset<128> selected_streams;
    /** The highest thinning level of those streams (MS-WMSP §2.2.1.4.27): 0 whole, 1 some
     *  thinned to key frames (by its Play, or now by recover policy Thin). */
    unsigned thinning = 0;
};

/** Where a client past the soft lag limit continues (tcpserversink's recover-policy). */
enum class RecoverPolicy {
    None,      /**< nowhere else: it stays until the hard limit removes it */
    Latest,    /**< at the newest packet (its decoder resynchronises at the next key frame) */
    KeyFrame,  /**< at the newest key-frame start: its next picture is clean */
    SoftLimit, /**< at the oldest key-frame start within the soft limit: loses the least */
    /** Where it is, with its audio whole and only the key frames of its video until it has
     *  caught up (lag at most half the soft limit), then full video from a key frame
     *  (server/thinning.h; MS-WMSP thinning level 1, invisible to the client). */
    Thin,
};

/** How lag behind live is measured (tcpserversink's unit-format). */
enum class LagUnit {
    Time,    /**< µs between the packet's arrival and the newest packet's */
    Bytes,   /**< bytes from the packet to the end of the log */
    Packets, /**< packets from the packet to the end of the log */
};

/**
 * What a player buffers beyond the header's preroll before it starts, ms:
 * VLC's 1 s network caching and its 100 ms demux chunk, and a margin for a
 * key frame. Automatic fast start gives a joiner preroll + this at once.
 */
constexpr int64_t kFastStartMarginMs = 1200;

/** Listener and client policy. */
struct ServerConfig {
    std::string address;  /**< bind address; "" = all interfaces, IPv4 and IPv6 (dual-stack) */
    uint16_t port = 8080; /**< 0 = pick a free port */
    int backlog = 1024;   /**< listen(2) backlog: room for a burst of connects */
    int max_clients = 5;  /**< streaming viewers served at once; -1 = unlimited; over it → 503 */
    /** Distribution servers (User-Agent NSServer/ or WMCacheProxy/, or a Via header; MS-WMSP
     *  §4.11, §4.12) streamed at once, apart from max_clients; -1 = unlimited, 0 = none;
     *  over it → 503. */
    int max_relays = 4;
    /** The pseudonym (RFC 9110 §7.6.3 received-by) of this server in the `Via: 1.1 <name>`
     *  of its answers to relays; "" = automatic: the host name and the bound port
     *  ("host:8080"); config() gives the one in use. */
    std::string via_name;
    /** Other servers' URLs (absolute http:// or https://; open() refuses others,
     *  InvalidArgument): when max_clients viewers are served, a new viewer gets `302 Found`
     *  to the next one in turn, its Location the URL as given, instead of 503. Empty =
     *  refuse (503). */
    std::vector<std::string> edges;
    /** How lag behind live is measured for the two limits below (unit-format). */
    LagUnit lag_unit = LagUnit::Time;
    /** Soft limit (units-soft-max): a client further behind live than this
     *  beyond where its stream began (fast start) is recovered with
     *  recover_policy; in lag_unit (µs, bytes or packets); -1 = none. */
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
     *  (slowloris, idle connections); a Describe that arrives before the first
     *  header is closed when it has waited this long since its connection. */
    int64_t request_timeout_us = 10000000;
    /** A TLS connection must send its ClientHello within this time of its connection, and
     *  finish its handshake within this time of its start, µs (silent connections, half a
     *  ClientHello). A handshake waiting its turn (max_handshakes) waits at most
     *  request_timeout_us from the connection. */
    int64_t handshake_timeout_us = 3000000;
    /**
     * Connections held at once before they are admitted or answered (a TLS
     * handshake, a request being read, the application being asked, a
     * Describe waiting for the first header), ≥ 1: each holds a descriptor.
     * When full, the oldest one older than 0.5 s is closed to make room; while
     * none is, new connections wait in the listen backlog.
     */
    int max_connecting = 512;
    /** The same per peer address, ≥ 1: over it, the address's oldest connection older than
     *  0.5 s is closed to make room, or the new one is refused (closed at once). */
    int max_connecting_per_address = 64;
    /**
     * TLS handshakes running at once, ≥ 1: each holds a thread of GIO's
     * shared pool (10 threads, growing slowly) while it runs; more wait their
     * turn. A handshake starts only once its ClientHello arrived, so silent
     * connections take none.
     */
    int max_handshakes = 16;
    /** The same per peer address, ≥ 1. */
    int max_handshakes_per_address = 4;
    /**
     * New packets are written to clients at most this long after they arrive,
     * µs: packets arriving meanwhile go out together in one vectored send per
     * client. Fewer, larger sends cost far less CPU per byte (a loopback send
     * costs ~5 µs + 0.2 µs/KB); 0 = write every packet at once (lowest
     * latency, most CPU). Joins, headers and end of stream are never delayed.
     */
    int64_t flush_interval_us = 125000;
    /**
     * A client that receives some of the streams (MS-WMSP §3.2.5.6, e.g. the
     * low-rate stream of a multiple-bit-rate broadcast) writes its new
     * packets once it has about WriteCoalescing::kMinBytes (64 KiB) to write,
     * or when the oldest of them has waited this long, µs, whichever comes
     * first (server/write-coalescing.h): a send costs about the same whatever
     * it carries. −1 = automatic: WriteCoalescing::kAutoRounds (8) rounds,
     * 1 s at the default flush_interval_us, none with flush_interval_us 0.
     * 0 (or not more than flush_interval_us) = every round, as clients that
     * receive every stream, which are never delayed. Joins, headers, end of
     * stream, stream switches and clients past half a lag limit are never
     * delayed either.
     */
    int64_t max_write_delay_us = -1;
    /**
     * Fast start (issue 17; Windows Media's fast start, MS-WMSP §2.2.1.4):
     * a client that joins starts at the newest key-frame start at least this
     * much stream (ms of send time) before the newest packet, and gets
     * everything from there at once, so that its player fills its preroll at
     * once instead of in real time. The player then plays that much (up to
     * one key-frame interval more) behind live. Bounded by what the packet
     * log holds (lag_max), and never a join point further behind than
     * lag_soft_max (which then counts from the join point).
     * 0 = the newest key-frame start (least delay); -1 = automatic: the
     * served header's preroll + kFastStartMarginMs, what a player needs to
     * start at once (docs/protocol.md, "Fast start").
     */
    int64_t fast_start_ms = -1;
    /**
     * The preroll written in the served header (ASF File Properties), ms;
     * presentation times move with it. Players buffer a preroll's worth of
     * stream before they start (VLC, and asfdemux at a stream's start, in
     * real time when fast start cannot give it at once). -1 = the muxer's
     * (asfmux: 5000, which makes players wait 5 s at a stream's start and
     * joiners 6 s behind live).
     */
    int64_t preroll_ms = 1000;
    /**
     * Which streams of the served header are alternatives of one content at
     * different bit rates (a multiple-bit-rate broadcast; players choose one
     * of each group): "" or "auto" = every video stream when there are two or
     * more; "none" = none; else groups of stream numbers, ';' between groups,
     * ',' within ("1,2,3"). Written as Bitrate Mutual Exclusion Objects with a
     * Stream Bitrate Properties Object (proto::asf::add_bitrate_objects);
     * open() refuses a malformed value (InvalidArgument).
     */
    std::string mutual_exclusion;
    /** Average bit rates written in the served header, "NUMBER:BITS" items separated by
     *  ','("1:300000,2:700000"), bits/s; streams not named: audio its format's rate, video
     *  0 (unknown). "" = none. */
    std::string stream_bitrates;
    /**
     * Threads that make a round's sends to plain-TCP clients, 0–16: the I/O
     * thread and io_threads − 1 helpers; 0 = automatic: 2 on a machine with
     * two cores or more, else 1 (config() gives the number in use). More
     * threads shorten a round on a multi-core machine, and so the latency of
     * the clients served last, for the cost of waking the helpers once per
     * 512 clients; the sends are the same. Clients whose writes wait
     * (max_write_delay_us) are served by the I/O thread alone.
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
    /**
     * The operator's status view (server/status-page.h): GET of this path
     * answers the HTML page, of this path + ".json" the same as JSON; neither
     * is a viewer (not counted, not reported, not asked about). "" = off.
     * Must start with '/'. open() refuses it (InvalidArgument) without
     * status_user unless status_open is set.
     */
    std::string status_path;
    /** Credentials of the status view (Digest or Basic, realm `realm` + " status"). */
    std::string status_user;
    std::string status_password;
    /** Serve the status view to anyone, without credentials (an explicit opt-out). */
    bool status_open = false;
    /** Serve HTTPS with this certificate (with its private key); null = plain HTTP. */
    std::shared_ptr<GTlsCertificate> tls_certificate;
    /** Told about the I/O thread ("server-io") and the send helpers ("server-sender") as
     *  open() starts them and close() ends them (base/thread-hook.h); empty = nothing. GIO's
     *  own threads (name lookups, TLS handshakes) are not the server's and are not told. */
    ThreadHook thread_hook;
};

/** Totals since open(). */
struct ServerStats {
    uint64_t bytes_sent = 0;           /**< all clients, all bytes */
    uint64_t clients_served = 0;       /**< clients admitted */
    uint64_t clients_refused = 0;      /**< 503 over max-clients or max-relays */
    uint64_t clients_forbidden = 0;    /**< refused by address or by the application */
    uint64_t clients_unauthorized = 0; /**< refused for wrong credentials */
    uint64_t loops_refused = 0;        /**< requests refused as relay loops (508) */
    uint64_t clients_redirected = 0;   /**< 302 answers sent to an edge (ServerConfig::edges) */
    /** Connections closed because their TLS handshake failed or did not finish within
     *  handshake_timeout_us (no request read, not reported as clients): plain HTTP to a TLS
     *  port, an untrusted certificate, a port scanner, a silent connection. */
    uint64_t tls_handshakes_failed = 0;
    /** Connections refused at accept: their address already had max_connecting_per_address
     *  connections held, none older than 0.5 s (closed at once, not reported as clients). */
    uint64_t connections_refused = 0;
    /** Connections held before admission that were closed to make room for a new one
     *  (max_connecting or max_connecting_per_address reached; not reported as clients). */
    uint64_t connections_evicted = 0;
    uint64_t packets_in = 0; /**< data packets pushed */
    uint64_t bytes_in = 0;   /**< data bytes pushed */
};

} // namespace wmstream::server
