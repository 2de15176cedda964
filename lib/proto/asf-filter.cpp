/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Payload filtering of ASF data packets (see asf-filter.h for the sources)
 * and the rewriter that keeps a subset of a packet's payloads (asf-packet.h).
 */
#include "proto/asf-filter.h"
#include "proto/asf-packet.h"

#include <initializer_list>

namespace wmstream::proto::asf {

namespace detail {

void append_le(std::vector<uint8_t> &out, size_t width, uint64_t value) {
    out.resize(out.size() + width);
    store_le(out.data() + out.size() - width, width, value);
}

unsigned length_type(size_t width) {
    return width == 4 ? 3 : unsigned(width);
}

bool holds(size_t width, uint64_t value) {
    return width >= 8 || value < (uint64_t(1) << (8 * width));
}

std::optional<std::vector<uint8_t>> keep_payloads(const uint8_t *data, size_t len,
                                                  const Layout &layout,
                                                  const std::vector<bool> &keep, bool strip) {
    const bool multiple = layout.payload_flags_at != 0;
    if (!multiple && !strip)
        return std::nullopt;
    const size_t flags_at = layout.packet_length.offset - 2;
    const size_t sequence_at = layout.packet_length.offset + layout.packet_length.width;
    const size_t sequence_width = layout.padding.offset - sequence_at;
    const size_t times_at = layout.padding.offset + layout.padding.width;
    size_t kept_bytes = 0;
    unsigned count = 0;
    for (size_t i = 0; i < layout.payloads.size(); ++i) {
        if (keep[i]) {
            kept_bytes += layout.payloads[i].end - layout.payloads[i].start;
            ++count;
        }
    }
    /* Everything but the packet length and padding length fields and the padding. */
    const size_t used = flags_at + 2 + sequence_width + 6 + (multiple ? 1 : 0) + kept_bytes;
    /* The packet with those two fields @p length_width and @p padding_width wide, saying
     * @p packet_length and @p padding, @p size bytes long (zeros after the payloads). */
    const auto assemble = [&](size_t length_width, size_t packet_length, size_t padding_width,
                              size_t padding, size_t size) {
        std::vector<uint8_t> out;
        out.reserve(size);
        out.assign(data, data + flags_at);
        out.push_back(uint8_t((data[flags_at] & 0x87) | (length_type(length_width) << 5) |
                              (length_type(padding_width) << 3)));
        out.push_back(data[flags_at + 1]);
        append_le(out, length_width, packet_length);
        out.insert(out.end(), data + sequence_at, data + sequence_at + sequence_width);
        append_le(out, padding_width, padding);
        out.insert(out.end(), data + times_at, data + times_at + 6);
        if (multiple)
            out.push_back(uint8_t((data[layout.payload_flags_at] & 0xc0) | count));
        for (size_t i = 0; i < layout.payloads.size(); ++i) {
            if (keep[i])
                out.insert(out.end(), data + layout.payloads[i].start,
                           data + layout.payloads[i].end);
        }
        out.resize(size, 0);
        return out;
    };
    if (strip) {
        for (size_t length_width : {layout.packet_length.width, size_t(2), size_t(4)}) {
            const size_t total = used + length_width;
            if (length_width == 0 || !holds(length_width, total))
                continue;
            if (total >= len)
                return std::nullopt;
            return assemble(length_width, total, 0, 0, total);
        }
        return std::nullopt;
    }
    const size_t length_width =
        holds(layout.packet_length.width, len) ? layout.packet_length.width : 0;
    for (size_t padding_width : {layout.padding.width, size_t(1), size_t(2), size_t(4)}) {
        const size_t fixed = used + length_width + padding_width;
        if (padding_width == 0 || fixed > len || !holds(padding_width, len - fixed))
            continue;
        return assemble(length_width, len, padding_width, len - fixed, len);
    }
    return std::nullopt;
}

} // namespace detail

StreamSelection StreamSelection::all_of(const HeaderInfo &header) {
    StreamSelection selection;
    for (const StreamInfo &stream : header.streams)
        selection.streams.set(stream.number);
    return selection;
}

bool StreamSelection::keeps_all(const HeaderInfo &header) const {
    if (key_frames_only.any())
        return false;
    for (const StreamInfo &stream : header.streams) {
        if (!streams[stream.number])
            return false;
    }
    return true;
}

std::string StreamSelection::stream_list() const {
    std::string list;
    for (size_t number = 1; number < streams.size(); ++number) {
        if (!streams[number])
            continue;
        if (!list.empty())
            list += ',';
        list += std::to_string(number);
    }
    return list;
}

Result<PacketFilter> filter_packet(const uint8_t *data, size_t len, const HeaderInfo &header,
                                   const StreamSelection &selection) {
    detail::Layout layout;
    Result<PacketInfo> parsed = detail::walk_packet(data, len, header, &layout);
    if (!parsed)
        return parsed.error();
    std::vector<bool> keep;
    keep.reserve(layout.payloads.size());
    size_t kept = 0;
    for (const detail::PayloadSpan &payload : layout.payloads) {
        keep.push_back(selection.keeps(payload.stream, payload.key));
        kept += keep.back() ? 1 : 0;
    }
    PacketFilter filter;
    if (kept == 0) {
        filter.kept = PacketFilter::Kept::None;
    } else if (kept < layout.payloads.size()) {
        std::optional<std::vector<uint8_t>> rewritten =
            detail::keep_payloads(data, len, layout, keep);
        if (!rewritten)
            return make_error(Errc::InvalidData, "ASF packet: no room to rewrite its lengths");
        filter.kept = PacketFilter::Kept::Some;
        filter.packet = std::move(*rewritten);
    }
    return filter;
}

Result<PacketFilter> strip_padding(const uint8_t *data, size_t len, const HeaderInfo &header) {
    detail::Layout layout;
    Result<PacketInfo> parsed = detail::walk_packet(data, len, header, &layout);
    if (!parsed)
        return parsed.error();
    PacketFilter filter;
    const std::vector<bool> keep(layout.payloads.size(), true);
    if (std::optional<std::vector<uint8_t>> stripped =
            detail::keep_payloads(data, len, layout, keep, true)) {
        filter.kept = PacketFilter::Kept::Some;
        filter.packet = std::move(*stripped);
    }
    return filter;
}

namespace {

/* Payloads in one packet at most: the payload flags count them in 6 bits (ASF §5.2.2). */
constexpr unsigned kMaxPayloads = 63;

} // namespace

size_t PacketMerger::fixed_bytes() const {
    return error_correction_.size() + 2 + sequence_.size() + times_.size() + 1;
}

size_t PacketMerger::length_width(size_t payload_bytes) const {
    for (size_t width : {length_width_, size_t(2)}) {
        if (width != 0 && detail::holds(width, fixed_bytes() + width + payload_bytes))
            return width;
    }
    return 4;
}

size_t PacketMerger::size_with(size_t payload_bytes) const {
    return fixed_bytes() + length_width(payload_bytes) + payload_bytes;
}

PacketMerger::Added PacketMerger::add(const uint8_t *data, size_t len) {
    detail::Layout layout;
    if (!detail::walk_packet(data, len, header_, &layout) || layout.payload_flags_at == 0)
        return Added::Refused;
    size_t bytes = 0;
    unsigned count = 0;
    for (const detail::PayloadSpan &payload : layout.payloads) {
        if (selection_.keeps(payload.stream, payload.key)) {
            bytes += payload.end - payload.start;
            ++count;
        }
    }
    if (count == 0)
        return Added::Nothing;
    const size_t flags_at = layout.packet_length.offset - 2;
    const uint8_t property_flags = data[flags_at + 1];
    const uint8_t payload_length_type = data[layout.payload_flags_at] & 0xc0;
    if (packets_ == 0) {
        const size_t sequence_at = layout.packet_length.offset + layout.packet_length.width;
        const size_t times_at = layout.padding.offset + layout.padding.width;
        error_correction_.assign(data, data + flags_at);
        length_flags_ = data[flags_at] & 0x87;
        property_flags_ = property_flags;
        payload_length_type_ = payload_length_type;
        sequence_.assign(data + sequence_at, data + layout.padding.offset);
        times_.assign(data + times_at, data + times_at + 6);
        length_width_ = layout.packet_length.width;
    } else if (property_flags != property_flags_ || payload_length_type != payload_length_type_) {
        return Added::Refused;
    }
    if (count_ + count > kMaxPayloads ||
        size_with(payloads_.size() + bytes) > header_.packet_size) {
        return Added::Refused;
    }
    for (const detail::PayloadSpan &payload : layout.payloads) {
        if (selection_.keeps(payload.stream, payload.key))
            payloads_.insert(payloads_.end(), data + payload.start, data + payload.end);
    }
    count_ += count;
    ++packets_;
    return Added::Merged;
}

std::vector<uint8_t> PacketMerger::finish() {
    std::vector<uint8_t> out;
    if (packets_ != 0) {
        const size_t size = size_with(payloads_.size());
        const size_t width = length_width(payloads_.size());
        out.reserve(size);
        out.assign(error_correction_.begin(), error_correction_.end());
        out.push_back(uint8_t(length_flags_ | (detail::length_type(width) << 5)));
        out.push_back(property_flags_);
        detail::append_le(out, width, size);
        out.insert(out.end(), sequence_.begin(), sequence_.end());
        out.insert(out.end(), times_.begin(), times_.end());
        out.push_back(uint8_t(payload_length_type_ | count_));
        out.insert(out.end(), payloads_.begin(), payloads_.end());
    }
    error_correction_.clear();
    sequence_.clear();
    times_.clear();
    payloads_.clear();
    count_ = 0;
    packets_ = 0;
    return out;
}

} // namespace wmstream::proto::asf
