/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MS-WMSP answer bodies read into stream events: $H joined and parsed, $D
 * padded and parsed, the join at a key frame.
 */
#include "pull/stream.h"

#include <algorithm>
#include <string>
#include <utility>

namespace wmstream::pull {

namespace framing = proto::framing;

namespace {

using Next = Result<std::optional<Event>>;

} // namespace

Next Stream::fail(std::string message) {
    error_ = make_error(Errc::InvalidData, std::move(message));
    return *error_;
}

bool Stream::receives_video() const {
    return std::any_of(header_->streams.begin(), header_->streams.end(),
                       [this](const proto::asf::StreamInfo &stream) {
                           return stream.video &&
                                  (streams_.empty() || std::find(streams_.begin(), streams_.end(),
                                                                 stream.number) != streams_.end());
                       });
}

Next Stream::next() {
    if (error_)
        return *error_;
    for (;;) {
        Result<std::optional<framing::Packet>> read = reader_.next();
        if (!read)
            return fail(read.error().message);
        if (!read->has_value())
            return Next(std::nullopt);
        framing::Packet &packet = **read;
        switch (packet.id) {
        case framing::PacketId::Header: {
            Next event = on_header(packet);
            if (!event || event->has_value())
                return event;
            break;
        }
        case framing::PacketId::Data: {
            Next event = on_data(packet);
            if (!event || event->has_value())
                return event;
            break;
        }
        case framing::PacketId::Change:
        case framing::PacketId::End: {
            Event event;
            event.kind =
                packet.id == framing::PacketId::End ? Event::Kind::End : Event::Kind::Change;
            event.reason = packet.reason.value_or(0);
            joining_.clear();
            return Next(std::move(event));
        }
        default:
            break; /* $M, $P, $T: nothing the stream needs */
        }
    }
}

Next Stream::on_header(framing::Packet &packet) {
    if (packet.af_flags & framing::kHeaderFirst)
        joining_.clear();
    if (joining_.size() + packet.payload.size() > kMaxHeaderBytes)
        return fail("an ASF header of more than " + std::to_string(kMaxHeaderBytes) + " bytes");
    joining_.insert(joining_.end(), packet.payload.begin(), packet.payload.end());
    Result<proto::asf::HeaderInfo> info =
        proto::asf::parse_header(joining_.data(), joining_.size());
    const bool last = (packet.af_flags & framing::kHeaderLast) != 0;
    if (!info) {
        if (last)
            return fail("the $H packets hold no ASF header: " + info.error().message);
        return Next(std::nullopt); /* more fragments follow */
    }
    Event event;
    event.kind = Event::Kind::Header;
    event.bytes = std::move(joining_);
    event.bytes.resize(info->total_size);
    joining_.clear();
    header_ = std::move(*info);
    key_frame_seen_ = false;
    return Next(std::move(event));
}

Next Stream::on_data(framing::Packet &packet) {
    if (!header_)
        return fail("a $D packet before any header");
    const size_t size = header_->packet_size;
    if (packet.payload.size() > size)
        return fail("a $D payload of " + std::to_string(packet.payload.size()) +
                    " bytes exceeds the packet size " + std::to_string(size));
    /* [MS-WMSP] §2.2.3.3: the server may have removed the padding. */
    packet.payload.resize(size, 0);
    Result<proto::asf::PacketInfo> info =
        proto::asf::parse_packet(packet.payload.data(), size, *header_);
    if (!info)
        return fail("$D packet " + std::to_string(packet.location_id) +
                    " is no ASF data packet: " + info.error().message);
    Event event;
    if (!key_frame_seen_ && receives_video()) {
        if (!info->key_frame_start) {
            skipped_++;
            return Next(std::nullopt);
        }
        key_frame_seen_ = true;
        /* Delta frames before the key frame in the same packet are dropped. */
        Result<std::vector<uint8_t>> trimmed =
            proto::asf::trim_to_key_frame(packet.payload.data(), size, *header_);
        if (!trimmed)
            return fail(trimmed.error().message);
        packet.payload = std::move(*trimmed);
    }
    event.kind = Event::Kind::Data;
    event.bytes = std::move(packet.payload);
    event.send_time_ms = info->send_time_ms;
    event.key_frame = info->key_frame_start;
    event.location_id = packet.location_id;
    return Next(std::move(event));
}

} // namespace wmstream::pull
