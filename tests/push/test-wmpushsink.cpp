/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Element tests of wmpushsink (GstCheck) against the strict publishing point
 * of receiver.h on 127.0.0.1 (port 0): properties and the URI handler, the
 * MS-WMHTTP exchange of a live encoder, template/auto-destroy, servers
 * without Set-Cookie or keep-alive, redirects, Digest and Basic
 * authentication (and that the password never reaches a log), every
 * documented error with its condition and HRESULT, reconnection after a
 * restart or a dropped connection (warnings, progress, same push-id first,
 * header re-sent, nothing lost), outages longer than max-buffer-time (drops
 * reported, resume at a key frame), slow answers, EndSession without a
 * connection, the disconnect action, header changes ($E(1) + $C),
 * Length-Remaining ($F, new PushStart), https, and a render that never
 * blocks. Every wait is bounded; retry delays are tens of milliseconds and
 * asserted only as counts, never as wall-clock durations.
 */
#include "push-check.h"

#include <gst/check/gstcheck.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace pushtest;

namespace {

constexpr guint kHResultAccessDenied = 0x80070005;
constexpr guint kHResultInvalidName = 0xC00D001C;
constexpr guint kHResultNoConnection = 0xC00D0005;

/** End @p pipeline's stream and wait for its EOS, then assert no ERROR or WARNING and no
 *  receiver violation. @return the receiver's snapshot. */
Snapshot end_clean(AppPipeline &pipeline, const Receiver &receiver) {
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    pipeline.messages().assert_clean();
    Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    return snapshot;
}

/** Give @p sink (unstarted) its own bus, assert READY fails with an ERROR of @p code in
 *  GST_RESOURCE_ERROR with @p condition / @p hresult, then release @p sink. */
void assert_ready_fails(GstElement *sink, gint code, const char *condition, guint hresult) {
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(sink, bus);
    fail_unless_equals_int(gst_element_set_state(sink, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
    GstMessage *error = gst_bus_timed_pop_filtered(bus, kWaitUs * GST_USECOND, GST_MESSAGE_ERROR);
    assert_error(error, GST_RESOURCE_ERROR, code, condition, hresult);
    gst_message_unref(error);
    gst_element_set_state(sink, GST_STATE_NULL);
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
    gst_object_unref(sink);
}

/* ---- properties ---- */

GST_START_TEST(test_properties) {
    GstElement *sink = gst_element_factory_make("wmpushsink", nullptr);
    fail_unless(sink != nullptr, "wmpushsink not found (GST_PLUGIN_PATH_1_0?)");
    gchar *agent = nullptr;
    gchar *location_value = nullptr;
    gboolean auto_destroy = FALSE;
    gint retries = 0;
    guint64 timeout = 0;
    guint64 max_buffer = 0;
    guint content_length = 0;
    g_object_get(sink, "user-agent", &agent, "location", &location_value, "auto-destroy",
                 &auto_destroy, "retries", &retries, "timeout", &timeout, "max-buffer-time",
                 &max_buffer, "content-length", &content_length, nullptr);
    fail_unless(g_str_has_prefix(agent, "WMEncoder/12.0"), "%s", agent);
    fail_unless(location_value == nullptr);
    fail_unless(auto_destroy);
    fail_unless_equals_int(retries, 10);
    fail_unless_equals_uint64(timeout, 10 * GST_SECOND);
    fail_unless_equals_uint64(max_buffer, 10 * GST_SECOND);
    fail_unless_equals_int(content_length, 2147483647);
    g_free(agent);

    /* The password is write-only. */
    GParamSpec *pw = g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "user-pw");
    fail_unless(pw != nullptr);
    fail_unless((pw->flags & G_PARAM_WRITABLE) && !(pw->flags & G_PARAM_READABLE));

    /* URI handler: its own schemes; plain http and https belong to every HTTP sink. */
    fail_unless(GST_IS_URI_HANDLER(sink));
    fail_unless_equals_int(gst_uri_handler_get_uri_type(GST_URI_HANDLER(sink)), GST_URI_SINK);
    const gchar *const *protocols = gst_uri_handler_get_protocols(GST_URI_HANDLER(sink));
    fail_unless_equals_int(g_strv_length(const_cast<gchar **>(protocols)), 2);
    fail_unless(g_strv_contains(protocols, "wmpush+http") &&
                g_strv_contains(protocols, "wmpush+https"));
    GError *error = nullptr;
    fail_unless(gst_uri_handler_set_uri(GST_URI_HANDLER(sink),
                                        "wmpush+https://example.com:8443/pub", &error));
    gchar *uri = gst_uri_handler_get_uri(GST_URI_HANDLER(sink));
    fail_unless_equals_string(uri, "wmpush+https://example.com:8443/pub");
    g_free(uri);
    /* location takes the plain form too; the URI is still the element's scheme. */
    g_object_set(sink, "location", "http://example.com:8080/pub", nullptr);
    uri = gst_uri_handler_get_uri(GST_URI_HANDLER(sink));
    fail_unless_equals_string(uri, "wmpush+http://example.com:8080/pub");
    g_free(uri);
    fail_if(gst_uri_handler_set_uri(GST_URI_HANDLER(sink), "http://example.com/pub", &error));
    fail_unless(g_error_matches(error, GST_URI_ERROR, GST_URI_ERROR_UNSUPPORTED_PROTOCOL));
    g_clear_error(&error);
    fail_if(gst_uri_handler_set_uri(GST_URI_HANDLER(sink), "wmpush+http://", &error));
    fail_unless(g_error_matches(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI));
    g_clear_error(&error);
    gst_object_unref(sink);

    /* gst_element_make_from_uri() finds it by its scheme, and not for plain http. */
    GstElement *made =
        gst_element_make_from_uri(GST_URI_SINK, "wmpush+http://127.0.0.1:1/pub", nullptr, &error);
    fail_unless(made != nullptr);
    fail_unless_equals_string(GST_OBJECT_NAME(gst_element_get_factory(made)), "wmpushsink");
    gst_object_unref(made);
    made = gst_element_make_from_uri(GST_URI_SINK, "http://127.0.0.1:1/pub", nullptr, &error);
    fail_unless(made == nullptr ||
                !g_str_equal(GST_OBJECT_NAME(gst_element_get_factory(made)), "wmpushsink"));
    g_clear_error(&error);
    if (made)
        gst_object_unref(made);
}
GST_END_TEST;

/* Settings are fixed once started; the URI handler refuses with BAD_STATE. */
GST_START_TEST(test_settings_fixed_while_started) {
    Receiver receiver;
    receiver.start();
    GstElement *sink = gst_element_factory_make("wmpushsink", nullptr);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(sink, bus);
    g_object_set(sink, "location", receiver.url().c_str(), nullptr);
    fail_unless_equals_int(gst_element_set_state(sink, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
    g_object_set(sink, "location", "http://127.0.0.1:1/other", nullptr);
    gchar *value = nullptr;
    g_object_get(sink, "location", &value, nullptr);
    const std::string url = receiver.url();
    fail_unless_equals_string(value, url.c_str());
    g_free(value);
    GstMessage *warning =
        gst_bus_timed_pop_filtered(bus, kWaitUs * GST_USECOND, GST_MESSAGE_WARNING);
    assert_error(warning, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, "NS_E_INVALID_REQUEST",
                 0xC00D002B);
    gst_message_unref(warning);
    GError *error = nullptr;
    fail_if(gst_uri_handler_set_uri(GST_URI_HANDLER(sink), "wmpush+http://127.0.0.1:1/x", &error));
    fail_unless(g_error_matches(error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE));
    g_clear_error(&error);
    gst_element_set_state(sink, GST_STATE_NULL);
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
    gst_object_unref(sink);
}
GST_END_TEST;

/* ---- the exchange ---- */

/*
 * A live encoder pushes 2 s: PushSetup (UA, Content-Type, Content-Length,
 * push-id=0, AutoDestroy: 1), 204 + Set-Cookie, PushStart on the same
 * connection with that push-id and Content-Length 2147483647, $H, one $D per
 * packet the pipeline produced, $E(0) at EOS, answered before EOS is posted.
 */
GST_START_TEST(test_live_stream) {
    Receiver receiver;
    receiver.start();
    LivePipeline pipeline(LivePipeline::video(50, location(receiver)));
    pipeline.play();
    pipeline.wait_eos();

    /* EOS came after the session ended: the $E is already recorded. */
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    pipeline.messages().assert_clean();
    const auto setups = snapshot.setups();
    const auto starts = snapshot.starts();
    fail_unless_equals_int(setups.size(), 1);
    fail_unless_equals_int(starts.size(), 1);
    fail_unless_equals_string(setups[0]->push_id.c_str(), "0");
    fail_unless_equals_string(setups[0]->body.c_str(), "AutoDestroy: 1\r\n");
    fail_unless(g_str_has_prefix(setups[0]->find("User-Agent")->c_str(), "WMEncoder/12.0"));
    fail_unless_equals_int(starts[0]->connection, setups[0]->connection);
    fail_unless_equals_string(starts[0]->push_id.c_str(), snapshot.push_ids.at(0).c_str());
    fail_unless_equals_string(starts[0]->find("Content-Length")->c_str(), "2147483647");
    fail_unless_equals_int(snapshot.packets.front().id, 'H');
    fail_unless_equals_int(snapshot.packets.back().id, 'E');
    fail_unless_equals_int(snapshot.end_reasons().size(), 1);
    fail_unless_equals_int(snapshot.end_reasons()[0], 0);
    /* Every packet the pipeline produced, counted on both sides. */
    fail_unless(pipeline.packets() > 0);
    fail_unless_equals_int(snapshot.count('D'), pipeline.packets());
    fail_unless_equals_uint64(get_u64(pipeline.sink(), "packets-sent"), pipeline.packets());
    fail_unless_equals_uint64(get_u64(pipeline.sink(), "bytes-sent"), snapshot.bytes);
    fail_unless_equals_uint64(get_u64(pipeline.sink(), "packets-dropped"), 0);

    /* Progress: connect started and completed; the connected message has the push-id. */
    Recorder &messages = pipeline.messages();
    fail_unless(messages.wait([](GstMessage *m) {
        return is_progress(m, GST_PROGRESS_TYPE_START, "connect");
    }) != nullptr);
    fail_unless(messages.wait([](GstMessage *m) {
        return is_progress(m, GST_PROGRESS_TYPE_COMPLETE, "connect");
    }) != nullptr);
    GstMessage *connected = messages.wait_element("wmpushsink-connected");
    fail_unless(connected != nullptr);
    const GstStructure *fields = gst_message_get_structure(connected);
    fail_unless_equals_string(gst_structure_get_string(fields, "push-id"),
                              snapshot.push_ids[0].c_str());
    guint reconnects = 99;
    fail_unless(gst_structure_get_uint(fields, "reconnects", &reconnects));
    fail_unless_equals_int(reconnects, 0);
    GstMessage *ended = messages.wait_element("wmpushsink-ended");
    fail_unless(ended != nullptr);
    guint64 sent = 0;
    fail_unless(gst_structure_get_uint64(gst_message_get_structure(ended), "packets-sent", &sent));
    fail_unless_equals_uint64(sent, pipeline.packets());
    gchar *push_id = nullptr;
    g_object_get(pipeline.sink(), "push-id", &push_id, nullptr);
    fail_unless_equals_string(push_id, snapshot.push_ids[0].c_str());
    g_free(push_id);
}
GST_END_TEST;

GST_START_TEST(test_template_auto_destroy) {
    Receiver receiver;
    receiver.start();
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver) + "template-url=\"/my template\" auto-destroy=false");
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 3);
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless_equals_string(snapshot.setups().at(0)->body.c_str(),
                              "Template-URL: \"/my%20template\"\r\nAutoDestroy: 0\r\n");
    fail_unless_equals_int(snapshot.count('D'), 3);
}
GST_END_TEST;

/* peercast-yt style: 200, no Set-Cookie, connection closed: PushStart on a new one, push-id=0. */
GST_START_TEST(test_no_cookie_no_keepalive) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.set_cookie = false;
    options.keep_alive = false;
    options.success_status = 200;
    options.server = "Cougar/9.01.01.3814";
    receiver.set_options(options);
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver));
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, stream.packets.size());
    const Snapshot snapshot = end_clean(pipeline, receiver);
    fail_unless_equals_int(snapshot.starts().size(), 1);
    fail_if(snapshot.starts()[0]->connection == snapshot.setups()[0]->connection);
    fail_unless_equals_string(snapshot.starts()[0]->push_id.c_str(), "0");
    fail_unless(data_of(snapshot) == stream.packets);
}
GST_END_TEST;

GST_START_TEST(test_redirect) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.redirect_path = "/old";
    options.redirect_location = "/live"; /* relative: resolved against the request URL */
    receiver.set_options(options);
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver, "/old"));
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 4);
    const Snapshot snapshot = end_clean(pipeline, receiver);
    const auto setups = snapshot.setups();
    fail_unless_equals_int(setups.size(), 2);
    fail_unless_equals_string(setups[0]->path.c_str(), "/old");
    fail_unless_equals_int(setups[0]->answer, 302);
    fail_unless_equals_string(setups[1]->path.c_str(), "/live");
    fail_unless_equals_string(snapshot.starts().at(0)->path.c_str(), "/live");
    fail_unless_equals_int(snapshot.count('D'), 4);
}
GST_END_TEST;

/* ---- authentication ---- */

constexpr const char *kPassword = "s3cr3t-Pa55";

void run_authenticated(const char *scheme) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.auth_scheme = scheme;
    options.user = "encoder";
    options.password = kPassword;
    receiver.set_options(options);

    const LogCapture log;
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver) + "user-id=encoder user-pw=" + kPassword);
    pipeline.play(stream.header);
    const Snapshot snapshot = deliver(pipeline, receiver, stream);
    /* 401 with the challenge, then the authorized PushSetup on a new connection. */
    const auto setups = snapshot.setups();
    fail_unless_equals_int(setups.size(), 2);
    fail_unless_equals_int(setups[0]->answer, 401);
    fail_unless(setups[0]->find("Authorization") == nullptr);
    fail_unless_equals_int(setups[1]->answer, 204);
    fail_if(setups[0]->connection == setups[1]->connection);
    fail_unless(g_str_has_prefix(setups[1]->find("Authorization")->c_str(), scheme));
    fail_unless(g_str_has_prefix(snapshot.starts().at(0)->find("Authorization")->c_str(), scheme));
    log.assert_not_logged(kPassword);
}

GST_START_TEST(test_digest_auth) {
    run_authenticated("Digest");
}
GST_END_TEST;

GST_START_TEST(test_basic_auth) {
    run_authenticated("Basic");
}
GST_END_TEST;

/* A rejected password: one retry with the credentials, then ERROR, no loop. */
GST_START_TEST(test_wrong_password) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.auth_scheme = "Digest";
    options.user = "encoder";
    options.password = kPassword;
    receiver.set_options(options);
    LivePipeline pipeline(LivePipeline::video(
        500, location(receiver) + "user-id=encoder user-pw=wrong " + kFastRetries));
    pipeline.play();
    GstMessage *error = pipeline.messages().wait(is_error);
    assert_not_authorized(error, 401);
    fail_unless(debug_text(error).find("wrong") == std::string::npos);
    /* No more attempts: exactly two PushSetups, no warnings. */
    g_usleep(200000);
    fail_unless_equals_int(receiver.snapshot().setups().size(), 2);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
}
GST_END_TEST;

GST_START_TEST(test_no_credentials) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.auth_scheme = "Basic";
    options.user = "encoder";
    options.password = kPassword;
    receiver.set_options(options);
    LivePipeline pipeline(LivePipeline::video(500, location(receiver)));
    pipeline.play();
    assert_error(pipeline.messages().wait(is_error), GST_RESOURCE_ERROR,
                 GST_RESOURCE_ERROR_NOT_AUTHORIZED, "E_ACCESSDENIED", kHResultAccessDenied);
    fail_unless_equals_int(receiver.snapshot().setups().size(), 1);
}
GST_END_TEST;

GST_START_TEST(test_forbidden) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.setup_statuses = {403};
    receiver.set_options(options);
    LivePipeline pipeline(LivePipeline::video(500, location(receiver)));
    pipeline.play();
    assert_error(pipeline.messages().wait(is_error), GST_RESOURCE_ERROR,
                 GST_RESOURCE_ERROR_NOT_AUTHORIZED, "E_ACCESSDENIED", kHResultAccessDenied);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
}
GST_END_TEST;

/* ---- errors ---- */

GST_START_TEST(test_not_found) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.setup_statuses = {404};
    receiver.set_options(options);
    LivePipeline pipeline(LivePipeline::video(500, location(receiver) + kFastRetries));
    pipeline.play();
    GstMessage *error = pipeline.messages().wait(is_error);
    const GstStructure *details =
        assert_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "NS_E_INVALID_NAME",
                     kHResultInvalidName);
    guint status = 0;
    fail_unless(gst_structure_get_uint(details, "http-status", &status));
    fail_unless_equals_int(status, 404);
    const std::string url = receiver.url();
    fail_unless_equals_string(gst_structure_get_string(details, "url"), url.c_str());
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
    fail_unless_equals_int(receiver.snapshot().setups().size(), 1);
}
GST_END_TEST;

/* 500 three times with retries=2: a WARNING per failed attempt, then the ERROR. */
GST_START_TEST(test_server_error_budget) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.setup_statuses = {500, 500, 500};
    receiver.set_options(options);
    LivePipeline pipeline(
        LivePipeline::video(500, location(receiver) + "retries=2 " + kFastRetries));
    pipeline.play();
    GstMessage *error = pipeline.messages().wait(is_error);
    const GstStructure *details = assert_connection_failure(error);
    guint attempt = 0;
    fail_unless(gst_structure_get_uint(details, "attempt", &attempt));
    fail_unless_equals_int(attempt, 3);
    const auto warnings = pipeline.messages().all(is_warning);
    fail_unless_equals_int(warnings.size(), 2);
    for (size_t i = 0; i < warnings.size(); i++) {
        const GstStructure *warning_details = assert_connection_failure(warnings[i]);
        guint status = 0;
        fail_unless(gst_structure_get_uint(warning_details, "http-status", &status));
        fail_unless_equals_int(status, 500);
        fail_unless(gst_structure_get_uint(warning_details, "attempt", &attempt));
        fail_unless_equals_int(attempt, i + 1);
        guint64 retry_in = 0;
        fail_unless(gst_structure_get_uint64(warning_details, "retry-in", &retry_in));
        fail_unless_equals_uint64(retry_in, (i == 0 ? 100 : 200) * GST_MSECOND);
    }
    /* Every WARNING came before the ERROR, and the server saw three attempts. */
    const auto problems =
        pipeline.messages().all([](GstMessage *m) { return is_error(m) || is_warning(m); });
    fail_unless(is_error(problems.back()));
    fail_unless_equals_int(receiver.snapshot().setups().size(), 3);
}
GST_END_TEST;

/* One 503: a WARNING, then the stream goes through; no ERROR. */
GST_START_TEST(test_server_error_recovers) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.setup_statuses = {503};
    receiver.set_options(options);
    LivePipeline pipeline(LivePipeline::video(25, location(receiver) + kFastRetries));
    pipeline.play();
    pipeline.wait_eos();
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 1);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_ERROR), 0);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless_equals_int(snapshot.count('D'), pipeline.packets());
}
GST_END_TEST;

GST_START_TEST(test_plain_web_server) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.plain_web_server = true;
    receiver.set_options(options);
    LivePipeline pipeline(LivePipeline::video(500, location(receiver) + kFastRetries));
    pipeline.play();
    GstMessage *error = pipeline.messages().wait(is_error);
    assert_connection_failure(error);
    const std::string text = debug_text(error);
    fail_unless(text.find("plain web server") != std::string::npos, "%s", text.c_str());
    fail_unless(text.find("Apache") != std::string::npos, "%s", text.c_str());
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
}
GST_END_TEST;

GST_START_TEST(test_refused) {
    Receiver receiver;
    const uint16_t port = receiver.start();
    const std::string where = location(receiver);
    receiver.stop();
    LivePipeline pipeline(LivePipeline::video(500, where + "retries=0"));
    pipeline.play();
    GstMessage *error = pipeline.messages().wait(is_error);
    const GstStructure *details = assert_connection_failure(error);
    fail_unless_equals_string(gst_structure_get_string(details, "host"), "127.0.0.1");
    guint detail_port = 0;
    fail_unless(gst_structure_get_uint(details, "port", &detail_port));
    fail_unless_equals_int(detail_port, port);
    fail_unless_equals_string(gst_structure_get_string(details, "io-domain"), "g-io-error-quark");
    gint io_code = 0;
    fail_unless(gst_structure_get_int(details, "io-code", &io_code));
    fail_unless_equals_int(io_code, G_IO_ERROR_CONNECTION_REFUSED);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
}
GST_END_TEST;

GST_START_TEST(test_bad_url) {
    for (const char *url : {"ftp://127.0.0.1/pub", "http://", "not a url", ""}) {
        GstElement *sink = gst_element_factory_make("wmpushsink", nullptr);
        g_object_set(sink, "location", url, nullptr);
        assert_ready_fails(sink, GST_RESOURCE_ERROR_NOT_FOUND, "NS_E_INVALID_NAME",
                           kHResultInvalidName);
    }
}
GST_END_TEST;

GST_START_TEST(test_invalid_settings) {
    const std::string missing_ca = "ca-file=" + data_path("no-such-ca.pem");
    for (const std::string &settings : {std::string("template-url=\"not a path\""), missing_ca}) {
        const std::string description =
            "wmpushsink name=sink location=http://127.0.0.1:1/pub " + settings;
        GstElement *sink = gst_parse_launch(description.c_str(), nullptr);
        fail_unless(sink != nullptr);
        assert_ready_fails(sink, GST_RESOURCE_ERROR_SETTINGS, "E_INVALIDARG", 0x80070057);
    }
}
GST_END_TEST;

GST_START_TEST(test_unknown_host) {
    /* RFC 6761: .invalid never resolves. */
    LivePipeline pipeline(LivePipeline::video(
        500, std::string("location=http://wmstream-test.invalid/pub ") + kFastRetries));
    pipeline.play();
    const GstStructure *details =
        assert_error(pipeline.messages().wait(is_error, 30 * G_USEC_PER_SEC), GST_RESOURCE_ERROR,
                     GST_RESOURCE_ERROR_NOT_FOUND, "NS_E_INVALID_NAME", kHResultInvalidName);
    fail_unless_equals_string(gst_structure_get_string(details, "host"), "wmstream-test.invalid");
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
}
GST_END_TEST;

/* ---- the server goes away ---- */

/*
 * The server restarts (forgetting its sessions) in the middle of the stream:
 * a WARNING, reconnect progress, PushSetup with the old push-id (refused)
 * then with push-id=0, $H again, and the packets produced during the outage
 * delivered: every packet exactly once, none dropped.
 */
GST_START_TEST(test_restart_resume) {
    Receiver receiver;
    const uint16_t port = receiver.start();
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver) + kFastRetries + "retries=-1");
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 8);
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.count('D') == 8; }));
    const std::string first_id = receiver.snapshot().push_ids.at(0);

    receiver.stop(true);
    GstMessage *warning = pipeline.messages().wait(is_warning);
    assert_connection_failure(warning);
    pipeline.push_all(stream, 8, stream.packets.size());
    receiver.start(port);
    fail_unless(pipeline.messages().wait([](GstMessage *m) {
        return is_progress(m, GST_PROGRESS_TYPE_COMPLETE, "reconnect");
    }) != nullptr);
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_ERROR), 0);

    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    const auto setups = snapshot.setups();
    fail_unless(setups.size() >= 3);
    const RequestRecord &resumed = *setups[setups.size() - 2];
    fail_unless_equals_string(resumed.push_id.c_str(), first_id.c_str());
    fail_unless_equals_int(resumed.answer, 400);
    fail_unless_equals_string(setups.back()->push_id.c_str(), "0");
    fail_unless_equals_int(snapshot.count('H'), 2);
    fail_unless(data_of(snapshot) == stream.packets);
    fail_unless_equals_uint64(get_u64(pipeline.sink(), "packets-dropped"), 0);
    fail_unless_equals_int(get_uint(pipeline.sink(), "reconnects"), 1);
    const auto connected = pipeline.messages().all([](GstMessage *m) {
        return GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT &&
               gst_message_has_name(m, "wmpushsink-connected");
    });
    fail_unless_equals_int(connected.size(), 2);
    guint reconnects = 0;
    fail_unless(
        gst_structure_get_uint(gst_message_get_structure(connected[1]), "reconnects", &reconnects));
    fail_unless_equals_int(reconnects, 1);
    fail_unless_equals_string(
        gst_structure_get_string(gst_message_get_structure(connected[1]), "push-id"),
        snapshot.push_ids.back().c_str());
}
GST_END_TEST;

/*
 * An outage longer than max-buffer-time (600 ms of stream): the oldest
 * packets are dropped and reported; the stream resumes at a key frame; the
 * packets received plus those reported dropped are all the packets pushed.
 */
GST_START_TEST(test_outage_drops) {
    Receiver receiver;
    const uint16_t port = receiver.start();
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver) + kFastRetries +
                         "retries=-1 max-buffer-time=600000000");
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 5);
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.count('D') == 5; }));
    receiver.stop(true);
    fail_unless(pipeline.messages().wait(is_warning) != nullptr);
    /* Packets 5..19 span 1.4 s of send time (fixture: 160 … 1560 ms after the first). */
    pipeline.push_all(stream, 5, stream.packets.size());
    fail_unless(pipeline.messages().wait_element("wmpushsink-dropped") != nullptr);
    receiver.start(port);
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);

    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    const std::vector<Bytes> data = data_of(snapshot);
    const guint64 dropped = get_u64(pipeline.sink(), "packets-dropped");
    fail_unless_equals_uint64(data.size() + dropped, stream.packets.size());
    /* The window kept packets 15..19: 15 is the key frame that starts it. */
    fail_unless_equals_uint64(dropped, 10);
    fail_unless(data[5] == stream.packets[15]);
    fail_unless(std::equal(data.begin(), data.begin() + 5, stream.packets.begin()));
    /* The messages report every drop. */
    fail_unless_equals_uint64(reported_drops(pipeline.messages()), dropped);
}
GST_END_TEST;

/*
 * The server drops the connection between two packets but keeps its
 * sessions: the same push-id is asked for and accepted, $H is sent again,
 * and every packet arrives exactly once.
 */
GST_START_TEST(test_dropped_connection) {
    Receiver receiver;
    receiver.start();
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver) + kFastRetries);
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 10);
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.count('D') == 10; }));
    receiver.drop_connections();
    fail_unless(pipeline.messages().wait(is_warning) != nullptr);
    pipeline.push_all(stream, 10, stream.packets.size());
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_ERROR), 0);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless_equals_int(snapshot.push_ids.size(), 1);
    const auto setups = snapshot.setups();
    fail_unless_equals_int(setups.size(), 2);
    fail_unless_equals_string(setups[1]->push_id.c_str(), snapshot.push_ids[0].c_str());
    fail_unless_equals_int(setups[1]->answer, 204);
    fail_unless_equals_int(snapshot.count('H'), 2);
    fail_unless(data_of(snapshot) == stream.packets);
    fail_unless_equals_int(get_uint(pipeline.sink(), "reconnects"), 1);
}
GST_END_TEST;

/*
 * The server closes in the middle of a PushStart body of a live stream
 * (after reading 8 packets): the sink reconnects and the stream goes on to
 * its end. What was in flight at the close may be lost (written but never
 * read) or sent again after the new $H (its write failed): every run of
 * packets after a $H is a contiguous part of what the pipeline produced,
 * the runs follow each other without a gap larger than what was in flight,
 * and the last packet arrives.
 */
GST_START_TEST(test_close_mid_stream) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.close_after_packets = 8;
    receiver.set_options(options);
    LivePipeline pipeline(LivePipeline::video(75, location(receiver) + kFastRetries));
    pipeline.play();
    pipeline.wait_eos();
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_ERROR), 0);
    fail_unless(pipeline.messages().count(GST_MESSAGE_WARNING) >= 1);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    /* The same session resumed (the receiver kept it), $H again, the end arrived. */
    fail_unless_equals_int(snapshot.push_ids.size(), 1);
    fail_unless_equals_int(snapshot.setups().size(), 2);
    fail_unless_equals_string(snapshot.setups()[1]->push_id.c_str(), snapshot.push_ids[0].c_str());
    fail_unless_equals_int(snapshot.end_reasons().size(), 1);
    const std::vector<Bytes> produced = pipeline.produced();
    const auto runs = runs_of(snapshot);
    fail_unless_equals_int(runs.size(), 2);
    fail_unless_equals_int(runs[0].size(), 8);
    size_t previous_end = 0;
    for (const std::vector<Bytes> &run : runs) {
        fail_unless(!run.empty());
        const auto start = std::find(produced.begin(), produced.end(), run.front());
        fail_unless(start != produced.end(), "a received packet was never produced");
        const size_t first = static_cast<size_t>(start - produced.begin());
        fail_unless(first + run.size() <= produced.size());
        fail_unless(std::equal(run.begin(), run.end(), start), "a run is not contiguous");
        /* Resumed no later than the first packet not yet written when the server closed. */
        fail_unless(first <= previous_end + 16, "resumed at %zu after %zu", first, previous_end);
        previous_end = first + run.size();
    }
    fail_unless_equals_int(previous_end, produced.size());
    fail_unless_equals_int(get_uint(pipeline.sink(), "reconnects"), 1);
}
GST_END_TEST;

/* An answer late but within the timeout is no failure. */
GST_START_TEST(test_slow_answer) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.answer_delay_us = 300000;
    options.delayed_answers = -1;
    receiver.set_options(options);
    LivePipeline pipeline(LivePipeline::video(25, location(receiver)));
    pipeline.play();
    pipeline.wait_eos();
    pipeline.messages().assert_clean();
    fail_unless_equals_int(receiver.snapshot().count('D'), pipeline.packets());
}
GST_END_TEST;

/* No answer within the timeout: a WARNING, and the next attempt (answered in time) succeeds. */
GST_START_TEST(test_answer_timeout) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.answer_delay_us = 3 * G_USEC_PER_SEC;
    options.delayed_answers = 1;
    receiver.set_options(options);
    LivePipeline pipeline(
        LivePipeline::video(25, location(receiver) + "timeout=1000000000 " + kFastRetries));
    pipeline.play();
    GstMessage *warning = pipeline.messages().wait(is_warning);
    assert_connection_failure(warning);
    fail_unless(debug_text(warning).find("did not answer") != std::string::npos);
    pipeline.wait_eos();
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_ERROR), 0);
    fail_unless_equals_int(receiver.snapshot().count('D'), pipeline.packets());
}
GST_END_TEST;

/* EOS while the server never accepted a connection: ERROR NS_E_NOCONNECTION, no EOS. */
GST_START_TEST(test_end_without_connection) {
    Receiver receiver;
    receiver.start();
    const std::string where = location(receiver);
    receiver.stop();
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(where + "retries=-1 timeout=500000000 " + kFastRetries);
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 3);
    pipeline.end_of_stream();
    GstMessage *error = pipeline.messages().wait(is_error);
    assert_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE, "NS_E_NOCONNECTION",
                 kHResultNoConnection);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_EOS), 0);
    fail_unless(pipeline.messages().count(GST_MESSAGE_WARNING) >= 1);
}
GST_END_TEST;

/* EOS while the server is away for longer than the timeout: the end is not delivered. */
GST_START_TEST(test_end_while_away) {
    Receiver receiver;
    receiver.start();
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver) + "retries=-1 timeout=500000000 " + kFastRetries);
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 4);
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.count('D') == 4; }));
    receiver.stop();
    fail_unless(pipeline.messages().wait(is_warning) != nullptr);
    pipeline.push_all(stream, 4, 8);
    pipeline.end_of_stream();
    GstMessage *error = pipeline.messages().wait(is_error);
    assert_connection_failure(error);
    fail_unless(debug_text(error).find("could not be delivered") != std::string::npos);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_EOS), 0);
}
GST_END_TEST;

/* A server that closes at $E(0) without answering (it may, MS-WMHTTP §3.2.5.5): EOS at once. */
GST_START_TEST(test_end_without_answer) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.answer_end = false;
    receiver.set_options(options);
    const Stream stream = load_stream("asfmux-wmv2.asf");
    /* A 60 s timeout: the EOS within the 20 s wait shows the close ended the session. */
    AppPipeline pipeline(location(receiver) + "timeout=60000000000");
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, stream.packets.size());
    const Snapshot snapshot = end_clean(pipeline, receiver);
    fail_unless_equals_int(snapshot.end_reasons().size(), 1);
    fail_unless(data_of(snapshot) == stream.packets);
}
GST_END_TEST;

/*
 * disconnect: the connection goes without $E; later packets are dropped; EOS
 * still comes. A restart of the sink then resumes the same session.
 */
GST_START_TEST(test_disconnect_action) {
    Receiver receiver;
    receiver.start();
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver));
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 6);
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.count('D') == 6; }));
    g_signal_emit_by_name(pipeline.sink(), "disconnect");
    fail_unless(pipeline.messages().wait_element("wmpushsink-disconnected") != nullptr);
    pipeline.push_all(stream, 6, stream.packets.size());
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    pipeline.messages().assert_clean();
    fail_unless_equals_uint64(get_u64(pipeline.sink(), "packets-dropped"),
                              stream.packets.size() - 6);
    g_usleep(100000);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless_equals_int(snapshot.count('D'), 6);
    fail_unless_equals_int(snapshot.count('E'), 0);
    fail_unless_equals_int(snapshot.setups().size(), 1);

    /* The publishing point kept the session: a restarted sink asks for it and resumes. */
    pipeline.stop();
    pipeline.play(stream.header);
    pipeline.push_all(stream, 6, stream.packets.size());
    pipeline.end_of_stream();
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.count('E') == 1; }));
    const Snapshot resumed = receiver.snapshot();
    assert_no_violations(resumed);
    fail_unless_equals_int(resumed.setups().size(), 2);
    fail_unless_equals_string(resumed.setups()[1]->push_id.c_str(), resumed.push_ids[0].c_str());
    fail_unless_equals_int(resumed.setups()[1]->answer, 204);
    fail_unless_equals_int(resumed.push_ids.size(), 1);
    fail_unless(data_of(resumed) == stream.packets);
}
GST_END_TEST;

/* A new stream header mid-stream: $E(1), $C with the new header, then its packets. */
GST_START_TEST(test_header_change) {
    Receiver receiver;
    receiver.start();
    const Stream video = load_stream("asfmux-wmv2.asf");
    const Stream both = load_stream("asfmux-wmv2-wmav2.asf");
    AppPipeline pipeline(location(receiver));
    pipeline.play(video.header);
    pipeline.push_all(video, 0, 5);
    pipeline.change_header(both.header);
    pipeline.push_all(both, 0, 4);

    const Snapshot snapshot = end_clean(pipeline, receiver);
    std::string order;
    for (const PacketRecord &packet : snapshot.packets)
        order += packet.id;
    fail_unless_equals_string(order.c_str(), "HDDDDDECDDDDE");
    const std::vector<uint32_t> reasons = snapshot.end_reasons();
    fail_unless_equals_int(reasons.at(0), 1);
    fail_unless_equals_int(reasons.at(1), 0);
    const PacketRecord &change = snapshot.packets[7];
    fail_unless_equals_int(change.reason, 0);
    fail_unless_equals_int(change.payload.size(), both.header.size());
    const std::vector<Bytes> data = data_of(snapshot);
    fail_unless(data[5] == both.packets[0]);
}
GST_END_TEST;

/* Length-Remaining: a small Content-Length makes $F filler and further PushStarts. */
GST_START_TEST(test_content_length) {
    Receiver receiver;
    receiver.start();
    LivePipeline pipeline(LivePipeline::video(100, location(receiver) + "content-length=15000"));
    pipeline.play();
    const Snapshot snapshot = assert_delivered(pipeline, receiver);
    fail_unless(snapshot.starts().size() > 2);
    fail_unless(snapshot.count('F') >= snapshot.starts().size() - 1);
    fail_unless_equals_int(snapshot.count('H'), 1);
    for (const RequestRecord *start : snapshot.starts())
        fail_unless_equals_string(start->find("Content-Length")->c_str(), "15000");
}
GST_END_TEST;

GST_START_TEST(test_https) {
    Receiver receiver(true);
    receiver.start();
    LivePipeline pipeline(LivePipeline::video(25, location(receiver) + kTlsTimeout +
                                                      "ca-file=" + data_path("push-cert.pem")));
    pipeline.play();
    assert_delivered(pipeline, receiver);
}
GST_END_TEST;

/* An untrusted certificate is fatal at once. */
GST_START_TEST(test_https_untrusted) {
    Receiver receiver(true);
    receiver.start();
    LivePipeline pipeline(
        LivePipeline::video(500, location(receiver) + kTlsTimeout + kFastRetries));
    pipeline.play();
    GstMessage *error = pipeline.messages().wait(is_error);
    assert_connection_failure(error);
    fail_unless(debug_text(error).find("TLS") != std::string::npos);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
}
GST_END_TEST;

/* While the server is away, rendering a buffer never waits for it. */
GST_START_TEST(test_render_never_blocks) {
    Receiver receiver;
    receiver.start();
    const std::string where = receiver.url();
    receiver.stop();
    const Stream stream = load_stream("asfmux-wmv2.asf");
    GstElement *sink = gst_check_setup_element("wmpushsink");
    g_object_set(sink, "location", where.c_str(), "retries", -1, "timeout", guint64(2 * GST_SECOND),
                 nullptr);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(sink, bus);
    GstPad *src = start_src_pad(sink, stream.header);
    gint64 longest = 0;
    for (int round = 0; round < 10; round++) {
        for (const Bytes &packet : stream.packets) {
            const gint64 start = g_get_monotonic_time();
            fail_unless_equals_int(
                gst_pad_push(src, gst_buffer_new_memdup(packet.data(), packet.size())),
                GST_FLOW_OK);
            longest = std::max(longest, g_get_monotonic_time() - start);
        }
    }
    /* Generous bound: far below the 2 s timeout and the 1 s first retry delay. */
    fail_unless(longest < 500000, "a push took %" G_GINT64_FORMAT " us", longest);
    gst_element_set_state(sink, GST_STATE_NULL);
    teardown_src_pad_sink(sink, bus);
}
GST_END_TEST;

Suite *wmpushsink_suite() {
    Suite *suite = suite_create("wmpushsink");
    TCase *basics = tcase_create("basics");
    tcase_add_test(basics, test_properties);
    tcase_add_test(basics, test_settings_fixed_while_started);
    tcase_add_test(basics, test_live_stream);
    tcase_add_test(basics, test_template_auto_destroy);
    tcase_add_test(basics, test_no_cookie_no_keepalive);
    tcase_add_test(basics, test_redirect);
    tcase_add_test(basics, test_header_change);
    tcase_add_test(basics, test_content_length);
    tcase_add_test(basics, test_https);
    suite_add_tcase(suite, basics);

    TCase *auth = tcase_create("auth");
    tcase_add_test(auth, test_digest_auth);
    tcase_add_test(auth, test_basic_auth);
    tcase_add_test(auth, test_wrong_password);
    tcase_add_test(auth, test_no_credentials);
    tcase_add_test(auth, test_forbidden);
    suite_add_tcase(suite, auth);

    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_not_found);
    tcase_add_test(errors, test_server_error_budget);
    tcase_add_test(errors, test_server_error_recovers);
    tcase_add_test(errors, test_plain_web_server);
    tcase_add_test(errors, test_refused);
    tcase_add_test(errors, test_bad_url);
    tcase_add_test(errors, test_invalid_settings);
    tcase_add_test(errors, test_unknown_host);
    tcase_add_test(errors, test_https_untrusted);
    tcase_add_test(errors, test_end_without_connection);
    tcase_add_test(errors, test_end_while_away);
    tcase_add_test(errors, test_end_without_answer);
    suite_add_tcase(suite, errors);

    TCase *outages = tcase_create("outages");
    tcase_add_test(outages, test_restart_resume);
    tcase_add_test(outages, test_outage_drops);
    tcase_add_test(outages, test_dropped_connection);
    tcase_add_test(outages, test_close_mid_stream);
    tcase_add_test(outages, test_slow_answer);
    tcase_add_test(outages, test_answer_timeout);
    tcase_add_test(outages, test_disconnect_action);
    tcase_add_test(outages, test_render_never_blocks);
    suite_add_tcase(suite, outages);
    return suite;
}

} // namespace

GST_CHECK_MAIN(wmpushsink)
