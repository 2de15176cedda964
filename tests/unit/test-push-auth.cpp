/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/push-auth: the Digest answer checked against RFC 2617
 * computed here with GChecksum (from the cnonce/nc the header carries),
 * Basic, the choice of Digest over Basic, one try per challenge (a second
 * 401 is a refusal unless the nonce is stale), no credentials, unsupported
 * schemes, and the password never appearing in a header or an error.
 */
#include "push/auth.h"
#include "push/gssapi-auth.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <cstring>
#include <string>

using wmstream::Errc;
using wmstream::push::Authenticator;
using wmstream::push::Credentials;
using wmstream::push::GssContext;

namespace {

constexpr const char *kUrl = "http://127.0.0.1:8080/live?x=1";
constexpr const char *kDigest =
    "Digest realm=\"wm\", nonce=\"abc123\", qop=\"auth\", algorithm=MD5, opaque=\"xyz\"";
const Credentials kCredentials{"encoder", "pa55:w0rd"};

std::string md5(const std::string &text) {
    g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_MD5, text.c_str(), -1);
    return digest;
}

/* Borrowed from @params. */
const char *param(GHashTable *params, const char *name) {
    const char *value = static_cast<const char *>(g_hash_table_lookup(params, name));
    return value ? value : "";
}

/* g_assert_cmpstr() keeps only the pointer: compare owned strings through a copy. */
void assert_text(const std::string &actual, const std::string &expected) {
    g_assert_cmpstr(actual.c_str(), ==, expected.c_str());
}

void test_digest() {
    Authenticator auth;
    g_assert_true(auth.authorization("POST", kUrl).empty());
    g_assert_true(auth.challenge({kDigest}, "POST", kUrl, kCredentials).ok());
    assert_text(auth.scheme(), "Digest");
    const std::string header = auth.authorization("POST", kUrl);
    g_assert_true(g_str_has_prefix(header.c_str(), "Digest "));
    g_assert_true(header.find(kCredentials.password) == std::string::npos);

    GHashTable *params = soup_header_parse_param_list(header.c_str() + 7);
    g_assert_cmpstr(param(params, "username"), ==, "encoder");
    g_assert_cmpstr(param(params, "realm"), ==, "wm");
    g_assert_cmpstr(param(params, "uri"), ==, "/live?x=1");
    g_assert_cmpstr(param(params, "opaque"), ==, "xyz");
    g_assert_cmpstr(param(params, "qop"), ==, "auth");
    const std::string ha1 = md5("encoder:wm:pa55:w0rd");
    const std::string ha2 = md5("POST:/live?x=1");
    const std::string expected = md5(ha1 + ":abc123:" + param(params, "nc") + ":" +
                                     param(params, "cnonce") + ":auth:" + ha2);
    g_assert_cmpstr(param(params, "response"), ==, expected.c_str());
    g_assert_cmpstr(param(params, "nc"), ==, "00000001");
    soup_header_free_param_list(params);

    /* The nonce count goes up with every request. */
    const std::string next = auth.authorization("POST", kUrl);
    g_assert_true(next.find("nc=00000002") != std::string::npos);
}

void test_basic() {
    Authenticator auth;
    g_assert_true(auth.challenge({"Basic realm=\"wm\""}, "POST", kUrl, kCredentials).ok());
    g_autofree char *encoded = g_base64_encode(
        reinterpret_cast<const guchar *>("encoder:pa55:w0rd"), strlen("encoder:pa55:w0rd"));
    assert_text(auth.authorization("POST", kUrl), std::string("Basic ") + encoded);
}

/* Strongest first: Negotiate, NTLM (when gss-ntlmssp is there), Digest, Basic. */
void test_prefers_strongest() {
    Authenticator auth;
    g_assert_true(
        auth.challenge({"Basic realm=\"wm\"", "NTLM", kDigest}, "POST", kUrl, kCredentials).ok());
    assert_text(auth.scheme(), GssContext::ntlm_available() ? "NTLM" : "Digest");
    Authenticator digest;
    g_assert_true(
        digest.challenge({"Basic realm=\"wm\"", kDigest}, "POST", kUrl, kCredentials).ok());
    assert_text(digest.scheme(), "Digest");
    /* A proxy gets Basic or Digest only. */
    Authenticator proxy(Authenticator::Target::Proxy);
    g_assert_true(proxy.challenge({"NTLM", "Basic realm=\"p\""}, "POST", kUrl, kCredentials).ok());
    assert_text(proxy.scheme(), "Basic");
    assert_text(proxy.authorization_header(), "Proxy-Authorization");
    assert_text(proxy.challenge_header(), "Proxy-Authenticate");
}

/* The GSSAPI tests need gss-ntlmssp: skipped without it, a failure under CI. */
bool have_ntlm() {
    if (GssContext::ntlm_available())
        return true;
    if (g_strcmp0(g_getenv("CI"), "true") == 0)
        g_test_fail_printf("gss-ntlmssp is missing (tools/install-deps.sh installs it)");
    else
        g_test_skip("gss-ntlmssp is missing (tools/install-deps.sh installs it)");
    return false;
}

/* NTLM: the first token at once (NTLMSSP NEGOTIATE_MESSAGE), a connection-based scheme; a
 * bare "NTLM" after our token is a refusal; garbage from the server is one too; a new
 * connection starts over; once accepted, no header. */
void test_ntlm() {
    if (!have_ntlm())
        return;
    const Credentials user{"WM\\encoder", "pa55:w0rd"};
    Authenticator auth;
    g_assert_true(auth.challenge({kDigest, "NTLM"}, "POST", kUrl, user).ok());
    assert_text(auth.scheme(), "NTLM");
    g_assert_true(auth.connection_based());
    g_assert_false(auth.mid_handshake());
    const std::string first = auth.authorization("POST", kUrl);
    /* "NTLMSSP\0" + type 1, base64. */
    g_assert_true(g_str_has_prefix(first.c_str(), "NTLM TlRMTVNTUAAB"));
    g_assert_true(first.find(user.password) == std::string::npos);

    const wmstream::Status refused = auth.challenge({"NTLM"}, "POST", kUrl, user);
    g_assert_true(refused.error().code == Errc::AccessDenied);
    g_assert_true(refused.error().message.find("WM\\encoder") != std::string::npos);
    g_assert_true(refused.error().message.find(user.password) == std::string::npos);

    g_assert_true(auth.new_connection(kUrl, user).ok());
    g_assert_true(g_str_has_prefix(auth.authorization("POST", kUrl).c_str(), "NTLM TlRMTVNTUAAB"));
    const wmstream::Status garbage = auth.challenge({"NTLM AAAAAAAA"}, "POST", kUrl, user);
    g_assert_true(garbage.error().code == Errc::AccessDenied);

    g_assert_true(auth.new_connection(kUrl, user).ok());
    auth.accepted();
    g_assert_true(auth.authorization("POST", kUrl).empty());
}

/* Negotiate: SPNEGO's first token, an ASN.1 [APPLICATION 0] (0x60) InitialContextToken
 * [RFC 4178 §4.2; RFC 2743 §3.1]. */
void test_negotiate() {
    if (!have_ntlm())
        return;
    Authenticator auth;
    g_assert_true(auth.challenge({"NTLM", "Negotiate", kDigest}, "POST", kUrl, kCredentials).ok());
    assert_text(auth.scheme(), "Negotiate");
    const std::string header = auth.authorization("POST", kUrl);
    g_assert_true(g_str_has_prefix(header.c_str(), "Negotiate "));
    gsize len = 0;
    g_autofree guchar *token = g_base64_decode(header.c_str() + strlen("Negotiate "), &len);
    g_assert_cmpuint(len, >, 2);
    g_assert_cmpuint(token[0], ==, 0x60);
}

/* Credentials are tried once: a second plain 401 is a refusal. */
void test_refused_once() {
    Authenticator auth;
    g_assert_true(auth.challenge({kDigest}, "POST", kUrl, kCredentials).ok());
    const wmstream::Status again = auth.challenge({kDigest}, "POST", kUrl, kCredentials);
    g_assert_false(again.ok());
    g_assert_true(again.error().code == Errc::AccessDenied);
    g_assert_true(again.error().message.find("encoder") != std::string::npos);
    g_assert_true(again.error().message.find(kCredentials.password) == std::string::npos);
}

/* stale=true: only the nonce expired; answered again with the new nonce. */
void test_stale_nonce() {
    Authenticator auth;
    g_assert_true(auth.challenge({kDigest}, "POST", kUrl, kCredentials).ok());
    const std::string stale = "Digest realm=\"wm\", nonce=\"fresh9\", qop=\"auth\", stale=true";
    g_assert_true(auth.challenge({stale}, "POST", kUrl, kCredentials).ok());
    g_assert_true(auth.authorization("POST", kUrl).find("nonce=\"fresh9\"") != std::string::npos);
}

void test_refusals() {
    Authenticator none;
    const wmstream::Status no_user = none.challenge({kDigest}, "POST", kUrl, Credentials{});
    g_assert_true(no_user.error().code == Errc::AccessDenied);
    Authenticator other;
    const wmstream::Status unsupported =
        other.challenge({"Kerberos", "Bearer realm=\"x\""}, "POST", kUrl, kCredentials);
    g_assert_true(unsupported.error().code == Errc::AccessDenied);
    g_assert_true(unsupported.error().message.find("Kerberos, Bearer") != std::string::npos);
    Authenticator empty;
    g_assert_true(empty.challenge({}, "POST", kUrl, kCredentials).error().code ==
                  Errc::AccessDenied);
    g_assert_true(empty.authorization("POST", kUrl).empty());
}

void test_reset() {
    Authenticator auth;
    g_assert_true(auth.challenge({kDigest}, "POST", kUrl, kCredentials).ok());
    auth.reset();
    g_assert_true(auth.authorization("POST", kUrl).empty());
    g_assert_true(auth.challenge({kDigest}, "POST", kUrl, kCredentials).ok());
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/push-auth/digest", test_digest);
    g_test_add_func("/push-auth/basic", test_basic);
    g_test_add_func("/push-auth/prefers-strongest", test_prefers_strongest);
    g_test_add_func("/push-auth/ntlm", test_ntlm);
    g_test_add_func("/push-auth/negotiate", test_negotiate);
    g_test_add_func("/push-auth/refused-once", test_refused_once);
    g_test_add_func("/push-auth/stale-nonce", test_stale_nonce);
    g_test_add_func("/push-auth/refusals", test_refusals);
    g_test_add_func("/push-auth/reset", test_reset);
    return g_test_run();
}
