/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/status-page.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>

namespace wmstream::server::status {

namespace {

/* The chart's drawing area, SVG user units. */
constexpr int kChartWidth = 600;
constexpr int kChartHeight = 160;

std::string escaped(const std::string &text) {
    g_autofree char *out = g_markup_escape_text(text.c_str(), gssize(text.size()));
    return out;
}

std::string format(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
std::string format(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    g_autofree char *out = g_strdup_vprintf(fmt, args);
    va_end(args);
    return out;
}

/** "1,2,5": the stream numbers set in @p streams. */
std::string stream_list(const std::bitset<128> &streams) {
    std::string out;
    for (size_t n = 0; n < streams.size(); ++n)
        if (streams.test(n))
            out += (out.empty() ? "" : ",") + std::to_string(n);
    return out;
}

/** "1:02:03" or "2:03": a duration in µs. */
std::string duration(int64_t us) {
    const int64_t s = std::max<int64_t>(us, 0) / G_USEC_PER_SEC;
    if (s >= 3600)
        return format("%" PRId64 ":%02d:%02d", s / 3600, int(s / 60 % 60), int(s % 60));
    return format("%d:%02d", int(s / 60), int(s % 60));
}

double seconds_ago(const RateSample &sample, int64_t now_us) {
    return double(std::max<int64_t>(now_us - sample.at_us, 0)) / G_USEC_PER_SEC;
}

/** The points of one polyline: x = seconds ago across the width, y = kbit/s up to @p top. */
std::string points(const std::vector<RateSample> &rates, int64_t now_us, double top,
                   uint64_t RateSample::*field) {
    std::string out;
    for (const RateSample &sample : rates) {
        const double ago = std::min(seconds_ago(sample, now_us), double(RateHistory::kSeconds));
        const double x = kChartWidth * (1.0 - ago / RateHistory::kSeconds);
        const double y = kChartHeight * (1.0 - double(sample.*field) / 1000.0 / top);
        out += format("%.1f,%.1f ", x, y);
    }
    return out;
}

std::string chart(const Snapshot &snapshot) {
    uint64_t peak = 0;
    for (const RateSample &sample : snapshot.rates)
        peak = std::max({peak, sample.in_bps, sample.out_bps});
    const double top = std::max(1.0, double(peak) / 1000.0 * 1.1); /* kbit/s */
    return format("<svg id=\"rates\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                  "height=\"%d\" viewBox=\"-90 -10 %d %d\" role=\"img\">\n"
                  "<title>Bit rate in and out, last %zu s</title>\n"
                  "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#f8f8f8\" "
                  "stroke=\"#888\"/>\n"
                  "<text x=\"-5\" y=\"10\" text-anchor=\"end\">%.0f kbit/s</text>\n"
                  "<text x=\"-5\" y=\"%d\" text-anchor=\"end\">0</text>\n"
                  "<text x=\"0\" y=\"%d\">-%zu s</text>\n"
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">now</text>\n"
                  "<polyline class=\"in\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" "
                  "points=\"%s\"/>\n"
                  "<polyline class=\"out\" fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"2\" "
                  "points=\"%s\"/>\n"
                  "</svg>\n"
                  "<p><span style=\"color:#1565c0\">&#9632; in</span> "
                  "<span style=\"color:#2e7d32\">&#9632; out</span></p>\n",
                  kChartWidth + 100, kChartHeight + 40, kChartWidth + 100, kChartHeight + 40,
                  RateHistory::kSeconds, kChartWidth, kChartHeight, top, kChartHeight,
                  kChartHeight + 20, RateHistory::kSeconds, kChartWidth, kChartHeight + 20,
                  points(snapshot.rates, snapshot.now_us, top, &RateSample::in_bps).c_str(),
                  points(snapshot.rates, snapshot.now_us, top, &RateSample::out_bps).c_str());
}

std::string client_row(const ClientInfo &client) {
    const std::string address =
        client.address.find(':') != std::string::npos ? "[" + client.address + "]" : client.address;
    return format("<tr class=\"client\"><td>%" G_GUINT64_FORMAT "</td><td>%s:%u</td><td>%s</td>"
                  "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.0f kbit/s</td>"
                  "<td>%.1f s</td><td>%" G_GUINT64_FORMAT "</td></tr>\n",
                  client.id, escaped(address).c_str(), unsigned(client.port),
                  escaped(client.dns_name).c_str(), escaped(client.user_agent).c_str(),
                  to_string(client.protocol), stream_list(client.selected_streams).c_str(),
                  duration(client.connected_for_us).c_str(), double(client.bitrate_bps) / 1000.0,
                  double(client.lag_us) / G_USEC_PER_SEC, client.bytes_sent);
}

void add_int(JsonBuilder *builder, const char *name, gint64 value) {
    json_builder_set_member_name(builder, name);
    json_builder_add_int_value(builder, value);
}

void add_string(JsonBuilder *builder, const char *name, const char *value) {
    json_builder_set_member_name(builder, name);
    json_builder_add_string_value(builder, value);
}

} // namespace

void RateHistory::record(int64_t now_us, uint64_t bytes_in, uint64_t bytes_out) {
    if (!started_ || bytes_in < last_in_ || bytes_out < last_out_ || now_us < last_us_) {
        started_ = true;
        last_us_ = now_us;
        last_in_ = bytes_in;
        last_out_ = bytes_out;
        return;
    }
    const int64_t elapsed = now_us - last_us_;
    if (elapsed < G_USEC_PER_SEC)
        return;
    RateSample sample;
    sample.at_us = now_us;
    sample.in_bps = (bytes_in - last_in_) * 8 * G_USEC_PER_SEC / uint64_t(elapsed);
    sample.out_bps = (bytes_out - last_out_) * 8 * G_USEC_PER_SEC / uint64_t(elapsed);
    samples_.push_back(sample);
    if (samples_.size() > kSeconds)
        samples_.pop_front();
    last_us_ = now_us;
    last_in_ = bytes_in;
    last_out_ = bytes_out;
}

std::string html(const Snapshot &snapshot, const std::string &json_path) {
    std::string rows;
    for (const ClientInfo &client : snapshot.clients)
        rows += client_row(client);
    const uint64_t in_bps = snapshot.rates.empty() ? 0 : snapshot.rates.back().in_bps;
    const uint64_t out_bps = snapshot.rates.empty() ? 0 : snapshot.rates.back().out_bps;
    return format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"refresh\" content=\"%d\">\n"
                  "<title>wmnetsink status</title>\n"
                  /* No favicon request: it would be a viewer of the stream. */
                  "<link rel=\"icon\" href=\"data:,\">\n"
                  "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
                  "td,th{border:1px solid #aaa;padding:2px 6px;text-align:left}</style>\n"
                  "</head><body>\n<h1>wmnetsink status</h1>\n"
                  "<p id=\"summary\">%zu viewers; in %.0f kbit/s, out %.0f kbit/s; "
                  "%" G_GUINT64_FORMAT " clients served since start</p>\n",
                  kRefreshSeconds, snapshot.clients.size(), double(in_bps) / 1000.0,
                  double(out_bps) / 1000.0, snapshot.totals.clients_served) +
           chart(snapshot) +
           "<table id=\"clients\">\n<tr><th>Id</th><th>Address</th><th>DNS name</th>"
           "<th>User agent</th><th>Protocol</th><th>Streams</th><th>Connected for</th>"
           "<th>Rate</th><th>Lag</th><th>Bytes sent</th></tr>\n" +
           rows + "</table>\n<p><a href=\"" + escaped(json_path) +
           "\">JSON</a></p>\n</body></html>\n";
}

std::string json(const Snapshot &snapshot) {
    g_autoptr(JsonBuilder) builder = json_builder_new();
    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "clients");
    json_builder_begin_array(builder);
    for (const ClientInfo &client : snapshot.clients) {
        json_builder_begin_object(builder);
        add_int(builder, "id", gint64(client.id));
        add_string(builder, "address", client.address.c_str());
        add_int(builder, "port", client.port);
        add_string(builder, "dns-name", client.dns_name.c_str());
        add_string(builder, "user-agent", client.user_agent.c_str());
        add_string(builder, "protocol", to_string(client.protocol));
        json_builder_set_member_name(builder, "selected-streams");
        json_builder_begin_array(builder);
        for (size_t n = 0; n < client.selected_streams.size(); ++n)
            if (client.selected_streams.test(n))
                json_builder_add_int_value(builder, gint64(n));
        json_builder_end_array(builder);
        add_int(builder, "connected-for-us", client.connected_for_us);
        add_int(builder, "bitrate-bps", gint64(client.bitrate_bps));
        add_int(builder, "lag-us", client.lag_us);
        add_int(builder, "bytes-sent", gint64(client.bytes_sent));
        add_int(builder, "packets-sent", gint64(client.packets_sent));
        json_builder_end_object(builder);
    }
    json_builder_end_array(builder);
    json_builder_set_member_name(builder, "rates");
    json_builder_begin_array(builder);
    for (const RateSample &sample : snapshot.rates) {
        json_builder_begin_object(builder);
        add_int(builder, "age-ms", std::max<int64_t>(snapshot.now_us - sample.at_us, 0) / 1000);
        add_int(builder, "in-bps", gint64(sample.in_bps));
        add_int(builder, "out-bps", gint64(sample.out_bps));
        json_builder_end_object(builder);
    }
    json_builder_end_array(builder);
    add_int(builder, "bytes-in", gint64(snapshot.totals.bytes_in));
    add_int(builder, "bytes-sent", gint64(snapshot.totals.bytes_sent));
    add_int(builder, "clients-served", gint64(snapshot.totals.clients_served));
    json_builder_end_object(builder);

    g_autoptr(JsonNode) root = json_builder_get_root(builder);
    g_autofree char *text = json_to_string(root, FALSE);
    return text;
}

} // namespace wmstream::server::status
