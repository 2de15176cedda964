/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: what wmnetsink does with the bytes a client sends
 * before the response (lib/server/connection.cpp): proto::http::scan_header_block() on the
 * whole input, proto::http::parse_request() (libsoup) on a complete block, the
 * viewer credentials (server::access::Authenticator::check() on the Authorization
 * header: Basic, or Digest parameters through libsoup), then
 * proto::wmsp::classify(), which parses every Pragma header (proto::wmsp::Pragma::parse),
 * and for an announcement (.asx) the Host header (proto::announcement::authority_of_host).
 *
 * Input: the raw bytes of a request, as received.
 * Seeds: fuzz/corpus/http-request/ (requests captured from FFmpeg 5.1, VLC
 * 3.0 and curl, tests/data/requests/, and the curl one with Basic and Digest
 * credentials added).
 *
 * Besides the sanitizers, it checks the documented contracts: a complete
 * block ends with an empty line and lies within the cap; parse_request()
 * reports status 200 exactly when it succeeds; credentials are accepted for
 * the configured user only; every Pragma token can be found again by name; a Host accepted
 * for the announcement is returned as sent and holds nothing XML or a URL would interpret.
 */
#include "proto/announcement.h"
#include "proto/http-request.h"
#include "proto/wmsp-request.h"
#include "server/access.h"

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <string>

using namespace wmstream;

namespace {

/* A fixed clock: the nonces are the same in every run (make-corpus.py uses one). */
constexpr int64_t kNowUs = 1000 * G_USEC_PER_SEC;

const server::access::Authenticator &authenticator() {
    static const server::access::Authenticator auth("wmstream", "viewer", "pw", "fuzzing-secret");
    return auth;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = reinterpret_cast<const char *>(data);
    const proto::http::Scan scan = proto::http::scan_header_block(text, size);
    if (scan.state != proto::http::Scan::State::Complete) {
        g_assert_cmpuint(scan.block_size, ==, 0);
        g_assert_true(scan.state == proto::http::Scan::State::TooLarge ||
                      size < proto::http::kMaxHeaderBytes);
        return 0;
    }
    g_assert_cmpuint(scan.block_size, >=, 2);
    g_assert_cmpuint(scan.block_size, <=, size);
    g_assert_cmpuint(scan.block_size, <=, proto::http::kMaxHeaderBytes);
    g_assert_cmpint(text[scan.block_size - 1], ==, '\n');

    unsigned status = 0;
    const Result<proto::http::Request> request =
        proto::http::parse_request(text, scan.block_size, &status);
    if (!request) {
        g_assert_cmpuint(status, !=, 200);
        g_assert_true(request.error().code == Errc::InvalidData);
        return 0;
    }
    g_assert_cmpuint(status, ==, 200);

    std::string user;
    const server::access::Verdict verdict = authenticator().check(
        request->method, request->path, request->find("Authorization"), kNowUs, &user);
    if (verdict == server::access::Verdict::Ok)
        g_assert_cmpstr(user.c_str(), ==, "viewer");

    const proto::wmsp::ClientRequest client = proto::wmsp::classify(*request);
    g_assert_nonnull(proto::wmsp::to_string(client.kind));

    if (const std::string *host = request->find("Host"))
        if (const auto authority = proto::announcement::authority_of_host(*host)) {
            g_assert_true(*authority == *host);
            g_assert_true(authority->find_first_of("\"'<>&@/?#% \t\r\n") == std::string::npos);
        }

    const proto::wmsp::Pragma pragma = proto::wmsp::Pragma::parse(request->find_all("Pragma"));
    for (const auto &token : pragma.tokens())
        g_assert_true(pragma.has(token.first));
    return 0;
}
