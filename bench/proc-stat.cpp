/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proc-stat.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace wmstream::bench {

ProcSample sample_process(pid_t pid) {
    ProcSample sample;
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    FILE *file = std::fopen(path.c_str(), "re");
    if (!file)
        return sample;
    char text[1024];
    const size_t len = std::fread(text, 1, sizeof text - 1, file);
    std::fclose(file);
    text[len] = '\0';
    /* The command name (field 2) may hold spaces and parentheses: start after the last ')'. */
    const char *rest = std::strrchr(text, ')');
    if (!rest)
        return sample;
    unsigned long utime = 0, stime = 0;
    long rss_pages = 0;
    /* Fields 3..24: state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt,
     * cmajflt, utime, stime, cutime, cstime, priority, nice, num_threads, itrealvalue,
     * starttime, vsize, rss. */
    const int fields = std::sscanf(rest + 1,
                                   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
                                   "%*d %*d %*d %*d %*u %*u %ld",
                                   &utime, &stime, &rss_pages);
    if (fields != 3)
        return sample;
    const double ticks = double(sysconf(_SC_CLK_TCK));
    sample.ok = true;
    sample.cpu_s = double(utime + stime) / ticks;
    sample.rss_kb = rss_pages * (sysconf(_SC_PAGESIZE) / 1024);
    return sample;
}

MachineSample sample_machine() {
    MachineSample sample;
    FILE *file = std::fopen("/proc/stat", "re");
    if (!file)
        return sample;
    unsigned long long f[10] = {};
    /* cpu user nice system idle iowait irq softirq steal guest guest_nice */
    const int fields =
        std::fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1],
                    &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]);
    std::fclose(file);
    if (fields < 8)
        return sample;
    /* guest time is already counted in user time. */
    sample.total = f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
    sample.busy = sample.total - f[3] - f[4];
    sample.ok = true;
    return sample;
}

double busy_fraction(const MachineSample &a, const MachineSample &b) {
    if (!a.ok || !b.ok || b.total <= a.total)
        return 0;
    return double(b.busy - a.busy) / double(b.total - a.total);
}

} // namespace wmstream::bench
