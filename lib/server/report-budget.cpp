/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/report-budget.h"

#include <algorithm>

namespace wmstream::server {

ReportBudget::ReportBudget(unsigned burst, unsigned per_second)
    : cost_us_(1000000 / int64_t(per_second)), max_us_(int64_t(burst) * cost_us_),
      credit_us_(max_us_) {}

ReportBudget::Verdict ReportBudget::take(int64_t now_us) {
    if (started_)
        credit_us_ = std::min(max_us_, credit_us_ + std::max<int64_t>(0, now_us - last_us_));
    started_ = true;
    last_us_ = now_us;
    if (credit_us_ == max_us_)
        leaving_out_ = false; /* quiet long enough: a new flood is warned about again */
    if (credit_us_ >= cost_us_) {
        credit_us_ -= cost_us_;
        return Verdict::Report;
    }
    if (leaving_out_)
        return Verdict::LeftOut;
    leaving_out_ = true;
    return Verdict::FirstLeftOut;
}

} // namespace wmstream::server
