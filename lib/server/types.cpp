/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/types.h"

namespace wmstream::server {

const char *to_string(ClientProtocol protocol) {
    return protocol == ClientProtocol::Wmsp ? "wmsp" : "http";
}

const char *to_string(RemoveReason reason) {
    switch (reason) {
    case RemoveReason::ClosedByPeer:
        return "closed";
    case RemoveReason::Disconnected:
        return "disconnected";
    case RemoveReason::Slow:
        return "slow";
    case RemoveReason::Error:
        return "error";
    case RemoveReason::OverLimit:
        return "over-limit";
    case RemoveReason::Forbidden:
        return "forbidden";
    case RemoveReason::Unauthorized:
        return "unauthorized";
    case RemoveReason::NoStreams:
        return "no-streams";
    case RemoveReason::Removed:
        return "removed";
    case RemoveReason::Redirected:
        return "redirected";
    case RemoveReason::Loop:
        return "loop";
    case RemoveReason::EndOfStream:
        break;
    }
    return "eos";
}

} // namespace wmstream::server
