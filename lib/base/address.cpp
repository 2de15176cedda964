/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/address.h"

#include <cstring>

namespace wmstream {

GInetAddress *unmap_ipv4(GInetAddress *address) {
    if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6) {
        const guint8 *bytes = g_inet_address_to_bytes(address);
        static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(bytes, mapped, sizeof mapped) == 0)
            return g_inet_address_new_from_bytes(bytes + 12, G_SOCKET_FAMILY_IPV4);
    }
    return G_INET_ADDRESS(g_object_ref(address));
}

std::string address_text(GInetAddress *address) {
    g_autoptr(GInetAddress) plain = unmap_ipv4(address);
    g_autofree char *text = g_inet_address_to_string(plain);
    return text;
}

} // namespace wmstream
