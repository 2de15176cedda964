/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CPU time and resident memory of a process, from /proc/PID/stat (proc(5):
 * utime and stime in clock ticks, fields 14 and 15, summed over every
 * thread; rss in pages, field 24).
 */
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace wmstream::bench {

struct ProcSample {
    bool ok = false;    /**< false when the process is gone or the file did not parse */
    double cpu_s = 0;   /**< user + system CPU time, seconds */
    int64_t rss_kb = 0; /**< resident set size, KiB */
};

/** Sample process @p pid now. */
ProcSample sample_process(pid_t pid);

} // namespace wmstream::bench
