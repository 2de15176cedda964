/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The generic states test of GStreamer's own plugins (gst-plugins-base's
 * tests/check/generic/states.c), for every element of the wmstream plugin:
 * each goes NULL → READY → PAUSED → PLAYING and back down, step by step and
 * in one jump, with no data, several times, and no change fails (a sink
 * without data stays ASYNC into PAUSED, as upstream's test allows). wmnetsink
 * binds port 0 on 127.0.0.1; wmpushsink opens its session with the strict
 * receiver (tests/push/receiver.h), which records no violation; wmsrc asks a
 * listener on 127.0.0.1 that never answers, so every change down cancels a
 * request in flight.
 */
#include "receiver.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>

#include <string>
#include <vector>

namespace {

/** Every element factory of the plugin, by name. */
std::vector<std::string> plugin_elements() {
    std::vector<std::string> names;
    GList *features = gst_registry_get_feature_list_by_plugin(gst_registry_get(), "wmstream");
    for (GList *item = features; item; item = item->next)
        if (GST_IS_ELEMENT_FACTORY(item->data))
            names.push_back(GST_OBJECT_NAME(item->data));
    gst_plugin_feature_list_free(features);
    return names;
}

/**
 * Go to @p state; fail on FAILURE. A sink waits for data to preroll, so a
 * change into PAUSED or PLAYING may stay ASYNC (as in the upstream test);
 * any other answer must have reached @p state.
 */
void change(GstElement *element, GstState state) {
    const GstStateChangeReturn ret = gst_element_set_state(element, state);
    fail_if(ret == GST_STATE_CHANGE_FAILURE, "%s: cannot go to %s", GST_ELEMENT_NAME(element),
            gst_element_state_get_name(state));
    GstState current = GST_STATE_VOID_PENDING;
    const GstStateChangeReturn now = gst_element_get_state(element, &current, nullptr, 0);
    fail_if(now == GST_STATE_CHANGE_FAILURE, "%s: %s failed", GST_ELEMENT_NAME(element),
            gst_element_state_get_name(state));
    if (now != GST_STATE_CHANGE_ASYNC)
        fail_unless_equals_int(current, state);
}

/** A listening socket on 127.0.0.1 that never accepts: connects complete in the kernel's
 *  backlog, requests are never answered. @return its port. */
guint16 silent_listener(GSocketListener *listener) {
    GInetAddress *loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *address = g_inet_socket_address_new(loopback, 0);
    GSocketAddress *bound = nullptr;
    GError *error = nullptr;
    fail_unless(g_socket_listener_add_address(listener, address, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, nullptr, &bound, &error),
                "%s", error ? error->message : "");
    const guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_object_unref(bound);
    g_object_unref(address);
    g_object_unref(loopback);
    return port;
}

GST_START_TEST(test_states) {
    pushtest::Receiver receiver;
    receiver.start();
    GSocketListener *silent = g_socket_listener_new();
    const std::string silent_url =
        "mmsh://127.0.0.1:" + std::to_string(silent_listener(silent)) + "/";
    const std::vector<std::string> names = plugin_elements();
    fail_unless(names.size() >= 2, "the wmstream plugin has %zu elements", names.size());
    for (const std::string &name : names) {
        GstElement *element = gst_element_factory_make(name.c_str(), nullptr);
        fail_unless(element != nullptr, "cannot make %s", name.c_str());
        GObjectClass *klass = G_OBJECT_GET_CLASS(element);
        if (g_object_class_find_property(klass, "port"))
            g_object_set(element, "port", 0, "address", "127.0.0.1", nullptr);
        const bool source = GST_OBJECT_FLAG_IS_SET(element, GST_ELEMENT_FLAG_SOURCE);
        if (g_object_class_find_property(klass, "location"))
            g_object_set(element, "location", source ? silent_url.c_str() : receiver.url().c_str(),
                         nullptr);
        GstElement *pipeline = gst_pipeline_new(nullptr);
        gst_bin_add(GST_BIN(pipeline), element);
        for (int round = 0; round < 3; ++round) {
            for (GstState state : {GST_STATE_READY, GST_STATE_PAUSED, GST_STATE_PLAYING,
                                   GST_STATE_PAUSED, GST_STATE_READY, GST_STATE_NULL})
                change(pipeline, state);
            change(pipeline, GST_STATE_PLAYING);
            change(pipeline, GST_STATE_NULL);
        }
        gst_object_unref(pipeline);
    }
    g_object_unref(silent);
    const pushtest::Snapshot seen = receiver.snapshot();
    fail_unless(seen.violations.empty(), "%s", seen.violations.front().c_str());
}
GST_END_TEST;

Suite *states_suite() {
    Suite *suite = suite_create("states");
    TCase *tcase = tcase_create("states");
    tcase_set_timeout(tcase, 120);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_states);
    return suite;
}

} // namespace

GST_CHECK_MAIN(states);
