/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/write-coalescing: when a client that receives a
 * share of the stream writes (its estimated bytes, the delay bound less one
 * round, urgent cases, off), how much it fetches for one write, and a
 * simulated low-rate client over 10 s of rounds: it writes about once per
 * kMinBytes of its own bytes, and no packet waits past the bound; a decision
 * to wait says until when it stands (Recheck), and a client skipped while it
 * holds writes in the same rounds as one asked every round.
 */
#include "server/write-coalescing.h"

#include <glib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <deque>

using wmstream::server::LogProgress;
using wmstream::server::Pending;
using wmstream::server::Recheck;
using wmstream::server::WriteCoalescing;

namespace {

constexpr int64_t kMs = 1000;
constexpr uint64_t kMin = WriteCoalescing::kMinBytes;

/* Bound 1 s, rounds every 125 ms: a packet is due 875 ms after it arrived. */
void test_decide() {
    WriteCoalescing policy(1000 * kMs, 125 * kMs);
    g_assert_true(policy.enabled());
    const int64_t t0 = 10000 * kMs;
    /* Before it took anything: its share is unknown, it writes whatever is pending. */
    g_assert_true(policy.decide({1, t0, false}, t0).write);
    policy.taken(900000, 100000); /* a ninth */
    /* Nothing pending: no write, due never. */
    const auto idle = policy.decide({0, 0, false}, t0);
    g_assert_false(idle.write);
    g_assert_cmpint(idle.due_us, ==, INT64_MAX);
    /* 9 × kMinBytes − 9 stored ≈ kMinBytes − 1 of its own: waits, due 875 ms after arrival. */
    const auto wait = policy.decide({9 * kMin - 9, t0, false}, t0 + 100 * kMs);
    g_assert_false(wait.write);
    g_assert_cmpint(wait.due_us, ==, t0 + 875 * kMs);
    g_assert_false(policy.decide({9 * kMin - 9, t0, false}, t0 + 875 * kMs - 1).write);
    g_assert_true(policy.decide({9 * kMin - 9, t0, false}, t0 + 875 * kMs).write);
    /* kMinBytes of its own: at once, however young. */
    g_assert_true(policy.decide({9 * kMin, t0, false}, t0).write);
    /* Urgent (end of stream, gone from the log, near a lag limit): at once. */
    g_assert_true(policy.decide({1, t0, true}, t0).write);
}

/* A bound of 0, or not longer than a round: every round writes what is new. */
void test_off() {
    for (const int64_t bound : {int64_t(0), 125 * kMs, 100 * kMs}) {
        WriteCoalescing policy(bound, 125 * kMs);
        g_assert_false(policy.enabled());
        policy.taken(900000, 1000);
        g_assert_true(policy.decide({1, 0, false}, 0).write);
    }
    /* Without rounds in between (flush interval 0), the bound is the delay. */
    WriteCoalescing policy(200 * kMs, 0);
    policy.taken(900000, 100000);
    g_assert_cmpint(policy.decide({1, 0, false}, 0).due_us, ==, 200 * kMs);
}

/* Automatic (−1): 8 rounds; none when every packet makes a round (flush interval 0). */
void test_automatic() {
    WriteCoalescing policy(-1, 125 * kMs);
    g_assert_true(policy.enabled());
    policy.taken(900000, 100000);
    /* Due one round before the 1 s bound, as test_decide()'s explicit 1 s. */
    g_assert_cmpint(policy.decide({1, 0, false}, 0).due_us, ==, 875 * kMs);
    WriteCoalescing immediate(-1, 0);
    g_assert_false(immediate.enabled());
    g_assert_true(immediate.decide({1, 0, false}, 0).write);
}

/* A client that receives nothing of the stream (it waits for a stream that is absent): only
 * the bound writes it; the share follows recent packets. */
void test_share() {
    WriteCoalescing policy(1000 * kMs, 125 * kMs);
    policy.taken(1 << 20, 0);
    g_assert_false(policy.decide({100 * kMin, 0, false}, 0).write);
    g_assert_cmpuint(policy.fetch_bytes(kMin), ==, WriteCoalescing::kMaxFetchBytes);
    /* It now receives everything (a SelectStream): after a few MB, it writes at kMinBytes. */
    for (int i = 0; i < 64; ++i)
        policy.taken(1 << 20, 1 << 20);
    g_assert_true(policy.decide({kMin + kMin / 8, 0, false}, 0).write);
    g_assert_cmpuint(policy.fetch_bytes(kMin), <=, kMin + kMin / 8);
}

/* Fetch: about kMinBytes of its own, within [kMinBytes, kMaxFetchBytes]. */
void test_fetch_bytes() {
    WriteCoalescing policy(1000 * kMs, 125 * kMs);
    g_assert_cmpuint(policy.fetch_bytes(kMin), ==, kMin); /* nothing taken yet */
    policy.taken(900000, 100000);
    g_assert_cmpuint(policy.fetch_bytes(kMin), ==, 9 * kMin);
    policy.taken(1000000, 1000);
    g_assert_cmpuint(policy.fetch_bytes(kMin), ==, WriteCoalescing::kMaxFetchBytes);
    WriteCoalescing full(1000 * kMs, 125 * kMs);
    full.taken(900000, 900000);
    g_assert_cmpuint(full.fetch_bytes(kMin), ==, kMin);
}

/*
 * 10 s of a 6.6 Mbit/s stream in 4800-byte packets (172 a second), a round every 125 ms,
 * a client that keeps a ninth of each packet, bound 1 s. Each round it is asked; when it
 * writes, it takes everything pending. It writes once per kMinBytes of its own (≈ 11.5 KB a
 * round: every 6th round, 0.75 s, before the bound's 875 ms), and no packet is older than the
 * bound when written.
 */
void test_low_rate_client() {
    constexpr int64_t kPacketGapUs = 1000000 / 172;
    constexpr uint64_t kPacket = 4800;
    WriteCoalescing policy(1000 * kMs, 125 * kMs);
    std::deque<int64_t> log; /* arrival times of the packets it has not taken */
    int64_t next_packet = 0;
    int writes = 0;
    int64_t oldest_written_age = 0;
    for (int64_t now = 125 * kMs; now <= 10000 * kMs; now += 125 * kMs) {
        for (; next_packet <= now; next_packet += kPacketGapUs)
            log.push_back(next_packet);
        const Pending pending{log.size() * kPacket, log.empty() ? 0 : log.front(), false};
        if (!policy.decide(pending, now).write)
            continue;
        ++writes;
        oldest_written_age = std::max(oldest_written_age, now - log.front());
        policy.taken(pending.bytes, pending.bytes / 9);
        log.clear();
    }
    /* Rounds: 80; the first writes at once (share unknown), then one in 6. */
    g_assert_cmpint(writes, >=, 13);
    g_assert_cmpint(writes, <=, 15);
    g_assert_cmpint(oldest_written_age, <=, 1000 * kMs);
}

/* A decision to wait stands until its estimate reaches kMinBytes (in stored bytes from its
 * next packet's offset), its packet is due, or the store's part of it changes. */
void test_recheck() {
    WriteCoalescing policy(1000 * kMs, 125 * kMs);
    const int64_t t0 = 10000 * kMs;
    policy.taken(900000, 100000); /* a ninth: kMinBytes of its own = 9 × kMinBytes stored */
    Pending pending{kMin, t0, false};
    pending.offset = 5000000;
    pending.recheck.changes = 7;
    pending.recheck.at_seq = 1234; /* what the store says (a lag limit in packets) */
    const auto wait = policy.decide(pending, t0 + 100 * kMs);
    g_assert_false(wait.write);
    g_assert_cmpint(wait.recheck.at_us, ==, t0 + 875 * kMs);
    g_assert_cmpuint(wait.recheck.at_bytes, ==, 5000000 + 9 * kMin);
    g_assert_cmpuint(wait.recheck.at_seq, ==, 1234);
    g_assert_cmpuint(wait.recheck.changes, ==, 7);
    /* Holds below every threshold; each one ends it. */
    const LogProgress before{5000000 + 9 * kMin - 1, 1233, 7};
    g_assert_true(wait.recheck.holds(before, t0 + 875 * kMs - 1));
    g_assert_false(wait.recheck.holds(before, t0 + 875 * kMs));
    g_assert_false(wait.recheck.holds({5000000 + 9 * kMin, 1233, 7}, t0));
    g_assert_false(wait.recheck.holds({5000000, 1234, 7}, t0));
    g_assert_false(wait.recheck.holds({5000000, 1233, 8}, t0));
    /* Where the policy answers that it writes, at the thresholds it gave. */
    g_assert_true(policy.decide({9 * kMin, t0, false}, t0).write);
    g_assert_true(policy.decide({kMin, t0, false}, t0 + 875 * kMs).write);
    /* A store's threshold below the policy's stays. */
    pending.recheck.at_bytes = 5000000 + kMin;
    pending.recheck.at_us = t0 + 500 * kMs;
    const auto sooner = policy.decide(pending, t0);
    g_assert_cmpuint(sooner.recheck.at_bytes, ==, 5000000 + kMin);
    g_assert_cmpint(sooner.recheck.at_us, ==, t0 + 500 * kMs);
    /* Nothing pending: the store's recheck (a packet arriving). */
    Pending none;
    none.recheck.at_seq = 99;
    none.recheck.changes = 7;
    const auto idle = policy.decide(none, t0);
    g_assert_false(idle.write);
    g_assert_cmpuint(idle.recheck.at_seq, ==, 99);
    g_assert_true(idle.recheck.holds({0, 98, 7}, t0));
    /* A write, or a share never seen: nothing holds. */
    g_assert_false(policy.decide({1, t0, true}, t0).recheck.holds({}, t0));
    g_assert_false(Recheck{}.holds({}, 0));
}

/*
 * The simulation of test_low_rate_client() for two clients: one asked every round, one
 * skipped while its last Recheck holds (as a round does), fed by the store's counters. Both
 * write in the same rounds; the second is asked about twice per write instead of 8 times a
 * second.
 */
void test_recheck_skips_rounds() {
    constexpr int64_t kPacketGapUs = 1000000 / 172;
    constexpr uint64_t kPacket = 4800;
    WriteCoalescing asked(1000 * kMs, 125 * kMs);
    WriteCoalescing skipped(1000 * kMs, 125 * kMs);
    LogProgress progress;
    std::deque<int64_t> log;                   /* arrival times of the packets stored, in order */
    uint64_t next_asked = 0, next_skipped = 0; /* their next packets */
    Recheck wait;
    int decides = 0, writes = 0;
    int64_t next_packet = 0;
    const auto pending = [&](uint64_t next) {
        Pending p;
        p.recheck.changes = progress.changes;
        if (next >= progress.end_seq) {
            p.recheck.at_seq = next + 1;
            return p;
        }
        p.bytes = (progress.end_seq - next) * kPacket;
        p.offset = next * kPacket;
        p.oldest_us = log[next];
        return p;
    };
    for (int64_t now = 125 * kMs; now <= 10000 * kMs; now += 125 * kMs) {
        for (; next_packet <= now; next_packet += kPacketGapUs) {
            log.push_back(next_packet);
            progress.appended_bytes += kPacket;
            ++progress.end_seq;
        }
        const Pending a = pending(next_asked);
        const bool wrote = asked.decide(a, now).write;
        if (wrote) {
            asked.taken(a.bytes, a.bytes / 9);
            next_asked = progress.end_seq;
        }
        bool skipped_wrote = false;
        if (!wait.holds(progress, now)) {
            ++decides;
            const Pending b = pending(next_skipped);
            const auto decision = skipped.decide(b, now);
            wait = decision.write ? Recheck{} : decision.recheck;
            if ((skipped_wrote = decision.write)) {
                skipped.taken(b.bytes, b.bytes / 9);
                next_skipped = progress.end_seq;
            }
        }
        g_assert_cmpint(wrote, ==, skipped_wrote);
        writes += wrote;
    }
    g_assert_cmpint(writes, >=, 13);
    g_assert_cmpint(decides, <=, 2 * writes + 1);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/write-coalescing/decide", test_decide);
    g_test_add_func("/write-coalescing/off", test_off);
    g_test_add_func("/write-coalescing/automatic", test_automatic);
    g_test_add_func("/write-coalescing/share", test_share);
    g_test_add_func("/write-coalescing/fetch-bytes", test_fetch_bytes);
    g_test_add_func("/write-coalescing/low-rate-client", test_low_rate_client);
    g_test_add_func("/write-coalescing/recheck", test_recheck);
    g_test_add_func("/write-coalescing/recheck-skips-rounds", test_recheck_skips_rounds);
    return g_test_run();
}
