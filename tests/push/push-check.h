/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Support of the wmpushsink GstCheck tests: fixture streams, a recorder of
 * every bus message (waitable, bounded), an appsrc-fed pipeline for tests
 * that must control exactly which packets exist, and a live encoder
 * pipeline that counts the data packets reaching the sink.
 */
#pragma once

#include "error-check.h"
#include "receiver.h"

#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace pushtest {

/** Longest wait for anything the tests expect, µs. */
constexpr gint64 kWaitUs = 40 * G_USEC_PER_SEC;

/** A streamable ASF file split into its header and data packets. */
struct Stream {
    Bytes header;
    std::vector<Bytes> packets;
};
/** tests/data/@p name: "asfmux-wmv2.asf" (451 + 20 × 4800) or "asfmux-wmv2-wmav2.asf". */
Stream load_stream(const char *name);

/** Every message posted on a bus, kept in order (a sync handler), waitable. */
class Recorder {
public:
    explicit Recorder(GstBus *bus);
    ~Recorder();
    Recorder(const Recorder &) = delete;
    Recorder &operator=(const Recorder &) = delete;

    /** The first message (in posting order) for which @p match holds, waiting at most
     *  @p timeout_us; null on timeout. Borrowed: valid as long as the recorder. */
    GstMessage *wait(const std::function<bool(GstMessage *)> &match, gint64 timeout_us = kWaitUs);
    /** First message of @p type, waiting (see wait()). */
    GstMessage *wait_type(GstMessageType type, gint64 timeout_us = kWaitUs);
    /** First element message named @p name, waiting. */
    GstMessage *wait_element(const char *name, gint64 timeout_us = kWaitUs);
    /** Every message matching, so far. */
    std::vector<GstMessage *> all(const std::function<bool(GstMessage *)> &match) const;
    /** Messages of @p type so far. */
    size_t count(GstMessageType type) const;
    /** Fail the test if an ERROR or WARNING was posted (printing them). */
    void assert_clean() const;

private:
    static GstBusSyncReply on_message(GstBus *bus, GstMessage *message, gpointer self);

    GstBus *bus_;
    mutable std::mutex lock_;
    std::condition_variable changed_;
    /* Protected by lock_ */
    std::vector<GstMessage *> messages_;
};

/** Progress message of @p type with @p code ("connect"/"reconnect")? */
bool is_progress(GstMessage *message, GstProgressType type, const char *code);

/* ERROR/WARNING checks shared with the other GstCheck tests (tests/common). */
using wmtest::assert_error;
using wmtest::debug_text;

/** Retry delays of 100 ms (the shortest the sink takes), then at most 200 ms, for a launch
 *  line: outages heal at once. */
constexpr const char *kFastRetries = "retry-delay=100000000 max-retry-delay=200000000 ";

/** A 30 s attempt timeout for a launch line, for TLS receivers: both ends of the handshake run
 *  in the test process, which under ASan on a loaded machine takes seconds; an attempt that
 *  timed out would be a WARNING the test does not expect. */
constexpr const char *kTlsTimeout = "timeout=30000000000 ";

/** Assert @p message is the ERROR or WARNING of a failed connection (RESOURCE OPEN_WRITE,
 *  NS_E_CONNECTION_FAILURE). @return its details (borrowed). */
const GstStructure *assert_connection_failure(GstMessage *message);

/** video/x-ms-asf caps with @p header as their streamheader (as asfmux sets them); owned. */
GstCaps *caps_with_header(const Bytes &header);

/** `appsrc name=src ! wmpushsink name=sink @p sink_properties`: exact control of the packets. */
class AppPipeline {
public:
    explicit AppPipeline(const std::string &sink_properties);
    ~AppPipeline();
    AppPipeline(const AppPipeline &) = delete;
    AppPipeline &operator=(const AppPipeline &) = delete;

    /** Caps with @p header as streamheader (as asfmux), then PLAYING. */
    void play(const Bytes &header);
    /** Back to NULL (the sink stops; play() starts it again). */
    void stop();
    /** New caps with another streamheader, in the data flow. */
    void change_header(const Bytes &header);
    void push(const Bytes &packet);
    void push_all(const Stream &stream, size_t from, size_t to);
    void end_of_stream();

    GstElement *sink() const { return sink_; }
    Recorder &messages() { return *recorder_; }

private:
    GstElement *pipeline_ = nullptr;
    GstElement *src_ = nullptr;
    GstElement *sink_ = nullptr;
    Recorder *recorder_ = nullptr;
};

/**
 * A pipeline parsed from @p description, which must hold `wmpushsink
 * name=sink`; counts the data packets (buffers without the HEADER flag)
 * that reach the sink and keeps their bytes.
 */
class LivePipeline {
public:
    explicit LivePipeline(const std::string &description);
    ~LivePipeline();

    /** A live video encoder: videotestsrc is-live=true num-buffers=@p frames (160x120,
     *  25 fps, WMV2, a key frame every 5 frames) ! asfmux streamable=true ! wmpushsink
     *  name=sink @p sink_properties. */
    static std::string video(guint frames, const std::string &sink_properties);
    LivePipeline(const LivePipeline &) = delete;
    LivePipeline &operator=(const LivePipeline &) = delete;

    void play();
    /** Send EOS into the pipeline (a live source never ends by itself). */
    void end();
    /** Wait (bounded) for EOS on the bus; fails the test on ERROR. */
    void wait_eos();
    /** Data packets that reached the sink so far. */
    guint packets() const;
    /** Their bytes, in order. */
    std::vector<Bytes> produced() const;

    GstElement *sink() const { return sink_; }
    /** Element @p name of the pipeline (borrowed). */
    GstElement *element(const char *name) const;
    Recorder &messages() { return *recorder_; }

private:
    static GstPadProbeReturn count(GstPad *pad, GstPadProbeInfo *info, gpointer self);

    GstElement *pipeline_ = nullptr;
    GstElement *sink_ = nullptr;
    Recorder *recorder_ = nullptr;
    mutable std::mutex lock_;
    std::vector<Bytes> produced_; /* Protected by lock_ */
};

/**
 * A check src pad (video/x-ms-asf) linked to @p sink, made by gst_check_setup_element():
 * asserts the sink goes PLAYING asynchronously, then sends the caps and a time segment
 * and asserts @p header (flagged HEADER) is accepted.
 */
GstPad *start_src_pad(GstElement *sink, const Bytes &header);
/** Undo start_src_pad() and gst_check_setup_element() on @p sink (already NULL); @p bus is
 *  the sink's own, flushed and released. */
void teardown_src_pad_sink(GstElement *sink, GstBus *bus);

/** The packets the wmpushsink-dropped messages recorded so far report, in all. */
guint64 reported_drops(const Recorder &messages);

/** Push every packet of @p stream through @p pipeline (started with its header) and end the
 *  stream; wait for EOS and assert a clean delivery: no ERROR or WARNING, no receiver
 *  violation, every data packet received once, in order. @return the receiver's snapshot. */
Snapshot deliver(AppPipeline &pipeline, const Receiver &receiver, const Stream &stream);

/** Assert @p error is the ERROR of refused credentials (RESOURCE NOT_AUTHORIZED,
 *  E_ACCESSDENIED) with http-status @p http_status. @return its details (borrowed). */
const GstStructure *assert_not_authorized(GstMessage *error, guint http_status);

/** Every line the sink logs (wmpushsink at MEMDUMP) while it lives, to prove a secret is never
 *  logged. */
class LogCapture {
public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture &) = delete;
    LogCapture &operator=(const LogCapture &) = delete;
    /** Fail unless the sink logged its target ("pushing to": the capture works) and no line
     *  holds @p secret. */
    void assert_not_logged(const std::string &secret) const;

private:
    static void on_log(GstDebugCategory *, GstDebugLevel, const gchar *, const gchar *, gint,
                       GObject *, GstDebugMessage *message, gpointer self);
    mutable std::mutex lock_;
    std::string text_; /* Protected by lock_ */
};

/** Fail the test on any receiver violation (printing them). */
void assert_no_violations(const Snapshot &snapshot);
/** Wait for EOS, then assert a clean delivery: no ERROR or WARNING, no receiver violation,
 *  every data packet of @p pipeline received. @return the receiver's snapshot. */
Snapshot assert_delivered(LivePipeline &pipeline, const Receiver &receiver);
/** The $D payloads received, in order. */
std::vector<Bytes> data_of(const Snapshot &snapshot);
/** The $D payloads received, split into runs at every $H (one run per PushStart with $H). */
std::vector<std::vector<Bytes>> runs_of(const Snapshot &snapshot);

/** "location=URL " for a launch line pushing to @p receiver's @p path. */
std::string location(const Receiver &receiver, const std::string &path = "/live");
/** Message filters for the bus helpers. */
bool is_error(GstMessage *m);
bool is_warning(GstMessage *m);
/** A guint64 property of @p sink. */
guint64 get_u64(GstElement *sink, const char *property);
/** A guint property of @p sink. */
guint get_uint(GstElement *sink, const char *property);

} // namespace pushtest
