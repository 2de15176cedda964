/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/admission: viewers against max_clients and relays against
 * max_relays, each limit apart from the other.
 */
#include "server/admission.h"

#include <glib.h>

using wmstream::server::Admission;
using wmstream::server::ServerConfig;
using wmstream::server::Verdict;

namespace {

Admission with(int max_clients, int max_relays) {
    ServerConfig config;
    config.max_clients = max_clients;
    config.max_relays = max_relays;
    return Admission(config);
}

void test_apart() {
    const Admission admission = with(1, 2);
    g_assert_true(admission.decide(false, 0, 2) == Verdict::Admit); /* relays take no viewer's */
    g_assert_true(admission.decide(false, 1, 0) == Verdict::Refuse);
    g_assert_true(admission.decide(true, 1, 0) == Verdict::Admit); /* viewers take no relay's */
    g_assert_true(admission.decide(true, 0, 1) == Verdict::Admit);
    g_assert_true(admission.decide(true, 0, 2) == Verdict::Refuse);
}

void test_unlimited_and_none() {
    const Admission unlimited = with(-1, -1);
    g_assert_true(unlimited.decide(false, 1000000, 0) == Verdict::Admit);
    g_assert_true(unlimited.decide(true, 0, 1000000) == Verdict::Admit);
    const Admission none = with(0, 0);
    g_assert_true(none.decide(false, 0, 0) == Verdict::Refuse);
    g_assert_true(none.decide(true, 0, 0) == Verdict::Refuse);
    /* The defaults: 5 viewers, 4 relays. */
    const Admission defaults{ServerConfig{}};
    g_assert_true(defaults.decide(true, 5, 3) == Verdict::Admit);
    g_assert_true(defaults.decide(true, 5, 4) == Verdict::Refuse);
    g_assert_true(defaults.decide(false, 5, 0) == Verdict::Refuse);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/admission/apart", test_apart);
    g_test_add_func("/admission/unlimited-and-none", test_unlimited_and_none);
    return g_test_run();
}
