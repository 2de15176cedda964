/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reach test drivers' output: one line at a time on stdout, flushed at
 * once (the shell test reads it while the driver runs), from any thread.
 */
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace reachtest {

inline void print_line(const std::string &line) {
    static std::mutex lock;
    std::lock_guard<std::mutex> locker(lock);
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

} // namespace reachtest
