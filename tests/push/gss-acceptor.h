/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server side of HTTP NTLM and Negotiate for the test receiver: a real
 * GSSAPI acceptor (gss_accept_sec_context, MIT krb5 with the gss-ntlmssp
 * mechanism), whose users come from the file named by the NTLM_USER_FILE
 * environment variable, one "DOMAIN:user:password" a line (gss-ntlmssp's
 * format). One acceptor per connection: the schemes authenticate the
 * connection.
 */
#pragma once

#include <memory>
#include <string>

namespace pushtest {

class GssAcceptor {
public:
    /** @p scheme: "NTLM" (NTLMSSP tokens) or "Negotiate" (SPNEGO offering NTLMSSP). */
    explicit GssAcceptor(const std::string &scheme);
    ~GssAcceptor();
    GssAcceptor(const GssAcceptor &) = delete;
    GssAcceptor &operator=(const GssAcceptor &) = delete;

    enum class State { Continue, Complete, Refused };
    struct Leg {
        State state = State::Refused;
        std::string token; /**< base64, for WWW-Authenticate; may be empty */
        std::string user;  /**< Complete: the authenticated name, "DOMAIN\user" */
        std::string error; /**< Refused: GSSAPI's major status code */
    };

    /** One leg with the client's base64 @p token (from "Authorization: <scheme> <token>"). */
    Leg step(const std::string &token);

private:
    struct Handles;
    std::unique_ptr<Handles> handles_;
};

} // namespace pushtest
