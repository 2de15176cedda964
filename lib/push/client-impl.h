/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * push::Client::Impl (internal to lib/push): the state of one push client
 * and the contract between its two halves. client.cpp holds the calls from
 * the application and streaming threads and the run's lifecycle (start,
 * stop, the EventLoop's hooks); client-io.cpp holds the I/O thread's state
 * machine: attempts, the server's answers, streaming, failures and the
 * reconnect backoff. The connection I/O is the Connection's (connection.h),
 * the body's framing the Pump's (pump.h), the protocol decisions the
 * Session's (session.h), the data held the StreamBuffer's (buffer.h).
 *
 * Threading: the public methods come from any thread (client.h) and touch
 * the shared members under lock_; the members marked "I/O thread only" and
 * the methods of client-io.cpp belong to the EventLoop's thread. Lock
 * order: lock_ is the only lock; it is never held while calling out
 * (events, GIO).
 */
#pragma once

#include "base/event-loop.h"
#include "base/timer.h"
#include "proto/asf.h"
#include "push/buffer.h"
#include "push/client.h"
#include "push/connection.h"
#include "push/pump.h"

#include <gio/gio.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace wmstream::push {

/* Where the I/O thread is. */
enum class Phase {
    Stopped,         /* not running, or stop() called */
    ConnectForSetup, /* TCP (+TLS) connect in flight; then PushSetup */
    ConnectForStart, /* TCP (+TLS) connect in flight; then PushStart */
    AwaitSetup,      /* PushSetup sent, waiting for the answer */
    AwaitHeader,     /* PushSetup accepted, no stream header yet (behind a proxy without the
                        header's bit rate: nor kRateSpanMs of stream to measure it) */
    Streaming,       /* PushStart body open */
    FillWrite,       /* Streaming, and the write in flight completes the body with $F */
    EndWrite,        /* Streaming, and the write in flight holds $E(0) */
    AwaitStart,      /* body complete ($F), waiting for the PushStart answer */
    Ending,          /* $E(0) written, waiting for the answer or the close */
    Backoff,         /* waiting before the next attempt */
    Ended,           /* EndSession done */
    Disconnected,    /* disconnect(): nothing more is sent */
    Failed,          /* fatal failure: nothing more is sent */
};

/** @p us as seconds for messages ("1.5 s"). */
std::string seconds(int64_t us);

class Client::Impl final : private ConnectionListener {
public:
    Impl(ClientEvents *events, Clock &clock) : events_(events), clock_(clock) {}
    ~Impl() override { stop(); }

    /* ---- any thread (client.cpp) ---- */
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
    using Bytes = std::vector<uint8_t>;
    using BytesRef = std::shared_ptr<const Bytes>;
    using ConnectionRef = std::shared_ptr<Connection>;

    /* ---- any thread (client.cpp) ---- */
    /* Post @task to the I/O thread, unless the run it was meant for is over when its turn
     * comes. */
    void invoke(std::function<void()> task);
    void wake();
    /* Must be called with lock_ held. */
    ClientStats stats_locked() const;

    /* ---- I/O thread (client.cpp) ---- */
    /** The loop's start hook: the Connector, then the first attempt. */
    void begin_run();
    /** The loop's exit hook: let the cancelled operations complete, drop the Connector. */
    void end_run();

    /* ---- I/O thread (client-io.cpp) ---- */
    void attempt();
    /** A new connection, after which @p next (ConnectForSetup or ConnectForStart) is sent. */
    void open_connection(Phase next);
    void close_connection();
    bool connecting() const {
        return phase_ == Phase::ConnectForSetup || phase_ == Phase::ConnectForStart;
    }
    /** Send PushSetup on the connection, then wait for its answer. */
    void send_setup();
    void send(const std::string &text);
    void flush();
    void process_input();
    std::string unfinished_answer() const;
    /** The write in flight completes the body: its answer waits for that write. */
    bool completing_write() const {
        return phase_ == Phase::FillWrite || phase_ == Phase::EndWrite;
    }
    void on_answer(const Response &response);
    void on_setup_answer(const Response &response);
    void on_start_answer(const Response &response);
    void on_closed_by_server();
    void start_push();
    /** The PushStart next: on this connection when the server keeps it, else on a new one. */
    void start_next(bool reuse_connection);
    void pump();
    void finish_end();
    void fail_attempt(Failure failure, bool retryable);
    /** A transient connection failure (NS_E_CONNECTION_FAILURE): retried after the backoff. */
    void retry_connection(const std::string &what, const GError *io = nullptr);
    void fail_fatal(Failure failure);
    Failure make_failure(Error error, unsigned http_status = 0, const GError *io = nullptr) const;
    void on_wake();
    void cancel_backoff();
    void update_stats(const std::function<void(ClientStats &)> &update);

    /* ConnectionListener (client-io.cpp) */
    void on_connected() override;
    void on_connect_failed(const GError *error) override;
    void on_connect_timeout() override;
    void on_received() override;
    void on_read_end(const GError *error) override;
    void on_written(size_t bytes, uint64_t release_seq) override;
    void on_write_failed(const GError *error) override;
    void on_write_timeout() override;

    ClientEvents *events_;
    Clock &clock_;

    EventLoop loop_;                  /* the I/O thread; its context lives as long as the client */
    std::atomic<uint64_t> run_id_{0}; /* bumps at every start() */
    std::atomic<bool> wake_pending_{false}; /* a wake() is posted and has not run yet */

    /* Set by start() before the thread runs, read-only while it runs. */
    ClientConfig config_;
    GTlsDatabase *tls_database_ = nullptr;

    /* ---- I/O thread only (set by start() before the thread runs) ---- */
    std::optional<Session> session_;
    Backoff backoff_;
    std::optional<Connector> connector_; /* from begin_run() to end_run() */
    ConnectionRef connection_;           /* the connection of this attempt, when any */
    Phase phase_ = Phase::Stopped;
    Pump pump_;                /* what of the stream the open body carries */
    bool data_flowed_ = false; /* a $D was written since the last attempt began */
    uint64_t backoff_generation_ = 0;
    uint64_t backoff_timer_ = 0; /* Clock timer id, 0 when none */
    Timer answer_timer_;

    /* ---- shared ---- */
    mutable std::mutex lock_; /* the only lock; never held while calling out */
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

} // namespace wmstream::push
