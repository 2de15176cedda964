/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmpushsink against hostile servers (GstCheck), the receiver of receiver.h
 * misbehaving on 127.0.0.1 (port 0):
 *
 * - garbage status lines ("ICY 200 OK", on every attempt): a WARNING per
 *   failed attempt quoting the line, then the ERROR when the retries are
 *   spent, never a connection;
 * - a 10 MB Set-Cookie once: refused by the 16 KiB head cap (WARNING), the
 *   next attempt streams and nothing is lost;
 * - a server that accepts the PushStart and never reads its body, while a
 *   stream far larger than the socket buffers is pushed through the pad:
 *   no render and no EOS takes longer than `timeout`, the packets held
 *   (pushed − packets-sent − packets-dropped, the element's counters) never
 *   exceed max-buffer-time of stream, the rest is dropped and reported,
 *   peak memory stays bounded, the write times out and the sink
 *   reconnects;
 * - TLS: an untrusted, wrong-host or expired certificate is an ERROR at
 *   once with the GTlsCertificateFlags in the details (flags value and
 *   text); tls-validation-flags without unknown-ca accepts the self-signed
 *   test certificate but still refuses the other problems;
 * - redirects, with a second receiver as the place they lead to: a 302 to
 *   another origin gets no credentials (ERROR) unless
 *   allow-redirect-credentials; https never leads to http (302 or 305); a
 *   305 proxy is followed only with allow-use-proxy;
 * - a server answering every request 401 stale=true: a WARNING per attempt,
 *   each of a bounded number of requests, the backoff between them, then
 *   the ERROR.
 *
 * The client-level twins of these tests (exact messages, the 16 KiB, 100
 * line and 1xx caps, a head trickled forever) are in test-push-client.cpp.
 */
#include "long-stream.h"
#include "peak-memory.h"
#include "push-check.h"
#include "push/client.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

using namespace pushtest;

namespace {

/* Every check but unknown-ca: what a user sets to accept a self-signed certificate. */
constexpr const char *kAllButUnknownCa =
    "tls-validation-flags=bad-identity+not-activated+expired+revoked+insecure+generic-error ";

GST_START_TEST(test_tls_validation_flags_property) {
    GstElement *sink = gst_element_factory_make("wmpushsink", nullptr);
    fail_unless(sink != nullptr);
    GParamSpec *spec =
        g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "tls-validation-flags");
    fail_unless(spec != nullptr);
    fail_unless(G_PARAM_SPEC_VALUE_TYPE(spec) == G_TYPE_TLS_CERTIFICATE_FLAGS);
    GTlsCertificateFlags flags = GTlsCertificateFlags(0);
    g_object_get(sink, "tls-validation-flags", &flags, nullptr);
    fail_unless_equals_int(flags, G_TLS_CERTIFICATE_VALIDATE_ALL);
    gst_util_set_object_arg(G_OBJECT(sink), "tls-validation-flags", "expired+bad-identity");
    g_object_get(sink, "tls-validation-flags", &flags, nullptr);
    fail_unless_equals_int(flags, G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_BAD_IDENTITY);
    gst_object_unref(sink);
}
GST_END_TEST;

/* "ICY 200 OK" with a Windows Media Server header, on every attempt: never a connection. */
GST_START_TEST(test_garbage_status_line) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.hostile.head = "ICY 200 OK\r\nServer: Cougar/9.01.01.3814\r\n"
                           "Set-Cookie: push-id=1\r\n\r\n";
    options.hostile_answers = -1;
    receiver.set_options(options);
    LivePipeline pipeline(
        LivePipeline::video(500, location(receiver) + kFastRetries + "retries=1"));
    pipeline.play();
    GstMessage *warning = pipeline.messages().wait(is_warning);
    const GstStructure *details = assert_connection_failure(warning);
    const std::string debug = debug_text(warning);
    fail_unless(debug.find("status line 'ICY 200 OK'") != std::string::npos, "%s", debug.c_str());
    guint attempt = 0;
    fail_unless(gst_structure_get_uint(details, "attempt", &attempt));
    fail_unless_equals_int(attempt, 1);
    GstMessage *error = pipeline.messages().wait(is_error);
    assert_connection_failure(error);
    fail_unless(debug_text(error).find("gave up after 2 failed attempts") != std::string::npos);
    fail_unless(debug_text(error).find("ICY 200 OK") != std::string::npos);
    fail_unless(pipeline.messages().wait_element("wmpushsink-connected", 0) == nullptr);
    fail_unless_equals_int(receiver.snapshot().hostile_answers, 2);
    fail_unless_equals_int(receiver.snapshot().starts().size(), 0);
}
GST_END_TEST;

/* A Set-Cookie of 10 MB once: a WARNING at the 16 KiB cap, then the stream flows. */
GST_START_TEST(test_huge_cookie) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.hostile.head = "HTTP/1.1 204 No Content\r\nServer: Cougar/9.01.01.3814\r\n"
                           "Set-Cookie: push-id=";
    options.hostile.filler = "1234567890";
    options.hostile.filler_bytes = 10 * 1024 * 1024;
    options.hostile.tail = "\r\n\r\n";
    options.hostile_answers = 1;
    receiver.set_options(options);
    const Stream stream = load_stream("asfmux-wmv2.asf");
    AppPipeline pipeline(location(receiver) + kFastRetries);
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, stream.packets.size());
    GstMessage *warning = pipeline.messages().wait(is_warning);
    assert_connection_failure(warning);
    fail_unless(debug_text(warning).find("answer head longer than 16384 bytes") !=
                    std::string::npos,
                "%s", debug_text(warning).c_str());
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_ERROR), 0);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 1);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless(data_of(snapshot) == stream.packets);
    fail_unless_equals_uint64(get_u64(pipeline.sink(), "packets-dropped"), 0);
}
GST_END_TEST;

/*
 * The server accepts the PushStart and never reads its body. Packets of a
 * live-like stream (80 ms of stream each, on average) are pushed through
 * the sink pad far faster than real time, about 10 MB/s, until the write
 * times out and for 0.5 s more; then the sink reconnects (retry-delay 20
 * ms) and the server reads again.
 */
GST_START_TEST(test_never_reads) {
    constexpr guint64 kTimeout = GST_SECOND;
    constexpr guint64 kMaxBuffer = 2 * GST_SECOND;
    const LongStream stream;
    const size_t bound_packets = stream.max_packets_within(kMaxBuffer / GST_MSECOND);
    const guint64 bound_bytes = bound_packets * LongStream::kPacketSize;
    Receiver receiver;
    receiver.start();
    Options options;
    options.stalled_bodies = 1;
    receiver.set_options(options);

    GstElement *sink = gst_check_setup_element("wmpushsink");
    g_object_set(sink, "location", receiver.url().c_str(), "timeout", kTimeout, "max-buffer-time",
                 kMaxBuffer, "retry-delay", guint64(20 * GST_MSECOND), nullptr);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(sink, bus);
    /* Released before the teardown: its messages hold references to the sink. */
    auto recorder = std::make_unique<Recorder>(bus);
    Recorder &messages = *recorder;
    GstPad *src = start_src_pad(sink, stream.header());

    guint64 pushed = 0;
    gint64 longest_render = 0;
    guint64 most_held = 0;
    const auto push_one = [&] {
        const Bytes packet = stream.packet(pushed++);
        const gint64 start = g_get_monotonic_time();
        fail_unless_equals_int(
            gst_pad_push(src, gst_buffer_new_memdup(packet.data(), packet.size())), GST_FLOW_OK);
        longest_render = std::max(longest_render, g_get_monotonic_time() - start);
        /* Held by the sink now: neither written completely nor dropped. */
        const guint64 held =
            pushed - get_u64(sink, "packets-sent") - get_u64(sink, "packets-dropped");
        fail_unless(held <= bound_packets, "%" G_GUINT64_FORMAT " packets held, bound %zu", held,
                    bound_packets);
        most_held = std::max(most_held, held);
    };
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.stalled == 1; }));
    /* Memory from the stall to the write timeout: afterwards the receiver keeps every packet
     * it reads (its record), which is not the sink's memory. */
    const bool peak_reset = reset_peak_rss();
    const int64_t before_kb = proc_status_kb("VmRSS:");
    const gint64 give_up = g_get_monotonic_time() + kWaitUs;
    while (messages.count(GST_MESSAGE_WARNING) == 0 && g_get_monotonic_time() < give_up) {
        push_one();
        g_usleep(400);
    }
    const int64_t peak_kb = proc_status_kb("VmHWM:");
    const guint64 pushed_stalled = pushed;
    GstMessage *warning = messages.wait(is_warning, 0);
    assert_connection_failure(warning);
    fail_unless(debug_text(warning).find("accepted no data for 1 s") != std::string::npos, "%s",
                debug_text(warning).c_str());
    const gint64 after_warning = g_get_monotonic_time() + G_USEC_PER_SEC / 2;
    while (g_get_monotonic_time() < after_warning) {
        push_one();
        g_usleep(400);
    }
    fail_unless(messages.wait([](GstMessage *m) {
        return is_progress(m, GST_PROGRESS_TYPE_COMPLETE, "reconnect");
    }) != nullptr);

    /* Everything dropped was reported, and far more was pushed than the bound. */
    const guint64 dropped = get_u64(sink, "packets-dropped");
    fail_unless(dropped > 0);
    fail_unless_equals_uint64(reported_drops(messages), dropped);
    fail_unless(pushed_stalled * LongStream::kPacketSize > 8 * bound_bytes);

    /* The session ends within the timeout: EOS is handled in the streaming thread. */
    const gint64 eos_start = g_get_monotonic_time();
    fail_unless(gst_pad_push_event(src, gst_event_new_eos()));
    const gint64 eos_time = g_get_monotonic_time() - eos_start;
    fail_unless(messages.wait_type(GST_MESSAGE_EOS) != nullptr);
    fail_unless_equals_int(messages.count(GST_MESSAGE_ERROR), 0);
    fail_unless_equals_uint64(get_u64(sink, "packets-sent") + get_u64(sink, "packets-dropped"),
                              pushed);
    fail_unless_equals_int(get_uint(sink, "reconnects"), 1);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless_equals_int(snapshot.starts().size(), 2);
    fail_unless_equals_int(snapshot.end_reasons().size(), 1);

    g_print("never-reads: pushed %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT
            " KiB), dropped %" G_GUINT64_FORMAT ", most held %" G_GUINT64_FORMAT
            " (bound %zu = %" G_GUINT64_FORMAT " KiB), longest render %" G_GINT64_FORMAT
            " us, EOS %" G_GINT64_FORMAT " us\n",
            pushed, pushed * LongStream::kPacketSize / 1024, dropped, most_held, bound_packets,
            bound_bytes / 1024, longest_render, eos_time);
    fail_unless(longest_render < static_cast<gint64>(kTimeout / GST_USECOND),
                "render took %" G_GINT64_FORMAT " us", longest_render);
    fail_unless(eos_time < static_cast<gint64>(kTimeout / GST_USECOND),
                "EOS took %" G_GINT64_FORMAT " us", eos_time);
    if (peak_reset && before_kb >= 0 && peak_kb >= 0) {
        /* The held packets plus 2 MiB for the rest (the batch being written, one recorded
         * wmpushsink-dropped message per drop, the allocator): without the bound the peak
         * would grow by the megabytes pushed. */
        const int64_t allowed_kb = static_cast<int64_t>(bound_bytes / 1024) + 2048;
        g_print("never-reads: peak RSS grew by %" G_GINT64_FORMAT " KiB (allowed %" G_GINT64_FORMAT
                " KiB) while %" G_GUINT64_FORMAT " KiB were pushed to the stalled server\n",
                peak_kb - before_kb, allowed_kb, pushed_stalled * LongStream::kPacketSize / 1024);
        fail_unless(peak_kb - before_kb < allowed_kb, "peak RSS grew by %" G_GINT64_FORMAT " KiB",
                    peak_kb - before_kb);
    } else {
        g_print("never-reads: peak RSS not measurable in this build, bound checked by counters\n");
    }

    gst_element_set_state(sink, GST_STATE_NULL);
    recorder.reset();
    teardown_src_pad_sink(sink, bus);
}
GST_END_TEST;

/* The ERROR of a refused certificate: at once, no WARNING, the flags in the details. */
GTlsCertificateFlags assert_certificate_refused(LivePipeline &pipeline) {
    GstMessage *error = pipeline.messages().wait(is_error);
    const GstStructure *details = assert_connection_failure(error);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
    guint flags = 0;
    fail_unless(
        gst_structure_get_flags(details, "tls-errors", G_TYPE_TLS_CERTIFICATE_FLAGS, &flags));
    const char *text = gst_structure_get_string(details, "tls-errors-text");
    fail_unless(text != nullptr);
    const std::string expected = wmstream::push::describe_tls_errors(GTlsCertificateFlags(flags));
    fail_unless_equals_string(text, expected.c_str());
    GError *gerror = nullptr;
    gst_message_parse_error(error, &gerror, nullptr);
    fail_unless(strstr(gerror->message, "certificate") != nullptr, "%s", gerror->message);
    g_error_free(gerror);
    fail_unless(debug_text(error).find("GTlsCertificateFlags") != std::string::npos);
    return GTlsCertificateFlags(flags);
}

/* The self-signed test certificate, not trusted: refused for unknown-ca, nothing sent. */
GST_START_TEST(test_untrusted_certificate) {
    Receiver receiver(true);
    receiver.start();
    LivePipeline pipeline(
        LivePipeline::video(500, location(receiver) + kTlsTimeout + kFastRetries));
    pipeline.play();
    fail_unless_equals_int(assert_certificate_refused(pipeline), G_TLS_CERTIFICATE_UNKNOWN_CA);
    fail_unless_equals_int(receiver.snapshot().requests.size(), 0);
}
GST_END_TEST;

/* Relaxing unknown-ca deliberately accepts it: the stream flows over TLS. */
GST_START_TEST(test_relaxed_unknown_ca) {
    Receiver receiver(true);
    receiver.start();
    LivePipeline pipeline(
        LivePipeline::video(25, location(receiver) + kTlsTimeout + kAllButUnknownCa));
    pipeline.play();
    assert_delivered(pipeline, receiver);
    fail_unless(pipeline.packets() > 0);
}
GST_END_TEST;

/* A certificate for another host: refused for bad-identity, also with unknown-ca relaxed. */
GST_START_TEST(test_wrong_host_certificate) {
    Receiver receiver(true, "push-wronghost");
    receiver.start();
    LivePipeline pipeline(
        LivePipeline::video(500, location(receiver) + kTlsTimeout + kAllButUnknownCa));
    pipeline.play();
    const GTlsCertificateFlags flags = assert_certificate_refused(pipeline);
    fail_unless(flags & G_TLS_CERTIFICATE_BAD_IDENTITY, "flags 0x%x", flags);
    fail_unless_equals_int(receiver.snapshot().requests.size(), 0);
}
GST_END_TEST;

/* An expired certificate, even from a trusted authority (ca-file): refused for expired. */
GST_START_TEST(test_expired_certificate) {
    Receiver receiver(true, "push-expired");
    receiver.start();
    LivePipeline pipeline(LivePipeline::video(
        500, location(receiver) + kTlsTimeout + "ca-file=" + data_path("push-expired-cert.pem") +
                 " " + kFastRetries));
    pipeline.play();
    const GTlsCertificateFlags flags = assert_certificate_refused(pipeline);
    fail_unless(flags & G_TLS_CERTIFICATE_EXPIRED, "flags 0x%x", flags);
    fail_unless_equals_int(receiver.snapshot().requests.size(), 0);
}
GST_END_TEST;

/* ---- redirects and authentication ---- */

constexpr guint kHResultAccessDenied = 0x80070005;
constexpr const char *kPassword = "s3cr3t-Pa55";

/* The GError message (user text) of an ERROR or WARNING. */
std::string user_text(GstMessage *message) {
    GError *gerror = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
        gst_message_parse_error(message, &gerror, nullptr);
    else
        gst_message_parse_warning(message, &gerror, nullptr);
    std::string text = gerror->message;
    g_error_free(gerror);
    return text;
}

/* Whether any request @p receiver got carries an Authorization header. */
bool got_credentials(const Receiver &receiver) {
    const Snapshot snapshot = receiver.snapshot();
    return std::any_of(snapshot.requests.begin(), snapshot.requests.end(),
                       [](const RequestRecord &r) { return r.find("Authorization") != nullptr; });
}

/* @p server answers every PushSetup to /live with @p status and the Location @p target. */
void redirect_all(Receiver &server, unsigned status, const std::string &target) {
    Options options;
    options.redirect_path = "/live";
    options.redirect_status = status;
    options.redirect_location = target;
    server.set_options(options);
}

/* @p receiver asks for Basic credentials (encoder, kPassword). */
void require_basic(Receiver &receiver) {
    Options options;
    options.auth_scheme = "Basic";
    options.user = "encoder";
    options.password = kPassword;
    receiver.set_options(options);
}

/* A 302 to another origin that asks for Basic credentials: it gets none (ERROR, E_ACCESSDENIED,
 * no retry), unless allow-redirect-credentials; the configured server itself gets them. */
GST_START_TEST(test_redirect_credentials) {
    Receiver origin;
    origin.start();
    Receiver other;
    other.start();
    redirect_all(origin, 302, other.url("/live"));
    require_basic(other);
    const Stream stream = load_stream("asfmux-wmv2.asf");
    const std::string credentials = std::string("user-id=encoder user-pw=") + kPassword + " ";
    {
        AppPipeline pipeline(location(origin) + credentials + kFastRetries);
        pipeline.play(stream.header);
        GstMessage *error = pipeline.messages().wait(is_error);
        const GstStructure *details =
            assert_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
                         "E_ACCESSDENIED", kHResultAccessDenied);
        guint status = 0;
        fail_unless(gst_structure_get_uint(details, "http-status", &status));
        fail_unless_equals_int(status, 401);
        const std::string user = user_text(error);
        fail_unless(user == "Not authorized to push to " + other.url("/live") + ".", "%s",
                    user.c_str());
        const std::string debug = debug_text(error);
        fail_unless(debug.find("allow-redirect-credentials") != std::string::npos, "%s",
                    debug.c_str());
        fail_unless(debug.find(kPassword) == std::string::npos);
        fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
    }
    fail_unless_equals_int(other.snapshot().setups().size(), 1);
    fail_unless(!got_credentials(other));
    fail_unless(!got_credentials(origin));

    /* Allowed: the other server gets them and the stream flows there. */
    AppPipeline pipeline(location(origin) + credentials + "allow-redirect-credentials=true");
    pipeline.play(stream.header);
    pipeline.push_all(stream, 0, 4);
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    pipeline.messages().assert_clean();
    fail_unless(got_credentials(other));
    fail_unless_equals_int(other.snapshot().count('D'), 4);
}
GST_END_TEST;

/* https to plain http: an ERROR at once (not retried); the http server gets nothing. */
GST_START_TEST(test_redirect_https_to_http) {
    Receiver origin(true);
    origin.start();
    Receiver other;
    other.start();
    for (const unsigned status : {302u, 305u}) {
        redirect_all(origin, status, other.url("/live"));
        const Stream stream = load_stream("asfmux-wmv2.asf");
        AppPipeline pipeline(location(origin) + kTlsTimeout + kFastRetries +
                             "allow-use-proxy=true allow-redirect-credentials=true ca-file=" +
                             data_path("push-cert.pem"));
        pipeline.play(stream.header);
        GstMessage *error = pipeline.messages().wait(is_error);
        const GstStructure *details = assert_connection_failure(error);
        guint http_status = 0;
        fail_unless(gst_structure_get_uint(details, "http-status", &http_status));
        fail_unless_equals_int(http_status, status);
        const std::string user = user_text(error);
        fail_unless(user == "Refused to follow the redirect of " + origin.url("/live") + ".", "%s",
                    user.c_str());
        fail_unless(debug_text(error).find("leaves https for plain http") != std::string::npos);
        fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 0);
    }
    fail_unless_equals_int(other.snapshot().connections, 0);
}
GST_END_TEST;

/* 305 Use Proxy: an ERROR unless allow-use-proxy; then the proxy gets the absolute URL (and no
 * credentials: it is not the configured origin). */
GST_START_TEST(test_use_proxy) {
    Receiver origin;
    origin.start();
    Receiver proxy;
    proxy.start();
    redirect_all(origin, 305, proxy.url("/"));
    const Stream stream = load_stream("asfmux-wmv2.asf");
    {
        AppPipeline pipeline(location(origin) + kFastRetries);
        pipeline.play(stream.header);
        GstMessage *error = pipeline.messages().wait(is_error);
        assert_connection_failure(error);
        fail_unless(debug_text(error).find("allow-use-proxy") != std::string::npos);
    }
    fail_unless_equals_int(proxy.snapshot().connections, 0);

    require_basic(proxy);
    AppPipeline pipeline(location(origin) + kFastRetries + "allow-use-proxy=true user-id=encoder " +
                         "user-pw=" + kPassword);
    pipeline.play(stream.header);
    GstMessage *error = pipeline.messages().wait(is_error);
    assert_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "E_ACCESSDENIED",
                 kHResultAccessDenied);
    const Snapshot snapshot = proxy.snapshot();
    fail_unless_equals_int(snapshot.setups().size(), 1);
    const std::string absolute = origin.url("/live");
    fail_unless_equals_string(snapshot.setups()[0]->path.c_str(), absolute.c_str());
    fail_unless(!got_credentials(proxy));
}
GST_END_TEST;

/* Every answer 401 stale=true: a WARNING per attempt (E_ACCESSDENIED, retry-in 100 ms, the
 * shortest delay, as retry-delay=0 asks for less), then the ERROR when the retries are spent;
 * 4 PushSetups in the first attempt (the challenge, two renewals, the refusal), 3 in the next. */
GST_START_TEST(test_stale_nonce_forever) {
    Receiver receiver;
    receiver.start();
    Options options;
    options.hostile.head = "HTTP/1.1 401 Unauthorized\r\nServer: Cougar/9.01.01.3814\r\n"
                           "WWW-Authenticate: Digest realm=\"wm\", nonce=\"n1\", qop=\"auth\", "
                           "stale=true\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    options.hostile_answers = -1;
    receiver.set_options(options);
    LivePipeline pipeline(
        LivePipeline::video(500, location(receiver) + "user-id=encoder user-pw=" + kPassword +
                                     " retries=1 retry-delay=0 max-retry-delay=0"));
    pipeline.play();
    GstMessage *warning = pipeline.messages().wait(is_warning);
    const GstStructure *details =
        assert_error(warning, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
                     "E_ACCESSDENIED", kHResultAccessDenied);
    guint64 retry_in = 0;
    fail_unless(gst_structure_get_uint64(details, "retry-in", &retry_in));
    fail_unless_equals_uint64(retry_in, 100 * GST_MSECOND);
    fail_unless(debug_text(warning).find("stale=true 3 times") != std::string::npos);
    GstMessage *error = pipeline.messages().wait(is_error);
    assert_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "E_ACCESSDENIED",
                 kHResultAccessDenied);
    fail_unless(debug_text(error).find("gave up after 2 failed attempts") != std::string::npos);
    /* Nothing more after the ERROR. */
    g_usleep(300000);
    fail_unless_equals_int(receiver.snapshot().setups().size(), 7);
    fail_unless_equals_int(pipeline.messages().count(GST_MESSAGE_WARNING), 1);
}
GST_END_TEST;

Suite *wmpushsink_hostile_suite() {
    Suite *suite = suite_create("wmpushsink-hostile");
    TCase *answers = tcase_create("answers");
    tcase_add_test(answers, test_garbage_status_line);
    tcase_add_test(answers, test_huge_cookie);
    tcase_add_test(answers, test_never_reads);
    suite_add_tcase(suite, answers);

    TCase *tls = tcase_create("tls");
    tcase_add_test(tls, test_tls_validation_flags_property);
    tcase_add_test(tls, test_untrusted_certificate);
    tcase_add_test(tls, test_relaxed_unknown_ca);
    tcase_add_test(tls, test_wrong_host_certificate);
    tcase_add_test(tls, test_expired_certificate);
    suite_add_tcase(suite, tls);

    TCase *redirects = tcase_create("redirects");
    tcase_add_test(redirects, test_redirect_credentials);
    tcase_add_test(redirects, test_redirect_https_to_http);
    tcase_add_test(redirects, test_use_proxy);
    tcase_add_test(redirects, test_stale_nonce_forever);
    suite_add_tcase(suite, redirects);
    return suite;
}

} // namespace

GST_CHECK_MAIN(wmpushsink_hostile)
