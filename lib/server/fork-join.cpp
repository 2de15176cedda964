/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/fork-join.h"

#include <algorithm>

namespace wmstream::server {

namespace {
/** Jobs taken at a time: few enough to balance, enough to keep the shared counter cold. */
constexpr size_t kChunk = 16;
constexpr const char *kRole = "server-sender";
} // namespace

ForkJoin::ForkJoin(unsigned helpers, ThreadHook hook) : hook_(std::move(hook)) {
    threads_.reserve(helpers);
    for (unsigned i = 0; i < helpers; ++i) {
        if (hook_)
            hook_(ThreadEvent::Create, kRole);
        threads_.emplace_back([this] { helper_main(); });
    }
}

ForkJoin::~ForkJoin() {
    {
        std::lock_guard<std::mutex> locker(lock_);
        stopping_ = true;
    }
    start_.notify_all();
    for (std::thread &thread : threads_)
        thread.join();
}

std::vector<std::thread::native_handle_type> ForkJoin::helper_handles() {
    std::vector<std::thread::native_handle_type> handles;
    for (std::thread &thread : threads_)
        handles.push_back(thread.native_handle());
    return handles;
}

void ForkJoin::work(const std::function<void(size_t)> &job, size_t count) {
    for (;;) {
        const size_t first = next_.fetch_add(kChunk, std::memory_order_relaxed);
        if (first >= count)
            return;
        const size_t last = std::min(count, first + kChunk);
        for (size_t i = first; i < last; ++i)
            job(i);
    }
}

void ForkJoin::run(size_t count, const std::function<void(size_t)> &job) {
    if (threads_.empty() || count <= kChunk) {
        for (size_t i = 0; i < count; ++i)
            job(i);
        return;
    }
    {
        std::lock_guard<std::mutex> locker(lock_);
        next_.store(0, std::memory_order_relaxed);
        job_ = &job;
        count_ = count;
        ++batch_;
    }
    start_.notify_all();
    work(job, count);
    /* Every job is taken; the helpers that took some are counted in active_.
     * A helper that wakes from now on finds the batch closed: a busy core
     * never makes the caller wait for a helper's wake-up. */
    std::unique_lock<std::mutex> locker(lock_);
    job_ = nullptr;
    done_.wait(locker, [this] { return active_ == 0; });
}

/* The hook is called with lock_ released. */
void ForkJoin::helper_main() {
    if (hook_)
        hook_(ThreadEvent::Enter, kRole);
    serve_batches();
    if (hook_)
        hook_(ThreadEvent::Leave, kRole);
}

void ForkJoin::serve_batches() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> locker(lock_);
    for (;;) {
        start_.wait(locker, [&] { return stopping_ || batch_ != seen; });
        if (stopping_)
            return;
        seen = batch_;
        if (!job_)
            continue;
        ++active_;
        const std::function<void(size_t)> &job = *job_;
        const size_t count = count_;
        locker.unlock();
        work(job, count);
        locker.lock();
        if (--active_ == 0)
            done_.notify_one();
    }
}

} // namespace wmstream::server
