/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "relay.h"

#include <glib.h>
#include <utility>

namespace wmstream::plugin {

namespace {
constexpr const char *kRole = "relay";
}

Relay::~Relay() {
    stop();
}

void Relay::start(const ThreadHook &hook) {
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (running_)
            return;
    }
    /* Still joinable when stop() was called from one of its own tasks: that
     * thread only has its queue left to drain. Joined without the lock, which
     * it needs to finish. */
    if (thread_.joinable())
        thread_.join();
    {
        std::lock_guard<std::mutex> locker(lock_);
        running_ = true;
    }
    if (hook)
        hook(ThreadEvent::Create, kRole);
    thread_ = std::thread(&Relay::run, this, hook);
}

void Relay::post(Task task) {
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (!running_)
            return;
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
}

void Relay::stop() {
    {
        std::lock_guard<std::mutex> locker(lock_);
        running_ = false;
    }
    wake_.notify_one();
    if (!thread_.joinable())
        return;
    if (thread_.get_id() == std::this_thread::get_id()) {
        g_critical("wmstream relay: stop() called from a relayed task");
        return;
    }
    thread_.join();
}

void Relay::run(const ThreadHook &hook) {
    if (hook)
        hook(ThreadEvent::Enter, kRole);
    std::unique_lock<std::mutex> locker(lock_);
    for (;;) {
        wake_.wait(locker, [this] { return !tasks_.empty() || !running_; });
        if (tasks_.empty())
            break; /* stopped and drained */
        Task task = std::move(tasks_.front());
        tasks_.pop_front();
        /* Never run a task with the lock held: it may post() again. */
        locker.unlock();
        task();
        locker.lock();
    }
    locker.unlock();
    if (hook)
        hook(ThreadEvent::Leave, kRole);
}

} // namespace wmstream::plugin
