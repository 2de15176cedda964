/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sets of ASF stream numbers for the unit tests of stream selection
 * (bit n = stream n, as proto::asf::StreamSelection and PacketInfo keep them).
 */
#pragma once

#include "proto/asf-filter.h"

#include <bitset>
#include <initializer_list>

namespace wmstream::test {

/** The set of @p numbers. */
inline std::bitset<128> stream_bits(std::initializer_list<unsigned> numbers) {
    std::bitset<128> set;
    for (unsigned n : numbers)
        set.set(n);
    return set;
}

/** Streams @p streams sent, @p key_frames_only of them thinned to key frames. */
inline proto::asf::StreamSelection
selection_of(std::initializer_list<unsigned> streams,
             std::initializer_list<unsigned> key_frames_only = {}) {
    proto::asf::StreamSelection selection;
    selection.streams = stream_bits(streams);
    selection.key_frames_only = stream_bits(key_frames_only);
    return selection;
}

} // namespace wmstream::test
