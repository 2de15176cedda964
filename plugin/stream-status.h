/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GST_MESSAGE_STREAM_STATUS for the threads a sink owns (its relay thread
 * and the core's threads, through the core's ThreadHook): CREATE posted by
 * the thread that starts one (no object yet), ENTER first thing on the new
 * thread and LEAVE last thing on it, with the GThread as the message's
 * object and the sink as source and owner. Posting a stream-status message
 * from the thread itself is GStreamer's own convention (GstTask's thread
 * callbacks, from which GstPad posts ENTER and LEAVE); an application's bus
 * sync handler then runs on that thread and can set its priority. The core
 * calls the hook with no lock of its own held.
 */
#pragma once

#include "base/thread-hook.h"

#include <gst/gst.h>

#include <atomic>

namespace wmstream::plugin {

class StreamStatus {
public:
    explicit StreamStatus(GstElement *element) : element_(element) {}
    StreamStatus(const StreamStatus &) = delete;
    StreamStatus &operator=(const StreamStatus &) = delete;

    /** The hook to give the core (and the relay); valid as long as this object. */
    ThreadHook hook();

    /** Post nothing from now on (the element is being finalized; a thread still running
     *  then leaves silently). */
    void detach() { element_.store(nullptr); }

private:
    void post(ThreadEvent event);

    std::atomic<GstElement *> element_;
};

} // namespace wmstream::plugin
