/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fan-out to 50 plain HTTP clients at once (raw ASF), each reading on its
 * own thread with bounded blocking sockets:
 *
 * - connected before any data flows: all 50 get byte-identical streams;
 * - connected at the same moment into a running stream: clients that join
 *   at the same packet get byte-identical streams, and everybody's packets
 *   after the first (which may be trimmed to its key frame) are the same
 *   packets at the same stream positions.
 *
 * What the clients received is also decoded by FFmpeg from a file.
 */
#include "interop.h"
#include "realtime.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using interop::LivePipeline;

namespace {

constexpr guint kClients = 50;
/** Blocking socket calls return after at most this many seconds. */
constexpr guint kSocketTimeoutS = 10;
/** Whole wait of one reader for its bytes, µs. */
constexpr gint64 kReadUs = 40 * G_USEC_PER_SEC;
const guint8 kHeaderGuid[16] = {0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11,
                                0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c};
const guint8 kDataGuid[16] = {0x36, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11,
                              0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c};
/** The Data Object head (GUID, size, file id, packet count, reserved) after the Header Object. */
constexpr size_t kDataObjectHead = 50;

/** Lets the reader threads go at the same moment, and counts their requests. */
class Gate {
public:
    void open() {
        std::lock_guard<std::mutex> locker(lock_);
        open_ = true;
        cond_.notify_all();
    }
    /** @return false if it did not open within kReadUs. */
    bool wait() {
        std::unique_lock<std::mutex> locker(lock_);
        return cond_.wait_for(locker, std::chrono::microseconds(kReadUs), [this] { return open_; });
    }
    /** Readers whose request went out. */
    std::atomic<guint> sent{0};

private:
    std::mutex lock_;
    std::condition_variable cond_;
    bool open_ = false; /* Protected by lock_ */
};

/** What one plain HTTP client read. */
struct Reader {
    std::string head;         /**< status line and headers */
    std::vector<guint8> body; /**< ASF header + Data Object head + whole packets */
    size_t header_size = 0;   /**< Header Object + Data Object head, bytes */
    std::string error;        /**< why it stopped early; "" when it read everything */
};

guint64 read_le64(const guint8 *data) {
    guint64 value = 0;
    for (int i = 7; i >= 0; --i)
        value = (value << 8) | data[i];
    return value;
}

/**
 * Body of a reader thread: after @p gate opens, GET / from 127.0.0.1:@p port
 * as a plain HTTP client and read the header plus @p packets packets of
 * @p packet_size bytes into @p out. Never fails the test (other thread):
 * problems land in out.error.
 */
void read_stream(guint16 port, guint packets, guint packet_size, Gate &gate, Reader &out) {
    if (!gate.wait()) {
        out.error = "gate never opened";
        return;
    }
    const gint64 end = g_get_monotonic_time() + kReadUs;
    GSocketClient *client = g_socket_client_new();
    g_socket_client_set_timeout(client, kSocketTimeoutS);
    GError *error = nullptr;
    GSocketConnection *connection =
        g_socket_client_connect_to_host(client, "127.0.0.1", port, nullptr, &error);
    g_object_unref(client);
    if (!connection) {
        out.error = std::string("connect: ") + error->message;
        g_error_free(error);
        return;
    }
    const std::string request = "GET / HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
                                "\r\nUser-Agent: wmstream-interop/1.0\r\nAccept: */*\r\n\r\n";
    GOutputStream *output = g_io_stream_get_output_stream(G_IO_STREAM(connection));
    GInputStream *input = g_io_stream_get_input_stream(G_IO_STREAM(connection));
    std::string raw;
    size_t want = 0; /* body bytes, known once the Header Object size is read */
    if (g_output_stream_write_all(output, request.data(), request.size(), nullptr, nullptr, &error))
        ++gate.sent;
    else
        out.error = std::string("send: ") + error->message;
    while (out.error.empty() && (want == 0 || out.body.size() < want)) {
        if (g_get_monotonic_time() > end) {
            out.error = "deadline";
            break;
        }
        guint8 buffer[65536];
        const gssize n = g_input_stream_read(input, buffer, sizeof buffer, nullptr, &error);
        if (n <= 0) {
            out.error = n == 0 ? "closed by the server" : std::string("read: ") + error->message;
            break;
        }
        if (out.head.empty()) {
            raw.append(reinterpret_cast<char *>(buffer), size_t(n));
            const size_t head_end = raw.find("\r\n\r\n");
            if (head_end == std::string::npos)
                continue;
            out.head = raw.substr(0, head_end + 2);
            out.body.assign(raw.begin() + head_end + 4, raw.end());
        } else {
            out.body.insert(out.body.end(), buffer, buffer + n);
        }
        if (want == 0 && out.body.size() >= 24) {
            if (memcmp(out.body.data(), kHeaderGuid, 16) != 0) {
                out.error = "the body does not start with an ASF Header Object";
                break;
            }
            out.header_size = read_le64(out.body.data() + 16) + kDataObjectHead;
            want = out.header_size + size_t(packets) * packet_size;
        }
    }
    g_clear_error(&error);
    if (want != 0 && out.body.size() > want)
        out.body.resize(want);
    g_io_stream_close(G_IO_STREAM(connection), nullptr, nullptr);
    g_object_unref(connection);
}

/** Counts client-added emissions (from the sink's relay thread). */
struct Added {
    std::mutex lock;
    std::set<guint64> ids; /* Protected by lock */

    static void on_added(GstElement *, guint64 id, gpointer self) {
        auto *added = static_cast<Added *>(self);
        std::lock_guard<std::mutex> locker(added->lock);
        added->ids.insert(id);
    }
    size_t count() {
        std::lock_guard<std::mutex> locker(lock);
        return ids.size();
    }
};

guint num_clients(GstElement *sink) {
    guint n = 0;
    g_object_get(sink, "num-clients", &n, nullptr);
    return n;
}

/** Wait until @p done() holds, at most interop::kWaitUs. */
template <typename Done>
void wait_until(Done done) {
    const gint64 end = g_get_monotonic_time() + interop::kWaitUs;
    while (!done() && g_get_monotonic_time() < end)
        g_usleep(10 * 1000);
}

/** Wait (bounded) until the sink serves @p n clients and client-added fired @p n times. */
void wait_clients(GstElement *sink, Added &added, guint n) {
    wait_until([&] { return num_clients(sink) == n && added.count() == n; });
    fail_unless_equals_int(num_clients(sink), n);
    fail_unless_equals_int(added.count(), n);
}

/** Wait (bounded) until the readers that closed their connections are gone from the sink. */
void wait_all_gone(GstElement *sink) {
    wait_until([&] { return num_clients(sink) == 0; });
    fail_unless_equals_int(num_clients(sink), 0);
}

/** get-clients lists @p n clients, all plain HTTP with our user agent. */
void assert_listed(GstElement *sink, guint n) {
    GstStructure *listing = nullptr;
    g_signal_emit_by_name(sink, "get-clients", &listing);
    fail_unless(listing != nullptr);
    const GValue *clients = gst_structure_get_value(listing, "clients");
    fail_unless(clients != nullptr && GST_VALUE_HOLDS_ARRAY(clients));
    fail_unless_equals_int(gst_value_array_get_size(clients), n);
    for (guint i = 0; i < gst_value_array_get_size(clients); ++i) {
        const GstStructure *client = gst_value_get_structure(gst_value_array_get_value(clients, i));
        fail_unless_equals_string(gst_structure_get_string(client, "protocol"), "http");
        fail_unless_equals_string(gst_structure_get_string(client, "user-agent"),
                                  "wmstream-interop/1.0");
    }
    gst_structure_free(listing);
}

/** Run kClients readers of @p packets packets; they connect when @p gate opens. */
class Readers {
public:
    Readers(guint16 port, guint packets, guint packet_size, Gate &gate) : readers_(kClients) {
        for (Reader &reader : readers_)
            threads_.emplace_back(read_stream, port, packets, packet_size, std::ref(gate),
                                  std::ref(reader));
    }
    ~Readers() { join(); }
    Readers(const Readers &) = delete;
    Readers &operator=(const Readers &) = delete;

    /** Wait for every reader (each ends by itself within kReadUs). */
    std::vector<Reader> &join() {
        for (std::thread &thread : threads_)
            if (thread.joinable())
                thread.join();
        return readers_;
    }

private:
    std::vector<Reader> readers_;
    std::vector<std::thread> threads_;
};

/** Every reader read all it wanted, as raw ASF over a 200 answer. */
void assert_complete(const std::vector<Reader> &readers) {
    for (size_t i = 0; i < readers.size(); ++i) {
        const Reader &reader = readers[i];
        fail_unless(reader.error.empty(), "client %zu: %s", i, reader.error.c_str());
        fail_unless(g_str_has_prefix(reader.head.c_str(), "HTTP/1.0 200 ") ||
                        g_str_has_prefix(reader.head.c_str(), "HTTP/1.1 200 "),
                    "client %zu: %s", i, reader.head.c_str());
        fail_unless(reader.head.find("Content-Type: video/x-ms-asf\r\n") != std::string::npos,
                    "client %zu: %s", i, reader.head.c_str());
        fail_unless(
            memcmp(reader.body.data() + reader.header_size - kDataObjectHead, kDataGuid, 16) == 0,
            "client %zu: no Data Object after the Header Object", i);
    }
}

/**
 * Decode @p reader's bytes from a file (ffprobe -show_frames decodes every
 * frame) at -v warning: exit 0, no warning, the first picture an intra
 * picture, and at least one second of video (25 frames). On a failure the
 * temporary file stays for inspection.
 */
void assert_decodes(const Reader &reader) {
    GError *error = nullptr;
    gchar *path = nullptr;
    const gint fd = g_file_open_tmp("wmstream-fanout-XXXXXX.asf", &path, &error);
    fail_unless(fd >= 0, "no temporary file: %s", error ? error->message : "?");
    close(fd);
    fail_unless(g_file_set_contents(path, reinterpret_cast<const gchar *>(reader.body.data()),
                                    gssize(reader.body.size()), &error));
    const std::string out =
        interop::run_clean({"ffprobe", "-v", "warning", "-select_streams", "v", "-show_frames",
                            "-show_entries", "frame=pict_type", path},
                           30);
    g_remove(path);
    g_free(path);
    const std::vector<interop::Fields> frames = interop::sections(out, "FRAME");
    fail_unless(frames.size() >= 25, "%zu frames", frames.size());
    fail_unless_equals_string(frames[0].at("pict_type").c_str(), "I");
}

/* ---- before any data ---- */

constexpr guint kPacketsBefore = 40;

GST_START_TEST(test_fanout_before_data) {
    LivePipeline pipeline(interop::kVideoPipeline);
    Added added;
    g_signal_connect(pipeline.sink(), "client-added", G_CALLBACK(Added::on_added), &added);
    guint packet_size = 0;
    g_object_get(pipeline.element("mux"), "packet-size", &packet_size, nullptr);
    /* PAUSED: the port accepts clients; a live source produces nothing yet. */
    pipeline.set_state(GST_STATE_PAUSED);

    Gate gate;
    Readers readers(pipeline.port(), kPacketsBefore, packet_size, gate);
    gate.open();
    wait_until([&] { return gate.sent.load() == kClients; });
    fail_unless_equals_int(gate.sent.load(), kClients);
    /* The server read and admitted every request; they wait for the stream header. */
    wait_clients(pipeline.sink(), added, kClients);
    fail_unless_equals_int(pipeline.packets(), 0); /* all 50 came before the first packet */
    pipeline.set_state(GST_STATE_PLAYING);
    assert_listed(pipeline.sink(), kClients);

    const std::vector<Reader> &all = readers.join();
    assert_complete(all);
    for (size_t i = 1; i < all.size(); ++i)
        fail_unless(all[i].body == all[0].body, "client %zu received other bytes than client 0", i);
    assert_decodes(all[0]);
    fail_unless_equals_int(added.count(), kClients);
    wait_all_gone(pipeline.sink());
    pipeline.assert_no_errors();
}
GST_END_TEST;

/* ---- into a running stream ---- */

constexpr guint kPacketsWhile = 60;
/** Largest distance, in packets, between two join points that is looked for. */
constexpr int kMaxShift = 30;

/** The @p index-th data packet of @p reader. */
const guint8 *packet(const Reader &reader, size_t index, guint packet_size) {
    return reader.body.data() + reader.header_size + index * packet_size;
}

/**
 * Where @p reader's stream sits against @p reference's: the shift s such
 * that reader packet j is reference packet j + s for every j ≥ 1 both hold
 * (first packets left out: they may be trimmed to the joiner's key frame).
 * Fails the test (naming client @p index) when no shift in ±kMaxShift
 * lines them up over at least half the packets.
 */
int align(const Reader &reader, size_t index, const Reader &reference, guint packets,
          guint packet_size) {
    for (int shift = -kMaxShift; shift <= kMaxShift; ++shift) {
        guint overlap = 0;
        bool equal = true;
        for (int j = std::max(1, 1 - shift); j < int(packets) && j + shift < int(packets); ++j) {
            equal = memcmp(packet(reader, size_t(j), packet_size),
                           packet(reference, size_t(j + shift), packet_size), packet_size) == 0;
            if (!equal)
                break;
            ++overlap;
        }
        if (equal && overlap >= packets / 2)
            return shift;
    }
    fail("client %zu has no run of packets in common with client 0", index);
    return 0;
}

/** io-realtime-priority 10 when this process may take it, else 0: a refusal would post a
 *  WARNING, which fails the interop tests. */
gint low_latency_priority() {
    return wmtest::realtime_priority_allowed(10) ? 10 : 0;
}

/* 50 clients join a running stream at once; @p low_latency: with the low-latency setting
 * (every packet written at once, the sends spread over two real-time threads). */
void fanout_while_streaming(bool low_latency) {
    LivePipeline pipeline(interop::kVideoPipeline);
    if (low_latency)
        g_object_set(pipeline.sink(), "flush-interval", guint64(0), "io-threads", 2u,
                     "io-realtime-priority", low_latency_priority(), nullptr);
    Added added;
    g_signal_connect(pipeline.sink(), "client-added", G_CALLBACK(Added::on_added), &added);
    guint packet_size = 0;
    g_object_get(pipeline.element("mux"), "packet-size", &packet_size, nullptr);
    pipeline.set_state(GST_STATE_PLAYING);
    pipeline.wait_packets(1);
    g_usleep(2 * G_USEC_PER_SEC);

    Gate gate;
    Readers readers(pipeline.port(), kPacketsWhile, packet_size, gate);
    gate.open(); /* all 50 connect at the same moment */
    wait_clients(pipeline.sink(), added, kClients);

    const std::vector<Reader> &all = readers.join();
    assert_complete(all);
    /* Group the clients by where they joined, against client 0. */
    std::map<int, std::vector<size_t>> groups;
    for (size_t i = 0; i < all.size(); ++i) {
        fail_unless(all[i].header_size == all[0].header_size &&
                        memcmp(all[i].body.data(), all[0].body.data(), all[0].header_size) == 0,
                    "client %zu received another header", i);
        groups[align(all[i], i, all[0], kPacketsWhile, packet_size)].push_back(i);
    }
    for (const auto &group : groups) {
        const Reader &first = all[group.second.front()];
        for (size_t i : group.second)
            fail_unless(all[i].body == first.body,
                        "clients %zu and %zu joined at the same packet but received other bytes",
                        group.second.front(), i);
        assert_decodes(first);
    }
    g_print("%zu clients joined at %zu packet(s) of the stream\n", all.size(), groups.size());
    fail_unless_equals_int(added.count(), kClients);
    wait_all_gone(pipeline.sink());
    pipeline.assert_no_errors();
}

GST_START_TEST(test_fanout_while_streaming) {
    fanout_while_streaming(false);
}
GST_END_TEST;

GST_START_TEST(test_fanout_low_latency) {
    fanout_while_streaming(true);
}
GST_END_TEST;

Suite *fanout_suite() {
    Suite *suite = suite_create("interop-fanout");
    TCase *tcase = tcase_create("fanout");
    tcase_set_timeout(tcase, 120);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_fanout_before_data);
    tcase_add_test(tcase, test_fanout_while_streaming);
    tcase_add_test(tcase, test_fanout_low_latency);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    return interop::main_with_requirements(argc, argv, "interop-fanout", fanout_suite,
                                           {"ffprobe", "timeout"},
                                           {"videotestsrc", "avenc_wmv2", "asfmux"});
}
