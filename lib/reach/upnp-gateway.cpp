/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UPnP IGD port mapping through miniupnpc (WANIPConnection:
 * GetSpecificPortMappingEntry, AddPortMapping, DeletePortMapping,
 * GetExternalIPAddress; UPnP error codes from the IGD v1 spec as listed in
 * miniupnpc's upnpcommands.h).
 */
#include "reach/gateway.h"

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace wmstream::reach {

namespace {

constexpr const char *kProtocol = "TCP";
constexpr int kConflictInMappingEntry = 718;
constexpr int kOnlyPermanentLeasesSupported = 725;
constexpr int kNoSuchEntryInArray = 714;

std::string upnp_error_text(int code) {
    const char *text = strupnperror(code);
    return std::to_string(code) + (text ? std::string(" ") + text : std::string());
}

class UpnpGateway final : public Gateway {
public:
    explicit UpnpGateway(MappingRequest request) : request_(std::move(request)) {}
    ~UpnpGateway() override {
        if (have_igd_)
            FreeUPNPUrls(&urls_);
    }
    UpnpGateway(const UpnpGateway &) = delete;
    UpnpGateway &operator=(const UpnpGateway &) = delete;

    std::optional<PortReport> discover() override {
        if (find_igd())
            return std::nullopt;
        return report(PortAction::Open, PortResult::Unavailable,
                      make_error(Errc::NetworkFailure, discover_error_));
    }

    PortReport map() override {
        /* Already mapped? By us (our description): ours to renew; to us by something else:
         * leave it alone; elsewhere: a conflict. */
        char client[64] = "", port[16] = "", description[128] = "", enabled[8] = "",
             duration[32] = "";
        const int found = UPNP_GetSpecificPortMappingEntry(
            urls_.controlURL, data_.first.servicetype, external_port().c_str(), kProtocol, nullptr,
            client, port, description, enabled, duration);
        if (found == UPNPCOMMAND_SUCCESS && request_.description != description) {
            if (client_ == client && external_port() == port) {
                PortReport existing = report(PortAction::Open, PortResult::AlreadyOpen);
                existing.lease_s = static_cast<uint32_t>(std::strtoul(duration, nullptr, 10));
                return existing;
            }
            PortReport conflict =
                report(PortAction::Open, PortResult::Conflict,
                       make_error(Errc::NetworkFailure,
                                  "external port " + external_port() + " is already mapped to " +
                                      client + ":" + port + " ('" + description + "')"));
            conflict.error_code = kConflictInMappingEntry;
            return conflict;
        }
        return add(PortAction::Open);
    }

    PortReport renew() override { return add(PortAction::Renew); }

    PortReport unmap() override {
        const int code = UPNP_DeletePortMapping(urls_.controlURL, data_.first.servicetype,
                                                external_port().c_str(), kProtocol, nullptr);
        if (code == UPNPCOMMAND_SUCCESS || code == kNoSuchEntryInArray)
            return report(PortAction::Close, PortResult::Closed);
        PortReport failure = report(
            PortAction::Close, PortResult::Failed,
            make_error(Errc::NetworkFailure, "DeletePortMapping failed: " + upnp_error_text(code)));
        failure.error_code = code;
        return failure;
    }

private:
    std::string external_port() const { return std::to_string(request_.port); }

    /* SSDP search (bounded by timeout_ms), then the IGD's description. The
     * search asks for IGD v1, then v2, for half the timeout each, stopping at
     * the first that answers: upnpDiscover() would search four types for the
     * whole timeout each (8 s for 2000 ms when nothing answers). */
    bool find_igd() {
        static const char *const kDeviceTypes[] = {
            "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
            "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
            nullptr,
        };
        int error = 0;
        UPNPDev *devices =
            upnpDiscoverDevices(kDeviceTypes, std::max(1, request_.timeout_ms / 2), nullptr,
                                nullptr, UPNP_LOCAL_PORT_ANY, 0, 2, &error, 0);
        if (!devices) {
            discover_error_ = "no UPnP device answered within " +
                              std::to_string(request_.timeout_ms) + " ms (miniupnpc error " +
                              std::to_string(error) + ")";
            return false;
        }
        char lan_address[64] = "";
#if MINIUPNPC_API_VERSION >= 18
        char wan_address[64] = "";
        const int igd = UPNP_GetValidIGD(devices, &urls_, &data_, lan_address, sizeof lan_address,
                                         wan_address, sizeof wan_address);
#else
        const int igd = UPNP_GetValidIGD(devices, &urls_, &data_, lan_address, sizeof lan_address);
#endif
        freeUPNPDevlist(devices);
        if (igd == 0) {
            discover_error_ = "no UPnP Internet Gateway Device found";
            return false;
        }
        have_igd_ = true;
        if (igd == 3) {
            discover_error_ = "the UPnP devices found are not Internet Gateway Devices";
            return false;
        }
        client_ = request_.internal_address.empty() ? lan_address : request_.internal_address;
        char external[64] = "";
        if (UPNP_GetExternalIPAddress(urls_.controlURL, data_.first.servicetype, external) ==
            UPNPCOMMAND_SUCCESS)
            external_address_ = external;
        return true;
    }

    /* AddPortMapping (also refreshes the lease of our own mapping). */
    PortReport add(PortAction action) {
        uint32_t lease_s = request_.lease_s;
        int code = add_port_mapping(lease_s);
        if (code == kOnlyPermanentLeasesSupported) {
            lease_s = 0;
            code = add_port_mapping(lease_s);
        }
        if (code == UPNPCOMMAND_SUCCESS) {
            PortReport opened = report(action, PortResult::Opened);
            opened.lease_s = lease_s;
            return opened;
        }
        PortReport failure = report(
            action, code == kConflictInMappingEntry ? PortResult::Conflict : PortResult::Failed,
            make_error(Errc::NetworkFailure, "AddPortMapping " + external_port() + " → " + client_ +
                                                 ":" + external_port() +
                                                 " refused: " + upnp_error_text(code)));
        failure.error_code = code;
        return failure;
    }

    int add_port_mapping(uint32_t lease_s) {
        const std::string port = external_port();
        const std::string lease = std::to_string(lease_s);
        return UPNP_AddPortMapping(urls_.controlURL, data_.first.servicetype, port.c_str(),
                                   port.c_str(), client_.c_str(), request_.description.c_str(),
                                   kProtocol, nullptr, lease.c_str());
    }

    PortReport report(PortAction action, PortResult result) const {
        PortReport report{PortBackend::Upnp, action, result, request_.port};
        if (have_igd_ && urls_.rootdescURL)
            report.gateway = urls_.rootdescURL;
        if (result == PortResult::Opened || result == PortResult::AlreadyOpen) {
            report.external_address = external_address_;
            report.external_port = request_.port;
        }
        return report;
    }

    PortReport report(PortAction action, PortResult result, Error error) const {
        PortReport failure = report(action, result);
        failure.error = std::move(error);
        return failure;
    }

    const MappingRequest request_;
    UPNPUrls urls_{};
    IGDdatas data_{};
    bool have_igd_ = false;        /* urls_ must be freed */
    std::string discover_error_;   /* why find_igd() failed */
    std::string client_;           /* the mapping's internal client (our address) */
    std::string external_address_; /* the IGD's external address, "" if it did not say */
};

} // namespace

std::unique_ptr<Gateway> make_upnp_gateway(const MappingRequest &request) {
    return std::make_unique<UpnpGateway>(request);
}

} // namespace wmstream::reach
