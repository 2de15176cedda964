/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * From the core's typed errors to GStreamer errors: the GError domain and
 * code for each wmstream::Errc, and one helper that posts an ERROR or
 * WARNING carrying the Windows Media condition in its details structure.
 * Element-agnostic: shared by every element of the plugin.
 */
#pragma once

#include "base/error.h"

#include <gst/gst.h>
#include <string>

namespace wmstream::plugin {

/** A GError domain and code, e.g. GST_RESOURCE_ERROR / GST_RESOURCE_ERROR_BUSY. */
struct GstErrorCode {
    GQuark domain;
    gint code;
};

/**
 * The GStreamer error for @p code (docs/errors.md, element spec "Errors"):
 * PortInUse → RESOURCE/BUSY, InvalidArgument and InvalidRequest →
 * RESOURCE/SETTINGS, AccessDenied → RESOURCE/NOT_AUTHORIZED, NetworkFailure
 * and ConnectionFailure → RESOURCE/OPEN_WRITE, InvalidName and InvalidClient
 * → RESOURCE/NOT_FOUND, NoConnection → RESOURCE/WRITE, InvalidData →
 * STREAM/FORMAT, BufferTooSmall and Failed → CORE/FAILED.
 */
GstErrorCode gst_error_code(Errc code);

/**
 * Post an ERROR or WARNING message for @p error from @p element.
 *
 * The GError is gst_error_code(error.code) (OPEN_READ and READ instead of
 * OPEN_WRITE and WRITE from a source element) with @p user_text as its message;
 * the debug text is error.message. The details structure (named "details")
 * holds "condition" (string, e.g. "NS_E_NETWORK_RESOURCE_FAILURE") and
 * "hresult" (guint, e.g. 0xC00D0028) from wmstream::condition(), plus every
 * field of @p context (e.g. "port", "address"). Use the WMSTREAM_POST_ERROR
 * macro to record the caller's source position.
 *
 * @param type GST_MESSAGE_ERROR or GST_MESSAGE_WARNING.
 * @param context extra fields (transfer full), may be null.
 */
void post_error_message(GstElement *element, GstMessageType type, const Error &error,
                        const std::string &user_text, GstStructure *context, const char *file,
                        const char *function, int line);

} // namespace wmstream::plugin

/** post_error_message() with the caller's file, function and line. */
#define WMSTREAM_POST_ERROR(element, type, error, user_text, context)                              \
    wmstream::plugin::post_error_message(GST_ELEMENT(element), type, error, user_text, context,    \
                                         __FILE__, GST_FUNCTION, __LINE__)
