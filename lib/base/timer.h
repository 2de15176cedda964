/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Timer: the core's one one-shot timer, a callback on a GMainContext after a
 * delay in µs of monotonic time. The push client's I/O timeouts and
 * SystemClock (the push reconnect backoff) are Timers.
 */
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>

namespace wmstream {

/**
 * A one-shot timer on a GMainContext: a GSource with a ready time
 * (g_source_set_ready_time(), GLib's monotonic clock, µs resolution).
 *
 * Threading: arm(), disarm() and the destructor are called on the thread that
 * runs the context, and the callback runs there; so a disarmed timer never
 * fires. While armed the Timer holds a reference to its context.
 */
class Timer {
public:
    using Callback = std::function<void()>;

    Timer() = default;
    ~Timer(); /**< disarm()s */
    Timer(const Timer &) = delete;
    Timer &operator=(const Timer &) = delete;

    /**
     * Run @p callback once on @p context when @p delay_us µs have passed, never
     * earlier (≤ 0: at the context's next iteration). Arming an armed timer
     * replaces its delay and callback. The callback runs with the timer
     * already disarmed: it may arm it again, or destroy it.
     */
    void arm(GMainContext *context, int64_t delay_us, Callback callback);

    /** Forget the pending callback, if any. */
    void disarm();

private:
    static gboolean fire(gpointer data);

    GSource *source_ = nullptr;       /* armed: attached to context_ */
    GMainContext *context_ = nullptr; /* armed: a reference */
    Callback callback_;
};

} // namespace wmstream
