/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/server.h"

#include "base/address.h"
#include "proto/asf.h"
#include "proto/framing.h"
#include "server/access.h"
#include "server/connection.h"
#include "server/fork-join.h"
#include "server/packet-log.h"
#include "server/poller.h"
#include "server/thread-priority.h"

#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace wmstream::server {

const char *to_string(ClientProtocol protocol) {
    return protocol == ClientProtocol::Wmsp ? "wmsp" : "http";
}

const char *to_string(RemoveReason reason) {
    switch (reason) {
    case RemoveReason::ClosedByPeer:
        return "closed";
    case RemoveReason::Disconnected:
        return "disconnected";
    case RemoveReason::Slow:
        return "slow";
    case RemoveReason::Error:
        return "error";
    case RemoveReason::OverLimit:
        return "over-limit";
    case RemoveReason::Forbidden:
        return "forbidden";
    case RemoveReason::Unauthorized:
        return "unauthorized";
    case RemoveReason::EndOfStream:
        break;
    }
    return "eos";
}

namespace {

/** Rounds due within this of their first packet may find the streaming thread still handing
 *  that packet's burst over (see Server::Impl::on_wake). */
constexpr int64_t kBurstWindowUs = 2000;
/** Clients served per dispatch of a round. */
constexpr size_t kClientsPerDispatch = 512;
/** Connections accepted per wake-up of the listening socket. */
constexpr int kMaxAcceptsPerWake = 256;
/** How long accepting pauses when the process is out of file descriptors, ms. */
constexpr guint kAcceptPauseMs = 1000;
/** How long close() lets cancelled name lookups complete, µs. */
constexpr int64_t kLookupDrainUs = G_USEC_PER_SEC;

/** How often every client's timeouts are checked, ms: a quarter of the shortest timeout, so
 *  one is exceeded by at most 25 %, within 20 ms – 1 s (a tick touches every client). */
guint tick_interval_ms(const ServerConfig &config) {
    int64_t shortest = config.request_timeout_us;
    if (config.timeout_us > 0)
        shortest = std::min(shortest, config.timeout_us);
    return guint(std::clamp<int64_t>(shortest / 4 / 1000, 20, 1000));
}

/** A GSource that dispatches when its ready time is set to 0 from any thread. */
gboolean wake_dispatch(GSource *source, GSourceFunc callback, gpointer data) {
    g_source_set_ready_time(source, -1);
    return callback(data);
}
GSourceFuncs wake_funcs = {nullptr, nullptr, wake_dispatch, nullptr, nullptr, nullptr};

Error bind_error(const GError *error, const std::string &where, bool explicit_address) {
    std::string text = where + ": " + error->message;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        return make_error(Errc::PortInUse, text);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
        return make_error(Errc::AccessDenied, text);
    /* EADDRNOTAVAIL and friends: the address is not one of ours. */
    return make_error(explicit_address ? Errc::InvalidArgument : Errc::NetworkFailure, text);
}

std::string endpoint_text(GInetAddress *address, uint16_t port) {
    g_autofree char *text = g_inet_address_to_string(address);
    if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6)
        return "[" + std::string(text) + "]:" + std::to_string(port);
    return std::string(text) + ":" + std::to_string(port);
}

} // namespace

class Server::Impl : public ConnectionHost {
public:
    explicit Impl(ServerEvents *events) : events_(events) {}
    ~Impl() override { close(); }

    Result<uint16_t> open(const ServerConfig &config);
    void close();
    void set_accepting(bool accepting);
    void disconnect_all();
    Status set_header(const uint8_t *data, size_t len);
    Status push_packet(const uint8_t *data, size_t len);
    void end_of_stream();
    void reset_stream();
    void clear_stream();
    std::vector<ClientInfo> clients() const;
    std::optional<ClientInfo> client(uint64_t id) const;

    bool is_open() const { return open_.load(); }
    uint16_t port() const { return port_.load(); }
    size_t num_clients() const { return streaming_count_.load(); }
    ServerStats stats() const;
    ServerConfig config_copy() const {
        std::lock_guard<std::mutex> locker(lock_);
        return config_;
    }

    /* ConnectionHost, called on the I/O thread. */
    StreamHeaderRef header() override;
    uint64_t header_generation() const override {
        return header_generation_.load(std::memory_order_acquire);
    }
    uint64_t join_point() override;
    Batch fetch(uint64_t &next_seq, bool &need_key, size_t max_bytes,
                std::vector<PacketRef> &packets) override;
    bool admit(Connection &client) override;
    void finished(Connection &client, RemoveReason reason) override;
    void count_sent(size_t bytes) override {
        bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
    }
    void count_tls_failure() override { tls_failures_.fetch_add(1, std::memory_order_relaxed); }
    const ServerConfig &config() const override { return io_config_; }
    const access::Authenticator *authenticator() const override { return authenticator_.get(); }
    void ask(Connection &client, const std::string &path, const std::string &user) override;

    void authorize(uint64_t client_id, bool allowed);

private:
    Result<GSocket *> make_listener(const ServerConfig &config);
    void run_sync(const std::function<void()> &fn);
    /** Serve every client now (header, end of stream, flush). */
    void wake();
    /** Serve every client within flush_interval_us (new packets). */
    void schedule_flush();
    void thread_main();
    /** ServerConfig::io_realtime_priority for the I/O thread and the helpers; a refusal is a
     *  warning. */
    void set_io_priority(int priority);
    void for_each_client(const std::function<void(Connection &)> &fn);
    void resolve(Connection &client);

    static gboolean on_accept(GSocket *, GIOCondition, gpointer self);
    static gboolean on_accept_resume(gpointer self);
    bool admit_address(uint64_t id, GSocket *socket);
    void pause_accepting(const GError *error);
    void watch_listener();
    static gboolean on_wake(gpointer self);
    /** Serve one slice of the round: live_ from round_next_ on, kClientsPerDispatch at most. */
    void serve_slice();
    /** The same, with the sends spread over senders_. */
    void serve_slice_parallel();
    static gboolean on_tick(gpointer self);
    static gboolean on_reap(gpointer self);
    static void on_resolved(GObject *resolver, GAsyncResult *result, gpointer data);

    /** A pending reverse lookup: which client it is for. */
    struct Lookup {
        Impl *impl;
        uint64_t id;
    };

    ServerEvents *const events_;

    /* Set by open()/close() on the application thread; read anywhere. */
    std::atomic<bool> open_{false};
    std::atomic<uint16_t> port_{0};
    GSocket *listener_ = nullptr;
    GMainContext *context_ = nullptr;
    GMainLoop *loop_ = nullptr;
    GSource *tick_source_ = nullptr;
    std::thread thread_;
    std::unique_ptr<Poller> poller_; /* the clients' sockets; lives from open() to close() */

    mutable std::mutex lock_;
    ServerConfig config_;    /* Protected by lock_ */
    StreamHeaderRef header_; /* Protected by lock_ */
    /* header_'s generation, written under lock_ with it; generations never repeat. */
    std::atomic<uint64_t> header_generation_{0};
    uint64_t generations_ = 0; /* Protected by lock_: the last generation given */
    PacketLog log_;            /* Protected by lock_ */
    std::optional<proto::asf::TimeBase>
        time_base_;                  /* Protected by lock_: rebasing origins of this stream */
    bool eos_ = false;               /* Protected by lock_ */
    GSource *wake_source_ = nullptr; /* Protected by lock_ (pointer; the source is thread-safe) */
    bool wake_pending_ = false;      /* Protected by lock_: a round is due at due_us_ */
    int64_t due_us_ = 0;             /* Protected by lock_ */
    bool in_round_ = false;          /* Protected by lock_: a round is being served in slices */
    /* The CPU of the thread whose packet made the next round due, when track_waker_ is set;
     * -1 = none. */
    std::atomic<int> waker_cpu_{-1};
    /* The I/O thread runs SCHED_FIFO and rounds are due within kBurstWindowUs (see on_wake). */
    std::atomic<bool> track_waker_{false};

    /* The I/O thread's own state. */
    ServerConfig io_config_; /* copy of config_, written before the thread starts */
    std::optional<access::AddressFilter> filter_;          /* from io_config_, set by open() */
    std::unique_ptr<access::Authenticator> authenticator_; /* null without credentials */
    GSource *accept_source_ = nullptr;
    GSource *resume_source_ = nullptr; /* accepting resumes when it fires */
    bool accept_starved_ = false;      /* warned about descriptor exhaustion */
    bool accepting_ = false;           /* the application wants connections accepted */
    GSource *reap_source_ = nullptr;
    std::vector<std::unique_ptr<Connection>> dead_;
    std::unordered_map<uint64_t, GCancellable *> lookups_;
    std::vector<Connection *>
        live_;              /* every connected client, in no order (Connection::live_index) */
    size_t round_next_ = 0; /* the next of live_ the round being served reaches */
    std::unique_ptr<ForkJoin> senders_; /* with io_threads > 1: the helpers of a round */
    /** One prepared send of a round served by several threads. */
    struct RoundSend {
        Connection *client;
        size_t first; /* its vectors in round_vectors_ */
        size_t count;
        gssize result;
        GError *error;
    };
    std::vector<RoundSend> round_sends_;
    std::vector<GOutputVector> round_vectors_;
    uint64_t next_id_ = 1;

    /* Mutated on the I/O thread only; read under the lock elsewhere. */
    mutable std::mutex clients_lock_;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>>
        clients_; /* Protected by clients_lock_ */

    std::atomic<size_t> streaming_count_{0};
    std::atomic<uint64_t> bytes_sent_{0};
    std::atomic<uint64_t> clients_served_{0};
    std::atomic<uint64_t> clients_refused_{0};
    std::atomic<uint64_t> clients_forbidden_{0};
    std::atomic<uint64_t> clients_unauthorized_{0};
    std::atomic<uint64_t> tls_failures_{0};
    std::atomic<uint64_t> packets_in_{0};
    std::atomic<uint64_t> bytes_in_{0};
};

Result<GSocket *> Server::Impl::make_listener(const ServerConfig &config) {
    g_autoptr(GInetAddress) address = nullptr;
    const bool any = config.address.empty();
    if (any) {
        address = g_inet_address_new_any(G_SOCKET_FAMILY_IPV6);
    } else {
        address = g_inet_address_new_from_string(config.address.c_str());
        if (!address) {
            g_autoptr(GError) error = nullptr;
            GResolver *resolver = g_resolver_get_default();
            GList *found =
                g_resolver_lookup_by_name(resolver, config.address.c_str(), nullptr, &error);
            g_object_unref(resolver);
            if (!found)
                return make_error(Errc::InvalidArgument, "Cannot resolve bind address '" +
                                                             config.address +
                                                             "': " + error->message);
            address = G_INET_ADDRESS(g_object_ref(found->data));
            g_resolver_free_addresses(found);
        }
    }

    g_autoptr(GError) error = nullptr;
    GSocketFamily family = g_inet_address_get_family(address);
    GSocket *socket = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
    if (!socket && any) {
        /* No IPv6 on this host: fall back to IPv4 only. */
        g_clear_error(&error);
        g_object_unref(address);
        address = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
        family = G_SOCKET_FAMILY_IPV4;
        socket = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
    }
    if (!socket)
        return make_error(Errc::NetworkFailure,
                          std::string("Cannot create socket: ") + error->message);
    g_autoptr(GSocket) owned = socket;
    if (any && family == G_SOCKET_FAMILY_IPV6)
        g_socket_set_option(socket, IPPROTO_IPV6, IPV6_V6ONLY, 0, nullptr);

    g_autoptr(GSocketAddress) bind_address = g_inet_socket_address_new(address, config.port);
    const std::string where = "Cannot bind " + endpoint_text(address, config.port);
    if (!g_socket_bind(socket, bind_address, TRUE, &error))
        return bind_error(error, where, !any);
    g_socket_set_listen_backlog(socket, config.backlog);
    if (!g_socket_listen(socket, &error))
        return bind_error(error, "Cannot listen on " + endpoint_text(address, config.port), !any);
    g_socket_set_blocking(socket, FALSE);
    return static_cast<GSocket *>(g_steal_pointer(&owned));
}

Result<uint16_t> Server::Impl::open(const ServerConfig &config) {
    if (open_)
        return make_error(Errc::InvalidRequest, "The server is already open");
    if (config.io_threads > kMaxIoThreads)
        return make_error(Errc::InvalidArgument, "io-threads must be 0 (automatic) to " +
                                                     std::to_string(kMaxIoThreads) + ", not " +
                                                     std::to_string(config.io_threads));
    if (config.io_realtime_priority < 0 || config.io_realtime_priority > kMaxRealtimePriority)
        return make_error(Errc::InvalidArgument, "io-realtime-priority must be 0 to " +
                                                     std::to_string(kMaxRealtimePriority) +
                                                     ", not " +
                                                     std::to_string(config.io_realtime_priority));
    auto filter = access::AddressFilter::parse(config.allow, config.deny);
    if (!filter)
        return filter.error();
    if (config.tls_certificate) {
        if (!g_tls_backend_supports_tls(g_tls_backend_get_default()))
            return make_error(Errc::InvalidArgument, "TLS was asked for but GIO has no TLS "
                                                     "backend (install glib-networking)");
        g_autofree char *key_pem = nullptr;
        g_autofree char *key_uri = nullptr;
        g_object_get(config.tls_certificate.get(), "private-key-pem", &key_pem,
                     "private-key-pkcs11-uri", &key_uri, nullptr);
        if (!key_pem && !key_uri)
            return make_error(Errc::InvalidArgument,
                              "The TLS certificate has no private key: give certificate and "
                              "key in one PEM file");
    }
    filter_ = std::move(*filter);
    authenticator_.reset();
    if (!config.user.empty()) {
        guint8 secret[32];
        for (guint8 &byte : secret)
            byte = guint8(g_random_int_range(0, 256));
        authenticator_ = std::make_unique<access::Authenticator>(
            config.realm, config.user, config.password,
            std::string(reinterpret_cast<const char *>(secret), sizeof secret));
    }
    auto listener = make_listener(config);
    if (!listener)
        return listener.error();
    listener_ = *listener;

    g_autoptr(GSocketAddress) local = g_socket_get_local_address(listener_, nullptr);
    port_ = local ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)) : 0;

    {
        std::lock_guard<std::mutex> locker(lock_);
        config_ = config;
        config_.port = port_;
        if (config_.io_threads == 0)
            config_.io_threads = std::min(2u, std::max(1u, g_get_num_processors()));
        io_config_ = config_;
        context_ = g_main_context_new();
        loop_ = g_main_loop_new(context_, FALSE);
        wake_pending_ = in_round_ = false;
        wake_source_ = g_source_new(&wake_funcs, sizeof(GSource));
        g_source_set_callback(wake_source_, on_wake, this, nullptr);
        g_source_attach(wake_source_, context_);
    }
    poller_ = std::make_unique<Poller>(context_);
    if (io_config_.io_threads > 1)
        senders_ = std::make_unique<ForkJoin>(io_config_.io_threads - 1);
    tick_source_ = g_timeout_source_new(tick_interval_ms(config));
    g_source_set_callback(tick_source_, on_tick, this, nullptr);
    g_source_attach(tick_source_, context_);

    bytes_sent_ = clients_served_ = clients_refused_ = clients_forbidden_ = clients_unauthorized_ =
        tls_failures_ = packets_in_ = bytes_in_ = 0;
    track_waker_ = false;
    waker_cpu_ = -1;
    thread_ = std::thread([this] { thread_main(); });
    open_ = true;
    if (config.io_realtime_priority > 0)
        set_io_priority(config.io_realtime_priority);
    return uint16_t(port_);
}

void Server::Impl::thread_main() {
    g_main_context_push_thread_default(context_);
    g_main_loop_run(loop_);
    /* Let cancelled name lookups report back so nothing outlives the server. */
    const int64_t deadline = g_get_monotonic_time() + kLookupDrainUs;
    while (!lookups_.empty() && g_get_monotonic_time() < deadline)
        if (!g_main_context_iteration(context_, FALSE))
            g_usleep(1000);
    g_main_context_pop_thread_default(context_);
}

void Server::Impl::set_io_priority(int priority) {
    /* GLib gives every thread of its shared pools (where name lookups run) the scheduling of
     * the thread that created the first shared pool (gthreadpool.c): create one from this
     * thread first, so that a lookup started by the I/O thread does not run real-time. */
    g_thread_pool_free(g_thread_pool_new([](gpointer, gpointer) {}, nullptr, 1, FALSE, nullptr),
                       TRUE, FALSE);
    Status status = set_realtime_priority(thread_.native_handle(), priority);
    track_waker_ = status && io_config_.flush_interval_us < kBurstWindowUs;
    if (status && senders_)
        for (std::thread::native_handle_type helper : senders_->helper_handles())
            if (!(status = set_realtime_priority(helper, priority)))
                break; /* the same refusal for every thread: one warning */
    if (!status && events_)
        events_->warning(status.error());
}

void Server::Impl::run_sync(const std::function<void()> &fn) {
    struct Call {
        const std::function<void()> *fn;
        std::mutex lock;
        std::condition_variable done_cond;
        bool done = false; /* Protected by lock */
    } call;
    call.fn = &fn;
    g_main_context_invoke(
        context_,
        [](gpointer data) -> gboolean {
            auto *c = static_cast<Call *>(data);
            (*c->fn)();
            std::lock_guard<std::mutex> locker(c->lock);
            c->done = true;
            c->done_cond.notify_one();
            return G_SOURCE_REMOVE;
        },
        &call);
    std::unique_lock<std::mutex> locker(call.lock);
    call.done_cond.wait(locker, [&call] { return call.done; });
}

void Server::Impl::close() {
    if (!open_)
        return;
    run_sync([this] {
        set_accepting(false);
        for_each_client([](Connection &c) { c.abort(RemoveReason::Disconnected); });
        for (auto &entry : lookups_)
            g_cancellable_cancel(entry.second);
    });
    g_main_loop_quit(loop_);
    thread_.join();
    open_ = false;
    port_ = 0;

    dead_.clear();
    live_.clear();
    {
        std::lock_guard<std::mutex> locker(clients_lock_);
        clients_.clear();
    }
    poller_.reset(); /* after the clients, whose watches it holds */
    senders_.reset();
    if (reap_source_) {
        g_source_destroy(reap_source_);
        g_clear_pointer(&reap_source_, g_source_unref);
    }
    g_source_destroy(tick_source_);
    g_clear_pointer(&tick_source_, g_source_unref);
    {
        std::lock_guard<std::mutex> locker(lock_);
        g_source_destroy(wake_source_);
        g_clear_pointer(&wake_source_, g_source_unref);
    }
    clear_stream();
    g_clear_pointer(&loop_, g_main_loop_unref);
    g_clear_pointer(&context_, g_main_context_unref);
    g_socket_close(listener_, nullptr);
    g_clear_object(&listener_);
}

void Server::Impl::set_accepting(bool accepting) {
    if (!open_)
        return;
    auto apply = [this, accepting] {
        accepting_ = accepting;
        if (!accepting && resume_source_) {
            g_source_destroy(resume_source_);
            g_clear_pointer(&resume_source_, g_source_unref);
        }
        if (accepting && !accept_source_ && !resume_source_) {
            watch_listener();
        } else if (!accepting && accept_source_) {
            g_source_destroy(accept_source_);
            g_clear_pointer(&accept_source_, g_source_unref);
        }
    };
    if (g_main_context_is_owner(context_))
        apply();
    else
        run_sync(apply);
}

void Server::Impl::disconnect_all() {
    if (!open_)
        return;
    run_sync(
        [this] { for_each_client([](Connection &c) { c.abort(RemoveReason::Disconnected); }); });
}

void Server::Impl::for_each_client(const std::function<void(Connection &)> &fn) {
    std::vector<Connection *> all;
    {
        std::lock_guard<std::mutex> locker(clients_lock_);
        all.reserve(clients_.size());
        for (auto &entry : clients_)
            all.push_back(entry.second.get());
    }
    for (Connection *client : all)
        fn(*client);
}

gboolean Server::Impl::on_accept(GSocket *, GIOCondition, gpointer self) {
    auto *impl = static_cast<Impl *>(self);
    for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
        g_autoptr(GError) error = nullptr;
        GSocket *socket = g_socket_accept(impl->listener_, nullptr, &error);
        if (!socket) {
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
                impl->pause_accepting(error);
                return G_SOURCE_CONTINUE;
            }
            if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                g_debug("accept failed: %s", error->message); /* e.g. ECONNABORTED: the peer */
            break;
        }
        impl->accept_starved_ = false;
        g_socket_set_blocking(socket, FALSE);
        g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, nullptr);
        const uint64_t id = impl->next_id_++;
        if (!impl->admit_address(id, socket))
            continue;
        std::unique_ptr<Transport> transport;
        if (impl->io_config_.tls_certificate) {
            transport = Transport::tls(socket, impl->io_config_.tls_certificate.get(), &error);
            if (!transport) {
                g_debug("cannot start TLS: %s", error->message);
                continue;
            }
        } else {
            transport = Transport::plain(socket);
        }
        auto client = std::make_unique<Connection>(*impl, id, std::move(transport), *impl->poller_);
        Connection *raw = client.get();
        raw->live_index = impl->live_.size();
        impl->live_.push_back(raw);
        {
            std::lock_guard<std::mutex> locker(impl->clients_lock_);
            impl->clients_.emplace(id, std::move(client));
        }
        raw->start();
    }
    return G_SOURCE_CONTINUE;
}

/* EMFILE/ENFILE: the pending connection cannot be accepted and keeps the
 * listener readable, so stop watching it for a while instead of spinning.
 * Clients already served are not affected. */
void Server::Impl::pause_accepting(const GError *error) {
    if (accept_source_) {
        g_source_destroy(accept_source_);
        g_clear_pointer(&accept_source_, g_source_unref);
    }
    if (!resume_source_) {
        resume_source_ = g_timeout_source_new(kAcceptPauseMs);
        g_source_set_callback(resume_source_, on_accept_resume, this, nullptr);
        g_source_attach(resume_source_, context_);
    }
    if (!accept_starved_ && events_) {
        accept_starved_ = true;
        events_->warning(make_error(
            Errc::NetworkFailure, std::string("Cannot accept connections: ") + error->message +
                                      "; accepting pauses " + std::to_string(kAcceptPauseMs) +
                                      " ms at a time, " + std::to_string(streaming_count_.load()) +
                                      " clients keep streaming"));
    }
}

gboolean Server::Impl::on_accept_resume(gpointer self) {
    auto *impl = static_cast<Impl *>(self);
    g_clear_pointer(&impl->resume_source_, g_source_unref);
    if (impl->accepting_)
        impl->watch_listener();
    return G_SOURCE_REMOVE;
}

void Server::Impl::watch_listener() {
    accept_source_ = g_socket_create_source(listener_, G_IO_IN, nullptr);
    g_source_set_callback(accept_source_, G_SOURCE_FUNC(on_accept), this, nullptr);
    g_source_attach(accept_source_, context_);
}

/* The allow/deny check at accept: a refused peer is closed at once and
 * reported (client-removed, reason Forbidden). Takes @p socket on refusal. */
bool Server::Impl::admit_address(uint64_t id, GSocket *socket) {
    if (filter_->empty())
        return true;
    g_autoptr(GSocketAddress) remote = g_socket_get_remote_address(socket, nullptr);
    if (remote && G_IS_INET_SOCKET_ADDRESS(remote) &&
        filter_->allows(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote))))
        return true;
    ClientInfo info;
    info.id = id;
    info.connected_at_us = g_get_real_time();
    if (remote && G_IS_INET_SOCKET_ADDRESS(remote)) {
        auto *inet = G_INET_SOCKET_ADDRESS(remote);
        info.address = address_text(g_inet_socket_address_get_address(inet));
        info.port = g_inet_socket_address_get_port(inet);
    }
    g_socket_close(socket, nullptr);
    g_object_unref(socket);
    clients_forbidden_.fetch_add(1);
    if (events_)
        events_->client_removed(info, RemoveReason::Forbidden);
    return false;
}

void Server::Impl::ask(Connection &client, const std::string &path, const std::string &user) {
    if (!events_) {
        client.authorized(true);
        return;
    }
    const ClientInfo info = client.info();
    AuthorizationRequest request;
    request.client_id = info.id;
    request.address = info.address;
    request.user_agent = info.user_agent;
    request.path = path;
    request.user = user;
    events_->authorize(request);
}

void Server::Impl::authorize(uint64_t client_id, bool allowed) {
    GMainContext *context = nullptr;
    {
        /* wake_source_ lives exactly while the context is ours (close() clears it first). */
        std::lock_guard<std::mutex> locker(lock_);
        if (!wake_source_)
            return;
        context = g_main_context_ref(context_);
    }
    struct Answer {
        Impl *impl;
        uint64_t id;
        bool allowed;
    };
    g_main_context_invoke_full(
        context, G_PRIORITY_DEFAULT,
        [](gpointer data) -> gboolean {
            auto *answer = static_cast<Answer *>(data);
            Connection *client = nullptr;
            {
                std::lock_guard<std::mutex> locker(answer->impl->clients_lock_);
                auto found = answer->impl->clients_.find(answer->id);
                if (found != answer->impl->clients_.end())
                    client = found->second.get();
            }
            if (client)
                client->authorized(answer->allowed);
            return G_SOURCE_REMOVE;
        },
        new Answer{this, client_id, allowed},
        [](gpointer data) { delete static_cast<Answer *>(data); });
    g_main_context_unref(context);
}

void Server::Impl::wake() {
    std::lock_guard<std::mutex> locker(lock_);
    if (!wake_source_)
        return;
    wake_pending_ = true;
    due_us_ = 0;
    if (!in_round_)
        g_source_set_ready_time(wake_source_, 0);
}

/* The first packet after a round has started waits flush_interval_us, and
 * the packets that follow it join the same round: no packet waits longer,
 * and a write carries the interval plus the gap before that first packet
 * (at 125 ms and 24 packets/s: 6 writes per client per second, counted). */
void Server::Impl::schedule_flush() {
    std::lock_guard<std::mutex> locker(lock_);
    if (!wake_source_ || wake_pending_)
        return; /* a round is already due and will see the new packet */
    wake_pending_ = true;
    if (track_waker_.load(std::memory_order_relaxed))
        waker_cpu_.store(sched_getcpu(), std::memory_order_relaxed);
    due_us_ = g_get_monotonic_time() + io_config_.flush_interval_us;
    if (!in_round_)
        g_source_set_ready_time(wake_source_, due_us_);
}

/* One round serves every client, kClientsPerDispatch at a time so that
 * accepts and other sources run in between at 10,000 clients. */
gboolean Server::Impl::on_wake(gpointer self) {
    auto *impl = static_cast<Impl *>(self);
    bool starting = false;
    {
        /* Cleared when a round starts: a packet appended from then on schedules the next. */
        std::lock_guard<std::mutex> locker(impl->lock_);
        if (!impl->in_round_) {
            starting = impl->in_round_ = true;
            impl->wake_pending_ = false;
        }
    }
    if (starting) {
        impl->round_next_ = 0;
        /* Woken on the core of the streaming thread, a real-time I/O thread would hold it off
         * for the whole round, and the rest of a key frame's packets (handed over one by one)
         * would wait for the next round: let it go on, from the other core. */
        const int waker = impl->waker_cpu_.exchange(-1, std::memory_order_relaxed);
        if (waker >= 0 && waker == sched_getcpu())
            leave_cpu(waker);
    }
    if (impl->senders_)
        impl->serve_slice_parallel();
    else
        impl->serve_slice();
    std::lock_guard<std::mutex> locker(impl->lock_);
    if (impl->round_next_ < impl->live_.size()) {
        g_source_set_ready_time(impl->wake_source_, 0);
    } else {
        impl->in_round_ = false;
        if (impl->wake_pending_)
            g_source_set_ready_time(impl->wake_source_, impl->due_us_);
    }
    return G_SOURCE_CONTINUE;
}

/* A client's wake() may remove it from live_ (or another one): re-check the bounds. */
void Server::Impl::serve_slice() {
    for (size_t served = 0; served < kClientsPerDispatch && round_next_ < live_.size(); ++served) {
        Connection *client = live_[round_next_];
        client->wake();
        if (round_next_ < live_.size() && live_[round_next_] == client)
            ++round_next_;
    }
}

/* Prepared on this thread, sent in parallel, completed here in order. A
 * client removed meanwhile stays allocated until the reap (dead_), and its
 * round_send() and complete_round_send() do nothing. */
void Server::Impl::serve_slice_parallel() {
    round_sends_.clear();
    round_vectors_.resize(kClientsPerDispatch * Connection::kMaxVectors);
    for (size_t served = 0; served < kClientsPerDispatch && round_next_ < live_.size(); ++served) {
        Connection *client = live_[round_next_];
        const size_t first = round_sends_.size() * Connection::kMaxVectors;
        if (const size_t count = client->prepare_round_send(&round_vectors_[first]))
            round_sends_.push_back({client, first, count, 0, nullptr});
        if (round_next_ < live_.size() && live_[round_next_] == client)
            ++round_next_;
    }
    senders_->run(round_sends_.size(), [this](size_t i) {
        RoundSend &send = round_sends_[i];
        send.result = send.client->round_send(&round_vectors_[send.first], send.count, &send.error);
    });
    for (RoundSend &send : round_sends_) {
        send.client->complete_round_send(send.result, send.error);
        g_clear_error(&send.error);
    }
}

gboolean Server::Impl::on_tick(gpointer self) {
    auto *impl = static_cast<Impl *>(self);
    const int64_t now = g_get_monotonic_time();
    /* live_ itself, not a copy: a tick may remove its client (its place then holds another). */
    for (size_t i = 0; i < impl->live_.size();) {
        Connection *client = impl->live_[i];
        client->tick(now);
        if (i < impl->live_.size() && impl->live_[i] == client)
            ++i;
    }
    return G_SOURCE_CONTINUE;
}

gboolean Server::Impl::on_reap(gpointer self) {
    auto *impl = static_cast<Impl *>(self);
    impl->dead_.clear();
    g_clear_pointer(&impl->reap_source_, g_source_unref);
    return G_SOURCE_REMOVE;
}

StreamHeaderRef Server::Impl::header() {
    std::lock_guard<std::mutex> locker(lock_);
    return header_;
}

uint64_t Server::Impl::join_point() {
    std::lock_guard<std::mutex> locker(lock_);
    return log_.join_point();
}

Batch Server::Impl::fetch(uint64_t &next_seq, bool &need_key, size_t max_bytes,
                          std::vector<PacketRef> &packets) {
    Batch batch;
    packets.clear();
    std::lock_guard<std::mutex> locker(lock_);
    const uint64_t end = log_.end();
    const ServerConfig &c = io_config_;
    if (need_key) {
        next_seq = std::max(next_seq, log_.begin()); /* still waiting for a key frame */
    } else if (next_seq < log_.begin() ||
               (c.lag_max >= 0 && log_.lag(next_seq, c.lag_unit) > c.lag_max)) {
        batch.too_slow = true;
        return batch;
    } else if (c.lag_soft_max >= 0 && log_.lag(next_seq, c.lag_unit) > c.lag_soft_max) {
        std::optional<uint64_t> to;
        switch (c.recover_policy) {
        case RecoverPolicy::None:
            break;
        case RecoverPolicy::Latest:
            to = end - 1;
            break;
        case RecoverPolicy::KeyFrame:
            to = log_.newest_key_frame();
            break;
        case RecoverPolicy::SoftLimit:
            to = log_.key_frame_within(next_seq, c.lag_unit, c.lag_soft_max);
            break;
        }
        if (to && *to > next_seq) {
            next_seq = *to;
            batch.skipped = true;
            batch.joined = log_.at(*to)->key_frame_start;
        }
    }
    if (need_key) {
        while (next_seq < end && !log_.at(next_seq)->key_frame_start)
            ++next_seq;
        need_key = next_seq == end;
        batch.joined = !need_key;
    }
    size_t bytes = 0;
    while (!need_key && next_seq < end && bytes < max_bytes) {
        const PacketRef &packet = log_.at(next_seq++);
        bytes += packet->data.size();
        packets.push_back(packet);
    }
    if (next_seq < end)
        batch.lag_us = log_.at(end - 1)->arrival_us - log_.at(next_seq)->arrival_us;
    batch.end_of_stream = eos_ && next_seq >= end;
    return batch;
}

bool Server::Impl::admit(Connection &client) {
    const int limit = io_config_.max_clients;
    if (limit >= 0 && streaming_count_.load() >= size_t(limit)) {
        clients_refused_.fetch_add(1);
        return false;
    }
    streaming_count_.fetch_add(1);
    clients_served_.fetch_add(1);
    if (events_)
        events_->client_added(client.info());
    resolve(client);
    return true;
}

void Server::Impl::resolve(Connection &client) {
    if (!client.peer_address())
        return;
    GCancellable *cancellable = g_cancellable_new();
    lookups_.emplace(client.id(), cancellable);
    GResolver *resolver = g_resolver_get_default();
    g_resolver_lookup_by_address_async(resolver, client.peer_address(), cancellable, on_resolved,
                                       new Lookup{this, client.id()});
    g_object_unref(resolver);
}

void Server::Impl::on_resolved(GObject *resolver, GAsyncResult *result, gpointer data) {
    std::unique_ptr<Lookup> lookup(static_cast<Lookup *>(data));
    Impl *impl = lookup->impl;
    g_autofree char *name =
        g_resolver_lookup_by_address_finish(G_RESOLVER(resolver), result, nullptr);
    auto pending = impl->lookups_.find(lookup->id);
    if (pending != impl->lookups_.end()) {
        g_object_unref(pending->second);
        impl->lookups_.erase(pending);
    }
    if (!name)
        return;
    Connection *client = nullptr;
    {
        std::lock_guard<std::mutex> locker(impl->clients_lock_);
        auto found = impl->clients_.find(lookup->id);
        if (found != impl->clients_.end())
            client = found->second.get();
    }
    if (!client)
        return;
    client->set_dns_name(name);
    if (impl->events_)
        impl->events_->client_resolved(client->info());
}

void Server::Impl::finished(Connection &client, RemoveReason reason) {
    const bool report = client.streaming() || reason == RemoveReason::OverLimit ||
                        reason == RemoveReason::Forbidden || reason == RemoveReason::Unauthorized;
    if (reason == RemoveReason::Forbidden)
        clients_forbidden_.fetch_add(1);
    else if (reason == RemoveReason::Unauthorized)
        clients_unauthorized_.fetch_add(1);
    const ClientInfo info = client.info();
    if (client.streaming())
        streaming_count_.fetch_sub(1);
    auto pending = lookups_.find(client.id());
    if (pending != lookups_.end())
        g_cancellable_cancel(pending->second);
    /* Out of live_ by moving the last client into its place (a round in
     * progress may then reach that one in the next round only). */
    Connection *last = live_.back();
    live_[client.live_index] = last;
    last->live_index = client.live_index;
    live_.pop_back();
    {
        std::lock_guard<std::mutex> locker(clients_lock_);
        auto found = clients_.find(client.id());
        if (found != clients_.end()) {
            dead_.push_back(std::move(found->second));
            clients_.erase(found);
        }
    }
    if (!reap_source_) {
        reap_source_ = g_idle_source_new();
        g_source_set_callback(reap_source_, on_reap, this, nullptr);
        g_source_attach(reap_source_, context_);
    }
    if (report && events_)
        events_->client_removed(info, reason);
}

Status Server::Impl::set_header(const uint8_t *data, size_t len) {
    auto fixed = proto::asf::make_live_header(data, len);
    if (!fixed)
        return fixed.error();
    auto info = proto::asf::parse_header(fixed->data(), fixed->size());
    if (!info)
        return info.error();
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (header_ && header_->raw == *fixed)
            return {};
        auto header = std::make_shared<StreamHeader>();
        header->info = std::move(*info);
        header->pull = proto::framing::pull_header_packets(fixed->data(), fixed->size());
        header->raw = std::move(*fixed);
        header->generation = ++generations_;
        header_ = std::move(header);
        header_generation_.store(header_->generation, std::memory_order_release);
        /* Packets of the old header cannot follow the new one. */
        log_.clear();
        time_base_.reset();
        eos_ = false;
    }
    wake();
    return {};
}

Status Server::Impl::push_packet(const uint8_t *data, size_t len) {
    StreamHeaderRef header;
    std::optional<proto::asf::TimeBase> base;
    {
        std::lock_guard<std::mutex> locker(lock_);
        header = header_;
        base = time_base_;
    }
    if (!header)
        return make_error(Errc::InvalidData, "ASF data packet before any ASF header");
    auto info = proto::asf::parse_packet(data, len, header->info);
    if (!info)
        return info.error();
    auto packet = std::make_shared<Packet>();
    packet->data.assign(data, data + len);
    if (!base)
        base = proto::asf::time_base_for(*info, header->info);
    if (auto rebased =
            proto::asf::rebase_packet_times(packet->data.data(), len, header->info, *base);
        !rebased)
        return rebased.error();
    packet->key_frame_start = info->key_frame_start;
    if (info->key_frame_start) {
        auto trimmed = proto::asf::trim_to_key_frame(packet->data.data(), len, header->info);
        if (trimmed && *trimmed != packet->data)
            packet->join_data = std::move(*trimmed);
    }
    packet->send_time_ms = info->send_time_ms - base->send_ms;
    packet->arrival_us = g_get_monotonic_time();
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (!time_base_)
            time_base_ = base;
        log_.append(packet);
        if (io_config_.lag_max >= 0)
            log_.trim(io_config_.lag_unit, io_config_.lag_max);
        eos_ = false;
    }
    packets_in_.fetch_add(1, std::memory_order_relaxed);
    bytes_in_.fetch_add(len, std::memory_order_relaxed);
    schedule_flush();
    return {};
}

void Server::Impl::end_of_stream() {
    {
        std::lock_guard<std::mutex> locker(lock_);
        eos_ = true;
    }
    wake();
}

void Server::Impl::clear_stream() {
    std::lock_guard<std::mutex> locker(lock_);
    header_.reset();
    header_generation_.store(0, std::memory_order_release);
    log_.clear();
    time_base_.reset();
    eos_ = false;
}

void Server::Impl::reset_stream() {
    {
        std::lock_guard<std::mutex> locker(lock_);
        log_.clear();
        time_base_.reset();
        eos_ = false;
    }
    wake();
}

std::vector<ClientInfo> Server::Impl::clients() const {
    std::vector<ClientInfo> all;
    std::lock_guard<std::mutex> locker(clients_lock_);
    for (const auto &entry : clients_)
        if (entry.second->streaming())
            all.push_back(entry.second->info());
    return all;
}

std::optional<ClientInfo> Server::Impl::client(uint64_t id) const {
    std::lock_guard<std::mutex> locker(clients_lock_);
    auto found = clients_.find(id);
    if (found == clients_.end() || !found->second->streaming())
        return std::nullopt;
    return found->second->info();
}

ServerStats Server::Impl::stats() const {
    ServerStats s;
    s.bytes_sent = bytes_sent_.load();
    s.clients_served = clients_served_.load();
    s.clients_refused = clients_refused_.load();
    s.clients_forbidden = clients_forbidden_.load();
    s.clients_unauthorized = clients_unauthorized_.load();
    s.tls_handshakes_failed = tls_failures_.load();
    s.packets_in = packets_in_.load();
    s.bytes_in = bytes_in_.load();
    return s;
}

/* The public face: forwards to Impl. */

Server::Server(ServerEvents *events) : impl_(std::make_unique<Impl>(events)) {}
Server::~Server() = default;
Result<uint16_t> Server::open(const ServerConfig &config) {
    return impl_->open(config);
}
bool Server::is_open() const {
    return impl_->is_open();
}
uint16_t Server::port() const {
    return impl_->port();
}
ServerConfig Server::config() const {
    return impl_->config_copy();
}
void Server::set_accepting(bool accepting) {
    impl_->set_accepting(accepting);
}
void Server::disconnect_all() {
    impl_->disconnect_all();
}
void Server::close() {
    impl_->close();
}
Status Server::set_header(const uint8_t *data, size_t len) {
    return impl_->set_header(data, len);
}
Status Server::push_packet(const uint8_t *data, size_t len) {
    return impl_->push_packet(data, len);
}
void Server::end_of_stream() {
    impl_->end_of_stream();
}
void Server::reset_stream() {
    impl_->reset_stream();
}
void Server::clear_stream() {
    impl_->clear_stream();
}
size_t Server::num_clients() const {
    return impl_->num_clients();
}
std::vector<ClientInfo> Server::clients() const {
    return impl_->clients();
}
std::optional<ClientInfo> Server::client(uint64_t id) const {
    return impl_->client(id);
}
void Server::authorize(uint64_t client_id, bool allowed) {
    impl_->authorize(client_id, allowed);
}
ServerStats Server::stats() const {
    return impl_->stats();
}

} // namespace wmstream::server
