/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SoupAuth (libsoup 3) driven without a SoupSession: soup_auth_new() parses
 * a WWW-Authenticate value against a SoupMessage that only supplies the
 * method and URL, soup_auth_authenticate() stores the credentials and
 * soup_auth_get_authorization() computes the header (Digest: RFC 2617
 * response with qop=auth, its own cnonce and nonce count). NTLM and
 * Negotiate tokens are GSSAPI's (GssContext), base64 in the headers
 * [RFC 4559 §4; MS-NTHT §2.2].
 */
#include "push/auth.h"

#include "proto/http-request.h"
#include "push/gssapi-auth.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <optional>
#include <string_view>

namespace wmstream::push {

namespace {

struct SchemeType {
    const char *name;
    GType (*type)();                 /**< SoupAuth type; null for the GSSAPI schemes */
    GssContext::Mechanism mechanism; /**< the GSSAPI schemes */
};

/* Strongest first. */
const SchemeType kSchemes[] = {
    {"Negotiate", nullptr, GssContext::Mechanism::Negotiate},
    {"NTLM", nullptr, GssContext::Mechanism::Ntlm},
    {"Digest", soup_auth_digest_get_type, {}},
    {"Basic", soup_auth_basic_get_type, {}},
};

std::string_view scheme_of(std::string_view challenge) {
    const size_t end = challenge.find_first_of(" \t,");
    return challenge.substr(0, end);
}

/* The base64 token after the scheme of an NTLM/Negotiate challenge, "" when none. */
std::string token_of(std::string_view challenge) {
    std::string_view token = challenge.substr(scheme_of(challenge).size());
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
    return std::string(token);
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

std::string host_of(const std::string &url) {
    g_autoptr(GUri) uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
    const char *host = uri ? g_uri_get_host(uri) : nullptr;
    return host ? host : "";
}

std::string base64(const std::vector<uint8_t> &bytes) {
    if (bytes.empty())
        return "";
    g_autofree char *text = g_base64_encode(bytes.data(), bytes.size());
    return text;
}

std::vector<uint8_t> unbase64(const std::string &text) {
    gsize len = 0;
    g_autofree guchar *bytes = g_base64_decode(text.c_str(), &len);
    return std::vector<uint8_t>(bytes, bytes + len);
}

} // namespace

struct Authenticator::Impl {
    Target target;
    SoupAuth *auth = nullptr;      /* Digest, Basic */
    std::optional<GssContext> gss; /* NTLM, Negotiate */
    std::string pending;           /* GSSAPI token (base64) for the next request, "" = none */
    bool received = false;         /* the handshake took a server token */

    explicit Impl(Target t) : target(t) {}
    ~Impl() { g_clear_object(&auth); }

    const char *who() const { return target == Target::Server ? "user-id" : "proxy-id"; }
    const char *peer() const { return target == Target::Server ? "server" : "proxy"; }

    /* A new GSSAPI handshake: its first token becomes pending. */
    Status begin(GssContext::Mechanism mechanism, const std::string &url,
                 const Credentials &credentials) {
        Result<GssContext> context =
            GssContext::create(mechanism, credentials.user, credentials.password, host_of(url));
        if (!context)
            return context.error();
        Result<std::vector<uint8_t>> token = context->step({});
        if (!token)
            return token.error();
        gss = std::move(*context);
        pending = base64(*token);
        received = false;
        return {};
    }
};

Authenticator::Authenticator(Target target) : impl_(std::make_unique<Impl>(target)) {}
Authenticator::~Authenticator() = default;
Authenticator::Authenticator(Authenticator &&) noexcept = default;
Authenticator &Authenticator::operator=(Authenticator &&) noexcept = default;

const char *Authenticator::accepted_schemes() {
    return GssContext::ntlm_available() ? "Negotiate, NTLM, Digest, Basic" : "Digest, Basic";
}

const char *Authenticator::challenge_header() const {
    return impl_->target == Target::Server ? "WWW-Authenticate" : "Proxy-Authenticate";
}

const char *Authenticator::authorization_header() const {
    return impl_->target == Target::Server ? "Authorization" : "Proxy-Authorization";
}

void Authenticator::reset() {
    g_clear_object(&impl_->auth);
    impl_->gss.reset();
    impl_->pending.clear();
    impl_->received = false;
}

std::string Authenticator::scheme() const {
    if (impl_->gss)
        return impl_->gss->scheme();
    return impl_->auth ? soup_auth_get_scheme_name(impl_->auth) : "";
}

bool Authenticator::connection_based() const {
    return impl_->gss.has_value();
}

bool Authenticator::mid_handshake() const {
    return impl_->gss && impl_->received;
}

void Authenticator::accepted() {
    /* Negotiate's last server token (in the 2xx) is not needed: no mutual authentication is
     * asked for. */
    impl_->pending.clear();
}

Status Authenticator::new_connection(const std::string &url, const Credentials &credentials) {
    if (!impl_->gss)
        return {};
    const Status status = impl_->begin(impl_->gss->mechanism(), url, credentials);
    if (!status)
        reset();
    return status;
}

Status Authenticator::challenge(const std::vector<std::string> &challenges,
                                const std::string &method, const std::string &url,
                                const Credentials &credentials) {
    Impl &self = *impl_;
    if (credentials.user.empty())
        return make_error(Errc::AccessDenied, std::string("the ") + self.peer() +
                                                  " requires authentication and no " + self.who() +
                                                  " is set");
    const std::string refused = std::string("the ") + self.peer() +
                                " refused the credentials of user '" + credentials.user + "' (";

    if (self.gss) {
        /* The server's next leg, unless our last token was the final one. */
        const std::string current = self.gss->scheme();
        for (const std::string &value : challenges) {
            if (!proto::http::equals_ignore_case(scheme_of(value), current))
                continue;
            const std::string token = token_of(value);
            if (token.empty() || self.gss->established())
                break;
            Result<std::vector<uint8_t>> answer = self.gss->step(unbase64(token));
            if (!answer)
                return make_error(Errc::AccessDenied, refused + answer.error().message + ")");
            self.pending = base64(*answer);
            self.received = true;
            return {};
        }
        return make_error(Errc::AccessDenied, refused + current + ")");
    }

    g_autoptr(SoupMessage) message = soup_message_new(method.c_str(), url.c_str());
    if (!message)
        return make_error(Errc::InvalidName, "cannot authenticate for URL " + url);

    if (self.auth) {
        /* Credentials were sent: only a stale Digest nonce deserves another try. */
        const std::string current = soup_auth_get_scheme_name(self.auth);
        for (const std::string &value : challenges) {
            if (proto::http::equals_ignore_case(scheme_of(value), current) && is_stale(value) &&
                soup_auth_update(self.auth, message, value.c_str()))
                return {};
        }
        return make_error(Errc::AccessDenied, refused + current + ")");
    }

    std::optional<Error> unusable; /* a GSSAPI scheme offered and not usable here */
    for (const SchemeType &scheme : kSchemes) {
        /* Connection-based schemes through a proxy would bind the proxy's connection. */
        if (!scheme.type && self.target == Target::Proxy)
            continue;
        for (const std::string &value : challenges) {
            if (!proto::http::equals_ignore_case(scheme_of(value), scheme.name))
                continue;
            if (!scheme.type) {
                const Status status = self.begin(scheme.mechanism, url, credentials);
                if (status)
                    return {};
                unusable = status.error();
                break;
            }
            SoupAuth *auth = soup_auth_new(scheme.type(), message, value.c_str());
            if (!auth)
                continue;
            soup_auth_authenticate(auth, credentials.user.c_str(), credentials.password.c_str());
            self.auth = auth;
            return {};
        }
    }
    if (unusable)
        return *unusable;

    std::string offered;
    for (const std::string &value : challenges)
        offered += (offered.empty() ? "" : ", ") + std::string(scheme_of(value));
    return make_error(Errc::AccessDenied,
                      "no supported authentication scheme offered (" +
                          (offered.empty() ? std::string("none") : offered) + "; we support " +
                          (self.target == Target::Server ? accepted_schemes() : "Digest, Basic") +
                          ")");
}

std::string Authenticator::authorization(const std::string &method, const std::string &url) const {
    if (impl_->gss)
        return impl_->pending.empty() ? ""
                                      : std::string(impl_->gss->scheme()) + " " + impl_->pending;
    if (!impl_->auth)
        return {};
    g_autoptr(SoupMessage) message = soup_message_new(method.c_str(), url.c_str());
    if (!message)
        return {};
    g_autofree char *value = soup_auth_get_authorization(impl_->auth, message);
    return value ? value : "";
}

} // namespace wmstream::push
