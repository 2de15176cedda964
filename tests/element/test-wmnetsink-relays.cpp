/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Element tests of wmnetsink as an origin for distribution servers (GstCheck;
 * issue 14): relays (User-Agent NSServer/ or WMCacheProxy/, or a Via header)
 * counted against max-relays apart from max-clients and answered with the
 * broadcast Cache-Control directives (MS-WMSP §2.2.1.1.11–12, §2.2.2.2,
 * §4.12); relay loops refused (508); edges that are no URL refused. A live pipeline (videotestsrc →
 * avenc_wmv2 → asfmux → wmnetsink) on port 0 of 127.0.0.1, raw TCP clients speaking as Windows
 * Media Services' pullers do (§4.11, §2.2.2.2 examples); every wait is bounded.
 */
#include "netsink-check.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

using namespace netsinktest;

namespace {

constexpr const char *kServerAgent = "NSServer/9.0.0.3171";
constexpr const char *kRelayCacheControl =
    "no-cache, x-wms-stream-type=\"broadcast\", x-wms-proxy-split";

constexpr const char *kBurst = "LinkBW=2147483647, BurstBW=3500000, BurstDuration=5000";

/** A Play as Windows Media Services pulling from an encoder sends it (MS-WMSP §4.11), with
 *  the bandwidth Pragma @p burst. */
std::string server_play(const std::string &extra = "", const std::string &burst = kBurst) {
    return std::string("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: ") + kServerAgent +
           "\r\nMax-Forwards: 9\r\n"
           "Pragma: no-cache,rate=1.000000,request-context=2\r\n"
           "Pragma: xClientGUID={00000000-0000-0000-0000-000000000000}\r\n"
           "Pragma: " +
           burst +
           "\r\n"
           "Pragma: xPlayStrm=1\r\n"
           "Pragma: stream-switch-count=1\r\n"
           "Pragma: stream-switch-entry=ffff:1:0 \r\n" +
           extra + "Connection: Close\r\n\r\n";
}

/** The Windows Media cache/proxy's GetContentInfo (MS-WMSP §2.2.2.2 example) with
 *  Max-Forwards @p hops. */
std::string get_content_info(const char *hops = "9") {
    return std::string("POST / HTTP/1.1\r\nUser-Agent: WMCacheProxy/9.5.6001.1\r\n"
                       "Via: HTTP/1.1 WMCacheProxy (WMCacheProxy/9.5.6001.1)\r\nMax-Forwards: ") +
           hops +
           "\r\nPragma: xClientGUID={00000000-0000-0000-0000-000000000000}\r\n"
           "Content-Type: application/x-wms-getcontentinfo\r\nHost: 127.0.0.1\r\n"
           "Content-Length: 1\r\nConnection: Keep-Alive\r\n\r\n1";
}

void expect_status(TestClient &client, const char *code) {
    fail_unless(client.read_head(), "no answer");
    const std::string line = client.status_line();
    fail_unless(line.find(std::string(" ") + code + " ") != std::string::npos, "%s", line.c_str());
}

/** Header @p name of @p client's answer is @p expected ("" = absent). */
void expect_header(const TestClient &client, const char *name, const char *expected) {
    const std::string value = client.header(name);
    fail_unless(value == expected, "%s: '%s', not '%s'", name, value.c_str(), expected);
}

/** get-clients' relay field of every client, in a string of 'r' (relay) and 'v' (viewer),
 *  sorted. */
std::string client_kinds(GstElement *sink) {
    GstStructure *clients = nullptr;
    g_signal_emit_by_name(sink, "get-clients", &clients);
    fail_unless(clients != nullptr);
    const GValue *array = gst_structure_get_value(clients, "clients");
    std::string kinds;
    for (guint i = 0; i < gst_value_array_get_size(array); ++i) {
        const GstStructure *client = gst_value_get_structure(gst_value_array_get_value(array, i));
        gboolean relay = FALSE;
        fail_unless(gst_structure_get_boolean(client, "relay", &relay));
        kinds += relay ? 'r' : 'v';
    }
    gst_structure_free(clients);
    std::sort(kinds.begin(), kinds.end());
    return kinds;
}

/** server-stats @p field (guint64) once it is @p expected, or (failing) after kWaitUs: the
 *  counters move once the server is done with a connection, a little after its peer saw
 *  the close. */
void wait_stat(GstElement *sink, const char *field, guint64 expected) {
    const gint64 end = deadline();
    while (server_stat(sink, field) != expected && g_get_monotonic_time() < end)
        g_usleep(10000);
    fail_unless_equals_uint64(server_stat(sink, field), expected);
}

guint stat_uint(GstElement *sink, const char *field) {
    GstStructure *stats = nullptr;
    g_object_get(sink, "server-stats", &stats, nullptr);
    guint value = 0;
    fail_unless(gst_structure_get_uint(stats, field, &value), "no %s", field);
    gst_structure_free(stats);
    return value;
}

} // namespace

/* Relays are admitted apart from viewers (max-relays, not max-clients), answered with the
 * broadcast directives and this server's Via, and reported as relays. */
GST_START_TEST(test_relays_counted_apart) {
    LivePipeline live("max-clients=1 max-relays=1 via-name=origin.test");
    Recorder recorder(live.sink);

    TestClient viewer(live.port);
    viewer.get(kBrowserAgent);
    expect_raw_asf_response(viewer);
    recorder.wait_added(0);

    /* max-clients is reached; a relay still gets in (by its agent). */
    TestClient relay(live.port);
    relay.send(server_play());
    WmspReader reader(relay);
    expect_play_response(relay, reader);
    expect_header(relay, "Cache-Control", kRelayCacheControl);
    expect_header(relay, "Via", "1.1 origin.test");
    recorder.wait_added(1);
    reader.read_data(3);
    fail_unless(client_kinds(live.sink) == "rv");
    fail_unless_equals_int(stat_uint(live.sink, "num-relays"), 1);
    fail_unless_equals_int(num_clients(live.sink), 2);

    /* Over max-relays: 503, counted as refused; a relay by its Via alike. */
    const guint64 refused_before = server_stat(live.sink, "clients-refused");
    TestClient over(live.port);
    over.play("Via: 1.1 edge.test\r\n");
    expect_status(over, "503");
    fail_unless(over.wait_closed());
    wait_stat(live.sink, "clients-refused", refused_before + 1);

    /* A Describe from a relay is not counted, and carries the directives too. */
    TestClient describe(live.port);
    describe.get(kServerAgent);
    expect_status(describe, "200");
    expect_header(describe, "Cache-Control", kRelayCacheControl);
    expect_header(describe, "Via", "1.1 origin.test");

    /* The viewers' answers are unchanged. */
    TestClient player(live.port);
    player.get(kPlayerAgent);
    expect_status(player, "200");
    expect_header(player, "Cache-Control", "no-cache");
    expect_header(player, "Via", "");

    /* The relay leaves: its place is free again, the viewer's is not. */
    relay.close();
    recorder.wait_removed(recorder.wait_added(1).id);
    fail_unless_equals_int(stat_uint(live.sink, "num-relays"), 0);
    fail_unless(client_kinds(live.sink) == "v");
    live.check_no_error();
}
GST_END_TEST;

/* GetContentInfo (MS-WMSP §2.2.2.2, §3.2.5.3): the cache/proxy learns it may split the
 * broadcast; no body, nothing counted. */
GST_START_TEST(test_get_content_info) {
    LivePipeline live("via-name=origin.test");
    TestClient proxy(live.port);
    proxy.send(get_content_info());
    expect_status(proxy, "200");
    expect_header(proxy, "Cache-Control", kRelayCacheControl);
    expect_header(proxy, "Via", "1.1 origin.test");
    expect_header(proxy, "Content-Length", "0");
    fail_unless(starts_with(proxy.header("Server"), "Rex/"));
    fail_unless(proxy.wait_closed());
    fail_unless(proxy.body().empty());
    fail_unless_equals_int(num_clients(live.sink), 0);
}
GST_END_TEST;

/* The properties: defaults, and the automatic Via name is the host and the port. */
GST_START_TEST(test_properties) {
    GstElement *sink = gst_element_factory_make("wmnetsink", nullptr);
    fail_unless(sink != nullptr);
    gint max_relays = 0;
    gchar *via_name = nullptr;
    g_object_get(sink, "max-relays", &max_relays, "via-name", &via_name, nullptr);
    fail_unless_equals_int(max_relays, 4);
    fail_unless(via_name == nullptr);
    gst_object_unref(sink);

    LivePipeline live;
    TestClient relay(live.port);
    relay.get(kServerAgent);
    expect_status(relay, "200");
    const std::string expected =
        std::string("1.1 ") + g_get_host_name() + ":" + std::to_string(live.port);
    expect_header(relay, "Via", expected.c_str());
}
GST_END_TEST;

/* A request whose Via names this server, or that has no hops left, is refused with 508 and
 * counted; a Via naming other servers is just a relay. */
GST_START_TEST(test_loops_refused) {
    LivePipeline live("via-name=origin.test");
    Recorder recorder(live.sink);
    const gint loop = remove_reason("loop");

    TestClient named(live.port);
    named.send(server_play("Via: 1.1 edge.test, 1.1 Origin.Test\r\n"));
    expect_status(named, "508");
    fail_unless(named.wait_closed());
    recorder.wait_match([loop](const ClientEvent &e) { return !e.added && e.reason == loop; });

    TestClient spent(live.port);
    spent.send(get_content_info("0"));
    expect_status(spent, "508");
    fail_unless(spent.wait_closed());
    wait_stat(live.sink, "loops-refused", 2);

    TestClient other(live.port);
    other.send(server_play("Via: 1.1 edge.test\r\n"));
    WmspReader reader(other);
    expect_play_response(other, reader);
    reader.read_data(2);
    fail_unless_equals_uint64(server_stat(live.sink, "loops-refused"), 2);
    fail_unless_equals_int(num_clients(live.sink), 1);
}
GST_END_TEST;

/* Bytes @p client has received (head and body) by monotonic @p until_us. */
static size_t received_by(TestClient &client, gint64 until_us) {
    client.read_body(SIZE_MAX, until_us);
    return client.received();
}

/* A relay's BurstBW (MS-WMSP §2.2.1.4.3–4) paces its join backlog (2 s of stream, fast-start)
 * and is echoed; without one the backlog comes at once. Over every span from the answer,
 * the paced relay gets no more than BurstBW (twice the stream's rate), FastStartPacer's
 * 100 ms bank and a packet, yet keeps to that pace while it catches up. */
GST_START_TEST(test_burst_paced) {
    LivePipeline live("fast-start=2000 preroll=1000");
    g_usleep(guint64(2.5 * G_USEC_PER_SEC)); /* a backlog of 2 s at least */
    constexpr size_t kSlack = 4096;          /* one packet, the answer's head */

    TestClient unpaced(live.port);
    unpaced.send(server_play("", "LinkBW=2147483647"));
    fail_unless(unpaced.read_head());
    fail_unless(unpaced.headers("Pragma").size() == 3, "a fast start echoed, none asked");
    const size_t backlog = received_by(unpaced, g_get_monotonic_time() + 300000);
    /* The backlog is 2 s of stream, at least. */
    const uint32_t burst_bps = uint32_t(double(backlog) * 8 / 2.0 * 2);
    const double limit_at_once = burst_bps / 8e6 * (300000 + 100000) + kSlack;
    fail_unless(double(backlog) > limit_at_once, "backlog %zu: too small to tell", backlog);

    TestClient paced(live.port);
    const std::string burst = "BurstBW=" + std::to_string(burst_bps) + ", BurstDuration=5000";
    paced.send(server_play("", "LinkBW=2147483647, " + burst));
    fail_unless(paced.read_head());
    const std::vector<std::string> pragmas = paced.headers("Pragma");
    fail_unless(std::find(pragmas.begin(), pragmas.end(), burst) != pragmas.end(),
                "the burst is not echoed");
    const gint64 start = g_get_monotonic_time();
    size_t received = 0;
    for (gint64 span = 50000; span <= 1500000; span += 50000) {
        received = received_by(paced, start + span);
        const gint64 now = g_get_monotonic_time(); /* a late wake-up widens the span */
        const double limit = burst_bps / 8e6 * double(now - start + 100000) + kSlack;
        fail_unless(double(received) <= limit,
                    "%zu bytes by %" G_GINT64_FORMAT " µs (limit %.0f, backlog %zu)", received,
                    now - start, limit, backlog);
    }
    /* Still catching up at 1.5 s, at about the pace asked: not stalled. */
    const double expected = burst_bps / 8e6 * 1500000;
    fail_unless(double(received) > 0.5 * expected, "%zu bytes in 1.5 s, %.0f expected", received,
                expected);
    live.check_no_error();
}
GST_END_TEST;

/* An edge that is no http:// or https:// URL fails Open: RESOURCE/SETTINGS, E_INVALIDARG. */
GST_START_TEST(test_bad_edge_fails_ready) {
    LoneSink lone;
    g_object_set(lone.sink, "edges", "http://127.0.0.1:9/, mmsh://edge.test/", nullptr);
    lone.assert_ready_fails(GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u);
}
GST_END_TEST;

static Suite *relays_suite() {
    Suite *suite = suite_create("wmnetsink-relays");
    TCase *tc = tcase_create("relays");
    tcase_set_timeout(tc, 120);
    suite_add_tcase(suite, tc);
    tcase_add_test(tc, test_relays_counted_apart);
    tcase_add_test(tc, test_get_content_info);
    tcase_add_test(tc, test_burst_paced);
    tcase_add_test(tc, test_loops_refused);
    tcase_add_test(tc, test_bad_edge_fails_ready);
    tcase_add_test(tc, test_properties);
    return suite;
}

GST_CHECK_MAIN(relays);
