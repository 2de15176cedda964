/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A Clock for tests: time stands still until advance() moves it, and the
 * timers that come due are then dispatched on their contexts. Tests read
 * the delays the code under test scheduled instead of waiting for them.
 */
#pragma once

#include "base/clock.h"

#include <glib.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

namespace pushtest {

class ManualClock final : public wmstream::Clock {
public:
    uint64_t schedule(GMainContext *context, int64_t delay_us, Callback callback) override {
        std::lock_guard<std::mutex> locker(lock_);
        const uint64_t id = next_id_++;
        timers_.emplace(id, Timer{now_us_ + delay_us, delay_us, g_main_context_ref(context),
                                  std::move(callback)});
        changed_.notify_all();
        return id;
    }

    void cancel(uint64_t id) override {
        std::lock_guard<std::mutex> locker(lock_);
        auto it = timers_.find(id);
        if (it == timers_.end())
            return;
        g_main_context_unref(it->second.context);
        timers_.erase(it);
    }

    /** Wait (at most @p timeout_us of real time) until a timer is pending;
     *  @return the delay it was scheduled with, or −1 on timeout. */
    int64_t wait_timer(int64_t timeout_us = 20 * G_USEC_PER_SEC) {
        std::unique_lock<std::mutex> locker(lock_);
        if (!changed_.wait_for(locker, std::chrono::microseconds(timeout_us),
                               [this] { return !timers_.empty(); }))
            return -1;
        return timers_.begin()->second.delay_us;
    }

    /** Number of timers pending. */
    size_t pending() const {
        std::lock_guard<std::mutex> locker(lock_);
        return timers_.size();
    }

    /** Move time forward by @p us and dispatch what came due. */
    void advance(int64_t us) {
        std::vector<Timer> due;
        {
            std::lock_guard<std::mutex> locker(lock_);
            now_us_ += us;
            for (auto it = timers_.begin(); it != timers_.end();) {
                if (it->second.deadline_us <= now_us_) {
                    due.push_back(std::move(it->second));
                    it = timers_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (Timer &timer : due) {
            /* Dispatched by the context's own thread, never by the caller's. */
            GSource *source = g_idle_source_new();
            g_source_set_callback(
                source,
                [](gpointer data) -> gboolean {
                    (*static_cast<Callback *>(data))();
                    return G_SOURCE_REMOVE;
                },
                new Callback(std::move(timer.callback)),
                [](gpointer data) { delete static_cast<Callback *>(data); });
            g_source_attach(source, timer.context);
            g_source_unref(source);
            g_main_context_unref(timer.context);
        }
    }

private:
    struct Timer {
        int64_t deadline_us;
        int64_t delay_us;
        GMainContext *context;
        Callback callback;
    };

    mutable std::mutex lock_;
    std::condition_variable changed_;
    /* Protected by lock_ */
    int64_t now_us_ = 0;
    uint64_t next_id_ = 1;
    std::map<uint64_t, Timer> timers_;
};

} // namespace pushtest
