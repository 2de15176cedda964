/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The push client behind wmpushsink: delivers a live ASF stream to a
 * publishing point over MS-WMHTTP and survives the server going away.
 *
 * Semantics follow IWMWriterPushSink: start() ≈ Connect (PushSetup at once,
 * PushStart with $H as soon as the header is known), end_session() =
 * EndSession ($E reason 0, the server's answer, close), disconnect() =
 * Disconnect (the connection is dropped without $E: the server keeps the
 * publishing point and the session for a while).
 *
 * Threading: one I/O thread with its own GMainContext does every socket
 * operation (GIO, TLS through GIO for https). start/stop/disconnect/cancel
 * come from the application, set_header/push_packet/end_session from the
 * streaming thread; only end_session() blocks, for at most the timeout.
 * ClientEvents callbacks run on the I/O thread with no lock held.
 *
 * Failures: a connection that cannot be made, is refused or lost, or a
 * server that answers 5xx or not at all within the timeout, is an attempt
 * failure: the client reconnects after a backoff (RetryPolicy, scheduled
 * through the injected Clock) with a new PushSetup asking for the same
 * push-id first (a fresh one if the server refuses it), re-sends the
 * header and resumes with the buffered data (push/buffer.h). A bad URL,
 * an unknown host, a refused authorization, a missing publishing point or
 * a plain web server are fatal at once, as is a spent retry budget.
 *
 * Authentication (push/auth.h): a 401 is answered in the strongest scheme
 * offered, NTLM and Negotiate (GSSAPI) with every leg on the connection of
 * the previous one and a new handshake (through PushSetup) on every new
 * connection; a configured forward proxy gets every connection, its 407
 * the proxy credentials, and each PushStart about 60 s of data.
 *
 * Hostile servers: every answer head is read within 16 KiB and 100 lines
 * (proto::http::AnswerReader), so a server that sends endless or oversized heads,
 * garbage status lines or a huge Set-Cookie costs at most that much memory
 * and fails the attempt (retried); a server that stops reading makes the
 * write time out (an attempt failure) while the buffer keeps at most
 * max_buffer_time_us of stream; a certificate that fails validation is
 * fatal at once, with the GTlsCertificateFlags in the Failure.
 */
#pragma once

#include "base/backoff.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/thread-hook.h"
#include "push/body.h"
#include "push/session.h"

#include <gio/gio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace wmstream::push {

/** Shortest retry delay (base/backoff.h). */
using wmstream::kMinRetryDelayUs;
/** Longest duration of any setting: 2^32 − 1 ms (49.7 days, the range of ASF's 32-bit send
 *  times); a longer one is taken as this, so no conversion of it can overflow. */
constexpr int64_t kMaxDurationUs = int64_t{UINT32_MAX} * 1000;

struct ClientConfig {
    SessionConfig session;
    int64_t timeout_us = 10000000;         /**< connect, answer and write-progress timeout; also the
                                                longest end_session() blocks, µs (≤ kMaxDurationUs) */
    RetryPolicy retry;                     /**< delays within kMinRetryDelayUs–kMaxDurationUs */
    int64_t max_buffer_time_us = 10000000; /**< stream time held while the server is away, µs
                                                (≤ kMaxDurationUs) */
    uint32_t content_length = kMaxContentLength; /**< PushStart Content-Length; raised to the
                                                      protocol minimum for the stream */
    std::string ca_file; /**< PEM file of trusted CA certificates for https; "" = system */
    /** The certificate problems that refuse a server (GTlsCertificateFlags, as the
     *  tls-validation-flags of rtmp2sink): a certificate is accepted when the problems
     *  glib-networking reports share no flag with these. GLib does not promise to report every
     *  problem of a bad certificate, so clearing a flag may let other problems pass. */
    GTlsCertificateFlags tls_validation_flags = G_TLS_CERTIFICATE_VALIDATE_ALL;
    /** Told about the I/O thread ("push-io") as start() starts it and stop() ends it
     *  (base/thread-hook.h); empty = nothing. */
    ThreadHook thread_hook;
};

/** Counters of one run (start() to stop()). */
struct ClientStats {
    std::string url;              /**< the publishing point now (after redirects) */
    std::string push_id;          /**< "0" until the server assigns one */
    std::string proxy;            /**< the proxy the connections go through, "" = direct */
    std::string auth_scheme;      /**< the scheme the server's 401 was answered in ("NTLM",
                                       "Digest", …), "" = none */
    bool streaming = false;       /**< a PushStart body is open now */
    uint64_t bytes_sent = 0;      /**< every byte written: request heads and bodies */
    uint64_t packets_sent = 0;    /**< $D packets written completely */
    uint64_t packets_dropped = 0; /**< data packets the buffer dropped (outage > max buffer time) */
    unsigned connections = 0;     /**< PushStarts after a PushSetup (1 = never reconnected) */
    unsigned reconnects = 0;      /**< connections − 1, when positive */
    unsigned failed_attempts = 0; /**< consecutive failed attempts now */
    uint64_t buffered_packets = 0; /**< data packets held, not yet written completely */
    uint64_t buffered_bytes = 0;   /**< their bytes: bounded by max_buffer_time_us of stream */
};

/** An attempt failure or the final failure, with the context of the attempt. */
struct Failure {
    Error error;
    std::string url;          /**< the publishing point */
    std::string host;         /**< connected (or tried) host */
    uint16_t port = 0;        /**< and port */
    unsigned http_status = 0; /**< the server's status, 0 when none */
    std::string io_domain;    /**< GIO error domain, "" when none */
    int io_code = 0;          /**< GIO error code */
    unsigned attempt = 0;     /**< consecutive failed attempts including this one */
    /** The problems of a refused server certificate (glib-networking's accept-certificate),
     *  0 when no certificate was refused. */
    GTlsCertificateFlags tls_errors = GTlsCertificateFlags(0);
};

/** @p flags as text: their GLib nicks joined by ", " ("unknown-ca, bad-identity"), "none" for
 *  0. */
std::string describe_tls_errors(GTlsCertificateFlags flags);

/** Notifications from the I/O thread; implementations must not block. */
class ClientEvents {
public:
    virtual ~ClientEvents() = default;
    /** An attempt to connect to @p url begins; @p reconnect after a lost connection. */
    virtual void connecting(const std::string &url, bool reconnect) = 0;
    /** PushStart was sent: the stream flows (again). */
    virtual void connected(const ClientStats &stats, bool reconnect) = 0;
    /** An attempt failed; the next one starts after @p retry_in_us. */
    virtual void attempt_failed(const Failure &failure, int64_t retry_in_us) = 0;
    /** Fatal failure or retry budget spent: nothing more is sent. */
    virtual void failed(const Failure &failure) = 0;
    /** The session ended: $E(0) was sent and answered (or the server closed). */
    virtual void ended(const ClientStats &stats) = 0;
};

class Client {
public:
    /** @p events may be null; @p clock schedules the backoff (must outlive the client). */
    explicit Client(ClientEvents *events, Clock &clock = SystemClock::instance());
    ~Client(); /**< stop()s */
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    /**
     * Start the I/O thread and connect (PushSetup). When the previous run
     * on the same location ended without EndSession, its push-id is asked
     * for first.
     * @return InvalidName (bad location), InvalidArgument (template URL,
     * user agent, proxy, unreadable ca_file), InvalidRequest (already started).
     */
    Status start(const ClientConfig &config);

    /**
     * The stream header (ASF Header Object + 50-byte Data Object head); its
     * live fields are fixed (proto::asf::make_live_header). A header that differs
     * from the current one is sent as $E(1) + $C before the next packet.
     * @return InvalidData when it is not an ASF header, is too large for $H
     * (kMaxPayload), or changes the header and is too large for $C
     * (kMaxChangeHeader): nothing of it is sent then.
     */
    Status set_header(const uint8_t *data, size_t len);

    /**
     * Queue one ASF data packet; never blocks.
     * @return how many buffered packets were dropped to stay within the
     * max buffer time (this one included); InvalidData before any header
     * or for a corrupt packet; the fatal failure's error once it happened;
     * InvalidRequest when not started.
     */
    Result<size_t> push_packet(const uint8_t *data, size_t len);

    /**
     * EndSession: deliver what is buffered and $E(0), wait for the answer,
     * close. Blocks for at most the timeout (or until cancel()).
     * @return success (also after disconnect(), or with no header ever);
     * NoConnection when no PushSetup ever succeeded within the timeout;
     * ConnectionFailure when the end could not be delivered in time;
     * Failed when cancelled; the fatal failure's error once it happened.
     */
    Status end_session();

    /** Make a blocked end_session() return now (GstBaseSink::unlock). */
    void cancel();
    /** Allow end_session() to block again (GstBaseSink::unlock_stop). */
    void uncancel();

    /** Drop the connection without $E and stop sending; packets pushed later are dropped. */
    void disconnect();

    /** Close everything and join the I/O thread. Idempotent. */
    void stop();

    ClientStats stats() const;
    /** The fatal failure, once it happened (until stop()). */
    std::optional<Failure> failure() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace wmstream::push
