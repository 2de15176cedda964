/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The push client's framing of the buffered stream into the open PushStart
 * body (internal to lib/push, sans-IO).
 */
#include "push/pump.h"
#include "base/log.h"

#include "proto/framing.h"

#include <glib.h>

namespace wmstream::push {

namespace {

/* Bytes framed per write: a few data packets, so drops and ends take effect soon. */
constexpr size_t kBatchBytes = 64 * 1024;

} // namespace

void Pump::restart(uint64_t first_seq) {
    header_needed_ = true;
    next_entry_sent_ = false;
    next_seq_ = first_seq;
}

void Pump::open(uint32_t content_length, const BytesRef &header, Bytes &out) {
    body_ = Body(content_length);
    if (!header_needed_)
        return;
    /* Fits: the content length is at least a maximum $H + 4. */
    Result<Body::Fit> fit = body_.header(header->data(), header->size(), out);
    g_assert(fit && *fit == Body::Fit::Sent);
    sent_header_ = header;
    header_needed_ = false;
    next_entry_sent_ = false;
}

Pump::State Pump::frame(const StreamBuffer &buffer, Bytes &out) {
    if (next_seq_ < buffer.begin_seq())
        next_seq_ = buffer.begin_seq(); /* dropped meanwhile */
    while (out.size() < kBatchBytes) {
        const BufferedPacket *packet = buffer.find(next_seq_);
        if (!packet)
            break;
        if (packet->header != sent_header_) {
            /* Header change [MS-WMHTTP §4.4]: $E(1), then $C with the new header. */
            if (!next_entry_sent_) {
                Result<Body::Fit> fit = body_.end(proto::framing::kReasonNextEntry, out);
                if (fit && *fit == Body::Fit::Filled)
                    return State::Filled;
                next_entry_sent_ = true;
            }
            Result<Body::Fit> fit =
                body_.change(packet->header->data(), packet->header->size(), out);
            if (!fit)
                WMSTREAM_LOG_WARNING("push: header change not sent: %s",
                                     fit.error().message.c_str());
            else if (*fit == Body::Fit::Filled)
                return State::Filled;
            sent_header_ = packet->header;
            next_entry_sent_ = false;
        }
        Result<Body::Fit> fit = body_.data(packet->data->data(), packet->data->size(), out);
        if (!fit) {
            /* Cannot happen: parse_packet() checked the size. Skip it. */
            WMSTREAM_LOG_WARNING("push: packet %" G_GUINT64_FORMAT " not sent: %s", next_seq_,
                                 fit.error().message.c_str());
        } else if (*fit == Body::Fit::Filled) {
            return State::Filled;
        }
        next_seq_++;
    }
    return State::Open;
}

Pump::State Pump::end(Bytes &out) {
    Result<Body::Fit> fit = body_.end(proto::framing::kReasonDone, out);
    return fit && *fit == Body::Fit::Sent ? State::Ended : State::Filled;
}

} // namespace wmstream::push
