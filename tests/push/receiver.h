/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A strict MS-WMHTTP publishing point for the tests: the server side of
 * [MS-WMHTTP] §3.2 on 127.0.0.1, with blocking GIO sockets and one thread
 * per connection.
 *
 * It checks what a Windows Media server relies on and records every
 * departure as a violation (tests assert there are none): the request line,
 * User-Agent WMEncoder/<9|10|11|12>.0 (§2.2.1.8), Content-Type, a
 * Content-Length and no chunking, Host, X-Accept-Authentication, the push-id
 * cookie (known sessions only, §3.2.5.1–2), the PushSetup body syntax
 * (§2.2.2.1.1–2), no response-only headers in requests, and the PushStart
 * body: push framing (B=0), $H first in a new session and ≤ 65531 bytes of
 * valid ASF header, $D of exactly the header's packet size, $C (Reason 0,
 * valid header) only after $E(1), zero-filled $F, and a body that never
 * exceeds its Content-Length. It answers 204 with Server: Cougar/… and
 * Set-Cookie: push-id, answers every completed PushStart body, and deletes
 * the session at $E(0).
 *
 * Tests drive it to misbehave through Options: refuse connections (stop()),
 * restart on the same port with or without its sessions, close a
 * connection in the middle of a PushStart body, answer slowly, answer with
 * given error statuses, require Digest or Basic authentication or NTLM or
 * Negotiate (a real GSSAPI acceptor per connection, gss-acceptor.h), redirect,
 * or answer as a plain web server. It can speak TLS, with any of the test
 * certificates. As a hostile server it answers PushSetup with arbitrary
 * bytes (garbage status lines, endless or oversized heads, a 10 MB
 * Set-Cookie, all at once or one byte at a time) without buffering them,
 * or accepts a PushStart and then never reads its body.
 */
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace pushtest {

using Bytes = std::vector<uint8_t>;

/** What a hostile server sends in place of the answer to a PushSetup; nothing is
 *  held in memory beyond one 64 KiB piece, whatever the size. */
struct HostileAnswer {
    std::string head;             /**< sent first, as is (may be binary) */
    std::string filler;           /**< then repeated … */
    uint64_t filler_bytes = 0;    /**< … for this many bytes (UINT64_MAX: until the client
                                       closes) */
    std::string tail;             /**< then this */
    int64_t byte_interval_us = 0; /**< > 0: one byte at a time, this long apart */
};

struct Options {
    std::string server = "Cougar/9.01.01.3814"; /**< Server header value */
    bool set_cookie = true;        /**< send Set-Cookie: push-id (peercast-yt does not) */
    bool keep_alive = true;        /**< keep the connection after the PushSetup answer */
    unsigned success_status = 204; /**< 204 or 200 */
    std::vector<unsigned>
        setup_statuses;              /**< answers to the next PushSetups, in order (then 204) */
    bool plain_web_server = false;   /**< answer everything 200 text/html, Server: Apache */
    int64_t answer_delay_us = 0;     /**< wait this long before answering a PushSetup */
    int delayed_answers = 0;         /**< how many PushSetups are answered late (−1 = all) */
    size_t close_after_packets = 0;  /**< close the connection after this many $D of the next
                                          PushStart (0 = never; one-shot) */
    std::string auth_scheme;         /**< "Digest" or "Basic" required on every request, "NTLM" or
                                          "Negotiate" once per connection (on PushSetup; users from
                                          NTLM_USER_FILE); "" = none */
    bool close_on_challenge = false; /**< NTLM/Negotiate: the first 401 (no token yet) closes
                                          the connection (the legs after it keep it) */
    std::string challenge_page;      /**< NTLM/Negotiate: the body of every 401 (Content-Length),
                                          its second half written 50 ms after the rest */
    std::string user;
    std::string password;
    std::string redirect_path; /**< PushSetup to this path is answered with … */
    unsigned redirect_status = 302;
    std::string redirect_location; /**< … this status and Location */
    bool answer_end = true;        /**< answer 204 after $E(0) before closing */
    HostileAnswer hostile;         /**< sent instead of the answer to … */
    int hostile_answers = 0;       /**< … the next PushSetups (−1 = all); then the receiver
                                        reads until the client closes */
    int stalled_bodies = 0; /**< the next PushStarts (−1 = all) are accepted, then their body is
                                 never read: the connection stays open until stop() */
};

/** One request head as received. */
struct RequestRecord {
    std::string method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;    /**< PushSetup body */
    unsigned answer = 0; /**< status answered, 0 = none (connection closed) */
    int connection = 0;  /**< 1, 2, … in accept order */
    std::string push_id; /**< the push-id cookie sent */
    const std::string *find(const std::string &name) const;
    bool is_setup() const;
    bool is_start() const;
};

/** One packet of a PushStart body, in arrival order. */
struct PacketRecord {
    char id = 0;         /**< 'H', 'D', 'C', 'E', 'F' */
    uint32_t reason = 0; /**< $C / $E */
    Bytes payload;       /**< $H/$C header, $D data packet; empty for $F */
    int connection = 0;
    std::string push_id;
};

/** Everything received so far (a copy). */
struct Snapshot {
    std::vector<RequestRecord> requests;
    std::vector<PacketRecord> packets;
    std::vector<std::string> violations;
    std::vector<std::string> push_ids;      /**< issued, in order */
    int connections = 0;                    /**< accepted */
    uint64_t bytes = 0;                     /**< every byte read (heads and bodies) */
    uint64_t hostile_bytes = 0;             /**< bytes of hostile answers written */
    int hostile_answers = 0;                /**< hostile answers begun */
    int stalled = 0;                        /**< PushStart bodies left unread */
    std::vector<std::string> authenticated; /**< NTLM/Negotiate: the user of each connection
                                                 authenticated, in order */
    int refused = 0;                        /**< NTLM/Negotiate handshakes refused */

    size_t count(char id) const;
    std::vector<const RequestRecord *> setups() const;
    std::vector<const RequestRecord *> starts() const;
    /** Every $E reason, in order. */
    std::vector<uint32_t> end_reasons() const;
};

class Receiver {
public:
    /** @p tls: serve HTTPS with tests/data @p certificate-cert.pem and @p certificate-key.pem
     *  ("push": 127.0.0.1 and localhost; "push-expired": expired in 2001; "push-wronghost":
     *  wrong.example only). */
    explicit Receiver(bool tls = false, const std::string &certificate = "push");
    ~Receiver(); /**< stop()s */
    Receiver(const Receiver &) = delete;
    Receiver &operator=(const Receiver &) = delete;

    /** Listen on 127.0.0.1:@p port (0 = any free port); @return the port. */
    uint16_t start(uint16_t port = 0);
    /**
     * Close the listener and every connection (peers see the close at once)
     * and join every thread. With @p forget_sessions, the next start() knows
     * no push-id: a restarted server.
     */
    void stop(bool forget_sessions = true);
    /** Close every open connection, keep listening and the sessions. */
    void drop_connections();

    uint16_t port() const { return port_; }
    /** "http(s)://127.0.0.1:port@p path". */
    std::string url(const std::string &path = "/live") const;

    void set_options(const Options &options);
    Options options() const;

    Snapshot snapshot() const;
    /** Wait until @p ready(snapshot) holds, at most @p timeout_us. @return whether it held. */
    bool wait_for(const std::function<bool(const Snapshot &)> &ready,
                  int64_t timeout_us = 20 * G_USEC_PER_SEC) const;

    /** Write the stream as an ASF file to @p path: the first header, then every $D payload. */
    void record_to(const std::string &path);

    /** Called (on a receiver thread) for every $H / $C header and every $D payload. */
    void on_header(std::function<void(const Bytes &)> callback);
    void on_packet(std::function<void(const Bytes &)> callback);
    void on_end(std::function<void()> callback);

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
    uint16_t port_ = 0;
};

/** Path of tests/data/@p name (WMSTREAM_TEST_DATA). */
std::string data_path(const char *name);

} // namespace pushtest
