/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One failure, one ERROR: the elements open in NULL→READY through the
 * plugin's one lifecycle (plugin/lifecycle.h), and a failed open posts the
 * element's own ERROR and nothing else (no GstBaseSink "Failed to start").
 * Covers a bad wmpushsink and wmsrc location, bad wmsrc streams, a wmnetsink port in use, an
 * unreadable TLS certificate file, and open-firewall / port-mapping in a build without port
 * reachability (WMSTREAM_REACH=0: RESOURCE/SETTINGS naming -Dreach).
 */
#include "error-check.h"

#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

/** Longest wait for a state change, and for a late ERROR after it. */
constexpr GstClockTime kWait = 5 * GST_SECOND;
constexpr GstClockTime kLateError = 500 * GST_MSECOND;

/** Runs `fakesrc ! @p element_description` (or `@p element_description ! fakesink` for a
 *  @p source) to PLAYING, expects the state change to fail, and returns every ERROR posted
 *  (the bus is drained until kLateError passes without one). */
std::vector<GstMessage *> errors_of(const std::string &element_description, bool source = false) {
    const std::string description = source ? element_description + " ! fakesink"
                                           : "fakesrc num-buffers=1 ! " + element_description;
    GError *error = nullptr;
    GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
    fail_unless(pipeline != nullptr && error == nullptr, "%s", description.c_str());
    GstBus *bus = gst_element_get_bus(pipeline);
    GstStateChangeReturn ret = gst_element_set_state(pipeline, GST_STATE_PLAYING);
    if (ret == GST_STATE_CHANGE_ASYNC)
        ret = gst_element_get_state(pipeline, nullptr, nullptr, kWait);
    fail_unless_equals_int(ret, GST_STATE_CHANGE_FAILURE);
    std::vector<GstMessage *> errors;
    while (GstMessage *message = gst_bus_timed_pop_filtered(bus, kLateError, GST_MESSAGE_ERROR))
        errors.push_back(message);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(pipeline);
    return errors;
}

/** Asserts @p errors is one ERROR of @p code in GST_RESOURCE_ERROR whose text has @p text. */
void assert_one_error(std::vector<GstMessage *> errors, gint code, const char *condition,
                      guint hresult, const char *text) {
    fail_unless_equals_int(errors.size(), 1);
    wmtest::assert_error(errors[0], GST_RESOURCE_ERROR, code, condition, hresult);
    GError *error = nullptr;
    gst_message_parse_error(errors[0], &error, nullptr);
    fail_unless(std::strstr(error->message, text) != nullptr, "%s", error->message);
    g_error_free(error);
    for (GstMessage *message : errors)
        gst_message_unref(message);
}

/* A wmnetsink listening on a free loopback port; its port is returned. */
GstElement *listening_sink(gint *port) {
    GstElement *sink = gst_element_factory_make("wmnetsink", nullptr);
    g_object_set(sink, "port", 0, "address", "127.0.0.1", nullptr);
    fail_unless_equals_int(gst_element_set_state(sink, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
    g_object_get(sink, "current-port", port, nullptr);
    return sink;
}

} // namespace

GST_START_TEST(test_push_bad_location) {
    assert_one_error(errors_of("wmpushsink location=notaurl"), GST_RESOURCE_ERROR_NOT_FOUND,
                     "NS_E_INVALID_NAME", 0xC00D001Cu, "notaurl");
}
GST_END_TEST;

GST_START_TEST(test_src_bad_settings) {
    assert_one_error(errors_of("wmsrc location=rtsp://host/", true), GST_RESOURCE_ERROR_NOT_FOUND,
                     "NS_E_INVALID_NAME", 0xC00D001Cu, "rtsp://host/");
    assert_one_error(errors_of("wmsrc location=mmsh://host/ streams=1,x", true),
                     GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u, "'x'");
}
GST_END_TEST;

GST_START_TEST(test_net_port_in_use) {
    gint port = 0;
    GstElement *first = listening_sink(&port);
    assert_one_error(errors_of("wmnetsink address=127.0.0.1 port=" + std::to_string(port)),
                     GST_RESOURCE_ERROR_BUSY, "NS_E_NETWORK_RESOURCE_FAILURE", 0xC00D0028u,
                     std::to_string(port).c_str());
    gst_element_set_state(first, GST_STATE_NULL);
    gst_object_unref(first);
}
GST_END_TEST;

GST_START_TEST(test_net_certificate_file) {
    assert_one_error(
        errors_of("wmnetsink address=127.0.0.1 port=0 tls-certificate-file=/nonexistent.pem"),
        GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u, "/nonexistent.pem");
}
GST_END_TEST;

/* Without port reachability the request fails NULL→READY with one SETTINGS ERROR;
 * with it, a loopback listener opens (the helpers report "unavailable", no ERROR). */
GST_START_TEST(test_net_reach_request) {
    for (const char *request : {"open-firewall=true", "port-mapping=upnp"}) {
        const std::string sink = std::string("wmnetsink address=127.0.0.1 port=0 ") + request;
#if WMSTREAM_REACH
        GstElement *element = gst_parse_launch(sink.c_str(), nullptr);
        fail_unless_equals_int(gst_element_set_state(element, GST_STATE_READY),
                               GST_STATE_CHANGE_SUCCESS);
        gst_element_set_state(element, GST_STATE_NULL);
        gst_object_unref(element);
#else
        assert_one_error(errors_of(sink), GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057u,
                         "built without port reachability: reconfigure with "
                         "-Dreach=enabled (needs libminiupnpc-dev, libnatpmp-dev)");
#endif
    }
}
GST_END_TEST;

static Suite *one_error_suite() {
    Suite *suite = suite_create("one-error");
    TCase *cases = tcase_create("open");
    suite_add_tcase(suite, cases);
    tcase_add_test(cases, test_push_bad_location);
    tcase_add_test(cases, test_src_bad_settings);
    tcase_add_test(cases, test_net_port_in_use);
    tcase_add_test(cases, test_net_certificate_file);
    tcase_add_test(cases, test_net_reach_request);
    return suite;
}

GST_CHECK_MAIN(one_error)
