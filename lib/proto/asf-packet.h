/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to lib/proto: where the parts of one ASF data packet are (ASF
 * §5.2), as the packet walker of asf.cpp finds them, the rewriter of
 * asf-filter.cpp that keeps a subset of its payloads, and the byte helpers
 * asf-mbr.cpp shares. Not for other layers: they use asf.h, asf-filter.h and
 * asf-mbr.h.
 */
#pragma once

#include "proto/asf.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace wmstream::proto::asf::detail {

/* A GUID in its on-disk byte order (first three fields little-endian). */
using Guid = std::array<uint8_t, 16>;

/* ASF_Stream_Bitrate_Properties_Object 7BF875CE-468D-11D1-8D82-006097C9A2B2 (§3.12). */
inline constexpr Guid kStreamBitratePropertiesGuid = {
    0xCE, 0x75, 0xF8, 0x7B, 0x8D, 0x46, 0xD1, 0x11, 0x8D, 0x82, 0x00, 0x60, 0x97, 0xC9, 0xA2, 0xB2};
/* ASF_Bitrate_Mutual_Exclusion_Object D6E229DC-35DA-11D1-9034-00A0C90349BE (§3.8). */
inline constexpr Guid kBitrateMutualExclusionGuid = {
    0xDC, 0x29, 0xE2, 0xD6, 0xDA, 0x35, 0xD1, 0x11, 0x90, 0x34, 0x00, 0xA0, 0xC9, 0x03, 0x49, 0xBE};
/* ASF_Mutex_Bitrate D6E22A01-35DA-11D1-9034-00A0C90349BE (§10.8): the exclusion type of
 * streams that are one content at different bit rates. */
inline constexpr Guid kMutexBitrateGuid = {0x01, 0x2A, 0xE2, 0xD6, 0xDA, 0x35, 0xD1, 0x11,
                                           0x90, 0x34, 0x00, 0xA0, 0xC9, 0x03, 0x49, 0xBE};

/* A time or length field of a packet: where it is and how wide. */
struct TimeField {
    size_t offset;
    size_t width;
    bool send; /* the send time, else a presentation time */
};

/* One payload of a packet: where it is and whether a client's stream may begin with it. */
struct PayloadSpan {
    size_t start = 0;           /* offset of its stream number byte */
    size_t end = 0;             /* offset after its data */
    uint8_t stream = 0;         /* stream number, 1..127 */
    bool starts_object = false; /* offset into its media object 0, or a compressed payload */
    bool key = false;           /* the key-frame bit */
};

/* Where a packet's variable parts are, as walk_packet() found them. The
 * Payload Parsing Information fields are consecutive (§5.2.2): length type
 * flags at packet_length.offset - 2, property flags, packet length,
 * sequence, padding length, send time (4), duration (2), then the payload
 * flags (multiple payloads) at payload_flags_at. */
struct Layout {
    std::vector<TimeField> times;         /* send time first, then presentation times */
    std::vector<PayloadSpan> payloads;    /* in packet order */
    std::optional<size_t> key_payload;    /* index of the first key-frame-start payload */
    size_t payload_flags_at = 0;          /* 0 for single-payload packets */
    TimeField packet_length{0, 0, false}; /* width 0 = absent */
    TimeField padding{0, 0, false};       /* width 0 = absent */
};

/* Appends @p value as @p width little-endian bytes. */
void append_le(std::vector<uint8_t> &out, size_t width, uint64_t value);
/* The 2-bit length type of a field @p width bytes wide (ASF §5.2.2: 0, 1, 2 or 4). */
unsigned length_type(size_t width);
/* True when a field @p width bytes wide holds @p value. */
bool holds(size_t width, uint64_t value);

/* The @p width-byte little-endian integer at @p p. */
uint64_t load_le(const uint8_t *p, size_t width);
/* Writes @p value as @p width little-endian bytes at @p p. */
void store_le(uint8_t *p, size_t width, uint64_t value);

/* True when the header declares stream @p number as video. */
bool is_video_stream(const HeaderInfo &header, unsigned number);

/* Walks a whole data packet (§5.2), as parse_packet() documents. When
 * @p layout is given, it receives where the time fields, payloads and
 * length fields are. */
Result<PacketInfo> walk_packet(const uint8_t *data, size_t len, const HeaderInfo &header,
                               Layout *layout);

/* A copy of a multiple-payload packet that @p layout describes with only the
 * payloads @p keep (one flag per payload) says, the same size: they move up
 * in order, the payload count drops and the freed bytes become padding
 * (§5.2.2: padding, not a short packet length, fills the rest — FFmpeg
 * counts both). An explicit packet length is set to the packet size, or
 * left out when its field is too narrow for it (absent = the fixed size); the
 * padding length field keeps its width when the padding fits it and is
 * otherwise the narrowest that holds it (added when absent). Send time,
 * duration, sequence and error correction data are kept as they are.
 * Nothing for a single-payload packet, or when the fields do not fit (not
 * possible when at least one payload is dropped).
 * With @p strip, the copy ends after its last payload instead: an explicit
 * packet length (its field's width when it holds it, else a word or dword)
 * says how long it is and the padding length field is left out; single-
 * payload packets too; nothing when that saves no byte. */
std::optional<std::vector<uint8_t>> keep_payloads(const uint8_t *data, size_t len,
                                                  const Layout &layout,
                                                  const std::vector<bool> &keep,
                                                  bool strip = false);

} // namespace wmstream::proto::asf::detail
