/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The send rounds of Server::Impl: a change to the stream makes a round due
 * (now, or within flush_interval_us for new packets); a round serves every
 * live client in slices, on the I/O thread alone or with its helpers.
 */
#include "server/server-impl.h"

#include "server/thread-priority.h"

#include <sched.h>

#include <algorithm>
#include <climits>
#include <optional>

namespace wmstream::server {

namespace {

/** Clients served per dispatch of a round. */
constexpr size_t kClientsPerDispatch = 512;

/** A GSource that dispatches when its ready time is set to 0 from any thread. */
gboolean wake_dispatch(GSource *source, GSourceFunc callback, gpointer data) {
    g_source_set_ready_time(source, -1);
    return callback(data);
}
GSourceFuncs wake_funcs = {nullptr, nullptr, wake_dispatch, nullptr, nullptr, nullptr};

} // namespace

GSource *Server::Impl::make_wake_source() {
    GSource *source = g_source_new(&wake_funcs, sizeof(GSource));
    g_source_set_callback(source, on_wake, this, nullptr);
    return source;
}

void Server::Impl::serve(Due due) {
    switch (due) {
    case Due::Nothing:
        break;
    case Due::Flush:
        schedule_flush();
        break;
    case Due::Wake:
        wake();
        break;
    }
}

void Server::Impl::wake() {
    std::lock_guard<std::mutex> locker(lock_);
    if (!schedule_.wake_source)
        return;
    schedule_.pending = true;
    schedule_.due_us = 0;
    if (!schedule_.in_round)
        g_source_set_ready_time(schedule_.wake_source, 0);
}

/* The first packet after a round has started waits flush_interval_us, and
 * the packets that follow it join the same round: no packet waits longer,
 * and a write carries the interval plus the gap before that first packet
 * (at 125 ms and 24 packets/s: 6 writes per client per second, counted). */
void Server::Impl::schedule_flush() {
    std::lock_guard<std::mutex> locker(lock_);
    if (!schedule_.wake_source || schedule_.pending)
        return; /* a round is already due and will see the new packet */
    schedule_.pending = true;
    if (waker_.track.load(std::memory_order_relaxed))
        waker_.cpu.store(sched_getcpu(), std::memory_order_relaxed);
    schedule_.due_us = g_get_monotonic_time() + io_config_.flush_interval_us;
    if (!schedule_.in_round)
        g_source_set_ready_time(schedule_.wake_source, next_round_us());
}

/* A write that waits is due a flush interval before its bound (WriteCoalescing), so the
 * round a new packet brings within that interval is in time for it: rounds for writes that
 * wait come only while no packet arrives, and at most one per interval. */
int64_t Server::Impl::next_round_us() const {
    return schedule_.pending ? schedule_.due_us : schedule_.deferred_us;
}

/* One round serves every client, kClientsPerDispatch at a time so that
 * accepts and other sources run in between at 10,000 clients. A client whose
 * writes wait (Connection::deferred) is skipped; when no packet brings a round,
 * one comes for the earliest of their due times (next_round_us()). */
gboolean Server::Impl::on_wake(gpointer self) {
    auto *impl = static_cast<Impl *>(self);
    bool starting = false;
    {
        /* Cleared when a round starts: a packet appended from then on schedules the next. */
        std::lock_guard<std::mutex> locker(impl->lock_);
        if (!impl->schedule_.in_round) {
            starting = impl->schedule_.in_round = true;
            impl->schedule_.pending = false;
            impl->schedule_.deferred_us = INT64_MAX;
        }
    }
    if (starting) {
        impl->round_.next = 0;
        impl->round_.now_us = g_get_monotonic_time();
        impl->round_.deferred_due_us = INT64_MAX;
        /* Woken on the core of the streaming thread, a real-time I/O thread would hold it off
         * for the whole round, and the rest of a key frame's packets (handed over one by one)
         * would wait for the next round: let it go on, from the other core. */
        const int waker = impl->waker_.cpu.exchange(-1, std::memory_order_relaxed);
        if (waker >= 0 && waker == sched_getcpu())
            leave_cpu(waker);
    }
    if (impl->round_.senders)
        impl->serve_slice_parallel();
    else
        impl->serve_slice();
    std::lock_guard<std::mutex> locker(impl->lock_);
    if (impl->round_.next < impl->live_.size()) {
        g_source_set_ready_time(impl->schedule_.wake_source, 0);
    } else {
        impl->schedule_.in_round = false;
        const Round &round = impl->round_;
        impl->schedule_.deferred_us =
            round.deferred_due_us == INT64_MAX
                ? INT64_MAX
                : std::max(round.deferred_due_us,
                           round.now_us + impl->io_config_.flush_interval_us);
        if (impl->schedule_.pending || impl->schedule_.deferred_us != INT64_MAX)
            g_source_set_ready_time(impl->schedule_.wake_source, impl->next_round_us());
    }
    return G_SOURCE_CONTINUE;
}

/* A client's wake() may remove it from live_ (or another one): re-check the bounds. */
void Server::Impl::serve_slice() {
    for (size_t served = 0; served < kClientsPerDispatch && round_.next < live_.size(); ++served) {
        Connection *client = live_[round_.next];
        if (!deferred(*client))
            client->wake();
        if (round_.next < live_.size() && live_[round_.next] == client)
            ++round_.next;
    }
}

bool Server::Impl::deferred(Connection &client) {
    const std::optional<int64_t> due = client.deferred(round_.now_us);
    if (due)
        round_.deferred_due_us = std::min(round_.deferred_due_us, *due);
    return due.has_value();
}

/* Prepared on this thread, sent in parallel, completed here in order. A
 * client removed meanwhile stays allocated until the reap (reap_), and its
 * round_send() and complete_round_send() do nothing. A coalesced client is
 * served here at once, start to end, as with one thread: its bytes waited up
 * to max-write-delay already, and a thousand of them prepared, then sent, then
 * completed cost ~14 % more CPU per byte (docs/performance.md, "Coalesced
 * writes on the I/O thread"). */
void Server::Impl::serve_slice_parallel() {
    round_.sends.clear();
    size_t used = 0; /* vectors taken by the sends prepared so far, packed */
    for (size_t served = 0; served < kClientsPerDispatch && round_.next < live_.size(); ++served) {
        Connection *client = live_[round_.next];
        if (round_.vectors.size() < used + Connection::kMaxVectors)
            round_.vectors.resize(used + Connection::kMaxVectors);
        if (deferred(*client)) {
            /* its writes wait */
        } else if (client->coalesced()) {
            client->wake();
        } else if (const size_t count = client->prepare_round_send(&round_.vectors[used])) {
            round_.sends.push_back({client, used, count, 0, nullptr});
            used += count;
        }
        if (round_.next < live_.size() && live_[round_.next] == client)
            ++round_.next;
    }
    round_.senders->run(round_.sends.size(), [this](size_t i) {
        RoundSend &send = round_.sends[i];
        send.result = send.client->round_send(&round_.vectors[send.first], send.count, &send.error);
    });
    for (RoundSend &send : round_.sends) {
        send.client->complete_round_send(send.result, send.error);
        g_clear_error(&send.error);
    }
}

} // namespace wmstream::server
