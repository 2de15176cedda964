/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmpushsink through a real HTTP forward proxy, tinyproxy (Debian's),
 * started by the test on a free loopback port: the requests go to the
 * proxy with the absolute URL and reach the strict receiver (the proxy's
 * log names them), each PushStart announces about 60 s of the stream
 * [MS-WMHTTP §3.1.4.2.1] (the rates the sink can measure, from the
 * fixture's send times), a
 * small content-length makes several PushStarts pass through the proxy,
 * the proxy's 407 (BasicAuth) is answered with proxy-id / proxy-pw, and a
 * wrong proxy password is one ERROR (RESOURCE NOT_AUTHORIZED; tinyproxy
 * answers it 401, and the message names the proxy credentials) with
 * nothing reaching the server.
 *
 * Needs tinyproxy: without it the test is skipped, and fails under CI
 * (interop::skip).
 */
#include "interop.h"
#include "proto/asf.h"
#include "push-check.h"

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <utility>

using namespace pushtest;

namespace {

constexpr const char *kProxyUser = "relay";
constexpr const char *kProxyPassword = "pr0xy-Pa55";

/* A free TCP port on 127.0.0.1 (bound, then released for the proxy). */
uint16_t free_port() {
    g_autoptr(GSocket) socket =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
    fail_unless(g_socket_bind(socket, address, TRUE, nullptr));
    g_autoptr(GSocketAddress) local = g_socket_get_local_address(socket, nullptr);
    return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
}

/* tinyproxy in the foreground (-d) on 127.0.0.1, logging to a file; killed at the end. */
class Tinyproxy {
public:
    /** @p basic_auth: require "BasicAuth kProxyUser kProxyPassword". */
    explicit Tinyproxy(bool basic_auth) {
        dir_ = g_dir_make_tmp("wmpushsink-proxy-XXXXXX", nullptr);
        fail_unless(dir_ != nullptr);
        g_autofree char *config = g_build_filename(dir_, "tinyproxy.conf", nullptr);
        g_autofree char *log = g_build_filename(dir_, "tinyproxy.log", nullptr);
        log_path_ = log;
        config_path_ = config;
        port_ = free_port();
        std::string text = "Port " + std::to_string(port_) +
                           "\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\nMaxClients 20\n"
                           "LogLevel Connect\nLogFile \"" +
                           log_path_ + "\"\n";
        if (basic_auth)
            text += std::string("BasicAuth ") + kProxyUser + " " + kProxyPassword + "\n";
        fail_unless(g_file_set_contents(config, text.c_str(), -1, nullptr));
        GError *error = nullptr;
        process_ = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "tinyproxy", "-d",
                                    "-c", config, nullptr);
        fail_unless(process_ != nullptr, "tinyproxy: %s", error ? error->message : "?");
        /* Ready when it accepts a connection. */
        g_autoptr(GSocketClient) client = g_socket_client_new();
        const gint64 end =
            g_get_monotonic_time() + gint64(5 * G_USEC_PER_SEC * interop::slowdown());
        for (;;) {
            g_autoptr(GSocketConnection) connection =
                g_socket_client_connect_to_host(client, "127.0.0.1", port_, nullptr, nullptr);
            if (connection)
                break;
            fail_unless(g_get_monotonic_time() < end, "tinyproxy did not listen on port %u", port_);
            g_usleep(20000);
        }
    }

    ~Tinyproxy() {
        const pid_t pid = static_cast<pid_t>(atoi(g_subprocess_get_identifier(process_)));
        g_subprocess_send_signal(process_, SIGTERM);
        for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
            g_usleep(20000);
        g_subprocess_force_exit(process_);
        g_subprocess_wait(process_, nullptr, nullptr);
        g_object_unref(process_);
        g_unlink(log_path_.c_str());
        g_unlink(config_path_.c_str());
        g_rmdir(dir_);
        g_free(dir_);
    }
    Tinyproxy(const Tinyproxy &) = delete;
    Tinyproxy &operator=(const Tinyproxy &) = delete;

    /** "http://127.0.0.1:port". */
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
    /** "proxy=http://127.0.0.1:port " for a launch line. */
    std::string property() const { return "proxy=" + origin() + " "; }
    /** Its log so far. */
    std::string log() const {
        g_autofree char *text = nullptr;
        g_file_get_contents(log_path_.c_str(), &text, nullptr, nullptr);
        return text ? text : "";
    }

private:
    char *dir_ = nullptr;
    std::string config_path_;
    std::string log_path_;
    uint16_t port_ = 0;
    GSubprocess *process_ = nullptr;
};

/* The Length-Remaining of 60 s of the fixture with the $D framing, at the lowest and the
 * highest rate the sink can measure: over its first packets spanning at least 1 s of send time
 * up to all of them (the last packet's bytes left out: they go after its send time), as the
 * first PushStart may be sent when any of them was pushed. */
std::pair<uint64_t, uint64_t> sixty_seconds_of(const Stream &stream) {
    auto header = wmstream::proto::asf::parse_header(stream.header.data(), stream.header.size());
    fail_unless(static_cast<bool>(header));
    auto first = wmstream::proto::asf::parse_packet(stream.packets.front().data(),
                                                    stream.packets.front().size(), *header);
    fail_unless(static_cast<bool>(first));
    const uint64_t size = stream.packets[0].size();
    uint64_t low = UINT64_MAX;
    uint64_t high = 0;
    for (size_t last = 1; last < stream.packets.size(); last++) {
        auto packet = wmstream::proto::asf::parse_packet(stream.packets[last].data(),
                                                         stream.packets[last].size(), *header);
        fail_unless(static_cast<bool>(packet));
        const uint64_t span_ms = packet->send_time_ms - first->send_time_ms;
        if (span_ms < 1000)
            continue;
        const uint64_t length = 60 * (last * size * 1000 / span_ms) * (size + 4) / size;
        low = std::min(low, length);
        high = std::max(high, length);
    }
    fail_unless(high > 0, "the fixture spans less than 1 s");
    return {low, high};
}

/* A receiver, tinyproxy in front of it (with BasicAuth or not) and the fixture stream. */
struct Setup {
    explicit Setup(bool basic_auth) : proxy(basic_auth) { receiver.start(); }
    /** Push the whole stream through the proxy with the sink's @p properties; wait for EOS
     *  (clean). */
    Snapshot push(const std::string &properties) {
        AppPipeline pipeline(location(receiver) + proxy.property() + properties);
        pipeline.play(stream.header);
        const Snapshot snapshot = deliver(pipeline, receiver, stream);
        const GstStructure *connected =
            gst_message_get_structure(pipeline.messages().wait_element("wmpushsink-connected"));
        const std::string origin = proxy.origin();
        fail_unless_equals_string(gst_structure_get_string(connected, "proxy"), origin.c_str());
        return snapshot;
    }
    Receiver receiver;
    Tinyproxy proxy;
    const Stream stream = load_stream("asfmux-wmv2.asf");
};

GST_START_TEST(test_through_proxy) {
    Setup setup(false);
    const Snapshot snapshot = setup.push("");
    const Receiver &receiver = setup.receiver;
    const Tinyproxy &proxy = setup.proxy;
    const Stream &stream = setup.stream;
    /* The proxy carried the requests, with the absolute URL. */
    const std::string log = proxy.log();
    fail_unless(log.find("POST " + receiver.url("/live")) != std::string::npos, "%s", log.c_str());
    fail_unless(snapshot.setups().at(0)->find("Via") != nullptr);
    /* About 60 s of the stream per PushStart [MS-WMHTTP §3.1.4.2.1]. */
    const auto [low, high] = sixty_seconds_of(stream);
    const uint64_t announced =
        g_ascii_strtoull(snapshot.starts().at(0)->find("Content-Length")->c_str(), nullptr, 10);
    g_print("PushStart Content-Length through the proxy: %" G_GUINT64_FORMAT
            " (60 s of the stream: %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT ")\n",
            announced, low, high);
    fail_unless(announced >= low * 99 / 100 && announced <= high * 101 / 100,
                "Content-Length %" G_GUINT64_FORMAT ", 60 s = %" G_GUINT64_FORMAT
                " to %" G_GUINT64_FORMAT,
                announced, low, high);
}
GST_END_TEST;

/* Bodies used up through the proxy: $F, then a new PushStart, every packet delivered. */
GST_START_TEST(test_bodies_through_proxy) {
    Setup setup(false);
    const Snapshot snapshot = setup.push("content-length=20000");
    fail_unless(snapshot.starts().size() >= 4, "%zu PushStarts", snapshot.starts().size());
    fail_unless(snapshot.count('F') >= 3);
}
GST_END_TEST;

GST_START_TEST(test_proxy_auth) {
    Setup setup(true);
    /* tinyproxy lets nothing through without the credentials: the stream arriving proves the
     * 407 was answered; the proxy took the header off the request it parsed. */
    const Snapshot snapshot =
        setup.push(std::string("proxy-id=") + kProxyUser + " proxy-pw=" + kProxyPassword);
    fail_unless(snapshot.setups().at(0)->find("Proxy-Authorization") == nullptr);
    fail_unless(setup.proxy.log().find("POST " + setup.receiver.url("/live")) != std::string::npos);
}
GST_END_TEST;

GST_START_TEST(test_proxy_wrong_password) {
    Setup setup(true);
    AppPipeline pipeline(location(setup.receiver) + setup.proxy.property() +
                         "proxy-id=" + kProxyUser + " proxy-pw=wrong-Pa55 " + kFastRetries);
    pipeline.play(setup.stream.header);
    GstMessage *error = pipeline.messages().wait(is_error);
    /* tinyproxy refuses a wrong proxy password with 401 (WWW-Authenticate), not 407. */
    assert_not_authorized(error, 401);
    const std::string text = debug_text(error);
    fail_unless(text.find("proxy-id 'relay'") != std::string::npos, "%s", text.c_str());
    fail_unless(text.find("wrong-Pa55") == std::string::npos);
    g_usleep(200000);
    fail_unless(setup.receiver.snapshot().requests.empty());
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
}
GST_END_TEST;

Suite *wmpushsink_proxy_suite() {
    Suite *suite = suite_create("wmpushsink-proxy");
    TCase *tcase = tcase_create("tinyproxy");
    tcase_add_test(tcase, test_through_proxy);
    tcase_add_test(tcase, test_bodies_through_proxy);
    tcase_add_test(tcase, test_proxy_auth);
    tcase_add_test(tcase, test_proxy_wrong_password);
    suite_add_tcase(suite, tcase);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    return interop::main_with_requirements(argc, argv, "wmpushsink-proxy", wmpushsink_proxy_suite,
                                           {"tinyproxy"}, {"appsrc"});
}
