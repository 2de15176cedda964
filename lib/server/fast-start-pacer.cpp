/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/fast-start-pacer.h"

#include <algorithm>

namespace wmstream::server {

FastStartPacer::FastStartPacer(uint32_t bandwidth_bps, int64_t now_us)
    : bytes_per_us_(double(bandwidth_bps) / 8e6), tokens_(bytes_per_us_ * double(kDepthUs)),
      filled_us_(now_us) {}

size_t FastStartPacer::allowance(int64_t now_us) {
    if (now_us > filled_us_) {
        tokens_ = std::min(tokens_ + bytes_per_us_ * double(now_us - filled_us_),
                           bytes_per_us_ * double(kDepthUs));
        filled_us_ = now_us;
    }
    return tokens_ >= 1.0 ? size_t(tokens_) : 0;
}

void FastStartPacer::spend(size_t bytes) {
    tokens_ -= double(bytes);
}

} // namespace wmstream::server
