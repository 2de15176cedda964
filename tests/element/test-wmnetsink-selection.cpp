/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-client stream selection against real peers (issue 13, MS-WMSP
 * §3.2.5.6): a live WMV2 + WMA2 stream (interop::kAudioVideoPipeline,
 * asfmux) served to
 *   - a scripted MS-WMSP client that, as the spec's §4 exchanges and VLC do,
 *     reads the header with a Describe, then sends a Play whose
 *     stream-switch-entry turns the video stream off (thinning 2) and selects
 *     the audio stream (thinning 0): every $D it receives comes without its
 *     padding (§2.2.3.3) and, padded with zeros to the header's fixed size,
 *     parses (lib/proto) as a packet holding audio payloads only; they are
 *     numbered without a gap, and get-clients reports its selection;
 *   - FFmpeg (mmsh://, which selects every stream) at the same time: it
 *     still decodes both streams;
 *   - a Play that selects no stream of the header: 400, client-removed
 *     reason no-streams.
 * Needs ffmpeg and the encoders (a failure under CI=true, a loud skip
 * elsewhere: interop::main_with_requirements).
 */
#include "interop.h"
#include "netsink-check.h"
#include "proto/asf.h"

#include <string>
#include <thread>
#include <vector>

using interop::Fields;
using interop::LivePipeline;
using netsinktest::kPlayerAgent;
using netsinktest::starts_with;
using netsinktest::TestClient;
using netsinktest::WmspReader;

namespace {

/** $D packets the scripted client checks (a few seconds of the audio stream). */
constexpr size_t kDataPackets = 20;

/** Start @p pipeline (both encoders rebased) and read its header with a Describe, as a
 *  player does before its Play. */
wmstream::proto::asf::HeaderInfo start_and_describe(LivePipeline &pipeline) {
    pipeline.rebase("venc");
    pipeline.rebase("aenc");
    pipeline.set_state(GST_STATE_PLAYING);
    TestClient client(pipeline.port());
    client.send(std::string("GET / HTTP/1.0\r\nUser-Agent: ") + kPlayerAgent +
                "\r\nPragma: no-cache,rate=1.000000,request-context=1\r\n\r\n");
    WmspReader reader(client);
    fail_unless(client.read_head());
    const wmstream::proto::framing::Packet header = reader.next();
    fail_unless(header.id == wmstream::proto::framing::PacketId::Header);
    auto info = wmstream::proto::asf::parse_header(header.payload.data(), header.payload.size());
    fail_unless(info.ok(), "%s", info ? "" : info.error().message.c_str());
    return *info;
}

/** A Play with the spec's one stream-switch-entry line per request (§2.2.1.4.27). */
std::string play_request(const std::string &entries, size_t count) {
    return std::string("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: ") + kPlayerAgent +
           "\r\nPragma: no-cache,rate=1.000000,request-context=2\r\nPragma: xPlayStrm=1\r\n"
           "Pragma: xClientGUID={3300AD50-2C39-46c0-AE0A-3D7E5BA2B1F2}\r\n"
           "Pragma: stream-switch-count=" +
           std::to_string(count) + "\r\nPragma: stream-switch-entry=" + entries +
           "\r\nConnection: Close\r\n\r\n";
}

/** The stream numbers of the audio and the video stream of @p header. */
std::pair<unsigned, unsigned> audio_and_video(const wmstream::proto::asf::HeaderInfo &header) {
    unsigned audio = 0;
    unsigned video = 0;
    for (const auto &stream : header.streams)
        (stream.audio ? audio : video) = stream.number;
    fail_unless(header.streams.size() == 2 && audio != 0 && video != 0);
    return {audio, video};
}

/** The selected-streams get-clients reports for the client with User-Agent @p agent. */
std::vector<guint> selected_streams(GstElement *sink, const char *agent) {
    GstStructure *all = nullptr;
    g_signal_emit_by_name(sink, "get-clients", &all);
    fail_unless(all != nullptr);
    const GValue *clients = gst_structure_get_value(all, "clients");
    fail_unless(clients != nullptr);
    std::vector<guint> numbers;
    bool found = false;
    for (guint i = 0; i < gst_value_array_get_size(clients); ++i) {
        const GstStructure *c = gst_value_get_structure(gst_value_array_get_value(clients, i));
        if (g_strcmp0(gst_structure_get_string(c, "user-agent"), agent) != 0)
            continue;
        const GValue *array = gst_structure_get_value(c, "selected-streams");
        fail_unless(array != nullptr && GST_VALUE_HOLDS_ARRAY(array));
        for (guint j = 0; j < gst_value_array_get_size(array); ++j)
            numbers.push_back(g_value_get_uint(gst_value_array_get_value(array, j)));
        found = true;
    }
    fail_unless(found, "no client with User-Agent %s listed", agent);
    gst_structure_free(all);
    return numbers;
}

GST_START_TEST(test_audio_only_client_beside_ffmpeg) {
    LivePipeline pipeline(interop::kAudioVideoPipeline);
    const auto header = start_and_describe(pipeline);
    const auto [audio, video] = audio_and_video(header);

    /* FFmpeg selects every stream ("ffff:%d:0" for each): it decodes both meanwhile. */
    std::string ffmpeg_out;
    std::thread ffmpeg([&] {
        ffmpeg_out = interop::run_clean(
            {"ffmpeg", "-nostdin", "-v", "error", "-i", pipeline.url("mmsh"), "-map", "0:v", "-map",
             "0:a", "-t", "3", "-f", "null", "-", "-progress", "pipe:1"},
            guint(30 * interop::slowdown()), {"Guessed Channel Layout for Input Stream"});
    });

    TestClient client(pipeline.port());
    client.send(play_request(
        "ffff:" + std::to_string(video) + ":2 ffff:" + std::to_string(audio) + ":0", 2));
    WmspReader reader(client);
    fail_unless(client.read_head());
    fail_unless(starts_with(client.status_line(), "HTTP/1.0 200"), "%s",
                client.status_line().c_str());
    fail_unless(reader.next().id == wmstream::proto::framing::PacketId::Header);
    size_t data = 0;
    guint32 expected_location = 0;
    while (data < kDataPackets) {
        const wmstream::proto::framing::Packet packet = reader.next();
        fail_unless(packet.id == wmstream::proto::framing::PacketId::Data, "packet '%c'",
                    char(packet.id));
        fail_unless_equals_int(packet.location_id, expected_location++);
        /* Without padding (MS-WMSP §2.2.3.3): padded back with zeros as players do, it is a
         * packet of the header's size. */
        fail_unless(packet.payload.size() < header.packet_size, "a $D of %zu bytes",
                    packet.payload.size());
        std::vector<uint8_t> repadded = packet.payload;
        repadded.resize(header.packet_size, 0);
        auto info = wmstream::proto::asf::parse_packet(repadded.data(), repadded.size(), header);
        fail_unless(info.ok(), "packet %zu: %s", data, info ? "" : info.error().message.c_str());
        fail_if(info->streams[video], "packet %zu carries a video payload", data);
        fail_unless(info->streams[audio], "packet %zu carries no audio payload", data);
        ++data;
    }
    fail_unless(selected_streams(pipeline.sink(), kPlayerAgent) == std::vector<guint>{audio});
    client.close();

    ffmpeg.join();
    const std::string progress =
        interop::last_value(ffmpeg_out, "progress"); /* outlives the macro */
    fail_unless_equals_string(progress.c_str(), "end");
    const guint frames =
        guint(g_ascii_strtoull(interop::last_value(ffmpeg_out, "frame").c_str(), nullptr, 10));
    fail_unless(frames >= 50, "ffmpeg decoded %u video frames", frames);
    pipeline.assert_no_errors();
}
GST_END_TEST;

GST_START_TEST(test_no_stream_selected_is_refused) {
    LivePipeline pipeline(interop::kAudioVideoPipeline);
    const auto [audio, video] = audio_and_video(start_and_describe(pipeline));
    /* Both streams turned off, and a stream the header does not have. */
    TestClient client(pipeline.port());
    client.send(play_request(
        "ffff:" + std::to_string(video) + ":2 ffff:" + std::to_string(audio) + ":2 ffff:9:0", 3));
    fail_unless(client.read_head());
    fail_unless(starts_with(client.status_line(), "HTTP/1.0 400"), "%s",
                client.status_line().c_str());
    fail_unless(client.wait_closed());
    const std::vector<Fields> removed = pipeline.element_messages("wmnetsink-client-removed", 1);
    bool refused = false;
    for (const Fields &fields : removed)
        refused = refused || fields.at("reason") == "no-streams";
    fail_unless(refused, "no client-removed with reason no-streams");
    pipeline.assert_no_errors();
}
GST_END_TEST;

Suite *selection_suite() {
    Suite *suite = suite_create("wmnetsink-selection");
    TCase *tcase = tcase_create("selection");
    tcase_set_timeout(tcase, 120);
    tcase_add_test(tcase, test_audio_only_client_beside_ffmpeg);
    tcase_add_test(tcase, test_no_stream_selected_is_refused);
    suite_add_tcase(suite, tcase);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    return interop::main_with_requirements(
        argc, argv, "wmnetsink-selection", selection_suite, {"ffmpeg", "timeout"},
        {"videotestsrc", "audiotestsrc", "audioconvert", "avenc_wmv2", "avenc_wmav2", "asfmux"});
}
