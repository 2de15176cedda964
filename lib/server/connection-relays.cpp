/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a Connection does for distribution servers (docs/wmnetsink.md,
 * "Distribution servers"): the Via token of its answers to relays, the
 * refusal of requests that came round a loop of relays, and the answers to
 * requests the server does not admit (503, or 302 to an edge).
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

bool Connection::admitted(const Decision &decision) {
    switch (decision.verdict) {
    case Verdict::Admit:
        return true;
    case Verdict::Redirect:
        queue_string(proto::response::redirect(decision.location));
        finish_then_close(RemoveReason::Redirected);
        return false;
    case Verdict::Refuse:
        break;
    }
    queue_string(proto::response::error(503));
    finish_then_close(RemoveReason::OverLimit);
    return false;
}

} // namespace wmstream::server
