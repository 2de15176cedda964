/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SystemClock: one-shot GLib timeout sources. The timer id is the GSource
 * id within its context, so cancel() finds the source again through the
 * context it was attached to (kept next to the id).
 */
#include "base/clock.h"

#include <mutex>
#include <unordered_map>

namespace wmstream {

namespace {

struct Timer {
    GMainContext *context; /* reference held while the timer exists */
    guint source_id;
};

std::mutex timers_lock;
/* Protected by timers_lock */
std::unordered_map<uint64_t, Timer> timers;
/* Protected by timers_lock */
uint64_t next_id = 1;

/* Removes @id from the table; returns its context reference (or null). */
GMainContext *forget(uint64_t id, guint *source_id) {
    std::lock_guard<std::mutex> locker(timers_lock);
    auto it = timers.find(id);
    if (it == timers.end())
        return nullptr;
    GMainContext *context = it->second.context;
    *source_id = it->second.source_id;
    timers.erase(it);
    return context;
}

struct Pending {
    uint64_t id;
    Clock::Callback callback;
};

gboolean fire(gpointer data) {
    auto *pending = static_cast<Pending *>(data);
    guint source_id = 0;
    GMainContext *context = forget(pending->id, &source_id);
    if (context) {
        g_main_context_unref(context);
        pending->callback();
    }
    return G_SOURCE_REMOVE;
}

void free_pending(gpointer data) {
    delete static_cast<Pending *>(data);
}

} // namespace

uint64_t SystemClock::schedule(GMainContext *context, int64_t delay_us, Callback callback) {
    const guint delay_ms = static_cast<guint>(delay_us <= 0 ? 0 : (delay_us + 999) / 1000);
    GSource *source = g_timeout_source_new(delay_ms);
    std::lock_guard<std::mutex> locker(timers_lock);
    const uint64_t id = next_id++;
    g_source_set_callback(source, fire, new Pending{id, std::move(callback)}, free_pending);
    const guint source_id = g_source_attach(source, context);
    g_source_unref(source);
    timers.emplace(id, Timer{g_main_context_ref(context), source_id});
    return id;
}

void SystemClock::cancel(uint64_t id) {
    guint source_id = 0;
    GMainContext *context = forget(id, &source_id);
    if (!context)
        return;
    GSource *source = g_main_context_find_source_by_id(context, source_id);
    if (source)
        g_source_destroy(source);
    g_main_context_unref(context);
}

SystemClock &SystemClock::instance() {
    static SystemClock clock;
    return clock;
}

} // namespace wmstream
