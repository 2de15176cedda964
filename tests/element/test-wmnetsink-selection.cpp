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

#include <glib/gstdio.h>

#include <cstring>
#include <initializer_list>
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

/** Two renditions of one source (ASF stream 1 at 160x120, 2 at 320x240, a key frame a
 *  second each) and audio (stream 3): an MBR stream to switch in. */
const char *const kTwoRatesPipeline =
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! tee name=vt "
    "vt. ! queue ! videoscale ! video/x-raw,width=160,height=120 ! "
    "avenc_wmv2 name=venc0 gop-size=25 ! mux.video_0 "
    "vt. ! queue ! avenc_wmv2 name=venc1 gop-size=25 ! mux.video_1 "
    "audiotestsrc is-live=true ! audioconvert ! audio/x-raw,rate=44100,channels=2 ! "
    "avenc_wmav2 name=aenc bitrate=64000 ! mux.audio_0 "
    "asfmux name=mux streamable=true ! wmnetsink name=sink port=0 address=127.0.0.1";

/** Start @p pipeline (@p encoders rebased) and read its header with a Describe, as a player
 *  does before its Play. */
wmstream::proto::asf::HeaderInfo start_and_describe(LivePipeline &pipeline,
                                                    std::initializer_list<const char *> encoders = {
                                                        "venc", "aenc"}) {
    for (const char *encoder : encoders)
        pipeline.rebase(encoder);
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

/** A $D's packet as players make it of a $D without padding: zeros up to the packet size. */
std::vector<uint8_t> repad(const wmstream::proto::framing::Packet &packet,
                           const wmstream::proto::asf::HeaderInfo &header) {
    std::vector<uint8_t> whole = packet.payload;
    fail_unless(whole.size() <= header.packet_size, "a $D of %zu bytes", whole.size());
    whole.resize(header.packet_size, 0);
    return whole;
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
    size_t stripped = 0;
    guint32 expected_location = 0;
    while (data < kDataPackets) {
        const wmstream::proto::framing::Packet packet = reader.next();
        fail_unless(packet.id == wmstream::proto::framing::PacketId::Data, "packet '%c'",
                    char(packet.id));
        fail_unless_equals_int(packet.location_id, expected_location++);
        /* Without padding (MS-WMSP §2.2.3.3; a packet the audio fills has none): padded back
         * with zeros as players do, it is a packet of the header's size. */
        const std::vector<uint8_t> repadded = repad(packet, header);
        stripped += packet.payload.size() < header.packet_size ? 1 : 0;
        auto info = wmstream::proto::asf::parse_packet(repadded.data(), repadded.size(), header);
        fail_unless(info.ok(), "packet %zu: %s", data, info ? "" : info.error().message.c_str());
        fail_if(info->streams[video], "packet %zu carries a video payload", data);
        fail_unless(info->streams[audio], "packet %zu carries no audio payload", data);
        ++data;
    }
    fail_unless(stripped > kDataPackets / 2, "only %zu of %zu $D without padding", stripped,
                kDataPackets);
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

/* The spec's SelectStream exchange (MS-WMSP §4.10, non-pipelined): a Play receives video
 * stream 1 and the audio; a SelectStream POST on a connection of its own, naming the Play's
 * client-id, replaces stream 1 by stream 2 (entry 1:2:0). The Play's $D packets, numbered on
 * without a gap, go on carrying stream 1 until stream 2 begins, with a key frame (§3.2.5.7),
 * and none of stream 1 after it; the audio never stops. FFmpeg decodes what the client
 * received (saved as an ASF file) without an error, both video streams, and get-clients
 * reports streams 2 and 3. A SelectStream naming an unknown client-id: 400. */
GST_START_TEST(test_select_stream_switches_at_key_frame) {
    using wmstream::proto::framing::PacketId;
    LivePipeline pipeline(kTwoRatesPipeline);
    const auto header = start_and_describe(pipeline, {"venc0", "venc1", "aenc"});
    fail_unless_equals_int(header.streams.size(), 3);

    TestClient client(pipeline.port());
    client.send(play_request("ffff:1:0 ffff:2:2 ffff:3:0", 3));
    WmspReader reader(client);
    fail_unless(client.read_head());
    fail_unless(starts_with(client.status_line(), "HTTP/1.0 200"), "%s",
                client.status_line().c_str());
    fail_unless(client.header("Supported").find("com.microsoft.wm.sswitch") != std::string::npos);
    std::string client_id;
    for (const std::string &pragma : client.headers("Pragma"))
        if (starts_with(pragma, "client-id="))
            client_id = pragma.substr(std::strlen("client-id="));
    fail_if(client_id.empty(), "no Pragma client-id in the Play response");
    const wmstream::proto::framing::Packet head = reader.next();
    fail_unless(head.id == PacketId::Header);
    std::vector<uint8_t> received(head.payload.begin(), head.payload.end());

    guint32 expected_location = 0;
    const auto next_packet = [&]() {
        const wmstream::proto::framing::Packet packet = reader.next();
        fail_unless(packet.id == PacketId::Data, "packet '%c'", char(packet.id));
        fail_unless_equals_int(packet.location_id, expected_location++);
        const std::vector<uint8_t> whole = repad(packet, header);
        received.insert(received.end(), whole.begin(), whole.end());
        auto info = wmstream::proto::asf::parse_packet(whole.data(), whole.size(), header);
        fail_unless(info.ok(), "%s", info ? "" : info.error().message.c_str());
        return *info;
    };
    for (size_t i = 0; i < kDataPackets; ++i)
        fail_if(next_packet().streams[2], "stream 2 before the SelectStream");

    const gint64 asked_at = g_get_monotonic_time();
    TestClient select(pipeline.port());
    select.send(std::string("POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: ") + kPlayerAgent +
                "\r\nPragma: client-id=" + client_id +
                "\r\nPragma: xClientGUID={3300AD50-2C39-46c0-AE0A-3D7E5BA2B1F2}\r\n"
                "Pragma: stream-switch-count=1\r\nPragma: stream-switch-entry=1:2:0\r\n"
                "Content-Length: 0\r\nConnection: Close\r\n\r\n");
    fail_unless(select.read_head());
    fail_unless(starts_with(select.status_line(), "HTTP/1.0 200"), "%s",
                select.status_line().c_str());
    fail_unless(select.wait_closed());

    /* Until stream 2 begins: stream 1 and the audio (bounded: a few key-frame intervals). */
    size_t before = 0;
    wmstream::proto::asf::PacketInfo info = next_packet();
    for (; !info.streams[2]; info = next_packet(), ++before) {
        fail_unless(g_get_monotonic_time() - asked_at <
                        gint64(5 * G_USEC_PER_SEC) * gint64(interop::slowdown()),
                    "stream 2 never began");
    }
    fail_unless(info.key_frame_streams[2], "stream 2 began without a key frame");
    size_t audio = info.streams[3] ? 1 : 0;
    for (size_t i = 0; i < kDataPackets; ++i) {
        const wmstream::proto::asf::PacketInfo after = next_packet();
        fail_if(after.streams[1], "stream 1 after stream 2 began");
        audio += after.streams[3] ? 1 : 0;
    }
    fail_unless(audio > 0, "no audio after the switch");
    fail_unless(selected_streams(pipeline.sink(), kPlayerAgent) == std::vector<guint>({2, 3}));
    g_print("SelectStream 1:2:0: stream 2 began with a key frame %zu packets later\n", before);
    client.close();

    /* What the client received, as a file: FFmpeg decodes both video streams cleanly. */
    g_autofree gchar *dir = g_dir_make_tmp("wmnetsink-switch-XXXXXX", nullptr);
    fail_unless(dir != nullptr);
    const std::string path = std::string(dir) + "/switched.asf";
    fail_unless(g_file_set_contents(path.c_str(), reinterpret_cast<const char *>(received.data()),
                                    gssize(received.size()), nullptr));
    interop::run_clean({"ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0", "-map",
                        "0:v:1", "-f", "null", "-"},
                       guint(30 * interop::slowdown()));
    g_unlink(path.c_str());
    g_rmdir(dir);

    TestClient stranger(pipeline.port());
    stranger.send(std::string("POST / HTTP/1.0\r\nUser-Agent: ") + kPlayerAgent +
                  "\r\nPragma: client-id=1\r\nPragma: stream-switch-count=1\r\n"
                  "Pragma: stream-switch-entry=ffff:2:0\r\nContent-Length: 0\r\n\r\n");
    fail_unless(stranger.read_head());
    fail_unless(starts_with(stranger.status_line(), "HTTP/1.0 400"), "%s",
                stranger.status_line().c_str());
    pipeline.assert_no_errors();
}
GST_END_TEST;

Suite *selection_suite() {
    Suite *suite = suite_create("wmnetsink-selection");
    TCase *tcase = tcase_create("selection");
    tcase_set_timeout(tcase, 120);
    tcase_add_test(tcase, test_audio_only_client_beside_ffmpeg);
    tcase_add_test(tcase, test_no_stream_selected_is_refused);
    tcase_add_test(tcase, test_select_stream_switches_at_key_frame);
    suite_add_tcase(suite, tcase);
    return suite;
}

} // namespace

int main(int argc, char **argv) {
    return interop::main_with_requirements(
        argc, argv, "wmnetsink-selection", selection_suite, {"ffmpeg", "timeout"},
        {"videotestsrc", "audiotestsrc", "audioconvert", "avenc_wmv2", "avenc_wmav2", "asfmux",
         "tee", "queue", "videoscale"});
}
