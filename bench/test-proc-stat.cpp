/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of bench/proc-stat: the CPU time of a process's threads by name, on this process. */
#include "proc-stat.h"

#include <glib.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <thread>

using namespace wmstream::bench;

namespace {

/** CPU time the named thread burns, s. */
constexpr double kBurnS = 0.05;
/** The burn ends after this long at most, whatever CPU it got, s. */
constexpr double kBurnBoundS = 10;

double clock_s(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

void test_named_thread() {
    std::atomic<bool> burnt{false}, sampled{false};
    std::thread burner([&] {
        pthread_setname_np(pthread_self(), "wmsb-test-burn");
        const double cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        const double wall_end = clock_s(CLOCK_MONOTONIC) + kBurnBoundS;
        while (clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0 < kBurnS &&
               clock_s(CLOCK_MONOTONIC) < wall_end) {
        }
        burnt = true;
        /* Alive until sampled: an exited thread is no longer in /proc/PID/task. */
        const double wait_end = clock_s(CLOCK_MONOTONIC) + kBurnBoundS;
        while (!sampled && clock_s(CLOCK_MONOTONIC) < wait_end)
            g_usleep(1000);
    });
    const double wait_end = clock_s(CLOCK_MONOTONIC) + 2 * kBurnBoundS;
    while (!burnt && clock_s(CLOCK_MONOTONIC) < wait_end)
        g_usleep(1000);
    const ProcSample thread = sample_threads(getpid(), "wmsb-test-burn");
    const ProcSample process = sample_process(getpid());
    sampled = true;
    burner.join();
    g_assert_true(burnt.load());
    g_assert_true(thread.ok);
    g_assert_true(process.ok);
    g_assert_cmpint(thread.tasks, ==, 1);
    g_assert_cmpfloat(thread.cpu_s, >, 0);
    g_assert_cmpfloat(thread.cpu_s, <=, process.cpu_s);
}

void test_unknown_name() {
    const ProcSample sample = sample_threads(getpid(), "wmsb-no-such");
    g_assert_true(sample.ok);
    g_assert_cmpint(sample.tasks, ==, 0);
    g_assert_cmpfloat(sample.cpu_s, ==, 0);
}

void test_no_process() {
    /* Above the kernel's PID limit (pid_max is at most 2^22). */
    const pid_t none = pid_t(1) << 23;
    g_assert_false(sample_threads(none, "wmsb-pace").ok);
    g_assert_false(sample_process(none).ok);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/proc-stat/named-thread", test_named_thread);
    g_test_add_func("/proc-stat/unknown-name", test_unknown_name);
    g_test_add_func("/proc-stat/no-process", test_no_process);
    return g_test_run();
}
