/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/gio-types.h"

#include <gio/gio.h>

#include <mutex>

namespace wmstream {

void ensure_gio_types() {
    static std::once_flag once;
    std::call_once(once, [] {
        /* The classes the core creates objects of; a class_init registers the types of its
         * properties and signals (GSocketClient's: GSocketAddress, GProxyResolver, …). */
        const GType types[] = {
            G_TYPE_CANCELLABLE,          G_TYPE_INET_ADDRESS,      G_TYPE_INET_ADDRESS_MASK,
            G_TYPE_INET_SOCKET_ADDRESS,  G_TYPE_NETWORK_ADDRESS,   G_TYPE_SOCKET,
            G_TYPE_SOCKET_CLIENT,        G_TYPE_SOCKET_CONNECTION, G_TYPE_TCP_CONNECTION,
            G_TYPE_MEMORY_OUTPUT_STREAM,
        };
        for (const GType type : types)
            g_type_class_unref(g_type_class_ref(type));
    });
}

} // namespace wmstream
