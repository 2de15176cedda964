/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/memory.h"

#include <cstddef> /* defines __GLIBC__ with the C library's other macros */
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace wmstream {

void release_free_heap() {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

} // namespace wmstream
