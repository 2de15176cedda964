/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP URLs of the clients (sans-IO): http:// and https:// URLs parsed with
 * GLib's GUri (RFC 3986), redirect targets resolved against them, and the
 * text forms a request needs (request target, Host header). Used by the push
 * client (push/) and the pull client (pull/).
 */
#pragma once

#include "base/error.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace wmstream::proto::http {

/** An http:// or https:// URL. */
struct Url {
    bool tls = false;   /**< https */
    std::string host;   /**< name or address, IPv6 without brackets */
    uint16_t port = 80; /**< 80 / 443 when the URL has none */
    std::string path;   /**< request target: path and query, at least "/" */

    /** "http://host[:port]/path" (port only when not the default). */
    std::string to_string() const;
    /** The Host header value: host[:port], IPv6 in brackets. */
    std::string authority() const;
    /** "http(s)://host[:port]": the origin (RFC 6454) as text. */
    std::string origin() const;
    /** The same origin: scheme, host (without case) and port. */
    bool same_origin(const Url &other) const;
};

/**
 * Parse an http or https URL: a host (a name of letters, digits, '-', '.',
 * '_', or an address), an optional port (1–65535), a path (empty = "/") and
 * query; no user information.
 * @return Errc::InvalidName, the message quoting @p text, when it is not such a URL.
 */
Result<Url> parse_url(std::string_view text);

/**
 * The URL a redirect's Location header value @p location (absolute or
 * relative, RFC 3986 §5.2) names, from @p base.
 * @return Errc::InvalidName (quoting the location, escaped and bounded) when
 *         it does not resolve to an http or https URL parse_url() accepts.
 */
Result<Url> resolve_url(const Url &base, std::string_view location);

} // namespace wmstream::proto::http
