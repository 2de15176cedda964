/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The push client's I/O thread (Client::Impl, client-impl.h): the state
 * machine of one run. An attempt connects, sends PushSetup, then PushStart
 * bodies framed from the StreamBuffer (Pump) until EndSession; the
 * server's answers go to the Session for a verdict; a failed attempt is
 * retried after the backoff (Backoff, scheduled through the Clock) or is
 * fatal. The connection I/O is the Connection's (connection.h).
 *
 * Threading: every function here runs on the I/O thread; the shared state
 * is read and written under lock_, which is never held while calling out
 * (events, GIO).
 */
#include "push/client-impl.h"

#include "proto/http-request.h"

#include <algorithm>
#include <utility>

namespace wmstream::push {

namespace {

std::string hex(unsigned value) {
    char text[16];
    g_snprintf(text, sizeof text, "%x", value);
    return text;
}

} // namespace

void Client::Impl::update_stats(const std::function<void(ClientStats &)> &update) {
    std::lock_guard<std::mutex> locker(lock_);
    update(stats_);
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

/* ================= attempts and the connection ================= */

void Client::Impl::attempt() {
    session_->begin_attempt();
    data_flowed_ = false;
    bool reconnect = false;
    uint64_t first_seq = 0;
    {
        std::lock_guard<std::mutex> locker(lock_);
        reconnect = stats_.connections > 0;
        first_seq = buffer_.begin_seq();
    }
    pump_.restart(first_seq);
    if (events_)
        events_->connecting(session_->url().to_string(), reconnect);
    open_connection(Phase::ConnectForSetup);
}

void Client::Impl::close_connection() {
    answer_timer_.disarm();
    if (connection_) {
        connection_->close();
        connection_.reset();
    }
    update_stats([](ClientStats &stats) { stats.streaming = false; });
}

void Client::Impl::open_connection(Phase next) {
    close_connection();
    const Status auth = session_->connection_opened();
    if (!auth) {
        fail_fatal(make_failure(auth.error()));
        return;
    }
    connection_ = connector_->open(*this, session_->connect_target());
    phase_ = next;
}

void Client::Impl::on_connect_timeout() {
    retry_connection("no connection to " + session_->url().to_string() + " within " +
                     seconds(config_.timeout_us));
}

void Client::Impl::on_connect_failed(const GError *error) {
    if (!connecting())
        return;
    const Url &target = session_->connect_target();
    const std::string where = target.host + ":" + std::to_string(target.port);
    if (g_error_matches(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND)) {
        fail_fatal(make_failure(
            make_error(Errc::InvalidName, "unknown host '" + target.host + "': " + error->message),
            0, error));
    } else if (error->domain == G_TLS_ERROR) {
        /* Not transient: the same certificate (or TLS setup) would be refused again. */
        const GTlsCertificateFlags problems = connection_->tls_errors();
        std::string what = "TLS with " + where + " failed: " + error->message;
        if (problems != 0)
            what += " (certificate problems: " + describe_tls_errors(problems) +
                    "; GTlsCertificateFlags 0x" + hex(problems) + ")";
        Failure failure = make_failure(make_error(Errc::ConnectionFailure, what), 0, error);
        failure.tls_errors = problems;
        fail_fatal(std::move(failure));
    } else {
        retry_connection("cannot connect to " + where + ": " + error->message, error);
    }
}

void Client::Impl::on_connected() {
    if (!connecting())
        return;
    connection_->read();
    if (phase_ == Phase::ConnectForSetup)
        send_setup();
    else
        start_push();
}

void Client::Impl::send_setup() {
    phase_ = Phase::AwaitSetup;
    send(session_->setup_request());
    answer_timer_.arm(loop_.context(), config_.timeout_us, [this] {
        retry_connection(session_->url().to_string() + " did not answer the PushSetup within " +
                         seconds(config_.timeout_us) + unfinished_answer());
    });
}

void Client::Impl::send(const std::string &text) {
    Bytes &queue = connection_->queue();
    queue.insert(queue.end(), text.begin(), text.end());
    flush();
}

void Client::Impl::flush() {
    if (connection_)
        connection_->flush(pump_.next_seq());
}

void Client::Impl::on_write_timeout() {
    retry_connection(session_->url().to_string() + " accepted no data for " +
                     seconds(config_.timeout_us));
}

void Client::Impl::on_write_failed(const GError *error) {
    retry_connection("connection to " + session_->url().to_string() + " lost: " + error->message,
                     error);
}

void Client::Impl::on_written(size_t written, uint64_t release_seq) {
    uint64_t packets = 0;
    {
        std::lock_guard<std::mutex> locker(lock_);
        const uint64_t before = buffer_.begin_seq();
        buffer_.release(release_seq);
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
    if (completing_write()) {
        /* The body is complete: now the server's answer (or close) counts. */
        const bool end = phase_ == Phase::EndWrite;
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
        if (connection_->peer_closed())
            on_closed_by_server();
        else
            connection_->resume_reading();
        return;
    }
    if (connection_->peer_closed()) {
        on_closed_by_server();
        return;
    }
    flush();
    pump();
}

void Client::Impl::on_read_end(const GError *error) {
    if (!error) {
        on_closed_by_server();
        return;
    }
    if (phase_ == Phase::Ending) {
        finish_end();
        return;
    }
    retry_connection("connection to " + session_->url().to_string() + " lost: " + error->message,
                     error);
}

void Client::Impl::on_received() {
    ConnectionRef connection = connection_;
    process_input();
    /* Still the same connection (process_input() may have replaced it)? */
    if (connection != connection_)
        return;
    /* Unparsed while a completing write is in flight: stop reading at a full head, so that a
     * server sending endlessly costs no more memory; on_written() reads on. */
    if (completing_write() && connection_->answers().buffered() >= proto::http::kMaxHeaderBytes)
        connection_->pause_reading();
    else
        connection_->read();
}

void Client::Impl::process_input() {
    /* The answer to a body whose last bytes are being written waits for that write. */
    if (completing_write())
        return;
    ConnectionRef connection = connection_;
    while (connection == connection_) {
        Result<std::optional<Response>> answer = connection_->answers().next();
        if (!answer) {
            retry_connection(session_->url().to_string() +
                             " sent a bad answer: " + answer.error().message);
            return;
        }
        if (!answer->has_value())
            return;
        /* No body is read: a page (a 401's) is passed over, the connection may go on. */
        connection_->answers().skip_body((*answer)->body_length().value_or(0));
        on_answer(**answer);
    }
}

/* For the answer timeouts: what arrived of an answer that never ended, if anything. */
std::string Client::Impl::unfinished_answer() const {
    const size_t buffered = connection_ ? connection_->answers().buffered() : 0;
    if (buffered == 0)
        return "";
    return " (" + std::to_string(buffered) + " bytes of an unfinished answer received)";
}

/* ================= the server's answers ================= */

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
        stats.proxy = session_->proxy() ? session_->proxy()->origin() : "";
        stats.auth_scheme = session_->auth_scheme();
    });
    switch (verdict.action) {
    case Verdict::Action::Proceed: {
        std::lock_guard<std::mutex> locker(lock_);
        ever_set_up_ = true;
    }
        /* A connection NTLM/Negotiate authenticated that the server does not keep: every new
         * one would need a PushSetup again, for ever. */
        if (!verdict.reuse_connection && session_->setup_per_connection()) {
            fail_attempt(make_failure(make_error(Errc::ConnectionFailure,
                                                 session_->url().to_string() +
                                                     " closes the connection after PushSetup: "
                                                     "no PushStart can use the " +
                                                     session_->auth_scheme() +
                                                     " authentication of that connection"),
                                      response.status),
                         false);
            break;
        }
        start_next(verdict.reuse_connection);
        break;
    case Verdict::Action::Resubmit:
        /* The next leg of an NTLM/Negotiate handshake stays on this connection. */
        if (verdict.reuse_connection)
            send_setup();
        else
            open_connection(Phase::ConnectForSetup);
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
    /* NTLM and Negotiate authenticate a connection through PushSetup only [MS-WMHTTP
     * §3.2.5.2]: a new connection begins with PushSetup (same push-id), then $H again. */
    if (session_->setup_per_connection()) {
        pump_.need_header();
        open_connection(Phase::ConnectForSetup);
        return;
    }
    open_connection(Phase::ConnectForStart);
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
        pump_.need_header();
        open_connection(Phase::ConnectForSetup);
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
        const BufferedPacket *first = buffer_.find(std::max(pump_.next_seq(), buffer_.begin_seq()));
        header = first ? first->header : header_;
        uint32_t wanted = config_.content_length;
        if (header && session_->proxy()) {
            /* About 60 s of data behind a proxy [MS-WMHTTP §3.1.4.2.1]: the header's bit rate,
             * else the rate measured over a second of stream (the end may come sooner). */
            uint64_t rate = header_info_.max_bitrate;
            if (rate == 0)
                rate = buffer_.bitrate(kRateSpanMs).value_or(0);
            if (rate > 0)
                wanted = std::min(wanted, proxy_content_length(rate, header_info_.packet_size));
            else if (!end_requested_)
                header = nullptr;
        }
        if (header)
            content_length =
                std::max(wanted, minimum_content_length(std::max(header->size(), header_->size()),
                                                        header_info_.packet_size));
    }
    if (!header) {
        phase_ = Phase::AwaitHeader;
        return;
    }
    send(session_->start_request(content_length));
    pump_.open(content_length, header, connection_->queue());
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
    if (phase_ != Phase::Streaming || !connection_ || connection_->writing())
        return;
    Pump::State state = Pump::State::Open;
    bool end = false;
    {
        std::lock_guard<std::mutex> locker(lock_);
        state = pump_.frame(buffer_, connection_->queue());
        end = end_requested_ && state == Pump::State::Open && pump_.next_seq() >= buffer_.end_seq();
    }
    if (end)
        state = pump_.end(connection_->queue());
    if (state == Pump::State::Filled)
        phase_ = Phase::FillWrite;
    else if (state == Pump::State::Ended)
        phase_ = Phase::EndWrite;
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

} // namespace wmstream::push
