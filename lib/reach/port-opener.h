/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What Firewall and PortMapper share: each opens one port in the background
 * (a job on a thread of its own that reports through PortEvents) and closes
 * it again with a bounded wait. PortOpener is the public shell around that
 * job: at most one at a time, closed when the opener is destroyed.
 *
 * Threading: start/begin_close/close are called from one controlling
 * thread; the job's PortEvents callbacks run on its own thread.
 */
#pragma once

#include "base/error.h"
#include "reach/types.h"

#include <cstdint>
#include <functional>
#include <memory>

namespace wmstream::reach {

/** One opening in progress: made by PortOpener::start, closed by it. */
class PortJob {
public:
    virtual ~PortJob() = default;
    /** Start undoing what was done. Returns at once. */
    virtual void begin_close() = 0;
    /** begin_close(), then wait (bounded by the job's config) and stop its thread. */
    virtual void close() = 0;
};

class PortOpener {
public:
    /** @p events may be null; when not, it must outlive the opener. */
    explicit PortOpener(PortEvents *events) : events_(events) {}
    virtual ~PortOpener(); /**< close()s */
    PortOpener(const PortOpener &) = delete;
    PortOpener &operator=(const PortOpener &) = delete;

    /** Start closing: the job undoes what it did. Returns at once. Does nothing when not open. */
    void begin_close();

    /**
     * Close: begin_close(), then wait for the job's Close report at most its
     * close timeout after begin_close(). No callback runs after it returns.
     * Idempotent.
     */
    void close();

protected:
    /**
     * Start the job @p make returns, for @p port.
     * @return InvalidRequest when a job is already running ("@p what is
     *         already open"), InvalidArgument for port 0.
     */
    Status start(uint16_t port, const char *what,
                 const std::function<std::unique_ptr<PortJob>(PortEvents *)> &make);

private:
    PortEvents *events_;
    std::unique_ptr<PortJob> job_;
};

} // namespace wmstream::reach
