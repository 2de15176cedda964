/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/packet-variants: a packet as a selection of its
 * streams receives it is made once per distinct selection and shared
 * (issue 13: no per-client copies), in either form (the fixed size, or
 * without padding for a $D), and the cache is bounded.
 * Fixture: asfmux-wmv2-wmav2.asf (stream 1 video, 2 audio; packet 1 carries
 * both).
 */
#include "server/packet-variants.h"
#include "stream-numbers.h"
#include "test-data.h"

#include <glib.h>

using namespace wmstream;
using namespace wmstream::server;
using Kept = proto::asf::PacketFilter::Kept;
using wmstream::test::selection_of;

namespace {

struct Fixture {
    proto::asf::HeaderInfo header;
    std::vector<uint8_t> packet;
};

Fixture load() {
    const std::vector<uint8_t> file = test::load_bytes("asfmux-wmv2-wmav2.asf");
    auto header = proto::asf::parse_header(file.data(), file.size());
    g_assert_true(header.ok());
    const size_t at = header->total_size + header->packet_size;
    return {*header,
            std::vector<uint8_t>(file.begin() + at, file.begin() + at + header->packet_size)};
}

void test_shared_per_selection() {
    const Fixture f = load();
    PacketVariants variants;
    const PacketVariant audio = variants.get(f.packet, f.header, selection_of({2}), false);
    g_assert_true(audio.kept == Kept::Some);
    g_assert_cmpuint(audio.bytes->size(), ==, f.packet.size());
    /* The same selection again: the same bytes, not a copy. */
    g_assert_true(variants.get(f.packet, f.header, selection_of({2}), false).bytes == audio.bytes);
    const PacketVariant video = variants.get(f.packet, f.header, selection_of({1}), false);
    g_assert_true(video.kept == Kept::Some);
    g_assert_true(video.bytes != audio.bytes);
    g_assert_true(*video.bytes != *audio.bytes);
    /* Every stream: the packet itself; no stream of it: nothing. */
    const PacketVariant all = variants.get(f.packet, f.header, selection_of({1, 2}), false);
    g_assert_true(all.kept == Kept::All && !all.bytes);
    g_assert_true(variants.get(f.packet, f.header, selection_of({3}), false).kept == Kept::None);
}

/* The packet @p bytes padded with zeros back to the header's size, as FFmpeg and VLC do with a
 * short $D: it parses. */
proto::asf::PacketInfo repadded(const Fixture &f, const std::vector<uint8_t> &bytes) {
    std::vector<uint8_t> whole = bytes;
    whole.resize(f.header.packet_size, 0);
    auto parsed = proto::asf::parse_packet(whole.data(), whole.size(), f.header);
    g_assert_true(parsed.ok());
    return *parsed;
}

void test_stripped_for_wmsp() {
    const Fixture f = load();
    PacketVariants variants;
    const PacketVariant fixed = variants.get(f.packet, f.header, selection_of({2}), false);
    const PacketVariant audio = variants.get(f.packet, f.header, selection_of({2}), true);
    g_assert_true(audio.kept == Kept::Some);
    g_assert_cmpuint(audio.bytes->size(), <, f.packet.size());
    /* Its own entry: shared by the next client with that selection and form. */
    g_assert_true(variants.get(f.packet, f.header, selection_of({2}), true).bytes == audio.bytes);
    g_assert_true(variants.get(f.packet, f.header, selection_of({2}), false).bytes == fixed.bytes);
    const proto::asf::PacketInfo a = repadded(f, *audio.bytes);
    const proto::asf::PacketInfo b = repadded(f, *fixed.bytes);
    g_assert_true(a.streams == b.streams);
    g_assert_cmpuint(a.payload_count, ==, b.payload_count);
    g_assert_cmpuint(a.send_time_ms, ==, b.send_time_ms);
    /* Every stream, stripped: all its payloads in fewer bytes. */
    const PacketVariant all = variants.get(f.packet, f.header, selection_of({1, 2}), true);
    g_assert_true(all.kept == Kept::Some);
    g_assert_cmpuint(all.bytes->size(), <, f.packet.size());
    auto original = proto::asf::parse_packet(f.packet.data(), f.packet.size(), f.header);
    g_assert_true(original.ok());
    g_assert_cmpuint(repadded(f, *all.bytes).payload_count, ==, original->payload_count);
}

void test_bounded() {
    const Fixture f = load();
    PacketVariants variants;
    /* Fill the cache with selections that keep the packet whole or drop it. */
    for (unsigned n = 3; n < 3 + PacketVariants::kMaxVariants; ++n)
        g_assert_true(variants.get(f.packet, f.header, selection_of({n}), false).kept ==
                      Kept::None);
    /* Past the bound: still right, but a copy per call. */
    const PacketVariant first = variants.get(f.packet, f.header, selection_of({2}), false);
    const PacketVariant second = variants.get(f.packet, f.header, selection_of({2}), false);
    g_assert_true(first.kept == Kept::Some && second.kept == Kept::Some);
    g_assert_true(first.bytes != second.bytes);
    g_assert_true(*first.bytes == *second.bytes);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/packet-variants/shared-per-selection", test_shared_per_selection);
    g_test_add_func("/packet-variants/stripped-for-wmsp", test_stripped_for_wmsp);
    g_test_add_func("/packet-variants/bounded", test_bounded);
    return g_test_run();
}
