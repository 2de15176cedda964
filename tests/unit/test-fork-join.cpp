/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/fork-join: every job runs exactly once, on the caller and the helpers. */
#include "server/fork-join.h"

#include <glib.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace wmstream;
using namespace wmstream::server;

namespace {

void test_every_job_once() {
    for (unsigned helpers : {0u, 1u, 3u}) {
        ForkJoin pool(helpers);
        for (size_t count : {size_t(0), size_t(1), size_t(16), size_t(17), size_t(10000)}) {
            /* Many batches in a row: a helper that wakes late must not run a stale one. */
            for (int batch = 0; batch < 50; ++batch) {
                std::vector<std::atomic<int>> calls(count);
                pool.run(count, [&](size_t i) { calls[i].fetch_add(1); });
                for (size_t i = 0; i < count; ++i)
                    g_assert_cmpint(calls[i].load(), ==, 1);
            }
        }
    }
}

void test_jobs_spread_over_threads() {
    ForkJoin pool(1);
    const std::thread::id caller = std::this_thread::get_id();
    std::mutex lock;
    std::set<std::thread::id> threads;
    std::atomic<bool> helper_ran{false};
    /* The caller's jobs wait (at most 10 s) until the helper has run one: on a
     * loaded machine the helper may start late, but it must take part. */
    pool.run(64, [&](size_t) {
        if (std::this_thread::get_id() == caller) {
            const int64_t deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
            while (!helper_ran.load() && g_get_monotonic_time() < deadline)
                g_usleep(1000);
        } else {
            helper_ran.store(true);
        }
        std::lock_guard<std::mutex> locker(lock);
        threads.insert(std::this_thread::get_id());
    });
    g_assert_cmpuint(threads.size(), ==, 2);
    g_assert_true(threads.count(caller) == 1);
}

/* The thread hook (base/thread-hook.h): Create on the constructing thread for each helper,
 * then Enter and Leave on that helper itself, Leave by the time the destructor returns. */
void test_thread_hook() {
    const std::thread::id caller = std::this_thread::get_id();
    std::mutex lock;
    std::vector<std::pair<wmstream::ThreadEvent, std::thread::id>> events;
    {
        ForkJoin pool(2, [&](wmstream::ThreadEvent event, const char *role) {
            g_assert_cmpstr(role, ==, "server-sender");
            std::lock_guard<std::mutex> locker(lock);
            events.emplace_back(event, std::this_thread::get_id());
        });
        pool.run(64, [](size_t) {});
    }
    std::set<std::thread::id> entered, left;
    size_t created = 0;
    for (const auto &[event, thread] : events) {
        switch (event) {
        case wmstream::ThreadEvent::Create:
            g_assert_true(thread == caller);
            ++created;
            break;
        case wmstream::ThreadEvent::Enter:
            g_assert_true(thread != caller);
            g_assert_true(entered.insert(thread).second);
            break;
        case wmstream::ThreadEvent::Leave:
            g_assert_true(entered.count(thread) == 1); /* after its Enter */
            g_assert_true(left.insert(thread).second);
            break;
        }
    }
    g_assert_cmpuint(created, ==, 2);
    g_assert_cmpuint(entered.size(), ==, 2);
    g_assert_true(left == entered);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/fork-join/every-job-once", test_every_job_once);
    g_test_add_func("/fork-join/jobs-spread-over-threads", test_jobs_spread_over_threads);
    g_test_add_func("/fork-join/thread-hook", test_thread_hook);
    return g_test_run();
}
