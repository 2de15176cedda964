/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wmstream plugin: registration, and the core's log routed into GStreamer's.
 */
#include "core-log.h"
#include "gstwmnetsink.h"
#include "gstwmpushsink.h"
#include "gstwmsrc.h"

#include <gst/gst.h>

static gboolean plugin_init(GstPlugin *plugin) {
    wmstream::plugin::route_core_log();
    return GST_ELEMENT_REGISTER(wmnetsink, plugin) && GST_ELEMENT_REGISTER(wmpushsink, plugin) &&
           GST_ELEMENT_REGISTER(wmsrc, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, wmstream,
                  "Windows Media network streaming (MS-WMSP / HTTP) of live ASF", plugin_init,
                  VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
