/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One connection of the fan-out server (internal to lib/). Lives on the
 * server's I/O thread only: reads and answers the request (MS-WMSP
 * §3.2.5, plain HTTP), then streams the header and shared packets with
 * batched vectored writes, and finally closes gracefully.
 */
#pragma once

#include "proto/asf-filter.h"
#include "proto/asf.h"
#include "proto/framing.h"
#include "proto/http-request.h"
#include "proto/wmsp-request.h"
#include "server/access.h"
#include "server/admission.h"
#include "server/fast-start-pacer.h"
#include "server/packet-log.h"
#include "server/send-queue.h"
#include "server/stream-store.h"
#include "server/stream-switch.h"
#include "server/thinning.h"
#include "server/transport.h"
#include "server/types.h"
#include "server/write-coalescing.h"

#include <gio/gio.h>

#include <atomic>
#include <bitset>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace wmstream::server {

class Connection;

/** What became of a SelectStream request (MS-WMSP §2.2.2.8). */
enum class SwitchOutcome {
    Switched,  /**< the client switches at the new streams' key frames */
    NoStreams, /**< its entries leave none of the header's streams: nothing changed */
    NoSession, /**< no Play being served has that client-id (from that address) */
};

/** What a client needs from its server besides the stream; implemented by Server::Impl,
 *  called on the I/O thread. */
class ConnectionHost {
public:
    virtual ~ConnectionHost() = default;
    /** Admit a client (server/admission.h): a streaming one is counted when admitted; a
     *  Describe (Connection::describe()) is never counted, nor refused. */
    virtual Decision admit(Connection &client) = 0;
    /** The client is done; the host destroys it later on the I/O thread. */
    virtual void finished(Connection &client, RemoveReason reason) = 0;
    /** Bytes written by any client (totals). */
    virtual void count_sent(size_t bytes) = 0;
    /** A connection's TLS handshake failed (totals); it is closed unreported. */
    virtual void count_tls_failure() = 0;
    /** @p client's ClientHello arrived: true when its handshake may start now; else the
     *  host calls Connection::begin_handshake() when its turn comes. */
    virtual bool may_handshake(Connection &client) = 0;
    /** @p client's handshake ended, either way. */
    virtual void handshaken(Connection &client) = 0;
    /** @p client's request is answered (the answer is being written, then it closes). */
    virtual void answered(Connection &client) = 0;
    virtual const ServerConfig &config() const = 0;
    /** The credentials checker, or null when no viewer credentials are set. */
    virtual const access::Authenticator *authenticator() const = 0;
    /** The status view's credentials checker, or null when it is open to anyone. */
    virtual const access::Authenticator *status_authenticator() const = 0;
    /** The status view (ServerConfig::status_path) now: the HTML page, or with @p json its
     *  JSON (server/status-page.h). */
    virtual std::string status_document(bool json) const = 0;
    /** Ask the application about @p client (ServerConfig::ask_application);
     *  the answer comes as Connection::authorized(). */
    virtual void ask(Connection &client, const std::string &path, const std::string &user) = 0;
    /** A SelectStream from @p from for the playing client given Pragma client-id
     *  @p client_id from the same address (Connection::switch_streams()). */
    virtual SwitchOutcome
    switch_streams(const Connection &from, uint32_t client_id,
                   const std::vector<proto::wmsp::StreamSwitchEntry> &entries) = 0;
};

class Connection {
public:
    /** Serves the connection @p transport (non-blocking, connected), watched by @p poller,
     *  with the stream in @p store. */
    Connection(ConnectionHost &host, const StreamStore &store, uint64_t id,
               std::unique_ptr<Transport> transport, Poller &poller);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    uint64_t id() const { return id_; }
    /** True for a distribution server (proto::wmsp::ClientRequest::relay), once its request
     *  is read. */
    bool relay() const { return request_.relay; }
    /** True for a Describe (answered with the header only, never counted). */
    bool describe() const { return request_.kind == proto::wmsp::Kind::Describe; }
    /** True once admitted as a streaming client (counted against max-clients). */
    bool streaming() const { return streaming_.load(std::memory_order_relaxed); }
    /** True while the request is still being read (not yet answered). */
    bool reading_request() const { return state_ == State::ReadingRequest; }
    /** Monotonic time of connection, µs. */
    int64_t connected_us() const { return connected_mono_us_; }
    /** Where the host keeps it in its list of live clients (the host's to use). */
    size_t live_index = 0;

    /** Start: read the request (TLS: once the handshake that starts when the ClientHello
     *  arrives is done). */
    void start();
    /** Run the TLS handshake, after ConnectionHost::may_handshake() said to wait. */
    void begin_handshake();
    /** New data or a new header may be available: write what can be written. */
    void wake();
    /** The application's answer to ConnectionHost::ask(). */
    void authorized(bool allowed);
    /* A round served by several threads (ServerConfig::io_threads > 1) does
     * what wake() does in three steps, so that only the sends run in parallel. */
    /** Up to this many vectors per send: a batch of a client that receives some of the
     *  streams is ~64 KiB in packets of a few hundred bytes, each with its $D head. */
    static constexpr size_t kMaxVectors = 256;
    /**
     * Step 1, on the I/O thread: queue what is new and put the first send's
     * buffers into @p vectors (kMaxVectors). @return their count; 0 when
     * there is nothing to send in parallel (wake() then did its work).
     */
    size_t prepare_round_send(GOutputVector *vectors);
    /**
     * Step 2, on any thread while the I/O thread does nothing else: that send
     * (Transport::send()); fails with G_IO_ERROR_CLOSED for a client removed
     * since step 1.
     */
    gssize round_send(const GOutputVector *vectors, size_t count, GError **error);
    /** Step 3, on the I/O thread: the send's result; goes on as wake() would. */
    void complete_round_send(gssize n, const GError *error);
    /**
     * In a round at @p now_us (monotonic), before wake() or prepare_round_send(): whether
     * its new packets wait in the log (ServerConfig::max_write_delay_us,
     * server/write-coalescing.h), for a client that receives some of the streams and
     * streams steadily (not joining or starting, switching, thinned, closing, with bytes
     * queued or a new header to send). A decision to wait is kept until its Recheck says
     * otherwise (or the client does anything else): the rounds in between read the store's
     * counters and wait_ only.
     * @return when a round must come back to it at the latest, monotonic µs (INT64_MAX:
     *         nothing waits), or nullopt: serve it now.
     */
    [[nodiscard]] std::optional<int64_t> deferred(int64_t now_us);
    /** True for a client whose writes wait to gather bytes (deferred()): a few ms of a
     *  round are nothing to it, so a round served by several threads serves it with
     *  wake() on the I/O thread, start to end, as one thread would. */
    bool coalesced() const { return filtered_ && coalescing_.enabled(); }
    /** Periodic check (a quarter of the shortest timeout, 20 ms – 1 s): request timeout,
     *  write timeout, end of the linger after a graceful close. */
    void tick(int64_t now_us);
    /** Close at once with @p reason (application disconnect, server close). */
    void abort(RemoveReason reason);

    /** The Pragma client-id it was given (MS-WMSP §3.2.5.2). */
    uint32_t wmsp_client_id() const { return client_id_; }
    /** True for a Play whose stream is being sent. */
    bool playing() const;
    /**
     * SelectStream (MS-WMSP §2.2.2.8, §3.2.5.7) for this client, which must
     * be playing(): @p entries applied to what it receives
     * (proto::wmsp::switch_streams()), the switch made as StreamSwitch says;
     * a later header ($C) keeps the switched selection. On the I/O thread.
     * @return Switched, or NoStreams (nothing changed).
     */
    SwitchOutcome switch_streams(const std::vector<proto::wmsp::StreamSwitchEntry> &entries);

    /** Snapshot for get-stats; safe from any thread. */
    ClientInfo info() const;
    /** Set the reverse DNS name (from the resolver). */
    void set_dns_name(std::string name);
    /** The peer address, for the resolver; null when unknown. */
    GInetAddress *peer_address() const { return peer_address_; }

private:
    enum class State { ReadingRequest, Authorizing, WaitingHeader, Streaming, Closing, Done };

    /** After a join, packets are filtered for leading fragments at most this many
     *  packets long: a stream that never begins must not make every packet a copy. */
    static constexpr uint16_t kStartingPackets = 256;

    static void on_hello(void *self);
    static void on_started(void *self, const GError *error);
    static void on_readable(void *self);
    static void on_writable(void *self);

    void read_request();
    void answer(const proto::http::Request &request);
    /** The credentials @p auth checks, when not null: false when refused (the answer is
     *  queued). */
    bool check_credentials(const proto::http::Request &request, const access::Authenticator *auth);
    bool admit_viewer(const proto::http::Request &request);
    /** Answer a .asx request with the announcement naming the stream. */
    void announce(const proto::http::Request &request);
    /** Answer a status request (StatusPage, StatusData) behind the status credentials. */
    void serve_status(const proto::http::Request &request);
    /** Queue a document's answer: @p head, then @p body unless the request was a HEAD (RFC
     *  9110 §9.3.2: the head's Content-Length stays the body's). */
    void queue_document(std::string head, const std::string &body);
    void serve_viewer();
    void answer_with_header();
    /** Queue the packets the store has for us; @return true when a full batch was queued
     *  (the log may have more). */
    bool refill();
    void flush();
    /** Write until the socket is full or kMaxSendsPerWake sends (@p sends made already);
     *  @p more_in_log: false once a refill did not fill a batch (it took everything). */
    void continue_flush(int sends, bool more_in_log);
    /** Refill when empty; @return true when bytes wait to be sent. Otherwise the
     *  client is idle (no writable watch) or closing. */
    bool ready_to_send(bool &more_in_log);
    /** The buffers of the next send, at most kMaxVectors. @return their count. */
    size_t gather(GOutputVector *vectors) const;
    /** Account a send's result; @return true when the next may follow at once. */
    bool sent(gssize n, const GError *error);
    void drain_input();
    void finish_then_close(RemoveReason reason);
    void finish(RemoveReason reason);
    void watch_writable(bool on);

    void queue_string(std::string text);
    void begin_closing();
    /** Half-close, or (TLS, socket full) wait until writable to do it. */
    void half_close();
    void queue_header();
    /** @return the bytes queued of it (0: none of it is sent). */
    size_t queue_packet(PacketRef packet, bool join);
    /** When the merged run of its selection begins at @p packets[@p i] and the batch holds
     *  all of it, queue the run as one `$D` and move @p i to its last packet. @return the
     *  bytes queued (0: no run here; @p i unchanged). */
    size_t queue_run(const std::vector<PacketRef> &packets, size_t &i);
    /** Queue @p size bytes at @p data (kept alive by @p keep) as one data packet: behind a
     *  `$D` head for a Play. @return @p size. */
    size_t queue_data(std::shared_ptr<const void> keep, const uint8_t *data, size_t size);
    /** Watch selection_'s runs (watch_) when it sends them, else stop. */
    void update_watch();
    /** The streams of @p header it receives (proto::wmsp::select_streams), through
     *  apply_selection(); a switch in progress ends. @return false when it selects none. */
    bool select(const StreamHeader &header);
    /** ServerConfig::via_name for a relay's answers, "" for a viewer's. */
    std::string relay_via() const;
    /** A request that came round a loop of relays (proto::wmsp::is_loop) is answered 508
     *  and closed (reason Loop): true. */
    bool refuse_loop();
    /** True for Verdict::Admit; else the answer (503, or 302 to the edge) is queued and the
     *  connection closes (reason OverLimit or Redirected). */
    bool admitted(const Decision &decision);
    /** Receive @p selection of @p header's streams: sets selection_, filtered_,
     *  key_streams_, thin_selection_ and the stats. */
    void apply_selection(const proto::asf::StreamSelection &selection,
                         const proto::asf::HeaderInfo &header);
    /** key_streams_ when it receives some of the video streams, else null (any key frame):
     *  where its joins and recoveries start (StreamStore::join_point(), fetch()). */
    const std::bitset<128> *own_key_streams() const {
        return filtered_ && key_streams_.any() ? &key_streams_ : nullptr;
    }
    /** After a packet is queued: a switch whose new streams have all begun (or whose start
     *  filter gave up, starting_left_ 0) ends with its target alone. */
    void settle_switch();
    /** Answer a Play that selects no stream: 400, removed with reason NoStreams. */
    void refuse_without_streams();
    /** Send $E (to a Play) and close with @p reason. */
    void end_stream(RemoveReason reason);
    /** While the stream (re)starts: what of @p bytes (a packet) may be sent, and the
     *  streams begun (proto::asf::drop_unstarted_payloads). */
    proto::asf::PacketFilter starting_filter(const std::vector<uint8_t> &bytes);
    /** Recover policy Thin, before a batch that lags @p behind (Batch::behind). */
    void update_thinning(int64_t behind);
    /** ClientInfo::thinning after thinning_ changed mode. */
    void note_thinning();
    /** What deferred() decided no longer stands: the client queued, sent, selected or closed. */
    void forget_wait() { wait_ = Recheck{}; }

    /* Touched by every round, kept together: a round visits every client, and
     * the lines it reads are the per-client cost on top of the send. */
    ConnectionHost &host_;
    const StreamStore &store_;
    /** deferred()'s last decision to wait, until it no longer holds; any other step of the
     *  client forgets it (forget_wait()). */
    Recheck wait_;
    std::unique_ptr<Transport> transport_;
    std::unique_ptr<Transport::Watch> write_watch_;
    State state_ = State::ReadingRequest;
    bool close_after_flush_ = false;
    bool need_key_ = false;
    bool filtered_ = false; /**< selection_ leaves out some payloads: packets are variants */
    bool end_sent_ = false;
    bool round_more_in_log_ = false; /**< refill()'s answer between round steps 1 and 3 */
    uint32_t data_counter_ = 0;      /**< $D LocationId / AFFlags sequence of this Play */
    /** Packets its stream's start is still filtered for (starting_filter()); 0 = started. */
    uint16_t starting_left_ = 0;
    int64_t last_progress_us_ = 0;
    uint64_t next_seq_ = 0;
    int64_t start_lag_units_ = 0; /**< StreamStore::fetch()'s start_lag */
    uint64_t header_generation_ = 0;
    SendQueue out_;
    WriteCoalescing coalescing_; /**< when it writes, with filtered_ (deferred()) */
    std::atomic<uint64_t> bytes_sent_{0};
    std::atomic<uint64_t> packets_sent_{0};
    std::atomic<int64_t> lag_us_{0};
    std::atomic<int64_t> start_lag_us_{-1}; /**< ClientInfo::start_lag_us */
    proto::wmsp::ClientRequest request_;    /* its kind first */

    const uint64_t id_;
    Poller &poller_;
    std::unique_ptr<Transport::Watch> read_watch_;
    std::unique_ptr<Poller::Watch> hello_watch_; /* TLS: the socket until the ClientHello */
    bool handshaken_ = false;                    /* plain TCP: from start() */
    /** Until handshaken_: when the handshake times out, monotonic µs (a handshake waiting
     *  its turn waits no longer than a request). */
    int64_t handshake_deadline_us_ = 0;
    GInetAddress *peer_address_ = nullptr;
    std::string request_bytes_;
    proto::http::ScanProgress scanned_; /**< how far request_bytes_ was scanned */
    /* Written on the I/O thread, read by clients() and client() on the application's. */
    std::atomic<bool> streaming_{false};
    RemoveReason close_reason_ = RemoveReason::ClosedByPeer;
    int64_t closing_since_us_ = 0;
    uint32_t client_id_ = 0; /**< Pragma client-id we assign (MS-WMSP §3.2.5.2) */
    std::string user_;       /**< the authenticated viewer, "" without credentials */

    /* The start of its stream (issue 17): after each join, until every audio
     * and video stream has begun with a media object's first payload, or for
     * at most kStartingPackets packets (starting_left_), the payloads of the
     * others are left out: those packets are copies. */
    StreamHeaderRef header_;   /**< the header queued last, which the packets follow */
    std::bitset<128> started_; /**< streams begun since the last join, by stream number */

    /* The streams it receives (MS-WMSP §3.2.5.6), from its Play and header_. */
    proto::asf::StreamSelection selection_;
    std::bitset<128> key_streams_; /**< the video streams of selection_: joins start at theirs */
    /* Recover policy Thin (server/thinning.h): whether its video is thinned now, and
     * selection_ with key_streams_ thinned to key frames, what it then receives. */
    Thinning thinning_;
    proto::asf::StreamSelection thin_selection_;
    /** A SelectStream in progress: selection_ is its during() until it is done. */
    std::optional<StreamSwitch> switch_;
    /* Its share in merging selection_'s runs (server/selection-runs.h): a `$D` client that
     * selected some of the streams, while no switch is in progress; null otherwise, or when
     * the store merges for as many other selections as it can. */
    std::unique_ptr<SelectionWatch> watch_;
    /** Its Play's fast start (proto::wmsp::FastStart), until it has caught up with live. */
    std::optional<FastStartPacer> pacer_;

    const int64_t connected_mono_us_;

    mutable std::mutex info_lock_;
    ClientInfo info_; /* Protected by info_lock_ (strings); the counters are atomic */
    std::atomic<uint64_t> skips_{0};
};

} // namespace wmstream::server
