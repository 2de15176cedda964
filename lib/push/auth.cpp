/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SoupAuth (libsoup 3) driven without a SoupSession: soup_auth_new() parses
 * a WWW-Authenticate value against a SoupMessage that only supplies the
 * method and URL, soup_auth_authenticate() stores the credentials and
 * soup_auth_get_authorization() computes the header (Digest: RFC 2617
 * response with qop=auth, its own cnonce and nonce count).
 */
#include "push/auth.h"

#include "proto/http-request.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <string_view>

namespace wmstream::push {

namespace {

struct SchemeType {
    const char *name;
    GType (*type)();
};

/* Strongest first. */
const SchemeType kSchemes[] = {
    {"Digest", soup_auth_digest_get_type},
    {"Basic", soup_auth_basic_get_type},
};

std::string_view scheme_of(std::string_view challenge) {
    const size_t end = challenge.find_first_of(" \t,");
    return challenge.substr(0, end);
}

bool is_stale(const std::string &challenge) {
    const std::string_view scheme = scheme_of(challenge);
    GHashTable *params = soup_header_parse_param_list(challenge.c_str() + scheme.size());
    if (!params)
        return false;
    const char *stale = static_cast<const char *>(g_hash_table_lookup(params, "stale"));
    const bool result = stale && g_ascii_strcasecmp(stale, "true") == 0;
    soup_header_free_param_list(params);
    return result;
}

} // namespace

struct Authenticator::Impl {
    SoupAuth *auth = nullptr;
    ~Impl() { g_clear_object(&auth); }
};

Authenticator::Authenticator() : impl_(std::make_unique<Impl>()) {}
Authenticator::~Authenticator() = default;
Authenticator::Authenticator(Authenticator &&) noexcept = default;
Authenticator &Authenticator::operator=(Authenticator &&) noexcept = default;

void Authenticator::reset() {
    g_clear_object(&impl_->auth);
}

std::string Authenticator::scheme() const {
    return impl_->auth ? soup_auth_get_scheme_name(impl_->auth) : "";
}

Status Authenticator::challenge(const std::vector<std::string> &challenges,
                                const std::string &method, const std::string &url,
                                const Credentials &credentials) {
    if (credentials.user.empty())
        return make_error(Errc::AccessDenied,
                          "the server requires authentication and no user-id is set");

    g_autoptr(SoupMessage) message = soup_message_new(method.c_str(), url.c_str());
    if (!message)
        return make_error(Errc::InvalidName, "cannot authenticate for URL " + url);

    if (impl_->auth) {
        /* Credentials were sent: only a stale Digest nonce deserves another try. */
        const std::string current = soup_auth_get_scheme_name(impl_->auth);
        for (const std::string &value : challenges) {
            if (proto::http::equals_ignore_case(scheme_of(value), current) && is_stale(value) &&
                soup_auth_update(impl_->auth, message, value.c_str()))
                return {};
        }
        return make_error(Errc::AccessDenied, "the server refused the credentials of user '" +
                                                  credentials.user + "' (" + current + ")");
    }

    for (const SchemeType &scheme : kSchemes) {
        for (const std::string &value : challenges) {
            if (!proto::http::equals_ignore_case(scheme_of(value), scheme.name))
                continue;
            SoupAuth *auth = soup_auth_new(scheme.type(), message, value.c_str());
            if (!auth)
                continue;
            soup_auth_authenticate(auth, credentials.user.c_str(), credentials.password.c_str());
            impl_->auth = auth;
            return {};
        }
    }

    std::string offered;
    for (const std::string &value : challenges)
        offered += (offered.empty() ? "" : ", ") + std::string(scheme_of(value));
    return make_error(Errc::AccessDenied, "no supported authentication scheme offered (" +
                                              (offered.empty() ? std::string("none") : offered) +
                                              "; we support " + accepted_schemes() + ")");
}

std::string Authenticator::authorization(const std::string &method, const std::string &url) const {
    if (!impl_->auth)
        return {};
    g_autoptr(SoupMessage) message = soup_message_new(method.c_str(), url.c_str());
    if (!message)
        return {};
    g_autofree char *value = soup_auth_get_authorization(impl_->auth, message);
    return value ? value : "";
}

} // namespace wmstream::push
