/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP response headers of the network sink (sans-IO).
 * Source: [MS-WMSP] §3.2.5.2 (common rules: Server: Rex/…, Pragma no-cache,
 * client-id, features), §2.2.1.7.4 (Supported: com.microsoft.wm.sswitch, as
 * SelectStream is served), §2.2.2.1 / §4.11 (Describe), §3.2.5.6 (Play), and
 * ../shared/reference/ms-wmsp-and-wmhttp.md §1.4–1.6.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wmstream::proto::response {

/** The Server header value we send: an encoder must use the Rex token. */
constexpr const char *kServerToken = "Rex/9.0.0.2980";

/** The Cache-Control value of answers to distribution servers: a broadcast they may split
 *  to many clients but not cache ([MS-WMSP] §2.2.1.1.11, §2.2.1.1.12, §4.12.1.2). */
constexpr const char *kRelayCacheControl =
    "no-cache, x-wms-stream-type=\"broadcast\", x-wms-proxy-split";

/** Describe answer: 200, Content-Type application/vnd.ms.wms-hdr.asfv1,
 *  Content-Length @p body_len (the $H bytes), Connection: close. With @p via (not empty:
 *  the client is a distribution server) Cache-Control is kRelayCacheControl and
 *  `Via: 1.1 <via>` names this server (RFC 9110 §7.6.3). */
std::string describe(uint32_t client_id, size_t body_len, const std::string &via = {});

/** Play answer: 200, Content-Type application/x-mms-framed, no Content-Length,
 *  Connection: close; the body ($H, $D…, $E) follows until close. @p via as describe().
 *  @p fast_start (not empty: the fast start being honoured) is echoed as a Pragma line,
 *  e.g. "BurstBW=3500000, BurstDuration=5000" ([MS-WMSP] §2.2.1.4.1–4: echo only what is
 *  honoured). */
std::string play(uint32_t client_id, const std::string &via = {},
                 const std::string &fast_start = {});

/** GetContentInfo answer ([MS-WMSP] §2.2.2.2, §3.2.5.3): 200, Cache-Control
 *  kRelayCacheControl, Pragma no-cache (and client-id when non-zero), Content-Length: 0;
 *  @p via as describe(). */
std::string get_content_info(uint32_t client_id, const std::string &via);

/** Plain-HTTP answer: 200, Content-Type video/x-ms-asf, no Content-Length,
 *  Connection: close; raw ASF (header, then data packets) follows. */
std::string raw_asf();

/** Announcement answer (proto/announcement.h): 200, Content-Type video/x-ms-asf (what
 *  Windows Media servers served .asx files as), no-cache, Content-Length @p body_len,
 *  Connection: close; the ASX document follows. */
std::string announcement(size_t body_len);

/** Status view answer (server/status-page.h): 200, Content-Type text/html or with @p json
 *  application/json (UTF-8), Cache-Control: no-store, Content-Length @p body_len,
 *  Connection: close; the document follows. */
std::string status(bool json, size_t body_len);

/** Empty 200 answer to KeepAlive/Log/other WMSP POSTs (Content-Length: 0,
 *  Connection: close), echoing @p client_id when non-zero. */
std::string empty_ok(uint32_t client_id);

/** The status of a refused loop: 508 Loop Detected (RFC 5842 §7.2, the one HTTP status for
 *  a loop; HTTP has none for used-up hops: 483 Too Many Hops is SIP's, RFC 3261 §21.4.21). */
constexpr unsigned kLoopStatus = 508;

/** An error answer (400, 405, 501, 503, 508, …) with the Rex Server header, a
 *  short text/plain body, Connection: close; 405 carries Allow: GET, HEAD, POST. */
std::string error(unsigned status);

/** 302 Found to @p location (RFC 9110 §15.4.3), as error(302) with a Location header: the
 *  overflow redirect to an edge. */
std::string redirect(const std::string &location);

/** 401 Unauthorized as error(401), with one WWW-Authenticate header per
 *  @p challenges value (RFC 9110 §11.6.1). */
std::string unauthorized(const std::vector<std::string> &challenges);

} // namespace wmstream::proto::response
