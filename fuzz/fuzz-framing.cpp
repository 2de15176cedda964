/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: proto::framing::Reader, the incremental reader of MS-WMSP pull
 * and MS-WMHTTP push framed streams (the push receiver and the benchmark's
 * load generator read untrusted streams with it).
 *
 * Input layout (little-endian):
 *   byte 0            bit 0: 0 = Reader::Mode::Pull, 1 = Reader::Mode::Push
 *   byte 1            n = byte % 17: how many chunk sizes follow
 *   n × u16           the sizes of the pieces the stream is fed in, used in
 *                     turn and cyclically (0 = an empty feed)
 *   the rest          the framed stream
 * Seeds: fuzz/corpus/framing/ (FFmpeg 5.1's asf_stream output,
 * tests/data/ffmpeg-asf-stream.framed, cut, and its push-framed equivalent).
 *
 * Besides the sanitizers, it checks that splitting does not matter: the
 * packets and the final state (more bytes needed, or the sticky error) are
 * the same as when the whole stream is fed at once.
 */
#include "proto/framing.h"

#include <glib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using namespace wmstream;
using proto::framing::Reader;

namespace {

/* Bounds the feeds of one input (sizes of 0 feed nothing). */
constexpr size_t kMaxFeeds = 1024;

/* Packets read so far and, once it failed, the reader's error message. */
struct Outcome {
    std::vector<proto::framing::Packet> packets;
    std::optional<std::string> error;
};

/* Takes every packet the reader has; checks that an error is sticky. */
void drain(Reader &reader, Outcome &outcome) {
    while (!outcome.error) {
        Result<std::optional<proto::framing::Packet>> next = reader.next();
        if (!next) {
            outcome.error = next.error().message;
            g_assert_true(next.error().code == Errc::InvalidData);
            Result<std::optional<proto::framing::Packet>> again = reader.next();
            g_assert_false(again.ok());
            g_assert_cmpstr(again.error().message.c_str(), ==, outcome.error->c_str());
            return;
        }
        if (!*next)
            return;
        outcome.packets.push_back(std::move(**next));
    }
}

bool same_packet(const proto::framing::Packet &a, const proto::framing::Packet &b) {
    return a.id == b.id && a.location_id == b.location_id && a.incarnation == b.incarnation &&
           a.af_flags == b.af_flags && a.reason == b.reason && a.payload == b.payload;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    const Reader::Mode mode = (data[0] & 1) ? Reader::Mode::Push : Reader::Mode::Pull;
    const size_t count = data[1] % 17;
    size_t pos = 2;
    std::vector<size_t> sizes;
    for (size_t i = 0; i < count && size - pos >= 2; i++, pos += 2)
        sizes.push_back(size_t(data[pos]) | size_t(data[pos + 1]) << 8);
    const uint8_t *stream = data + pos;
    const size_t length = size - pos;

    Reader split(mode);
    Outcome by_pieces;
    size_t fed = 0;
    for (size_t i = 0; fed < length; i++) {
        /* The sizes in turn; the rest at once without sizes or after kMaxFeeds pieces. */
        size_t piece = length - fed;
        if (!sizes.empty() && i < kMaxFeeds)
            piece = std::min(piece, sizes[i % sizes.size()]);
        split.feed(stream + fed, piece);
        fed += piece;
        drain(split, by_pieces);
    }

    Reader whole(mode);
    Outcome at_once;
    whole.feed(stream, length);
    drain(whole, at_once);

    g_assert_cmpuint(by_pieces.packets.size(), ==, at_once.packets.size());
    for (size_t i = 0; i < at_once.packets.size(); i++)
        g_assert_true(same_packet(by_pieces.packets[i], at_once.packets[i]));
    g_assert_true(by_pieces.error == at_once.error);
    return 0;
}
