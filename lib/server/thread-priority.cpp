/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/thread-priority.h"

#include <pthread.h>
#include <sched.h>

#include <cstring>
#include <string>

namespace wmstream::server {

Status set_realtime_priority(std::thread::native_handle_type thread, int priority) {
    sched_param param{};
    param.sched_priority = priority;
    /* Threads they start (name lookups, GLib's pools) get the normal scheduler back. */
    const int result = pthread_setschedparam(thread, SCHED_FIFO | SCHED_RESET_ON_FORK, &param);
    if (result == 0)
        return {};
    return make_error(result == EPERM ? Errc::AccessDenied : Errc::Failed,
                      "Cannot give the I/O threads real-time priority " + std::to_string(priority) +
                          " (SCHED_FIFO): " + std::strerror(result) +
                          (result == EPERM ? " (needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at "
                                             "least the priority)"
                                           : "") +
                          "; they keep the normal scheduler");
}

void leave_cpu(int cpu) {
    cpu_set_t allowed;
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    cpu_set_t others = allowed;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof others, &others) != 0)
        return;
    /* Moved now (a thread never runs on a CPU outside its mask); it may come back later. */
    sched_setaffinity(0, sizeof allowed, &allowed);
}

} // namespace wmstream::server
