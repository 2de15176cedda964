/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/listener.h"
#include "base/log.h"

#include "base/address.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace wmstream::server {

namespace {

/** Connections accepted per wake-up of the listening socket. */
constexpr int kMaxAcceptsPerWake = 256;
/** How long accepting pauses when the process is out of file descriptors, ms. */
constexpr guint kAcceptPauseMs = 1000;
/** How long accepting waits while the server has no room (ListenerCallbacks::room), ms. */
constexpr guint kHoldMs = 20;

Error bind_error(const GError *error, const std::string &where, bool explicit_address) {
    std::string text = where + ": " + error->message;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        return make_error(Errc::PortInUse, text);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
        return make_error(Errc::AccessDenied, text);
    /* EADDRNOTAVAIL and friends: the address is not one of ours. */
    return make_error(explicit_address ? Errc::InvalidArgument : Errc::NetworkFailure, text);
}

std::string endpoint_text(GInetAddress *address, uint16_t port) {
    g_autofree char *text = g_inet_address_to_string(address);
    if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6)
        return "[" + std::string(text) + "]:" + std::to_string(port);
    return std::string(text) + ":" + std::to_string(port);
}

uint16_t local_port(GSocket *socket) {
    g_autoptr(GSocketAddress) local = g_socket_get_local_address(socket, nullptr);
    return local ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)) : 0;
}

} // namespace

Result<std::unique_ptr<Listener>> Listener::bind(const ServerConfig &config,
                                                 access::AddressFilter filter) {
    g_autoptr(GInetAddress) address = nullptr;
    const bool any = config.address.empty();
    if (any) {
        address = g_inet_address_new_any(G_SOCKET_FAMILY_IPV6);
    } else {
        address = g_inet_address_new_from_string(config.address.c_str());
        if (!address) {
            g_autoptr(GError) error = nullptr;
            GResolver *resolver = g_resolver_get_default();
            GList *found =
                g_resolver_lookup_by_name(resolver, config.address.c_str(), nullptr, &error);
            g_object_unref(resolver);
            if (!found)
                return make_error(Errc::InvalidArgument, "Cannot resolve bind address '" +
                                                             config.address +
                                                             "': " + error->message);
            address = G_INET_ADDRESS(g_object_ref(found->data));
            g_resolver_free_addresses(found);
        }
    }

    g_autoptr(GError) error = nullptr;
    GSocketFamily family = g_inet_address_get_family(address);
    GSocket *socket = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
    if (!socket && any) {
        /* No IPv6 on this host: fall back to IPv4 only. */
        g_clear_error(&error);
        g_object_unref(address);
        address = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
        family = G_SOCKET_FAMILY_IPV4;
        socket = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
    }
    if (!socket)
        return make_error(Errc::NetworkFailure,
                          std::string("Cannot create socket: ") + error->message);
    g_autoptr(GSocket) owned = socket;
    if (any && family == G_SOCKET_FAMILY_IPV6)
        g_socket_set_option(socket, IPPROTO_IPV6, IPV6_V6ONLY, 0, nullptr);

    g_autoptr(GSocketAddress) bind_address = g_inet_socket_address_new(address, config.port);
    const std::string where = "Cannot bind " + endpoint_text(address, config.port);
    if (!g_socket_bind(socket, bind_address, TRUE, &error))
        return bind_error(error, where, !any);
    g_socket_set_listen_backlog(socket, config.backlog);
    if (!g_socket_listen(socket, &error))
        return bind_error(error, "Cannot listen on " + endpoint_text(address, config.port), !any);
    g_socket_set_blocking(socket, FALSE);
    return std::unique_ptr<Listener>(
        new Listener(static_cast<GSocket *>(g_steal_pointer(&owned)), std::move(filter)));
}

Listener::Listener(GSocket *socket, access::AddressFilter filter)
    : socket_(socket), port_(local_port(socket)), filter_(std::move(filter)) {}

Listener::~Listener() {
    stop_sources();
    g_socket_close(socket_, nullptr);
    g_object_unref(socket_);
}

void Listener::start(GMainContext *context, ListenerCallbacks callbacks) {
    context_ = context;
    callbacks_ = std::move(callbacks);
}

void Listener::stop_sources() {
    for (GSource **source : {&accept_source_, &resume_source_}) {
        if (*source) {
            g_source_destroy(*source);
            g_clear_pointer(source, g_source_unref);
        }
    }
}

void Listener::set_accepting(bool accepting) {
    accepting_ = accepting;
    if (!accepting)
        stop_sources();
    else if (!accept_source_ && !resume_source_)
        watch();
}

void Listener::watch() {
    accept_source_ = g_socket_create_source(socket_, G_IO_IN, nullptr);
    g_source_set_callback(accept_source_, G_SOURCE_FUNC(on_accept), this, nullptr);
    g_source_attach(accept_source_, context_);
}

gboolean Listener::on_accept(GSocket *, GIOCondition, gpointer self) {
    auto *listener = static_cast<Listener *>(self);
    for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
        if (!listener->callbacks_.room()) {
            listener->suspend(kHoldMs); /* the kernel's backlog holds them meanwhile */
            return G_SOURCE_CONTINUE;
        }
        g_autoptr(GError) error = nullptr;
        GSocket *socket = g_socket_accept(listener->socket_, nullptr, &error);
        if (!socket) {
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
                listener->pause(error);
                return G_SOURCE_CONTINUE;
            }
            if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                WMSTREAM_LOG_DEBUG("accept failed: %s",
                                   error->message); /* e.g. ECONNABORTED: the peer */
            break;
        }
        listener->starved_ = false;
        g_socket_set_blocking(socket, FALSE);
        g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, nullptr);
        if (listener->admit(socket))
            listener->callbacks_.accepted(socket);
    }
    return G_SOURCE_CONTINUE;
}

/* EMFILE/ENFILE: the pending connection cannot be accepted and keeps the
 * listener readable, so stop watching it for a while instead of spinning.
 * Clients already served are not affected. */
void Listener::pause(const GError *error) {
    suspend(kAcceptPauseMs);
    if (!starved_) {
        starved_ = true;
        callbacks_.paused(std::string("Cannot accept connections: ") + error->message +
                          "; accepting pauses " + std::to_string(kAcceptPauseMs) + " ms at a time");
    }
}

void Listener::suspend(guint ms) {
    if (accept_source_) {
        g_source_destroy(accept_source_);
        g_clear_pointer(&accept_source_, g_source_unref);
    }
    if (!resume_source_) {
        resume_source_ = g_timeout_source_new(ms);
        g_source_set_callback(resume_source_, on_resume, this, nullptr);
        g_source_attach(resume_source_, context_);
    }
}

gboolean Listener::on_resume(gpointer self) {
    auto *listener = static_cast<Listener *>(self);
    g_clear_pointer(&listener->resume_source_, g_source_unref);
    if (listener->accepting_)
        listener->watch();
    return G_SOURCE_REMOVE;
}

/* A refused peer is closed at once and reported (the server reports it as client-removed,
 * reason Forbidden). */
bool Listener::admit(GSocket *socket) {
    if (filter_.empty())
        return true;
    g_autoptr(GSocketAddress) remote = g_socket_get_remote_address(socket, nullptr);
    const bool inet = remote && G_IS_INET_SOCKET_ADDRESS(remote);
    GInetAddress *address =
        inet ? g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)) : nullptr;
    if (address && filter_.allows(address))
        return true;
    g_socket_close(socket, nullptr);
    g_object_unref(socket);
    callbacks_.refused(address ? address_text(address) : std::string(),
                       inet ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(remote)) : 0);
    return false;
}

} // namespace wmstream::server
