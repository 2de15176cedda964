/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/base/event-loop and lib/base/timer (and SystemClock, a
 * table of Timers): post() order and never inline, call() waits and runs
 * inline on the loop thread, quit() drops what is queued, restart, the
 * start/exit hooks and iterate_until(); a timer fires once and not before its
 * delay, disarm() stops it, the callback may re-arm or destroy it. Every wait
 * is bounded (kWaitUs).
 */
#include "base/clock.h"
#include "base/event-loop.h"
#include "base/timer.h"

#include <glib.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using wmstream::EventLoop;
using wmstream::SystemClock;
using wmstream::Timer;

namespace {

constexpr int64_t kWaitUs = 10 * G_USEC_PER_SEC;
/* How long a test watches for something that must not happen. */
constexpr int64_t kQuietUs = 200 * 1000;

/* A counter another thread bumps; waits for it are bounded. */
class Counter {
public:
    void bump() {
        {
            std::lock_guard<std::mutex> locker(lock_);
            count_++;
        }
        changed_.notify_all();
    }
    /* @return true when the count reached @p n within kWaitUs. */
    bool wait_for(int n) {
        std::unique_lock<std::mutex> locker(lock_);
        return changed_.wait_for(locker, std::chrono::microseconds(kWaitUs),
                                 [&] { return count_ >= n; });
    }
    int count() {
        std::lock_guard<std::mutex> locker(lock_);
        return count_;
    }

private:
    std::mutex lock_;
    std::condition_variable changed_;
    int count_ = 0; /* Protected by lock_ */
};

/* Runs @p fn (which may block) on a thread of its own and fails the test when it takes longer
 * than kWaitUs. */
template <typename Fn>
void bounded(Fn fn) {
    Counter done;
    std::thread runner([&] {
        fn();
        done.bump();
    });
    if (!done.wait_for(1))
        g_error("blocked for more than %" G_GINT64_FORMAT " µs", kWaitUs);
    runner.join();
}

void test_post_order() {
    EventLoop loop;
    loop.start();
    std::vector<int> order; /* loop thread only until done */
    std::atomic<bool> on_loop_thread{true};
    Counter done;
    const pthread_t loop_thread = loop.native_handle();
    for (int i = 0; i < 1000; i++)
        loop.post([&, i] {
            on_loop_thread = on_loop_thread && pthread_equal(pthread_self(), loop_thread);
            order.push_back(i);
        });
    loop.post([&] { done.bump(); });
    g_assert_true(done.wait_for(1));
    g_assert_cmpuint(order.size(), ==, 1000);
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(order[i], ==, i);
    g_assert_true(on_loop_thread);
    loop.stop();
}

void test_post_never_inline() {
    EventLoop loop;
    loop.start();
    std::vector<int> order;
    Counter done, release;
    /* Hold the loop thread until both tasks below are queued. */
    loop.post([&] { g_assert_true(release.wait_for(1)); });
    loop.post([&] {
        /* Queued behind the task posted from outside below, even from the loop thread. */
        loop.post([&] {
            order.push_back(3);
            done.bump();
        });
        order.push_back(1);
    });
    loop.post([&] { order.push_back(2); });
    release.bump();
    g_assert_true(done.wait_for(1));
    g_assert_true((order == std::vector<int>{1, 2, 3}));
    loop.stop();
}

void test_call_waits() {
    EventLoop loop;
    loop.start();
    std::atomic<bool> ran{false};
    std::atomic<bool> on_loop_thread{false};
    const pthread_t loop_thread = loop.native_handle();
    bounded([&] {
        loop.call([&] {
            g_usleep(50 * 1000);
            on_loop_thread = pthread_equal(pthread_self(), loop_thread);
            ran = true;
        });
        g_assert_true(ran);
    });
    g_assert_true(on_loop_thread);
    loop.stop();
}

void test_call_inline_on_loop_thread() {
    EventLoop loop;
    loop.start();
    std::vector<int> order;
    Counter done;
    loop.post([&] {
        loop.call([&] { order.push_back(1); });
        order.push_back(2);
        done.bump();
    });
    g_assert_true(done.wait_for(1));
    g_assert_true((order == std::vector<int>{1, 2}));
    loop.stop();
}

void test_call_when_not_running() {
    EventLoop loop;
    bool ran = false;
    bounded([&] { loop.call([&] { ran = true; }); });
    g_assert_false(ran);
    loop.start();
    loop.stop();
    bounded([&] { loop.call([&] { ran = true; }); });
    g_assert_false(ran);
}

/* The loop thread is held in a task while more is queued; quit() drops the rest. */
void test_quit_drops_queued_tasks() {
    EventLoop loop;
    loop.start();
    Counter entered, release;
    loop.post([&] {
        entered.bump();
        g_assert_true(release.wait_for(1));
    });
    g_assert_true(entered.wait_for(1));
    auto witness = std::make_shared<int>(0); /* each queued task holds a copy */
    std::atomic<int> ran{0};
    for (int i = 0; i < 10; i++)
        loop.post([&ran, witness] { ran++; });
    /* A call() from another thread: queued behind (or, when it comes after quit(), refused),
     * it returns unrun either way. */
    std::atomic<bool> call_ran{false};
    std::thread caller([&] { loop.call([&] { call_ran = true; }); });
    while (witness.use_count() < 11) /* the tasks are queued: 10 copies + ours */
        g_usleep(1000);
    g_usleep(20 * 1000); /* most often, the call() is queued by now */
    loop.quit();
    loop.post([&ran, witness] { ran++; }); /* after quit(): dropped at once */
    g_assert_cmpint(witness.use_count(), <=, 11);
    release.bump();
    bounded([&] { caller.join(); });
    loop.join();
    g_assert_cmpint(ran.load(), ==, 0);
    g_assert_false(call_ran);
    g_assert_cmpint(witness.use_count(), ==, 1); /* every dropped task was destroyed */
}

void test_quit_from_a_task() {
    EventLoop loop;
    loop.start();
    std::atomic<int> ran{0};
    Counter entered;
    loop.post([&] {
        loop.quit();
        entered.bump();
    });
    loop.post([&] { ran++; }); /* queued behind the quit: never runs */
    g_assert_true(entered.wait_for(1));
    bounded([&] { loop.join(); });
    g_assert_cmpint(ran.load(), ==, 0);
}

void test_restart() {
    EventLoop loop;
    GMainContext *context = loop.context();
    for (int round = 0; round < 3; round++) {
        Counter done;
        loop.post([&] { done.bump(); }); /* before start(): runs once the loop runs */
        loop.start();
        g_assert_true(done.wait_for(1));
        g_assert_true(loop.context() == context);
        loop.stop();
    }
    /* A quit() at once, before the loop runs, still ends it. */
    for (int round = 0; round < 100; round++) {
        loop.start();
        bounded([&] { loop.stop(); });
    }
}

void test_hooks() {
    EventLoop loop;
    std::atomic<bool> started_default{false}, exited_default{false};
    std::atomic<bool> exit_after_quit{false}, drained{false}, timed_out{false};
    std::atomic<bool> quit{false};
    std::atomic<int64_t> waited_us{0};
    loop.start([&] { started_default = g_main_context_get_thread_default() == loop.context(); },
               [&] {
                   exited_default = g_main_context_get_thread_default() == loop.context();
                   exit_after_quit = quit.load();
                   /* Sources still dispatch: a timer fires while iterate_until() waits. */
                   bool fired = false;
                   Timer timer;
                   timer.arm(loop.context(), 10 * 1000, [&] { fired = true; });
                   drained = loop.iterate_until([&] { return fired; }, kWaitUs);
                   /* And the wait is bounded. */
                   const int64_t start = g_get_monotonic_time();
                   timed_out = !loop.iterate_until([] { return false; }, 50 * 1000);
                   waited_us = g_get_monotonic_time() - start;
               });
    Counter running;
    loop.post([&] { running.bump(); });
    g_assert_true(running.wait_for(1));
    quit = true;
    bounded([&] { loop.stop(); });
    g_assert_true(started_default);
    g_assert_true(exited_default);
    g_assert_true(exit_after_quit);
    g_assert_true(drained);
    g_assert_true(timed_out);
    g_assert_cmpint(waited_us.load(), >=, 50 * 1000);
}

/* The thread hook: Create on the starting thread, Enter on the loop thread before on_start,
 * Leave on it after on_exit, once per start(). */
void test_thread_hook() {
    EventLoop loop;
    std::mutex lock;
    std::vector<std::pair<std::string, std::thread::id>> steps; /* Protected by lock */
    const auto record = [&](const std::string &step) {
        std::lock_guard<std::mutex> locker(lock);
        steps.emplace_back(step, std::this_thread::get_id());
    };
    const char *names[] = {"create", "enter", "leave"};
    for (int run = 0; run < 2; ++run) {
        loop.start([&] { record("on_start"); }, [&] { record("on_exit"); },
                   [&](wmstream::ThreadEvent event, const char *role) {
                       g_assert_cmpstr(role, ==, "test-loop");
                       record(names[int(event)]);
                   },
                   "test-loop");
        bounded([&] { loop.stop(); });
    }
    g_assert_cmpuint(steps.size(), ==, 10);
    for (size_t i = 0; i < steps.size(); i += 5) {
        const char *order[] = {"create", "enter", "on_start", "on_exit", "leave"};
        for (size_t k = 0; k < 5; ++k)
            g_assert_cmpstr(steps[i + k].first.c_str(), ==, order[k]);
        g_assert_true(steps[i].second == std::this_thread::get_id());
        for (size_t k = 1; k < 5; ++k)
            g_assert_true(steps[i + k].second == steps[i + 1].second);
        g_assert_true(steps[i + 1].second != std::this_thread::get_id());
    }
}

void test_timer_fires_once() {
    EventLoop loop;
    loop.start();
    Timer timer;
    Counter fired;
    std::atomic<int64_t> armed_at{0}, fired_at{0};
    constexpr int64_t kDelayUs = 30 * 1000;
    loop.call([&] {
        armed_at = g_get_monotonic_time();
        timer.arm(loop.context(), kDelayUs, [&] {
            fired_at = g_get_monotonic_time();
            fired.bump();
        });
    });
    g_assert_true(fired.wait_for(1));
    g_assert_cmpint(fired_at - armed_at, >=, kDelayUs);
    g_usleep(kQuietUs);
    g_assert_cmpint(fired.count(), ==, 1);
    loop.stop();
}

void test_timer_disarm() {
    EventLoop loop;
    loop.start();
    Counter fired;
    Timer timer, replaced;
    loop.call([&] {
        timer.arm(loop.context(), 20 * 1000, [&] { fired.bump(); });
        timer.disarm();
        /* Arming again replaces the callback: only the second one runs. */
        replaced.arm(loop.context(), 20 * 1000, [] { g_assert_not_reached(); });
        replaced.arm(loop.context(), 20 * 1000, [&] { fired.bump(); });
    });
    g_assert_true(fired.wait_for(1));
    g_usleep(kQuietUs);
    g_assert_cmpint(fired.count(), ==, 1);
    loop.stop();
}

void test_timer_rearm_from_callback() {
    EventLoop loop;
    loop.start();
    Timer timer;
    Counter fired;
    std::vector<int64_t> times;
    constexpr int64_t kDelayUs = 10 * 1000;
    std::function<void()> tick = [&] {
        times.push_back(g_get_monotonic_time());
        fired.bump();
        if (times.size() < 4)
            timer.arm(loop.context(), kDelayUs, tick);
    };
    loop.call([&] {
        times.push_back(g_get_monotonic_time());
        timer.arm(loop.context(), kDelayUs, tick);
    });
    g_assert_true(fired.wait_for(3));
    g_usleep(kQuietUs);
    g_assert_cmpint(fired.count(), ==, 3);
    loop.call([&] {
        for (size_t i = 1; i < times.size(); i++)
            g_assert_cmpint(times[i] - times[i - 1], >=, kDelayUs);
    });
    loop.stop();
}

void test_timer_destroyed_by_callback() {
    EventLoop loop;
    loop.start();
    Counter fired;
    auto timer = std::make_unique<Timer>();
    loop.call([&] {
        timer->arm(loop.context(), 0, [&] {
            timer.reset();
            fired.bump();
        });
    });
    g_assert_true(fired.wait_for(1));
    loop.stop();
    g_assert_null(timer.get());
}

void test_system_clock() {
    EventLoop loop;
    loop.start();
    SystemClock &clock = SystemClock::instance();
    Counter fired;
    std::atomic<bool> cancelled_fired{false};
    std::atomic<int64_t> scheduled_at{0}, fired_at{0};
    constexpr int64_t kDelayUs = 20 * 1000;
    loop.call([&] {
        const uint64_t cancelled =
            clock.schedule(loop.context(), kDelayUs, [&] { cancelled_fired = true; });
        scheduled_at = g_get_monotonic_time();
        const uint64_t kept = clock.schedule(loop.context(), kDelayUs, [&] {
            fired_at = g_get_monotonic_time();
            fired.bump();
        });
        g_assert_cmpuint(kept, !=, cancelled);
        g_assert_cmpuint(kept, !=, 0);
        clock.cancel(cancelled);
    });
    g_assert_true(fired.wait_for(1));
    g_assert_cmpint(fired_at - scheduled_at, >=, kDelayUs);
    g_usleep(kQuietUs);
    g_assert_cmpint(fired.count(), ==, 1);
    g_assert_false(cancelled_fired);
    loop.stop();
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/event-loop/post-order", test_post_order);
    g_test_add_func("/event-loop/post-never-inline", test_post_never_inline);
    g_test_add_func("/event-loop/call-waits", test_call_waits);
    g_test_add_func("/event-loop/call-inline-on-loop-thread", test_call_inline_on_loop_thread);
    g_test_add_func("/event-loop/call-when-not-running", test_call_when_not_running);
    g_test_add_func("/event-loop/quit-drops-queued-tasks", test_quit_drops_queued_tasks);
    g_test_add_func("/event-loop/quit-from-a-task", test_quit_from_a_task);
    g_test_add_func("/event-loop/restart", test_restart);
    g_test_add_func("/event-loop/hooks", test_hooks);
    g_test_add_func("/event-loop/thread-hook", test_thread_hook);
    g_test_add_func("/timer/fires-once", test_timer_fires_once);
    g_test_add_func("/timer/disarm", test_timer_disarm);
    g_test_add_func("/timer/rearm-from-callback", test_timer_rearm_from_callback);
    g_test_add_func("/timer/destroyed-by-callback", test_timer_destroyed_by_callback);
    g_test_add_func("/timer/system-clock", test_system_clock);
    return g_test_run();
}
