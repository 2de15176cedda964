/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The thin recover policy of one client (sans-IO): while it lags past the
 * soft limit, it keeps its audio and receives only the key frames of its
 * video (MS-WMSP §2.2.1.4.27 thinning level 1, chosen by the server: the
 * client just receives fewer payloads), until it has caught up; then full
 * video again from a key frame. Windows Media Services' stream thinning for
 * clients that fall behind, ../shared/reference/wm-features.md §1.2.
 *
 * Its lag is measured as StreamStore::fetch() measures it for the other
 * recover policies: how far its next packet is behind live beyond where its
 * stream began (Batch::behind, in the lag unit). Caught up means that lag is
 * at most half the soft limit. Includes proto/ only.
 */
#pragma once

#include "proto/asf-filter.h"

#include <bitset>
#include <cstdint>

namespace wmstream::server {

class Thinning {
public:
    enum class Mode {
        Full,     /**< every selected payload */
        Thinned,  /**< video key frames only (behind past the soft limit) */
        Resuming, /**< caught up: key frames only until a key frame of its video begins */
    };

    /**
     * Before a batch of packets: the client lags @p behind (in the lag unit)
     * beyond where its stream began; @p soft_max ≥ 0 is the soft limit.
     * Full → Thinned when behind > soft_max (counted in episodes()); Thinned
     * → Resuming when behind ≤ soft_max / 2; Resuming → Thinned when behind >
     * soft_max again.
     * @return the mode for the batch.
     */
    Mode update(int64_t behind, int64_t soft_max);

    /**
     * In Resuming, for each packet of the batch in order: true (and Full
     * from this packet on) when a key-frame media object of one of
     * @p video (the client's selected video streams) begins in it
     * (PacketInfo::key_frame_streams). Then the payloads of those streams
     * before that key frame in the packet are to be left out (they continue
     * frames it did not get). False in the other modes.
     */
    bool resume_at(const std::bitset<128> &key_frame_streams, const std::bitset<128> &video);

    Mode mode() const { return mode_; }
    /** Its stream (re)starts (a join): Full. */
    void restart() { mode_ = Mode::Full; }
    /** Times it went from Full to Thinned. */
    uint64_t episodes() const { return episodes_; }

    /** @p selection with the video streams of @p video thinned to key frames (thinning
     *  level 1): what the client receives in Thinned and Resuming. */
    static proto::asf::StreamSelection thinned(proto::asf::StreamSelection selection,
                                               const std::bitset<128> &video);

private:
    Mode mode_ = Mode::Full;
    uint64_t episodes_ = 0;
};

} // namespace wmstream::server
