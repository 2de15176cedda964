/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/announcement.h"

#include <glib.h>

#include <algorithm>

namespace wmstream::proto::announcement {

namespace {

constexpr size_t kMaxHostName = 253;   /* RFC 1035 §2.3.4, without the final dot */
constexpr size_t kMaxIpv6Literal = 47; /* "[" + 45 characters (IPv4-mapped form) + "]" */

bool is_name_char(char c) {
    return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
    return g_ascii_isxdigit(c) || c == ':' || c == '.';
}

/* "1".."65535", no sign, no leading zero run beyond five digits. */
bool is_port(std::string_view text) {
    if (text.empty() || text.size() > 5 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return g_ascii_isdigit(c); }))
        return false;
    const unsigned long value = std::stoul(std::string(text));
    return value >= 1 && value <= 65535;
}

std::string escaped(std::string_view text) {
    g_autofree char *out = g_markup_escape_text(text.data(), gssize(text.size()));
    return out;
}

} // namespace

bool is_announcement(std::string_view target) {
    const std::string_view path = target.substr(0, target.find_first_of("?#"));
    constexpr std::string_view suffix = ".asx";
    return path.size() >= suffix.size() &&
           g_ascii_strncasecmp(path.data() + path.size() - suffix.size(), suffix.data(),
                               suffix.size()) == 0;
}

std::optional<std::string> authority_of_host(std::string_view host) {
    std::string_view name = host;
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
        const size_t close = host.find(']');
        if (close == std::string_view::npos || close + 1 > kMaxIpv6Literal || close < 3)
            return std::nullopt;
        name = host.substr(0, close + 1);
        const std::string_view inside = name.substr(1, name.size() - 2);
        if (!std::all_of(inside.begin(), inside.end(), is_ipv6_char) ||
            inside.find(':') == std::string_view::npos)
            return std::nullopt;
        if (close + 1 < host.size()) {
            if (host[close + 1] != ':')
                return std::nullopt;
            port = host.substr(close + 2);
            if (!is_port(port))
                return std::nullopt;
        }
    } else {
        const size_t colon = host.find(':');
        if (colon != std::string_view::npos) {
            name = host.substr(0, colon);
            port = host.substr(colon + 1);
            if (!is_port(port))
                return std::nullopt;
        }
        if (name.empty() || name.size() > kMaxHostName ||
            !std::all_of(name.begin(), name.end(), is_name_char))
            return std::nullopt;
    }
    return std::string(host);
}

std::string authority_of_address(std::string_view address, uint16_t port) {
    const bool ipv6 = address.find(':') != std::string_view::npos;
    std::string out = ipv6 ? "[" + std::string(address) + "]" : std::string(address);
    return out + ":" + std::to_string(port);
}

std::string document(std::string_view url, std::string_view title) {
    const std::string href = escaped(url);
    const std::string name = escaped(title);
    return "<ASX VERSION=\"3.0\">\r\n"
           "  <TITLE>" +
           name +
           "</TITLE>\r\n"
           "  <ENTRY>\r\n"
           "    <TITLE>" +
           name +
           "</TITLE>\r\n"
           "    <REF HREF=\"" +
           href +
           "\"/>\r\n"
           "  </ENTRY>\r\n"
           "</ASX>\r\n";
}

} // namespace wmstream::proto::announcement
