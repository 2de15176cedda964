/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seamless resumption after a reconnection (sans-IO): when the origin comes
 * back with a header that describes the same streams (proto::asf::same_streams():
 * a restarted encoder or server writes a new File ID, nothing a decoder
 * depends on), the header already output stays the stream's header and the
 * new connection's packets get send and presentation times that continue
 * where the previous connection's stopped, plus the wall-clock time of the
 * gap. Downstream (an edge's wmnetsink and its viewers) then sees one stream
 * with a gap, not a new header ($C) and times jumping backwards. A header
 * that differs is output as it is, and the times with it.
 *
 * Source: [MS-WMSP] §3.2.5.7 (a stream resumes at a key frame), ASF §3.2
 * (File ID), §5.2.2 (send time), §7.3 (presentation time in the replicated
 * data).
 */
#pragma once

#include "base/error.h"
#include "proto/asf.h"
#include "pull/stream.h"

#include <cstdint>
#include <optional>

namespace wmstream::pull {

/**
 * Feed it every header and data event in order (Client does). Memory: one
 * HeaderInfo.
 */
class Resume {
public:
    /**
     * A header from the stream. @p after_loss: the first header of a
     * connection made because the previous one was lost (not a $C).
     * @return true when the header is to be output (the first one, a $C, or
     *         streams that differ from the output header's); false when it is
     *         dropped: the data continue under the header already output.
     */
    [[nodiscard]] bool on_header(const proto::asf::HeaderInfo &header, bool after_loss);

    /**
     * A data packet of the current header @p header, handed out at @p now_us
     * (monotonic clock, µs). After a dropped header its times are shifted in
     * place (event.bytes and event.send_time_ms) so that its send time is the
     * last output send time plus the time since that packet was handed out,
     * and the packets after it by the same amount; the first packet after a
     * lost connection gets event.discont.
     * @return success, or Errc::InvalidData when the packet does not parse
     *         (proto::asf::rebase_packet_times(); the event is then unchanged).
     */
    Status on_data(Event &event, const proto::asf::HeaderInfo &header, int64_t now_us);

private:
    std::optional<proto::asf::HeaderInfo> output_; /**< the header downstream has */
    bool resuming_ = false;      /**< a header was dropped; its first packet is next */
    proto::asf::TimeBase shift_; /**< subtracted from the times of this connection's packets */
    std::optional<uint32_t> last_send_ms_; /**< of the last packet output under output_ */
    int64_t last_us_ = 0;                  /**< when it was handed out */
};

} // namespace wmstream::pull
