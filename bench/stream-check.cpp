/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "stream-check.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace wmstream::bench {

namespace {

/** Largest HTTP response head accepted. */
constexpr size_t kMaxHttpHead = 16 * 1024;
/** Largest raw ASF header accepted. */
constexpr size_t kMaxRawHeader = 16 * 1024 * 1024;
/** Header Object GUID + size + count + 2 reserved bytes (ASF §3.1). */
constexpr size_t kHeaderObjectPrefix = 30;
/** ASF_Header_Object GUID 75B22630-668E-11CF-A6D9-00AA0062CE6C as stored. */
constexpr uint8_t kHeaderGuid[16] = {0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
                                     0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
/** Framing header + MMS data packet header ([MS-WMSP] §2.2.3.1). */
constexpr size_t kPullHead = 12;
/** Framing header + Reason ($E, $C). */
constexpr size_t kReasonHead = 8;
/** $H AFFlags bits: first fragment, last fragment (0x0C = whole). */
constexpr uint8_t kFirstFragment = 0x04;
constexpr uint8_t kLastFragment = 0x08;

uint16_t get_u16(const uint8_t *p) {
    return uint16_t(p[0] | p[1] << 8);
}
uint32_t get_u32(const uint8_t *p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t get_u64(const uint8_t *p) {
    return uint64_t(get_u32(p)) | uint64_t(get_u32(p + 4)) << 32;
}

} // namespace

const proto::asf::HeaderInfo *HeaderCache::get(const uint8_t *data, size_t len) {
    for (const auto &entry : entries_)
        if (entry->bytes.size() == len && std::memcmp(entry->bytes.data(), data, len) == 0)
            return &entry->info;
    auto info = proto::asf::parse_header(data, len);
    if (!info)
        return nullptr;
    auto entry = std::make_unique<Entry>();
    entry->bytes.assign(data, data + len);
    entry->info = std::move(*info);
    entries_.push_back(std::move(entry));
    return &entries_.back()->info;
}

void StreamCheck::fail(std::string message) {
    if (state_ == State::Failed)
        return;
    state_ = State::Failed;
    error_ = std::move(message);
    std::vector<uint8_t>().swap(carry_);
    std::vector<uint8_t>().swap(header_bytes_);
    std::string().swap(http_head_);
}

size_t StreamCheck::consume(const uint8_t *data, size_t len, bool parse, PacketEvent &event) {
    event = PacketEvent{};
    size_t used = 0;
    while (used < len && !event.ready) {
        const uint8_t *p = data + used;
        const size_t n = len - used;
        switch (state_) {
        case State::HttpHead:
            used += consume_http_head(p, n);
            break;
        case State::FrameHead:
            used += consume_frame_head(p, n);
            break;
        case State::HeaderPayload:
        case State::RawHeader:
            used += consume_header(p, n);
            break;
        case State::RawHeaderPrefix:
            used += consume_raw_prefix(p, n);
            break;
        case State::DataPayload:
        case State::RawPacket:
            used += consume_packet(p, n, parse, event);
            break;
        case State::Skip: {
            const size_t take = std::min(left_, n);
            left_ -= take;
            used += take;
            if (left_ == 0)
                state_ = State::FrameHead;
            break;
        }
        case State::Failed:
            return len;
        }
    }
    return state_ == State::Failed ? len : used;
}

size_t StreamCheck::consume_http_head(const uint8_t *data, size_t len) {
    const size_t before = http_head_.size();
    http_head_.append(reinterpret_cast<const char *>(data), std::min(len, kMaxHttpHead + 4));
    const size_t end = http_head_.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
    if (end == std::string::npos) {
        if (http_head_.size() > kMaxHttpHead)
            fail("HTTP response head longer than 16 KiB");
        return len;
    }
    const size_t used = end + 4 - before;
    int major = 0, minor = 0, status = 0;
    if (std::sscanf(http_head_.c_str(), "HTTP/%d.%d %d", &major, &minor, &status) != 3) {
        fail("not an HTTP response");
        return used;
    }
    http_status_ = status;
    std::string().swap(http_head_);
    if (status != 200) {
        fail("HTTP status " + std::to_string(status));
        return used;
    }
    state_ = kind_ == StreamKind::Wmsp ? State::FrameHead : State::RawHeaderPrefix;
    return used;
}

size_t StreamCheck::consume_frame_head(const uint8_t *data, size_t len) {
    size_t used = 0;
    if (frame_have_ < 4) {
        const size_t take = std::min(4 - frame_have_, len);
        std::memcpy(frame_ + frame_have_, data, take);
        frame_have_ += take;
        used = take;
        if (frame_have_ < 4)
            return used;
        if (frame_[0] != '$') {
            char text[64];
            std::snprintf(text, sizeof text, "framing header starts with 0x%02x, not '$'",
                          frame_[0]);
            fail(text);
            return used;
        }
    }
    const uint8_t id = frame_[1];
    const size_t need = id == 'H' || id == 'D' ? kPullHead : kReasonHead;
    if (id != 'H' && id != 'D' && id != 'E' && id != 'C') {
        char text[64];
        std::snprintf(text, sizeof text, "unexpected packet type 0x%02x ('%c')", id,
                      id >= 0x20 && id < 0x7f ? char(id) : '?');
        fail(text);
        return used;
    }
    const size_t take = std::min(need - frame_have_, len - used);
    std::memcpy(frame_ + frame_have_, data + used, take);
    frame_have_ += take;
    used += take;
    if (frame_have_ == need) {
        frame_have_ = 0;
        begin_frame();
    }
    return used;
}

void StreamCheck::begin_frame() {
    const uint8_t id = frame_[1];
    const size_t packet_length = get_u16(frame_ + 2);
    if (!seen_frame_ && id != 'H') {
        fail(std::string("the first frame is $") + char(id) + ", not $H");
        return;
    }
    seen_frame_ = true;
    if (id == 'E' || id == 'C') {
        if (packet_length < 4) {
            fail(std::string("$") + char(id) + " PacketLength " + std::to_string(packet_length));
            return;
        }
        if (packet_length > 4) {
            left_ = packet_length - 4;
            state_ = State::Skip;
        }
        if (id == 'E' && get_u32(frame_ + 4) == 0)
            ended_ = true;
        if (id == 'C') {
            /* A new header follows as $H. */
            info_ = nullptr;
            header_bytes_.clear();
        }
        return;
    }
    if (get_u16(frame_ + 10) != packet_length || packet_length < 8) {
        fail("PacketSize " + std::to_string(get_u16(frame_ + 10)) + " != PacketLength " +
             std::to_string(packet_length));
        return;
    }
    const uint32_t location = get_u32(frame_ + 4);
    const uint8_t af_flags = frame_[9];
    const size_t payload_len = packet_length - 8;
    if (id == 'H') {
        const bool first = header_bytes_.empty();
        if (first != ((af_flags & kFirstFragment) != 0)) {
            fail("$H AFFlags 0x" + std::to_string(af_flags) + " out of fragment order");
            return;
        }
        if (!first && location != next_header_location_) {
            fail("$H LocationId " + std::to_string(location) + ", expected " +
                 std::to_string(next_header_location_));
            return;
        }
        next_header_location_ = location + 1;
        last_header_fragment_ = (af_flags & kLastFragment) != 0;
        left_ = payload_len;
        state_ = State::HeaderPayload;
        if (left_ == 0 && last_header_fragment_ && finish_header())
            state_ = State::FrameHead;
        return;
    }
    /* $D */
    if (!info_) {
        fail("$D before a complete $H");
        return;
    }
    if (payload_len > info_->packet_size) {
        fail("$D payload " + std::to_string(payload_len) + " > packet size " +
             std::to_string(info_->packet_size));
        return;
    }
    if (have_location_) {
        if (location != next_location_)
            ++location_gaps_;
        if (af_flags != next_afflags_)
            ++afflags_gaps_;
    }
    have_location_ = true;
    next_location_ = location + 1;
    next_afflags_ = uint8_t(af_flags + 1);
    payload_len_ = payload_len;
    left_ = payload_len;
    state_ = State::DataPayload;
}

size_t StreamCheck::consume_raw_prefix(const uint8_t *data, size_t len) {
    const size_t take = std::min(kHeaderObjectPrefix - header_bytes_.size(), len);
    header_bytes_.insert(header_bytes_.end(), data, data + take);
    if (header_bytes_.size() < kHeaderObjectPrefix)
        return take;
    if (std::memcmp(header_bytes_.data(), kHeaderGuid, sizeof kHeaderGuid) != 0) {
        fail("the stream does not start with an ASF Header Object");
        return take;
    }
    const uint64_t size = get_u64(header_bytes_.data() + 16);
    if (size < kHeaderObjectPrefix || size > kMaxRawHeader) {
        fail("ASF Header Object size " + std::to_string(size));
        return take;
    }
    header_total_ = size_t(size) + proto::asf::kDataObjectHeadSize;
    state_ = State::RawHeader;
    return take;
}

size_t StreamCheck::consume_header(const uint8_t *data, size_t len) {
    const size_t want = state_ == State::RawHeader ? header_total_ - header_bytes_.size() : left_;
    const size_t take = std::min(want, len);
    header_bytes_.insert(header_bytes_.end(), data, data + take);
    if (take < want) {
        left_ -= state_ == State::HeaderPayload ? take : 0;
        return take;
    }
    if (state_ == State::RawHeader) {
        if (finish_header()) {
            left_ = 0;
            state_ = State::RawPacket;
        }
        return take;
    }
    left_ = 0;
    if (!last_header_fragment_ || finish_header())
        state_ = State::FrameHead;
    return take;
}

bool StreamCheck::finish_header() {
    info_ = headers_->get(header_bytes_.data(), header_bytes_.size());
    if (!info_) {
        fail("the ASF header (" + std::to_string(header_bytes_.size()) + " bytes) does not parse");
        return false;
    }
    std::vector<uint8_t>().swap(header_bytes_);
    return true;
}

void StreamCheck::begin_data(size_t payload_len, bool parse) {
    payload_len_ = payload_len;
    left_ = payload_len;
    parse_this_ = parse;
    carry_.clear();
}

size_t StreamCheck::consume_packet(const uint8_t *data, size_t len, bool parse,
                                   PacketEvent &event) {
    if (state_ == State::RawPacket && left_ == 0)
        begin_data(info_->packet_size, parse);
    else if (state_ == State::DataPayload && left_ == payload_len_)
        begin_data(payload_len_, parse);
    const size_t take = std::min(left_, len);
    const size_t packet_size = info_->packet_size;
    /* Parse in place when the whole full-size packet is in this read; else gather it. */
    const bool in_place = carry_.empty() && take == payload_len_ && payload_len_ == packet_size;
    if (parse_this_ && !in_place)
        carry_.insert(carry_.end(), data, data + take);
    left_ -= take;
    if (left_ > 0)
        return take;

    ++packets_;
    event.ready = true;
    state_ = kind_ == StreamKind::Wmsp ? State::FrameHead : State::RawPacket;
    if (!parse_this_)
        return take;
    const uint8_t *packet = data;
    if (!in_place) {
        /* Padding may have been stripped ([MS-WMSP] §2.2.3.3): restore it. */
        carry_.resize(packet_size, 0);
        packet = carry_.data();
    }
    auto info = proto::asf::parse_packet(packet, packet_size, *info_);
    carry_.clear();
    if (!info) {
        fail("data packet " + std::to_string(packets_) + ": " + info.error().message);
        return take;
    }
    event.parsed = true;
    event.send_time_ms = info->send_time_ms;
    event.key_frame_start = info->key_frame_start;
    return take;
}

} // namespace wmstream::bench
