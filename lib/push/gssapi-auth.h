/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client side of the HTTP "NTLM" and "Negotiate" schemes [MS-NTHT
 * §2.2; RFC 4559] through GSSAPI (MIT krb5's libgssapi_krb5): NTLM is the
 * NTLMSSP mechanism (OID 1.3.6.1.4.1.311.2.2.10, provided by the
 * gss-ntlmssp plug-in), Negotiate is SPNEGO (OID 1.3.6.1.5.5.2) offering
 * that mechanism. No NTLM code of our own: this file only acquires the
 * credentials (gss_acquire_cred_with_password) and steps the security
 * context (gss_init_sec_context), sans-IO: tokens in, tokens out.
 *
 * Both schemes authenticate the connection, not the request: every leg of
 * one handshake must travel on the same TCP connection, and a new
 * connection needs a new handshake (the caller's business).
 */
#pragma once

#include "base/error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wmstream::push {

class GssContext {
public:
    enum class Mechanism {
        Ntlm,      /**< HTTP "NTLM": raw NTLMSSP tokens */
        Negotiate, /**< HTTP "Negotiate": SPNEGO tokens, NTLMSSP the mechanism negotiated */
    };

    /** GSSAPI offers the NTLMSSP mechanism (gss-ntlmssp is installed); asked once. */
    static bool ntlm_available();

    /**
     * Acquire initiator credentials for @p user ("DOMAIN\user" or "user",
     * GSS_C_NT_USER_NAME) with @p password, for a server at @p host (the
     * target name HTTP@host, GSS_C_NT_HOSTBASED_SERVICE).
     * @return Errc::AccessDenied when GSSAPI has no such mechanism
     * (gss-ntlmssp missing) or refuses the credentials; the message carries
     * GSSAPI's status text, never the password.
     */
    static Result<GssContext> create(Mechanism mechanism, const std::string &user,
                                     const std::string &password, const std::string &host);

    GssContext(GssContext &&) noexcept;
    GssContext &operator=(GssContext &&) noexcept;
    GssContext(const GssContext &) = delete;
    GssContext &operator=(const GssContext &) = delete;
    ~GssContext();

    /**
     * One leg: @p input is the server's token (empty for the first leg).
     * @return the token to send (may be empty once established()), or
     * Errc::AccessDenied when GSSAPI refuses the server's token.
     */
    Result<std::vector<uint8_t>> step(const std::vector<uint8_t> &input);

    /** gss_init_sec_context returned GSS_S_COMPLETE: the last token is the final one. */
    bool established() const { return established_; }

    /** "NTLM" or "Negotiate": the HTTP scheme name. */
    const char *scheme() const;
    Mechanism mechanism() const { return mechanism_; }

private:
    struct Handles;
    GssContext(Mechanism mechanism, std::unique_ptr<Handles> handles);

    Mechanism mechanism_;
    std::unique_ptr<Handles> handles_;
    bool established_ = false;
};

} // namespace wmstream::push
