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

} // namespace wmstream::bench
