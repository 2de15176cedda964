/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/wmsp-request: Pragma parsing and request classification
 * of real FFmpeg 5.1 / VLC 3.0 / curl captures (tests/data/requests/) and of
 * synthetic requests after the MS-WMSP examples (WMP 12, NSServer, POSTs).
 */
#include "proto/http-request.h"
#include "proto/wmsp-request.h"
#include "test-data.h"

#include <glib.h>

#include <cstring>
#include <optional>
#include <string>

using wmstream::proto::http::parse_request;
using wmstream::proto::http::Scan;
using wmstream::proto::http::scan_header_block;
using wmstream::proto::wmsp::classify;
using wmstream::proto::wmsp::ClientRequest;
using wmstream::proto::wmsp::Kind;
using wmstream::proto::wmsp::Pragma;

namespace {

/* Contents of tests/data/requests/@name. */
std::string load_request(const char *name) {
    return wmstream::test::load_text((std::string("requests/") + name).c_str());
}

/* The server's path: scan for the block, parse it, classify it. */
ClientRequest classify_text(const std::string &text) {
    const Scan scan = scan_header_block(text.data(), text.size());
    g_assert_true(scan.state == Scan::State::Complete);
    auto request = parse_request(text.data(), scan.block_size);
    g_assert_true(request.ok());
    return classify(*request);
}

/* A request from @method and header @lines (each without line ending). */
std::string make_request(const char *method, std::initializer_list<const char *> lines) {
    std::string text = std::string(method) + " /live HTTP/1.0\r\n";
    for (const char *line : lines)
        text += std::string(line) + "\r\n";
    return text + "\r\n";
}

void assert_kind(const ClientRequest &request, Kind expected) {
    g_assert_cmpstr(wmstream::proto::wmsp::to_string(request.kind), ==,
                    wmstream::proto::wmsp::to_string(expected));
}

void assert_entry(const ClientRequest &request, size_t index, unsigned source, unsigned stream,
                  unsigned thinning) {
    g_assert_cmpuint(request.stream_selection.size(), >, index);
    const auto &entry = request.stream_selection[index];
    g_assert_cmphex(entry.source, ==, source);
    g_assert_cmpuint(entry.stream, ==, stream);
    g_assert_cmpuint(entry.thinning, ==, thinning);
}

/* The xClientGUID value exactly as it appears in the raw bytes of @text. */
std::string raw_guid(const std::string &text) {
    const size_t start = text.find("xClientGUID=");
    g_assert_cmpuint(start, !=, std::string::npos);
    const size_t value = start + strlen("xClientGUID=");
    return text.substr(value, text.find('\r', value) - value);
}

/* Token @name of @pragma is present with @expected as value. */
void assert_token(const Pragma &pragma, const char *name, const char *expected) {
    const std::optional<std::string> value = pragma.get(name);
    g_assert_true(value.has_value());
    g_assert_cmpstr(value->c_str(), ==, expected);
}

void test_pragma_ffmpeg_broken_line() {
    const Pragma pragma = Pragma::parse({"no-cache,rate=1.000000,request-context=2", "xPlayStrm=1",
                                         "no-cache,rate=1.000000,stream-time=0Connection: Close"});
    const auto &tokens = pragma.tokens();
    g_assert_cmpuint(tokens.size(), ==, 7);
    g_assert_cmpstr(tokens[0].first.c_str(), ==, "no-cache");
    g_assert_cmpstr(tokens[0].second.c_str(), ==, "");
    g_assert_cmpstr(tokens[2].first.c_str(), ==, "request-context");
    g_assert_cmpstr(tokens[2].second.c_str(), ==, "2");
    g_assert_cmpstr(tokens[6].first.c_str(), ==, "stream-time");
    g_assert_cmpstr(tokens[6].second.c_str(), ==, "0Connection: Close");
    /* First occurrence wins. */
    assert_token(pragma, "rate", "1.000000");
    assert_token(pragma, "XPLAYSTRM", "1");
}

void test_pragma_tolerates_garbage() {
    const Pragma pragma =
        Pragma::parse({" , ,LinkBW = 2147483647 , AccelBW=1048576,=orphan, bare ,empty=,",
                       "features=\"broadcast,playlist\"", "", "\x01\xff=\x7f"});
    g_assert_true(pragma.has("linkbw"));
    assert_token(pragma, "LinkBW", "2147483647");
    assert_token(pragma, "accelbw", "1048576");
    assert_token(pragma, "", "orphan");
    g_assert_true(pragma.has("bare"));
    assert_token(pragma, "bare", "");
    assert_token(pragma, "empty", "");
    assert_token(pragma, "features", "\"broadcast,playlist\"");
    g_assert_false(pragma.has("playlist\""));
    g_assert_false(pragma.get("absent").has_value());
    g_assert_cmpuint(pragma.tokens().size(), ==, 7);
}

void test_ffmpeg_describe() {
    const std::string text = load_request("ffmpeg-describe.http");
    const ClientRequest request = classify_text(text);
    assert_kind(request, Kind::Describe);
    g_assert_true(request.wmsp_client);
    g_assert_cmpstr(request.user_agent.c_str(), ==, "NSPlayer/4.1.0.3856");
    g_assert_cmpstr(request.client_guid.c_str(), ==, "{c77e7400-738a-11d2-9add-0020af0a3278}");
    g_assert_false(request.client_id.has_value());
    g_assert_true(request.stream_selection.empty());
}

void test_ffmpeg_play() {
    const ClientRequest request = classify_text(load_request("ffmpeg-play.http"));
    assert_kind(request, Kind::Play);
    g_assert_true(request.wmsp_client);
    g_assert_cmpstr(request.client_guid.c_str(), ==, "{c77e7400-738a-11d2-9add-0020af0a3278}");
    g_assert_cmpuint(request.stream_selection.size(), ==, 2);
    assert_entry(request, 0, 0xffff, 1, 0);
    assert_entry(request, 1, 0xffff, 2, 0);
}

void test_vlc_describe_and_play() {
    const std::string describe_text = load_request("vlc-describe.http");
    const ClientRequest describe = classify_text(describe_text);
    assert_kind(describe, Kind::Describe);
    g_assert_true(describe.wmsp_client);
    g_assert_cmpstr(describe.user_agent.c_str(), ==, "NSPlayer/7.10.0.3059");
    /* VLC's GUID is malformed ("{0xbabac001-0x…}") and kept exactly as sent. */
    g_assert_true(g_str_has_prefix(describe.client_guid.c_str(), "{0xbabac001-0x"));
    const std::string sent_guid = raw_guid(describe_text);
    g_assert_cmpstr(describe.client_guid.c_str(), ==, sent_guid.c_str());

    const std::string play_text = load_request("vlc-play.http");
    const ClientRequest play = classify_text(play_text);
    assert_kind(play, Kind::Play);
    /* Same session: same GUID in both requests. */
    g_assert_cmpstr(play.client_guid.c_str(), ==, sent_guid.c_str());
    g_assert_cmpuint(play.stream_selection.size(), ==, 2);
    assert_entry(play, 0, 0xffff, 1, 0);
    assert_entry(play, 1, 0xffff, 2, 0);
}

void test_curl_get() {
    const ClientRequest request = classify_text(load_request("curl-get.http"));
    assert_kind(request, Kind::HttpStream);
    g_assert_false(request.wmsp_client);
    g_assert_true(g_str_has_prefix(request.user_agent.c_str(), "curl/"));
    g_assert_cmpstr(request.client_guid.c_str(), ==, "");
}

void test_wmp12_describe_and_play() {
    /* Header sets of the MS-WMSP §2.2.2.1 / §2.2.2.6 examples (WMP 12). */
    const ClientRequest describe = classify_text(make_request(
        "GET",
        {"Accept: */*", "User-Agent: NSPlayer/12.0.7680.0", "Host: encoder",
         "X-Accept-Authentication: Negotiate, NTLM, Digest, Basic", "Pragma: version11-enabled=1",
         "Pragma: no-cache,rate=1.000,stream-time=0,stream-offset=0:0,packet-num=4294967295,"
         "max-duration=0",
         "Pragma: packet-pair-experiment=1", "Pragma: pipeline-experiment=1",
         "Supported: com.microsoft.wm.srvppair, com.microsoft.wm.sswitch, "
         "com.microsoft.wm.predstrm, com.microsoft.wm.startupprofile",
         "Pragma: xClientGUID={3300AD50-2C39-46c0-AE0A-4FAB6317C555}",
         "Accept-Language: en-US, *;q=0.1"}));
    assert_kind(describe, Kind::Describe);
    g_assert_cmpstr(describe.client_guid.c_str(), ==, "{3300AD50-2C39-46c0-AE0A-4FAB6317C555}");
    g_assert_false(describe.client_id.has_value());

    const ClientRequest play = classify_text(make_request(
        "GET",
        {"Accept: */*", "User-Agent: NSPlayer/12.0.7680.0", "Host: encoder",
         "Pragma: no-cache,rate=1.000,stream-time=0,stream-offset=4294967295:4294967295,"
         "packet-num=4294967295,max-duration=0",
         "Pragma: xPlayStrm=1", "Pragma: client-id=3945524902",
         "Pragma: LinkBW=2147483647, AccelBW=1048576, AccelDuration=18000, Speed=5.000",
         "Pragma: xClientGUID={3300AD50-2C39-46c0-AE0A-4FAB6317C555}",
         "Pragma: stream-switch-count=3", "Pragma: stream-switch-entry=ffff:1:0 ffff:2:0 ffff:c:2",
         "Pragma: playlist-seek-id=0"}));
    assert_kind(play, Kind::Play);
    g_assert_true(play.client_id.has_value());
    g_assert_cmpuint(*play.client_id, ==, 3945524902u);
    /* Not FFmpeg's User-Agent: stream numbers are hex, as in the spec. */
    g_assert_cmpuint(play.stream_selection.size(), ==, 3);
    assert_entry(play, 2, 0xffff, 12, 2);
}

void test_stream_number_base() {
    const char *entry = "Pragma: stream-switch-entry=ffff:12:0 ffff:3:1";
    const ClientRequest ffmpeg = classify_text(
        make_request("GET", {"User-Agent: NSPlayer/4.1.0.3856", "Pragma: xPlayStrm=1", entry}));
    assert_entry(ffmpeg, 0, 0xffff, 12, 0);
    assert_entry(ffmpeg, 1, 0xffff, 3, 1);
    const ClientRequest wmp = classify_text(
        make_request("GET", {"User-Agent: NSPlayer/9.0.0.2980", "Pragma: xPlayStrm=1", entry}));
    assert_entry(wmp, 0, 0xffff, 0x12, 0);

    /* Malformed items are skipped, good ones kept. */
    const ClientRequest odd = classify_text(make_request(
        "GET", {"User-Agent: NSPlayer/9.0.0.2980", "Pragma: xPlayStrm=1",
                "Pragma: stream-switch-entry=ffff:1 zz:2:0 ffff:2:3 ffff:3:-1   0:4:1 ::"}));
    g_assert_cmpuint(odd.stream_selection.size(), ==, 1);
    assert_entry(odd, 0, 0, 4, 1);
}

void test_nsserver_and_cache_proxy() {
    const ClientRequest describe = classify_text(
        make_request("GET", {"User-Agent: NSServer/9.0.0.3171", "Max-Forwards: 9",
                             "Pragma: xClientGUID={00000000-0000-0000-0000-000000000000}"}));
    assert_kind(describe, Kind::Describe);
    g_assert_true(describe.wmsp_client);
    /* Flumotion's minimal puller, and case-insensitive prefixes. */
    const ClientRequest play = classify_text(
        make_request("GET", {"User-Agent: nsserver/1.0,Flumotion/0.0", "Pragma: xplaystrm=1"}));
    assert_kind(play, Kind::Play);
    assert_kind(classify_text(make_request("GET", {"User-Agent: WMCacheProxy/9.0"})),
                Kind::Describe);
    assert_kind(
        classify_text(make_request("GET", {"User-Agent: NSPlayer/12.0", "Pragma: xPlayStrm=0"})),
        Kind::Describe);
    /* "NSPlayer" without the slash, or not at the start, is not WMSP. */
    assert_kind(classify_text(make_request("GET", {"User-Agent: NSPlayer"})), Kind::HttpStream);
    assert_kind(classify_text(make_request("GET", {"User-Agent: Mozilla/5.0 NSPlayer/12.0"})),
                Kind::HttpStream);
    assert_kind(classify_text(make_request("GET", {})), Kind::HttpStream);
}

void test_posts() {
    const ClientRequest keepalive = classify_text(
        make_request("POST", {"User-Agent: NSPlayer/12.0.7680.0", "Content-Length: 0",
                              "Pragma: xKeepAliveInPause=1", "Pragma: client-id=123"}));
    assert_kind(keepalive, Kind::KeepAlive);
    g_assert_cmpuint(*keepalive.client_id, ==, 123);

    assert_kind(classify_text(make_request(
                    "POST", {"User-Agent: NSPlayer/12.0", "Pragma: client-id=1",
                             "Pragma: log-line=c-ip date time cs-uri", "Content-Length: 0"})),
                Kind::Log);
    assert_kind(classify_text(
                    make_request("POST", {"User-Agent: NSPlayer/12.0",
                                          "Content-Type: Application/X-WMS-LogStats; charset=UTF-8",
                                          "Content-Length: 0"})),
                Kind::Log);
    /* SelectStream (non-pipelined, §2.2.2.8): the entries and the session's client-id. */
    const ClientRequest select = classify_text(
        make_request("POST", {"User-Agent: NSPlayer/12.0", "Pragma: client-id=77",
                              "Pragma: stream-switch-count=1", "Pragma: stream-switch-entry=1:2:0",
                              "Content-Length: 0"}));
    assert_kind(select, Kind::SelectStream);
    g_assert_cmpuint(*select.client_id, ==, 77);
    g_assert_cmpuint(select.stream_selection.size(), ==, 1);
    g_assert_cmpuint(select.stream_selection[0].source, ==, 1);
    g_assert_cmpuint(select.stream_selection[0].stream, ==, 2);
    /* Non-WMSP POSTs get the empty answer whatever their Pragma says. */
    const ClientRequest browser = classify_text(make_request(
        "POST", {"User-Agent: curl/7.88.1", "Pragma: xKeepAliveInPause=1", "Content-Length: 0"}));
    assert_kind(browser, Kind::OtherPost);
    g_assert_false(browser.wmsp_client);
}

/* Distribution servers (§4.11, §4.12): by their agents, or by a Via header from anyone; the
 * cache/proxy's GetContentInfo POST (§2.2.2.2, its example request verbatim). */
void test_relays() {
    const ClientRequest proxy = classify_text(make_request(
        "POST", {"User-Agent: WMCacheProxy/9.5.6001.1",
                 "Via: HTTP/1.1 WMCacheProxy (WMCacheProxy/9.5.6001.1)", "Max-Forwards: 9",
                 "Accept-Charset: UTF-8, *;q=0.1",
                 "Pragma: xClientGUID={00000000-0000-0000-0000-000000000000}",
                 "X-Accept-Authentication: Negotiate, NTLM, Digest",
                 "Content-Type: application/x-wms-getcontentinfo", "Host: SampleServer",
                 "Content-Length: 1", "Connection: Keep-Alive"}));
    assert_kind(proxy, Kind::GetContentInfo);
    g_assert_true(proxy.relay);
    /* WMS pulling from an encoder (§4.11): a Describe, then a Play, from a relay. */
    const ClientRequest puller = classify_text(
        make_request("GET", {"User-Agent: NSServer/9.0.0.3171", "Max-Forwards: 9",
                             "Pragma: LinkBW=2147483647, BurstBW=3500000, BurstDuration=5000",
                             "Pragma: xPlayStrm=1"}));
    assert_kind(puller, Kind::Play);
    g_assert_true(puller.relay);
    g_assert_true(
        classify_text(make_request("GET", {"User-Agent: nsserver/1.0,Flumotion/0.0"})).relay);
    /* Any agent behind a Via is relayed; a player without one is a viewer. */
    const ClientRequest behind = classify_text(
        make_request("GET", {"User-Agent: NSPlayer/12.0.7680.0", "Via: 1.1 edge.example"}));
    assert_kind(behind, Kind::Describe);
    g_assert_true(behind.relay);
    g_assert_true(
        classify_text(make_request("GET", {"User-Agent: VLC/3.0.18", "Via: 1.0 squid"})).relay);
    g_assert_false(classify_text(make_request("GET", {"User-Agent: NSPlayer/12.0.7680.0"})).relay);
    g_assert_false(classify_text(make_request("GET", {"User-Agent: NSPlayer/4.1.0.3856"})).relay);
    /* GetContentInfo is a WMSP POST: from a browser it is just a POST. */
    assert_kind(
        classify_text(make_request("POST", {"User-Agent: curl/7.88.1",
                                            "Content-Type: application/x-wms-getcontentinfo",
                                            "Content-Length: 1"})),
        Kind::OtherPost);
}

/* Fast start (§2.2.1.4.1–4): BurstBW/BurstDuration first, else AccelBW/AccelDuration; both
 * tokens of a pair, numbers, not 0 (0 = ignore). */
void test_fast_start() {
    using wmstream::proto::wmsp::FastStart;
    const auto fast_start = [](std::initializer_list<const char *> pragmas) {
        std::string text = make_request("GET", {"User-Agent: NSServer/9.0.0.3171"});
        text.resize(text.size() - 2); /* the blank line: the Pragma lines follow */
        for (const char *line : pragmas)
            text += std::string(line) + "\r\n";
        return classify_text(text + "\r\n").fast_start;
    };
    const std::optional<FastStart> burst =
        fast_start({"Pragma: LinkBW=2147483647, BurstBW=3500000, BurstDuration=5000",
                    "Pragma: AccelBW=1048576, AccelDuration=3000", "Pragma: xPlayStrm=1"});
    g_assert_true(burst.has_value());
    g_assert_false(burst->accel);
    g_assert_cmpuint(burst->bandwidth_bps, ==, 3500000);
    g_assert_cmpuint(burst->duration_ms, ==, 5000);
    g_assert_true(burst->echo() == "BurstBW=3500000, BurstDuration=5000");

    const std::optional<FastStart> accel =
        fast_start({"Pragma: LinkBW=2147483647, AccelBW=1048576, AccelDuration=5000"});
    g_assert_true(accel.has_value());
    g_assert_true(accel->accel);
    g_assert_true(accel->echo() == "AccelBW=1048576, AccelDuration=5000");

    g_assert_false(fast_start({"Pragma: BurstBW=3500000"}).has_value()); /* no duration */
    g_assert_false(fast_start({"Pragma: BurstBW=0, BurstDuration=5000"}).has_value());
    g_assert_false(fast_start({"Pragma: BurstBW=3500000, BurstDuration=0"}).has_value());
    g_assert_false(fast_start({"Pragma: BurstBW=fast, BurstDuration=5000"}).has_value());
    g_assert_false(fast_start({"Pragma: BurstBW=4294967296, BurstDuration=5000"}).has_value());
    /* A bad burst pair leaves a good accel pair. */
    g_assert_true(
        fast_start({"Pragma: BurstBW=x, BurstDuration=1, AccelBW=8000, AccelDuration=1"})->accel);
    g_assert_false(fast_start({"Pragma: LinkBW=2147483647"}).has_value());
}

/* A loop: our own name in its Via (any entry, any case), or no hops left (Max-Forwards 0). */
void test_loops() {
    using wmstream::proto::wmsp::is_loop;
    const ClientRequest looped = classify_text(
        make_request("GET", {"User-Agent: NSServer/9.0.0.3171",
                             "Via: 1.1 edge.test, 1.1 ORIGIN.test:8080", "Max-Forwards: 7"}));
    g_assert_true(is_loop(looped, "origin.test:8080"));
    g_assert_false(is_loop(looped, "origin.test"));
    g_assert_false(is_loop(looped, "edge"));
    g_assert_cmpuint(*looped.max_forwards, ==, 7);

    const ClientRequest spent =
        classify_text(make_request("GET", {"User-Agent: NSServer/9.0.0.3171", "Max-Forwards: 0"}));
    g_assert_true(is_loop(spent, "origin.test"));
    const ClientRequest fresh = classify_text(make_request("GET", {"User-Agent: NSPlayer/12.0"}));
    g_assert_false(fresh.max_forwards.has_value());
    g_assert_false(is_loop(fresh, "origin.test"));
    /* A garbled Max-Forwards is no number, not 0. */
    const ClientRequest garbled = classify_text(
        make_request("GET", {"User-Agent: NSServer/9.0.0.3171", "Max-Forwards: zero"}));
    g_assert_false(garbled.max_forwards.has_value());
    g_assert_false(is_loop(garbled, "origin.test"));
}

void test_other_methods() {
    assert_kind(classify_text(make_request("OPTIONS", {"User-Agent: NSPlayer/12.0"})),
                Kind::KeepAlive);
    assert_kind(classify_text(make_request("HEAD", {"User-Agent: NSPlayer/12.0"})), Kind::HttpHead);
    assert_kind(classify_text(make_request("HEAD", {"User-Agent: curl/7.88.1"})), Kind::HttpHead);
    for (const char *method : {"PUT", "DELETE", "PATCH", "CONNECT", "TRACE"})
        assert_kind(classify_text(make_request(method, {"User-Agent: NSPlayer/12.0"})),
                    Kind::MethodNotAllowed);
    for (const char *method : {"BREW", "PROPFIND", "get", "Post"})
        assert_kind(classify_text(make_request(method, {"User-Agent: NSPlayer/12.0"})),
                    Kind::NotImplemented);
}

void test_client_id_validation() {
    const auto client_id = [](const char *value) {
        const std::string line = std::string("Pragma: client-id=") + value;
        return classify_text(make_request("GET", {"User-Agent: NSPlayer/12.0", line.c_str()}))
            .client_id;
    };
    g_assert_cmpuint(*client_id("4294967295"), ==, 4294967295u);
    g_assert_cmpuint(*client_id("0"), ==, 0);
    g_assert_false(client_id("4294967296").has_value());
    g_assert_false(client_id("-1").has_value());
    g_assert_false(client_id("12abc").has_value());
    g_assert_false(client_id("").has_value());
}

void test_lf_only_and_split_feeds() {
    /* VLC's describe with bare LF line endings still classifies. */
    std::string lf = load_request("vlc-describe.http");
    for (size_t pos = lf.find('\r'); pos != std::string::npos; pos = lf.find('\r'))
        lf.erase(pos, 1);
    const ClientRequest request = classify_text(lf);
    assert_kind(request, Kind::Describe);
    g_assert_cmpstr(request.user_agent.c_str(), ==, "NSPlayer/7.10.0.3059");

    /* FFmpeg's play arriving 7 bytes at a time: incomplete, then Play. */
    const std::string text = load_request("ffmpeg-play.http");
    std::string received;
    size_t feeds = 0;
    Scan scan;
    while (scan.state == Scan::State::Incomplete && received.size() < text.size()) {
        received += text.substr(received.size(), 7);
        feeds++;
        scan = scan_header_block(received.data(), received.size());
    }
    g_assert_true(scan.state == Scan::State::Complete);
    g_assert_cmpuint(feeds, ==, (text.size() + 6) / 7);
    assert_kind(classify_text(received), Kind::Play);
}

void test_garbage_and_too_large() {
    const std::string garbage = "\x16\x03\x01\x02\x03 hello\r\n\r\n";
    unsigned status = 0;
    g_assert_false(parse_request(garbage.data(), garbage.size(), &status).ok());
    g_assert_cmpuint(status, ==, 400);

    std::string huge = "GET /live HTTP/1.0\r\nUser-Agent: NSPlayer/12.0\r\n";
    while (huge.size() <= wmstream::proto::http::kMaxHeaderBytes)
        huge += "Pragma: no-cache,rate=1.000000,stream-time=0\r\n";
    huge += "\r\n";
    g_assert_true(scan_header_block(huge.data(), huge.size()).state == Scan::State::TooLarge);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/wmsp-request/pragma/ffmpeg-broken-line", test_pragma_ffmpeg_broken_line);
    g_test_add_func("/wmsp-request/pragma/garbage", test_pragma_tolerates_garbage);
    g_test_add_func("/wmsp-request/capture/ffmpeg-describe", test_ffmpeg_describe);
    g_test_add_func("/wmsp-request/capture/ffmpeg-play", test_ffmpeg_play);
    g_test_add_func("/wmsp-request/capture/vlc", test_vlc_describe_and_play);
    g_test_add_func("/wmsp-request/capture/curl", test_curl_get);
    g_test_add_func("/wmsp-request/classify/wmp12", test_wmp12_describe_and_play);
    g_test_add_func("/wmsp-request/classify/stream-number-base", test_stream_number_base);
    g_test_add_func("/wmsp-request/classify/nsserver", test_nsserver_and_cache_proxy);
    g_test_add_func("/wmsp-request/classify/posts", test_posts);
    g_test_add_func("/wmsp-request/classify/relays", test_relays);
    g_test_add_func("/wmsp-request/classify/loops", test_loops);
    g_test_add_func("/wmsp-request/classify/fast-start", test_fast_start);
    g_test_add_func("/wmsp-request/classify/other-methods", test_other_methods);
    g_test_add_func("/wmsp-request/classify/client-id", test_client_id_validation);
    g_test_add_func("/wmsp-request/wire/lf-only-and-split-feeds", test_lf_only_and_split_feeds);
    g_test_add_func("/wmsp-request/wire/garbage-and-too-large", test_garbage_and_too_large);
    return g_test_run();
}
