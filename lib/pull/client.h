/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MS-WMSP pull client on GIO: blocking, run on the caller's thread (the
 * source element's streaming thread). It drives a pull::Session: connects
 * (GSocketClient), sends the Describe and the Play requests, follows
 * redirects, reads the answers (proto::http::AnswerReader) and the stream,
 * every wait bounded by a timeout and cancellable (GCancellable). When the
 * server refuses for now, cannot be reached, goes silent or closes the
 * stream, it reconnects after the push sink's backoff (base/backoff.h) and
 * the stream resumes at a key frame (pull/stream.h): under the header
 * already output when the streams are the same (pull/resume.h), else with
 * the new header.
 */
#pragma once

#include "base/backoff.h"
#include "base/error.h"
#include "pull/resume.h"
#include "pull/session.h"

#include <gio/gio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wmstream::pull {

/** Shortest timeout, µs: GIO's socket timeouts are whole seconds. */
constexpr int64_t kMinTimeoutUs = G_USEC_PER_SEC;
/** Longest duration of any setting, µs (2^32 − 1 ms, as the push client's); a longer one is
 *  taken as this. */
constexpr int64_t kMaxDurationUs = int64_t{UINT32_MAX} * 1000;

struct ClientConfig {
    SessionConfig session;
    /** Longest wait for a connection, an answer head, or the next bytes of the stream, µs;
     *  taken within kMinTimeoutUs – kMaxDurationUs. */
    int64_t timeout_us = 10 * G_USEC_PER_SEC;
    /** Reconnection after a failed attempt or a lost stream; delays taken within
     *  kMinRetryDelayUs – kMaxDurationUs. */
    RetryPolicy retry;
};

/** A failed attempt, for messages. */
struct Failure {
    Error error;
    std::string url;          /**< where the request went */
    unsigned http_status = 0; /**< the answer's status, 0 when there was none */
    unsigned attempt = 0;     /**< failed attempts in a row, this one included */
};

/** Counters since the client was created (read from any thread). */
struct ClientStats {
    uint64_t bytes_received = 0;   /**< every byte read, answer heads included */
    uint64_t packets_received = 0; /**< data packets handed out */
    uint64_t packets_skipped = 0;  /**< data packets skipped waiting for a key frame */
    unsigned reconnects = 0;       /**< streams resumed on a new connection */
    /** Of those, resumed under the header already output (pull/resume.h). */
    unsigned seamless_reconnects = 0;
};

/** What the client reports while next() runs, on the thread calling next(). */
class ClientEvents {
public:
    /** An attempt starts: Describe then Play to @p url. */
    virtual void connecting(const std::string &url, bool reconnect) = 0;
    /** The Play answer came: the stream follows from @p url. */
    virtual void connected(const std::string &url, bool reconnect) = 0;
    /** An attempt failed; the next one starts in @p retry_in_us. */
    virtual void attempt_failed(const Failure &failure, int64_t retry_in_us) = 0;

protected:
    ~ClientEvents() = default;
};

class Client {
public:
    /** Check @p config (Session::create()); nothing is opened yet. */
    static Result<std::unique_ptr<Client>> create(ClientConfig config, ClientEvents &events);
    ~Client();
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    /**
     * Block until the next event of the stream: Header (the first one, after
     * each $C, and after a reconnect whose header describes other streams),
     * Data (times continued across a reconnect, pull/resume.h), or End with reason 0 (the
     * stream is over; the connection is closed). Connects on the first call
     * and whenever the stream was lost, reporting to ClientEvents.
     * @return the event, or the last failure (failure()) when it was not
     *         worth retrying (a refusal, an unknown host, data we cannot
     *         read) or the retries ran out; an error with cancelled() true
     *         after cancel().
     */
    Result<Event> next();

    /** The last failed attempt, if any. */
    const std::optional<Failure> &failure() const { return failure_; }

    /** Make next() and what it waits for return at once (from any thread); the connection
     *  is dropped and made again by the next call after uncancel(). */
    void cancel() { g_cancellable_cancel(cancellable_); }
    /** Undo cancel(). */
    void uncancel() { g_cancellable_reset(cancellable_); }
    /** Whether cancel() was called (and not undone). */
    bool cancelled() const { return g_cancellable_is_cancelled(cancellable_); }

    /** The header of the stream now (packet size, streams, preroll), nullopt before one. */
    const std::optional<proto::asf::HeaderInfo> &header() const { return session_.header(); }

    /** Close the connection, if any; the next next() connects again. */
    void close();

    ClientStats stats() const;

private:
    Client(ClientConfig config, Session session, ClientEvents &events);

    Status open_stream();
    Status connect();
    Status send_request();
    Result<proto::http::Response> read_answer();
    Status read_describe();
    Result<size_t> read_some(uint8_t *data, size_t len);
    Error io_error(GError *error, const char *doing) const;
    Error failed_read(const char *what) const;
    /** A failed attempt: report it and wait the backoff; the error when it is the last. */
    Status retry_after(Error error, unsigned http_status, bool retryable);

    ClientConfig config_;
    Session session_;
    ClientEvents &events_;
    Backoff backoff_;
    GCancellable *cancellable_;
    GSocketConnection *connection_ = nullptr;
    bool streaming_ = false; /**< the Play answer came on connection_ */
    bool ever_streamed_ = false;
    bool after_loss_ = false; /**< the next header is the first after a lost connection */
    Resume resume_;
    unsigned last_status_ = 0; /**< of the last answer of the attempt, 0 = none */
    bool refused_ = false;     /**< the attempt ended with a Verdict::Action::Refused */
    std::optional<Failure> failure_;
    std::vector<uint8_t> buffer_;
    std::string body_start_; /**< what came with the last answer head */

    std::atomic<uint64_t> bytes_received_{0};
    std::atomic<uint64_t> packets_received_{0};
    std::atomic<unsigned> reconnects_{0};
    std::atomic<unsigned> seamless_reconnects_{0};
    std::atomic<uint64_t> skipped_{0};
};

} // namespace wmstream::pull
