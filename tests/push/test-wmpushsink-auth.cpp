/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmpushsink with NTLM and Negotiate, the schemes Windows Media Services
 * uses by default [MS-WMHTTP §3.1.5.1, notes <9>–<12>], against the strict
 * receiver with a real GSSAPI acceptor (gss-acceptor.h: MIT krb5 with
 * gss-ntlmssp, the users in a file named by NTLM_USER_FILE): the right
 * password pushes the whole stream with every leg of the handshake on one
 * connection (past 401 pages that arrive in pieces) and the PushStart on
 * that connection without a header; a server that closes after its first
 * challenge gets the handshake on the
 * next connection; a lost connection is authenticated again; a wrong
 * password is one ERROR (RESOURCE NOT_AUTHORIZED, E_ACCESSDENIED), no
 * retry loop, the password in no message or log line.
 *
 * Needs the gss-ntlmssp package: without it the test is skipped, and fails
 * under CI (interop::skip).
 */
#include "gss-acceptor.h"
#include "interop.h"
#include "push-check.h"
#include "push/gssapi-auth.h"

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include <algorithm>
#include <memory>
#include <string>

using namespace pushtest;

namespace {

constexpr const char *kUser = "WMTEST\\encoder";
constexpr const char *kPassword = "s3cr3t-Pa55";

/* A receiver requiring @p scheme. */
void require(Receiver &receiver, const char *scheme, bool close_on_challenge = false,
             const std::string &challenge_page = "") {
    receiver.start();
    Options options;
    options.auth_scheme = scheme;
    options.close_on_challenge = close_on_challenge;
    options.challenge_page = challenge_page;
    receiver.set_options(options);
}

/* A pipeline pushing to @p receiver as kUser with @p password, started with @p stream's
 * header. */
std::unique_ptr<AppPipeline> start_as_user(const Receiver &receiver, const char *password,
                                           const Stream &stream) {
    auto pipeline = std::make_unique<AppPipeline>(location(receiver) + kFastRetries);
    g_object_set(pipeline->sink(), "user-id", kUser, "user-pw", password, nullptr);
    pipeline->play(stream.header);
    return pipeline;
}

/* Push the fixture stream with the right password; wait for EOS (clean); the connected
 * message names @p scheme. */
Snapshot push_stream(const Receiver &receiver, const char *scheme = "NTLM") {
    const Stream stream = load_stream("asfmux-wmv2.asf");
    const std::unique_ptr<AppPipeline> pipeline = start_as_user(receiver, kPassword, stream);
    const Snapshot snapshot = deliver(*pipeline, receiver, stream);
    const GstStructure *connected =
        gst_message_get_structure(pipeline->messages().wait_element("wmpushsink-connected"));
    fail_unless_equals_string(gst_structure_get_string(connected, "auth-scheme"), scheme);
    return snapshot;
}

/* The handshake on one connection: 401 (challenge), 401 (the server's token), 204; then the
 * PushStart on that connection without an Authorization header. */
void assert_one_connection_handshake(const Snapshot &snapshot, const char *scheme) {
    const auto setups = snapshot.setups();
    fail_unless_equals_int(setups.size(), 3);
    fail_unless(setups[0]->find("Authorization") == nullptr);
    fail_unless_equals_int(setups[0]->answer, 401);
    fail_unless_equals_int(setups[1]->answer, 401);
    fail_unless_equals_int(setups[2]->answer, 204);
    for (const RequestRecord *setup : {setups[1], setups[2]}) {
        fail_unless_equals_int(setup->connection, setups[0]->connection);
        fail_unless(g_str_has_prefix(setup->find("Authorization")->c_str(), scheme));
    }
    const auto starts = snapshot.starts();
    fail_unless_equals_int(starts.size(), 1);
    fail_unless_equals_int(starts[0]->connection, setups[0]->connection);
    fail_unless(starts[0]->find("Authorization") == nullptr);
    fail_unless_equals_int(snapshot.authenticated.size(), 1);
    fail_unless_equals_string(snapshot.authenticated[0].c_str(), kUser);
}

GST_START_TEST(test_ntlm) {
    Receiver receiver;
    require(receiver, "NTLM");
    const LogCapture log;
    const Snapshot snapshot = push_stream(receiver);
    assert_one_connection_handshake(snapshot, "NTLM ");
    /* Offered strongest first [MS-WMHTTP §2.2.1.9]. */
    fail_unless_equals_string(snapshot.setups()[0]->find("X-Accept-Authentication")->c_str(),
                              "Negotiate, NTLM, Digest, Basic");
    log.assert_not_logged(kPassword);
}
GST_END_TEST;

GST_START_TEST(test_negotiate) {
    Receiver receiver;
    require(receiver, "Negotiate");
    assert_one_connection_handshake(push_stream(receiver, "Negotiate"), "Negotiate ");
}
GST_END_TEST;

/* The first 401 closes the connection: the handshake begins again on the next one, with the
 * client's first token at once. */
GST_START_TEST(test_ntlm_challenge_closes) {
    Receiver receiver;
    require(receiver, "NTLM", true);
    const Snapshot snapshot = push_stream(receiver);
    const auto setups = snapshot.setups();
    fail_unless_equals_int(setups.size(), 3);
    fail_unless(setups[0]->find("Authorization") == nullptr);
    fail_unless(g_str_has_prefix(setups[1]->find("Authorization")->c_str(), "NTLM "));
    fail_if(setups[1]->connection == setups[0]->connection);
    fail_unless_equals_int(setups[2]->connection, setups[1]->connection);
    fail_unless_equals_int(setups[2]->answer, 204);
    fail_unless_equals_int(snapshot.authenticated.size(), 1);
}
GST_END_TEST;

/* 401s with a page (as IIS sends): the legs still stay on the connection, past the page. */
GST_START_TEST(test_ntlm_challenge_page) {
    Receiver receiver;
    require(receiver, "NTLM", false,
            "<html><body><h1>401 Unauthorized</h1>" + std::string(3000, ' ') + "</body></html>");
    assert_one_connection_handshake(push_stream(receiver), "NTLM ");
}
GST_END_TEST;

/* A lost connection: the next one is authenticated again through PushSetup (the same
 * session), then the stream resumes with $H. */
GST_START_TEST(test_ntlm_reconnect) {
    Receiver receiver;
    require(receiver, "NTLM");
    const Stream stream = load_stream("asfmux-wmv2.asf");
    const std::unique_ptr<AppPipeline> started = start_as_user(receiver, kPassword, stream);
    AppPipeline &pipeline = *started;
    pipeline.push_all(stream, 0, 5);
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.count('D') >= 5; }));
    receiver.drop_connections();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_WARNING) != nullptr);
    fail_unless(receiver.wait_for([](const Snapshot &s) { return s.authenticated.size() >= 2; }));
    pipeline.push_all(stream, 5, stream.packets.size());
    pipeline.end_of_stream();
    fail_unless(pipeline.messages().wait_type(GST_MESSAGE_EOS) != nullptr);
    const Snapshot snapshot = receiver.snapshot();
    assert_no_violations(snapshot);
    fail_unless_equals_int(snapshot.authenticated.size(), 2);
    fail_unless_equals_int(snapshot.push_ids.size(), 1);
    fail_unless_equals_int(snapshot.count('H'), 2);
    /* Every packet arrived (the five before the outage may arrive twice). */
    const std::vector<Bytes> received = data_of(snapshot);
    fail_unless(received.size() >= stream.packets.size());
    fail_unless(std::equal(stream.packets.end() - 10, stream.packets.end(), received.end() - 10));
}
GST_END_TEST;

/* A wrong password: one ERROR, no retry loop, the password nowhere. */
void run_wrong_password(const char *scheme) {
    Receiver receiver;
    require(receiver, scheme);
    const std::unique_ptr<AppPipeline> pipeline =
        start_as_user(receiver, "wrong-Pa55", load_stream("asfmux-wmv2.asf"));
    GstMessage *error = pipeline->messages().wait(is_error);
    assert_not_authorized(error, 401);
    fail_unless(debug_text(error).find("wrong-Pa55") == std::string::npos);
    fail_unless(debug_text(error).find(scheme) != std::string::npos, "%s",
                debug_text(error).c_str());
    g_usleep(200000);
    const Snapshot snapshot = receiver.snapshot();
    fail_unless_equals_int(snapshot.setups().size(), 3);
    fail_unless_equals_int(snapshot.refused, 1);
    fail_unless(snapshot.authenticated.empty());
    fail_unless_equals_int(pipeline->messages().count(GST_MESSAGE_WARNING), 0);
    assert_no_violations(snapshot);
}

GST_START_TEST(test_ntlm_wrong_password) {
    run_wrong_password("NTLM");
}
GST_END_TEST;

GST_START_TEST(test_negotiate_wrong_password) {
    run_wrong_password("Negotiate");
}
GST_END_TEST;

Suite *wmpushsink_auth_suite() {
    Suite *suite = suite_create("wmpushsink-auth");
    TCase *tcase = tcase_create("gssapi");
    tcase_add_test(tcase, test_ntlm);
    tcase_add_test(tcase, test_negotiate);
    tcase_add_test(tcase, test_ntlm_challenge_closes);
    tcase_add_test(tcase, test_ntlm_challenge_page);
    tcase_add_test(tcase, test_ntlm_reconnect);
    tcase_add_test(tcase, test_ntlm_wrong_password);
    tcase_add_test(tcase, test_negotiate_wrong_password);
    suite_add_tcase(suite, tcase);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    gst_check_init(&argc, &argv);
    if (!wmstream::push::GssContext::ntlm_available())
        return interop::skip("wmpushsink-auth", "gss-ntlmssp (the GSSAPI NTLM mechanism)");
    /* The acceptor's users [gss-ntlmssp: NTLM_USER_FILE, DOMAIN:user:password lines]. */
    g_autofree char *dir = g_dir_make_tmp("wmpushsink-auth-XXXXXX", nullptr);
    g_autofree char *users = g_build_filename(dir, "users", nullptr);
    const std::string line = std::string("WMTEST:encoder:") + kPassword + "\n";
    if (!g_file_set_contents(users, line.c_str(), -1, nullptr))
        g_error("cannot write %s", users);
    g_setenv("NTLM_USER_FILE", users, TRUE);
    const int failed = gst_check_run_suite(wmpushsink_auth_suite(), "wmpushsink-auth", __FILE__);
    g_unlink(users);
    g_rmdir(dir);
    return failed;
}
