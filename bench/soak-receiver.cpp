/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmstream-soak-receiver: the strict MS-WMHTTP publishing point of the push
 * tests (tests/push/receiver.h) as a process of its own, so that bench/soak
 * can kill it (SIGKILL, a crashed server) and start it again on the same
 * port while wmpushsink keeps pushing.
 *
 *   wmstream-soak-receiver [--port P]
 *
 * Prints {"event":"listening","port":P,"pid":…} once it listens, then every
 * second a stats line: connections accepted, $H and $D packets and payload
 * bytes received, protocol violations (receiver.h lists what it checks).
 * The receiver keeps what it received in memory; bench/soak restarts it
 * every few minutes, which bounds that.
 */
#include "receiver.h"

#include <glib.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace {

/** A stats line is printed this often, µs. */
constexpr int64_t kStatsIntervalUs = G_USEC_PER_SEC;
/** Violations are counted (a full snapshot copy) every this many stats lines. */
constexpr int kSnapshotEvery = 10;

std::atomic<bool> g_stop{false};

void on_signal(int) {
    g_stop = true;
}

} // namespace

int main(int argc, char **argv) {
    uint16_t port = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = uint16_t(std::strtoul(argv[++i], nullptr, 10));
        } else {
            std::fprintf(stderr, "usage: wmstream-soak-receiver [--port P]\n");
            return 2;
        }
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::atomic<uint64_t> headers{0}, packets{0}, bytes{0};
    pushtest::Receiver receiver;
    receiver.on_header([&](const pushtest::Bytes &) { ++headers; });
    receiver.on_packet([&](const pushtest::Bytes &payload) {
        ++packets;
        bytes += payload.size();
    });
    const uint16_t bound = receiver.start(port);
    if (bound == 0) {
        std::fprintf(stderr, "soak-receiver: cannot listen on port %u\n", unsigned(port));
        return 1;
    }
    std::printf("{\"event\":\"listening\",\"port\":%u,\"pid\":%d}\n", unsigned(bound),
                int(getpid()));
    std::fflush(stdout);

    size_t violations = 0;
    int connections = 0;
    for (int tick = 0; !g_stop.load(); ++tick) {
        g_usleep(kStatsIntervalUs);
        if (tick % kSnapshotEvery == 0) {
            const pushtest::Snapshot snapshot = receiver.snapshot();
            for (size_t i = violations; i < snapshot.violations.size(); ++i)
                std::fprintf(stderr, "soak-receiver: violation: %s\n",
                             snapshot.violations[i].c_str());
            violations = snapshot.violations.size();
            connections = snapshot.connections;
        }
        std::printf("{\"event\":\"stats\",\"connections\":%d,\"headers\":%llu,\"packets\":%llu,"
                    "\"bytes\":%llu,\"violations\":%zu}\n",
                    connections, static_cast<unsigned long long>(headers.load()),
                    static_cast<unsigned long long>(packets.load()),
                    static_cast<unsigned long long>(bytes.load()), violations);
        std::fflush(stdout);
    }
    receiver.stop();
    return violations == 0 ? 0 : 1;
}
