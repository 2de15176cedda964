/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/write-coalescing.h"

#include <algorithm>
#include <climits>

namespace wmstream::server {

namespace {

int64_t delay_bound(int64_t max_delay_us, int64_t round_interval_us) {
    return max_delay_us < 0 ? WriteCoalescing::kAutoRounds * round_interval_us : max_delay_us;
}

} // namespace

WriteCoalescing::WriteCoalescing(int64_t max_delay_us, int64_t round_interval_us)
    : lead_us_(
          std::max<int64_t>(delay_bound(max_delay_us, std::max<int64_t>(round_interval_us, 0)) -
                                std::max<int64_t>(round_interval_us, 0),
                            0)) {}

void WriteCoalescing::taken(uint64_t stored, uint64_t kept) {
    stored_ += stored;
    kept_ += kept;
    while (stored_ > kHistoryBytes) {
        stored_ /= 2;
        kept_ /= 2;
    }
}

WriteCoalescing::Decision WriteCoalescing::decide(const Pending &pending, int64_t now_us) const {
    if (lead_us_ <= 0 || pending.urgent)
        return {true, now_us, {}};
    if (pending.bytes == 0)
        return {false, INT64_MAX, pending.recheck};
    if (stored_ == 0)
        return {true, now_us, {}};
    /* Its bytes: pending.bytes × kept_ / stored_, compared without the product. */
    const uint64_t enough = kept_ > 0 ? kMinBytes * stored_ / kept_ : UINT64_MAX;
    const int64_t due = pending.oldest_us + lead_us_;
    if (pending.bytes >= enough || now_us >= due)
        return {true, now_us, {}};
    Recheck recheck = pending.recheck;
    recheck.at_us = std::min(recheck.at_us, due);
    if (enough != UINT64_MAX)
        recheck.at_bytes = std::min(recheck.at_bytes, pending.offset + enough);
    return {false, due, recheck};
}

uint64_t WriteCoalescing::fetch_bytes(uint64_t bytes) const {
    if (stored_ == 0)
        return bytes;
    const uint64_t scaled = kept_ > 0 ? bytes * stored_ / kept_ : kMaxFetchBytes;
    return std::clamp(scaled, bytes, std::max(bytes, kMaxFetchBytes));
}

} // namespace wmstream::server
