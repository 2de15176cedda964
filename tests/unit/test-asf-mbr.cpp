/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/proto/asf-mbr: the Stream Bitrate Properties (ASF
 * §3.12) and Bitrate Mutual Exclusion (§3.8) objects added to an asfmux
 * header, and the texts of wmnetsink's mutual-exclusion and stream-bitrates.
 *
 * Fixtures (tests/data/README.md): asfmux-mbr.asf, three WMV2 streams of one
 * source (1-3) and a WMA2 stream (4) from one asfmux, which writes neither
 * object; asfmux-wmv2-wmav2.asf, one video and one audio stream.
 */
#include "proto/asf-mbr.h"
#include "test-data.h"

#include <glib.h>

#include <cstring>
#include <vector>

using namespace wmstream;
using namespace wmstream::proto::asf;

namespace {

using Bytes = std::vector<uint8_t>;
using Exclusion = BitrateDescription::Exclusion;

/* Bytes the objects for the MBR fixture add: Stream Bitrate Properties with
 * 4 records (24 + 2 + 4 × 6) and one Bitrate Mutual Exclusion of 3 streams
 * (24 + 16 + 2 + 3 × 2). */
constexpr size_t kAdded = 50 + 48;

BitrateDescription described(const char *groups, const char *bitrates) {
    auto description = BitrateDescription::parse(groups, bitrates);
    g_assert_true(description.ok());
    return *description;
}

uint64_t le(const uint8_t *p, size_t width) {
    uint64_t value = 0;
    for (size_t i = width; i-- > 0;)
        value = (value << 8) | p[i];
    return value;
}

void test_parse_texts() {
    g_assert_true(described("", "").exclusion == Exclusion::Automatic);
    g_assert_true(described(" auto ", "").exclusion == Exclusion::Automatic);
    g_assert_true(described("none", "").exclusion == Exclusion::None);
    BitrateDescription two = described("1, 2;4 5", "1:300000, 2:700000 4:64000");
    g_assert_true(two.exclusion == Exclusion::Groups);
    g_assert_true(two.groups == (std::vector<std::vector<uint8_t>>{{1, 2}, {4, 5}}));
    g_assert_cmpuint(two.bitrates.size(), ==, 3);
    g_assert_cmpuint(two.bitrates[1].first, ==, 2);
    g_assert_cmpuint(two.bitrates[1].second, ==, 700000);

    for (const char *bad : {"1", "1,1", "0,2", "1,x", "1,2;2,3", "1,128", ";"}) {
        auto description = BitrateDescription::parse(bad, "");
        g_assert_false(description.ok());
        g_assert_true(description.error().code == Errc::InvalidArgument);
    }
    for (const char *bad : {"1", "1:0", "0:5", "128:5", "1:4294967296", "1:-5", "a:b"}) {
        auto description = BitrateDescription::parse("", bad);
        g_assert_false(description.ok());
        g_assert_true(description.error().code == Errc::InvalidArgument);
        g_assert_nonnull(std::strstr(description.error().message.c_str(), "stream-bitrates"));
    }
}

/* The fixture's header as served: three rates and the audio's own. */
void test_mbr_header() {
    const Bytes file = test::load_bytes("asfmux-mbr.asf");
    auto original = parse_header(file.data(), file.size());
    g_assert_true(original.ok());
    g_assert_cmpuint(original->streams.size(), ==, 4);
    g_assert_false(original->has_stream_bitrates);
    g_assert_true(original->exclusion_groups.empty());
    g_assert_cmpuint(original->streams[3].bitrate, ==, 64000); /* WAVEFORMATEX 8000 B/s */

    auto served =
        add_bitrate_objects(file.data(), file.size(), described("", "1:300000,2:700000,3:1500000"));
    g_assert_true(served.ok());
    g_assert_cmpuint(served->size(), ==, original->total_size + kAdded);
    auto info = parse_header(served->data(), served->size());
    g_assert_true(info.ok());
    g_assert_cmpuint(info->header_object_size, ==, original->header_object_size + kAdded);
    g_assert_cmpuint(info->packet_size, ==, original->packet_size);
    g_assert_true(info->has_stream_bitrates);
    g_assert_true(info->exclusion_groups == (std::vector<std::vector<uint8_t>>{{1, 2, 3}}));
    const uint32_t expected[] = {300000, 700000, 1500000, 64000};
    for (size_t i = 0; i < 4; ++i) {
        g_assert_cmpuint(info->streams[i].number, ==, i + 1);
        g_assert_cmpuint(info->streams[i].bitrate, ==, expected[i]);
    }
    /* Object count + 2; the objects before and the Data Object head unchanged. */
    g_assert_cmpuint(le(served->data() + 24, 4), ==, le(file.data() + 24, 4) + 2);
    g_assert_true(std::equal(file.begin() + 28, file.begin() + original->header_object_size,
                             served->begin() + 28));
    g_assert_true(std::equal(file.begin() + original->header_object_size,
                             file.begin() + original->total_size,
                             served->end() - kDataObjectHeadSize));
    /* The Bitrate Mutual Exclusion Object's exact bytes: type ASF_Mutex_Bitrate, 1 2 3. */
    const Bytes mutex = {0xDC, 0x29, 0xE2, 0xD6, 0xDA, 0x35, 0xD1, 0x11, 0x90, 0x34, 0x00, 0xA0,
                         0xC9, 0x03, 0x49, 0xBE, 48,   0,    0,    0,    0,    0,    0,    0,
                         0x01, 0x2A, 0xE2, 0xD6, 0xDA, 0x35, 0xD1, 0x11, 0x90, 0x34, 0x00, 0xA0,
                         0xC9, 0x03, 0x49, 0xBE, 3,    0,    1,    0,    2,    0,    3,    0};
    g_assert_true(std::equal(mutex.begin(), mutex.end(),
                             served->begin() + std::ptrdiff_t(info->header_object_size - 48)));

    /* A fixed point, and the live header of it keeps the objects. */
    auto again = add_bitrate_objects(served->data(), served->size(), described("", "1:5"));
    g_assert_true(again.ok());
    g_assert_true(*again == *served);
    auto live = make_live_header(served->data(), served->size());
    g_assert_true(live.ok());
    g_assert_cmpuint(live->size(), ==, served->size());

    /* The data packets still belong to the served header. */
    auto packet = parse_packet(file.data() + original->total_size, info->packet_size, *info);
    g_assert_true(packet.ok());
    g_assert_true(packet->key_frame_start);
}

/* Named groups; a rate left undeclared is 0 (unknown). */
void test_named_groups() {
    const Bytes file = test::load_bytes("asfmux-mbr.asf");
    auto served = add_bitrate_objects(file.data(), file.size(), described("1,3", ""));
    g_assert_true(served.ok());
    auto info = parse_header(served->data(), served->size());
    g_assert_true(info.ok());
    g_assert_true(info->exclusion_groups == (std::vector<std::vector<uint8_t>>{{1, 3}}));
    g_assert_cmpuint(info->streams[0].bitrate, ==, 0);
    g_assert_cmpuint(info->streams[3].bitrate, ==, 64000);

    auto stranger = add_bitrate_objects(file.data(), file.size(), described("1,9", ""));
    g_assert_false(stranger.ok());
    g_assert_true(stranger.error().code == Errc::InvalidData);
    g_assert_nonnull(std::strstr(stranger.error().message.c_str(), "stream 9"));
    auto rate = add_bitrate_objects(file.data(), file.size(), described("", "9:100"));
    g_assert_false(rate.ok());
    g_assert_true(rate.error().code == Errc::InvalidData);
}

/* Nothing to describe: the header comes back as it was. */
void test_unchanged() {
    const Bytes mbr = test::load_bytes("asfmux-mbr.asf");
    const Bytes single = test::load_bytes("asfmux-wmv2-wmav2.asf");
    auto single_info = parse_header(single.data(), single.size());
    g_assert_true(single_info.ok());
    auto none = add_bitrate_objects(mbr.data(), mbr.size(), described("none", ""));
    g_assert_true(none.ok());
    g_assert_true(std::equal(none->begin(), none->end(), mbr.begin()));
    auto one_video = add_bitrate_objects(single.data(), single.size(), described("", ""));
    g_assert_true(one_video.ok());
    g_assert_cmpuint(one_video->size(), ==, single_info->total_size);
    g_assert_true(std::equal(one_video->begin(), one_video->end(), single.begin()));

    /* A declared rate alone adds only the Stream Bitrate Properties Object. */
    auto rated = add_bitrate_objects(single.data(), single.size(), described("", "1:250000"));
    g_assert_true(rated.ok());
    g_assert_cmpuint(rated->size(), ==, single_info->total_size + 24 + 2 + 2 * 6);
    auto info = parse_header(rated->data(), rated->size());
    g_assert_true(info.ok());
    g_assert_true(info->exclusion_groups.empty());
    g_assert_cmpuint(info->streams[0].bitrate, ==, 250000);

    auto garbage = add_bitrate_objects(mbr.data(), 100, described("", ""));
    g_assert_false(garbage.ok());
    g_assert_true(garbage.error().code == Errc::InvalidData);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/asf-mbr/parse-texts", test_parse_texts);
    g_test_add_func("/asf-mbr/mbr-header", test_mbr_header);
    g_test_add_func("/asf-mbr/named-groups", test_named_groups);
    g_test_add_func("/asf-mbr/unchanged", test_unchanged);
    return g_test_run();
}
