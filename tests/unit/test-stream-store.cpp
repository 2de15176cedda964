/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the stream store (lib/server/stream-store.h) on its own: no
 * socket, no thread, the time given by the test. Real asfmux output from
 * tests/data: asfmux-wmv2.asf holds 20 packets of 4800 bytes, and video key
 * frames begin in packets 0, 7, 11 and 15 (tests/data/README.md).
 *
 * A client is what a Connection keeps between fetches: its next sequence
 * number and whether it waits for a key frame. Packets are told apart by
 * their arrival time, which the tests set: packet n of a test arrives at
 * arrival(n).
 */
#include "proto/asf-filter.h"
#include "proto/asf.h"
#include "server/stream-store.h"
#include "test-data.h"

#include <glib.h>

#include <initializer_list>
#include <memory>
#include <vector>

using namespace wmstream;
using namespace wmstream::server;

namespace {

constexpr size_t kPacketSize = 4800; /* both files */

/** A header + packets file: its bytes and where the packets begin. */
struct AsfFile {
    std::vector<uint8_t> bytes;
    size_t header_size;

    const uint8_t *header() const { return bytes.data(); }
    std::vector<uint8_t> bytes_of_header() const {
        return std::vector<uint8_t>(bytes.begin(), bytes.begin() + std::ptrdiff_t(header_size));
    }
    size_t count() const { return (bytes.size() - header_size) / kPacketSize; }
    const uint8_t *packet(size_t i) const { return bytes.data() + header_size + i * kPacketSize; }
};

AsfFile load(const char *name) {
    AsfFile file{test::load_bytes(name), 0};
    auto info = proto::asf::parse_header(file.bytes.data(), file.bytes.size());
    g_assert_true(info.ok());
    g_assert_cmpuint(info->packet_size, ==, kPacketSize);
    file.header_size = info->total_size;
    return file;
}

const AsfFile &video() {
    static const AsfFile file = load("asfmux-wmv2.asf");
    return file;
}

const AsfFile &audio_video() {
    static const AsfFile file = load("asfmux-wmv2-wmav2.asf");
    return file;
}

/** Fetch everything there is in one call. */
constexpr size_t kAll = SIZE_MAX;

int64_t arrival(uint64_t n) {
    return 1000000 + int64_t(n) * 1000;
}

/** What a Connection keeps between fetches. */
struct Client {
    uint64_t next_seq = 0;
    bool need_key = false;
    int64_t start_lag = 0;
    std::vector<PacketRef> packets;

    Batch fetch(const StreamStore &store, size_t max_bytes = kAll) {
        return store.fetch(next_seq, need_key, start_lag, max_bytes, packets);
    }
    /** Which packets the last fetch returned, by arrival(). */
    std::vector<int64_t> arrivals() const {
        std::vector<int64_t> times;
        for (const PacketRef &packet : packets)
            times.push_back(packet->arrival_us);
        return times;
    }
};

/** A client that joins now, as a Connection does once it has the header. */
Client joining(const StreamStore &store) {
    Client client;
    client.next_seq = store.join_point();
    client.need_key = true;
    return client;
}

std::vector<int64_t> arrivals(std::initializer_list<uint64_t> ns) {
    std::vector<int64_t> times;
    for (uint64_t n : ns)
        times.push_back(arrival(n));
    return times;
}

void assert_arrivals(const Client &client, std::initializer_list<uint64_t> ns) {
    const std::vector<int64_t> got = client.arrivals();
    const std::vector<int64_t> want = arrivals(ns);
    g_assert_cmpuint(got.size(), ==, want.size());
    for (size_t i = 0; i < want.size(); ++i)
        g_assert_cmpint(got[i], ==, want[i]);
}

LagLimits limits(LagUnit unit, int64_t soft_max, int64_t max,
                 RecoverPolicy policy = RecoverPolicy::None) {
    return {unit, soft_max, max, policy};
}

/** A store (with the video header unless told otherwise) that is fed video packets: the n-th
 *  fed arrives at arrival(n). */
struct TestStore : StreamStore {
    uint64_t pushed = 0;

    explicit TestStore(const LagLimits &limits, bool header = true) : StreamStore(limits) {
        if (!header)
            return;
        auto due = set_header(video().header(), video().header_size);
        g_assert_true(due.ok());
        g_assert_true(*due == Due::Wake);
    }
    /** Push video packets @p indices (positions in the file). */
    void feed(std::initializer_list<size_t> indices) {
        for (size_t i : indices) {
            auto due = push(video().packet(i), kPacketSize, arrival(pushed++));
            g_assert_true(due.ok());
            g_assert_true(*due == Due::Flush);
        }
    }
    /** Push video packets first..last. */
    void feed_range(size_t first, size_t last) {
        for (size_t i = first; i <= last; ++i)
            feed({i});
    }
};

/* The fixture is what the tests below assume. */
void test_fixture_key_frames() {
    TestStore store(limits(LagUnit::Time, -1, -1));
    const proto::asf::HeaderInfo &header = store.header()->info;
    std::vector<size_t> keys;
    for (size_t i = 0; i < video().count(); ++i) {
        auto info = proto::asf::parse_packet(video().packet(i), kPacketSize, header);
        g_assert_true(info.ok());
        if (info->key_frame_start)
            keys.push_back(i);
    }
    g_assert_cmpuint(video().count(), ==, 20);
    g_assert_true(keys == std::vector<size_t>({0, 7, 11, 15}));
    g_assert_cmpuint(audio_video().count(), ==, 12);
}

/* A client joins at the newest key frame; the first packet after the header has send time 0. */
void test_join_at_key_frame() {
    TestStore store(limits(LagUnit::Time, -1, -1));
    store.feed_range(0, 9); /* keys at 0 and 7 */
    g_assert_cmpuint(store.join_point(), ==, 7);

    Client client = joining(store);
    Batch batch = client.fetch(store);
    assert_arrivals(client, {7, 8, 9});
    g_assert_true(batch.joined);
    g_assert_false(batch.skipped);
    g_assert_false(batch.too_slow);
    g_assert_false(batch.end_of_stream);
    g_assert_false(client.need_key);
    g_assert_cmpuint(client.next_seq, ==, 10);
    g_assert_true(client.packets[0]->key_frame_start);
    g_assert_cmpint(batch.lag_us, ==, 0);

    /* The next fetch continues where it left off, not joined. */
    store.feed({10, 11});
    batch = client.fetch(store);
    assert_arrivals(client, {10, 11});
    g_assert_false(batch.joined);

    /* A client that joined from the first packet sees rebased times from 0. */
    TestStore fresh(limits(LagUnit::Time, -1, -1));
    fresh.feed({0, 1});
    Client from_start = joining(fresh);
    from_start.fetch(fresh);
    g_assert_cmpuint(from_start.packets.size(), ==, 2);
    g_assert_cmpuint(from_start.packets[0]->send_time_ms, ==, 0);
}

/* Packets are fetched until they make max_bytes or more; lag_us says how far behind the
 * client's next packet is. */
void test_fetch_in_batches() {
    TestStore store(limits(LagUnit::Time, -1, -1));
    store.feed_range(0, 5);
    Client client = joining(store);
    Batch batch = client.fetch(store, 2 * kPacketSize);
    assert_arrivals(client, {0, 1});
    g_assert_true(batch.joined);
    g_assert_cmpint(batch.lag_us, ==, arrival(5) - arrival(2));
    batch = client.fetch(store, kPacketSize + 1);
    assert_arrivals(client, {2, 3});
    g_assert_false(batch.joined);
    g_assert_cmpint(batch.lag_us, ==, arrival(5) - arrival(4));
    batch = client.fetch(store, kAll);
    assert_arrivals(client, {4, 5});
    g_assert_cmpint(batch.lag_us, ==, 0);
    batch = client.fetch(store);
    g_assert_cmpuint(client.packets.size(), ==, 0);
}

/* A joining client skips what comes before the next key frame and waits while none came. */
void test_need_key_waits_for_key_frame() {
    TestStore store(limits(LagUnit::Time, -1, -1));
    store.feed_range(1, 6);                      /* no key frame */
    g_assert_cmpuint(store.join_point(), ==, 6); /* the end: wait */
    Client client = joining(store);
    Batch batch = client.fetch(store);
    g_assert_cmpuint(client.packets.size(), ==, 0);
    g_assert_true(client.need_key);
    g_assert_false(batch.joined);
    store.feed({8, 9, 7, 8}); /* pushed 6 and 7 are no key frames, 8 is */
    batch = client.fetch(store);
    assert_arrivals(client, {8, 9});
    g_assert_true(batch.joined);
    g_assert_false(client.need_key);
}

/* A client that came before the first header waits for it: no header, no packets; then it
 * joins at the first key frame. */
void test_client_before_first_header() {
    TestStore store(limits(LagUnit::Time, -1, -1), false);
    g_assert_null(store.header().get());
    g_assert_cmpuint(store.header_generation(), ==, 0);
    auto refused = store.push(video().packet(0), kPacketSize, arrival(0));
    g_assert_false(refused.ok());
    g_assert_true(refused.error().code == Errc::InvalidData);
    g_assert_cmpuint(store.join_point(), ==, 0);

    auto due = store.set_header(video().header(), video().header_size);
    g_assert_true(due.ok());
    g_assert_true(*due == Due::Wake);
    g_assert_nonnull(store.header().get());
    g_assert_cmpuint(store.header_generation(), ==, 1);
    g_assert_cmpuint(store.header()->raw.size(), ==, video().header_size);
    Client client = joining(store);
    g_assert_cmpuint(client.next_seq, ==, 0);
    store.feed_range(5, 8); /* 7 is the first key frame */
    Batch batch = client.fetch(store);
    assert_arrivals(client, {2, 3});
    g_assert_true(batch.joined);
}

/* The same header again changes nothing; another one starts a new generation with an empty
 * log and a new time base, and a client behind waits for its first key frame. */
void test_header_change() {
    TestStore store(limits(LagUnit::Packets, -1, -1));
    store.feed_range(0, 9);
    Client behind = joining(store);
    behind.next_seq = 3;
    behind.need_key = false;

    auto same = store.set_header(video().header(), video().header_size);
    g_assert_true(same.ok());
    g_assert_true(*same == Due::Nothing);
    g_assert_cmpuint(store.header_generation(), ==, 1);
    g_assert_cmpuint(store.join_point(), ==, 7);

    const StreamHeaderRef old_header = store.header();
    auto changed = store.set_header(audio_video().header(), audio_video().header_size);
    g_assert_true(changed.ok());
    g_assert_true(*changed == Due::Wake);
    g_assert_cmpuint(store.header_generation(), ==, 2);
    g_assert_cmpuint(store.header()->generation, ==, 2);
    g_assert_cmpuint(store.header()->raw.size(), ==, audio_video().header_size);
    g_assert_cmpuint(old_header->generation, ==, 1); /* the old one is left as it was */
    g_assert_cmpuint(store.join_point(), ==, 10);    /* the old packets are gone */

    /* A Connection that sees the new generation waits for a key frame. */
    behind.need_key = true;
    Batch batch = behind.fetch(store);
    g_assert_false(batch.too_slow);
    g_assert_cmpuint(behind.packets.size(), ==, 0);
    g_assert_cmpuint(behind.next_seq, ==, 10);

    /* The new stream's packets, rebased from its own first packet (video key frames begin in
     * its packets 0, 3, 6 and 8). */
    for (size_t i : {3, 4})
        g_assert_true(
            store.push(audio_video().packet(i), kPacketSize, arrival(store.pushed++)).ok());
    batch = behind.fetch(store);
    assert_arrivals(behind, {10, 11});
    g_assert_true(batch.joined);
    g_assert_cmpuint(behind.packets[0]->send_time_ms, ==, 0);

    /* A corrupt (short) packet is refused, and nothing is stored. */
    g_assert_false(
        store.push(audio_video().packet(5), kPacketSize - 1, arrival(store.pushed)).ok());
    behind.fetch(store);
    g_assert_cmpuint(behind.packets.size(), ==, 0);
}

/* End of stream: a client learns it once it has fetched everything; a new packet or a reset
 * ends it. */
void test_end_of_stream() {
    TestStore store(limits(LagUnit::Time, -1, -1));
    store.feed_range(0, 3);
    Client client = joining(store);
    g_assert_true(store.end_of_stream() == Due::Wake);
    Batch batch = client.fetch(store, 2 * kPacketSize);
    assert_arrivals(client, {0, 1});
    g_assert_false(batch.end_of_stream);
    batch = client.fetch(store, 2 * kPacketSize);
    assert_arrivals(client, {2, 3});
    g_assert_true(batch.end_of_stream);

    /* A client still waiting for a key frame has nothing more to wait for either. */
    store.feed({1}); /* 4: no key frame */
    g_assert_true(store.end_of_stream() == Due::Wake);
    Client waiting;
    waiting.next_seq = 4;
    waiting.need_key = true;
    batch = waiting.fetch(store);
    g_assert_cmpuint(waiting.packets.size(), ==, 0);
    g_assert_true(waiting.need_key);
    g_assert_true(batch.end_of_stream);

    store.feed({2});
    batch = client.fetch(store);
    assert_arrivals(client, {4, 5});
    g_assert_false(batch.end_of_stream);

    g_assert_true(store.end_of_stream() == Due::Wake);
    g_assert_true(store.reset() == Due::Wake);
    batch = client.fetch(store);
    g_assert_false(batch.end_of_stream);
}

/* A reset (flush) forgets the packets and the time base; the header stays. */
void test_reset() {
    TestStore store(limits(LagUnit::Time, -1, -1));
    store.feed_range(0, 8);
    Client client = joining(store);
    client.fetch(store);
    assert_arrivals(client, {7, 8});

    g_assert_true(store.reset() == Due::Wake);
    g_assert_cmpuint(store.header_generation(), ==, 1);
    g_assert_cmpuint(store.join_point(), ==, 9);
    store.feed({11, 12});
    Client joined_after = joining(store);
    joined_after.fetch(store);
    assert_arrivals(joined_after, {9, 10});
    g_assert_cmpuint(joined_after.packets[0]->send_time_ms, ==, 0);
    /* A client that had everything goes on with the next packet; one whose next packet was
     * forgotten is too slow. */
    Batch batch = client.fetch(store);
    assert_arrivals(client, {9, 10});
    g_assert_false(batch.too_slow);
    Client behind;
    behind.next_seq = 8;
    g_assert_true(behind.fetch(store).too_slow);

    /* clear() forgets the header too: new clients wait for the next one. */
    store.clear();
    g_assert_null(store.header().get());
    g_assert_cmpuint(store.header_generation(), ==, 0);
    g_assert_false(store.push(video().packet(0), kPacketSize, arrival(store.pushed)).ok());
}

/*
 * The recover policies: a client far behind, past the soft limit, moves on.
 * 20 packets (keys 0, 7, 11, 15), unit packets, soft limit 10, no hard
 * limit; the client's next packet is 2 (18 behind). None stays at 2,
 * Latest goes to 19, KeyFrame to the newest key frame (15), SoftLimit to
 * the oldest key frame within the soft limit (11, 9 behind; 7 is 13).
 */
void check_recover(RecoverPolicy policy, uint64_t expected_first, bool skipped, bool joined) {
    TestStore store(limits(LagUnit::Packets, 10, -1, policy));
    store.feed_range(0, 19);

    Client within;
    within.next_seq = 10; /* 10 behind: at the limit, not past it */
    Batch batch = within.fetch(store, kPacketSize);
    assert_arrivals(within, {10});
    g_assert_false(batch.skipped);

    Client behind;
    behind.next_seq = 2;
    batch = behind.fetch(store, kPacketSize);
    g_assert_cmpuint(behind.packets.size(), ==, 1);
    g_assert_cmpint(behind.packets[0]->arrival_us, ==, arrival(expected_first));
    g_assert_cmpuint(behind.next_seq, ==, expected_first + 1);
    g_assert_true(batch.skipped == skipped);
    g_assert_true(batch.joined == joined);
    g_assert_false(batch.too_slow);
}

void test_recover_none() {
    check_recover(RecoverPolicy::None, 2, false, false);
}

void test_recover_latest() {
    check_recover(RecoverPolicy::Latest, 19, true, false);
}

void test_recover_key_frame() {
    check_recover(RecoverPolicy::KeyFrame, 15, true, true);
}

void test_recover_soft_limit() {
    check_recover(RecoverPolicy::SoftLimit, 11, true, true);
}

/* A client that receives some of the video streams (MS-WMSP §3.2.5.6) joins, and after falling
 * behind resumes, where a key frame of its own video starts: a join and KeyFrame at the newest,
 * SoftLimit at the oldest within the limit; not where only another rendition's begins (its
 * picture would start mid-GOP there, or it would wait for its own next one). The
 * multiple-bit-rate recording: video streams 1-3, audio 4; the stream chosen is one whose newest
 * key frame is not the newest key-frame start. */
void test_own_key_frames() {
    const AsfFile mbr = load("asfmux-mbr.asf");
    const auto filled = [&](RecoverPolicy policy, int64_t soft_max) {
        auto store =
            std::make_unique<TestStore>(limits(LagUnit::Packets, soft_max, -1, policy), false);
        g_assert_true(store->set_header(mbr.header(), mbr.header_size).ok());
        for (size_t i = 0; i < mbr.count(); ++i)
            g_assert_true(store->push(mbr.packet(i), kPacketSize, arrival(i)).ok());
        return store;
    };
    Client all;
    all.fetch(*filled(RecoverPolicy::None, -1));
    const std::vector<PacketRef> &log = all.packets;
    g_assert_cmpuint(log.size(), ==, mbr.count());
    const auto newest = [&](const std::bitset<128> *streams) {
        for (size_t i = log.size(); i-- > 0;)
            if (log[i]->key_frame_start &&
                (!streams || (log[i]->key_frame_streams & *streams).any()))
                return log[i]->seq;
        return UINT64_MAX;
    };
    std::bitset<128> own;
    for (unsigned video = 1; video <= 3 && own.none(); ++video) {
        own.set(video);
        if (newest(&own) == newest(nullptr) || newest(&own) == UINT64_MAX)
            own.reset();
    }
    g_assert_true(own.any());
    const uint64_t soft_max = mbr.count() / 2;
    /* A joiner (no fast start here) starts at its own newest key frame. */
    g_assert_cmpuint(filled(RecoverPolicy::None, -1)->join_point(&own), ==, newest(&own));
    g_assert_cmpuint(filled(RecoverPolicy::None, -1)->join_point(), ==, newest(nullptr));

    std::unique_ptr<TestStore> store = filled(RecoverPolicy::KeyFrame, int64_t(soft_max));
    Client client;
    Batch batch = store->fetch(client.next_seq, client.need_key, client.start_lag, kPacketSize,
                               client.packets, &own);
    g_assert_true(batch.skipped && batch.joined);
    g_assert_cmpuint(client.packets.at(0)->seq, ==, newest(&own));

    store = filled(RecoverPolicy::SoftLimit, int64_t(soft_max));
    Client soft;
    batch =
        store->fetch(soft.next_seq, soft.need_key, soft.start_lag, kPacketSize, soft.packets, &own);
    g_assert_true(batch.skipped && batch.joined);
    const PacketRef &first = soft.packets.at(0);
    g_assert_true((first->key_frame_streams & own).any());
    g_assert_cmpuint(log.size() - first->seq, <=, soft_max);
    for (uint64_t seq = log.size() - soft_max; seq < first->seq; ++seq)
        g_assert_false((log[seq]->key_frame_streams & own).any());

    /* Within a limit that holds another rendition's key frame but none of its own, SoftLimit
     * leaves it where it is. */
    const uint64_t tight = log.size() - newest(nullptr);
    store = filled(RecoverPolicy::SoftLimit, int64_t(tight));
    Client stays;
    batch = store->fetch(stays.next_seq, stays.need_key, stays.start_lag, kPacketSize,
                         stays.packets, &own);
    g_assert_false(batch.skipped);
    g_assert_cmpuint(stays.packets.at(0)->seq, ==, 0);
}

/* No policy moves a client backwards or to nowhere: past the soft limit but after the newest
 * key frame, KeyFrame and SoftLimit leave it where it is; Latest still moves it on. */
void test_recover_never_backwards() {
    for (RecoverPolicy policy : {RecoverPolicy::KeyFrame, RecoverPolicy::SoftLimit}) {
        TestStore store(limits(LagUnit::Packets, 10, -1, policy));
        store.feed_range(0, 19);
        store.feed_range(1, 6); /* 20..25: no key frame; the newest is 15 */
        Client client;
        client.next_seq = 16; /* 10 behind */
        store.feed({16});     /* now 11 */
        Batch batch = client.fetch(store, kPacketSize);
        assert_arrivals(client, {16});
        g_assert_false(batch.skipped);
    }
    TestStore store(limits(LagUnit::Packets, 10, -1, RecoverPolicy::Latest));
    store.feed_range(0, 19);
    store.feed_range(1, 7);
    Client client;
    client.next_seq = 16;
    Batch batch = client.fetch(store, kPacketSize);
    assert_arrivals(client, {26});
    g_assert_true(batch.skipped);
    g_assert_true(batch.joined); /* 26 is video packet 7, a key frame */
}

/* The soft limit in bytes and in time moves the same client at other boundaries. */
void test_recover_soft_limit_units() {
    TestStore bytes(limits(LagUnit::Bytes, 9 * kPacketSize, -1, RecoverPolicy::SoftLimit));
    bytes.feed_range(0, 19);
    Client client;
    client.next_seq = 2;
    client.fetch(bytes, kPacketSize);
    /* 11 is 9 packets (43,200 bytes) from the end, within; 7 is 13. */
    assert_arrivals(client, {11});

    TestStore time(limits(LagUnit::Time, arrival(19) - arrival(12), -1, RecoverPolicy::SoftLimit));
    time.feed_range(0, 19);
    client = Client();
    client.next_seq = 2;
    client.fetch(time, kPacketSize);
    /* Time is measured to the newest packet (19): 11 is 8 ms behind, past 7 ms; 15 is 4. */
    assert_arrivals(client, {15});
}

/*
 * The hard limit in each unit: a client further behind than max is too slow
 * (and gets nothing). 20 packets with a key frame only at the first, so the
 * log keeps all of them; arrival 1 ms apart.
 */
struct HardLimitCase {
    LagUnit unit;
    int64_t max;
    uint64_t last_kept; /* the oldest next packet still within max */
};

void check_hard_limit(const HardLimitCase &c) {
    TestStore store(limits(c.unit, -1, c.max, RecoverPolicy::KeyFrame));
    store.feed({0});
    for (int i = 0; i < 3; ++i)
        store.feed_range(1, 6); /* then 18 without one */
    Client within;
    within.next_seq = c.last_kept;
    Batch batch = within.fetch(store, kPacketSize);
    g_assert_false(batch.too_slow);
    assert_arrivals(within, {c.last_kept});

    Client past;
    past.next_seq = c.last_kept - 1;
    batch = past.fetch(store, kPacketSize);
    g_assert_true(batch.too_slow);
    g_assert_cmpuint(past.packets.size(), ==, 0);
    g_assert_cmpuint(past.next_seq, ==, c.last_kept - 1);

    /* Waiting for a key frame is not being behind: it goes to the end and waits. */
    Client joining_late;
    joining_late.next_seq = 1;
    joining_late.need_key = true;
    batch = joining_late.fetch(store);
    g_assert_false(batch.too_slow);
    g_assert_true(joining_late.need_key);
    g_assert_cmpuint(joining_late.next_seq, ==, 19);
}

/* At most 5 packets: 14 is 5 from the end (19), 13 is 6. */
void test_hard_limit_packets() {
    check_hard_limit({LagUnit::Packets, 5, 14});
}

/* At most 23,999 bytes: 15 is 4 packets (19,200 bytes) from the end, 14 is 24,000. */
void test_hard_limit_bytes() {
    check_hard_limit({LagUnit::Bytes, 5 * kPacketSize - 1, 15});
}

/* At most 5 ms, measured to the newest packet (18): 13 is 5 ms behind it, 12 is 6. */
void test_hard_limit_time() {
    check_hard_limit({LagUnit::Time, 5000, 13});
}

/* The hard limit is also how much is kept: older packets are dropped (but never the newest
 * key frame), and a client whose next packet is gone is too slow even without a lag over max;
 * without a limit nothing is dropped. set_limits() applies from the next push. */
void test_hard_limit_trims() {
    TestStore store(limits(LagUnit::Packets, -1, 4));
    store.feed_range(0, 12); /* keys 0, 7, 11 */
    Client gone;
    gone.next_seq = 7;
    g_assert_true(gone.fetch(store).too_slow);
    Client kept;
    kept.next_seq = 9;
    kept.fetch(store);
    assert_arrivals(kept, {9, 10, 11, 12});

    /* Without a key frame since 11, 11 stays however far behind it falls. */
    store.feed_range(1, 6); /* 13..18 */
    g_assert_cmpuint(store.join_point(), ==, 11);
    Client joining_now = joining(store);
    Batch batch = joining_now.fetch(store, kPacketSize);
    assert_arrivals(joining_now, {11});
    g_assert_true(batch.joined);

    Client behind;
    behind.next_seq = 12; /* 7 behind, in the log */
    g_assert_true(behind.fetch(store, kPacketSize).too_slow);
    store.set_limits(limits(LagUnit::Packets, -1, -1));
    batch = behind.fetch(store, kPacketSize);
    g_assert_false(batch.too_slow);
    assert_arrivals(behind, {12});
}

/* What the hard limit keeps, in its unit: the packets within max of the end and everything
 * from the newest key frame on. A client that waits for a key frame starts at the oldest one
 * kept. */
void test_hard_limit_keeps() {
    TestStore store(limits(LagUnit::Bytes, -1, 4 * kPacketSize));
    store.feed({0, 1, 2, 3, 4, 5, 6, 1, 2, 7, 8, 9, 10, 11}); /* keys at 0, 9 and 13 */
    /* 9 is 5 packets (24,000 bytes) from the end: dropped; 10 is 4 (19,200): kept. */
    Client within;
    within.next_seq = 10;
    within.fetch(store, kPacketSize);
    assert_arrivals(within, {10});
    Client waiting;
    waiting.need_key = true;
    Batch batch = waiting.fetch(store, kPacketSize);
    assert_arrivals(waiting, {13});
    g_assert_true(batch.joined);
}

/*
 * Fast start: a joiner starts at the newest key frame at least fast_start_ms
 * (send time) older than the newest packet, else at the oldest stored. The
 * video fixture's rebased send times: packet 19 at 1560 ms; key frames 15 at
 * 1160 (400 ms old), 11 at 760 (800), 7 at 320 (1240), 0 at 0 (1560).
 */
void test_fast_start_join_point() {
    TestStore store(limits(LagUnit::Time, -1, -1));
    store.feed_range(0, 19);
    const struct {
        int64_t fast_start_ms;
        uint64_t join;
    } cases[] = {{0, 15},  {400, 15}, {401, 11}, {800, 11},
                 {801, 7}, {1240, 7}, {1241, 0}, {1561, 0}};
    for (const auto &c : cases) {
        store.set_startup({c.fast_start_ms, -1});
        g_assert_cmpuint(store.join_point(), ==, c.join);
    }
    /* The joiner gets everything from there in its first fetch, which is its join. */
    store.set_startup({800, -1});
    Client client = joining(store);
    Batch batch = client.fetch(store);
    g_assert_true(batch.joined);
    assert_arrivals(client, {11, 12, 13, 14, 15, 16, 17, 18, 19});
    g_assert_cmpuint(client.packets[0]->send_time_ms, ==, 760);
    /* How far behind live it began: packet 11 arrived 8 packets (1 ms each) before 19. */
    g_assert_cmpint(batch.join_lag_us, ==, arrival(19) - arrival(11));

    /* Automatic (-1): the served preroll + kFastStartMarginMs. With the muxer's 5000 ms
     * that is more than is stored: the oldest key frame. With a served preroll of 0,
     * 1200 ms: key frame 7 (1240 ms old). */
    store.set_startup({-1, -1});
    g_assert_cmpuint(store.join_point(), ==, 0);
    TestStore served(limits(LagUnit::Time, -1, -1), false);
    served.set_startup({-1, 0});
    g_assert_true(served.set_header(video().header(), video().header_size).ok());
    served.feed_range(0, 19);
    g_assert_cmpuint(served.join_point(), ==, 7);
}

/*
 * A fast-start join point is never past the soft limit, which bounds fast
 * start, and the soft limit counts from where a client's stream began: a
 * joiner is not moved forward for the distance it was started behind live.
 * Unit packets, soft limit 10: key frame 7 is 13 packets behind 19, 11 is 9.
 */
void test_fast_start_within_soft_limit() {
    TestStore store(limits(LagUnit::Packets, 10, -1, RecoverPolicy::KeyFrame));
    store.feed_range(0, 19);
    store.set_startup({1240, -1}); /* 7 without the soft limit */
    g_assert_cmpuint(store.join_point(), ==, 11);
    Client client = joining(store);
    for (;;) {
        Batch batch = client.fetch(store, kPacketSize);
        if (client.packets.empty())
            break;
        g_assert_false(batch.skipped);
    }
    g_assert_cmpuint(client.next_seq, ==, 20);

    /* A client whose stream began 9 behind (at 0 of 0..8; soft limit 3) keeps that
     * distance; it is moved (to the newest key frame) once it falls 3 more behind. */
    TestStore early_store(limits(LagUnit::Packets, 3, -1, RecoverPolicy::KeyFrame));
    early_store.feed_range(0, 8);
    Client early;
    early.need_key = true;
    early.fetch(early_store, kPacketSize);
    assert_arrivals(early, {0});
    g_assert_cmpint(early.start_lag, ==, 9);
    early_store.feed_range(9, 11);
    g_assert_false(early.fetch(early_store, kPacketSize).skipped); /* 1: 11 behind, 9 + 2 */
    assert_arrivals(early, {1});
    early_store.feed_range(12, 14);
    g_assert_true(early.fetch(early_store, kPacketSize).skipped); /* 2: 13 behind, 9 + 4 */
    assert_arrivals(early, {11});

    /* In time: at most 7 ms behind 19 (1 ms apart) leaves 15 of 7, 11 and 15. */
    TestStore time(limits(LagUnit::Time, arrival(19) - arrival(12), -1, RecoverPolicy::KeyFrame));
    time.feed_range(0, 19);
    time.set_startup({1240, -1});
    g_assert_cmpuint(time.join_point(), ==, 15);

    /* Without a soft limit, what was asked; with no key frame within it, the newest. */
    store.set_limits(limits(LagUnit::Packets, -1, -1));
    g_assert_cmpuint(store.join_point(), ==, 7);
    store.set_limits(limits(LagUnit::Packets, 3, -1, RecoverPolicy::KeyFrame));
    g_assert_cmpuint(store.join_point(), ==, 15); /* 4 behind */
}

/* The served header's preroll is the policy's, or the muxer's for -1 (the video fixture's:
 * 5000 ms); the packets' presentation times keep that distance to their send times. */
void test_preroll() {
    for (int64_t preroll_ms : {int64_t(-1), int64_t(1000), int64_t(0)}) {
        TestStore store(limits(LagUnit::Time, -1, -1), false);
        store.set_startup({0, preroll_ms});
        auto due = store.set_header(video().header(), video().header_size);
        g_assert_true(due.ok());
        const uint64_t served = preroll_ms < 0 ? 5000 : uint64_t(preroll_ms);
        const StreamHeaderRef header = store.header();
        g_assert_cmpuint(header->info.preroll_ms, ==, served);
        auto parsed = proto::asf::parse_header(header->raw.data(), header->raw.size());
        g_assert_true(parsed.ok());
        g_assert_cmpuint(parsed->preroll_ms, ==, served);
        g_assert_true((header->raw == video().bytes_of_header()) == (preroll_ms < 0));

        store.feed({0, 3, 4});
        Client client = joining(store);
        client.fetch(store);
        g_assert_cmpuint(client.packets.size(), ==, 3);
        for (const PacketRef &packet : client.packets) {
            auto info =
                proto::asf::parse_packet(packet->data.data(), packet->data.size(), header->info);
            g_assert_true(info.ok());
            g_assert_cmpuint(*info->first_presentation_ms - info->send_time_ms, ==, served);
        }
    }
}

/* The packet asfmux fills at EOS (the fixture's last) says only its payloads' bytes in its
 * Packet Length: the store serves it, like every other packet, with the packet size there. */
void test_packet_length_completed() {
    TestStore store(limits(LagUnit::Time, -1, -1));
    const size_t last = video().count() - 1;
    std::vector<uint8_t> fed(video().packet(last), video().packet(last) + kPacketSize);
    auto short_length =
        proto::asf::complete_packet_length(fed.data(), fed.size(), store.header()->info);
    g_assert_true(short_length.ok() && *short_length);

    store.feed_range(0, last);
    Client client;
    client.fetch(store);
    g_assert_cmpuint(client.packets.size(), ==, last + 1);
    for (const PacketRef &packet : client.packets) {
        std::vector<uint8_t> served = packet->data;
        auto again =
            proto::asf::complete_packet_length(served.data(), served.size(), store.header()->info);
        g_assert_true(again.ok() && !*again);
    }
}

/* Issue 13: the runs of a watched selection (server/selection-runs.h) are published on their
 * first packets, follow each other without overlapping, and hold what a merger of the same
 * packets makes; at most SelectionRuns::kMaxSelections selections are watched, and once the
 * last watch is gone, new packets carry no run. */
void test_selection_runs() {
    const AsfFile mbr = load("asfmux-mbr.asf");
    TestStore store(limits(LagUnit::Time, -1, -1), false);
    g_assert_true(store.set_header(mbr.header(), mbr.header_size).ok());
    const proto::asf::HeaderInfo &header = store.header()->info;
    proto::asf::StreamSelection low; /* the lowest rate and the audio */
    low.streams.set(1);
    low.streams.set(4);
    std::unique_ptr<SelectionWatch> watch = store.watch(low);
    g_assert_nonnull(watch.get());
    for (size_t i = 0; i < mbr.count(); ++i)
        g_assert_true(store.push(mbr.packet(i), kPacketSize, arrival(i)).ok());
    Client client;
    client.fetch(store);
    g_assert_cmpuint(client.packets.size(), ==, mbr.count());
    size_t runs = 0;
    uint64_t covered = 0; /* one past the last run's last packet */
    for (size_t i = 0; i < client.packets.size(); ++i) {
        const MergedRun *run = client.packets[i]->variants.run(low);
        if (!run)
            continue;
        ++runs;
        g_assert_cmpuint(client.packets[i]->seq, >=, covered);
        g_assert_cmpuint(run->last_seq, >=, client.packets[i]->seq);
        g_assert_cmpuint(run->last_seq, <, client.packets.size());
        covered = run->last_seq + 1;
        proto::asf::PacketMerger merger(header, low);
        for (size_t j = i; j <= run->last_seq; ++j) {
            const std::vector<uint8_t> &data = client.packets[j]->data;
            g_assert_true(merger.add(data.data(), data.size()) !=
                          proto::asf::PacketMerger::Added::Refused);
        }
        g_assert_true(merger.finish() == run->bytes);
        std::vector<uint8_t> padded = run->bytes;
        g_assert_cmpuint(padded.size(), <=, kPacketSize);
        padded.resize(kPacketSize, 0);
        g_assert_true(proto::asf::parse_packet(padded.data(), padded.size(), header).ok());
    }
    g_assert_cmpuint(runs, >=, 1); /* the last run stays open: nothing follows it */
    /* Every closed run is published, one of a single packet too: up to the last one, each
     * packet with a payload of the selection lies in a run. */
    size_t singles = 0;
    for (size_t i = 0, in_run_until = 0; i < covered; ++i) {
        if (const MergedRun *run = client.packets[i]->variants.run(low)) {
            in_run_until = run->last_seq + 1;
            singles += run->last_seq == client.packets[i]->seq ? 1 : 0;
        }
        if ((client.packets[i]->streams & low.streams).any())
            g_assert_cmpuint(i, <, in_run_until);
    }
    g_assert_cmpuint(singles, >=, 1);

    /* Three more selections fit, a fifth does not until one is gone. */
    std::vector<std::unique_ptr<SelectionWatch>> others;
    for (unsigned video : {2u, 3u}) {
        proto::asf::StreamSelection other;
        other.streams.set(video);
        other.streams.set(4);
        others.push_back(store.watch(other));
        g_assert_nonnull(others.back().get());
    }
    g_assert_nonnull(store.watch(low).get()); /* a second client of a watched one */
    proto::asf::StreamSelection audio;
    audio.streams.set(4);
    others.push_back(store.watch(audio));
    g_assert_nonnull(others.back().get());
    proto::asf::StreamSelection video_only;
    video_only.streams.set(1);
    g_assert_null(store.watch(video_only).get());
    others.pop_back();
    g_assert_nonnull(store.watch(video_only).get());

    watch.reset();
    others.clear();
    store.reset();
    for (size_t i = 0; i < mbr.count(); ++i)
        g_assert_true(store.push(mbr.packet(i), kPacketSize, arrival(i)).ok());
    Client later;
    later.next_seq = client.next_seq;
    later.fetch(store);
    g_assert_cmpuint(later.packets.size(), ==, mbr.count());
    for (const PacketRef &packet : later.packets)
        g_assert_null(packet->variants.run(low));
}

/* A multiple-bit-rate header is served with its alternatives and rates (asf-mbr), in the
 * raw header (plain HTTP) and the $H packets alike; a description naming a stream the header
 * lacks refuses the header and keeps the current one. */
/* pending()'s recheck: where the lag passes half a limit, in its unit, or (nothing pending) the
 * next packet; progress() follows the log, and counts every change other than a packet. */
void test_pending_recheck() {
    constexpr int64_t kNow = 0; /* before every arrival(): a time threshold is still ahead */
    {
        TestStore store(limits(LagUnit::Packets, -1, 8)); /* urgent past 4 packets */
        store.feed_range(0, 2);
        const LogProgress progress = store.progress();
        g_assert_cmpuint(progress.end_seq, ==, 3);
        g_assert_cmpuint(progress.appended_bytes, ==, 3 * kPacketSize);
        Pending pending = store.pending(0, 0, kNow);
        g_assert_false(pending.urgent);
        g_assert_cmpuint(pending.bytes, ==, 3 * kPacketSize);
        g_assert_cmpuint(pending.offset, ==, 0);
        g_assert_cmpuint(pending.recheck.at_seq, ==, 5);
        g_assert_true(pending.recheck.holds(store.progress(), kNow));
        store.feed({3});
        g_assert_true(pending.recheck.holds(store.progress(), kNow));
        g_assert_false(store.pending(0, 0, kNow).urgent);
        store.feed({4});
        g_assert_false(pending.recheck.holds(store.progress(), kNow));
        g_assert_true(store.pending(0, 0, kNow).urgent);
        /* Past the soft limit's half beyond the lag it started at. */
        store.set_limits(limits(LagUnit::Packets, 4, -1));
        g_assert_false(pending.recheck.holds(store.progress(), kNow)); /* new limits */
        g_assert_cmpuint(store.pending(2, 1, kNow).recheck.at_seq, ==, 2 + 1 + 2 + 1);
    }
    {
        TestStore store(limits(LagUnit::Bytes, -1, 10 * kPacketSize)); /* past 5 packets */
        store.feed_range(0, 3);
        const Pending pending = store.pending(1, 0, kNow);
        g_assert_cmpuint(pending.offset, ==, kPacketSize);
        g_assert_cmpuint(pending.recheck.at_bytes, ==, kPacketSize + 5 * kPacketSize + 1);
        store.feed_range(4, 5);
        g_assert_false(store.pending(1, 0, kNow).urgent); /* 5 packets behind: not past */
        g_assert_true(pending.recheck.holds(store.progress(), kNow));
        store.feed({6});
        g_assert_false(pending.recheck.holds(store.progress(), kNow));
        g_assert_true(store.pending(1, 0, kNow).urgent);
    }
    {
        TestStore store(limits(LagUnit::Time, -1, 20000)); /* urgent past 10 ms */
        store.feed_range(0, 1);
        const Pending ahead = store.pending(0, 0, kNow);
        g_assert_cmpint(ahead.recheck.at_us, ==, arrival(0) + 10001);
        /* Once that time has come, only a packet arriving can make it urgent. */
        const Pending passed = store.pending(0, 0, arrival(0) + 10001);
        g_assert_false(passed.urgent);
        g_assert_cmpint(passed.recheck.at_us, ==, INT64_MAX);
        g_assert_cmpuint(passed.recheck.at_seq, ==, 3);
    }
    TestStore store(limits(LagUnit::Time, -1, -1));
    store.feed_range(0, 1);
    /* Nothing pending: until the next packet. */
    const Pending idle = store.pending(2, 0, kNow);
    g_assert_cmpuint(idle.bytes, ==, 0);
    g_assert_cmpuint(idle.recheck.at_seq, ==, 3);
    g_assert_true(idle.recheck.holds(store.progress(), kNow));
    store.feed({2});
    g_assert_false(idle.recheck.holds(store.progress(), kNow));
    /* Without limits nothing but the counters' changes ends it. */
    const Pending waiting = store.pending(2, 0, kNow);
    g_assert_false(waiting.urgent);
    g_assert_true(waiting.recheck.holds(store.progress(), kNow));
    g_assert_true(store.end_of_stream() == Due::Wake);
    g_assert_false(waiting.recheck.holds(store.progress(), kNow));
    const Pending ended = store.pending(2, 0, kNow);
    g_assert_true(ended.urgent);
    store.feed({3}); /* the stream goes on: no longer ended */
    g_assert_false(store.pending(2, 0, kNow).urgent);
    const Pending before_reset = store.pending(2, 0, kNow);
    g_assert_true(store.reset() == Due::Wake);
    g_assert_false(before_reset.recheck.holds(store.progress(), kNow));
    const Pending before_header = store.pending(4, 0, kNow);
    g_assert_true(store.set_header(audio_video().header(), audio_video().header_size).ok());
    g_assert_false(before_header.recheck.holds(store.progress(), kNow));
}

void test_bitrate_description() {
    const AsfFile mbr = load("asfmux-mbr.asf");
    TestStore store(limits(LagUnit::Time, -1, -1), false);
    StartupPolicy policy{0, -1, {}};
    auto description = proto::asf::BitrateDescription::parse("", "1:300000,2:700000,3:1500000");
    g_assert_true(description.ok());
    policy.bitrates = *description;
    store.set_startup(policy);
    auto due = store.set_header(mbr.header(), mbr.header_size);
    g_assert_true(due.ok());
    const StreamHeaderRef header = store.header();
    g_assert_true(header->info.exclusion_groups == (std::vector<std::vector<uint8_t>>{{1, 2, 3}}));
    g_assert_cmpuint(header->info.streams[2].bitrate, ==, 1500000);
    g_assert_cmpuint(header->raw.size(), >, mbr.header_size);
    /* $H: 4-byte framing header + 8-byte MMS data header, then the raw header. */
    g_assert_cmpuint(header->pull.size(), ==, header->raw.size() + 12);
    g_assert_true(std::equal(header->raw.begin(), header->raw.end(), header->pull.begin() + 12));

    policy.bitrates.groups = {{1, 9}};
    policy.bitrates.exclusion = proto::asf::BitrateDescription::Exclusion::Groups;
    store.set_startup(policy);
    auto refused = store.set_header(audio_video().header(), audio_video().header_size);
    g_assert_false(refused.ok());
    g_assert_true(refused.error().code == Errc::InvalidData);
    g_assert_true(store.header() == header);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/stream-store/fixture-key-frames", test_fixture_key_frames);
    g_test_add_func("/stream-store/join-at-key-frame", test_join_at_key_frame);
    g_test_add_func("/stream-store/fetch-in-batches", test_fetch_in_batches);
    g_test_add_func("/stream-store/need-key-waits-for-key-frame",
                    test_need_key_waits_for_key_frame);
    g_test_add_func("/stream-store/client-before-first-header", test_client_before_first_header);
    g_test_add_func("/stream-store/header-change", test_header_change);
    g_test_add_func("/stream-store/end-of-stream", test_end_of_stream);
    g_test_add_func("/stream-store/reset", test_reset);
    g_test_add_func("/stream-store/packet-length-completed", test_packet_length_completed);
    g_test_add_func("/stream-store/selection-runs", test_selection_runs);
    g_test_add_func("/stream-store/pending-recheck", test_pending_recheck);
    g_test_add_func("/stream-store/recover-policy/none", test_recover_none);
    g_test_add_func("/stream-store/recover-policy/latest", test_recover_latest);
    g_test_add_func("/stream-store/recover-policy/keyframe", test_recover_key_frame);
    g_test_add_func("/stream-store/recover-policy/soft-limit", test_recover_soft_limit);
    g_test_add_func("/stream-store/recover-policy/never-backwards", test_recover_never_backwards);
    g_test_add_func("/stream-store/recover-policy/own-key-frame", test_own_key_frames);
    g_test_add_func("/stream-store/recover-policy/soft-limit-units", test_recover_soft_limit_units);
    g_test_add_func("/stream-store/hard-limit/buffers", test_hard_limit_packets);
    g_test_add_func("/stream-store/hard-limit/bytes", test_hard_limit_bytes);
    g_test_add_func("/stream-store/hard-limit/time", test_hard_limit_time);
    g_test_add_func("/stream-store/hard-limit/trims", test_hard_limit_trims);
    g_test_add_func("/stream-store/hard-limit/keeps", test_hard_limit_keeps);
    g_test_add_func("/stream-store/startup/fast-start", test_fast_start_join_point);
    g_test_add_func("/stream-store/startup/fast-start-within-soft-limit",
                    test_fast_start_within_soft_limit);
    g_test_add_func("/stream-store/startup/preroll", test_preroll);
    g_test_add_func("/stream-store/startup/bitrate-description", test_bitrate_description);
    return g_test_run();
}
