/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reach/port-mapper.h"

#include "reach/gateway.h"
#include "reach/mapping-identity.h"

#include <gio/gio.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace wmstream::reach {

namespace {

/** How long after a failed renewal the next attempt comes, s. */
constexpr uint32_t kRenewRetryS = 60;

/* The internal client a mapping targets: a specific IPv4 bind address, else
 * "" (the gateway client picks our address towards it). */
std::string internal_address(const std::string &bind_address) {
    g_autoptr(GInetAddress) address =
        bind_address.empty() ? nullptr : g_inet_address_new_from_string(bind_address.c_str());
    if (!address || g_inet_address_get_is_any(address) ||
        g_inet_address_get_family(address) != G_SOCKET_FAMILY_IPV4)
        return "";
    return bind_address;
}

} // namespace

/* What the controlling thread and the worker share. The worker owns a
 * reference, so it can outlive a close() that stopped waiting for it. */
struct MappingSession {
    MappingSession(PortEvents *events_, PortMappingConfig config_)
        : config(std::move(config_)), events(events_) {}

    const PortMappingConfig config;

    std::mutex lock;
    std::condition_variable wake;
    /* Protected by lock: begin_close() was called. */
    bool stop = false;
    /* Protected by lock: a gateway was found and asked to map: a mapping may exist. */
    bool mapping = false;
    /* Protected by lock: the worker is done (wake is notified). */
    bool finished = false;
    /* Protected by lock: null once close() stopped waiting: no more reports. */
    PortEvents *events;
    /* Protected by lock: reports being delivered now (wake is notified at 0). */
    int delivering = 0;

    /* Calls events->port_report() without the lock, unless close() gave up. */
    void report(const PortReport &report) {
        std::unique_lock<std::mutex> locker(lock);
        PortEvents *target = events;
        if (!target)
            return;
        ++delivering;
        locker.unlock();
        target->port_report(report);
        locker.lock();
        if (--delivering == 0)
            wake.notify_all();
    }

    /* Sleeps @p seconds (0 = for ever) or until stop; returns true when stopped. */
    bool wait_for_stop(uint32_t seconds) {
        std::unique_lock<std::mutex> locker(lock);
        if (seconds == 0) {
            wake.wait(locker, [this] { return stop; });
            return true;
        }
        return wake.wait_for(locker, std::chrono::seconds(seconds), [this] { return stop; });
    }

    bool stopped() {
        std::lock_guard<std::mutex> locker(lock);
        return stop;
    }

    /* Unless stopped, marks that a mapping may exist from now on; returns false when stopped. */
    bool start_mapping() {
        std::lock_guard<std::mutex> locker(lock);
        mapping = !stop;
        return mapping;
    }

    void run();
    void map_and_keep();
    void keep(Gateway &gateway, const PortReport &opened);
};

void MappingSession::run() {
    if (is_loopback_address(config.bind_address)) {
        PortReport skipped;
        skipped.backend =
            config.method == PortMappingMethod::NatPmp ? PortBackend::NatPmp : PortBackend::Upnp;
        skipped.result = PortResult::Unavailable;
        skipped.port = config.port;
        skipped.error =
            make_error(Errc::InvalidRequest, "the listener is bound to loopback: nothing to map");
        report(skipped);
    } else {
        map_and_keep();
    }
    {
        std::lock_guard<std::mutex> locker(lock);
        finished = true;
    }
    wake.notify_all();
}

/* Tries each method in order until one finds a gateway, maps with it and
 * keeps the mapping until stop. Nothing is reported once stopped before a
 * mapping was asked for. */
void MappingSession::map_and_keep() {
    MappingRequest request;
    request.port = config.port;
    request.internal_address = internal_address(config.bind_address);
    request.description = mapping_description(config.port);
    request.lease_s = config.lease_s;
    request.timeout_ms = config.timeout_ms;

    std::vector<std::unique_ptr<Gateway> (*)(const MappingRequest &)> methods;
    if (config.method != PortMappingMethod::NatPmp)
        methods.push_back(&make_upnp_gateway);
    if (config.method != PortMappingMethod::Upnp)
        methods.push_back(&make_natpmp_gateway);

    for (size_t i = 0; i < methods.size(); i++) {
        std::unique_ptr<Gateway> gateway = methods[i](request);
        std::optional<PortReport> absent = gateway->discover();
        if (absent) {
            if (stopped())
                return;
            /* Only the last method's absence is a failure: no gateway answered at all. */
            if (i + 1 == methods.size())
                absent->result = PortResult::Failed;
            report(*absent);
            continue;
        }
        if (!start_mapping())
            return;
        const PortReport outcome = gateway->map();
        report(outcome);
        if (outcome.result == PortResult::Opened) {
            keep(*gateway, outcome);
            report(gateway->unmap());
        } else if (outcome.result == PortResult::AlreadyOpen) {
            wait_for_stop(0);
            PortReport kept = outcome;
            kept.action = PortAction::Close;
            kept.result = PortResult::Kept;
            report(kept);
        }
        return;
    }
}

/* Renews the mapping at half its lease until stop; a failed renewal is
 * retried sooner. A permanent lease (0) needs no renewal. Reports a renewal
 * only when its result differs from the previous one. */
void MappingSession::keep(Gateway &gateway, const PortReport &opened) {
    PortResult last = opened.result;
    uint32_t lease_s = opened.lease_s;
    for (;;) {
        const uint32_t half_s = std::max<uint32_t>(1, lease_s / 2);
        const uint32_t wait_s = lease_s == 0                 ? 0
                                : last == PortResult::Opened ? half_s
                                                             : std::min(kRenewRetryS, half_s);
        if (wait_for_stop(wait_s))
            return;
        PortReport renewed = gateway.renew();
        if (renewed.result == PortResult::Opened)
            lease_s = renewed.lease_s;
        if (renewed.result != last)
            report(renewed);
        last = renewed.result;
    }
}

class PortMapper::Impl final : public PortJob {
public:
    Impl(PortEvents *events, const PortMappingConfig &config)
        : session_(std::make_shared<MappingSession>(events, config)) {
        thread_ = std::thread([session = session_] { session->run(); });
    }

    ~Impl() {
        if (thread_.joinable())
            thread_.join();
    }

    Impl(const Impl &) = delete;
    Impl &operator=(const Impl &) = delete;

    void begin_close() override {
        {
            std::lock_guard<std::mutex> locker(session_->lock);
            if (session_->stop)
                return;
            session_->stop = true;
            close_deadline_us_ = g_get_monotonic_time() + session_->config.close_timeout_us;
        }
        session_->wake.notify_all();
    }

    /* Waits for the worker to undo its mapping, at most until the close
     * deadline; a worker still looking for a gateway has nothing to undo
     * and is not waited for: it ends on its own, reporting nothing. */
    void close() override {
        begin_close();
        bool finished = false;
        PortEvents *events = nullptr;
        {
            std::unique_lock<std::mutex> locker(session_->lock);
            const auto deadline = std::chrono::steady_clock::now() +
                                  std::chrono::microseconds(std::max<int64_t>(
                                      0, close_deadline_us_ - g_get_monotonic_time()));
            session_->wake.wait_until(locker, deadline,
                                      [this] { return session_->finished || !session_->mapping; });
            finished = session_->finished;
            if (!finished) {
                /* Give up on the worker: no report may follow this close(). */
                session_->wake.wait(locker, [this] { return session_->delivering == 0; });
                events = std::exchange(session_->events, nullptr);
                if (!session_->mapping)
                    events = nullptr; /* nothing to undo, nothing to report */
            }
        }
        if (finished) {
            thread_.join();
            return;
        }
        thread_.detach();
        if (events) {
            PortReport timeout;
            timeout.backend = session_->config.method == PortMappingMethod::NatPmp
                                  ? PortBackend::NatPmp
                                  : PortBackend::Upnp;
            timeout.action = PortAction::Close;
            timeout.result = PortResult::Failed;
            timeout.port = session_->config.port;
            timeout.error = make_error(
                Errc::NetworkFailure,
                "the gateway did not answer within the close timeout; the mapping may stay "
                "until its lease runs out");
            events->port_report(timeout);
        }
    }

private:
    std::shared_ptr<MappingSession> session_;
    std::thread thread_;
    /* Only touched by the controlling thread: set by begin_close(). */
    int64_t close_deadline_us_ = 0;
};

Status PortMapper::open(const PortMappingConfig &config) {
    return start(config.port, "the gateway mapping",
                 [&config](PortEvents *events) { return std::make_unique<Impl>(events, config); });
}

} // namespace wmstream::reach
