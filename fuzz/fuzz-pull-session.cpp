/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: what wmsrc does with an MS-WMSP server's answers
 * (lib/pull/client.cpp): proto::http::AnswerReader finds the answer head in
 * the bytes received, pull::Session judges it (redirects resolved against
 * the URL, Pragma client-id read) and reads the body that follows into
 * events (pull::Stream: $H joined and parsed, $D re-padded and parsed, the
 * start at a key frame, $C, $E), for the Describe answer and then for the
 * Play answer. After each answer the next request is written, so what the
 * server sent (a Location, a client-id, a header's streams) is checked not
 * to break the request text. The Play answer's events also go through
 * pull::Resume as after a lost connection: every header compared with the
 * one output, the data packets' times continued across the header's return,
 * which must not fail on a packet the stream parsed.
 *
 * Input: u16 LE n, then n bytes the server sends on the Describe connection,
 * then the rest, sent on the Play connection (each fed in pieces of 977 bytes).
 * Seeds: fuzz/corpus/pull-session/ (fuzz/make-corpus.py: wmnetsink's and VLC's
 * answers with the asfmux and FFmpeg fixtures' streams, a redirect, a $C).
 */
#include "proto/http-request.h"
#include "pull/resume.h"
#include "pull/session.h"

#include <glib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

using namespace wmstream;

namespace {

/* Bounds the work per input: events read from one answer. */
constexpr int kMaxEvents = 4096;
constexpr size_t kPiece = 977;

/* The request must be a well-formed head with one Host, whatever the server sent. */
void check_request(const std::string &head) {
    const proto::http::Scan scan =
        proto::http::scan_header_block(head.data(), head.size(), head.size());
    g_assert_true(scan.state == proto::http::Scan::State::Complete);
    g_assert_cmpuint(scan.block_size, ==, head.size());
    const Result<proto::http::Request> request =
        proto::http::parse_request(head.data(), scan.block_size);
    g_assert_true(request.ok());
    g_assert_cmpuint(request->find_all("Host").size(), ==, 1);
}

/* One connection: the request, then @p received as the answer. */
void connection(pull::Session &session, pull::Resume &resume, const uint8_t *received,
                size_t size) {
    const bool describing = session.phase() == pull::Session::Phase::Describe;
    check_request(session.request());
    proto::http::AnswerReader reader;
    size_t at = 0;
    std::optional<proto::http::Response> answer;
    while (at < size && !answer) {
        const size_t piece = std::min(kPiece, size - at);
        reader.feed(reinterpret_cast<const char *>(received + at), piece);
        at += piece;
        Result<std::optional<proto::http::Response>> next = reader.next();
        if (!next)
            return;
        answer = std::move(*next);
    }
    if (!answer)
        return;
    const pull::Verdict verdict = session.on_answer(*answer);
    if (verdict.action != pull::Verdict::Action::Proceed) {
        g_assert_true(verdict.action == pull::Verdict::Action::Redirect ||
                      !verdict.error.message.empty());
        return;
    }
    const std::string body = reader.take_body();
    session.feed(reinterpret_cast<const uint8_t *>(body.data()), body.size());
    int events = 0;
    for (;;) {
        Result<std::optional<pull::Event>> event = session.next();
        if (!event)
            return;
        if (!event->has_value()) {
            if (at >= size)
                return;
            const size_t piece = std::min(kPiece, size - at);
            session.feed(received + at, piece);
            at += piece;
            continue;
        }
        if (++events > kMaxEvents)
            return;
        pull::Event &got = **event;
        if (got.kind == pull::Event::Kind::Data) {
            g_assert_cmpuint(got.bytes.size(), ==, session.header()->packet_size);
            g_assert_true(resume.on_data(got, *session.header(), events * 40000).ok());
            g_assert_cmpuint(got.bytes.size(), ==, session.header()->packet_size);
            const Result<proto::asf::PacketInfo> packet =
                proto::asf::parse_packet(got.bytes.data(), got.bytes.size(), *session.header());
            g_assert_true(packet.ok());
            g_assert_cmpuint(packet->send_time_ms, ==, got.send_time_ms);
        }
        if (got.kind == pull::Event::Kind::Header) {
            g_assert_true(proto::asf::parse_header(got.bytes.data(), got.bytes.size()).ok());
            if (describing)
                return; /* the Describe is over: the client closes the connection */
            (void)resume.on_header(*session.header(), true);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    const size_t describe = std::min<size_t>(data[0] | (data[1] << 8), size - 2);
    pull::SessionConfig config;
    config.location = "mmsh://origin.example:8080/live";
    config.user_agent = pull::kServerAgent;
    Result<pull::Session> created = pull::Session::create(config);
    g_assert_true(created.ok());
    pull::Session &session = *created;
    pull::Resume resume;
    connection(session, resume, data + 2, describe);
    connection(session, resume, data + 2 + describe, size - 2 - describe);
    return 0;
}
