/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bound on a call that could hang (a deadlock, a wait on a loop that is
 * gone): header-only, for the unit and element tests alike.
 */
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <thread>

namespace wmtest {

/** Runs @p fn on a thread of its own; false when it did not return within @p limit. The
 *  caller then fails the test, and the process ends with that thread still waiting. */
template <typename Duration>
bool returns_within(std::function<void()> fn, Duration limit) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> returned = done->get_future();
    std::thread([fn = std::move(fn), done] {
        fn();
        done->set_value();
    }).detach();
    return returned.wait_for(limit) == std::future_status::ready;
}

} // namespace wmtest
