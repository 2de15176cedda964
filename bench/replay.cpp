/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "replay.h"

#include <algorithm>

namespace wmstream::bench {

uint64_t Recording::rate_bps() const {
    if (loop_ms == 0)
        return 0;
    return uint64_t(packets.size()) * 8 * 1000 / loop_ms;
}

Result<Recording> load_recording(const uint8_t *data, size_t len) {
    auto info = proto::asf::parse_header(data, len);
    if (!info)
        return info.error();
    Recording recording;
    recording.info = std::move(*info);
    recording.header.assign(data, data + recording.info.total_size);

    const size_t size = recording.info.packet_size;
    std::vector<uint32_t> steps;
    for (size_t offset = recording.info.total_size; offset + size <= len; offset += size) {
        auto packet = proto::asf::parse_packet(data + offset, size, recording.info);
        if (!packet)
            break;
        if (recording.send_ms.empty())
            recording.base = proto::asf::time_base_for(*packet, recording.info);
        else if (packet->send_time_ms < recording.send_ms.back())
            return make_error(Errc::InvalidData, "send times go backwards in the recording");
        else if (packet->send_time_ms > recording.send_ms.back())
            steps.push_back(packet->send_time_ms - recording.send_ms.back());
        recording.packets.insert(recording.packets.end(), data + offset, data + offset + size);
        recording.send_ms.push_back(packet->send_time_ms);
        recording.key_frame_start.push_back(packet->key_frame_start ? 1 : 0);
    }
    if (steps.empty())
        return make_error(Errc::InvalidData, "the recording has fewer than two send times");
    /* The gap between passes: the median step between distinct send times. */
    std::nth_element(steps.begin(), steps.begin() + steps.size() / 2, steps.end());
    recording.loop_ms =
        recording.send_ms.back() - recording.send_ms.front() + steps[steps.size() / 2];
    return recording;
}

ReplayPacket Replay::next() {
    const Recording &r = recording_;
    const size_t size = r.info.packet_size;
    const uint32_t shift = pass_ * r.loop_ms;
    const uint32_t due_ms = r.send_ms[index_] - r.base.send_ms + shift;
    uint32_t send_ms = due_ms;
    if (started_ && send_ms <= last_send_ms_)
        send_ms = last_send_ms_ + 1;

    ReplayPacket out;
    out.data.assign(r.packets.begin() + ptrdiff_t(index_ * size),
                    r.packets.begin() + ptrdiff_t((index_ + 1) * size));
    out.send_ms = send_ms;
    out.due_ms = due_ms;
    out.key_frame_start = r.key_frame_start[index_] != 0;
    /* Unsigned arithmetic: the subtraction wraps as the 32-bit time fields do. */
    const proto::asf::TimeBase base{r.send_ms[index_] - send_ms, r.base.presentation_ms - shift};
    /* The packet parsed when the recording was loaded, so this cannot fail. */
    (void)proto::asf::rebase_packet_times(out.data.data(), size, r.info, base);

    started_ = true;
    last_send_ms_ = send_ms;
    if (++index_ == r.count()) {
        index_ = 0;
        ++pass_;
    }
    return out;
}

} // namespace wmstream::bench
