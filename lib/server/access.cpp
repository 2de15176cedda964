/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/access.h"

#include "base/address.h"
#include "proto/http-request.h"

#include <libsoup/soup.h>

#include <cstring>

namespace wmstream::server::access {

namespace {

/** Equality that takes the same time whatever the bytes (credentials). */
bool same(const std::string &a, const std::string &b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string md5(const std::string &text) {
    g_autofree char *hex =
        g_compute_checksum_for_string(G_CHECKSUM_MD5, text.data(), gssize(text.size()));
    return hex;
}

std::string hmac(const std::string &key, const std::string &text) {
    g_autofree char *hex = g_compute_hmac_for_data(
        G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(key.data()), key.size(),
        reinterpret_cast<const guchar *>(text.data()), text.size());
    return hex;
}

/** Value of parameter @p name in a parsed parameter list, or "". */
std::string param(GHashTable *params, const char *name) {
    const auto *value = static_cast<const char *>(g_hash_table_lookup(params, name));
    return value ? value : "";
}

/** The scheme token of an Authorization value and what follows it. */
bool split_scheme(const std::string &value, const char *scheme, std::string *rest) {
    const size_t len = std::strlen(scheme);
    if (value.size() <= len || !proto::http::equals_ignore_case(value.substr(0, len), scheme) ||
        value[len] != ' ')
        return false;
    const size_t start = value.find_first_not_of(' ', len);
    *rest = start == std::string::npos ? std::string() : value.substr(start);
    return true;
}

} // namespace

/* "address" or "address/prefix" with the prefix in range for the family.
 * GLib parses the prefix with strtoul and clamps or warns on bad values, so
 * it is checked here first. */
static bool valid_range(const std::string &range) {
    const size_t slash = range.find('/');
    g_autoptr(GInetAddress) address =
        g_inet_address_new_from_string(range.substr(0, slash).c_str());
    if (!address)
        return false;
    if (slash == std::string::npos)
        return true;
    const std::string prefix = range.substr(slash + 1);
    if (prefix.empty() || prefix.size() > 3 ||
        prefix.find_first_not_of("0123456789") != std::string::npos)
        return false;
    const unsigned bits = g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4 ? 32 : 128;
    return std::stoul(prefix) <= bits;
}

/* A range written IPv4-mapped (::ffff:a.b.c.d/n, as ss(8) shows the peers of a dual-stack
 * socket) as the IPv4 range a.b.c.d/(n − 96) it means: peers are unmapped before they are
 * matched, so the mapped form would match nobody. Null when @p mask is not mapped. GLib
 * refused host bits, so a mapped range has 96 bits or more (bits 80–95 are set). */
static GInetAddressMask *ipv4_form(GInetAddressMask *mask) {
    GInetAddress *address = g_inet_address_mask_get_address(mask);
    g_autoptr(GInetAddress) plain = unmap_ipv4(address);
    if (plain == address)
        return nullptr;
    return g_inet_address_mask_new(plain, g_inet_address_mask_get_length(mask) - 96, nullptr);
}

Result<AddressFilter> AddressFilter::parse(const std::vector<std::string> &allow,
                                           const std::vector<std::string> &deny) {
    AddressFilter filter;
    for (const auto *list : {&allow, &deny}) {
        for (const std::string &range : *list) {
            if (!valid_range(range))
                return make_error(Errc::InvalidArgument,
                                  "'" + range + "' is not an address or address/prefix range");
            g_autoptr(GError) error = nullptr;
            GInetAddressMask *mask = g_inet_address_mask_new_from_string(range.c_str(), &error);
            if (GInetAddressMask *plain = mask ? ipv4_form(mask) : nullptr) {
                g_object_unref(mask);
                mask = plain;
            }
            if (!mask)
                return make_error(Errc::InvalidArgument,
                                  "'" + range + "' is not an address range: " + error->message);
            Mask owned(mask, g_object_unref);
            (list == &allow ? filter.allow_ : filter.deny_).push_back(std::move(owned));
        }
    }
    return filter;
}

bool AddressFilter::allows(GInetAddress *address) const {
    g_autoptr(GInetAddress) subject = unmap_ipv4(address);
    for (const Mask &mask : deny_)
        if (g_inet_address_mask_matches(mask.get(), subject))
            return false;
    if (allow_.empty())
        return true;
    for (const Mask &mask : allow_)
        if (g_inet_address_mask_matches(mask.get(), subject))
            return true;
    return false;
}

Authenticator::Authenticator(std::string realm, std::string user, std::string password,
                             std::string secret)
    : realm_(std::move(realm)), user_(std::move(user)), password_(std::move(password)),
      secret_(std::move(secret)) {}

std::string Authenticator::nonce(int64_t now_us) const {
    char stamp[17];
    g_snprintf(stamp, sizeof stamp, "%016" G_GINT64_MODIFIER "x", now_us);
    return std::string(stamp) + hmac(secret_, stamp).substr(0, 32);
}

/* The monotonic time a nonce of ours was issued at (its first 16 hex digits). */
int64_t Authenticator::issued_at(const std::string &nonce) {
    return int64_t(g_ascii_strtoull(nonce.substr(0, 16).c_str(), nullptr, 16));
}

bool Authenticator::nonce_valid(const std::string &nonce, int64_t now_us, bool *stale) const {
    *stale = false;
    if (nonce.size() != 48)
        return false;
    const std::string stamp = nonce.substr(0, 16);
    if (!same(nonce.substr(16), hmac(secret_, stamp).substr(0, 32)))
        return false;
    const int64_t issued = issued_at(nonce);
    if (now_us - issued > kNonceLifetimeUs || issued > now_us) {
        *stale = true;
        return false;
    }
    return true;
}

std::vector<std::string> Authenticator::challenges(int64_t now_us, bool stale) const {
    std::string digest = "Digest realm=\"" + realm_ + "\", nonce=\"" + nonce(now_us) +
                         "\", qop=\"auth\", algorithm=MD5";
    if (stale)
        digest += ", stale=true";
    return {digest, "Basic realm=\"" + realm_ + "\""};
}

Verdict Authenticator::check_basic(const std::string &credentials, std::string *user_out) const {
    gsize len = 0;
    g_autofree guchar *decoded = g_base64_decode(credentials.c_str(), &len);
    const std::string pair(reinterpret_cast<const char *>(decoded), len);
    const size_t colon = pair.find(':');
    if (colon == std::string::npos)
        return Verdict::Bad;
    const std::string user = pair.substr(0, colon);
    /* Both compared whatever the first gives: no early exit to time. */
    const bool ok = (int(same(user, user_)) & int(same(pair.substr(colon + 1), password_))) != 0;
    if (ok && user_out)
        *user_out = user;
    return ok ? Verdict::Ok : Verdict::Bad;
}

Verdict Authenticator::check_digest(const std::string &method, const std::string &uri,
                                    const std::string &params, int64_t now_us,
                                    std::string *user_out) const {
    GHashTable *table = soup_header_parse_param_list(params.c_str());
    std::unique_ptr<GHashTable, decltype(&soup_header_free_param_list)> owned(
        table, soup_header_free_param_list);
    const std::string user = param(table, "username");
    const std::string nonce = param(table, "nonce");
    const std::string digest_uri = param(table, "uri");
    const std::string response = param(table, "response");
    const std::string qop = param(table, "qop");
    const std::string algorithm = param(table, "algorithm");
    if (param(table, "realm") != realm_ || digest_uri != uri ||
        (!algorithm.empty() && !proto::http::equals_ignore_case(algorithm, "MD5")))
        return Verdict::Bad;
    bool stale = false;
    if (!nonce_valid(nonce, now_us, &stale))
        return stale ? Verdict::Stale : Verdict::Bad;
    const std::string ha1 = md5(user_ + ":" + realm_ + ":" + password_);
    const std::string ha2 = md5(method + ":" + digest_uri);
    std::string expected;
    uint64_t nc = 0;
    if (qop.empty()) {
        expected = md5(ha1 + ":" + nonce + ":" + ha2);
    } else if (qop == "auth") {
        const std::string count = param(table, "nc");
        if (count.size() != 8 ||
            !g_ascii_string_to_unsigned(count.c_str(), 16, 1, G_MAXUINT32, &nc, nullptr))
            return Verdict::Bad;
        expected =
            md5(ha1 + ":" + nonce + ":" + count + ":" + param(table, "cnonce") + ":auth:" + ha2);
    } else {
        return Verdict::Bad;
    }
    const bool ok = (int(same(user, user_)) & int(same(response, expected))) != 0;
    if (!ok)
        return Verdict::Bad;
    if (!first_use(nonce, nc, now_us))
        return Verdict::Stale;
    if (user_out)
        *user_out = user;
    return Verdict::Ok;
}

bool Authenticator::first_use(const std::string &nonce, uint64_t nc, int64_t now_us) const {
    std::lock_guard<std::mutex> locker(lock_);
    if (now_us >= next_prune_us_) {
        /* nonce_valid() refuses expired nonces before this is reached: forget them. */
        for (auto it = used_.begin(); it != used_.end();)
            it = now_us - it->second.issued_us > kNonceLifetimeUs ? used_.erase(it) : std::next(it);
        next_prune_us_ = now_us + kNonceLifetimeUs / 10;
    }
    auto [entry, inserted] = used_.emplace(nonce, NonceUse{issued_at(nonce), nc});
    if (inserted)
        return true;
    if (nc <= entry->second.nc)
        return false;
    entry->second.nc = nc;
    return true;
}

Verdict Authenticator::check(const std::string &method, const std::string &uri,
                             const std::string *authorization, int64_t now_us,
                             std::string *user_out) const {
    if (!authorization)
        return Verdict::Missing;
    std::string rest;
    if (split_scheme(*authorization, "Basic", &rest))
        return check_basic(rest, user_out);
    if (split_scheme(*authorization, "Digest", &rest))
        return check_digest(method, uri, rest, now_us, user_out);
    return Verdict::Missing; /* a scheme we do not offer (NTLM, Negotiate): challenge */
}

} // namespace wmstream::server::access
