/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/base/gio-types: in a fresh process (each test runs its
 * body in a subprocess of its own, g_test_trap_subprocess()), the GIO classes
 * the core's threads use are not initialized until an EventLoop or a pull
 * client is made, and are once one is, before any thread of its starts
 * (GLib 2.74's type-initialization deadlock, base/gio-types.h).
 */
#include "base/event-loop.h"
#include "base/gio-types.h"
#include "pull/client.h"

#include <gio/gio.h>

namespace {

/* The classes whose first initialization raced in wmstream-broadcast --push. */
const GType raced_types[] = {G_TYPE_SOCKET_CLIENT, G_TYPE_SOCKET, G_TYPE_SOCKET_ADDRESS,
                             G_TYPE_INET_SOCKET_ADDRESS, G_TYPE_INET_ADDRESS};

void assert_classes_initialized() {
    for (const GType type : raced_types)
        g_assert_nonnull(g_type_class_peek(type));
    wmstream::ensure_gio_types(); /* again: returns at once */
}

/* Runs @p body in a fresh process and passes when it does. */
void in_fresh_process(const char *path, void (*body)()) {
    if (g_test_subprocess()) {
        g_assert_null(g_type_class_peek(G_TYPE_SOCKET_CLIENT));
        body();
        return;
    }
    g_test_trap_subprocess(path, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

void event_loop_body() {
    { wmstream::EventLoop loop; /* never started: the constructor is what counts */ }
    assert_classes_initialized();
}

/* Only the events' type matters: the client is never run. */
class NoEvents final : public wmstream::pull::ClientEvents {
public:
    void connecting(const std::string &, bool) override {}
    void connected(const std::string &, bool) override {}
    void attempt_failed(const wmstream::pull::Failure &, int64_t) override {}
};

void pull_client_body() {
    NoEvents events;
    wmstream::pull::ClientConfig config;
    config.session.location = "mmsh://127.0.0.1:9/";
    auto client = wmstream::pull::Client::create(config, events);
    g_assert_true(client.ok());
    assert_classes_initialized();
}

void test_event_loop() {
    in_fresh_process("/gio-types/event-loop", event_loop_body);
}

void test_pull_client() {
    in_fresh_process("/gio-types/pull-client", pull_client_body);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/gio-types/event-loop", test_event_loop);
    g_test_add_func("/gio-types/pull-client", test_pull_client);
    return g_test_run();
}
