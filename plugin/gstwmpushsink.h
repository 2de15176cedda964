/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmpushsink: pushes a live ASF stream to a Windows Media publishing point
 * over MS-WMHTTP (IWMWriterPushSink). See gstwmpushsink.cpp.
 */
#pragma once

#include <gst/base/gstbasesink.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WM_PUSH_SINK (gst_wm_push_sink_get_type())
G_DECLARE_FINAL_TYPE(GstWmPushSink, gst_wm_push_sink, GST, WM_PUSH_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE(wmpushsink);

G_END_DECLS
