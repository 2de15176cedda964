/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP access authentication for the push client [MS-WMHTTP §2.1,
 * §3.1.5.1–2; RFC 2617; RFC 4559; MS-NTHT]: Digest and Basic are libsoup's
 * (SoupAuth, driven with a throwaway SoupMessage that only carries the
 * method and URL), NTLM and Negotiate GSSAPI's (push/gssapi-auth.h); this
 * class only chooses the scheme, carries a multi-leg handshake from one
 * answer to the next request, stops after one rejection and keeps the
 * password out of every message.
 *
 * NTLM and Negotiate authenticate the connection: every leg of a handshake
 * goes on the connection that carried the previous one, the requests after
 * the accepted one carry no header, and a new connection needs a new
 * handshake (new_connection()). The same class answers a proxy's 407
 * (Proxy-Authenticate / Proxy-Authorization, RFC 2617 §1.2, §3.6) with
 * Digest or Basic.
 */
#pragma once

#include "base/error.h"

#include <memory>
#include <string>
#include <vector>

namespace wmstream::push {

struct Credentials {
    std::string user;     /**< "user" or "DOMAIN\user" (NTLM); empty = no credentials */
    std::string password; /**< never logged, never in an Error */
};

class Authenticator {
public:
    /** Whom the credentials are for: the origin server (401) or a forward proxy (407). */
    enum class Target { Server, Proxy };

    explicit Authenticator(Target target = Target::Server);
    ~Authenticator();
    Authenticator(Authenticator &&) noexcept;
    Authenticator &operator=(Authenticator &&) noexcept;
    Authenticator(const Authenticator &) = delete;
    Authenticator &operator=(const Authenticator &) = delete;

    /** The schemes offered in X-Accept-Authentication, strongest first [MS-WMHTTP §2.2.1.9]:
     *  "Negotiate, NTLM, Digest, Basic", without the first two when GSSAPI has no NTLM
     *  mechanism (GssContext::ntlm_available()). */
    static const char *accepted_schemes();

    /** "WWW-Authenticate" or "Proxy-Authenticate": where the challenges are. */
    const char *challenge_header() const;
    /** "Authorization" or "Proxy-Authorization": where the answer goes. */
    const char *authorization_header() const;

    /**
     * Take a 401 (407) answer to a request for @p method @p url (absolute
     * URL) carrying the challenge values @p challenges (one scheme each).
     * The first challenge picks the strongest scheme offered: Negotiate,
     * NTLM (server only; GSSAPI with gss-ntlmssp, else the next scheme),
     * Digest, Basic. A later one continues an NTLM/Negotiate handshake with
     * the server's token.
     * @return success when the request should be sent again with
     * authorization(); Errc::AccessDenied when there are no credentials,
     * no supported scheme, GSSAPI refuses a token, or the credentials were
     * already sent and the server refused them (a Digest challenge with
     * stale=true is answered again: only the nonce expired).
     */
    Status challenge(const std::vector<std::string> &challenges, const std::string &method,
                     const std::string &url, const Credentials &credentials);

    /** The authorization value for @p method @p url: "" before any challenge, and on a
     *  connection an NTLM/Negotiate handshake already authenticated. */
    std::string authorization(const std::string &method, const std::string &url) const;

    /** "Negotiate" / "NTLM" / "Digest" / "Basic", or "" before any challenge. */
    std::string scheme() const;

    /** The scheme authenticates the connection (NTLM, Negotiate). */
    bool connection_based() const;
    /** An NTLM/Negotiate handshake is under way: the server's last token belongs to this
     *  connection, so the next leg must go on it. */
    bool mid_handshake() const;

    /** A request was accepted (2xx): an NTLM/Negotiate connection is authenticated, later
     *  requests on it carry no header. */
    void accepted();

    /**
     * The next request goes on a new connection: an NTLM/Negotiate scheme
     * begins a new handshake there (its first token in authorization()).
     * @return the GSSAPI failure, after which the scheme is forgotten (the
     * server's next challenge starts over).
     */
    Status new_connection(const std::string &url, const Credentials &credentials);

    /** Forget the challenge (a new session with new credentials follows). */
    void reset();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace wmstream::push
