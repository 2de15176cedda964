/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The benchmark's live source material (sans-IO): a pre-encoded ASF
 * recording (asfmux streamable=true written to a file: the Header Object,
 * the 50-byte Data Object head, then fixed-size data packets) replayed as an
 * endless live stream.
 *
 * Each replayed packet gets new times (proto::asf::rebase_packet_times): send
 * times start at 0 and advance by one recording length per pass, and are
 * made unique and strictly increasing (a packet that would share its send
 * time with the previous one — the fragments of one big frame — gets the
 * previous one + 1 ms), so that the send time identifies a packet for the
 * timing side channel (timing-channel.h); presentation times start at the
 * preroll and advance the same way. A packet is due at its original send
 * time, not at the unique one: the fragments of one frame are handed over
 * together, back to back, as asfmux pushes them. A server that rebases times to start at
 * zero (wmnetsink) therefore serves the packets unchanged, and every server
 * under test serves byte-identical packets.
 */
#pragma once

#include "base/error.h"
#include "proto/asf.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wmstream::bench {

/** A recording loaded in memory. */
struct Recording {
    std::vector<uint8_t> header; /**< Header Object + Data Object head (HeaderInfo::total_size) */
    proto::asf::HeaderInfo info;
    std::vector<uint8_t> packets;         /**< count × info.packet_size bytes, back to back */
    std::vector<uint32_t> send_ms;        /**< each packet's original send time, ms */
    std::vector<uint8_t> key_frame_start; /**< each packet: 1 when a join may start there */
    proto::asf::TimeBase base; /**< origins of the first packet (proto::asf::time_base_for) */
    /** Length of one pass: the send-time span + the median step between distinct send times
     *  (about one packet interval, at least one frame interval), ms. */
    uint32_t loop_ms = 0;

    size_t count() const { return send_ms.size(); }
    /** Rate of the data packets, bits/s. */
    uint64_t rate_bps() const;
};

/**
 * Load a recording from the bytes of the file. Packets are taken up to the
 * first one that does not parse (an index or a truncated tail ends the data).
 * @return the recording, or Errc::InvalidData (not an ASF header, no data
 *         packet, or send times that do not advance).
 */
Result<Recording> load_recording(const uint8_t *data, size_t len);

/** One packet of the live stream. */
struct ReplayPacket {
    std::vector<uint8_t> data; /**< exactly the header's packet size, times rewritten */
    uint32_t send_ms = 0;      /**< its (new, unique) send time, ms from the start of the stream */
    /** When it is due, ms from the start of the stream: its original send time, shared by the
     *  fragments of one frame (≤ send_ms). */
    uint32_t due_ms = 0;
    bool key_frame_start = false;
};

/** The endless live stream made of a recording. */
class Replay {
public:
    explicit Replay(const Recording &recording) : recording_(recording) {}
    /** The next packet (pass after pass, never ends). */
    ReplayPacket next();

private:
    const Recording &recording_;
    size_t index_ = 0;
    uint32_t pass_ = 0;
    bool started_ = false;
    uint32_t last_send_ms_ = 0;
};

} // namespace wmstream::bench
