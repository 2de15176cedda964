/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error-check.h"

namespace wmtest {

std::string debug_text(GstMessage *message) {
    GError *error = nullptr;
    gchar *debug = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
        gst_message_parse_error(message, &error, &debug);
    else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING)
        gst_message_parse_warning(message, &error, &debug);
    std::string text = std::string(error ? error->message : "") + " | " + (debug ? debug : "");
    g_clear_error(&error);
    g_free(debug);
    return text;
}

const GstStructure *assert_error(GstMessage *message, GQuark domain, gint code,
                                 const char *condition, guint hresult) {
    fail_unless(message != nullptr, "no ERROR/WARNING message");
    GError *error = nullptr;
    const GstStructure *details = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        gst_message_parse_error(message, &error, nullptr);
        gst_message_parse_error_details(message, &details);
    } else {
        fail_unless_equals_int(GST_MESSAGE_TYPE(message), GST_MESSAGE_WARNING);
        gst_message_parse_warning(message, &error, nullptr);
        gst_message_parse_warning_details(message, &details);
    }
    fail_unless(error != nullptr);
    fail_unless(error->domain == domain, "domain %s (%s)", g_quark_to_string(error->domain),
                debug_text(message).c_str());
    fail_unless(error->code == code, "code %d, expected %d (%s)", error->code, code,
                debug_text(message).c_str());
    fail_unless(error->message && *error->message, "no user text");
    g_error_free(error);
    fail_unless(details != nullptr, "no details structure");
    fail_unless_equals_string(gst_structure_get_string(details, "condition"), condition);
    guint value = 0;
    fail_unless(gst_structure_get_uint(details, "hresult", &value));
    fail_unless_equals_uint64(value, hresult);
    return details;
}

} // namespace wmtest
