/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the budget of refusal reports (lib/server/report-budget.h). */
#include "server/report-budget.h"

#include <glib.h>

using wmstream::server::ReportBudget;
using Verdict = ReportBudget::Verdict;

namespace {

/* A burst is reported, the next are left out (the first of them says so, once per flood),
 * and the budget comes back at its rate. */
void test_burst_then_rate() {
    ReportBudget budget(3, 10); /* one report per 100 ms */
    const int64_t t0 = 5000000;
    for (int i = 0; i < 3; ++i)
        g_assert_true(budget.take(t0) == Verdict::Report);
    g_assert_true(budget.take(t0) == Verdict::FirstLeftOut);
    for (int i = 0; i < 100; ++i)
        g_assert_true(budget.take(t0 + 1000 * i) == Verdict::LeftOut);
    g_assert_true(budget.take(t0 + 100000) == Verdict::Report);
    g_assert_true(budget.take(t0 + 100000) == Verdict::LeftOut);
    /* A long quiet time refills the burst, not more, and the next flood is a new one. */
    const int64_t t1 = t0 + int64_t(3600) * G_USEC_PER_SEC;
    for (int i = 0; i < 3; ++i)
        g_assert_true(budget.take(t1) == Verdict::Report);
    g_assert_true(budget.take(t1) == Verdict::FirstLeftOut);
}

/* Steady refusals at 50/s against 10/s: about one in five is reported, for ever, and the
 * flood is warned about once. */
void test_steady_flood() {
    ReportBudget budget(10, 10);
    unsigned reported = 0;
    unsigned warnings = 0;
    for (int i = 0; i < 5000; ++i) { /* 100 s */
        const Verdict verdict = budget.take(int64_t(i) * 20000);
        reported += verdict == Verdict::Report;
        warnings += verdict == Verdict::FirstLeftOut;
    }
    g_assert_cmpuint(reported, >=, 1000);
    g_assert_cmpuint(reported, <=, 1011);
    g_assert_cmpuint(warnings, ==, 1);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/report-budget/burst-then-rate", test_burst_then_rate);
    g_test_add_func("/report-budget/steady-flood", test_steady_flood);
    return g_test_run();
}
