/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The join matrix (docs/protocol.md, "The join matrix"): real players join
 * live wmnetsink streams at points spread over the key-frame interval, and
 * before the first header, and each must show a first picture (or start its
 * sound) within kFirstPictureLimitUs of connecting, with no decoder error,
 * warning or early end in its log (kLateJoinsTolerated of all may be late,
 * within twice the limit).
 *
 * Streams: high-rate video, low-rate video (about one packet a second),
 * audio only (WMA2 64 kbit/s), audio + video (both encoders rebased), and a
 * header change mid-stream ($C: the muxer is replaced by a new one, whose
 * header differs in its file ID; packet size and streams stay).
 * Players: VLC over mmsh, FFmpeg over mmsh and http, GStreamer (souphttpsrc
 * ! asfdemux) over http. Joins run in parallel, stamped by interop::Ensemble.
 *
 * Prints the matrix: the time from the player's start to its first picture
 * (VLC: "Received first picture", audio: "Stream buffering done"; FFmpeg:
 * its first decoded frame; GStreamer: the first buffer at the sink), per
 * stream, player and join point, then per player the median and the
 * median start-lag the server reports (how far behind live the stream
 * began), whose sum is the delay behind live.
 *
 * A join before the first header is timed from the stream's first data
 * packet reaching the sink (the encoder's start is not the server's). The
 * limits and the players' run time scale with interop::slowdown() (the
 * sanitized suite: 3, which also runs 8 / 3 = 2 join points, not 8).
 *
 * Environment: WMSTREAM_JOIN_SETTINGS, wmnetsink properties for the run
 * (default: none, the defaults); WMSTREAM_JOIN_POINTS, join points per
 * stream and player (default 8); WMSTREAM_JOIN_STREAMS, a comma-separated
 * subset of the stream names; WMSTREAM_JOIN_VIA_VLC=1, the MS-WMSP players
 * join VLC's own mmsh server relaying the stream instead (for comparison).
 * bench/join-matrix runs it for each setting and VLC's server.
 */
#include "ensemble.h"
#include "interop.h"

#include <gio/gio.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

using interop::Ensemble;
using interop::Fields;
using interop::LivePipeline;
using interop::TimedRun;

namespace {

constexpr gint64 kSecond = G_USEC_PER_SEC;
/** A join's first picture or sound must come within this of its start. */
constexpr gint64 kFirstPictureLimitUs = 3 * kSecond;
/**
 * A join before the first header gets one more second (the served preroll):
 * nothing older exists, so its player buffers the preroll in real time.
 */
constexpr gint64 kFirstPictureBeforeHeaderLimitUs = kFirstPictureLimitUs + kSecond;
/** How long each player runs (then SIGTERM): the limit plus three seconds of play. */
constexpr gint64 kWatchUs = kFirstPictureLimitUs + 3 * kSecond;
/** From PAUSED (the players before the header connect) to PLAYING. */
constexpr gint64 kHeaderWaitUs = 1500 * 1000;
/** From PLAYING to the first join: the packet log fills (fast start needs a few seconds). */
constexpr gint64 kWarmUpUs = 5 * kSecond;
/** The streams' key-frame interval: 25 frames at 25 fps. */
constexpr gint64 kKeyFrameIntervalUs = kSecond;
/**
 * Key-frame intervals between one player's successive joins (plus
 * 1/points of one): more players at once than kWatchUs / (this many
 * intervals / players) would time the machine's two cores, not the server.
 */
constexpr gint64 kJoinRoundIntervals = 2;

const char *const kVideo320 =
    "video/x-raw,width=320,height=240,framerate=25/1 ! avenc_wmv2 name=venc gop-size=25 ";
/**
 * The high-rate stream: snow at 160x120 is about 1.35 Mbit/s, some 35 packets
 * a second; at 320x240 (5.2 Mbit/s) the twenty players decoding it at once
 * overload two cores and the joins time the machine, not the server.
 */
const char *const kVideo160 =
    "video/x-raw,width=160,height=120,framerate=25/1 ! avenc_wmv2 name=venc gop-size=25 ";

struct Stream {
    const char *name;
    std::string source; /**< everything before "asfmux name=mux" */
    bool video;
    std::vector<const char *> rebase; /**< encoders whose output is rebased */
    bool header_change = false;       /**< swap the muxer in the middle of the joins */
};

std::vector<Stream> streams() {
    return {
        {"high-rate-video",
         std::string("videotestsrc is-live=true pattern=snow ! ") + kVideo160 + "qmax=20 ! ", true},
        {"low-rate-video",
         std::string("videotestsrc is-live=true pattern=ball ! ") + kVideo320 + "qmax=20 ! ", true},
        {"audio",
         "audiotestsrc is-live=true ! audioconvert ! avenc_wmav2 name=aenc bitrate=64000 ! ",
         false},
        {"audio-video",
         std::string("videotestsrc is-live=true ! ") + kVideo320 +
             "bitrate=500000 ! mux. audiotestsrc is-live=true ! audioconvert ! "
             "audio/x-raw,rate=44100,channels=2 ! avenc_wmav2 name=aenc bitrate=64000 ! mux. ",
         true,
         {"venc", "aenc"}},
        {"header-change",
         std::string("videotestsrc is-live=true ! ") + kVideo320 + "bitrate=500000 ! ",
         true,
         {},
         true},
    };
}

/**
 * Joins whose only fault is a first picture after their limit (but within twice it) that
 * the matrix tolerates: on two shared cores one player now and then starts late; a server
 * that makes joins slow makes many late, and one that breaks them fails them outright.
 */
constexpr int kLateJoinsTolerated = 2;

/** What a player's run showed. */
struct Outcome {
    bool ok = false;
    bool late = false;    /**< not ok only because its first picture came after the limit,
                               within twice the limit */
    gint64 first_us = -1; /**< from its start (or the stream's, when it came before) */
    std::string why;      /**< why not ok */
};

/** A player: how it is run and how its log is read. */
struct Player {
    const char *name;
    const char *scheme;
    const char *agent; /**< start of its User-Agent, to find its clients' start-lag */
    std::vector<std::string> (*command)(const std::string &url, const Stream &stream);
    /** The first line of @p run that shows a picture or sound, or nullptr. */
    const interop::TimedLine *(*first)(const TimedRun &run, const Stream &stream);
    /** Why the log line @p text is an error ("" when it is not). */
    std::string (*error)(const std::string &text);
    /** Errors count from the first line holding this on ("" = from the start). */
    const char *playing;
    /**
     * It plays on across a header change ($C + $H, MS-WMSP §2.2.3.4). Raw
     * ASF over HTTP cannot carry one: the server ends those clients. VLC
     * 3.0's access hands the new header to its ASF demuxer inline, where it
     * is parsed as a data packet, and every later packet is misframed
     * (docs/protocol.md, "The join matrix"): from any server.
     */
    bool follows_header_change;
};

/* ---- VLC over MS-WMSP ---- */

std::vector<std::string> vlc_command(const std::string &url, const Stream &) {
    return interop::vlc_command(
        {"-I", "dummy", "-vv", "--vout=dummy", "--aout=dummy", "--no-dbus", url});
}

const interop::TimedLine *vlc_first(const TimedRun &run, const Stream &stream) {
    return run.find(stream.video ? "main decoder debug: Received first picture"
                                 : "main input debug: Stream buffering done");
}

std::string vlc_error(const std::string &text) {
    /* From the Play on (the Describe's close is "cannot read data" too). */
    for (const char *bad :
         {"EOF reached", "access_mms stream error", "Input packet size too small", "decoder error",
          "unrecognized chunk", "invalid chunk", "cannot read data", "failed to send request"})
        if (text.find(bad) != std::string::npos)
            return text;
    return "";
}

/* ---- FFmpeg ---- */

std::vector<std::string> ffmpeg_command(const std::string &url, const Stream &stream) {
    return {"ffmpeg",    "-nostdin", "-hide_banner",
            "-loglevel", "warning",  "-i",
            url,         "-map",     stream.video ? "0:v:0" : "0:a:0",
            "-f",        "framemd5", "-flush_packets",
            "1",         "-"};
}

const interop::TimedLine *ffmpeg_first(const TimedRun &run, const Stream &) {
    for (const interop::TimedLine &line : run.lines)
        if (g_ascii_isdigit(line.text[0]))
            return &line;
    return nullptr;
}

std::string ffmpeg_error(const std::string &text) {
    /* framemd5 lines and comments; the one warning every WMA input gives. */
    if (text.empty() || text[0] == '#' || g_ascii_isdigit(text[0]) ||
        text.find("Guessed Channel Layout") != std::string::npos)
        return "";
    return text;
}

/* ---- GStreamer ---- */

std::vector<std::string> gst_command(const std::string &url, const Stream &stream) {
    return {"gst-launch-1.0",
            "-v",
            "souphttpsrc",
            "location=" + url,
            "!",
            "asfdemux",
            "name=demux",
            stream.video ? "demux.video_0" : "demux.audio_0",
            "!",
            "queue",
            "!",
            "decodebin",
            "!",
            "fakesink",
            "silent=false",
            "sync=true"};
}

const interop::TimedLine *gst_first(const TimedRun &run, const Stream &) {
    return run.find("last-message = chain");
}

std::string gst_error(const std::string &text) {
    for (const char *bad : {"ERROR", "WARNING", "Got EOS"})
        if (text.compare(0, strlen(bad), bad) == 0)
            return text;
    return "";
}

std::vector<Player> players() {
    return {
        {"vlc-mmsh", "mmsh", "NSPlayer/7", vlc_command, vlc_first, vlc_error,
         "access_mms stream debug: starting stream", false},
        {"ffmpeg-mmsh", "mmsh", "NSPlayer/4", ffmpeg_command, ffmpeg_first, ffmpeg_error, "", true},
        {"ffmpeg-http", "http", "Lavf", ffmpeg_command, ffmpeg_first, ffmpeg_error, "", false},
        {"gst-http", "http", "GStreamer", gst_command, gst_first, gst_error, "", false},
    };
}

/**
 * Judge one join. @p from_us: when it could start (its start, or the
 * stream's for a join before the header); @p ends_from_us: what it does from
 * then on is not judged (a header change it cannot follow), 0 = never.
 */
Outcome judge(const Player &player, const Stream &stream, const TimedRun &run, gint64 from_us,
              gint64 limit_us, gint64 ends_from_us) {
    Outcome outcome;
    const interop::TimedLine *first = player.first(run, stream);
    if (first)
        outcome.first_us = first->at_us - from_us;
    const gint64 until = ends_from_us ? std::min(ends_from_us, run.stop_us) : run.stop_us;
    bool playing = !*player.playing;
    for (const interop::TimedLine &line : run.lines) {
        if (line.at_us >= until)
            break;
        playing = playing || line.text.find(player.playing) != std::string::npos;
        if (!playing)
            continue;
        const std::string error = player.error(line.text);
        if (!error.empty()) {
            outcome.why = "logged \"" + error + "\"";
            return outcome;
        }
    }
    if (!first)
        outcome.why = "no first picture or sound";
    else if (outcome.first_us > limit_us) {
        outcome.why = "first picture after " + std::to_string(outcome.first_us / 1000) + " ms";
        outcome.late = outcome.first_us <= 2 * limit_us && (run.stopped || ends_from_us);
    } else if (!run.stopped && !ends_from_us)
        outcome.why = "ended before it was stopped";
    else
        outcome.ok = true;
    return outcome;
}

gint64 env_number(const char *name, gint64 fallback) {
    const char *text = g_getenv(name);
    return text && *text ? g_ascii_strtoll(text, nullptr, 10) : fallback;
}

/**
 * Replace the muxer behind encoder @p venc by a new one (as an encoder
 * restart does): wmnetsink gets a new header mid-stream and sends $C.
 */
void swap_muxer(GstElement *pipeline, GstElement *venc, GstElement *sink) {
    struct Swap {
        GstElement *pipeline;
        GstElement *sink;
    };
    GstPad *encoded = gst_element_get_static_pad(venc, "src");
    gst_pad_add_probe(
        encoded, GST_PAD_PROBE_TYPE_IDLE,
        [](GstPad *pad, GstPadProbeInfo *, gpointer data) {
            auto *swap = static_cast<Swap *>(data);
            GstPad *old_in = gst_pad_get_peer(pad);
            GstElement *old_mux = gst_pad_get_parent_element(old_in);
            gst_pad_unlink(pad, old_in);
            gst_element_unlink(old_mux, swap->sink);
            gst_element_set_state(old_mux, GST_STATE_NULL);
            gst_element_release_request_pad(old_mux, old_in);
            gst_object_unref(old_in);
            gst_bin_remove(GST_BIN(swap->pipeline), old_mux);
            gst_object_unref(old_mux);

            GstElement *mux = gst_element_factory_make("asfmux", nullptr);
            g_object_set(mux, "streamable", TRUE, nullptr);
            gst_bin_add(GST_BIN(swap->pipeline), mux);
            GstPad *in = gst_element_request_pad_simple(mux, "video_%u");
            fail_unless(gst_pad_link(pad, in) == GST_PAD_LINK_OK);
            gst_object_unref(in);
            fail_unless(gst_element_link(mux, swap->sink));
            fail_unless(gst_element_sync_state_with_parent(mux));
            return GST_PAD_PROBE_REMOVE;
        },
        new Swap{pipeline, sink}, [](gpointer data) { delete static_cast<Swap *>(data); });
    gst_object_unref(encoded);
}

/** One stream's joins, all players at once. */
struct StreamResult {
    /** per player: the outcome of each join, the one before the header last */
    std::map<std::string, std::vector<Outcome>> joins;
    /** per player: start-lag of its clients, µs */
    std::map<std::string, std::vector<gint64>> start_lags;
    std::vector<gint64> phases_ms; /**< join point k's place in the key-frame interval */
};

/**
 * With @p via_vlc the players do not join wmnetsink but VLC's own MS-WMSP
 * server (its mmsh output) relaying the stream, for comparison.
 */
StreamResult run_stream(const Stream &stream, const std::vector<Player> &all, int points,
                        const std::string &settings, bool via_vlc) {
    const std::string description = stream.source +
                                    "asfmux name=mux streamable=true ! wmnetsink name=sink "
                                    "port=0 address=127.0.0.1 max-clients=-1 " +
                                    settings;
    LivePipeline pipeline(description.c_str());
    for (const char *name : stream.rebase)
        pipeline.rebase(name);
    pipeline.set_state(GST_STATE_PAUSED);

    Ensemble ensemble;
    interop::VlcHome home;
    const auto watch = gint64(double(kWatchUs) * interop::slowdown());
    const gint64 now = g_get_monotonic_time();
    const gint64 playing_at = now + kHeaderWaitUs;
    const gint64 first_join = playing_at + kWarmUpUs;
    /* Join n = k·players + p at first_join + n·step: player p's joins fall
     * at `points` different places, 1/points of the interval apart. */
    const gint64 step = (kJoinRoundIntervals * kKeyFrameIntervalUs + kKeyFrameIntervalUs / points) /
                        gint64(all.size());
    const gint64 change_at = first_join + points * gint64(all.size()) * step / 2;
    ensemble.at(playing_at, [&] { pipeline.set_state(GST_STATE_PLAYING); });
    std::string relay_url;
    if (via_vlc) {
        const std::string port = std::to_string(interop::free_port());
        relay_url = "mmsh://127.0.0.1:" + port + "/";
        ensemble.add(
            interop::vlc_command({"-I", "dummy", "--no-dbus", pipeline.url("mmsh"), "--sout",
                                  "#std{access=mmsh,mux=asfh,dst=127.0.0.1:" + port + "}"}),
            playing_at, first_join + points * gint64(all.size()) * step + watch, {home.env()});
    }
    const auto url = [&](const Player &player) {
        return via_vlc ? relay_url : pipeline.url(player.scheme);
    };
    if (stream.header_change)
        ensemble.at(change_at, [&] {
            GstObject *bin = gst_object_get_parent(GST_OBJECT(pipeline.sink()));
            swap_muxer(GST_ELEMENT(bin), pipeline.element("venc"), pipeline.sink());
            gst_object_unref(bin);
        });

    struct Join {
        const Player *player;
        size_t index;
        gint64 from_us; /**< when it could start; 0 = at the stream's first packet */
    };
    std::vector<Join> joins;
    StreamResult result;
    for (int k = 0; k < points; ++k)
        for (size_t p = 0; p < all.size(); ++p) {
            const gint64 start = first_join + (k * gint64(all.size()) + gint64(p)) * step;
            const std::vector<std::string> env = {home.env()};
            joins.push_back(
                {&all[p],
                 ensemble.add(all[p].command(url(all[p]), stream), start, start + watch, env),
                 start});
            if (p == 0)
                result.phases_ms.push_back(((start - first_join) % kKeyFrameIntervalUs) / 1000);
        }
    for (const Player &player : all)
        if (!via_vlc)
            joins.push_back({&player,
                             ensemble.add(player.command(url(player), stream), now,
                                          playing_at + watch, {home.env()}),
                             0});
    ensemble.run();

    for (const Join &join : joins) {
        const TimedRun &run = ensemble.result(join.index);
        const bool ended_by_change = stream.header_change && !join.player->follows_header_change &&
                                     run.started_us < change_at;
        const gint64 from =
            join.from_us ? std::max(join.from_us, run.started_us) : pipeline.first_packet_us();
        const gint64 limit =
            gint64(double(join.from_us ? kFirstPictureLimitUs : kFirstPictureBeforeHeaderLimitUs) *
                   interop::slowdown());
        const Outcome outcome =
            judge(*join.player, stream, run, from, limit, ended_by_change ? change_at : 0);
        if (!outcome.ok)
            g_printerr("%s / %s: %s\n%s\n", stream.name, join.player->name, outcome.why.c_str(),
                       run.transcript().c_str());
        result.joins[join.player->name].push_back(outcome);
    }
    /* Via VLC, wmnetsink's one client is the relay. */
    for (const Fields &client : pipeline.element_messages("wmnetsink-client-removed")) {
        if (via_vlc)
            break;
        const gint64 lag_ns = g_ascii_strtoll(client.at("start-lag").c_str(), nullptr, 10);
        for (const Player &player : all)
            if (lag_ns >= 0 && g_str_has_prefix(client.at("user-agent").c_str(), player.agent))
                result.start_lags[player.name].push_back(lag_ns / 1000);
    }
    pipeline.assert_no_errors();
    return result;
}

gint64 median(std::vector<gint64> values) {
    if (values.empty())
        return -1;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

std::string seconds(gint64 us) {
    char text[32];
    g_snprintf(text, sizeof text, "%.2f", double(us) / kSecond);
    return text;
}

GST_START_TEST(test_join_matrix) {
    /* Under a sanitizer (slowdown() 3) fewer joins at once: the instrumented server is slower. */
    const int points =
        int(env_number("WMSTREAM_JOIN_POINTS", std::max(2, int(8 / interop::slowdown()))));
    const char *settings = g_getenv("WMSTREAM_JOIN_SETTINGS");
    const char *only = g_getenv("WMSTREAM_JOIN_STREAMS");
    g_auto(GStrv) selected = only && *only ? g_strsplit(only, ",", -1) : nullptr;
    const bool via_vlc = env_number("WMSTREAM_JOIN_VIA_VLC", 0) != 0;
    std::vector<Player> all = players();
    if (via_vlc)
        all.erase(std::remove_if(all.begin(), all.end(),
                                 [](const Player &p) { return !g_str_equal(p.scheme, "mmsh"); }),
                  all.end());

    g_print("join matrix: %s %s; %d join points per stream and player%s; seconds from the "
            "player's start to its first picture or sound\n",
            via_vlc ? "VLC's own mmsh server relaying wmnetsink" : "wmnetsink",
            settings && *settings ? settings : "(defaults)", points,
            via_vlc ? "" : ", and one before the first header (\"pre\")");
    int failures = 0;
    int late = 0;
    std::map<std::string, std::vector<gint64>> firsts, lags;
    for (const Stream &stream : streams()) {
        if (selected && !g_strv_contains(selected, stream.name))
            continue;
        const StreamResult result =
            run_stream(stream, all, points, settings ? settings : "", via_vlc);
        g_print("\n%-16s", stream.name);
        for (gint64 phase : result.phases_ms)
            g_print(" %6" G_GINT64_FORMAT "ms", phase);
        g_print("%s\n", via_vlc ? "" : "      pre  start-lag");
        for (const Player &player : all) {
            g_print("  %-14s", player.name);
            for (const Outcome &outcome : result.joins.at(player.name)) {
                g_print(" %8s", outcome.ok     ? seconds(outcome.first_us).c_str()
                                : outcome.late ? ("late " + seconds(outcome.first_us)).c_str()
                                               : "FAIL");
                failures += outcome.ok || outcome.late ? 0 : 1;
                late += outcome.late ? 1 : 0;
                if (outcome.ok)
                    firsts[player.name].push_back(outcome.first_us);
            }
            const auto lag = result.start_lags.find(player.name);
            const gint64 stream_lag = lag == result.start_lags.end() ? -1 : median(lag->second);
            g_print("  %9s\n", stream_lag < 0 ? "-" : seconds(stream_lag).c_str());
            if (lag != result.start_lags.end())
                lags[player.name].insert(lags[player.name].end(), lag->second.begin(),
                                         lag->second.end());
        }
    }
    g_print("\nper player (all streams): median first picture, median start-lag, delay behind "
            "live (their sum)\n");
    for (const Player &player : all) {
        const gint64 first = median(firsts[player.name]);
        const gint64 lag = median(lags[player.name]);
        g_print("  %-14s %6s s %6s s %6s s\n", player.name,
                first < 0 ? "-" : seconds(first).c_str(), lag < 0 ? "-" : seconds(lag).c_str(),
                first < 0 || lag < 0 ? "-" : seconds(first + lag).c_str());
    }
    fail_unless(failures == 0 && late <= kLateJoinsTolerated,
                "%d joins failed, %d late (at most %d tolerated; their logs are above)", failures,
                late, kLateJoinsTolerated);
}
GST_END_TEST;

Suite *join_matrix_suite() {
    Suite *suite = suite_create("interop-join-matrix");
    TCase *tcase = tcase_create("join-matrix");
    tcase_set_timeout(tcase, 600);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_join_matrix);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    std::vector<const char *> programs = interop::vlc_programs();
    programs.insert(programs.end(), {"ffmpeg", "gst-launch-1.0"});
    return interop::main_with_requirements(
        argc, argv, "interop-join-matrix", join_matrix_suite, programs,
        {"videotestsrc", "audiotestsrc", "avenc_wmv2", "avenc_wmav2", "asfmux", "souphttpsrc",
         "asfdemux", "avdec_wmv2", "avdec_wmav2"});
}
