/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request a load-generator client sends (sans-IO).
 *
 * An MS-WMSP client sends VLC 3.0's mmsh Play of a broadcast ([MS-WMSP]
 * §2.2.2.6; ../shared/reference/ms-wmsp-and-wmhttp.md §1.2): User-Agent
 * NSPlayer/7.10.0.3059, Pragma xPlayStrm=1 and a stream selection
 * (stream-switch-count and stream-switch-entry, §2.2.1.4.26-27), as VLC
 * writes it: one `ffff:N:T ` item per stream it lists (N in hex, T 0 = sent
 * whole, 2 = off), the items on one Pragma line. A plain HTTP client sends a
 * GET, a raw TCP client nothing.
 */
#pragma once

#include "base/error.h"
#include "stream-check.h"

#include <string>
#include <string_view>
#include <vector>

namespace wmstream::bench {

/** Where a client connects and what it asks for. */
struct RequestTarget {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/";
    /** Stream numbers an MS-WMSP Play selects (ascending): streams 1..the largest are listed,
     *  these at thinning level 0, the others at 2 (off); streams above the largest are not
     *  listed, which leaves them unselected (§2.2.1.4.27: selection starts from none). */
    std::vector<unsigned> select = {1};
};

/**
 * A comma-separated list of ASF stream numbers (`1,4`), as `--select` takes it.
 * @return the numbers ascending, or Errc::InvalidArgument for an empty list or
 *         item, a number outside 1..127 (ASF §5.1: 7 bits, 0 invalid) or one
 *         given twice.
 */
[[nodiscard]] Result<std::vector<unsigned>> parse_stream_list(std::string_view list);

/** The bytes a client of @p kind sends after connecting ("" for StreamKind::Raw). */
std::string request_for(StreamKind kind, const RequestTarget &target);

} // namespace wmstream::bench
