/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Timer: a GSource of its own kind, with no prepare or check; GLib makes it
 * ready at its ready time and its dispatch calls the callback.
 */
#include "base/timer.h"

#include <algorithm>
#include <utility>

namespace wmstream {

namespace {

gboolean dispatch(GSource *, GSourceFunc callback, gpointer data) {
    return callback(data);
}

/* prepare, check, dispatch, finalize: ready only by its ready time. */
GSourceFuncs timer_funcs = {nullptr, nullptr, dispatch, nullptr, nullptr, nullptr};

} // namespace

Timer::~Timer() {
    disarm();
}

void Timer::arm(GMainContext *context, int64_t delay_us, Callback callback) {
    disarm();
    callback_ = std::move(callback);
    context_ = g_main_context_ref(context);
    source_ = g_source_new(&timer_funcs, sizeof(GSource));
    g_source_set_ready_time(source_, g_get_monotonic_time() + std::max<int64_t>(delay_us, 0));
    g_source_set_callback(source_, fire, this, nullptr);
    g_source_attach(source_, context_);
}

void Timer::disarm() {
    if (!source_)
        return;
    g_source_destroy(source_);
    g_clear_pointer(&source_, g_source_unref);
    g_clear_pointer(&context_, g_main_context_unref);
    callback_ = nullptr;
}

gboolean Timer::fire(gpointer data) {
    auto *self = static_cast<Timer *>(data);
    /* Disarm first (GLib keeps the source alive while it dispatches): the
     * callback may arm the timer again or destroy it, so self is not touched
     * after it. */
    Callback callback = std::exchange(self->callback_, nullptr);
    /* Held until the callback returns: it may destroy the Timer. */
    [[maybe_unused]] g_autoptr(GMainContext) context = std::exchange(self->context_, nullptr);
    g_clear_pointer(&self->source_, g_source_unref);
    callback();
    return G_SOURCE_REMOVE;
}

} // namespace wmstream
