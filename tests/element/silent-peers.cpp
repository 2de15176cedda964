/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * silent-peers PORT COUNT ADDRESSES: open COUNT TCP connections to
 * 127.0.0.1:PORT from the source addresses 127.0.0.2 … 127.0.0.(ADDRESSES+1)
 * in turn, and send nothing. Prints "connected N" once every connect ended
 * (or after 15 s), then holds the connections until its standard input
 * closes (at most 120 s). A process of its own, so that its descriptors do
 * not count against the server's RLIMIT_NOFILE.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

constexpr int kConnectWaitMs = 15000;
constexpr int kHoldMs = 120000;

int connect_from(int index, int addresses, int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    sockaddr_in from = {};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + uint32_t(index % addresses));
    sockaddr_in to = {};
    to.sin_family = AF_INET;
    to.sin_port = htons(uint16_t(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr *>(&from), sizeof from) != 0 ||
        (connect(fd, reinterpret_cast<sockaddr *>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s PORT COUNT ADDRESSES\n", argv[0]);
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int count = std::atoi(argv[2]);
    const int addresses = std::max(1, std::atoi(argv[3]));
    rlimit limit = {};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, rlim_t(count) + 64);
    setrlimit(RLIMIT_NOFILE, &limit);

    std::vector<pollfd> pending;
    for (int i = 0; i < count; ++i) {
        const int fd = connect_from(i, addresses, port);
        if (fd >= 0)
            pending.push_back({fd, POLLOUT, 0});
    }
    std::vector<int> done;
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(kConnectWaitMs);
    int connected = 0;
    while (!pending.empty() && std::chrono::steady_clock::now() < end) {
        if (poll(pending.data(), pending.size(), 100) < 0)
            break;
        for (size_t i = 0; i < pending.size();) {
            if (pending[i].revents == 0) {
                ++i;
                continue;
            }
            int error = 0;
            socklen_t size = sizeof error;
            getsockopt(pending[i].fd, SOL_SOCKET, SO_ERROR, &error, &size);
            connected += error == 0;
            done.push_back(pending[i].fd);
            pending[i] = pending.back();
            pending.pop_back();
        }
    }
    std::printf("connected %d\n", connected);
    std::fflush(stdout);
    pollfd input = {STDIN_FILENO, POLLIN, 0};
    char byte;
    while (poll(&input, 1, kHoldMs) > 0 && read(STDIN_FILENO, &byte, 1) > 0) {
    }
    return 0;
}
