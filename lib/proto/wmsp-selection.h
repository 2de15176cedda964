/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which streams a client receives (sans-IO): the stream-switch-entry items
 * of its Play request applied to the header's streams, and of a SelectStream
 * request to what it receives.
 *
 * Source: [MS-WMSP] §2.2.1.4.27 (src:dst:thin; src "ffff" = no stream is
 * replaced; thinning 0 all, 1 key frames only, 2 off), §3.2.5.6 (the server
 * MUST filter the ASF payloads to the selected streams; NSServer ≤ 5.0 has
 * every stream selected), §2.2.2.8 and §3.2.5.7 (SelectStream). What FFmpeg
 * and VLC send:
 * ../shared/reference/wm-features.md §1.1.
 */
#pragma once

#include "base/error.h"
#include "proto/asf-filter.h"
#include "proto/asf.h"
#include "proto/wmsp-request.h"

namespace wmstream::proto::wmsp {

/**
 * The streams of @p header that @p request selects.
 *
 * - Every stream, none thinned: a plain HTTP client (no MS-WMSP, no
 *   selection), ClientRequest::selects_all (NSServer ≤ 5.0), and a Play
 *   without stream-switch-entry items. The spec says a Play without entries
 *   selects nothing; we serve everything instead, as the element did before
 *   selection existed (peercast-yt's and hand-made clients' requests).
 * - Otherwise the entries in order, from nothing selected: an entry whose
 *   source is a stream number (not 0xffff) deselects that stream (it is
 *   replaced), then its destination is selected at its thinning level (2:
 *   deselected). Destinations the header does not declare are ignored (VLC
 *   lists only the streams it knows; FFmpeg's decimal numbers are already
 *   read as such by classify()).
 *
 * @return the selection (never empty), or Errc::InvalidData naming the
 *         entries and the header's streams when it selects none of them:
 *         the client is refused rather than sent an empty stream.
 */
[[nodiscard]] Result<asf::StreamSelection> select_streams(const ClientRequest &request,
                                                          const asf::HeaderInfo &header);

/**
 * The streams of @p header a playing client receives after a SelectStream
 * request (MS-WMSP §2.2.2.8, §3.2.5.7) whose stream-switch-entry items are
 * @p entries, @p current being what it receives now: the entries applied in
 * order to @p current, as select_streams() applies a Play's to nothing
 * (source deselected, destination at its thinning level); the streams no
 * entry names keep theirs. When the switch happens (at the new streams' key
 * frames) is the server's business.
 *
 * @return the new selection, or Errc::InvalidData when @p entries is empty
 *         or leaves none of the header's streams selected (the client keeps
 *         @p current).
 */
[[nodiscard]] Result<asf::StreamSelection>
switch_streams(const asf::StreamSelection &current, const std::vector<StreamSwitchEntry> &entries,
               const asf::HeaderInfo &header);

} // namespace wmstream::proto::wmsp
