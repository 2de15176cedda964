/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/packet-log.h"

#include <cstdint>

namespace wmstream::server {

uint64_t PacketLog::append(PacketRef packet) {
    const uint64_t seq = end();
    if (packet->key_frame_start) {
        keys_.push_back(seq);
        key_streams_ |= packet->key_frame_streams;
    }
    appended_bytes_ += packet->data.size();
    offsets_.push_back(appended_bytes_);
    packets_.push_back(std::move(packet));
    return seq;
}

const PacketRef &PacketLog::at(uint64_t seq) const {
    static const PacketRef none;
    if (seq < begin_ || seq >= end())
        return none;
    return packets_[seq - begin_];
}

bool PacketLog::starts_key_frame_of(uint64_t seq, const std::bitset<128> *streams) const {
    return !streams || (at(seq)->key_frame_streams & *streams).any();
}

std::optional<uint64_t> PacketLog::newest_key_frame(const std::bitset<128> *streams) const {
    for (auto key = keys_.rbegin(); key != keys_.rend(); ++key)
        if (starts_key_frame_of(*key, streams))
            return *key;
    return std::nullopt;
}

uint64_t PacketLog::join_point(uint32_t min_age_ms, const std::bitset<128> *streams) const {
    if (keys_.empty() || min_age_ms == 0)
        return newest_key_frame(streams).value_or(end());
    const uint32_t newest = packets_.back()->send_time_ms;
    uint64_t oldest = end();
    for (auto key = keys_.rbegin(); key != keys_.rend(); ++key) {
        if (!starts_key_frame_of(*key, streams))
            continue;
        if (uint32_t(newest - at(*key)->send_time_ms) >= min_age_ms)
            return *key;
        oldest = *key;
    }
    return oldest;
}

int64_t PacketLog::lag(uint64_t seq, LagUnit unit) const {
    if (seq >= end())
        return 0;
    switch (unit) {
    case LagUnit::Time:
        return packets_.back()->arrival_us - at(seq)->arrival_us;
    case LagUnit::Bytes:
        return int64_t(appended_bytes_ - offsets_[seq - begin_]);
    case LagUnit::Packets:
        break;
    }
    return int64_t(end() - seq);
}

std::optional<uint64_t> PacketLog::key_frame_within(uint64_t from, LagUnit unit, int64_t max,
                                                    const std::bitset<128> *streams) const {
    for (uint64_t key : keys_)
        if (key >= from && lag(key, unit) <= max && starts_key_frame_of(key, streams))
            return key;
    return std::nullopt;
}

uint64_t PacketLog::newest_key_frames_from() const {
    std::bitset<128> seen;
    uint64_t from = end();
    for (auto key = keys_.rbegin(); key != keys_.rend(); ++key) {
        const std::bitset<128> &streams = at(*key)->key_frame_streams;
        if (from == end() || (streams & ~seen).any())
            from = *key;
        seen |= streams;
        if (seen == key_streams_)
            break;
    }
    return from;
}

void PacketLog::trim(LagUnit unit, int64_t max) {
    uint64_t keep_from = newest_key_frames_from();
    const int64_t ceiling = max > INT64_MAX / 2 ? INT64_MAX : 2 * max;
    while (!packets_.empty() && lag(begin_, unit) > (begin_ < keep_from ? max : ceiling)) {
        if (!keys_.empty() && keys_.front() == begin_)
            keys_.pop_front();
        packets_.pop_front();
        offsets_.pop_front();
        if (begin_++ == keep_from)
            keep_from = newest_key_frames_from();
    }
}

void PacketLog::clear() {
    begin_ = end();
    packets_.clear();
    keys_.clear();
    key_streams_.reset();
    offsets_.assign(1, appended_bytes_);
}

} // namespace wmstream::server
