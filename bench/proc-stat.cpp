/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proc-stat.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace wmstream::bench {

namespace {

/** One /proc/…/stat file: the task's name (field 2) and its sample (ok false: unreadable). */
struct Stat {
    std::string comm;
    ProcSample sample;
};

Stat read_stat(const std::string &path) {
    Stat stat;
    FILE *file = std::fopen(path.c_str(), "re");
    if (!file)
        return stat;
    char text[1024];
    const size_t len = std::fread(text, 1, sizeof text - 1, file);
    std::fclose(file);
    text[len] = '\0';
    /* The command name (field 2) may hold spaces and parentheses: "(" after the PID, up to the
     * last ')'. */
    const char *open = std::strchr(text, '(');
    const char *rest = std::strrchr(text, ')');
    if (!open || !rest || rest < open)
        return stat;
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
        return stat;
    const double ticks = double(sysconf(_SC_CLK_TCK));
    stat.comm.assign(open + 1, rest);
    stat.sample.ok = true;
    stat.sample.cpu_s = double(utime + stime) / ticks;
    stat.sample.rss_kb = rss_pages * (sysconf(_SC_PAGESIZE) / 1024);
    return stat;
}

} // namespace

ProcSample sample_process(pid_t pid) {
    return read_stat("/proc/" + std::to_string(pid) + "/stat").sample;
}

ProcSample sample_threads(pid_t pid, const std::string &name) {
    ProcSample sample;
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR *dir = opendir(tasks.c_str());
    if (!dir)
        return sample;
    sample.ok = true;
    while (const dirent *entry = readdir(dir)) {
        if (entry->d_name[0] == '.')
            continue;
        const Stat stat = read_stat(tasks + "/" + entry->d_name + "/stat");
        if (stat.sample.ok && stat.comm == name) {
            sample.cpu_s += stat.sample.cpu_s;
            ++sample.tasks;
        }
    }
    closedir(dir);
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
