/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MS-WMHTTP client session: push URLs, request text, cookies
 * (soup_cookie_parse) and the client rules for PushSetup and PushStart
 * answers [MS-WMHTTP §3.1.5]. URLs and response heads are proto/http-url.h's
 * and proto/http-response.h's.
 */
#include "push/session.h"

#include "base/text.h"
#include "proto/http-request.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <cstdlib>
#include <cstring>

namespace wmstream::push {

namespace {

/* Characters kept as they are in a Template-URL path (RFC 3986 pchar + "/"). */
constexpr const char *kPathChars = "/!$&'()*+,;=:@";

/* "/a b" → "/a%20b"; already escaped text stays the same. */
std::string escape_path(const std::string &path) {
    g_autofree char *plain = g_uri_unescape_string(path.c_str(), nullptr);
    g_autofree char *escaped = g_uri_escape_string(plain ? plain : path.c_str(), kPathChars, FALSE);
    return escaped;
}

/* Leading decimal number of @text (advanced past it), or -1 when it has no digit or more than
 * @max_digits. */
int take_number(std::string_view &text, size_t max_digits) {
    size_t digits = 0;
    while (digits < text.size() && g_ascii_isdigit(text[digits]))
        digits++;
    if (digits == 0 || digits > max_digits)
        return -1;
    const int value = atoi(std::string(text.substr(0, digits)).c_str());
    text.remove_prefix(digits);
    return value;
}

Verdict fail(Errc code, std::string message, bool retryable) {
    Verdict verdict;
    verdict.action = Verdict::Action::Fail;
    verdict.retryable = retryable;
    verdict.error = make_error(code, std::move(message));
    return verdict;
}

Verdict resubmit() {
    Verdict verdict;
    verdict.action = Verdict::Action::Resubmit;
    return verdict;
}

/* @text for a message: printable ASCII, other bytes as \xNN, at most kMaxQuotedText characters. */
std::string quoted(std::string_view text) {
    return printable(text, proto::http::kMaxQuotedText);
}

std::string status_text(const Response &response) {
    return std::to_string(response.status) + " " + response.reason;
}

} // namespace

Result<Url> parse_push_url(std::string_view text) {
    if (g_ascii_strncasecmp(std::string(text).c_str(), kUriSchemePrefix,
                            strlen(kUriSchemePrefix)) == 0)
        text.remove_prefix(strlen(kUriSchemePrefix));
    return proto::http::parse_url(text);
}

bool is_media_server(std::string_view server) {
    struct Version {
        const char *token;
        int major;
        int minor;
    };
    /* [MS-WMSP] §2.2.1.5 and note <43> (Rex 12.0). */
    static const Version kVersions[] = {
        {"Cougar", 4, 0}, {"Cougar", 4, 1}, {"Cougar", 9, 0}, {"Cougar", 9, 1}, {"Cougar", 9, 5},
        {"Rex", 4, 0},    {"Rex", 7, 0},    {"Rex", 7, 1},    {"Rex", 8, 0},    {"Rex", 9, 0},
        {"Rex", 10, 0},   {"Rex", 11, 0},   {"Rex", 12, 0},
    };
    const size_t slash = server.find('/');
    if (slash == std::string_view::npos)
        return false;
    const std::string_view token = server.substr(0, slash);
    std::string_view rest = server.substr(slash + 1);
    const int major = take_number(rest, 2);
    if (major < 0 || rest.empty() || rest[0] != '.')
        return false;
    rest.remove_prefix(1);
    const int minor = take_number(rest, 2);
    if (minor < 0)
        return false;
    /* Optional ".build.revision", then the end or " product…". */
    if (!rest.empty() && rest[0] == '.') {
        rest.remove_prefix(1);
        if (take_number(rest, 4) < 0 || rest.empty() || rest[0] != '.')
            return false;
        rest.remove_prefix(1);
        if (take_number(rest, 4) < 0)
            return false;
    }
    if (!rest.empty() && rest[0] != ' ')
        return false;
    for (const Version &version : kVersions) {
        if (token == version.token && major == version.major && minor == version.minor)
            return true;
    }
    return false;
}

Session::Session(SessionConfig config, Url url, std::string template_path, std::optional<Url> proxy)
    : config_(std::move(config)), configured_url_(url), template_path_(std::move(template_path)),
      url_(std::move(url)), configured_proxy_(proxy), proxy_(std::move(proxy)) {}

Result<Session> Session::create(SessionConfig config) {
    Result<Url> url = parse_push_url(config.location);
    if (!url)
        return url.error();
    if (config.user_agent.empty())
        return make_error(Errc::InvalidArgument, "the user agent is empty");

    std::string template_path;
    if (!config.template_url.empty()) {
        if (config.template_url[0] == '/') {
            template_path = config.template_url;
        } else {
            Result<Url> other = parse_push_url(config.template_url);
            if (!other)
                return make_error(Errc::InvalidArgument,
                                  "template URL '" + config.template_url +
                                      "' is neither a path nor a URL on the server");
            template_path = other->path;
        }
        template_path = escape_path(template_path);
    }
    std::optional<Url> proxy;
    if (!config.proxy.empty()) {
        Result<Url> parsed = proto::http::parse_url(config.proxy);
        if (!parsed || parsed->tls || parsed->path != "/")
            return make_error(Errc::InvalidArgument,
                              "proxy '" + config.proxy + "' is not an http://host[:port] URL");
        proxy = std::move(*parsed);
    }
    return Session(std::move(config), std::move(*url), std::move(template_path), std::move(proxy));
}

void Session::begin_attempt() {
    url_ = configured_url_;
    proxy_ = configured_proxy_;
    redirects_ = 0;
    stale_renewals_ = 0;
}

Status Session::connection_opened() {
    return auth_.new_connection(url_.to_string(), config_.credentials);
}

bool Session::configured_route() const {
    if (!proxy_ || !configured_proxy_)
        return !proxy_ && !configured_proxy_;
    return proxy_->same_origin(*configured_proxy_);
}

bool Session::credentials_allowed() const {
    return config_.allow_redirect_credentials ||
           (configured_route() && url_.same_origin(configured_url_));
}

std::string Session::request_target() const {
    /* Through a proxy the request line carries the absolute URL (RFC 2616 §5.1.2). */
    return proxy_ ? url_.to_string() : url_.path;
}

std::string Session::request_head(const char *content_type, size_t content_length) const {
    std::string head = "POST " + request_target() + " HTTP/1.1\r\n";
    head += std::string("Content-Type: ") + content_type + "\r\n";
    head += std::string("X-Accept-Authentication: ") + Authenticator::accepted_schemes() + "\r\n";
    head += "User-Agent: " + config_.user_agent + "\r\n";
    head += "Host: " + url_.authority() + "\r\n";
    head += "Content-Length: " + std::to_string(content_length) + "\r\n";
    head += "Cache-Control: no-cache\r\n";
    head += "Cookie: push-id=" + push_id_ + "\r\n";
    for (const Authenticator *auth : {&auth_, &proxy_auth_}) {
        /* The proxy credentials go to the configured proxy only, not to one a 305 named. */
        if (auth == &proxy_auth_ && !(proxy_ && configured_route()))
            continue;
        const std::string value = auth->authorization("POST", url_.to_string());
        if (!value.empty())
            head += std::string(auth->authorization_header()) + ": " + value + "\r\n";
    }
    head += "\r\n";
    return head;
}

std::string Session::setup_request() const {
    std::string body;
    if (!template_path_.empty())
        body += "Template-URL: \"" + template_path_ + "\"\r\n";
    body += std::string("AutoDestroy: ") + (config_.auto_destroy ? "1" : "0") + "\r\n";
    return request_head("application/x-wms-pushsetup", body.size()) + body;
}

std::string Session::start_request(uint32_t content_length) const {
    return request_head("application/x-wms-pushstart", content_length);
}

Verdict Session::accept_success(const Response &response) {
    const std::string *server = response.find("Server");
    if (!server || !is_media_server(*server))
        return fail(Errc::ConnectionFailure,
                    url_.to_string() + " answered " + status_text(response) +
                        " as a plain web server (Server: " + (server ? quoted(*server) : "none") +
                        "), not a Windows Media server (Cougar/ or Rex/ token, MS-WMSP §2.2.1.5)",
                    false);
    for (const std::string &value : response.find_all("Set-Cookie")) {
        /* Only the name-value pair, the text before the first ';' (RFC 6265 §5.2): the
         * attributes are not needed, and libsoup 3.2's parser leaks a repeated Path or
         * Domain attribute (a server could make every answer leak). */
        const std::string pair = value.substr(0, value.find(';'));
        SoupCookie *cookie = soup_cookie_parse(pair.c_str(), nullptr);
        if (!cookie)
            continue;
        const std::string name = soup_cookie_get_name(cookie);
        const std::string id = soup_cookie_get_value(cookie);
        soup_cookie_free(cookie);
        if (name != "push-id" || id.empty() || id == "0")
            continue;
        if (id.size() > kMaxPushIdLength)
            return fail(Errc::ConnectionFailure,
                        url_.to_string() + " assigned a push-id of " + std::to_string(id.size()) +
                            " characters (at most " + std::to_string(kMaxPushIdLength) +
                            ", MS-WMHTTP §3.2.3)",
                        false);
        push_id_ = id;
    }
    auth_.accepted();
    Verdict verdict;
    verdict.action = Verdict::Action::Proceed;
    verdict.reuse_connection = response.keeps_alive() && !response.has_body();
    return verdict;
}

Verdict Session::redirect(const Response &response) {
    const std::string *location = response.find("Location");
    if (!location)
        return fail(Errc::ConnectionFailure,
                    "redirect " + status_text(response) + " without a Location", false);
    if (++redirects_ > config_.max_redirects)
        return fail(Errc::ConnectionFailure,
                    "more than " + std::to_string(config_.max_redirects) + " redirects", false);

    Result<Url> url = proto::http::resolve_url(url_, *location);
    if (!url)
        return fail(url.error().code, url.error().message, false);
    const std::string what = url_.to_string() + " answered " + status_text(response) + " to " +
                             url->to_string() + ": refused, ";
    /* The stream (and any credentials) would then cross the network in clear. */
    if (url_.tls && !url->tls)
        return fail(Errc::ConnectionFailure, what + "it leaves https for plain http", false);
    /* A proxy the server names sees the whole stream (RFC 7231 §6.4.5 deprecates 305). */
    if (response.status == 305 && !config_.allow_use_proxy)
        return fail(Errc::ConnectionFailure,
                    what + "a proxy named by the server is followed only with allow-use-proxy",
                    false);
    /* 305: Location names a proxy and the URL stays [MS-WMHTTP §3.1.5.1]. */
    if (response.status == 305) {
        proxy_ = *url;
    } else {
        url_ = *url;
        proxy_ = configured_proxy_;
    }
    auth_.reset();
    return resubmit();
}

Verdict Session::authenticate(const Response &response) {
    if (!config_.credentials.user.empty() && !credentials_allowed())
        return fail(Errc::AccessDenied,
                    url_.to_string() + " answered " + status_text(response) +
                        ": the credentials of user '" + config_.credentials.user +
                        "' are sent only to " + configured_url_.origin() +
                        " (the location), directly or through the configured proxy, not after "
                        "a redirect " +
                        (proxy_ ? "to the proxy " + proxy_->origin() : "to " + url_.origin()) +
                        " (allow-redirect-credentials)",
                    false);
    const bool renewal = !auth_.scheme().empty() && !auth_.connection_based();
    const Status status = auth_.challenge(response.find_all(auth_.challenge_header()), "POST",
                                          url_.to_string(), config_.credentials);
    if (!status) {
        std::string message = status.error().message + " (" + status_text(response) + ")";
        /* Some proxies (tinyproxy) refuse a wrong proxy password with 401, not 407. */
        if (proxy_ && !proxy_auth_.scheme().empty())
            message += "; the request went through the proxy " + proxy_->origin() +
                       " with the credentials of proxy-id '" + config_.proxy_credentials.user +
                       "', which it may have refused";
        return fail(status.error().code, message, false);
    }
    if (auth_.connection_based()) {
        /* Every leg of NTLM and Negotiate on the connection of the previous one (past the
         * 401's page, when it has a length). */
        Verdict verdict = resubmit();
        verdict.reuse_connection = response.keeps_alive() && response.body_length().has_value();
        if (auth_.mid_handshake() && !verdict.reuse_connection)
            return fail(Errc::AccessDenied,
                        url_.to_string() + " answered " + status_text(response) +
                            " and ended the connection in the middle of the " + auth_.scheme() +
                            " handshake, which must stay on one connection",
                        false);
        return verdict;
    }
    /* Only a stale nonce is answered again (Authenticator): a server that calls every nonce
     * stale would otherwise be asked again at once, for ever. The attempt fails instead, and
     * the next one waits for the backoff. */
    if (renewal && ++stale_renewals_ > kMaxStaleRenewals)
        return fail(Errc::AccessDenied,
                    url_.to_string() + " answered " + status_text(response) + " with stale=true " +
                        std::to_string(stale_renewals_) +
                        " times since the last accepted request (at most " +
                        std::to_string(kMaxStaleRenewals) + " renewals of the nonce)",
                    true);
    return resubmit();
}

Verdict Session::authenticate_proxy(const Response &response) {
    if (!proxy_ || !configured_route())
        return fail(Errc::AccessDenied,
                    url_.to_string() + " answered " + status_text(response) +
                        (proxy_ ? " from the proxy " + proxy_->origin() +
                                      " a 305 named: proxy credentials go to the configured "
                                      "proxy only"
                                : " on a direct connection (no proxy configured)"),
                    false);
    const std::string what = proxy_->origin() + " (proxy) answered " + status_text(response);
    const Status status =
        proxy_auth_.challenge(response.find_all(proxy_auth_.challenge_header()), "POST",
                              url_.to_string(), config_.proxy_credentials);
    if (!status)
        return fail(status.error().code, what + ": " + status.error().message, false);
    return resubmit();
}

Verdict Session::refuse(const Response &response) const {
    const std::string what = url_.to_string() + " answered " + status_text(response);
    switch (response.status) {
    case 403:
        return fail(Errc::AccessDenied, what, false);
    case 404:
    case 410:
        return fail(Errc::InvalidName, what + ": no such publishing point", false);
    case 408:
    case 429:
        return fail(Errc::ConnectionFailure, what, true);
    default:
        return fail(Errc::ConnectionFailure, what, response.status >= 500);
    }
}

Verdict Session::on_setup_response(const Response &response) {
    const unsigned status = response.status;
    if (status >= 200 && status < 300)
        return accept_success(response);
    if ((status >= 300 && status <= 305) || status == 307 || status == 308)
        return redirect(response);
    if (status == 401)
        return authenticate(response);
    if (status == 407)
        return authenticate_proxy(response);
    /* The server must refuse a push-id it does not know [MS-WMHTTP §3.2.5.1]
     * (it restarted, or the session timed out): ask for a new session. */
    if (status >= 400 && status != 403 && push_id_ != "0") {
        forget_push_id();
        return resubmit();
    }
    return refuse(response);
}

Verdict Session::on_start_response(const Response &response) {
    const unsigned status = response.status;
    if (status >= 200 && status < 300) {
        stale_renewals_ = 0;
        return accept_success(response);
    }
    if (status == 401)
        return authenticate(response);
    if (status == 407)
        return authenticate_proxy(response);
    Verdict verdict = refuse(response);
    /* Anything but an authorization or addressing failure ends this connection only. */
    if (status != 403 && status != 404 && status != 410)
        verdict.retryable = true;
    return verdict;
}

} // namespace wmstream::push
