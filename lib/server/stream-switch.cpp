/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/stream-switch.h"

namespace wmstream::server {

StreamSwitch::StreamSwitch(const proto::asf::StreamSelection &current,
                           const proto::asf::StreamSelection &target)
    : target_(target) {
    const std::bitset<128> whole = target.streams & ~target.key_frames_only;
    waiting_ = (target.streams & ~current.streams) | (whole & current.key_frames_only);
    during_.streams = current.streams | target.streams;
    during_.key_frames_only =
        (target.streams & target.key_frames_only) | (current.key_frames_only & ~target.streams);
}

} // namespace wmstream::server
