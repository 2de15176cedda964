/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The relay thread: moves work off the core's I/O thread. ServerEvents
 * callbacks run on that thread and must neither block nor call into
 * GStreamer, so they only post() a task here; the relay thread runs the
 * tasks one at a time, in the order they were posted (emitting GObject
 * signals, posting element messages).
 */
#pragma once

#include "base/thread-hook.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace wmstream::plugin {

class Relay {
public:
    using Task = std::function<void()>;

    Relay() = default;
    ~Relay(); /**< stop()s */
    Relay(const Relay &) = delete;
    Relay &operator=(const Relay &) = delete;

    /** Start the thread; @p hook, when set, hears of it (role "relay"; base/thread-hook.h).
     *  Does nothing when it is already running. */
    void start(const ThreadHook &hook = {});

    /**
     * Queue @p task to run on the relay thread, after every task posted
     * before it. Never blocks on a task. Tasks posted while the relay is
     * stopped are dropped.
     */
    void post(Task task);

    /**
     * Run the tasks still queued, then end and join the thread. Idempotent.
     * Must not be called from a task (it would wait for itself).
     */
    void stop();

private:
    void run(const ThreadHook &hook);

    /* Only touched by start(), stop() and the destructor (the controlling thread). */
    std::thread thread_;
    std::mutex lock_;
    std::condition_variable wake_;
    /* Protected by lock_ */
    std::deque<Task> tasks_;
    /* Protected by lock_: true from start() until stop() is called. */
    bool running_ = false;
};

} // namespace wmstream::plugin
