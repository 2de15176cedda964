/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Giving free heap memory back to the system (lib/base).
 */
#pragma once

namespace wmstream {

/**
 * Returns the free pages of every malloc arena to the system (glibc's
 * malloc_trim(3) with pad 0); does nothing with another C library. Threads
 * that malloc get arenas of their own (up to 8 per core), and an arena whose
 * freed memory lies below a live allocation keeps it in the process's RSS for
 * good: after a burst of TLS connections on GIO's pool threads, ~200 MB that
 * nothing uses. Thread-safe; takes each arena's lock in turn (milliseconds for
 * hundreds of MB), so call it when the work that grew the heap has ended.
 */
void release_free_heap();

} // namespace wmstream
