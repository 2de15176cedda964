/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MS-WMHTTP push session, client side (sans-IO): push URLs, the text of
 * the PushSetup and PushStart requests, the parsing of the server's answers
 * (libsoup's soup_headers_parse_response) and what each answer means for
 * the client [MS-WMHTTP §2.2.1–§2.2.2, §3.1.4.1–§3.1.5.2].
 *
 * The session keeps what outlives a connection: the push-id cookie, the
 * current target after redirects, and the authentication state. The I/O
 * client (push/client.h) opens connections, writes the request text and
 * the body (push/body.h), and hands every response head back here.
 */
#pragma once

#include "base/error.h"
#include "push/auth.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wmstream::push {

/** Default User-Agent: MS-WMHTTP §2.2.1.8 requires WMEncoder/<9|10|11|12>.0; servers refuse others.
 */
constexpr const char *kDefaultUserAgent = "WMEncoder/12.0.0.0 wmstream/0.1";

/** An http:// or https:// push URL. */
struct Url {
    bool tls = false;   /**< https */
    std::string host;   /**< name or address, IPv6 without brackets */
    uint16_t port = 80; /**< 80 / 443 when the URL has none */
    std::string path;   /**< request target: path and query, at least "/" */

    /** "http://host[:port]/path" (port only when not the default). */
    std::string to_string() const;
    /** The Host header value: host[:port], IPv6 in brackets. */
    std::string authority() const;
    /** "http(s)://host[:port]": the origin (RFC 6454) as text. */
    std::string origin() const;
    /** The same origin: scheme, host (without case) and port. */
    bool same_origin(const Url &other) const;
};

/**
 * What turns an http(s) push URL into the element's own URI scheme
 * ("wmpush+http://…", "wmpush+https://…"): wmpushsink does not claim plain
 * http and https, which belong to every HTTP sink (icecastsink: ice+http).
 */
constexpr const char *kUriSchemePrefix = "wmpush+";

/**
 * Parse a push URL (IWMWriterPushSink::Connect pszURL): http or https (or
 * the same with kUriSchemePrefix), a host, an optional port, a path (empty = "/").
 * @return Errc::InvalidName (NS_E_INVALID_NAME) when it is not such a URL.
 */
Result<Url> parse_url(std::string_view text);

/** Longest push-id cookie value a server may assign [MS-WMHTTP §3.2.3: 1 to 255 characters]. */
constexpr size_t kMaxPushIdLength = 255;
/** Interim (1xx) answers accepted in a row before the server's answers count as hostile. */
constexpr unsigned kMaxInterimAnswers = 16;
/** Longest excerpt of server text (reason phrase, status line, header value) kept for messages. */
constexpr size_t kMaxQuotedText = 128;
/** Digest challenges with stale=true answered again per attempt (counted since the attempt
 *  began or the last PushStart the server accepted); one more fails the attempt. */
constexpr unsigned kMaxStaleRenewals = 2;

/** A response head: status line and header fields. */
struct Response {
    unsigned status = 0;   /**< 100–599 */
    std::string reason;    /**< printable ASCII: other bytes as \xNN, at most kMaxQuotedText */
    int version_minor = 1; /**< HTTP/1.0 or HTTP/1.1 */
    std::vector<std::pair<std::string, std::string>> headers; /**< in arrival order */

    /** First value of header @p name (case-insensitive), or nullptr. */
    const std::string *find(std::string_view name) const;
    /** Every value of header @p name, in order. */
    std::vector<std::string> find_all(std::string_view name) const;
    /** Whether the connection stays open after this response (HTTP/1.1
     *  without "Connection: close", HTTP/1.0 with "Connection: keep-alive"). */
    bool keeps_alive() const;
    /** Whether a body follows (non-zero or absent Content-Length, except 1xx/204/304). */
    bool has_body() const;
};

/**
 * Parse a complete response head (as delimited by
 * proto::http::scan_header_block()) with soup_headers_parse_response().
 * @return Errc::InvalidData when it is not an HTTP/1.x response: a status
 * line that does not begin with "HTTP/1." (libsoup alone would take
 * Shoutcast's "ICY 200 OK"), a status outside 100–599, binary or
 * malformed lines; the message quotes the status line (escaped, at most
 * kMaxQuotedText characters).
 */
Result<Response> parse_response(const char *data, size_t len);

/**
 * The server's answers on one connection, from the bytes received
 * (sans-IO), with bounded memory and work whatever the server sends: each
 * head must end within proto::http::kMaxHeaderBytes (16 KiB) and
 * proto::http::kMaxHeaderLines (100 lines), the caps wmnetsink puts on requests;
 * it is parsed by parse_response(); at most kMaxInterimAnswers 1xx answers
 * in a row are skipped. What follows a final answer in the bytes received
 * (its body, anything else) is discarded: the client never reads a body.
 *
 * Time is not bounded here: the client's answer timeout is.
 */
class AnswerReader {
public:
    /** Append @p len bytes received. Call next() after each feed: it keeps
     *  what is held below the caps (or fails). */
    void feed(const char *data, size_t len) { input_.append(data, len); }

    /**
     * The next final answer, or nullopt while its head is incomplete.
     * @return Errc::InvalidData when the head exceeds 16 KiB or 100 lines,
     * is not an HTTP/1.x response (parse_response()), or comes after more
     * than kMaxInterimAnswers interim answers; the connection is then of no
     * use and the reader must be reset().
     */
    Result<std::optional<Response>> next();

    /** Bytes received and not yet consumed. */
    size_t buffered() const { return input_.size(); }

    /** Forget what was received (a new connection). */
    void reset();

private:
    std::string input_;
    unsigned interim_ = 0; /**< 1xx answers since the last final one */
};

/**
 * Whether @p server is a Server header value of a Windows Media server:
 * "Cougar/" or "Rex/" major "." minor with a version from the table of
 * [MS-WMSP] §2.2.1.5 (Cougar 4.0, 4.1, 9.0, 9.1, 9.5; Rex 4.0, 7.0, 7.1,
 * 8.0, 9.0, 10.0, 11.0, and 12.0 of Windows 7 and later, note <43>),
 * numbers compared as numbers ("Cougar/9.01.01.3814" is 9.1).
 */
bool is_media_server(std::string_view server);

/** What the client does with a response. */
struct [[nodiscard]] Verdict {
    enum class Action {
        Proceed,  /**< PushSetup: send PushStart; PushStart: body done, send the next PushStart */
        Resubmit, /**< send PushSetup again on a new connection (redirect, credentials,
                       fresh push-id); not a failed attempt */
        Fail,     /**< the attempt failed: see error and retryable */
    };
    Action action = Action::Fail;
    bool reuse_connection = false; /**< Proceed: the next request may use this connection */
    bool retryable = false;        /**< Fail: worth another attempt after a backoff */
    Error error;                   /**< Fail: what went wrong (message has status and reason) */
};

struct SessionConfig {
    std::string location;     /**< push URL, http(s)://server[:port]/pubpoint */
    std::string template_url; /**< publishing point to clone: a path or a URL on the same
                                   server; "" = none */
    bool auto_destroy = true; /**< remove the publishing point when the session ends */
    std::string user_agent = kDefaultUserAgent;
    Credentials credentials;
    int max_redirects = 5; /**< per attempt */
    /** Send the credentials to whoever a redirect leads to; else only to the origin of
     *  location, on a direct connection. */
    bool allow_redirect_credentials = false;
    /** Follow a 305 Use Proxy; else it fails the attempt. */
    bool allow_use_proxy = false;
};

class Session {
public:
    /**
     * Check @p config: Errc::InvalidName for a bad location, InvalidArgument
     * for a template URL that is not a path (or URL) on the server or an
     * empty user agent.
     */
    static Result<Session> create(SessionConfig config);

    /** The publishing point URL the requests go to now (after redirects). */
    const Url &url() const { return url_; }
    /** The proxy to connect to instead (after a 305), if any. */
    const std::optional<Url> &proxy() const { return proxy_; }
    /** Host and port to connect to: the proxy's or the URL's. */
    const Url &connect_target() const { return proxy_ ? *proxy_ : url_; }

    /** The push-id cookie value: "0" until the server assigns one [MS-WMHTTP §2.2.1.3.1]. */
    const std::string &push_id() const { return push_id_; }
    /** Ask the server for a new session in the next PushSetup (push-id=0). */
    void forget_push_id() { push_id_ = "0"; }
    /** Ask for the session @p push_id first (a previous connection's; "" = a new one). */
    void resume(std::string push_id) { push_id_ = push_id.empty() ? "0" : std::move(push_id); }

    /**
     * A new connection attempt after a failure: back to the configured URL,
     * no proxy, redirects and stale renewals counted from zero. The push-id
     * and the authentication are kept (the same session is asked for first).
     */
    void begin_attempt();

    /** The PushSetup request: head and body [MS-WMHTTP §2.2.2.1, §3.1.4.1.1]. */
    std::string setup_request() const;
    /** The PushStart request head announcing @p content_length body bytes
     *  [MS-WMHTTP §2.2.2.2, §3.1.4.2.1]; the body follows. */
    std::string start_request(uint32_t content_length) const;

    /** Evaluate the answer to PushSetup [MS-WMHTTP §3.1.5.1]; updates push-id,
     *  URL (3xx), proxy (305) and authentication. */
    Verdict on_setup_response(const Response &response);
    /** Evaluate the answer to PushStart [MS-WMHTTP §3.1.5.2]. */
    Verdict on_start_response(const Response &response);

private:
    explicit Session(SessionConfig config, Url url, std::string template_path);

    std::string request_head(const char *content_type, size_t content_length) const;
    std::string request_target() const;
    Verdict accept_success(const Response &response);
    Verdict redirect(const Response &response);
    Verdict authenticate(const Response &response);
    Verdict refuse(const Response &response) const;
    /** Whether the credentials may go where the requests go now. */
    bool credentials_allowed() const;

    SessionConfig config_;
    Url configured_url_;
    std::string template_path_;
    Url url_;
    std::optional<Url> proxy_;
    std::string push_id_ = "0";
    int redirects_ = 0;
    unsigned stale_renewals_ = 0;
    Authenticator auth_;
};

} // namespace wmstream::push
