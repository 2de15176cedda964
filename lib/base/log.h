/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's logging, free of GStreamer: every log line of lib/ goes through
 * one process-wide sink, GLib's log (domain "wmstream") unless an embedder
 * installs its own. The plugin installs one that writes to the GStreamer
 * debug category "wmstream" (plugin/plugin.cpp), so one GST_DEBUG line shows
 * the core with the elements, with timestamps and threads.
 */
#pragma once

#include <glib.h>

namespace wmstream::log {

/** Severity: something went wrong that the caller handles (Warning), or a detail (Debug). */
enum class Level { Warning, Debug };

/**
 * Where the core's lines go: the level, the source location and the text
 * (without a newline). Called on the thread that logs, any thread of the
 * core: it must be thread-safe, return quickly and not log through
 * wmstream::log itself.
 */
using Sink = void (*)(Level level, const char *file, int line, const char *function,
                      const char *message);

/** Install @p sink for every later line; nullptr = GLib's log (domain "wmstream"). */
void set_sink(Sink sink);

/** Format (printf) and hand one line to the sink; use the WMSTREAM_LOG_* macros. */
void write(Level level, const char *file, int line, const char *function, const char *format, ...)
    G_GNUC_PRINTF(5, 6);

} // namespace wmstream::log

#define WMSTREAM_LOG_WARNING(...)                                                                  \
    ::wmstream::log::write(::wmstream::log::Level::Warning, __FILE__, __LINE__, __func__,          \
                           __VA_ARGS__)
#define WMSTREAM_LOG_DEBUG(...)                                                                    \
    ::wmstream::log::write(::wmstream::log::Level::Debug, __FILE__, __LINE__, __func__, __VA_ARGS__)
