/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ThreadHook: how the core tells its embedder about each thread it starts
 * (an EventLoop's thread, the fan-out server's send helpers), so that the
 * embedder can act on the thread itself: set its priority or CPU, name it,
 * or, in the plugin, post GStreamer's STREAM_STATUS messages, which is how a
 * GstTask announces its thread (design doc "Stream Status"; GstTask calls
 * its enter/leave callbacks on the new thread, and GstPad posts ENTER and
 * LEAVE from them). The core knows no GStreamer: the hook is the embedder's
 * code, injected through the configuration.
 *
 * Contract: Create on the thread that is about to start the new one, Enter
 * as the new thread's first action, Leave as its last; never with a lock of
 * the core held, so the hook may block (a bus sync handler) and call back
 * into the object's public API from Enter. A hook must be thread-safe: the
 * threads of one object call it concurrently.
 */
#pragma once

#include <functional>

namespace wmstream {

enum class ThreadEvent {
    Create, /**< on the starting thread, before the new one exists */
    Enter,  /**< on the new thread, before it does any work */
    Leave,  /**< on the thread, after its work, as it ends */
};

/** @p role names the thread's job, a static string (e.g. "server-io"). */
using ThreadHook = std::function<void(ThreadEvent event, const char *role)>;

} // namespace wmstream
