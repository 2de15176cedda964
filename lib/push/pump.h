/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pump (internal to lib/push, sans-IO): what of the stream the push
 * client's open PushStart body carries. Frames, from the StreamBuffer, what
 * is due next: the stream header first ($H), a header change as $E(1) + $C
 * [MS-WMHTTP §4.4], the data packets ($D) and the end ($E(0)); the Body
 * completes the body with $F when a packet does not fit, and that packet
 * goes into the next PushStart.
 *
 * Threading: the push client's I/O thread only. frame() reads the
 * StreamBuffer it is given and nothing else: call it with the lock that
 * protects that buffer held (it takes none and calls nothing out).
 */
#pragma once

#include "push/body.h"
#include "push/buffer.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace wmstream::push {

class Pump {
public:
    using Bytes = std::vector<uint8_t>;
    using BytesRef = std::shared_ptr<const Bytes>;

    /** Where the body stands after framing. */
    enum class State {
        Open,   /**< more may be framed */
        Filled, /**< completed with $F: the rest waits for the next PushStart */
        Ended,  /**< $E(0) framed: the stream is complete */
    };

    /** A new attempt: the next PushStart begins with $H, and @p first_seq is framed next. */
    void restart(uint64_t first_seq);
    /** The server wants a new PushSetup: the next PushStart begins with $H again. */
    void need_header() { header_needed_ = true; }

    /** The packet to frame next: the packets below it were framed (or dropped). */
    uint64_t next_seq() const { return next_seq_; }

    /** Open a body of @p content_length bytes (at least a maximum $H + 4) and frame $H with
     *  @p header into @p out when the PushStart must begin with it. */
    void open(uint32_t content_length, const BytesRef &header, Bytes &out);

    /**
     * Frame the packets of @p buffer from next_seq() on (header changes included) into
     * @p out until it holds kBatchBytes or the buffer has no more.
     * @return Filled when the body was completed with $F, else Open.
     */
    State frame(const StreamBuffer &buffer, Bytes &out);

    /** Frame $E(0). @return Ended, or Filled when it did not fit. */
    State end(Bytes &out);

private:
    Body body_;                    /* the open PushStart body */
    bool header_needed_ = true;    /* the next PushStart begins with $H */
    BytesRef sent_header_;         /* the header the server has now */
    bool next_entry_sent_ = false; /* $E(1) sent, $C not yet */
    uint64_t next_seq_ = 0;        /* next packet to frame */
};

} // namespace wmstream::push
