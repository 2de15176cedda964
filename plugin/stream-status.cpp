/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "stream-status.h"

namespace wmstream::plugin {

namespace {

GstStreamStatusType to_gst(ThreadEvent event) {
    switch (event) {
    case ThreadEvent::Create:
        return GST_STREAM_STATUS_TYPE_CREATE;
    case ThreadEvent::Enter:
        return GST_STREAM_STATUS_TYPE_ENTER;
    case ThreadEvent::Leave:
        break;
    }
    return GST_STREAM_STATUS_TYPE_LEAVE;
}

} // namespace

ThreadHook StreamStatus::hook() {
    return [this](ThreadEvent event, const char *) { post(event); };
}

void StreamStatus::post(ThreadEvent event) {
    GstElement *element = element_.load();
    if (!element)
        return;
    GstMessage *message =
        gst_message_new_stream_status(GST_OBJECT(element), to_gst(event), element);
    if (event != ThreadEvent::Create) {
        /* The thread itself, as a GThread (GLib wraps a thread it did not create). */
        GValue thread = G_VALUE_INIT;
        g_value_init(&thread, G_TYPE_THREAD);
        g_value_set_boxed(&thread, g_thread_self());
        gst_message_set_stream_status_object(message, &thread);
        g_value_unset(&thread);
    }
    gst_element_post_message(element, message);
}

} // namespace wmstream::plugin
