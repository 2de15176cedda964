/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MS-WMSP Pragma parsing and request classification.
 * Source: [MS-WMSP] §2.2.1.4 (Pragma), §2.2.1.4.27 (stream-switch-entry),
 * §2.2.2 (request types), §3.2.5.1 (User-Agent), and the FFmpeg 5.1 / VLC 3.0
 * captures in tests/data/requests/.
 */
#include "proto/wmsp-request.h"

#include "proto/announcement.h"

#include <glib.h>

#include <algorithm>
#include <array>

namespace wmstream::proto::wmsp {

using http::equals_ignore_case;

namespace {

bool starts_with_ignore_case(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() &&
           equals_ignore_case(text.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view text) {
    const size_t begin = text.find_first_not_of(" \t");
    if (begin == std::string_view::npos)
        return {};
    const size_t end = text.find_last_not_of(" \t");
    return text.substr(begin, end - begin + 1);
}

/* Split one Pragma value at commas outside double quotes (so a quoted value
 * such as features="broadcast,playlist" stays one token). */
std::vector<std::string_view> split_tokens(std::string_view value) {
    std::vector<std::string_view> tokens;
    bool quoted = false;
    size_t start = 0;
    for (size_t i = 0; i <= value.size(); i++) {
        if (i < value.size() && value[i] == '"')
            quoted = !quoted;
        if (i == value.size() || (value[i] == ',' && !quoted)) {
            tokens.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    return tokens;
}

/* Whole-string unsigned parse in @base; nullopt on empty, garbage or > @max. */
std::optional<uint32_t> parse_unsigned(std::string_view text, int base, uint32_t max) {
    if (text.empty() || !g_ascii_isxdigit(text.front()))
        return std::nullopt;
    const std::string copy(text);
    char *end = nullptr;
    const guint64 value = g_ascii_strtoull(copy.c_str(), &end, base);
    if (*end != '\0' || value > max)
        return std::nullopt;
    return static_cast<uint32_t>(value);
}

/*
 * NSPlayer/4.1.0.3856 is the User-Agent of FFmpeg's mmsh and of MPlayer; both
 * print the stream number of stream-switch-entry in decimal ("ffff:%d:0").
 * The spec (and WMP, VLC) use hex. The two agree for stream numbers 1–9.
 */
constexpr std::string_view kDecimalStreamAgent = "NSPlayer/4.1.0.3856";

/* Parse the space-separated src:dst:thin items; malformed items are skipped. */
std::vector<StreamSwitchEntry> parse_stream_switch(std::string_view value, int stream_base) {
    std::vector<StreamSwitchEntry> entries;
    size_t pos = 0;
    while (pos < value.size()) {
        const size_t end = std::min(value.find(' ', pos), value.size());
        const std::string_view item = value.substr(pos, end - pos);
        pos = end + 1;
        const size_t colon1 = item.find(':');
        const size_t colon2 =
            colon1 == std::string_view::npos ? colon1 : item.find(':', colon1 + 1);
        if (colon2 == std::string_view::npos)
            continue;
        const auto source = parse_unsigned(item.substr(0, colon1), 16, 0xffff);
        const auto stream =
            parse_unsigned(item.substr(colon1 + 1, colon2 - colon1 - 1), stream_base, 0xffff);
        const auto thinning = parse_unsigned(item.substr(colon2 + 1), 10, 2);
        if (!source || !stream || !thinning)
            continue;
        entries.push_back({static_cast<uint16_t>(*source), static_cast<uint16_t>(*stream),
                           static_cast<uint8_t>(*thinning)});
    }
    return entries;
}

/* NSServer/5.0 and older: MS-WMSP §3.2.5.6 has every stream selected for them. */
bool is_old_server_agent(std::string_view user_agent) {
    constexpr std::string_view kPrefix = "NSServer/";
    if (!starts_with_ignore_case(user_agent, kPrefix))
        return false;
    const std::string_view version = user_agent.substr(kPrefix.size());
    const size_t dot = version.find('.');
    const auto major = parse_unsigned(version.substr(0, dot), 10, G_MAXUINT32);
    if (!major || *major != 5)
        return major && *major < 5;
    const std::string_view rest =
        dot == std::string_view::npos ? std::string_view() : version.substr(dot + 1);
    const auto minor = parse_unsigned(rest.substr(0, rest.find('.')), 10, G_MAXUINT32);
    return !minor || *minor == 0;
}

/* The agents of distribution servers: WMS pulling from an encoder (§4.11) and the WMS
 * cache/proxy (§4.12). */
bool is_relay_agent(std::string_view user_agent) {
    return starts_with_ignore_case(user_agent, "NSServer/") ||
           starts_with_ignore_case(user_agent, "WMCacheProxy/");
}

bool is_wmsp_agent(std::string_view user_agent) {
    static constexpr std::array<std::string_view, 3> kPrefixes = {"NSPlayer/", "NSServer/",
                                                                  "WMCacheProxy/"};
    for (const auto prefix : kPrefixes) {
        if (starts_with_ignore_case(user_agent, prefix))
            return true;
    }
    return false;
}

/* Methods RFC 9110 §9 / RFC 5789 define that we recognise but do not serve. */
bool is_known_unserved_method(std::string_view method) {
    static constexpr std::array<std::string_view, 5> kMethods = {"PUT", "DELETE", "PATCH",
                                                                 "CONNECT", "TRACE"};
    for (const auto known : kMethods) {
        if (method == known)
            return true;
    }
    return false;
}

/* Content-Type media type (before any ';' parameter) equals @type, case-insensitively. */
bool has_content_type(const http::Request &request, std::string_view type) {
    const std::string *value = request.find("Content-Type");
    if (!value)
        return false;
    const std::string_view media = trim(std::string_view(*value).substr(0, value->find(';')));
    return equals_ignore_case(media, type);
}

Kind classify_post(const http::Request &request, const Pragma &pragma, bool wmsp_client) {
    if (!wmsp_client)
        return Kind::OtherPost;
    if (pragma.get("xKeepAliveInPause") == "1")
        return Kind::KeepAlive;
    if (pragma.has("log-line") || has_content_type(request, "application/x-wms-LogStats"))
        return Kind::Log;
    if (pragma.has("stream-switch-entry"))
        return Kind::SelectStream;
    if (has_content_type(request, "application/x-wms-getcontentinfo"))
        return Kind::GetContentInfo;
    return Kind::OtherPost;
}

} // namespace

Pragma Pragma::parse(const std::vector<std::string> &header_values) {
    Pragma pragma;
    for (const auto &header : header_values) {
        for (const std::string_view raw : split_tokens(header)) {
            const std::string_view token = trim(raw);
            if (token.empty())
                continue;
            const size_t eq = token.find('=');
            if (eq == std::string_view::npos) {
                pragma.tokens_.emplace_back(std::string(token), std::string());
                continue;
            }
            pragma.tokens_.emplace_back(std::string(trim(token.substr(0, eq))),
                                        std::string(trim(token.substr(eq + 1))));
        }
    }
    return pragma;
}

bool Pragma::has(std::string_view name) const {
    return get(name).has_value();
}

std::optional<std::string> Pragma::get(std::string_view name) const {
    for (const auto &[key, value] : tokens_) {
        if (equals_ignore_case(key, name))
            return value;
    }
    return std::nullopt;
}

std::string FastStart::echo() const {
    const char *prefix = accel ? "Accel" : "Burst";
    return std::string(prefix) + "BW=" + std::to_string(bandwidth_bps) + ", " + prefix +
           "Duration=" + std::to_string(duration_ms);
}

namespace {

/* The pair <prefix>BW, <prefix>Duration of @pragma, when both are valid and not 0. */
std::optional<FastStart> fast_start(const Pragma &pragma, bool accel) {
    const std::string prefix = accel ? "Accel" : "Burst";
    const auto bandwidth = pragma.get(prefix + "BW");
    const auto duration = pragma.get(prefix + "Duration");
    if (!bandwidth || !duration)
        return std::nullopt;
    const auto bps = parse_unsigned(*bandwidth, 10, G_MAXUINT32);
    const auto ms = parse_unsigned(*duration, 10, G_MAXUINT32);
    if (!bps || !ms || *bps == 0 || *ms == 0)
        return std::nullopt;
    return FastStart{accel, *bps, *ms};
}

} // namespace

ClientRequest classify(const http::Request &request, std::string_view status_path) {
    ClientRequest out;
    if (const std::string *agent = request.find("User-Agent"))
        out.user_agent = *agent;
    out.wmsp_client = is_wmsp_agent(out.user_agent);
    out.selects_all = is_old_server_agent(out.user_agent);
    out.relay = is_relay_agent(out.user_agent) || request.find("Via") != nullptr;
    out.via = http::via_received_by(request);
    if (const std::string *hops = request.find("Max-Forwards"))
        out.max_forwards = parse_unsigned(*hops, 10, G_MAXUINT32);

    const Pragma pragma = Pragma::parse(request.find_all("Pragma"));
    out.client_guid = pragma.get("xClientGUID").value_or("");
    if (const auto id = pragma.get("client-id"))
        out.client_id = parse_unsigned(*id, 10, G_MAXUINT32);
    if (const auto entries = pragma.get("stream-switch-entry")) {
        const int base = out.user_agent == kDecimalStreamAgent ? 10 : 16;
        out.stream_selection = parse_stream_switch(*entries, base);
    }
    out.fast_start = fast_start(pragma, false);
    if (!out.fast_start)
        out.fast_start = fast_start(pragma, true);

    /* Method tokens are case-sensitive (RFC 9110 §9.1). */
    const std::string &method = request.method;
    if (method == "GET" || method == "HEAD") {
        out.head = method == "HEAD";
        const std::string_view path =
            std::string_view(request.path).substr(0, request.path.find_first_of("?#"));
        if (!status_path.empty() && path == status_path)
            out.kind = Kind::StatusPage;
        else if (!status_path.empty() && path.size() == status_path.size() + 5 &&
                 path.substr(0, status_path.size()) == status_path &&
                 path.substr(status_path.size()) == ".json")
            out.kind = Kind::StatusData;
        else if (announcement::is_announcement(request.path))
            out.kind = Kind::Announcement;
        else if (out.head)
            out.kind = Kind::HttpHead;
        else if (!out.wmsp_client)
            out.kind = Kind::HttpStream;
        else if (pragma.get("xPlayStrm") == "1")
            out.kind = Kind::Play;
        else
            out.kind = Kind::Describe;
    } else if (method == "POST") {
        out.kind = classify_post(request, pragma, out.wmsp_client);
    } else if (method == "OPTIONS") {
        out.kind = Kind::KeepAlive;
    } else if (is_known_unserved_method(method)) {
        out.kind = Kind::MethodNotAllowed;
    } else {
        out.kind = Kind::NotImplemented;
    }
    return out;
}

bool is_loop(const ClientRequest &request, std::string_view via_name) {
    if (request.max_forwards == 0u)
        return true;
    return std::any_of(request.via.begin(), request.via.end(), [via_name](const std::string &name) {
        return equals_ignore_case(name, via_name);
    });
}

const char *to_string(Kind kind) {
    switch (kind) {
    case Kind::Describe:
        return "describe";
    case Kind::Play:
        return "play";
    case Kind::KeepAlive:
        return "keepalive";
    case Kind::Log:
        return "log";
    case Kind::SelectStream:
        return "select-stream";
    case Kind::GetContentInfo:
        return "get-content-info";
    case Kind::OtherPost:
        return "other-post";
    case Kind::HttpStream:
        return "http-stream";
    case Kind::HttpHead:
        return "http-head";
    case Kind::Announcement:
        return "announcement";
    case Kind::StatusPage:
        return "status-page";
    case Kind::StatusData:
        return "status-data";
    case Kind::MethodNotAllowed:
        return "method-not-allowed";
    case Kind::NotImplemented:
        break;
    }
    return "not-implemented";
}

} // namespace wmstream::proto::wmsp
