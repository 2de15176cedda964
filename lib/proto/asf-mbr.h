/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Multiple bit rates in the served header (sans-IO): the objects a muxer
 * that cannot describe a multiple-bit-rate (MBR) stream leaves out, added
 * to a copy of its header, so that players choose one stream of each group
 * of alternatives by bit rate.
 *
 * Source: ASF Specification rev. 01.20.03 §3.8 (Bitrate Mutual Exclusion
 * Object, exclusion type ASF_Mutex_Bitrate §10.8), §3.12 (Stream Bitrate
 * Properties Object), §3.1 (Header Object: object count and size).
 * GStreamer's asfmux writes neither object (its object table,
 * gst-plugins-bad gst/asfmux/gstasfobjects.h) and no video bit rate at all;
 * VLC chooses the video stream by the Stream Bitrate Properties Object
 * (--mms-maxbitrate), ../shared/reference/wm-features.md §1.1.
 */
#pragma once

#include "base/error.h"
#include "proto/asf.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wmstream::proto::asf {

/** Which streams of a header are alternatives, and their bit rates. */
struct BitrateDescription {
    enum class Exclusion {
        Automatic, /**< every video stream, when the header has two or more, is one group */
        None,      /**< no group: the header is not described as MBR */
        Groups,    /**< the groups named */
    };
    Exclusion exclusion = Exclusion::Automatic;
    /** With Groups: each group's stream numbers (1..127, at least two, a stream in one group
     *  at most). */
    std::vector<std::vector<uint8_t>> groups;
    /** Declared average bit rates, (stream number, bits/s > 0). */
    std::vector<std::pair<uint8_t, uint32_t>> bitrates;

    /**
     * The description two texts give (wmnetsink's mutual-exclusion and stream-bitrates).
     *
     * @param mutual_exclusion "" or "auto" = Automatic; "none" = None; else groups separated
     *        by ';', each stream numbers separated by ',' or white space ("1,2,3" or
     *        "1,2;4,5").
     * @param stream_bitrates "" = none declared; else NUMBER:BITS items separated by ',' or
     *        white space ("1:300000,2:700000,3:1500000"), bits/s in decimal.
     * @return the description, or Errc::InvalidArgument naming the item at fault.
     */
    [[nodiscard]] static Result<BitrateDescription> parse(const std::string &mutual_exclusion,
                                                          const std::string &stream_bitrates);
};

/**
 * A copy of a streamable ASF header (Header Object + 50-byte Data Object
 * head, as parse_header() takes) that describes its streams as
 * @p description says.
 *
 * The groups (Automatic: all video streams when there are two or more)
 * become one Bitrate Mutual Exclusion Object each, of type ASF_Mutex_Bitrate;
 * with a group or a declared bit rate, a Stream Bitrate Properties Object
 * gives every stream its rate: the declared one, else HeaderInfo's
 * StreamInfo::bitrate (audio: its format's rate; undeclared video: 0,
 * unknown). The objects are appended to the Header Object, whose size and
 * object count grow; every other byte (the Data Object head included) is
 * unchanged. A header that already has either object, or that no group or
 * declared rate applies to, comes back unchanged: applying the result
 * again changes nothing.
 *
 * @return the copy (HeaderInfo::total_size bytes of the result), the
 *         parse_header() error, or Errc::InvalidData when a group or a
 *         declared rate names a stream the header does not declare.
 */
[[nodiscard]] Result<std::vector<uint8_t>>
add_bitrate_objects(const uint8_t *data, size_t len, const BitrateDescription &description);

} // namespace wmstream::proto::asf
