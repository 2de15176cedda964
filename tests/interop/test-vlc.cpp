/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Interop with the real VLC (cvlc, access_mms): VLC plays a live wmnetsink
 * stream over mmsh:// for a few seconds, and its debug log (-vv) must show
 * that its MS-WMSP access took the stream, the ASF demuxer found the
 * streams and the decoder produced a picture, with no protocol error; and
 * VLC opens the announcement (http://…/live.asx) and plays the stream it names.
 *
 * VLC runs as interop::vlc_command() says, with a private writable HOME.
 */
#include "interop.h"

#include <string>
#include <vector>

using interop::Fields;
using interop::LivePipeline;
using interop::Run;

namespace {

constexpr guint kPlaySeconds = 4;
constexpr guint kVlcLimitS = 20;

/** VLC's log lines, from the first one containing @p marker on ("" = all). */
std::vector<std::string> lines_from(const std::string &log, const std::string &marker) {
    std::vector<std::string> all = interop::lines(log);
    auto first = all.begin();
    if (!marker.empty())
        while (first != all.end() && first->find(marker) == std::string::npos)
            ++first;
    return std::vector<std::string>(first, all.end());
}

bool contains(const std::vector<std::string> &lines, const std::string &text) {
    for (const std::string &line : lines)
        if (line.find(text) != std::string::npos)
            return true;
    return false;
}

/** The log of `cvlc` playing @p url for kPlaySeconds; asserts it ran and ended by itself. */
std::string play(const std::string &url) {
    interop::VlcHome home;
    const std::vector<std::string> argv = interop::vlc_command(
        {"-I", "dummy", "-vv", "--play-and-exit", "--vout=dummy", "--aout=dummy", "--no-dbus",
         "--run-time=" + std::to_string(kPlaySeconds), url});
    const Run result = interop::run(argv, kVlcLimitS, {home.env()});
    fail_unless(result.exited && result.status == 0, "%s", interop::describe(argv, result).c_str());
    return result.out + result.err;
}

/**
 * Assert the log shows access_mms playing a broadcast and VLC decoding it.
 * @p streams: the "added new … stream(codec:…" texts the demuxer must log.
 */
void assert_played(const std::string &log, const std::vector<std::string> &streams) {
    const std::vector<std::string> all = lines_from(log, "");
    /* The log is long (~40 kB): it goes to stderr and the failure message
     * stays short; a message that long made check's forked child hang. */
    const auto expect = [&](const std::vector<std::string> &lines, const std::string &text) {
        if (!contains(lines, text))
            g_printerr("VLC log:\n%s\n", log.c_str());
        fail_unless(contains(lines, text), "VLC never logged \"%s\"", text.c_str());
    };
    const auto refuse = [&](const std::vector<std::string> &lines, const std::string &text) {
        if (contains(lines, text))
            g_printerr("VLC log:\n%s\n", log.c_str());
        fail_if(contains(lines, text), "VLC logged \"%s\"", text.c_str());
    };

    /* Describe: the features Pragma and a whole ASF header in $H. */
    expect(all, "access_mms stream debug: stream type = broadcast");
    expect(all, "access_mms stream debug: complete header size=");
    refuse(all, "complete header size=0");
    refuse(all, "header size == 0");
    /* Play: the access module is the MMS one (not the HTTP fallback). */
    expect(all, "access_mms stream debug: starting stream");
    expect(all, "using access module \"access_mms\"");
    for (const std::string &stream : streams)
        expect(all, "asf demux debug: added new " + stream);
    expect(all, "main decoder debug: Received first picture");

    /* No framing or protocol error. The Describe is read until the server
     * closes it ("Connection: close", as VLC's own MMS server does), which
     * VLC logs as "cannot read data 2" before "starting stream": only the
     * lines from the Play on must be free of read errors. */
    for (const char *text : {"unrecognized chunk", "invalid chunk", "no stream selected",
                             "access_mms stream error: error:", "invalid HTTP reply"})
        refuse(all, text);
    const std::vector<std::string> playing =
        lines_from(log, "access_mms stream debug: starting stream");
    refuse(playing, "cannot read data");
    refuse(playing, "failed to send request");
}

GST_START_TEST(test_vlc_video) {
    LivePipeline pipeline(interop::kVideoPipeline);
    pipeline.set_state(GST_STATE_PLAYING);
    const std::string log = play(pipeline.url("mmsh"));
    assert_played(log, {"video stream(codec:WMV2"});
    for (const Fields &client : pipeline.element_messages("wmnetsink-client-added", 1)) {
        fail_unless_equals_string(client.at("protocol").c_str(), "wmsp");
        fail_unless_equals_string(client.at("user-agent").c_str(), "NSPlayer/7.10.0.3059");
    }
    pipeline.assert_no_errors();
}
GST_END_TEST;

GST_START_TEST(test_vlc_audio_video) {
    LivePipeline pipeline(interop::kAudioVideoPipeline);
    pipeline.rebase("venc");
    pipeline.rebase("aenc");
    pipeline.set_state(GST_STATE_PLAYING);
    const std::string log = play(pipeline.url("mmsh"));
    assert_played(log, {"video stream(codec:WMV2", "audio stream (codec:WMA2"});
    pipeline.assert_no_errors();
}
GST_END_TEST;

/* The announcement (GET *.asx): VLC takes it for an ASX playlist and plays the mmsh:// URL it
 * names, with the Host VLC sent. */
GST_START_TEST(test_vlc_announcement) {
    LivePipeline pipeline(interop::kVideoPipeline);
    pipeline.set_state(GST_STATE_PLAYING);
    const std::string log = play(pipeline.url("http") + "live.asx");
    if (log.find("found valid ASX playlist") == std::string::npos)
        g_printerr("VLC log:\n%s\n", log.c_str());
    fail_unless(log.find("found valid ASX playlist") != std::string::npos,
                "VLC did not take /live.asx for an ASX playlist");
    assert_played(log, {"video stream(codec:WMV2"});
    const std::vector<Fields> clients = pipeline.element_messages("wmnetsink-client-added", 1);
    fail_unless_equals_string(clients.at(0).at("protocol").c_str(), "wmsp");
    pipeline.assert_no_errors();
}
GST_END_TEST;

Suite *vlc_suite() {
    Suite *suite = suite_create("interop-vlc");
    TCase *tcase = tcase_create("vlc");
    tcase_set_timeout(tcase, 120);
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_vlc_video);
    tcase_add_test(tcase, test_vlc_audio_video);
    tcase_add_test(tcase, test_vlc_announcement);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    return interop::main_with_requirements(
        argc, argv, "interop-vlc", vlc_suite, interop::vlc_programs(),
        {"videotestsrc", "audiotestsrc", "avenc_wmv2", "avenc_wmav2", "asfmux"});
}
