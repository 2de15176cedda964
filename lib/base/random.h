/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Secret random bytes from the kernel's CSPRNG (getrandom(2)), for keys a
 * peer must not predict. GLib's g_random_* is a Mersenne Twister whose
 * state can be rebuilt from its outputs, which peers see (client ids).
 */
#pragma once

#include "base/error.h"

#include <cstddef>

namespace wmstream {

/** Fill @p out with @p len bytes from getrandom(2); Errc::Failed when the kernel cannot. */
[[nodiscard]] Status random_bytes(void *out, size_t len);

} // namespace wmstream
