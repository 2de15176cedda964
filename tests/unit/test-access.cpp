/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of address filtering and viewer authentication (lib/server/access.h). */
#include "server/access.h"

#include <gio/gio.h>

#include <cstring>
#include <string>

using namespace wmstream;
using namespace wmstream::server::access;

namespace {

bool allows(const AddressFilter &filter, const char *address) {
    g_autoptr(GInetAddress) a = g_inet_address_new_from_string(address);
    g_assert_nonnull(a);
    return filter.allows(a);
}

void test_address_filter() {
    auto everyone = AddressFilter::parse({}, {});
    g_assert_true(everyone.ok());
    g_assert_true(everyone->empty());
    g_assert_true(allows(*everyone, "203.0.113.7"));

    auto filter =
        AddressFilter::parse({"10.0.0.0/8", "2001:db8::/32", "127.0.0.1"}, {"10.1.0.0/16"});
    g_assert_true(filter.ok());
    g_assert_true(allows(*filter, "10.2.3.4"));
    g_assert_false(allows(*filter, "10.1.2.3")); /* deny wins */
    g_assert_true(allows(*filter, "2001:db8::1"));
    g_assert_false(allows(*filter, "2001:db9::1"));
    g_assert_true(allows(*filter, "127.0.0.1"));
    g_assert_false(allows(*filter, "127.0.0.2"));
    /* A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6. */
    g_assert_true(allows(*filter, "::ffff:10.2.3.4"));
    g_assert_false(allows(*filter, "::ffff:10.1.2.3"));

    /* Ranges written IPv4-mapped, as ss(8) shows dual-stack peers, match those peers. */
    auto mapped =
        AddressFilter::parse({"::ffff:10.0.0.0/104", "::ffff:127.0.0.1"}, {"::ffff:10.1.0.0/112"});
    g_assert_true(mapped.ok());
    g_assert_true(allows(*mapped, "10.2.3.4"));
    g_assert_true(allows(*mapped, "::ffff:10.2.3.4"));
    g_assert_false(allows(*mapped, "10.1.2.3"));
    g_assert_false(allows(*mapped, "::ffff:10.1.2.3"));
    g_assert_true(allows(*mapped, "127.0.0.1"));
    g_assert_false(allows(*mapped, "11.0.0.1"));
    g_assert_false(allows(*mapped, "2001:db8::1"));

    auto deny_only = AddressFilter::parse({}, {"192.0.2.0/24"});
    g_assert_true(allows(*deny_only, "198.51.100.1"));
    g_assert_false(allows(*deny_only, "192.0.2.200"));

    for (const char *bad : {"10.0.0.0/33", "not-an-address", "10.0.0.0/", "", "::/129",
                            "0.0.0.0/4294967296", "0.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8",
                            "::ffff:10.0.0.0/95", "::ffff:10.0.0.1/120"}) {
        auto result = AddressFilter::parse({bad}, {});
        g_assert_false(result.ok());
        g_assert_true(result.error().code == Errc::InvalidArgument);
    }
}

std::string md5(const std::string &text) {
    g_autofree char *hex = g_compute_checksum_for_string(G_CHECKSUM_MD5, text.c_str(), -1);
    return hex;
}

/* The nonce value of a Digest challenge. */
std::string nonce_of(const std::string &challenge) {
    const size_t at = challenge.find("nonce=\"") + 7;
    return challenge.substr(at, challenge.find('"', at) - at);
}

/* An RFC 2617 / 7616 qop=auth answer with nonce count @nc, computed as a client would;
 * with an empty @nc, an RFC 2069 answer without qop. */
std::string digest_answer(const std::string &user, const std::string &password,
                          const std::string &realm, const std::string &nonce,
                          const std::string &method, const std::string &uri,
                          const std::string &nc = "00000001") {
    const std::string ha1 = md5(user + ":" + realm + ":" + password);
    const std::string ha2 = md5(method + ":" + uri);
    const std::string common = "Digest username=\"" + user + "\", realm=\"" + realm +
                               "\", nonce=\"" + nonce + "\", uri=\"" + uri + "\", ";
    if (nc.empty())
        return common + "response=\"" + md5(ha1 + ":" + nonce + ":" + ha2) + "\"";
    const std::string response = md5(ha1 + ":" + nonce + ":" + nc + ":0a4f113b:auth:" + ha2);
    return common + "qop=auth, nc=" + nc + ", cnonce=\"0a4f113b\", response=\"" + response +
           "\", algorithm=MD5";
}

void test_basic() {
    Authenticator auth("wmstream", "viewer", "s3cret: with colon", "key");
    const int64_t now = 1000;
    g_assert_true(auth.check("GET", "/", nullptr, now) == Verdict::Missing);
    g_autofree char *good_b64 =
        g_base64_encode(reinterpret_cast<const guchar *>("viewer:s3cret: with colon"), 25);
    const std::string good = std::string("Basic ") + good_b64;
    std::string user;
    g_assert_true(auth.check("GET", "/", &good, now, &user) == Verdict::Ok);
    g_assert_cmpstr(user.c_str(), ==, "viewer");
    g_autofree char *wrong_b64 =
        g_base64_encode(reinterpret_cast<const guchar *>("viewer:guess"), 12);
    const std::string wrong = std::string("Basic ") + wrong_b64;
    g_assert_true(auth.check("GET", "/", &wrong, now) == Verdict::Bad);
    const std::string garbage = "Basic %%%";
    g_assert_true(auth.check("GET", "/", &garbage, now) == Verdict::Bad);
    const std::string ntlm = "NTLM TlRMTVNTUAABAAAA";
    g_assert_true(auth.check("GET", "/", &ntlm, now) == Verdict::Missing);
}

void test_digest() {
    Authenticator auth("wmstream", "viewer", "pw", "signing key");
    const int64_t now = 5 * G_USEC_PER_SEC;
    const auto challenges = auth.challenges(now, false);
    g_assert_cmpuint(challenges.size(), ==, 2);
    g_assert_true(g_str_has_prefix(challenges[0].c_str(), "Digest realm=\"wmstream\""));
    g_assert_nonnull(std::strstr(challenges[0].c_str(), "qop=\"auth\""));
    g_assert_true(g_str_has_prefix(challenges[1].c_str(), "Basic realm=\"wmstream\""));
    const std::string nonce = nonce_of(challenges[0]);

    std::string user;
    const std::string good = digest_answer("viewer", "pw", "wmstream", nonce, "GET", "/live");
    g_assert_true(auth.check("GET", "/live", &good, now + 1000, &user) == Verdict::Ok);
    g_assert_cmpstr(user.c_str(), ==, "viewer");
    /* Wrong password, user, path, method, realm. */
    const std::string bad_pw = digest_answer("viewer", "px", "wmstream", nonce, "GET", "/live");
    g_assert_true(auth.check("GET", "/live", &bad_pw, now, nullptr) == Verdict::Bad);
    const std::string bad_user = digest_answer("eve", "pw", "wmstream", nonce, "GET", "/live");
    g_assert_true(auth.check("GET", "/live", &bad_user, now, nullptr) == Verdict::Bad);
    g_assert_true(auth.check("GET", "/other", &good, now, nullptr) == Verdict::Bad);
    g_assert_true(auth.check("POST", "/live", &good, now, nullptr) == Verdict::Bad);
    const std::string bad_realm = digest_answer("viewer", "pw", "other", nonce, "GET", "/live");
    g_assert_true(auth.check("GET", "/live", &bad_realm, now, nullptr) == Verdict::Bad);
    /* A nonce we did not sign. */
    std::string forged_nonce = nonce;
    forged_nonce[20] = forged_nonce[20] == 'a' ? 'b' : 'a';
    const std::string forged =
        digest_answer("viewer", "pw", "wmstream", forged_nonce, "GET", "/live");
    g_assert_true(auth.check("GET", "/live", &forged, now, nullptr) == Verdict::Bad);
    /* An expired one: stale, so the client retries without asking the user. */
    g_assert_true(auth.check("GET", "/live", &good, now + Authenticator::kNonceLifetimeUs + 1,
                             nullptr) == Verdict::Stale);
    g_assert_nonnull(std::strstr(auth.challenges(now, true)[0].c_str(), "stale=true"));
}

/* A correct answer replayed, or with a nonce count used before, is stale (RFC 7616 §5.5). */
void test_digest_replay() {
    Authenticator auth("wmstream", "viewer", "pw", "signing key");
    const int64_t now = 5 * G_USEC_PER_SEC;
    const std::string nonce = nonce_of(auth.challenges(now, false)[0]);
    auto answer = [&](const std::string &nc) {
        return digest_answer("viewer", "pw", "wmstream", nonce, "GET", "/live", nc);
    };
    auto verdict = [&](const std::string &authorization, int64_t at) {
        return auth.check("GET", "/live", &authorization, at, nullptr);
    };
    g_assert_true(verdict(answer("00000001"), now) == Verdict::Ok);
    g_assert_true(verdict(answer("00000001"), now + 1) == Verdict::Stale);
    g_assert_true(verdict(answer("00000003"), now + 2) == Verdict::Ok);
    g_assert_true(verdict(answer("00000002"), now + 3) == Verdict::Stale);
    g_assert_true(verdict(answer("00000003"), now + 4) == Verdict::Stale);
    g_assert_true(verdict(answer("0000000a"), now + 5) == Verdict::Ok);
    /* Not 8 hex digits: refused, whatever the digest. */
    for (const char *nc : {"1", "0000000g", "00000000", "100000000"})
        g_assert_true(verdict(answer(nc), now + 6) == Verdict::Bad);
    /* Another nonce counts on its own. */
    const int64_t later = now + G_USEC_PER_SEC;
    const std::string other = nonce_of(auth.challenges(later, false)[0]);
    const std::string first =
        digest_answer("viewer", "pw", "wmstream", other, "GET", "/live", "00000001");
    g_assert_true(verdict(first, later) == Verdict::Ok);
    /* Without qop (RFC 2069) there is no count: one use per nonce. */
    const int64_t legacy_at = now + 2 * G_USEC_PER_SEC;
    const std::string legacy_nonce = nonce_of(auth.challenges(legacy_at, false)[0]);
    const std::string legacy =
        digest_answer("viewer", "pw", "wmstream", legacy_nonce, "GET", "/live", "");
    g_assert_true(verdict(legacy, legacy_at) == Verdict::Ok);
    g_assert_true(verdict(legacy, legacy_at + 1) == Verdict::Stale);
    /* Long after every nonce expired (and was forgotten), a fresh one is accepted. */
    const int64_t much_later = now + 3 * Authenticator::kNonceLifetimeUs;
    const std::string fresh = nonce_of(auth.challenges(much_later, false)[0]);
    const std::string fresh_answer =
        digest_answer("viewer", "pw", "wmstream", fresh, "GET", "/live", "00000001");
    g_assert_true(verdict(fresh_answer, much_later) == Verdict::Ok);
    g_assert_true(verdict(answer("0000000b"), much_later) == Verdict::Stale);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/access/address-filter", test_address_filter);
    g_test_add_func("/access/basic", test_basic);
    g_test_add_func("/access/digest", test_digest);
    g_test_add_func("/access/digest-replay", test_digest_replay);
    return g_test_run();
}
