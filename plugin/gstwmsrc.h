/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmsrc: receives a live ASF stream from an MS-WMSP server (mmsh://), as a
 * player or a distribution server does. See gstwmsrc.cpp.
 */
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WM_SRC (gst_wm_src_get_type())
G_DECLARE_FINAL_TYPE(GstWmSrc, gst_wm_src, GST, WM_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE(wmsrc);

G_END_DECLS
