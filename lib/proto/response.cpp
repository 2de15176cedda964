/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP response header blocks of the network sink. Field order and spelling
 * follow the WMF 9 encoder Describe answer of [MS-WMSP] §4.11 (Server first,
 * then Cache-Control, the Pragma lines, Content-Type, Content-Length), with
 * Connection: close because we always close after the body.
 * Reason phrases come from libsoup (soup_status_get_phrase()).
 */
#include "proto/response.h"

#include <libsoup/soup.h>

#include <string>

namespace wmstream::proto::response {

namespace {

constexpr const char *kCrlf = "\r\n";

/* libsoup knows no 508 (RFC 5842 §7.2). */
const char *phrase(unsigned status) {
    return status == 508 ? "Loop Detected" : soup_status_get_phrase(status);
}

std::string status_line(unsigned status) {
    return "HTTP/1.0 " + std::to_string(status) + " " + phrase(status) + kCrlf;
}

void add_header(std::string &out, const char *name, const std::string &value) {
    out.append(name).append(": ").append(value).append(kCrlf);
}

/* 200 status line + the common WMSP fields of §3.2.5.2 (Server, no-cache), with @split
 * the proxy directives of kRelayCacheControl, and our Via token when @via is not empty. */
std::string wmsp_ok_head(bool split = false, const std::string &via = {}) {
    std::string out = status_line(SOUP_STATUS_OK);
    add_header(out, "Server", kServerToken);
    add_header(out, "Cache-Control", split ? kRelayCacheControl : "no-cache");
    if (!via.empty())
        add_header(out, "Via", "1.1 " + via);
    add_header(out, "Pragma", "no-cache");
    return out;
}

void add_client_id(std::string &out, uint32_t client_id) {
    add_header(out, "Pragma", "client-id=" + std::to_string(client_id));
}

/* A 200 answer to Describe/Play: the common fields, client-id, features, the Pragma line
 * @pragma when not empty, Content-Type. */
std::string stream_head(uint32_t client_id, const char *content_type, const std::string &via,
                        const std::string &pragma = {}) {
    std::string out = wmsp_ok_head(!via.empty(), via);
    add_client_id(out, client_id);
    add_header(out, "Pragma", "features=\"broadcast\"");
    if (!pragma.empty())
        add_header(out, "Pragma", pragma);
    /* SelectStream is served (§2.2.1.7.4; §3.2.5.7). */
    add_header(out, "Supported", "com.microsoft.wm.sswitch");
    add_header(out, "Content-Type", content_type);
    return out;
}

std::string finish(std::string out) {
    add_header(out, "Connection", "close");
    return out.append(kCrlf);
}

} // namespace

std::string describe(uint32_t client_id, size_t body_len, const std::string &via) {
    std::string out = stream_head(client_id, "application/vnd.ms.wms-hdr.asfv1", via);
    add_header(out, "Content-Length", std::to_string(body_len));
    return finish(std::move(out));
}

std::string play(uint32_t client_id, const std::string &via, const std::string &fast_start) {
    return finish(stream_head(client_id, "application/x-mms-framed", via, fast_start));
}

std::string raw_asf() {
    std::string out = status_line(SOUP_STATUS_OK);
    add_header(out, "Content-Type", "video/x-ms-asf");
    add_header(out, "Cache-Control", "no-cache");
    add_header(out, "Server", kServerToken);
    return finish(std::move(out));
}

std::string announcement(size_t body_len) {
    std::string out = status_line(SOUP_STATUS_OK);
    add_header(out, "Server", kServerToken);
    add_header(out, "Cache-Control", "no-cache");
    add_header(out, "Content-Type", "video/x-ms-asf");
    add_header(out, "Content-Length", std::to_string(body_len));
    return finish(std::move(out));
}

std::string status(bool json, size_t body_len) {
    std::string out = status_line(SOUP_STATUS_OK);
    add_header(out, "Server", kServerToken);
    add_header(out, "Cache-Control", "no-store");
    add_header(out, "Content-Type",
               json ? "application/json; charset=utf-8" : "text/html; charset=utf-8");
    add_header(out, "Content-Length", std::to_string(body_len));
    return finish(std::move(out));
}

namespace {

/* An empty 200, with @split and @via as wmsp_ok_head(). */
std::string empty_head(uint32_t client_id, bool split, const std::string &via) {
    std::string out = wmsp_ok_head(split, via);
    if (client_id != 0)
        add_client_id(out, client_id);
    add_header(out, "Content-Length", "0");
    return finish(std::move(out));
}

} // namespace

std::string empty_ok(uint32_t client_id) {
    return empty_head(client_id, false, {});
}

std::string get_content_info(uint32_t client_id, const std::string &via) {
    return empty_head(client_id, true, via);
}

namespace {

std::string error_with(unsigned status, const char *extra_name,
                       const std::vector<std::string> &extra_values) {
    const std::string body = std::to_string(status) + " " + phrase(status) + "\n";
    std::string out = status_line(status);
    add_header(out, "Server", kServerToken);
    add_header(out, "Cache-Control", "no-cache");
    for (const std::string &value : extra_values)
        add_header(out, extra_name, value);
    add_header(out, "Content-Type", "text/plain");
    add_header(out, "Content-Length", std::to_string(body.size()));
    return finish(std::move(out)) + body;
}

} // namespace

std::string error(unsigned status) {
    if (status == SOUP_STATUS_METHOD_NOT_ALLOWED)
        return error_with(status, "Allow", {"GET, HEAD, POST"});
    return error_with(status, nullptr, {});
}

std::string redirect(const std::string &location) {
    return error_with(SOUP_STATUS_FOUND, "Location", {location});
}

std::string unauthorized(const std::vector<std::string> &challenges) {
    return error_with(SOUP_STATUS_UNAUTHORIZED, "WWW-Authenticate", challenges);
}

} // namespace wmstream::proto::response
