/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer-supplied text made safe to print: a User-Agent or a server's reason
 * phrase can hold terminal escape sequences (ESC ] 2 ; … BEL retitles the
 * terminal, ESC [ 2 J clears it), so they are shown escaped.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wmstream {

/** @p text with printable ASCII as it is and every other byte (controls, DEL, non-ASCII) as
 *  \xNN; past @p max characters, cut and ended with "...". */
std::string printable(std::string_view text, size_t max = SIZE_MAX);

} // namespace wmstream
