/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Server::Impl, shared by its two files: server.cpp (lifecycle, the
 * registry of connections, name lookups, totals) and rounds.cpp (the send
 * rounds: when and how the clients are served). The stream lives in a
 * StreamStore, the listening socket in a Listener. Internal to lib/server.
 */
#pragma once

#include "base/event-loop.h"
#include "server/access.h"
#include "server/admission.h"
#include "server/connection.h"
#include "server/fork-join.h"
#include "server/intake.h"
#include "server/listener.h"
#include "server/poller.h"
#include "server/report-budget.h"
#include "server/server.h"
#include "server/status-page.h"
#include "server/stream-store.h"

#include <gio/gio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace wmstream::server {

/*
 * Threads: the application calls open/close/set_accepting/disconnect_all/
 * remove/authorize, the streaming thread set_header/push_packet/end_of_stream/
 * reset_stream/clear_stream; everything else runs on the I/O thread.
 *
 * Lock order: clients_lock_ before Connection::info_lock_ (clients(),
 * client()). lock_ and the store's lock are leaves: no other lock of ours is
 * taken while either is held (lock_ wraps GLib source calls only), so no two
 * of lock_, clients_lock_ and the store's lock are ever held together.
 */
class Server::Impl : public ConnectionHost {
public:
    explicit Impl(ServerEvents *events) : events_(events), store_(LagLimits::of(ServerConfig())) {}
    ~Impl() override { close(); }

    Result<uint16_t> open(const ServerConfig &config);
    void close();
    void set_accepting(bool accepting);
    void disconnect_all();
    bool remove(uint64_t client_id);
    Status set_header(const uint8_t *data, size_t len);
    Status push_packet(const uint8_t *data, size_t len);
    void end_of_stream() { serve(store_.end_of_stream()); }
    void reset_stream() { serve(store_.reset()); }
    void clear_stream() { store_.clear(); }
    std::vector<ClientInfo> clients() const;
    std::optional<ClientInfo> client(uint64_t id) const;
    void authorize(uint64_t client_id, bool allowed);

    bool is_open() const { return open_.load(); }
    uint16_t port() const { return port_.load(); }
    size_t num_clients() const { return counters_.streaming.load(); }
    size_t num_relays() const { return counters_.relays.load(); }
    ServerStats stats() const { return counters_.totals(); }
    ServerConfig config_copy() const {
        std::lock_guard<std::mutex> locker(lock_);
        return config_;
    }

    /* ConnectionHost, called on the I/O thread. */
    Decision admit(Connection &client) override;
    void finished(Connection &client, RemoveReason reason) override;
    void count_sent(size_t bytes) override {
        counters_.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
    }
    void count_tls_failure() override {
        counters_.tls_failures.fetch_add(1, std::memory_order_relaxed);
    }
    bool may_handshake(Connection &client) override { return intake_.hello(client.id()); }
    void handshaken(Connection &client) override {
        start_handshakes(intake_.handshaken(client.id()));
    }
    void answered(Connection &client) override { start_handshakes(intake_.leave(client.id())); }
    const ServerConfig &config() const override { return io_config_; }
    const access::Authenticator *authenticator() const override { return authenticator_.get(); }
    const access::Authenticator *status_authenticator() const override {
        return status_authenticator_.get();
    }
    std::string status_document(bool json) const override;
    void ask(Connection &client, const std::string &path, const std::string &user) override;
    SwitchOutcome
    switch_streams(const Connection &from, uint32_t client_id,
                   const std::vector<proto::wmsp::StreamSwitchEntry> &entries) override;

private:
    /** Rounds due within this of their first packet may find the streaming thread still
     *  handing that packet's burst over (see on_wake). */
    static constexpr int64_t kBurstWindowUs = 2000;
    /** Refused connections (allow/deny, credentials, max-clients) reported one by one: this
     *  many at once, then this many per second; the totals count every one. */
    static constexpr unsigned kRefusalBurst = 10;
    static constexpr unsigned kRefusalsPerSecond = 10;

    /* server.cpp */
    /** ServerConfig::io_realtime_priority for the I/O thread and the helpers; a refusal is a
     *  warning. */
    void set_io_priority(int priority);
    void for_each_client(const std::function<void(Connection &)> &fn);
    /** Client @p id, or null; on the I/O thread. */
    Connection *find(uint64_t id);
    void resolve(Connection &client);
    /* From the listener, on the I/O thread. */
    void accepted(GSocket *socket);
    void refused(const std::string &address, uint16_t port);
    void paused(const std::string &why);
    /** Whether a refusal is reported (refusals_); past the budget, one warning says so. */
    bool report_refusal();
    /** ListenerCallbacks::room: below the intake's global cap, or its oldest may be closed
     *  to make room (accepted() closes it). */
    bool room() const;
    /** Close connection @p id (held by the intake) to make room for a new one. */
    void evict(uint64_t id);
    /** Begin the handshakes of these connections, whose turn came. */
    void start_handshakes(const std::vector<uint64_t> &ids);
    static gboolean on_tick(gpointer self);
    static gboolean on_reap(gpointer self);
    static gboolean on_release(gpointer self);
    static void on_resolved(GObject *resolver, GAsyncResult *result, gpointer data);

    /* rounds.cpp */
    /** The source whose dispatch serves a round (on_wake), not attached yet. */
    GSource *make_wake_source();
    /** Schedule the round a change to the store made @p due. */
    void serve(Due due);
    /** Serve every client now (header, end of stream, flush). */
    void wake();
    /** Serve every client within flush_interval_us (new packets). */
    void schedule_flush();
    static gboolean on_wake(gpointer self);
    /** Serve one slice of the round: live_ from round_.next on, kClientsPerDispatch at most. */
    void serve_slice();
    /** The same, with the sends spread over round_.senders. */
    void serve_slice_parallel();
    /** True when @p client's writes wait this round (Connection::deferred()); its due time
     *  then counts in round_.deferred_due_us. */
    bool deferred(Connection &client);
    /** When the next round is due (schedule_: a flush or a deferred write); lock_ held. */
    int64_t next_round_us() const;

    /** A pending reverse lookup: which client it is for. */
    struct Lookup {
        Impl *impl;
        uint64_t id;
    };
    /** When the next round is due. */
    struct Schedule {
        GSource *wake_source = nullptr; /* the pointer; the source itself is thread-safe */
        bool pending = false;           /* a round is due at due_us */
        int64_t due_us = 0;
        bool in_round = false; /* a round is being served in slices */
        /* A round is due then for writes that wait (Connection::deferred), unless a packet
         * brings one (pending); INT64_MAX = none. */
        int64_t deferred_us = INT64_MAX;
    };
    /** Who made the next round due (see on_wake). */
    struct Waker {
        /* The CPU of the thread whose packet made the next round due, when track is set;
         * -1 = none. */
        std::atomic<int> cpu{-1};
        /* The I/O thread runs SCHED_FIFO and rounds are due within kBurstWindowUs. */
        std::atomic<bool> track{false};
    };
    /** One prepared send of a round served by several threads. */
    struct RoundSend {
        Connection *client;
        size_t first; /* its vectors in Round::vectors */
        size_t count;
        gssize result;
        GError *error;
    };
    /** The round being served. */
    struct Round {
        size_t next = 0;                     /* the next of live_ it reaches */
        int64_t now_us = 0;                  /* when it started, monotonic */
        int64_t deferred_due_us = INT64_MAX; /* the earliest due time of those it deferred */
        std::unique_ptr<ForkJoin> senders;   /* with io_threads > 1: its helpers */
        std::vector<RoundSend> sends;
        std::vector<GOutputVector> vectors; /* the sends' buffers, packed; grows as needed */
    };
    /** Removed connections, destroyed once the I/O thread is back in its main loop. */
    struct Reap {
        GSource *source = nullptr;
        std::vector<std::unique_ptr<Connection>> dead;
        GSource *release = nullptr; /* release_free_heap() once a burst has been over a while */
    };
    /** The counters behind num_clients() and stats(), updated from any thread. */
    struct Counters {
        std::atomic<size_t> streaming{0}; /* clients being served now, relays included */
        std::atomic<size_t> relays{0};    /* relays being served now */
        /* ServerStats' totals, zeroed by open(). */
        std::atomic<uint64_t> bytes_sent{0};
        std::atomic<uint64_t> clients_served{0};
        std::atomic<uint64_t> clients_refused{0};
        std::atomic<uint64_t> clients_forbidden{0};
        std::atomic<uint64_t> clients_unauthorized{0};
        std::atomic<uint64_t> loops_refused{0};
        std::atomic<uint64_t> clients_redirected{0};
        std::atomic<uint64_t> tls_failures{0};
        std::atomic<uint64_t> connections_refused{0};
        std::atomic<uint64_t> connections_evicted{0};
        std::atomic<uint64_t> packets_in{0};
        std::atomic<uint64_t> bytes_in{0};

        void zero_totals() {
            bytes_sent = clients_served = clients_refused = clients_forbidden =
                clients_unauthorized = loops_refused = clients_redirected = tls_failures =
                    connections_refused = connections_evicted = packets_in = bytes_in = 0;
        }
        ServerStats totals() const {
            ServerStats s;
            s.bytes_sent = bytes_sent.load();
            s.clients_served = clients_served.load();
            s.clients_refused = clients_refused.load();
            s.clients_forbidden = clients_forbidden.load();
            s.clients_unauthorized = clients_unauthorized.load();
            s.loops_refused = loops_refused.load();
            s.clients_redirected = clients_redirected.load();
            s.tls_handshakes_failed = tls_failures.load();
            s.connections_refused = connections_refused.load();
            s.connections_evicted = connections_evicted.load();
            s.packets_in = packets_in.load();
            s.bytes_in = bytes_in.load();
            return s;
        }
    };

    ServerEvents *const events_;
    /* The stream: written by the streaming thread, read by the connections. Its own lock. */
    StreamStore store_;

    /* Set by open()/close() on the application thread; read anywhere. */
    std::atomic<bool> open_{false};
    std::atomic<uint16_t> port_{0};
    /* The I/O thread: runs from open() to close(); its context lives as long as the server. */
    EventLoop loop_;
    GSource *tick_source_ = nullptr;
    std::unique_ptr<Poller> poller_;     /* the clients' sockets; lives from open() to close() */
    std::unique_ptr<Listener> listener_; /* lives from open() to close() */

    mutable std::mutex lock_;
    ServerConfig config_; /* Protected by lock_ */
    Schedule schedule_;   /* Protected by lock_ */
    Waker waker_;

    /* The I/O thread's own state. */
    ServerConfig io_config_; /* copy of config_, written before the thread starts */
    std::unique_ptr<access::Authenticator> authenticator_; /* null without credentials */
    /* The status view's: null when it is off or open to anyone. */
    std::unique_ptr<access::Authenticator> status_authenticator_;
    status::RateHistory rates_; /* recorded by on_tick */
    std::vector<Connection *>
        live_;      /* every connected client, in no order (Connection::live_index) */
    Intake intake_; /* connections not yet admitted or answered */
    Admission admission_{ServerConfig{}};
    /** Connections destroyed since the heap was last given back (I/O thread). */
    size_t reaped_since_release_ = 0;
    /** How many make a burst worth a release_free_heap() (milliseconds of work). */
    static constexpr size_t kReleaseAfterReaped = 32;
    /** How long no connection must have been held before, ms: GIO's pool threads let go of
     *  a TLS connection's state a little after the connection is destroyed. */
    static constexpr guint kReleaseQuietMs = 1000;
    Round round_;
    Reap reap_;
    std::unordered_map<uint64_t, GCancellable *> lookups_;
    uint64_t next_id_ = 1;
    ReportBudget refusals_{kRefusalBurst, kRefusalsPerSecond};

    /* Mutated on the I/O thread only; read under the lock elsewhere. */
    mutable std::mutex clients_lock_;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>>
        clients_; /* Protected by clients_lock_ */

    Counters counters_;
};

} // namespace wmstream::server
