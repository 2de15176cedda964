/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GstURIHandler::set_uri for an element whose URI is its "location"
 * property (wmpushsink, wmsrc): the URI checked by the element's core,
 * stored unless the element is open, the property notified.
 */
#pragma once

#include "base/error.h"
#include "properties.h"

#include <gst/gst.h>

#include <string>

namespace wmstream::plugin {

/**
 * Store @p uri in the location field (@p access, as the property table's
 * accessors) of @p store and notify @p location_spec on @p element.
 * @param checked the core's verdict on @p uri.
 * @return FALSE with GST_URI_ERROR_BAD_URI (the verdict's message) when
 *         @p checked failed, with GST_URI_ERROR_BAD_STATE while the element
 *         is open; TRUE when stored.
 */
template <typename Settings, typename Access>
gboolean set_uri_location(PropertyStore<Settings> &store, GObject *element,
                          GParamSpec *location_spec, const char *uri, const Status &checked,
                          Access access, GError **error) {
    if (!checked) {
        g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "%s",
                    checked.error().message.c_str());
        return FALSE;
    }
    if (!store.write_unless_open([&](Settings &settings) { access(settings) = uri; })) {
        g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
                    "Cannot change the URI of %s while it is open", GST_OBJECT_NAME(element));
        return FALSE;
    }
    g_object_notify_by_pspec(element, location_spec);
    return TRUE;
}

} // namespace wmstream::plugin
