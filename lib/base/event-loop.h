/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EventLoop: a thread running a private GMainContext (a GMainLoop), and the
 * core's one way to hand work to such a thread: post() queues a task, call()
 * runs one there and waits. The push client's I/O thread and the firewall's
 * D-Bus thread are EventLoops.
 */
#pragma once

#include "base/thread-hook.h"

#include <glib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wmstream {

/**
 * One loop thread and its context.
 *
 * Life: construct (the context exists; sources may be attached to it), start()
 * (the thread), quit() (the loop returns), join() (the thread ended); start()
 * again after join() reuses the same context. The destructor stop()s.
 *
 * Tasks: post() queues from any thread, never runs inline; the loop thread
 * runs the queue in FIFO order, at G_PRIORITY_DEFAULT among the context's
 * other sources. A task posted before start() (or after join()) waits for
 * start(). After quit() no task starts: what is still queued is destroyed
 * without running by the loop thread as it ends, and a task posted until
 * join() returns is destroyed at once.
 *
 * Threading: start(), join() and stop() are called from one controlling
 * thread, never from the loop thread; post(), call() and quit() from any.
 */
class EventLoop {
public:
    using Task = std::function<void()>;

    EventLoop();
    ~EventLoop(); /**< stop()s */
    EventLoop(const EventLoop &) = delete;
    EventLoop &operator=(const EventLoop &) = delete;

    /** The loop's context, the same from construction to destruction. */
    GMainContext *context() const { return context_; }

    /**
     * Start the loop thread. On it: context() becomes its thread-default
     * context, @p on_start runs (e.g. to raise its priority, or begin the
     * work), the loop runs until quit(), then @p on_exit runs (context still
     * thread-default, tasks no longer run: finish or cancel what is pending,
     * iterate_until() helps), and the context is popped. @p hook, when set,
     * is told Create on this thread before the loop thread exists, Enter on
     * it before @p on_start and Leave after everything else, with @p role
     * (base/thread-hook.h). Not when started.
     */
    void start(Task on_start = {}, Task on_exit = {}, ThreadHook hook = {},
               const char *role = "event-loop");

    /** Queue @p task for the loop thread (FIFO; from a task too: it runs in a later dispatch). */
    void post(Task task);

    /**
     * Run @p task on the loop thread and return once it ran. On the loop
     * thread it runs at once (inline). When the loop is not running (not
     * started, or quit()) or quits before the task's turn, the task is dropped
     * and call() returns. Not from a thread the loop thread may wait for.
     */
    void call(const Task &task);

    /** Make the loop return after the dispatch in progress; no task starts after this. */
    void quit();

    /** Wait for the loop thread to end (after a quit(), from anywhere). */
    void join();

    /** quit(), then join(). Does nothing when not started. */
    void stop();

    /**
     * Loop thread only (on_exit, typically): dispatch the context's sources
     * until @p done returns true or @p timeout_us µs passed (e.g. to let
     * cancelled asynchronous operations report back). @return done().
     */
    bool iterate_until(const std::function<bool()> &done, int64_t timeout_us);

    /** The loop thread's handle (e.g. for set_realtime_priority()), from start() to join(). */
    std::thread::native_handle_type native_handle() { return thread_.native_handle(); }

private:
    static gboolean dispatch(GSource *source, GSourceFunc, gpointer);
    void run(const Task &on_start, const Task &on_exit, const ThreadHook &hook, const char *role);
    /* Runs the queued tasks on the loop thread (or drops them after quit()). */
    void run_tasks();
    /* Queues @p task unless quitting (or, with @p started_only, not started); a task not queued
     * is destroyed. */
    void enqueue(Task task, bool started_only);
    /* Destroys every queued task without running it. */
    void drop_tasks();

    GMainContext *const context_;
    GMainLoop *const loop_;
    /* Set by the constructor. Ready while tasks_ is not empty, or after quit(). */
    GSource *task_source_;

    std::thread thread_;                         /* controlling thread only */
    std::atomic<std::thread::id> loop_thread_{}; /* set by the loop thread while it runs */

    std::mutex lock_; /* a leaf: nothing is called with it held */
    /* Protected by lock_ (written under it; read without it by the loop thread between tasks):
     * from quit() to join(). */
    std::atomic<bool> quitting_{false};
    /* Protected by lock_: from start() to join(). */
    bool started_ = false;
    /* Protected by lock_ */
    std::vector<Task> tasks_;
    /* Loop thread only: the tasks run_tasks() took from tasks_ (kept for its capacity). */
    std::vector<Task> batch_;
};

} // namespace wmstream
