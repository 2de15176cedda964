/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MS-WMSP pull session, client side (sans-IO): the source URL
 * (mmsh://, mms:// rolled over to MS-WMSP over HTTP, http://), the text of
 * the Describe and Play requests, what each answer means (proceed, follow a
 * redirect, refused, reconnect later), and the answer bodies read into
 * stream events (pull/stream.h).
 *
 * Source: [MS-WMSP] §3.1 (client: Describe, then Play on a new connection),
 * §2.2.2.1 and §2.2.2.6 (the requests), §2.2.1.4 (Pragma tokens: no-cache,
 * rate, stream-time, stream-offset, request-context, max-duration,
 * xClientGUID, xPlayStrm, client-id, stream-switch-count/-entry), §3.2.5.6
 * (a Play without entries selects nothing), §4.11 (what Windows Media
 * Services sends pulling from an encoder); what FFmpeg and VLC send:
 * ../shared/reference/ms-wmsp-and-wmhttp.md §1.2, §3.
 *
 * The session keeps what outlives a connection: the client GUID, the
 * client-id the server assigned, the header the Describe answered (its
 * streams are what the Play selects), the request counter and the target
 * after redirects. The I/O client (pull/client.h) opens the connections,
 * writes request(), reads the answers through proto::http::AnswerReader and
 * hands heads and body bytes here.
 */
#pragma once

#include "base/error.h"
#include "proto/asf.h"
#include "proto/http-response.h"
#include "proto/http-url.h"
#include "pull/stream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wmstream::pull {

/** User-Agent of a player: Windows Media Player 11/12's ([MS-WMSP] §2.2.2.1 and §2.2.2.6
 *  examples). */
constexpr const char *kPlayerAgent = "NSPlayer/12.0.7680.0";
/** User-Agent of a distribution server pulling a stream to serve it again: Windows Media
 *  Services 9's ([MS-WMSP] §4.11). Servers count such a client as a relay. */
constexpr const char *kServerAgent = "NSServer/9.0.0.3171";

/**
 * The HTTP URL a source location names: http:// as it is, mmsh:// as
 * http://, and mms:// rolled over to MS-WMSP over HTTP as players do
 * (mms://host/path is http://host:80/path: the MMS port 1755 is not
 * HTTP's) [wm-features §1.13].
 * @return Errc::InvalidName when @p text is none of these (https is refused too:
 *         MS-WMSP has no TLS).
 */
Result<proto::http::Url> parse_location(std::string_view text);

/**
 * The stream numbers of a selection written as text: decimal numbers
 * 1..127 separated by commas (spaces allowed), e.g. "1,2"; "" or "all" =
 * every stream (an empty list).
 * @return Errc::InvalidArgument naming the first item that is no such number.
 */
Result<std::vector<uint8_t>> parse_stream_numbers(std::string_view text);

struct SessionConfig {
    std::string location;                  /**< mmsh://, mms:// or http:// URL */
    std::string user_agent = kPlayerAgent; /**< User-Agent of every request */
    /** Stream numbers to receive (1..127); empty = every stream of the header. */
    std::vector<uint8_t> streams;
    int max_redirects = 5; /**< per attempt */
};

/** What the client does with an answer head. */
struct [[nodiscard]] Verdict {
    enum class Action {
        Proceed,   /**< 2xx: read the body (feed()/next()) */
        Redirect,  /**< 3xx: send request() again to url() (updated), on a new connection */
        Refused,   /**< the server will not serve this: a failure not worth retrying */
        Reconnect, /**< the server cannot serve now (5xx): retry after a backoff */
    };
    Action action = Action::Refused;
    unsigned status = 0; /**< the answer's status code */
    Error error;         /**< Refused, Reconnect: status and reason, and why */
};

class Session {
public:
    /** The request the session is at. */
    enum class Phase {
        Describe, /**< [MS-WMSP] §2.2.2.1: the header, to learn the streams */
        Play,     /**< [MS-WMSP] §2.2.2.6: the header again, then the data */
    };

    /**
     * Check @p config: Errc::InvalidName for a bad location (parse_location()),
     * InvalidArgument for an empty user agent or a stream number outside 1..127.
     */
    static Result<Session> create(SessionConfig config);

    /** Where the requests go now (after redirects). */
    const proto::http::Url &url() const { return url_; }
    Phase phase() const { return phase_; }
    /** The server's client-id from the Describe answer (0 until then) [MS-WMSP §2.2.1.4.5]. */
    uint32_t client_id() const { return client_id_; }
    /** The header the Describe answered, nullopt before. */
    const std::optional<proto::asf::HeaderInfo> &described() const { return described_; }

    /**
     * A new attempt after a failure (or the first): back to the configured
     * location and to Describe, redirects counted from zero. The client GUID
     * and the request counter are kept.
     */
    void begin_attempt();

    /** The request of the current phase, to send on a new connection. */
    std::string request();

    /** Evaluate the answer head to request(); Proceed starts a new body (feed()/next()). */
    Verdict on_answer(const proto::http::Response &response);

    /** Append @p len body bytes of the answer to the current request. */
    void feed(const uint8_t *data, size_t len) { stream_.feed(data, len); }

    /**
     * The next event of the body: nullopt when more bytes are needed. During
     * Describe, the first Header event ends the Describe: the session is at
     * Play and the client closes the connection and sends request() on a
     * new one; that header is not for output (the Play answer sends it again).
     * @return the events of pull::Stream, or its errors.
     */
    Result<std::optional<Event>> next();

    /** The header of the current answer's stream, nullopt before one. */
    const std::optional<proto::asf::HeaderInfo> &header() const { return stream_.header(); }

    /** Data packets the stream skipped waiting for a key frame, every connection counted. */
    uint64_t skipped() const { return skipped_before_ + stream_.skipped(); }

private:
    Session(SessionConfig config, proto::http::Url url, std::string guid);

    std::string play_pragmas() const;
    Verdict redirect(const proto::http::Response &response);

    SessionConfig config_;
    proto::http::Url configured_url_;
    proto::http::Url url_;
    std::string guid_; /**< xClientGUID, "{…}" */
    Phase phase_ = Phase::Describe;
    uint32_t client_id_ = 0;
    unsigned request_context_ = 0; /**< the last request-context sent */
    int redirects_ = 0;
    std::optional<proto::asf::HeaderInfo> described_;
    Stream stream_;
    uint64_t skipped_before_ = 0;
};

} // namespace wmstream::pull
