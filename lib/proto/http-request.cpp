/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/1.x request header blocks: end-of-block scan, size cap, and a copy of
 * libsoup's parse (soup_headers_parse_request(), libsoup 3) into plain types.
 */
#include "proto/http-request.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <climits>
#include <optional>
#include <string>

namespace wmstream::proto::http {

namespace {

/* @value's entries: split at commas outside parenthesised comments (a comment may hold
 * commas, RFC 9110 §5.6.5). */
std::vector<std::string_view> via_entries(std::string_view value) {
    std::vector<std::string_view> entries;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= value.size(); i++) {
        const char c = i < value.size() ? value[i] : ',';
        if (c == '(')
            ++depth;
        else if (c == ')' && depth > 0)
            --depth;
        else if (c == ',' && depth == 0) {
            entries.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    return entries;
}

} // namespace

std::vector<std::string> via_received_by(const Request &request) {
    std::vector<std::string> names;
    for (const std::string &value : request.find_all("Via")) {
        for (const std::string_view entry : via_entries(value)) {
            /* Two words: the protocol, then received-by. */
            const size_t protocol = entry.find_first_not_of(" \t");
            const size_t gap = entry.find_first_of(" \t", protocol);
            const size_t name = entry.find_first_not_of(" \t", gap);
            if (protocol == std::string_view::npos || name == std::string_view::npos ||
                entry[name] == '(')
                continue;
            const size_t end = entry.find_first_of(" \t(", name);
            names.emplace_back(
                entry.substr(name, end == std::string_view::npos ? end : end - name));
        }
    }
    return names;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && g_ascii_strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const std::string *Request::find(std::string_view name) const {
    for (const auto &[key, value] : headers) {
        if (equals_ignore_case(key, name))
            return &value;
    }
    return nullptr;
}

std::vector<std::string> Request::find_all(std::string_view name) const {
    std::vector<std::string> values;
    for (const auto &[key, value] : headers) {
        if (equals_ignore_case(key, name))
            values.push_back(value);
    }
    return values;
}

/*
 * The block ends at the first LF that is followed by an empty line, i.e. by
 * "\n" or "\r\n". Only the first @max_bytes bytes and @max_lines lines are
 * searched, so a client cannot make us buffer or scan more than the caps.
 */
Scan scan_header_block(const char *data, size_t len, size_t max_bytes, size_t max_lines) {
    ScanProgress progress;
    return scan_header_block(data, len, progress, max_bytes, max_lines);
}

/* An LF whose following one or two bytes are not in yet is looked at again by the next
 * call: progress.offset stops before it. */
Scan scan_header_block(const char *data, size_t len, ScanProgress &progress, size_t max_bytes,
                       size_t max_lines) {
    const size_t limit = len < max_bytes ? len : max_bytes;
    for (size_t i = progress.offset; i < limit; i++) {
        if (data[i] != '\n')
            continue;
        if (i + 1 < limit && data[i + 1] == '\n')
            return {Scan::State::Complete, i + 2};
        if (i + 2 < limit && data[i + 1] == '\r' && data[i + 2] == '\n')
            return {Scan::State::Complete, i + 3};
        if (progress.lines + 1 >= max_lines)
            return {Scan::State::TooLarge, 0};
        if (i + 2 >= limit && len < max_bytes) {
            progress.offset = i; /* undecided until more bytes come; not counted yet */
            return {Scan::State::Incomplete, 0};
        }
        ++progress.lines;
    }
    progress.offset = limit;
    if (len >= max_bytes)
        return {Scan::State::TooLarge, 0};
    return {Scan::State::Incomplete, 0};
}

namespace {

/* parse_request()'s Content-Length rule; true when there is none. */
bool content_length_valid(const Request &request) {
    std::optional<guint64> length;
    for (const std::string &value : request.find_all("Content-Length")) {
        if (value.empty())
            return false; /* g_strsplit() would give no item to check */
        g_auto(GStrv) items = g_strsplit(value.c_str(), ",", -1);
        for (char **item = items; *item; ++item) {
            guint64 number = 0;
            /* Digits only: no sign, no space inside, no overflow (GLib refuses them). */
            if (!g_ascii_string_to_unsigned(g_strstrip(*item), 10, 0, G_MAXUINT64, &number,
                                            nullptr) ||
                (length && *length != number))
                return false;
            length = number;
        }
    }
    return true;
}

} // namespace

Result<Request> parse_request(const char *data, size_t len, unsigned *status_out) {
    if (len > INT_MAX) {
        if (status_out)
            *status_out = SOUP_STATUS_BAD_REQUEST;
        return make_error(Errc::InvalidData, "request header block too large");
    }

    g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_REQUEST);
    g_autofree char *method = nullptr;
    g_autofree char *path = nullptr;
    SoupHTTPVersion version = SOUP_HTTP_1_0;
    const unsigned status =
        soup_headers_parse_request(data, static_cast<int>(len), headers, &method, &path, &version);
    if (status_out)
        *status_out = status;
    if (status != SOUP_STATUS_OK) {
        return make_error(Errc::InvalidData, std::string("malformed HTTP request: ") +
                                                 std::to_string(status) + " " +
                                                 soup_status_get_phrase(status));
    }

    Request request;
    request.method = method;
    request.path = path;
    request.version_minor = version == SOUP_HTTP_1_1 ? 1 : 0;
    request.headers = header_fields(headers);
    if (!content_length_valid(request)) {
        if (status_out)
            *status_out = SOUP_STATUS_BAD_REQUEST;
        return make_error(Errc::InvalidData, "malformed HTTP request: invalid Content-Length");
    }
    return request;
}

std::vector<std::pair<std::string, std::string>> header_fields(SoupMessageHeaders *headers) {
    /* libsoup already strips the whitespace around each value. */
    std::vector<std::pair<std::string, std::string>> fields;
    SoupMessageHeadersIter iter;
    soup_message_headers_iter_init(&iter, headers);
    const char *name = nullptr;
    const char *value = nullptr;
    while (soup_message_headers_iter_next(&iter, &name, &value))
        fields.emplace_back(name, value);
    return fields;
}

} // namespace wmstream::proto::http
