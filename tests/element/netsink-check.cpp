/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "netsink-check.h"

#include <algorithm>
#include <cstring>

namespace netsinktest {

const guint8 kHeaderGuid[16] = {0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11,
                                0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c};
const guint8 kDataGuid[16] = {0x36, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11,
                              0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c};

const char *const kLivePipeline =
    "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=25/1 ! "
    "avenc_wmv2 bitrate=800000 gop-size=5 ! asfmux streamable=true ! "
    "wmnetsink name=sink port=0 address=127.0.0.1 ";

gint64 deadline() {
    return g_get_monotonic_time() + kWaitUs;
}

bool starts_with(const std::string &text, const std::string &prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

/* ---- bus ---- */

GstMessage *pop(GstBus *bus, GstMessageType types, gint64 timeout_us) {
    return gst_bus_timed_pop_filtered(bus, timeout_us * GST_USECOND, types);
}

GstMessage *pop_element_message(GstBus *bus, const char *name) {
    const gint64 end = deadline();
    for (gint64 now = g_get_monotonic_time(); now < end; now = g_get_monotonic_time()) {
        GstMessage *message = pop(bus, GST_MESSAGE_ELEMENT, end - now);
        if (!message)
            return nullptr;
        if (gst_message_has_name(message, name))
            return message;
        gst_message_unref(message);
    }
    return nullptr;
}

/* ---- a lone sink with its own bus ---- */

LoneSink::LoneSink() {
    sink = gst_element_factory_make("wmnetsink", nullptr);
    fail_unless(sink != nullptr, "wmnetsink not found (GST_PLUGIN_PATH_1_0?)");
    bus = gst_bus_new();
    gst_element_set_bus(sink, bus);
    g_object_set(sink, "port", 0, "address", "127.0.0.1", nullptr);
}

LoneSink::~LoneSink() {
    gst_element_set_state(sink, GST_STATE_NULL);
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
    gst_object_unref(sink);
}

gint LoneSink::current_port() const {
    gint port = -1;
    g_object_get(sink, "current-port", &port, nullptr);
    return port;
}

void LoneSink::assert_ready_fails(gint code, const char *condition, guint hresult,
                                  const std::function<void(const GstStructure *)> &check_details) {
    fail_unless_equals_int(gst_element_set_state(sink, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
    GstMessage *error = pop(bus, GST_MESSAGE_ERROR);
    const GstStructure *details = assert_error(error, GST_RESOURCE_ERROR, code, condition, hresult);
    if (check_details)
        check_details(details);
    gst_message_unref(error);
    fail_unless_equals_int(current_port(), 0);
}

/* ---- sockets ---- */

GSocket *listen_on(guint16 port, GError **error) {
    GSocket *socket =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
    fail_unless(socket != nullptr);
    GInetAddress *loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *address = g_inet_socket_address_new(loopback, port);
    const bool ok = g_socket_bind(socket, address, FALSE, error) && g_socket_listen(socket, error);
    g_object_unref(address);
    g_object_unref(loopback);
    if (!ok)
        g_clear_object(&socket);
    return socket;
}

guint16 local_port(GSocket *socket) {
    GSocketAddress *address = g_socket_get_local_address(socket, nullptr);
    fail_unless(address != nullptr);
    const guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address));
    g_object_unref(address);
    return port;
}

TestClient::TestClient(guint port) {
    GSocketClient *client = g_socket_client_new();
    g_socket_client_set_timeout(client, 5);
    GError *error = nullptr;
    connection_ = g_socket_client_connect_to_host(client, "127.0.0.1", port, nullptr, &error);
    g_object_unref(client);
    fail_unless(connection_ != nullptr, "connect to 127.0.0.1:%u: %s", port,
                error ? error->message : "?");
    socket_ = g_socket_connection_get_socket(connection_);
    g_socket_set_timeout(socket_, kSocketTimeoutS);
}

void TestClient::close() {
    if (!connection_)
        return;
    g_io_stream_close(G_IO_STREAM(connection_), nullptr, nullptr);
    g_clear_object(&connection_);
    socket_ = nullptr;
}

void TestClient::send(const std::string &text) {
    for (size_t sent = 0; sent < text.size();) {
        const gssize n =
            g_socket_send(socket_, text.data() + sent, text.size() - sent, nullptr, nullptr);
        fail_unless(n > 0, "send failed");
        sent += size_t(n);
    }
}

void TestClient::get(const char *user_agent, const std::string &path, const std::string &extra) {
    send("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: */*\r\nUser-Agent: " +
         user_agent + "\r\n" + extra + "Connection: Close\r\n\r\n");
}

void TestClient::play(const std::string &extra) {
    send(std::string("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: */*\r\nUser-Agent: ") +
         kPlayerAgent +
         "\r\nPragma: no-cache,rate=1.000000,request-context=2\r\n"
         "Pragma: xPlayStrm=1\r\n"
         "Pragma: xClientGUID={c77e7400-738a-11d2-9add-0020af0a3278}\r\n"
         "Pragma: stream-switch-count=1\r\n"
         "Pragma: stream-switch-entry=ffff:1:0 \r\n" +
         extra + "Connection: Close\r\n\r\n");
}

bool TestClient::read_head(gint64 end) {
    while (head_end_ == std::string::npos) {
        if (!receive(end))
            return false;
        head_end_ = raw_.find("\r\n\r\n");
    }
    head_ = raw_.substr(0, head_end_ + 2);
    body_.insert(body_.end(), raw_.begin() + head_end_ + 4, raw_.end());
    return true;
}

bool TestClient::read_body(size_t n, gint64 end) {
    while (body_.size() < n)
        if (!receive(end))
            return false;
    return true;
}

bool TestClient::wait_closed(gint64 end) {
    while (receive(end)) {
    }
    return eof_;
}

std::string TestClient::header(const std::string &name) const {
    const std::vector<std::string> values = headers(name);
    return values.empty() ? "" : values.front();
}

std::vector<std::string> TestClient::headers(const std::string &name) const {
    std::vector<std::string> values;
    size_t line = head_.find("\r\n");
    while (line != std::string::npos && line + 2 < head_.size()) {
        const size_t start = line + 2;
        line = head_.find("\r\n", start);
        const std::string text = head_.substr(start, line - start);
        const size_t colon = text.find(':');
        if (colon != std::string::npos &&
            g_ascii_strncasecmp(text.c_str(), name.c_str(), colon) == 0 && colon == name.size())
            values.push_back(text.substr(text.find_first_not_of(' ', colon + 1)));
    }
    return values;
}

bool TestClient::receive(gint64 end) {
    if (eof_)
        return false;
    guint8 buffer[65536];
    while (g_get_monotonic_time() < end) {
        GError *error = nullptr;
        const gssize n = g_socket_receive(socket_, reinterpret_cast<gchar *>(buffer), sizeof buffer,
                                          nullptr, &error);
        if (n > 0) {
            received_ += size_t(n);
            if (head_end_ == std::string::npos)
                raw_.append(reinterpret_cast<char *>(buffer), size_t(n));
            else
                body_.insert(body_.end(), buffer, buffer + n);
            return true;
        }
        if (n == 0 || !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
            eof_ = true; /* closed or reset */
            g_clear_error(&error);
            return false;
        }
        g_clear_error(&error);
    }
    return false;
}

wmstream::proto::framing::Packet WmspReader::next(gint64 end) {
    for (;;) {
        auto &body = client_.body();
        reader_.feed(body.data(), body.size());
        body.clear();
        auto packet = reader_.next();
        fail_unless(packet.ok(), "framing error: %s",
                    packet.ok() ? "" : packet.error().message.c_str());
        if (*packet)
            return std::move(**packet);
        fail_unless(client_.read_body(1, end), "no more MS-WMSP packets");
    }
}

void WmspReader::read_data(size_t count, bool allow_change) {
    const gint64 end = deadline();
    for (size_t i = 0; i < count; ++i) {
        wmstream::proto::framing::Packet packet = next(end);
        if (allow_change && packet.id == wmstream::proto::framing::PacketId::Change) {
            allow_change = false;
            packet = next(end);
            fail_unless_equals_int(int(packet.id), int(wmstream::proto::framing::PacketId::Header));
            packet = next(end);
        }
        fail_unless_equals_int(int(packet.id), int(wmstream::proto::framing::PacketId::Data));
        fail_unless(!packet.payload.empty());
        if (data_packets_ > 0) {
            fail_unless_equals_uint64(packet.location_id, last_location_ + 1);
            fail_unless_equals_int(packet.af_flags, guint8(last_af_flags_ + 1));
        }
        last_location_ = packet.location_id;
        last_af_flags_ = packet.af_flags;
        ++data_packets_;
    }
}

void expect_play_response(TestClient &client, WmspReader &reader) {
    fail_unless(client.read_head(), "no response head");
    fail_unless(starts_with(client.status_line(), "HTTP/1.0 200"), "%s",
                client.status_line().c_str());
    const std::string content_type = client.header("Content-Type");
    fail_unless_equals_string(content_type.c_str(), "application/x-mms-framed");
    const std::string server = client.header("Server");
    fail_unless(starts_with(server, "Rex/"), "Server: %s", server.c_str());
    wmstream::proto::framing::Packet header = reader.next();
    fail_unless_equals_int(int(header.id), int(wmstream::proto::framing::PacketId::Header));
    fail_unless_equals_int(header.af_flags, wmstream::proto::framing::kHeaderWhole);
    fail_unless(header.payload.size() > sizeof kHeaderGuid);
    fail_unless(std::memcmp(header.payload.data(), kHeaderGuid, sizeof kHeaderGuid) == 0);
}

void expect_raw_asf_response(TestClient &client) {
    fail_unless(client.read_head(), "no response head");
    fail_unless(starts_with(client.status_line(), "HTTP/1.0 200"), "%s",
                client.status_line().c_str());
    const std::string content_type = client.header("Content-Type");
    fail_unless_equals_string(content_type.c_str(), "video/x-ms-asf");
    fail_unless(client.read_body(24));
    const std::vector<guint8> &body = client.body();
    fail_unless(std::memcmp(body.data(), kHeaderGuid, sizeof kHeaderGuid) == 0);
    guint64 header_size = 0;
    for (int i = 7; i >= 0; --i)
        header_size = header_size << 8 | body[16 + i];
    fail_unless(header_size > 30 && header_size < 65536, "header size %" G_GUINT64_FORMAT,
                header_size);
    /* Header, Data Object head and at least one data packet. */
    fail_unless(client.read_body(header_size + kDataObjectHead + 1));
    fail_unless(std::memcmp(client.body().data() + header_size, kDataGuid, sizeof kDataGuid) == 0);
}

/* ---- signals ---- */

Recorder::Recorder(GstElement *sink)
    : sink_(GST_ELEMENT(gst_object_ref(sink))), log_(std::make_shared<Log>()) {
    added_handler_ = connect("client-added", G_CALLBACK(on_added));
    removed_handler_ = connect("client-removed", G_CALLBACK(on_removed));
}

Recorder::~Recorder() {
    g_signal_handler_disconnect(sink_, added_handler_);
    g_signal_handler_disconnect(sink_, removed_handler_);
    gst_object_unref(sink_);
}

ClientEvent Recorder::wait_for(
    const std::function<const ClientEvent *(const std::vector<ClientEvent> &)> &select) {
    std::unique_lock<std::mutex> locker(log_->lock);
    const gint64 end = deadline();
    for (;;) {
        if (const ClientEvent *found = select(log_->events))
            return *found;
        const gint64 left = end - g_get_monotonic_time();
        fail_unless(left > 0, "timed out waiting for a client signal");
        log_->changed.wait_for(locker, std::chrono::microseconds(left));
    }
}

ClientEvent Recorder::wait_match(const std::function<bool(const ClientEvent &)> &match) {
    return wait_for([&match](const std::vector<ClientEvent> &events) -> const ClientEvent * {
        auto found = std::find_if(events.begin(), events.end(), match);
        return found == events.end() ? nullptr : &*found;
    });
}

ClientEvent Recorder::wait_added(size_t nth) {
    return wait_for([nth](const std::vector<ClientEvent> &events) -> const ClientEvent * {
        size_t seen = 0;
        for (const ClientEvent &e : events)
            if (e.added && seen++ == nth)
                return &e;
        return nullptr;
    });
}

ClientEvent Recorder::wait_removed(guint64 id) {
    return wait_match([id](const ClientEvent &e) { return !e.added && e.id == id; });
}

std::vector<ClientEvent> Recorder::events() {
    std::lock_guard<std::mutex> locker(log_->lock);
    return log_->events;
}

void Recorder::Log::record(const ClientEvent &event) {
    std::lock_guard<std::mutex> locker(lock);
    events.push_back(event);
    changed.notify_all();
}

gulong Recorder::connect(const char *signal, GCallback callback) {
    return g_signal_connect_data(
        sink_, signal, callback, new LogRef(log_),
        [](gpointer data, GClosure *) { delete static_cast<LogRef *>(data); }, GConnectFlags(0));
}

void Recorder::on_added(GstElement *, guint64 id, gpointer log) {
    (*static_cast<LogRef *>(log))->record({true, id, -1});
}

void Recorder::on_removed(GstElement *, guint64 id, gint reason, gpointer log) {
    (*static_cast<LogRef *>(log))->record({false, id, reason});
}

gint remove_reason(const char *nick) {
    GType type = g_type_from_name("GstWmNetSinkRemoveReason");
    fail_unless(type != 0);
    GEnumClass *enum_class = G_ENUM_CLASS(g_type_class_ref(type));
    GEnumValue *value = g_enum_get_value_by_nick(enum_class, nick);
    fail_unless(value != nullptr, "no reason '%s'", nick);
    const gint result = value->value;
    g_type_class_unref(enum_class);
    return result;
}

guint num_clients(GstElement *sink) {
    guint n = G_MAXUINT;
    g_object_get(sink, "num-clients", &n, nullptr);
    return n;
}

guint64 server_stat(GstElement *sink, const char *field) {
    GstStructure *stats = nullptr;
    g_object_get(sink, "server-stats", &stats, nullptr);
    fail_unless(stats != nullptr);
    guint64 value = 0;
    fail_unless(gst_structure_get_uint64(stats, field, &value), "%s missing", field);
    gst_structure_free(stats);
    return value;
}

/* ---- a live pipeline ---- */

LivePipeline::LivePipeline(const char *sink_properties, GstState state,
                           const std::function<void(LivePipeline &)> &before_start) {
    GError *error = nullptr;
    const std::string description = std::string(kLivePipeline) + sink_properties;
    pipeline = gst_parse_launch(description.c_str(), &error);
    fail_unless(pipeline != nullptr && error == nullptr, "%s: %s", description.c_str(),
                error ? error->message : "");
    sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    bus = gst_element_get_bus(pipeline);
    if (before_start)
        before_start(*this);
    set_state(state);
    gint current = 0;
    g_object_get(sink, "current-port", &current, nullptr);
    fail_unless(current > 0);
    port = guint(current);
}

LivePipeline::~LivePipeline() {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(sink);
    gst_object_unref(pipeline);
}

void LivePipeline::set_state(GstState state) {
    fail_unless(gst_element_set_state(pipeline, state) != GST_STATE_CHANGE_FAILURE);
    fail_unless(gst_element_get_state(pipeline, nullptr, nullptr, kWaitUs * GST_USECOND) !=
                GST_STATE_CHANGE_FAILURE);
}

void LivePipeline::check_no_error() {
    GstMessage *message = pop(bus, GST_MESSAGE_ERROR, 0);
    if (message) {
        GError *error = nullptr;
        gchar *debug = nullptr;
        gst_message_parse_error(message, &error, &debug);
        fail("unexpected error: %s (%s)", error->message, debug);
    }
}

} // namespace netsinktest
