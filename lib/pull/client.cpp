/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The blocking MS-WMSP pull client: GSocketClient connections, request
 * writes and reads bounded by the timeout (g_socket_condition_timed_wait),
 * every wait cancellable, reconnection after the backoff.
 */
#include "pull/client.h"

#include "base/gio-types.h"

#include <algorithm>
#include <utility>

namespace wmstream::pull {

namespace http = proto::http;

namespace {

/* Bytes read from the socket at a time: one framed packet at most. */
constexpr size_t kReadSize = 64 * 1024;

unsigned to_seconds(int64_t us) {
    return static_cast<unsigned>((us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

} // namespace

Result<std::unique_ptr<Client>> Client::create(ClientConfig config, ClientEvents &events) {
    config.timeout_us = std::clamp(config.timeout_us, kMinTimeoutUs, kMaxDurationUs);
    config.retry = bounded(config.retry, kMaxDurationUs);
    Result<Session> session = Session::create(config.session);
    if (!session)
        return session.error();
    ensure_gio_types(); /* on the creating thread, before next() runs GIO code on another */
    return std::unique_ptr<Client>(new Client(std::move(config), std::move(*session), events));
}

Client::Client(ClientConfig config, Session session, ClientEvents &events)
    : config_(std::move(config)), session_(std::move(session)), events_(events),
      backoff_(config_.retry), cancellable_(g_cancellable_new()), buffer_(kReadSize) {}

Client::~Client() {
    close();
    g_object_unref(cancellable_);
}

void Client::close() {
    g_clear_object(&connection_);
    streaming_ = false;
}

ClientStats Client::stats() const {
    ClientStats stats;
    stats.bytes_received = bytes_received_;
    stats.packets_received = packets_received_;
    stats.packets_skipped = skipped_;
    stats.reconnects = reconnects_;
    stats.seamless_reconnects = seamless_reconnects_;
    return stats;
}

Error Client::io_error(GError *error, const char *doing) const {
    Errc code = Errc::ConnectionFailure;
    if (error->domain == G_RESOLVER_ERROR)
        code = Errc::InvalidName;
    else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
        code = Errc::AccessDenied;
    return make_error(code, std::string(doing) + " " + session_.url().to_string() + ": " +
                                error->message);
}

Error Client::failed_read(const char *what) const {
    return make_error(Errc::ConnectionFailure,
                      session_.url().to_string() + " closed the connection " + what);
}

Status Client::connect() {
    close();
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_socket_client_set_timeout(client, to_seconds(config_.timeout_us));
    const http::Url &url = session_.url();
    g_autoptr(GSocketConnectable) address = g_network_address_new(url.host.c_str(), url.port);
    g_autoptr(GError) error = nullptr;
    connection_ = g_socket_client_connect(client, address, cancellable_, &error);
    if (!connection_)
        return io_error(error, "cannot connect to");
    GSocket *socket = g_socket_connection_get_socket(connection_);
    g_socket_set_timeout(socket, to_seconds(config_.timeout_us));
    return {};
}

Status Client::send_request() {
    const std::string request = session_.request();
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection_));
    g_autoptr(GError) error = nullptr;
    gsize written = 0;
    if (!g_output_stream_write_all(out, request.data(), request.size(), &written, cancellable_,
                                   &error))
        return io_error(error, "cannot send the request to");
    return {};
}

Result<size_t> Client::read_some(uint8_t *data, size_t len) {
    GSocket *socket = g_socket_connection_get_socket(connection_);
    g_autoptr(GError) error = nullptr;
    if (!g_socket_condition_timed_wait(socket, G_IO_IN, config_.timeout_us, cancellable_, &error))
        return io_error(error, "nothing received from");
    const gssize got =
        g_socket_receive(socket, reinterpret_cast<char *>(data), len, cancellable_, &error);
    if (got < 0)
        return io_error(error, "cannot read from");
    bytes_received_ += static_cast<uint64_t>(got);
    return static_cast<size_t>(got);
}

Result<http::Response> Client::read_answer() {
    http::AnswerReader reader;
    for (;;) {
        Result<size_t> got = read_some(buffer_.data(), buffer_.size());
        if (!got)
            return got.error();
        if (*got == 0)
            return failed_read("before its answer");
        reader.feed(reinterpret_cast<const char *>(buffer_.data()), *got);
        Result<std::optional<http::Response>> answer = reader.next();
        if (!answer)
            return make_error(Errc::InvalidData,
                              session_.url().to_string() + ": " + answer.error().message);
        if (answer->has_value()) {
            body_start_ = reader.take_body();
            return std::move(**answer);
        }
    }
}

/* The Describe answer's body up to its header; the session then is at Play. */
Status Client::read_describe() {
    for (;;) {
        Result<std::optional<Event>> event = session_.next();
        if (!event)
            return event.error();
        if (event->has_value())
            return {};
        Result<size_t> got = read_some(buffer_.data(), buffer_.size());
        if (!got)
            return got.error();
        if (*got == 0)
            return failed_read("before the header of its Describe answer");
        session_.feed(buffer_.data(), *got);
    }
}

Status Client::open_stream() {
    session_.begin_attempt();
    refused_ = false;
    events_.connecting(session_.url().to_string(), ever_streamed_);
    for (;;) {
        last_status_ = 0;
        Status step = connect();
        if (step)
            step = send_request();
        if (!step)
            return step;
        const bool describing = session_.phase() == Session::Phase::Describe;
        Result<http::Response> answer = read_answer();
        if (!answer)
            return answer.error();
        last_status_ = answer->status;
        const Verdict verdict = session_.on_answer(*answer);
        switch (verdict.action) {
        case Verdict::Action::Redirect:
            continue;
        case Verdict::Action::Refused:
            refused_ = true;
            return verdict.error;
        case Verdict::Action::Reconnect:
            return verdict.error;
        case Verdict::Action::Proceed:
            break;
        }
        session_.feed(reinterpret_cast<const uint8_t *>(body_start_.data()), body_start_.size());
        if (!describing) {
            streaming_ = true;
            after_loss_ = ever_streamed_;
            if (ever_streamed_)
                reconnects_++;
            events_.connected(session_.url().to_string(), ever_streamed_);
            ever_streamed_ = true;
            return {};
        }
        step = read_describe();
        if (!step)
            return step;
    }
}

Status Client::retry_after(Error error, unsigned http_status, bool retryable) {
    close();
    Failure failure;
    failure.error = std::move(error);
    failure.url = session_.url().to_string();
    failure.http_status = http_status;
    failure.attempt = backoff_.failures() + 1;
    failure_ = failure;
    if (!retryable || cancelled())
        return failure.error;
    const std::optional<int64_t> next = backoff_.next_delay();
    if (!next)
        return failure.error;
    const int64_t delay = *next;
    events_.attempt_failed(failure, delay);
    /* Wait the delay, or until cancel(). */
    GPollFD poll;
    if (g_cancellable_make_pollfd(cancellable_, &poll)) {
        g_poll(&poll, 1, static_cast<gint>(std::min<int64_t>(delay / 1000, G_MAXINT)));
        g_cancellable_release_fd(cancellable_);
    }
    if (cancelled())
        return failure.error;
    return {};
}

Result<Event> Client::next() {
    for (;;) {
        if (cancelled()) {
            close();
            return make_error(Errc::Failed, "cancelled");
        }
        if (!streaming_) {
            const Status opened = open_stream();
            if (!opened) {
                /* Not worth retrying: what the server refused, an unknown host, a selection
                 * the header does not offer. */
                const Errc code = opened.error().code;
                const bool retryable =
                    !refused_ && (code == Errc::ConnectionFailure || code == Errc::InvalidData);
                const Status waited = retry_after(opened.error(), last_status_, retryable);
                if (!waited)
                    return waited.error();
                continue;
            }
        }
        Result<std::optional<Event>> event = session_.next();
        if (event && event->has_value()) {
            Event &ready = **event;
            if (ready.kind == Event::Kind::Data) {
                const Status continued =
                    resume_.on_data(ready, *session_.header(), g_get_monotonic_time());
                if (!continued)
                    return continued.error(); /* Stream parsed it: not expected */
                backoff_.reset();
                packets_received_++;
                skipped_ = session_.skipped();
                return std::move(ready);
            }
            if (ready.kind == Event::Kind::End && ready.reason == proto::framing::kReasonDone) {
                close();
                return std::move(ready);
            }
            if (ready.kind == Event::Kind::End && ready.reason != proto::framing::kReasonNextEntry)
                event = make_error(Errc::ConnectionFailure, session_.url().to_string() +
                                                                " ended the stream with reason " +
                                                                std::to_string(ready.reason));
            else if (ready.kind == Event::Kind::Header) {
                if (resume_.on_header(*session_.header(), std::exchange(after_loss_, false)))
                    return std::move(ready);
                seamless_reconnects_++;
                continue; /* the same streams: the header output stays */
            } else
                continue; /* $C, $E(1): the new header follows */
        }
        Error lost;
        if (!event) {
            lost = event.error();
        } else {
            Result<size_t> got = read_some(buffer_.data(), buffer_.size());
            if (got && *got > 0) {
                session_.feed(buffer_.data(), *got);
                continue;
            }
            lost = got ? failed_read("during the stream") : got.error();
        }
        const Status waited = retry_after(lost, 0, lost.code != Errc::InvalidArgument);
        if (!waited)
            return waited.error();
    }
}

} // namespace wmstream::pull
