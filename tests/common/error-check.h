/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks of the ERROR and WARNING messages the elements post, shared by the
 * wmnetsink and wmpushsink GstCheck tests.
 */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <string>

namespace wmtest {

/**
 * Assert @p message is an ERROR or WARNING with @p domain / @p code, a
 * user text, and @p condition / @p hresult in its details.
 * @return the details structure (borrowed).
 */
const GstStructure *assert_error(GstMessage *message, GQuark domain, gint code,
                                 const char *condition, guint hresult);
/** The debug text of an ERROR or WARNING. */
std::string debug_text(GstMessage *message);

} // namespace wmtest
