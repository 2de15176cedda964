/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "properties.h"

#include "errors.h"

#include <gst/gst.h>

namespace wmstream::plugin {

GParamFlags param_flags(Mutability mutability) {
    constexpr auto writable = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                       G_PARAM_EXPLICIT_NOTIFY);
    switch (mutability) {
    case Mutability::Fixed:
    case Mutability::NextOpen:
        return static_cast<GParamFlags>(writable | GST_PARAM_MUTABLE_READY);
    case Mutability::Any:
        return writable;
    case Mutability::ReadOnly:
        break;
    }
    return static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
}

void post_refused_change(GObject *element, GParamSpec *pspec) {
    GST_WARNING_OBJECT(element, "refusing to change '%s' while open", pspec->name);
    WMSTREAM_POST_ERROR(
        element, GST_MESSAGE_WARNING,
        make_error(Errc::InvalidRequest,
                   std::string("'") + pspec->name + "' is fixed from NULL→READY until READY→NULL"),
        std::string("Cannot change '") + pspec->name + "' while the sink is open.",
        gst_structure_new("context", "property", G_TYPE_STRING, pspec->name, nullptr));
}

} // namespace wmstream::plugin
