/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the framing writers, fed arbitrary sizes and contents
 * (issue 16 item 13; a g_assert on $D payloads over 65,527 bytes was missed
 * because only the Reader was fuzzed):
 *   - pull: proto::framing::write_pull_data_header ($D), pull_header_packets
 *     ($H, split), pull_end, pull_change;
 *   - push: push_header, push_end, and push::Body (the PushStart body:
 *     $H/$D/$C/$E with Length-Remaining accounting and $F filler).
 *
 * Input: a script of operations read with FuzzedDataProvider: the first byte
 * picks pull or push; each operation then takes a selector byte and its
 * arguments (sizes near the limits are likely: see take_size()). Payloads
 * begin with up to 64 bytes of the input; zeros follow.
 * Seeds: fuzz/corpus/framing-writers/.
 *
 * Besides the sanitizers, it checks that every writer either writes a frame
 * that proto::framing::Reader reads back as the same packet (id, location,
 * flags, reason, payload), or refuses with Errc::InvalidData (a size over
 * the limit), Errc::InvalidRequest (a complete body) or Errc::InvalidArgument
 * (a body announced with 1..3 bytes, which no packet fits) and writes
 * nothing; and that Body follows the fit rules of push/body.h: a packet is
 * sent exactly when it fits, else $F fills exactly what was left,
 * Length-Remaining never becomes 1..3, and a body's bytes add up to its
 * Content-Length.
 */
#include "proto/framing.h"
#include "push/body.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <glib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

using namespace wmstream;
using proto::framing::Packet;
using proto::framing::PacketId;
using proto::framing::Reader;

namespace {

using Bytes = std::vector<uint8_t>;

/* Bound the work per input: operations, and bytes written (about 4 maximum $H). */
constexpr size_t kMaxOps = 16;
constexpr size_t kMaxStreamBytes = 4 * 65536;
/* The largest Content-Length tried: enough for three maximum packets. */
constexpr size_t kMaxContentLength = 3 * 65536 + 16;

/* A size: small, near one of the framing limits, or anything up to 2^32 + 16. */
size_t take_size(FuzzedDataProvider &input) {
    static constexpr size_t kLimits[] = {
        0,
        proto::framing::kMaxPullPayload,
        push::kMaxChangeHeader,
        push::kMaxPayload,
        proto::framing::kMaxPacketLength,
        65536,
        size_t{1} << 32,
    };
    switch (input.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
        return input.ConsumeIntegralInRange<size_t>(0, 64);
    case 1: {
        const size_t limit = input.PickValueInArray(kLimits);
        return limit + input.ConsumeIntegralInRange<size_t>(0, 16) -
               std::min<size_t>(limit, input.ConsumeIntegralInRange<size_t>(0, 16));
    }
    case 2:
        return input.ConsumeIntegralInRange<size_t>(0, 70000);
    default:
        return input.ConsumeIntegralInRange<size_t>(0, (size_t{1} << 32) + 16);
    }
}

/* @p len bytes: up to 64 from the input, then zeros (the sizes matter, not the bytes). */
Bytes take_payload(FuzzedDataProvider &input, size_t len) {
    const Bytes head = input.ConsumeBytes<uint8_t>(std::min<size_t>(len, 64));
    Bytes out(len);
    std::copy(head.begin(), head.end(), out.begin());
    return out;
}

Packet make_packet(PacketId id, Bytes payload, std::optional<uint32_t> reason = std::nullopt) {
    Packet packet;
    packet.id = id;
    packet.payload = std::move(payload);
    packet.reason = reason;
    return packet;
}

void append(Bytes &out, const uint8_t *data, size_t len) {
    out.insert(out.end(), data, data + len);
}

/* Reads @p stream whole with a @p mode Reader: exactly @p expected, then nothing more. */
void check_reads_back(Reader::Mode mode, const Bytes &stream, const std::vector<Packet> &expected) {
    Reader reader(mode);
    reader.feed(stream.data(), stream.size());
    for (const Packet &want : expected) {
        Result<std::optional<Packet>> next = reader.next();
        g_assert_true(next.ok());
        g_assert_true(next->has_value());
        const Packet &got = **next;
        g_assert_cmpint(static_cast<int>(got.id), ==, static_cast<int>(want.id));
        g_assert_cmpuint(got.location_id, ==, want.location_id);
        g_assert_cmpuint(got.incarnation, ==, 0);
        g_assert_cmpuint(got.af_flags, ==, want.af_flags);
        g_assert_true(got.reason == want.reason);
        g_assert_true(got.payload == want.payload);
    }
    Result<std::optional<Packet>> end = reader.next();
    g_assert_true(end.ok());
    g_assert_false(end->has_value());
}

void fuzz_pull(FuzzedDataProvider &input) {
    Bytes stream;
    std::vector<Packet> expected;
    for (size_t op = 0; op < kMaxOps && input.remaining_bytes() > 0; ++op) {
        const size_t len = take_size(input);
        switch (input.ConsumeIntegralInRange<int>(0, 3)) {
        case 0: { /* $D */
            const auto location = input.ConsumeIntegral<uint32_t>();
            const auto flags = input.ConsumeIntegral<uint8_t>();
            uint8_t head[proto::framing::kPullHeaderSize];
            std::fill(std::begin(head), std::end(head), 0xa5);
            const Status written =
                proto::framing::write_pull_data_header(head, location, flags, len);
            if (len > proto::framing::kMaxPullPayload) {
                g_assert_false(written.ok());
                g_assert_true(written.error().code == Errc::InvalidData);
                g_assert_true(std::all_of(std::begin(head), std::end(head),
                                          [](uint8_t byte) { return byte == 0xa5; }));
                break;
            }
            g_assert_true(written.ok());
            if (stream.size() + len > kMaxStreamBytes)
                break;
            Packet packet = make_packet(PacketId::Data, take_payload(input, len));
            packet.location_id = location;
            packet.af_flags = flags;
            append(stream, head, sizeof head);
            append(stream, packet.payload.data(), len);
            expected.push_back(std::move(packet));
            break;
        }
        case 1: { /* $H, split at kMaxPullPayload */
            if (stream.size() + len > kMaxStreamBytes)
                break;
            const Bytes header = take_payload(input, len);
            const Bytes framed = proto::framing::pull_header_packets(header.data(), len);
            const size_t count = std::max<size_t>(1, (len + proto::framing::kMaxPullPayload - 1) /
                                                         proto::framing::kMaxPullPayload);
            g_assert_cmpuint(framed.size(), ==, len + count * proto::framing::kPullHeaderSize);
            append(stream, framed.data(), framed.size());
            for (size_t i = 0; i < count; ++i) {
                const size_t offset = i * proto::framing::kMaxPullPayload;
                const size_t chunk = std::min(proto::framing::kMaxPullPayload, len - offset);
                Packet packet =
                    make_packet(PacketId::Header,
                                Bytes(header.begin() + static_cast<ptrdiff_t>(offset),
                                      header.begin() + static_cast<ptrdiff_t>(offset + chunk)));
                packet.location_id = static_cast<uint32_t>(i);
                packet.af_flags = count == 1       ? proto::framing::kHeaderWhole
                                  : i == 0         ? proto::framing::kHeaderFirst
                                  : i + 1 == count ? proto::framing::kHeaderLast
                                                   : proto::framing::kHeaderMiddle;
                expected.push_back(std::move(packet));
            }
            break;
        }
        default: { /* $E or $C */
            const bool end = input.ConsumeBool();
            const auto reason = input.ConsumeIntegral<uint32_t>();
            const auto framed =
                end ? proto::framing::pull_end(reason) : proto::framing::pull_change(reason);
            append(stream, framed.data(), framed.size());
            expected.push_back(
                make_packet(end ? PacketId::End : PacketId::Change, Bytes(), reason));
            break;
        }
        }
    }
    check_reads_back(Reader::Mode::Pull, stream, expected);
}

/* Whether @p body should send a packet of @p size bytes: the fit rules of push/body.h. */
bool should_fit(PacketId id, size_t size, uint32_t remaining) {
    switch (id) {
    case PacketId::Data:
        return size + proto::framing::kPushHeaderSize < remaining;
    case PacketId::End:
        return size == remaining || size + proto::framing::kPushHeaderSize <= remaining;
    default:
        return size + proto::framing::kPushHeaderSize <= remaining;
    }
}

/* Expected $F packets of a fill of @p left bytes: a filler never leaves 1..3 bytes behind. */
void expect_filler(std::vector<Packet> &expected, size_t left) {
    constexpr size_t kMaxFiller = proto::framing::kPushHeaderSize + push::kMaxPayload;
    while (left > 0) {
        size_t size = std::min(left, kMaxFiller);
        if (left - size > 0 && left - size < proto::framing::kPushHeaderSize)
            size = left - proto::framing::kPushHeaderSize;
        expected.push_back(
            make_packet(PacketId::Filler, Bytes(size - proto::framing::kPushHeaderSize, 0)));
        left -= size;
    }
}

/* One PushStart body of a Content-Length from the input, offered packets until it completes or
 * the operations run out; checks every answer against the rules, then the bytes. */
void fuzz_body(FuzzedDataProvider &input, size_t &ops) {
    const auto content_length =
        static_cast<uint32_t>(std::min<size_t>(take_size(input), kMaxContentLength));
    push::Body body(content_length);
    Bytes out;
    std::vector<Packet> expected;
    while (ops < kMaxOps && input.remaining_bytes() > 0) {
        ++ops;
        const uint32_t remaining = body.remaining();
        const size_t before = out.size();
        PacketId id = PacketId::End;
        size_t len = 0;
        size_t max_len = 0;
        std::optional<uint32_t> reason;
        Bytes payload;
        Result<push::Body::Fit> fit = push::Body::Fit::Sent;
        switch (input.ConsumeIntegralInRange<int>(0, 3)) {
        case 0:
            id = PacketId::Header;
            len = take_size(input);
            max_len = push::kMaxPayload;
            payload = take_payload(input, std::min(len, max_len + 1));
            fit = body.header(payload.data(), len, out);
            break;
        case 1:
            id = PacketId::Data;
            len = take_size(input);
            max_len = push::kMaxDataPayload;
            payload = take_payload(input, std::min(len, max_len + 1));
            fit = body.data(payload.data(), len, out);
            break;
        case 2:
            id = PacketId::Change;
            len = take_size(input);
            max_len = push::kMaxChangeHeader;
            payload = take_payload(input, std::min(len, max_len + 1));
            fit = body.change(payload.data(), len, out);
            reason = 0;
            break;
        default:
            reason = input.ConsumeIntegral<uint32_t>();
            fit = body.end(*reason, out);
            break;
        }
        if (remaining == 0) {
            g_assert_false(fit.ok());
            g_assert_true(fit.error().code == Errc::InvalidRequest);
        } else if (remaining < proto::framing::kPushHeaderSize) {
            g_assert_false(fit.ok());
            g_assert_true(fit.error().code == Errc::InvalidArgument);
        } else if (id != PacketId::End && (len == 0 || len > max_len)) {
            g_assert_false(fit.ok());
            g_assert_true(fit.error().code == Errc::InvalidData);
        } else {
            g_assert_true(fit.ok());
            const size_t size = proto::framing::kPushHeaderSize + (reason ? 4 : 0) + len;
            if (should_fit(id, size, remaining)) {
                g_assert_true(*fit == push::Body::Fit::Sent);
                g_assert_cmpuint(body.remaining(), ==, remaining - size);
                expected.push_back(make_packet(id, payload, reason));
            } else {
                g_assert_true(*fit == push::Body::Fit::Filled);
                g_assert_cmpuint(body.remaining(), ==, 0);
                expect_filler(expected, remaining);
            }
        }
        if (!fit.ok())
            g_assert_cmpuint(body.remaining(), ==, remaining);
        g_assert_cmpuint(out.size() - before, ==, remaining - body.remaining());
        g_assert_true(body.remaining() == 0 ||
                      body.remaining() >= proto::framing::kPushHeaderSize ||
                      body.remaining() == content_length);
        if (body.complete() && input.ConsumeBool())
            break; /* the next body, or another offer refused */
    }
    g_assert_cmpuint(out.size(), ==, content_length - body.remaining());
    check_reads_back(Reader::Mode::Push, out, expected);
}

void fuzz_push(FuzzedDataProvider &input) {
    /* The bare writers first: any length, any id. */
    const size_t len = take_size(input);
    const auto id = input.PickValueInArray(
        {PacketId::Header, PacketId::Data, PacketId::Change, PacketId::Filler, PacketId::End});
    const auto header = proto::framing::push_header(id, len);
    if (len > proto::framing::kMaxPacketLength) {
        g_assert_false(header.ok());
        g_assert_true(header.error().code == Errc::InvalidData);
    } else {
        g_assert_true(header.ok());
        g_assert_cmpuint((*header)[0], ==, '$');
        g_assert_cmpuint((*header)[1], ==, static_cast<uint8_t>(id));
        g_assert_cmpuint((*header)[2] | (*header)[3] << 8, ==, len);
    }
    const auto reason = input.ConsumeIntegral<uint32_t>();
    const auto end = proto::framing::push_end(reason);
    check_reads_back(Reader::Mode::Push, Bytes(end.begin(), end.end()),
                     {make_packet(PacketId::End, Bytes(), reason)});

    for (size_t ops = 0; ops < kMaxOps && input.remaining_bytes() > 0;)
        fuzz_body(input, ops);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider input(data, size);
    if (input.ConsumeBool())
        fuzz_push(input);
    else
        fuzz_pull(input);
    return 0;
}
