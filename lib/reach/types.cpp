/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reach/types.h"

#include <gio/gio.h>

namespace wmstream::reach {

const char *to_string(PortBackend backend) {
    switch (backend) {
    case PortBackend::Firewalld:
        return "firewalld";
    case PortBackend::Upnp:
        return "upnp";
    case PortBackend::NatPmp:
        break;
    }
    return "nat-pmp";
}

const char *to_string(PortAction action) {
    switch (action) {
    case PortAction::Open:
        return "open";
    case PortAction::Renew:
        return "renew";
    case PortAction::Close:
        break;
    }
    return "close";
}

const char *to_string(PortResult result) {
    switch (result) {
    case PortResult::Opened:
        return "opened";
    case PortResult::AlreadyOpen:
        return "already-open";
    case PortResult::Closed:
        return "closed";
    case PortResult::Kept:
        return "kept";
    case PortResult::Unavailable:
        return "unavailable";
    case PortResult::Conflict:
        return "conflict";
    case PortResult::Failed:
        break;
    }
    return "failed";
}

bool is_failure(PortResult result) {
    return result == PortResult::Conflict || result == PortResult::Failed;
}

bool is_loopback_address(const std::string &bind_address) {
    if (bind_address.empty())
        return false;
    g_autoptr(GInetAddress) address = g_inet_address_new_from_string(bind_address.c_str());
    return address && g_inet_address_get_is_loopback(address);
}

} // namespace wmstream::reach
