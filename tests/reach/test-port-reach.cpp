/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the port reachability core without root or real daemons
 * (those are test-firewalld.sh and test-miniupnpd.sh): argument errors, the
 * loopback rule, no system bus, and a scripted firewalld on a private bus
 * (GTestDBus) for what the real one cannot be made to do on demand: an
 * addPort that loses the race (ALREADY_ENABLED after queryPort said no) and
 * an addPort that never answers while the element closes. Also the sharing
 * of one firewalld rule between the Firewalls of a process (RuleRegistry),
 * and the description that marks our gateway mappings.
 */
#include "reach/firewall.h"
#include "reach/mapping-identity.h"
#include "reach/port-mapper.h"
#include "reach/rule-registry.h"
#include "reach/types.h"

#include <gio/gio.h>

#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

/** Longest wait for a report, µs. */
constexpr gint64 kWaitUs = 10 * G_USEC_PER_SEC;

/* Collects reports and the threads they came from. */
class Reports final : public wmstream::reach::PortEvents {
public:
    void port_report(const wmstream::reach::PortReport &report) override {
        std::lock_guard<std::mutex> locker(lock_);
        reports_.push_back(report);
        threads_.push_back(std::this_thread::get_id());
    }

    /* Waits (iterating the default main context, where the fake firewalld
     * runs) until @p count reports came; returns them. */
    std::vector<wmstream::reach::PortReport> wait(size_t count) {
        const gint64 deadline = g_get_monotonic_time() + kWaitUs;
        for (;;) {
            {
                std::lock_guard<std::mutex> locker(lock_);
                if (reports_.size() >= count || g_get_monotonic_time() > deadline)
                    return reports_;
            }
            g_main_context_iteration(nullptr, FALSE);
            g_usleep(1000);
        }
    }

    std::vector<wmstream::reach::PortReport> all() {
        std::lock_guard<std::mutex> locker(lock_);
        return reports_;
    }

    bool any_from(std::thread::id thread) {
        std::lock_guard<std::mutex> locker(lock_);
        for (const std::thread::id &id : threads_)
            if (id == thread)
                return true;
        return false;
    }

private:
    std::mutex lock_;
    std::vector<wmstream::reach::PortReport> reports_;
    std::vector<std::thread::id> threads_;
};

void test_to_string() {
    g_assert_cmpstr(to_string(wmstream::reach::PortBackend::Firewalld), ==, "firewalld");
    g_assert_cmpstr(to_string(wmstream::reach::PortBackend::Upnp), ==, "upnp");
    g_assert_cmpstr(to_string(wmstream::reach::PortBackend::NatPmp), ==, "nat-pmp");
    g_assert_cmpstr(to_string(wmstream::reach::PortAction::Open), ==, "open");
    g_assert_cmpstr(to_string(wmstream::reach::PortAction::Renew), ==, "renew");
    g_assert_cmpstr(to_string(wmstream::reach::PortAction::Close), ==, "close");
    g_assert_cmpstr(to_string(wmstream::reach::PortResult::Opened), ==, "opened");
    g_assert_cmpstr(to_string(wmstream::reach::PortResult::AlreadyOpen), ==, "already-open");
    g_assert_cmpstr(to_string(wmstream::reach::PortResult::Closed), ==, "closed");
    g_assert_cmpstr(to_string(wmstream::reach::PortResult::Kept), ==, "kept");
    g_assert_cmpstr(to_string(wmstream::reach::PortResult::Unavailable), ==, "unavailable");
    g_assert_cmpstr(to_string(wmstream::reach::PortResult::Conflict), ==, "conflict");
    g_assert_cmpstr(to_string(wmstream::reach::PortResult::Failed), ==, "failed");
    g_assert_true(wmstream::reach::is_failure(wmstream::reach::PortResult::Conflict));
    g_assert_true(wmstream::reach::is_failure(wmstream::reach::PortResult::Failed));
    g_assert_false(wmstream::reach::is_failure(wmstream::reach::PortResult::Unavailable));
    g_assert_false(wmstream::reach::is_failure(wmstream::reach::PortResult::AlreadyOpen));
}

void test_loopback() {
    for (const char *address : {"127.0.0.1", "127.1.2.3", "::1"})
        g_assert_true(wmstream::reach::is_loopback_address(address));
    for (const char *address : {"", "0.0.0.0", "::", "10.0.0.1", "localhost", "fe80::1"})
        g_assert_false(wmstream::reach::is_loopback_address(address));
}

/* Assert @p opener refuses a Config without a port, opens port 8554 of 127.0.0.1, refuses a
 * second open while open, and closes twice (idempotent). */
template <typename Config, typename Opener>
void check_arguments(Opener &opener) {
    Config config;
    g_assert_true(opener.open(config).error().code == wmstream::Errc::InvalidArgument);
    config.port = 8554;
    config.bind_address = "127.0.0.1";
    g_assert_true(opener.open(config).ok());
    g_assert_true(opener.open(config).error().code == wmstream::Errc::InvalidRequest);
    opener.close();
    opener.close();
}

void test_arguments() {
    Reports reports;
    wmstream::reach::Firewall firewall(&reports);
    check_arguments<wmstream::reach::FirewallConfig>(firewall);
    wmstream::reach::PortMapper mapper(&reports);
    check_arguments<wmstream::reach::PortMappingConfig>(mapper);
}

/* A loopback listener: nothing is asked, Unavailable comes from the worker. */
void test_loopback_unavailable() {
    Reports reports;
    wmstream::reach::Firewall firewall(&reports);
    wmstream::reach::PortMapper mapper(&reports);
    wmstream::reach::FirewallConfig config;
    config.port = 8554;
    config.bind_address = "::1";
    g_assert_true(firewall.open(config).ok());
    wmstream::reach::PortMappingConfig mapping;
    mapping.port = 8554;
    mapping.bind_address = "127.0.0.1";
    g_assert_true(mapper.open(mapping).ok());
    std::vector<wmstream::reach::PortReport> got = reports.wait(2);
    g_assert_cmpuint(got.size(), ==, 2);
    for (const wmstream::reach::PortReport &report : got) {
        g_assert_true(report.result == wmstream::reach::PortResult::Unavailable);
        g_assert_true(report.action == wmstream::reach::PortAction::Open);
        g_assert_cmpuint(report.port, ==, 8554);
        g_assert_true(report.error.has_value());
    }
    g_assert_false(reports.any_from(std::this_thread::get_id()));
    firewall.close();
    mapper.close();
    g_assert_cmpuint(reports.all().size(), ==, 2); /* nothing was opened: nothing to close */
}

void test_no_bus() {
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/wmstream-test-bus", TRUE);
    Reports reports;
    wmstream::reach::Firewall firewall(&reports);
    wmstream::reach::FirewallConfig config;
    config.port = 8554;
    g_assert_true(firewall.open(config).ok());
    std::vector<wmstream::reach::PortReport> got = reports.wait(1);
    g_assert_cmpuint(got.size(), ==, 1);
    g_assert_true(got[0].backend == wmstream::reach::PortBackend::Firewalld);
    g_assert_true(got[0].result == wmstream::reach::PortResult::Unavailable);
    g_assert_true(got[0].error->code == wmstream::Errc::NetworkFailure);
    const gint64 start = g_get_monotonic_time();
    firewall.close();
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC / 2);
    g_assert_cmpuint(reports.all().size(), ==, 1);
}

/* Two holders of one rule: the first close leaves it, the last removes the form in place; a
 * renewal is granted to one holder at a time, only after half the timeout. */
void test_rule_registry() {
    using wmstream::reach::RuleRegistry;
    RuleRegistry &registry = RuleRegistry::process();
    const wmstream::reach::RuleKey key{"public", 8554, "tcp"};
    g_assert_null(registry.join(key).get());
    bool first = false;
    wmstream::reach::RuleRef a = registry.claim(key, 1, &first);
    g_assert_true(first);
    wmstream::reach::RuleRef b = registry.join(key);
    g_assert_true(a == b);
    g_assert_false(registry.begin_renew(a).has_value()); /* not added yet */
    registry.added(a, wmstream::reach::RuleForm::Port);
    g_assert_false(registry.begin_renew(a).has_value()); /* half the timeout has not passed */
    g_usleep(G_USEC_PER_SEC / 2 + 1000);
    g_assert_true(registry.begin_renew(a) == wmstream::reach::RuleForm::Port);
    g_assert_false(registry.begin_renew(b).has_value()); /* a renews it */
    registry.end_renew(a, wmstream::reach::RuleForm::RichRule);
    g_assert_false(registry.begin_renew(b).has_value()); /* just renewed */

    wmstream::reach::RuleForm form = wmstream::reach::RuleForm::Port;
    g_assert_true(registry.release(a, &form) == wmstream::reach::Release::Shared);
    g_assert_true(registry.release(b, &form) == wmstream::reach::Release::Remove);
    g_assert_true(form == wmstream::reach::RuleForm::RichRule);
    g_assert_null(registry.join(key).get());

    /* A dropped rule (its adding failed, or firewalld reloaded): not joined, nothing to remove. */
    wmstream::reach::RuleRef c = registry.claim(key, 1, &first);
    g_assert_true(first);
    registry.drop(c);
    g_assert_false(registry.alive(c));
    g_assert_null(registry.join(key).get());
    g_assert_true(registry.release(c, &form) == wmstream::reach::Release::Gone);
}

/* Our mapping description: stable, names the port, shows no machine ID. */
void test_mapping_description() {
    const std::string description = wmstream::reach::mapping_description(8554);
    g_assert_true(g_regex_match_simple("^wmstream [0-9a-f]{16} 8554$", description.c_str(),
                                       static_cast<GRegexCompileFlags>(0),
                                       static_cast<GRegexMatchFlags>(0)));
    g_assert_true(description == wmstream::reach::mapping_description(8554));
    g_autofree char *machine = nullptr;
    if (g_file_get_contents("/etc/machine-id", &machine, nullptr, nullptr) &&
        std::strlen(machine) > 16)
        g_assert_null(std::strstr(description.c_str(), std::string(machine, 16).c_str()));
}

/* ---- a scripted firewalld on a private bus */

const char *kFirewalldXml = R"(<node>
  <interface name="org.fedoraproject.FirewallD1">
    <method name="getDefaultZone"><arg type="s" direction="out"/></method>
  </interface>
  <interface name="org.fedoraproject.FirewallD1.zone">
    <method name="queryPort">
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="b" direction="out"/>
    </method>
    <method name="addPort">
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="i" direction="in"/><arg type="s" direction="out"/>
    </method>
    <method name="removePort">
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="out"/>
    </method>
  </interface>
</node>)";

/* How the fake answers addPort. */
enum class AddPort {
    AlreadyEnabled, /* someone added it since queryPort */
    NeverAnswer,    /* polkit still asking */
};

struct FakeFirewalld {
    AddPort add_port = AddPort::AlreadyEnabled;
    std::vector<std::string> calls;
    GDBusMethodInvocation *held = nullptr; /* an unanswered addPort */
};

void fake_method_call(GDBusConnection *, const char *, const char *, const char *,
                      const char *method, GVariant *, GDBusMethodInvocation *invocation,
                      gpointer data) {
    FakeFirewalld *fake = static_cast<FakeFirewalld *>(data);
    fake->calls.push_back(method);
    const std::string name = method;
    if (name == "getDefaultZone") {
        g_dbus_method_invocation_return_value(invocation, g_variant_new("(s)", "public"));
    } else if (name == "queryPort") {
        g_dbus_method_invocation_return_value(invocation, g_variant_new("(b)", FALSE));
    } else if (name == "addPort" && fake->add_port == AddPort::NeverAnswer) {
        fake->held = static_cast<GDBusMethodInvocation *>(g_object_ref(invocation));
    } else if (name == "addPort") {
        g_dbus_method_invocation_return_dbus_error(
            invocation, "org.fedoraproject.FirewallD1.Exception",
            "ALREADY_ENABLED: '8554:tcp' already in 'public'");
    } else {
        g_dbus_method_invocation_return_value(invocation, g_variant_new("(s)", "public"));
    }
}

/* Runs @p body with a fake firewalld owning its name on a private bus that
 * DBUS_SYSTEM_BUS_ADDRESS points to. */
template <typename Body>
void with_fake_firewalld(FakeFirewalld &fake, Body body) {
    g_autoptr(GTestDBus) bus = g_test_dbus_new(G_TEST_DBUS_NONE);
    g_test_dbus_up(bus);
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address(bus), TRUE);
    g_autoptr(GError) error = nullptr;
    g_autoptr(GDBusConnection) connection = g_dbus_connection_new_for_address_sync(
        g_test_dbus_get_bus_address(bus),
        static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
        nullptr, nullptr, &error);
    g_assert_no_error(error);
    g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(kFirewalldXml, &error);
    g_assert_no_error(error);
    static const GDBusInterfaceVTable vtable = {fake_method_call, nullptr, nullptr, {}};
    std::vector<guint> objects;
    for (GDBusInterfaceInfo **interface = node->interfaces; *interface; interface++) {
        objects.push_back(
            g_dbus_connection_register_object(connection, "/org/fedoraproject/FirewallD1",
                                              *interface, &vtable, &fake, nullptr, &error));
        g_assert_no_error(error);
    }
    bool owned = false;
    const guint owner = g_bus_own_name_on_connection(
        connection, "org.fedoraproject.FirewallD1", G_BUS_NAME_OWNER_FLAGS_NONE,
        [](GDBusConnection *, const char *, gpointer data) { *static_cast<bool *>(data) = true; },
        nullptr, &owned, nullptr);
    const gint64 deadline = g_get_monotonic_time() + kWaitUs;
    while (!owned && g_get_monotonic_time() < deadline)
        g_main_context_iteration(nullptr, TRUE);
    g_assert_true(owned);

    body();

    g_bus_unown_name(owner);
    for (guint id : objects)
        g_dbus_connection_unregister_object(connection, id);
    g_clear_object(&fake.held);
    g_dbus_connection_close_sync(connection, nullptr, nullptr);
    g_test_dbus_down(bus);
}

/* queryPort said no, addPort said ALREADY_ENABLED: someone else's rule,
 * reported already-open, kept (not removed) at close. */
void test_already_enabled_race() {
    FakeFirewalld fake;
    with_fake_firewalld(fake, [&fake] {
        Reports reports;
        wmstream::reach::Firewall firewall(&reports);
        wmstream::reach::FirewallConfig config;
        config.port = 8554;
        g_assert_true(firewall.open(config).ok());
        std::vector<wmstream::reach::PortReport> got = reports.wait(1);
        g_assert_cmpuint(got.size(), ==, 1);
        g_assert_true(got[0].result == wmstream::reach::PortResult::AlreadyOpen);
        g_assert_cmpstr(got[0].zone.c_str(), ==, "public");
        /* The fake answers only while this thread iterates: close from another. */
        std::thread closer([&firewall] { firewall.close(); });
        got = reports.wait(2);
        closer.join();
        g_assert_cmpuint(got.size(), ==, 2);
        g_assert_true(got[1].action == wmstream::reach::PortAction::Close);
        g_assert_true(got[1].result == wmstream::reach::PortResult::Kept);
        const std::vector<std::string> expected = {"getDefaultZone", "queryPort", "addPort"};
        g_assert_true(fake.calls == expected); /* no removePort */
    });
}

/* addPort never answers (polkit still asking): close waits close_timeout,
 * then reports that a rule may stay. */
void test_close_timeout() {
    FakeFirewalld fake;
    fake.add_port = AddPort::NeverAnswer;
    with_fake_firewalld(fake, [&fake] {
        Reports reports;
        wmstream::reach::Firewall firewall(&reports);
        wmstream::reach::FirewallConfig config;
        config.port = 8554;
        config.close_timeout_us = 300000;
        g_assert_true(firewall.open(config).ok());
        const gint64 deadline = g_get_monotonic_time() + kWaitUs;
        while (!fake.held && g_get_monotonic_time() < deadline)
            g_main_context_iteration(nullptr, TRUE);
        g_assert_nonnull(fake.held);
        g_assert_cmpuint(reports.all().size(), ==, 0);

        const gint64 start = g_get_monotonic_time();
        firewall.close();
        const gint64 took = g_get_monotonic_time() - start;
        g_assert_cmpint(took, >=, 300000);
        g_assert_cmpint(took, <, 1500000);
        std::vector<wmstream::reach::PortReport> got = reports.all();
        g_assert_cmpuint(got.size(), ==, 1);
        g_assert_true(got[0].action == wmstream::reach::PortAction::Close);
        g_assert_true(got[0].result == wmstream::reach::PortResult::Failed);
        g_assert_true(got[0].error->code == wmstream::Errc::Failed);
    });
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/port-reach/to-string", test_to_string);
    g_test_add_func("/port-reach/loopback-address", test_loopback);
    g_test_add_func("/port-reach/argument-errors", test_arguments);
    g_test_add_func("/port-reach/loopback-unavailable", test_loopback_unavailable);
    g_test_add_func("/firewall/rule-registry", test_rule_registry);
    g_test_add_func("/port-mapper/description", test_mapping_description);
    g_test_add_func("/firewall/no-system-bus", test_no_bus);
    g_test_add_func("/firewall/already-enabled-race", test_already_enabled_race);
    g_test_add_func("/firewall/close-timeout", test_close_timeout);
    return g_test_run();
}
