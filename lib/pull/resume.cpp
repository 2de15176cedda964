/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seamless resumption: headers compared, packet times shifted to continue.
 */
#include "pull/resume.h"

namespace wmstream::pull {

bool Resume::on_header(const proto::asf::HeaderInfo &header, bool after_loss) {
    if (after_loss && output_ && proto::asf::same_streams(*output_, header)) {
        resuming_ = true;
        return false;
    }
    output_ = header;
    resuming_ = false;
    shift_ = {};
    last_send_ms_.reset();
    return true;
}

Status Resume::on_data(Event &event, const proto::asf::HeaderInfo &header, int64_t now_us) {
    proto::asf::TimeBase shift = shift_;
    if (resuming_) {
        shift = {};
        if (last_send_ms_) {
            const int64_t gap_ms = now_us > last_us_ ? (now_us - last_us_) / 1000 : 0;
            /* Modulo 2^32, as the fields are: a shift forward is a base "below zero". */
            const uint32_t target = *last_send_ms_ + static_cast<uint32_t>(gap_ms);
            shift.send_ms = shift.presentation_ms = event.send_time_ms - target;
        }
    }
    if (shift.send_ms) {
        Status shifted =
            proto::asf::rebase_packet_times(event.bytes.data(), event.bytes.size(), header, shift);
        if (!shifted)
            return shifted;
        event.send_time_ms -= shift.send_ms;
    }
    if (resuming_)
        event.discont = true;
    resuming_ = false;
    shift_ = shift;
    last_send_ms_ = event.send_time_ms;
    last_us_ = now_us;
    return {};
}

} // namespace wmstream::pull
