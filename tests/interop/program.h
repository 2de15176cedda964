/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program the test runs as users run it (an example, the main job, Xvfb):
 * its output (stderr merged) is collected line by line by a thread and echoed
 * to the test's stderr, every wait on it is bounded, and it is killed if it
 * is still running when the Program is destroyed.
 */
#pragma once

#include <gio/gio.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace interop {

class Program {
public:
    /** Start @p argv with the extra environment entries @p env (name, value); fails the test if
     *  it cannot start. Stdin is closed. */
    explicit Program(const std::vector<std::string> &argv,
                     const std::vector<std::pair<std::string, std::string>> &env = {});
    ~Program();
    Program(const Program &) = delete;
    Program &operator=(const Program &) = delete;

    /** The first line holding every one of @p parts, waiting for it at most kWaitUs (scaled by
     *  slowdown()); fails the test, showing the output, when none comes. */
    std::string wait_line(const std::vector<std::string> &parts);
    /** The first line for which @p matches holds, waiting as wait_line(); @p what names it in
     *  the failure message. */
    std::string wait_line_if(const std::function<bool(const std::string &)> &matches,
                             const std::string &what);
    /** SIGINT, then the exit status, which must come within @p limit_s (scaled by slowdown());
     *  fails the test when it does not, or when a signal ended the program. */
    int interrupt_and_wait(double limit_s);
    /** Everything it printed so far, one line per line. */
    std::string output();

private:
    std::vector<std::string> lines();
    void read_lines();

    GSubprocess *process_ = nullptr;
    std::string name_; /* argv[0]'s base name, prefixed to the echoed lines */
    std::thread reader_;
    std::mutex mutex_;
    std::vector<std::string> lines_; /* guarded by mutex_ */
};

/** The number after @p key in @p line ("port 123", "port=(uint)123"); fails the test when
 *  @p line does not hold @p key. */
guint number_after(const std::string &line, const std::string &key);

} // namespace interop
