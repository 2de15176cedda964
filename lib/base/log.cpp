/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/log.h"

#include <atomic>
#include <cstdarg>
#include <string>

namespace wmstream::log {

namespace {

std::atomic<Sink> installed{nullptr};

void to_glib(Level level, const char *file, int line, const char *function, const char *message) {
    const GLogLevelFlags flags = level == Level::Warning ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_DEBUG;
    const std::string where = std::to_string(line);
    /* Only MESSAGE's value is a format; the other values are plain strings. */
    g_log_structured("wmstream", flags, "CODE_FILE", file, "CODE_LINE", where.c_str(), "CODE_FUNC",
                     function, "MESSAGE", "%s", message);
}

} // namespace

void set_sink(Sink sink) {
    installed.store(sink, std::memory_order_release);
}

void write(Level level, const char *file, int line, const char *function, const char *format, ...) {
    va_list args;
    va_start(args, format);
    g_autofree gchar *message = g_strdup_vprintf(format, args);
    va_end(args);
    const Sink sink = installed.load(std::memory_order_acquire);
    (sink ? sink : to_glib)(level, file, line, function, message);
}

} // namespace wmstream::log
