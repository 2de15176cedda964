/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The caps of a live ASF stream as asfmux streamable=true gives them:
 * video/x-ms-asf with the ASF header (Header Object + Data Object head) as
 * the one buffer of `streamheader`. Header-only, so that the benchmark's
 * source and the tests' push fixtures use the one the plugin's wmsrc uses.
 */
#pragma once

#include <gst/gst.h>

namespace wmstream::plugin {

/** New caps video/x-ms-asf, streamheader = [@p header] (a reference is taken; flag the
 *  buffer GST_BUFFER_FLAG_HEADER before). */
inline GstCaps *asf_caps_with_header(GstBuffer *header) {
    GValue array = G_VALUE_INIT;
    GValue value = G_VALUE_INIT;
    g_value_init(&array, GST_TYPE_ARRAY);
    g_value_init(&value, GST_TYPE_BUFFER);
    gst_value_set_buffer(&value, header);
    gst_value_array_append_and_take_value(&array, &value);
    GstCaps *caps = gst_caps_new_empty_simple("video/x-ms-asf");
    gst_structure_take_value(gst_caps_get_structure(caps, 0), "streamheader", &array);
    return caps;
}

} // namespace wmstream::plugin
