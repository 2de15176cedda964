/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmstream-send-cost: what the loopback sends of a fan-out cost this machine,
 * by way of sending (docs/performance.md, "A sixth look").
 *
 *   wmstream-send-cost [--clients N] [--bytes B] [--rate BITS_PER_S] [--seconds S]
 *                      [--mode sendmsg|sendfile] [--congestion NAME]
 *                      [--stagger K] [--vector V] [--head-bytes H] [--source buffer|log]
 *
 * Opens N TCP connections on 127.0.0.1; a child process drains them (epoll,
 * 256 KiB reads). The parent sends B bytes (default 19200, what wmnetsink
 * writes per client per round at 1 Mbit/s) to every connection once per
 * B / rate seconds, either with one sendmsg() of V-byte vectors (default
 * 4800) of one buffer (what wmnetsink does; default) or with sendfile() from
 * an append-only memfd whose old ranges are punched out (its pages are never
 * rewritten while a socket may still hold them, so nothing is copied).
 * --congestion sets TCP_CONGESTION on the sending sockets.
 *
 * The write pattern of a coalesced client (server/write-coalescing.h): with
 * --stagger K the rounds come K times as often and each writes to a K-th of
 * the connections, so every connection still gets B bytes once per
 * B / rate seconds (a filtered MBR client writes ~64 KB every seventh
 * round); --head-bytes H puts H bytes of the connection's own before each
 * vector (12: a `$D` framing and data packet header, MS-WMSP §2.2.3.1);
 * --source log takes the vectors' bytes from a 32-MB log that advances by
 * the stream's bytes every round, as a packet log does, instead of from one
 * buffer that stays in the cache.
 *
 * Prints one line: the sender's CPU time (getrusage, user + system) per GB
 * sent. Exits 1 when nothing was sent, 2 on a bad argument.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kReadSize = 256 * 1024;
/** Vectors of one sendmsg() at most (IOV_MAX). */
constexpr size_t kMaxVectors = 1024;

struct Options {
    int clients = 1000;
    size_t bytes = 19200;
    double rate_bps = 1e6;
    double seconds = 10;
    bool use_sendfile = false;
    std::string congestion;
    int stagger = 1;
    size_t vector = 4800;
    size_t head_bytes = 0;
    bool from_log = false;
};

/** Bytes of --source log: more than any cache of this machine holds. */
constexpr size_t kLogBytes = 32u << 20;

[[noreturn]] void die(const char *what) {
    std::fprintf(stderr, "wmstream-send-cost: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: wmstream-send-cost [--clients N] [--bytes B] [--rate BITS_PER_S] "
                         "[--seconds S] [--mode sendmsg|sendfile] [--congestion NAME]\n"
                         "                          [--stagger K] [--vector V] [--head-bytes H] "
                         "[--source buffer|log]\n");
    std::exit(2);
}

Options parse(int argc, char **argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string name = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *value = argv[++i];
        if (name == "--clients")
            options.clients = std::atoi(value);
        else if (name == "--bytes")
            options.bytes = std::strtoul(value, nullptr, 10);
        else if (name == "--rate")
            options.rate_bps = std::atof(value);
        else if (name == "--seconds")
            options.seconds = std::atof(value);
        else if (name == "--mode" &&
                 (std::strcmp(value, "sendmsg") == 0 || std::strcmp(value, "sendfile") == 0))
            options.use_sendfile = std::strcmp(value, "sendfile") == 0;
        else if (name == "--congestion")
            options.congestion = value;
        else if (name == "--stagger")
            options.stagger = std::atoi(value);
        else if (name == "--vector")
            options.vector = std::strtoul(value, nullptr, 10);
        else if (name == "--head-bytes")
            options.head_bytes = std::strtoul(value, nullptr, 10);
        else if (name == "--source" &&
                 (std::strcmp(value, "buffer") == 0 || std::strcmp(value, "log") == 0))
            options.from_log = std::strcmp(value, "log") == 0;
        else
            usage();
    }
    if (options.clients < 1 || options.bytes < 1 || options.rate_bps <= 0 || options.seconds <= 0 ||
        options.stagger < 1 || options.vector < 1 || options.bytes > kLogBytes / 2 ||
        (options.bytes + options.vector - 1) / options.vector * (options.head_bytes ? 2 : 1) >
            kMaxVectors)
        usage();
    return options;
}

double cpu_seconds() {
    rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/** The child: connect @p clients times to @p to and read everything until the parent ends. */
[[noreturn]] void drain(const sockaddr_in &to, int clients) {
    const int epoll = epoll_create1(0);
    if (epoll < 0)
        die("epoll_create1");
    for (int i = 0; i < clients; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0)
            die("connect");
        fcntl(fd, F_SETFL, O_NONBLOCK);
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }
    std::vector<char> buffer(kReadSize);
    epoll_event events[512];
    for (;;) {
        const int n = epoll_wait(epoll, events, 512, -1);
        for (int i = 0; i < n; ++i) {
            ssize_t got;
            while ((got = read(events[i].data.fd, buffer.data(), buffer.size())) > 0) {
            }
            if (got == 0)
                _exit(0);
        }
    }
}

} // namespace

int main(int argc, char **argv) {
    const Options options = parse(argc, argv);

    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) ||
        listen(listener, 4096) ||
        getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length))
        die("listen");
    const pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0)
        drain(address, options.clients);

    std::vector<int> sockets;
    for (int i = 0; i < options.clients; ++i) {
        const int fd = accept(listener, nullptr, nullptr);
        if (fd < 0)
            die("accept");
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!options.congestion.empty() &&
            setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, options.congestion.data(),
                       socklen_t(options.congestion.size())) != 0)
            die("TCP_CONGESTION");
        fcntl(fd, F_SETFL, O_NONBLOCK);
        sockets.push_back(fd);
    }

    /* The vectors' bytes: one buffer, or the last B bytes of the log; each connection's own
     * heads, written once. */
    const std::vector<uint8_t> body(options.vector, 'x');
    const std::vector<uint8_t> log(options.from_log ? kLogBytes : 0, 'x');
    size_t log_at = 0;
    const std::vector<uint8_t> heads(options.head_bytes * size_t(options.clients), 'h');
    std::vector<iovec> vectors;
    const int memfd = options.use_sendfile ? memfd_create("send-cost", 0) : -1;
    if (options.use_sendfile && memfd < 0)
        die("memfd_create");

    /* Each round the stream advances by its share, B / K bytes: appended to the memfd
     * (sendfile; B bytes are written before the first round), or the log's position. */
    const size_t appended = std::max<size_t>(options.bytes / size_t(options.stagger), 1);
    off_t written = 0;
    auto append = [&](size_t bytes) {
        for (size_t done = 0; done < bytes;) {
            const size_t n = std::min(body.size(), bytes - done);
            if (pwrite(memfd, body.data(), n, written) != ssize_t(n))
                die("pwrite");
            written += off_t(n);
            done += n;
        }
        if (written > off_t(8 * options.bytes))
            fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                      written - off_t(8 * options.bytes));
    };
    if (options.use_sendfile)
        append(options.bytes);

    using Clock = std::chrono::steady_clock;
    const auto period = std::chrono::duration<double>(double(options.bytes) * 8 / options.rate_bps /
                                                      options.stagger);
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    uint64_t sent = 0;
    uint64_t calls = 0;
    for (uint64_t round = 0; Clock::now() - start < std::chrono::duration<double>(options.seconds);
         ++round) {
        const auto round_start = Clock::now();
        if (options.use_sendfile && round > 0)
            append(appended);
        if (options.from_log)
            log_at = (log_at + appended) % (kLogBytes - options.bytes);
        for (size_t i = round % size_t(options.stagger); i < sockets.size();
             i += size_t(options.stagger)) {
            ssize_t n;
            if (options.use_sendfile) {
                off_t from = written - off_t(options.bytes);
                n = sendfile(sockets[i], memfd, &from, options.bytes);
            } else {
                vectors.clear();
                for (size_t at = 0; at < options.bytes; at += options.vector) {
                    if (options.head_bytes)
                        vectors.push_back({const_cast<uint8_t *>(&heads[i * options.head_bytes]),
                                           options.head_bytes});
                    const uint8_t *bytes = options.from_log ? &log[log_at + at] : body.data();
                    vectors.push_back({const_cast<uint8_t *>(bytes),
                                       std::min(options.vector, options.bytes - at)});
                }
                msghdr message{};
                message.msg_iov = vectors.data();
                message.msg_iovlen = vectors.size();
                n = sendmsg(sockets[i], &message, MSG_DONTWAIT | MSG_NOSIGNAL);
            }
            ++calls;
            if (n > 0)
                sent += uint64_t(n);
        }
        std::this_thread::sleep_until(round_start + period);
    }
    const double cpu = cpu_seconds() - cpu_start;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

    std::printf("%s%s%s clients=%d bytes=%zu stagger=%d vector=%zu head-bytes=%zu source=%s: %.3f "
                "s/GB (cpu %.2f s in %.1f s, %.1f MB/s, %" PRIu64 " sends, %.1f µs each)\n",
                options.use_sendfile ? "sendfile" : "sendmsg",
                options.congestion.empty() ? "" : " ", options.congestion.c_str(), options.clients,
                options.bytes, options.stagger, options.vector, options.head_bytes,
                options.from_log ? "log" : "buffer", sent ? cpu / (double(sent) / 1e9) : 0.0, cpu,
                elapsed, double(sent) / elapsed / 1e6, calls,
                calls ? cpu / double(calls) * 1e6 : 0.0);
    for (const int fd : sockets)
        close(fd);
    kill(child, SIGTERM);
    waitpid(child, nullptr, 0);
    if (sent == 0) {
        std::fprintf(stderr, "wmstream-send-cost: nothing was sent\n");
        return 1;
    }
    return 0;
}
