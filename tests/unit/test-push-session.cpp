/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/push-session (sans-IO MS-WMHTTP client session): push
 * URLs (the wmpush+ prefix; HTTP URLs and answer heads are test-http-url's and
 * test-http-response's), the exact PushSetup/PushStart text [MS-WMHTTP
 * §2.2.2, §4.8], the Server-token table [MS-WMSP §2.2.1.5], and the verdict
 * for every kind of answer:
 * success with and without Set-Cookie or keep-alive, a plain web server,
 * redirects (relative, 305 proxy, too many; never from https to http, 305
 * only when allowed, credentials only to the configured origin),
 * authentication (Digest answered once, stale nonces renewed a bounded
 * number of times, no credentials), a configured forward proxy (absolute
 * URL, 407 answered with the proxy credentials once), 403/404/5xx, an unknown push-id answered
 * by asking for a new session, and PushStart answers. Hostile answers:
 * escaped and truncated server text and oversized push-ids (accept_success).
 */
#include "push/session.h"

#include <glib.h>

#include <cstring>
#include <string>

using wmstream::Errc;
using namespace wmstream::push;

namespace {

using Action = Verdict::Action;

Response response(const std::string &text) {
    auto parsed = wmstream::proto::http::parse_response(text.data(), text.size());
    g_assert_true(parsed.ok());
    return *parsed;
}

/* A Windows Media answer with @status, the given extra header lines. */
Response answer(unsigned status, const std::string &extra = "",
                const std::string &server = "Cougar/9.5.5732.6324") {
    return response("HTTP/1.1 " + std::to_string(status) + " Whatever\r\nServer: " + server +
                    "\r\nContent-Length: 0\r\nCache-Control: no-cache\r\n" + extra + "\r\n");
}

/* g_assert_cmpstr() keeps only the pointer: compare owned strings through a copy. */
void assert_text(const std::string &actual, const std::string &expected) {
    g_assert_cmpstr(actual.c_str(), ==, expected.c_str());
}

Session create(const SessionConfig &config) {
    auto created = Session::create(config);
    g_assert_true(created.ok());
    return std::move(*created);
}

Session session(const std::string &location = "http://server:8080/pub",
                const std::string &template_url = "", bool auto_destroy = true,
                Credentials credentials = {}) {
    SessionConfig config;
    config.location = location;
    config.template_url = template_url;
    config.auto_destroy = auto_destroy;
    config.credentials = std::move(credentials);
    return create(config);
}

/* A session on @p location with the user "encoder", and the policy flags given. */
Session with_credentials(const std::string &location, bool redirect_credentials = false,
                         bool use_proxy = false) {
    SessionConfig config;
    config.location = location;
    config.credentials = {"encoder", "secret"};
    config.allow_redirect_credentials = redirect_credentials;
    config.allow_use_proxy = use_proxy;
    return create(config);
}

const std::string kDigestChallenge =
    "WWW-Authenticate: Digest realm=\"wm\", nonce=\"n1\", qop=\"auth\"\r\n";
const std::string kBasicChallenge = "WWW-Authenticate: Basic realm=\"wm\"\r\n";

/* The element's own scheme prefix (wmpush+) is taken off; what remains is an HTTP URL. */
void test_push_url() {
    Url url = *parse_push_url("wmpush+https://server:8443/pub");
    g_assert_true(url.tls);
    g_assert_cmpuint(url.port, ==, 8443);
    assert_text(url.to_string(), "https://server:8443/pub");
    assert_text(parse_push_url("http://server/pub")->to_string(), "http://server/pub");
    g_assert_true(parse_push_url("wmpush+ftp://server/pub").error().code == Errc::InvalidName);
}

void test_create_errors() {
    SessionConfig config;
    config.location = "mms://server/pub";
    g_assert_true(Session::create(config).error().code == Errc::InvalidName);
    config.location = "http://server/pub";
    config.template_url = "not a path";
    g_assert_true(Session::create(config).error().code == Errc::InvalidArgument);
    config.template_url = "";
    config.user_agent = "";
    g_assert_true(Session::create(config).error().code == Errc::InvalidArgument);
}

/* The request text, byte for byte [MS-WMHTTP §4.8, with our schemes and agent]. */
void test_setup_request() {
    const Session s = session("http://server:8080/pub", "/template dir", false);
    const std::string body = "Template-URL: \"/template%20dir\"\r\nAutoDestroy: 0\r\n";
    const std::string expected = "POST /pub HTTP/1.1\r\n"
                                 "Content-Type: application/x-wms-pushsetup\r\n"
                                 "X-Accept-Authentication: Negotiate, NTLM, Digest, Basic\r\n"
                                 "User-Agent: WMEncoder/12.0.0.0 wmstream/0.1\r\n"
                                 "Host: server:8080\r\n"
                                 "Content-Length: " +
                                 std::to_string(body.size()) +
                                 "\r\n"
                                 "Cache-Control: no-cache\r\n"
                                 "Cookie: push-id=0\r\n"
                                 "\r\n" +
                                 body;
    assert_text(s.setup_request(), expected);

    /* Default: AutoDestroy: 1 only; a template given as a URL gives its path. */
    const Session plain = session("http://server/pub");
    g_assert_true(g_str_has_suffix(plain.setup_request().c_str(),
                                   "Content-Length: 16\r\nCache-Control: no-cache\r\nCookie: "
                                   "push-id=0\r\n\r\nAutoDestroy: 1\r\n"));
    const Session url_template = session("http://server/pub", "http://server/tmpl");
    g_assert_nonnull(strstr(url_template.setup_request().c_str(), "Template-URL: \"/tmpl\"\r\n"));
}

void test_start_request() {
    Session s = session();
    g_assert_true(s.on_setup_response(answer(204, "Set-Cookie: push-id=4124758405\r\n")).action ==
                  Action::Proceed);
    const std::string request = s.start_request(2147483647);
    g_assert_true(g_str_has_prefix(request.c_str(), "POST /pub HTTP/1.1\r\n"));
    g_assert_nonnull(strstr(request.c_str(), "Content-Type: application/x-wms-pushstart\r\n"));
    g_assert_nonnull(strstr(request.c_str(), "Content-Length: 2147483647\r\n"));
    g_assert_nonnull(strstr(request.c_str(), "Cookie: push-id=4124758405\r\n"));
    g_assert_true(g_str_has_suffix(request.c_str(), "\r\n\r\n"));
}

void test_server_token() {
    for (const char *good : {"Cougar/9.5.5732.6324", "Cougar/9.01.01.3814", "Cougar/4.1",
                             "Cougar/9.0", "Rex/9.0.0.2980", "Rex/11.0", "Rex/12.0.7601.1751",
                             "Rex/8.0 extra/1.0", "Cougar/4.1.0.3921"})
        g_assert_true(is_media_server(good));
    for (const char *bad :
         {"", "Apache/2.4.57 (Debian)", "nginx", "Cougar 4.1.0.3921", "Cougar/8.0", "Rex/5.0",
          "Rex/9.0.12345.1", "Cougar/9.5x", "cougar/9.0", "Rex/9", "Rex/9.", "Rex/100.0"})
        g_assert_false(is_media_server(bad));
}

void test_setup_success() {
    Session s = session();
    Verdict verdict = s.on_setup_response(answer(204, "Set-Cookie: push-id=42; path=/\r\n"));
    g_assert_true(verdict.action == Action::Proceed);
    g_assert_true(verdict.reuse_connection);
    g_assert_cmpstr(s.push_id().c_str(), ==, "42");
    /* The attributes are not parsed: repeated ones (which libsoup 3.2's cookie parser
     * leaks; the sanitized run checks) and a Domain a cookie jar would refuse. */
    verdict = s.on_setup_response(answer(
        204,
        "Set-Cookie: push-id=43; Path=/; Domain=example.com; Path=/pub; Domain=example.org\r\n"));
    g_assert_true(verdict.action == Action::Proceed);
    g_assert_cmpstr(s.push_id().c_str(), ==, "43");
    verdict = s.on_setup_response(answer(204, "Set-Cookie: push-id=44; Domain=localhost\r\n"));
    g_assert_true(verdict.action == Action::Proceed);
    g_assert_cmpstr(s.push_id().c_str(), ==, "44");

    /* peercast-yt: 200, no Set-Cookie, Connection: close. */
    Session peercast = session();
    verdict =
        peercast.on_setup_response(answer(200, "Connection: close\r\n", "Cougar/9.01.01.3814"));
    g_assert_true(verdict.action == Action::Proceed);
    g_assert_false(verdict.reuse_connection);
    g_assert_cmpstr(peercast.push_id().c_str(), ==, "0");

    /* A body after the answer: not reused. */
    Session with_body = session();
    verdict = with_body.on_setup_response(
        response("HTTP/1.1 200 OK\r\nServer: Rex/9.0\r\nContent-Length: 5\r\n\r\n"));
    g_assert_true(verdict.action == Action::Proceed);
    g_assert_false(verdict.reuse_connection);
}

void test_plain_web_server() {
    for (const char *server : {"Apache/2.4.57 (Debian)", ""}) {
        Session s = session();
        const std::string text = std::string("HTTP/1.1 200 OK\r\n") +
                                 (*server ? std::string("Server: ") + server + "\r\n" : "") +
                                 "Content-Type: text/html\r\nContent-Length: 20\r\n\r\n";
        const Verdict verdict = s.on_setup_response(response(text));
        g_assert_true(verdict.action == Action::Fail);
        g_assert_false(verdict.retryable);
        g_assert_true(verdict.error.code == Errc::ConnectionFailure);
        g_assert_nonnull(strstr(verdict.error.message.c_str(), "plain web server"));
    }
}

void test_redirects() {
    SessionConfig config;
    config.location = "http://server:8080/pub";
    config.allow_use_proxy = true;
    Session s = create(config);
    Verdict verdict = s.on_setup_response(answer(302, "Location: http://other:9000/live\r\n"));
    g_assert_true(verdict.action == Action::Resubmit);
    assert_text(s.url().to_string(), "http://other:9000/live");
    g_assert_cmpstr(s.connect_target().host.c_str(), ==, "other");
    g_assert_true(g_str_has_prefix(s.setup_request().c_str(), "POST /live HTTP/1.1\r\n"));
    g_assert_nonnull(strstr(s.setup_request().c_str(), "Host: other:9000\r\n"));

    /* Relative Location, resolved against the current URL. */
    verdict = s.on_setup_response(answer(301, "Location: /elsewhere\r\n"));
    assert_text(s.url().to_string(), "http://other:9000/elsewhere");

    /* 305: Location is a proxy; the URL stays, the request line carries it whole. */
    verdict = s.on_setup_response(answer(305, "Location: http://proxy:3128/\r\n"));
    g_assert_true(verdict.action == Action::Resubmit);
    g_assert_cmpstr(s.connect_target().host.c_str(), ==, "proxy");
    g_assert_cmpuint(s.connect_target().port, ==, 3128);
    g_assert_true(g_str_has_prefix(s.setup_request().c_str(),
                                   "POST http://other:9000/elsewhere HTTP/1.1\r\n"));

    /* A new attempt starts from the configured URL. */
    s.begin_attempt();
    assert_text(s.url().to_string(), "http://server:8080/pub");
    g_assert_false(s.proxy().has_value());

    /* No Location; too many redirects; a non-http Location. */
    Session missing = session();
    g_assert_true(missing.on_setup_response(answer(302)).action == Action::Fail);
    Session loop = session();
    for (int i = 0; i < 5; i++)
        g_assert_true(loop.on_setup_response(answer(302, "Location: /again\r\n")).action ==
                      Action::Resubmit);
    verdict = loop.on_setup_response(answer(302, "Location: /again\r\n"));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_false(verdict.retryable);
    Session mms = session();
    verdict = mms.on_setup_response(answer(302, "Location: mms://server/pub\r\n"));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_true(verdict.error.code == Errc::InvalidName);
}

/* https never leads to plain http, neither by a redirect nor by a proxy. */
void test_redirect_downgrade() {
    for (const unsigned status : {301u, 302u, 307u, 308u, 305u}) {
        Session s = with_credentials("https://server/pub", true, true);
        const Verdict verdict =
            s.on_setup_response(answer(status, "Location: http://server/pub\r\n"));
        g_assert_true(verdict.action == Action::Fail);
        g_assert_false(verdict.retryable);
        g_assert_true(verdict.error.code == Errc::ConnectionFailure);
        g_assert_nonnull(strstr(verdict.error.message.c_str(), "leaves https for plain http"));
        assert_text(s.connect_target().to_string(), "https://server/pub");
    }
    /* Upgrades and https to https are followed. */
    Session up = session("http://server/pub");
    g_assert_true(up.on_setup_response(answer(302, "Location: https://server/pub\r\n")).action ==
                  Action::Resubmit);
    g_assert_true(up.url().tls);
    g_assert_true(up.on_setup_response(answer(302, "Location: https://other/pub\r\n")).action ==
                  Action::Resubmit);
}

/* 305 Use Proxy: refused unless allowed. */
void test_use_proxy_policy() {
    Session s = session();
    const Verdict verdict = s.on_setup_response(answer(305, "Location: http://proxy:3128/\r\n"));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_false(verdict.retryable);
    g_assert_nonnull(strstr(verdict.error.message.c_str(), "allow-use-proxy"));
    g_assert_false(s.proxy().has_value());
}

/* The credentials go only to the configured origin, on a direct connection. */
void test_redirect_credentials() {
    struct Case {
        const char *location; /* the redirect */
        unsigned status;
        bool allowed;
    };
    for (const Case &c :
         {Case{"/elsewhere", 302, true}, Case{"http://SERVER:8080/x", 307, true},
          Case{"http://other:8080/pub", 302, false}, Case{"http://server:8081/pub", 302, false},
          Case{"https://server:8080/pub", 302, false}, Case{"http://proxy:3128/", 305, false}}) {
        for (const std::string &challenge : {kDigestChallenge, kBasicChallenge}) {
            Session s = with_credentials("http://server:8080/pub", false, true);
            g_assert_true(s.on_setup_response(
                               answer(c.status, std::string("Location: ") + c.location + "\r\n"))
                              .action == Action::Resubmit);
            const Verdict verdict = s.on_setup_response(answer(401, challenge));
            const std::string request = s.setup_request();
            if (c.allowed) {
                g_assert_true(verdict.action == Action::Resubmit);
                g_assert_nonnull(strstr(request.c_str(), "Authorization: "));
                continue;
            }
            g_assert_true(verdict.action == Action::Fail);
            g_assert_false(verdict.retryable);
            g_assert_true(verdict.error.code == Errc::AccessDenied);
            g_assert_nonnull(strstr(verdict.error.message.c_str(), "allow-redirect-credentials"));
            g_assert_null(strstr(verdict.error.message.c_str(), "secret"));
            g_assert_null(strstr(request.c_str(), "Authorization"));
            /* Allowed by the setting. */
            Session allowed = with_credentials("http://server:8080/pub", true, true);
            g_assert_true(allowed
                              .on_setup_response(
                                  answer(c.status, std::string("Location: ") + c.location + "\r\n"))
                              .action == Action::Resubmit);
            g_assert_true(allowed.on_setup_response(answer(401, challenge)).action ==
                          Action::Resubmit);
            g_assert_nonnull(strstr(allowed.setup_request().c_str(), "Authorization: "));
        }
    }
    /* Credentials of the configured origin are not sent on after a redirect. */
    Session s = with_credentials("http://server:8080/pub");
    g_assert_true(s.on_setup_response(answer(401, kBasicChallenge)).action == Action::Resubmit);
    g_assert_nonnull(strstr(s.setup_request().c_str(), "Authorization: Basic "));
    g_assert_true(s.on_setup_response(answer(302, "Location: http://other/pub\r\n")).action ==
                  Action::Resubmit);
    g_assert_null(strstr(s.setup_request().c_str(), "Authorization"));
}

/* A server calling every nonce stale: renewed kMaxStaleRenewals times, then the attempt fails
 * (retryable: the next one waits for the backoff); a new attempt renews again. A PushStart
 * the server accepts starts the count over. */
void test_stale_renewals() {
    const std::string stale =
        "WWW-Authenticate: Digest realm=\"wm\", nonce=\"n2\", qop=\"auth\", stale=true\r\n";
    Session s = with_credentials("http://server/pub");
    g_assert_true(s.on_setup_response(answer(401, stale)).action == Action::Resubmit);
    for (int attempt = 0; attempt < 3; attempt++) {
        for (unsigned i = 0; i < kMaxStaleRenewals; i++)
            g_assert_true(s.on_setup_response(answer(401, stale)).action == Action::Resubmit);
        const Verdict verdict = s.on_setup_response(answer(401, stale));
        g_assert_true(verdict.action == Action::Fail);
        g_assert_true(verdict.retryable);
        g_assert_true(verdict.error.code == Errc::AccessDenied);
        g_assert_nonnull(strstr(verdict.error.message.c_str(), "stale=true 3 times"));
        s.begin_attempt();
    }
    /* Accepted PushSetups alone do not start the count over; an accepted PushStart does. */
    for (unsigned i = 0; i < kMaxStaleRenewals; i++) {
        g_assert_true(s.on_setup_response(answer(204)).action == Action::Proceed);
        g_assert_true(s.on_start_response(answer(401, stale)).action == Action::Resubmit);
    }
    g_assert_true(s.on_setup_response(answer(204)).action == Action::Proceed);
    g_assert_true(s.on_start_response(answer(401, stale)).action == Action::Fail);
    s.begin_attempt();
    g_assert_true(s.on_setup_response(answer(401, stale)).action == Action::Resubmit);
    g_assert_true(s.on_setup_response(answer(204)).action == Action::Proceed);
    g_assert_true(s.on_start_response(answer(204)).action == Action::Proceed);
    for (unsigned i = 0; i < kMaxStaleRenewals; i++)
        g_assert_true(s.on_start_response(answer(401, stale)).action == Action::Resubmit);
}

void test_authentication() {
    const Credentials credentials{"encoder", "secret"};
    Session s = session("http://server/pub", "", true, credentials);
    const std::string challenge =
        "WWW-Authenticate: Digest realm=\"wm\", nonce=\"n1\", qop=\"auth\"\r\n";
    Verdict verdict = s.on_setup_response(answer(401, challenge));
    g_assert_true(verdict.action == Action::Resubmit);
    const std::string request = s.setup_request();
    g_assert_nonnull(strstr(request.c_str(), "Authorization: Digest username=\"encoder\""));
    g_assert_nonnull(strstr(request.c_str(), "uri=\"/pub\""));
    g_assert_null(strstr(request.c_str(), "secret"));
    g_assert_nonnull(strstr(s.start_request(1000).c_str(), "Authorization: Digest "));

    /* Refused again: fatal, no loop. */
    verdict = s.on_setup_response(answer(401, challenge));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_false(verdict.retryable);
    g_assert_true(verdict.error.code == Errc::AccessDenied);

    Session anonymous = session();
    verdict = anonymous.on_setup_response(answer(401, challenge));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_true(verdict.error.code == Errc::AccessDenied);
    g_assert_nonnull(strstr(verdict.error.message.c_str(), "401"));
}

/* A configured forward proxy: connections go to it, the request line carries the absolute URL
 * and Host the server's; it stays across attempts and redirects; its 407 is answered once with
 * the proxy credentials (Proxy-Authorization), the server's credentials still go to the
 * server through it; no proxy-id or a second 407 fail, naming the proxy. */
void test_proxy() {
    SessionConfig config;
    config.location = "http://server:8080/pub";
    for (const char *bad : {"https://proxy:3128", "http://proxy:3128/path", "proxy:3128"}) {
        config.proxy = bad;
        g_assert_true(Session::create(config).error().code == Errc::InvalidArgument);
    }
    config.proxy = "http://proxy:3128";
    config.credentials = {"encoder", "secret"};
    config.proxy_credentials = {"relay", "pr0xy"};
    Session s = create(config);
    g_assert_true(s.proxy().has_value());
    assert_text(s.connect_target().host, "proxy");
    g_assert_cmpuint(s.connect_target().port, ==, 3128);
    const std::string request = s.setup_request();
    g_assert_true(g_str_has_prefix(request.c_str(), "POST http://server:8080/pub HTTP/1.1\r\n"));
    g_assert_nonnull(strstr(request.c_str(), "Host: server:8080\r\n"));

    const std::string challenge = "Proxy-Authenticate: Basic realm=\"p\"\r\n";
    g_assert_true(s.on_setup_response(answer(407, challenge)).action == Action::Resubmit);
    g_autofree char *basic = g_base64_encode(reinterpret_cast<const guchar *>("relay:pr0xy"), 11);
    g_assert_nonnull(strstr(s.setup_request().c_str(),
                            (std::string("Proxy-Authorization: Basic ") + basic).c_str()));
    g_assert_null(strstr(s.setup_request().c_str(), "\r\nAuthorization"));
    /* The server's 401 through the configured proxy: the server's credentials. */
    g_assert_true(s.on_setup_response(answer(401, kBasicChallenge)).action == Action::Resubmit);
    g_assert_nonnull(strstr(s.setup_request().c_str(), "\r\nAuthorization: Basic "));
    s.begin_attempt();
    g_assert_true(s.proxy().has_value());
    g_assert_true(s.on_setup_response(answer(302, "Location: /other\r\n")).action ==
                  Action::Resubmit);
    assert_text(s.connect_target().host, "proxy");
    /* Not to a proxy a 305 names. */
    SessionConfig use_proxy = config;
    use_proxy.allow_use_proxy = true;
    Session named = create(use_proxy);
    g_assert_true(named.on_setup_response(answer(407, challenge)).action == Action::Resubmit);
    g_assert_nonnull(strstr(named.setup_request().c_str(), "Proxy-Authorization"));
    g_assert_true(
        named.on_setup_response(answer(305, "Location: http://other-proxy:8080/\r\n")).action ==
        Action::Resubmit);
    assert_text(named.connect_target().host, "other-proxy");
    g_assert_null(strstr(named.setup_request().c_str(), "Proxy-Authorization"));
    g_assert_true(named.on_setup_response(answer(407, challenge)).action == Action::Fail);

    const Verdict again = s.on_setup_response(answer(407, challenge));
    g_assert_true(again.action == Action::Fail);
    g_assert_true(again.error.code == Errc::AccessDenied);
    g_assert_nonnull(strstr(again.error.message.c_str(), "proxy"));
    g_assert_nonnull(strstr(again.error.message.c_str(), "relay"));
    g_assert_null(strstr(again.error.message.c_str(), "pr0xy"));

    config.proxy_credentials = {};
    Session anonymous = create(config);
    const Verdict none = anonymous.on_setup_response(answer(407, challenge));
    g_assert_true(none.action == Action::Fail);
    g_assert_nonnull(strstr(none.error.message.c_str(), "proxy-id"));
    /* A 407 on a direct connection. */
    g_assert_true(session().on_setup_response(answer(407, challenge)).action == Action::Fail);
}

void test_statuses() {
    struct Case {
        unsigned status;
        Errc code;
        bool retryable;
    };
    for (const Case &c :
         {Case{403, Errc::AccessDenied, false}, Case{407, Errc::AccessDenied, false},
          Case{404, Errc::InvalidName, false}, Case{410, Errc::InvalidName, false},
          Case{400, Errc::ConnectionFailure, false}, Case{408, Errc::ConnectionFailure, true},
          Case{500, Errc::ConnectionFailure, true}, Case{503, Errc::ConnectionFailure, true}}) {
        Session s = session();
        const Verdict verdict = s.on_setup_response(answer(c.status));
        g_assert_true(verdict.action == Action::Fail);
        g_assert_true(verdict.error.code == c.code);
        g_assert_cmpint(verdict.retryable, ==, c.retryable);
        g_assert_nonnull(strstr(verdict.error.message.c_str(), std::to_string(c.status).c_str()));
    }
}

/* A server that does not know our push-id refuses it: ask for a new session once. */
void test_unknown_push_id() {
    Session s = session();
    s.resume("777");
    g_assert_nonnull(strstr(s.setup_request().c_str(), "Cookie: push-id=777\r\n"));
    Verdict verdict = s.on_setup_response(answer(400));
    g_assert_true(verdict.action == Action::Resubmit);
    g_assert_cmpstr(s.push_id().c_str(), ==, "0");
    verdict = s.on_setup_response(answer(404));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_true(verdict.error.code == Errc::InvalidName);
    /* 403 with a push-id is an authorization failure, not a lost session. */
    Session forbidden = session();
    forbidden.resume("777");
    g_assert_true(forbidden.on_setup_response(answer(403)).action == Action::Fail);
}

void test_start_response() {
    Session s = session();
    g_assert_true(s.on_setup_response(answer(204, "Set-Cookie: push-id=5\r\n")).action ==
                  Action::Proceed);
    Verdict verdict = s.on_start_response(answer(204, "Set-Cookie: push-id=6\r\n"));
    g_assert_true(verdict.action == Action::Proceed);
    g_assert_cmpstr(s.push_id().c_str(), ==, "6");
    /* Anything but an addressing or authorization failure ends only the connection. */
    verdict = s.on_start_response(answer(400));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_true(verdict.retryable);
    verdict = s.on_start_response(answer(408));
    g_assert_true(verdict.retryable);
    verdict = s.on_start_response(answer(404));
    g_assert_false(verdict.retryable);
    verdict = s.on_start_response(answer(204, "", "Apache"));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_false(verdict.retryable);
}

/* A push-id over 255 characters [MS-WMHTTP §3.2.3] is refused, not echoed in every request. */
void test_oversized_push_id() {
    Session fits = session();
    const std::string longest(kMaxPushIdLength, '9');
    g_assert_true(
        fits.on_setup_response(answer(204, "Set-Cookie: push-id=" + longest + "\r\n")).action ==
        Action::Proceed);
    assert_text(fits.push_id(), longest);

    Session s = session();
    const Verdict verdict =
        s.on_setup_response(answer(204, "Set-Cookie: push-id=" + longest + "9\r\n"));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_false(verdict.retryable);
    g_assert_nonnull(strstr(verdict.error.message.c_str(), "push-id of 256 characters"));
    assert_text(s.push_id(), "0");
}

/* Server text in a verdict is quoted: a binary Server header cannot garble the message. */
void test_quoted_server_text() {
    Session s = session();
    const Verdict verdict =
        s.on_setup_response(answer(200, "", "Evil\x01" + std::string(1000, 'e')));
    g_assert_true(verdict.action == Action::Fail);
    g_assert_nonnull(strstr(verdict.error.message.c_str(), "Evil\\x01eee"));
    g_assert_cmpuint(verdict.error.message.size(), <, 400);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/push-session/push-url", test_push_url);
    g_test_add_func("/push-session/create-errors", test_create_errors);
    g_test_add_func("/push-session/setup-request", test_setup_request);
    g_test_add_func("/push-session/start-request", test_start_request);
    g_test_add_func("/push-session/server-token", test_server_token);
    g_test_add_func("/push-session/setup-success", test_setup_success);
    g_test_add_func("/push-session/plain-web-server", test_plain_web_server);
    g_test_add_func("/push-session/redirects", test_redirects);
    g_test_add_func("/push-session/redirect-downgrade", test_redirect_downgrade);
    g_test_add_func("/push-session/use-proxy-policy", test_use_proxy_policy);
    g_test_add_func("/push-session/redirect-credentials", test_redirect_credentials);
    g_test_add_func("/push-session/stale-renewals", test_stale_renewals);
    g_test_add_func("/push-session/authentication", test_authentication);
    g_test_add_func("/push-session/proxy", test_proxy);
    g_test_add_func("/push-session/statuses", test_statuses);
    g_test_add_func("/push-session/unknown-push-id", test_unknown_push_id);
    g_test_add_func("/push-session/start-response", test_start_response);
    g_test_add_func("/push-session/oversized-push-id", test_oversized_push_id);
    g_test_add_func("/push-session/quoted-server-text", test_quoted_server_text);
    return g_test_run();
}
