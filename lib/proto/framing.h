/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MS-WMSP (pull) and MS-WMHTTP (push) packet framing (sans-IO).
 *
 * Pull packets [MS-WMSP §2.2.3.1]: 4-byte framing header (B=0|Frame '$',
 * PacketID, PacketLength u16 LE) + for $H/$D/$M an 8-byte MMS data packet
 * header (LocationId u32, Incarnation u8, AFFlags u8, PacketSize u16 =
 * PacketLength) + payload; $E/$C carry a 4-byte Reason instead.
 * Push packets [MS-WMHTTP §2.2.3.1]: 4-byte framing header + payload; $C
 * carries Reason + the new header; $F is zero filler.
 * Always B=0 (0xA4 breaks FFmpeg and VLC). All integers little-endian.
 */
#pragma once

#include "base/error.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace wmstream::proto::framing {

/** PacketID byte values. */
enum class PacketId : uint8_t {
    Header = 'H',
    Data = 'D',
    End = 'E',
    Change = 'C',
    Meta = 'M',
    PacketPair = 'P',
    Test = 'T',
    Filler = 'F',
};

/** Bytes before the payload of a pull $H/$D packet. */
constexpr size_t kPullHeaderSize = 12;
/** Bytes of a push framing header. */
constexpr size_t kPushHeaderSize = 4;
/** Largest PacketLength (u16). */
constexpr size_t kMaxPacketLength = 0xffff;
/** Largest payload of one pull $H/$D (65535 − 8). */
constexpr size_t kMaxPullPayload = kMaxPacketLength - 8;

/** $E / $C reasons (HRESULT values). */
constexpr uint32_t kReasonDone = 0;      /**< S_OK: stream finished */
constexpr uint32_t kReasonNextEntry = 1; /**< S_FALSE: a new header ($C) follows */

/** $H AFFlags for a header sent whole / as first, middle, last fragment. */
constexpr uint8_t kHeaderWhole = 0x0c;
constexpr uint8_t kHeaderFirst = 0x04;
constexpr uint8_t kHeaderMiddle = 0x00;
constexpr uint8_t kHeaderLast = 0x08;

/**
 * Whether a stream's ASF data packets (@p packet_size bytes each, the header's packet size) fit
 * one pull $D each: PacketLength is 16 bits (MS-WMSP §2.2.3.1), so a packet has at most
 * kMaxPullPayload (65,527) bytes, though ASF allows up to 65,536 ([MS-ASF] §3.2).
 * @return Errc::InvalidData naming the limit when they do not.
 */
Status check_pull_packet_size(size_t packet_size);

/**
 * Write the 12-byte pull header of a $D packet carrying @p payload_len bytes.
 * @param location_id packet number in the virtual file; @param af_flags the
 * per-Play $D counter (wraps at 255).
 * @return Errc::InvalidData (check_pull_packet_size) when @p payload_len is over
 *         kMaxPullPayload; @p out is not written then.
 */
Status write_pull_data_header(uint8_t out[kPullHeaderSize], uint32_t location_id, uint8_t af_flags,
                              size_t payload_len);

/**
 * The $H packet(s) for an ASF header (Header Object + 50-byte Data Object
 * head), split over several $H when longer than kMaxPullPayload (LocationId
 * 0,1,2…, AFFlags first/middle/last; whole = 0x0C).
 */
std::vector<uint8_t> pull_header_packets(const uint8_t *asf_header, size_t len);

/** A pull $E packet (8 bytes) with @p reason. */
std::array<uint8_t, 8> pull_end(uint32_t reason);
/** A pull $C packet (8 bytes) with @p reason; the new $H follows it. */
std::array<uint8_t, 8> pull_change(uint32_t reason);

/**
 * A push framing header for @p id with @p payload_len bytes after it.
 * @return Errc::InvalidData when @p payload_len is over kMaxPacketLength.
 */
Result<std::array<uint8_t, kPushHeaderSize>> push_header(PacketId id, size_t payload_len);
/** A push $E packet (8 bytes) with @p reason. */
std::array<uint8_t, 8> push_end(uint32_t reason);

/** One packet read back from a framed byte stream. */
struct Packet {
    PacketId id = PacketId::Data;
    uint32_t location_id = 0;       /**< pull $H/$D/$M only */
    uint8_t incarnation = 0;        /**< pull $H/$D/$M only */
    uint8_t af_flags = 0;           /**< pull $H/$D/$M only */
    std::optional<uint32_t> reason; /**< $E/$C (pull and push), pull $P */
    std::vector<uint8_t> payload;   /**< bytes after the MMS header / reason */
};

/**
 * Incremental reader of framed byte streams, for tests, the benchmark's load
 * generator and the push receiver. Feed bytes as they arrive; next() returns
 * complete packets. Errors (B bit set, unknown PacketID, PacketSize ≠
 * PacketLength, short length) are sticky Errc::InvalidData.
 */
class Reader {
public:
    enum class Mode { Pull, Push };
    explicit Reader(Mode mode) : mode_(mode) {}

    /** Append received bytes. */
    void feed(const uint8_t *data, size_t len);
    /** The next complete packet, nullopt when more bytes are needed, or an error. */
    Result<std::optional<Packet>> next();

private:
    Mode mode_;
    std::vector<uint8_t> buffer_;
    size_t offset_ = 0;
    std::optional<Error> error_;
};

} // namespace wmstream::proto::framing
