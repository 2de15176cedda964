#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/perf-parts: each sample of a `perf script` text goes to its part of the server, the
harness's and the removal's are left out of the total, and the kernel send path's frames are
those below its `sendmsg` frame."""
import importlib.machinery
import importlib.util
import os
import unittest

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "perf-parts")
_LOADER = importlib.machinery.SourceFileLoader("perf_parts", _PATH)
_SPEC = importlib.util.spec_from_loader("perf_parts", _LOADER)
perf_parts = importlib.util.module_from_spec(_SPEC)
_LOADER.exec_module(perf_parts)


def sample(comm, ns, *frames):
    """One sample of `perf script -F comm,period,ip,sym`: leaf frame first."""
    return "\n".join([f"{comm} {ns}"] + [f"\tffffffff{i:08x} {f}" for i, f in enumerate(frames)])


SCRIPT = "\n\n".join([
    sample("wmsb-pace", 4_000_000_000, "clock_nanosleep", "pace_loop"),
    sample("src:src", 2_000_000_000, "memcpy", "StreamStore::push", "Broadcast::push_packet"),
    sample("src:src", 1_000_000_000, "finish_task_switch", "gst_pad_push"),
    sample("wmstream-server", 3_000_000_000, "_copy_from_iter", "tcp_sendmsg_locked",
           "tcp_sendmsg", "__sys_sendmsg", "PlainTransport::send", "ForkJoin::work"),
    sample("wmstream-server", 1_000_000_000, "tcp_write_xmit", "tcp_push", "tcp_sendmsg_locked",
           "__sys_sendmsg", "ForkJoin::work"),
    sample("wmstream-server", 500_000_000, "StreamStore::fetch", "Connection::refill"),
    sample("wmstream-server", 700_000_000, "close", "Connection::finish", "on_reap"),
    sample("wmstream-server", 250_000_000, "g_main_context_check", "g_main_loop_run"),
]) + "\n\n"


def figures(lines):
    """{part: s/GB} of summarize()'s lines (the parts and the total, before any frame list)."""
    out = {}
    for line in lines:
        if line.startswith("\n"):
            break
        name, value, unit = line.rsplit(None, 2)
        assert unit == "s/GB", line
        out[name.strip()] = float(value)
    return out


class PerfPartsTest(unittest.TestCase):
    def test_parts_and_total(self):
        got = figures(perf_parts.summarize(SCRIPT, 2.0))
        self.assertEqual(got["pacing thread (harness, left out)"], 2.0)
        self.assertEqual(got["streaming thread: the store (push)"], 1.0)
        self.assertEqual(got["streaming thread: GStreamer"], 0.5)
        self.assertEqual(got["kernel send path (sendmsg)"], 2.0)
        self.assertEqual(got["refill(): fetch, queue"], 0.25)
        self.assertEqual(got["clients' removal (after the window, left out)"], 0.35)
        self.assertEqual(got["main loop, ticks"], 0.125)
        self.assertEqual(got["completing sends"], 0.0)
        # 1 + 0.5 + 2 + 0.25 + 0.125: the pacing thread and the removal are left out.
        self.assertEqual(got["total"], 3.875)

    def test_send_path_frames(self):
        lines = perf_parts.summarize(SCRIPT, 1.0, top=5)
        frames = lines[lines.index(next(l for l in lines if l.startswith("\n"))) + 1:]
        got = {line.rsplit(None, 2)[0].strip(): float(line.rsplit(None, 2)[1]) for line in frames}
        # Frames below the first one that names sendmsg (tcp_sendmsg_locked), leaf first.
        self.assertEqual(got, {"_copy_from_iter": 3.0, "tcp_write_xmit": 1.0, "tcp_push": 1.0})


if __name__ == "__main__":
    unittest.main()
