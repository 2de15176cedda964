/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/http-request: header-block scanning (split feeds, LF-only
 * clients, size cap) and libsoup-backed parsing of real FFmpeg 5.1, VLC 3.0
 * and curl requests captured on loopback (tests/data/requests/).
 */
#include "proto/http-request.h"
#include "test-data.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <string>

using wmstream::Errc;
using wmstream::proto::http::kMaxHeaderBytes;
using wmstream::proto::http::parse_request;
using wmstream::proto::http::Request;
using wmstream::proto::http::Scan;
using wmstream::proto::http::scan_header_block;
using wmstream::proto::http::ScanProgress;

namespace {

/* Contents of tests/data/requests/@name. */
std::string load_request(const char *name) {
    return wmstream::test::load_text((std::string("requests/") + name).c_str());
}

/* Scan + parse @text, asserting that the whole text is one complete block. */
Request parse_whole(const std::string &text) {
    const Scan scan = scan_header_block(text.data(), text.size());
    g_assert_true(scan.state == Scan::State::Complete);
    g_assert_cmpuint(scan.block_size, ==, text.size());
    unsigned status = 0;
    auto result = parse_request(text.data(), scan.block_size, &status);
    g_assert_true(result.ok());
    g_assert_cmpuint(status, ==, 200);
    return std::move(result.value());
}

void test_scan_crlf_with_body() {
    const std::string text = "POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\nbody";
    const Scan scan = scan_header_block(text.data(), text.size());
    g_assert_true(scan.state == Scan::State::Complete);
    g_assert_cmpuint(scan.block_size, ==, text.size() - 4);
}

void test_scan_split_feeds() {
    /* Every proper prefix of a real request is incomplete; the whole is complete. */
    const std::string text = load_request("ffmpeg-play.http");
    for (size_t len = 0; len < text.size(); len++) {
        const Scan scan = scan_header_block(text.data(), len);
        g_assert_true(scan.state == Scan::State::Incomplete);
    }
    const Scan scan = scan_header_block(text.data(), text.size());
    g_assert_true(scan.state == Scan::State::Complete);
    g_assert_cmpuint(scan.block_size, ==, text.size());
}

/* A scan that goes on from where the last one stopped gives a full scan's answer at every
 * length, for every way of growing the buffer. */
void test_scan_resumes() {
    const std::string crlf = load_request("ffmpeg-play.http");
    const std::string lf = "GET / HTTP/1.0\nA: b\n\n";
    for (const std::string &text : {crlf, lf}) {
        for (size_t step = 1; step <= 3; ++step) {
            ScanProgress progress;
            for (size_t len = 0;; len = std::min(len + step, text.size())) {
                const Scan full = scan_header_block(text.data(), len);
                const Scan resumed = scan_header_block(text.data(), len, progress);
                g_assert_true(resumed.state == full.state);
                g_assert_cmpuint(resumed.block_size, ==, full.block_size);
                if (len == text.size())
                    break;
            }
        }
    }
    /* The line cap counts across calls too. */
    std::string many = "GET / HTTP/1.0\r\n";
    for (int i = 0; i < 120; ++i)
        many += "A: b\r\n";
    ScanProgress progress;
    Scan scan;
    for (size_t len = 0; len <= many.size() && scan.state == Scan::State::Incomplete; ++len)
        scan = scan_header_block(many.data(), len, progress);
    g_assert_true(scan.state == Scan::State::TooLarge);
}

/* Bytes before the progress are not looked at again: an end of block put there after the
 * scan passed is not seen (a rescan from byte 0 would find it). */
void test_scan_does_not_rescan() {
    std::string text = "GET / HTTP/1.0\r\nA: b\r\nB: c";
    ScanProgress progress;
    g_assert_true(scan_header_block(text.data(), text.size(), progress).state ==
                  Scan::State::Incomplete);
    g_assert_cmpuint(progress.offset, ==, text.size());
    g_assert_cmpuint(progress.lines, ==, 2);
    text.replace(text.find("A: b"), 4, "\r\n\r\n");
    text += "x";
    g_assert_true(scan_header_block(text.data(), text.size(), progress).state ==
                  Scan::State::Incomplete);
    g_assert_true(scan_header_block(text.data(), text.size()).state == Scan::State::Complete);
}

void test_scan_lf_only() {
    const std::string lf = "GET / HTTP/1.0\nUser-Agent: x\n\nrest";
    Scan scan = scan_header_block(lf.data(), lf.size());
    g_assert_true(scan.state == Scan::State::Complete);
    g_assert_cmpuint(scan.block_size, ==, lf.size() - 4);

    const std::string mixed = "GET / HTTP/1.0\nUser-Agent: x\n\r\nrest";
    scan = scan_header_block(mixed.data(), mixed.size());
    g_assert_true(scan.state == Scan::State::Complete);
    g_assert_cmpuint(scan.block_size, ==, mixed.size() - 4);

    /* A lone CR between lines is not an empty line. */
    const std::string cr = "GET / HTTP/1.0\r\nA: b\r\r\n";
    scan = scan_header_block(cr.data(), cr.size());
    g_assert_true(scan.state == Scan::State::Incomplete);
}

void test_scan_too_large() {
    std::string text = "GET / HTTP/1.0\r\n";
    while (text.size() < kMaxHeaderBytes)
        text += "Pragma: no-cache\r\n";
    Scan scan = scan_header_block(text.data(), text.size());
    g_assert_true(scan.state == Scan::State::TooLarge);

    /* The cap counts the terminating blank line: exactly max fits, max + 1 does not. */
    const std::string block = "GET / HTTP/1.0\r\n\r\n";
    scan = scan_header_block(block.data(), block.size(), block.size());
    g_assert_true(scan.state == Scan::State::Complete);
    scan = scan_header_block(block.data(), block.size(), block.size() - 1);
    g_assert_true(scan.state == Scan::State::TooLarge);
    /* The cap reached without an end: no more bytes could complete it. */
    scan = scan_header_block(block.data(), block.size() - 1, block.size() - 1);
    g_assert_true(scan.state == Scan::State::TooLarge);
    /* Fewer bytes than the cap and no end yet: wait for more. */
    scan = scan_header_block(block.data(), block.size() - 1, block.size());
    g_assert_true(scan.state == Scan::State::Incomplete);
}

/* At most kMaxHeaderLines lines, the request line included (issue: 100). */
void test_scan_too_many_lines() {
    auto block = [](size_t header_lines) {
        std::string text = "GET / HTTP/1.0\r\n";
        for (size_t i = 0; i < header_lines; ++i)
            text += "A: b\r\n";
        return text + "\r\n";
    };
    g_assert_cmpuint(wmstream::proto::http::kMaxHeaderLines, ==, 100);
    const std::string fits = block(99);
    Scan scan = scan_header_block(fits.data(), fits.size());
    g_assert_true(scan.state == Scan::State::Complete);
    g_assert_cmpuint(scan.block_size, ==, fits.size());
    const std::string over = block(100);
    scan = scan_header_block(over.data(), over.size());
    g_assert_true(scan.state == Scan::State::TooLarge);
    /* Without the end yet: still refused once the cap is passed. */
    scan = scan_header_block(over.data(), over.size() - 2);
    g_assert_true(scan.state == Scan::State::TooLarge);
}

void test_parse_ffmpeg_play() {
    const Request request = parse_whole(load_request("ffmpeg-play.http"));
    g_assert_cmpstr(request.method.c_str(), ==, "GET");
    g_assert_cmpstr(request.path.c_str(), ==, "/live");
    g_assert_cmpint(request.version_minor, ==, 1);
    g_assert_cmpstr(request.find("user-agent")->c_str(), ==, "NSPlayer/4.1.0.3856");

    /* Repeated Pragma lines keep their order; FFmpeg's missing CRLF glues
     * "Connection: Close" into the last one, and the trailing space is gone. */
    const auto pragmas = request.find_all("PRAGMA");
    g_assert_cmpuint(pragmas.size(), ==, 6);
    g_assert_cmpstr(pragmas[0].c_str(), ==, "no-cache,rate=1.000000,request-context=2");
    g_assert_cmpstr(pragmas[1].c_str(), ==, "xPlayStrm=1");
    g_assert_cmpstr(pragmas[2].c_str(), ==, "xClientGUID={c77e7400-738a-11d2-9add-0020af0a3278}");
    g_assert_cmpstr(pragmas[3].c_str(), ==, "stream-switch-count=2");
    g_assert_cmpstr(pragmas[4].c_str(), ==, "stream-switch-entry=ffff:1:0 ffff:2:0");
    g_assert_cmpstr(pragmas[5].c_str(), ==,
                    "no-cache,rate=1.000000,stream-time=0Connection: Close");
    g_assert_cmpuint(request.find_all("Connection").size(), ==, 1);
    g_assert_cmpstr(request.find("Connection")->c_str(), ==, "close");
}

void test_parse_vlc_describe() {
    const Request request = parse_whole(load_request("vlc-describe.http"));
    g_assert_cmpstr(request.method.c_str(), ==, "GET");
    g_assert_cmpstr(request.path.c_str(), ==, "/live");
    g_assert_cmpint(request.version_minor, ==, 0);
    g_assert_cmpstr(request.find("User-Agent")->c_str(), ==, "NSPlayer/7.10.0.3059");
    g_assert_cmpuint(request.find_all("Pragma").size(), ==, 2);
    g_assert_true(
        g_str_has_prefix(request.find_all("Pragma")[1].c_str(), "xClientGUID={0xbabac001-"));
    g_assert_cmpuint(request.headers.size(), ==, 6);
}

void test_parse_curl() {
    const Request request = parse_whole(load_request("curl-get.http"));
    g_assert_cmpstr(request.method.c_str(), ==, "GET");
    g_assert_true(g_str_has_prefix(request.find("User-Agent")->c_str(), "curl/"));
    g_assert_null(request.find("Pragma"));
    g_assert_true(request.find_all("Pragma").empty());
}

void test_parse_lf_only_and_trim() {
    const Request request =
        parse_whole("OPTIONS * HTTP/1.1\nX-A:   padded value  \nx-a: second\n\n");
    g_assert_cmpstr(request.method.c_str(), ==, "OPTIONS");
    g_assert_cmpstr(request.path.c_str(), ==, "*");
    g_assert_cmpint(request.version_minor, ==, 1);
    const auto values = request.find_all("X-A");
    g_assert_cmpuint(values.size(), ==, 2);
    g_assert_cmpstr(values[0].c_str(), ==, "padded value");
    g_assert_cmpstr(values[1].c_str(), ==, "second");
}

void test_parse_unknown_method_is_syntax_ok() {
    /* Method policy belongs to proto::wmsp::classify(); the parser keeps the token. */
    const Request request = parse_whole("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n");
    g_assert_cmpstr(request.method.c_str(), ==, "BREW");
}

void expect_parse_error(const std::string &text, unsigned expected_status) {
    unsigned status = 0;
    const auto result = parse_request(text.data(), text.size(), &status);
    g_assert_false(result.ok());
    g_assert_true(result.error().code == Errc::InvalidData);
    g_assert_cmpuint(status, ==, expected_status);
    /* status_out is optional. */
    g_assert_false(parse_request(text.data(), text.size()).ok());
}

void test_parse_errors() {
    expect_parse_error("garbage\r\n\r\n", 400);
    expect_parse_error("\x16\x03\x01"
                       " binary\r\n\r\n",
                       400);
    expect_parse_error("GET /\r\n\r\n", 400);
    expect_parse_error("get / http/1.0\r\n\r\n", 400);
    expect_parse_error(std::string("GET / HTTP/1.0\r\nA: b\0c\r\n\r\n", 26), 400);
    expect_parse_error("", 400);
    expect_parse_error("GET / HTTP/2.0\r\n\r\n", 505);
}

/* RFC 9112 §6.3: an invalid Content-Length is a framing error, answered 400. */
void test_parse_content_length() {
    const std::string head = "POST / HTTP/1.1\r\nHost: h\r\n";
    for (const char *valid :
         {"Content-Length: 0\r\n", "Content-Length: 42\r\n", "Content-Length: 007\r\n",
          "Content-Length: 42, 42\r\n", "Content-Length: 42\r\nContent-Length: 42\r\n",
          "Content-Length: 18446744073709551615\r\n", ""}) {
        unsigned status = 0;
        g_assert_true(
            parse_request((head + valid + "\r\n").c_str(), head.size() + strlen(valid) + 2, &status)
                .ok());
        g_assert_cmpuint(status, ==, 200);
    }
    for (const char *invalid :
         {"Content-Length: 99999999999999999999\r\n", "Content-Length: 18446744073709551616\r\n",
          "Content-Length: -1\r\n", "Content-Length: +5\r\n", "Content-Length: 0x10\r\n",
          "Content-Length: 4 2\r\n", "Content-Length: 1.0\r\n", "Content-Length: abc\r\n",
          "Content-Length: 42, 43\r\n", "Content-Length: 42,\r\n",
          "Content-Length: 42\r\nContent-Length: 43\r\n",
          "Content-Length: 1\r\nContent-Length: \r\n"})
        expect_parse_error(head + invalid + "\r\n", 400);
}

/* Via (RFC 9110 §7.6.3): the received-by of each entry, across headers, comments (with their
 * commas) skipped; entries without a received-by are skipped. */
void test_via() {
    const Request request = parse_whole(
        "GET / HTTP/1.1\r\n"
        "Via: HTTP/1.1 WMCacheProxy (WMCacheProxy/9.5.6001.1, a comment, with commas)\r\n"
        "Via: 1.0 fred, 1.1 p.example.net:8080 (Apache/1.1)\r\n"
        "Via: 1.1\t edge.test ,  ,1.1\r\n"
        "\r\n");
    const auto names = wmstream::proto::http::via_received_by(request);
    g_assert_cmpuint(names.size(), ==, 4);
    g_assert_cmpstr(names[0].c_str(), ==, "WMCacheProxy");
    g_assert_cmpstr(names[1].c_str(), ==, "fred");
    g_assert_cmpstr(names[2].c_str(), ==, "p.example.net:8080");
    g_assert_cmpstr(names[3].c_str(), ==, "edge.test");
    g_assert_true(
        wmstream::proto::http::via_received_by(parse_whole("GET / HTTP/1.1\r\n\r\n")).empty());
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/http-request/scan/crlf-with-body", test_scan_crlf_with_body);
    g_test_add_func("/http-request/scan/split-feeds", test_scan_split_feeds);
    g_test_add_func("/http-request/scan/resumes", test_scan_resumes);
    g_test_add_func("/http-request/scan/does-not-rescan", test_scan_does_not_rescan);
    g_test_add_func("/http-request/scan/lf-only", test_scan_lf_only);
    g_test_add_func("/http-request/scan/too-large", test_scan_too_large);
    g_test_add_func("/http-request/scan/too-many-lines", test_scan_too_many_lines);
    g_test_add_func("/http-request/parse/ffmpeg-play", test_parse_ffmpeg_play);
    g_test_add_func("/http-request/parse/vlc-describe", test_parse_vlc_describe);
    g_test_add_func("/http-request/parse/curl", test_parse_curl);
    g_test_add_func("/http-request/parse/lf-only-and-trim", test_parse_lf_only_and_trim);
    g_test_add_func("/http-request/parse/unknown-method", test_parse_unknown_method_is_syntax_ok);
    g_test_add_func("/http-request/parse/errors", test_parse_errors);
    g_test_add_func("/http-request/parse/content-length", test_parse_content_length);
    g_test_add_func("/http-request/parse/via", test_via);
    return g_test_run();
}
