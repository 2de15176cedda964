/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/thinning.h"

namespace wmstream::server {

Thinning::Mode Thinning::update(int64_t behind, int64_t soft_max) {
    if (behind > soft_max) {
        if (mode_ == Mode::Full)
            ++episodes_;
        mode_ = Mode::Thinned;
    } else if (mode_ == Mode::Thinned && behind <= soft_max / 2) {
        mode_ = Mode::Resuming;
    }
    return mode_;
}

bool Thinning::resume_at(const std::bitset<128> &key_frame_streams, const std::bitset<128> &video) {
    if (mode_ != Mode::Resuming || (key_frame_streams & video).none())
        return false;
    mode_ = Mode::Full;
    return true;
}

proto::asf::StreamSelection Thinning::thinned(proto::asf::StreamSelection selection,
                                              const std::bitset<128> &video) {
    selection.key_frames_only |= video & selection.streams;
    return selection;
}

} // namespace wmstream::server
