/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of peer text made printable (lib/base/text.h). */
#include "base/text.h"

#include <glib.h>

#include <string>

using wmstream::printable;

namespace {

/* A User-Agent that would retitle and clear the terminal prints as inert text. */
void test_escape_sequences() {
    const std::string agent = "curl\x1b]2;owned\x07\x1b[2J\r\n\x7f\xc3\xa9";
    const std::string shown = printable(agent);
    g_assert_cmpstr(shown.c_str(), ==, "curl\\x1b]2;owned\\x07\\x1b[2J\\x0d\\x0a\\x7f\\xc3\\xa9");
    for (const char c : shown)
        g_assert_true(c >= 0x20 && c < 0x7f);
    g_assert_true(printable(std::string("a\0b", 3)) == "a\\x00b");
}

void test_printable_unchanged_and_cut() {
    /* Compared as std::string: g_assert_cmpstr() would read a temporary's c_str() after it
     * died. */
    g_assert_true(printable("NSPlayer/9.0.0.2980 (x; y)") == "NSPlayer/9.0.0.2980 (x; y)");
    g_assert_true(printable("").empty());
    g_assert_true(printable("abcdef", 4) == "abcd...");
    g_assert_true(printable("abcd", 4) == "abcd");
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/text/escape-sequences", test_escape_sequences);
    g_test_add_func("/text/printable-unchanged-and-cut", test_printable_unchanged_and_cut);
    return g_test_run();
}
