/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pace of one client's fast start (sans-IO): a Play that asks for
 * BurstBW/BurstDuration (distribution servers) or AccelBW/AccelDuration
 * (players) gets its join backlog, the packets from the key frame it joins
 * at up to live, at no more than the bandwidth it asked for ([MS-WMSP]
 * §2.2.1.4.1–4, §3.2.5.6: the server MUST NOT exceed it). A token bucket
 * filled at that rate, at most kDepthUs of it banked, spent by whole
 * packets: a fetch may take one packet more than the tokens (a debt the
 * next fetches repay), so over any span T the client gets at most
 * rate × T + kDepthUs of rate + one packet. Once it has caught up with
 * live, the stream's own pace takes over and the pacer is dropped.
 */
#pragma once

#include <cstddef>
#include <cstdint>

namespace wmstream::server {

class FastStartPacer {
public:
    /** How much unused bandwidth is kept for later, µs of the rate. */
    static constexpr int64_t kDepthUs = 100000;

    /** A burst at @p bandwidth_bps (bits per second, > 0) starting at @p now_us
     *  (monotonic µs) with a full bucket. */
    FastStartPacer(uint32_t bandwidth_bps, int64_t now_us);

    /** The bytes that may be fetched at @p now_us; 0 = none until later. */
    size_t allowance(int64_t now_us);
    /** @p bytes were fetched (perhaps past allowance() by one packet). */
    void spend(size_t bytes);

private:
    double bytes_per_us_;
    double tokens_; /**< bytes; negative while a debt is repaid */
    int64_t filled_us_;
};

} // namespace wmstream::server
