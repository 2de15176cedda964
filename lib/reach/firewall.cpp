/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reach/firewall.h"

#include "base/event-loop.h"
#include "reach/rule-registry.h"

#include <gio/gio.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <utility>

namespace wmstream::reach {

namespace {

/* firewalld's D-Bus API (firewalld doc/xml/firewalld.dbus.xml). */
constexpr const char *kName = "org.fedoraproject.FirewallD1";
constexpr const char *kPath = "/org/fedoraproject/FirewallD1";
constexpr const char *kMainInterface = "org.fedoraproject.FirewallD1";
constexpr const char *kZoneInterface = "org.fedoraproject.FirewallD1.zone";
constexpr const char *kNotAuthorized = "org.fedoraproject.FirewallD1.NotAuthorizedException";
constexpr const char *kProtocol = "tcp";
/* The renewal checks are this fraction of the rule's timeout apart (at least kMinTickMs). */
constexpr uint32_t kTicksPerTimeout = 4;
constexpr uint32_t kMinTickMs = 500;

/* The text of a D-Bus error without the remote error name. */
std::string stripped_message(const GError *error) {
    g_autoptr(GError) copy = g_error_copy(error);
    g_dbus_error_strip_remote_error(copy);
    return copy->message;
}

/* firewalld puts its error code first in the message: "ALREADY_ENABLED: '8554:tcp' already in
 * 'public'". */
bool has_code(const std::string &text, const char *code) {
    return text.compare(0, std::strlen(code), code) == 0;
}

} // namespace

/* The worker: an EventLoop. Every member below the "Worker thread only"
 * line is touched only on its thread, from callbacks. */
class Firewall::Impl final : public PortJob {
public:
    Impl(PortEvents *events, FirewallConfig config)
        : events_(events), config_(std::move(config)), cancellable_(g_cancellable_new()) {
        loop_.start([this] { start(); }, [this] { finish(); });
    }

    ~Impl() {
        loop_.stop();
        g_object_unref(cancellable_);
    }

    Impl(const Impl &) = delete;
    Impl &operator=(const Impl &) = delete;

    void begin_close() override {
        {
            std::lock_guard<std::mutex> locker(lock_);
            if (close_started_)
                return;
            close_started_ = true;
            close_deadline_us_ = g_get_monotonic_time() + config_.close_timeout_us;
        }
        loop_.post([this] { on_close_requested(); });
    }

    /* Waits for the close sequence (bounded), then stops the thread. */
    void close() override {
        begin_close();
        {
            std::unique_lock<std::mutex> locker(lock_);
            while (!finished_) {
                const int64_t left_us = close_deadline_us_ - g_get_monotonic_time();
                if (left_us <= 0)
                    break;
                done_.wait_for(locker, std::chrono::microseconds(left_us));
            }
        }
        loop_.post([this] { on_stop(); });
        loop_.join(); /* on_stop() quits once no call is pending */
    }

private:
    using Step = void (Impl::*)(GVariant *reply, const GError *error);
    struct PendingCall {
        Impl *impl;
        Step step;
    };

    enum class Phase {
        Connecting, /* waiting for the bus connection */
        Idle,       /* no call pending */
        Opening,    /* getDefaultZone / queryPort / addPort pending */
        Renewing,   /* renewal: the other form's add pending */
        Retiring,   /* renewal: the old form's remove pending */
        Removing,   /* removePort / removeRichRule pending */
        Done,       /* the close sequence is over */
    };

    /* The loop's exit hook. */
    void finish() {
        if (tick_) {
            g_source_destroy(tick_);
            g_source_unref(tick_);
        }
        if (!bus_)
            return;
        if (reloaded_id_)
            g_dbus_connection_signal_unsubscribe(bus_, reloaded_id_);
        if (port_removed_id_)
            g_dbus_connection_signal_unsubscribe(bus_, port_removed_id_);
        if (watch_id_)
            g_bus_unwatch_name(watch_id_);
        g_dbus_connection_close(bus_, nullptr, nullptr, nullptr);
        g_clear_object(&bus_);
    }

    PortReport make_report(PortAction action, PortResult result) const {
        PortReport report{PortBackend::Firewalld, action, result, config_.port};
        report.protocol = kProtocol;
        report.zone = zone_.empty() ? config_.zone : zone_;
        return report;
    }

    PortReport make_report(PortAction action, PortResult result, Error error) const {
        PortReport report = make_report(action, result);
        report.error = std::move(error);
        return report;
    }

    /* A failed call as a report: the D-Bus error name, firewalld's text with
     * the remote name stripped, and the Errc it documents. */
    PortReport error_report(PortAction action, const GError *error) const {
        g_autofree char *remote = g_dbus_error_get_remote_error(error);
        const std::string text = stripped_message(error);
        const std::string name = remote ? remote : "";

        PortResult result = PortResult::Failed;
        Errc code = Errc::Failed;
        if (name == kNotAuthorized || has_code(text, "NOT_AUTHORIZED") ||
            g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED) ||
            g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_AUTH_FAILED)) {
            code = Errc::AccessDenied;
        } else if (has_code(text, "INVALID_ZONE")) {
            code = Errc::InvalidArgument;
        } else if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
                   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)) {
            result = PortResult::Unavailable;
            code = Errc::NetworkFailure;
        }
        PortReport report = make_report(action, result, make_error(code, "firewalld: " + text));
        report.error_name = name;
        return report;
    }

    void report(const PortReport &report) {
        if (events_)
            events_->port_report(report);
    }

    void call(const char *interface, const char *method, GVariant *parameters,
              const char *reply_type, Step step) {
        ++pending_;
        g_dbus_connection_call(bus_, kName, kPath, interface, method, parameters,
                               G_VARIANT_TYPE(reply_type), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                               config_.call_timeout_ms, cancellable_, &Impl::on_call_done,
                               new PendingCall{this, step});
    }

    static void on_call_done(GObject *source, GAsyncResult *result, gpointer data) {
        std::unique_ptr<PendingCall> call(static_cast<PendingCall *>(data));
        Impl *self = call->impl;
        g_autoptr(GError) error = nullptr;
        g_autoptr(GVariant) reply =
            g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
        --self->pending_;
        if (self->stopping_) {
            self->quit_when_idle();
            return;
        }
        if (self->phase_ == Phase::Done)
            return; /* closed without waiting for it: it could not open anything */
        (self->*call->step)(reply, error);
    }

    /* Connect */

    void start() {
        if (is_loopback_address(config_.bind_address)) {
            report(make_report(PortAction::Open, PortResult::Unavailable,
                               make_error(Errc::InvalidRequest,
                                          "the listener is bound to loopback: no rule needed")));
            phase_ = Phase::Idle;
            return;
        }
        if (config_.rule_timeout_s > 0) {
            const uint32_t tick_ms = std::max(
                kMinTickMs, uint32_t(uint64_t(config_.rule_timeout_s) * 1000 / kTicksPerTimeout));
            tick_ = g_timeout_source_new(tick_ms);
            g_source_set_callback(tick_, &Impl::on_tick, this, nullptr);
            g_source_attach(tick_, loop_.context());
        }
        g_autoptr(GError) error = nullptr;
        g_autofree char *address =
            g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, cancellable_, &error);
        if (!address) {
            bus_unavailable(error);
            return;
        }
        ++pending_;
        g_dbus_connection_new_for_address(
            address,
            static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
            nullptr, cancellable_, &Impl::on_connected, this);
    }

    void bus_unavailable(const GError *error) {
        phase_ = Phase::Idle;
        report(make_report(
            PortAction::Open, PortResult::Unavailable,
            make_error(Errc::NetworkFailure, std::string("no system bus: ") + error->message)));
    }

    static void on_connected(GObject *, GAsyncResult *result, gpointer data) {
        Impl *self = static_cast<Impl *>(data);
        g_autoptr(GError) error = nullptr;
        GDBusConnection *bus = g_dbus_connection_new_for_address_finish(result, &error);
        --self->pending_;
        self->bus_ = bus; /* closed when the thread ends */
        if (self->stopping_) {
            self->quit_when_idle();
            return;
        }
        if (self->phase_ == Phase::Done)
            return;
        if (!bus) {
            self->bus_unavailable(error);
            return;
        }
        self->phase_ = Phase::Idle;
        /* A reload drops every runtime rule: open again. */
        self->reloaded_id_ = g_dbus_connection_signal_subscribe(
            bus, kName, kMainInterface, "Reloaded", kPath, nullptr, G_DBUS_SIGNAL_FLAGS_NONE,
            &Impl::on_reloaded, self, nullptr);
        /* A rule that was there before us went (removed, or timed out: another process's that
         * crashed): open ours. */
        self->port_removed_id_ = g_dbus_connection_signal_subscribe(
            bus, kName, kZoneInterface, "PortRemoved", kPath, nullptr, G_DBUS_SIGNAL_FLAGS_NONE,
            &Impl::on_port_removed, self, nullptr);
        /* Appeared: open (also after a restart, which drops runtime rules too). */
        self->watch_id_ =
            g_bus_watch_name_on_connection(bus, kName, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                           &Impl::on_appeared, &Impl::on_vanished, self, nullptr);
    }

    static void on_appeared(GDBusConnection *, const char *, const char *, gpointer data) {
        static_cast<Impl *>(data)->open_port();
    }

    static void on_vanished(GDBusConnection *, const char *, gpointer data) {
        Impl *self = static_cast<Impl *>(data);
        if (self->closing_)
            return;
        /* Its runtime rules went with it: nothing of ours is left to remove. */
        self->forget_rule();
        self->already_open_ = false;
        self->report(self->make_report(
            PortAction::Open, PortResult::Unavailable,
            make_error(Errc::NetworkFailure, std::string(kName) + " is not on the system bus")));
    }

    static void on_reloaded(GDBusConnection *, const char *, const char *, const char *,
                            const char *, GVariant *, gpointer data) {
        static_cast<Impl *>(data)->open_port();
    }

    static void on_port_removed(GDBusConnection *, const char *, const char *, const char *,
                                const char *, GVariant *parameters, gpointer data) {
        Impl *self = static_cast<Impl *>(data);
        const char *zone = nullptr, *port = nullptr, *protocol = nullptr;
        if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)")))
            return;
        g_variant_get(parameters, "(&s&s&s)", &zone, &port, &protocol);
        if (self->already_open_ && self->zone_ == zone &&
            std::to_string(self->config_.port) == port && std::strcmp(protocol, kProtocol) == 0)
            self->open_port();
    }

    /* The rule in this process's registry. */
    RuleKey rule_key() const { return RuleKey{zone_, config_.port, kProtocol}; }

    /* Stop holding a rule that is gone (firewalld reloaded or went away, or its adding failed). */
    void forget_rule() {
        if (!rule_)
            return;
        RuleRegistry::process().drop(rule_);
        release_rule();
    }

    /* Stop holding the rule without removing it. */
    void release_rule() {
        RuleForm unused = RuleForm::Port;
        (void)RuleRegistry::process().release(rule_, &unused);
        rule_.reset();
    }

    /* Ask firewalld to add @p form of the rule, with the timeout. */
    void add_rule(RuleForm form, Step step) {
        const std::string port = std::to_string(config_.port);
        const auto timeout =
            static_cast<gint32>(std::min<uint32_t>(config_.rule_timeout_s, G_MAXINT32));
        if (form == RuleForm::Port)
            call(kZoneInterface, "addPort",
                 g_variant_new("(sssi)", zone_.c_str(), port.c_str(), kProtocol, timeout), "(s)",
                 step);
        else
            call(kZoneInterface, "addRichRule",
                 g_variant_new("(ssi)", zone_.c_str(), rich_rule().c_str(), timeout), "(s)", step);
    }

    /* Ask firewalld to remove @p form of the rule. */
    void remove_rule(RuleForm form, Step step) {
        const std::string port = std::to_string(config_.port);
        if (form == RuleForm::Port)
            call(kZoneInterface, "removePort",
                 g_variant_new("(sss)", zone_.c_str(), port.c_str(), kProtocol), "(s)", step);
        else
            call(kZoneInterface, "removeRichRule",
                 g_variant_new("(ss)", zone_.c_str(), rich_rule().c_str()), "(s)", step);
    }

    std::string rich_rule() const {
        return "rule port port=\"" + std::to_string(config_.port) + "\" protocol=\"" + kProtocol +
               "\" accept";
    }

    /* Open: [getDefaultZone] → a rule of this process, or queryPort → addPort */

    void open_port() {
        if (closing_)
            return;
        if (phase_ != Phase::Idle) {
            reopen_ = true; /* after the calls pending now */
            return;
        }
        forget_rule();
        phase_ = Phase::Opening;
        already_open_ = false;
        last_renewal_ = PortResult::Opened;
        if (config_.zone.empty()) {
            call(kMainInterface, "getDefaultZone", nullptr, "(s)", &Impl::on_default_zone);
        } else {
            zone_ = config_.zone;
            join_or_query();
        }
    }

    /* Another job of this process holds (or is adding) the rule: share it. */
    void join_or_query() {
        rule_ = RuleRegistry::process().join(rule_key());
        if (rule_)
            open_done(make_report(PortAction::Open, PortResult::Opened));
        else
            query_port();
    }

    void on_default_zone(GVariant *reply, const GError *error) {
        if (!reply) {
            open_done(error_report(PortAction::Open, error));
            return;
        }
        const char *zone = nullptr;
        g_variant_get(reply, "(&s)", &zone);
        zone_ = zone;
        join_or_query();
    }

    void query_port() {
        call(kZoneInterface, "queryPort",
             g_variant_new("(sss)", zone_.c_str(), std::to_string(config_.port).c_str(), kProtocol),
             "(b)", &Impl::on_query_port);
    }

    void on_query_port(GVariant *reply, const GError *error) {
        if (!reply) {
            open_done(error_report(PortAction::Open, error));
            return;
        }
        gboolean open = FALSE;
        g_variant_get(reply, "(b)", &open);
        if (open) {
            /* Added by another job of this process since join_or_query(): share it. */
            rule_ = RuleRegistry::process().join(rule_key());
            already_open_ = !rule_;
            open_done(make_report(PortAction::Open,
                                  rule_ ? PortResult::Opened : PortResult::AlreadyOpen));
            return;
        }
        bool first = false;
        rule_ = RuleRegistry::process().claim(rule_key(), config_.rule_timeout_s, &first);
        if (!first) {
            open_done(make_report(PortAction::Open, PortResult::Opened));
            return;
        }
        adding_ = true;
        add_rule(RuleForm::Port, &Impl::on_add_port);
    }

    void on_add_port(GVariant *reply, const GError *error) {
        adding_ = false;
        if (reply) {
            const char *zone = nullptr;
            g_variant_get(reply, "(&s)", &zone);
            zone_ = zone;
            RuleRegistry::process().added(rule_, RuleForm::Port);
            open_done(make_report(PortAction::Open, PortResult::Opened));
            return;
        }
        forget_rule();
        if (has_code(stripped_message(error), "ALREADY_ENABLED")) {
            /* Added by another process since queryPort: theirs, not ours. */
            already_open_ = true;
            open_done(make_report(PortAction::Open, PortResult::AlreadyOpen));
            return;
        }
        open_done(error_report(PortAction::Open, error));
    }

    void open_done(const PortReport &outcome) {
        phase_ = Phase::Idle;
        report(outcome);
        resume();
    }

    /* After a sequence of calls: what came meanwhile. */
    void resume() {
        if (closing_) {
            remove_port();
        } else if (reopen_) {
            reopen_ = false;
            open_port();
        }
    }

    /* Renew: add the other form with a fresh timeout, then remove the one in place; the port
     * is open throughout. Whichever job of this process comes first renews a shared rule. */

    static gboolean on_tick(gpointer data) {
        static_cast<Impl *>(data)->renew();
        return G_SOURCE_CONTINUE;
    }

    void renew() {
        if (!rule_ || phase_ != Phase::Idle || closing_)
            return;
        if (!RuleRegistry::process().alive(rule_)) {
            open_port(); /* dropped: its first holder failed to add it, or firewalld reloaded */
            return;
        }
        const std::optional<RuleForm> form = RuleRegistry::process().begin_renew(rule_);
        if (!form)
            return;
        phase_ = Phase::Renewing;
        renewing_from_ = *form;
        add_rule(other_form(*form), &Impl::on_renew_added);
    }

    void on_renew_added(GVariant *reply, const GError *error) {
        if (!reply) {
            /* Retried at the next tick; the form in place has half its timeout left. */
            RuleRegistry::process().end_renew(rule_, std::nullopt);
            renewed(error_report(PortAction::Renew, error));
            phase_ = Phase::Idle;
            resume();
            return;
        }
        RuleRegistry::process().end_renew(rule_, other_form(renewing_from_));
        renewed(make_report(PortAction::Renew, PortResult::Opened));
        phase_ = Phase::Retiring;
        remove_rule(renewing_from_, &Impl::on_renew_removed);
    }

    /* The old form is gone (NOT_ENABLED: it timed out), or times out by itself. */
    void on_renew_removed(GVariant *, const GError *) {
        phase_ = Phase::Idle;
        resume();
    }

    /* Reports a renewal only when its result differs from the previous one. */
    void renewed(const PortReport &outcome) {
        if (outcome.result != last_renewal_)
            report(outcome);
        last_renewal_ = outcome.result;
    }

    /* Close: removePort, only for a rule we added */

    void on_close_requested() {
        closing_ = true;
        /* A pending addPort or removePort is awaited (close() bounds the
         * wait), and so is a renewal: their answers decide what is left to remove. Anything else
         * pending (connecting, getDefaultZone, queryPort) cannot have opened
         * the port: close now, its answer will be ignored. */
        if (!adding_ && !renewing())
            remove_port();
    }

    /* The last job of this process holding the rule removes it; the others keep it. */
    void remove_port() {
        if (phase_ == Phase::Done || phase_ == Phase::Removing)
            return;
        if (rule_) {
            RuleForm form = RuleForm::Port;
            const Release release = RuleRegistry::process().release(rule_, &form);
            rule_.reset();
            if (release == Release::Remove) {
                phase_ = Phase::Removing;
                remove_rule(form, &Impl::on_remove_port);
                return;
            }
            report(make_report(PortAction::Close,
                               release == Release::Shared ? PortResult::Kept : PortResult::Closed));
        } else if (already_open_) {
            report(make_report(PortAction::Close, PortResult::Kept));
        }
        close_done();
    }

    void on_remove_port(GVariant *reply, const GError *error) {
        if (reply || has_code(stripped_message(error), "NOT_ENABLED"))
            report(make_report(PortAction::Close, PortResult::Closed));
        else
            report(error_report(PortAction::Close, error));
        close_done();
    }

    void close_done() {
        phase_ = Phase::Done;
        {
            std::lock_guard<std::mutex> locker(lock_);
            finished_ = true;
        }
        done_.notify_all();
    }

    /* Stop: after close_done(), or when close() stopped waiting */

    void on_stop() {
        if (adding_ || phase_ == Phase::Removing || renewing()) {
            report(make_report(PortAction::Close, PortResult::Failed,
                               make_error(Errc::Failed,
                                          "firewalld did not answer within the close timeout; a "
                                          "runtime rule may stay until it times out or "
                                          "firewalld reloads")));
        }
        abandon_rule();
        stopping_ = true;
        g_cancellable_cancel(cancellable_);
        quit_when_idle();
    }

    /* The close timed out with a call on the rule pending: its answer will be ignored. */
    void abandon_rule() {
        if (!rule_)
            return;
        if (phase_ == Phase::Renewing)
            RuleRegistry::process().end_renew(rule_, std::nullopt);
        if (renewing())
            release_rule(); /* a form is in place: it times out */
        else
            forget_rule(); /* its addPort: not known to be in place */
    }

    bool renewing() const { return phase_ == Phase::Renewing || phase_ == Phase::Retiring; }

    /* Cancelled calls still complete (with G_IO_ERROR_CANCELLED) on this
     * context: quit once none is left, so that none outlives the loop. */
    void quit_when_idle() {
        if (pending_ == 0)
            loop_.quit();
    }

    PortEvents *const events_;
    const FirewallConfig config_;
    GCancellable *const cancellable_;

    std::mutex lock_;
    std::condition_variable done_;
    /* Protected by lock_ */
    bool close_started_ = false;
    /* Protected by lock_: valid once close_started_. */
    int64_t close_deadline_us_ = 0;
    /* Protected by lock_: the close sequence is over (done_ is notified). */
    bool finished_ = false;

    /* Worker thread only. */
    GDBusConnection *bus_ = nullptr;
    guint reloaded_id_ = 0;
    guint port_removed_id_ = 0;
    guint watch_id_ = 0;
    GSource *tick_ = nullptr; /* the renewal check, when the rule has a timeout */
    Phase phase_ = Phase::Connecting;
    int pending_ = 0;  /* async calls not completed yet */
    std::string zone_; /* the zone in use, resolved */
    RuleRef rule_;     /* the rule of this process we hold: the last holder removes it */
    RuleForm renewing_from_ = RuleForm::Port;      /* Renewing: the form being replaced */
    PortResult last_renewal_ = PortResult::Opened; /* the previous renewal's result */
    bool already_open_ = false;                    /* the rule was there before us: keep it */
    bool adding_ = false;                          /* addPort is pending */
    bool reopen_ = false;                          /* a reload came while calls were pending */
    bool closing_ = false;                         /* begin_close() was called */
    bool stopping_ = false;                        /* on_stop ran: ignore every answer */

    /* The worker thread: started by the constructor, once every member above exists. */
    EventLoop loop_;
};

Status Firewall::open(const FirewallConfig &config) {
    return start(config.port, "the firewall rule",
                 [&config](PortEvents *events) { return std::make_unique<Impl>(events, config); });
}

} // namespace wmstream::reach
