/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's log (lib/base/log.h) into GStreamer's debug log: category
 * "wmstream", beside the elements' "wmnetsink" and "wmpushsink", so that
 * GST_DEBUG=wm*:6 shows the core and the glue in one stream, with
 * timestamps and threads.
 */
#pragma once

namespace wmstream::plugin {

/** Install the sink (once, at plugin init); the category is made then. */
void route_core_log();

} // namespace wmstream::plugin
