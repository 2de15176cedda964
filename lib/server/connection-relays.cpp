/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a Connection does for distribution servers (docs/wmnetsink.md,
 * "Distribution servers"): the Via token of its answers to relays and the
 * refusal of requests that came round a loop of relays.
 */
#include "proto/response.h"
#include "server/connection.h"

namespace wmstream::server {

std::string Connection::relay_via() const {
    return request_.relay ? host_.config().via_name : std::string();
}

/* Whatever it asks (the status view aside): served, it would come back here again and again. */
bool Connection::refuse_loop() {
    if (request_.kind == proto::wmsp::Kind::StatusPage ||
        request_.kind == proto::wmsp::Kind::StatusData ||
        !proto::wmsp::is_loop(request_, host_.config().via_name))
        return false;
    queue_string(proto::response::error(proto::response::kLoopStatus));
    finish_then_close(RemoveReason::Loop);
    return true;
}

} // namespace wmstream::server
