/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/backoff.h"

#include <algorithm>

namespace wmstream {

RetryPolicy bounded(RetryPolicy policy, int64_t max_us) {
    policy.initial_delay_us = std::clamp(policy.initial_delay_us, kMinRetryDelayUs, max_us);
    policy.max_delay_us = std::clamp(policy.max_delay_us, policy.initial_delay_us, max_us);
    return policy;
}

std::optional<int64_t> Backoff::next_delay() {
    failures_++;
    if (policy_.retries >= 0 && failures_ > static_cast<unsigned>(policy_.retries))
        return std::nullopt;
    const int64_t cap = std::max(policy_.max_delay_us, policy_.initial_delay_us);
    int64_t delay = std::max<int64_t>(policy_.initial_delay_us, 0);
    /* Double failures_ − 1 times, stopping at the cap (no overflow). */
    for (unsigned i = 1; i < failures_ && delay > 0 && delay < cap; i++)
        delay = delay > cap / 2 ? cap : delay * 2;
    return std::min(delay, cap);
}

} // namespace wmstream
