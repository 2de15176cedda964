/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/server/stream-switch: what a client receives while a
 * SelectStream switches its streams (MS-WMSP §3.2.5.7): both selections
 * until each new stream has begun with a key frame, then the new one.
 */
#include "server/stream-switch.h"
#include "stream-numbers.h"

#include <glib.h>

#include <initializer_list>

using namespace wmstream;
using wmstream::proto::asf::StreamSelection;
using wmstream::server::StreamSwitch;
using wmstream::test::selection_of;
using wmstream::test::stream_bits;

namespace {

/* Video 1 replaced by video 2, audio 4 kept: 1 goes on until 2 has begun. */
void test_replace() {
    const StreamSwitch change(selection_of({1, 4}), selection_of({2, 4}));
    g_assert_true(change.during() == selection_of({1, 2, 4}));
    g_assert_true(change.target() == selection_of({2, 4}));
    g_assert_true(change.waiting() == stream_bits({2}));
    g_assert_false(change.done(stream_bits({1, 4})));
    g_assert_true(change.done(stream_bits({1, 2, 4})));
}

/* Thinned at once; back to whole video only from a key frame; nothing new: done at once. */
void test_thinning() {
    const StreamSwitch thin(selection_of({1, 4}), selection_of({1, 4}, {1}));
    g_assert_true(thin.during() == selection_of({1, 4}, {1}));
    g_assert_true(thin.waiting().none());
    g_assert_true(thin.done(stream_bits({})));

    const StreamSwitch unthin(selection_of({1, 4}, {1}), selection_of({1, 4}));
    g_assert_true(unthin.during() == selection_of({1, 4}));
    g_assert_true(unthin.waiting() == stream_bits({1}));
}

/* A stream turned off stays (at its level) until the new ones have begun. */
void test_off_and_added_thinned() {
    const StreamSwitch change(selection_of({1, 3}, {3}), selection_of({2}, {2}));
    g_assert_true(change.during() == selection_of({1, 2, 3}, {2, 3}));
    g_assert_true(change.waiting() == stream_bits({2}));
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/stream-switch/replace", test_replace);
    g_test_add_func("/stream-switch/thinning", test_thinning);
    g_test_add_func("/stream-switch/off-and-added-thinned", test_off_and_added_thinned);
    return g_test_run();
}
