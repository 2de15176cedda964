/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Several client programs run at once, each started and stopped at a set
 * moment, every line of their output stamped with the moment it was read:
 * what the join matrix measures time to first picture with.
 */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace interop {

/** One line a program wrote (stdout and stderr merged), with when it was read. */
struct TimedLine {
    gint64 at_us = 0; /**< g_get_monotonic_time() when read */
    std::string text; /**< without the '\n' */
};

/** What one program of an Ensemble did. */
struct TimedRun {
    std::vector<std::string> argv;
    gint64 started_us = 0; /**< monotonic time it was spawned (0: never) */
    gint64 stop_us = 0;    /**< monotonic time it was to be stopped */
    bool stopped = false;  /**< it was still running at its stop time: SIGTERM sent */
    bool exited = false;   /**< it ended by exit() */
    int status = -1;       /**< exit status when exited */
    std::vector<TimedLine> lines;

    /** The first line containing @p text, or nullptr. */
    const TimedLine *find(const std::string &text) const;
    /** Everything it wrote, for failure messages: each line with its time since started_us. */
    std::string transcript() const;
};

/**
 * Programs run together on loopback. add() them with their start and stop
 * moments, then run(): it spawns each at its start, sends SIGTERM at its
 * stop (SIGKILL 5 s later), and returns when every program ended, at most
 * 15 s after the last stop (the test fails then). Stdin is closed at once.
 */
class Ensemble {
public:
    Ensemble();
    ~Ensemble();
    Ensemble(const Ensemble &) = delete;
    Ensemble &operator=(const Ensemble &) = delete;

    /**
     * Run @p argv from monotonic time @p start_us to @p stop_us, with the
     * extra "NAME=value" entries of @p env. @return its index for result().
     */
    size_t add(std::vector<std::string> argv, gint64 start_us, gint64 stop_us,
               std::vector<std::string> env = {});
    /** Call @p action (from run(), on this thread) at monotonic time @p at_us. */
    void at(gint64 at_us, std::function<void()> action);
    /** Run every added program as described above. Call once. */
    void run();
    const TimedRun &result(size_t index) const;
    size_t size() const;

private:
    struct Member;
    std::vector<std::unique_ptr<Member>> members_;
    std::vector<std::pair<gint64, std::function<void()>>> actions_; /**< not yet called */
};

} // namespace interop
