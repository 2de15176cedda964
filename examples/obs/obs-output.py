#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run wmnetsink or wmpushsink the way OBS Studio's GStreamer output does.

obs-gstreamer's output (gstreamer-output.c) gets H.264 (byte-stream) and AAC packets from OBS's
encoders, pushes each into a new buffer of one of two appsrc elements, and appends the user's
launch string, which takes the media from the elements named `video` and `audio`. To stop, it
ends both appsrcs, waits at most 3 s for EOS (OUTPUT_EOS_TIMEOUT), then sets NULL.

This program plays OBS's part: a test picture and a tone are encoded with x264enc and avenc_aac
(OBS's x264 and AAC encoders) and every packet is copied to the output, as OBS does. asfmux takes
no H.264, so the launch string decodes it and encodes WMV2. See examples/README.md.
"""

import argparse
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

WIDTH, HEIGHT, RATE, CHANNELS = 320, 240, 48000, 2
# What obs-gstreamer builds in front of the user's launch string (1190: AAC LC, 48 kHz, stereo).
OUTPUT = (
    f"appsrc name=appsrc_video ! video/x-h264, width={WIDTH}, height={HEIGHT}, "
    "stream-format=byte-stream ! h264parse name=video "
    "appsrc name=appsrc_audio ! audio/mpeg, mpegversion=4, stream-format=raw, "
    f"rate={RATE}, channels={CHANNELS}, codec_data=(buffer)1190 ! aacparse name=audio "
)
# A launch string for OBS's "Pipeline" setting. decodebin, not avdec_h264: a decoder right after
# `video.` offers a framerate range upstream, and obs-gstreamer's capsfilter, which has none,
# then fails with "Filter caps do not completely specify the output format". Video only:
# asfmux interleaves by raw timestamps and gst-libav's video encoders start theirs at 1000 h,
# so audio from another encoder would all come first (see README.md, "The main job").
DEFAULT_PIPELINE = (
    "video. ! decodebin ! videoconvert ! avenc_wmv2 bitrate=1000000 gop-size=50 ! "
    "asfmux streamable=true ! wmnetsink port=8080 audio. ! fakesink"
)
# OBS's encoders, stood in for by GStreamer ones.
ENCODERS = (
    f"videotestsrc is-live=true ! video/x-raw,width={WIDTH},height={HEIGHT},framerate=25/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=50 ! "
    "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=video sync=false "
    f"audiotestsrc is-live=true ! audio/x-raw,rate={RATE},channels={CHANNELS} ! avenc_aac ! "
    "audio/mpeg,stream-format=raw ! appsink name=audio sync=false"
)
EOS_TIMEOUT_S = 3  # obs-gstreamer's OUTPUT_EOS_TIMEOUT


def copy_packet(appsink, appsrc):
    """gstreamer_output_encoded_packet(): the packet's bytes in a new buffer, with its times and
    its key-frame flag."""
    packet = appsink.emit("pull-sample").get_buffer()
    buffer = Gst.Buffer.new_wrapped(packet.extract_dup(0, packet.get_size()))
    buffer.pts, buffer.dts = packet.pts, packet.dts
    if packet.has_flags(Gst.BufferFlags.DELTA_UNIT):
        buffer.set_flags(Gst.BufferFlags.DELTA_UNIT)
    appsrc.emit("push-buffer", buffer)
    return Gst.FlowReturn.OK


def show(message):
    """OBS watches no bus; this program prints what the sinks report."""
    if message.type == Gst.MessageType.ERROR:
        error, debug = message.parse_error()
        print(f"ERROR from {message.src.get_name()}: {error.message}\n  debug: {debug}", flush=True)
    elif message.type == Gst.MessageType.WARNING:
        warning, _ = message.parse_warning()
        print(f"WARNING from {message.src.get_name()}: {warning.message}", flush=True)
    elif message.type == Gst.MessageType.ELEMENT:
        print(message.get_structure().to_string(), flush=True)


class Output:
    def __init__(self, launch):
        self.pipeline = Gst.parse_launch(OUTPUT + launch)  # raises GLib.Error on a bad string
        self.encoders = Gst.parse_launch(ENCODERS)
        for name in ("video", "audio"):
            appsrc = self.pipeline.get_by_name("appsrc_" + name)
            appsrc.set_property("format", Gst.Format.TIME)
            appsink = self.encoders.get_by_name(name)
            appsink.set_property("emit-signals", True)
            appsink.connect("new-sample", copy_packet, appsrc)
        self.status = 0
        self.stopped = False

    def on_message(self, bus, message):
        show(message)
        if message.type == Gst.MessageType.ERROR:
            self.status = 1
            self.loop.quit()

    def stop(self):
        """gstreamer_output_stop(): no more packets, EOS on both appsrcs, EOS awaited at most
        EOS_TIMEOUT_S, then NULL."""
        if self.stopped:
            return GLib.SOURCE_REMOVE
        self.stopped = True
        self.loop.quit()
        self.encoders.set_state(Gst.State.NULL)
        start = time.monotonic()
        for name in ("appsrc_video", "appsrc_audio"):
            self.pipeline.get_by_name(name).emit("end-of-stream")
        bus = self.pipeline.get_bus()
        wanted = Gst.MessageType.EOS | Gst.MessageType.ERROR | Gst.MessageType.ELEMENT
        eos = None
        while not eos and (left := start + EOS_TIMEOUT_S - time.monotonic()) > 0:
            message = bus.timed_pop_filtered(int(left * Gst.SECOND), wanted)
            if message and message.type == Gst.MessageType.EOS:
                eos = time.monotonic() - start
            elif message:
                self.on_message(bus, message)
        self.pipeline.set_state(Gst.State.NULL)
        stopped = time.monotonic() - start
        print(f"stop: EOS {f'after {eos:.2f} s' if eos is not None else 'not reached'}, "
              f"NULL after {stopped:.2f} s", flush=True)
        return GLib.SOURCE_REMOVE

    def run(self, duration):
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        self.loop = GLib.MainLoop()
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.stop)
        if duration:
            GLib.timeout_add_seconds(duration, self.stop)
        # obs-gstreamer does not check this; a failure (port in use) leaves an ERROR on the bus.
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self.status = 1
            while message := bus.pop_filtered(Gst.MessageType.ERROR):
                show(message)
            self.pipeline.set_state(Gst.State.NULL)
        else:
            self.encoders.set_state(Gst.State.PLAYING)
            self.loop.run()
            if self.status:  # an ERROR: stop as OBS would
                self.stop()
        bus.remove_signal_watch()
        return self.status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", nargs="?", default=DEFAULT_PIPELINE,
                        help="the launch string after video./audio. (OBS's Pipeline setting)")
    parser.add_argument("--duration", type=int, default=0, help="stop after this many seconds")
    args = parser.parse_args()
    Gst.init(None)
    try:
        output = Output(args.pipeline)
    except GLib.Error as error:
        print(f"cannot build the pipeline: {error.message}", file=sys.stderr)
        return 1
    return output.run(args.duration)


if __name__ == "__main__":
    sys.exit(main())
