/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/admission: viewers against max_clients and relays against
 * max_relays, each limit apart from the other; the overflow redirect to the edges in turn;
 * the check of the edges' URLs.
 */
#include "server/admission.h"

#include <glib.h>

#include <string>
#include <vector>

using wmstream::server::Admission;
using wmstream::server::Decision;
using wmstream::server::ServerConfig;
using wmstream::server::Verdict;

namespace {

ServerConfig limits(int max_clients, int max_relays, std::vector<std::string> edges = {}) {
    ServerConfig config;
    config.max_clients = max_clients;
    config.max_relays = max_relays;
    config.edges = std::move(edges);
    return config;
}

/* A streaming request's verdict. */
Verdict play(Admission &admission, bool relay, size_t viewers, size_t relays) {
    return admission.decide(relay, false, viewers, relays).verdict;
}

void test_apart() {
    Admission admission(limits(1, 2));
    g_assert_true(play(admission, false, 0, 2) == Verdict::Admit); /* relays take no viewer's */
    g_assert_true(play(admission, false, 1, 0) == Verdict::Refuse);
    g_assert_true(play(admission, true, 1, 0) == Verdict::Admit); /* viewers take no relay's */
    g_assert_true(play(admission, true, 0, 1) == Verdict::Admit);
    g_assert_true(play(admission, true, 0, 2) == Verdict::Refuse);
    /* A Describe is never refused. */
    g_assert_true(admission.decide(false, true, 1, 0).verdict == Verdict::Admit);
    g_assert_true(admission.decide(true, true, 0, 2).verdict == Verdict::Admit);
}

void test_unlimited_and_none() {
    Admission unlimited(limits(-1, -1));
    g_assert_true(play(unlimited, false, 1000000, 0) == Verdict::Admit);
    g_assert_true(play(unlimited, true, 0, 1000000) == Verdict::Admit);
    Admission none(limits(0, 0));
    g_assert_true(play(none, false, 0, 0) == Verdict::Refuse);
    g_assert_true(play(none, true, 0, 0) == Verdict::Refuse);
    /* The defaults: 5 viewers, 4 relays. */
    Admission defaults{ServerConfig{}};
    g_assert_true(play(defaults, true, 5, 3) == Verdict::Admit);
    g_assert_true(play(defaults, true, 5, 4) == Verdict::Refuse);
    g_assert_true(play(defaults, false, 5, 0) == Verdict::Refuse);
}

/* Full viewers go to the edges in turn, their Describes too; relays are never redirected
 * (an edge is no relay's origin), and nobody under the limit is. */
void test_redirect_in_turn() {
    Admission admission(limits(1, 1, {"http://a:8080/", "https://b/live"}));
    g_assert_true(play(admission, false, 0, 0) == Verdict::Admit);
    const Decision first = admission.decide(false, false, 1, 0);
    g_assert_true(first.verdict == Verdict::Redirect);
    g_assert_cmpstr(first.location.c_str(), ==, "http://a:8080/");
    const Decision second = admission.decide(false, true, 1, 0); /* a Describe */
    g_assert_true(second.verdict == Verdict::Redirect);
    g_assert_cmpstr(second.location.c_str(), ==, "https://b/live");
    const Decision third = admission.decide(false, false, 7, 0); /* round again */
    g_assert_cmpstr(third.location.c_str(), ==, "http://a:8080/");
    g_assert_true(play(admission, true, 1, 1) == Verdict::Refuse);
    g_assert_true(admission.decide(true, true, 1, 1).verdict == Verdict::Admit);
}

void test_check_edges() {
    g_assert_true(Admission::check(limits(1, 1, {"http://127.0.0.1:8080/", "HTTPS://[::1]/x"})));
    g_assert_true(Admission::check(limits(1, 1)));
    for (const char *bad : {"mmsh://edge/", "edge:8080", "/live", "http://", "not a url"}) {
        const auto status = Admission::check(limits(1, 1, {"http://ok/", bad}));
        g_assert_false(status);
        g_assert_nonnull(g_strstr_len(status.error().message.c_str(), -1, bad));
    }
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/admission/apart", test_apart);
    g_test_add_func("/admission/unlimited-and-none", test_unlimited_and_none);
    g_test_add_func("/admission/redirect-in-turn", test_redirect_in_turn);
    g_test_add_func("/admission/check-edges", test_check_edges);
    return g_test_run();
}
