/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The answers an HTTP client reads (sans-IO): response heads parsed with
 * libsoup's soup_headers_parse_response(), and AnswerReader, which finds
 * them in the bytes received with bounded memory and work whatever the
 * server sends, keeping the body bytes that follow a head. Used by the push
 * client (push/), which reads no body, and the pull client (pull/), which
 * reads the MS-WMSP stream that follows the answer.
 */
#pragma once

#include "base/error.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wmstream::proto::http {

/** Interim (1xx) answers accepted in a row before the server's answers count as hostile. */
constexpr unsigned kMaxInterimAnswers = 16;
/** Longest excerpt of server text (reason phrase, status line, header value) kept for messages. */
constexpr size_t kMaxQuotedText = 128;

/** A response head: status line and header fields. */
struct Response {
    unsigned status = 0;   /**< 100–599 */
    std::string reason;    /**< printable ASCII: other bytes as \xNN, at most kMaxQuotedText */
    int version_minor = 1; /**< HTTP/1.0 or HTTP/1.1 */
    std::vector<std::pair<std::string, std::string>> headers; /**< in arrival order */

    /** First value of header @p name (case-insensitive), or nullptr. */
    const std::string *find(std::string_view name) const;
    /** Every value of header @p name, in order. */
    std::vector<std::string> find_all(std::string_view name) const;
    /** Whether the connection stays open after this response (HTTP/1.1
     *  without "Connection: close", HTTP/1.0 with "Connection: keep-alive"). */
    bool keeps_alive() const;
    /** Whether a body follows (non-zero or absent Content-Length, except 1xx/204/304). */
    bool has_body() const;
    /** The bytes of the body that follows: 0 without one, Content-Length's value, nullopt when
     *  its end is the connection's (no Content-Length, or Transfer-Encoding). */
    std::optional<uint64_t> body_length() const;
};

/**
 * Parse a complete response head (as delimited by
 * proto::http::scan_header_block()) with soup_headers_parse_response().
 * @return Errc::InvalidData when it is not an HTTP/1.x response: a status
 * line that does not begin with "HTTP/1." (libsoup alone would take
 * Shoutcast's "ICY 200 OK"), a status outside 100–599, binary or
 * malformed lines; the message quotes the status line (escaped, at most
 * kMaxQuotedText characters).
 */
Result<Response> parse_response(const char *data, size_t len);

/**
 * The server's answers on one connection, from the bytes received
 * (sans-IO), with bounded memory and work whatever the server sends: each
 * head must end within proto::http::kMaxHeaderBytes (16 KiB) and
 * proto::http::kMaxHeaderLines (100 lines), the caps wmnetsink puts on requests;
 * it is parsed by parse_response(); at most kMaxInterimAnswers 1xx answers
 * in a row are skipped. What follows a final answer in the bytes received
 * (the start of its body) is kept apart for take_body().
 *
 * Time is not bounded here: the client's answer timeout is.
 */
class AnswerReader {
public:
    /** Append @p len bytes received (past what skip_body() still skips). Call next() after
     *  each feed: it keeps what is held below the caps (or fails). */
    void feed(const char *data, size_t len);

    /**
     * The next final answer, or nullopt while its head is incomplete.
     * @return Errc::InvalidData when the head exceeds 16 KiB or 100 lines,
     * is not an HTTP/1.x response (parse_response()), or comes after more
     * than kMaxInterimAnswers interim answers; the connection is then of no
     * use and the reader must be reset().
     */
    Result<std::optional<Response>> next();

    /** Bytes received and not yet consumed (the body bytes after the last answer not counted). */
    size_t buffered() const { return input_.size(); }

    /** The bytes that followed the last final answer's head in what was fed until then (the
     *  start of its body), handed over once; "" before an answer. */
    std::string take_body() { return std::exchange(body_, std::string()); }

    /**
     * Discard the last final answer's body, @p length bytes in all: what
     * take_body() would hand over and what is still to come, so that the
     * next answer on the connection can be read (the push client, which
     * reads no body, past a 401's page while an NTLM handshake keeps the
     * connection).
     */
    void skip_body(uint64_t length);

    /** Forget what was received (a new connection). */
    void reset();

private:
    std::string input_;
    std::string body_;     /**< after the last final answer, until take_body() */
    unsigned interim_ = 0; /**< 1xx answers since the last final one */
    uint64_t skip_ = 0;    /**< body bytes still to come that skip_body() discards */
};

} // namespace wmstream::proto::http
