/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The push client's connection I/O (internal to lib/push): asynchronous GIO
 * on the I/O thread's context. Each operation carries a reference to its
 * Connection and is ignored once that connection was closed, so closing
 * never races with a late completion.
 */
#include "push/connection.h"

namespace wmstream::push {

namespace {

using ConnectionRef = std::shared_ptr<Connection>;

/* The data of an asynchronous operation: the connection it was started for. */
ConnectionRef *new_op(Connection &connection) {
    return new ConnectionRef(connection.shared_from_this());
}

/* The data of an accept-certificate handler: the connection the handshake is for and the
 * problems that refuse a certificate. */
struct TlsCheck {
    std::weak_ptr<Connection> connection;
    GTlsCertificateFlags enforced;
};

} // namespace

/* ================= Connection ================= */

Connection::Connection(Connector &connector, ConnectionListener &listener)
    : connector_(connector), listener_(&listener), cancellable_(g_cancellable_new()) {}

Connection::~Connection() {
    close();
    g_object_unref(cancellable_);
}

void Connection::close() {
    listener_ = nullptr;
    connect_timer_.disarm();
    write_timer_.disarm();
    /* Operations in flight keep the Connection alive; end them now. */
    g_cancellable_cancel(cancellable_);
    if (!stream_)
        return;
    if (G_IS_SOCKET_CONNECTION(stream_))
        g_socket_close(g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream_)), nullptr);
    g_clear_object(&stream_);
}

void Connection::on_connect_done(GObject *source, GAsyncResult *result, gpointer data) {
    std::unique_ptr<ConnectionRef> op(static_cast<ConnectionRef *>(data));
    Connection &self = **op;
    self.connector_.in_flight_--;
    g_autoptr(GError) error = nullptr;
    GSocketConnection *stream =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
    if (!self.listener_) {
        g_clear_object(&stream);
        return;
    }
    self.connect_timer_.disarm();
    if (!stream) {
        self.listener_->on_connect_failed(error);
        return;
    }
    self.stream_ = G_IO_STREAM(stream);
    self.listener_->on_connected();
}

void Connection::read() {
    connector_.in_flight_++;
    g_input_stream_read_async(g_io_stream_get_input_stream(stream_), in_.data(), in_.size(),
                              G_PRIORITY_DEFAULT, cancellable_, on_read_done, new_op(*this));
}

void Connection::resume_reading() {
    if (!read_paused_)
        return;
    read_paused_ = false;
    read();
}

void Connection::on_read_done(GObject *source, GAsyncResult *result, gpointer data) {
    std::unique_ptr<ConnectionRef> op(static_cast<ConnectionRef *>(data));
    Connection &self = **op;
    self.connector_.in_flight_--;
    g_autoptr(GError) error = nullptr;
    const gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
    if (!self.listener_)
        return;
    if (n <= 0 && self.writing_) {
        /* Let the write in flight finish first: what it completes was delivered to the
         * socket and must not be sent again after the reconnection. */
        self.peer_closed_ = true;
        return;
    }
    if (n <= 0) {
        self.listener_->on_read_end(n < 0 ? error : nullptr);
        return;
    }
    self.answers_.feed(self.in_.data(), static_cast<size_t>(n));
    self.listener_->on_received();
}

void Connection::flush(uint64_t release_seq) {
    if (!stream_ || writing_ || pending_.empty())
        return;
    out_.swap(pending_);
    pending_.clear();
    release_seq_ = release_seq;
    writing_ = true;
    connector_.in_flight_++;
    g_output_stream_write_all_async(g_io_stream_get_output_stream(stream_), out_.data(),
                                    out_.size(), G_PRIORITY_DEFAULT, cancellable_, on_write_done,
                                    new_op(*this));
    write_timer_.arm(connector_.context_, connector_.timeout_us_,
                     [this] { listener_->on_write_timeout(); });
}

void Connection::on_write_done(GObject *source, GAsyncResult *result, gpointer data) {
    std::unique_ptr<ConnectionRef> op(static_cast<ConnectionRef *>(data));
    Connection &self = **op;
    self.connector_.in_flight_--;
    gsize written = 0;
    g_autoptr(GError) error = nullptr;
    const gboolean ok =
        g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, &written, &error);
    if (!self.listener_)
        return;
    self.write_timer_.disarm();
    self.writing_ = false;
    if (!ok) {
        self.listener_->on_write_failed(error);
        return;
    }
    self.listener_->on_written(written, self.release_seq_);
}

/* ================= Connector ================= */

Connector::Connector(GMainContext *context, GTlsDatabase *database, GTlsCertificateFlags enforced,
                     int64_t timeout_us)
    : context_(context),
      database_(database ? static_cast<GTlsDatabase *>(g_object_ref(database)) : nullptr),
      enforced_(enforced), timeout_us_(timeout_us), client_(g_socket_client_new()) {
    g_signal_connect(client_, "event", G_CALLBACK(on_socket_event), this);
}

Connector::~Connector() {
    g_signal_handlers_disconnect_by_data(client_, this);
    g_object_unref(client_);
    if (database_)
        g_object_unref(database_);
}

std::shared_ptr<Connection> Connector::open(ConnectionListener &listener, const Url &target) {
    auto connection = std::make_shared<Connection>(*this, listener);
    connecting_ = connection;
    g_socket_client_set_tls(client_, target.tls);
    g_autoptr(GSocketConnectable) address = g_network_address_new(target.host.c_str(), target.port);
    in_flight_++;
    g_socket_client_connect_async(client_, address, connection->cancellable_,
                                  Connection::on_connect_done, new_op(*connection));
    Connection *armed = connection.get();
    connection->connect_timer_.arm(context_, timeout_us_,
                                   [armed] { armed->listener_->on_connect_timeout(); });
    return connection;
}

/* GTlsConnection::accept-certificate: glib-networking found @errors (emitted on the
 * handshake's context, the I/O thread). Records them and accepts only what is not enforced. */
gboolean Connector::on_accept_certificate(GTlsConnection *, GTlsCertificate *,
                                          GTlsCertificateFlags errors, gpointer data) {
    const auto *check = static_cast<const TlsCheck *>(data);
    if (ConnectionRef connection = check->connection.lock())
        connection->tls_errors_ = errors;
    return (errors & check->enforced) == 0;
}

void Connector::on_socket_event(GSocketClient *, GSocketClientEvent event, GSocketConnectable *,
                                GIOStream *stream, gpointer data) {
    auto *self = static_cast<Connector *>(data);
    if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING || !G_IS_TLS_CONNECTION(stream))
        return;
    if (self->database_)
        g_tls_connection_set_database(G_TLS_CONNECTION(stream), self->database_);
    /* Validation through accept-certificate, not the deprecated validation flags: the
     * handshake asks us whenever the backend found a problem. */
    g_signal_connect_data(
        stream, "accept-certificate", G_CALLBACK(on_accept_certificate),
        new TlsCheck{self->connecting_, self->enforced_},
        [](gpointer check, GClosure *) { delete static_cast<TlsCheck *>(check); },
        GConnectFlags(0));
}

} // namespace wmstream::push
