/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP access authentication for the push client [MS-WMHTTP §2.1,
 * §3.1.5.1–2; RFC 2617]: the challenge answering is libsoup's (SoupAuth
 * for Digest and Basic, driven with a throwaway SoupMessage that only
 * carries the method and URL); this class only chooses the scheme, stops
 * after one rejection and keeps the password out of every message.
 */
#pragma once

#include "base/error.h"

#include <memory>
#include <string>
#include <vector>

namespace wmstream::push {

struct Credentials {
    std::string user;     /**< empty = no credentials */
    std::string password; /**< never logged, never in an Error */
};

class Authenticator {
public:
    Authenticator();
    ~Authenticator();
    Authenticator(Authenticator &&) noexcept;
    Authenticator &operator=(Authenticator &&) noexcept;
    Authenticator(const Authenticator &) = delete;
    Authenticator &operator=(const Authenticator &) = delete;

    /** The schemes offered in X-Accept-Authentication, strongest first. */
    static const char *accepted_schemes() { return "Digest, Basic"; }

    /**
     * Take a 401 answer to a request for @p method @p url (absolute URL)
     * carrying the WWW-Authenticate values @p challenges (one scheme each).
     * Picks Digest, else Basic, and authenticates with @p credentials.
     * @return success when the request should be sent again with
     * authorization(); Errc::AccessDenied when there are no credentials,
     * no supported scheme, or the credentials were already sent and the
     * server refused them (a Digest challenge with stale=true is answered
     * again: only the nonce expired).
     */
    Status challenge(const std::vector<std::string> &challenges, const std::string &method,
                     const std::string &url, const Credentials &credentials);

    /** The Authorization value for @p method @p url, "" before any challenge. */
    std::string authorization(const std::string &method, const std::string &url) const;

    /** "Digest" / "Basic", or "" before any challenge. */
    std::string scheme() const;

    /** Forget the challenge (a new session with new credentials follows). */
    void reset();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace wmstream::push
