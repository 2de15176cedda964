/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One client's SelectStream in progress (sans-IO): MS-WMSP §3.2.5.7 says
 * "any new streams … MUST be transmitted beginning with an ASF key-frame
 * payload" and "any streams that are replaced … MUST continue to be
 * transmitted until the first ASF key-frame payload of the new stream is
 * transmitted". So from the request on, the client receives both selections
 * (during()), its new streams held back until each begins with a key frame
 * (a media object's first payload for audio: the start filter of its
 * connection, proto::asf::drop_unstarted_payloads); once every one has
 * begun (done()), it receives the new selection alone (target()).
 * Includes proto/ only.
 */
#pragma once

#include "proto/asf-filter.h"

#include <bitset>

namespace wmstream::server {

class StreamSwitch {
public:
    /**
     * A switch from @p current (what the client receives now) to
     * @p target (proto::wmsp::switch_streams()). The streams that wait for
     * a key frame: those of @p target it did not receive, and those it
     * received thinned to key frames that @p target sends whole (their next
     * delta frames would refer to frames it never got). A stream thinned by
     * the switch is thinned at once.
     */
    StreamSwitch(const proto::asf::StreamSelection &current,
                 const proto::asf::StreamSelection &target);

    /** What the client receives until done(): every stream of both, each stream of
     *  target() at its thinning level there. */
    const proto::asf::StreamSelection &during() const { return during_; }
    /** What it receives once done(). */
    const proto::asf::StreamSelection &target() const { return target_; }
    /** The streams that must begin with a key frame, by stream number. */
    const std::bitset<128> &waiting() const { return waiting_; }
    /** True once each waiting stream is in @p started (the streams begun, by number). */
    [[nodiscard]] bool done(const std::bitset<128> &started) const {
        return (started & waiting_) == waiting_;
    }

private:
    proto::asf::StreamSelection during_;
    proto::asf::StreamSelection target_;
    std::bitset<128> waiting_;
};

} // namespace wmstream::server
