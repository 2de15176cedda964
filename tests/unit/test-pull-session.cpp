/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/pull (sans-IO MS-WMSP client session): source URLs
 * (mmsh://, mms:// rolled over to HTTP, http://), stream selections, the
 * exact Describe and Play requests [MS-WMSP §2.2.2.1, §2.2.2.6], the client-id
 * taken from the Describe answer and echoed, the verdict on every kind of
 * answer (redirects, refusals, 5xx, chunked), and the answer bodies read into
 * events: the header joined from split $H packets, data packets re-padded to
 * the packet size with their send times, the start at a key frame, $C and a
 * new header, $E, and hostile bodies.
 *
 * The stream is the asfmux-wmv2.asf fixture (tests/data/README.md: 451-byte
 * header, 20 packets of 4800 bytes, a video key frame starting in packets 0,
 * 7, 11 and 15), framed as wmnetsink frames it (proto/framing.h).
 */
#include "proto/framing.h"
#include "pull/session.h"
#include "test-data.h"

#include <glib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

using wmstream::Errc;
using namespace wmstream::pull;
namespace asf = wmstream::proto::asf;
namespace framing = wmstream::proto::framing;
namespace http = wmstream::proto::http;

namespace {

using Bytes = std::vector<uint8_t>;

struct Fixture {
    Bytes header;
    std::vector<Bytes> packets;
    asf::HeaderInfo info;
};

Fixture load() {
    const Bytes file = wmstream::test::load_bytes("asfmux-wmv2.asf");
    Fixture fixture;
    fixture.info = *asf::parse_header(file.data(), file.size());
    fixture.header.assign(file.begin(), file.begin() + fixture.info.total_size);
    for (size_t at = fixture.info.total_size; at + fixture.info.packet_size <= file.size();
         at += fixture.info.packet_size)
        fixture.packets.emplace_back(file.begin() + at,
                                     file.begin() + at + fixture.info.packet_size);
    return fixture;
}

/* g_assert_cmpstr() keeps only the pointer: compare owned strings through a copy. */
void assert_text(const std::string &actual, const std::string &expected) {
    g_assert_cmpstr(actual.c_str(), ==, expected.c_str());
}

void assert_contains(const std::string &text, const std::string &part) {
    if (text.find(part) == std::string::npos)
        g_error("'%s' not in:\n%s", part.c_str(), text.c_str());
}

http::Response response(const std::string &text) {
    auto parsed = http::parse_response(text.data(), text.size());
    g_assert_true(parsed.ok());
    return *parsed;
}

Bytes data_packet(const Bytes &payload, uint32_t location) {
    uint8_t head[framing::kPullHeaderSize];
    g_assert_true(
        framing::write_pull_data_header(head, location, uint8_t(location), payload.size()).ok());
    /* Sized first: GCC 12 at -O3 sees an out-of-bounds copy in a vector grown by insert(). */
    Bytes out(sizeof head + payload.size());
    std::copy(head, head + sizeof head, out.begin());
    std::copy(payload.begin(), payload.end(), out.begin() + sizeof head);
    return out;
}

void append(Bytes &to, const Bytes &bytes) {
    to.insert(to.end(), bytes.begin(), bytes.end());
}

template <size_t N>
void append(Bytes &to, const std::array<uint8_t, N> &bytes) {
    to.insert(to.end(), bytes.begin(), bytes.end());
}

Session make(const std::string &location = "mmsh://origin:8080/live",
             std::vector<uint8_t> streams = {}, const std::string &agent = kPlayerAgent) {
    SessionConfig config;
    config.location = location;
    config.streams = std::move(streams);
    config.user_agent = agent;
    auto created = Session::create(config);
    g_assert_true(created.ok());
    return std::move(*created);
}

/* Every event of @p body fed at once (or in @p piece-byte pieces); fails on an error. */
std::vector<Event> events(Session &session, const Bytes &body, size_t piece = 0) {
    std::vector<Event> out;
    const size_t step = piece ? piece : body.size();
    for (size_t at = 0; at < body.size(); at += step) {
        session.feed(body.data() + at, std::min(step, body.size() - at));
        for (;;) {
            auto event = session.next();
            g_assert_true(event.ok());
            if (!event->has_value())
                break;
            out.push_back(std::move(**event));
        }
    }
    return out;
}

/* A session past its Describe (answered with client-id 4242 and the fixture's header). */
Session described(const Fixture &fixture, std::vector<uint8_t> streams = {}) {
    Session session = make("mmsh://origin:8080/live", std::move(streams));
    (void)session.request();
    g_assert_true(session
                      .on_answer(response("HTTP/1.0 200 OK\r\nServer: Rex/9.0.0.2980\r\n"
                                          "Pragma: no-cache, client-id=4242\r\n"
                                          "Pragma: features=\"broadcast\"\r\n\r\n"))
                      .action == Verdict::Action::Proceed);
    const std::vector<Event> got =
        events(session, framing::pull_header_packets(fixture.header.data(), fixture.header.size()));
    g_assert_cmpuint(got.size(), ==, 1);
    g_assert_true(session.phase() == Session::Phase::Play);
    g_assert_cmpuint(session.client_id(), ==, 4242);
    return session;
}

/* A session past its Describe whose Play was answered 200: its body comes next. */
Session playing(const Fixture &fixture) {
    Session session = described(fixture);
    (void)session.request();
    g_assert_true(session.on_answer(response("HTTP/1.0 200 OK\r\n\r\n")).action ==
                  Verdict::Action::Proceed);
    return session;
}

void test_location() {
    assert_text(parse_location("mmsh://host:8080/live")->to_string(), "http://host:8080/live");
    assert_text(parse_location("MMSH://host/")->to_string(), "http://host/");
    /* mms:// rolls over to HTTP on port 80 unless a port is given. */
    auto mms = parse_location("mms://host/live");
    g_assert_cmpuint(mms->port, ==, 80);
    assert_text(mms->to_string(), "http://host/live");
    g_assert_cmpuint(parse_location("mms://host:8090/")->port, ==, 8090);
    assert_text(parse_location("http://[::1]:81/a?b")->to_string(), "http://[::1]:81/a?b");
    for (const char *bad : {"", "https://host/", "rtsp://host/", "mmst://host/", "mmsh://",
                            "mmsh://host:0/", "mmsh://a b/"}) {
        auto result = parse_location(bad);
        g_assert_false(result.ok());
        g_assert_true(result.error().code == Errc::InvalidName);
    }
}

void test_stream_numbers() {
    g_assert_true(parse_stream_numbers("")->empty());
    g_assert_true(parse_stream_numbers(" all ")->empty());
    const auto numbers = *parse_stream_numbers("1, 2,127");
    g_assert_cmpuint(numbers.size(), ==, 3);
    g_assert_cmpuint(numbers[2], ==, 127);
    for (const char *bad : {"0", "128", "1,,2", "x", "1;2", "-1"}) {
        auto result = parse_stream_numbers(bad);
        g_assert_false(result.ok());
        g_assert_true(result.error().code == Errc::InvalidArgument);
    }
    SessionConfig config;
    config.location = "mmsh://h/";
    config.streams = {0};
    g_assert_true(Session::create(config).error().code == Errc::InvalidArgument);
    config.streams = {};
    config.user_agent = "";
    g_assert_true(Session::create(config).error().code == Errc::InvalidArgument);
}

/* The Describe request of [MS-WMSP] §2.2.2.1 and the Play request of §2.2.2.6. */
void test_requests() {
    const Fixture fixture = load();
    Session session = make("mms://origin/live?x=1", {}, kServerAgent);
    const std::string describe = session.request();
    g_assert_true(g_str_has_prefix(describe.c_str(), "GET /live?x=1 HTTP/1.0\r\n"));
    assert_contains(describe, "User-Agent: NSServer/9.0.0.3171\r\n");
    assert_contains(describe, "Host: origin\r\n");
    assert_contains(describe, "Pragma: no-cache,rate=1.000,stream-time=0,stream-offset=0:0,"
                              "request-context=1,max-duration=0\r\n");
    assert_contains(describe, "Pragma: xClientGUID={");
    g_assert_null(strstr(describe.c_str(), "xPlayStrm"));
    g_assert_true(g_str_has_suffix(describe.c_str(), "Connection: Close\r\n\r\n"));
    /* The request parses as MS-WMSP does on the server side. */
    const size_t guid = describe.find("xClientGUID=") + strlen("xClientGUID=");
    const std::string guid_value = describe.substr(guid, 38);

    Session played = described(fixture);
    const std::string play = played.request();
    assert_contains(play, "User-Agent: NSPlayer/12.0.7680.0\r\n");
    assert_contains(play, "Host: origin:8080\r\n");
    assert_contains(play, "Pragma: no-cache,rate=1.000,request-context=2\r\n");
    assert_contains(play, "Pragma: xPlayStrm=1\r\n");
    assert_contains(play, "Pragma: client-id=4242\r\n");
    assert_contains(play, "Pragma: stream-switch-count=1\r\n");
    assert_contains(play, "Pragma: stream-switch-entry=ffff:1:0 \r\n");
    g_assert_cmpuint(guid_value.size(), ==, 38);
    g_assert_cmpint(guid_value[0], ==, '{');
}

/* Stream selection: unselected streams are sent as off (thinning 2), numbers in hex. */
void test_selection() {
    Bytes file = wmstream::test::load_bytes("asfmux-wmv2-wmav2.asf");
    const asf::HeaderInfo info = *asf::parse_header(file.data(), file.size());
    const Bytes header(file.begin(), file.begin() + info.total_size);
    const Bytes framed = framing::pull_header_packets(header.data(), header.size());
    const auto play_after_describe = [&](std::vector<uint8_t> streams) {
        Session session = make("mmsh://h/", std::move(streams));
        (void)session.request();
        g_assert_true(session.on_answer(response("HTTP/1.0 200 OK\r\n\r\n")).action ==
                      Verdict::Action::Proceed);
        session.feed(framed.data(), framed.size());
        return session;
    };
    Session audio = play_after_describe({2});
    g_assert_true(audio.next().ok());
    const std::string play = audio.request();
    assert_contains(play, "Pragma: stream-switch-count=2\r\n");
    assert_contains(play, "Pragma: stream-switch-entry=ffff:1:2 ffff:2:0 \r\n");
    g_assert_null(strstr(play.c_str(), "client-id")); /* none was given */

    /* Without video the stream starts at once (packet 1 starts no video key frame). */
    const auto first_data = [&](std::vector<uint8_t> streams) {
        Session session = play_after_describe(std::move(streams));
        g_assert_true(session.next().ok());
        (void)session.request();
        g_assert_true(session.on_answer(response("HTTP/1.0 200 OK\r\n\r\n")).action ==
                      Verdict::Action::Proceed);
        Bytes body = framed;
        append(body, data_packet(Bytes(file.begin() + info.total_size + info.packet_size,
                                       file.begin() + info.total_size + 2 * info.packet_size),
                                 1));
        return events(session, body).size();
    };
    g_assert_cmpuint(first_data({2}), ==, 2);
    g_assert_cmpuint(first_data({}), ==, 1);

    Session none = play_after_describe({5});
    auto refused = none.next();
    g_assert_false(refused.ok());
    g_assert_true(refused.error().code == Errc::InvalidArgument);
    assert_contains(refused.error().message, "(5)");
    assert_contains(refused.error().message, "streams 1, 2");
}

void test_verdicts() {
    Session session = make("mmsh://origin:8080/live");
    (void)session.request();
    /* A relative redirect, then an absolute one; the phase stays. */
    Verdict verdict = session.on_answer(response("HTTP/1.1 302 Found\r\nLocation: /edge\r\n\r\n"));
    g_assert_true(verdict.action == Verdict::Action::Redirect);
    assert_text(session.url().to_string(), "http://origin:8080/edge");
    verdict =
        session.on_answer(response("HTTP/1.1 307 Temporary\r\nLocation: http://edge2:9/x\r\n\r\n"));
    g_assert_true(verdict.action == Verdict::Action::Redirect);
    assert_text(session.url().to_string(), "http://edge2:9/x");
    g_assert_true(session.phase() == Session::Phase::Describe);
    for (int i = 0; i < 3; i++)
        g_assert_true(
            session.on_answer(response("HTTP/1.1 302 F\r\nLocation: /a\r\n\r\n")).action ==
            Verdict::Action::Redirect);
    verdict = session.on_answer(response("HTTP/1.1 302 F\r\nLocation: /a\r\n\r\n"));
    g_assert_true(verdict.action == Verdict::Action::Refused);
    assert_contains(verdict.error.message, "more than 5 redirects");
    /* A new attempt goes back to the configured location. */
    session.begin_attempt();
    assert_text(session.url().to_string(), "http://origin:8080/live");

    struct Case {
        const char *head;
        Verdict::Action action;
        Errc code;
    };
    const Case cases[] = {
        {"HTTP/1.1 302 Found\r\n\r\n", Verdict::Action::Refused, Errc::InvalidName},
        {"HTTP/1.1 302 Found\r\nLocation: https://edge/\r\n\r\n", Verdict::Action::Refused,
         Errc::InvalidName},
        {"HTTP/1.1 302 Found\r\nLocation: ftp://edge/\r\n\r\n", Verdict::Action::Refused,
         Errc::InvalidName},
        {"HTTP/1.1 404 Not Found\r\n\r\n", Verdict::Action::Refused, Errc::InvalidName},
        {"HTTP/1.1 401 Unauthorized\r\n\r\n", Verdict::Action::Refused, Errc::AccessDenied},
        {"HTTP/1.1 403 Forbidden\r\n\r\n", Verdict::Action::Refused, Errc::AccessDenied},
        {"HTTP/1.1 400 Bad Request\r\n\r\n", Verdict::Action::Refused, Errc::InvalidRequest},
        {"HTTP/1.1 508 Loop Detected\r\n\r\n", Verdict::Action::Reconnect, Errc::ConnectionFailure},
        {"HTTP/1.1 503 Service Unavailable\r\n\r\n", Verdict::Action::Reconnect,
         Errc::ConnectionFailure},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Verdict::Action::Refused,
         Errc::InvalidData},
    };
    for (const Case &c : cases) {
        Session fresh = make();
        const Verdict v = fresh.on_answer(response(c.head));
        g_assert_true(v.action == c.action);
        g_assert_true(v.error.code == c.code);
        g_assert_cmpuint(v.status, ==, response(c.head).status);
        assert_contains(v.error.message, "http://origin:8080/live answered");
    }
}

/* The Play body: $H split in two, a $M the stream ignores, data from packet 3 (the stream
 * starts at the key frame of packet 7, trimmed to it), packets with their padding removed
 * re-padded, $E. */
void test_play_body() {
    const Fixture fixture = load();
    Session session = playing(fixture);
    Bytes body;
    const size_t half = fixture.header.size() / 2;
    for (int part = 0; part < 2; part++) {
        const Bytes payload(fixture.header.begin() + (part ? half : 0),
                            part ? fixture.header.end() : fixture.header.begin() + half);
        Bytes packet = data_packet(payload, part);
        packet[1] = 'H';
        packet[9] = part ? framing::kHeaderLast : framing::kHeaderFirst;
        append(body, packet);
    }
    Bytes meta = data_packet(Bytes{'x', 0}, 0);
    meta[1] = 'M';
    append(body, meta);
    for (size_t i = 3; i < fixture.packets.size(); i++) {
        Bytes payload = fixture.packets[i];
        /* Trailing zeros (padding) removed from every other packet. */
        if (i % 2)
            while (!payload.empty() && payload.back() == 0)
                payload.pop_back();
        append(body, data_packet(payload, uint32_t(i)));
    }
    append(body, framing::pull_end(framing::kReasonDone));

    const std::vector<Event> got = events(session, body, 1000);
    g_assert_cmpuint(got.size(), ==, 1 + (fixture.packets.size() - 7) + 1);
    g_assert_true(got[0].kind == Event::Kind::Header);
    g_assert_true(got[0].bytes == fixture.header);
    for (size_t i = 7; i < fixture.packets.size(); i++) {
        const Event &data = got[1 + i - 7];
        g_assert_true(data.kind == Event::Kind::Data);
        g_assert_cmpuint(data.location_id, ==, i);
        /* The first packet loses the delta frames before its key frame. */
        const Bytes expected =
            i == 7 ? *asf::trim_to_key_frame(fixture.packets[i].data(), fixture.packets[i].size(),
                                             fixture.info)
                   : fixture.packets[i];
        g_assert_true(data.bytes == expected);
        const asf::PacketInfo info =
            *asf::parse_packet(fixture.packets[i].data(), fixture.packets[i].size(), fixture.info);
        g_assert_cmpuint(data.send_time_ms, ==, info.send_time_ms);
        g_assert_true(data.key_frame == info.key_frame_start);
    }
    g_assert_true(got.back().kind == Event::Kind::End);
    g_assert_cmpuint(got.back().reason, ==, 0);
    g_assert_cmpuint(session.skipped(), ==, 4);
}

/* $C then a new header: a Change event, the header, and again the start at a key frame. */
void test_change() {
    const Fixture fixture = load();
    Session session = playing(fixture);
    Bytes body = framing::pull_header_packets(fixture.header.data(), fixture.header.size());
    append(body, data_packet(fixture.packets[0], 0));
    append(body, framing::pull_end(framing::kReasonNextEntry));
    append(body, framing::pull_change(0));
    append(body, framing::pull_header_packets(fixture.header.data(), fixture.header.size()));
    append(body, data_packet(fixture.packets[1], 1));
    append(body, data_packet(fixture.packets[7], 7));
    const std::vector<Event> got = events(session, body);
    const Event::Kind expected[] = {Event::Kind::Header, Event::Kind::Data,   Event::Kind::End,
                                    Event::Kind::Change, Event::Kind::Header, Event::Kind::Data};
    g_assert_cmpuint(got.size(), ==, G_N_ELEMENTS(expected));
    for (size_t i = 0; i < got.size(); i++)
        g_assert_true(got[i].kind == expected[i]);
    g_assert_cmpuint(got[2].reason, ==, framing::kReasonNextEntry);
    g_assert_cmpuint(got[5].location_id, ==, 7);
}

/* Bodies a server must not send: errors, not crashes or unbounded memory. */
void test_hostile_bodies() {
    const Fixture fixture = load();
    const auto first_error = [&](const Bytes &body) {
        Session session = playing(fixture);
        session.feed(body.data(), body.size());
        for (int i = 0; i < 100; i++) {
            auto event = session.next();
            if (!event)
                return event.error();
            g_assert_true(event->has_value());
        }
        g_error("no error");
    };
    const Bytes header = framing::pull_header_packets(fixture.header.data(), fixture.header.size());

    /* Data before any header. */
    auto error = first_error(data_packet(fixture.packets[0], 0));
    g_assert_true(error.code == Errc::InvalidData);
    assert_contains(error.message, "before any header");
    /* A payload longer than the packet size. */
    Bytes body = header;
    Bytes longer = fixture.packets[0];
    longer.push_back(0);
    append(body, data_packet(longer, 0));
    assert_contains(first_error(body).message, "exceeds the packet size 4800");
    /* A payload that is no ASF packet. */
    body = header;
    append(body, data_packet(Bytes(4800, 0xff), 0));
    assert_contains(first_error(body).message, "is no ASF data packet");
    /* A last $H that holds no header. */
    Bytes garbage = data_packet(Bytes(100, 'x'), 0);
    garbage[1] = 'H';
    garbage[9] = framing::kHeaderWhole;
    assert_contains(first_error(garbage).message, "hold no ASF header");
    /* $H fragments without end: refused past kMaxHeaderBytes. */
    Bytes endless;
    Bytes fragment = data_packet(Bytes(framing::kMaxPullPayload, 'x'), 0);
    fragment[1] = 'H';
    fragment[9] = framing::kHeaderMiddle;
    for (size_t i = 0; i <= kMaxHeaderBytes / framing::kMaxPullPayload; i++)
        append(endless, fragment);
    assert_contains(first_error(endless).message, "more than");
    /* Framing garbage. */
    error = first_error(Bytes{'G', 'E', 'T', ' ', '/', ' '});
    g_assert_true(error.code == Errc::InvalidData);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/pull-session/location", test_location);
    g_test_add_func("/pull-session/stream-numbers", test_stream_numbers);
    g_test_add_func("/pull-session/requests", test_requests);
    g_test_add_func("/pull-session/selection", test_selection);
    g_test_add_func("/pull-session/verdicts", test_verdicts);
    g_test_add_func("/pull-session/play-body", test_play_body);
    g_test_add_func("/pull-session/change", test_change);
    g_test_add_func("/pull-session/hostile-bodies", test_hostile_bodies);
    return g_test_run();
}
