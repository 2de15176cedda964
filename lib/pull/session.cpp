/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MS-WMSP client session: source URLs, the Describe and Play request text,
 * the verdict on each answer head, and the answer bodies through pull::Stream.
 */
#include "pull/session.h"

#include "base/text.h"
#include "proto/wmsp-request.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace wmstream::pull {

namespace http = proto::http;

namespace {

/* Source schemes and the HTTP scheme each stands for. */
struct Scheme {
    const char *name;
    const char *http;
};
constexpr Scheme kSchemes[] = {
    {"mmsh://", "http://"}, {"mms://", "http://"}, {"http://", "http://"}};

Verdict verdict(Verdict::Action action, unsigned status, Errc code, std::string message) {
    Verdict result;
    result.action = action;
    result.status = status;
    result.error = make_error(code, std::move(message));
    return result;
}

bool is_redirect(unsigned status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* "1, 2 and 3" for messages. */
std::string stream_list(const std::vector<uint8_t> &numbers) {
    std::string text;
    for (size_t i = 0; i < numbers.size(); ++i)
        text += (i ? ", " : "") + std::to_string(numbers[i]);
    return text.empty() ? "none" : text;
}

} // namespace

Result<http::Url> parse_location(std::string_view text) {
    for (const Scheme &scheme : kSchemes) {
        const size_t length = strlen(scheme.name);
        if (text.size() >= length &&
            g_ascii_strncasecmp(std::string(text.substr(0, length)).c_str(), scheme.name, length) ==
                0)
            return http::parse_url(scheme.http + std::string(text.substr(length)));
    }
    return make_error(Errc::InvalidName, "'" + printable(text, http::kMaxQuotedText) +
                                             "' is not an mmsh://, mms:// or http:// URL");
}

Result<std::vector<uint8_t>> parse_stream_numbers(std::string_view text) {
    std::vector<uint8_t> numbers;
    g_autofree char *copy = g_strstrip(g_strndup(text.data(), text.size()));
    if (g_ascii_strcasecmp(copy, "all") == 0)
        return numbers;
    g_auto(GStrv) items = g_strsplit(copy, ",", -1);
    for (char **item = items; *copy && *item; ++item) {
        guint64 number = 0;
        g_strstrip(*item);
        if (!g_ascii_string_to_unsigned(*item, 10, 1, 127, &number, nullptr))
            return make_error(Errc::InvalidArgument,
                              "'" + printable(*item, 32) + "' is no stream number (1 to 127)");
        numbers.push_back(static_cast<uint8_t>(number));
    }
    return numbers;
}

Session::Session(SessionConfig config, http::Url url, std::string guid)
    : config_(std::move(config)), configured_url_(url), url_(std::move(url)),
      guid_(std::move(guid)) {}

Result<Session> Session::create(SessionConfig config) {
    Result<http::Url> url = parse_location(config.location);
    if (!url)
        return url.error();
    if (config.user_agent.empty())
        return make_error(Errc::InvalidArgument, "the user agent is empty");
    for (const uint8_t number : config.streams)
        if (number < 1 || number > 127)
            return make_error(Errc::InvalidArgument,
                              "stream number " + std::to_string(number) + " is not in 1..127");
    g_autofree char *uuid = g_uuid_string_random();
    return Session(std::move(config), std::move(*url), std::string("{") + uuid + "}");
}

void Session::begin_attempt() {
    url_ = configured_url_;
    phase_ = Phase::Describe;
    redirects_ = 0;
}

std::string Session::play_pragmas() const {
    std::string entries;
    unsigned count = 0;
    for (const proto::asf::StreamInfo &stream : described_->streams) {
        const bool wanted =
            config_.streams.empty() || std::find(config_.streams.begin(), config_.streams.end(),
                                                 stream.number) != config_.streams.end();
        /* src ffff (none replaced), dst in hex, thinning 0 (all) or 2 (off) [§2.2.1.4.27]. */
        char entry[16];
        g_snprintf(entry, sizeof entry, "ffff:%x:%d ", stream.number, wanted ? 0 : 2);
        entries += entry;
        count++;
    }
    std::string text = "Pragma: xPlayStrm=1\r\n";
    if (client_id_)
        text += "Pragma: client-id=" + std::to_string(client_id_) + "\r\n";
    text += "Pragma: stream-switch-count=" + std::to_string(count) + "\r\n";
    /* Each entry list alone on its Pragma line [§2.2.1.4.27]. */
    text += "Pragma: stream-switch-entry=" + entries + "\r\n";
    return text;
}

std::string Session::request() {
    request_context_++;
    std::string text = "GET " + url_.path + " HTTP/1.0\r\n";
    text += "Accept: */*\r\n";
    text += "User-Agent: " + config_.user_agent + "\r\n";
    text += "Host: " + url_.authority() + "\r\n";
    const std::string context = "request-context=" + std::to_string(request_context_);
    if (phase_ == Phase::Describe) {
        text += "Pragma: no-cache,rate=1.000,stream-time=0,stream-offset=0:0," + context +
                ",max-duration=0\r\n";
    } else {
        /* A broadcast has no start position: stream-time and stream-offset left out, as VLC
         * does for a broadcast. */
        text += "Pragma: no-cache,rate=1.000," + context + "\r\n";
        text += play_pragmas();
    }
    text += "Pragma: xClientGUID=" + guid_ + "\r\n";
    text += "Connection: Close\r\n\r\n";
    return text;
}

Verdict Session::redirect(const http::Response &response) {
    const std::string what =
        url_.to_string() + " answered " + std::to_string(response.status) + " " + response.reason;
    const std::string *location = response.find("Location");
    if (!location)
        return verdict(Verdict::Action::Refused, response.status, Errc::InvalidName,
                       what + " without a Location");
    if (++redirects_ > config_.max_redirects)
        return verdict(Verdict::Action::Refused, response.status, Errc::InvalidName,
                       what + ": more than " + std::to_string(config_.max_redirects) +
                           " redirects");
    Result<http::Url> target = http::resolve_url(url_, *location);
    if (!target)
        return verdict(Verdict::Action::Refused, response.status, target.error().code,
                       what + ": " + target.error().message);
    if (target->tls)
        return verdict(Verdict::Action::Refused, response.status, Errc::InvalidName,
                       what + ": a redirect to https, which MS-WMSP does not use");
    url_ = std::move(*target);
    Verdict result;
    result.action = Verdict::Action::Redirect;
    result.status = response.status;
    return result;
}

Verdict Session::on_answer(const http::Response &response) {
    const unsigned status = response.status;
    const std::string what =
        url_.to_string() + " answered " + std::to_string(status) + " " + response.reason;
    if (is_redirect(status))
        return redirect(response);
    if (status >= 500)
        return verdict(Verdict::Action::Reconnect, status, Errc::ConnectionFailure, what);
    if (status == 401 || status == 403 || status == 407)
        return verdict(Verdict::Action::Refused, status, Errc::AccessDenied, what);
    if (status == 404 || status == 410)
        return verdict(Verdict::Action::Refused, status, Errc::InvalidName, what);
    if (status < 200 || status >= 300)
        return verdict(Verdict::Action::Refused, status, Errc::InvalidRequest, what);
    const std::string *coding = response.find("Transfer-Encoding");
    if (coding && g_ascii_strcasecmp(coding->c_str(), "identity") != 0)
        return verdict(Verdict::Action::Refused, status, Errc::InvalidData,
                       what + " with Transfer-Encoding " +
                           printable(*coding, http::kMaxQuotedText) + " to an HTTP/1.0 request");
    if (phase_ == Phase::Describe) {
        const proto::wmsp::Pragma pragma = proto::wmsp::Pragma::parse(response.find_all("Pragma"));
        const std::optional<std::string> id = pragma.get("client-id");
        client_id_ = id ? static_cast<uint32_t>(g_ascii_strtoull(id->c_str(), nullptr, 10)) : 0;
    }
    skipped_before_ += stream_.skipped();
    stream_ = Stream();
    stream_.select(config_.streams);
    Verdict result;
    result.action = Verdict::Action::Proceed;
    result.status = status;
    return result;
}

Result<std::optional<Event>> Session::next() {
    Result<std::optional<Event>> event = stream_.next();
    /* A Describe answer is read for its header only. */
    while (event && event->has_value() && phase_ == Phase::Describe &&
           (*event)->kind != Event::Kind::Header)
        event = stream_.next();
    if (!event || !event->has_value() || phase_ != Phase::Describe)
        return event;
    const proto::asf::HeaderInfo &header = *stream_.header();
    if (!config_.streams.empty()) {
        const bool any =
            std::any_of(header.streams.begin(), header.streams.end(),
                        [this](const proto::asf::StreamInfo &stream) {
                            return std::find(config_.streams.begin(), config_.streams.end(),
                                             stream.number) != config_.streams.end();
                        });
        std::vector<uint8_t> offered;
        for (const proto::asf::StreamInfo &stream : header.streams)
            offered.push_back(stream.number);
        if (!any)
            return make_error(Errc::InvalidArgument,
                              "none of the streams asked for (" + stream_list(config_.streams) +
                                  ") is in the header of " + url_.to_string() + " (streams " +
                                  stream_list(offered) + ")");
    }
    described_ = header;
    phase_ = Phase::Play;
    return event;
}

} // namespace wmstream::pull
