/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MS-WMHTTP push session, client side (sans-IO): push URLs, the text of
 * the PushSetup and PushStart requests and what each of the server's
 * answers (proto::http::Response) means for the client [MS-WMHTTP
 * §2.2.1–§2.2.2, §3.1.4.1–§3.1.5.2]. URLs and answers are the generic HTTP
 * client pieces of proto/http-url.h and proto/http-response.h (push::Url and
 * push::Response name them here).
 *
 * The session keeps what outlives a connection: the push-id cookie, the
 * current target after redirects, and the authentication state. The I/O
 * client (push/client.h) opens connections, writes the request text and
 * the body (push/body.h), and hands every response head back here.
 */
#pragma once

#include "base/error.h"
#include "proto/http-response.h"
#include "proto/http-url.h"
#include "push/auth.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wmstream::push {

using proto::http::Response;
using proto::http::Url;

/** Default User-Agent: MS-WMHTTP §2.2.1.8 requires WMEncoder/<9|10|11|12>.0; servers refuse others.
 */
constexpr const char *kDefaultUserAgent = "WMEncoder/12.0.0.0 wmstream/0.1";

/**
 * What turns an http(s) push URL into the element's own URI scheme
 * ("wmpush+http://…", "wmpush+https://…"): wmpushsink does not claim plain
 * http and https, which belong to every HTTP sink (icecastsink: ice+http).
 */
constexpr const char *kUriSchemePrefix = "wmpush+";

/**
 * Parse a push URL (IWMWriterPushSink::Connect pszURL): an HTTP URL
 * (proto::http::parse_url()), or the same with kUriSchemePrefix.
 * @return Errc::InvalidName (NS_E_INVALID_NAME) when it is not such a URL.
 */
Result<proto::http::Url> parse_push_url(std::string_view text);

/** Longest push-id cookie value a server may assign [MS-WMHTTP §3.2.3: 1 to 255 characters]. */
constexpr size_t kMaxPushIdLength = 255;
/** Digest challenges with stale=true answered again per attempt (counted since the attempt
 *  began or the last PushStart the server accepted); one more fails the attempt. */
constexpr unsigned kMaxStaleRenewals = 2;

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
        Resubmit, /**< send PushSetup again (redirect, credentials, fresh push-id), on a new
                       connection unless reuse_connection; not a failed attempt */
        Fail,     /**< the attempt failed: see error and retryable */
    };
    Action action = Action::Fail;
    bool reuse_connection = false; /**< Proceed, Resubmit: the next request may (Resubmit: must)
                                        use this connection */
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
    /** A forward proxy every connection goes through, "http://host[:port]"; "" = direct.
     *  Requests then carry the absolute URL, and PushStart announces about 60 s of data
     *  [MS-WMHTTP §3.1.4.2.1]. */
    std::string proxy;
    /** For the proxy's 407 (Basic or Digest); sent to the configured proxy only. */
    Credentials proxy_credentials;
};

class Session {
public:
    /**
     * Check @p config: Errc::InvalidName for a bad location, InvalidArgument
     * for a template URL that is not a path (or URL) on the server, an
     * empty user agent, or a proxy that is not an http://host[:port] URL.
     */
    static Result<Session> create(SessionConfig config);

    /** The publishing point URL the requests go to now (after redirects). */
    const Url &url() const { return url_; }
    /** The proxy to connect to instead (configured, or named by a 305), if any: the
     *  UsingProxy flag of MS-WMHTTP §3.1.1. */
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
     * A new connection attempt after a failure: back to the configured URL
     * and proxy, redirects and stale renewals counted from zero. The push-id
     * and the authentication are kept (the same session is asked for first).
     */
    void begin_attempt();

    /**
     * The next request goes on a new connection: an NTLM/Negotiate
     * authentication begins a new handshake there. @return its GSSAPI
     * failure (the scheme is then forgotten: the server's next 401 starts
     * over).
     */
    Status connection_opened();
    /** Whether a new connection must begin with PushSetup, not PushStart: the
     *  authentication is bound to the connection (NTLM and Negotiate are not used on
     *  PushStart [MS-WMHTTP §3.2.5.2]). */
    bool setup_per_connection() const { return auth_.connection_based(); }
    /** The server's authentication scheme in use, "" = none. */
    std::string auth_scheme() const { return auth_.scheme(); }

    /** The PushSetup request: head and body [MS-WMHTTP §2.2.2.1, §3.1.4.1.1]. */
    std::string setup_request() const;
    /** The PushStart request head announcing @p content_length body bytes
     *  [MS-WMHTTP §2.2.2.2, §3.1.4.2.1]; the body follows. */
    std::string start_request(uint32_t content_length) const;

    /** Evaluate the answer to PushSetup [MS-WMHTTP §3.1.5.1]; updates push-id,
     *  URL (3xx), proxy (305) and authentication (401, 407). A Resubmit with
     *  reuse_connection continues an NTLM/Negotiate handshake on this connection. */
    Verdict on_setup_response(const Response &response);
    /** Evaluate the answer to PushStart [MS-WMHTTP §3.1.5.2]. */
    Verdict on_start_response(const Response &response);

private:
    explicit Session(SessionConfig config, Url url, std::string template_path,
                     std::optional<Url> proxy);
    /** Whether proxy_ is the configured proxy (or both are none). */
    bool configured_route() const;

    std::string request_head(const char *content_type, size_t content_length) const;
    std::string request_target() const;
    Verdict accept_success(const Response &response);
    Verdict redirect(const Response &response);
    Verdict authenticate(const Response &response);
    Verdict authenticate_proxy(const Response &response);
    Verdict refuse(const Response &response) const;
    /** Whether the credentials may go where the requests go now. */
    bool credentials_allowed() const;

    SessionConfig config_;
    Url configured_url_;
    std::string template_path_;
    Url url_;
    std::optional<Url> configured_proxy_;
    std::optional<Url> proxy_;
    std::string push_id_ = "0";
    int redirects_ = 0;
    unsigned stale_renewals_ = 0;
    Authenticator auth_;
    Authenticator proxy_auth_{Authenticator::Target::Proxy};
};

} // namespace wmstream::push
