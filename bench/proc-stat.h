/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CPU time and resident memory of a process, from /proc/PID/stat (proc(5):
 * utime and stime in clock ticks, fields 14 and 15, summed over every
 * thread; rss in pages, field 24), the CPU time of some of its threads by
 * name, from /proc/PID/task/TID/stat (the same fields, for one thread; the
 * name is field 2, comm), and how busy the whole machine was, from
 * /proc/stat (so that a run disturbed by other work can be told apart).
 */
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace wmstream::bench {

struct ProcSample {
    bool ok = false;    /**< false when the process is gone or the file did not parse */
    double cpu_s = 0;   /**< user + system CPU time, seconds */
    int64_t rss_kb = 0; /**< resident set size, KiB (0 from sample_threads()) */
    int tasks = 0;      /**< threads counted (sample_threads() only) */
};

/** Sample process @p pid now. */
ProcSample sample_process(pid_t pid);

/**
 * Sample the threads of process @p pid whose name (comm, at most 15
 * characters: pthread_setname_np(3)) is @p name now: their CPU time summed,
 * and how many there are (0 and 0 s when none is). A thread that has exited
 * is no longer counted here, while its time stays in sample_process()'s.
 * ok is false when the process is gone.
 */
ProcSample sample_threads(pid_t pid, const std::string &name);

/** Machine-wide CPU time from /proc/stat's "cpu" line, in clock ticks. */
struct MachineSample {
    bool ok = false;
    uint64_t busy = 0;  /**< every field but idle and iowait */
    uint64_t total = 0; /**< every field */
};

/** Sample the machine's CPU counters now. */
MachineSample sample_machine();

/** Fraction (0..1) of the machine's CPU time that was busy between @p a and @p b. */
double busy_fraction(const MachineSample &a, const MachineSample &b);

} // namespace wmstream::bench
