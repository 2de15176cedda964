/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NAT-PMP port mapping through libnatpmp (RFC 6886: public address request
 * §3.2, mapping request §3.3, deletion = lifetime 0 §3.4; result codes §3.5).
 */
#define ENABLE_STRNATPMPERR
#include "reach/gateway.h"

#include <arpa/inet.h>
#include <natpmp.h>
#include <poll.h>

#include <glib.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

namespace wmstream::reach {

namespace {

std::string natpmp_error_text(int code) {
    const char *text = strnatpmperr(code);
    return std::string(text ? text : "unknown error") + " (" + std::to_string(code) + ")";
}

/* Codes that mean "no NAT-PMP gateway here", as opposed to a refusal. */
bool no_gateway(int code) {
    return code == NATPMP_TRYAGAIN || code == NATPMP_ERR_NOGATEWAYSUPPORT ||
           code == NATPMP_ERR_RECVFROM || code == NATPMP_ERR_WRONGPACKETSOURCE ||
           code == NATPMP_ERR_CANNOTGETGATEWAY || code == NATPMP_ERR_CONNECTERR ||
           code == NATPMP_ERR_SENDERR;
}

class NatPmpGateway final : public Gateway {
public:
    explicit NatPmpGateway(MappingRequest request) : request_(std::move(request)) {}
    ~NatPmpGateway() override {
        if (initialized_)
            closenatpmp(&natpmp_);
    }
    NatPmpGateway(const NatPmpGateway &) = delete;
    NatPmpGateway &operator=(const NatPmpGateway &) = delete;

    std::optional<PortReport> discover() override {
        int code = initnatpmp(&natpmp_, 0, 0);
        if (code < 0)
            return failure(PortAction::Open, code, "no gateway: ", true);
        initialized_ = true;
        in_addr gateway{};
        gateway.s_addr = natpmp_.gateway;
        char text[INET_ADDRSTRLEN] = "";
        gateway_ = inet_ntop(AF_INET, &gateway, text, sizeof text) ? text : "";

        natpmpresp_t response{};
        code = sendpublicaddressrequest(&natpmp_);
        if (code >= 0)
            code = answer(&response);
        if (code < 0)
            return failure(PortAction::Open, code, "public address request: ", true);
        char address[INET_ADDRSTRLEN] = "";
        if (inet_ntop(AF_INET, &response.pnu.publicaddress.addr, address, sizeof address))
            external_address_ = address;
        return std::nullopt;
    }

    PortReport map() override { return request_mapping(PortAction::Open, request_.port); }

    PortReport renew() override { return request_mapping(PortAction::Renew, external_port_); }

    PortReport unmap() override {
        natpmpresp_t response{};
        int code = sendnewportmappingrequest(&natpmp_, NATPMP_PROTOCOL_TCP, request_.port, 0, 0);
        if (code >= 0)
            code = answer(&response);
        if (code < 0)
            return failure(PortAction::Close, code, "deletion request: ");
        return report(PortAction::Close, PortResult::Closed);
    }

private:
    PortReport request_mapping(PortAction action, uint16_t external_port) {
        natpmpresp_t response{};
        int code = sendnewportmappingrequest(&natpmp_, NATPMP_PROTOCOL_TCP, request_.port,
                                             external_port, request_.lease_s);
        if (code >= 0)
            code = answer(&response);
        if (code < 0)
            return failure(action, code, "mapping request: ");
        external_port_ = response.pnu.newportmapping.mappedpublicport;
        lease_s_ = response.pnu.newportmapping.lifetime;
        return report(action, PortResult::Opened);
    }

    /* Waits for the answer to the pending request at most timeout_ms
     * (libnatpmp itself would retry for about a minute). */
    int answer(natpmpresp_t *response) {
        const int64_t deadline_us =
            g_get_monotonic_time() + static_cast<int64_t>(request_.timeout_ms) * 1000;
        for (;;) {
            const int code = readnatpmpresponseorretry(&natpmp_, response);
            if (code != NATPMP_TRYAGAIN)
                return code;
            const int64_t left_us = deadline_us - g_get_monotonic_time();
            if (left_us <= 0)
                return NATPMP_TRYAGAIN;
            timeval wait{};
            getnatpmprequesttimeout(&natpmp_, &wait);
            const int64_t retry_us = static_cast<int64_t>(wait.tv_sec) * 1000000 + wait.tv_usec;
            const int64_t sleep_us = std::max<int64_t>(0, std::min(retry_us, left_us));
            /* poll(), not select(): an fd_set holds descriptors below 1024 only, and a
             * process serving many clients has this socket above. */
            pollfd readable{natpmp_.s, POLLIN, 0};
            poll(&readable, 1, static_cast<int>((sleep_us + 999) / 1000));
        }
    }

    /* A failed request: Unavailable while discovering a gateway that is not
     * there, Failed otherwise. */
    PortReport failure(PortAction action, int code, const std::string &what,
                       bool discovering = false) const {
        const std::string text =
            code == NATPMP_TRYAGAIN
                ? "no answer within " + std::to_string(request_.timeout_ms) + " ms"
                : natpmp_error_text(code);
        PortReport failure = report(
            action, discovering && no_gateway(code) ? PortResult::Unavailable : PortResult::Failed);
        failure.error = make_error(Errc::NetworkFailure,
                                   "NAT-PMP " + what + text +
                                       (gateway_.empty() ? "" : " (gateway " + gateway_ + ")"));
        failure.error_code = code;
        return failure;
    }

    PortReport report(PortAction action, PortResult result) const {
        PortReport report{PortBackend::NatPmp, action, result, request_.port};
        report.gateway = gateway_;
        if (result == PortResult::Opened) {
            report.external_address = external_address_;
            report.external_port = external_port_;
            report.lease_s = lease_s_;
        }
        return report;
    }

    const MappingRequest request_;
    natpmp_t natpmp_{};
    bool initialized_ = false;     /* natpmp_ must be closed */
    std::string gateway_;          /* the gateway's address, text */
    std::string external_address_; /* from the public address answer */
    uint16_t external_port_ = 0;   /* the port the gateway chose */
    uint32_t lease_s_ = 0;         /* the lifetime it granted, s */
};

} // namespace

std::unique_ptr<Gateway> make_natpmp_gateway(const MappingRequest &request) {
    return std::make_unique<NatPmpGateway>(request);
}

} // namespace wmstream::reach
