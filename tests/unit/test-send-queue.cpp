/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/send-queue: shared and inline segments gathered
 * in order (inline bytes copied, at most kInlineSize of them), a partial
 * write resumed at its offset and the ASF data packets a write completes,
 * gather() bounded by its vector count, shared memory kept alive until its
 * segment is written (and released by clear()), a ring that wraps many times
 * and grows while wrapped, a large ring drained and used again, and a
 * ring's capacity following what its writes need (a burst's released).
 */
#include "server/send-queue.h"

#include <gio/gio.h>
#include <glib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

using wmstream::server::SendQueue;

namespace {

constexpr size_t kInline = SendQueue::kInlineSize;
/* More segments than a first ring holds several times over. */
constexpr size_t kMany = 4 * SendQueue::kFirstSlots;

using Bytes = std::vector<uint8_t>;

/* Shared packet memory: the vector is what the queue keeps alive. */
std::shared_ptr<const Bytes> make_bytes(size_t size, uint8_t first) {
    auto bytes = std::make_shared<Bytes>(size);
    for (size_t i = 0; i < size; ++i)
        (*bytes)[i] = uint8_t(first + i);
    return bytes;
}

/* What a segment should gather as: its pointer (shared) or its bytes (inline). */
struct Expected {
    const uint8_t *data = nullptr; /* shared: the very pointer pushed; inline: null */
    Bytes bytes;                   /* inline: the bytes copied */
    size_t len = 0;
    bool ends_packet = false;
};

Expected expect_shared(const uint8_t *data, size_t len, bool ends_packet) {
    return Expected{data, {}, len, ends_packet};
}

Expected expect_inline(const uint8_t *data, size_t len) {
    return Expected{nullptr, Bytes(data, data + len), len, false};
}

/* gather() offers exactly @p model, the first @p offset bytes of its front already written;
 * every inline vector points at its own copy of the bytes (not at the pushed source). */
void check_gather(const SendQueue &queue, const std::deque<Expected> &model, size_t offset) {
    g_assert_true(queue.empty() == model.empty());
    std::vector<GOutputVector> vectors(model.size() + 2);
    const size_t count = queue.gather(vectors.data(), vectors.size());
    g_assert_cmpuint(count, ==, model.size());
    for (size_t i = 0; i < count; ++i) {
        const Expected &e = model[i];
        const size_t skip = i == 0 ? offset : 0;
        g_assert_cmpuint(vectors[i].size, ==, e.len - skip);
        const auto *got = static_cast<const uint8_t *>(vectors[i].buffer);
        if (e.data != nullptr) {
            g_assert_true(got == e.data + skip);
        } else {
            g_assert_nonnull(got);
            g_assert_cmpmem(got, vectors[i].size, e.bytes.data() + skip, e.len - skip);
        }
    }
}

/* Shared and inline segments interleaved come back in order; inline bytes are a copy;
 * an inline push longer than kInlineSize keeps the first kInlineSize bytes. */
void test_order() {
    SendQueue queue;
    g_assert_true(queue.empty());
    GOutputVector none[2] = {};
    g_assert_cmpuint(queue.gather(none, 2), ==, 0);

    const auto a = make_bytes(100, 0);
    const auto b = make_bytes(37, 100);
    uint8_t head1[8] = {'$', 'D', 1, 2, 3, 4, 5, 6};
    uint8_t head2[4] = {'$', 'C', 9, 9};
    uint8_t long_head[kInline + 9];
    for (size_t i = 0; i < sizeof long_head; ++i)
        long_head[i] = uint8_t(0xA0 + i);

    std::deque<Expected> model;
    queue.push_inline(head1, sizeof head1);
    model.push_back(expect_inline(head1, sizeof head1));
    queue.push_shared(a, a->data(), a->size(), true);
    model.push_back(expect_shared(a->data(), a->size(), true));
    queue.push_inline(head2, sizeof head2);
    model.push_back(expect_inline(head2, sizeof head2));
    /* A part of a buffer: the pointer and length pushed, not the buffer's. */
    queue.push_shared(b, b->data() + 5, 20, false);
    model.push_back(expect_shared(b->data() + 5, 20, false));
    queue.push_inline(long_head, sizeof long_head);
    model.push_back(expect_inline(long_head, kInline));
    g_assert_false(queue.empty());

    /* The sources of the inline segments change after the push (the model holds the bytes
     * pushed, the first kInlineSize of long_head): the queue's bytes don't. */
    std::memset(head1, 0xEE, sizeof head1);
    std::memset(head2, 0xEE, sizeof head2);
    std::memset(long_head, 0xEE, sizeof long_head);
    check_gather(queue, model, 0);

    /* Inline vectors point into the queue, not at the pushed (now overwritten) source. */
    GOutputVector vectors[5];
    g_assert_cmpuint(queue.gather(vectors, 5), ==, 5);
    g_assert_true(vectors[0].buffer != static_cast<const void *>(head1));
    g_assert_true(vectors[2].buffer != static_cast<const void *>(head2));
    g_assert_true(vectors[4].buffer != static_cast<const void *>(long_head));
    g_assert_cmpuint(vectors[4].size, ==, kInline);
    /* An inline push of exactly kInlineSize keeps all of it; of 1, one. */
    SendQueue small;
    uint8_t exact[kInline];
    for (size_t i = 0; i < kInline; ++i)
        exact[i] = uint8_t(i + 1);
    small.push_inline(exact, kInline);
    small.push_inline(exact + 3, 1);
    GOutputVector two[2];
    g_assert_cmpuint(small.gather(two, 2), ==, 2);
    g_assert_cmpmem(two[0].buffer, two[0].size, exact, kInline);
    g_assert_cmpmem(two[1].buffer, two[1].size, exact + 3, 1);
}

/* A write shorter than the front segment resumes at its offset; a write across segment
 * boundaries drops the segments it covered; advance() counts the ends_packet segments it
 * completed, a packet only when the whole of its segment is written. */
void test_partial_advance() {
    SendQueue queue;
    const auto p1 = make_bytes(50, 0);
    const auto p2 = make_bytes(30, 50);
    const auto p3 = make_bytes(20, 80);
    const uint8_t head1[4] = {'$', 'D', 0, 1};
    const uint8_t head2[4] = {'$', 'D', 0, 2};
    const uint8_t head3[4] = {'$', 'D', 0, 3};
    std::deque<Expected> model;
    queue.push_inline(head1, 4);
    model.push_back(expect_inline(head1, 4));
    queue.push_shared(p1, p1->data(), 50, true);
    model.push_back(expect_shared(p1->data(), 50, true));
    queue.push_inline(head2, 4);
    model.push_back(expect_inline(head2, 4));
    queue.push_shared(p2, p2->data(), 30, true);
    model.push_back(expect_shared(p2->data(), 30, true));
    queue.push_inline(head3, 4);
    model.push_back(expect_inline(head3, 4));
    queue.push_shared(p3, p3->data(), 20, false); /* a header, not a data packet */
    model.push_back(expect_shared(p3->data(), 20, false));
    check_gather(queue, model, 0);

    /* Nothing written: nothing changes. */
    g_assert_cmpuint(queue.advance(0), ==, 0);
    check_gather(queue, model, 0);

    /* Part of the inline head: the rest of it from byte 1, then the rest. */
    g_assert_cmpuint(queue.advance(1), ==, 0);
    check_gather(queue, model, 1);
    GOutputVector v[8];
    g_assert_cmpuint(queue.gather(v, 8), ==, 6);
    g_assert_cmpuint(v[0].size, ==, 3);
    g_assert_cmpmem(v[0].buffer, 3, head1 + 1, 3);

    /* The rest of the head and 10 bytes of the packet: not completed yet. */
    g_assert_cmpuint(queue.advance(3 + 10), ==, 0);
    model.pop_front();
    check_gather(queue, model, 10);
    g_assert_cmpuint(queue.gather(v, 8), ==, 5);
    g_assert_true(v[0].buffer == p1->data() + 10);
    g_assert_cmpuint(v[0].size, ==, 40);

    /* All but the last byte of the packet: still not completed. */
    g_assert_cmpuint(queue.advance(39), ==, 0);
    check_gather(queue, model, 49);
    /* Its last byte: one packet. */
    g_assert_cmpuint(queue.advance(1), ==, 1);
    model.pop_front();
    check_gather(queue, model, 0);

    /* Across head2, p2 (a packet), head3 and into p3: one packet, p3 from offset 7. */
    g_assert_cmpuint(queue.advance(4 + 30 + 4 + 7), ==, 1);
    model.erase(model.begin(), model.begin() + 3);
    check_gather(queue, model, 7);
    /* The rest of p3, which ends no packet: none. */
    g_assert_cmpuint(queue.advance(13), ==, 0);
    model.pop_front();
    check_gather(queue, model, 0);
    g_assert_true(queue.empty());

    /* Several packets in one write, the last one partly: only the whole ones count. */
    for (int i = 0; i < 4; ++i) {
        queue.push_inline(head1, 4);
        queue.push_shared(p2, p2->data(), 30, true);
    }
    g_assert_cmpuint(queue.advance(3 * 34 + 4 + 29), ==, 3);
    g_assert_cmpuint(queue.gather(v, 8), ==, 1);
    g_assert_true(v[0].buffer == p2->data() + 29);
    g_assert_cmpuint(v[0].size, ==, 1);
    g_assert_cmpuint(queue.advance(1), ==, 1);
    g_assert_true(queue.empty());

    /* A write that ends exactly at a segment boundary starts the next one at offset 0. */
    queue.push_shared(p1, p1->data(), 50, true);
    queue.push_shared(p2, p2->data(), 30, true);
    g_assert_cmpuint(queue.advance(50), ==, 1);
    g_assert_cmpuint(queue.gather(v, 8), ==, 1);
    g_assert_true(v[0].buffer == p2->data());
    g_assert_cmpuint(v[0].size, ==, 30);
    g_assert_cmpuint(queue.advance(30), ==, 1);
    g_assert_true(queue.empty());

    /* An empty segment that the last byte written reaches is written with it. */
    queue.push_shared(p1, p1->data(), 5, false);
    queue.push_shared(p1, p1->data(), 0, true);
    g_assert_cmpuint(queue.advance(5), ==, 1);
    g_assert_true(queue.empty());
}

/* gather() fills at most @p max vectors, from the front, and no more. */
void test_gather_max() {
    SendQueue queue;
    const auto bytes = make_bytes(100, 0);
    for (size_t i = 0; i < 10; ++i)
        queue.push_shared(bytes, bytes->data() + 10 * i, 10, true);
    queue.advance(3); /* the front from offset 3 */

    GOutputVector v[12];
    for (size_t max : {size_t(1), size_t(4), size_t(9)}) {
        for (auto &vector : v)
            vector = {nullptr, 12345};
        g_assert_cmpuint(queue.gather(v, max), ==, max);
        g_assert_true(v[0].buffer == bytes->data() + 3);
        g_assert_cmpuint(v[0].size, ==, 7);
        for (size_t i = 1; i < max; ++i) {
            g_assert_true(v[i].buffer == bytes->data() + 10 * i);
            g_assert_cmpuint(v[i].size, ==, 10);
        }
        /* The vectors past max are untouched. */
        for (size_t i = max; i < 12; ++i) {
            g_assert_null(v[i].buffer);
            g_assert_cmpuint(v[i].size, ==, 12345);
        }
    }
    g_assert_cmpuint(queue.gather(v, 10), ==, 10);
    g_assert_cmpuint(queue.gather(v, 12), ==, 10);
    g_assert_cmpuint(queue.gather(v, 0), ==, 0);
    /* What gather(max) offered, written whole: the packets it held. */
    g_assert_cmpuint(queue.gather(v, 4), ==, 4);
    g_assert_cmpuint(queue.advance(v[0].size + v[1].size + v[2].size + v[3].size), ==, 4);
    g_assert_cmpuint(queue.gather(v, 12), ==, 6);
    g_assert_true(v[0].buffer == bytes->data() + 40);
}

/* A shared segment keeps its memory until the last of its bytes is written, and no longer;
 * clear() releases everything kept, in a small ring and in one of kMany segments or more. */
void test_keeps_memory_alive() {
    SendQueue queue;
    std::weak_ptr<const Bytes> weak_a, weak_b;
    const uint8_t head[4] = {'$', 'D', 0, 0};
    {
        auto a = make_bytes(10, 0);
        auto b = make_bytes(20, 0);
        weak_a = a;
        weak_b = b;
        queue.push_inline(head, 4);
        queue.push_shared(a, a->data(), a->size(), true);
        g_assert_cmpint(a.use_count(), ==, 2);
        /* Pushed twice (two parts of one buffer): two references. */
        const uint8_t *b_data = b->data();
        queue.push_shared(b, b_data, 10, false);
        queue.push_shared(std::move(b), b_data + 10, 10, true);
    }
    g_assert_false(weak_a.expired());
    g_assert_cmpint(weak_a.use_count(), ==, 1);
    g_assert_cmpint(weak_b.use_count(), ==, 2);

    /* The head and 9 of a's 10 bytes: a is alive. */
    g_assert_cmpuint(queue.advance(4 + 9), ==, 0);
    g_assert_false(weak_a.expired());
    /* Its last byte: released at once (not when the slot is reused). */
    g_assert_cmpuint(queue.advance(1), ==, 1);
    g_assert_true(weak_a.expired());
    /* b's first part: one reference goes, the second part keeps it. */
    g_assert_cmpuint(queue.advance(10), ==, 0);
    g_assert_cmpint(weak_b.use_count(), ==, 1);
    g_assert_cmpuint(queue.advance(9), ==, 0);
    g_assert_cmpint(weak_b.use_count(), ==, 1);
    g_assert_cmpuint(queue.advance(1), ==, 1);
    g_assert_true(weak_b.expired());
    g_assert_true(queue.empty());

    /* clear() of a small ring, with the front partly written: all released, empty. */
    std::vector<std::weak_ptr<const Bytes>> weaks;
    for (int i = 0; i < 5; ++i) {
        auto bytes = make_bytes(8, uint8_t(i));
        weaks.push_back(bytes);
        const uint8_t *data = bytes->data();
        queue.push_inline(head, 4);
        queue.push_shared(std::move(bytes), data, 8, true);
    }
    queue.advance(6);
    for (const auto &weak : weaks)
        g_assert_false(weak.expired());
    queue.clear();
    g_assert_true(queue.empty());
    for (const auto &weak : weaks)
        g_assert_true(weak.expired());
    GOutputVector v[4];
    g_assert_cmpuint(queue.gather(v, 4), ==, 0);
    /* Used again: from offset 0. */
    const auto c = make_bytes(5, 0);
    queue.push_shared(c, c->data(), 5, true);
    g_assert_cmpuint(queue.gather(v, 4), ==, 1);
    g_assert_true(v[0].buffer == c->data());
    g_assert_cmpuint(v[0].size, ==, 5);
    g_assert_cmpuint(queue.advance(5), ==, 1);

    /* clear() of a ring of kMany segments or more. */
    weaks.clear();
    for (size_t i = 0; i < 3 * kMany; ++i) {
        auto bytes = make_bytes(3, uint8_t(i));
        weaks.push_back(bytes);
        const uint8_t *data = bytes->data();
        queue.push_shared(std::move(bytes), data, 3, true);
    }
    queue.advance(4);
    g_assert_true(weaks[0].expired());
    g_assert_false(weaks[1].expired());
    queue.clear();
    g_assert_true(queue.empty());
    for (const auto &weak : weaks)
        g_assert_true(weak.expired());
    g_assert_cmpuint(queue.gather(v, 4), ==, 0);
    queue.push_shared(c, c->data(), 5, false);
    g_assert_cmpuint(queue.gather(v, 4), ==, 1);
    g_assert_true(v[0].buffer == c->data());
    g_assert_cmpuint(v[0].size, ==, 5);
    /* clear() of an empty queue: still empty. */
    queue.clear();
    queue.clear();
    g_assert_true(queue.empty());
    g_assert_cmpint(c.use_count(), ==, 1);
}

/* Segments with ids: id % 3 == 0 a shared one (a distinct pointer into @p pool, a packet),
 * else an inline one whose bytes encode the id. */
struct IdQueue {
    SendQueue queue;
    std::deque<Expected> model;
    std::deque<uint32_t> ids;
    std::shared_ptr<const Bytes> pool = make_bytes(64 * 1024, 0);
    uint32_t next = 0;
    size_t offset = 0; /* of the front */

    void push() {
        const uint32_t id = next++;
        if (id % 3 == 0) {
            const uint8_t *data = pool->data() + (id * 7) % (pool->size() - 16);
            const size_t len = 1 + id % 11;
            queue.push_shared(pool, data, len, true);
            model.push_back(expect_shared(data, len, true));
        } else {
            uint8_t bytes[kInline];
            const size_t len = 4 + id % (kInline - 3); /* 4 to kInline */
            for (size_t i = 0; i < len; ++i)
                bytes[i] = uint8_t((id >> (8 * (i % 4))) + i / 4);
            queue.push_inline(bytes, len);
            model.push_back(expect_inline(bytes, len));
        }
        ids.push_back(id);
    }

    /* Writes the front segment, in two writes when it has more than one byte left. */
    void pop() {
        const size_t left = model.front().len - offset;
        size_t packets = 0;
        if (left > 1) {
            g_assert_cmpuint(queue.advance(1), ==, 0);
            offset += 1;
            check();
            packets = queue.advance(left - 1);
        } else {
            packets = queue.advance(left);
        }
        g_assert_cmpuint(packets, ==, model.front().ends_packet ? 1 : 0);
        model.pop_front();
        ids.pop_front();
        offset = 0;
    }

    void check() const { check_gather(queue, model, offset); }
};

/* 10 segments queued, 1,000 pushed and written one at a time: the ring of 16 wraps many
 * times; then 100 more pushed with the ring wrapped (its first growth, 16 → 32, from a
 * head in the middle). Then each later growth (→ 64, → 128, → 256) from a wrapped ring
 * too: a full ring grows, and its head is off slot 0 after some pushes and writes that are
 * not a multiple of its size. And a ring of 16 growing from each of its head positions.
 * The order of the segments is checked at every step. */
void test_wraps_and_grows() {
    IdQueue q;
    for (int i = 0; i < 10; ++i)
        q.push();
    q.check();
    for (int i = 0; i < 1000; ++i) {
        q.push();
        q.check();
        q.pop();
        q.check();
    }
    g_assert_cmpuint(q.ids.front(), ==, 1000);
    g_assert_cmpuint(q.model.size(), ==, 10);
    for (int i = 0; i < 100; ++i) {
        q.push();
        q.check();
    }
    g_assert_cmpuint(q.model.size(), ==, 110);
    g_assert_cmpuint(q.ids.front(), ==, 1000);
    g_assert_cmpuint(q.ids.back(), ==, 1109);
    /* Drained (two written for one pushed) to 10 queued, each segment in two writes. */
    for (int i = 0; i < 200; ++i) {
        q.pop();
        q.check();
        if (i % 2 == 0) {
            q.push();
            q.check();
        }
    }
    g_assert_cmpuint(q.model.size(), ==, 10);
    g_assert_cmpuint(q.ids.front(), ==, 1200);
    while (!q.model.empty()) {
        q.pop();
        q.check();
    }
    g_assert_true(q.queue.empty());
    g_assert_cmpuint(q.ids.size(), ==, 0);

    /* Every growth from a wrapped ring: the ring is 16, 32, 64, 128 and full when the push
     * of segment capacity + 1 grows it; before, 3 × capacity + 5 pushes and writes. */
    IdQueue g;
    for (size_t capacity = 16; capacity <= 128; capacity *= 2) {
        while (g.model.size() < capacity / 2 + 1)
            g.push();
        for (size_t i = 0; i < 3 * capacity + 5; ++i) {
            g.push();
            g.pop();
        }
        g.check();
        while (g.model.size() < capacity + 1) {
            g.push();
            g.check();
        }
    }
    g_assert_cmpuint(g.model.size(), ==, 129);
    while (!g.model.empty()) {
        g.pop();
        g.check();
    }

    /* A ring of 16 growing from each head position. */
    for (int start = 0; start < 16; ++start) {
        IdQueue r;
        for (int i = 0; i < start; ++i) {
            r.push();
            r.pop();
        }
        for (int i = 0; i < 40; ++i) {
            r.push();
            r.check();
        }
        while (!r.model.empty()) {
            r.pop();
            r.check();
        }
    }
}

/* A ring grown of kMany segments or more and drained is empty, releases what it kept, and works
 * as before, again and again. */
void test_releases_large_ring() {
    SendQueue queue;
    const uint8_t head[4] = {'$', 'D', 1, 2};
    for (const size_t count : {kMany + 1, 4 * kMany, kMany, kMany + 1}) {
        std::vector<std::weak_ptr<const Bytes>> weaks;
        std::deque<Expected> model;
        size_t total = 0;
        size_t packets = 0;
        for (size_t i = 0; i < count; ++i) {
            if (i % 2 == 0) {
                queue.push_inline(head, 4);
                model.push_back(expect_inline(head, 4));
                total += 4;
            } else {
                auto bytes = make_bytes(10 + i % 5, uint8_t(i));
                weaks.push_back(bytes);
                const uint8_t *data = bytes->data();
                const size_t len = bytes->size();
                queue.push_shared(std::move(bytes), data, len, true);
                model.push_back(expect_shared(data, len, true));
                total += len;
                ++packets;
            }
        }
        check_gather(queue, model, 0);
        /* Written in a few uneven writes, the last one emptying it. */
        size_t done = 0;
        size_t completed = 0;
        for (size_t step = 7; done < total; step = step * 3 + 1) {
            const size_t n = std::min(step, total - done);
            completed += queue.advance(n);
            done += n;
        }
        g_assert_cmpuint(completed, ==, packets);
        g_assert_true(queue.empty());
        GOutputVector v[2];
        g_assert_cmpuint(queue.gather(v, 2), ==, 0);
        for (const auto &weak : weaks)
            g_assert_true(weak.expired());

        /* Used again. */
        const auto after = make_bytes(9, 0);
        const uint8_t next[6] = {'$', 'C', 5, 6, 7, 8};
        queue.push_inline(next, 6);
        queue.push_shared(after, after->data() + 1, 8, true);
        g_assert_cmpuint(queue.gather(v, 2), ==, 2);
        g_assert_cmpmem(v[0].buffer, v[0].size, next, 6);
        g_assert_true(v[1].buffer == after->data() + 1);
        g_assert_cmpuint(v[1].size, ==, 8);
        g_assert_cmpuint(queue.advance(3), ==, 0);
        g_assert_cmpuint(queue.gather(v, 2), ==, 2);
        g_assert_cmpmem(v[0].buffer, v[0].size, next + 3, 3);
        g_assert_cmpuint(queue.advance(3 + 8), ==, 1);
        g_assert_true(queue.empty());
        g_assert_cmpint(after.use_count(), ==, 1);
    }

    /* Drained one segment at a time, the ring being released at the last of them. */
    std::vector<std::weak_ptr<const Bytes>> weaks;
    for (size_t i = 0; i < 2 * kMany; ++i) {
        auto bytes = make_bytes(2, uint8_t(i));
        weaks.push_back(bytes);
        const uint8_t *data = bytes->data();
        queue.push_shared(std::move(bytes), data, 2, i % 2 == 0);
    }
    for (size_t i = 0; i < weaks.size(); ++i) {
        g_assert_false(weaks[i].expired());
        GOutputVector v[1];
        g_assert_cmpuint(queue.gather(v, 1), ==, 1);
        g_assert_true(v[0].buffer == weaks[i].lock()->data());
        g_assert_cmpuint(queue.advance(2), ==, i % 2 == 0 ? 1 : 0);
        g_assert_true(weaks[i].expired());
    }
    g_assert_true(queue.empty());
    const auto last = make_bytes(4, 0);
    queue.push_shared(last, last->data(), 4, true);
    GOutputVector v[2];
    g_assert_cmpuint(queue.gather(v, 2), ==, 1);
    g_assert_true(v[0].buffer == last->data());
    g_assert_cmpuint(queue.advance(4), ==, 1);
    g_assert_true(queue.empty());
}

/* Fill @p queue with @p count segments and write them all. */
void write_through(SendQueue &queue, size_t count) {
    const auto bytes = make_bytes(8, 0);
    for (size_t i = 0; i < count; ++i)
        queue.push_shared(bytes, bytes->data(), 8, true);
    g_assert_cmpuint(queue.advance(8 * count), ==, count);
    g_assert_true(queue.empty());
}

/* A ring keeps its slots while its writes use them; one more than four times larger than
 * its last write needed (grown by a burst) is released when it empties, a first ring never. */
void test_capacity_follows_use() {
    SendQueue queue;
    g_assert_cmpuint(queue.capacity(), ==, 0);
    write_through(queue, 3);
    g_assert_cmpuint(queue.capacity(), ==, SendQueue::kFirstSlots);
    write_through(queue, kMany); /* a burst: grows, and is kept while so used */
    g_assert_cmpuint(queue.capacity(), ==, kMany);
    for (int i = 0; i < 5; ++i) {
        write_through(queue, kMany / 4); /* a quarter: kept */
        g_assert_cmpuint(queue.capacity(), ==, kMany);
    }
    write_through(queue, kMany / 4 - 1); /* less: released */
    g_assert_cmpuint(queue.capacity(), ==, 0);
    write_through(queue, 3);
    g_assert_cmpuint(queue.capacity(), ==, SendQueue::kFirstSlots);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/send-queue/order", test_order);
    g_test_add_func("/send-queue/partial-advance", test_partial_advance);
    g_test_add_func("/send-queue/gather-max", test_gather_max);
    g_test_add_func("/send-queue/keeps-memory-alive", test_keeps_memory_alive);
    g_test_add_func("/send-queue/wraps-and-grows", test_wraps_and_grows);
    g_test_add_func("/send-queue/releases-large-ring", test_releases_large_ring);
    g_test_add_func("/send-queue/capacity-follows-use", test_capacity_follows_use);
    return g_test_run();
}
