/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MS-WMSP request classification and Pragma parsing (sans-IO).
 * Source: [MS-WMSP] §2.2.1.4 (Pragma tokens), §2.2.2 (request types),
 * §3.2.5.1 (User-Agent rules); quirks of FFmpeg 5.1 and VLC 3.0 clients from
 * ../shared/reference/ms-wmsp-and-wmhttp.md §1.2–1.3.
 */
#pragma once

#include "proto/http-request.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wmstream::proto::wmsp {

/** The Pragma tokens of a request: every Pragma header, comma-split (not
 *  inside double quotes), trimmed, in order; a token is name[=value], split
 *  at the first '=', the value kept as sent (quotes included). Names compare
 *  case-insensitively; garbled tokens are kept as a name without value and
 *  otherwise ignored (FFmpeg's "stream-time=0Connection: Close" is just an
 *  odd stream-time value). Empty tokens are dropped. */
class Pragma {
public:
    /** Parse the values of every Pragma header of a request. */
    static Pragma parse(const std::vector<std::string> &header_values);

    /** True when token @p name is present (with or without a value). */
    bool has(std::string_view name) const;
    /** Value of the first token @p name ("" for a bare token), or nullopt. */
    std::optional<std::string> get(std::string_view name) const;
    /** Every (name, value) token, in order. */
    const std::vector<std::pair<std::string, std::string>> &tokens() const { return tokens_; }

private:
    std::vector<std::pair<std::string, std::string>> tokens_;
};

/** One `stream-switch-entry` item src:dst:thin (MS-WMSP §2.2.1.4.27). */
struct StreamSwitchEntry {
    uint16_t source = 0xffff; /**< 0xffff = none */
    uint16_t stream = 0;      /**< stream number: read as decimal from User-Agent
                                   NSPlayer/4.1.0.3856 (FFmpeg, MPlayer print "%d"), as hex
                                   (the spec's form, WMP, VLC) from everyone else */
    uint8_t thinning = 0;     /**< 0 all, 1 key frames only, 2 off */
};

/** A fast start a Play asks for (MS-WMSP §2.2.1.4.1–4): its first @c duration_ms of media
 *  at no more than @c bandwidth_bps. Distribution servers send BurstBW/BurstDuration
 *  (≥ 9.0), players AccelBW/AccelDuration (≥ 8.0); a request with both gets the burst. */
struct FastStart {
    bool accel = false;         /**< the AccelBW pair (else BurstBW) */
    uint32_t bandwidth_bps = 0; /**< bits per second, > 0 */
    uint32_t duration_ms = 0;   /**< milliseconds of media, > 0 */

    /** The Pragma tokens that echo it in a response: "BurstBW=…, BurstDuration=…". */
    std::string echo() const;
};

/** What a request asks for. */
enum class Kind {
    Describe,         /**< WMSP GET without xPlayStrm=1: answer the header only (§2.2.2.1) */
    Play,             /**< WMSP GET with xPlayStrm=1: answer $H then $D… (§2.2.2.6) */
    KeepAlive,        /**< WMSP POST with xKeepAliveInPause=1, or OPTIONS from anyone (§2.2.2.3) */
    Log,              /**< WMSP POST with log-line= or Content-Type application/x-wms-LogStats
                           (§2.2.2.4) */
    SelectStream,     /**< WMSP POST with stream-switch-entry, for the playing client named by
                           its Pragma client-id (non-pipelined, §2.2.2.8) */
    GetContentInfo,   /**< WMSP POST with Content-Type application/x-wms-getcontentinfo (a
                           cache/proxy server asking how it may cache, §2.2.2.2): 200 with the
                           broadcast Cache-Control directives, no body (§3.2.5.3) */
    OtherPost,        /**< any other WMSP POST (Stop, SendEvent, …), and every POST
                           from a non-WMSP client: empty 200 (405 would contradict our
                           Allow: GET, HEAD, POST) */
    HttpStream,       /**< GET from a non-WMSP client: raw ASF as video/x-ms-asf */
    Announcement,     /**< GET or HEAD of a path ending in .asx from any client: the ASX
                           playlist naming the stream (proto/announcement.h) */
    StatusPage,       /**< GET or HEAD of the status path (classify()'s @p status_path): the
                           operator's HTML page (server/status-page.h) */
    StatusData,       /**< GET or HEAD of the status path + ".json": the same as JSON */
    HttpHead,         /**< HEAD of any other path, from any client: the headers a plain
                           HTTP GET of the stream would get, no body */
    MethodNotAllowed, /**< PUT, DELETE, PATCH, CONNECT or TRACE: 405 */
    NotImplemented,   /**< any other method token (methods are case-sensitive, so "get"
                           lands here): 501 */
};

/** A classified request. */
struct ClientRequest {
    Kind kind = Kind::NotImplemented;
    /** HEAD: the answer is the head a GET would get, without its body (RFC 9110 §9.3.2). */
    bool head = false;
    bool wmsp_client = false; /**< User-Agent starts with NSPlayer/, NSServer/ or WMCacheProxy/ */
    /** A distribution server (MS-WMSP §4.11, §4.12): User-Agent NSServer/ or WMCacheProxy/,
     *  or any request with a Via header (RFC 9110 §7.6.3: something relays it). */
    bool relay = false;
    /** User-Agent NSServer/ of version 5.0 or older: every stream counts as selected
     *  (MS-WMSP §3.2.5.6), whatever stream-switch-entry says. */
    bool selects_all = false;
    std::string user_agent;  /**< as sent, "" when absent */
    std::string client_guid; /**< xClientGUID value as sent, never validated (VLC's is malformed) */
    std::optional<uint32_t> client_id;               /**< Pragma client-id, when a valid u32 */
    std::vector<StreamSwitchEntry> stream_selection; /**< parsed stream-switch-entry items */
    /** The servers it passed through: the received-by of its Via entries
     *  (http::via_received_by()). */
    std::vector<std::string> via;
    /** Max-Forwards (RFC 9110 §7.6.2), when a valid number; relays send 9 and count down
     *  (MS-WMSP §4.11, §2.2.2.2). */
    std::optional<uint32_t> max_forwards;
    /** BurstBW/BurstDuration, else AccelBW/AccelDuration, when both tokens of the pair are
     *  numbers from 1 to 4,294,967,295 (0 means ignore the token, §2.2.1.4.2). */
    std::optional<FastStart> fast_start;
};

/** True when @p request has come round a loop of relays: its Via names @p via_name (this
 *  server's pseudonym, compared case-insensitively), or its Max-Forwards is 0 (the hops its
 *  first relay allowed are used up). */
bool is_loop(const ClientRequest &request, std::string_view via_name);

/** Classify a parsed request (never fails: unknown things get NotImplemented).
 *  GET or HEAD of @p status_path (when not empty; compared with the path before any '?',
 *  exactly) is StatusPage, of @p status_path + ".json" StatusData; of a .asx path
 *  Announcement; any other HEAD is HttpHead; other GETs from a WMSP client are Play when
 *  Pragma xPlayStrm=1, else Describe. */
ClientRequest classify(const http::Request &request, std::string_view status_path = {});

/** Human-readable name of @p kind, e.g. "play". */
const char *to_string(Kind kind);

} // namespace wmstream::proto::wmsp
