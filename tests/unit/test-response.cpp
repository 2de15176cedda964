/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/response: exact header blocks for Describe / Play / raw
 * ASF / empty answers (MS-WMSP §3.2.5.2, §4.11 order and spelling), and
 * error answers parsed back with libsoup's soup_headers_parse_response().
 */
#include "proto/response.h"

#include <cstring>
#include <glib.h>
#include <libsoup/soup.h>

#include <memory>
#include <string>

namespace response = wmstream::proto::response;

namespace {

struct HeadersUnref {
    void operator()(SoupMessageHeaders *headers) const { soup_message_headers_unref(headers); }
};

/* A response parsed back by libsoup, plus the bytes after the header block. */
struct Parsed {
    unsigned status = 0;
    std::string reason;
    SoupHTTPVersion version = SOUP_HTTP_1_1;
    std::unique_ptr<SoupMessageHeaders, HeadersUnref> headers;
    std::string body;

    const char *get(const char *name) const {
        return soup_message_headers_get_one(headers.get(), name);
    }
};

Parsed parse_back(const std::string &text) {
    const size_t end = text.find("\r\n\r\n");
    g_assert_cmpuint(end, !=, std::string::npos);
    Parsed parsed;
    parsed.headers.reset(soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE));
    g_autofree char *reason = nullptr;
    guint status = 0;
    g_assert_true(soup_headers_parse_response(text.data(), static_cast<int>(end + 4),
                                              parsed.headers.get(), &parsed.version, &status,
                                              &reason));
    parsed.status = status;
    parsed.reason = reason;
    parsed.body = text.substr(end + 4);
    return parsed;
}

/* Every value of @name in @parsed, in order, joined with " | ". */
std::string join_values(const Parsed &parsed, const char *name) {
    std::string joined;
    SoupMessageHeadersIter iter;
    soup_message_headers_iter_init(&iter, parsed.headers.get());
    const char *key = nullptr;
    const char *value = nullptr;
    while (soup_message_headers_iter_next(&iter, &key, &value)) {
        if (g_ascii_strcasecmp(key, name) != 0)
            continue;
        joined += joined.empty() ? "" : " | ";
        joined += value;
    }
    return joined;
}

void assert_values(const Parsed &parsed, const char *name, const char *expected) {
    const std::string joined = join_values(parsed, name);
    g_assert_cmpstr(joined.c_str(), ==, expected);
}

void test_describe() {
    const std::string text = response::describe(1543854732, 2680);
    g_assert_cmpstr(text.c_str(), ==,
                    "HTTP/1.0 200 OK\r\n"
                    "Server: Rex/9.0.0.2980\r\n"
                    "Cache-Control: no-cache\r\n"
                    "Pragma: no-cache\r\n"
                    "Pragma: client-id=1543854732\r\n"
                    "Pragma: features=\"broadcast\"\r\n"
                    "Supported: com.microsoft.wm.sswitch\r\n"
                    "Content-Type: application/vnd.ms.wms-hdr.asfv1\r\n"
                    "Content-Length: 2680\r\n"
                    "Connection: close\r\n"
                    "\r\n");
    const Parsed parsed = parse_back(text);
    g_assert_cmpuint(parsed.status, ==, 200);
    g_assert_cmpint(parsed.version, ==, SOUP_HTTP_1_0);
    g_assert_cmpint(soup_message_headers_get_content_length(parsed.headers.get()), ==, 2680);
    assert_values(parsed, "Pragma", "no-cache | client-id=1543854732 | features=\"broadcast\"");
}

void test_play() {
    const std::string text = response::play(4294967295u);
    g_assert_cmpstr(text.c_str(), ==,
                    "HTTP/1.0 200 OK\r\n"
                    "Server: Rex/9.0.0.2980\r\n"
                    "Cache-Control: no-cache\r\n"
                    "Pragma: no-cache\r\n"
                    "Pragma: client-id=4294967295\r\n"
                    "Pragma: features=\"broadcast\"\r\n"
                    "Supported: com.microsoft.wm.sswitch\r\n"
                    "Content-Type: application/x-mms-framed\r\n"
                    "Connection: close\r\n"
                    "\r\n");
    const Parsed parsed = parse_back(text);
    /* No Content-Length: FFmpeg's http layer would stop reading there. */
    g_assert_null(parsed.get("Content-Length"));
    g_assert_cmpstr(parsed.get("Server"), ==, response::kServerToken);
}

/* To a distribution server: the broadcast may be split, not cached (§2.2.1.1.11–12, as
 * Windows Media Services answers), and our Via token names this server (RFC 9110 §7.6.3). */
void test_relay_answers() {
    const std::string text = response::describe(7, 100, "origin:8080");
    g_assert_cmpstr(
        text.c_str(), ==,
        "HTTP/1.0 200 OK\r\n"
        "Server: Rex/9.0.0.2980\r\n"
        "Cache-Control: no-cache, x-wms-stream-type=\"broadcast\", x-wms-proxy-split\r\n"
        "Via: 1.1 origin:8080\r\n"
        "Pragma: no-cache\r\n"
        "Pragma: client-id=7\r\n"
        "Pragma: features=\"broadcast\"\r\n"
        "Supported: com.microsoft.wm.sswitch\r\n"
        "Content-Type: application/vnd.ms.wms-hdr.asfv1\r\n"
        "Content-Length: 100\r\n"
        "Connection: close\r\n"
        "\r\n");
    const Parsed play = parse_back(response::play(7, "origin:8080"));
    g_assert_cmpstr(play.get("Cache-Control"), ==, response::kRelayCacheControl);
    g_assert_cmpstr(play.get("Via"), ==, "1.1 origin:8080");
    /* libsoup reads the directives back one by one. */
    g_autoptr(GHashTable) directives = soup_header_parse_param_list(play.get("Cache-Control"));
    g_assert_true(g_hash_table_contains(directives, "no-cache"));
    g_assert_true(g_hash_table_contains(directives, "x-wms-proxy-split"));
    g_assert_cmpstr(static_cast<const char *>(g_hash_table_lookup(directives, "x-wms-stream-type")),
                    ==, "broadcast");

    /* GetContentInfo (§2.2.2.2): Cache-Control and Server required, Pragma no-cache, no body;
     * the directives whoever asks. */
    for (const char *via : {"origin:8080", ""}) {
        const Parsed info = parse_back(response::get_content_info(5, via));
        g_assert_cmpuint(info.status, ==, 200);
        g_assert_cmpstr(info.get("Cache-Control"), ==, response::kRelayCacheControl);
        g_assert_cmpstr(info.get("Server"), ==, response::kServerToken);
        assert_values(info, "Pragma", "no-cache | client-id=5");
        g_assert_cmpstr(info.get("Content-Length"), ==, "0");
        g_assert_true(info.body.empty());
        if (*via)
            g_assert_cmpstr(info.get("Via"), ==, "1.1 origin:8080");
        else
            g_assert_null(info.get("Via"));
    }
    /* Viewers' answers are unchanged. */
    g_assert_null(parse_back(response::play(7)).get("Via"));
}

/* A fast start honoured is echoed on its own Pragma line, before Content-Type (§2.2.1.4.1–4);
 * none when not honoured. */
void test_fast_start_echo() {
    const std::string text = response::play(7, {}, "BurstBW=3500000, BurstDuration=5000");
    g_assert_nonnull(strstr(text.c_str(), "Pragma: features=\"broadcast\"\r\n"
                                          "Pragma: BurstBW=3500000, BurstDuration=5000\r\n"));
    g_assert_cmpuint(text.find("BurstBW"), <, text.find("Content-Type"));
    const Parsed parsed = parse_back(text);
    assert_values(parsed, "Pragma",
                  "no-cache | client-id=7 | features=\"broadcast\" | BurstBW=3500000, "
                  "BurstDuration=5000");
    g_assert_true(response::play(7).find("BurstBW") == std::string::npos);
}

/* The overflow redirect: 302 Found to the edge (RFC 9110 §15.4.3), which FFmpeg's and VLC's
 * HTTP layers follow. */
void test_redirect() {
    const Parsed parsed = parse_back(response::redirect("http://edge.test:8080/"));
    g_assert_cmpuint(parsed.status, ==, 302);
    g_assert_cmpstr(parsed.reason.c_str(), ==, "Found");
    g_assert_cmpstr(parsed.get("Location"), ==, "http://edge.test:8080/");
    g_assert_cmpstr(parsed.get("Server"), ==, response::kServerToken);
    g_assert_cmpint(soup_message_headers_get_content_length(parsed.headers.get()), ==,
                    static_cast<goffset>(parsed.body.size()));
}

void test_raw_asf() {
    const std::string text = response::raw_asf();
    g_assert_cmpstr(text.c_str(), ==,
                    "HTTP/1.0 200 OK\r\n"
                    "Content-Type: video/x-ms-asf\r\n"
                    "Cache-Control: no-cache\r\n"
                    "Server: Rex/9.0.0.2980\r\n"
                    "Connection: close\r\n"
                    "\r\n");
    const Parsed parsed = parse_back(text);
    g_assert_null(parsed.get("Pragma"));
    g_assert_null(parsed.get("Content-Length"));
}

void test_empty_ok() {
    const Parsed with_id = parse_back(response::empty_ok(77));
    g_assert_cmpuint(with_id.status, ==, 200);
    assert_values(with_id, "Pragma", "no-cache | client-id=77");
    g_assert_cmpstr(with_id.get("Content-Length"), ==, "0");
    g_assert_cmpstr(with_id.get("Connection"), ==, "close");
    g_assert_cmpstr(with_id.get("Server"), ==, response::kServerToken);
    g_assert_true(with_id.body.empty());

    const Parsed without_id = parse_back(response::empty_ok(0));
    assert_values(without_id, "Pragma", "no-cache");
}

void test_errors() {
    const struct {
        unsigned status;
        const char *reason;
    } cases[] = {{400, "Bad Request"},         {404, "Not Found"},
                 {405, "Method Not Allowed"},  {501, "Not Implemented"},
                 {503, "Service Unavailable"}, {505, "HTTP Version Not Supported"},
                 {508, "Loop Detected"}};
    for (const auto &c : cases) {
        const std::string text = response::error(c.status);
        const std::string expected_line =
            "HTTP/1.0 " + std::to_string(c.status) + " " + c.reason + "\r\n";
        g_assert_true(g_str_has_prefix(text.c_str(), expected_line.c_str()));

        const Parsed parsed = parse_back(text);
        g_assert_cmpuint(parsed.status, ==, c.status);
        g_assert_cmpstr(parsed.reason.c_str(), ==, c.reason);
        g_assert_cmpint(parsed.version, ==, SOUP_HTTP_1_0);
        g_assert_cmpstr(parsed.get("Server"), ==, "Rex/9.0.0.2980");
        g_assert_cmpstr(parsed.get("Content-Type"), ==, "text/plain");
        g_assert_cmpstr(parsed.get("Connection"), ==, "close");
        g_assert_cmpint(soup_message_headers_get_content_length(parsed.headers.get()), ==,
                        static_cast<goffset>(parsed.body.size()));
        const std::string body = std::to_string(c.status) + " " + c.reason + "\n";
        g_assert_cmpstr(parsed.body.c_str(), ==, body.c_str());
        if (c.status == 405)
            g_assert_cmpstr(parsed.get("Allow"), ==, "GET, HEAD, POST");
        else
            g_assert_null(parsed.get("Allow"));
    }
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/response/describe", test_describe);
    g_test_add_func("/response/play", test_play);
    g_test_add_func("/response/relay-answers", test_relay_answers);
    g_test_add_func("/response/redirect", test_redirect);
    g_test_add_func("/response/play/fast-start-echo", test_fast_start_echo);
    g_test_add_func("/response/raw-asf", test_raw_asf);
    g_test_add_func("/response/empty-ok", test_empty_ok);
    g_test_add_func("/response/errors", test_errors);
    return g_test_run();
}
