/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Element tests of wmnetsink (GstCheck): the properties gst-inspect shows,
 * the listener's life cycle and its errors, and the data path: real asfmux
 * output served to raw TCP clients speaking plain HTTP and MS-WMSP. Every
 * listener binds port 0 on 127.0.0.1; every wait is bounded.
 */
#include "bounded.h"
#include "netsink-check.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace netsinktest;

namespace {

/** A stream header and data packets captured from asfmux. */
struct AsfCapture {
    GstBuffer *header = nullptr;
    std::vector<GstBuffer *> packets;

    AsfCapture() {
        GError *error = nullptr;
        GstElement *pipeline = gst_parse_launch(
            "videotestsrc num-buffers=50 ! video/x-raw,width=160,height=120,framerate=25/1 ! "
            "avenc_wmv2 bitrate=800000 gop-size=5 ! asfmux streamable=true ! "
            "appsink name=out sync=false",
            &error);
        fail_unless(pipeline != nullptr && error == nullptr);
        GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
        fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
        for (;;) {
            GstSample *sample = nullptr;
            g_signal_emit_by_name(out, "try-pull-sample", GST_CLOCK_TIME_NONE, &sample);
            if (!sample)
                break; /* EOS */
            GstBuffer *buffer = gst_buffer_ref(gst_sample_get_buffer(sample));
            gst_sample_unref(sample);
            if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_HEADER) && !header)
                header = buffer;
            else
                packets.push_back(buffer);
        }
        gst_element_set_state(pipeline, GST_STATE_NULL);
        gst_object_unref(out);
        gst_object_unref(pipeline);
        fail_unless(header != nullptr);
        fail_unless(packets.size() >= 8, "%zu packets", packets.size());
        fail_if(GST_BUFFER_FLAG_IS_SET(packets[0], GST_BUFFER_FLAG_DELTA_UNIT));
    }
    ~AsfCapture() {
        gst_buffer_unref(header);
        for (GstBuffer *packet : packets)
            gst_buffer_unref(packet);
    }
    AsfCapture(const AsfCapture &) = delete;
    AsfCapture &operator=(const AsfCapture &) = delete;
};

GstStaticPadTemplate any_src =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

void push(GstElement *appsrc, GstBuffer *buffer) {
    GstFlowReturn ret = GST_FLOW_ERROR;
    g_signal_emit_by_name(appsrc, "push-buffer", buffer, &ret);
    fail_unless_equals_int(ret, GST_FLOW_OK);
}

/**
 * A lone sink fed through a test pad with captured asfmux output: caps
 * without streamheader, then the header as a HEADER buffer. Nothing upstream
 * sends EOS after an error.
 */
struct FedSink {
    AsfCapture asf;
    LoneSink lone;
    GstPad *src = nullptr;

    FedSink() {
        src = gst_check_setup_src_pad(lone.sink, &any_src);
        gst_pad_set_active(src, TRUE);
        fail_unless(gst_element_set_state(lone.sink, GST_STATE_PLAYING) !=
                    GST_STATE_CHANGE_FAILURE);
        GstCaps *caps = gst_caps_from_string("video/x-ms-asf");
        gst_check_setup_events(src, lone.sink, caps, GST_FORMAT_TIME);
        gst_caps_unref(caps);
        fail_unless_equals_int(push(asf.header), GST_FLOW_OK);
    }
    ~FedSink() {
        gst_element_set_state(lone.sink, GST_STATE_NULL);
        gst_check_teardown_src_pad(lone.sink);
    }
    FedSink(const FedSink &) = delete;
    FedSink &operator=(const FedSink &) = delete;

    GstFlowReturn push(GstBuffer *buffer) { return gst_pad_push(src, gst_buffer_ref(buffer)); }
    /** Push captured packets [@p from, @p to). */
    void push_packets(size_t from, size_t to) {
        for (size_t i = from; i < to; ++i)
            fail_unless_equals_int(push(asf.packets[i]), GST_FLOW_OK);
    }
};

} // namespace

/* ---- what gst-inspect shows ---- */

GST_START_TEST(test_defaults_and_ranges) {
    GstElement *sink = gst_element_factory_make("wmnetsink", nullptr);

    gint port = -1, current_port = -1, max_clients = 0, backlog = 0, protocol = -1;
    gboolean sync = TRUE;
    gchar *address = nullptr, *host_url = nullptr;
    guint clients = 1, io_threads = 0;
    guint64 timeout = 0, flush_interval = 0, bytes_served = 1;
    gint64 units_max = 0, units_soft_max = 0, max_write_delay = 0;
    GstFormat unit_format = GST_FORMAT_UNDEFINED;
    gint recover_policy = -1, io_realtime_priority = -1;
    g_object_get(sink, "port", &port, "current-port", &current_port, "max-clients", &max_clients,
                 "backlog", &backlog, "protocol", &protocol, "sync", &sync, "address", &address,
                 "host-url", &host_url, "num-clients", &clients, "units-max", &units_max,
                 "units-soft-max", &units_soft_max, "unit-format", &unit_format, "recover-policy",
                 &recover_policy, "timeout", &timeout, "flush-interval", &flush_interval,
                 "max-write-delay", &max_write_delay, "bytes-served", &bytes_served, "io-threads",
                 &io_threads, "io-realtime-priority", &io_realtime_priority, nullptr);
    fail_unless_equals_int(port, 8080);
    fail_unless_equals_int(io_threads, 0);           /* automatic */
    fail_unless_equals_int(io_realtime_priority, 0); /* the normal scheduler */
    fail_unless_equals_int(current_port, 0);
    fail_unless_equals_int(max_clients, 5);
    fail_unless_equals_int(backlog, 1024);
    fail_unless_equals_int(protocol, 0); /* WMT_PROTOCOL_HTTP */
    fail_if(sync);
    fail_unless(address == nullptr);
    fail_unless(host_url == nullptr);
    fail_unless_equals_int(clients, 0);
    /* Bounded by default, unlike tcpserversink's unlimited units-max. */
    fail_unless_equals_int64(units_max, 30 * GST_SECOND);
    fail_unless_equals_int64(units_soft_max, 5 * GST_SECOND);
    fail_unless_equals_int(unit_format, GST_FORMAT_TIME);
    GParamSpec *policy_spec =
        g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "recover-policy");
    fail_unless(policy_spec != nullptr);
    fail_unless_equals_string(
        g_enum_get_value(G_PARAM_SPEC_ENUM(policy_spec)->enum_class, recover_policy)->value_nick,
        "keyframe");
    fail_unless_equals_uint64(timeout, 10 * GST_SECOND);
    fail_unless_equals_uint64(flush_interval, 125 * GST_MSECOND);
    fail_unless_equals_int64(max_write_delay, -1); /* automatic: 8 flush-intervals */
    fail_unless_equals_uint64(bytes_served, 0);

    GObjectClass *klass = G_OBJECT_GET_CLASS(sink);
    auto int_spec = [klass](const char *name) {
        GParamSpec *spec = g_object_class_find_property(klass, name);
        fail_unless(spec != nullptr && G_IS_PARAM_SPEC_INT(spec), "%s", name);
        fail_unless(g_param_spec_get_blurb(spec) && std::strlen(g_param_spec_get_blurb(spec)) > 20);
        return G_PARAM_SPEC_INT(spec);
    };
    fail_unless_equals_int(int_spec("port")->minimum, 0);
    fail_unless_equals_int(int_spec("port")->maximum, 65535);
    fail_unless_equals_int(int_spec("port")->default_value, 8080);
    fail_unless_equals_int(int_spec("max-clients")->minimum, -1);
    fail_unless_equals_int(int_spec("max-clients")->maximum, G_MAXINT);
    fail_unless_equals_int(int_spec("max-clients")->default_value, 5);
    fail_unless_equals_int(int_spec("backlog")->minimum, 1);
    fail_unless_equals_int(int_spec("backlog")->maximum, 65535);
    fail_unless_equals_int(int_spec("backlog")->default_value, 1024);
    for (const char *read_only : {"current-port", "host-url", "num-clients", "bytes-served"}) {
        GParamSpec *spec = g_object_class_find_property(klass, read_only);
        fail_unless(spec != nullptr, "%s", read_only);
        fail_if(spec->flags & G_PARAM_WRITABLE, "%s is writable", read_only);
    }
    GParamSpec *protocol_spec = g_object_class_find_property(klass, "protocol");
    fail_unless(G_IS_PARAM_SPEC_ENUM(protocol_spec));
    GEnumValue *http = g_enum_get_value(G_PARAM_SPEC_ENUM(protocol_spec)->enum_class, 0);
    fail_unless(http != nullptr);
    fail_unless_equals_string(http->value_nick, "http");

    /* Out of range: GLib refuses it (with a warning) and the value stays. */
    ASSERT_WARNING(g_object_set(sink, "port", 70000, nullptr));
    g_object_get(sink, "port", &port, nullptr);
    fail_unless_equals_int(port, 8080);

    for (const char *nick :
         {"closed", "disconnected", "slow", "error", "over-limit", "eos", "removed"})
        remove_reason(nick);

    GstElementFactory *factory = gst_element_get_factory(sink);
    fail_unless_equals_string(gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS),
                              "Sink/Network");
    GstPad *pad = gst_element_get_static_pad(sink, "sink");
    GstCaps *template_caps = gst_pad_get_pad_template_caps(pad);
    GstCaps *asf = gst_caps_from_string("video/x-ms-asf");
    fail_unless(gst_caps_is_equal(template_caps, asf));

    gst_caps_unref(asf);
    gst_caps_unref(template_caps);
    gst_object_unref(pad);
    g_free(address);
    g_free(host_url);
    gst_object_unref(sink);
}
GST_END_TEST;

/* ---- the listener ---- */

static void count_notify(GObject *, GParamSpec *, gpointer count) {
    ++*static_cast<int *>(count);
}

GST_START_TEST(test_open_port_zero) {
    LoneSink lone;
    int notified = 0;
    g_signal_connect(lone.sink, "notify::current-port", G_CALLBACK(count_notify), &notified);

    fail_unless_equals_int(gst_element_set_state(lone.sink, GST_STATE_READY),
                           GST_STATE_CHANGE_SUCCESS);
    const gint port = lone.current_port();
    fail_unless(port > 0 && port <= 65535, "current-port %d", port);
    fail_unless_equals_int(notified, 1);

    gchar *host_url = nullptr;
    g_object_get(lone.sink, "host-url", &host_url, nullptr);
    fail_unless(host_url != nullptr);
    gchar *port_text = g_strdup_printf(":%d/", port);
    fail_unless(g_str_has_prefix(host_url, "http://"), "%s", host_url);
    fail_unless(std::strstr(host_url, port_text) != nullptr, "%s", host_url);

    GstMessage *open = pop_element_message(lone.bus, "wmnetsink-open");
    fail_unless(open != nullptr, "no wmnetsink-open message");
    const GstStructure *s = gst_message_get_structure(open);
    guint message_port = 0;
    fail_unless(gst_structure_get_uint(s, "port", &message_port));
    fail_unless_equals_int(message_port, port);
    fail_unless_equals_string(gst_structure_get_string(s, "host-url"), host_url);
    fail_unless_equals_string(gst_structure_get_string(s, "address"), "127.0.0.1");
    gst_message_unref(open);

    /* Connections wait in the backlog from READY on. */
    { TestClient client(port); }

    fail_unless_equals_int(gst_element_set_state(lone.sink, GST_STATE_NULL),
                           GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int(lone.current_port(), 0);
    fail_unless_equals_int(notified, 2);
    gchar *closed_url = nullptr;
    g_object_get(lone.sink, "host-url", &closed_url, nullptr);
    fail_unless(closed_url == nullptr);

    g_free(port_text);
    g_free(host_url);
}
GST_END_TEST;

GST_START_TEST(test_port_in_use) {
    GSocket *taken = listen_on(0, nullptr);
    fail_unless(taken != nullptr);
    const guint16 port = local_port(taken);

    LoneSink lone;
    g_object_set(lone.sink, "port", gint(port), nullptr);
    lone.assert_ready_fails(GST_RESOURCE_ERROR_BUSY, "NS_E_NETWORK_RESOURCE_FAILURE", 0xC00D0028u,
                            [port](const GstStructure *details) {
                                guint detail_port = 0;
                                fail_unless(gst_structure_get_uint(details, "port", &detail_port));
                                fail_unless_equals_int(detail_port, port);
                                fail_unless_equals_string(
                                    gst_structure_get_string(details, "address"), "127.0.0.1");
                            });
    GstState state = GST_STATE_VOID_PENDING;
    gst_element_get_state(lone.sink, &state, nullptr, 0);
    fail_unless_equals_int(state, GST_STATE_NULL);

    /* Once the port is free the same element opens. */
    g_socket_close(taken, nullptr);
    g_object_unref(taken);
    fail_unless_equals_int(gst_element_set_state(lone.sink, GST_STATE_READY),
                           GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int(lone.current_port(), port);
}
GST_END_TEST;

GST_START_TEST(test_bad_address) {
    LoneSink lone;
    /* TEST-NET-1 (RFC 5737): never a local address. */
    g_object_set(lone.sink, "address", "192.0.2.1", nullptr);
    lone.assert_ready_fails(GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u);
}
GST_END_TEST;

GST_START_TEST(test_null_releases_port) {
    LoneSink lone;
    fail_unless_equals_int(gst_element_set_state(lone.sink, GST_STATE_READY),
                           GST_STATE_CHANGE_SUCCESS);
    const gint port = lone.current_port();
    fail_unless(port > 0);
    fail_unless_equals_int(gst_element_set_state(lone.sink, GST_STATE_NULL),
                           GST_STATE_CHANGE_SUCCESS);

    GError *error = nullptr;
    GSocket *again = listen_on(guint16(port), &error);
    fail_unless(again != nullptr, "port %d still bound: %s", port, error ? error->message : "");
    g_socket_close(again, nullptr);
    g_object_unref(again);
}
GST_END_TEST;

GST_START_TEST(test_refused_while_open) {
    LoneSink lone;
    fail_unless_equals_int(gst_element_set_state(lone.sink, GST_STATE_READY),
                           GST_STATE_CHANGE_SUCCESS);
    const gint port = lone.current_port();

    struct Change {
        const char *name;
        std::function<void()> set;
        std::function<bool()> unchanged;
    };
    GstElement *sink = lone.sink;
    auto int_is = [sink](const char *name, gint expected) {
        gint value = 0;
        g_object_get(sink, name, &value, nullptr);
        return value == expected;
    };
    const Change changes[] = {
        {"port", [sink] { g_object_set(sink, "port", 1234, nullptr); },
         [&] { return int_is("port", 0); }},
        {"address", [sink] { g_object_set(sink, "address", "0.0.0.0", nullptr); },
         [sink] {
             gchar *address = nullptr;
             g_object_get(sink, "address", &address, nullptr);
             const bool same = g_strcmp0(address, "127.0.0.1") == 0;
             g_free(address);
             return same;
         }},
        {"max-clients", [sink] { g_object_set(sink, "max-clients", 7, nullptr); },
         [&] { return int_is("max-clients", 5); }},
        {"backlog", [sink] { g_object_set(sink, "backlog", 3, nullptr); },
         [&] { return int_is("backlog", 1024); }},
    };
    for (const Change &change : changes) {
        change.set();
        fail_unless(change.unchanged(), "'%s' changed while open", change.name);
        GstMessage *warning = pop(lone.bus, GST_MESSAGE_WARNING);
        assert_error(warning, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                     "NS_E_INVALID_REQUEST", 0xC00D002Bu);
        GError *error = nullptr;
        gst_message_parse_warning(warning, &error, nullptr);
        fail_unless(std::strstr(error->message, change.name) != nullptr, "%s", error->message);
        g_error_free(error);
        gst_message_unref(warning);
    }
    fail_unless_equals_int(lone.current_port(), port);

    /* Closed again, the change is taken. */
    fail_unless_equals_int(gst_element_set_state(lone.sink, GST_STATE_NULL),
                           GST_STATE_CHANGE_SUCCESS);
    g_object_set(sink, "max-clients", 7, nullptr);
    fail_unless(int_is("max-clients", 7));
    fail_if(pop(lone.bus, GST_MESSAGE_WARNING, 0) != nullptr);
}
GST_END_TEST;

/* ---- the data path ---- */

GST_START_TEST(test_http_client_gets_raw_asf) {
    LivePipeline live;
    TestClient client(live.port);
    client.get(kBrowserAgent);
    expect_raw_asf_response(client);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_wmsp_play) {
    LivePipeline live;
    TestClient client(live.port);
    client.play();
    WmspReader reader(client);
    expect_play_response(client, reader);
    reader.read_data(12);
    live.check_no_error();
}
GST_END_TEST;

/* The File Properties preroll (ms) of the header a plain HTTP client of a live pipeline with
 * @p sink_properties is served. */
static guint64 served_preroll(const char *sink_properties) {
    static const guint8 file_properties[16] = {0xa1, 0xdc, 0xab, 0x8c, 0x47, 0xa9, 0xcf, 0x11,
                                               0x8e, 0xe4, 0x00, 0xc0, 0x0c, 0x20, 0x53, 0x65};
    LivePipeline live(sink_properties);
    TestClient client(live.port);
    client.get(kBrowserAgent);
    expect_raw_asf_response(client);
    const std::vector<guint8> &body = client.body();
    auto found = std::search(body.begin(), body.end(), std::begin(file_properties),
                             std::end(file_properties));
    fail_unless(found != body.end() && body.end() - found >= 88, "no File Properties Object");
    guint64 preroll = 0;
    for (int i = 7; i >= 0; --i)
        preroll = preroll << 8 | found[80 + i];
    live.check_no_error();
    return preroll;
}

/* fast-start and preroll (issue 17) are read at NULL→READY; the served header carries the
 * preroll: 1000 ms by default, the muxer's with -1. */
GST_START_TEST(test_fast_start_and_preroll) {
    GstElement *sink = gst_element_factory_make("wmnetsink", nullptr);
    gint fast_start = 1;
    gint preroll = 0;
    g_object_get(sink, "fast-start", &fast_start, "preroll", &preroll, nullptr);
    fail_unless_equals_int(fast_start, -1);
    fail_unless_equals_int(preroll, 1000);
    for (const char *name : {"fast-start", "preroll"}) {
        GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(sink), name);
        fail_unless(spec != nullptr && (spec->flags & GST_PARAM_MUTABLE_READY), "%s", name);
    }
    gst_object_unref(sink);

    fail_unless_equals_uint64(served_preroll(""), 1000);
    fail_unless_equals_uint64(served_preroll("preroll=-1"), 5000); /* asfmux's */
    fail_unless_equals_uint64(served_preroll("preroll=3000 fast-start=0"), 3000);
}
GST_END_TEST;

GST_START_TEST(test_max_clients) {
    LivePipeline live("max-clients=1");
    Recorder recorder(live.sink);

    TestClient served(live.port);
    served.get(kBrowserAgent);
    expect_raw_asf_response(served);
    recorder.wait_added();

    TestClient refused(live.port);
    refused.play();
    fail_unless(refused.read_head());
    fail_unless(starts_with(refused.status_line(), "HTTP/1.0 503") ||
                    starts_with(refused.status_line(), "HTTP/1.1 503"),
                "%s", refused.status_line().c_str());
    const std::string server = refused.header("Server");
    fail_unless(starts_with(server, "Rex/"), "Server: %s", server.c_str());
    fail_unless(refused.wait_closed(), "refused client not closed");
    const gint over_limit = remove_reason("over-limit");
    recorder.wait_match(
        [over_limit](const ClientEvent &e) { return !e.added && e.reason == over_limit; });

    /* The served client is still served. */
    const size_t had = served.body().size();
    fail_unless(served.read_body(had + 4800));
    fail_unless_equals_int(num_clients(live.sink), 1);
}
GST_END_TEST;

GST_START_TEST(test_client_signals_and_disconnect) {
    LivePipeline live;
    Recorder recorder(live.sink);

    /* Closed by the peer. */
    auto closer = std::make_unique<TestClient>(live.port);
    closer->get(kBrowserAgent);
    expect_raw_asf_response(*closer);
    const ClientEvent added = recorder.wait_added(0);
    fail_unless_equals_int(num_clients(live.sink), 1);

    GstMessage *message = pop_element_message(live.bus, "wmnetsink-client-added");
    fail_unless(message != nullptr);
    const GstStructure *s = gst_message_get_structure(message);
    guint64 id = 0;
    guint port = 0;
    fail_unless(gst_structure_get_uint64(s, "id", &id));
    fail_unless_equals_uint64(id, added.id);
    fail_unless_equals_string(gst_structure_get_string(s, "address"), "127.0.0.1");
    fail_unless(gst_structure_get_uint(s, "port", &port));
    fail_unless_equals_int(port, closer->port());
    fail_unless_equals_string(gst_structure_get_string(s, "user-agent"), kBrowserAgent);
    fail_unless_equals_string(gst_structure_get_string(s, "protocol"), "http");
    gst_message_unref(message);

    /* 127.0.0.1 resolves (through /etc/hosts) to a name. */
    message = pop_element_message(live.bus, "wmnetsink-client-resolved");
    fail_unless(message != nullptr);
    s = gst_message_get_structure(message);
    fail_unless(gst_structure_get_uint64(s, "id", &id));
    fail_unless_equals_uint64(id, added.id);
    fail_unless_equals_string(gst_structure_get_string(s, "address"), "127.0.0.1");
    fail_unless(gst_structure_get_string(s, "dns-name") != nullptr &&
                *gst_structure_get_string(s, "dns-name") != '\0');
    gst_message_unref(message);

    closer.reset();
    ClientEvent removed = recorder.wait_removed(added.id);
    fail_unless_equals_int(removed.reason, remove_reason("closed"));
    message = pop_element_message(live.bus, "wmnetsink-client-removed");
    fail_unless(message != nullptr);
    s = gst_message_get_structure(message);
    fail_unless_equals_string(gst_structure_get_string(s, "reason"), "closed");
    guint64 bytes_sent = 0;
    fail_unless(gst_structure_get_uint64(s, "bytes-sent", &bytes_sent));
    fail_unless(bytes_sent > 0);
    gst_message_unref(message);
    fail_unless_equals_int(num_clients(live.sink), 0);

    /* Disconnected by the application: the port stays. */
    TestClient player(live.port);
    player.play();
    WmspReader reader(player);
    expect_play_response(player, reader);
    const ClientEvent added2 = recorder.wait_added(1);
    fail_unless(added2.id != added.id);
    g_signal_emit_by_name(live.sink, "disconnect");
    removed = recorder.wait_removed(added2.id);
    fail_unless_equals_int(removed.reason, remove_reason("disconnected"));
    fail_unless(player.wait_closed(), "disconnected client still open");
    fail_unless_equals_int(num_clients(live.sink), 0);

    gint port_after = 0;
    g_object_get(live.sink, "current-port", &port_after, nullptr);
    fail_unless_equals_int(port_after, live.port);
    TestClient newcomer(live.port);
    newcomer.get(kBrowserAgent);
    expect_raw_asf_response(newcomer);

    /* Each removal follows its addition. */
    std::vector<ClientEvent> events = recorder.events();
    for (size_t i = 0; i < events.size(); ++i)
        if (!events[i].added)
            fail_unless(std::any_of(events.begin(), events.begin() + i, [&](const ClientEvent &e) {
                return e.added && e.id == events[i].id;
            }));
    live.check_no_error();
}
GST_END_TEST;

/* remove: one viewer is dropped at once (reason removed, also in the element message), the other
 * keeps receiving; an unknown or departed id is FALSE. */
GST_START_TEST(test_remove_one_client) {
    LivePipeline live;
    Recorder recorder(live.sink);
    TestClient kicked(live.port);
    kicked.get(kBrowserAgent);
    expect_raw_asf_response(kicked);
    const ClientEvent kicked_added = recorder.wait_added(0);
    TestClient player(live.port);
    player.play();
    WmspReader reader(player);
    expect_play_response(player, reader);
    const ClientEvent player_added = recorder.wait_added(1);

    gboolean found = FALSE;
    g_signal_emit_by_name(live.sink, "remove", kicked_added.id, &found);
    fail_unless(found, "remove did not find a served client");
    fail_unless_equals_int(recorder.wait_removed(kicked_added.id).reason, remove_reason("removed"));
    fail_unless(kicked.wait_closed(), "the removed client is still connected");
    GstMessage *message = pop_element_message(live.bus, "wmnetsink-client-removed");
    fail_unless(message != nullptr);
    fail_unless_equals_string(
        gst_structure_get_string(gst_message_get_structure(message), "reason"), "removed");
    gst_message_unref(message);

    /* The other viewer is untouched: more packets arrive, in sequence. */
    reader.read_data(5);
    fail_unless_equals_int(num_clients(live.sink), 1);
    const std::vector<ClientEvent> events = recorder.events();
    fail_if(std::any_of(events.begin(), events.end(),
                        [&](const ClientEvent &e) { return !e.added && e.id == player_added.id; }),
            "the other client was removed too");

    for (guint64 id : {kicked_added.id, guint64(999999)}) {
        found = TRUE;
        g_signal_emit_by_name(live.sink, "remove", id, &found);
        fail_if(found, "remove found client %" G_GUINT64_FORMAT, id);
    }
    live.check_no_error();
}
GST_END_TEST;

/* The body of GET @p path with @p host_line ("" = no Host, HTTP/1.0), after asserting @p status. */
static std::string announcement(guint port, const std::string &host_line, const char *status) {
    TestClient client(port);
    client.send("GET /live.asx HTTP/1.0\r\n" + host_line + "User-Agent: " + kBrowserAgent +
                "\r\n\r\n");
    fail_unless(client.read_head());
    fail_unless(starts_with(client.status_line(), status), "%s", client.status_line().c_str());
    fail_unless(client.wait_closed());
    return std::string(client.body().begin(), client.body().end());
}

/* GET *.asx: the ASX naming mmsh:// with the Host the viewer used (or the local address without
 * one), and HEAD its head alone; a hostile Host is refused. Not a viewer: no client-added, not
 * counted. */
GST_START_TEST(test_announcement) {
    LivePipeline live;
    Recorder recorder(live.sink);
    const std::string authority = "127.0.0.1:" + std::to_string(live.port);
    for (const std::string &host_line : {"Host: " + authority + "\r\n", std::string()}) {
        TestClient client(live.port);
        client.send("GET /live.asx HTTP/1.0\r\n" + host_line + "\r\n");
        fail_unless(client.read_head());
        fail_unless(starts_with(client.status_line(), "HTTP/1.0 200"));
        const std::string type = client.header("Content-Type");
        fail_unless_equals_string(type.c_str(), "video/x-ms-asf");
        fail_unless(client.wait_closed());
        const std::string body(client.body().begin(), client.body().end());
        fail_unless_equals_int(std::stoi(client.header("Content-Length")), body.size());
        fail_unless(starts_with(body, "<ASX VERSION=\"3.0\">"), "%s", body.c_str());
        fail_unless(body.find("<REF HREF=\"mmsh://" + authority + "/\"/>") != std::string::npos,
                    "%s", body.c_str());
        /* HEAD: the same head, no body. */
        TestClient head(live.port);
        head.send("HEAD /live.asx HTTP/1.0\r\n" + host_line + "\r\n");
        fail_unless(head.read_head());
        fail_unless(starts_with(head.status_line(), "HTTP/1.0 200"));
        fail_unless(head.header("Content-Type") == type);
        fail_unless_equals_int(std::stoi(head.header("Content-Length")), body.size());
        fail_unless(head.wait_closed());
        fail_unless_equals_int(head.body().size(), 0);
    }
    const std::string named =
        announcement(live.port, "Host: stream.example:80\r\n", "HTTP/1.0 200");
    fail_unless(named.find("HREF=\"mmsh://stream.example:80/\"") != std::string::npos);
    for (const char *hostile : {"Host: x\"/><REF HREF=\"http://evil/\r\n", "Host: a@b\r\n",
                                "Host: <script>\r\n", "Host: h:99999\r\n"}) {
        const std::string body = announcement(live.port, hostile, "HTTP/1.0 400");
        fail_unless(body.find("evil") == std::string::npos);
    }
    fail_unless_equals_int(num_clients(live.sink), 0);
    fail_unless(recorder.events().empty(), "an announcement was reported as a client");
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_pause_keeps_clients) {
    LivePipeline live;
    Recorder recorder(live.sink);
    TestClient client(live.port);
    client.play();
    WmspReader reader(client);
    expect_play_response(client, reader);
    reader.read_data(4);

    live.set_state(GST_STATE_PAUSED);
    g_usleep(500 * 1000);
    fail_unless_equals_int(num_clients(live.sink), 1);
    live.set_state(GST_STATE_PLAYING);

    /* No gap, no duplicate across the pause. */
    reader.read_data(8);
    fail_unless_equals_int(num_clients(live.sink), 1);
    for (const ClientEvent &event : recorder.events())
        fail_unless(event.added, "client removed across PAUSED");
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_ready_disconnects_keeps_port) {
    LivePipeline live;
    Recorder recorder(live.sink);
    TestClient client(live.port);
    client.play();
    WmspReader reader(client);
    expect_play_response(client, reader);
    const guint64 id = recorder.wait_added().id;

    /* PAUSED→READY: clients are dropped, the port stays bound. */
    live.set_state(GST_STATE_READY);
    fail_unless_equals_int(recorder.wait_removed(id).reason, remove_reason("disconnected"));
    fail_unless(client.wait_closed(), "client still open in READY");
    fail_unless_equals_int(num_clients(live.sink), 0);
    gint port = 0;
    g_object_get(live.sink, "current-port", &port, nullptr);
    fail_unless_equals_int(port, live.port);

    /* In READY a new connection waits in the backlog, unanswered... */
    TestClient waiting(live.port);
    waiting.play();
    fail_if(waiting.read_head(g_get_monotonic_time() + 500 * 1000), "answered in READY");
    fail_if(waiting.eof(), "refused in READY");

    /* ...and is served once the sink plays again. It may be answered with
     * the previous stream's header, then get the new one ($C). */
    live.set_state(GST_STATE_PLAYING);
    WmspReader waiting_reader(waiting);
    expect_play_response(waiting, waiting_reader);
    waiting_reader.read_data(3, true);
    live.check_no_error();
}
GST_END_TEST;

/* A client-removed handler that calls disconnect: while the sink closes, its removals run the
 * handler, which calls into the closing server. */
static void disconnect_on_removed(GstElement *sink, guint64, gint, gpointer calls) {
    g_signal_emit_by_name(sink, "disconnect");
    static_cast<std::atomic<int> *>(calls)->fetch_add(1);
}

/* set_state(NULL) returns (bounded: a deadlock fails the test) while a client-removed handler
 * calls disconnect, and while another thread keeps calling disconnect. */
GST_START_TEST(test_disconnect_during_close) {
    LivePipeline live;
    Recorder recorder(live.sink);
    std::atomic<int> handler_calls{0};
    g_signal_connect(live.sink, "client-removed", G_CALLBACK(disconnect_on_removed),
                     &handler_calls);
    std::vector<std::unique_ptr<TestClient>> players;
    for (size_t i = 0; i < 3; ++i) {
        players.push_back(std::make_unique<TestClient>(live.port));
        players.back()->play();
        recorder.wait_added(i);
    }
    std::atomic<bool> stop{false};
    std::thread kicker([&] {
        while (!stop)
            g_signal_emit_by_name(live.sink, "disconnect");
    });
    const bool closed = wmtest::returns_within(
        [&] {
            live.set_state(GST_STATE_NULL);
            stop = true;
        },
        std::chrono::seconds(20));
    fail_unless(closed, "set_state(NULL) did not return within 20 s");
    fail_unless(wmtest::returns_within([&] { kicker.join(); }, std::chrono::seconds(20)),
                "disconnect did not return within 20 s");
    fail_unless(handler_calls.load() >= 3, "%d removals", handler_calls.load());
    /* And again from PLAYING, the handler still connected. */
    live.set_state(GST_STATE_PLAYING);
    gint port = 0;
    g_object_get(live.sink, "current-port", &port, nullptr);
    TestClient again{guint(port)};
    again.play();
    recorder.wait_added(3);
    fail_unless(
        wmtest::returns_within([&] { live.set_state(GST_STATE_NULL); }, std::chrono::seconds(20)),
        "set_state(NULL) did not return within 20 s");
    g_signal_handlers_disconnect_by_data(live.sink, &handler_calls);
}
GST_END_TEST;

GST_START_TEST(test_client_stats) {
    LivePipeline live;
    Recorder recorder(live.sink);

    TestClient player(live.port);
    player.play();
    WmspReader reader(player);
    expect_play_response(player, reader);
    reader.read_data(2);
    const guint64 player_id = recorder.wait_added(0).id;

    TestClient browser(live.port);
    browser.get(kBrowserAgent);
    expect_raw_asf_response(browser);
    fail_unless(browser.read_body(browser.body().size() + 4800)); /* a whole packet */
    const guint64 browser_id = recorder.wait_added(1).id;
    /* The I/O thread counts a packet after its send returned, maybe after the client read it. */
    const auto packets_sent = [&](guint64 id) {
        guint64 packets = 0;
        GstStructure *stats = nullptr;
        g_signal_emit_by_name(live.sink, "get-stats", id, &stats);
        if (stats) {
            gst_structure_get_uint64(stats, "packets-sent", &packets);
            gst_structure_free(stats);
        }
        return packets;
    };
    for (int i = 0; i < 500 && (packets_sent(player_id) == 0 || packets_sent(browser_id) == 0); ++i)
        g_usleep(10000);

    GstStructure *all = nullptr;
    g_signal_emit_by_name(live.sink, "get-clients", &all);
    fail_unless(all != nullptr);
    fail_unless(gst_structure_has_name(all, "wmnetsink-clients"));
    const GValue *clients = gst_structure_get_value(all, "clients");
    fail_unless(clients != nullptr && GST_VALUE_HOLDS_ARRAY(clients));
    fail_unless_equals_int(gst_value_array_get_size(clients), 2);

    struct Expected {
        guint64 id;
        const char *agent;
        const char *protocol;
        guint16 port;
    };
    const Expected expected[] = {{player_id, kPlayerAgent, "wmsp", player.port()},
                                 {browser_id, kBrowserAgent, "http", browser.port()}};
    for (const Expected &e : expected) {
        const GstStructure *listed = nullptr;
        for (guint i = 0; i < gst_value_array_get_size(clients); ++i) {
            const GstStructure *c = gst_value_get_structure(gst_value_array_get_value(clients, i));
            guint64 id = 0;
            if (gst_structure_get_uint64(c, "id", &id) && id == e.id)
                listed = c;
        }
        fail_unless(listed != nullptr, "client %" G_GUINT64_FORMAT " not listed", e.id);

        GstStructure *stats = nullptr;
        g_signal_emit_by_name(live.sink, "get-stats", e.id, &stats);
        fail_unless(stats != nullptr);
        for (const GstStructure *c : {listed, static_cast<const GstStructure *>(stats)}) {
            fail_unless(gst_structure_has_name(c, "wmnetsink-client"));
            fail_unless_equals_string(gst_structure_get_string(c, "address"), "127.0.0.1");
            fail_unless_equals_string(gst_structure_get_string(c, "user-agent"), e.agent);
            fail_unless_equals_string(gst_structure_get_string(c, "protocol"), e.protocol);
            fail_unless(gst_structure_get_string(c, "dns-name") != nullptr);
            guint port = 0;
            fail_unless(gst_structure_get_uint(c, "port", &port));
            fail_unless_equals_int(port, e.port);
            guint64 bytes = 0, packets = 0, duration = 0, bitrate = 0, skips = 0;
            gint64 connected = 0, lag = 0, start_lag = -2;
            fail_unless(gst_structure_get(
                c, "bytes-sent", G_TYPE_UINT64, &bytes, "packets-sent", G_TYPE_UINT64, &packets,
                "connect-duration", G_TYPE_UINT64, &duration, "bitrate", G_TYPE_UINT64, &bitrate,
                "key-frame-skips", G_TYPE_UINT64, &skips, "connected-time", G_TYPE_INT64,
                &connected, "lag", G_TYPE_INT64, &lag, "start-lag", G_TYPE_INT64, &start_lag,
                nullptr));
            fail_unless(bytes > 0);
            /* The live pipeline has one stream (video, number 1); both receive it whole. */
            const GValue *selected = gst_structure_get_value(c, "selected-streams");
            fail_unless(selected != nullptr && GST_VALUE_HOLDS_ARRAY(selected));
            fail_unless_equals_int(gst_value_array_get_size(selected), 1);
            fail_unless_equals_int(g_value_get_uint(gst_value_array_get_value(selected, 0)), 1);
            guint thinning = 99;
            fail_unless(gst_structure_get_uint(c, "thinning", &thinning));
            fail_unless_equals_int(thinning, 0);
            /* Both began at the newest key frame of a stream that had just started. */
            fail_unless(start_lag >= 0 && start_lag < 5 * GST_SECOND, "start-lag %" G_GINT64_FORMAT,
                        start_lag);
            fail_unless(packets > 0);
            const gint64 now_us = g_get_real_time();
            fail_unless(connected <= now_us && connected > now_us - 60 * G_USEC_PER_SEC);
        }
        gst_structure_free(stats);
    }
    gst_structure_free(all);

    guint64 bytes_served = 0;
    g_object_get(live.sink, "bytes-served", &bytes_served, nullptr);
    fail_unless(bytes_served > 0);

    GstStructure *unknown = nullptr;
    g_signal_emit_by_name(live.sink, "get-stats", std::max(player_id, browser_id) + 1000, &unknown);
    fail_unless(unknown == nullptr);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_client_before_header) {
    /* A live source produces nothing in PAUSED: no caps, no header yet. */
    LivePipeline live("", GST_STATE_PAUSED);
    GstPad *pad = gst_element_get_static_pad(live.sink, "sink");
    fail_unless(gst_pad_get_current_caps(pad) == nullptr);

    TestClient client(live.port);
    client.play();
    g_usleep(300 * 1000);
    fail_unless(gst_pad_get_current_caps(pad) == nullptr);

    live.set_state(GST_STATE_PLAYING);
    WmspReader reader(client);
    expect_play_response(client, reader);
    reader.read_data(3);
    gst_object_unref(pad);
    live.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_refuses_non_asf_caps) {
    /* appsrc producing raw video: the stream stops with not-negotiated. */
    GError *parse_error = nullptr;
    GstElement *pipeline = gst_parse_launch(
        "appsrc name=src caps=video/x-raw,format=I420,width=16,height=16,framerate=1/1 ! "
        "wmnetsink port=0 address=127.0.0.1",
        &parse_error);
    fail_unless(pipeline != nullptr && parse_error == nullptr);
    GstElement *appsrc = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    GstBus *bus = gst_element_get_bus(pipeline);
    fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    GstBuffer *frame = gst_buffer_new_allocate(nullptr, 16 * 16 * 3 / 2, nullptr);
    push(appsrc, frame);
    gst_buffer_unref(frame);
    GstMessage *error = pop(bus, GST_MESSAGE_ERROR);
    fail_unless(error != nullptr);
    const GstStructure *details = nullptr;
    gst_message_parse_error_details(error, &details);
    fail_unless(details != nullptr);
    gint flow = 0;
    fail_unless(gst_structure_get_int(details, "flow-return", &flow));
    fail_unless_equals_int(flow, GST_FLOW_NOT_NEGOTIATED);
    gst_message_unref(error);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(appsrc);
    gst_object_unref(pipeline);

    /* Forced onto the pad, the caps are refused: not-negotiated. */
    LoneSink lone;
    GstPad *src = gst_check_setup_src_pad(lone.sink, &any_src);
    gst_pad_set_active(src, TRUE);
    fail_unless(gst_element_set_state(lone.sink, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
    fail_unless(gst_pad_push_event(src, gst_event_new_stream_start("test")));
    GstCaps *raw = gst_caps_from_string("video/x-raw,format=I420,width=16,height=16,framerate=1/1");
    gst_pad_push_event(src, gst_event_new_caps(raw)); /* stored as sticky, refused by the sink */
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(src, gst_event_new_segment(&segment));
    fail_unless_equals_int(
        gst_pad_push(src, gst_buffer_new_allocate(nullptr, 16 * 16 * 3 / 2, nullptr)),
        GST_FLOW_NOT_NEGOTIATED);
    GstPad *sinkpad = gst_element_get_static_pad(lone.sink, "sink");
    fail_unless(gst_pad_get_current_caps(sinkpad) == nullptr);
    gst_object_unref(sinkpad);
    gst_caps_unref(raw);
    gst_element_set_state(lone.sink, GST_STATE_NULL);
    gst_check_teardown_src_pad(lone.sink);
}
GST_END_TEST;

GST_START_TEST(test_eos_ends_clients) {
    FedSink fed;
    Recorder recorder(fed.lone.sink);
    fed.push_packets(0, 1);

    TestClient client(fed.lone.current_port());
    client.play();
    WmspReader reader(client);
    expect_play_response(client, reader);
    const guint64 id = recorder.wait_added().id;
    fed.push_packets(1, fed.asf.packets.size());
    fail_unless(gst_pad_push_event(fed.src, gst_event_new_eos()));

    /* Every packet pushed, then $E(0), then the server closes. */
    reader.read_data(fed.asf.packets.size());
    wmstream::proto::framing::Packet end = reader.next();
    fail_unless_equals_int(int(end.id), int(wmstream::proto::framing::PacketId::End));
    fail_unless(end.reason.has_value());
    fail_unless_equals_uint64(*end.reason, wmstream::proto::framing::kReasonDone);
    fail_unless(client.wait_closed());
    fail_unless_equals_int(recorder.wait_removed(id).reason, remove_reason("eos"));
    fail_if(pop(fed.lone.bus, GST_MESSAGE_ERROR, 0) != nullptr);
}
GST_END_TEST;

/* asfmux writes packets of up to 65,536 bytes, which the header parser accepts; an MS-WMSP $D
 * carries at most 65,527. The header is refused with a STREAM ERROR naming the limit (before,
 * the first Play aborted the process on an assertion in the framing writer). */
GST_START_TEST(test_packet_size_over_wmsp_limit) {
    GstElement *pipeline = gst_parse_launch(
        "videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48 ! avenc_wmv2 ! "
        "asfmux streamable=true packet-size=65536 ! wmnetsink address=127.0.0.1 port=0",
        nullptr);
    fail_unless(pipeline != nullptr);
    GstBus *bus = gst_element_get_bus(pipeline);
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstMessage *error = pop(bus, GST_MESSAGE_ERROR);
    assert_error(error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, "NS_E_INVALID_DATA",
                 0xC00D002Fu);
    gchar *debug = nullptr;
    gst_message_parse_error(error, nullptr, &debug);
    fail_unless(debug && std::strstr(debug, "65527") != nullptr, "%s", debug);
    g_free(debug);
    gst_message_unref(error);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_corrupt_data) {
    FedSink fed;
    const gint port = fed.lone.current_port();
    const size_t half = fed.asf.packets.size() / 2;
    fed.push_packets(0, half);

    TestClient client(port);
    client.play();
    WmspReader reader(client);
    expect_play_response(client, reader);
    reader.read_data(1);

    fed.push_packets(half, fed.asf.packets.size());
    static const char garbage[] = "this is not an ASF data packet";
    GstBuffer *corrupt = gst_buffer_new_memdup(garbage, sizeof garbage);
    fail_unless_equals_int(fed.push(corrupt), GST_FLOW_ERROR);
    gst_buffer_unref(corrupt);

    GstMessage *error = pop(fed.lone.bus, GST_MESSAGE_ERROR);
    assert_error(error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, "NS_E_INVALID_DATA",
                 0xC00D002Fu);
    gst_message_unref(error);

    /* No EOS came from upstream: the client gets the rest, then $E, then the end. */
    const gint64 end = deadline();
    wmstream::proto::framing::Packet packet;
    do {
        packet = reader.next(end);
    } while (packet.id == wmstream::proto::framing::PacketId::Data);
    fail_unless_equals_int(int(packet.id), int(wmstream::proto::framing::PacketId::End));
    fail_unless(client.wait_closed());

    /* The port is still served: a new player gets the header and $E. */
    TestClient late(port);
    late.play();
    WmspReader late_reader(late);
    expect_play_response(late, late_reader);
    do {
        packet = late_reader.next();
    } while (packet.id == wmstream::proto::framing::PacketId::Data);
    fail_unless_equals_int(int(packet.id), int(wmstream::proto::framing::PacketId::End));
}
GST_END_TEST;

static Suite *wmnetsink_suite(void) {
    Suite *suite = suite_create("wmnetsink");
    TCase *properties = tcase_create("properties");
    tcase_add_test(properties, test_defaults_and_ranges);
    suite_add_tcase(suite, properties);

    TCase *listener = tcase_create("listener");
    tcase_add_test(listener, test_open_port_zero);
    tcase_add_test(listener, test_port_in_use);
    tcase_add_test(listener, test_bad_address);
    tcase_add_test(listener, test_null_releases_port);
    tcase_add_test(listener, test_refused_while_open);
    suite_add_tcase(suite, listener);

    TCase *data = tcase_create("data");
    tcase_add_test(data, test_http_client_gets_raw_asf);
    tcase_add_test(data, test_wmsp_play);
    tcase_add_test(data, test_fast_start_and_preroll);
    tcase_add_test(data, test_max_clients);
    tcase_add_test(data, test_client_signals_and_disconnect);
    tcase_add_test(data, test_remove_one_client);
    tcase_add_test(data, test_announcement);
    tcase_add_test(data, test_pause_keeps_clients);
    tcase_add_test(data, test_ready_disconnects_keeps_port);
    tcase_add_test(data, test_disconnect_during_close);
    tcase_add_test(data, test_client_stats);
    tcase_add_test(data, test_client_before_header);
    tcase_add_test(data, test_refuses_non_asf_caps);
    tcase_add_test(data, test_eos_ends_clients);
    tcase_add_test(data, test_corrupt_data);
    tcase_add_test(data, test_packet_size_over_wmsp_limit);
    suite_add_tcase(suite, data);
    return suite;
}

GST_CHECK_MAIN(wmnetsink)
