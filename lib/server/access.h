/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who may watch (sans-IO): address ranges checked at accept, and viewer
 * credentials checked before any stream byte — HTTP Basic (RFC 7617) and
 * Digest with MD5 and qop=auth (RFC 7616, as RFC 2617 clients such as
 * Windows Media Player, FFmpeg and curl speak it). Address matching is GIO's
 * GInetAddressMask; authorization header parameters are parsed with
 * libsoup's soup_header_parse_param_list().
 */
#pragma once

#include "base/error.h"

#include <gio/gio.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace wmstream::server::access {

/** allow / deny lists of CIDR ranges ("10.0.0.0/8", "2001:db8::/32", "127.0.0.1"). */
class AddressFilter {
public:
    /**
     * @return the filter, or Errc::InvalidArgument naming the first range
     *         that is not an address or address/prefix.
     */
    static Result<AddressFilter> parse(const std::vector<std::string> &allow,
                                       const std::vector<std::string> &deny);

    /**
     * True when @p address may connect: it matches no deny range, and some
     * allow range unless the allow list is empty. IPv4-mapped IPv6 addresses
     * (dual-stack listeners) are matched as IPv4.
     */
    bool allows(GInetAddress *address) const;

    /** True when both lists are empty (everyone may connect). */
    bool empty() const { return allow_.empty() && deny_.empty(); }

private:
    using Mask = std::shared_ptr<GInetAddressMask>;
    std::vector<Mask> allow_;
    std::vector<Mask> deny_;
};

/** Outcome of checking a request's credentials. */
enum class Verdict {
    Ok,      /**< valid credentials */
    Missing, /**< no (usable) Authorization header: challenge */
    Stale,   /**< a Digest answer to an expired nonce, or a nonce count used before (a
                  replay): challenge with stale=true */
    Bad,     /**< wrong user, password, realm or digest: refuse (counted) */
};

/** Checks viewer credentials and builds challenges for one user. */
class Authenticator {
public:
    /** How long a Digest nonce stays valid, µs. */
    static constexpr int64_t kNonceLifetimeUs = 300 * G_USEC_PER_SEC;

    /**
     * @param realm shown to the user; @param secret random bytes that sign
     * nonces (so nonces need no server state).
     */
    Authenticator(std::string realm, std::string user, std::string password, std::string secret);

    /**
     * Check the Authorization header value @p authorization (null when
     * absent) of a request @p method @p uri at monotonic time @p now_us.
     * @p user_out receives the user name on Ok. A correct Digest answer is
     * accepted once per nonce count: its nc must exceed every nc accepted
     * before with that nonce (RFC 7616 §3.4 and §5.5; an answer without qop
     * counts as nc 0, so once per nonce), else Stale. Thread-safe.
     */
    [[nodiscard]] Verdict check(const std::string &method, const std::string &uri,
                                const std::string *authorization, int64_t now_us,
                                std::string *user_out = nullptr) const;

    /** WWW-Authenticate header values to send with a 401: Digest first, then Basic. */
    std::vector<std::string> challenges(int64_t now_us, bool stale) const;

private:
    std::string nonce(int64_t now_us) const;
    static int64_t issued_at(const std::string &nonce);
    bool nonce_valid(const std::string &nonce, int64_t now_us, bool *stale) const;
    Verdict check_basic(const std::string &credentials, std::string *user_out) const;
    Verdict check_digest(const std::string &method, const std::string &uri,
                         const std::string &params, int64_t now_us, std::string *user_out) const;

    /** True (and @p nc recorded) when @p nc exceeds the last one accepted for @p nonce. */
    bool first_use(const std::string &nonce, uint64_t nc, int64_t now_us) const;

    std::string realm_;
    std::string user_;
    std::string password_;
    std::string secret_;
    struct NonceUse {
        int64_t issued_us; /**< from the nonce's stamp */
        uint64_t nc;       /**< the highest nonce count accepted */
    };
    mutable std::mutex lock_;
    /* Protected by lock_: the nonces answered correctly, dropped some time after they expire. */
    mutable std::map<std::string, NonceUse> used_;
    mutable int64_t next_prune_us_ = 0; /* Protected by lock_ */
};

} // namespace wmstream::server::access
