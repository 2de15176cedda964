/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle.h"

namespace wmstream::plugin {

GstStateChangeReturn change_state(LifecycleSteps &steps, GstElement *element,
                                  GstStateChange transition, GstElementClass *parent_class) {
    switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
        if (!steps.open())
            return GST_STATE_CHANGE_FAILURE;
        break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
        steps.activate();
        break;
    default:
        break;
    }

    const GstStateChangeReturn ret = parent_class->change_state(element, transition);

    switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
        if (ret == GST_STATE_CHANGE_FAILURE)
            steps.close();
        break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
        if (ret == GST_STATE_CHANGE_FAILURE)
            steps.deactivate();
        break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
        steps.deactivate();
        break;
    case GST_STATE_CHANGE_READY_TO_NULL:
        steps.close();
        break;
    default:
        break;
    }
    return ret;
}

} // namespace wmstream::plugin
