/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/intake.h"

#include <algorithm>

namespace wmstream::server {

IntakeLimits IntakeLimits::of(const ServerConfig &config) {
    IntakeLimits limits;
    limits.connecting = size_t(std::max(1, config.max_connecting));
    limits.connecting_per_address = size_t(std::max(1, config.max_connecting_per_address));
    limits.handshakes = size_t(std::max(1, config.max_handshakes));
    limits.handshakes_per_address = size_t(std::max(1, config.max_handshakes_per_address));
    return limits;
}

uint64_t Intake::evictable(uint64_t id, int64_t now) const {
    auto found = held_.find(id);
    return found != held_.end() && now - found->second.since_us >= limits_.grace_us ? id : 0;
}

bool Intake::room(int64_t now, uint64_t *evict) const {
    *evict = 0;
    if (held_.size() < limits_.connecting)
        return true;
    *evict = evictable(held_.begin()->first, now);
    return *evict != 0;
}

Intake::Arrival Intake::arrive(uint64_t id, const std::string &address, int64_t now) {
    Arrival arrival;
    Address &peer = addresses_[address];
    if (peer.held.size() >= limits_.connecting_per_address) {
        arrival.evict = evictable(*peer.held.begin(), now);
        if (arrival.evict == 0) {
            arrival.keep = false;
            return arrival;
        }
    }
    held_.emplace(id, Held{address, now, Tls::None});
    peer.held.insert(id);
    return arrival;
}

bool Intake::may_run(const Held &held) const {
    return running_ < limits_.handshakes &&
           addresses_.at(held.address).running < limits_.handshakes_per_address;
}

bool Intake::hello(uint64_t id) {
    auto found = held_.find(id);
    if (found == held_.end() || found->second.tls != Tls::None)
        return false;
    Held &held = found->second;
    if (!may_run(held)) {
        held.tls = Tls::Waiting;
        waiting_.insert(id);
        return false;
    }
    run(held);
    return true;
}

void Intake::run(Held &held) {
    held.tls = Tls::Running;
    ++running_;
    ++addresses_.at(held.address).running;
}

std::vector<uint64_t> Intake::start_waiting() {
    std::vector<uint64_t> started;
    for (auto it = waiting_.begin(); it != waiting_.end() && running_ < limits_.handshakes;) {
        Held &held = held_.at(*it);
        if (!may_run(held)) {
            ++it;
            continue;
        }
        run(held);
        started.push_back(*it);
        it = waiting_.erase(it);
    }
    return started;
}

std::vector<uint64_t> Intake::handshaken(uint64_t id) {
    auto found = held_.find(id);
    if (found == held_.end() || found->second.tls != Tls::Running)
        return {};
    found->second.tls = Tls::None;
    --running_;
    --addresses_.at(found->second.address).running;
    return start_waiting();
}

std::vector<uint64_t> Intake::leave(uint64_t id) {
    auto found = held_.find(id);
    if (found == held_.end())
        return {};
    std::vector<uint64_t> started = handshaken(id);
    waiting_.erase(id);
    auto peer = addresses_.find(found->second.address);
    peer->second.held.erase(id);
    if (peer->second.held.empty())
        addresses_.erase(peer);
    held_.erase(found);
    /* A slot of its address may have opened for a handshake that waits. */
    std::vector<uint64_t> more = start_waiting();
    started.insert(started.end(), more.begin(), more.end());
    return started;
}

} // namespace wmstream::server
