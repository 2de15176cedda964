/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: what wmpushsink does with a push server's answers
 * (lib/push/client.cpp, process_input): proto::http::scan_header_block() finds each
 * response head, proto::http::parse_response() (libsoup) parses it, 1xx heads are
 * skipped, and push::Session judges the others (on_setup_response() while
 * waiting for the PushSetup answer, on_start_response() after it), which
 * reads Set-Cookie (soup_cookie_parse), Location (GUri, relative to the
 * current URL) and WWW-Authenticate (SoupAuth Digest/Basic). After each
 * verdict the next request is written, so the Authorization header computed
 * from the server's challenge is covered too.
 *
 * Input: the bytes the server sends, any number of response heads one
 * after the other (at most kMaxResponses are judged).
 * Seeds: fuzz/corpus/push-response/ (the answers of [MS-WMHTTP] §4.8's
 * example exchange and of peercast-yt, from
 * ../shared/reference/ms-wmsp-and-wmhttp.md §4, plus 401, redirect and
 * plain-web-server answers in the same form).
 */
#include "proto/http-request.h"
#include "push/session.h"

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <string>

using namespace wmstream;
using namespace wmstream::push;

namespace {

/* Bounds the work per input. */
constexpr int kMaxResponses = 16;
/* Must never show in an error message (unless the server sent it). */
constexpr const char *kPassword = "pw-7f3a9c";

Session make_session() {
    SessionConfig config;
    config.location = "http://media.example:8080/pubpoint";
    config.template_url = "/template point";
    config.credentials = Credentials{"encoder", kPassword};
    Result<Session> session = Session::create(config);
    g_assert_true(session.ok());
    return std::move(*session);
}

/* The request the client sends next must still be a well-formed head with
 * our header fields only: nothing the server sent (a redirect's host, a
 * cookie, a challenge) may add a line. */
void check_request(const std::string &head) {
    static const char *const kFields[] = {
        "Content-Type",   "X-Accept-Authentication", "User-Agent", "Host",
        "Content-Length", "Cache-Control",           "Cookie",     "Authorization"};
    const proto::http::Scan scan =
        proto::http::scan_header_block(head.data(), head.size(), head.size());
    g_assert_true(scan.state == proto::http::Scan::State::Complete);
    const Result<proto::http::Request> request =
        proto::http::parse_request(head.data(), scan.block_size);
    g_assert_true(request.ok());
    g_assert_cmpuint(request->find_all("Host").size(), ==, 1);
    for (const auto &field : request->headers) {
        bool known = false;
        for (const char *name : kFields)
            known = known || proto::http::equals_ignore_case(field.first, name);
        if (!known)
            g_error("the request has a header field '%s' we never write", field.first.c_str());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Session session = make_session();
    bool awaiting_setup = true;
    const std::string received(reinterpret_cast<const char *>(data), size);
    const bool sent_password = received.find(kPassword) != std::string::npos;
    std::string input = received;
    for (int judged = 0; judged < kMaxResponses && !input.empty();) {
        const proto::http::Scan scan = proto::http::scan_header_block(input.data(), input.size());
        if (scan.state != proto::http::Scan::State::Complete)
            break;
        const Result<Response> response =
            proto::http::parse_response(input.data(), scan.block_size);
        input.erase(0, scan.block_size);
        if (!response) {
            g_assert_true(response.error().code == Errc::InvalidData);
            break;
        }
        if (response->status >= 100 && response->status < 200)
            continue;
        judged++;
        (void)response->keeps_alive();
        (void)response->has_body();

        const Verdict verdict = awaiting_setup ? session.on_setup_response(*response)
                                               : session.on_start_response(*response);
        switch (verdict.action) {
        case Verdict::Action::Proceed:
            awaiting_setup = false;
            check_request(session.start_request(0x7fffffff));
            break;
        case Verdict::Action::Resubmit:
            awaiting_setup = true;
            check_request(session.setup_request());
            break;
        case Verdict::Action::Fail:
            g_assert_false(verdict.error.message.empty());
            g_assert_true(sent_password ||
                          verdict.error.message.find(kPassword) == std::string::npos);
            session.begin_attempt();
            awaiting_setup = true;
            check_request(session.setup_request());
            break;
        }
    }
    return 0;
}
