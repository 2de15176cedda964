/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover-policy=thin against a real slow reader (issue 13): a live WMV2 +
 * WMA2 stream (asfmux) read over MS-WMSP by a raw socket client with a
 * small receive buffer that reads at a fraction of the stream's rate until
 * it is past units-soft-max, then as fast as it can. Beside it a second
 * client reads everything as it comes: what was sent live.
 *   - thin: while behind, the slow reader receives its audio without a gap
 *     and only key-frame video payloads (get-clients says thinning 1); once
 *     caught up, full video again, beginning with a key frame.
 *   - keyframe, the same reader: it skips to the newest key frame, losing
 *     stretches of audio and video alike.
 * Each run prints what the slow reader got against what was sent live over
 * the same stretch of stream (docs/protocol.md, "Thinning", shows the table).
 */
#include "interop.h"
#include "proto/asf-packet.h" /* walk_packet(): the key-frame bit of every payload */
#include "proto/asf.h"
#include "proto/framing.h"

#include <gio/gio.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using interop::LivePipeline;
namespace asf = wmstream::proto::asf;
namespace framing = wmstream::proto::framing;

namespace {

/* A moving picture (the scrolling bars), so delta frames are not empty: about 330 kbit/s of
 * video, one key frame a second, and 64 kbit/s of audio; 1 s soft limit. */
constexpr const char *kPipeline =
    "videotestsrc is-live=true pattern=smpte horizontal-speed=4 ! "
    "video/x-raw,width=320,height=240,framerate=25/1 ! "
    "avenc_wmv2 name=venc gop-size=25 ! mux. "
    "audiotestsrc is-live=true ! audioconvert ! audio/x-raw,rate=44100,channels=2 ! "
    "avenc_wmav2 name=aenc bitrate=64000 ! mux. "
    "asfmux name=mux streamable=true ! "
    "wmnetsink name=sink port=0 address=127.0.0.1 fast-start=0 units-soft-max=1000000000 ";

/** The slow reader: this many bytes a second (about a quarter of the stream) for kSlowSeconds,
 *  then as fast as it can for kFastSeconds. */
constexpr size_t kSlowBytesPerSecond = 12000;
constexpr double kSlowSeconds = 8.0;
constexpr double kFastSeconds = 5.0;
/** Its receive buffer (SO_RCVBUF; the kernel doubles it). */
constexpr int kReceiveBuffer = 4096;
/** The send buffer of the server's end of its connection (see shrink_send_buffer()). */
constexpr int kServerSendBuffer = 16384;
/** Longest gap in the audio a thinned client may see, ms of send time (live: ~0.2 s). */
constexpr guint32 kAudioGapMs = 1000;
/** Full video resumes with a key frame: its first delta frame comes within this many ms of send
 *  time after it (four frame times; a resumption mid-interval would be up to a second). */
constexpr guint32 kResumeMs = 160;

/** One payload received. */
struct Payload {
    guint32 send_ms;
    guint8 stream;
    bool key;
    bool starts_object;
    size_t bytes;
};

/** A raw MS-WMSP client (a Play of every stream) that reads at a given pace and keeps every
 *  payload it received. */
class PacedReader {
public:
    PacedReader(guint16 port, int receive_buffer) {
        GError *error = nullptr;
        socket_ =
            g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
        fail_unless(socket_ != nullptr);
        if (receive_buffer > 0)
            fail_unless(
                g_socket_set_option(socket_, SOL_SOCKET, SO_RCVBUF, receive_buffer, &error));
        GInetAddress *loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        GSocketAddress *address = g_inet_socket_address_new(loopback, port);
        const gboolean connected = g_socket_connect(socket_, address, nullptr, &error);
        g_object_unref(address);
        g_object_unref(loopback);
        fail_unless(connected, "connect: %s", error ? error->message : "?");
        g_socket_set_timeout(socket_, 1);
        const std::string play = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: "
                                 "NSPlayer/7.10.0.3059\r\nPragma: no-cache,rate=1.000000,"
                                 "request-context=2\r\nPragma: xPlayStrm=1\r\n"
                                 "Pragma: xClientGUID={c77e7400-738a-11d2-9add-0020af0a3278}\r\n"
                                 "Connection: Close\r\n\r\n";
        fail_unless(g_socket_send(socket_, play.data(), play.size(), nullptr, &error) ==
                    gssize(play.size()));
    }
    ~PacedReader() { g_object_unref(socket_); }
    PacedReader(const PacedReader &) = delete;
    PacedReader &operator=(const PacedReader &) = delete;

    guint16 port() const {
        GSocketAddress *address = g_socket_get_local_address(socket_, nullptr);
        const guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address));
        g_object_unref(address);
        return port;
    }

    /** Read for @p seconds, at most @p bytes_per_second (0: as fast as it comes). Returns false
     *  on a framing or ASF error (error() says which) or when the server closed. */
    bool read_for(double seconds, size_t bytes_per_second) {
        const gint64 start = g_get_monotonic_time();
        const gint64 end = start + gint64(seconds * G_USEC_PER_SEC);
        size_t consumed = 0;
        guint8 chunk[1024];
        for (gint64 now = start; now < end; now = g_get_monotonic_time()) {
            if (bytes_per_second) {
                const double allowed = double(now - start) * bytes_per_second / G_USEC_PER_SEC;
                if (allowed < consumed + sizeof chunk) {
                    g_usleep(10000);
                    continue;
                }
            }
            GError *error = nullptr;
            const gssize got = g_socket_receive(socket_, reinterpret_cast<gchar *>(chunk),
                                                sizeof chunk, nullptr, &error);
            if (got < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
                g_error_free(error);
                continue;
            }
            if (got <= 0) {
                error_ = error ? error->message : "closed by the server";
                g_clear_error(&error);
                return false;
            }
            consumed += size_t(got);
            if (!take(chunk, size_t(got)))
                return false;
        }
        return true;
    }

    const std::vector<Payload> &payloads() const { return payloads_; }
    const asf::HeaderInfo &header() const { return header_; }
    const std::string &error() const { return error_; }

private:
    /* The response head, then framed packets: the $H is parsed, every $D walked. */
    bool take(const guint8 *data, size_t len) {
        if (!head_done_) {
            head_.append(reinterpret_cast<const char *>(data), len);
            const size_t end = head_.find("\r\n\r\n");
            if (end == std::string::npos)
                return true;
            head_done_ = true;
            const std::string rest = head_.substr(end + 4);
            reader_.feed(reinterpret_cast<const guint8 *>(rest.data()), rest.size());
        } else {
            reader_.feed(data, len);
        }
        for (;;) {
            auto next = reader_.next();
            if (!next) {
                error_ = next.error().message;
                return false;
            }
            if (!*next)
                return true;
            const framing::Packet &packet = **next;
            if (packet.id == framing::PacketId::Header) {
                auto header = asf::parse_header(packet.payload.data(), packet.payload.size());
                if (!header) {
                    error_ = header.error().message;
                    return false;
                }
                header_ = *header;
            } else if (packet.id == framing::PacketId::Data && !walk(packet.payload)) {
                return false;
            }
        }
    }

    /* A $D of a thinned packet comes without its padding (MS-WMSP §2.2.3.3): padded back with
     * zeros as players do. */
    bool walk(std::vector<guint8> packet) {
        if (packet.size() < header_.packet_size)
            packet.resize(header_.packet_size, 0);
        asf::detail::Layout layout;
        auto info = asf::detail::walk_packet(packet.data(), packet.size(), header_, &layout);
        if (!info) {
            error_ = info.error().message;
            return false;
        }
        for (const asf::detail::PayloadSpan &span : layout.payloads)
            payloads_.push_back({info->send_time_ms, span.stream, span.key, span.starts_object,
                                 span.end - span.start});
        return true;
    }

    GSocket *socket_ = nullptr;
    std::string head_;
    bool head_done_ = false;
    framing::Reader reader_{framing::Reader::Mode::Pull};
    asf::HeaderInfo header_;
    std::vector<Payload> payloads_;
    std::string error_;
};

/**
 * Set SO_SNDBUF of the server's end (in this process) of the connection from local port
 * @p client_port to @p server_port, once the server accepted it (bounded wait). On loopback
 * Linux grows a connection's send buffer to tcp_wmem's maximum (4 MiB) at once (its MSS is
 * 64 KiB): a slow reader would then fall 80 s of this stream behind before the server saw any
 * lag. Over a network it grows with the congestion window, from 16 KiB; the test fixes it there.
 */
void shrink_send_buffer(guint16 server_port, guint16 client_port, int bytes) {
    const gint64 give_up = g_get_monotonic_time() + interop::kWaitUs * interop::slowdown();
    do {
        for (int fd = 3; fd < 1024; ++fd) {
            sockaddr_in local{}, peer{};
            socklen_t local_len = sizeof local, peer_len = sizeof peer;
            if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &local_len) != 0 ||
                getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &peer_len) != 0 ||
                local.sin_family != AF_INET || ntohs(local.sin_port) != server_port ||
                ntohs(peer.sin_port) != client_port)
                continue;
            fail_unless(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) == 0);
            return;
        }
        g_usleep(10000);
    } while (g_get_monotonic_time() < give_up);
    fail("the server never accepted the connection from port %u", client_port);
}

/** The thinning get-clients reports for the client on local port @p port (-1: not listed). */
int thinning_of(GstElement *sink, guint16 port) {
    GstStructure *all = nullptr;
    g_signal_emit_by_name(sink, "get-clients", &all);
    const GValue *clients = all ? gst_structure_get_value(all, "clients") : nullptr;
    int thinning = -1;
    for (guint i = 0; clients && i < gst_value_array_get_size(clients); ++i) {
        const GstStructure *c = gst_value_get_structure(gst_value_array_get_value(clients, i));
        guint client_port = 0;
        guint value = 0;
        if (gst_structure_get_uint(c, "port", &client_port) && client_port == port &&
            gst_structure_get_uint(c, "thinning", &value))
            thinning = int(value);
    }
    if (all)
        gst_structure_free(all);
    return thinning;
}

/** What a reader got of one kind of stream (audio or video) between two send times. */
struct Tally {
    size_t payloads = 0;
    size_t bytes = 0;
    guint32 longest_gap_ms = 0; /**< between successive payloads' send times */
};

Tally tally(const std::vector<Payload> &payloads, bool audio, const asf::HeaderInfo &header,
            guint32 from_ms, guint32 to_ms) {
    Tally t;
    std::optional<guint32> last;
    for (const Payload &p : payloads) {
        if (p.send_ms < from_ms || p.send_ms > to_ms)
            continue;
        if (asf::detail::is_video_stream(header, p.stream) == audio)
            continue;
        ++t.payloads;
        t.bytes += p.bytes;
        if (last)
            t.longest_gap_ms = std::max(t.longest_gap_ms, p.send_ms - *last);
        last = p.send_ms;
    }
    return t;
}

/** What the slow reader got and what was sent live, over the stretch of stream it covered. */
struct Outcome {
    std::vector<Payload> slow;
    asf::HeaderInfo header;
    int most_thinning = -1; /**< the highest get-clients thinning of the slow reader */
    Tally audio, live_audio, video, live_video;
};

/** Run the slow reader and the live one on a stream with @p policy. */
Outcome run_readers(const char *policy) {
    const std::string description = std::string(kPipeline) + "recover-policy=" + policy;
    LivePipeline pipeline(description.c_str());
    pipeline.rebase("venc");
    pipeline.rebase("aenc");
    pipeline.set_state(GST_STATE_PLAYING);
    pipeline.wait_packets(1);

    PacedReader live(pipeline.port(), 0);
    PacedReader slow(pipeline.port(), kReceiveBuffer);
    shrink_send_buffer(pipeline.port(), slow.port(), kServerSendBuffer);
    std::atomic<bool> done{false};
    bool live_ok = false;
    bool slow_ok = false;
    std::thread live_thread([&] { live_ok = live.read_for(kSlowSeconds + kFastSeconds, 0); });
    std::thread slow_thread([&] {
        slow_ok =
            slow.read_for(kSlowSeconds, kSlowBytesPerSecond) && slow.read_for(kFastSeconds, 0);
        done = true;
    });
    Outcome outcome;
    const guint16 slow_port = slow.port();
    while (!done) {
        outcome.most_thinning =
            std::max(outcome.most_thinning, thinning_of(pipeline.sink(), slow_port));
        g_usleep(100000);
    }
    slow_thread.join();
    live_thread.join();
    fail_unless(live_ok, "live reader: %s", live.error().c_str());
    fail_unless(slow_ok, "slow reader (%s): %s", policy, slow.error().c_str());
    fail_unless(!slow.payloads().empty());
    pipeline.assert_no_errors();

    outcome.slow = slow.payloads();
    outcome.header = slow.header();
    /* Where both received: the slow reader, its packets thinned (and without padding), can end
     * further into the stream than the live one. */
    fail_unless(!live.payloads().empty());
    const guint32 from = outcome.slow.front().send_ms;
    const guint32 to = std::min(outcome.slow.back().send_ms, live.payloads().back().send_ms);
    outcome.audio = tally(outcome.slow, true, outcome.header, from, to);
    outcome.video = tally(outcome.slow, false, outcome.header, from, to);
    outcome.live_audio = tally(live.payloads(), true, live.header(), from, to);
    outcome.live_video = tally(live.payloads(), false, live.header(), from, to);
    g_print("recover-policy=%-8s | audio %4zu/%4zu payloads, %7zu/%7zu bytes, longest gap %5u ms "
            "| video %4zu/%4zu payloads, %7zu/%7zu bytes, longest gap %5u ms (received/sent "
            "live, over %.1f s of stream)\n",
            policy, outcome.audio.payloads, outcome.live_audio.payloads, outcome.audio.bytes,
            outcome.live_audio.bytes, outcome.audio.longest_gap_ms, outcome.video.payloads,
            outcome.live_video.payloads, outcome.video.bytes, outcome.live_video.bytes,
            outcome.video.longest_gap_ms, (to - from) / 1000.0);
    return outcome;
}

/* Thin: audio whole; a stretch of key frames only (at least two, with no delta frame between:
 * full video has 24 between); then full video again from a key frame, to the end. */
GST_START_TEST(test_thin_keeps_audio_and_key_frames) {
    const Outcome outcome = run_readers("thin");
    fail_unless_equals_int(outcome.most_thinning, 1);
    fail_unless(outcome.audio.longest_gap_ms <= kAudioGapMs, "audio gap of %u ms",
                outcome.audio.longest_gap_ms);
    fail_unless_equals_int(outcome.audio.payloads, outcome.live_audio.payloads);

    /* The video payloads in order: find the longest run of key-frame payloads and the key
     * frames that begin in it. */
    std::vector<const Payload *> video;
    for (const Payload &p : outcome.slow)
        if (asf::detail::is_video_stream(outcome.header, p.stream))
            video.push_back(&p);
    size_t best_begin = 0, best_end = 0, best_starts = 0;
    for (size_t i = 0; i < video.size();) {
        size_t j = i;
        size_t starts = 0;
        while (j < video.size() && video[j]->key) {
            starts += video[j]->starts_object;
            ++j;
        }
        if (starts > best_starts) {
            best_begin = i;
            best_end = j;
            best_starts = starts;
        }
        i = j == i ? i + 1 : j;
    }
    fail_unless(best_starts >= 2, "no stretch of key frames only (at most %zu key frames in a row)",
                best_starts);
    g_print("thin: %zu key frames in a row from %u ms to %u ms\n", best_starts,
            video[best_begin]->send_ms, video[best_end - 1]->send_ms);
    /* Then full video, which begins with the key frame that ends the run (its next frame
     * follows within a few frame times)... */
    fail_unless(best_end < video.size(), "still thinned at the end (%zu video payloads)",
                video.size());
    guint32 key_ms = 0;
    for (size_t i = best_begin; i < best_end; ++i)
        if (video[i]->starts_object)
            key_ms = video[i]->send_ms;
    fail_unless(video[best_end]->send_ms - key_ms <= kResumeMs,
                "full video resumed %u ms after the last key frame",
                video[best_end]->send_ms - key_ms);
    /* ...and lasts: delta frames in the last second. */
    const guint32 last_ms = video.back()->send_ms;
    fail_unless(
        std::any_of(video.begin() + best_end, video.end(),
                    [&](const Payload *p) { return !p->key && p->send_ms + 1000 >= last_ms; }),
        "no delta frame in the last second");
}
GST_END_TEST;

/* Keyframe: the same reader skips to the newest key frame, losing audio with the video. */
GST_START_TEST(test_keyframe_skips_audio_too) {
    const Outcome outcome = run_readers("keyframe");
    fail_unless(outcome.audio.longest_gap_ms > kAudioGapMs, "audio gap of only %u ms",
                outcome.audio.longest_gap_ms);
    fail_unless(outcome.audio.payloads < outcome.live_audio.payloads);
}
GST_END_TEST;

Suite *thinning_suite() {
    Suite *suite = suite_create("wmnetsink-thinning");
    TCase *tcase = tcase_create("thinning");
    tcase_set_timeout(tcase, 120);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_thin_keeps_audio_and_key_frames);
    tcase_add_test(tcase, test_keyframe_skips_audio_too);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    return interop::main_with_requirements(
        argc, argv, "wmnetsink-thinning", thinning_suite, {},
        {"videotestsrc", "audiotestsrc", "audioconvert", "avenc_wmv2", "avenc_wmav2", "asfmux"});
}
