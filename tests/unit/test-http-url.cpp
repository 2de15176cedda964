/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/proto/http-url (the clients' HTTP URLs): parsing
 * (schemes, default ports, IPv6, escapes kept, hosts that would inject into a
 * request refused) and redirect targets resolved against a URL (absolute,
 * relative, to another scheme refused).
 */
#include "proto/http-url.h"

#include <glib.h>

#include <cstring>
#include <string>

using wmstream::Errc;
using namespace wmstream::proto::http;

namespace {

/* g_assert_cmpstr() keeps only the pointer: compare owned strings through a copy. */
void assert_text(const std::string &actual, const std::string &expected) {
    g_assert_cmpstr(actual.c_str(), ==, expected.c_str());
}

void test_parse_url() {
    /* A host GUri decodes into spaces or CR LF (e.g. from a redirect's
     * Location) would inject into our request line and Host header. */
    for (const char *hostile :
         {"http://evil%0d%0aX-Injected%3a%201/pp", "http://a b/", "http://a%20b/pp"}) {
        auto refused = parse_url(hostile);
        g_assert_false(refused.ok());
        g_assert_true(refused.error().code == wmstream::Errc::InvalidName);
    }
    Url url = *parse_url("http://server/pubpoint");
    g_assert_false(url.tls);
    g_assert_cmpstr(url.host.c_str(), ==, "server");
    g_assert_cmpuint(url.port, ==, 80);
    g_assert_cmpstr(url.path.c_str(), ==, "/pubpoint");
    assert_text(url.authority(), "server");
    assert_text(url.to_string(), "http://server/pubpoint");

    url = *parse_url("HTTPS://Media.example:8443/a%20b?x=1");
    g_assert_true(url.tls);
    g_assert_cmpuint(url.port, ==, 8443);
    g_assert_cmpstr(url.path.c_str(), ==, "/a%20b?x=1");
    assert_text(url.authority(), "Media.example:8443");

    url = *parse_url("http://[::1]:8080");
    g_assert_cmpstr(url.host.c_str(), ==, "::1");
    g_assert_cmpstr(url.path.c_str(), ==, "/");
    assert_text(url.authority(), "[::1]:8080");
    g_assert_cmpuint(parse_url("https://h/x")->port, ==, 443);

    for (const char *bad :
         {"", "server/pub", "ftp://server/pub", "http://", "http:///pub",
          "http://user:pw@server/pub", "http://server:0/pub", "http://server:99999/pub"}) {
        auto result = parse_url(bad);
        g_assert_false(result.ok());
        g_assert_true(result.error().code == Errc::InvalidName);
    }
}

void test_resolve_url() {
    const Url base = *parse_url("http://origin:8080/live/a?x=1");
    assert_text(resolve_url(base, "http://edge:9090/live")->to_string(), "http://edge:9090/live");
    assert_text(resolve_url(base, "/other")->to_string(), "http://origin:8080/other");
    assert_text(resolve_url(base, "b")->to_string(), "http://origin:8080/live/b");
    assert_text(resolve_url(base, "//edge/x")->to_string(), "http://edge/x");
    for (const char *bad : {"mms://edge/live", "http://evil%0d%0a/x", "http://edge:0/"}) {
        auto result = resolve_url(base, bad);
        g_assert_false(result.ok());
        g_assert_true(result.error().code == Errc::InvalidName);
    }
    /* Server text in the message is escaped. */
    auto escaped = resolve_url(base, "ftp://\x1b[2J");
    g_assert_false(escaped.ok());
    g_assert_null(strchr(escaped.error().message.c_str(), '\x1b'));
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/http-url/parse", test_parse_url);
    g_test_add_func("/http-url/resolve", test_resolve_url);
    return g_test_run();
}
