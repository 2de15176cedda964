/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The documents a Connection answers that are not the stream: the
 * announcement (.asx, proto/announcement.h) and the operator's status view
 * (server/status-page.h). Neither is a viewer: not asked about, not counted,
 * not reported.
 */
#include "base/address.h"
#include "base/log.h"
#include "proto/announcement.h"
#include "proto/response.h"
#include "server/connection.h"

#include <optional>
#include <utility>

namespace wmstream::server {

namespace {

/** The TITLE of the announcement's playlist and entry. */
constexpr const char *kAnnouncementTitle = "Live broadcast";

} // namespace

/* The stream's URL with the authority the viewer used (its Host), so that it works through a
 * name, an address or a port mapping alike; without a Host (HTTP/1.0), the local address the
 * connection came to. Not a viewer: not asked about, not counted, not reported. */
void Connection::announce(const proto::http::Request &request) {
    namespace announcement = proto::announcement;
    std::optional<std::string> authority;
    const std::string *host = request.find("Host");
    if (host && !host->empty()) {
        authority = announcement::authority_of_host(*host);
    } else {
        g_autoptr(GSocketAddress) local = g_socket_get_local_address(transport_->socket(), nullptr);
        if (local && G_IS_INET_SOCKET_ADDRESS(local)) {
            auto *inet = G_INET_SOCKET_ADDRESS(local);
            authority = announcement::authority_of_address(
                address_text(g_inet_socket_address_get_address(inet)),
                g_inet_socket_address_get_port(inet));
        }
    }
    if (!authority) {
        WMSTREAM_LOG_DEBUG("client %" G_GUINT64_FORMAT ": announcement refused: unusable Host",
                           id_);
        queue_string(proto::response::error(400));
        finish_then_close(RemoveReason::Error);
        return;
    }
    /* Windows Media players and VLC play MS-WMSP from mmsh://; over TLS only https:// works. */
    const std::string url = (transport_->encrypted() ? "https://" : "mmsh://") + *authority + "/";
    const std::string body = announcement::document(url, kAnnouncementTitle);
    queue_document(proto::response::announcement(body.size()), body);
    finish_then_close(RemoveReason::ClosedByPeer);
}

void Connection::serve_status(const proto::http::Request &request) {
    if (!check_credentials(request, host_.status_authenticator()))
        return;
    const bool json = request_.kind == proto::wmsp::Kind::StatusData;
    const std::string body = host_.status_document(json);
    queue_document(proto::response::status(json, body.size()), body);
    finish_then_close(RemoveReason::ClosedByPeer);
}

void Connection::queue_document(std::string head, const std::string &body) {
    if (!request_.head)
        head += body;
    queue_string(std::move(head));
}

} // namespace wmstream::server
