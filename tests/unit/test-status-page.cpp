/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/status-page (the operator's status view): the
 * per-second rate history, the HTML page (hostile user agents and DNS names
 * escaped, one row per viewer, the chart, the refresh), the JSON (parsed back
 * with json-glib, every field checked), which requests ask for them
 * (proto::wmsp::classify with a status path) and their response head.
 */
#include "proto/response.h"
#include "proto/wmsp-request.h"
#include "server/status-page.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <cstring>
#include <string>

namespace status = wmstream::server::status;
namespace server = wmstream::server;

namespace {

constexpr const char *kHostileAgent = "<script>alert(\"x\")</script>&";
constexpr const char *kHostileName = "evil\"><img src=x onerror=alert(1)>.example";

status::Snapshot sample_snapshot() {
    status::Snapshot snapshot;
    snapshot.now_us = 100 * G_USEC_PER_SEC;
    server::ClientInfo wmsp;
    wmsp.id = 7;
    wmsp.address = "127.0.0.1";
    wmsp.port = 40000;
    wmsp.dns_name = kHostileName;
    wmsp.user_agent = kHostileAgent;
    wmsp.protocol = server::ClientProtocol::Wmsp;
    wmsp.connected_for_us = 125 * G_USEC_PER_SEC;
    wmsp.bitrate_bps = 512000;
    wmsp.lag_us = 1500000;
    wmsp.bytes_sent = 123456;
    wmsp.packets_sent = 42;
    wmsp.selected_streams.set(1).set(2);
    server::ClientInfo http;
    http.id = 8;
    http.address = "::1";
    http.port = 40001;
    http.user_agent = "Lavf/59.27.100";
    http.protocol = server::ClientProtocol::Http;
    http.selected_streams.set(1);
    snapshot.clients = {wmsp, http};
    snapshot.rates = {{98 * G_USEC_PER_SEC, 800000, 1600000}, {99 * G_USEC_PER_SEC, 1000, 2000}};
    snapshot.totals.bytes_in = 1000;
    snapshot.totals.bytes_sent = 2000;
    snapshot.totals.clients_served = 3;
    return snapshot;
}

size_t count(const std::string &text, const std::string &what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

void test_history() {
    status::RateHistory history;
    history.record(0, 0, 0); /* starts counting */
    history.record(500000, 1000, 1000);
    g_assert_cmpuint(history.samples().size(), ==, 0);
    history.record(G_USEC_PER_SEC, 1000, 3000);
    g_assert_cmpuint(history.samples().size(), ==, 1);
    g_assert_cmpuint(history.samples().back().in_bps, ==, 8000);
    g_assert_cmpuint(history.samples().back().out_bps, ==, 24000);
    /* Two seconds later: the rate over both. */
    history.record(3 * G_USEC_PER_SEC, 3000, 3000);
    g_assert_cmpuint(history.samples().back().in_bps, ==, 8000);
    g_assert_cmpuint(history.samples().back().out_bps, ==, 0);
    /* Totals that went down (a reopened server) restart the count, no sample. */
    history.record(4 * G_USEC_PER_SEC, 10, 10);
    g_assert_cmpuint(history.samples().size(), ==, 2);
    for (int64_t s = 5; s < 5 + int64_t(status::RateHistory::kSeconds) + 10; ++s)
        history.record(s * G_USEC_PER_SEC, 10, 10);
    g_assert_cmpuint(history.samples().size(), ==, status::RateHistory::kSeconds);
    g_assert_cmpint(history.samples().front().at_us, <, history.samples().back().at_us);
}

void test_html() {
    const std::string page = status::html(sample_snapshot(), "/status.json");
    g_assert_true(g_str_has_prefix(page.c_str(), "<!DOCTYPE html>"));
    g_assert_nonnull(strstr(page.c_str(), "<meta http-equiv=\"refresh\" content=\"5\">"));
    g_assert_cmpuint(count(page, "<tr class=\"client\">"), ==, 2);
    /* What a peer chose never becomes markup. */
    g_assert_null(strstr(page.c_str(), "<script"));
    g_assert_null(strstr(page.c_str(), "<img"));
    g_assert_nonnull(
        strstr(page.c_str(), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;"));
    g_assert_nonnull(
        strstr(page.c_str(), "evil&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.example"));
    /* The fields of a row. */
    g_assert_nonnull(strstr(page.c_str(), "<td>127.0.0.1:40000</td>"));
    g_assert_nonnull(strstr(page.c_str(), "<td>[::1]:40001</td>"));
    g_assert_nonnull(strstr(page.c_str(), "<td>wmsp</td><td>1,2</td><td>2:05</td>"
                                          "<td>512 kbit/s</td><td>1.5 s</td>"));
    g_assert_nonnull(strstr(page.c_str(), "<td>http</td><td>1</td>"));
    /* The chart: inline SVG, both rates, scaled to the peak (1600 kbit/s + 10 %). */
    g_assert_nonnull(strstr(page.c_str(), "<svg id=\"rates\""));
    g_assert_cmpuint(count(page, "<polyline"), ==, 2);
    g_assert_nonnull(strstr(page.c_str(), ">1760 kbit/s</text>"));
    g_assert_nonnull(strstr(page.c_str(), "href=\"/status.json\""));
    /* Nothing fetched: no script, style sheet or frame; not even the favicon (a GET of
     * /favicon.ico would be a viewer of the stream). */
    for (const char *tag : {"<script", "<link rel=\"stylesheet\"", "<iframe", "<object", "<img"})
        g_assert_null(strstr(page.c_str(), tag));
    g_assert_nonnull(strstr(page.c_str(), "<link rel=\"icon\" href=\"data:,\">"));
}

void test_html_empty() {
    const std::string page = status::html(status::Snapshot(), "/s.json");
    g_assert_cmpuint(count(page, "<tr class=\"client\">"), ==, 0);
    g_assert_nonnull(strstr(page.c_str(), "0 viewers"));
}

void test_json() {
    const std::string text = status::json(sample_snapshot());
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = nullptr;
    g_assert_true(json_parser_load_from_data(parser, text.c_str(), gssize(text.size()), &error));
    g_assert_no_error(error);
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    g_assert_cmpint(json_object_get_int_member(root, "bytes-in"), ==, 1000);
    g_assert_cmpint(json_object_get_int_member(root, "bytes-sent"), ==, 2000);
    g_assert_cmpint(json_object_get_int_member(root, "clients-served"), ==, 3);

    JsonArray *clients = json_object_get_array_member(root, "clients");
    g_assert_cmpuint(json_array_get_length(clients), ==, 2);
    JsonObject *first = json_array_get_object_element(clients, 0);
    g_assert_cmpint(json_object_get_int_member(first, "id"), ==, 7);
    g_assert_cmpstr(json_object_get_string_member(first, "address"), ==, "127.0.0.1");
    g_assert_cmpint(json_object_get_int_member(first, "port"), ==, 40000);
    /* JSON carries the text as sent; escaping is the reader's. */
    g_assert_cmpstr(json_object_get_string_member(first, "dns-name"), ==, kHostileName);
    g_assert_cmpstr(json_object_get_string_member(first, "user-agent"), ==, kHostileAgent);
    g_assert_cmpstr(json_object_get_string_member(first, "protocol"), ==, "wmsp");
    JsonArray *streams = json_object_get_array_member(first, "selected-streams");
    g_assert_cmpuint(json_array_get_length(streams), ==, 2);
    g_assert_cmpint(json_array_get_int_element(streams, 0), ==, 1);
    g_assert_cmpint(json_array_get_int_element(streams, 1), ==, 2);
    g_assert_cmpint(json_object_get_int_member(first, "connected-for-us"), ==,
                    125 * G_USEC_PER_SEC);
    g_assert_cmpint(json_object_get_int_member(first, "bitrate-bps"), ==, 512000);
    g_assert_cmpint(json_object_get_int_member(first, "lag-us"), ==, 1500000);
    g_assert_cmpint(json_object_get_int_member(first, "bytes-sent"), ==, 123456);
    g_assert_cmpint(json_object_get_int_member(first, "packets-sent"), ==, 42);
    JsonObject *second = json_array_get_object_element(clients, 1);
    g_assert_cmpstr(json_object_get_string_member(second, "protocol"), ==, "http");
    g_assert_cmpstr(json_object_get_string_member(second, "dns-name"), ==, "");

    JsonArray *rates = json_object_get_array_member(root, "rates");
    g_assert_cmpuint(json_array_get_length(rates), ==, 2);
    JsonObject *oldest = json_array_get_object_element(rates, 0);
    g_assert_cmpint(json_object_get_int_member(oldest, "age-ms"), ==, 2000);
    g_assert_cmpint(json_object_get_int_member(oldest, "in-bps"), ==, 800000);
    g_assert_cmpint(json_object_get_int_member(oldest, "out-bps"), ==, 1600000);
}

void test_classify_and_response() {
    namespace wmsp = wmstream::proto::wmsp;
    wmstream::proto::http::Request request;
    request.method = "GET";
    request.headers = {{"User-Agent", "Mozilla/5.0"}};
    const auto kind = [&](const char *path, const char *status_path) {
        request.path = path;
        return wmsp::classify(request, status_path).kind;
    };
    g_assert_true(kind("/status", "/status") == wmsp::Kind::StatusPage);
    g_assert_true(kind("/status?x=1", "/status") == wmsp::Kind::StatusPage);
    g_assert_true(kind("/status.json", "/status") == wmsp::Kind::StatusData);
    g_assert_true(kind("/status", "") == wmsp::Kind::HttpStream);
    g_assert_true(kind("/status/", "/status") == wmsp::Kind::HttpStream);
    g_assert_true(kind("/statusjson", "/status") == wmsp::Kind::HttpStream);
    g_assert_true(kind("/STATUS", "/status") == wmsp::Kind::HttpStream);
    /* HEAD of the status view is the view's head (RFC 9110 §9.3.2), not the stream's. */
    request.method = "HEAD";
    g_assert_true(kind("/status", "/status") == wmsp::Kind::StatusPage);
    g_assert_true(kind("/status.json", "/status") == wmsp::Kind::StatusData);
    g_assert_true(wmsp::classify(request, "/status").head);
    g_assert_true(kind("/status/", "/status") == wmsp::Kind::HttpHead);
    request.method = "GET";
    g_assert_false(wmsp::classify(request, "/status").head);
    request.method = "POST";
    g_assert_true(kind("/status", "/status") != wmsp::Kind::StatusPage);

    const std::string html = wmstream::proto::response::status(false, 10);
    g_assert_true(g_str_has_prefix(html.c_str(), "HTTP/1.0 200 OK\r\n"));
    g_assert_nonnull(strstr(html.c_str(), "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    g_assert_nonnull(strstr(html.c_str(), "\r\nContent-Length: 10\r\n"));
    g_assert_nonnull(strstr(html.c_str(), "\r\nCache-Control: no-store\r\n"));
    const std::string json = wmstream::proto::response::status(true, 2);
    g_assert_nonnull(strstr(json.c_str(), "\r\nContent-Type: application/json; charset=utf-8\r\n"));
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/status-page/history", test_history);
    g_test_add_func("/status-page/html", test_html);
    g_test_add_func("/status-page/html-empty", test_html_empty);
    g_test_add_func("/status-page/json", test_json);
    g_test_add_func("/status-page/classify-and-response", test_classify_and_response);
    return g_test_run();
}
