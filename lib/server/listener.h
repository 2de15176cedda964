/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The listening socket of the fan-out server: bind and listen (dual-stack
 * when no address is given), accept on the I/O thread's main context, pause
 * accepting while the process is out of file descriptors, and admit peers
 * by address (allow/deny), and accept only while the server has room.
 * Each accepted, admitted socket goes to one callback, each refused peer to
 * another: admission limits belong here.
 *
 * Threading: bind(), start() and the destructor on the application thread
 * while no thread runs the context; set_accepting() on the thread that runs
 * it, where the callbacks run too. Includes base/, types.h and access.h only.
 */
#pragma once

#include "base/error.h"
#include "server/access.h"
#include "server/types.h"

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace wmstream::server {

/** Where the listener reports, on the thread that runs its context. */
struct ListenerCallbacks {
    /** A connection accepted and admitted: non-blocking, TCP_NODELAY; the callee owns it. */
    std::function<void(GSocket *socket)> accepted;
    /** A peer the allow/deny lists refuse, already closed: its address as text and its port
     *  ("" and 0 when unknown). */
    std::function<void(const std::string &address, uint16_t port)> refused;
    /** Accepting paused because the process is out of file descriptors: why, in words (the
     *  first time only, until a connection is accepted again). */
    std::function<void(const std::string &why)> paused;
    /** Asked before each accept: false when the server holds all the connections it may
     *  now; accepting then waits a little (kHoldMs) and asks again. */
    std::function<bool()> room;
};

class Listener {
public:
    /**
     * Resolve config.address ("" = all interfaces, IPv4 and IPv6; IPv4 only
     * on a host without IPv6), bind config.port (0 = a free port) and listen
     * with config.backlog. Connections wait in the backlog until
     * set_accepting(true); peers are admitted by @p filter.
     * @return the listener, or InvalidArgument (address not a local address
     *         or not resolvable), PortInUse (EADDRINUSE), AccessDenied
     *         (EACCES), NetworkFailure (anything else).
     */
    static Result<std::unique_ptr<Listener>> bind(const ServerConfig &config,
                                                  access::AddressFilter filter);
    /** Stops accepting and closes the socket. */
    ~Listener();
    Listener(const Listener &) = delete;
    Listener &operator=(const Listener &) = delete;

    /** The bound port. */
    uint16_t port() const { return port_; }

    /** Accept on @p context (which must outlive the listener) and report to @p callbacks.
     *  Once, before set_accepting(). */
    void start(GMainContext *context, ListenerCallbacks callbacks);

    /** Start (true) or stop (false) accepting. */
    void set_accepting(bool accepting);

private:
    Listener(GSocket *socket, access::AddressFilter filter);

    static gboolean on_accept(GSocket *, GIOCondition, gpointer self);
    static gboolean on_resume(gpointer self);
    /** Out of descriptors (@p error): stop watching the socket for a while. */
    void pause(const GError *error);
    /** Stop watching the socket for @p ms. */
    void suspend(guint ms);
    void watch();
    void stop_sources();
    /** The allow/deny check: false (and @p socket closed and reported) for a refused peer. */
    bool admit(GSocket *socket);

    GSocket *const socket_;
    const uint16_t port_;
    const access::AddressFilter filter_;
    GMainContext *context_ = nullptr;
    ListenerCallbacks callbacks_;
    GSource *accept_source_ = nullptr;
    GSource *resume_source_ = nullptr; /* accepting resumes when it fires */
    bool accepting_ = false;           /* the application wants connections accepted */
    bool starved_ = false;             /* paused() was called for this run of failures */
};

} // namespace wmstream::server
