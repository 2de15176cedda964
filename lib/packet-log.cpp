/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "packet-log.h"

namespace wmstream {

uint64_t PacketLog::append(PacketRef packet) {
    const uint64_t seq = end();
    if (packet->key_frame_start)
        newest_key_ = seq;
    bytes_ += packet->data.size();
    packets_.push_back(std::move(packet));
    return seq;
}

const PacketRef &PacketLog::at(uint64_t seq) const {
    static const PacketRef none;
    if (seq < begin_ || seq >= end())
        return none;
    return packets_[seq - begin_];
}

void PacketLog::trim(int64_t now_us, int64_t window_us) {
    const uint64_t keep_from = newest_key_.value_or(end());
    while (!packets_.empty() && begin_ < keep_from &&
           packets_.front()->arrival_us < now_us - window_us) {
        bytes_ -= packets_.front()->data.size();
        packets_.pop_front();
        ++begin_;
    }
}

void PacketLog::clear() {
    begin_ = end();
    packets_.clear();
    newest_key_.reset();
    bytes_ = 0;
}

} // namespace wmstream
