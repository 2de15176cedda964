/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of broadcast::Broadcast (lib/broadcast/broadcast.h), wmnetsink's core
 * without GStreamer: open on port 0 of loopback, the URLs, one real HTTP
 * client (GSocketClient) served and dropped at close, the failures of each
 * open step, and port reachability: forwarded reports in a build with it,
 * the refusal in a build without.
 */
#include "broadcast/broadcast.h"
#include "proto/asf.h"
#include "test-data.h"

#include <gio/gio.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

using namespace wmstream;

namespace {

/** Longest wait for an event the test expects (generous: ASan on a loaded machine). */
constexpr auto kEventWait = std::chrono::seconds(20);
/** Timeout of every blocking client call, s. */
constexpr guint kClientTimeoutS = 5;

/** Records every event, from whichever thread. */
class Recorder final : public broadcast::BroadcastEvents {
public:
    void opened(uint16_t port, const std::string &host_url) override {
        std::lock_guard<std::mutex> locker(lock_);
        opened_.emplace_back(port, host_url);
    }
    void client_added(const server::ClientInfo &client) override {
        record([&] { added_.push_back(client); });
    }
    void client_removed(const server::ClientInfo &, server::RemoveReason reason) override {
        record([&] { removed_.push_back(reason); });
    }
    void client_resolved(const server::ClientInfo &) override {}
    void warning(const Error &) override {}
    void authorize(const server::AuthorizationRequest &) override {}
    void port_report(const reach::PortReport &report) override {
        record([&] { reports_.push_back(report); });
    }
    void external_changed() override {
        record([&] { ++external_changes_; });
    }

    /** Waits until @p done() holds (with the lock held); false after kEventWait. */
    template <typename Done>
    bool wait(Done done) {
        std::unique_lock<std::mutex> locker(lock_);
        return cond_.wait_for(locker, kEventWait, done);
    }

    std::mutex lock_;
    std::condition_variable cond_;
    /* Protected by lock_ */
    std::vector<std::pair<uint16_t, std::string>> opened_;
    std::vector<server::ClientInfo> added_;
    std::vector<server::RemoveReason> removed_;
    std::vector<reach::PortReport> reports_;
    int external_changes_ = 0;

private:
    template <typename Change>
    void record(Change change) {
        std::lock_guard<std::mutex> locker(lock_);
        change();
        cond_.notify_all();
    }
};

/** Compares texts held by temporaries (g_assert_cmpstr would keep a dangling pointer). */
void assert_text(const std::string &actual, const std::string &expected) {
    g_assert_cmpstr(actual.c_str(), ==, expected.c_str());
}

broadcast::BroadcastConfig loopback() {
    broadcast::BroadcastConfig config;
    config.server.address = "127.0.0.1";
    config.server.port = 0;
    return config;
}

/** The stream header of asfmux streamable=true output (tests/data/README.md). */
std::vector<uint8_t> stream_header() {
    std::vector<uint8_t> bytes = test::load_bytes("asfmux-wmv2.asf");
    const auto header = proto::asf::parse_header(bytes.data(), bytes.size());
    g_assert_true(header.ok());
    bytes.resize(header->total_size);
    return bytes;
}

/** A plain HTTP client of 127.0.0.1:@p port (GSocketClient), connected while it lives. */
class HttpClient {
public:
    explicit HttpClient(uint16_t port) {
        g_autoptr(GSocketClient) client = g_socket_client_new();
        g_socket_client_set_timeout(client, kClientTimeoutS);
        g_autoptr(GError) error = nullptr;
        connection_ = g_socket_client_connect_to_host(client, "127.0.0.1", port, nullptr, &error);
        g_assert_no_error(error);
    }
    ~HttpClient() { g_object_unref(connection_); }
    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;

    /** Sends a GET and returns the response head (up to the blank line); fails the test on a
     *  timeout or an early close. */
    std::string get_head() {
        const std::string request = "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/7.88.1\r\n\r\n";
        g_autoptr(GError) error = nullptr;
        GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection_));
        g_assert_true(g_output_stream_write_all(out, request.data(), request.size(), nullptr,
                                                nullptr, &error));
        g_assert_no_error(error);
        GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection_));
        std::string data;
        while (data.find("\r\n\r\n") == std::string::npos) {
            char chunk[4096];
            const gssize got = g_input_stream_read(in, chunk, sizeof chunk, nullptr, &error);
            g_assert_no_error(error);
            g_assert_cmpint(got, >, 0);
            data.append(chunk, static_cast<size_t>(got));
        }
        return data.substr(0, data.find("\r\n\r\n") + 4);
    }

private:
    GSocketConnection *connection_ = nullptr;
};

/** True when nothing listens on 127.0.0.1:@p port any more. */
bool refused(uint16_t port) {
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_socket_client_set_timeout(client, kClientTimeoutS);
    g_autoptr(GError) error = nullptr;
    g_autoptr(GSocketConnection) connection =
        g_socket_client_connect_to_host(client, "127.0.0.1", port, nullptr, &error);
    return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

void test_open_serve_close() {
    Recorder events;
    broadcast::Broadcast sink(&events);
    g_assert_cmpuint(sink.port(), ==, 0);
    assert_text(sink.host_url(), "");

    const broadcast::OpenResult opened = sink.open(loopback());
    g_assert_true(bool(opened));
    const uint16_t port = opened.port();
    g_assert_cmpuint(port, !=, 0);
    g_assert_cmpuint(sink.port(), ==, port);
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
    assert_text(sink.host_url(), url);
    assert_text(sink.reachable_url(), url);
    assert_text(sink.external_address(), "");
    g_assert_cmpuint(sink.external_port(), ==, 0);
    {
        std::lock_guard<std::mutex> locker(events.lock_);
        g_assert_cmpuint(events.opened_.size(), ==, 1);
        g_assert_cmpuint(events.opened_[0].first, ==, port);
        assert_text(events.opened_[0].second, url);
    }

    sink.activate();
    const std::vector<uint8_t> header = stream_header();
    g_assert_true(sink.server().set_header(header.data(), header.size()).ok());
    HttpClient client(port);
    const std::string head = client.get_head();
    g_assert_true(g_str_has_prefix(head.c_str(), "HTTP/1.0 200"));
    g_assert_nonnull(strstr(head.c_str(), "Content-Type: video/x-ms-asf\r\n"));
    g_assert_true(events.wait([&] { return events.added_.size() == 1; }));
    g_assert_cmpuint(sink.server().num_clients(), ==, 1);

    /* Close drops the client, releases the port and forgets the URLs. */
    sink.close();
    {
        std::lock_guard<std::mutex> locker(events.lock_);
        g_assert_cmpuint(events.removed_.size(), ==, 1);
        g_assert_true(events.removed_[0] == server::RemoveReason::Disconnected);
        g_assert_cmpuint(events.reports_.size(), ==, 0);
    }
    g_assert_cmpuint(sink.port(), ==, 0);
    assert_text(sink.host_url(), "");
    assert_text(sink.reachable_url(), "");
    g_assert_true(refused(port));
    sink.close(); /* idempotent */
}

/* Deactivate drops the clients and keeps the port; a second open works after close. */
void test_deactivate_and_reopen() {
    Recorder events;
    broadcast::Broadcast sink(&events);
    const broadcast::OpenResult first = sink.open(loopback());
    g_assert_true(bool(first));
    sink.activate();
    const std::vector<uint8_t> header = stream_header();
    g_assert_true(sink.server().set_header(header.data(), header.size()).ok());
    HttpClient client(first.port());
    g_assert_true(g_str_has_prefix(client.get_head().c_str(), "HTTP/1.0 200"));
    g_assert_true(events.wait([&] { return events.added_.size() == 1; }));
    sink.deactivate();
    g_assert_true(events.wait([&] { return events.removed_.size() == 1; }));
    g_assert_cmpuint(sink.port(), ==, first.port());
    g_assert_false(refused(first.port()));
    sink.close();

    const broadcast::OpenResult second = sink.open(loopback());
    g_assert_true(bool(second));
    g_assert_cmpuint(sink.port(), ==, second.port());
    sink.close();
}

/* The host in the URL: the bind address, IPv6 in brackets, the host name for all interfaces. */
void test_host_url() {
    Recorder events;
    broadcast::Broadcast sink(&events);
    broadcast::BroadcastConfig config = loopback();
    config.server.address = "";
    const broadcast::OpenResult any = sink.open(config);
    g_assert_true(bool(any));
    const std::string expected =
        std::string("http://") + g_get_host_name() + ":" + std::to_string(any.port()) + "/";
    assert_text(sink.host_url(), expected);
    sink.close();

    config.server.address = "::1";
    const broadcast::OpenResult v6 = sink.open(config);
    if (!v6) {
        g_test_message("no IPv6 loopback: %s", v6.error().error.message.c_str());
        return;
    }
    const std::string bracketed = "http://[::1]:" + std::to_string(v6.port()) + "/";
    assert_text(sink.host_url(), bracketed);
    sink.close();
}

void test_certificate_file_missing() {
    Recorder events;
    broadcast::Broadcast sink(&events);
    broadcast::BroadcastConfig config = loopback();
    config.tls_certificate_file = "/nonexistent/wmstream-test.pem";
    const broadcast::OpenResult result = sink.open(config);
    g_assert_false(bool(result));
    g_assert_true(result.error().step == broadcast::OpenStep::Certificate);
    g_assert_true(result.error().error.code == Errc::InvalidArgument);
    g_assert_cmpuint(sink.port(), ==, 0);
    std::lock_guard<std::mutex> locker(events.lock_);
    g_assert_cmpuint(events.opened_.size(), ==, 0);
}

void test_port_in_use() {
    Recorder events;
    broadcast::Broadcast first(&events);
    const broadcast::OpenResult bound = first.open(loopback());
    g_assert_true(bool(bound));
    broadcast::Broadcast second(&events);
    broadcast::BroadcastConfig config = loopback();
    config.server.port = bound.port();
    const broadcast::OpenResult result = second.open(config);
    g_assert_false(bool(result));
    g_assert_true(result.error().step == broadcast::OpenStep::Listen);
    g_assert_true(result.error().error.code == Errc::PortInUse);
    g_assert_cmpuint(second.port(), ==, 0);
    assert_text(second.host_url(), "");
}

/* Without port reachability, asking for it fails open() and nothing stays open. */
void test_reach_missing() {
    if (broadcast::Broadcast::reach_built()) {
        g_test_skip("built with port reachability (-Dreach)");
        return;
    }
    Recorder events;
    broadcast::Broadcast sink(&events);
    for (int asks = 0; asks < 2; ++asks) {
        broadcast::BroadcastConfig config = loopback();
        if (asks == 0)
            config.reach.open_firewall = true;
        else
            config.reach.port_mapping = broadcast::PortMapping::Upnp;
        const broadcast::OpenResult result = sink.open(config);
        g_assert_false(bool(result));
        g_assert_true(result.error().step == broadcast::OpenStep::Reach);
        g_assert_true(result.error().error.code == Errc::InvalidArgument);
        assert_text(result.error().error.message, broadcast::kReachMissing);
        g_assert_nonnull(strstr(broadcast::kReachMissing, "-Dreach=enabled"));
        g_assert_cmpuint(sink.port(), ==, 0);
    }
    std::lock_guard<std::mutex> locker(events.lock_);
    g_assert_cmpuint(events.opened_.size(), ==, 0);
}

/* With port reachability, a loopback listener is reported Unavailable by both helpers,
 * through the one events interface, after opened(); no mapping, so no external change. */
void test_reach_reports() {
    if (!broadcast::Broadcast::reach_built()) {
        g_test_skip("built without port reachability (-Dreach)");
        return;
    }
    Recorder events;
    broadcast::Broadcast sink(&events);
    broadcast::BroadcastConfig config = loopback();
    config.reach.open_firewall = true;
    config.reach.port_mapping = broadcast::PortMapping::Auto;
    const broadcast::OpenResult result = sink.open(config);
    g_assert_true(bool(result));
    g_assert_true(events.wait([&] { return events.reports_.size() >= 2; }));
    sink.close();
    std::lock_guard<std::mutex> locker(events.lock_);
    g_assert_cmpuint(events.opened_.size(), ==, 1);
    bool firewall = false, gateway = false;
    for (const reach::PortReport &report : events.reports_) {
        if (report.action != reach::PortAction::Open)
            continue;
        g_assert_true(report.result == reach::PortResult::Unavailable);
        g_assert_cmpuint(report.port, ==, result.port());
        firewall |= report.backend == reach::PortBackend::Firewalld;
        gateway |= report.backend != reach::PortBackend::Firewalld;
    }
    g_assert_true(firewall);
    g_assert_true(gateway);
    g_assert_cmpint(events.external_changes_, ==, 0);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/broadcast/open-serve-close", test_open_serve_close);
    g_test_add_func("/broadcast/deactivate-and-reopen", test_deactivate_and_reopen);
    g_test_add_func("/broadcast/host-url", test_host_url);
    g_test_add_func("/broadcast/certificate-file-missing", test_certificate_file_missing);
    g_test_add_func("/broadcast/port-in-use", test_port_in_use);
    g_test_add_func("/broadcast/reach-missing", test_reach_missing);
    g_test_add_func("/broadcast/reach-reports", test_reach_reports);
    return g_test_run();
}
