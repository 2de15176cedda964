/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The push client (lib/push-client) against the strict receiver, without
 * GStreamer: the whole MS-WMHTTP exchange, Length-Remaining with $F and
 * repeated PushStarts, and reconnection — the backoff delays and the retry
 * budget are read from a manual clock, so no test waits for a backoff.
 * Stream: tests/data/asfmux-wmv2.asf (451-byte header, 20 packets of 4800
 * bytes; key frames begin in packets 0, 7, 11 and 15).
 */
#include "manual-clock.h"
#include "push-client.h"
#include "receiver.h"

#include <glib.h>

#include <condition_variable>
#include <mutex>
#include <string>
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
    g_assert_true(client.start(config_for(receiver)).ok());
    g_assert_true(client.set_header(stream.header.data(), stream.header.size()).ok());
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
    g_assert_true(client.start(config).ok());
    g_assert_true(client.set_header(stream.header.data(), stream.header.size()).ok());
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
    g_assert_true(client.start(config_for(receiver)).ok());
    g_assert_true(client.set_header(stream.header.data(), stream.header.size()).ok());
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
    g_assert_true(client.start(config_for(receiver)).ok());
    g_assert_true(client.set_header(stream.header.data(), stream.header.size()).ok());
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

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/push-client/stream", test_stream);
    g_test_add_func("/push-client/filler", test_filler);
    g_test_add_func("/push-client/backoff-budget", test_backoff_budget);
    g_test_add_func("/push-client/backoff-forever", test_backoff_forever);
    g_test_add_func("/push-client/restart", test_restart);
    g_test_add_func("/push-client/resume-same-session", test_resume_same_session);
    return g_test_run();
}
