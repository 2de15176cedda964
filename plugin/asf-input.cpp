/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "asf-input.h"

#include "errors.h"

namespace wmstream::plugin {

bool caps_stream_header(GstElement *element, GstCaps *caps, GstBuffer **header) {
    *header = nullptr;
    const GValue *headers =
        gst_structure_get_value(gst_caps_get_structure(caps, 0), "streamheader");
    if (!headers) {
        GST_DEBUG_OBJECT(element, "no streamheader in caps, the header comes as a HEADER buffer");
        return true;
    }
    if (!GST_VALUE_HOLDS_ARRAY(headers) || gst_value_array_get_size(headers) == 0 ||
        !GST_VALUE_HOLDS_BUFFER(gst_value_array_get_value(headers, 0))) {
        WMSTREAM_POST_ERROR(
            element, GST_MESSAGE_ERROR,
            make_error(Errc::InvalidData, "caps streamheader is not an array of buffers"),
            "The stream header is not an ASF header.", nullptr);
        return false;
    }
    *header = gst_value_get_buffer(gst_value_array_get_value(headers, 0));
    GST_DEBUG_OBJECT(element, "stream header from caps: %" G_GSIZE_FORMAT " bytes",
                     gst_buffer_get_size(*header));
    return true;
}

void post_asf_input_error(GstElement *element, const Error &error, bool header, size_t size) {
    WMSTREAM_POST_ERROR(element, GST_MESSAGE_ERROR, error,
                        header ? "The stream header is not an ASF header."
                               : "The stream contains data that is not an ASF data packet.",
                        gst_structure_new("context", "size", G_TYPE_UINT64,
                                          static_cast<guint64>(size), "header", G_TYPE_BOOLEAN,
                                          header, nullptr));
}

} // namespace wmstream::plugin
