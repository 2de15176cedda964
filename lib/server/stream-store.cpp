/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/stream-store.h"

#include "proto/framing.h"

#include <algorithm>

namespace wmstream::server {

LagLimits LagLimits::of(const ServerConfig &config) {
    return {config.lag_unit, config.lag_soft_max, config.lag_max, config.recover_policy};
}

Result<StartupPolicy> StartupPolicy::of(const ServerConfig &config) {
    auto bitrates =
        proto::asf::BitrateDescription::parse(config.mutual_exclusion, config.stream_bitrates);
    if (!bitrates)
        return bitrates.error();
    return StartupPolicy{config.fast_start_ms, config.preroll_ms, std::move(*bitrates)};
}

void StreamStore::set_limits(const LagLimits &limits) {
    std::lock_guard<std::mutex> locker(lock_);
    limits_ = limits;
    publish(true);
}

void StreamStore::set_startup(const StartupPolicy &policy) {
    std::lock_guard<std::mutex> locker(lock_);
    startup_ = policy;
}

Result<Due> StreamStore::set_header(const uint8_t *data, size_t len) {
    StartupPolicy startup;
    {
        std::lock_guard<std::mutex> locker(lock_);
        startup = startup_;
    }
    const int64_t preroll_ms = startup.preroll_ms;
    auto described = proto::asf::add_bitrate_objects(data, len, startup.bitrates);
    if (!described)
        return described.error();
    auto fixed = proto::asf::make_live_header(described->data(), described->size());
    if (!fixed)
        return fixed.error();
    if (preroll_ms >= 0)
        if (Status set = proto::asf::set_preroll(*fixed, uint64_t(preroll_ms)); !set)
            return set.error();
    auto info = proto::asf::parse_header(fixed->data(), fixed->size());
    if (!info)
        return info.error();
    if (Status fits = proto::framing::check_pull_packet_size(info->packet_size); !fits)
        return fits.error();
    std::lock_guard<std::mutex> locker(lock_);
    if (header_ && header_->raw == *fixed)
        return Due::Nothing;
    auto header = std::make_shared<StreamHeader>();
    header->info = std::move(*info);
    header->pull = proto::framing::pull_header_packets(fixed->data(), fixed->size());
    header->raw = std::move(*fixed);
    header->generation = ++generations_;
    header_ = std::move(header);
    header_generation_.store(header_->generation, std::memory_order_release);
    /* Packets of the old header cannot follow the new one. */
    log_.clear();
    runs_.restart();
    time_base_.reset();
    eos_ = false;
    publish(true);
    return Due::Wake;
}

/* Parsed and rebased outside the lock: the I/O thread fetches meanwhile. */
Result<Due> StreamStore::push(const uint8_t *data, size_t len, int64_t now_us) {
    StreamHeaderRef header;
    std::optional<proto::asf::TimeBase> base;
    {
        std::lock_guard<std::mutex> locker(lock_);
        header = header_;
        base = time_base_;
    }
    if (!header)
        return make_error(Errc::InvalidData, "ASF data packet before any ASF header");
    auto info = proto::asf::parse_packet(data, len, header->info);
    if (!info)
        return info.error();
    auto packet = std::make_shared<Packet>();
    packet->data.assign(data, data + len);
    if (!base)
        base = proto::asf::time_base_for(*info, header->info);
    if (auto rebased =
            proto::asf::rebase_packet_times(packet->data.data(), len, header->info, *base);
        !rebased)
        return rebased.error();
    /* asfmux's packets with padding say only their payloads' bytes (proto/asf.h). */
    if (auto completed = proto::asf::complete_packet_length(packet->data.data(), len, header->info);
        !completed)
        return completed.error();
    packet->key_frame_start = info->key_frame_start;
    packet->key_frame_streams = info->key_frame_streams;
    packet->streams = info->streams;
    if (info->key_frame_start) {
        auto trimmed = proto::asf::trim_to_key_frame(packet->data.data(), len, header->info);
        if (trimmed && *trimmed != packet->data)
            packet->join_data = std::move(*trimmed);
    }
    packet->send_time_ms = info->send_time_ms - base->send_ms;
    packet->arrival_us = now_us;
    std::lock_guard<std::mutex> locker(lock_);
    if (!time_base_)
        time_base_ = base;
    packet->seq = log_.end();
    const PacketRef appended = std::move(packet);
    log_.append(appended);
    if (runs_.watched() != 0)
        runs_.append(appended,
                     std::shared_ptr<const proto::asf::HeaderInfo>(header, &header->info));
    if (limits_.max >= 0)
        log_.trim(limits_.unit, limits_.max);
    publish(eos_);
    eos_ = false;
    return Due::Flush;
}

Due StreamStore::end_of_stream() {
    std::lock_guard<std::mutex> locker(lock_);
    eos_ = true;
    publish(true);
    return Due::Wake;
}

Due StreamStore::reset() {
    std::lock_guard<std::mutex> locker(lock_);
    log_.clear();
    runs_.restart();
    time_base_.reset();
    eos_ = false;
    publish(true);
    return Due::Wake;
}

void StreamStore::clear() {
    std::lock_guard<std::mutex> locker(lock_);
    header_.reset();
    header_generation_.store(0, std::memory_order_release);
    log_.clear();
    runs_.restart();
    time_base_.reset();
    eos_ = false;
    publish(true);
}

void StreamStore::publish(bool changed) {
    appended_bytes_.store(log_.appended_bytes(), std::memory_order_release);
    end_seq_.store(log_.end(), std::memory_order_release);
    if (changed)
        changes_.fetch_add(1, std::memory_order_acq_rel);
}

StreamHeaderRef StreamStore::header() const {
    std::lock_guard<std::mutex> locker(lock_);
    return header_;
}

uint64_t StreamStore::join_point(const std::bitset<128> *key_streams) const {
    std::lock_guard<std::mutex> locker(lock_);
    int64_t fast_start_ms = startup_.fast_start_ms;
    if (fast_start_ms < 0)
        fast_start_ms = header_ ? int64_t(header_->info.preroll_ms) + kFastStartMarginMs : 0;
    const auto min_age_ms = uint32_t(std::clamp<int64_t>(fast_start_ms, 0, UINT32_MAX));
    const uint64_t join = log_.join_point(min_age_ms, key_streams);
    const LagLimits &l = limits_;
    if (l.soft_max < 0 || log_.lag(join, l.unit) <= l.soft_max)
        return join;
    return log_.key_frame_within(join, l.unit, l.soft_max, key_streams)
        .value_or(log_.newest_key_frame(key_streams).value_or(log_.end()));
}

Pending StreamStore::pending(uint64_t next_seq, int64_t start_lag, int64_t now_us) const {
    Pending pending;
    std::lock_guard<std::mutex> locker(lock_);
    pending.recheck.changes = changes_.load(std::memory_order_relaxed);
    if (eos_ || next_seq < log_.begin()) {
        pending.urgent = true;
        return pending;
    }
    if (next_seq >= log_.end()) {
        pending.recheck.at_seq = next_seq + 1;
        return pending;
    }
    pending.bytes = uint64_t(log_.lag(next_seq, LagUnit::Bytes));
    pending.offset = log_.appended_bytes() - pending.bytes;
    pending.oldest_us = log_.at(next_seq)->arrival_us;
    /* Urgent past the lower of the halves of the limits; until then, a recheck where its lag
     * passes it. */
    const LagLimits &l = limits_;
    int64_t half = INT64_MAX;
    if (l.max >= 0)
        half = l.max / 2;
    if (l.soft_max >= 0)
        half = std::min(half, start_lag + l.soft_max / 2);
    if (half == INT64_MAX)
        return pending;
    const int64_t lag = log_.lag(next_seq, l.unit);
    pending.urgent = lag > half;
    if (pending.urgent)
        return pending;
    switch (l.unit) {
    case LagUnit::Bytes:
        pending.recheck.at_bytes = pending.offset + uint64_t(half) + 1;
        break;
    case LagUnit::Packets:
        pending.recheck.at_seq = next_seq + uint64_t(half) + 1;
        break;
    case LagUnit::Time:
        /* Its lag grows with the packets that arrive from then on. */
        if (const int64_t at = pending.oldest_us + half + 1; at > now_us)
            pending.recheck.at_us = at;
        else
            pending.recheck.at_seq = log_.end() + 1;
        break;
    }
    return pending;
}

Batch StreamStore::fetch(uint64_t &next_seq, bool &need_key, int64_t &start_lag, size_t max_bytes,
                         std::vector<PacketRef> &packets, const std::bitset<128> *key_streams,
                         const std::bitset<128> *streams) const {
    Batch batch;
    packets.clear();
    std::lock_guard<std::mutex> locker(lock_);
    const uint64_t end = log_.end();
    const LagLimits &l = limits_;
    if (need_key) {
        next_seq = std::max(next_seq, log_.begin()); /* still waiting for a key frame */
    } else if (next_seq < log_.begin() || (l.max >= 0 && log_.lag(next_seq, l.unit) > l.max)) {
        batch.too_slow = true;
        return batch;
    } else if (l.soft_max >= 0 &&
               (batch.behind = log_.lag(next_seq, l.unit) - start_lag) > l.soft_max) {
        std::optional<uint64_t> to;
        switch (l.recover_policy) {
        case RecoverPolicy::None:
        case RecoverPolicy::Thin:
            break;
        case RecoverPolicy::Latest:
            to = end - 1;
            break;
        case RecoverPolicy::KeyFrame:
            to = log_.newest_key_frame(key_streams);
            break;
        case RecoverPolicy::SoftLimit:
            to = log_.key_frame_within(next_seq, l.unit, start_lag + l.soft_max, key_streams);
            break;
        }
        if (to && *to > next_seq) {
            next_seq = *to;
            batch.skipped = true;
            batch.joined = log_.at(*to)->key_frame_start;
        }
    }
    if (need_key) {
        while (next_seq < end &&
               !(key_streams ? (log_.at(next_seq)->key_frame_streams & *key_streams).any()
                             : log_.at(next_seq)->key_frame_start))
            ++next_seq;
        need_key = next_seq == end;
        batch.joined = !need_key;
        if (batch.joined)
            start_lag = log_.lag(next_seq, l.unit);
    }
    if (batch.joined)
        batch.join_lag_us = log_.at(end - 1)->arrival_us - log_.at(next_seq)->arrival_us;
    size_t bytes = 0;
    while (!need_key && next_seq < end && bytes < max_bytes) {
        const PacketRef &packet = log_.at(next_seq++);
        bytes += packet->data.size();
        if (!streams || (packet->streams & *streams).any())
            packets.push_back(packet);
    }
    batch.bytes = bytes;
    if (next_seq < end)
        batch.lag_us = log_.at(end - 1)->arrival_us - log_.at(next_seq)->arrival_us;
    batch.end_of_stream = eos_ && next_seq >= end;
    return batch;
}

std::unique_ptr<SelectionWatch>
StreamStore::watch(const proto::asf::StreamSelection &selection) const {
    std::lock_guard<std::mutex> locker(lock_);
    if (!runs_.watch(selection))
        return nullptr;
    return std::make_unique<SelectionWatch>(*this, selection);
}

SelectionWatch::~SelectionWatch() {
    std::lock_guard<std::mutex> locker(store_.lock_);
    store_.runs_.unwatch(selection_);
}

} // namespace wmstream::server
