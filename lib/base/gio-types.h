/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GIO types the core's threads use, registered and their classes
 * initialized once, from one thread, before any of those threads exists.
 *
 * GLib 2.74 (Debian 12) can deadlock when two threads initialize GIO types
 * for the first time at once: one holds the class-init lock in
 * g_type_class_ref() (GSocketClient's class_init, on the push client's
 * thread) and waits for g_socket_address_get_type(), whose registration the
 * other (binding wmnetsink's port) holds while g_type_add_interface_static()
 * waits for that lock. Seen as a wmstream-broadcast --push that never got
 * past its first state change (2 runs in 8 under ASan).
 */
#pragma once

namespace wmstream {

/**
 * Registers the GIO types the core uses and initializes their classes, the first time it is
 * called in the process (later calls return at once; thread-safe). Called by every EventLoop's
 * constructor and by the pull client's, so before any core thread runs GIO code.
 */
void ensure_gio_types();

} // namespace wmstream
