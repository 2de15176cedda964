/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/server/thread-priority: leave_cpu() moves the calling thread off a CPU at once
 * and gives it back its whole affinity mask. */
#include "server/thread-priority.h"

#include <glib.h>
#include <sched.h>

using namespace wmstream;
using namespace wmstream::server;

namespace {

cpu_set_t affinity() {
    cpu_set_t mask;
    g_assert_cmpint(sched_getaffinity(0, sizeof mask, &mask), ==, 0);
    return mask;
}

void test_leave_cpu() {
    const cpu_set_t allowed = affinity();
    if (CPU_COUNT(&allowed) < 2) {
        g_test_skip("needs two CPUs");
        return;
    }
    /* leave_cpu() gives the whole mask back before it returns, so on a busy machine the
     * scheduler may move the thread back before sched_getcpu() looks: count the moves seen. A
     * leave_cpu() that did nothing leaves a running thread where it is (a few µs a call). */
    constexpr int kCalls = 20;
    int moved = 0;
    for (int i = 0; i < kCalls; ++i) {
        const int cpu = sched_getcpu();
        leave_cpu(cpu);
        moved += sched_getcpu() != cpu;
        const cpu_set_t after = affinity();
        g_assert_true(CPU_EQUAL(&after, &allowed));
    }
    g_assert_cmpint(moved, >, kCalls / 2);
}

/* The only CPU allowed, or none named: the thread stays where it is. */
void test_leave_only_cpu() {
    const cpu_set_t allowed = affinity();
    const int cpu = sched_getcpu();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    g_assert_cmpint(sched_setaffinity(0, sizeof one, &one), ==, 0);
    leave_cpu(cpu);
    leave_cpu(-1);
    g_assert_cmpint(sched_getcpu(), ==, cpu);
    cpu_set_t after = affinity();
    g_assert_true(CPU_EQUAL(&after, &one));
    g_assert_cmpint(sched_setaffinity(0, sizeof allowed, &allowed), ==, 0);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/thread-priority/leave-cpu", test_leave_cpu);
    g_test_add_func("/thread-priority/leave-only-cpu", test_leave_only_cpu);
    return g_test_run();
}
