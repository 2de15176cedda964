/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "relay.h"

#include <glib.h>
#include <utility>

namespace wmstream::plugin {

Relay::~Relay() {
    stop();
}

void Relay::start() {
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
    std::lock_guard<std::mutex> locker(lock_);
    running_ = true;
    thread_ = std::thread(&Relay::run, this);
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

void Relay::run() {
    std::unique_lock<std::mutex> locker(lock_);
    for (;;) {
        wake_.wait(locker, [this] { return !tasks_.empty() || !running_; });
        if (tasks_.empty())
            return; /* stopped and drained */
        Task task = std::move(tasks_.front());
        tasks_.pop_front();
        /* Never run a task with the lock held: it may post() again. */
        locker.unlock();
        task();
        locker.lock();
    }
}

} // namespace wmstream::plugin
