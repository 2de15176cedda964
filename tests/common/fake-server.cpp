/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fake-server.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace wmstream::test {

/** A registered callback of the peer; unregisters when destroyed. */
class FakeWatch final : public server::Transport::Watch {
public:
    FakeWatch(FakePeer::Slot &slot, server::Transport::Ready ready, void *data) : slot_(slot) {
        g_assert_null(slot_.ready); /* one watch per direction, as Poller::watch */
        slot_ = {ready, data};
    }
    ~FakeWatch() override { slot_ = {}; }

private:
    FakePeer::Slot &slot_;
};

class FakeTransport final : public server::Transport {
public:
    explicit FakeTransport(FakePeer &peer) : peer_(peer) {}

    GSocket *socket() const override { return nullptr; }
    /* Plain as far as Connection knows: a TLS connection's ClientHello is watched on the
     * socket's descriptor. The script's TLS flag still defers start() and keeps sends on the
     * I/O thread. */
    bool encrypted() const override { return false; }
    GSocketAddress *remote_address() const override {
        return g_inet_socket_address_new_from_string("192.0.2.7", 50007);
    }
    void start(GMainContext *, Handshaken done, void *data) override {
        g_assert_false(peer_.closed_);
        if (!peer_.tls_) {
            done(data, nullptr);
            return;
        }
        peer_.handshake_ = done;
        peer_.handshake_data_ = data;
    }
    gssize receive(char *buffer, size_t size, GError **error) override {
        g_assert_false(peer_.closed_);
        if (peer_.read_error_ != G_IO_ERROR_WOULD_BLOCK) {
            g_set_error_literal(error, G_IO_ERROR,
                                std::exchange(peer_.read_error_, G_IO_ERROR_WOULD_BLOCK),
                                "scripted read error");
            return -1;
        }
        if (!peer_.inbound_.empty()) {
            const size_t n = std::min(size, peer_.inbound_.size());
            std::memcpy(buffer, peer_.inbound_.data(), n);
            peer_.inbound_.erase(0, n);
            return gssize(n);
        }
        if (peer_.eof_)
            return 0;
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "nothing to read");
        return -1;
    }
    gssize send(const GOutputVector *vectors, size_t count, GError **error) override {
        g_assert_false(peer_.closed_);
        g_assert_false(peer_.shut_down_);
        g_assert_cmpuint(count, >, 0);
        if (peer_.write_error_ != G_IO_ERROR_WOULD_BLOCK) {
            g_set_error_literal(error, G_IO_ERROR,
                                std::exchange(peer_.write_error_, G_IO_ERROR_WOULD_BLOCK),
                                "scripted write error");
            return -1;
        }
        if (peer_.room_ == 0) {
            g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "no room");
            return -1;
        }
        size_t written = 0;
        for (size_t i = 0; i < count && peer_.room_ > 0; ++i) {
            g_assert_cmpuint(vectors[i].size, >, 0); /* an empty segment would stall a send */
            const size_t n = std::min(peer_.room_, vectors[i].size);
            peer_.sink_(static_cast<const uint8_t *>(vectors[i].buffer), n);
            peer_.room_ -= n;
            written += n;
        }
        ++peer_.sends_;
        return gssize(written);
    }
    bool send_from_any_thread() const override { return !peer_.tls_; }
    std::unique_ptr<Watch> watch(server::Poller &, bool writable, Ready ready,
                                 void *data) override {
        g_assert_false(peer_.closed_);
        return std::make_unique<FakeWatch>(writable ? peer_.write_ : peer_.read_, ready, data);
    }
    bool shutdown_write() override {
        g_assert_false(peer_.closed_);
        peer_.shut_down_ = true;
        return true;
    }
    void close() override {
        peer_.closed_ = true;
        peer_.handshake_ = nullptr;
    }

private:
    FakePeer &peer_;
};

std::unique_ptr<server::Transport> FakePeer::transport() {
    return std::make_unique<FakeTransport>(*this);
}

void FakePeer::end_handshake(bool ok) {
    const server::Transport::Handshaken done = std::exchange(handshake_, nullptr);
    if (!done)
        return;
    g_autoptr(GError) error =
        ok ? nullptr : g_error_new_literal(G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE, "scripted");
    done(handshake_data_, error);
}

void FakePeer::deliver_readable(int times) {
    for (int i = 0; i < times && read_.ready; ++i) {
        if (inbound_.empty() && !eof_ && read_error_ == G_IO_ERROR_WOULD_BLOCK)
            return;
        const Slot slot = read_;
        slot.ready(slot.data);
    }
}

void FakePeer::deliver_writable(int times) {
    for (int i = 0; i < times && write_.ready; ++i) {
        if (room_ == 0 && write_error_ == G_IO_ERROR_WOULD_BLOCK)
            return;
        const Slot slot = write_;
        slot.ready(slot.data);
    }
}

} // namespace wmstream::test
