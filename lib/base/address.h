/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Peer addresses as users see them: a dual-stack listener sees IPv4 peers as
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, RFC 4291 §2.5.5.2); we show and
 * match them as IPv4. */
#pragma once

#include <gio/gio.h>

#include <string>

namespace wmstream {

/** @p address, or its IPv4 form when it is IPv4-mapped (a new reference either way). */
GInetAddress *unmap_ipv4(GInetAddress *address);

/** Text of @p address in its unmapped form, e.g. "127.0.0.1" or "2001:db8::1". */
std::string address_text(GInetAddress *address);

} // namespace wmstream
