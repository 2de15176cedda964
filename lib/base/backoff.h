/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reconnect policy of the push sink (sans-IO): a retry budget and an
 * exponential backoff with a cap. Each failed attempt doubles the delay
 * before the next one, starting at the initial delay, never beyond the cap;
 * a success resets both the delay and the budget. Naming follows the
 * retry settings of gst-plugins-rs s3sink / souphttpclientsink (retries,
 * retry-delay); see ../shared/reference/gstreamer-peers.md §6.8.
 */
#pragma once

#include <cstdint>
#include <optional>

namespace wmstream {

struct RetryPolicy {
    int retries = 10;                   /**< attempts after the first failure; -1 = no limit */
    int64_t initial_delay_us = 1000000; /**< delay after the first failure, µs */
    int64_t max_delay_us = 30000000;    /**< cap of the delay, µs (≥ initial_delay_us) */
};

/** Shortest retry delay a client uses: a smaller initial_delay_us or max_delay_us is taken as
 *  this, so a dead server is not hammered in a loop. */
constexpr int64_t kMinRetryDelayUs = 100000;

/** @p policy with its delays within kMinRetryDelayUs – @p max_us, and max_delay_us at least
 *  initial_delay_us. */
RetryPolicy bounded(RetryPolicy policy, int64_t max_us);

class Backoff {
public:
    explicit Backoff(RetryPolicy policy = {}) : policy_(policy) {}

    /**
     * Record a failed attempt.
     * @return the delay before the next attempt, µs: initial × 2^(n−1) for
     * the n-th consecutive failure, at most max_delay_us; nullopt when the
     * budget is spent (n > retries, unless retries is −1).
     */
    std::optional<int64_t> next_delay();

    /** An attempt succeeded: the next failure starts over at the initial delay. */
    void reset() { failures_ = 0; }

    /** Consecutive failed attempts since the last reset. */
    unsigned failures() const { return failures_; }

    const RetryPolicy &policy() const { return policy_; }

private:
    RetryPolicy policy_;
    unsigned failures_ = 0;
};

} // namespace wmstream
