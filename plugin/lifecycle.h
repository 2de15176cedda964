/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one lifecycle of the plugin's sinks, in GstElement::change_state:
 * NULL→READY opens the core (IWMWriterNetworkSink::Open,
 * IWMWriterPushSink::Connect) before the parent class's change, READY→NULL
 * closes it after; READY→PAUSED activates and PAUSED→READY deactivates. Not
 * in GstBaseSink::start(): basesink posts its own "Failed to start" ERROR
 * after a failed start(), and a failure must post exactly one ERROR, the
 * sink's. Also starts the relay thread before the core opens and stops it
 * (running what the core reported) after the core closed, and marks the
 * property values open and closed. Element-agnostic.
 */
#pragma once

#include "properties.h"
#include "relay.h"
#include "stream-status.h"

#include <gst/gst.h>

namespace wmstream::plugin {

/** The steps change_state() runs. */
class LifecycleSteps {
public:
    /** NULL→READY, before the parent's change: false fails the change. */
    virtual bool open() = 0;
    /** READY→NULL after the parent's change, or a NULL→READY the parent failed. */
    virtual void close() = 0;
    /** READY→PAUSED, before the parent's change. */
    virtual void activate() {}
    /** PAUSED→READY after the parent's change, or a READY→PAUSED the parent failed. */
    virtual void deactivate() {}

protected:
    ~LifecycleSteps() = default;
};

/** GstElement::change_state of a sink with @p steps; @p parent_class is the sink's. */
GstStateChangeReturn change_state(LifecycleSteps &steps, GstElement *element,
                                  GstStateChange transition, GstElementClass *parent_class);

/**
 * A sink's C++ state: its property values, its relay thread and its
 * lifecycle. The element implements open_core() and close_core() (and
 * closed(), activate(), deactivate() when it needs them).
 */
template <typename Settings>
class Lifecycle : public LifecycleSteps {
public:
    /** The property values and whether the sink is open. */
    PropertyStore<Settings> settings_;
    /** STREAM_STATUS for the relay and the core's threads (the core gets
     *  stream_status_.hook()); detach() it in finalize. Declared before the relay and the core
     *  objects, whose threads it reports, so that it outlives them. */
    StreamStatus stream_status_;

protected:
    explicit Lifecycle(GstElement *element) : stream_status_(element) {}
    ~Lifecycle() = default;

    /** Open the core with @p settings; the relay runs. On failure post the one ERROR
     *  (on this thread) and return false: nothing may stay open. */
    virtual bool open_core(const Settings &settings) = 0;
    /** Close the core; what it reports still reaches the relay. */
    virtual void close_core() = 0;
    /** After the core closed and the relay ran its last task (e.g. notifications). */
    virtual void closed() {}

    /** Runs the core's events as GStreamer work, off the core's threads. Declared before the
     *  element's core objects, so that it outlives them. */
    Relay relay_;

private:
    bool open() final {
        const Settings settings = settings_.open();
        relay_.start(stream_status_.hook());
        if (open_core(settings))
            return true;
        relay_.stop();
        settings_.close();
        return false;
    }

    void close() final {
        close_core();
        relay_.stop();
        settings_.close();
        closed();
    }
};

} // namespace wmstream::plugin
