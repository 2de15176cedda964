/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/admission.h"

#include <glib.h>

namespace wmstream::server {

namespace {

bool under(size_t served, int limit) {
    return limit < 0 || served < size_t(limit);
}

bool is_http_url(const std::string &text) {
    g_autoptr(GUri) uri = g_uri_parse(text.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri))
        return false;
    const char *scheme = g_uri_get_scheme(uri);
    return g_ascii_strcasecmp(scheme, "http") == 0 || g_ascii_strcasecmp(scheme, "https") == 0;
}

} // namespace

Status Admission::check(const ServerConfig &config) {
    for (const std::string &edge : config.edges)
        if (!is_http_url(edge))
            return make_error(Errc::InvalidArgument,
                              "edges: not an http:// or https:// URL: " + edge);
    return {};
}

Decision Admission::decide(bool relay, bool describe, size_t viewers, size_t relays) {
    if (relay)
        return {describe || under(relays, max_relays_) ? Verdict::Admit : Verdict::Refuse, {}};
    if (under(viewers, max_clients_))
        return {};
    if (edges_.empty())
        return {describe ? Verdict::Admit : Verdict::Refuse, {}};
    const std::string &edge = edges_[next_edge_];
    next_edge_ = (next_edge_ + 1) % edges_.size();
    return {Verdict::Redirect, edge};
}

} // namespace wmstream::server
