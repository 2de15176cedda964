/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/text.h"

#include <glib.h>

namespace wmstream {

std::string printable(std::string_view text, size_t max) {
    std::string out;
    for (const unsigned char c : text) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char escaped[8];
            g_snprintf(escaped, sizeof escaped, "\\x%02x", c);
            out += escaped;
        }
    }
    return out;
}

} // namespace wmstream
