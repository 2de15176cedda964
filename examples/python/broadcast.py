#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Broadcast a live test picture with wmnetsink from Python (PyGObject).

Shows the element's signals (client-added, client-removed), its get-clients
action, errors from the bus, and a clean end on Ctrl-C: EOS, wait for it
(bounded), then NULL. Exits 1 on an error. See examples/README.md.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

PIPELINE = (
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! "
    "avenc_wmv2 bitrate=500000 gop-size=50 ! asfmux streamable=true ! wmnetsink name=sink"
)
EOS_TIMEOUT_S = 3  # how long Ctrl-C waits for the end of stream to reach the clients


class Broadcast:
    def __init__(self, args):
        self.pipeline = Gst.parse_launch(PIPELINE)
        self.sink = self.pipeline.get_by_name("sink")
        self.sink.set_property("port", args.port)
        self.sink.set_property("address", args.address)
        self.sink.set_property("max-clients", -1)
        self.sink.connect("client-added", self.on_client_added)
        self.sink.connect("client-removed", self.on_client_removed)
        self.loop = GLib.MainLoop()
        self.status = 0
        self.stopping = False
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)
        bus.connect("message::eos", lambda *_: self.loop.quit())
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.stop)
        GLib.timeout_add_seconds(args.interval, self.print_clients)
        if args.duration:
            GLib.timeout_add_seconds(args.duration, self.stop)

    # Signals of wmnetsink are emitted from a thread of the element: print only.
    def on_client_added(self, sink, client_id):
        print(f"client-added: {client_id}", flush=True)

    def on_client_removed(self, sink, client_id, reason):
        print(f"client-removed: {client_id} ({reason.value_nick})", flush=True)

    def print_clients(self):
        clients = self.sink.emit("get-clients").get_value("clients")
        print(f"get-clients: {len(clients)} client(s)", flush=True)
        for c in clients:
            print(
                f"  {c.get_value('id')} {c.get_value('address')} {c.get_value('protocol')} "
                f"\"{c.get_value('user-agent')}\" {c.get_value('bytes-sent')} bytes sent",
                flush=True,
            )
        return GLib.SOURCE_CONTINUE

    def on_error(self, bus, message):
        error, debug = message.parse_error()
        print(f"ERROR from {message.src.get_name()}: {error.message}", file=sys.stderr)
        print(f"  debug: {debug}", file=sys.stderr)
        self.status = 1
        self.loop.quit()

    def stop(self):
        """Ctrl-C: EOS, so the clients get the end-of-stream notice; NULL at the latest after
        EOS_TIMEOUT_S."""
        if not self.stopping:
            self.stopping = True
            print("Stopping...", flush=True)
            self.pipeline.send_event(Gst.Event.new_eos())
            GLib.timeout_add_seconds(EOS_TIMEOUT_S, self.on_eos_timeout)
        return GLib.SOURCE_REMOVE

    def on_eos_timeout(self):
        print(f"no end of stream after {EOS_TIMEOUT_S} s, stopping anyway", file=sys.stderr)
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def run(self):
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            # The ERROR on the bus says why (port in use, ...).
            self.status = 1
        else:
            port = self.sink.get_property("current-port")
            print(f"Serving on port {port}: mmsh://HOST:{port}/ or http://HOST:{port}/", flush=True)
            self.loop.run()
        # Messages still queued (an ERROR of a failed state change) are shown before the end.
        bus = self.pipeline.get_bus()
        while message := bus.pop_filtered(Gst.MessageType.ERROR):
            self.on_error(bus, message)
        self.pipeline.set_state(Gst.State.NULL)
        bus.remove_signal_watch()
        return self.status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="TCP port (0 = any free port)")
    parser.add_argument("--address", default="", help="bind address (default: every interface)")
    parser.add_argument("--interval", type=int, default=5, help="seconds between client lists")
    parser.add_argument("--duration", type=int, default=0, help="stop after this many seconds")
    args = parser.parse_args()
    Gst.init(None)
    return Broadcast(args).run()


if __name__ == "__main__":
    sys.exit(main())
