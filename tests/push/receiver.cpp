/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The strict publishing point of the push tests (see receiver.h). Request
 * heads are parsed with the library's libsoup-based parser and push bodies
 * with its framing Reader; everything else here is the server's side of
 * [MS-WMHTTP] §3.2, written from the specification.
 */
#include "receiver.h"

#include "gss-acceptor.h"

#include "proto/asf.h"
#include "proto/framing.h"
#include "proto/http-request.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <regex>

namespace pushtest {

namespace {

constexpr const char *kRealm = "wmstream-test";
constexpr const char *kSupported =
    "com.microsoft.wm.srvppair, com.microsoft.wm.sswitch, com.microsoft.wm.predstrm, "
    "com.microsoft.wm.fastcache, com.microsoft.wm.startupprofile";

bool is_connection_scheme(const std::string &scheme) {
    return scheme == "NTLM" || scheme == "Negotiate";
}

std::string md5(const std::string &text) {
    g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_MD5, text.c_str(), -1);
    return digest;
}

/* The push-id of a Cookie header value, "" when none. */
std::string cookie_push_id(const std::string *cookie) {
    if (!cookie)
        return "";
    std::string found;
    g_auto(GStrv) parts = g_strsplit(cookie->c_str(), ";", -1);
    for (char **part = parts; *part; part++) {
        g_autofree char *item = g_strstrip(g_strdup(*part));
        if (g_str_has_prefix(item, "push-id="))
            found = item + strlen("push-id=");
    }
    return found;
}

} // namespace

const std::string *RequestRecord::find(const std::string &name) const {
    for (const auto &[key, value] : headers) {
        if (g_ascii_strcasecmp(key.c_str(), name.c_str()) == 0)
            return &value;
    }
    return nullptr;
}

bool RequestRecord::is_setup() const {
    const std::string *type = find("Content-Type");
    return type && g_str_has_prefix(type->c_str(), "application/x-wms-pushsetup");
}

bool RequestRecord::is_start() const {
    const std::string *type = find("Content-Type");
    return type && g_str_has_prefix(type->c_str(), "application/x-wms-pushstart");
}

size_t Snapshot::count(char id) const {
    return static_cast<size_t>(std::count_if(packets.begin(), packets.end(),
                                             [id](const PacketRecord &p) { return p.id == id; }));
}

std::vector<const RequestRecord *> Snapshot::setups() const {
    std::vector<const RequestRecord *> out;
    for (const RequestRecord &request : requests) {
        if (request.is_setup())
            out.push_back(&request);
    }
    return out;
}

std::vector<const RequestRecord *> Snapshot::starts() const {
    std::vector<const RequestRecord *> out;
    for (const RequestRecord &request : requests) {
        if (request.is_start())
            out.push_back(&request);
    }
    return out;
}

std::vector<uint32_t> Snapshot::end_reasons() const {
    std::vector<uint32_t> out;
    for (const PacketRecord &packet : packets) {
        if (packet.id == 'E')
            out.push_back(packet.reason);
    }
    return out;
}

std::string data_path(const char *name) {
    const char *dir = g_getenv("WMSTREAM_TEST_DATA");
    g_autofree char *path = g_build_filename(dir ? dir : ".", name, nullptr);
    return path;
}

/* ---------------------------------------------------------------------- */

/* What the server keeps per push-id [MS-WMHTTP §3.2.1]. */
struct PushSession {
    bool auto_destroy = false;
    bool header_seen = false;   /* the first PushStart began with $H */
    bool expect_change = false; /* $E(1) received, $C must follow */
    uint32_t packet_size = 0;   /* of the current header */
    int active_connection = 0;  /* a PushStart body is being received on it */
};

class Receiver::Impl {
public:
    Impl(bool tls, const std::string &certificate);
    ~Impl() { stop(true); }

    uint16_t start(uint16_t port);
    void stop(bool forget_sessions);
    void drop_connections();

    mutable std::mutex lock_;
    mutable std::condition_variable changed_;
    /* Protected by lock_ */
    Options options_;
    Snapshot record_;
    std::map<std::string, PushSession> sessions_;
    std::string output_path_;
    bool output_header_written_ = false;
    std::function<void(const Bytes &)> on_header_;
    std::function<void(const Bytes &)> on_packet_;
    std::function<void()> on_end_;

    bool tls_;
    GTlsCertificate *certificate_ = nullptr;

private:
    struct Conn {
        int id = 0;
        GIOStream *stream = nullptr;
        GCancellable *cancellable = g_cancellable_new();
        std::string input;                /* read, not yet consumed */
        std::unique_ptr<GssAcceptor> gss; /* NTLM/Negotiate handshake of this connection */
        bool authenticated = false;       /* … completed */
        ~Conn() {
            g_clear_object(&stream);
            g_object_unref(cancellable);
        }
    };

    void accept_loop();
    void serve(std::shared_ptr<Conn> conn);
    bool read_more(Conn &conn);
    bool read_exact(Conn &conn, size_t len, std::string &out);
    void write(Conn &conn, const std::string &text);
    void send_hostile(Conn &conn, const HostileAnswer &hostile);
    bool take(int &count);
    bool serve_request(Conn &conn);
    bool serve_setup(Conn &conn, RequestRecord &request);
    bool serve_start(Conn &conn, RequestRecord &request);
    bool check_auth(const RequestRecord &request);
    bool authenticate_connection(Conn &conn, const RequestRecord &request, const Options &options,
                                 bool &keep);
    void violation(const std::string &text);
    std::string answer(unsigned status, const std::string &push_id, bool close,
                       const std::string &extra = "");
    void record_request(const RequestRecord &request);
    void set_answer(int connection, unsigned status);
    void close(Conn &conn);
    void sleep_cancellable(Conn &conn, int64_t us);
    Options current_options() const {
        std::lock_guard<std::mutex> locker(lock_);
        return options_;
    }

    GSocket *listener_ = nullptr;
    GCancellable *accept_cancel_ = nullptr;
    std::thread accept_thread_;
    std::mutex threads_lock_;
    /* Protected by threads_lock_ */
    std::vector<std::thread> threads_;
    std::vector<std::shared_ptr<Conn>> conns_;
    std::atomic<int> next_connection_{1};
    std::string nonce_;
};

Receiver::Impl::Impl(bool tls, const std::string &certificate) : tls_(tls) {
    if (tls_) {
        g_autoptr(GError) error = nullptr;
        certificate_ = g_tls_certificate_new_from_files(
            data_path((certificate + "-cert.pem").c_str()).c_str(),
            data_path((certificate + "-key.pem").c_str()).c_str(), &error);
        if (!certificate_)
            g_error("receiver: cannot load the test certificate: %s", error->message);
    }
    g_autofree char *nonce = g_uuid_string_random();
    nonce_ = nonce;
}

uint16_t Receiver::Impl::start(uint16_t port) {
    g_autoptr(GError) error = nullptr;
    listener_ =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
    g_assert(listener_);
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, port);
    if (!g_socket_bind(listener_, address, TRUE, &error) || !g_socket_listen(listener_, &error))
        g_error("receiver: cannot listen on 127.0.0.1:%u: %s", port, error->message);
    g_autoptr(GSocketAddress) local = g_socket_get_local_address(listener_, &error);
    const uint16_t bound = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
    accept_cancel_ = g_cancellable_new();
    accept_thread_ = std::thread(&Impl::accept_loop, this);
    return bound;
}

void Receiver::Impl::stop(bool forget_sessions) {
    if (!listener_)
        return;
    g_cancellable_cancel(accept_cancel_);
    accept_thread_.join();
    g_socket_close(listener_, nullptr);
    g_clear_object(&listener_);
    g_clear_object(&accept_cancel_);
    drop_connections();
    std::vector<std::thread> threads;
    {
        std::lock_guard<std::mutex> locker(threads_lock_);
        threads.swap(threads_);
    }
    for (std::thread &thread : threads)
        thread.join();
    {
        std::lock_guard<std::mutex> locker(threads_lock_);
        conns_.clear();
    }
    std::lock_guard<std::mutex> locker(lock_);
    if (forget_sessions)
        sessions_.clear();
    for (auto &[id, session] : sessions_)
        session.active_connection = 0;
}

void Receiver::Impl::drop_connections() {
    std::lock_guard<std::mutex> locker(threads_lock_);
    for (const std::shared_ptr<Conn> &conn : conns_)
        close(*conn);
}

void Receiver::Impl::close(Conn &conn) {
    g_cancellable_cancel(conn.cancellable);
    if (conn.stream && G_IS_SOCKET_CONNECTION(conn.stream))
        g_socket_close(g_socket_connection_get_socket(G_SOCKET_CONNECTION(conn.stream)), nullptr);
}

void Receiver::Impl::accept_loop() {
    for (;;) {
        g_autoptr(GError) error = nullptr;
        GSocket *socket = g_socket_accept(listener_, accept_cancel_, &error);
        if (!socket)
            return;
        auto conn = std::make_shared<Conn>();
        conn->id = next_connection_++;
        conn->stream = G_IO_STREAM(g_socket_connection_factory_create_connection(socket));
        g_object_unref(socket);
        {
            std::lock_guard<std::mutex> locker(lock_);
            record_.connections++;
        }
        std::lock_guard<std::mutex> locker(threads_lock_);
        conns_.push_back(conn);
        threads_.emplace_back(&Impl::serve, this, conn);
    }
}

void Receiver::Impl::violation(const std::string &text) {
    std::lock_guard<std::mutex> locker(lock_);
    record_.violations.push_back(text);
    changed_.notify_all();
}

bool Receiver::Impl::read_more(Conn &conn) {
    char buffer[16384];
    const gssize n = g_input_stream_read(g_io_stream_get_input_stream(conn.stream), buffer,
                                         sizeof buffer, conn.cancellable, nullptr);
    if (n <= 0)
        return false;
    conn.input.append(buffer, static_cast<size_t>(n));
    std::lock_guard<std::mutex> locker(lock_);
    record_.bytes += static_cast<uint64_t>(n);
    return true;
}

bool Receiver::Impl::read_exact(Conn &conn, size_t len, std::string &out) {
    while (conn.input.size() < len) {
        if (!read_more(conn))
            return false;
    }
    out = conn.input.substr(0, len);
    conn.input.erase(0, len);
    return true;
}

void Receiver::Impl::write(Conn &conn, const std::string &text) {
    g_output_stream_write_all(g_io_stream_get_output_stream(conn.stream), text.data(), text.size(),
                              nullptr, conn.cancellable, nullptr);
}

/* Count down a "next N (−1 = all)" option; @return whether it applies now. Called with lock_
 * held. */
bool Receiver::Impl::take(int &count) {
    if (count == 0)
        return false;
    if (count > 0)
        count--;
    return true;
}

/* Write @hostile in pieces (never all of it in memory), stop when the client is gone, then read
 * until it closes: the client's decision ends the connection, not ours. */
void Receiver::Impl::send_hostile(Conn &conn, const HostileAnswer &hostile) {
    constexpr size_t kPiece = 64 * 1024;
    GOutputStream *out = g_io_stream_get_output_stream(conn.stream);
    const auto put = [&](const char *data, size_t len) {
        const size_t step = hostile.byte_interval_us > 0 ? 1 : len;
        for (size_t at = 0; at < len; at += step) {
            gsize written = 0;
            if (!g_output_stream_write_all(out, data + at, std::min(step, len - at), &written,
                                           conn.cancellable, nullptr))
                return false;
            {
                std::lock_guard<std::mutex> locker(lock_);
                record_.hostile_bytes += written;
            }
            if (hostile.byte_interval_us > 0)
                sleep_cancellable(conn, hostile.byte_interval_us);
        }
        return !g_cancellable_is_cancelled(conn.cancellable);
    };
    bool open = put(hostile.head.data(), hostile.head.size());
    if (open && !hostile.filler.empty() && hostile.filler_bytes > 0) {
        std::string piece;
        while (piece.size() < kPiece)
            piece += hostile.filler;
        piece.resize(kPiece);
        for (uint64_t left = hostile.filler_bytes; open && left > 0;) {
            const size_t len = static_cast<size_t>(std::min<uint64_t>(left, piece.size()));
            open = put(piece.data(), len);
            if (left != UINT64_MAX)
                left -= len;
        }
    }
    if (open)
        open = put(hostile.tail.data(), hostile.tail.size());
    while (open && read_more(conn))
        conn.input.clear();
}

void Receiver::Impl::sleep_cancellable(Conn &conn, int64_t us) {
    const int64_t end = g_get_monotonic_time() + us;
    while (g_get_monotonic_time() < end && !g_cancellable_is_cancelled(conn.cancellable))
        g_usleep(5000);
}

std::string Receiver::Impl::answer(unsigned status, const std::string &push_id, bool close,
                                   const std::string &extra) {
    std::string server;
    bool set_cookie = true;
    {
        std::lock_guard<std::mutex> locker(lock_);
        server = options_.server;
        set_cookie = options_.set_cookie;
    }
    std::string text =
        "HTTP/1.1 " + std::to_string(status) + " " + soup_status_get_phrase(status) + "\r\n";
    text += "Server: " + server + "\r\n";
    text += "Content-Length: 0\r\n";
    text += "Pragma: no-cache, timeout=60000\r\n";
    text += "Cache-Control: no-cache\r\n";
    if (set_cookie && !push_id.empty())
        text += "Set-Cookie: push-id=" + push_id + "\r\n";
    text += std::string("Supported: ") + kSupported + "\r\n";
    text += extra;
    if (close)
        text += "Connection: close\r\n";
    else
        text += "Connection: Keep-Alive\r\n";
    return text + "\r\n";
}

void Receiver::Impl::record_request(const RequestRecord &request) {
    std::lock_guard<std::mutex> locker(lock_);
    record_.requests.push_back(request);
    changed_.notify_all();
}

void Receiver::Impl::set_answer(int connection, unsigned status) {
    std::lock_guard<std::mutex> locker(lock_);
    for (auto it = record_.requests.rbegin(); it != record_.requests.rend(); ++it) {
        if (it->connection == connection) {
            it->answer = status;
            break;
        }
    }
    changed_.notify_all();
}

void Receiver::Impl::serve(std::shared_ptr<Conn> conn) {
    if (tls_) {
        g_autoptr(GError) error = nullptr;
        GIOStream *tls = g_tls_server_connection_new(conn->stream, certificate_, &error);
        if (!tls || !g_tls_connection_handshake(G_TLS_CONNECTION(tls), conn->cancellable, &error)) {
            g_clear_object(&tls);
            return;
        }
        /* Keep the TCP connection reachable for close(): wrap, do not replace. */
        GIOStream *wrapper = G_IO_STREAM(g_tcp_wrapper_connection_new(
            tls, g_socket_connection_get_socket(G_SOCKET_CONNECTION(conn->stream))));
        g_object_unref(tls);
        g_object_unref(conn->stream);
        conn->stream = wrapper;
    }
    while (serve_request(*conn)) {
    }
    close(*conn);
}

/* One request; false when the connection ends. */
bool Receiver::Impl::serve_request(Conn &conn) {
    wmstream::proto::http::Scan scan;
    for (;;) {
        scan = wmstream::proto::http::scan_header_block(conn.input.data(), conn.input.size());
        if (scan.state == wmstream::proto::http::Scan::State::Complete)
            break;
        if (scan.state == wmstream::proto::http::Scan::State::TooLarge) {
            violation("request head too large");
            return false;
        }
        if (!read_more(conn)) {
            if (!conn.input.empty())
                violation("connection closed in a request head");
            return false;
        }
    }
    auto parsed = wmstream::proto::http::parse_request(conn.input.data(), scan.block_size);
    conn.input.erase(0, scan.block_size);
    if (!parsed) {
        violation("malformed request: " + parsed.error().message);
        write(conn, answer(400, "", true));
        return false;
    }
    RequestRecord request;
    request.method = parsed->method;
    request.path = parsed->path;
    request.headers = parsed->headers;
    request.connection = conn.id;
    request.push_id = cookie_push_id(request.find("Cookie"));

    const Options options = current_options();
    if (options.plain_web_server) {
        record_request(request);
        const std::string html = "<html><body>It works!</body></html>\n";
        write(conn, "HTTP/1.1 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\nContent-Type: "
                    "text/html\r\nContent-Length: " +
                        std::to_string(html.size()) + "\r\n\r\n" + html);
        set_answer(conn.id, 200);
        return true;
    }

    /* Common request rules [MS-WMHTTP §2.2.1, §2.2.2, §3.1.4.1.1, §3.1.4.2.1]. */
    const std::string where = request.method + " " + request.path + ": ";
    if (request.method != "POST")
        violation(where + "method is not POST");
    if (parsed->version_minor != 1 && parsed->version_minor != 0)
        violation(where + "not HTTP/1.x");
    static const std::regex agent("WMEncoder/(9|10|11|12)\\.0(\\.[0-9]{1,4}\\.[0-9]{1,4})?( .*)?");
    const std::string *user_agent = request.find("User-Agent");
    if (!user_agent || !std::regex_match(*user_agent, agent))
        violation(where + "User-Agent '" + (user_agent ? *user_agent : "") +
                  "' is not WMEncoder/<9|10|11|12>.0");
    if (!request.find("Host"))
        violation(where + "no Host");
    if (!request.find("X-Accept-Authentication"))
        violation(where + "no X-Accept-Authentication");
    if (request.find("Transfer-Encoding"))
        violation(where + "Transfer-Encoding is not allowed");
    for (const char *name : {"Server", "Set-Cookie", "Pragma", "Supported"}) {
        if (request.find(name))
            violation(where + "response-only header " + name);
    }
    const std::string *length = request.find("Content-Length");
    if (!length || length->empty() || length->find_first_not_of("0123456789") != std::string::npos)
        violation(where + "no valid Content-Length");
    const std::string *cookie = request.find("Cookie");
    if (!cookie || request.push_id.empty())
        violation(where + "no push-id cookie");
    const std::string *type = request.find("Content-Type");
    const std::string content_type = type ? *type : "";
    if (content_type != "application/x-wms-pushsetup" &&
        content_type != "application/x-wms-pushstart" &&
        content_type != "application/x-wms-pushsetup;charset=UTF-8" &&
        content_type != "application/x-wms-pushstart;charset=UTF-8")
        violation(where + "Content-Type '" + content_type + "'");

    if (request.is_setup())
        return serve_setup(conn, request);
    if (request.is_start())
        return serve_start(conn, request);
    record_request(request);
    write(conn, answer(400, "", true));
    set_answer(conn.id, 400);
    return false;
}

bool Receiver::Impl::check_auth(const RequestRecord &request) {
    const Options options = current_options();
    if (options.auth_scheme.empty())
        return true;
    const std::string *value = request.find("Authorization");
    if (!value)
        return false;
    if (options.auth_scheme == "Basic") {
        if (!g_str_has_prefix(value->c_str(), "Basic "))
            return false;
        gsize len = 0;
        g_autofree guchar *plain = g_base64_decode(value->c_str() + 6, &len);
        return std::string(reinterpret_cast<char *>(plain), len) ==
               options.user + ":" + options.password;
    }
    if (!g_str_has_prefix(value->c_str(), "Digest "))
        return false;
    GHashTable *params = soup_header_parse_param_list(value->c_str() + 7);
    const auto param = [params](const char *name) {
        const char *text = static_cast<const char *>(g_hash_table_lookup(params, name));
        return std::string(text ? text : "");
    };
    /* RFC 2617 §3.2.2: response = MD5(HA1:nonce:nc:cnonce:qop:HA2), qop=auth. */
    const std::string ha1 = md5(options.user + ":" + kRealm + ":" + options.password);
    const std::string ha2 = md5(request.method + ":" + param("uri"));
    const std::string expected = md5(ha1 + ":" + param("nonce") + ":" + param("nc") + ":" +
                                     param("cnonce") + ":" + param("qop") + ":" + ha2);
    bool ok = param("username") == options.user && param("realm") == kRealm &&
              param("nonce") == nonce_ && param("uri") == request.path && param("qop") == "auth" &&
              param("response") == expected;
    soup_header_free_param_list(params);
    return ok;
}

/* NTLM or Negotiate on PushSetup [MS-WMHTTP §3.2.5.1–2; MS-NTHT]: one leg of the connection's
 * handshake. @return true when the connection is authenticated; else the 401 is written and
 * @keep says whether the connection stays open for the next leg. */
bool Receiver::Impl::authenticate_connection(Conn &conn, const RequestRecord &request,
                                             const Options &options, bool &keep) {
    if (conn.authenticated)
        return true;
    const std::string &scheme = options.auth_scheme;
    const std::string *value = request.find("Authorization");
    const std::string prefix = scheme + " ";
    std::string challenge = "WWW-Authenticate: " + scheme + "\r\n";
    keep = !options.close_on_challenge;
    if (value && g_str_has_prefix(value->c_str(), prefix.c_str())) {
        if (!conn.gss)
            conn.gss = std::make_unique<GssAcceptor>(scheme);
        const GssAcceptor::Leg leg = conn.gss->step(value->substr(prefix.size()));
        if (leg.state == GssAcceptor::State::Complete) {
            conn.authenticated = true;
            std::lock_guard<std::mutex> locker(lock_);
            record_.authenticated.push_back(leg.user);
            changed_.notify_all();
            return true;
        }
        if (leg.state == GssAcceptor::State::Continue) {
            challenge = "WWW-Authenticate: " + scheme + " " + leg.token + "\r\n";
            keep = true;
        } else {
            /* Refused: a new handshake needs a new connection. */
            conn.gss.reset();
            keep = false;
            std::lock_guard<std::mutex> locker(lock_);
            record_.refused++;
            changed_.notify_all();
        }
    } else if (value) {
        violation("Authorization '" + value->substr(0, value->find(' ')) + "' instead of " +
                  scheme);
    }
    const std::string &page = options.challenge_page;
    std::string head = answer(401, "", !keep, challenge);
    const std::string length = "Content-Length: " + std::to_string(page.size()) + "\r\n";
    head.replace(head.find("Content-Length: 0\r\n"), strlen("Content-Length: 0\r\n"), length);
    /* The page in two writes: the client reads past it across reads. */
    write(conn, head + page.substr(0, page.size() / 2));
    if (!page.empty()) {
        sleep_cancellable(conn, 50000);
        write(conn, page.substr(page.size() / 2));
    }
    set_answer(conn.id, 401);
    return false;
}

bool Receiver::Impl::serve_setup(Conn &conn, RequestRecord &request) {
    const std::string *length = request.find("Content-Length");
    const size_t body_len =
        length ? static_cast<size_t>(g_ascii_strtoull(length->c_str(), nullptr, 10)) : 0;
    if (!read_exact(conn, body_len, request.body)) {
        record_request(request);
        violation("PushSetup body shorter than its Content-Length");
        return false;
    }
    record_request(request);

    /* Body syntax [MS-WMHTTP §2.2.2.1.1–2]. */
    static const std::regex line_re("(Template-URL: ?\"(/[^\"]*)\"|AutoDestroy: ?([01]))\r\n");
    bool has_template = false;
    bool auto_destroy = false;
    bool has_auto_destroy = false;
    std::string rest = request.body;
    std::smatch match;
    while (!rest.empty()) {
        if (!std::regex_search(rest, match, line_re) || match.position(0) != 0) {
            violation("PushSetup body line '" + rest + "' is not Template-URL or AutoDestroy");
            break;
        }
        if (match[2].matched) {
            has_template = true;
        } else {
            has_auto_destroy = true;
            auto_destroy = match[3] == "1";
        }
        rest = match.suffix();
    }
    if (has_template && !has_auto_destroy)
        violation("Template-URL without AutoDestroy");

    Options options;
    unsigned forced = 0;
    bool delayed = false;
    bool hostile = false;
    {
        std::lock_guard<std::mutex> locker(lock_);
        options = options_;
        hostile = take(options_.hostile_answers);
        if (hostile)
            record_.hostile_answers++;
        if (!options_.setup_statuses.empty()) {
            forced = options_.setup_statuses.front();
            options_.setup_statuses.erase(options_.setup_statuses.begin());
        }
        if (options_.delayed_answers != 0) {
            delayed = true;
            if (options_.delayed_answers > 0)
                options_.delayed_answers--;
        }
    }
    if (hostile) {
        send_hostile(conn, options.hostile);
        return false;
    }
    if (delayed)
        sleep_cancellable(conn, options.answer_delay_us);
    if (g_cancellable_is_cancelled(conn.cancellable))
        return false;

    if (!options.redirect_path.empty() && request.path == options.redirect_path) {
        write(conn, answer(options.redirect_status, "", true,
                           "Location: " + options.redirect_location + "\r\n"));
        set_answer(conn.id, options.redirect_status);
        return false;
    }
    if (is_connection_scheme(options.auth_scheme)) {
        bool keep = false;
        if (!authenticate_connection(conn, request, options, keep))
            return keep;
    } else if (!check_auth(request)) {
        const std::string challenge =
            options.auth_scheme == "Basic"
                ? std::string("WWW-Authenticate: Basic realm=\"") + kRealm + "\"\r\n"
                : std::string("WWW-Authenticate: Digest realm=\"") + kRealm + "\", nonce=\"" +
                      nonce_ + "\", qop=\"auth\", algorithm=MD5\r\n";
        /* Resubmitted on a new connection [MS-WMHTTP §3.1.5.1]. */
        write(conn, answer(401, "", true, challenge));
        set_answer(conn.id, 401);
        return false;
    }
    if (forced) {
        write(conn, answer(forced, "", true));
        set_answer(conn.id, forced);
        return false;
    }

    std::string push_id = request.push_id;
    {
        std::unique_lock<std::mutex> locker(lock_);
        if (push_id != "0" && !push_id.empty()) {
            /* A previous connection of this session may not have noticed its end yet. */
            changed_.wait_for(locker, std::chrono::seconds(20), [&] {
                auto it = sessions_.find(push_id);
                return it == sessions_.end() || it->second.active_connection == 0;
            });
            auto it = sessions_.find(push_id);
            if (it == sessions_.end() || it->second.active_connection != 0) {
                /* Unknown or busy session: an error status [MS-WMHTTP §3.2.5.1]. */
                locker.unlock();
                write(conn, answer(400, "", true));
                set_answer(conn.id, 400);
                return false;
            }
            it->second.auto_destroy = auto_destroy;
        } else {
            g_autofree char *id = g_strdup_printf("%u%06u", g_random_int_range(1, 100000),
                                                  g_random_int_range(0, 999999));
            push_id = id;
            PushSession session;
            session.auto_destroy = auto_destroy;
            sessions_[push_id] = session;
            record_.push_ids.push_back(push_id);
        }
    }
    write(conn, answer(options.success_status, push_id, !options.keep_alive));
    set_answer(conn.id, options.success_status);
    return options.keep_alive;
}

bool Receiver::Impl::serve_start(Conn &conn, RequestRecord &request) {
    record_request(request);
    const std::string *length = request.find("Content-Length");
    uint64_t remaining = length ? g_ascii_strtoull(length->c_str(), nullptr, 10) : 0;
    if (is_connection_scheme(current_options().auth_scheme) ? !conn.authenticated
                                                            : !check_auth(request)) {
        violation("PushStart without valid authorization");
        write(conn, answer(401, "", true));
        set_answer(conn.id, 401);
        return false;
    }
    std::string push_id = request.push_id;
    size_t close_after = 0;
    bool stall = false;
    {
        std::unique_lock<std::mutex> locker(lock_);
        /* Without Set-Cookie the client cannot know the id: the newest session is meant. */
        if (!options_.set_cookie && push_id == "0" && !record_.push_ids.empty())
            push_id = record_.push_ids.back();
        auto it = sessions_.find(push_id);
        if (it == sessions_.end() || it->second.active_connection != 0) {
            locker.unlock();
            violation("PushStart for unknown or busy push-id '" + push_id + "'");
            write(conn, answer(400, "", true));
            set_answer(conn.id, 400);
            return false;
        }
        stall = take(options_.stalled_bodies);
        if (stall) {
            /* Never reads this body: the session is free for the client's next connection. */
            record_.stalled++;
            changed_.notify_all();
        } else {
            it->second.active_connection = conn.id;
        }
        close_after = options_.close_after_packets;
        options_.close_after_packets = 0;
    }
    if (stall) {
        /* Until stop() or drop_connections(); bounded by a minute whatever the test does. */
        sleep_cancellable(conn, 60 * G_USEC_PER_SEC);
        return false;
    }
    const auto release = [&] {
        std::lock_guard<std::mutex> locker(lock_);
        auto it = sessions_.find(push_id);
        if (it != sessions_.end() && it->second.active_connection == conn.id)
            it->second.active_connection = 0;
        changed_.notify_all();
    };

    wmstream::proto::framing::Reader reader(wmstream::proto::framing::Reader::Mode::Push);
    size_t data_packets = 0;
    bool first = true;
    for (;;) {
        /* Never read past this body: the next request may follow. */
        if (remaining == 0) {
            release();
            write(conn, answer(current_options().success_status, push_id, false));
            set_answer(conn.id, 204);
            return true;
        }
        if (conn.input.empty() && !read_more(conn)) {
            release();
            return false;
        }
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, conn.input.size()));
        reader.feed(reinterpret_cast<const uint8_t *>(conn.input.data()), take);
        conn.input.erase(0, take);
        remaining -= take;
        for (;;) {
            auto next = reader.next();
            if (!next) {
                violation("PushStart body: " + next.error().message);
                release();
                return false;
            }
            if (!next.value())
                break;
            const wmstream::proto::framing::Packet &packet = *next.value();
            PacketRecord record;
            record.id = static_cast<char>(packet.id);
            record.reason = packet.reason.value_or(0);
            record.connection = conn.id;
            record.push_id = push_id;

            std::function<void(const Bytes &)> header_callback;
            std::function<void(const Bytes &)> packet_callback;
            std::function<void()> end_callback;
            bool end = false;
            {
                std::lock_guard<std::mutex> locker(lock_);
                PushSession &session = sessions_[push_id];
                const std::string what = std::string("$") + record.id + ": ";
                if (first && !session.header_seen &&
                    packet.id != wmstream::proto::framing::PacketId::Header)
                    record_.violations.push_back(what + "the first PushStart must begin with $H");
                first = false;
                switch (packet.id) {
                case wmstream::proto::framing::PacketId::Header:
                case wmstream::proto::framing::PacketId::Change: {
                    const bool change = packet.id == wmstream::proto::framing::PacketId::Change;
                    if (change && !session.expect_change)
                        record_.violations.push_back(what + "$C without a preceding $E(1)");
                    if (change && record.reason != 0)
                        record_.violations.push_back(what + "Reason is not 0");
                    if (packet.payload.size() > (change ? 65527u : 65531u))
                        record_.violations.push_back(what + "header too large");
                    auto info = wmstream::proto::asf::parse_header(packet.payload.data(),
                                                                   packet.payload.size());
                    if (!info)
                        record_.violations.push_back(what + info.error().message);
                    else
                        session.packet_size = info->packet_size;
                    session.header_seen = true;
                    session.expect_change = false;
                    record.payload = packet.payload;
                    header_callback = on_header_;
                    if (!output_path_.empty() && !output_header_written_) {
                        FILE *file = fopen(output_path_.c_str(), "wb");
                        if (file) {
                            fwrite(packet.payload.data(), 1, packet.payload.size(), file);
                            fclose(file);
                        }
                        output_header_written_ = true;
                    }
                    break;
                }
                case wmstream::proto::framing::PacketId::Data:
                    if (session.expect_change)
                        record_.violations.push_back(what + "data after $E(1) before $C");
                    if (packet.payload.size() != session.packet_size)
                        record_.violations.push_back(
                            what + "payload of " + std::to_string(packet.payload.size()) +
                            " bytes, header packet size " + std::to_string(session.packet_size));
                    record.payload = packet.payload;
                    packet_callback = on_packet_;
                    if (!output_path_.empty()) {
                        FILE *file = fopen(output_path_.c_str(), "ab");
                        if (file) {
                            fwrite(packet.payload.data(), 1, packet.payload.size(), file);
                            fclose(file);
                        }
                    }
                    data_packets++;
                    break;
                case wmstream::proto::framing::PacketId::End:
                    if (record.reason == 1) {
                        session.expect_change = true;
                    } else {
                        end = true;
                        end_callback = on_end_;
                    }
                    break;
                case wmstream::proto::framing::PacketId::Filler:
                    if (std::any_of(packet.payload.begin(), packet.payload.end(),
                                    [](uint8_t b) { return b != 0; }))
                        record_.violations.push_back(what + "non-zero filler");
                    break;
                default:
                    record_.violations.push_back(what + "not a push packet type");
                    break;
                }
                record_.packets.push_back(std::move(record));
                if (end)
                    sessions_.erase(push_id); /* the session ends [MS-WMHTTP §3.2.5.5] */
                changed_.notify_all();
            }
            if (header_callback)
                header_callback(packet.payload);
            if (packet_callback)
                packet_callback(packet.payload);
            if (end) {
                if (current_options().answer_end) {
                    write(conn, answer(204, push_id, true));
                    set_answer(conn.id, 204);
                }
                if (end_callback)
                    end_callback();
                return false;
            }
            if (close_after && data_packets >= close_after) {
                /* Misbehave: drop the connection in the middle of the body. */
                release();
                return false;
            }
        }
    }
}

/* ---------------------------------------------------------------------- */

Receiver::Receiver(bool tls, const std::string &certificate)
    : impl_(std::make_unique<Impl>(tls, certificate)) {}
Receiver::~Receiver() = default;

uint16_t Receiver::start(uint16_t port) {
    port_ = impl_->start(port);
    return port_;
}

void Receiver::stop(bool forget_sessions) {
    impl_->stop(forget_sessions);
}
void Receiver::drop_connections() {
    impl_->drop_connections();
}

std::string Receiver::url(const std::string &path) const {
    return std::string(impl_->tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
           path;
}

void Receiver::set_options(const Options &options) {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    impl_->options_ = options;
}

Options Receiver::options() const {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    return impl_->options_;
}

Snapshot Receiver::snapshot() const {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    return impl_->record_;
}

bool Receiver::wait_for(const std::function<bool(const Snapshot &)> &ready,
                        int64_t timeout_us) const {
    std::unique_lock<std::mutex> locker(impl_->lock_);
    return impl_->changed_.wait_for(locker, std::chrono::microseconds(timeout_us),
                                    [&] { return ready(impl_->record_); });
}

void Receiver::record_to(const std::string &path) {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    impl_->output_path_ = path;
    impl_->output_header_written_ = false;
}

void Receiver::on_header(std::function<void(const Bytes &)> callback) {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    impl_->on_header_ = std::move(callback);
}

void Receiver::on_packet(std::function<void(const Bytes &)> callback) {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    impl_->on_packet_ = std::move(callback);
}

void Receiver::on_end(std::function<void()> callback) {
    std::lock_guard<std::mutex> locker(impl_->lock_);
    impl_->on_end_ = std::move(callback);
}

} // namespace pushtest
