/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Element tests of wmnetsink's access control (GstCheck): allow/deny ranges
 * checked at accept, viewer credentials (HTTP Basic and Digest, from raw
 * TCP clients, curl and FFmpeg), the client-connecting application
 * decision, that the password never reaches a log, a message or a property
 * read, and HTTPS (tls-certificate, tls-certificate-file) checked with curl
 * --cacert and FFmpeg -tls_verify. A real live pipeline (videotestsrc →
 * avenc_wmv2 → asfmux → wmnetsink) on 127.0.0.1, port 0; every wait is
 * bounded.
 *
 * Run without arguments: the access cases. With the argument "tls": the
 * HTTPS cases, skipped without openssl or a GIO TLS backend
 * (glib-networking). A missing curl or ffmpeg skips only the part that
 * needs it, with a message. Under CI every missing peer is a failure.
 */
#include "interop.h"
#include "netsink-check.h"
#include "tls-files.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

using namespace netsinktest;

namespace {

constexpr const char *kUser = "viewer";
/* Distinctive, so that finding them anywhere means a leak. */
constexpr const char *kPassword = "Pw-7f3e9a1c";
constexpr const char *kWrongPassword = "Wr0ng-b4c8d2";
/** Longest run of a client program, s. */
constexpr guint kClientLimitS = 30;

/** Sink properties asking for viewer credentials kUser / kPassword. */
std::string credentials() {
    return std::string("user-id=") + kUser + " user-pw=" + kPassword + " ";
}

/** Whether @p program is installed; under CI its absence fails the test (see interop::skip). */
bool have_program(const char *program) {
    g_autofree gchar *path = g_find_program_in_path(program);
    fail_if(!path && g_strcmp0(g_getenv("CI"), "true") == 0,
            "'%s' is not installed (under CI a missing peer is a failure)", program);
    if (!path)
        g_print("SKIP (part): '%s' is not installed\n", program);
    return path != nullptr;
}

/* ---- HTTP credentials, built by hand ---- */

std::string base64(const std::string &text) {
    g_autofree gchar *encoded =
        g_base64_encode(reinterpret_cast<const guchar *>(text.data()), text.size());
    return encoded;
}

/** An Authorization header line (RFC 7617) for @p user / @p password. */
std::string basic_header(const char *user, const char *password) {
    return "Authorization: Basic " + base64(std::string(user) + ":" + password) + "\r\n";
}

std::string md5_hex(const std::string &text) {
    g_autofree gchar *sum =
        g_compute_checksum_for_string(G_CHECKSUM_MD5, text.c_str(), gssize(text.size()));
    return sum;
}

/** The value of parameter @p name="…" of @p challenge, "" when absent. */
std::string quoted_param(const std::string &challenge, const std::string &name) {
    const std::string key = name + "=\"";
    for (size_t at = challenge.find(key); at != std::string::npos;
         at = challenge.find(key, at + 1)) {
        if (at > 0 && challenge[at - 1] != ' ' && challenge[at - 1] != ',')
            continue; /* e.g. "cnonce" when looking for "nonce" */
        const size_t start = at + key.size();
        const size_t end = challenge.find('"', start);
        return end == std::string::npos ? "" : challenge.substr(start, end - start);
    }
    return "";
}

/**
 * An Authorization header line answering the Digest @p challenge (RFC 2617:
 * MD5, qop=auth, as FFmpeg and curl send it) for GET @p uri.
 */
std::string digest_header(const std::string &challenge, const char *user, const char *password,
                          const std::string &uri = "/") {
    const std::string realm = quoted_param(challenge, "realm");
    const std::string nonce = quoted_param(challenge, "nonce");
    fail_if(realm.empty() || nonce.empty(), "challenge without realm/nonce: %s", challenge.c_str());
    const std::string cnonce = "0a4f113b";
    const std::string nc = "00000001";
    const std::string ha1 = md5_hex(std::string(user) + ":" + realm + ":" + password);
    const std::string ha2 = md5_hex("GET:" + uri);
    const std::string response =
        md5_hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2);
    return std::string("Authorization: Digest username=\"") + user + "\", realm=\"" + realm +
           "\", nonce=\"" + nonce + "\", uri=\"" + uri + "\", algorithm=MD5, qop=auth, nc=" + nc +
           ", cnonce=\"" + cnonce + "\", response=\"" + response + "\"\r\n";
}

/* ---- responses ---- */

/** The status code of @p client's response head, 0 when it is not HTTP/1.x. */
int status_code(const TestClient &client) {
    const std::string line = client.status_line();
    if (!starts_with(line, "HTTP/1.") || line.size() < 12)
        return 0;
    return std::atoi(line.substr(9, 3).c_str());
}

bool contains(const std::string &haystack, const guint8 *needle, size_t size) {
    return haystack.find(std::string(reinterpret_cast<const char *>(needle), size)) !=
           std::string::npos;
}

bool contains(const std::vector<guint8> &haystack, const guint8 *needle, size_t size) {
    return contains(std::string(haystack.begin(), haystack.end()), needle, size);
}

/**
 * Read a refusal: status @p code, then the server closes; no stream byte.
 * Then close @p client too: the server reports a refusal once the peer is
 * gone (or after its linger time).
 */
void expect_refusal(TestClient &client, int code) {
    fail_unless(client.read_head(), "no response head");
    fail_unless_equals_int(status_code(client), code);
    fail_unless(client.wait_closed(), "refused client left open");
    fail_if(contains(client.body(), kHeaderGuid, sizeof kHeaderGuid), "stream bytes after %d",
            code);
    client.close();
}

/**
 * Read a 401 and check its challenges: Digest (MD5, qop=auth) and Basic,
 * both in realm "wmstream". @return the Digest challenge.
 */
std::string expect_challenges(TestClient &client) {
    expect_refusal(client, 401);
    const std::vector<std::string> challenges = client.headers("WWW-Authenticate");
    fail_unless_equals_int(challenges.size(), 2);
    std::string digest;
    bool basic = false;
    for (const std::string &challenge : challenges) {
        const std::string realm = quoted_param(challenge, "realm");
        fail_unless_equals_string(realm.c_str(), "wmstream");
        if (starts_with(challenge, "Digest ")) {
            fail_unless(!quoted_param(challenge, "nonce").empty(), "%s", challenge.c_str());
            fail_unless(challenge.find("qop=\"auth\"") != std::string::npos, "%s",
                        challenge.c_str());
            fail_unless(challenge.find("algorithm=MD5") != std::string::npos, "%s",
                        challenge.c_str());
            digest = challenge;
        } else {
            fail_unless(starts_with(challenge, "Basic "), "%s", challenge.c_str());
            basic = true;
        }
    }
    fail_unless(!digest.empty() && basic, "want a Digest and a Basic challenge");
    return digest;
}

/** A fresh Digest challenge: one GET without credentials. */
std::string fetch_challenge(guint port) {
    TestClient client(port);
    client.get(kBrowserAgent);
    return expect_challenges(client);
}

/* ---- refusals as signals and messages ---- */

/** The @p nth client-removed with reason @p nick (0 = first); returns its id. */
guint64 wait_removed_with(Recorder &recorder, const char *nick, size_t nth = 0) {
    const gint reason = remove_reason(nick);
    return recorder
        .wait_for([reason, nth](const std::vector<ClientEvent> &events) -> const ClientEvent * {
            size_t seen = 0;
            for (const ClientEvent &e : events)
                if (!e.added && e.reason == reason && seen++ == nth)
                    return &e;
            return nullptr;
        })
        .id;
}

/**
 * Check the `wmnetsink-client-removed` message of client @p id: reason
 * @p nick, address 127.0.0.1 and, unless 0, peer port @p port.
 * @return its bytes-sent.
 */
guint64 check_removed_message(GstBus *bus, guint64 id, const char *nick, guint16 port) {
    const gint64 end = deadline();
    while (g_get_monotonic_time() < end) {
        GstMessage *message = pop_element_message(bus, "wmnetsink-client-removed");
        fail_unless(message != nullptr, "no wmnetsink-client-removed for client %" G_GUINT64_FORMAT,
                    id);
        const GstStructure *s = gst_message_get_structure(message);
        guint64 message_id = 0;
        fail_unless(gst_structure_get_uint64(s, "id", &message_id));
        if (message_id != id) {
            gst_message_unref(message);
            continue;
        }
        fail_unless_equals_string(gst_structure_get_string(s, "reason"), nick);
        fail_unless_equals_string(gst_structure_get_string(s, "address"), "127.0.0.1");
        guint message_port = 0;
        fail_unless(gst_structure_get_uint(s, "port", &message_port));
        if (port != 0)
            fail_unless_equals_int(message_port, port);
        guint64 bytes_sent = G_MAXUINT64;
        fail_unless(gst_structure_get_uint64(s, "bytes-sent", &bytes_sent));
        gst_message_unref(message);
        return bytes_sent;
    }
    fail("no wmnetsink-client-removed for client %" G_GUINT64_FORMAT, id);
    return 0;
}

/** No client-added was ever signalled. */
void check_none_added(Recorder &recorder) {
    for (const ClientEvent &event : recorder.events())
        fail_if(event.added, "client %" G_GUINT64_FORMAT " was added", event.id);
}

/* ---- the client-connecting signal ---- */

/** Records client-connecting; answers FALSE for path "/secret", TRUE otherwise. */
class Connecting {
public:
    struct Call {
        guint64 id;
        std::string address;
        std::string user_agent;
        std::string path;
        bool has_user;
        std::string user;
    };

    /** Connect to @p sink; must outlive the sink's Open…Close or disconnect(). */
    void connect(GstElement *sink) {
        g_signal_connect(sink, "client-connecting", G_CALLBACK(on_connecting), this);
    }
    void disconnect(GstElement *sink) { g_signal_handlers_disconnect_by_data(sink, this); }

    /** The @p nth call (0 = first), waiting for it. */
    Call wait_call(size_t nth) {
        std::unique_lock<std::mutex> locker(lock_);
        const gint64 end = deadline();
        while (calls_.size() <= nth) {
            const gint64 left = end - g_get_monotonic_time();
            fail_unless(left > 0, "client-connecting not emitted");
            changed_.wait_for(locker, std::chrono::microseconds(left));
        }
        return calls_[nth];
    }
    size_t count() {
        std::lock_guard<std::mutex> locker(lock_);
        return calls_.size();
    }

private:
    static gboolean on_connecting(GstElement *, guint64 id, const gchar *address,
                                  const gchar *user_agent, const gchar *path, const gchar *user,
                                  gpointer self) {
        auto *connecting = static_cast<Connecting *>(self);
        std::lock_guard<std::mutex> locker(connecting->lock_);
        connecting->calls_.push_back({id, address ? address : "", user_agent ? user_agent : "",
                                      path ? path : "", user != nullptr, user ? user : ""});
        connecting->changed_.notify_all();
        return g_strcmp0(path, "/secret") != 0;
    }

    std::mutex lock_;
    std::condition_variable changed_;
    std::vector<Call> calls_; /* Protected by lock_ */
};

/* ---- everything the element says: logs, messages ---- */

/**
 * Collects, while it exists, every GStreamer debug line (wmnetsink at
 * MEMDUMP, the core's category wmstream at DEBUG, every other at
 * @p others; the default printer is removed meanwhile), every GLib log
 * line of the core's "wmstream" domain, and every bus message of the bus
 * given to watch(), serialized.
 */
class Capture {
public:
    explicit Capture(GstDebugLevel others = GST_LEVEL_DEBUG)
        : default_threshold_(gst_debug_get_default_threshold()) {
        gst_debug_set_active(TRUE);
        gst_debug_set_default_threshold(others);
        gst_debug_set_threshold_for_name("wmnetsink", GST_LEVEL_MEMDUMP);
        gst_debug_set_threshold_for_name("wmstream", GST_LEVEL_DEBUG);
        gst_debug_remove_log_function(gst_debug_log_default);
        gst_debug_add_log_function(on_gst_log, this, nullptr);
        glib_handler_ = g_log_set_handler("wmstream",
                                          GLogLevelFlags(G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO |
                                                         G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_WARNING),
                                          on_glib_log, this);
    }
    ~Capture() {
        if (bus_) {
            gst_bus_set_sync_handler(bus_, nullptr, nullptr, nullptr);
            gst_object_unref(bus_);
        }
        g_log_remove_handler("wmstream", glib_handler_);
        gst_debug_remove_log_function(on_gst_log);
        gst_debug_unset_threshold_for_name("wmnetsink");
        gst_debug_unset_threshold_for_name("wmstream");
        gst_debug_set_default_threshold(default_threshold_);
        gst_debug_add_log_function(gst_debug_log_default, nullptr, nullptr);
    }
    Capture(const Capture &) = delete;
    Capture &operator=(const Capture &) = delete;

    /** Also serialize every message posted on @p bus (a sync handler; they still pass). */
    void watch(GstBus *bus) {
        bus_ = GST_BUS(gst_object_ref(bus));
        gst_bus_set_sync_handler(bus_, on_message, this, nullptr);
    }

    void add(const std::string &line) {
        std::lock_guard<std::mutex> locker(lock_);
        text_ += line;
        text_ += '\n';
    }
    std::string text() {
        std::lock_guard<std::mutex> locker(lock_);
        return text_;
    }

private:
    static void on_gst_log(GstDebugCategory *category, GstDebugLevel level, const gchar *,
                           const gchar *function, gint, GObject *, GstDebugMessage *message,
                           gpointer self) {
        const gchar *text = gst_debug_message_get(message);
        static_cast<Capture *>(self)->add(
            std::string("gst ") + gst_debug_category_get_name(category) + " " +
            gst_debug_level_get_name(level) + " " + function + ": " + (text ? text : ""));
    }
    static void on_glib_log(const gchar *domain, GLogLevelFlags, const gchar *text, gpointer self) {
        static_cast<Capture *>(self)->add(std::string("glib ") + domain + ": " + text);
    }
    static GstBusSyncReply on_message(GstBus *, GstMessage *message, gpointer self) {
        std::string line = std::string("bus ") + GST_MESSAGE_TYPE_NAME(message);
        if (const GstStructure *s = gst_message_get_structure(message)) {
            g_autofree gchar *text = gst_structure_to_string(s);
            line += std::string(" ") + text;
        }
        GError *error = nullptr;
        gchar *debug = nullptr;
        const GstStructure *details = nullptr;
        switch (GST_MESSAGE_TYPE(message)) {
        case GST_MESSAGE_ERROR:
            gst_message_parse_error(message, &error, &debug);
            gst_message_parse_error_details(message, &details);
            break;
        case GST_MESSAGE_WARNING:
            gst_message_parse_warning(message, &error, &debug);
            gst_message_parse_warning_details(message, &details);
            break;
        case GST_MESSAGE_INFO:
            gst_message_parse_info(message, &error, &debug);
            gst_message_parse_info_details(message, &details);
            break;
        default:
            break;
        }
        if (error)
            line += std::string(" message=") + error->message;
        if (debug)
            line += std::string(" debug=") + debug;
        if (details) {
            g_autofree gchar *text = gst_structure_to_string(details);
            line += std::string(" details=") + text;
        }
        g_clear_error(&error);
        g_free(debug);
        static_cast<Capture *>(self)->add(line);
        return GST_BUS_PASS;
    }

    const GstDebugLevel default_threshold_;
    guint glib_handler_ = 0;
    GstBus *bus_ = nullptr;
    std::mutex lock_;
    std::string text_; /* Protected by lock_ */
};

/** Longest wait of curl for an answer, s: shorter than kClientLimitS, so that curl says why. */
constexpr const char *kCurlLimitS = "20";
/** Bytes of a live stream that curl_stream() reads: the header and the first packets. */
constexpr const char *kStreamBytes = "4096";

/** Run @p command, then @p args… and @p url, bounded by kClientLimitS; it must exit. */
interop::Run run_client(std::vector<std::string> command, const std::vector<std::string> &args,
                        const std::string &url) {
    command.insert(command.end(), args.begin(), args.end());
    command.push_back(url);
    const interop::Run result = interop::run(command, kClientLimitS);
    fail_unless(result.exited, "%s", interop::describe(command, result).c_str());
    return result;
}

/**
 * curl @p args… against @p url, an answer that ends by itself (an error
 * status, a refused certificate). A TLS handshake may take seconds in the
 * sanitizer build on a busy machine: the bound is generous.
 */
interop::Run curl(const std::vector<std::string> &args, const std::string &url) {
    return run_client({"curl", "-sS", "--max-time", kCurlLimitS}, args, url);
}

/** curl @p args… against @p url must get the HTTP status @p status (its body is dropped). */
void curl_expect_status(std::vector<std::string> args, const std::string &url, const char *status) {
    for (const char *arg : {"-o", "/dev/null", "-w", "%{http_code}"})
        args.emplace_back(arg);
    const interop::Run run = curl(args, url);
    fail_unless(run.out == status, "curl got status \"%s\", not %s (exit %d): %s", run.out.c_str(),
                status, run.status, run.err.c_str());
}

/**
 * The first kStreamBytes bytes of the live stream curl @p args… gets from
 * @p url (fewer when curl ends first; its errors in `err`): curl's output
 * piped to `head -c`, so that the read ends as soon as they arrived.
 */
interop::Run curl_stream(const std::vector<std::string> &args, const std::string &url) {
    const std::string pipe = std::string("\"$@\" | head -c ") + kStreamBytes;
    return run_client({"sh", "-c", pipe, "sh", "curl", "-sS", "--max-time", kCurlLimitS}, args,
                      url);
}

/** True when the stream curl wrote starts with the ASF Header Object. */
bool starts_with_asf_header(const interop::Run &result) {
    return result.out.size() >= sizeof kHeaderGuid &&
           std::memcmp(result.out.data(), kHeaderGuid, sizeof kHeaderGuid) == 0;
}

/** `ffmpeg -v error @p options… -i @p url -t 1 -f null -` must decode quietly. */
void ffmpeg_decodes(const std::vector<std::string> &options, const std::string &url) {
    std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-v", "error"};
    argv.insert(argv.end(), options.begin(), options.end());
    for (const char *arg : {"-i", url.c_str(), "-t", "1", "-f", "null", "-"})
        argv.push_back(arg);
    interop::run_clean(argv, kClientLimitS);
}

/** `ffmpeg … -i @p url` must fail; @return its stderr. */
std::string ffmpeg_fails(const std::vector<std::string> &options, const std::string &url) {
    std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-v", "error"};
    argv.insert(argv.end(), options.begin(), options.end());
    for (const char *arg : {"-i", url.c_str(), "-t", "1", "-f", "null", "-"})
        argv.push_back(arg);
    const interop::Run result = interop::run(argv, kClientLimitS);
    fail_if(result.exited && result.status == 0, "%s", interop::describe(argv, result).c_str());
    return result.err;
}

std::string url(const char *scheme, guint port, const char *userinfo = nullptr) {
    return std::string(scheme) + "://" + (userinfo ? std::string(userinfo) + "@" : "") +
           "127.0.0.1:" + std::to_string(port) + "/";
}

std::string host_url(GstElement *sink) {
    g_autofree gchar *value = nullptr;
    g_object_get(sink, "host-url", &value, nullptr);
    return value ? value : "";
}

/* A server-stats counter once it reached @minimum, or its value after 10 s. */
guint64 wait_server_stat(GstElement *sink, const char *field, guint64 minimum) {
    const gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    guint64 value = server_stat(sink, field);
    while (value < minimum && g_get_monotonic_time() < deadline) {
        g_usleep(10000);
        value = server_stat(sink, field);
    }
    return value;
}

} // namespace

/* ---- allow / deny ---- */

/** A client from a refused address: closed at accept with zero bytes, reported forbidden. */
static void check_refused_at_accept(LivePipeline &live, Recorder &recorder) {
    TestClient client(live.port);
    const guint16 client_port = client.port();
    fail_unless(client.wait_closed(), "refused peer left open");
    fail_unless_equals_int(client.received(), 0);

    const guint64 id = wait_removed_with(recorder, "forbidden");
    fail_unless_equals_uint64(check_removed_message(live.bus, id, "forbidden", client_port), 0);
    check_none_added(recorder);
    fail_unless_equals_int(num_clients(live.sink), 0);
    fail_unless_equals_uint64(server_stat(live.sink, "clients-forbidden"), 1);
    fail_unless_equals_uint64(server_stat(live.sink, "clients-served"), 0);
    live.check_no_error();
}

GST_START_TEST(test_deny_closes_at_accept) {
    LivePipeline live("deny=127.0.0.0/8");
    Recorder recorder(live.sink);
    check_refused_at_accept(live, recorder);
}
GST_END_TEST;

GST_START_TEST(test_allow_elsewhere_refuses) {
    LivePipeline live("allow=10.0.0.0/8");
    Recorder recorder(live.sink);
    check_refused_at_accept(live, recorder);
}
GST_END_TEST;

GST_START_TEST(test_deny_wins_over_allow) {
    LivePipeline live("allow=\"10.0.0.0/8, 127.0.0.0/8\" deny=127.0.0.1/32");
    Recorder recorder(live.sink);
    check_refused_at_accept(live, recorder);
}
GST_END_TEST;

GST_START_TEST(test_allow_admits) {
    /* A list, with commas and spaces, that holds our address. */
    LivePipeline live("allow=\"192.0.2.0/24,  127.0.0.1 2001:db8::/32\" deny=10.0.0.0/8");
    Recorder recorder(live.sink);
    TestClient client(live.port);
    client.get(kBrowserAgent);
    expect_raw_asf_response(client);
    recorder.wait_added();
    TestClient player(live.port);
    player.play();
    WmspReader reader(player);
    expect_play_response(player, reader);
    reader.read_data(3);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_mapped_ipv4_matched_as_ipv4) {
    /* Bound to an IPv4-mapped IPv6 address, IPv4 peers arrive as
     * ::ffff:127.0.0.1 (as on a dual-stack listener) and must still match
     * an IPv4 range. */
    GSocket *probe =
        g_socket_new(G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
    GInetAddress *mapped = g_inet_address_new_from_string("::ffff:127.0.0.1");
    GSocketAddress *address = g_inet_socket_address_new(mapped, 0);
    const bool ipv6 = probe && g_socket_bind(probe, address, FALSE, nullptr);
    g_object_unref(address);
    g_object_unref(mapped);
    g_clear_object(&probe);
    if (!ipv6) {
        g_print("SKIP (part): no IPv6 on this machine\n");
        return;
    }
    {
        LivePipeline live("address=::ffff:127.0.0.1 deny=127.0.0.0/8");
        Recorder recorder(live.sink);
        check_refused_at_accept(live, recorder);
    }
    LivePipeline live("address=::ffff:127.0.0.1 allow=127.0.0.1");
    TestClient client(live.port);
    client.get(kBrowserAgent);
    expect_raw_asf_response(client);
}
GST_END_TEST;

/** Opening with @p property = @p ranges fails: RESOURCE/SETTINGS, E_INVALIDARG, no port. */
static void check_ranges_refused(const char *property, const char *ranges) {
    LoneSink lone;
    g_object_set(lone.sink, property, ranges, nullptr);
    lone.assert_ready_fails(GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u);
}

GST_START_TEST(test_invalid_range_fails_ready) {
    check_ranges_refused("allow", "10.0.0.0/33");
    check_ranges_refused("allow", "127.0.0.1, not-an-address");
    check_ranges_refused("deny", "10.0.0.0/8/8");
    check_ranges_refused("deny", "10.0.0.1/8"); /* host bits set */
}
GST_END_TEST;

GST_START_TEST(test_out_of_range_prefix_fails_ready) {
    /* Prefix lengths GInetAddressMask's "length" property cannot hold: GLib
     * warns and keeps length 0, so "::/129" would become ::/0 (every IPv6
     * peer) and "0.0.0.0/4294967296" 0.0.0.0/0 (every IPv4 peer). */
    check_ranges_refused("allow", "::/129");
    check_ranges_refused("allow", "0.0.0.0/4294967296");
    check_ranges_refused("deny", "0.0.0.0/-1");
    check_ranges_refused("deny", "2001:db8::/129");
}
GST_END_TEST;

/* ---- viewer credentials ---- */

GST_START_TEST(test_challenge_without_credentials) {
    LivePipeline live(credentials().c_str());
    Recorder recorder(live.sink);

    /* Plain HTTP and MS-WMSP Play alike get 401 with both challenges, no stream byte. */
    {
        TestClient browser(live.port);
        browser.get(kBrowserAgent);
        expect_challenges(browser);
        TestClient player(live.port);
        player.play();
        expect_challenges(player);
    }

    /* The challenge is not a refusal: the first event reported is the
     * wrong-credentials client that follows, which is. */
    TestClient wrong(live.port);
    const guint16 wrong_port = wrong.port();
    wrong.get(kBrowserAgent, "/", basic_header(kUser, kWrongPassword));
    expect_challenges(wrong);
    const guint64 id = wait_removed_with(recorder, "unauthorized");
    const std::vector<ClientEvent> events = recorder.events();
    fail_unless_equals_int(events.size(), 1);
    fail_unless_equals_uint64(events[0].id, id);
    check_removed_message(live.bus, id, "unauthorized", wrong_port);
    /* The challenge is not counted; the wrong password is. */
    fail_unless_equals_uint64(server_stat(live.sink, "clients-unauthorized"), 1);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_basic_credentials) {
    LivePipeline live(credentials().c_str());
    Recorder recorder(live.sink);

    struct Wrong {
        const char *user;
        const char *password;
    };
    const Wrong wrongs[] = {{kUser, kWrongPassword}, {"someone", kPassword}, {kUser, ""}};
    size_t nth = 0;
    for (const Wrong &w : wrongs) {
        TestClient client(live.port);
        const guint16 client_port = client.port();
        client.get(kBrowserAgent, "/", basic_header(w.user, w.password));
        expect_challenges(client);
        const guint64 id = wait_removed_with(recorder, "unauthorized", nth++);
        check_removed_message(live.bus, id, "unauthorized", client_port);
    }
    check_none_added(recorder);

    TestClient browser(live.port);
    browser.get(kBrowserAgent, "/", basic_header(kUser, kPassword));
    expect_raw_asf_response(browser);
    recorder.wait_added(0);

    TestClient player(live.port);
    player.play(basic_header(kUser, kPassword));
    WmspReader reader(player);
    expect_play_response(player, reader);
    reader.read_data(3);
    recorder.wait_added(1);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_digest_credentials) {
    LivePipeline live(credentials().c_str());
    Recorder recorder(live.sink);

    /* A wrong password, then a right answer to a fresh challenge. */
    TestClient wrong(live.port);
    wrong.get(kBrowserAgent, "/", digest_header(fetch_challenge(live.port), kUser, kWrongPassword));
    expect_challenges(wrong);
    wait_removed_with(recorder, "unauthorized");

    TestClient browser(live.port);
    browser.get(kBrowserAgent, "/", digest_header(fetch_challenge(live.port), kUser, kPassword));
    expect_raw_asf_response(browser);

    TestClient player(live.port);
    player.play(digest_header(fetch_challenge(live.port), kUser, kPassword));
    WmspReader reader(player);
    expect_play_response(player, reader);
    reader.read_data(3);
    recorder.wait_added(1);

    /* A nonce the server did not sign is not accepted. */
    std::string forged = fetch_challenge(live.port);
    const std::string nonce = quoted_param(forged, "nonce");
    forged.replace(forged.find(nonce), nonce.size(), std::string(nonce.size(), '0'));
    TestClient forger(live.port);
    forger.get(kBrowserAgent, "/", digest_header(forged, kUser, kPassword));
    expect_challenges(forger);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_curl_digest) {
    if (!have_program("curl"))
        return;
    LivePipeline live(credentials().c_str());
    Recorder recorder(live.sink);
    const std::string user_pw = std::string(kUser) + ":" + kPassword;

    const interop::Run served = curl_stream({"--digest", "-u", user_pw}, url("http", live.port));
    fail_unless(starts_with_asf_header(served), "curl --digest got %zu bytes: %s",
                served.out.size(), served.err.c_str());
    recorder.wait_added();

    const std::string wrong_pw = std::string(kUser) + ":" + kWrongPassword;
    curl_expect_status({"--digest", "-u", wrong_pw}, url("http", live.port), "401");
    wait_removed_with(recorder, "unauthorized");
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_ffmpeg_credentials) {
    if (!have_program("ffmpeg"))
        return;
    LivePipeline live(credentials().c_str());
    Recorder recorder(live.sink);

    /* FFmpeg's http layer answers the Digest challenge (it prefers Digest). */
    const std::string user_pw = std::string(kUser) + ":" + kPassword;
    ffmpeg_decodes({}, url("http", live.port, user_pw.c_str()));
    recorder.wait_added();

    const std::string wrong_pw = std::string(kUser) + ":" + kWrongPassword;
    const std::string err = ffmpeg_fails({}, url("http", live.port, wrong_pw.c_str()));
    fail_unless(err.find("401") != std::string::npos, "%s", err.c_str());
    wait_removed_with(recorder, "unauthorized");
    live.check_no_error();
}
GST_END_TEST;

/* ---- the password stays secret ---- */

GST_START_TEST(test_password_not_readable) {
    GstElement *sink = gst_element_factory_make("wmnetsink", nullptr);
    GObjectClass *klass = G_OBJECT_GET_CLASS(sink);
    GParamSpec *password = g_object_class_find_property(klass, "user-pw");
    fail_unless(password != nullptr && G_IS_PARAM_SPEC_STRING(password));
    fail_unless(password->flags & G_PARAM_WRITABLE);
    fail_if(password->flags & G_PARAM_READABLE, "user-pw is readable");
    GParamSpec *user = g_object_class_find_property(klass, "user-id");
    fail_unless(user != nullptr && (user->flags & G_PARAM_READABLE));

    g_object_set(sink, "user-id", kUser, "user-pw", kPassword, nullptr);
    g_autofree gchar *user_id = nullptr;
    g_object_get(sink, "user-id", &user_id, nullptr);
    fail_unless_equals_string(user_id, kUser);
    gst_object_unref(sink);
}
GST_END_TEST;

GST_START_TEST(test_password_never_logged) {
    Capture capture;
    Connecting connecting;
    LivePipeline *live = new LivePipeline("", GST_STATE_PLAYING, [&](LivePipeline &p) {
        /* Set as an application does (a pipeline description is parsed, and logged, by core). */
        g_object_set(p.sink, "user-id", kUser, "user-pw", kPassword, nullptr);
        connecting.connect(p.sink);
        capture.watch(p.bus);
    });
    Recorder recorder(live->sink);

    /* No credentials, wrong Basic, wrong Digest: challenged / refused. */
    fetch_challenge(live->port);
    for (const std::string &wrong :
         {basic_header(kUser, kWrongPassword),
          digest_header(fetch_challenge(live->port), kUser, kWrongPassword)}) {
        TestClient client(live->port);
        client.get(kBrowserAgent, "/", wrong);
        expect_challenges(client);
    }
    wait_removed_with(recorder, "unauthorized", 1);

    /* Right Basic and Digest, plain HTTP and MS-WMSP: served. */
    TestClient basic(live->port);
    basic.get(kBrowserAgent, "/", basic_header(kUser, kPassword));
    expect_raw_asf_response(basic);
    TestClient digest(live->port);
    digest.get(kBrowserAgent, "/", digest_header(fetch_challenge(live->port), kUser, kPassword));
    expect_raw_asf_response(digest);
    TestClient player(live->port);
    player.play(basic_header(kUser, kPassword));
    WmspReader reader(player);
    expect_play_response(player, reader);
    reader.read_data(3);
    recorder.wait_added(2);
    const std::string user = connecting.wait_call(2).user;
    fail_unless_equals_string(user.c_str(), kUser);

    /* What an application can read back: client lists, the pipeline graph. */
    GstStructure *clients = nullptr;
    g_signal_emit_by_name(live->sink, "get-clients", &clients);
    fail_unless(clients != nullptr);
    g_autofree gchar *clients_text = gst_structure_to_string(clients);
    gst_structure_free(clients);
    capture.add(clients_text);
    g_autofree gchar *dot =
        gst_debug_bin_to_dot_data(GST_BIN(live->pipeline), GST_DEBUG_GRAPH_SHOW_ALL);
    capture.add(dot);

    basic.close();
    digest.close();
    player.close();
    delete live; /* Close: the last removals and state changes are logged and posted too. */

    const std::string text = capture.text();
    /* The capture works: it holds the refusals from the log and from the bus. */
    fail_unless(text.find("gst wmnetsink INFO") != std::string::npos, "no wmnetsink log");
    fail_unless(text.find("removed (unauthorized)") != std::string::npos, "no refusal logged");
    fail_unless(text.find("wmnetsink-client-removed") != std::string::npos, "no message");
    fail_unless(text.find("reason=(string)unauthorized") != std::string::npos, "no refusal");
    fail_unless(text.find(kBrowserAgent) != std::string::npos, "no client list");
    for (const std::string &secret : {std::string(kPassword), std::string(kWrongPassword),
                                      base64(std::string(kUser) + ":" + kPassword),
                                      base64(std::string(kUser) + ":" + kWrongPassword)}) {
        const size_t at = text.find(secret);
        fail_unless(at == std::string::npos, "'%s' found in: …%s…", secret.c_str(),
                    text.substr(at < 200 ? 0 : at - 200, 400).c_str());
    }
    for (size_t i = 0; i < connecting.count(); ++i) {
        const Connecting::Call call = connecting.wait_call(i);
        for (const std::string &arg : {call.address, call.user_agent, call.path, call.user})
            fail_unless(arg.find(kPassword) == std::string::npos);
    }
}
GST_END_TEST;

/* ---- the application decides: client-connecting ---- */

GST_START_TEST(test_client_connecting) {
    Connecting connecting;
    LivePipeline live("", GST_STATE_PLAYING, [&](LivePipeline &p) { connecting.connect(p.sink); });
    Recorder recorder(live.sink);

    /* Refused by the application: 403, forbidden. */
    TestClient secret(live.port);
    const guint16 secret_port = secret.port();
    secret.get(kBrowserAgent, "/secret");
    expect_refusal(secret, 403);
    const Connecting::Call refused = connecting.wait_call(0);
    fail_unless_equals_string(refused.path.c_str(), "/secret");
    const guint64 refused_id = wait_removed_with(recorder, "forbidden");
    fail_unless_equals_uint64(refused_id, refused.id);
    check_removed_message(live.bus, refused_id, "forbidden", secret_port);
    check_none_added(recorder);

    /* Allowed: served, with the id it was asked about. */
    TestClient browser(live.port);
    browser.get(kBrowserAgent);
    expect_raw_asf_response(browser);
    const Connecting::Call allowed = connecting.wait_call(1);
    fail_unless_equals_string(allowed.address.c_str(), "127.0.0.1");
    fail_unless_equals_string(allowed.user_agent.c_str(), kBrowserAgent);
    fail_unless_equals_string(allowed.path.c_str(), "/");
    fail_if(allowed.has_user, "user without credentials: '%s'", allowed.user.c_str());
    fail_unless_equals_uint64(recorder.wait_added(0).id, allowed.id);

    TestClient player(live.port);
    player.play();
    WmspReader reader(player);
    expect_play_response(player, reader);
    reader.read_data(2);
    const Connecting::Call played = connecting.wait_call(2);
    fail_unless_equals_string(played.user_agent.c_str(), kPlayerAgent);
    fail_unless_equals_uint64(recorder.wait_added(1).id, played.id);
    live.check_no_error();
}
GST_END_TEST;

/* A handler connected while the sink plays counts from the next viewer on (Python users
 * connect late), and one disconnected stops being asked. */
GST_START_TEST(test_client_connecting_connected_late) {
    LivePipeline live("", GST_STATE_PLAYING);
    Recorder recorder(live.sink);
    TestClient before(live.port);
    before.get(kBrowserAgent, "/secret");
    expect_raw_asf_response(before);
    recorder.wait_added(0);

    Connecting connecting;
    connecting.connect(live.sink);
    TestClient secret(live.port);
    secret.get(kBrowserAgent, "/secret");
    expect_refusal(secret, 403);
    const Connecting::Call asked = connecting.wait_call(0);
    fail_unless_equals_string(asked.path.c_str(), "/secret");
    wait_removed_with(recorder, "forbidden");

    connecting.disconnect(live.sink);
    TestClient after(live.port);
    after.get(kBrowserAgent, "/secret");
    expect_raw_asf_response(after);
    recorder.wait_added(1);
    fail_unless_equals_int(connecting.count(), 1);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_client_connecting_after_credentials) {
    Connecting connecting;
    LivePipeline live(credentials().c_str(), GST_STATE_PLAYING,
                      [&](LivePipeline &p) { connecting.connect(p.sink); });
    Recorder recorder(live.sink);

    /* Not asked before the credentials passed. */
    fetch_challenge(live.port);
    TestClient wrong(live.port);
    wrong.get(kBrowserAgent, "/", basic_header(kUser, kWrongPassword));
    expect_challenges(wrong);
    wait_removed_with(recorder, "unauthorized");

    /* Asked with the authenticated user: refused, then served. */
    TestClient secret(live.port);
    secret.get(kBrowserAgent, "/secret", basic_header(kUser, kPassword));
    expect_refusal(secret, 403);
    wait_removed_with(recorder, "forbidden");
    TestClient browser(live.port);
    browser.get(kBrowserAgent, "/", digest_header(fetch_challenge(live.port), kUser, kPassword));
    expect_raw_asf_response(browser);
    recorder.wait_added();

    fail_unless_equals_int(connecting.count(), 2);
    for (size_t i = 0; i < 2; ++i) {
        const Connecting::Call call = connecting.wait_call(i);
        fail_unless(call.has_user);
        fail_unless_equals_string(call.user.c_str(), kUser);
        fail_unless_equals_string(call.address.c_str(), "127.0.0.1");
        fail_unless_equals_string(call.path.c_str(), i == 0 ? "/secret" : "/");
    }
    live.check_no_error();
}
GST_END_TEST;

/* ---- HTTPS ---- */

/** A pipeline serving HTTPS: host-url, curl with the right CA and without, plain HTTP, FFmpeg. */
static void check_https(LivePipeline &live, const TlsFiles &files) {
    const std::string host = host_url(live.sink);
    fail_unless(starts_with(host, "https://127.0.0.1:" + std::to_string(live.port) + "/"), "%s",
                host.c_str());

    /* A plain-HTTP client gets nothing of the stream, and is closed. */
    TestClient plain(live.port);
    plain.get(kBrowserAgent);
    fail_if(plain.read_head(), "plain HTTP answered on the TLS port: %s",
            plain.status_line().c_str());
    fail_unless(plain.wait_closed(), "plain HTTP client left open on the TLS port");
    /* Counted as a failed handshake, not as a client. */
    const char *failed = "tls-handshakes-failed";
    fail_unless_equals_uint64(wait_server_stat(live.sink, failed, 1), 1);
    fail_unless_equals_uint64(server_stat(live.sink, "clients-served"), 0);

    if (have_program("curl")) {
        const interop::Run served = curl_stream({"--cacert", files.cert}, url("https", live.port));
        fail_unless(starts_with_asf_header(served), "curl --cacert got %zu bytes: %s",
                    served.out.size(), served.err.c_str());
        /* The certificate is really checked: an unrelated CA is refused. */
        const interop::Run untrusted = curl({"--cacert", files.other}, url("https", live.port));
        fail_unless_equals_int(untrusted.status, 60); /* CURLE_PEER_FAILED_VERIFICATION */
        fail_unless(untrusted.out.empty());
        /* The served handshake is not counted, the refused one is (curl aborts it). */
        fail_unless_equals_uint64(wait_server_stat(live.sink, failed, 2), 2);
    }
    if (have_program("ffmpeg")) {
        /* FFmpeg verifies nothing unless told to (tls_verify defaults to 0). */
        ffmpeg_decodes({"-tls_verify", "1", "-ca_file", files.cert}, url("https", live.port));
        ffmpeg_fails({"-tls_verify", "1", "-ca_file", files.other}, url("https", live.port));
    }
}

GST_START_TEST(test_tls_certificate_file) {
    TlsFiles files;
    const std::string properties = "tls-certificate-file=" + files.both;
    LivePipeline live(properties.c_str());
    check_https(live, files);
    live.check_no_error();
}
GST_END_TEST;

/* The core's own log lines (here: a failed TLS handshake) are in GStreamer's debug log, in the
 * category "wmstream", and no longer in GLib's log. */
GST_START_TEST(test_core_log_in_gst_debug) {
    TlsFiles files;
    const std::string properties = "tls-certificate-file=" + files.both;
    /* Every category at DEBUG would be hundreds of megabytes under a sanitizer. */
    Capture capture(GST_LEVEL_WARNING);
    LivePipeline live(properties.c_str());
    TestClient plain(live.port);
    plain.get(kBrowserAgent);
    fail_unless(plain.wait_closed(), "plain HTTP client left open on the TLS port");
    wait_server_stat(live.sink, "tls-handshakes-failed", 1);
    const std::string text = capture.text();
    fail_unless(text.find("gst wmstream DEBUG") != std::string::npos &&
                    text.find("TLS handshake failed") != std::string::npos,
                "no core line in category wmstream:\n%s", text.substr(0, 4000).c_str());
    fail_unless(text.find("glib wmstream") == std::string::npos, "%s",
                text.substr(0, 4000).c_str());
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_tls_certificate_object) {
    TlsFiles files;
    g_autoptr(GError) error = nullptr;
    GTlsCertificate *certificate = g_tls_certificate_new_from_file(files.both.c_str(), &error);
    fail_unless(certificate != nullptr, "%s", error ? error->message : "");
    LivePipeline live("", GST_STATE_PLAYING, [certificate](LivePipeline &p) {
        g_object_set(p.sink, "tls-certificate", certificate, nullptr);
    });
    GTlsCertificate *read_back = nullptr;
    g_object_get(live.sink, "tls-certificate", &read_back, nullptr);
    fail_unless(read_back == certificate);
    g_object_unref(read_back);
    g_object_unref(certificate);
    check_https(live, files);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_tls_with_credentials) {
    TlsFiles files;
    const std::string properties = credentials() + "tls-certificate-file=" + files.both;
    LivePipeline live(properties.c_str());
    Recorder recorder(live.sink);
    const std::string user_pw = std::string(kUser) + ":" + kPassword;
    if (have_program("curl")) {
        curl_expect_status({"--cacert", files.cert}, url("https", live.port), "401");
        const interop::Run served = curl_stream({"--cacert", files.cert, "--digest", "-u", user_pw},
                                                url("https", live.port));
        fail_unless(starts_with_asf_header(served), "curl got %zu bytes: %s", served.out.size(),
                    served.err.c_str());
        recorder.wait_added();
    }
    if (have_program("ffmpeg"))
        ffmpeg_decodes({"-tls_verify", "1", "-ca_file", files.cert},
                       url("https", live.port, user_pw.c_str()));
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_tls_bad_file) {
    TlsFiles files;
    const std::string garbage = files.dir + "/garbage.pem";
    TlsFiles::write(garbage, "not a certificate\n");
    for (const std::string &file : {files.dir + "/missing.pem", garbage}) {
        LoneSink lone;
        g_object_set(lone.sink, "tls-certificate-file", file.c_str(), nullptr);
        lone.assert_ready_fails(GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u,
                                [&file](const GstStructure *details) {
                                    fail_unless_equals_string(
                                        gst_structure_get_string(details, "file"), file.c_str());
                                });
    }
    g_remove(garbage.c_str());
}
GST_END_TEST;

GST_START_TEST(test_tls_certificate_without_key) {
    /* A certificate without its private key cannot serve TLS: Open must fail
     * rather than accept connections whose handshake always fails. */
    TlsFiles files;
    LoneSink lone;
    g_object_set(lone.sink, "tls-certificate-file", files.cert.c_str(), nullptr);
    lone.assert_ready_fails(GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u);
}
GST_END_TEST;

static Suite *access_suite() {
    Suite *suite = suite_create("wmnetsink-access");
    TCase *address = tcase_create("address");
    tcase_add_test(address, test_deny_closes_at_accept);
    tcase_add_test(address, test_allow_elsewhere_refuses);
    tcase_add_test(address, test_deny_wins_over_allow);
    tcase_add_test(address, test_allow_admits);
    tcase_add_test(address, test_mapped_ipv4_matched_as_ipv4);
    tcase_add_test(address, test_invalid_range_fails_ready);
    tcase_add_test(address, test_out_of_range_prefix_fails_ready);
    suite_add_tcase(suite, address);

    TCase *credentials = tcase_create("credentials");
    tcase_add_test(credentials, test_challenge_without_credentials);
    tcase_add_test(credentials, test_basic_credentials);
    tcase_add_test(credentials, test_digest_credentials);
    tcase_add_test(credentials, test_curl_digest);
    tcase_add_test(credentials, test_ffmpeg_credentials);
    suite_add_tcase(suite, credentials);

    TCase *secrets = tcase_create("secrets");
    tcase_add_test(secrets, test_password_not_readable);
    tcase_add_test(secrets, test_password_never_logged);
    suite_add_tcase(suite, secrets);

    TCase *application = tcase_create("application");
    tcase_add_test(application, test_client_connecting);
    tcase_add_test(application, test_client_connecting_after_credentials);
    tcase_add_test(application, test_client_connecting_connected_late);
    suite_add_tcase(suite, application);
    return suite;
}

static Suite *tls_suite() {
    Suite *suite = suite_create("wmnetsink-tls");
    TCase *tls = tcase_create("tls");
    tcase_add_test(tls, test_tls_certificate_file);
    tcase_add_test(tls, test_core_log_in_gst_debug);
    tcase_add_test(tls, test_tls_certificate_object);
    tcase_add_test(tls, test_tls_with_credentials);
    tcase_add_test(tls, test_tls_bad_file);
    tcase_add_test(tls, test_tls_certificate_without_key);
    suite_add_tcase(suite, tls);
    return suite;
}

int main(int argc, char **argv) {
    gst_check_init(&argc, &argv);
    if (argc > 1 && std::strcmp(argv[1], "tls") == 0) {
        std::string lacking = interop::missing({"openssl"}, {});
        if (!g_tls_backend_supports_tls(g_tls_backend_get_default()))
            lacking +=
                std::string(lacking.empty() ? "" : ", ") + "a GIO TLS backend (glib-networking)";
        if (!lacking.empty())
            return interop::skip("wmnetsink-tls", lacking);
        return gst_check_run_suite(tls_suite(), "wmnetsink-tls", __FILE__);
    }
    return gst_check_run_suite(access_suite(), "wmnetsink-access", __FILE__);
}
