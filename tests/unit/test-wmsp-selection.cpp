/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/proto/wmsp-selection: which streams a Play request
 * selects (MS-WMSP §2.2.1.4.27, §3.2.5.6) and a SelectStream switches to
 * (§2.2.2.8), from the requests FFmpeg 5.1 and
 * VLC 3.0 really sent (tests/data/requests/) and from the spec's forms.
 */
#include "proto/http-request.h"
#include "proto/wmsp-selection.h"
#include "test-data.h"

#include <glib.h>

#include <cstring>
#include <initializer_list>
#include <string>

using namespace wmstream;
using namespace wmstream::proto;

namespace {

wmsp::ClientRequest classify_text(const std::string &text) {
    const http::Scan scan = http::scan_header_block(text.data(), text.size());
    g_assert_true(scan.state == http::Scan::State::Complete);
    auto request = http::parse_request(text.data(), scan.block_size);
    g_assert_true(request.ok());
    return wmsp::classify(*request);
}

/* A Play from @p agent with @p entries (none: no stream-switch-entry). */
wmsp::ClientRequest play(const char *agent, const char *entries) {
    std::string text =
        "GET /live HTTP/1.0\r\nUser-Agent: " + std::string(agent) + "\r\nPragma: xPlayStrm=1\r\n";
    if (entries)
        text += "Pragma: stream-switch-entry=" + std::string(entries) + "\r\n";
    return classify_text(text + "\r\n");
}

/* Streams 1 video and 2 audio, or those given (video). */
asf::HeaderInfo header_of(std::initializer_list<uint8_t> numbers = {}) {
    asf::HeaderInfo header;
    header.packet_size = 1000;
    if (numbers.size() == 0)
        header.streams = {{1, true, false}, {2, false, true}};
    for (uint8_t number : numbers)
        header.streams.push_back({number, true, false});
    return header;
}

/* @p request selects @p streams ("1,2"), with @p key_only thinned to key frames. */
void assert_selects(const wmsp::ClientRequest &request, const char *streams,
                    const char *key_only = "", const asf::HeaderInfo &header = header_of()) {
    Result<asf::StreamSelection> selection = wmsp::select_streams(request, header);
    if (!selection)
        g_error("refused: %s", selection.error().message.c_str());
    const std::string selected = selection->stream_list(); /* outlives the check */
    g_assert_cmpstr(selected.c_str(), ==, streams);
    asf::StreamSelection thinned;
    thinned.streams = selection->key_frames_only;
    const std::string thinned_list = thinned.stream_list();
    g_assert_cmpstr(thinned_list.c_str(), ==, key_only);
}

void assert_refused(const wmsp::ClientRequest &request,
                    const asf::HeaderInfo &header = header_of()) {
    Result<asf::StreamSelection> selection = wmsp::select_streams(request, header);
    g_assert_false(selection.ok());
    g_assert_true(selection.error().code == Errc::InvalidData);
    g_assert_nonnull(strstr(selection.error().message.c_str(), "selects none"));
}

void test_real_clients() {
    const auto ffmpeg = classify_text(test::load_text("requests/ffmpeg-play.http"));
    const auto vlc = classify_text(test::load_text("requests/vlc-play.http"));
    assert_selects(ffmpeg, "1,2");
    assert_selects(vlc, "1,2");
    /* A header with a third stream: the clients listed two, they get two. */
    assert_selects(ffmpeg, "1,2", "", header_of({1, 2, 3}));
    /* A plain HTTP client and a Describe get everything. */
    assert_selects(classify_text(test::load_text("requests/curl-get.http")), "1,2");
    assert_selects(classify_text(test::load_text("requests/vlc-describe.http")), "1,2");
}

void test_spec_entries() {
    assert_selects(play("NSPlayer/9.0.0.2980", "ffff:2:0"), "2");
    assert_selects(play("NSPlayer/9.0.0.2980", "ffff:1:1 ffff:2:0"), "1,2", "1");
    /* VLC's form for a stream it does not want: thinning 2. */
    assert_selects(play("NSPlayer/7.10.0.3059", "ffff:1:2 ffff:2:0"), "2");
    /* Stream 1 replaced by stream 2. */
    assert_selects(play("NSPlayer/9.0.0.2980", "ffff:1:0 1:2:0"), "2");
    /* Streams the header does not have are ignored. */
    assert_selects(play("NSPlayer/9.0.0.2980", "ffff:7:0 ffff:2:0"), "2");
}

void test_no_entries_selects_all() {
    assert_selects(play("NSPlayer/9.0.0.2980", nullptr), "1,2");
}

void test_refused() {
    assert_refused(play("NSPlayer/9.0.0.2980", "ffff:7:0"));
    assert_refused(play("NSPlayer/9.0.0.2980", "ffff:1:2 ffff:2:2"));
    assert_refused(play("NSPlayer/9.0.0.2980", "ffff:1:0 1:9:0"));
}

void test_stream_number_bases() {
    /* FFmpeg prints decimal (10), everyone else hex (0x10 = 16). */
    const asf::HeaderInfo header = header_of({1, 10, 16});
    assert_selects(play("NSPlayer/4.1.0.3856", "ffff:10:0"), "10", "", header);
    assert_selects(play("NSPlayer/12.0.0.1", "ffff:10:0"), "16", "", header);
}

void test_old_servers_select_all() {
    assert_selects(play("NSServer/5.0.0.1234", "ffff:1:0"), "1,2");
    assert_selects(play("NSServer/4.1.0.3928", "ffff:2:2"), "1,2");
    assert_selects(play("nsserver/5", "ffff:1:0"), "1,2");
    assert_selects(play("NSServer/5.1.0.1", "ffff:1:0"), "1");
    assert_selects(play("NSServer/9.01.01.3814", "ffff:1:0"), "1");
}

/* A SelectStream's entries applied to what the client receives (§2.2.2.8). */
void test_switch() {
    const asf::HeaderInfo header = header_of({1, 2, 3});
    asf::StreamSelection current;
    current.streams.set(1);
    current.streams.set(3);
    const auto switched = [&](const char *entries) {
        const wmsp::ClientRequest request = play("NSPlayer/12.0.0.1", entries);
        auto selection = wmsp::switch_streams(current, request.stream_selection, header);
        if (!selection)
            return "refused: " + selection.error().message;
        asf::StreamSelection thinned;
        thinned.streams = selection->key_frames_only;
        return selection->stream_list() + "|" + thinned.stream_list();
    };
    /* Replace 1 by 2; streams no entry names (3) stay. */
    g_assert_true(switched("1:2:0") == "2,3|");
    /* Thin 3 to key frames, turn 1 off, add one the header lacks (ignored). */
    g_assert_true(switched("ffff:3:1 ffff:1:2 ffff:9:0") == "3|3");
    /* None left, or no entry at all: refused. */
    g_assert_true(switched("ffff:1:2 ffff:3:2").rfind("refused: ", 0) == 0);
    g_assert_false(wmsp::switch_streams(current, {}, header).ok());
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/wmsp-selection/real-clients", test_real_clients);
    g_test_add_func("/wmsp-selection/spec-entries", test_spec_entries);
    g_test_add_func("/wmsp-selection/no-entries", test_no_entries_selects_all);
    g_test_add_func("/wmsp-selection/refused", test_refused);
    g_test_add_func("/wmsp-selection/stream-number-bases", test_stream_number_bases);
    g_test_add_func("/wmsp-selection/old-servers", test_old_servers_select_all);
    g_test_add_func("/wmsp-selection/switch", test_switch);
    return g_test_run();
}
