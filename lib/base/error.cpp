/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/error.h"

namespace wmstream {

Condition condition(Errc code) {
    switch (code) {
    case Errc::InvalidArgument:
        return {"E_INVALIDARG", 0x80070057u};
    case Errc::InvalidRequest:
        return {"NS_E_INVALID_REQUEST", 0xC00D002Bu};
    case Errc::PortInUse:
    case Errc::NetworkFailure:
        return {"NS_E_NETWORK_RESOURCE_FAILURE", 0xC00D0028u};
    case Errc::AccessDenied:
        return {"E_ACCESSDENIED", 0x80070005u};
    case Errc::InvalidData:
        return {"NS_E_INVALID_DATA", 0xC00D002Fu};
    case Errc::InvalidName:
        return {"NS_E_INVALID_NAME", 0xC00D001Cu};
    case Errc::ConnectionFailure:
        return {"NS_E_CONNECTION_FAILURE", 0xC00D0029u};
    case Errc::NoConnection:
        return {"NS_E_NOCONNECTION", 0xC00D0005u};
    case Errc::InvalidClient:
        return {"NS_E_INVALID_CLIENT", 0xC00D003Fu};
    case Errc::BufferTooSmall:
        return {"ASF_E_BUFFERTOOSMALL", 0xC00D07D1u};
    case Errc::Failed:
        break;
    }
    return {"E_FAIL", 0x80004005u};
}

const char *to_string(Errc code) {
    switch (code) {
    case Errc::InvalidArgument:
        return "invalid argument";
    case Errc::InvalidRequest:
        return "invalid request";
    case Errc::PortInUse:
        return "port in use";
    case Errc::AccessDenied:
        return "access denied";
    case Errc::NetworkFailure:
        return "network resource failure";
    case Errc::InvalidData:
        return "invalid data";
    case Errc::InvalidName:
        return "invalid name";
    case Errc::ConnectionFailure:
        return "connection failure";
    case Errc::NoConnection:
        return "no connection";
    case Errc::InvalidClient:
        return "invalid client";
    case Errc::BufferTooSmall:
        return "buffer too small";
    case Errc::Failed:
        break;
    }
    return "failed";
}

} // namespace wmstream
