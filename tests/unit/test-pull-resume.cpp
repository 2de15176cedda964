/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of pull::Resume (lib/pull/resume.h): a reconnection whose
 * header describes the same streams keeps the header output and continues
 * the packets' send and presentation times by the wall-clock gap; a header
 * with other streams, or a $C, is output and the times restart with it.
 *
 * The stream is the asfmux-wmv2.asf fixture (tests/data/README.md: 4800-byte
 * packets, a video key frame starting in packets 0, 7, 11 and 15).
 */
#include "pull/resume.h"
#include "test-data.h"

#include <glib.h>

#include <vector>

using namespace wmstream::pull;
namespace asf = wmstream::proto::asf;

namespace {

using Bytes = std::vector<uint8_t>;

struct Fixture {
    asf::HeaderInfo info;
    std::vector<Bytes> packets;
};

Fixture load() {
    const Bytes file = wmstream::test::load_bytes("asfmux-wmv2.asf");
    Fixture fixture;
    fixture.info = *asf::parse_header(file.data(), file.size());
    for (size_t at = fixture.info.total_size; at + fixture.info.packet_size <= file.size();
         at += fixture.info.packet_size)
        fixture.packets.emplace_back(file.begin() + at,
                                     file.begin() + at + fixture.info.packet_size);
    return fixture;
}

asf::PacketInfo parsed(const Bytes &packet, const asf::HeaderInfo &info) {
    auto result = asf::parse_packet(packet.data(), packet.size(), info);
    g_assert_true(result.ok());
    return *result;
}

/* Packet @p index of the fixture as the stream hands it out. */
Event data(const Fixture &fixture, size_t index) {
    Event event;
    event.kind = Event::Kind::Data;
    event.bytes = fixture.packets[index];
    event.send_time_ms = parsed(event.bytes, fixture.info).send_time_ms;
    return event;
}

/* Output at @p now_us; checks the event's send time is its bytes'. */
Event output(Resume &resume, const Fixture &fixture, size_t index, int64_t now_us) {
    Event event = data(fixture, index);
    g_assert_true(resume.on_data(event, fixture.info, now_us).ok());
    g_assert_cmpuint(parsed(event.bytes, fixture.info).send_time_ms, ==, event.send_time_ms);
    return event;
}

/* The first presentation time minus the send time: kept by a shift. */
int64_t presentation_lead(const Event &event, const asf::HeaderInfo &info) {
    const asf::PacketInfo packet = parsed(event.bytes, info);
    g_assert_true(packet.first_presentation_ms.has_value());
    return int64_t{*packet.first_presentation_ms} - packet.send_time_ms;
}

/* The origin restarted with the same streams: times continue after the 5 s gap. */
void test_same_streams() {
    const Fixture fixture = load();
    Resume resume;
    g_assert_true(resume.on_header(fixture.info, false));
    Event last;
    for (size_t i = 7; i < 11; i++) {
        last = output(resume, fixture, i, int64_t(i) * 100000);
        g_assert_true(last.bytes == fixture.packets[i]);
        g_assert_false(last.discont);
    }
    const int64_t lost_at = 10 * 100000;

    /* The new connection starts again at the first key frame, send times from the start. */
    asf::HeaderInfo restarted = fixture.info;
    restarted.max_bitrate += 1000; /* what a new File ID and the like do not change */
    g_assert_false(resume.on_header(restarted, true));
    const Event first = output(resume, fixture, 0, lost_at + 5000000);
    g_assert_true(first.discont);
    g_assert_cmpuint(first.send_time_ms, ==, last.send_time_ms + 5000);
    g_assert_cmpint(presentation_lead(first, fixture.info), ==,
                    presentation_lead(data(fixture, 0), fixture.info));
    const Event second = output(resume, fixture, 1, lost_at + 5100000);
    g_assert_false(second.discont);
    g_assert_cmpuint(second.send_time_ms - first.send_time_ms, ==,
                     data(fixture, 1).send_time_ms - data(fixture, 0).send_time_ms);

    /* A second loss continues from the shifted times. */
    g_assert_false(resume.on_header(fixture.info, true));
    const Event again = output(resume, fixture, 0, lost_at + 8100000);
    g_assert_true(again.discont);
    g_assert_cmpuint(again.send_time_ms, ==, second.send_time_ms + 3000);
}

/* Other streams, or a $C: the header is output and the times are the server's. */
void test_new_header() {
    const Fixture fixture = load();
    Resume resume;
    g_assert_true(resume.on_header(fixture.info, false));
    (void)output(resume, fixture, 7, 0);

    asf::HeaderInfo other = fixture.info;
    other.streams.back().properties.back() ^= 1; /* other codec data */
    g_assert_true(resume.on_header(other, true));
    Event event = output(resume, fixture, 0, 5000000);
    g_assert_true(event.bytes == fixture.packets[0]);
    g_assert_false(event.discont);

    g_assert_true(resume.on_header(fixture.info, false)); /* $C: output even when the same */
    event = output(resume, fixture, 0, 6000000);
    g_assert_true(event.bytes == fixture.packets[0]);
}

/* Lost before any packet: the header stays, the times are as they come. */
void test_lost_before_data() {
    const Fixture fixture = load();
    Resume resume;
    g_assert_true(resume.on_header(fixture.info, false));
    g_assert_false(resume.on_header(fixture.info, true));
    const Event event = output(resume, fixture, 0, 5000000);
    g_assert_true(event.bytes == fixture.packets[0]);
    g_assert_true(event.discont);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/pull-resume/same-streams", test_same_streams);
    g_test_add_func("/pull-resume/new-header", test_new_header);
    g_test_add_func("/pull-resume/lost-before-data", test_lost_before_data);
    return g_test_run();
}
