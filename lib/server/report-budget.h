/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How many refused connections the server reports one by one (client-removed
 * and its bus message): a port scan, or a connect loop from a denied range or
 * with wrong credentials, must not turn into one message per connect. A token
 * bucket, sans-IO: take() is given the time. Internal to lib/server.
 */
#pragma once

#include <cstdint>

namespace wmstream::server {

class ReportBudget {
public:
    /** What to do with one refusal. */
    enum class Verdict {
        Report,       /**< within the budget: report it */
        FirstLeftOut, /**< over it, the first since the budget was last full: say that
                           reports stop (once per flood) */
        LeftOut,      /**< over it: counted in the totals only */
    };

    /** Up to @p burst reports at once, refilled at @p per_second (both > 0). */
    ReportBudget(unsigned burst, unsigned per_second);

    /** One refusal at monotonic time @p now_us (never decreasing). */
    Verdict take(int64_t now_us);

private:
    int64_t cost_us_;   /**< the refill time of one report */
    int64_t max_us_;    /**< a full bucket, burst × cost_us_ */
    int64_t credit_us_; /**< what is in the bucket */
    int64_t last_us_ = 0;
    bool started_ = false;
    bool leaving_out_ = false;
};

} // namespace wmstream::server
