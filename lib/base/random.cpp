/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace wmstream {

Status random_bytes(void *out, size_t len) {
    auto *bytes = static_cast<uint8_t *>(out);
    size_t filled = 0;
    while (filled < len) {
        /* Blocks only until the kernel's pool is first initialised, early at boot. */
        const ssize_t n = getrandom(bytes + filled, len - filled, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return make_error(Errc::Failed, std::string("getrandom: ") + std::strerror(errno));
        filled += size_t(n);
    }
    return {};
}

} // namespace wmstream
