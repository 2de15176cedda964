/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Response heads through libsoup (soup_headers_parse_response), found in the
 * bytes received by proto::http::scan_header_block().
 */
#include "proto/http-response.h"

#include "base/text.h"
#include "proto/http-request.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <climits>

namespace wmstream::proto::http {

const std::string *Response::find(std::string_view name) const {
    for (const auto &[key, value] : headers) {
        if (equals_ignore_case(key, name))
            return &value;
    }
    return nullptr;
}

std::vector<std::string> Response::find_all(std::string_view name) const {
    std::vector<std::string> values;
    for (const auto &[key, value] : headers) {
        if (equals_ignore_case(key, name))
            values.push_back(value);
    }
    return values;
}

bool Response::keeps_alive() const {
    const std::string *connection = find("Connection");
    if (version_minor >= 1)
        return !connection || !soup_header_contains(connection->c_str(), "close");
    return connection && soup_header_contains(connection->c_str(), "keep-alive");
}

bool Response::has_body() const {
    if (status < 200 || status == 204 || status == 304)
        return false;
    if (find("Transfer-Encoding"))
        return true;
    const std::string *length = find("Content-Length");
    return !length || g_ascii_strtoull(length->c_str(), nullptr, 10) != 0;
}

std::optional<uint64_t> Response::body_length() const {
    if (!has_body())
        return uint64_t{0};
    const std::string *length = find("Content-Length");
    if (find("Transfer-Encoding") || !length || length->empty() ||
        length->find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return g_ascii_strtoull(length->c_str(), nullptr, 10);
}

Result<Response> parse_response(const char *data, size_t len) {
    const std::string_view text(data, len);
    const std::string_view line = text.substr(0, std::min(text.find_first_of("\r\n"), len));
    const auto invalid = [&](const char *why) {
        return make_error(Errc::InvalidData, std::string(why) + ": status line '" +
                                                 printable(line, kMaxQuotedText) + "'");
    };
    if (len > INT_MAX)
        return make_error(Errc::InvalidData, "response head too large");
    /* libsoup also takes Shoutcast's "ICY 200 OK" as HTTP/1.0: not a Windows Media server. */
    if (line.compare(0, 7, "HTTP/1.") != 0)
        return invalid("not an HTTP/1.x response");
    g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE);
    SoupHTTPVersion version = SOUP_HTTP_1_0;
    guint status = 0;
    g_autofree char *reason = nullptr;
    if (!soup_headers_parse_response(data, static_cast<int>(len), headers, &version, &status,
                                     &reason))
        return invalid("malformed HTTP response");
    if (status < 100 || status > 599)
        return invalid("status code outside 100-599");
    Response response;
    response.status = status;
    response.reason = printable(reason ? reason : "", kMaxQuotedText);
    response.version_minor = version == SOUP_HTTP_1_1 ? 1 : 0;
    response.headers = header_fields(headers);
    return response;
}

Result<std::optional<Response>> AnswerReader::next() {
    for (;;) {
        const Scan scan = scan_header_block(input_.data(), input_.size());
        if (scan.state == Scan::State::Incomplete)
            return std::optional<Response>();
        if (scan.state == Scan::State::TooLarge) {
            const size_t scanned = std::min(input_.size(), kMaxHeaderBytes);
            const bool lines =
                static_cast<size_t>(std::count(input_.begin(), input_.begin() + scanned, '\n')) >=
                kMaxHeaderLines;
            return make_error(
                Errc::InvalidData,
                lines ? "answer head of more than " + std::to_string(kMaxHeaderLines) + " lines"
                      : "answer head longer than " + std::to_string(kMaxHeaderBytes) + " bytes");
        }
        Result<Response> response = parse_response(input_.data(), scan.block_size);
        input_.erase(0, scan.block_size);
        if (!response)
            return response.error();
        if (response->status < 200) {
            if (++interim_ > kMaxInterimAnswers)
                return make_error(Errc::InvalidData, "more than " +
                                                         std::to_string(kMaxInterimAnswers) +
                                                         " interim (1xx) answers in a row");
            continue;
        }
        interim_ = 0;
        body_ = std::move(input_);
        input_.clear();
        return std::optional<Response>(std::move(*response));
    }
}

void AnswerReader::feed(const char *data, size_t len) {
    const size_t skipped = static_cast<size_t>(std::min<uint64_t>(skip_, len));
    skip_ -= skipped;
    input_.append(data + skipped, len - skipped);
}

void AnswerReader::skip_body(uint64_t length) {
    skip_ = length > body_.size() ? length - body_.size() : 0;
    body_.clear();
}

void AnswerReader::reset() {
    input_.clear();
    body_.clear();
    interim_ = 0;
    skip_ = 0;
}

} // namespace wmstream::proto::http
