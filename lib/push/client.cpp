/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The push client's I/O: one EventLoop (base/event-loop.h), asynchronous GIO.
 *
 * A Connection owns one GIOStream (TCP, or TLS over TCP for https) with its
 * cancellable, read buffer and the bytes being written. Every asynchronous
 * callback carries the Connection it was started for and is ignored once
 * that connection was replaced, so closing never races with a late
 * completion. The protocol decisions are the Session's (push-session.h),
 * the answers the AnswerReader's (bounded heads), the body accounting the
 * Body's (push-body.h), the data held the StreamBuffer's (push-buffer.h).
 *
 * Lock order: lock_ is the only lock; it is never held while calling out
 * (events, GIO).
 */
#include "push/client.h"

#include "base/event-loop.h"
#include "base/timer.h"
#include "proto/asf.h"
#include "proto/framing.h"
#include "proto/http-request.h"
#include "push/body.h"
#include "push/buffer.h"

#include <gio/gio.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace wmstream::push {

namespace {

constexpr size_t kReadSize = 16 * 1024;
/* Bytes framed per write: a few data packets, so drops and ends take effect soon. */
constexpr size_t kBatchBytes = 64 * 1024;

using Bytes = std::vector<uint8_t>;
using BytesRef = std::shared_ptr<const Bytes>;

/* Where the I/O thread is. */
enum class Phase {
    Stopped,     /* not running, or stop() called */
    Connecting,  /* TCP (+TLS) connect in flight */
    AwaitSetup,  /* PushSetup sent, waiting for the answer */
    AwaitHeader, /* PushSetup accepted, no stream header yet */
    Streaming,   /* PushStart body open */
    AwaitStart,  /* body complete ($F), waiting for the PushStart answer */
    Ending,      /* $E(0) written, waiting for the answer or the close */
    Backoff,     /* waiting before the next attempt */
    Ended,       /* EndSession done */
    Disconnected,
    Failed,
};

std::string hex(unsigned value) {
    char text[16];
    g_snprintf(text, sizeof text, "%x", value);
    return text;
}

std::string seconds(int64_t us) {
    char text[32];
    g_snprintf(text, sizeof text, "%.3g s", static_cast<double>(us) / G_USEC_PER_SEC);
    return text;
}

/* One connection and everything its asynchronous operations touch. */
struct Connection {
    GIOStream *stream = nullptr;
    GCancellable *cancellable = g_cancellable_new();
    std::array<char, kReadSize> in{};
    Bytes out;                /* being written */
    uint64_t release_seq = 0; /* when written, the packets below this were sent */
    bool writing = false;
    bool read_paused = false; /* a full answer head waits for the write in flight */
    /* What glib-networking found wrong with the server's certificate (accept-certificate). */
    GTlsCertificateFlags tls_errors = GTlsCertificateFlags(0);

    ~Connection() {
        g_cancellable_cancel(cancellable);
        close();
        g_object_unref(cancellable);
    }
    /* Close the socket at once (the peer sees the end now), even under TLS. */
    void close() {
        if (!stream)
            return;
        if (G_IS_SOCKET_CONNECTION(stream))
            g_socket_close(g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream)), nullptr);
        g_clear_object(&stream);
    }
};
using ConnectionRef = std::shared_ptr<Connection>;

/* The data of an accept-certificate handler: the connection the handshake is for and the
 * problems that refuse a certificate. */
struct TlsCheck {
    std::weak_ptr<Connection> connection;
    GTlsCertificateFlags enforced;
};

/* GTlsConnection::accept-certificate: glib-networking found @errors (emitted on the
 * handshake's context, the I/O thread). Records them and accepts only what is not enforced. */
gboolean on_accept_certificate(GTlsConnection *, GTlsCertificate *, GTlsCertificateFlags errors,
                               gpointer data) {
    const auto *check = static_cast<const TlsCheck *>(data);
    if (ConnectionRef connection = check->connection.lock())
        connection->tls_errors = errors;
    return (errors & check->enforced) == 0;
}

} // namespace

std::string describe_tls_errors(GTlsCertificateFlags flags) {
    if (flags == 0)
        return "none";
    std::string text;
    auto *klass = static_cast<GFlagsClass *>(g_type_class_ref(G_TYPE_TLS_CERTIFICATE_FLAGS));
    guint rest = flags;
    while (rest != 0) {
        const GFlagsValue *value = g_flags_get_first_value(klass, rest);
        if (!value)
            break;
        text += (text.empty() ? "" : ", ") + std::string(value->value_nick);
        rest &= ~value->value;
    }
    if (rest != 0)
        text += (text.empty() ? "" : ", ") + std::to_string(rest);
    g_type_class_unref(klass);
    return text;
}

class Client::Impl {
public:
    Impl(ClientEvents *events, Clock &clock) : events_(events), clock_(clock) {}
    ~Impl() { stop(); }

    Status start(const ClientConfig &config);
    Status set_header(const uint8_t *data, size_t len);
    Result<size_t> push_packet(const uint8_t *data, size_t len);
    Status end_session();
    void cancel(bool cancelled);
    void disconnect();
    void stop();
    ClientStats stats() const;
    std::optional<Failure> failure() const;

private:
    /* An asynchronous operation in flight: who started it, for which connection. */
    struct Op {
        Impl *self;
        ConnectionRef connection;
    };

    /* ---- any thread ---- */
    /* Post @task to the I/O thread, unless the run it was meant for is over when its turn
     * comes. */
    void invoke(std::function<void()> task);
    void wake();

    /* ---- I/O thread ---- */
    /** The loop's start hook: the socket client, then the first attempt. */
    void begin_run();
    /** The loop's exit hook: let the cancelled operations complete, drop the socket client. */
    void end_run();
    void attempt();
    void open_connection();
    void close_connection();
    void send(const std::string &text);
    void flush();
    void read_more();
    void process_input();
    std::string unfinished_answer() const;
    bool completing_write() const;
    void on_answer(const Response &response);
    void on_setup_answer(const Response &response);
    void on_start_answer(const Response &response);
    void on_closed_by_server();
    void start_push();
    /** The PushStart next: on this connection when the server keeps it, else on a new one. */
    void start_next(bool reuse_connection);
    void pump();
    void on_written(size_t written);
    void finish_end();
    void fail_attempt(Failure failure, bool retryable);
    /** A transient connection failure (NS_E_CONNECTION_FAILURE): retried after the backoff. */
    void retry_connection(const std::string &what, const GError *io = nullptr);
    void fail_fatal(Failure failure);
    Failure make_failure(Error error, unsigned http_status = 0, const GError *io = nullptr) const;
    ClientStats stats_locked() const;
    void on_wake();
    void cancel_backoff();
    void update_stats(const std::function<void(ClientStats &)> &update);

    static void on_connected(GObject *source, GAsyncResult *result, gpointer data);
    static void on_read(GObject *source, GAsyncResult *result, gpointer data);
    static void on_write_done(GObject *source, GAsyncResult *result, gpointer data);
    static void on_socket_event(GSocketClient *client, GSocketClientEvent event,
                                GSocketConnectable *connectable, GIOStream *connection,
                                gpointer data);

    ClientEvents *events_;
    Clock &clock_;

    EventLoop loop_;                  /* the I/O thread; its context lives as long as the client */
    std::atomic<uint64_t> run_id_{0}; /* bumps at every start() */

    /* Set by start() before the thread runs, read-only while it runs. */
    ClientConfig config_;
    GTlsDatabase *tls_database_ = nullptr;

    /* ---- I/O thread only ---- */
    std::optional<Session> session_;
    Backoff backoff_;
    GSocketClient *socket_client_ = nullptr;
    ConnectionRef connection_;
    Phase phase_ = Phase::Stopped;
    enum class Next { Setup, Start } next_request_ = Next::Setup;
    AnswerReader answers_;         /* received on this connection, not yet parsed */
    Bytes pending_;                /* framed, not yet handed to a write */
    Body body_;                    /* the open PushStart body */
    bool header_needed_ = true;    /* the next PushStart begins with $H */
    BytesRef sent_header_;         /* the header the server has now */
    bool next_entry_sent_ = false; /* $E(1) sent, $C not yet */
    uint64_t next_seq_ = 0;        /* next packet to frame */
    bool end_in_write_ = false;    /* the write in flight holds $E(0) */
    bool fill_in_write_ = false;   /* the write in flight completes the body with $F */
    bool data_flowed_ = false;     /* a $D was written since the last attempt began */
    bool peer_closed_ = false;     /* EOF or read error seen while a write was in flight */
    uint64_t backoff_generation_ = 0;
    uint64_t backoff_timer_ = 0; /* Clock timer id, 0 when none */
    Timer connect_timer_;
    Timer answer_timer_;
    Timer write_timer_;
    std::atomic<bool> wake_pending_{false};
    std::atomic<int> pending_ops_{0};

    /* ---- shared ---- */
    mutable std::mutex lock_;
    std::condition_variable changed_;
    /* Protected by lock_ */
    bool running_ = false;
    StreamBuffer buffer_;
    BytesRef header_;
    proto::asf::HeaderInfo header_info_;
    bool end_requested_ = false;
    std::optional<Status> end_status_;
    bool ever_set_up_ = false;
    bool disconnected_ = false;
    bool cancelled_ = false;
    std::optional<Failure> failure_;
    ClientStats stats_;
    /* The location and push-id of a run that ended without EndSession. */
    std::string resume_location_;
    std::string resume_push_id_;
};

/* ================= any thread ================= */

void Client::Impl::invoke(std::function<void()> task) {
    const uint64_t run = run_id_.load();
    loop_.post([this, run, task = std::move(task)] {
        if (run == run_id_.load())
            task();
    });
}

void Client::Impl::wake() {
    if (!wake_pending_.exchange(true))
        invoke([this] {
            wake_pending_ = false;
            on_wake();
        });
}

Status Client::Impl::start(const ClientConfig &config) {
    Result<Session> session = Session::create(config.session);
    if (!session)
        return session.error();
    GTlsDatabase *database = nullptr;
    if (!config.ca_file.empty()) {
        g_autoptr(GError) error = nullptr;
        /* glib-networking wants an absolute path (it warns and may fail otherwise). */
        g_autofree char *path = g_canonicalize_filename(config.ca_file.c_str(), nullptr);
        database = g_tls_file_database_new(path, &error);
        if (!database)
            return make_error(Errc::InvalidArgument,
                              "cannot use CA file '" + config.ca_file + "': " + error->message);
    }
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (running_) {
            g_clear_object(&database);
            return make_error(Errc::InvalidRequest, "the push client is already started");
        }
        running_ = true;
        buffer_ = StreamBuffer(config.max_buffer_time_us);
        header_.reset();
        header_info_ = {};
        end_requested_ = false;
        end_status_.reset();
        ever_set_up_ = false;
        disconnected_ = false;
        failure_.reset();
        stats_ = {};
        stats_.url = session->url().to_string();
        if (resume_location_ == config.session.location)
            session->resume(resume_push_id_);
        stats_.push_id = session->push_id();
    }

    config_ = config;
    tls_database_ = database;
    session_.emplace(std::move(*session));
    backoff_ = Backoff(config.retry);
    phase_ = Phase::Stopped;
    sent_header_.reset();
    next_seq_ = 0;
    run_id_++;
    wake_pending_ = false;
    loop_.start([this] { begin_run(); }, [this] { end_run(); });
    return {};
}

Status Client::Impl::set_header(const uint8_t *data, size_t len) {
    Result<std::vector<uint8_t>> live = proto::asf::make_live_header(data, len);
    if (!live)
        return live.error();
    if (live->size() > kMaxPayload)
        return make_error(Errc::InvalidData, "ASF header of " + std::to_string(live->size()) +
                                                 " bytes does not fit one $H (" +
                                                 std::to_string(kMaxPayload) + ")");
    Result<proto::asf::HeaderInfo> info = proto::asf::parse_header(live->data(), live->size());
    if (!info)
        return info.error();
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (!running_)
            return make_error(Errc::InvalidRequest, "the push client is not started");
        if (failure_)
            return failure_->error;
        if (header_ && *header_ == *live)
            return {};
        header_ = std::make_shared<const Bytes>(std::move(*live));
        header_info_ = std::move(*info);
    }
    wake();
    return {};
}

Result<size_t> Client::Impl::push_packet(const uint8_t *data, size_t len) {
    size_t dropped = 0;
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (!running_)
            return make_error(Errc::InvalidRequest, "the push client is not started");
        if (failure_)
            return failure_->error;
        if (!header_)
            return make_error(Errc::InvalidData, "ASF data packet before the stream header");
        Result<proto::asf::PacketInfo> info = proto::asf::parse_packet(data, len, header_info_);
        if (!info)
            return info.error();
        if (disconnected_) {
            stats_.packets_dropped++;
            return size_t(1);
        }
        BufferedPacket packet;
        packet.data = std::make_shared<const Bytes>(data, data + len);
        packet.header = header_;
        packet.key_frame_start = info->key_frame_start;
        packet.send_time_ms = info->send_time_ms;
        dropped = buffer_.push(std::move(packet));
        stats_.packets_dropped += dropped;
    }
    wake();
    return dropped;
}

Status Client::Impl::end_session() {
    std::unique_lock<std::mutex> locker(lock_);
    if (!running_)
        return make_error(Errc::InvalidRequest, "the push client is not started");
    if (failure_)
        return failure_->error;
    if (disconnected_ || !header_)
        return {};
    end_requested_ = true;
    const std::string url = stats_.url;
    locker.unlock();
    wake();
    locker.lock();

    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::microseconds(config_.timeout_us);
    changed_.wait_until(locker, deadline, [this] {
        return end_status_.has_value() || failure_.has_value() || cancelled_ || disconnected_;
    });
    if (end_status_)
        return *end_status_;
    if (failure_)
        return failure_->error;
    if (disconnected_)
        return {};
    if (cancelled_)
        return make_error(Errc::Failed, "EndSession cancelled");
    if (!ever_set_up_)
        return make_error(Errc::NoConnection, "EndSession without a connection: " + url +
                                                  " did not accept a PushSetup within " +
                                                  seconds(config_.timeout_us));
    return make_error(Errc::ConnectionFailure,
                      "EndSession: the end of the stream could not be delivered to " + url +
                          " within " + seconds(config_.timeout_us) + " (" +
                          std::to_string(buffer_.size()) + " packets not sent)");
}

void Client::Impl::cancel(bool cancelled) {
    {
        std::lock_guard<std::mutex> locker(lock_);
        cancelled_ = cancelled;
    }
    changed_.notify_all();
}

void Client::Impl::disconnect() {
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (!running_ || disconnected_)
            return;
        disconnected_ = true;
        stats_.streaming = false;
    }
    changed_.notify_all();
    invoke([this] {
        if (phase_ == Phase::Ended || phase_ == Phase::Failed || phase_ == Phase::Stopped)
            return;
        cancel_backoff();
        close_connection();
        phase_ = Phase::Disconnected;
    });
}

void Client::Impl::stop() {
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (!running_)
            return;
    }
    loop_.call([this] {
        /* Keep the session for a later start() unless it ended. */
        const bool ended = phase_ == Phase::Ended;
        {
            std::lock_guard<std::mutex> locker(lock_);
            resume_location_ = ended ? "" : config_.session.location;
            resume_push_id_ = ended ? "" : session_->push_id();
        }
        phase_ = Phase::Stopped;
        cancel_backoff();
        close_connection();
    });
    loop_.stop();
    run_id_++;

    g_clear_object(&tls_database_);
    session_.reset();
    {
        std::lock_guard<std::mutex> locker(lock_);
        running_ = false;
        buffer_.clear();
        header_.reset();
        stats_.streaming = false;
    }
    changed_.notify_all();
}

ClientStats Client::Impl::stats() const {
    std::lock_guard<std::mutex> locker(lock_);
    return stats_locked();
}

/* Called with lock_ held. */
ClientStats Client::Impl::stats_locked() const {
    ClientStats stats = stats_;
    stats.buffered_packets = buffer_.size();
    stats.buffered_bytes = buffer_.bytes();
    return stats;
}

std::optional<Failure> Client::Impl::failure() const {
    std::lock_guard<std::mutex> locker(lock_);
    return failure_;
}

/* ================= I/O thread ================= */

void Client::Impl::update_stats(const std::function<void(ClientStats &)> &update) {
    std::lock_guard<std::mutex> locker(lock_);
    update(stats_);
}

void Client::Impl::begin_run() {
    socket_client_ = g_socket_client_new();
    g_signal_connect(socket_client_, "event", G_CALLBACK(on_socket_event), this);
    attempt();
}

void Client::Impl::end_run() {
    /* Let the cancelled operations complete so nothing refers to us afterwards. */
    connect_timer_.disarm();
    answer_timer_.disarm();
    write_timer_.disarm();
    loop_.iterate_until([this] { return pending_ops_.load() == 0; }, 5 * G_USEC_PER_SEC);
    g_signal_handlers_disconnect_by_data(socket_client_, this);
    g_clear_object(&socket_client_);
}

Failure Client::Impl::make_failure(Error error, unsigned http_status, const GError *io) const {
    Failure failure;
    failure.error = std::move(error);
    failure.url = session_->url().to_string();
    failure.host = session_->connect_target().host;
    failure.port = session_->connect_target().port;
    failure.http_status = http_status;
    if (io) {
        failure.io_domain = g_quark_to_string(io->domain);
        failure.io_code = io->code;
    }
    failure.attempt = backoff_.failures() + 1;
    return failure;
}

void Client::Impl::attempt() {
    session_->begin_attempt();
    header_needed_ = true;
    next_entry_sent_ = false;
    data_flowed_ = false;
    next_request_ = Next::Setup;
    bool reconnect = false;
    {
        std::lock_guard<std::mutex> locker(lock_);
        reconnect = stats_.connections > 0;
        next_seq_ = buffer_.begin_seq();
    }
    if (events_)
        events_->connecting(session_->url().to_string(), reconnect);
    open_connection();
}

void Client::Impl::close_connection() {
    connect_timer_.disarm();
    answer_timer_.disarm();
    write_timer_.disarm();
    if (connection_) {
        /* Operations in flight keep the Connection alive; end them now. */
        g_cancellable_cancel(connection_->cancellable);
        connection_->close();
        connection_.reset();
    }
    answers_.reset();
    pending_.clear();
    end_in_write_ = false;
    fill_in_write_ = false;
    peer_closed_ = false;
    update_stats([](ClientStats &stats) { stats.streaming = false; });
}

void Client::Impl::open_connection() {
    close_connection();
    connection_ = std::make_shared<Connection>();
    phase_ = Phase::Connecting;
    const Url &target = session_->connect_target();
    g_socket_client_set_tls(socket_client_, target.tls);
    g_autoptr(GSocketConnectable) address = g_network_address_new(target.host.c_str(), target.port);
    pending_ops_++;
    g_socket_client_connect_async(socket_client_, address, connection_->cancellable, on_connected,
                                  new Op{this, connection_});
    connect_timer_.arm(loop_.context(), config_.timeout_us, [this] {
        retry_connection("no connection to " + session_->url().to_string() + " within " +
                         seconds(config_.timeout_us));
    });
}

void Client::Impl::on_socket_event(GSocketClient *, GSocketClientEvent event, GSocketConnectable *,
                                   GIOStream *connection, gpointer data) {
    auto *self = static_cast<Impl *>(data);
    if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING || !G_IS_TLS_CONNECTION(connection))
        return;
    if (self->tls_database_)
        g_tls_connection_set_database(G_TLS_CONNECTION(connection), self->tls_database_);
    /* Validation through accept-certificate, not the deprecated validation flags: the
     * handshake asks us whenever the backend found a problem. */
    g_signal_connect_data(
        connection, "accept-certificate", G_CALLBACK(on_accept_certificate),
        new TlsCheck{self->connection_, self->config_.tls_validation_flags},
        [](gpointer check, GClosure *) { delete static_cast<TlsCheck *>(check); },
        GConnectFlags(0));
}

void Client::Impl::on_connected(GObject *source, GAsyncResult *result, gpointer data) {
    std::unique_ptr<Op> op(static_cast<Op *>(data));
    Impl *self = op->self;
    self->pending_ops_--;
    g_autoptr(GError) error = nullptr;
    GSocketConnection *stream =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
    if (op->connection != self->connection_ || self->phase_ != Phase::Connecting) {
        g_clear_object(&stream);
        return;
    }
    self->connect_timer_.disarm();
    if (!stream) {
        const Url &target = self->session_->connect_target();
        const std::string where = target.host + ":" + std::to_string(target.port);
        if (g_error_matches(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND)) {
            self->fail_fatal(
                self->make_failure(make_error(Errc::InvalidName, "unknown host '" + target.host +
                                                                     "': " + error->message),
                                   0, error));
        } else if (error->domain == G_TLS_ERROR) {
            /* Not transient: the same certificate (or TLS setup) would be refused again. */
            const GTlsCertificateFlags problems = self->connection_->tls_errors;
            std::string what = "TLS with " + where + " failed: " + error->message;
            if (problems != 0)
                what += " (certificate problems: " + describe_tls_errors(problems) +
                        "; GTlsCertificateFlags 0x" + hex(problems) + ")";
            Failure failure =
                self->make_failure(make_error(Errc::ConnectionFailure, what), 0, error);
            failure.tls_errors = problems;
            self->fail_fatal(std::move(failure));
        } else {
            self->retry_connection("cannot connect to " + where + ": " + error->message, error);
        }
        return;
    }
    self->connection_->stream = G_IO_STREAM(stream);
    self->read_more();
    if (self->next_request_ == Next::Setup) {
        self->phase_ = Phase::AwaitSetup;
        self->send(self->session_->setup_request());
        self->answer_timer_.arm(self->loop_.context(), self->config_.timeout_us, [self] {
            self->retry_connection(self->session_->url().to_string() +
                                   " did not answer the PushSetup within " +
                                   seconds(self->config_.timeout_us) + self->unfinished_answer());
        });
    } else {
        self->start_push();
    }
}

void Client::Impl::send(const std::string &text) {
    pending_.insert(pending_.end(), text.begin(), text.end());
    flush();
}

void Client::Impl::flush() {
    if (!connection_ || !connection_->stream || connection_->writing || pending_.empty())
        return;
    connection_->out.swap(pending_);
    pending_.clear();
    connection_->release_seq = next_seq_;
    connection_->writing = true;
    pending_ops_++;
    g_output_stream_write_all_async(g_io_stream_get_output_stream(connection_->stream),
                                    connection_->out.data(), connection_->out.size(),
                                    G_PRIORITY_DEFAULT, connection_->cancellable, on_write_done,
                                    new Op{this, connection_});
    write_timer_.arm(loop_.context(), config_.timeout_us, [this] {
        retry_connection(session_->url().to_string() + " accepted no data for " +
                         seconds(config_.timeout_us));
    });
}

void Client::Impl::on_write_done(GObject *source, GAsyncResult *result, gpointer data) {
    std::unique_ptr<Op> op(static_cast<Op *>(data));
    Impl *self = op->self;
    self->pending_ops_--;
    gsize written = 0;
    g_autoptr(GError) error = nullptr;
    const gboolean ok =
        g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, &written, &error);
    if (op->connection != self->connection_)
        return;
    self->write_timer_.disarm();
    self->connection_->writing = false;
    if (!ok) {
        self->retry_connection("connection to " + self->session_->url().to_string() +
                                   " lost: " + error->message,
                               error);
        return;
    }
    self->on_written(written);
}

void Client::Impl::on_written(size_t written) {
    uint64_t packets = 0;
    {
        std::lock_guard<std::mutex> locker(lock_);
        const uint64_t before = buffer_.begin_seq();
        buffer_.release(connection_->release_seq);
        packets = buffer_.begin_seq() > before ? buffer_.begin_seq() - before : 0;
        stats_.bytes_sent += written;
        stats_.packets_sent += packets;
    }
    if (packets > 0 && !data_flowed_) {
        /* The stream flows again: the next outage gets the whole retry budget. */
        data_flowed_ = true;
        backoff_.reset();
        update_stats([](ClientStats &stats) { stats.failed_attempts = 0; });
    }
    if (end_in_write_ || fill_in_write_) {
        /* The body is complete: now the server's answer (or close) counts. */
        const bool end = end_in_write_;
        end_in_write_ = false;
        fill_in_write_ = false;
        phase_ = end ? Phase::Ending : Phase::AwaitStart;
        update_stats([](ClientStats &stats) { stats.streaming = false; });
        answer_timer_.arm(loop_.context(), config_.timeout_us, [this, end] {
            if (end) {
                finish_end();
                return;
            }
            retry_connection(session_->url().to_string() +
                             " did not answer the completed PushStart within " +
                             seconds(config_.timeout_us) + unfinished_answer());
        });
        /* An answer or a close that came while the last bytes were written. */
        ConnectionRef connection = connection_;
        process_input();
        if (connection != connection_)
            return;
        if (peer_closed_) {
            on_closed_by_server();
        } else if (connection_->read_paused) {
            connection_->read_paused = false;
            read_more();
        }
        return;
    }
    if (peer_closed_) {
        on_closed_by_server();
        return;
    }
    flush();
    pump();
}

void Client::Impl::read_more() {
    pending_ops_++;
    g_input_stream_read_async(g_io_stream_get_input_stream(connection_->stream),
                              connection_->in.data(), connection_->in.size(), G_PRIORITY_DEFAULT,
                              connection_->cancellable, on_read, new Op{this, connection_});
}

void Client::Impl::on_read(GObject *source, GAsyncResult *result, gpointer data) {
    std::unique_ptr<Op> op(static_cast<Op *>(data));
    Impl *self = op->self;
    self->pending_ops_--;
    g_autoptr(GError) error = nullptr;
    const gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
    if (op->connection != self->connection_)
        return;
    if (n <= 0 && self->connection_->writing) {
        /* Let the write in flight finish first: what it completes was delivered to the
         * socket and must not be sent again after the reconnection. */
        self->peer_closed_ = true;
        return;
    }
    if (n < 0) {
        if (self->phase_ == Phase::Ending) {
            self->finish_end();
            return;
        }
        self->retry_connection("connection to " + self->session_->url().to_string() +
                                   " lost: " + error->message,
                               error);
        return;
    }
    if (n == 0) {
        self->on_closed_by_server();
        return;
    }
    self->answers_.feed(op->connection->in.data(), static_cast<size_t>(n));
    self->process_input();
    /* Still the same connection (process_input() may have replaced it)? */
    if (op->connection != self->connection_)
        return;
    /* Unparsed while a completing write is in flight: stop reading at a full head, so that a
     * server sending endlessly costs no more memory; on_written() reads on. */
    if (self->completing_write() && self->answers_.buffered() >= proto::http::kMaxHeaderBytes)
        self->connection_->read_paused = true;
    else
        self->read_more();
}

bool Client::Impl::completing_write() const {
    return connection_ && connection_->writing && (end_in_write_ || fill_in_write_);
}

void Client::Impl::process_input() {
    /* The answer to a body whose last bytes are being written waits for that write. */
    if (completing_write())
        return;
    ConnectionRef connection = connection_;
    while (connection == connection_) {
        Result<std::optional<Response>> answer = answers_.next();
        if (!answer) {
            retry_connection(session_->url().to_string() +
                             " sent a bad answer: " + answer.error().message);
            return;
        }
        if (!answer->has_value())
            return;
        on_answer(**answer);
    }
}

/* For the answer timeouts: what arrived of an answer that never ended, if anything. */
std::string Client::Impl::unfinished_answer() const {
    if (answers_.buffered() == 0)
        return "";
    return " (" + std::to_string(answers_.buffered()) + " bytes of an unfinished answer received)";
}

void Client::Impl::on_answer(const Response &response) {
    switch (phase_) {
    case Phase::AwaitSetup:
        on_setup_answer(response);
        break;
    case Phase::AwaitStart:
    case Phase::Streaming:
    case Phase::AwaitHeader:
        on_start_answer(response);
        break;
    case Phase::Ending:
        finish_end();
        break;
    default:
        break;
    }
}

void Client::Impl::on_setup_answer(const Response &response) {
    answer_timer_.disarm();
    const Verdict verdict = session_->on_setup_response(response);
    update_stats([this](ClientStats &stats) {
        stats.push_id = session_->push_id();
        stats.url = session_->url().to_string();
    });
    switch (verdict.action) {
    case Verdict::Action::Proceed: {
        std::lock_guard<std::mutex> locker(lock_);
        ever_set_up_ = true;
    }
        start_next(verdict.reuse_connection);
        break;
    case Verdict::Action::Resubmit:
        next_request_ = Next::Setup;
        open_connection();
        break;
    case Verdict::Action::Fail:
        fail_attempt(make_failure(verdict.error, response.status), verdict.retryable);
        break;
    }
}

void Client::Impl::start_next(bool reuse_connection) {
    if (reuse_connection) {
        start_push();
        return;
    }
    next_request_ = Next::Start;
    open_connection();
}

void Client::Impl::on_start_answer(const Response &response) {
    answer_timer_.disarm();
    const bool body_complete = phase_ == Phase::AwaitStart;
    const Verdict verdict = session_->on_start_response(response);
    update_stats([this](ClientStats &stats) { stats.push_id = session_->push_id(); });
    switch (verdict.action) {
    case Verdict::Action::Proceed:
        if (!body_complete) {
            fail_attempt(
                make_failure(
                    make_error(Errc::ConnectionFailure,
                               session_->url().to_string() + " ended the PushStart early: " +
                                   std::to_string(response.status) + " " + response.reason),
                    response.status),
                true);
        } else {
            start_next(verdict.reuse_connection);
        }
        break;
    case Verdict::Action::Resubmit:
        header_needed_ = true;
        next_request_ = Next::Setup;
        open_connection();
        break;
    case Verdict::Action::Fail:
        fail_attempt(make_failure(verdict.error, response.status), verdict.retryable);
        break;
    }
}

void Client::Impl::on_closed_by_server() {
    if (phase_ == Phase::Ending) {
        finish_end();
        return;
    }
    const char *when = phase_ == Phase::AwaitSetup ? " closed the connection without answering"
                                                   : " closed the connection";
    retry_connection(session_->url().to_string() + when);
}

void Client::Impl::start_push() {
    BytesRef header;
    uint32_t content_length = 0;
    {
        std::lock_guard<std::mutex> locker(lock_);
        /* The header of the first packet to send, else the newest one. */
        const BufferedPacket *first = buffer_.find(std::max(next_seq_, buffer_.begin_seq()));
        header = first ? first->header : header_;
        if (header)
            content_length =
                std::max(config_.content_length,
                         minimum_content_length(std::max(header->size(), header_->size()),
                                                header_info_.packet_size));
    }
    if (!header) {
        phase_ = Phase::AwaitHeader;
        return;
    }
    body_ = Body(content_length);
    send(session_->start_request(content_length));
    if (header_needed_) {
        /* Fits: the content length is at least a maximum $H + 4. */
        Result<Body::Fit> fit = body_.header(header->data(), header->size(), pending_);
        g_assert(fit && *fit == Body::Fit::Sent);
        sent_header_ = header;
        header_needed_ = false;
        next_entry_sent_ = false;
    }
    phase_ = Phase::Streaming;
    ClientStats snapshot;
    bool reconnect = false;
    {
        std::lock_guard<std::mutex> locker(lock_);
        stats_.streaming = true;
        stats_.connections++;
        stats_.reconnects = stats_.connections > 1 ? stats_.connections - 1 : 0;
        reconnect = stats_.connections > 1;
        snapshot = stats_locked();
    }
    if (events_)
        events_->connected(snapshot, reconnect);
    flush();
    pump();
}

/* Frame what is due into the open body: a header change, data packets, the end. */
void Client::Impl::pump() {
    if (phase_ != Phase::Streaming || !connection_ || connection_->writing)
        return;
    bool end = false;
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (next_seq_ < buffer_.begin_seq())
            next_seq_ = buffer_.begin_seq(); /* dropped meanwhile */
        while (pending_.size() < kBatchBytes && !fill_in_write_) {
            const BufferedPacket *packet = buffer_.find(next_seq_);
            if (!packet)
                break;
            if (packet->header != sent_header_) {
                /* Header change [MS-WMHTTP §4.4]: $E(1), then $C with the new header. */
                if (!next_entry_sent_) {
                    Result<Body::Fit> fit = body_.end(proto::framing::kReasonNextEntry, pending_);
                    if (fit && *fit == Body::Fit::Filled) {
                        fill_in_write_ = true;
                        break;
                    }
                    next_entry_sent_ = true;
                }
                Result<Body::Fit> fit =
                    body_.change(packet->header->data(), packet->header->size(), pending_);
                if (!fit) {
                    g_warning("push: header change not sent: %s", fit.error().message.c_str());
                } else if (*fit == Body::Fit::Filled) {
                    fill_in_write_ = true;
                    break;
                }
                sent_header_ = packet->header;
                next_entry_sent_ = false;
            }
            Result<Body::Fit> fit =
                body_.data(packet->data->data(), packet->data->size(), pending_);
            if (!fit) {
                /* Cannot happen: parse_packet() checked the size. Skip it. */
                g_warning("push: packet %" G_GUINT64_FORMAT " not sent: %s", next_seq_,
                          fit.error().message.c_str());
            } else if (*fit == Body::Fit::Filled) {
                fill_in_write_ = true;
                break;
            }
            next_seq_++;
        }
        end = end_requested_ && !fill_in_write_ && next_seq_ >= buffer_.end_seq();
    }
    if (end) {
        Result<Body::Fit> fit = body_.end(proto::framing::kReasonDone, pending_);
        if (fit && *fit == Body::Fit::Sent)
            end_in_write_ = true;
        else
            fill_in_write_ = true;
    }
    flush();
}

void Client::Impl::finish_end() {
    answer_timer_.disarm();
    close_connection();
    session_->forget_push_id();
    phase_ = Phase::Ended;
    ClientStats snapshot;
    {
        std::lock_guard<std::mutex> locker(lock_);
        end_status_ = Status();
        stats_.streaming = false;
        snapshot = stats_locked();
    }
    changed_.notify_all();
    if (events_)
        events_->ended(snapshot);
}

void Client::Impl::retry_connection(const std::string &what, const GError *io) {
    fail_attempt(make_failure(make_error(Errc::ConnectionFailure, what), 0, io), true);
}

void Client::Impl::fail_attempt(Failure failure, bool retryable) {
    if (phase_ == Phase::Stopped || phase_ == Phase::Disconnected || phase_ == Phase::Ended ||
        phase_ == Phase::Failed)
        return;
    close_connection();
    if (!retryable) {
        fail_fatal(std::move(failure));
        return;
    }
    const std::optional<int64_t> delay = backoff_.next_delay();
    if (!delay) {
        failure.error.message = "gave up after " + std::to_string(backoff_.failures()) +
                                " failed attempts: " + failure.error.message;
        fail_fatal(std::move(failure));
        return;
    }
    phase_ = Phase::Backoff;
    update_stats([this](ClientStats &stats) { stats.failed_attempts = backoff_.failures(); });
    if (events_)
        events_->attempt_failed(failure, *delay);
    const uint64_t generation = ++backoff_generation_;
    backoff_timer_ = clock_.schedule(loop_.context(), *delay, [this, generation] {
        if (generation != backoff_generation_ || phase_ != Phase::Backoff)
            return;
        backoff_timer_ = 0;
        attempt();
    });
}

void Client::Impl::fail_fatal(Failure failure) {
    close_connection();
    phase_ = Phase::Failed;
    cancel_backoff();
    {
        std::lock_guard<std::mutex> locker(lock_);
        failure_ = failure;
        stats_.failed_attempts = backoff_.failures();
    }
    changed_.notify_all();
    if (events_)
        events_->failed(failure);
}

void Client::Impl::cancel_backoff() {
    backoff_generation_++;
    if (backoff_timer_)
        clock_.cancel(backoff_timer_);
    backoff_timer_ = 0;
}

void Client::Impl::on_wake() {
    switch (phase_) {
    case Phase::AwaitHeader:
        start_push();
        break;
    case Phase::Streaming:
        pump();
        break;
    default:
        break;
    }
}

/* ================= Client ================= */

Client::Client(ClientEvents *events, Clock &clock) : impl_(std::make_unique<Impl>(events, clock)) {}
Client::~Client() = default;
Status Client::start(const ClientConfig &config) {
    return impl_->start(config);
}
Status Client::set_header(const uint8_t *data, size_t len) {
    return impl_->set_header(data, len);
}
Result<size_t> Client::push_packet(const uint8_t *data, size_t len) {
    return impl_->push_packet(data, len);
}
Status Client::end_session() {
    return impl_->end_session();
}
void Client::cancel() {
    impl_->cancel(true);
}
void Client::uncancel() {
    impl_->cancel(false);
}
void Client::disconnect() {
    impl_->disconnect();
}
void Client::stop() {
    impl_->stop();
}
ClientStats Client::stats() const {
    return impl_->stats();
}
std::optional<Failure> Client::failure() const {
    return impl_->failure();
}

} // namespace wmstream::push
