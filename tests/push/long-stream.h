/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A live-like ASF stream of any length for the hostile-server tests, made
 * on demand from tests/data/asfmux-wmv2.asf (451-byte header, 20 packets of
 * 4800 bytes whose send times span 1560 ms; key frames begin in packets 0,
 * 7, 11 and 15). Packet i is fixture packet i mod 20 with its send and
 * presentation times moved forward by (i / 20) × 1600 ms
 * (proto::asf::rebase_packet_times), so the send times keep rising like those of
 * a live encoder and a key frame begins every 400 ms or so. Nothing is held
 * but the fixture, whatever the number of packets asked for.
 */
#pragma once

#include "proto/asf.h"
#include "receiver.h"

#include <cstddef>
#include <cstdint>

namespace pushtest {

class LongStream {
public:
    static constexpr size_t kPacketSize = 4800;
    static constexpr size_t kCyclePackets = 20;
    static constexpr uint32_t kCycleMs = 1600;

    LongStream(); /**< loads the fixture (aborts the test when it is missing) */

    const Bytes &header() const { return header_; }
    /** Packet @p index (a copy with its times moved). */
    Bytes packet(uint64_t index) const;
    /** Its send time relative to packet 0, ms. */
    uint64_t send_time_ms(uint64_t index) const;
    /** Whether a video key frame begins in packet @p index. */
    bool key_frame_start(uint64_t index) const;
    /** The most consecutive packets whose send times span at most @p window_ms: what a
     *  push::StreamBuffer with that max buffer time can hold at once. */
    size_t max_packets_within(uint64_t window_ms) const;

private:
    Bytes header_;
    wmstream::proto::asf::HeaderInfo info_;
    Bytes packets_[kCyclePackets];
    uint32_t times_[kCyclePackets] = {}; /**< send times relative to packet 0 */
    bool keys_[kCyclePackets] = {};
};

} // namespace pushtest
