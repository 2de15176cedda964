/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether this process may run threads under SCHED_FIFO, for the tests of
 * wmnetsink's io-realtime-priority (unit and interop): header-only, so the
 * unit tests need no GStreamer.
 */
#pragma once

#include <pthread.h>
#include <sched.h>

namespace wmtest {

/** May the calling thread take SCHED_FIFO at @p priority (CAP_SYS_NICE or an
 *  RLIMIT_RTPRIO of at least @p priority)? Tried on this thread, then undone. */
inline bool realtime_priority_allowed(int priority) {
    sched_param param{};
    param.sched_priority = priority;
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) != 0)
        return false;
    param.sched_priority = 0;
    return pthread_setschedparam(pthread_self(), SCHED_OTHER, &param) == 0;
}

} // namespace wmtest
