/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP URLs through GUri (g_uri_parse, g_uri_parse_relative).
 */
#include "proto/http-url.h"

#include "base/text.h"
#include "proto/http-response.h"

#include <glib.h>

namespace wmstream::proto::http {

namespace {

constexpr GUriFlags kUriFlags = static_cast<GUriFlags>(
    G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_SCHEME_NORMALIZE);

Result<Url> url_from(GUri *uri, std::string_view text) {
    const auto invalid = [&](const char *why) {
        return make_error(Errc::InvalidName,
                          "'" + std::string(text) + "' is not an HTTP URL: " + why);
    };
    const char *scheme = g_uri_get_scheme(uri);
    Url url;
    if (g_ascii_strcasecmp(scheme, "https") == 0)
        url.tls = true;
    else if (g_ascii_strcasecmp(scheme, "http") != 0)
        return invalid("the scheme must be http or https");
    const char *host = g_uri_get_host(uri);
    if (!host || !*host)
        return invalid("no host");
    /* GUri decodes %xx in the host: a redirect's Location could otherwise put
     * spaces or CR LF into our next request line and Host header. */
    if (!g_hostname_is_ip_address(host)) {
        for (const char *c = host; *c; ++c)
            if (!g_ascii_isalnum(*c) && *c != '-' && *c != '.' && *c != '_')
                return invalid("the host name has characters a host name cannot have");
    }
    if (g_uri_get_userinfo(uri))
        return invalid("user information in the URL (credentials are properties, never in URLs)");
    url.host = host;
    const gint port = g_uri_get_port(uri);
    if (port == 0)
        return invalid("port 0");
    url.port = port > 0 ? static_cast<uint16_t>(port) : (url.tls ? 443 : 80);
    const char *path = g_uri_get_path(uri);
    url.path = path && *path ? path : "/";
    if (const char *query = g_uri_get_query(uri))
        url.path += std::string("?") + query;
    return url;
}

} // namespace

std::string Url::authority() const {
    std::string text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (tls ? 443 : 80))
        text += ":" + std::to_string(port);
    return text;
}

std::string Url::origin() const {
    return std::string(tls ? "https://" : "http://") + authority();
}

std::string Url::to_string() const {
    return origin() + path;
}

bool Url::same_origin(const Url &other) const {
    return tls == other.tls && port == other.port &&
           g_ascii_strcasecmp(host.c_str(), other.host.c_str()) == 0;
}

Result<Url> parse_url(std::string_view text) {
    const std::string copy(text);
    g_autoptr(GError) error = nullptr;
    g_autoptr(GUri) uri = g_uri_parse(copy.c_str(), kUriFlags, &error);
    if (!uri)
        return make_error(Errc::InvalidName, "'" + copy + "' is not an HTTP URL: " +
                                                 (error ? error->message : "unparsable"));
    return url_from(uri, text);
}

Result<Url> resolve_url(const Url &base, std::string_view location) {
    const std::string quoted = printable(location, kMaxQuotedText);
    g_autoptr(GUri) from = g_uri_parse(base.to_string().c_str(), kUriFlags, nullptr);
    g_autoptr(GError) error = nullptr;
    g_autoptr(GUri) target =
        from ? g_uri_parse_relative(from, std::string(location).c_str(), kUriFlags, &error)
             : nullptr;
    if (!target)
        return make_error(Errc::InvalidName, "unusable redirect to '" + quoted + "'");
    return url_from(target, quoted);
}

} // namespace wmstream::proto::http
