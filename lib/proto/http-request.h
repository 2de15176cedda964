/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/1.x request header blocks (sans-IO). Parsing is delegated to
 * libsoup's soup_headers_parse_request(); this file only finds the end of the
 * block, enforces size limits and copies the result into plain C++ types.
 */
#pragma once

#include "base/error.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

typedef struct _SoupMessageHeaders SoupMessageHeaders;

namespace wmstream::proto::http {

/** Default cap on a request header block, bytes (including the final CRLFCRLF). */
constexpr size_t kMaxHeaderBytes = 16 * 1024;
/** Default cap on the lines of a request header block (request line included). */
constexpr size_t kMaxHeaderLines = 100;

/** A parsed request line + header fields. Fields of the same name keep their
 *  arrival order; across names, libsoup lists the names it knows (Host,
 *  User-Agent, Pragma, …) before the others. */
struct Request {
    std::string method;    /**< e.g. "GET", as sent (case preserved) */
    std::string path;      /**< request target, e.g. "/" or "/live?x=1" */
    int version_minor = 0; /**< 0 for HTTP/1.0, 1 for HTTP/1.1 */
    std::vector<std::pair<std::string, std::string>> headers; /**< name, value (trimmed) */

    /** First value of header @p name (case-insensitive), or nullptr. */
    const std::string *find(std::string_view name) const;
    /** Every value of header @p name (case-insensitive), in order. */
    std::vector<std::string> find_all(std::string_view name) const;
};

/** The fields of a header block libsoup parsed, as (name, value) in libsoup's order
 *  (values already trimmed of surrounding whitespace). */
std::vector<std::pair<std::string, std::string>> header_fields(SoupMessageHeaders *headers);

/** The received-by of every entry of every Via header of @p request, in order (RFC 9110
 *  §7.6.3: `[protocol-name "/"] protocol-version RWS received-by [RWS comment]`, entries
 *  separated by commas outside comments); an entry without a received-by is skipped. */
std::vector<std::string> via_received_by(const Request &request);

/** ASCII case-insensitive equality, for field names and tokens (RFC 9110 §5.1). */
bool equals_ignore_case(std::string_view a, std::string_view b);

/** Result of scanning received bytes for a complete header block. */
struct Scan {
    enum class State { Incomplete, Complete, TooLarge } state = State::Incomplete;
    size_t block_size = 0; /**< with Complete: bytes up to and including the blank line */
};

/** How far an Incomplete scan got, so that the next scan of the same, longer buffer goes on
 *  from there instead of rescanning every byte received (a head sent one byte per segment
 *  would otherwise cost O(n²)). Start with a default one for each new block. */
struct ScanProgress {
    size_t offset = 0; /**< the bytes before it hold no end of the block */
    size_t lines = 0;  /**< the LFs before offset */
};

/**
 * Look for the end of the header block ("\r\n\r\n", or "\n\n" / "\n\r\n"
 * from lax clients: the first empty line) in the first @p len bytes of @p data.
 * @param max_bytes cap on the block size; past it the result is TooLarge,
 * even when more bytes would complete the block.
 * @param max_lines cap on the lines before the empty line; past it the
 * result is TooLarge.
 */
Scan scan_header_block(const char *data, size_t len, size_t max_bytes = kMaxHeaderBytes,
                       size_t max_lines = kMaxHeaderLines);

/**
 * The same for a buffer that grows between calls: the bytes before @p progress.offset are
 * not looked at again (they must be unchanged), and @p progress is updated for the next call.
 * The result is the one a full scan of @p data would give.
 */
Scan scan_header_block(const char *data, size_t len, ScanProgress &progress,
                       size_t max_bytes = kMaxHeaderBytes, size_t max_lines = kMaxHeaderLines);

/**
 * Parse a complete header block (as delimited by scan_header_block()) with
 * libsoup. @return the Request, or Errc::InvalidData with the HTTP status
 * libsoup chose (400 Bad Request, 505 HTTP Version Not Supported) in
 * @p status_out when non-null. A block whose Content-Length is invalid is
 * refused with 400, as its framing cannot be trusted (RFC 9112 §6.3): valid
 * is 1*DIGIT within 64 bits, or a comma-separated list of them, every value
 * of every Content-Length field the same number (RFC 9110 §8.6).
 */
Result<Request> parse_request(const char *data, size_t len, unsigned *status_out = nullptr);

} // namespace wmstream::proto::http
