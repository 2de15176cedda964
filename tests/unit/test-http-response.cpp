/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/proto/http-response (the clients' answer heads): heads
 * parsed by libsoup (the [MS-WMHTTP] §4.8 example), keep-alive and body
 * rules, and hostile answers: status lines that are not HTTP/1.x (ICY,
 * binary, out-of-range codes), escaped and truncated server text, heads over
 * 16 KiB or 100 lines, floods of 1xx answers (AnswerReader), and the body
 * bytes that follow a head kept for the pull client.
 */
#include "proto/http-response.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <string>

using wmstream::Errc;
using namespace wmstream::proto::http;

namespace {

/* g_assert_cmpstr() keeps only the pointer: compare owned strings through a copy. */
void assert_text(const std::string &actual, const std::string &expected) {
    g_assert_cmpstr(actual.c_str(), ==, expected.c_str());
}

Response response(const std::string &text) {
    auto parsed = parse_response(text.data(), text.size());
    g_assert_true(parsed.ok());
    return *parsed;
}

/* The PushSetup answer of [MS-WMHTTP] §4.8. */
void test_parse_response() {
    const std::string text = "HTTP/1.1 204 No Content\r\n"
                             "Server: Cougar/9.5.5732.6324\r\n"
                             "Content-Length: 0\r\n"
                             "Date: Mon, 01 Jan 2007 17:45:16 GMT\r\n"
                             "Pragma: no-cache, timeout=60000\r\n"
                             "Cache-Control: no-cache\r\n"
                             "Set-Cookie: push-id=4124758405\r\n"
                             "Supported: com.microsoft.wm.srvppair, com.microsoft.wm.sswitch\r\n"
                             "\r\n";
    const Response r = response(text);
    g_assert_cmpuint(r.status, ==, 204);
    g_assert_cmpstr(r.reason.c_str(), ==, "No Content");
    g_assert_cmpint(r.version_minor, ==, 1);
    g_assert_cmpstr(r.find("set-cookie")->c_str(), ==, "push-id=4124758405");
    g_assert_true(r.keeps_alive());
    g_assert_false(r.has_body());

    g_assert_false(response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keeps_alive());
    g_assert_true(response("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
                      .keeps_alive());
    g_assert_false(response("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keeps_alive());
    g_assert_true(response("HTTP/1.1 200 OK\r\n\r\n").has_body());
    g_assert_true(response("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n").has_body());

    for (const char *bad : {"", "garbage\r\n\r\n", "HTTP/1.1 abc\r\n\r\n"}) {
        auto parsed = parse_response(bad, strlen(bad));
        g_assert_false(parsed.ok());
        g_assert_true(parsed.error().code == Errc::InvalidData);
    }
}

/* Status lines that are not HTTP/1.x, quoted (escaped, bounded) in the error. */
void test_hostile_status_lines() {
    struct Case {
        std::string head;
        const char *message;
    };
    const Case cases[] = {
        {"ICY 200 OK\r\nServer: Cougar/9.01.01.3814\r\n\r\n",
         "not an HTTP/1.x response: status line 'ICY 200 OK'"},
        {"HTTP/1.1 abc\r\n\r\n", "malformed HTTP response: status line 'HTTP/1.1 abc'"},
        {"HTTP/1.1 999 Nine\r\n\r\n",
         "status code outside 100-599: status line 'HTTP/1.1 999 Nine'"},
        {"HTTP/2 200 OK\r\n\r\n", "not an HTTP/1.x response: status line 'HTTP/2 200 OK'"},
        {"\r\n\r\n", "not an HTTP/1.x response: status line ''"},
        {std::string("\x01\xff\0HTTP\r\n\r\n", 10),
         "not an HTTP/1.x response: status line '\\x01\\xff\\x00HTTP'"},
    };
    for (const Case &c : cases) {
        auto parsed = parse_response(c.head.data(), c.head.size());
        g_assert_false(parsed.ok());
        g_assert_true(parsed.error().code == Errc::InvalidData);
        assert_text(parsed.error().message, c.message);
    }
    /* A long status line is quoted up to kMaxQuotedText characters. */
    const std::string long_line = "XTTP/1.1 " + std::string(5000, 'x') + "\r\n\r\n";
    auto parsed = parse_response(long_line.data(), long_line.size());
    g_assert_false(parsed.ok());
    g_assert_cmpuint(parsed.error().message.size(), <, kMaxQuotedText + 64);

    /* The reason phrase is kept printable and bounded. */
    const std::string binary_reason =
        "HTTP/1.1 204 No\xfc\x1b" + std::string(300, 'r') + "\r\n\r\n";
    const Response r = response(binary_reason);
    g_assert_cmpuint(r.status, ==, 204);
    g_assert_true(g_str_has_prefix(r.reason.c_str(), "No\\xfc\\x1brrr"));
    g_assert_cmpuint(r.reason.size(), ==, kMaxQuotedText + 3);
    g_assert_true(g_str_has_suffix(r.reason.c_str(), "..."));
}

/* Result of feeding @text to a fresh reader in @piece-byte pieces, calling next() after each. */
wmstream::Result<std::optional<Response>> read_in_pieces(AnswerReader &reader,
                                                         const std::string &text, size_t piece) {
    for (size_t at = 0; at < text.size(); at += piece) {
        reader.feed(text.data() + at, std::min(piece, text.size() - at));
        auto answer = reader.next();
        if (!answer || answer->has_value())
            return answer;
    }
    return std::optional<Response>();
}

void test_answer_reader() {
    const std::string ok = "HTTP/1.1 204 No Content\r\nServer: Rex/9.0\r\nSet-Cookie: "
                           "push-id=7\r\n\r\n";
    /* Byte by byte; interim answers skipped; what follows the answer is not part of it. */
    AnswerReader reader;
    auto answer =
        read_in_pieces(reader, "HTTP/1.1 100 Continue\r\n\r\n" + ok + "<html>body</html>", 1);
    g_assert_true(answer.ok() && answer->has_value());
    g_assert_cmpuint((*answer)->status, ==, 204);
    g_assert_cmpuint(reader.buffered(), ==, 0);
    g_assert_true(reader.next().ok());
    /* The body bytes that came with the head are kept, handed over once. */
    AnswerReader body;
    body.feed(ok.data(), ok.size());
    body.feed("$H\x10", 3);
    answer = body.next();
    g_assert_true(answer.ok() && answer->has_value());
    assert_text(body.take_body(), "$H\x10");
    assert_text(body.take_body(), "");

    /* A 401 whose page comes later, in pieces: skipped up to its Content-Length, then the next
     * answer on the same connection. */
    AnswerReader paged;
    const std::string page = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 20\r\n\r\n0123";
    paged.feed(page.data(), page.size());
    answer = paged.next();
    g_assert_true(answer.ok() && answer->has_value());
    g_assert_cmpuint((*answer)->body_length().value_or(99), ==, 20);
    paged.skip_body(20);
    answer = read_in_pieces(paged, "456789abcdefghij" + ok, 5);
    g_assert_true(answer.ok() && answer->has_value());
    g_assert_cmpuint((*answer)->status, ==, 204);
    g_assert_false(response("HTTP/1.1 401 No\r\n\r\n").body_length().has_value());
    g_assert_false(
        response("HTTP/1.1 401 No\r\nContent-Length: 20\r\nTransfer-Encoding: chunked\r\n\r\n")
            .body_length()
            .has_value());
    g_assert_cmpuint(response("HTTP/1.1 204 No\r\nContent-Length: 5\r\n\r\n").body_length().value(),
                     ==, 0);

    /* Exactly 16 interim answers in a row are fine, the 17th is hostile. */
    std::string interim;
    for (unsigned i = 0; i < kMaxInterimAnswers; i++)
        interim += "HTTP/1.1 100 Continue\r\n\r\n";
    AnswerReader patient;
    answer = read_in_pieces(patient, interim + ok, 4096);
    g_assert_true(answer.ok() && answer->has_value());
    AnswerReader flooded;
    answer = read_in_pieces(flooded, interim + "HTTP/1.1 102 Processing\r\n\r\n" + ok, 4096);
    g_assert_false(answer.ok());
    assert_text(answer.error().message, "more than 16 interim (1xx) answers in a row");

    /* A head that never ends: refused once 16 KiB are held, whatever follows. */
    const std::string endless =
        "HTTP/1.1 204 No Content\r\nSet-Cookie: push-id=" + std::string(10 * 1024 * 1024, '7') +
        "\r\n\r\n";
    AnswerReader cookie;
    size_t fed = 0;
    for (; fed < endless.size(); fed += 16384) {
        cookie.feed(endless.data() + fed, std::min<size_t>(16384, endless.size() - fed));
        answer = cookie.next();
        if (!answer)
            break;
        g_assert_false(answer->has_value());
    }
    g_assert_false(answer.ok());
    g_assert_true(answer.error().code == Errc::InvalidData);
    assert_text(answer.error().message, "answer head longer than 16384 bytes");
    g_assert_cmpuint(fed, <=, 16384);

    /* 101 short lines: refused by the line cap. */
    std::string lines = "HTTP/1.1 204 No Content\r\n";
    for (int i = 0; i < 100; i++)
        lines += "X-" + std::to_string(i) + ": y\r\n";
    AnswerReader many;
    answer = read_in_pieces(many, lines + "\r\n", 512);
    g_assert_false(answer.ok());
    assert_text(answer.error().message, "answer head of more than 100 lines");

    /* Garbage: the parse error; reset() makes the reader usable for a new connection. */
    AnswerReader garbage;
    answer = read_in_pieces(garbage, "ICY 200 OK\r\n\r\n", 64);
    g_assert_false(answer.ok());
    g_assert_nonnull(strstr(answer.error().message.c_str(), "ICY 200 OK"));
    garbage.reset();
    g_assert_cmpuint(garbage.buffered(), ==, 0);
    answer = read_in_pieces(garbage, ok, 64);
    g_assert_true(answer.ok() && answer->has_value());
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/http-response/parse", test_parse_response);
    g_test_add_func("/http-response/hostile-status-lines", test_hostile_status_lines);
    g_test_add_func("/http-response/answer-reader", test_answer_reader);
    return g_test_run();
}
