/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fixture loading for the unit tests: files below tests/data/, found through
 * WMSTREAM_TEST_DATA (meson sets it to the source directory). */
#pragma once

#include <glib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wmstream::test {

/** Contents of tests/data/@p relative (e.g. "requests/vlc-play.http"). */
inline std::string load_text(const char *relative) {
    const char *dir = g_getenv("WMSTREAM_TEST_DATA");
    g_assert_nonnull(dir);
    g_autofree char *path = g_build_filename(dir, relative, nullptr);
    g_autofree char *contents = nullptr;
    gsize len = 0;
    g_autoptr(GError) error = nullptr;
    g_file_get_contents(path, &contents, &len, &error);
    g_assert_no_error(error);
    return std::string(contents, len);
}

/** The same as bytes. */
inline std::vector<uint8_t> load_bytes(const char *relative) {
    const std::string text = load_text(relative);
    return std::vector<uint8_t>(text.begin(), text.end());
}

} // namespace wmstream::test
