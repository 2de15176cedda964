/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/packet-variants: a packet as a selection of its
 * streams receives it is made once per distinct selection and shared
 * (issue 13: no per-client copies), in either form (the fixed size, or
 * without padding for a $D), the cache is bounded, and threads that ask at
 * once share one entry.
 * Fixture: asfmux-wmv2-wmav2.asf (stream 1 video, 2 audio; packet 1 carries
 * both).
 */
#include "server/packet-variants.h"
#include "stream-numbers.h"
#include "test-data.h"

#include <glib.h>

#include <thread>

using namespace wmstream;
using namespace wmstream::server;
using Kept = proto::asf::PacketFilter::Kept;
using wmstream::test::selection_of;

namespace {

struct Fixture {
    proto::asf::HeaderInfo header;
    std::vector<uint8_t> packet;
    PacketVariants variants;
    PacketVariant own; /**< get()'s own: a variant not cached lands here */

    /** The variant for @p streams, with @p strip. */
    const PacketVariant &get(std::initializer_list<unsigned> streams, bool strip) {
        return variants.get(packet, header, selection_of(streams), strip, own);
    }
};

void load(Fixture &f) {
    const std::vector<uint8_t> file = test::load_bytes("asfmux-wmv2-wmav2.asf");
    auto header = proto::asf::parse_header(file.data(), file.size());
    g_assert_true(header.ok());
    const size_t at = header->total_size + header->packet_size;
    f.header = *header;
    f.packet.assign(file.begin() + at, file.begin() + at + header->packet_size);
}

void test_shared_per_selection() {
    Fixture f;
    load(f);
    const PacketVariant &audio = f.get({2}, false);
    g_assert_true(audio.kept == Kept::Some);
    g_assert_true(&audio != &f.own); /* cached */
    g_assert_cmpuint(audio.bytes->size(), ==, f.packet.size());
    /* The same selection again: the same entry, not a copy. */
    g_assert_true(&f.get({2}, false) == &audio);
    const PacketVariant &video = f.get({1}, false);
    g_assert_true(video.kept == Kept::Some);
    g_assert_true(video.bytes != audio.bytes);
    g_assert_true(*video.bytes != *audio.bytes);
    /* Every stream: the packet itself; no stream of it: nothing. */
    const PacketVariant &all = f.get({1, 2}, false);
    g_assert_true(all.kept == Kept::All && !all.bytes);
    g_assert_true(f.get({3}, false).kept == Kept::None);
    /* Earlier entries did not move as later ones were added. */
    g_assert_true(&f.get({2}, false) == &audio && audio.kept == Kept::Some);
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
    Fixture f;
    load(f);
    const PacketVariant &fixed = f.get({2}, false);
    const PacketVariant &audio = f.get({2}, true);
    g_assert_true(audio.kept == Kept::Some);
    g_assert_cmpuint(audio.bytes->size(), <, f.packet.size());
    /* Its own entry: shared by the next client with that selection and form. */
    g_assert_true(&f.get({2}, true) == &audio);
    g_assert_true(&f.get({2}, false) == &fixed);
    const proto::asf::PacketInfo a = repadded(f, *audio.bytes);
    const proto::asf::PacketInfo b = repadded(f, *fixed.bytes);
    g_assert_true(a.streams == b.streams);
    g_assert_cmpuint(a.payload_count, ==, b.payload_count);
    g_assert_cmpuint(a.send_time_ms, ==, b.send_time_ms);
    /* Every stream, stripped: all its payloads in fewer bytes. */
    const PacketVariant &all = f.get({1, 2}, true);
    g_assert_true(all.kept == Kept::Some);
    g_assert_cmpuint(all.bytes->size(), <, f.packet.size());
    auto original = proto::asf::parse_packet(f.packet.data(), f.packet.size(), f.header);
    g_assert_true(original.ok());
    g_assert_cmpuint(repadded(f, *all.bytes).payload_count, ==, original->payload_count);
}

void test_bounded() {
    Fixture f;
    load(f);
    /* Fill the cache with selections that keep the packet whole or drop it. */
    for (unsigned n = 3; n < 3 + PacketVariants::kMaxVariants; ++n)
        g_assert_true(f.get({n}, false).kept == Kept::None);
    /* Past the bound: still right, but made again for each call, into the caller's own. */
    const PacketVariant &first = f.get({2}, false);
    g_assert_true(&first == &f.own && first.kept == Kept::Some);
    const std::shared_ptr<const std::vector<uint8_t>> first_bytes = first.bytes;
    const PacketVariant &second = f.get({2}, false);
    g_assert_true(&second == &f.own && second.kept == Kept::Some);
    g_assert_true(second.bytes != first_bytes);
    g_assert_true(*second.bytes == *first_bytes);
}

/* Threads asking for the same selection at once (the I/O threads serve clients in parallel)
 * all get the one cached entry, and as many selections as fit are cached once each. */
void test_threads_share_one_entry() {
    Fixture f;
    load(f);
    constexpr size_t kThreads = 4;
    const PacketVariant *seen[kThreads][2] = {};
    std::vector<std::thread> threads;
    for (size_t t = 0; t < kThreads; ++t) {
        threads.emplace_back([&f, &seen, t] {
            PacketVariant own;
            const auto selection = selection_of({2});
            const auto other = selection_of({1});
            seen[t][0] = &f.variants.get(f.packet, f.header, selection, t % 2 == 0, own);
            seen[t][1] = &f.variants.get(f.packet, f.header, other, false, own);
            /* Never the thread's own: the cache has room for all three. */
            g_assert_true(seen[t][0] != &own && seen[t][1] != &own);
        });
    }
    for (std::thread &thread : threads)
        thread.join();
    for (size_t t = 2; t < kThreads; ++t) {
        g_assert_true(seen[t][0] == seen[t % 2][0]);
        g_assert_true(seen[t][1] == seen[0][1]);
    }
    g_assert_true(seen[0][0] != seen[1][0]); /* stripped and fixed: two entries */
    g_assert_true(seen[0][0]->kept == Kept::Some && seen[0][1]->kept == Kept::Some);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/packet-variants/shared-per-selection", test_shared_per_selection);
    g_test_add_func("/packet-variants/stripped-for-wmsp", test_stripped_for_wmsp);
    g_test_add_func("/packet-variants/bounded", test_bounded);
    g_test_add_func("/packet-variants/threads-share-one-entry", test_threads_share_one_entry);
    return g_test_run();
}
