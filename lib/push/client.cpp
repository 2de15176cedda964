/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * push::Client and the half of its Impl that the application and streaming
 * threads call (client-impl.h): start/stop and the run's lifecycle, the
 * stream header and packets handed to the StreamBuffer, EndSession's wait,
 * disconnect, the statistics. The I/O thread's state machine is in
 * client-io.cpp.
 *
 * Threading: the public calls come from any thread and touch the shared
 * state under lock_ only; work for the I/O thread is posted to it
 * (invoke(), wake()). Lock order: lock_ is the only lock; it is never held
 * while calling out (events, GIO).
 */
#include "push/client-impl.h"

#include "proto/asf.h"
#include "push/body.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace wmstream::push {

std::string seconds(int64_t us) {
    char text[32];
    g_snprintf(text, sizeof text, "%.3g s", static_cast<double>(us) / G_USEC_PER_SEC);
    return text;
}

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

/* ================= any thread ================= */

namespace {

/* @p config with every duration within what the client can use (kMinRetryDelayUs,
 * kMaxDurationUs). */
ClientConfig bounded(ClientConfig config) {
    const auto clamp = [](int64_t &us, int64_t low) { us = std::clamp(us, low, kMaxDurationUs); };
    clamp(config.timeout_us, 0);
    clamp(config.max_buffer_time_us, 0);
    config.retry = bounded(config.retry, kMaxDurationUs);
    return config;
}

} // namespace

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

Status Client::Impl::start(const ClientConfig &settings) {
    const ClientConfig config = bounded(settings);
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
    pump_ = Pump();
    run_id_++;
    wake_pending_ = false;
    loop_.start([this] { begin_run(); }, [this] { end_run(); }, config.thread_hook, "push-io");
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
        /* Refused now, before $E(1) announces a change that no $C could carry. */
        if (header_ && live->size() > kMaxChangeHeader)
            return make_error(Errc::InvalidData,
                              "new ASF header of " + std::to_string(live->size()) +
                                  " bytes does not fit one $C (at most " +
                                  std::to_string(kMaxChangeHeader) +
                                  " bytes, MS-WMHTTP §2.2.3.2): the header cannot change to it");
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

/* ================= I/O thread: the run ================= */

void Client::Impl::begin_run() {
    connector_.emplace(loop_.context(), tls_database_, config_.tls_validation_flags,
                       config_.timeout_us);
    attempt();
}

void Client::Impl::end_run() {
    /* Let the cancelled operations complete so nothing refers to us afterwards. */
    close_connection();
    loop_.iterate_until([this] { return connector_->idle(); }, 5 * G_USEC_PER_SEC);
    connector_.reset();
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
