/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/base/gio-types: in a fresh process, the GIO classes the
 * core's threads use are not initialized until an EventLoop (or a pull
 * client) is made, and are all initialized once one is, before its thread
 * starts (GLib 2.74's type-initialization deadlock, base/gio-types.h).
 * One process per run: a class once initialized stays so.
 */
#include "base/event-loop.h"
#include "base/gio-types.h"

#include <gio/gio.h>

namespace {

/* The classes whose first initialization raced in wmstream-broadcast --push. */
GType raced_types[] = {G_TYPE_SOCKET_CLIENT, G_TYPE_SOCKET, G_TYPE_SOCKET_ADDRESS,
                       G_TYPE_INET_SOCKET_ADDRESS, G_TYPE_INET_ADDRESS};

void test_event_loop_initializes_classes() {
    g_assert_null(g_type_class_peek(G_TYPE_SOCKET_CLIENT));
    { wmstream::EventLoop loop; /* never started: the constructor is what counts */ }
    for (const GType type : raced_types)
        g_assert_nonnull(g_type_class_peek(type));
    wmstream::ensure_gio_types(); /* again: returns at once */
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/gio-types/event-loop-initializes-classes",
                    test_event_loop_initializes_classes);
    return g_test_run();
}
