/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The push client (lib/push-client) against the strict receiver, without
 * GStreamer: the whole MS-WMHTTP exchange, Length-Remaining with $F and
 * repeated PushStarts, and reconnection — the backoff delays and the retry
 * budget are read from a manual clock, so no test waits for a backoff.
 * Stream: tests/data/asfmux-wmv2.asf (451-byte header, 20 packets of 4800
 * bytes; key frames begin in packets 0, 7, 11 and 15).
 *
 * Hostile servers (/push-client/hostile/...): heads over 16 KiB or 100
 * lines, a head trickled forever, garbage status lines, a 10 MB Set-Cookie,
 * a flood of 1xx answers, a server that never reads the PushStart body, an
 * untrusted certificate, a server calling every Digest nonce stale. Each is an attempt failure with
 * a clear message (retried per the budget, then the final failure), or fatal at once for the
 * certificate; memory stays bounded (peak RSS and buffered_bytes).
 */
#include "long-stream.h"
#include "manual-clock.h"
#include "peak-memory.h"
#include "push/client.h"
#include "receiver.h"

#include <glib.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using pushtest::Bytes;
using pushtest::ManualClock;
using pushtest::Receiver;
using pushtest::Snapshot;
using namespace wmstream;

namespace {

constexpr size_t kHeaderSize = 451;
constexpr size_t kPacketSize = 4800;
constexpr size_t kPackets = 20;
constexpr int64_t kWaitUs = 20 * G_USEC_PER_SEC;

struct Stream {
    Bytes header;
    std::vector<Bytes> packets;
};

Stream load_stream() {
    g_autofree char *contents = nullptr;
    gsize len = 0;
    g_autoptr(GError) error = nullptr;
    g_file_get_contents(pushtest::data_path("asfmux-wmv2.asf").c_str(), &contents, &len, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(len, ==, kHeaderSize + kPackets * kPacketSize);
    const auto *bytes = reinterpret_cast<const uint8_t *>(contents);
    Stream stream;
    stream.header.assign(bytes, bytes + kHeaderSize);
    for (size_t i = 0; i < kPackets; i++) {
        const uint8_t *packet = bytes + kHeaderSize + i * kPacketSize;
        stream.packets.emplace_back(packet, packet + kPacketSize);
    }
    return stream;
}

/* Every event, in order, as text; waitable. */
class Events final : public push::ClientEvents {
public:
    void connecting(const std::string &url, bool reconnect) override {
        add(std::string(reconnect ? "reconnecting " : "connecting ") + url);
    }
    void connected(const push::ClientStats &stats, bool reconnect) override {
        add(std::string(reconnect ? "reconnected " : "connected ") + stats.push_id);
    }
    void attempt_failed(const push::Failure &failure, int64_t retry_in_us) override {
        std::lock_guard<std::mutex> locker(lock_);
        delays_.push_back(retry_in_us);
        failures_.push_back(failure);
        events_.push_back("attempt-failed");
        changed_.notify_all();
    }
    void failed(const push::Failure &failure) override {
        std::lock_guard<std::mutex> locker(lock_);
        failures_.push_back(failure);
        events_.push_back("failed");
        changed_.notify_all();
    }
    void ended(const push::ClientStats &) override { add("ended"); }

    /* Wait until an event starting with @prefix was seen @count times. */
    bool wait(const std::string &prefix, size_t count = 1) {
        std::unique_lock<std::mutex> locker(lock_);
        return changed_.wait_for(locker, std::chrono::microseconds(kWaitUs),
                                 [&] { return count_locked(prefix) >= count; });
    }
    size_t count(const std::string &prefix) {
        std::lock_guard<std::mutex> locker(lock_);
        return count_locked(prefix);
    }
    std::vector<int64_t> delays() {
        std::lock_guard<std::mutex> locker(lock_);
        return delays_;
    }
    std::vector<push::Failure> failures() {
        std::lock_guard<std::mutex> locker(lock_);
        return failures_;
    }
    std::vector<std::string> events() {
        std::lock_guard<std::mutex> locker(lock_);
        return events_;
    }

private:
    void add(std::string event) {
        std::lock_guard<std::mutex> locker(lock_);
        events_.push_back(std::move(event));
        changed_.notify_all();
    }
    size_t count_locked(const std::string &prefix) const {
        size_t n = 0;
        for (const std::string &event : events_)
            n += event.compare(0, prefix.size(), prefix) == 0;
        return n;
    }

    std::mutex lock_;
    std::condition_variable changed_;
    std::vector<std::string> events_;
    std::vector<int64_t> delays_;
    std::vector<push::Failure> failures_;
};

push::ClientConfig config_for(const Receiver &receiver) {
    push::ClientConfig config;
    config.session.location = receiver.url();
    config.timeout_us = 5 * G_USEC_PER_SEC;
    config.retry.retries = 3;
    config.retry.initial_delay_us = 100000;
    config.retry.max_delay_us = 250000;
    return config;
}

void assert_no_violations(const Snapshot &snapshot) {
    for (const std::string &violation : snapshot.violations)
        g_printerr("violation: %s\n", violation.c_str());
    g_assert_cmpuint(snapshot.violations.size(), ==, 0);
}

void push_all(push::Client &client, const Stream &stream, size_t from = 0, size_t to = kPackets) {
    for (size_t i = from; i < to; i++) {
        auto dropped = client.push_packet(stream.packets[i].data(), stream.packets[i].size());
        g_assert_true(dropped.ok());
    }
}

/* Assert @p client starts with @p config and takes @p stream's header. */
void start_streaming(push::Client &client, const push::ClientConfig &config, const Stream &stream) {
    g_assert_true(client.start(config).ok());
    g_assert_true(client.set_header(stream.header.data(), stream.header.size()).ok());
}

/* The $D payloads of @snapshot, in order. */
std::vector<Bytes> data_of(const Snapshot &snapshot) {
    std::vector<Bytes> out;
    for (const pushtest::PacketRecord &packet : snapshot.packets) {
        if (packet.id == 'D')
            out.push_back(packet.payload);
    }
    return out;
}

/* ---- tests ---- */

void test_stream() {
    const Stream stream = load_stream();
    Receiver receiver;
    receiver.start();
    Events events;
    push::Client client(&events);
    start_streaming(client, config_for(receiver), stream);
    push_all(client, stream);
    g_assert_true(client.end_session().ok());
    g_assert_true(events.wait("ended"));

    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    /* One PushSetup and one PushStart, on the same connection. */
    g_assert_cmpuint(snapshot.setups().size(), ==, 1);
    g_assert_cmpuint(snapshot.starts().size(), ==, 1);
    const pushtest::RequestRecord &setup = *snapshot.setups()[0];
    const pushtest::RequestRecord &start = *snapshot.starts()[0];
    g_assert_cmpint(setup.connection, ==, start.connection);
    g_assert_cmpstr(setup.push_id.c_str(), ==, "0");
    g_assert_cmpstr(setup.body.c_str(), ==, "AutoDestroy: 1\r\n");
    g_assert_cmpuint(snapshot.push_ids.size(), ==, 1);
    g_assert_cmpstr(start.push_id.c_str(), ==, snapshot.push_ids[0].c_str());
    g_assert_cmpstr(start.find("Content-Length")->c_str(), ==, "2147483647");
    /* $H, every $D unchanged and in order, $E(0). */
    g_assert_cmpint(snapshot.packets.front().id, ==, 'H');
    const std::vector<Bytes> data = data_of(snapshot);
    g_assert_cmpuint(data.size(), ==, kPackets);
    for (size_t i = 0; i < kPackets; i++)
        g_assert_true(data[i] == stream.packets[i]);
    g_assert_cmpint(snapshot.packets.back().id, ==, 'E');
    g_assert_cmpuint(snapshot.end_reasons().size(), ==, 1);
    g_assert_cmpuint(snapshot.end_reasons()[0], ==, 0);
    g_assert_cmpuint(snapshot.count('F'), ==, 0);

    const push::ClientStats stats = client.stats();
    g_assert_cmpuint(stats.packets_sent, ==, kPackets);
    g_assert_cmpuint(stats.packets_dropped, ==, 0);
    g_assert_cmpuint(stats.connections, ==, 1);
    g_assert_cmpuint(stats.reconnects, ==, 0);
    /* Everything the client wrote, the receiver read. */
    g_assert_cmpuint(stats.bytes_sent, ==, snapshot.bytes);
    client.stop();
}

/* Length-Remaining runs out: $F up to Content-Length, 204, a new PushStart without $H. */
void test_filler() {
    const Stream stream = load_stream();
    Receiver receiver;
    receiver.start();
    Events events;
    push::Client client(&events);
    push::ClientConfig config = config_for(receiver);
    config.content_length = 20000;
    start_streaming(client, config, stream);
    push_all(client, stream);
    g_assert_true(client.end_session().ok());

    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    /* 20000 − $H (455) holds 4 $D (4804 each, the next needs > 4808 left); later bodies 4 too. */
    g_assert_cmpuint(snapshot.starts().size(), ==, 5);
    for (const pushtest::RequestRecord *start : snapshot.starts()) {
        g_assert_cmpstr(start->find("Content-Length")->c_str(), ==, "20000");
        g_assert_cmpint(start->connection, ==, snapshot.setups()[0]->connection);
    }
    g_assert_cmpuint(snapshot.count('H'), ==, 1);
    g_assert_cmpuint(snapshot.count('F'), ==, 4);
    g_assert_true(data_of(snapshot) == stream.packets);
    g_assert_cmpuint(snapshot.end_reasons().size(), ==, 1);
    client.stop();
}

/* Refused four times: delays 100, 200, 250 (cap) ms, then the budget (3 retries) is spent. */
void test_backoff_budget() {
    Receiver receiver;
    receiver.start();
    const push::ClientConfig config = config_for(receiver);
    receiver.stop(); /* nothing listens there now */

    ManualClock clock;
    Events events;
    push::Client client(&events, clock);
    g_assert_true(client.start(config).ok());
    const int64_t expected[] = {100000, 200000, 250000};
    for (int64_t delay : expected) {
        g_assert_cmpint(clock.wait_timer(), ==, delay);
        /* Nothing happens until the clock moves. */
        g_assert_cmpuint(events.count("connecting") + events.count("reconnecting"), ==,
                         events.count("attempt-failed"));
        clock.advance(delay);
        g_assert_true(events.wait("connecting", events.count("attempt-failed") + 1));
    }
    g_assert_true(events.wait("failed"));
    g_assert_cmpuint(events.count("connecting"), ==, 4);
    g_assert_cmpuint(events.count("attempt-failed"), ==, 3);
    g_assert_cmpuint(clock.pending(), ==, 0);
    const std::vector<push::Failure> failures = events.failures();
    g_assert_cmpuint(failures.size(), ==, 4);
    for (size_t i = 0; i < failures.size(); i++) {
        g_assert_cmpint(static_cast<int>(failures[i].error.code), ==,
                        static_cast<int>(Errc::ConnectionFailure));
        g_assert_cmpuint(failures[i].attempt, ==, i + 1);
        g_assert_cmpuint(failures[i].port, ==, receiver.port());
        g_assert_cmpstr(failures[i].io_domain.c_str(), ==, "g-io-error-quark");
    }
    g_assert_nonnull(strstr(failures.back().error.message.c_str(), "gave up after 4"));
    g_assert_true(client.failure().has_value());
    client.stop();
}

/* retries = −1: still retrying after many failures, at the cap. */
void test_backoff_forever() {
    Receiver receiver;
    receiver.start();
    push::ClientConfig config = config_for(receiver);
    config.retry.retries = -1;
    receiver.stop();

    ManualClock clock;
    Events events;
    push::Client client(&events, clock);
    g_assert_true(client.start(config).ok());
    for (int i = 0; i < 12; i++) {
        const int64_t delay = clock.wait_timer();
        g_assert_cmpint(delay, ==, i == 0 ? 100000 : i == 1 ? 200000 : 250000);
        clock.advance(delay);
        g_assert_true(events.wait("attempt-failed", static_cast<size_t>(i) + 2));
    }
    g_assert_cmpuint(events.count("failed"), ==, 0);
    client.stop();
}

/*
 * The server restarts while the client streams: a WARNING-worthy attempt
 * failure, a backoff, a PushSetup with the old push-id (refused: the
 * restarted server does not know it), one with push-id=0, $H again, and the
 * packets pushed during the outage delivered; nothing is lost or dropped.
 */
void test_restart() {
    const Stream stream = load_stream();
    Receiver receiver;
    const uint16_t port = receiver.start();
    ManualClock clock;
    Events events;
    push::Client client(&events, clock);
    start_streaming(client, config_for(receiver), stream);
    push_all(client, stream, 0, 10);
    g_assert_true(receiver.wait_for([](const Snapshot &s) { return s.count('D') == 10; }));
    const std::string first_id = receiver.snapshot().push_ids.at(0);

    receiver.stop(true);
    g_assert_true(events.wait("attempt-failed"));
    push_all(client, stream, 10, kPackets);
    receiver.start(port);
    clock.advance(clock.wait_timer());
    g_assert_true(events.wait("reconnected"));
    g_assert_true(client.end_session().ok());

    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    /* The first PushSetup, then after the restart the old push-id (refused) and a new one. */
    const auto setups = snapshot.setups();
    g_assert_cmpuint(setups.size(), ==, 3);
    g_assert_cmpstr(setups[1]->push_id.c_str(), ==, first_id.c_str());
    g_assert_cmpuint(setups[1]->answer, ==, 400);
    g_assert_cmpstr(setups[2]->push_id.c_str(), ==, "0");
    g_assert_cmpuint(setups[2]->answer, ==, 204);
    g_assert_cmpuint(snapshot.push_ids.size(), ==, 2);
    /* The header again in the new session, and every packet exactly once. */
    g_assert_cmpuint(snapshot.count('H'), ==, 2);
    g_assert_true(data_of(snapshot) == stream.packets);
    const push::ClientStats stats = client.stats();
    g_assert_cmpuint(stats.reconnects, ==, 1);
    g_assert_cmpuint(stats.packets_dropped, ==, 0);
    g_assert_cmpuint(stats.packets_sent, ==, kPackets);
    client.stop();
}

/* The connection drops but the server keeps its sessions: the same push-id is accepted. */
void test_resume_same_session() {
    const Stream stream = load_stream();
    Receiver receiver;
    receiver.start();
    ManualClock clock;
    Events events;
    push::Client client(&events, clock);
    start_streaming(client, config_for(receiver), stream);
    push_all(client, stream, 0, 5);
    g_assert_true(receiver.wait_for([](const Snapshot &s) { return s.count('D') == 5; }));
    receiver.drop_connections();
    g_assert_true(events.wait("attempt-failed"));
    clock.advance(clock.wait_timer());
    g_assert_true(events.wait("reconnected"));
    push_all(client, stream, 5, kPackets);
    g_assert_true(client.end_session().ok());

    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    g_assert_cmpuint(snapshot.push_ids.size(), ==, 1);
    const auto setups = snapshot.setups();
    g_assert_cmpuint(setups.size(), ==, 2);
    g_assert_cmpstr(setups[1]->push_id.c_str(), ==, snapshot.push_ids[0].c_str());
    g_assert_cmpuint(setups[1]->answer, ==, 204);
    /* The header is sent again after the reconnection. */
    g_assert_cmpuint(snapshot.count('H'), ==, 2);
    g_assert_true(data_of(snapshot) == stream.packets);
    client.stop();
}

/* ---- hostile servers ---- */

/* The message of the @index-th failure, or "" (printed, to read what the user would see). */
std::string failure_text(Events &events, size_t index) {
    const std::vector<push::Failure> failures = events.failures();
    if (index >= failures.size())
        return "";
    g_test_message("failure %zu: %s", index, failures[index].error.message.c_str());
    return failures[index].error.message;
}

bool contains(const std::string &text, const char *part) {
    return text.find(part) != std::string::npos;
}

/* Every PushSetup answered with @hostile; retries = 1: one WARNING-worthy attempt failure with
 * @expected in its message, then the final failure after the second attempt. */
void expect_hostile_budget(const pushtest::HostileAnswer &hostile, const char *expected,
                           int64_t timeout_us = 5 * G_USEC_PER_SEC) {
    Receiver receiver;
    receiver.start();
    pushtest::Options options;
    options.hostile = hostile;
    options.hostile_answers = -1;
    receiver.set_options(options);
    push::ClientConfig config = config_for(receiver);
    config.retry.retries = 1;
    config.timeout_us = timeout_us;
    ManualClock clock;
    Events events;
    push::Client client(&events, clock);
    g_assert_true(client.start(config).ok());
    g_assert_true(events.wait("attempt-failed"));
    g_assert_true(contains(failure_text(events, 0), expected));
    g_assert_cmpint(static_cast<int>(events.failures()[0].error.code), ==,
                    static_cast<int>(Errc::ConnectionFailure));
    clock.advance(clock.wait_timer());
    g_assert_true(events.wait("failed"));
    const std::string final_text = failure_text(events, 1);
    g_assert_true(contains(final_text, "gave up after 2 failed attempts"));
    g_assert_true(contains(final_text, expected));
    g_assert_cmpuint(events.count("connected"), ==, 0);
    g_assert_cmpint(receiver.snapshot().hostile_answers, ==, 2);
    client.stop();
}

/* A head that does not end within 16 KiB: refused at the cap, not read on. */
void test_hostile_oversized_head() {
    pushtest::HostileAnswer hostile;
    hostile.head = "HTTP/1.1 204 No Content\r\nServer: Cougar/9.01.01.3814\r\nX-Pad: ";
    hostile.filler = "0123456789abcdef";
    hostile.filler_bytes = 4 * 1024 * 1024;
    expect_hostile_budget(hostile, "sent a bad answer: answer head longer than 16384 bytes");
}

/* 200 header lines in 3 KiB: refused by the line cap. */
void test_hostile_many_lines() {
    pushtest::HostileAnswer hostile;
    hostile.head = "HTTP/1.1 204 No Content\r\nServer: Cougar/9.01.01.3814\r\n";
    hostile.filler = "X-Line: y\r\n";
    hostile.filler_bytes = 200 * hostile.filler.size();
    hostile.tail = "\r\n";
    expect_hostile_budget(hostile, "answer head of more than 100 lines");
}

/* A head trickled one byte every 2 ms, forever: the answer timeout (0.5 s) ends each attempt. */
void test_hostile_endless_trickle() {
    pushtest::HostileAnswer hostile;
    hostile.head = "HTTP/1.1 204 No Content\r\n";
    hostile.filler = "X-Slow: y\r\n";
    hostile.filler_bytes = UINT64_MAX;
    hostile.byte_interval_us = 2000;
    const gint64 start = g_get_monotonic_time();
    expect_hostile_budget(hostile, "did not answer the PushSetup within 0.5 s (",
                          G_USEC_PER_SEC / 2);
    /* Two attempts of 0.5 s each, not one that never ends. */
    const gint64 elapsed = g_get_monotonic_time() - start;
    g_assert_cmpint(elapsed, >=, G_USEC_PER_SEC);
    g_assert_cmpint(elapsed, <, 10 * G_USEC_PER_SEC);
}

/* More than 16 interim answers in a row, endlessly. */
void test_hostile_interim_flood() {
    pushtest::HostileAnswer hostile;
    hostile.filler = "HTTP/1.1 100 Continue\r\n\r\n";
    hostile.filler_bytes = UINT64_MAX;
    expect_hostile_budget(hostile, "more than 16 interim (1xx) answers in a row");
}

/*
 * Garbage status lines, each answered once: the attempt fails with the line quoted
 * (escaped), and the next attempt, answered properly, streams. Shoutcast's "ICY 200 OK"
 * is refused even with a Windows Media Server header (libsoup alone would take it).
 */
void test_hostile_status_lines() {
    const Stream stream = load_stream();
    struct Case {
        std::string head;
        const char *expected;
    };
    const Case cases[] = {
        {std::string("\x00\x01\xfe\xff\x16\x03\x01\r\n\r\n", 11),
         "not an HTTP/1.x response: status line '\\x00\\x01\\xfe\\xff\\x16\\x03\\x01'"},
        {"HTTP/1.1 abc\r\nServer: Cougar/9.01.01.3814\r\n\r\n",
         "malformed HTTP response: status line 'HTTP/1.1 abc'"},
        {"ICY 200 OK\r\nServer: Cougar/9.01.01.3814\r\nSet-Cookie: push-id=1\r\n\r\n",
         "not an HTTP/1.x response: status line 'ICY 200 OK'"},
        {"\r\n\r\n", "not an HTTP/1.x response: status line ''"},
    };
    for (const Case &c : cases) {
        Receiver receiver;
        receiver.start();
        pushtest::Options options;
        options.hostile.head = c.head;
        options.hostile_answers = 1;
        receiver.set_options(options);
        ManualClock clock;
        Events events;
        push::Client client(&events, clock);
        start_streaming(client, config_for(receiver), stream);
        g_assert_true(events.wait("attempt-failed"));
        const std::string text = failure_text(events, 0);
        g_assert_true(contains(text, " sent a bad answer: "));
        g_assert_true(contains(text, c.expected));
        /* Retried per the policy: the next PushSetup is answered properly. */
        clock.advance(clock.wait_timer());
        g_assert_true(events.wait("connected"));
        push_all(client, stream);
        g_assert_true(client.end_session().ok());
        const Snapshot snapshot = receiver.snapshot();
        assert_no_violations(snapshot);
        g_assert_true(data_of(snapshot) == stream.packets);
        client.stop();
    }
}

/*
 * A Set-Cookie of 10 MB, on every attempt (retries = 2): refused by the 16 KiB cap each time,
 * the budget is spent, and the process's peak resident memory grows by far less than the
 * cookie (the receiver writes it in 64 KiB pieces, so the peak is the client's).
 */
void test_hostile_huge_cookie() {
    constexpr uint64_t kCookieBytes = 10 * 1024 * 1024;
    Receiver receiver;
    receiver.start();
    pushtest::Options options;
    options.hostile.head = "HTTP/1.1 204 No Content\r\nServer: Cougar/9.01.01.3814\r\n"
                           "Set-Cookie: push-id=";
    options.hostile.filler = "1234567890";
    options.hostile.filler_bytes = kCookieBytes;
    options.hostile.tail = "\r\n\r\n";
    options.hostile_answers = -1;
    receiver.set_options(options);
    push::ClientConfig config = config_for(receiver);
    config.retry.retries = 2;
    ManualClock clock;
    Events events;
    push::Client client(&events, clock);

    const bool peak_reset = pushtest::reset_peak_rss();
    const int64_t before_kb = pushtest::proc_status_kb("VmRSS:");
    g_assert_true(client.start(config).ok());
    for (int i = 0; i < 2; i++) {
        g_assert_true(events.wait("attempt-failed", static_cast<size_t>(i) + 1));
        clock.advance(clock.wait_timer());
    }
    g_assert_true(events.wait("failed"));
    const int64_t peak_kb = pushtest::proc_status_kb("VmHWM:");
    for (size_t i = 0; i < 3; i++)
        g_assert_true(contains(failure_text(events, i), "answer head longer than 16384 bytes"));
    g_assert_true(contains(failure_text(events, 2), "gave up after 3 failed attempts"));
    g_assert_cmpint(receiver.snapshot().hostile_answers, ==, 3);
    client.stop();

    if (!peak_reset || before_kb < 0 || peak_kb < 0) {
        g_test_message("peak RSS not measurable here: memory bound not checked");
        return;
    }
    g_test_message("peak RSS %" G_GINT64_FORMAT " KiB over %" G_GINT64_FORMAT
                   " KiB before, 3 x 10 MiB cookies offered",
                   peak_kb - before_kb, before_kb);
    g_assert_cmpint(peak_kb - before_kb, <, 2048);
}

/*
 * The server accepts the PushStart and never reads its body, while 4 s of stream are pushed as
 * fast as the test can (the server is a stream ahead of any real one): writes stall, the write
 * timeout (1 s) fails the attempt and the client reconnects after the backoff; meanwhile it
 * holds at most max_buffer_time (2 s) of stream — at most
 * LongStream::max_packets_within(2000) packets — checked after every push, drops the rest and
 * reports them, and the process's peak memory stays within that bound plus what is being
 * written. The next connection gets the stream again from a key frame.
 */
void test_hostile_never_reads() {
    constexpr int64_t kMaxBufferUs = 2 * G_USEC_PER_SEC;
    const pushtest::LongStream stream;
    const size_t bound_packets = stream.max_packets_within(kMaxBufferUs / 1000);
    const uint64_t bound_bytes = bound_packets * pushtest::LongStream::kPacketSize;
    Receiver receiver;
    receiver.start();
    pushtest::Options options;
    options.stalled_bodies = 1;
    receiver.set_options(options);
    push::ClientConfig config = config_for(receiver);
    config.timeout_us = G_USEC_PER_SEC;
    config.max_buffer_time_us = kMaxBufferUs;
    ManualClock clock;
    Events events;
    push::Client client(&events, clock);

    const bool peak_reset = pushtest::reset_peak_rss();
    const int64_t before_kb = pushtest::proc_status_kb("VmRSS:");
    g_assert_true(client.start(config).ok());
    g_assert_true(client.set_header(stream.header().data(), stream.header().size()).ok());
    uint64_t pushed = 0;
    uint64_t dropped = 0;
    uint64_t most_buffered = 0;
    const auto push_one = [&] {
        const Bytes packet = stream.packet(pushed++);
        auto result = client.push_packet(packet.data(), packet.size());
        g_assert_true(result.ok());
        dropped += *result;
        const push::ClientStats stats = client.stats();
        g_assert_cmpuint(stats.buffered_packets, <=, bound_packets);
        g_assert_cmpuint(stats.buffered_bytes, <=, bound_bytes);
        g_assert_cmpuint(stats.buffered_packets, ==,
                         pushed - stats.packets_sent - stats.packets_dropped);
        most_buffered = std::max<uint64_t>(most_buffered, stats.buffered_bytes);
    };
    g_assert_true(receiver.wait_for([](const Snapshot &s) { return s.stalled == 1; }));
    /* Push until the write times out (bounded: 20 s at one packet per 0.5 ms). */
    const gint64 give_up = g_get_monotonic_time() + kWaitUs;
    while (events.count("attempt-failed") == 0 && g_get_monotonic_time() < give_up) {
        push_one();
        g_usleep(500);
    }
    g_assert_cmpuint(events.count("attempt-failed"), ==, 1);
    g_assert_true(contains(failure_text(events, 0), "accepted no data for 1 s"));
    /* The backoff (manual clock) keeps the client away while the stream goes on. */
    for (int i = 0; i < 500; i++)
        push_one();
    const int64_t peak_kb = pushtest::proc_status_kb("VmHWM:");
    const push::ClientStats stalled = client.stats();
    g_assert_cmpuint(stalled.packets_dropped, ==, dropped);
    g_assert_cmpuint(dropped, >, 0);
    g_assert_cmpuint(pushed * pushtest::LongStream::kPacketSize, >, 4 * bound_bytes);
    g_test_message("pushed %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT
                   " KiB), written before the stall %" G_GUINT64_FORMAT
                   ", dropped %" G_GUINT64_FORMAT ", most held %" G_GUINT64_FORMAT
                   " KiB (bound %" G_GUINT64_FORMAT " KiB = %zu packets)",
                   pushed, pushed * pushtest::LongStream::kPacketSize / 1024, stalled.packets_sent,
                   dropped, most_buffered / 1024, bound_bytes / 1024, bound_packets);

    /* Reconnection per the policy: the first retry delay, then the same session, $H again. */
    g_assert_cmpint(clock.wait_timer(), ==, config.retry.initial_delay_us);
    clock.advance(config.retry.initial_delay_us);
    g_assert_true(events.wait("reconnected"));
    /* From now on the server reads: each packet is written before the next is pushed. */
    const auto wait_written = [&] {
        const gint64 deadline = g_get_monotonic_time() + kWaitUs;
        while (client.stats().buffered_packets > 0 && g_get_monotonic_time() < deadline)
            g_usleep(1000);
        g_assert_cmpuint(client.stats().buffered_packets, ==, 0);
    };
    wait_written();
    const uint64_t resumed_from = pushed;
    for (int i = 0; i < 40; i++) {
        push_one();
        wait_written();
    }
    g_assert_true(client.end_session().ok());
    const push::ClientStats stats = client.stats();
    g_assert_cmpuint(stats.packets_sent + stats.packets_dropped, ==, pushed);
    g_assert_cmpuint(stats.buffered_packets, ==, 0);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    g_assert_cmpuint(snapshot.starts().size(), ==, 2);
    /* The second body: a contiguous run of the stream that begins at a key frame, ends with the
     * last packet, and holds what was buffered at the reconnection. */
    const std::vector<std::vector<Bytes>> runs = [&] {
        std::vector<std::vector<Bytes>> out;
        for (const pushtest::PacketRecord &packet : snapshot.packets) {
            if (packet.id == 'H')
                out.emplace_back();
            else if (packet.id == 'D')
                out.back().push_back(packet.payload);
        }
        return out;
    }();
    g_assert_cmpuint(runs.size(), ==, 1);
    const std::vector<Bytes> &run = runs[0];
    /* Everything written after the reconnection arrived: what was held, then the 40. */
    g_assert_cmpuint(run.size(), ==, stats.packets_sent - stalled.packets_sent);
    g_assert_cmpuint(run.size(), <=, bound_packets + 40);
    g_assert_cmpuint(stats.packets_dropped, ==, stalled.packets_dropped);
    const uint64_t first = pushed - run.size();
    g_assert_true(stream.key_frame_start(first));
    g_assert_cmpuint(first, <, resumed_from);
    for (size_t i = 0; i < run.size(); i++)
        g_assert_true(run[i] == stream.packet(first + i));
    client.stop();

    if (!peak_reset || before_kb < 0 || peak_kb < 0) {
        g_test_message("peak RSS not measurable here: memory bound not checked");
        return;
    }
    /* The held packets, the batch being written and the one framed next (64 KiB each at most),
     * plus 1 MiB for the allocator and the threads. */
    const int64_t allowed_kb = static_cast<int64_t>(bound_bytes / 1024) + 2 * 70 + 1024;
    g_test_message("peak RSS %" G_GINT64_FORMAT " KiB over %" G_GINT64_FORMAT
                   " KiB before (allowed %" G_GINT64_FORMAT " KiB)",
                   peak_kb - before_kb, before_kb, allowed_kb);
    g_assert_cmpint(peak_kb - before_kb, <, allowed_kb);
}

/* An untrusted certificate: fatal at once with the GTlsCertificateFlags; relaxing UNKNOWN_CA
 * (and only that) accepts the self-signed test certificate. */
void test_hostile_untrusted_certificate() {
    Receiver receiver(true);
    receiver.start();
    /* Both TLS ends run in this process: under ASan on a loaded machine a handshake takes
     * seconds, and a timed-out one would be an attempt failure, not the certificate's. */
    push::ClientConfig config = config_for(receiver);
    config.timeout_us = kWaitUs;
    Events events;
    push::Client client(&events);
    g_assert_true(client.start(config).ok());
    g_assert_true(events.wait("failed"));
    g_assert_cmpuint(events.count("attempt-failed"), ==, 0);
    const push::Failure failure = events.failures().at(0);
    g_assert_cmphex(failure.tls_errors, ==, G_TLS_CERTIFICATE_UNKNOWN_CA);
    g_assert_true(contains(failure_text(events, 0), "certificate problems: unknown-ca"));
    g_assert_cmpstr(failure.io_domain.c_str(), ==, "g-tls-error-quark");
    client.stop();

    const Stream stream = load_stream();
    Events relaxed_events;
    push::Client relaxed(&relaxed_events);
    config.tls_validation_flags =
        GTlsCertificateFlags(G_TLS_CERTIFICATE_VALIDATE_ALL & ~G_TLS_CERTIFICATE_UNKNOWN_CA);
    g_assert_true(relaxed.start(config).ok());
    g_assert_true(relaxed.set_header(stream.header.data(), stream.header.size()).ok());
    push_all(relaxed, stream);
    g_assert_true(relaxed.end_session().ok());
    g_assert_true(data_of(receiver.snapshot()) == stream.packets);
    relaxed.stop();
}

/* A server calling every nonce stale, for ever (the first answer too): each attempt renews the
 * nonce at most twice, then fails (E_ACCESSDENIED) and the next one waits for the backoff.
 * Before, the client asked again at once, in a tight loop. Counted over 1 s of real time with
 * the shortest backoff (100 ms): the first attempt sends 4 PushSetups, later ones 3. */
void test_hostile_stale_nonce_forever() {
    Receiver receiver;
    receiver.start();
    pushtest::Options options;
    options.hostile.head = "HTTP/1.1 401 Unauthorized\r\nServer: Cougar/9.01.01.3814\r\n"
                           "WWW-Authenticate: Digest realm=\"wm\", nonce=\"n1\", qop=\"auth\", "
                           "stale=true\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    options.hostile_answers = -1;
    receiver.set_options(options);
    push::ClientConfig config = config_for(receiver);
    config.session.credentials = {"encoder", "secret"};
    config.retry.retries = -1;
    config.retry.initial_delay_us = 0; /* taken as push::kMinRetryDelayUs */
    config.retry.max_delay_us = 0;
    Events events;
    push::Client client(&events);
    const gint64 start = g_get_monotonic_time();
    g_assert_true(client.start(config).ok());
    g_assert_true(events.wait("attempt-failed"));
    g_usleep(G_USEC_PER_SEC);
    client.stop();
    const gint64 elapsed = g_get_monotonic_time() - start;

    const size_t attempts = events.count("connecting") + events.count("reconnecting");
    const size_t requests = receiver.snapshot().setups().size();
    g_test_message("%zu PushSetups in %zu attempts in %.2f s", requests, attempts,
                   static_cast<double>(elapsed) / G_USEC_PER_SEC);
    g_assert_cmpuint(attempts, >=, 2);
    g_assert_cmpuint(attempts, <=, static_cast<size_t>(elapsed / push::kMinRetryDelayUs) + 1);
    g_assert_cmpuint(requests, <=, 4 + 3 * (attempts - 1));
    for (const int64_t delay : events.delays())
        g_assert_cmpint(delay, ==, push::kMinRetryDelayUs);
    const push::Failure failure = events.failures().at(0);
    g_assert_cmpint(static_cast<int>(failure.error.code), ==, static_cast<int>(Errc::AccessDenied));
    g_assert_cmpuint(failure.http_status, ==, 401);
    g_assert_true(contains(failure_text(events, 0), "stale=true 3 times"));
    g_assert_cmpuint(events.count("failed"), ==, 0);
}

/* retry-delay 0 (and max-retry-delay 0): every backoff is 100 ms, not 0 (a busy loop). */
void test_retry_delay_zero() {
    Receiver receiver;
    receiver.start();
    push::ClientConfig config = config_for(receiver);
    config.retry.retries = -1;
    config.retry.initial_delay_us = 0;
    config.retry.max_delay_us = 0;
    receiver.stop();

    ManualClock clock;
    Events events;
    push::Client client(&events, clock);
    g_assert_true(client.start(config).ok());
    for (size_t i = 1; i <= 4; i++) {
        g_assert_cmpint(clock.wait_timer(), ==, push::kMinRetryDelayUs);
        g_assert_cmpuint(events.count("attempt-failed"), ==, i);
        clock.advance(push::kMinRetryDelayUs);
        g_assert_true(events.wait("attempt-failed", i + 1));
    }
    client.stop();
}

/* The longest timeout the element accepts (2^63 − 1 ns): EndSession still waits (until
 * cancelled here), where the deadline used to overflow and it gave up at once. */
void test_longest_timeout() {
    const Stream stream = load_stream();
    Receiver receiver;
    receiver.start();
    push::ClientConfig config = config_for(receiver);
    config.timeout_us = INT64_MAX / 1000;
    config.max_buffer_time_us = INT64_MAX / 1000;
    config.retry.retries = -1;
    receiver.stop(); /* never set up: EndSession waits for the timeout */

    Events events;
    push::Client client(&events);
    start_streaming(client, config, stream);
    push_all(client, stream);
    std::thread canceller([&client] {
        g_usleep(300000);
        client.cancel();
    });
    const gint64 start = g_get_monotonic_time();
    const Status ended = client.end_session();
    const gint64 waited = g_get_monotonic_time() - start;
    canceller.join();
    g_assert_false(ended.ok());
    g_assert_cmpint(static_cast<int>(ended.error().code), ==, static_cast<int>(Errc::Failed));
    g_assert_cmpint(waited, >=, 250000);
    /* Nothing was dropped: the buffer time did not wrap to 0 either. */
    g_assert_cmpuint(client.stats().packets_dropped, ==, 0);
    client.stop();
}

/* @p header grown to @p total bytes by a Padding Object [ASF §3.12] before the Data Object. */
Bytes padded_header(const Bytes &header, size_t total) {
    const auto load = [&](size_t at, int width) {
        uint64_t value = 0;
        for (int i = width - 1; i >= 0; i--)
            value = value << 8 | header[at + static_cast<size_t>(i)];
        return value;
    };
    const auto store = [](Bytes &out, size_t at, int width, uint64_t value) {
        for (int i = 0; i < width; i++)
            out[at + static_cast<size_t>(i)] = static_cast<uint8_t>(value >> (8 * i));
    };
    static const uint8_t kPaddingGuid[16] = {0x74, 0xd4, 0x06, 0x18, 0xdf, 0xca, 0x09, 0x45,
                                             0xa4, 0xba, 0x9a, 0xab, 0xcb, 0x96, 0xaa, 0xe8};
    const size_t header_object = load(16, 8);
    const size_t padding = total - header.size();
    Bytes object(padding, 0);
    std::copy(kPaddingGuid, kPaddingGuid + 16, object.begin());
    store(object, 16, 8, padding);
    Bytes out(header.begin(), header.begin() + static_cast<ptrdiff_t>(header_object));
    out.insert(out.end(), object.begin(), object.end());
    out.insert(out.end(), header.begin() + static_cast<ptrdiff_t>(header_object), header.end());
    store(out, 16, 8, header_object + padding);
    store(out, 24, 4, load(24, 4) + 1);
    return out;
}

/* A header of 65,528–65,531 bytes fits $H but not $C: as the first header it is sent; as a
 * change it is refused by set_header(), before $E(1) announced it. */
void test_header_change_limit() {
    const Stream stream = load_stream();
    Receiver receiver;
    receiver.start();
    Events events;
    push::Client client(&events);
    start_streaming(client, config_for(receiver), stream);
    push_all(client, stream, 0, 10);
    for (const size_t size : {size_t{65528}, size_t{65531}}) {
        const Bytes big = padded_header(stream.header, size);
        const Status refused = client.set_header(big.data(), big.size());
        g_assert_false(refused.ok());
        g_assert_cmpint(static_cast<int>(refused.error().code), ==,
                        static_cast<int>(Errc::InvalidData));
        g_assert_true(contains(refused.error().message, "at most 65527 bytes"));
    }
    /* 65,527 bytes is a header change $C carries. */
    const Bytes largest = padded_header(stream.header, 65527);
    g_assert_true(client.set_header(largest.data(), largest.size()).ok());
    push_all(client, stream, 10, kPackets);
    g_assert_true(client.end_session().ok());
    Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    g_assert_true(data_of(snapshot) == stream.packets);
    g_assert_true(snapshot.end_reasons() == (std::vector<uint32_t>{1, 0}));
    g_assert_cmpuint(snapshot.count('C'), ==, 1);
    client.stop();

    /* The largest $H, as the first header. */
    Receiver second;
    second.start();
    push::Client fresh(&events);
    const Bytes first = padded_header(stream.header, 65531);
    g_assert_true(fresh.start(config_for(second)).ok());
    g_assert_true(fresh.set_header(first.data(), first.size()).ok());
    push_all(fresh, stream);
    g_assert_true(fresh.end_session().ok());
    snapshot = second.snapshot();
    assert_no_violations(snapshot);
    g_assert_cmpuint(snapshot.packets.front().payload.size(), ==, 65531);
    g_assert_true(data_of(snapshot) == stream.packets);
    fresh.stop();
}

void test_describe_tls_errors() {
    /* g_assert_cmpstr() keeps only the pointer: compare owned strings. */
    const std::string none = push::describe_tls_errors(GTlsCertificateFlags(0));
    g_assert_cmpstr(none.c_str(), ==, "none");
    const std::string two = push::describe_tls_errors(
        GTlsCertificateFlags(G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_EXPIRED));
    g_assert_cmpstr(two.c_str(), ==, "unknown-ca, expired");
    const std::string unknown = push::describe_tls_errors(GTlsCertificateFlags(0x1000));
    g_assert_cmpstr(unknown.c_str(), ==, "4096");
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/push-client/stream", test_stream);
    g_test_add_func("/push-client/filler", test_filler);
    g_test_add_func("/push-client/backoff-budget", test_backoff_budget);
    g_test_add_func("/push-client/backoff-forever", test_backoff_forever);
    g_test_add_func("/push-client/restart", test_restart);
    g_test_add_func("/push-client/resume-same-session", test_resume_same_session);
    g_test_add_func("/push-client/hostile/oversized-head", test_hostile_oversized_head);
    g_test_add_func("/push-client/hostile/many-lines", test_hostile_many_lines);
    g_test_add_func("/push-client/hostile/endless-trickle", test_hostile_endless_trickle);
    g_test_add_func("/push-client/hostile/interim-flood", test_hostile_interim_flood);
    g_test_add_func("/push-client/hostile/status-lines", test_hostile_status_lines);
    g_test_add_func("/push-client/hostile/huge-cookie", test_hostile_huge_cookie);
    g_test_add_func("/push-client/hostile/never-reads", test_hostile_never_reads);
    g_test_add_func("/push-client/hostile/untrusted-certificate",
                    test_hostile_untrusted_certificate);
    g_test_add_func("/push-client/hostile/describe-tls-errors", test_describe_tls_errors);
    g_test_add_func("/push-client/hostile/stale-nonce-forever", test_hostile_stale_nonce_forever);
    g_test_add_func("/push-client/retry-delay-zero", test_retry_delay_zero);
    g_test_add_func("/push-client/longest-timeout", test_longest_timeout);
    g_test_add_func("/push-client/header-change-limit", test_header_change_limit);
    return g_test_run();
}
