/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Multiple bit rates in the served header (see asf-mbr.h for the sources).
 */
#include "proto/asf-mbr.h"
#include "proto/asf-packet.h"

#include <glib.h>

#include <algorithm>
#include <bitset>

namespace wmstream::proto::asf {

namespace {

using detail::append_le;
using detail::load_le;
using detail::store_le;

/* Header Object (§3.1): size u64 at 16, number of header objects u32 at 24. */
constexpr size_t kHoSize = 16;
constexpr size_t kHoObjectCount = 24;
constexpr size_t kObjectHeadSize = 24;

Error bad_argument(std::string message) {
    return make_error(Errc::InvalidArgument, std::move(message));
}

/* The items of @p text separated by any of @p separators, empty ones left out. */
std::vector<std::string> split(const std::string &text, const char *separators) {
    std::vector<std::string> items;
    g_auto(GStrv) parts = g_strsplit_set(text.c_str(), separators, -1);
    for (char **part = parts; *part; ++part)
        if (**part)
            items.emplace_back(*part);
    return items;
}

/* @p text as a decimal number in min..max, or an error naming @p what and @p item. */
Result<uint64_t> number(const std::string &text, uint64_t min, uint64_t max, const char *what,
                        const std::string &item) {
    guint64 value = 0;
    if (!g_ascii_string_to_unsigned(text.c_str(), 10, min, max, &value, nullptr))
        return bad_argument(std::string(what) + " '" + item + "': '" + text +
                            "' is not a number from " + std::to_string(min) + " to " +
                            std::to_string(max));
    return uint64_t(value);
}

Result<std::vector<std::vector<uint8_t>>> parse_groups(const std::string &text) {
    std::vector<std::vector<uint8_t>> groups;
    std::bitset<128> seen;
    for (const std::string &group_text : split(text, ";")) {
        std::vector<uint8_t> group;
        for (const std::string &item : split(group_text, ", \t\n")) {
            auto stream = number(item, 1, 127, "mutual-exclusion group", group_text);
            if (!stream)
                return stream.error();
            if (seen[*stream])
                return bad_argument("mutual-exclusion: stream " + item + " is named twice in '" +
                                    text + "'");
            seen.set(*stream);
            group.push_back(uint8_t(*stream));
        }
        if (group.size() < 2)
            return bad_argument("mutual-exclusion group '" + group_text +
                                "' names fewer than two streams");
        groups.push_back(std::move(group));
    }
    if (groups.empty())
        return bad_argument("mutual-exclusion '" + text + "' names no group");
    return groups;
}

Result<std::vector<std::pair<uint8_t, uint32_t>>> parse_bitrates(const std::string &text) {
    std::vector<std::pair<uint8_t, uint32_t>> bitrates;
    for (const std::string &item : split(text, ", \t\n")) {
        const size_t colon = item.find(':');
        if (colon == std::string::npos)
            return bad_argument("stream-bitrates item '" + item + "' is not NUMBER:BITS");
        auto stream = number(item.substr(0, colon), 1, 127, "stream-bitrates item", item);
        if (!stream)
            return stream.error();
        auto bits = number(item.substr(colon + 1), 1, G_MAXUINT32, "stream-bitrates item", item);
        if (!bits)
            return bits.error();
        bitrates.emplace_back(uint8_t(*stream), uint32_t(*bits));
    }
    return bitrates;
}

const StreamInfo *find_stream(const HeaderInfo &header, unsigned number) {
    for (const StreamInfo &stream : header.streams)
        if (stream.number == number)
            return &stream;
    return nullptr;
}

std::string stream_numbers(const HeaderInfo &header) {
    std::string list;
    for (const StreamInfo &stream : header.streams)
        list += (list.empty() ? "" : ",") + std::to_string(stream.number);
    return list;
}

/* The groups @p description gives @p header, checked against its streams. */
Result<std::vector<std::vector<uint8_t>>> groups_for(const HeaderInfo &header,
                                                     const BitrateDescription &description) {
    std::vector<std::vector<uint8_t>> groups;
    if (description.exclusion == BitrateDescription::Exclusion::Groups) {
        groups = description.groups;
    } else if (description.exclusion == BitrateDescription::Exclusion::Automatic) {
        std::vector<uint8_t> video;
        for (const StreamInfo &stream : header.streams)
            if (stream.video)
                video.push_back(stream.number);
        if (video.size() >= 2)
            groups.push_back(std::move(video));
    }
    for (const auto &group : groups)
        for (uint8_t number : group)
            if (!find_stream(header, number))
                return make_error(Errc::InvalidData,
                                  "mutual-exclusion names stream " + std::to_string(number) +
                                      ", which the ASF header does not declare (its streams: " +
                                      stream_numbers(header) + ")");
    return groups;
}

/* Appends an object head (@p guid, @p size) to @p out. */
void append_head(std::vector<uint8_t> &out, const detail::Guid &guid, size_t size) {
    const size_t at = out.size();
    out.resize(at + guid.size() + 8);
    std::copy(guid.begin(), guid.end(), out.begin() + ptrdiff_t(at));
    store_le(out.data() + at + guid.size(), 8, size);
}

} // namespace

Result<BitrateDescription> BitrateDescription::parse(const std::string &mutual_exclusion,
                                                     const std::string &stream_bitrates) {
    BitrateDescription description;
    const std::vector<std::string> words = split(mutual_exclusion, " \t\n");
    const std::string word = words.size() == 1 ? words[0] : std::string();
    if (words.empty() || word == "auto") {
        description.exclusion = Exclusion::Automatic;
    } else if (word == "none") {
        description.exclusion = Exclusion::None;
    } else {
        auto groups = parse_groups(mutual_exclusion);
        if (!groups)
            return groups.error();
        description.exclusion = Exclusion::Groups;
        description.groups = std::move(*groups);
    }
    auto bitrates = parse_bitrates(stream_bitrates);
    if (!bitrates)
        return bitrates.error();
    description.bitrates = std::move(*bitrates);
    return description;
}

Result<std::vector<uint8_t>> add_bitrate_objects(const uint8_t *data, size_t len,
                                                 const BitrateDescription &description) {
    auto header = parse_header(data, len);
    if (!header)
        return header.error();
    std::vector<uint8_t> out(data, data + header->total_size);
    if (header->has_stream_bitrates || !header->exclusion_groups.empty())
        return out;
    auto groups = groups_for(*header, description);
    if (!groups)
        return groups.error();
    for (const auto &[number, bits] : description.bitrates)
        if (!find_stream(*header, number))
            return make_error(Errc::InvalidData,
                              "stream-bitrates names stream " + std::to_string(number) +
                                  ", which the ASF header does not declare (its streams: " +
                                  stream_numbers(*header) + ")");
    if (groups->empty() && description.bitrates.empty())
        return out;

    std::vector<uint8_t> objects;
    append_head(objects, detail::kStreamBitratePropertiesGuid,
                kObjectHeadSize + 2 + 6 * header->streams.size());
    append_le(objects, 2, header->streams.size());
    for (const StreamInfo &stream : header->streams) {
        uint32_t bitrate = stream.bitrate;
        for (const auto &[number, bits] : description.bitrates)
            if (number == stream.number)
                bitrate = bits;
        append_le(objects, 2, stream.number);
        append_le(objects, 4, bitrate);
    }
    for (const auto &group : *groups) {
        append_head(objects, detail::kBitrateMutualExclusionGuid,
                    kObjectHeadSize + 16 + 2 + 2 * group.size());
        objects.insert(objects.end(), detail::kMutexBitrateGuid.begin(),
                       detail::kMutexBitrateGuid.end());
        append_le(objects, 2, group.size());
        for (uint8_t number : group)
            append_le(objects, 2, number);
    }

    out.insert(out.begin() + std::ptrdiff_t(header->header_object_size), objects.begin(),
               objects.end());
    store_le(out.data() + kHoSize, 8, header->header_object_size + objects.size());
    store_le(out.data() + kHoObjectCount, 4,
             load_le(out.data() + kHoObjectCount, 4) + 1 + groups->size());
    return out;
}

} // namespace wmstream::proto::asf
