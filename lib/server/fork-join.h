/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helper threads that run one batch of independent jobs together with the
 * calling thread, and return when all are done (fork-join). The fan-out
 * server uses it to spread the sends of a round over cores
 * (ServerConfig::io_threads), which shortens a round, and so the latency of
 * its last client, without changing what is sent.
 */
#pragma once

#include "base/thread-hook.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wmstream::server {

class ForkJoin {
public:
    /** Start @p helpers threads besides the caller of run() (0: run() is a plain loop);
     *  @p hook, when set, hears of each (role "server-sender"; base/thread-hook.h). */
    explicit ForkJoin(unsigned helpers, ThreadHook hook = {});
    /** Stops and joins the helpers; no run() may be in progress. */
    ~ForkJoin();
    ForkJoin(const ForkJoin &) = delete;
    ForkJoin &operator=(const ForkJoin &) = delete;

    /**
     * Call @p job(i) once for every i in [0, @p count), on the calling thread
     * and the helpers, in no particular order or thread; returns when every
     * call has returned (what the jobs wrote is then visible to the caller).
     * One caller at a time; @p job must not call run().
     */
    void run(size_t count, const std::function<void(size_t)> &job);

    /** The helper threads' native handles, e.g. to set their scheduling. */
    std::vector<std::thread::native_handle_type> helper_handles();

private:
    void helper_main();
    /** A helper's loop: take batches until stopping_. */
    void serve_batches();
    /** Take jobs of the current batch until none is left. */
    void work(const std::function<void(size_t)> &job, size_t count);

    const ThreadHook hook_;
    std::vector<std::thread> threads_;
    std::mutex lock_;
    std::condition_variable start_;
    std::condition_variable done_;
    /* Protected by lock_: the open batch; null once its caller stopped taking helpers. */
    const std::function<void(size_t)> *job_ = nullptr;
    size_t count_ = 0;            /* Protected by lock_ */
    uint64_t batch_ = 0;          /* Protected by lock_: bumps per run() */
    unsigned active_ = 0;         /* Protected by lock_: helpers working on the open batch */
    bool stopping_ = false;       /* Protected by lock_ */
    std::atomic<size_t> next_{0}; /* the next job index to take */
};

} // namespace wmstream::server
