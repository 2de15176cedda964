/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SystemClock: one Timer (base/timer.h) per scheduled callback, kept in a
 * process-wide table under its id until it fires or is cancelled.
 */
#include "base/clock.h"

#include "base/timer.h"

#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace wmstream {

namespace {

std::mutex timers_lock;
/* Protected by timers_lock */
std::unordered_map<uint64_t, std::unique_ptr<Timer>> timers;
/* Protected by timers_lock */
uint64_t next_id = 1;

/* Removes @id from the table; the caller destroys what it returns (null when unknown). */
std::unique_ptr<Timer> take(uint64_t id) {
    std::lock_guard<std::mutex> locker(timers_lock);
    auto it = timers.find(id);
    if (it == timers.end())
        return nullptr;
    std::unique_ptr<Timer> timer = std::move(it->second);
    timers.erase(it);
    return timer;
}

} // namespace

uint64_t SystemClock::schedule(GMainContext *context, int64_t delay_us, Callback callback) {
    auto timer = std::make_unique<Timer>();
    Timer *armed = timer.get();
    uint64_t id = 0;
    {
        std::lock_guard<std::mutex> locker(timers_lock);
        id = next_id++;
        timers.emplace(id, std::move(timer));
    }
    /* Only this thread (the context's) fires or cancels it: armed stays valid here. */
    armed->arm(context, delay_us, [id, callback = std::move(callback)] {
        std::unique_ptr<Timer> fired = take(id);
        callback();
    });
    return id;
}

void SystemClock::cancel(uint64_t id) {
    take(id); /* destroying the Timer disarms it */
}

SystemClock &SystemClock::instance() {
    static SystemClock clock;
    return clock;
}

} // namespace wmstream
