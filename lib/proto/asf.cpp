/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ASF header and data packet parsing (see asf.h for the sources).
 *
 * Every read is bounds-checked against the caller's length; every bad size
 * is reported as Errc::InvalidData with the name of the field at fault.
 */
#include "proto/asf.h"
#include "proto/asf-packet.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

namespace wmstream::proto::asf {

namespace {

using detail::is_video_stream;
using detail::keep_payloads;
using detail::Layout;
using detail::load_le;
using detail::PayloadSpan;
using detail::store_le;
using detail::TimeField;
using detail::walk_packet;

using detail::Guid;
using detail::kBitrateMutualExclusionGuid;
using detail::kStreamBitratePropertiesGuid;

/* GUIDs in their on-disk byte order (first three fields little-endian). */
constexpr Guid kHeaderObjectGuid = {0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
                                    0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
constexpr Guid kDataObjectGuid = {0x36, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
                                  0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
constexpr Guid kFilePropertiesGuid = {0xA1, 0xDC, 0xAB, 0x8C, 0x47, 0xA9, 0xCF, 0x11,
                                      0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65};
constexpr Guid kStreamPropertiesGuid = {0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11,
                                        0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65};
constexpr Guid kAudioMediaGuid = {0x40, 0x9E, 0x69, 0xF8, 0x4D, 0x5B, 0xCF, 0x11,
                                  0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B};
constexpr Guid kVideoMediaGuid = {0xC0, 0xEF, 0x19, 0xBC, 0x4D, 0x5B, 0xCF, 0x11,
                                  0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B};

/* Object layout (§3.1): GUID 16 + size u64. */
constexpr size_t kObjectHeadSize = 24;
/* Header Object: object head + object count u32 + reserved 2 bytes. */
constexpr size_t kHeaderObjectHeadSize = 30;

/* File Properties Object field offsets (§3.2, reference §2.5). */
constexpr size_t kFpSize = 104;
constexpr size_t kFpFileSize = 40;
constexpr size_t kFpDataPacketsCount = 56;
constexpr size_t kFpPlayDuration = 64;
constexpr size_t kFpSendDuration = 72;
constexpr size_t kFpPreroll = 80;
constexpr size_t kFpFlags = 88;
constexpr size_t kFpMinPacketSize = 92;
constexpr size_t kFpMaxPacketSize = 96;
constexpr size_t kFpMaxBitrate = 100;
constexpr uint32_t kFlagBroadcast = 0x1;
constexpr uint32_t kFlagSeekable = 0x2;

/* Stream Properties Object (§3.3): stream type GUID at 24, type-specific data length u32 at
 * 64, flags u16 at 72 (stream number in bits 0-6); the fixed part ends at 78, where the
 * type-specific data starts (audio: WAVEFORMATEX, nAvgBytesPerSec u32 at its byte 8, §9.1). */
constexpr size_t kSpStreamType = 24;
constexpr size_t kSpTypeSpecificLength = 64;
constexpr size_t kSpFlags = 72;
constexpr size_t kSpMinSize = 78;
constexpr size_t kWaveAvgBytesPerSec = 8;

/* Stream Bitrate Properties Object (§3.12): records count u16 at 24, then records of flags
 * u16 (stream number in bits 0-6) and average bitrate u32. Bitrate Mutual Exclusion Object
 * (§3.8): exclusion type GUID at 24, stream numbers count u16 at 40, then u16 numbers. */
constexpr size_t kSbCount = 24;
constexpr size_t kSbRecordSize = 6;
constexpr size_t kMeCount = 40;

/* Data Object head fields (§3.1 / asf.h). */
constexpr size_t kDoSize = 16;
constexpr size_t kDoTotalDataPackets = 40;

constexpr uint32_t kMaxPacketSize = 65536;

bool guid_at(const uint8_t *p, const Guid &guid) {
    return std::memcmp(p, guid.data(), 16) == 0;
}

Error invalid(std::string message) {
    return make_error(Errc::InvalidData, std::move(message));
}

/* Where the fields make_live_header() rewrites live in a parsed header. */
struct HeaderLayout {
    HeaderInfo info;
    size_t file_properties = 0; /* offset of the File Properties Object */
};

Status parse_file_properties(const uint8_t *obj, uint64_t size, HeaderInfo &info) {
    if (size < kFpSize) {
        return invalid("ASF header: File Properties Object size " + std::to_string(size) +
                       " is below " + std::to_string(kFpSize));
    }
    uint32_t min_size = static_cast<uint32_t>(load_le(obj + kFpMinPacketSize, 4));
    uint32_t max_size = static_cast<uint32_t>(load_le(obj + kFpMaxPacketSize, 4));
    if (min_size == 0 || min_size > kMaxPacketSize) {
        return invalid("ASF header: File Properties min data packet size " +
                       std::to_string(min_size) + " is not in 1.." +
                       std::to_string(kMaxPacketSize));
    }
    if (min_size != max_size) {
        return invalid("ASF header: File Properties min data packet size " +
                       std::to_string(min_size) + " differs from max " + std::to_string(max_size));
    }
    info.packet_size = min_size;
    info.max_bitrate = static_cast<uint32_t>(load_le(obj + kFpMaxBitrate, 4));
    info.preroll_ms = load_le(obj + kFpPreroll, 8);
    info.flags = static_cast<uint32_t>(load_le(obj + kFpFlags, 4));
    return {};
}

Status parse_stream_properties(const uint8_t *obj, uint64_t size, HeaderInfo &info) {
    if (size < kSpMinSize) {
        return invalid("ASF header: Stream Properties Object size " + std::to_string(size) +
                       " is below " + std::to_string(kSpMinSize));
    }
    StreamInfo stream;
    stream.number = static_cast<uint8_t>(load_le(obj + kSpFlags, 2) & 0x7f);
    if (stream.number == 0) {
        return invalid("ASF header: Stream Properties stream number is 0");
    }
    stream.video = guid_at(obj + kSpStreamType, kVideoMediaGuid);
    stream.audio = guid_at(obj + kSpStreamType, kAudioMediaGuid);
    const uint64_t specific = load_le(obj + kSpTypeSpecificLength, 4);
    if (stream.audio && specific >= kWaveAvgBytesPerSec + 4 && kSpMinSize + specific <= size)
        stream.bitrate =
            static_cast<uint32_t>(load_le(obj + kSpMinSize + kWaveAvgBytesPerSec, 4) * 8);
    stream.properties.assign(obj, obj + size);
    info.streams.push_back(std::move(stream));
    return {};
}

/* A list of @p count records of @p record_size bytes at @p at of an object of @p size bytes,
 * or an error naming @p object. */
Status check_records(const char *object, uint64_t size, size_t at, uint64_t count,
                     size_t record_size) {
    if (size < at + 2 || (size - at - 2) / record_size < count)
        return invalid(std::string("ASF header: ") + object + " of " + std::to_string(size) +
                       " bytes is too short for its " + std::to_string(count) + " records");
    return {};
}

/* Stream Bitrate Properties (§3.12): @p bitrates gets (stream number, bits/s) per record. */
Status parse_stream_bitrates(const uint8_t *obj, uint64_t size,
                             std::vector<std::pair<uint8_t, uint32_t>> &bitrates) {
    const uint64_t count = size >= kSbCount + 2 ? load_le(obj + kSbCount, 2) : 0;
    if (Status fits =
            check_records("Stream Bitrate Properties Object", size, kSbCount, count, kSbRecordSize);
        !fits)
        return fits;
    for (uint64_t i = 0; i < count; ++i) {
        const uint8_t *record = obj + kSbCount + 2 + i * kSbRecordSize;
        bitrates.emplace_back(static_cast<uint8_t>(load_le(record, 2) & 0x7f),
                              static_cast<uint32_t>(load_le(record + 2, 4)));
    }
    return {};
}

/* Bitrate Mutual Exclusion (§3.8): its stream numbers become one of @p info's groups. */
Status parse_mutual_exclusion(const uint8_t *obj, uint64_t size, HeaderInfo &info) {
    const uint64_t count = size >= kMeCount + 2 ? load_le(obj + kMeCount, 2) : 0;
    if (Status fits = check_records("Bitrate Mutual Exclusion Object", size, kMeCount, count, 2);
        !fits)
        return fits;
    std::vector<uint8_t> group;
    for (uint64_t i = 0; i < count; ++i)
        group.push_back(static_cast<uint8_t>(load_le(obj + kMeCount + 2 + i * 2, 2) & 0x7f));
    info.exclusion_groups.push_back(std::move(group));
    return {};
}

Result<HeaderLayout> parse_layout(const uint8_t *data, size_t len) {
    if (len < kHeaderObjectHeadSize) {
        return invalid("ASF header: " + std::to_string(len) +
                       " bytes, too short for a Header Object");
    }
    if (!guid_at(data, kHeaderObjectGuid)) {
        return invalid("ASF header: does not start with the Header Object GUID");
    }
    uint64_t header_size = load_le(data + 16, 8);
    if (header_size < kHeaderObjectHeadSize || header_size > len ||
        len - header_size < kDataObjectHeadSize) {
        return invalid("ASF header: Header Object size " + std::to_string(header_size) +
                       " does not leave room for the " + std::to_string(kDataObjectHeadSize) +
                       "-byte Data Object head in " + std::to_string(len) + " bytes");
    }

    HeaderLayout layout;
    std::vector<std::pair<uint8_t, uint32_t>> bitrates;
    bool have_file_properties = false;
    size_t pos = kHeaderObjectHeadSize;
    while (pos < header_size) {
        size_t left = header_size - pos;
        if (left < kObjectHeadSize) {
            return invalid("ASF header: " + std::to_string(left) + " trailing bytes at offset " +
                           std::to_string(pos) + " are too short for an object");
        }
        const uint8_t *obj = data + pos;
        uint64_t size = load_le(obj + 16, 8);
        if (size < kObjectHeadSize || size > left) {
            return invalid("ASF header: object size " + std::to_string(size) + " at offset " +
                           std::to_string(pos) + " is below 24 or runs past the Header Object");
        }
        if (guid_at(obj, kFilePropertiesGuid) && !have_file_properties) {
            Status status = parse_file_properties(obj, size, layout.info);
            if (!status) {
                return status.error();
            }
            have_file_properties = true;
            layout.file_properties = pos;
        } else if (guid_at(obj, kStreamPropertiesGuid)) {
            Status status = parse_stream_properties(obj, size, layout.info);
            if (!status) {
                return status.error();
            }
        } else if (guid_at(obj, kStreamBitratePropertiesGuid)) {
            if (Status status = parse_stream_bitrates(obj, size, bitrates); !status)
                return status.error();
            layout.info.has_stream_bitrates = true;
        } else if (guid_at(obj, kBitrateMutualExclusionGuid)) {
            if (Status status = parse_mutual_exclusion(obj, size, layout.info); !status)
                return status.error();
        }
        pos += static_cast<size_t>(size);
    }
    if (!have_file_properties) {
        return invalid("ASF header: no File Properties Object");
    }
    for (const auto &[number, bitrate] : bitrates)
        for (StreamInfo &stream : layout.info.streams)
            if (stream.number == number)
                stream.bitrate = bitrate;
    if (!guid_at(data + header_size, kDataObjectGuid)) {
        return invalid("ASF header: no Data Object GUID after the Header Object");
    }
    layout.info.header_object_size = static_cast<size_t>(header_size);
    layout.info.total_size = layout.info.header_object_size + kDataObjectHeadSize;
    return layout;
}

/* Byte width of an ASF variable-size field for its 2-bit length type (§5.2). */
size_t field_width(unsigned length_type) {
    static constexpr size_t kWidths[4] = {0, 1, 2, 4};
    return kWidths[length_type & 3];
}

/* A bounds-checked little-endian reader over one data packet. */
class PacketReader {
public:
    PacketReader(const uint8_t *data, size_t len) : data_(data), len_(len) {}

    size_t pos() const { return pos_; }

    /* Reads a @p width-byte field called @p field; absent (width 0) reads 0. */
    Status read(size_t width, const char *field, uint64_t &value) {
        if (width > len_ - pos_) {
            return invalid(std::string("ASF packet: ") + field + " at offset " +
                           std::to_string(pos_) + " runs past the end (" + std::to_string(len_) +
                           " bytes)");
        }
        value = load_le(data_ + pos_, width);
        pos_ += width;
        return {};
    }

    /* Skips @p count bytes of @p field. */
    Status skip(uint64_t count, const char *field) {
        if (count > len_ - pos_) {
            return invalid(std::string("ASF packet: ") + field + " of " + std::to_string(count) +
                           " bytes at offset " + std::to_string(pos_) + " runs past the end (" +
                           std::to_string(len_) + " bytes)");
        }
        pos_ += static_cast<size_t>(count);
        return {};
    }

    /* Limits reading to the first @p end bytes (end ≤ current limit). */
    void limit(size_t end) { len_ = end; }

private:
    const uint8_t *data_;
    size_t len_;
    size_t pos_ = 0;
};

/* Packet-level flags (§5.2.2 Length Type Flags and Property Flags). */
struct PacketFlags {
    bool multiple = false;
    size_t payload_length_width = 0;
    size_t replicated_length_width = 0;
    size_t offset_width = 0;
    size_t object_number_width = 0;
};

/* Checks that the data of a compressed payload is a whole sequence of
 * [u8 size][size bytes] sub-payloads (§5.2.3.4). */
Status check_sub_payloads(const uint8_t *data, size_t len) {
    PacketReader sub(data, len);
    while (sub.pos() < len) {
        uint64_t size = 0;
        Status status = sub.read(1, "compressed sub-payload size", size);
        if (status) {
            status = sub.skip(size, "compressed sub-payload data");
        }
        if (!status) {
            return status;
        }
    }
    return {};
}

/* Parses one payload (§5.2.3.1-§5.2.3.4) at the reader's position. With
 * multiple payloads its length is read from the payload length field,
 * otherwise it runs to @p single_end. */
Status parse_payload(const uint8_t *data, PacketReader &reader, const PacketFlags &flags,
                     size_t single_end, const HeaderInfo &header, PacketInfo &info,
                     Layout *layout) {
    uint64_t stream = 0;
    uint64_t object_number = 0;
    uint64_t offset = 0;
    uint64_t replicated_length = 0;
    const size_t start = reader.pos();
    Status status = reader.read(1, "stream number", stream);
    if (status) {
        status = reader.read(flags.object_number_width, "media object number", object_number);
    }
    size_t offset_at = reader.pos();
    if (status) {
        status = reader.read(flags.offset_width, "offset into media object", offset);
    }
    if (status) {
        status =
            reader.read(flags.replicated_length_width, "replicated data length", replicated_length);
    }
    size_t replicated_at = reader.pos();
    if (status) {
        status = reader.skip(replicated_length, "replicated data");
    }
    if (!status) {
        return status;
    }
    bool compressed = replicated_length == 1;
    if (replicated_length != 0 && !compressed && replicated_length < 8) {
        return invalid("ASF packet: replicated data length " + std::to_string(replicated_length) +
                       " at offset " + std::to_string(replicated_at - 1) +
                       " is not 0, 1 or at least 8");
    }

    uint64_t payload_length = 0;
    if (flags.multiple) {
        status = reader.read(flags.payload_length_width, "payload length", payload_length);
        if (!status) {
            return status;
        }
    } else if (reader.pos() > single_end) {
        return invalid("ASF packet: single payload header at offset " +
                       std::to_string(reader.pos()) + " runs into the padding");
    } else {
        payload_length = single_end - reader.pos();
    }
    size_t payload_at = reader.pos();
    status = reader.skip(payload_length, "payload data");
    if (!status) {
        return status;
    }
    if (compressed) {
        status = check_sub_payloads(data + payload_at, static_cast<size_t>(payload_length));
        if (!status) {
            return status;
        }
    }

    bool key = (stream & 0x80) != 0;
    const bool key_start =
        key && (compressed || offset == 0) && is_video_stream(header, stream & 0x7f);
    if (layout != nullptr) {
        if (key_start && !info.key_frame_start) {
            layout->key_payload = layout->payloads.size();
        }
        layout->payloads.push_back(
            {start, reader.pos(), uint8_t(stream & 0x7f), compressed || offset == 0, key});
    }
    if (key_start) {
        info.key_frame_start = true;
        info.key_frame_streams.set(stream & 0x7f);
    }
    if (compressed || replicated_length >= 8) {
        const size_t at = compressed ? offset_at : replicated_at + 4;
        const size_t width = compressed ? flags.offset_width : 4;
        if (!info.first_presentation_ms) {
            info.first_presentation_ms = static_cast<uint32_t>(load_le(data + at, width));
        }
        if (layout != nullptr) {
            layout->times.push_back({at, width, false});
        }
    }
    info.payload_count++;
    info.streams.set(stream & 0x7f);
    return {};
}

} // namespace

namespace detail {

uint64_t load_le(const uint8_t *p, size_t width) {
    uint64_t value = 0;
    for (size_t i = width; i-- > 0;) {
        value = (value << 8) | p[i];
    }
    return value;
}

void store_le(uint8_t *p, size_t width, uint64_t value) {
    for (size_t i = 0; i < width; ++i) {
        p[i] = static_cast<uint8_t>(value >> (8 * i));
    }
}

bool is_video_stream(const HeaderInfo &header, unsigned number) {
    for (const StreamInfo &stream : header.streams) {
        if (stream.number == number) {
            return stream.video;
        }
    }
    return false;
}

/* Walks a whole data packet (§5.2). When @p layout is given, it receives
 * where the time fields, payloads and length fields are. */
Result<PacketInfo> walk_packet(const uint8_t *data, size_t len, const HeaderInfo &header,
                               Layout *layout) {
    if (len != header.packet_size) {
        return invalid("ASF packet: " + std::to_string(len) +
                       " bytes, but the header's packet size is " +
                       std::to_string(header.packet_size));
    }
    PacketReader reader(data, len);
    uint64_t value = 0;

    /* Error Correction Data (§5.2.1), present when the first byte has bit 7. */
    Status status = reader.read(1, "first byte", value);
    if (!status) {
        return status.error();
    }
    if (value & 0x80) {
        if (value & 0x60) {
            return invalid("ASF packet: error correction length type " +
                           std::to_string((value >> 5) & 3) + " is not 0");
        }
        status = reader.skip(value & 0x0f, "error correction data");
        if (status) {
            status = reader.read(1, "length type flags", value);
        }
        if (!status) {
            return status.error();
        }
    }

    /* Payload Parsing Information (§5.2.2). */
    unsigned length_flags = static_cast<unsigned>(value);
    uint64_t property_flags = 0;
    status = reader.read(1, "property flags", property_flags);
    if (!status) {
        return status.error();
    }
    if (((property_flags >> 6) & 3) != 1) {
        return invalid("ASF packet: stream number length type " +
                       std::to_string((property_flags >> 6) & 3) + " is not 1 (byte)");
    }
    PacketFlags flags;
    flags.multiple = (length_flags & 0x01) != 0;
    flags.replicated_length_width = field_width(static_cast<unsigned>(property_flags));
    flags.offset_width = field_width(static_cast<unsigned>(property_flags >> 2));
    flags.object_number_width = field_width(static_cast<unsigned>(property_flags >> 4));

    uint64_t packet_length = 0;
    uint64_t sequence = 0;
    uint64_t padding = 0;
    uint64_t duration = 0;
    size_t packet_length_width = field_width(length_flags >> 5);
    const size_t packet_length_at = reader.pos();
    status = reader.read(packet_length_width, "packet length", packet_length);
    if (status) {
        status = reader.read(field_width(length_flags >> 1), "sequence", sequence);
    }
    const size_t padding_at = reader.pos();
    const size_t padding_width = field_width(length_flags >> 3);
    if (status) {
        status = reader.read(padding_width, "padding length", padding);
    }
    size_t send_time_at = reader.pos();
    if (status) {
        status = reader.read(4, "send time", value);
    }
    if (status) {
        status = reader.read(2, "duration", duration);
    }
    if (!status) {
        return status.error();
    }
    PacketInfo info;
    info.send_time_ms = static_cast<uint32_t>(value);
    info.duration_ms = static_cast<uint16_t>(duration);
    if (layout != nullptr) {
        layout->times.push_back({send_time_at, 4, true});
        layout->packet_length = {packet_length_at, packet_length_width, false};
        layout->padding = {padding_at, padding_width, false};
    }

    /* An explicit packet length shorter than the packet leaves the rest as
     * implicit padding; payloads must end within it. */
    size_t end = len;
    if (packet_length_width != 0) {
        if (packet_length > len || packet_length < reader.pos()) {
            return invalid("ASF packet: packet length " + std::to_string(packet_length) +
                           " is not in " + std::to_string(reader.pos()) + ".." +
                           std::to_string(len));
        }
        end = static_cast<size_t>(packet_length);
    }
    reader.limit(end);

    unsigned count = 1;
    if (flags.multiple) {
        if (layout != nullptr) {
            layout->payload_flags_at = reader.pos();
        }
        status = reader.read(1, "payload flags", value);
        if (!status) {
            return status.error();
        }
        count = static_cast<unsigned>(value & 0x3f);
        flags.payload_length_width = field_width(static_cast<unsigned>(value >> 6));
        if (flags.payload_length_width == 0) {
            return invalid("ASF packet: payload length type 0 with multiple payloads");
        }
    }
    size_t single_end = end >= padding ? end - static_cast<size_t>(padding) : 0;
    for (unsigned i = 0; i < count; ++i) {
        status = parse_payload(data, reader, flags, single_end, header, info, layout);
        if (!status) {
            return status.error();
        }
    }
    /* asfmux writes the packet length as the bytes used and the padding as
     * the rest of the packet, so padding is checked against the packet's
     * physical end, not against the packet length. */
    if (padding > len - reader.pos()) {
        return invalid("ASF packet: payloads end at " + std::to_string(reader.pos()) +
                       ", leaving less than the padding length " + std::to_string(padding));
    }
    if (!header.has_video()) {
        info.key_frame_start = true;
    }
    return info;
}

} // namespace detail

bool HeaderInfo::has_video() const {
    for (const StreamInfo &stream : streams) {
        if (stream.video) {
            return true;
        }
    }
    return false;
}

Result<HeaderInfo> parse_header(const uint8_t *data, size_t len) {
    Result<HeaderLayout> layout = parse_layout(data, len);
    if (!layout) {
        return layout.error();
    }
    return std::move(layout->info);
}

bool same_streams(const HeaderInfo &a, const HeaderInfo &b) {
    const auto same = [](const StreamInfo &x, const StreamInfo &y) {
        return x.number == y.number && x.bitrate == y.bitrate && x.properties == y.properties;
    };
    return a.packet_size == b.packet_size && a.preroll_ms == b.preroll_ms &&
           a.exclusion_groups == b.exclusion_groups &&
           std::equal(a.streams.begin(), a.streams.end(), b.streams.begin(), b.streams.end(), same);
}

Result<std::vector<uint8_t>> make_live_header(const uint8_t *data, size_t len) {
    Result<HeaderLayout> layout = parse_layout(data, len);
    if (!layout) {
        return layout.error();
    }
    std::vector<uint8_t> out(data, data + layout->info.total_size);
    uint8_t *fp = out.data() + layout->file_properties;
    uint32_t flags = (layout->info.flags | kFlagBroadcast) & ~kFlagSeekable;
    store_le(fp + kFpFlags, 4, flags);
    store_le(fp + kFpFileSize, 8, 0);
    store_le(fp + kFpDataPacketsCount, 8, 0);
    store_le(fp + kFpPlayDuration, 8, 0);
    store_le(fp + kFpSendDuration, 8, 0);
    uint8_t *data_object = out.data() + layout->info.header_object_size;
    store_le(data_object + kDoSize, 8, kDataObjectHeadSize);
    store_le(data_object + kDoTotalDataPackets, 8, 0);
    return out;
}

Result<PacketInfo> parse_packet(const uint8_t *data, size_t len, const HeaderInfo &header) {
    return walk_packet(data, len, header, nullptr);
}

TimeBase time_base_for(const PacketInfo &first, const HeaderInfo &header) {
    TimeBase base;
    base.send_ms = first.send_time_ms;
    if (first.first_presentation_ms && *first.first_presentation_ms >= header.preroll_ms) {
        base.presentation_ms =
            static_cast<uint32_t>(*first.first_presentation_ms - header.preroll_ms);
    }
    return base;
}

Status rebase_packet_times(uint8_t *data, size_t len, const HeaderInfo &header, TimeBase base) {
    Layout layout;
    Result<PacketInfo> parsed = walk_packet(data, len, header, &layout);
    if (!parsed) {
        return parsed.error();
    }
    for (const TimeField &field : layout.times) {
        uint64_t value = load_le(data + field.offset, field.width);
        store_le(data + field.offset, field.width,
                 value - (field.send ? base.send_ms : base.presentation_ms));
    }
    return {};
}

Result<std::vector<uint8_t>> trim_to_key_frame(const uint8_t *data, size_t len,
                                               const HeaderInfo &header) {
    Layout layout;
    Result<PacketInfo> parsed = walk_packet(data, len, header, &layout);
    if (!parsed) {
        return parsed.error();
    }
    if (layout.key_payload && *layout.key_payload > 0) {
        std::vector<bool> keep(layout.payloads.size(), false);
        std::fill(keep.begin() + std::ptrdiff_t(*layout.key_payload), keep.end(), true);
        if (std::optional<std::vector<uint8_t>> trimmed = keep_payloads(data, len, layout, keep)) {
            return std::move(*trimmed);
        }
    }
    return std::vector<uint8_t>(data, data + len);
}

Result<bool> complete_packet_length(uint8_t *data, size_t len, const HeaderInfo &header) {
    Layout layout;
    Result<PacketInfo> parsed = walk_packet(data, len, header, &layout);
    if (!parsed) {
        return parsed.error();
    }
    /* A single payload's size follows from the packet length: not a packet to change. */
    if (layout.payload_flags_at == 0) {
        return false;
    }
    const TimeField &field = layout.packet_length;
    const bool fits = field.width >= sizeof(uint64_t) || uint64_t(len) >> (8 * field.width) == 0;
    if (field.width == 0 || !fits || load_le(data + field.offset, field.width) == uint64_t(len)) {
        return false;
    }
    store_le(data + field.offset, field.width, uint64_t(len));
    return true;
}

Status set_preroll(std::vector<uint8_t> &header, uint64_t preroll_ms) {
    Result<HeaderLayout> layout = parse_layout(header.data(), header.size());
    if (!layout) {
        return layout.error();
    }
    store_le(header.data() + layout->file_properties + kFpPreroll, 8, preroll_ms);
    return {};
}

Result<PacketFilter> drop_unstarted_payloads(const uint8_t *data, size_t len,
                                             const HeaderInfo &header, std::bitset<128> &started) {
    Layout layout;
    Result<PacketInfo> parsed = walk_packet(data, len, header, &layout);
    if (!parsed) {
        return parsed.error();
    }
    /* Which payloads stay: those of started streams, and the one that starts
     * its stream (a media object's first byte; for video, of a key frame). */
    std::vector<bool> keep;
    size_t kept = 0;
    for (const PayloadSpan &payload : layout.payloads) {
        if (!started[payload.stream] && payload.starts_object &&
            (payload.key || !is_video_stream(header, payload.stream))) {
            started[payload.stream] = true;
        }
        keep.push_back(started[payload.stream]);
        kept += keep.back() ? 1 : 0;
    }
    PacketFilter filter;
    if (kept == 0) {
        filter.kept = PacketFilter::Kept::None;
    } else if (kept < layout.payloads.size()) {
        if (std::optional<std::vector<uint8_t>> thinned = keep_payloads(data, len, layout, keep)) {
            filter.kept = PacketFilter::Kept::Some;
            filter.packet = std::move(*thinned);
        } /* else sent whole: it cannot be thinned */
    }
    return filter;
}

} // namespace wmstream::proto::asf
