/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Support of the wmnetsink GstCheck tests: bus helpers, a lone sink with its
 * own bus, a live encoder pipeline ending in wmnetsink, raw TCP clients
 * that read one HTTP response (plain HTTP or MS-WMSP framing), and a
 * recorder of the client-added / client-removed signals. Every listener
 * binds port 0 on 127.0.0.1; every wait is bounded.
 */
#pragma once

#include "error-check.h"
#include "proto/framing.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace netsinktest {

/** Longest wait for anything the tests expect to happen, µs. */
constexpr gint64 kWaitUs = 15 * G_USEC_PER_SEC;
/** Blocking socket calls return after at most this many seconds. */
constexpr guint kSocketTimeoutS = 1;
constexpr const char *kPlayerAgent = "NSPlayer/7.10.0.3059";
constexpr const char *kBrowserAgent = "wmstream-test/1.0";
/** First bytes of the ASF Header Object and Data Object GUIDs. */
extern const guint8 kHeaderGuid[16];
extern const guint8 kDataGuid[16];
/** Size of the Data Object head that follows the Header Object. */
constexpr size_t kDataObjectHead = 50;

/** videotestsrc → avenc_wmv2 → asfmux → `wmnetsink name=sink port=0 address=127.0.0.1 `. */
extern const char *const kLivePipeline;

/** Now + kWaitUs, monotonic µs. */
gint64 deadline();
bool starts_with(const std::string &text, const std::string &prefix);

/* ---- bus ---- */

/** The next message of @p types on @p bus, or null after @p timeout_us. */
GstMessage *pop(GstBus *bus, GstMessageType types, gint64 timeout_us = kWaitUs);
/** The next element message named @p name (others are dropped), or null. */
GstMessage *pop_element_message(GstBus *bus, const char *name);
/* ERROR/WARNING checks shared with the other GstCheck tests (tests/common). */
using wmtest::assert_error;

/* ---- a lone sink with its own bus ---- */

struct LoneSink {
    GstElement *sink = nullptr;
    GstBus *bus = nullptr;

    LoneSink();
    ~LoneSink();
    LoneSink(const LoneSink &) = delete;
    LoneSink &operator=(const LoneSink &) = delete;

    gint current_port() const;

    /**
     * Assert READY fails, posting an ERROR of @p code in GST_RESOURCE_ERROR with @p condition /
     * @p hresult (passed to @p check_details when given), and leaves no port open.
     */
    void assert_ready_fails(gint code, const char *condition, guint hresult,
                            const std::function<void(const GstStructure *)> &check_details = {});
};

/* ---- sockets ---- */

/** A listening socket on 127.0.0.1 (port 0 = any), to occupy or probe a port. */
GSocket *listen_on(guint16 port, GError **error);
guint16 local_port(GSocket *socket);

/** A raw TCP client with bounded blocking I/O, reading one HTTP response. */
class TestClient {
public:
    explicit TestClient(guint port);
    ~TestClient() { close(); }
    TestClient(const TestClient &) = delete;
    TestClient &operator=(const TestClient &) = delete;

    void close();

    guint16 port() const { return local_port(socket_); }

    void send(const std::string &text);

    /** A plain HTTP GET of @p path; @p extra: more header lines, each ending in "\r\n". */
    void get(const char *user_agent, const std::string &path = "/", const std::string &extra = "");

    /** An MS-WMSP Play request as VLC 3.0 sends it; @p extra as get(). */
    void play(const std::string &extra = "");

    /** Read the response head (status line + headers); the bytes after it go to body(). */
    bool read_head(gint64 end = deadline());

    /** Read until body() holds at least @p n bytes. */
    bool read_body(size_t n, gint64 end = deadline());

    /** Read (and discard) until the server closes the connection. */
    bool wait_closed(gint64 end = deadline());

    std::string status_line() const { return head_.substr(0, head_.find("\r\n")); }
    /** Value of header @p name (case-insensitive), "" when absent. */
    std::string header(const std::string &name) const;
    /** Every value of header @p name (case-insensitive), in order. */
    std::vector<std::string> headers(const std::string &name) const;
    std::vector<guint8> &body() { return body_; }
    bool eof() const { return eof_; }
    /** Bytes received so far, head and body. */
    size_t received() const { return received_; }

private:
    /* One receive into raw_ (before the head end) or body_; false on EOF or deadline. */
    bool receive(gint64 end);

    GSocketConnection *connection_ = nullptr;
    GSocket *socket_ = nullptr;
    std::string raw_;
    size_t head_end_ = std::string::npos;
    std::string head_;
    std::vector<guint8> body_;
    size_t received_ = 0;
    bool eof_ = false;
};

/** Reads MS-WMSP packets from a Play response body. */
class WmspReader {
public:
    explicit WmspReader(TestClient &client) : client_(client) {}

    /** The next packet; fails the test on a framing error or timeout. */
    wmstream::proto::framing::Packet next(gint64 end = deadline());

    /**
     * Read $D packets until @p count more arrived, asserting LocationId and
     * AFFlags have no gap. With @p allow_change, a stream change ($C then the
     * new $H, MS-WMSP §2.2.3.4) may come first.
     */
    void read_data(size_t count, bool allow_change = false);

    size_t data_packets() const { return data_packets_; }

private:
    TestClient &client_;
    wmstream::proto::framing::Reader reader_{wmstream::proto::framing::Reader::Mode::Pull};
    size_t data_packets_ = 0;
    guint32 last_location_ = 0;
    guint8 last_af_flags_ = 0;
};

/** Read a Play response: 200, x-mms-framed, then a whole $H with the ASF header. */
void expect_play_response(TestClient &client, WmspReader &reader);
/** Read a plain HTTP response: 200, video/x-ms-asf, the ASF header, the Data Object head. */
void expect_raw_asf_response(TestClient &client);

/* ---- signals ---- */

struct ClientEvent {
    bool added;
    guint64 id;
    gint reason;
};

/**
 * Records client-added / client-removed. They are emitted on the element's
 * relay thread, possibly while the recorder goes away: the handlers share
 * the log, which the last of them frees.
 */
class Recorder {
public:
    explicit Recorder(GstElement *sink);
    ~Recorder();
    Recorder(const Recorder &) = delete;
    Recorder &operator=(const Recorder &) = delete;

    /** Wait until @p select finds an event in the log (in order); returns it. */
    ClientEvent
    wait_for(const std::function<const ClientEvent *(const std::vector<ClientEvent> &)> &select);
    /** The first event matching @p match. */
    ClientEvent wait_match(const std::function<bool(const ClientEvent &)> &match);
    /** The @p nth client-added (0 = first). */
    ClientEvent wait_added(size_t nth = 0);
    ClientEvent wait_removed(guint64 id);
    std::vector<ClientEvent> events();

private:
    struct Log {
        std::mutex lock;
        std::condition_variable changed;
        std::vector<ClientEvent> events; /* Protected by lock */

        void record(const ClientEvent &event);
    };
    using LogRef = std::shared_ptr<Log>;

    gulong connect(const char *signal, GCallback callback);
    static void on_added(GstElement *, guint64 id, gpointer log);
    static void on_removed(GstElement *, guint64 id, gint reason, gpointer log);

    GstElement *sink_;
    LogRef log_;
    gulong added_handler_ = 0;
    gulong removed_handler_ = 0;
};

/** The value of GstWmNetSinkRemoveReason with @p nick. */
gint remove_reason(const char *nick);

guint num_clients(GstElement *sink);
/** A counter of @p sink's server-stats property (guint64 @p field). */
guint64 server_stat(GstElement *sink, const char *field);

/* ---- a live pipeline: videotestsrc → avenc_wmv2 → asfmux → wmnetsink ---- */

struct LivePipeline {
    GstElement *pipeline = nullptr;
    GstElement *sink = nullptr;
    GstBus *bus = nullptr;
    guint port = 0;

    /**
     * kLivePipeline + @p sink_properties, brought to @p state.
     * @p before_start, when given, runs after parsing and before the first
     * state change (set properties, connect handlers, watch the bus).
     */
    explicit LivePipeline(const char *sink_properties = "", GstState state = GST_STATE_PLAYING,
                          const std::function<void(LivePipeline &)> &before_start = nullptr);
    ~LivePipeline();
    LivePipeline(const LivePipeline &) = delete;
    LivePipeline &operator=(const LivePipeline &) = delete;

    void set_state(GstState state);

    /** Fail when an ERROR was posted. */
    void check_no_error();
};

} // namespace netsinktest
