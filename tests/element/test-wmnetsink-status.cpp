/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The operator's status view (wmnetsink status-path) in a real browser: a
 * live pipeline (videotestsrc → avenc_wmv2 → asfmux → wmnetsink, 127.0.0.1,
 * port 0) with status credentials, two viewers watching (a raw MS-WMSP Play
 * and a raw plain-HTTP GET), then headless Chromium loads the page with the
 * credentials in the URL (--dump-dom) and the test reads the table: both
 * viewers, by address:port and user agent. Chromium also saves a screenshot
 * to the file given as the argument (meson-logs/wmnetsink-status.png, kept
 * by CI). The JSON (status-path + ".json", Basic credentials) is read by a
 * raw client and parsed with json-glib; without credentials the answer is
 * 401; status requests are not viewers (no client-added, not counted); a
 * HEAD of either gets its head and no body. And
 * status-path without credentials or status-open fails NULL→READY.
 *
 * Needs chromium: a missing one skips, and fails under CI=true.
 */
#include "interop.h"
#include "netsink-check.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <string>
#include <vector>

using namespace netsinktest;

namespace {

constexpr const char *kUser = "operator";
constexpr const char *kPassword = "Op-5e2d9b";
/** Longest run of Chromium, s (before slowdown()). */
constexpr guint kBrowserLimitS = 60;

/** Where the screenshot goes (the test's argument). */
std::string screenshot_path;

size_t count(const std::string &text, const std::string &what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

/** Headless Chromium with a throw-away profile in @p profile, loading @p url; @p action is
 *  "--dump-dom" or "--screenshot=FILE". Returns what it printed. */
std::string chromium(const std::string &profile, const std::string &action,
                     const std::string &url) {
    const std::vector<std::string> argv = {"chromium",
                                           "--headless",
                                           "--no-sandbox",
                                           "--disable-gpu",
                                           "--no-first-run",
                                           "--user-data-dir=" + profile,
                                           "--window-size=1024,800",
                                           action,
                                           url};
    const interop::Run run = interop::run(argv, guint(kBrowserLimitS * interop::slowdown()));
    fail_unless(run.exited && run.status == 0, "%s", interop::describe(argv, run).c_str());
    return run.out;
}

void wait_clients(GstElement *sink, guint n) {
    const gint64 end = deadline();
    while (num_clients(sink) != n && g_get_monotonic_time() < end)
        g_usleep(20000);
    fail_unless_equals_int(num_clients(sink), n);
}

GST_START_TEST(test_status_page_in_browser) {
    /* The two viewers read nothing after the header while the browser runs: timeout=0 keeps
     * them when their socket buffers fill on a slow (sanitized) run. */
    LivePipeline pipeline((std::string("timeout=0 status-path=/status status-user-id=") + kUser +
                           " status-user-pw=" + kPassword)
                              .c_str());
    Recorder recorder(pipeline.sink);
    TestClient player(pipeline.port);
    player.play();
    WmspReader reader(player);
    expect_play_response(player, reader);
    TestClient viewer(pipeline.port);
    viewer.get(kBrowserAgent);
    expect_raw_asf_response(viewer);
    wait_clients(pipeline.sink, 2);

    /* Without credentials: 401 with the challenges, and nothing about the viewers. */
    TestClient anonymous(pipeline.port);
    anonymous.get("Mozilla/5.0", "/status");
    fail_unless(anonymous.read_head());
    fail_unless(starts_with(anonymous.status_line(), "HTTP/1.0 401"), "%s",
                anonymous.status_line().c_str());
    fail_unless_equals_int(anonymous.headers("WWW-Authenticate").size(), 2);

    /* The JSON, with Basic credentials. */
    TestClient reader_json(pipeline.port);
    g_autofree gchar *basic = g_base64_encode(
        reinterpret_cast<const guchar *>((std::string(kUser) + ":" + kPassword).c_str()),
        strlen(kUser) + 1 + strlen(kPassword));
    reader_json.get("curl/7.88.1", "/status.json",
                    std::string("Authorization: Basic ") + basic + "\r\n");
    fail_unless(reader_json.read_head());
    fail_unless(starts_with(reader_json.status_line(), "HTTP/1.0 200"), "%s",
                reader_json.status_line().c_str());
    fail_unless(starts_with(reader_json.header("Content-Type"), "application/json"));
    const size_t length = std::stoul(reader_json.header("Content-Length"));
    fail_unless(reader_json.read_body(length));
    g_autoptr(JsonParser) parser = json_parser_new();
    fail_unless(json_parser_load_from_data(
        parser, reinterpret_cast<const char *>(reader_json.body().data()), gssize(length),
        nullptr));
    JsonArray *clients =
        json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "clients");
    fail_unless_equals_int(json_array_get_length(clients), 2);
    std::vector<std::string> agents;
    for (guint i = 0; i < 2; ++i)
        agents.push_back(
            json_object_get_string_member(json_array_get_object_element(clients, i), "user-agent"));
    fail_unless(agents == std::vector<std::string>({kPlayerAgent, kBrowserAgent}) ||
                agents == std::vector<std::string>({kBrowserAgent, kPlayerAgent}));

    /* The page, in a real browser: credentials in the URL of a top-level navigation. */
    g_autofree gchar *profile = g_dir_make_tmp("wmstream-chromium-XXXXXX", nullptr);
    fail_unless(profile != nullptr);
    const std::string url = std::string("http://") + kUser + ":" + kPassword +
                            "@127.0.0.1:" + std::to_string(pipeline.port) + "/status";
    const std::string dom = chromium(profile, "--dump-dom", url);
    fail_unless_equals_int(count(dom, "<tr class=\"client\">"), 2);
    for (const TestClient *client : {&player, &viewer}) {
        const std::string address = "127.0.0.1:" + std::to_string(client->port());
        fail_unless(dom.find("<td>" + address + "</td>") != std::string::npos, "%s not in %s",
                    address.c_str(), dom.c_str());
    }
    fail_unless(dom.find(std::string("<td>") + kPlayerAgent + "</td><td>wmsp</td>") !=
                std::string::npos);
    fail_unless(dom.find(std::string("<td>") + kBrowserAgent + "</td><td>http</td>") !=
                std::string::npos);
    fail_unless(dom.find("<svg id=\"rates\"") != std::string::npos);

    g_unlink(screenshot_path.c_str());
    chromium(profile, "--screenshot=" + screenshot_path, url);
    gchar *png = nullptr;
    gsize png_size = 0;
    fail_unless(g_file_get_contents(screenshot_path.c_str(), &png, &png_size, nullptr),
                "no screenshot at %s", screenshot_path.c_str());
    fail_unless(png_size > 8 && memcmp(png, "\x89PNG", 4) == 0);
    g_free(png);
    g_print("wmnetsink-status: screenshot at %s\n", screenshot_path.c_str());
    g_autofree gchar *rm = g_strdup_printf("rm -rf '%s'", profile);
    fail_unless(system(rm) == 0);

    /* Status requests are not viewers. */
    wait_clients(pipeline.sink, 2);
    fail_unless_equals_int(server_stat(pipeline.sink, "clients-served"), 2);
    size_t added = 0;
    for (const ClientEvent &event : recorder.events())
        added += event.added ? 1 : 0;
    fail_unless_equals_int(added, 2);
    pipeline.check_no_error();
}
GST_END_TEST;

GST_START_TEST(test_status_needs_credentials) {
    LoneSink lone;
    g_object_set(lone.sink, "status-path", "/status", nullptr);
    lone.assert_ready_fails(GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u);
    g_object_set(lone.sink, "status-path", "status", "status-open", TRUE, nullptr);
    lone.assert_ready_fails(GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u);
}
GST_END_TEST;

/* The explicit opt-out: no credentials asked. */
GST_START_TEST(test_status_open) {
    LivePipeline pipeline("status-path=/status status-open=true");
    TestClient anyone(pipeline.port);
    anyone.get("Mozilla/5.0", "/status");
    fail_unless(anyone.read_head());
    fail_unless(starts_with(anyone.status_line(), "HTTP/1.0 200"), "%s",
                anyone.status_line().c_str());
    fail_unless(starts_with(anyone.header("Content-Type"), "text/html"));
    /* HEAD: the view's head, its length, no body (not the stream's head). */
    for (const char *path : {"/status", "/status.json"}) {
        TestClient head(pipeline.port);
        head.send(std::string("HEAD ") + path + " HTTP/1.0\r\nUser-Agent: Mozilla/5.0\r\n\r\n");
        fail_unless(head.read_head());
        fail_unless(starts_with(head.status_line(), "HTTP/1.0 200"), "%s",
                    head.status_line().c_str());
        const std::string type = head.header("Content-Type");
        fail_unless(
            starts_with(type, g_str_has_suffix(path, ".json") ? "application/json" : "text/html"),
            "%s: %s", path, type.c_str());
        fail_unless(std::stoi(head.header("Content-Length")) > 0);
        fail_unless(head.wait_closed());
        fail_unless_equals_int(head.body().size(), 0);
    }
    fail_unless_equals_int(num_clients(pipeline.sink), 0);
    pipeline.check_no_error();
}
GST_END_TEST;

Suite *status_suite() {
    Suite *suite = suite_create("wmnetsink-status");
    TCase *tcase = tcase_create("status");
    tcase_set_timeout(tcase, 180);
    tcase_add_test(tcase, test_status_needs_credentials);
    tcase_add_test(tcase, test_status_open);
    tcase_add_test(tcase, test_status_page_in_browser);
    suite_add_tcase(suite, tcase);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2)
        g_error("usage: %s SCREENSHOT.png", argv[0]);
    screenshot_path = argv[argc - 1];
    return interop::main_with_requirements(argc - 1, argv, "wmnetsink-status", status_suite,
                                           {"chromium", "timeout"},
                                           {"videotestsrc", "avenc_wmv2", "asfmux"});
}
