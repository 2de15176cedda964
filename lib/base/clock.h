/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An injectable time source for code that waits: one-shot timers
 * dispatched on a GMainContext. The push client schedules
 * its reconnect backoff through it, so tests can drive retries with a
 * manual clock instead of waiting on the wall clock (Envoy STYLE.md: tests
 * must not depend on the current time).
 */
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>

namespace wmstream {

class Clock {
public:
    using Callback = std::function<void()>;

    virtual ~Clock() = default;

    /**
     * Run @p callback once on @p context (its owner thread) when @p delay_us
     * have passed. @return an id for cancel(), never 0.
     */
    virtual uint64_t schedule(GMainContext *context, int64_t delay_us, Callback callback) = 0;

    /**
     * Forget the timer @p id if it has not fired yet. A timer may already be
     * on its way to the context when this is called: callers that cancel
     * must also ignore a late callback (compare ids).
     */
    virtual void cancel(uint64_t id) = 0;
};

/**
 * The real clock: a base/timer.h Timer per callback (GLib's monotonic time).
 * schedule() and cancel() are called on the thread that runs the context (the
 * Timer's rule); a timer cancelled there never fires.
 */
class SystemClock final : public Clock {
public:
    uint64_t schedule(GMainContext *context, int64_t delay_us, Callback callback) override;
    void cancel(uint64_t id) override;

    /** The process-wide instance. */
    static SystemClock &instance();
};

} // namespace wmstream
