/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "errors.h"

namespace wmstream::plugin {

GstErrorCode gst_error_code(Errc code) {
    switch (code) {
    case Errc::PortInUse:
        return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_BUSY};
    case Errc::InvalidArgument:
    case Errc::InvalidRequest:
        return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS};
    case Errc::AccessDenied:
        return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED};
    case Errc::NetworkFailure:
    case Errc::ConnectionFailure:
        return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE};
    case Errc::InvalidName:
    case Errc::InvalidClient:
        return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND};
    case Errc::NoConnection:
        return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE};
    case Errc::InvalidData:
        return {GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT};
    case Errc::BufferTooSmall:
    case Errc::Failed:
        break;
    }
    return {GST_CORE_ERROR, GST_CORE_ERROR_FAILED};
}

void post_error_message(GstElement *element, GstMessageType type, const Error &error,
                        const std::string &user_text, GstStructure *context, const char *file,
                        const char *function, int line) {
    g_return_if_fail(type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING);

    GstErrorCode gst_code = gst_error_code(error.code);
    /* A source opens and reads what a sink opens and writes. */
    if (GST_OBJECT_FLAG_IS_SET(element, GST_ELEMENT_FLAG_SOURCE) &&
        gst_code.domain == GST_RESOURCE_ERROR) {
        if (gst_code.code == GST_RESOURCE_ERROR_OPEN_WRITE)
            gst_code.code = GST_RESOURCE_ERROR_OPEN_READ;
        else if (gst_code.code == GST_RESOURCE_ERROR_WRITE)
            gst_code.code = GST_RESOURCE_ERROR_READ;
    }
    const Condition cond = condition(error.code);

    GstStructure *details = context ? context : gst_structure_new_empty("details");
    gst_structure_set_name(details, "details");
    gst_structure_set(details, "condition", G_TYPE_STRING, cond.name, "hresult", G_TYPE_UINT,
                      static_cast<guint>(cond.hresult), nullptr);

    gchar *debug = g_strdup_printf("%s (%s, %s 0x%08X)", error.message.c_str(),
                                   to_string(error.code), cond.name, cond.hresult);
    gst_element_message_full_with_details(element, type, gst_code.domain, gst_code.code,
                                          g_strdup(user_text.c_str()), debug, file, function, line,
                                          details);
}

} // namespace wmstream::plugin
