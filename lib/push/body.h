/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The body of one MS-WMHTTP PushStart request (sans-IO): push packet
 * framing (lib/proto/framing.h) plus the client's Length-Remaining accounting
 * [MS-WMHTTP §3.1.1, §3.1.4.2.1–§3.1.4.5]. The request announces
 * Content-Length = Length-Remaining; every packet decrements it; a packet
 * that does not fit is held back and $F filler packets use up exactly what
 * is left, after which the client waits for the PushStart response and
 * sends a new PushStart.
 *
 * Fit rules (Length-Remaining = R, packet = framing header + payload):
 *   $H, $C: sent when size + 4 ≤ R (§3.1.4.2.1, §3.1.4.5);
 *   $D:     sent when size + 4 < R (§3.1.4.3);
 *   $E:     sent when R − 8 is 0 or ≥ 4 (§3.1.4.4 asks R ≥ 8; the extra
 *           guard keeps the rest fillable, as a $F is at least 4 bytes).
 * Every rule leaves R = 0 or R ≥ 4, so filler can always close the body.
 */
#pragma once

#include "base/error.h"
#include "proto/framing.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wmstream::push {

/** Content-Length of a PushStart without a proxy (2^31 − 1) [MS-WMHTTP §3.1.4.2.1]. */
constexpr uint32_t kMaxContentLength = 2147483647u;
/** Largest $H and $F payload: 65531, so a packet is at most 65535 bytes [MS-WMHTTP §2.2.3.5–6]. */
constexpr size_t kMaxPayload = proto::framing::kMaxPacketLength - proto::framing::kPushHeaderSize;
/** Largest ASF header in a $C (65531 − Reason 4) [MS-WMHTTP §2.2.3.2]. */
constexpr size_t kMaxChangeHeader = kMaxPayload - 4;
/** Largest $D payload: what PacketLength (u16) can express [MS-WMHTTP §2.2.3.1.1]. */
constexpr size_t kMaxDataPayload = proto::framing::kMaxPacketLength;

/** Stream time a PushStart body carries behind a proxy, seconds [MS-WMHTTP §3.1.4.2.1]. */
constexpr uint32_t kProxyBodySeconds = 60;
/** Send time the client measures before it estimates a stream's rate without a bit rate in
 *  its header (asfmux writes none), ms. */
constexpr uint32_t kRateSpanMs = 1000;

/**
 * Length-Remaining behind a proxy: about kProxyBodySeconds of a stream of
 * @p bits_per_second in data packets of @p packet_size bytes, their $D
 * framing included [MS-WMHTTP §3.1.4.2.1]; at most kMaxContentLength.
 */
uint32_t proxy_content_length(uint64_t bits_per_second, size_t packet_size);

/**
 * The smallest Length-Remaining the client may announce for a stream whose
 * header is @p header_len bytes and whose data packets are @p packet_size
 * bytes: three maximum-size $D packets, and a maximum $H/$C + 4
 * [MS-WMHTTP §3.1.4.2.1].
 */
uint32_t minimum_content_length(size_t header_len, size_t packet_size);

class Body {
public:
    /** What happened to a packet offered to the body. */
    enum class Fit {
        Sent,   /**< framed into the output; Length-Remaining decreased */
        Filled, /**< did not fit: $F filler used up the body (remaining() is 0); offer it
                     again in the next PushStart */
    };

    /** A body announced with Content-Length @p content_length: 0, or at least 4 (no push
     *  packet is smaller, so 1..3 bytes could never be filled; every offer is then refused). */
    explicit Body(uint32_t content_length = 0) : remaining_(content_length) {}

    /** Bytes still owed to the server in this request (Length-Remaining). */
    uint32_t remaining() const { return remaining_; }
    /** True once the body is complete: wait for the PushStart response. */
    bool complete() const { return remaining_ == 0; }

    /**
     * Append $H with the ASF file header (Header Object + 50-byte Data
     * Object head) to @p out. @return Fit, or Errc::InvalidData when the
     * header is empty or longer than kMaxPayload, Errc::InvalidRequest when
     * the body is already complete, Errc::InvalidArgument when it was
     * announced with 1..3 bytes.
     */
    Result<Fit> header(const uint8_t *asf_header, size_t len, std::vector<uint8_t> &out);

    /** Append $D with one ASF data packet (≤ kMaxDataPayload); errors as header(). */
    Result<Fit> data(const uint8_t *packet, size_t len, std::vector<uint8_t> &out);

    /** Append $C (Reason 0) with a new ASF file header (≤ kMaxChangeHeader); errors as header(). */
    Result<Fit> change(const uint8_t *asf_header, size_t len, std::vector<uint8_t> &out);

    /** Append $E with @p reason (proto::framing::kReasonDone / kReasonNextEntry).
     *  Errc::InvalidRequest when the body is already complete, InvalidArgument as header(). */
    Result<Fit> end(uint32_t reason, std::vector<uint8_t> &out);

private:
    Result<Fit> offer(proto::framing::PacketId id, const uint8_t *reason, const uint8_t *payload,
                      size_t len, size_t max_len, std::vector<uint8_t> &out);
    /* Appends $F packets totalling remaining_ bytes; remaining_ becomes 0. */
    void fill(std::vector<uint8_t> &out);

    uint32_t remaining_;
};

} // namespace wmstream::push
