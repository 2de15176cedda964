/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Real-time scheduling for the fan-out server's I/O threads
 * (ServerConfig::io_realtime_priority): POSIX SCHED_FIFO through
 * pthread_setschedparam(3), as JACK and PipeWire give their audio threads.
 * A SCHED_FIFO thread runs before every normal thread on its core and moves
 * to a core that runs only normal threads, so a round's sends are not
 * queued behind other work. Threads they start do not inherit it
 * (SCHED_RESET_ON_FORK).
 */
#pragma once

#include "base/error.h"

#include <thread>

namespace wmstream::server {

/** The highest priority io_realtime_priority may name (sched_get_priority_max(SCHED_FIFO)). */
constexpr int kMaxRealtimePriority = 99;

/**
 * Run @p thread (std::thread::native_handle()) under SCHED_FIFO at @p priority (1–99).
 * @return Errc::AccessDenied when the calling thread may not (it needs
 *         CAP_SYS_NICE or an RLIMIT_RTPRIO of at least @p priority: see
 *         sched(7)), Errc::Failed for any other refusal; the thread then keeps
 *         its scheduling.
 */
Status set_realtime_priority(std::thread::native_handle_type thread, int priority);

/**
 * Move the calling thread off CPU @p cpu at once, to another CPU its affinity
 * allows (sched_setaffinity(2) without @p cpu, then the whole mask again). A
 * SCHED_FIFO thread is woken on the CPU it last ran on, and when the thread
 * that woke it runs there, it preempts that thread until it sleeps again.
 * Nothing happens when @p cpu is the only CPU allowed or a call fails.
 */
void leave_cpu(int cpu);

} // namespace wmstream::server
