/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/server.h"

#include "base/log.h"
#include "base/memory.h"

#include "base/random.h"
#include "server/server-impl.h"
#include "server/thread-priority.h"

#include "base/address.h"

#include <algorithm>

namespace wmstream::server {

namespace {

/** How long close() lets cancelled name lookups complete, µs. */
constexpr int64_t kLookupDrainUs = G_USEC_PER_SEC;

/** How often every client's timeouts are checked, ms: a quarter of the shortest timeout, so
 *  one is exceeded by at most 25 %, within 20 ms – 1 s (a tick touches every client). */
guint tick_interval_ms(const ServerConfig &config) {
    int64_t shortest = std::min(config.request_timeout_us, config.handshake_timeout_us);
    if (config.timeout_us > 0)
        shortest = std::min(shortest, config.timeout_us);
    return guint(std::clamp<int64_t>(shortest / 4 / 1000, 20, 1000));
}

/** The peer address of @p socket as text (base/address.h), "" when unknown. */
std::string peer_text(GSocket *socket) {
    g_autoptr(GSocketAddress) remote = g_socket_get_remote_address(socket, nullptr);
    if (!remote || !G_IS_INET_SOCKET_ADDRESS(remote))
        return {};
    return address_text(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
}

/** The checker of @p user's credentials (Digest nonces signed with fresh random bytes), or
 *  null when @p user is empty (no credentials asked). */
Result<std::unique_ptr<access::Authenticator>>
make_authenticator(const std::string &realm, const std::string &user, const std::string &password) {
    if (user.empty())
        return std::unique_ptr<access::Authenticator>();
    guint8 secret[32]; /* signs the Digest nonces */
    if (Status random = random_bytes(secret, sizeof secret); !random)
        return random.error();
    return std::make_unique<access::Authenticator>(
        realm, user, password, std::string(reinterpret_cast<const char *>(secret), sizeof secret));
}

} // namespace

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
    if (config.max_connecting < 1 || config.max_connecting_per_address < 1 ||
        config.max_handshakes < 1 || config.max_handshakes_per_address < 1)
        return make_error(Errc::InvalidArgument,
                          "max-connecting, max-connecting-per-address, max-handshakes and "
                          "max-handshakes-per-address must be at least 1");
    if (config.handshake_timeout_us <= 0 || config.request_timeout_us <= 0)
        return make_error(Errc::InvalidArgument,
                          "handshake-timeout and request-timeout must be positive");
    if (Status edges = Admission::check(config); !edges)
        return edges.error();
    auto filter = access::AddressFilter::parse(config.allow, config.deny);
    if (!filter)
        return filter.error();
    auto startup = StartupPolicy::of(config);
    if (!startup)
        return startup.error();
    if (config.tls_certificate)
        if (Status tls = Transport::check_tls(config.tls_certificate.get()); !tls)
            return tls.error();
    if (!config.status_path.empty() && config.status_path.front() != '/')
        return make_error(Errc::InvalidArgument, "status-path must start with '/'");
    if (!config.status_path.empty() && config.status_user.empty() && !config.status_open)
        return make_error(Errc::InvalidArgument,
                          "status-path needs status-user-id and status-user-pw, or "
                          "status-open=true to serve the status view to anyone");
    auto viewers = make_authenticator(config.realm, config.user, config.password);
    if (!viewers)
        return viewers.error();
    auto status = make_authenticator(config.realm + " status",
                                     config.status_path.empty() ? "" : config.status_user,
                                     config.status_password);
    if (!status)
        return status.error();
    authenticator_ = std::move(*viewers);
    status_authenticator_ = std::move(*status);
    rates_ = status::RateHistory();
    auto listener = Listener::bind(config, std::move(*filter));
    if (!listener)
        return listener.error();
    listener_ = std::move(*listener);
    port_ = listener_->port();

    {
        std::lock_guard<std::mutex> locker(lock_);
        config_ = config;
        config_.port = port_;
        if (config_.via_name.empty())
            config_.via_name = std::string(g_get_host_name()) + ":" + std::to_string(port_);
        if (config_.io_threads == 0)
            config_.io_threads = std::min(2u, std::max(1u, g_get_num_processors()));
        io_config_ = config_;
        schedule_.pending = schedule_.in_round = false;
        schedule_.wake_source = make_wake_source();
        g_source_attach(schedule_.wake_source, loop_.context());
    }
    intake_ = Intake(IntakeLimits::of(io_config_));
    admission_ = Admission(io_config_);
    store_.set_limits(LagLimits::of(io_config_));
    store_.set_startup(*startup);
    listener_->start(loop_.context(),
                     {[this](GSocket *socket) { accepted(socket); },
                      [this](const std::string &address, uint16_t port) { refused(address, port); },
                      [this](const std::string &why) { paused(why); }, [this] { return room(); }});
    poller_ = std::make_unique<Poller>(loop_.context());
    if (io_config_.io_threads > 1)
        round_.senders =
            std::make_unique<ForkJoin>(io_config_.io_threads - 1, io_config_.thread_hook);
    tick_source_ = g_timeout_source_new(tick_interval_ms(config));
    g_source_set_callback(tick_source_, on_tick, this, nullptr);
    g_source_attach(tick_source_, loop_.context());

    counters_.zero_totals();
    refusals_ = ReportBudget(kRefusalBurst, kRefusalsPerSecond);
    waker_.track = false;
    waker_.cpu = -1;
    /* At the end, let cancelled name lookups report back so nothing outlives the server. */
    loop_.start(
        {}, [this] { loop_.iterate_until([this] { return lookups_.empty(); }, kLookupDrainUs); },
        io_config_.thread_hook, "server-io");
    open_ = true;
    if (config.io_realtime_priority > 0)
        set_io_priority(config.io_realtime_priority);
    return uint16_t(port_);
}

void Server::Impl::set_io_priority(int priority) {
    /* GLib gives every thread of its shared pools (where name lookups run) the scheduling of
     * the thread that created the first shared pool (gthreadpool.c): create one from this
     * thread first, so that a lookup started by the I/O thread does not run real-time. */
    g_thread_pool_free(g_thread_pool_new([](gpointer, gpointer) {}, nullptr, 1, FALSE, nullptr),
                       TRUE, FALSE);
    Status status = set_realtime_priority(loop_.native_handle(), priority);
    waker_.track = status && io_config_.flush_interval_us < kBurstWindowUs;
    if (status && round_.senders)
        for (std::thread::native_handle_type helper : round_.senders->helper_handles())
            if (!(status = set_realtime_priority(helper, priority)))
                break; /* the same refusal for every thread: one warning */
    if (!status && events_)
        events_->warning(status.error());
}

void Server::Impl::close() {
    if (!open_)
        return;
    loop_.call([this] {
        set_accepting(false);
        for_each_client([](Connection &c) { c.abort(RemoveReason::Disconnected); });
        for (auto &entry : lookups_)
            g_cancellable_cancel(entry.second);
    });
    loop_.stop();
    open_ = false;
    port_ = 0;

    reap_.dead.clear();
    live_.clear();
    {
        std::lock_guard<std::mutex> locker(clients_lock_);
        clients_.clear();
    }
    poller_.reset(); /* after the clients, whose watches it holds */
    round_.senders.reset();
    for (GSource **source : {&reap_.source, &reap_.release})
        if (*source) {
            g_source_destroy(*source);
            g_clear_pointer(source, g_source_unref);
        }
    g_source_destroy(tick_source_);
    g_clear_pointer(&tick_source_, g_source_unref);
    {
        std::lock_guard<std::mutex> locker(lock_);
        g_source_destroy(schedule_.wake_source);
        g_clear_pointer(&schedule_.wake_source, g_source_unref);
    }
    store_.clear();
    listener_.reset();
}

void Server::Impl::set_accepting(bool accepting) {
    if (!open_)
        return;
    loop_.call([this, accepting] { listener_->set_accepting(accepting); });
}

void Server::Impl::disconnect_all() {
    if (!open_)
        return;
    loop_.call(
        [this] { for_each_client([](Connection &c) { c.abort(RemoveReason::Disconnected); }); });
}

bool Server::Impl::remove(uint64_t client_id) {
    if (!open_)
        return false;
    bool found = false;
    loop_.call([this, client_id, &found] {
        Connection *client = find(client_id);
        if (!client || !client->streaming())
            return;
        found = true;
        client->abort(RemoveReason::Removed);
    });
    return found;
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

bool Server::Impl::room() const {
    uint64_t oldest = 0;
    return intake_.room(g_get_monotonic_time(), &oldest);
}

void Server::Impl::evict(uint64_t id) {
    counters_.connections_evicted.fetch_add(1, std::memory_order_relaxed);
    if (Connection *client = find(id))
        client->abort(RemoveReason::Error); /* finished() takes it out of the intake */
}

void Server::Impl::start_handshakes(const std::vector<uint64_t> &ids) {
    for (uint64_t id : ids)
        if (Connection *client = find(id))
            client->begin_handshake();
}

/* Held by the intake from here until admitted, answered or closed. */
void Server::Impl::accepted(GSocket *socket) {
    const uint64_t id = next_id_++;
    const int64_t now = g_get_monotonic_time();
    uint64_t oldest = 0; /* room() said there is room: maybe once the oldest is closed */
    if (intake_.room(now, &oldest) && oldest != 0)
        evict(oldest);
    const Intake::Arrival arrival = intake_.arrive(id, peer_text(socket), now);
    if (arrival.evict != 0)
        evict(arrival.evict);
    if (!arrival.keep) {
        counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
        g_socket_close(socket, nullptr);
        g_object_unref(socket);
        return;
    }
    std::unique_ptr<Transport> transport =
        io_config_.tls_certificate ? Transport::tls(socket, io_config_.tls_certificate.get())
                                   : Transport::plain(socket);
    auto client = std::make_unique<Connection>(*this, store_, id, std::move(transport), *poller_);
    Connection *raw = client.get();
    raw->live_index = live_.size();
    live_.push_back(raw);
    {
        std::lock_guard<std::mutex> locker(clients_lock_);
        clients_.emplace(id, std::move(client));
    }
    raw->start();
}

/* A peer allow/deny refused: reported as a client removed, reason Forbidden. */
void Server::Impl::refused(const std::string &address, uint16_t port) {
    ClientInfo info;
    info.id = next_id_++;
    info.connected_at_us = g_get_real_time();
    info.address = address;
    info.port = port;
    counters_.clients_forbidden.fetch_add(1);
    if (events_ && report_refusal())
        events_->client_removed(info, RemoveReason::Forbidden);
}

bool Server::Impl::report_refusal() {
    switch (refusals_.take(g_get_monotonic_time())) {
    case ReportBudget::Verdict::Report:
        return true;
    case ReportBudget::Verdict::FirstLeftOut:
        if (events_)
            events_->warning(make_error(
                Errc::NetworkFailure,
                "more than " + std::to_string(kRefusalsPerSecond) +
                    " connections per second refused: the next are counted in the totals only, "
                    "until they slow down"));
        return false;
    case ReportBudget::Verdict::LeftOut:
        break;
    }
    return false;
}

void Server::Impl::paused(const std::string &why) {
    if (events_)
        events_->warning(make_error(Errc::NetworkFailure,
                                    why + ", " + std::to_string(counters_.streaming.load()) +
                                        " clients keep streaming"));
}

Connection *Server::Impl::find(uint64_t id) {
    std::lock_guard<std::mutex> locker(clients_lock_);
    auto found = clients_.find(id);
    return found == clients_.end() ? nullptr : found->second.get();
}

/* The session is found by its client-id (random, MS-WMSP §3.2.5.2) and must come from the
 * playing client's address: another viewer cannot switch its streams. */
SwitchOutcome
Server::Impl::switch_streams(const Connection &from, uint32_t client_id,
                             const std::vector<proto::wmsp::StreamSwitchEntry> &entries) {
    for (Connection *client : live_) {
        if (client->wmsp_client_id() != client_id || !client->playing())
            continue;
        if (!from.peer_address() || !client->peer_address() ||
            !g_inet_address_equal(from.peer_address(), client->peer_address()))
            break;
        return client->switch_streams(entries);
    }
    WMSTREAM_LOG_DEBUG("SelectStream for client-id %u: no Play being served has it", client_id);
    return SwitchOutcome::NoSession;
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
    {
        /* The wake source lives from open() to close(): closed, an answer is not queued (it
         * would wait for the next open()). */
        std::lock_guard<std::mutex> locker(lock_);
        if (!schedule_.wake_source)
            return;
    }
    /* One that close() overtakes finds no client, then or after a re-open: ids are never
     * reused. */
    loop_.post([this, client_id, allowed] {
        if (Connection *client = find(client_id))
            client->authorized(allowed);
    });
}

gboolean Server::Impl::on_tick(gpointer self) {
    auto *impl = static_cast<Impl *>(self);
    const int64_t now = g_get_monotonic_time();
    impl->rates_.record(now, impl->counters_.bytes_in.load(std::memory_order_relaxed),
                        impl->counters_.bytes_sent.load(std::memory_order_relaxed));
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
    impl->reaped_since_release_ += impl->reap_.dead.size();
    impl->reap_.dead.clear();
    g_clear_pointer(&impl->reap_.source, g_source_unref);
    /* After a burst, once no connection has been held for a while, the heap it grew is given
     * back: TLS connections above all, whose state (megabytes each, made on GIO's pool
     * threads) stays in those threads' malloc arenas when freed. */
    if (impl->intake_.size() == 0 && impl->reaped_since_release_ >= kReleaseAfterReaped &&
        !impl->reap_.release) {
        impl->reap_.release = g_timeout_source_new(kReleaseQuietMs);
        g_source_set_callback(impl->reap_.release, on_release, impl, nullptr);
        g_source_attach(impl->reap_.release, impl->loop_.context());
    }
    return G_SOURCE_REMOVE;
}

gboolean Server::Impl::on_release(gpointer self) {
    auto *impl = static_cast<Impl *>(self);
    g_clear_pointer(&impl->reap_.release, g_source_unref);
    if (impl->intake_.size() == 0) { /* else the next reap of a burst tries again */
        impl->reaped_since_release_ = 0;
        release_free_heap();
    }
    return G_SOURCE_REMOVE;
}

Decision Server::Impl::admit(Connection &client) {
    const bool describe = client.describe();
    if (!describe)
        start_handshakes(intake_.leave(client.id()));
    const size_t relays = counters_.relays.load();
    Decision decision =
        admission_.decide(client.relay(), describe, counters_.streaming.load() - relays, relays);
    if (decision.verdict == Verdict::Redirect)
        counters_.clients_redirected.fetch_add(1);
    else if (decision.verdict == Verdict::Refuse)
        counters_.clients_refused.fetch_add(1);
    if (describe || decision.verdict != Verdict::Admit)
        return decision;
    if (client.relay())
        counters_.relays.fetch_add(1);
    counters_.streaming.fetch_add(1);
    counters_.clients_served.fetch_add(1);
    if (events_)
        events_->client_added(client.info());
    resolve(client);
    return decision;
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
    Connection *client = impl->find(lookup->id);
    if (!client)
        return;
    client->set_dns_name(name);
    if (impl->events_)
        impl->events_->client_resolved(client->info());
}

void Server::Impl::finished(Connection &client, RemoveReason reason) {
    const bool refusal = reason == RemoveReason::OverLimit || reason == RemoveReason::Forbidden ||
                         reason == RemoveReason::Unauthorized ||
                         reason == RemoveReason::NoStreams || reason == RemoveReason::Loop ||
                         reason == RemoveReason::Redirected;
    const bool report = client.streaming() || (refusal && report_refusal());
    if (reason == RemoveReason::Forbidden)
        counters_.clients_forbidden.fetch_add(1);
    else if (reason == RemoveReason::Unauthorized)
        counters_.clients_unauthorized.fetch_add(1);
    else if (reason == RemoveReason::Loop)
        counters_.loops_refused.fetch_add(1);
    const ClientInfo info = client.info();
    if (client.streaming()) {
        if (client.relay())
            counters_.relays.fetch_sub(1);
        counters_.streaming.fetch_sub(1);
    }
    auto pending = lookups_.find(client.id());
    if (pending != lookups_.end())
        g_cancellable_cancel(pending->second);
    const std::vector<uint64_t> turn = intake_.leave(client.id());
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
            reap_.dead.push_back(std::move(found->second));
            clients_.erase(found);
        }
    }
    if (!reap_.source) {
        /* At the I/O thread's own priority, not an idle one: under a steady load (a flood of
         * connects) an idle source never runs, and the dead, each with its TLS connection
         * (megabytes), piled up until the flood stopped. */
        reap_.source = g_idle_source_new();
        g_source_set_priority(reap_.source, G_PRIORITY_DEFAULT);
        g_source_set_callback(reap_.source, on_reap, this, nullptr);
        g_source_attach(reap_.source, loop_.context());
    }
    if (report && events_)
        events_->client_removed(info, reason);
    start_handshakes(turn); /* last: one may fail at once and come back here */
}

Status Server::Impl::set_header(const uint8_t *data, size_t len) {
    auto due = store_.set_header(data, len);
    if (!due)
        return due.error();
    serve(*due);
    return {};
}

Status Server::Impl::push_packet(const uint8_t *data, size_t len) {
    auto due = store_.push(data, len, g_get_monotonic_time());
    if (!due)
        return due.error();
    counters_.packets_in.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes_in.fetch_add(len, std::memory_order_relaxed);
    serve(*due);
    return {};
}

std::vector<ClientInfo> Server::Impl::clients() const {
    std::vector<ClientInfo> all;
    std::lock_guard<std::mutex> locker(clients_lock_);
    for (const auto &entry : clients_)
        if (entry.second->streaming())
            all.push_back(entry.second->info());
    return all;
}

std::string Server::Impl::status_document(bool json) const {
    status::Snapshot snapshot;
    snapshot.clients = clients();
    snapshot.rates.assign(rates_.samples().begin(), rates_.samples().end());
    snapshot.totals = stats();
    snapshot.now_us = g_get_monotonic_time();
    return json ? status::json(snapshot) : status::html(snapshot, io_config_.status_path + ".json");
}

std::optional<ClientInfo> Server::Impl::client(uint64_t id) const {
    std::lock_guard<std::mutex> locker(clients_lock_);
    auto found = clients_.find(id);
    if (found == clients_.end() || !found->second->streaming())
        return std::nullopt;
    return found->second->info();
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
bool Server::remove(uint64_t client_id) {
    return impl_->remove(client_id);
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
size_t Server::num_relays() const {
    return impl_->num_relays();
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
