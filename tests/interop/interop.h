/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared support of the interop tests: a live wmnetsink pipeline run in the
 * test process, bounded runs of real client programs (FFmpeg, VLC), and the
 * rule for machines without those programs or GStreamer elements (skip()).
 */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

namespace interop {

/** Longest wait for anything the pipeline is expected to do, µs. */
constexpr gint64 kWaitUs = 20 * G_USEC_PER_SEC;
/**
 * What a test whose peer (a program, a GStreamer element, a file) is missing
 * returns from main(): under CI (CI=true) a failure, 1, since CI installs
 * every peer and a test that did not run proves nothing; elsewhere 77, which
 * meson reports as skipped. Prints "@test: missing @what" either way.
 */
int skip(const char *test, const std::string &what);

/** Video-only live stream: WMV2 320x240 at 25 fps, one key frame a second. */
extern const char *const kVideoPipeline;
/**
 * The same video plus WMA2 audio. Both encoders' output pads must be rebased
 * with rebase_to_running_time() (elements "venc" and "aenc").
 */
extern const char *const kAudioVideoPipeline;

/** What a finished client program left behind. */
struct Run {
    bool exited = false; /**< ended by exit(), not by a signal */
    int status = -1;     /**< exit status when exited (124 = `timeout` fired) */
    std::string out;     /**< everything written to stdout */
    std::string err;     /**< everything written to stderr */
};

/**
 * Run @p argv under `timeout -k 5 @p limit_s` and wait for it, at most
 * @p limit_s + 15 s of GLib time (then it is killed and the test fails).
 * Stdin is closed at once. @p env: extra "NAME=value" entries.
 */
Run run(const std::vector<std::string> &argv, guint limit_s,
        const std::vector<std::string> &env = {});

/**
 * A temporary HOME for VLC (its cache and configuration go there), owned by
 * the user VLC runs as (see vlc_command()); removed with everything below it.
 */
class VlcHome {
public:
    VlcHome();
    ~VlcHome();
    VlcHome(const VlcHome &) = delete;
    VlcHome &operator=(const VlcHome &) = delete;

    const std::string &path() const { return path_; }
    /** "HOME=…", for the environment of the VLC process. */
    std::string env() const { return "HOME=" + path_; }

private:
    std::string path_;
};

/**
 * The argv that runs `cvlc @p args…`. VLC refuses to run as root: as root
 * it runs as nobody (65534) through setpriv.
 */
std::vector<std::string> vlc_command(const std::vector<std::string> &args);

/**
 * A free TCP port on 127.0.0.1, for a server that cannot bind port 0 itself and report it (VLC's
 * outputs): the kernel picks it, the socket is closed, and the server binds it next.
 */
guint16 free_port();

/** The programs vlc_command() needs (for missing()). */
std::vector<const char *> vlc_programs();

/**
 * How much slower than a normal build this run may be: CK_TIMEOUT_MULTIPLIER
 * (tools/sanitize-tests.sh sets 3 for ASan + UBSan, as it scales GstCheck's
 * own limits), else 1. Time bounds on what the element does scale with it.
 */
double slowdown();

/** Printable form of a run for failure messages: status and both outputs. */
std::string describe(const std::vector<std::string> &argv, const Run &result);

/**
 * run() a client that must succeed quietly: exit status 0 and nothing on
 * stderr but lines that start with one of @p tolerated. Otherwise the test
 * fails, showing the command and its output.
 * @return what it wrote to stdout.
 */
std::string run_clean(const std::vector<std::string> &argv, guint limit_s,
                      const std::vector<std::string> &tolerated = {});

/**
 * FFmpeg decodes the first @p seconds of @p url to nothing, quietly (run_clean() at log level
 * error, within @p limit_s). @return the video frames it decoded (its -progress count).
 */
guint decoded_frames(const std::string &url, guint seconds, guint limit_s);

/**
 * cvlc (as vlc_command() runs it, with its own VlcHome) plays @p url for @p seconds with dummy
 * outputs and its debug log (-vv), within @p limit_s. @return the run; the log is out + err.
 */
Run vlc_view(const std::string &url, guint seconds, guint limit_s);

/** Fail the test, showing the log, unless the vlc_view() @p result exited 0 and its log shows
 *  the MS-WMSP access and a decoded picture. */
void assert_vlc_decoded(const Run &result);

/** @p text split at '\n' (without the '\n'). */
std::vector<std::string> lines(const std::string &text);

/** Value of the last "@p key=value" line of @p text (ffprobe/ffmpeg key=value output), or "". */
std::string last_value(const std::string &text, const std::string &key);

/** One "[NAME]" … "[/NAME]" section of ffprobe's default output: key → value. */
using Fields = std::map<std::string, std::string>;
/** Every section named @p name (e.g. "STREAM", "PACKET", "FRAME") of @p text, in order. */
std::vector<Fields> sections(const std::string &text, const std::string &name);

/**
 * What the test executable lacks: the programs of @p programs not in PATH
 * and the element factories of @p elements not registered, as one message
 * ("" when nothing is missing). Call after gst_check_init(). Only list what
 * another machine may lack (players, other GStreamer plugins): never
 * wmnetsink, whose absence is a failure, not a reason to skip.
 */
std::string missing(const std::vector<const char *> &programs,
                    const std::vector<const char *> &elements);

/**
 * main() of an interop executable: gst_check_init, then skip() when
 * missing() reports anything, else run @p make_suite.
 */
int main_with_requirements(int argc, char **argv, const char *name, Suite *(*make_suite)(),
                           const std::vector<const char *> &programs,
                           const std::vector<const char *> &elements);

/**
 * Make the buffers leaving @p pad carry running time (and the segment start
 * at 0), so that asfmux, which interleaves by raw timestamps, can mix a
 * video encoder (timestamps from 1000 h) with an audio encoder (from 0).
 */
void rebase_to_running_time(GstPad *pad);

/**
 * A pipeline parsed from a description holding `wmnetsink name=sink`,
 * bound to 127.0.0.1 on a free port. Counts the data packets that reach
 * the sink. Destruction stops it.
 */
class LivePipeline {
public:
    explicit LivePipeline(const char *description);
    ~LivePipeline();
    LivePipeline(const LivePipeline &) = delete;
    LivePipeline &operator=(const LivePipeline &) = delete;

    /** Rebase the source pad of element @p name (see rebase_to_running_time()). */
    void rebase(const char *name);
    /** Go to @p state (PAUSED: clients accepted, no data yet; PLAYING: streaming). */
    void set_state(GstState state);
    /** Wait (bounded) until @p count data packets reached the sink. */
    void wait_packets(guint count);
    /** Data packets (non-header buffers) that reached the sink so far. */
    guint packets() const { return packets_.load(); }
    /** Monotonic time the first data packet reached the sink, µs; 0 before. */
    gint64 first_packet_us() const { return first_packet_us_.load(); }

    GstElement *sink() const { return sink_; }
    GstElement *element(const char *name) const;
    /** The bound port (current-port), 0 before the first state change. */
    guint16 port() const;
    /** "@p scheme://127.0.0.1:port/". */
    std::string url(const char *scheme) const;
    /** Fail the test on any ERROR or WARNING posted so far. */
    void assert_no_errors();
    /**
     * The element messages named @p name (e.g. "wmnetsink-client-added")
     * posted so far, each field serialized, waiting (bounded) until there
     * are at least @p at_least. Other element messages are dropped.
     */
    std::vector<Fields> element_messages(const char *name, size_t at_least = 0);
    /** Wait (bounded) for EOS on the bus; fails on an ERROR before it. */
    void wait_eos();

private:
    static GstPadProbeReturn count_packet(GstPad *pad, GstPadProbeInfo *info, gpointer self);

    GstElement *pipeline_ = nullptr;
    GstElement *sink_ = nullptr;
    GstBus *bus_ = nullptr;
    std::atomic<guint> packets_{0};
    std::atomic<gint64> first_packet_us_{0};
};

} // namespace interop
