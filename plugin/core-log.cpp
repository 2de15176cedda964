/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core-log.h"

#include "base/log.h"

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC(wmstream_core_debug);

namespace wmstream::plugin {

namespace {

/* Any core thread: gst_debug_log is thread-safe and touches no element. */
void to_gst(log::Level level, const char *file, int line, const char *function,
            const char *message) {
    const GstDebugLevel gst_level =
        level == log::Level::Warning ? GST_LEVEL_WARNING : GST_LEVEL_DEBUG;
    if (gst_level <= gst_debug_category_get_threshold(wmstream_core_debug))
        gst_debug_log(wmstream_core_debug, gst_level, file, function, line, nullptr, "%s", message);
}

} // namespace

void route_core_log() {
    GST_DEBUG_CATEGORY_INIT(wmstream_core_debug, "wmstream", 0,
                            "wmstream core (lib/): server, push client, port reachability");
    log::set_sink(to_gst);
}

} // namespace wmstream::plugin
