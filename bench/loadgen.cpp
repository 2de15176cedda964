/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmstream-loadgen: opens N streaming clients against one server on this
 * machine and measures what each receives (see docs/performance.md).
 *
 * Clients connect on a schedule (a ramp of --ramp clients/s, or all at
 * once), speak MS-WMSP Play (User-Agent NSPlayer + Pragma xPlayStrm=1,
 * selecting stream 1 or the --select streams: request.h), plain HTTP
 * GET, or nothing (raw TCP, tcpserversink), and are read by --threads
 * epoll loops with one large buffer each; stream-check.h
 * validates the framing and finds the data packets. After the last
 * scheduled connect and --warmup seconds, a measurement window of
 * --duration seconds starts; per-client figures (throughput, longest stall,
 * render-to-client latency through the timing side channel) count inside
 * it, joins (time to first byte, to first decodable packet) from each
 * client's connect(). With --server-pid the server's CPU time and RSS are
 * sampled before the first connect and at both ends of the window; with
 * --harness-thread too, the CPU time of the threads of that name in the
 * server process (the benchmark's own, such as wmstream-bench-source's
 * pacing thread) is sampled at the same instants and subtracted from the
 * server's (JSON: server_cpu_s = process_cpu_s - harness_cpu_s).
 *
 * Output: one JSON object on one stdout line, and a human summary on stderr.
 */
#include "proc-stat.h"
#include "request.h"
#include "stats.h"
#include "stream-check.h"
#include "timing-channel.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace wmstream::bench {
namespace {

/** Bytes read per recv(): large, so that a client costs one call per server write batch. */
constexpr size_t kReadBuffer = 256 * 1024;
/** Connects started per loop iteration at most (the rest follow at once). */
constexpr int kConnectsPerIteration = 256;
/** Events taken per epoll_wait. */
constexpr int kMaxEvents = 1024;
/** A kernel receive time further than this from the loop's clock is not used, µs. */
constexpr int64_t kPlausibleStampUs = 10 * 1000000;
/** A send-time step larger than this is a skip (the server moved the client forward), ms. */
constexpr uint32_t kSkipMs = 1000;
/** A client at or above this fraction of the stream rate keeps up. */
constexpr double kAtRate = 0.95;
/** Media received in the window (all clients) needed to measure the stream rate, ms. */
constexpr uint64_t kMinMediaMs = 2000;

struct Options {
    RequestTarget target; /**< address, path and (MS-WMSP) the streams selected */
    StreamKind kind = StreamKind::Wmsp;
    int clients = 100;
    double ramp = 500;    /**< connects per second; 0 = all at once */
    double warmup = 3;    /**< s after the last scheduled connect */
    double duration = 10; /**< s of measurement */
    int threads = 1;
    uint64_t rate_bps = 0; /**< 0 = measured in the window (else the timing file's) */
    std::string timing;
    pid_t server_pid = 0;
    std::string harness_thread; /**< threads of the server process that are not the server */
    std::string label;
};

int64_t to_us(const timespec &ts) {
    return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t now_us() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return to_us(ts);
}

int64_t real_now_us() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return to_us(ts);
}

void sleep_until(int64_t deadline_us) {
    for (;;) {
        const int64_t left = deadline_us - now_us();
        if (left <= 0)
            return;
        timespec ts{time_t(left / 1000000), long(left % 1000000) * 1000};
        nanosleep(&ts, nullptr);
    }
}

const char *kind_name(StreamKind kind) {
    switch (kind) {
    case StreamKind::Wmsp:
        return "wmsp";
    case StreamKind::Http:
        return "http";
    case StreamKind::Raw:
        break;
    }
    return "raw";
}

/** The schedule every thread follows. */
struct Plan {
    int64_t start_us = 0;
    int64_t window_start_us = 0;
    int64_t window_end_us = 0;
    double ramp = 0;
    int64_t connect_time(int index) const {
        return ramp > 0 ? start_us + int64_t(double(index) * 1e6 / ramp) : start_us;
    }
};

enum class Phase { Waiting, Connecting, Requesting, Receiving, Closed };
enum class Outcome { Open, ConnectFailed, ClosedByServer, ReadError, Invalid };

struct Client {
    explicit Client(StreamKind kind, HeaderCache &headers) : check(kind, headers) {}

    int fd = -1;
    Phase phase = Phase::Waiting;
    Outcome outcome = Outcome::Open;
    int error_number = 0;
    size_t request_sent = 0;
    int64_t connect_us = 0;
    int64_t first_byte_us = -1;
    int64_t first_decodable_us = -1;
    int64_t last_rx_us = -1;
    int64_t closed_us = -1;
    uint64_t bytes = 0;
    uint64_t window_bytes = 0;
    int64_t max_stall_us = 0;
    uint64_t window_media_ms = 0;
    uint32_t skips = 0;
    bool have_send = false;
    uint32_t last_send_ms = 0;
    StreamCheck check;
};

/** One epoll loop and the clients it owns (global index = first + k × stride). */
class Worker {
public:
    Worker(const Options &options, const Plan &plan, const TimingReader *timing, int first,
           int stride)
        : options_(options), plan_(plan), timing_(timing), first_(first), stride_(stride),
          request_(request_for(options.kind, options.target)) {
        for (int i = first; i < options.clients; i += stride)
            clients_.emplace_back(options.kind, headers_);
        buffer_.reset(new uint8_t[kReadBuffer]);
    }
    ~Worker() {
        for (Client &c : clients_)
            if (c.fd >= 0)
                close(c.fd);
        if (epoll_ >= 0)
            close(epoll_);
    }

    void run();
    const std::vector<Client> &clients() const { return clients_; }
    const Histogram &latency() const { return latency_; }
    uint64_t latency_misses() const { return latency_misses_; }
    std::string setup_error() const { return setup_error_; }

private:
    void start_connect(Client &c, int64_t now);
    void on_event(Client &c, uint32_t events, int64_t now);
    void send_request(Client &c, int64_t now);
    void receive(Client &c, int64_t now);
    /** @p arrived: when the bytes that completed the packet reached the client's socket. */
    void on_packet(Client &c, const PacketEvent &event, int64_t now, int64_t arrived,
                   bool in_window);
    void close_client(Client &c, Outcome outcome, int64_t now, int error_number = 0);
    void account_gap(Client &c, int64_t until);

    const Options &options_;
    const Plan &plan_;
    const TimingReader *timing_;
    const int first_;
    const int stride_;
    const std::string request_;
    HeaderCache headers_;
    std::vector<Client> clients_;
    std::unique_ptr<uint8_t[]> buffer_;
    int epoll_ = -1;
    sockaddr_in address_{};
    Histogram latency_;
    uint64_t latency_misses_ = 0;
    int64_t real_minus_mono_us_ = 0; /**< CLOCK_REALTIME − CLOCK_MONOTONIC, per loop iteration */
    std::string setup_error_;
};

void Worker::start_connect(Client &c, int64_t now) {
    c.connect_us = now;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        close_client(c, Outcome::ConnectFailed, now, errno);
        return;
    }
    if (connect(c.fd, reinterpret_cast<const sockaddr *>(&address_), sizeof address_) != 0 &&
        errno != EINPROGRESS) {
        close_client(c, Outcome::ConnectFailed, now, errno);
        return;
    }
    if (timing_) {
        /* Kernel receive times: the latency ends when a packet reaches the client's socket,
         * not when this loop, busy with other clients on a shared core, gets to read it. */
        const int on = 1;
        setsockopt(c.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    }
    c.phase = request_.empty() ? Phase::Receiving : Phase::Connecting;
    epoll_event ev{};
    ev.events = request_.empty() ? EPOLLIN : EPOLLOUT;
    ev.data.ptr = &c;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0)
        close_client(c, Outcome::ConnectFailed, now, errno);
}

void Worker::close_client(Client &c, Outcome outcome, int64_t now, int error_number) {
    if (c.fd >= 0)
        close(c.fd); /* also leaves the epoll set */
    c.fd = -1;
    c.phase = Phase::Closed;
    c.outcome = outcome;
    c.error_number = error_number;
    c.closed_us = now;
}

void Worker::send_request(Client &c, int64_t now) {
    const ssize_t n = send(c.fd, request_.data() + c.request_sent, request_.size() - c.request_sent,
                           MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN)
            close_client(c, errno == ECONNREFUSED ? Outcome::ConnectFailed : Outcome::ReadError,
                         now, errno);
        return;
    }
    c.request_sent += size_t(n);
    if (c.request_sent < request_.size())
        return;
    c.phase = Phase::Receiving;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Worker::account_gap(Client &c, int64_t until) {
    const int64_t from = std::max(c.last_rx_us, plan_.window_start_us);
    if (until > from)
        c.max_stall_us = std::max(c.max_stall_us, until - from);
}

void Worker::on_packet(Client &c, const PacketEvent &event, int64_t now, int64_t arrived,
                       bool in_window) {
    if (!event.parsed)
        return;
    if (c.first_decodable_us < 0 && event.key_frame_start)
        c.first_decodable_us = now;
    if (!in_window)
        return;
    if (c.have_send) {
        const uint32_t step = event.send_time_ms - c.last_send_ms;
        if (step <= kSkipMs)
            c.window_media_ms += step;
        else
            ++c.skips;
    }
    c.have_send = true;
    c.last_send_ms = event.send_time_ms;
    if (timing_) {
        if (auto render = timing_->render_time(event.send_time_ms))
            latency_.add(arrived - *render);
        else
            ++latency_misses_;
    }
}

void Worker::receive(Client &c, int64_t now) {
    iovec vector{buffer_.get(), kReadBuffer};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(c.fd, &message, 0);
    if (n == 0) {
        close_client(c, Outcome::ClosedByServer, now);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN)
            close_client(c, Outcome::ReadError, now, errno);
        return;
    }
    const bool in_window = now >= plan_.window_start_us && now < plan_.window_end_us;
    if (c.first_byte_us < 0)
        c.first_byte_us = now;
    if (in_window) {
        account_gap(c, now);
        c.window_bytes += uint64_t(n);
    }
    c.last_rx_us = now;
    c.bytes += uint64_t(n);
    /* For TCP the time is that of the last segment read: exact for the last packet
     * completed here, late (never early) for the others. Without one (or an implausible
     * one), the time this loop woke up. */
    int64_t arrived = now;
    for (cmsghdr *cm = CMSG_FIRSTHDR(&message); cm; cm = CMSG_NXTHDR(&message, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts;
            std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            const int64_t stamped = to_us(ts) - real_minus_mono_us_;
            if (std::llabs(stamped - now) < kPlausibleStampUs)
                arrived = stamped;
        }
    /* Parse packets while the first decodable one is unknown, and inside the window. */
    const bool parse = c.first_decodable_us < 0 || in_window;
    const uint8_t *data = buffer_.get();
    size_t left = size_t(n);
    while (left > 0 && !c.check.failed()) {
        PacketEvent event;
        const size_t used = c.check.consume(data, left, parse, event);
        data += used;
        left -= used;
        if (event.ready)
            on_packet(c, event, now, arrived, in_window);
    }
    if (c.check.failed())
        close_client(c, Outcome::Invalid, now);
}

void Worker::on_event(Client &c, uint32_t events, int64_t now) {
    if (c.phase == Phase::Connecting) {
        int error = 0;
        socklen_t len = sizeof error;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
            close_client(c, Outcome::ConnectFailed, now, error);
            return;
        }
        c.phase = Phase::Requesting;
    }
    if (c.phase == Phase::Requesting) {
        send_request(c, now);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        receive(c, now);
}

void Worker::run() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
        setup_error_ = std::string("epoll_create1: ") + std::strerror(errno);
        return;
    }
    address_.sin_family = AF_INET;
    address_.sin_port = htons(uint16_t(options_.target.port));
    inet_pton(AF_INET, options_.target.host.c_str(), &address_.sin_addr);

    epoll_event events[kMaxEvents];
    size_t next = 0;
    for (;;) {
        int64_t now = now_us();
        if (now >= plan_.window_end_us)
            break;
        for (int started = 0; next < clients_.size() && started < kConnectsPerIteration;
             ++started) {
            const int global = first_ + int(next) * stride_;
            if (plan_.connect_time(global) > now)
                break;
            start_connect(clients_[next++], now);
        }
        int64_t wake = plan_.window_end_us;
        if (next < clients_.size())
            wake = std::min(wake, plan_.connect_time(first_ + int(next) * stride_));
        const int timeout_ms = int(std::clamp<int64_t>((wake - now + 999) / 1000, 0, 100));
        const int count = epoll_wait(epoll_, events, kMaxEvents, timeout_ms);
        now = now_us();
        real_minus_mono_us_ = real_now_us() - now;
        for (int i = 0; i < count; ++i) {
            Client &c = *static_cast<Client *>(events[i].data.ptr);
            if (c.fd >= 0)
                on_event(c, events[i].events, now);
        }
    }
    /* Close the window: stalls up to its end, then stop reading. */
    for (Client &c : clients_) {
        /* A client closed early stalled from its last byte on. */
        account_gap(c, plan_.window_end_us);
        if (c.fd >= 0) {
            close(c.fd);
            c.fd = -1;
        }
    }
}

bool raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur >= wanted)
        return true;
    if (limit.rlim_max < wanted)
        limit.rlim_max = wanted; /* root may raise the hard limit, up to fs.nr_open */
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0)
        return true;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_cur >= wanted;
}

/** Minimal JSON writer for one flat-ish object. */
class Json {
public:
    Json &key(const char *name) {
        comma();
        text_ += '"';
        text_ += name;
        text_ += "\":";
        fresh_ = false;
        return *this;
    }
    Json &num(double value) {
        char buf[64];
        if (!std::isfinite(value))
            std::snprintf(buf, sizeof buf, "null");
        else if (value == std::floor(value) && std::fabs(value) < 1e15)
            std::snprintf(buf, sizeof buf, "%.0f", value);
        else
            std::snprintf(buf, sizeof buf, "%.6g", value);
        text_ += buf;
        return *this;
    }
    Json &str(const std::string &value) {
        text_ += '"';
        for (char ch : value) {
            if (ch == '"' || ch == '\\') {
                text_ += '\\';
                text_ += ch;
            } else if (uint8_t(ch) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", ch);
                text_ += buf;
            } else {
                text_ += ch;
            }
        }
        text_ += '"';
        return *this;
    }
    Json &null() {
        text_ += "null";
        return *this;
    }
    Json &open() {
        comma();
        text_ += '{';
        fresh_ = true;
        return *this;
    }
    Json &close() {
        text_ += '}';
        fresh_ = false;
        return *this;
    }
    const std::string &text() const { return text_; }

private:
    void comma() {
        if (!fresh_ && !text_.empty() && text_.back() != ':')
            text_ += ',';
    }
    std::string text_;
    bool fresh_ = true;
};

/** {"p50":…,"p90":…,"p99":…,"max":…} of @p values scaled by @p scale. */
void put_distribution(Json &json, const char *name, std::vector<double> values, double scale) {
    json.key(name).open();
    const bool empty = values.empty();
    for (auto [label, p] : {std::pair{"p5", 0.05}, {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}}) {
        json.key(label);
        if (empty)
            json.null();
        else
            json.num(std::round(percentile(values, p) * scale * 1000) / 1000);
    }
    json.key("max");
    if (empty)
        json.null();
    else
        json.num(std::round(values.back() * scale * 1000) / 1000);
    json.key("count").num(double(values.size()));
    json.close();
}

/** The server process's counters at one instant: the whole process and its harness threads. */
struct ServerSample {
    ProcSample process;
    ProcSample harness; /**< the --harness-thread threads; not ok without the option */
};

ServerSample sample_server(const Options &o) {
    ServerSample sample;
    if (!o.server_pid)
        return sample;
    /* The threads first: their time is part of the process's, sampled right after. */
    if (!o.harness_thread.empty())
        sample.harness = sample_threads(o.server_pid, o.harness_thread);
    sample.process = sample_process(o.server_pid);
    return sample;
}

void usage() {
    std::fprintf(stderr,
                 "usage: wmstream-loadgen --port P [options]\n"
                 "  --host ADDR         server address (127.0.0.1)\n"
                 "  --path PATH         request path (/)\n"
                 "  --protocol P        wmsp | http | raw (wmsp)\n"
                 "  --select LIST       wmsp: the stream numbers selected, e.g. 1,4 (1)\n"
                 "  --clients N         clients (100)\n"
                 "  --ramp R            connects per second, 0 = all at once (500)\n"
                 "  --warmup S          seconds after the last scheduled connect (3)\n"
                 "  --duration S        measurement window, seconds (10)\n"
                 "  --threads T         epoll threads (1)\n"
                 "  --rate-bps B        stream rate for the 95 %% criterion (default: measured)\n"
                 "  --timing PATH       the source's timing file (render-to-client latency)\n"
                 "  --server-pid PID    sample this process's CPU and RSS\n"
                 "  --harness-thread NAME  with --server-pid: the CPU of that process's threads\n"
                 "                      named NAME (the benchmark's, not the server's) is\n"
                 "                      sampled apart and subtracted from the server's\n"
                 "  --label TEXT        copied into the JSON\n");
}

bool parse_options(int argc, char **argv, Options &o) {
    static const option longs[] = {
        {"host", required_argument, nullptr, 'h'},
        {"port", required_argument, nullptr, 'p'},
        {"path", required_argument, nullptr, 'P'},
        {"protocol", required_argument, nullptr, 'k'},
        {"clients", required_argument, nullptr, 'n'},
        {"ramp", required_argument, nullptr, 'r'},
        {"warmup", required_argument, nullptr, 'w'},
        {"duration", required_argument, nullptr, 'd'},
        {"threads", required_argument, nullptr, 't'},
        {"rate-bps", required_argument, nullptr, 'b'},
        {"timing", required_argument, nullptr, 'T'},
        {"server-pid", required_argument, nullptr, 's'},
        {"harness-thread", required_argument, nullptr, 'H'},
        {"label", required_argument, nullptr, 'l'},
        {"select", required_argument, nullptr, 'S'},
        {"help", no_argument, nullptr, '?'},
        {nullptr, 0, nullptr, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", longs, nullptr)) != -1) {
        switch (opt) {
        case 'h':
            o.target.host = optarg;
            break;
        case 'p':
            o.target.port = std::atoi(optarg);
            break;
        case 'P':
            o.target.path = optarg;
            break;
        case 'k':
            if (std::strcmp(optarg, "wmsp") == 0)
                o.kind = StreamKind::Wmsp;
            else if (std::strcmp(optarg, "http") == 0)
                o.kind = StreamKind::Http;
            else if (std::strcmp(optarg, "raw") == 0)
                o.kind = StreamKind::Raw;
            else
                return false;
            break;
        case 'n':
            o.clients = std::atoi(optarg);
            break;
        case 'r':
            o.ramp = std::atof(optarg);
            break;
        case 'w':
            o.warmup = std::atof(optarg);
            break;
        case 'd':
            o.duration = std::atof(optarg);
            break;
        case 't':
            o.threads = std::atoi(optarg);
            break;
        case 'b':
            o.rate_bps = std::strtoull(optarg, nullptr, 10);
            break;
        case 'T':
            o.timing = optarg;
            break;
        case 's':
            o.server_pid = pid_t(std::atoi(optarg));
            break;
        case 'H':
            o.harness_thread = optarg;
            break;
        case 'l':
            o.label = optarg;
            break;
        case 'S': {
            auto streams = parse_stream_list(optarg);
            if (!streams) {
                std::fprintf(stderr, "loadgen: --select: %s\n", streams.error().message.c_str());
                return false;
            }
            o.target.select = std::move(*streams);
            break;
        }
        default:
            return false;
        }
    }
    return o.target.port > 0 && o.target.port < 65536 && o.clients > 0 && o.threads > 0 &&
           o.threads <= 64 && o.duration > 0 && o.warmup >= 0 && o.ramp >= 0;
}

int run(const Options &o) {
    if (!raise_fd_limit(rlim_t(o.clients) + 64)) {
        std::fprintf(stderr, "loadgen: cannot raise RLIMIT_NOFILE to %d\n", o.clients + 64);
        return 2;
    }
    TimingReader timing;
    if (!o.timing.empty()) {
        const std::string error = timing.open(o.timing);
        if (!error.empty()) {
            std::fprintf(stderr, "loadgen: %s\n", error.c_str());
            return 2;
        }
    }
    const uint64_t nominal_bps = timing.is_open() ? timing.header().rate_bps : 0;

    const ProcSample before = o.server_pid ? sample_process(o.server_pid) : ProcSample{};
    rusage self_before{};
    getrusage(RUSAGE_SELF, &self_before);

    Plan plan;
    plan.ramp = o.ramp;
    plan.start_us = now_us() + 20000;
    const int64_t last_connect = plan.connect_time(o.clients - 1);
    plan.window_start_us = last_connect + int64_t(o.warmup * 1e6);
    plan.window_end_us = plan.window_start_us + int64_t(o.duration * 1e6);

    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < o.threads; ++t)
        workers.push_back(
            std::make_unique<Worker>(o, plan, timing.is_open() ? &timing : nullptr, t, o.threads));
    std::vector<std::thread> threads;
    for (auto &w : workers)
        threads.emplace_back([&w] { w->run(); });

    sleep_until(plan.window_start_us);
    const ServerSample at_start = sample_server(o);
    const ProcSample self_start = sample_process(getpid());
    const MachineSample machine_start = sample_machine();
    sleep_until(plan.window_end_us);
    const ServerSample at_end = sample_server(o);
    const ProcSample self_end = sample_process(getpid());
    const MachineSample machine_end = sample_machine();
    for (auto &t : threads)
        t.join();
    for (auto &w : workers) {
        if (!w->setup_error().empty()) {
            std::fprintf(stderr, "loadgen: %s\n", w->setup_error().c_str());
            return 2;
        }
    }

    /* Merge. */
    const double window_s = double(plan.window_end_us - plan.window_start_us) / 1e6;
    Histogram latency;
    uint64_t latency_misses = 0;
    std::vector<double> ttfb, ttfd, throughput, stall;
    uint64_t window_bytes = 0, window_media_ms = 0, location_gaps = 0, afflags_gaps = 0;
    int connect_failed = 0, closed_by_server = 0, read_errors = 0, invalid = 0, never_served = 0;
    int got_nothing = 0, no_decodable = 0, open_at_end = 0, skipped = 0, over_1s_ttfb = 0;
    int afflags_clients = 0, location_clients = 0, http_errors = 0, ended = 0;
    std::string first_error;
    for (auto &w : workers) {
        latency.merge(w->latency());
        latency_misses += w->latency_misses();
        for (const Client &c : w->clients()) {
            window_bytes += c.window_bytes;
            window_media_ms += c.window_media_ms;
            location_gaps += c.check.location_gaps();
            afflags_gaps += c.check.afflags_gaps();
            afflags_clients += c.check.afflags_gaps() > 0;
            location_clients += c.check.location_gaps() > 0;
            ended += c.check.ended();
            skipped += c.skips > 0;
            throughput.push_back(double(c.window_bytes) * 8 / window_s);
            stall.push_back(double(c.max_stall_us) / 1e6);
            got_nothing += c.window_bytes == 0;
            if (c.first_byte_us >= 0) {
                ttfb.push_back(double(c.first_byte_us - c.connect_us) / 1e6);
                over_1s_ttfb += c.first_byte_us - c.connect_us > 1000000;
            } else {
                ++never_served;
            }
            if (c.first_decodable_us >= 0)
                ttfd.push_back(double(c.first_decodable_us - c.connect_us) / 1e6);
            else
                ++no_decodable;
            const bool open = c.phase != Phase::Closed || c.closed_us >= plan.window_end_us;
            open_at_end += open && c.check.has_header();
            switch (c.outcome) {
            case Outcome::Open:
                break;
            case Outcome::ConnectFailed:
                ++connect_failed;
                break;
            case Outcome::ClosedByServer:
                ++closed_by_server;
                break;
            case Outcome::ReadError:
                ++read_errors;
                break;
            case Outcome::Invalid:
                ++invalid;
                http_errors += c.check.http_status() != 0 && c.check.http_status() != 200;
                break;
            }
            if (first_error.empty() && !c.check.error().empty())
                first_error = c.check.error();
            if (first_error.empty() && c.error_number != 0)
                first_error = std::strerror(c.error_number);
        }
    }
    /* The stream's rate in this window: bytes received per second of media (send time) received,
     * over every client. A VBR stream's rate varies from window to window, and clients that fall
     * behind receive less media as well as fewer bytes, so this is the rate of the content that
     * was due in the window; skips (send-time jumps) are not media received. */
    const double measured_rate =
        window_media_ms >= kMinMediaMs ? double(window_bytes) * 8000 / double(window_media_ms) : 0;
    const char *rate_source = o.rate_bps ? "given" : measured_rate > 0 ? "measured" : "nominal";
    const double reference_rate = o.rate_bps          ? double(o.rate_bps)
                                  : measured_rate > 0 ? measured_rate
                                                      : double(nominal_bps);
    int at_rate = 0;
    for (double t : throughput)
        at_rate += reference_rate > 0 && t >= kAtRate * reference_rate;

    rusage self_after{};
    getrusage(RUSAGE_SELF, &self_after);
    auto seconds = [](const timeval &tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
    const double loadgen_cpu = seconds(self_after.ru_utime) + seconds(self_after.ru_stime) -
                               seconds(self_before.ru_utime) - seconds(self_before.ru_stime);

    Json json;
    json.open();
    json.key("label").str(o.label);
    json.key("protocol").str(kind_name(o.kind));
    std::string selected;
    for (unsigned stream : o.target.select)
        selected += (selected.empty() ? "" : ",") + std::to_string(stream);
    json.key("select").str(o.kind == StreamKind::Wmsp ? selected : "");
    json.key("clients").num(o.clients);
    json.key("ramp_per_s").num(o.ramp);
    json.key("threads").num(o.threads);
    json.key("window_s").num(std::round(window_s * 1000) / 1000);
    json.key("served").num(o.clients - never_served);
    json.key("never_served").num(never_served);
    json.key("connect_failed").num(connect_failed);
    json.key("closed_by_server").num(closed_by_server);
    json.key("read_errors").num(read_errors);
    json.key("invalid").num(invalid);
    json.key("http_errors").num(http_errors);
    json.key("ended").num(ended);
    json.key("open_at_end").num(open_at_end);
    json.key("location_gaps").num(double(location_gaps));
    json.key("location_gap_clients").num(location_clients);
    json.key("afflags_gaps").num(double(afflags_gaps));
    json.key("afflags_gap_clients").num(afflags_clients);
    json.key("skipped_clients").num(skipped);
    json.key("first_error").str(first_error);
    json.key("window_bytes").num(double(window_bytes));
    json.key("rate_bps").num(std::round(reference_rate));
    json.key("rate_source").str(rate_source);
    json.key("measured_rate_bps").num(std::round(measured_rate));
    json.key("nominal_rate_bps").num(double(nominal_bps));
    put_distribution(json, "throughput_bps", throughput, 1);
    json.key("at_rate").num(at_rate);
    json.key("at_rate_pct").num(std::round(1000.0 * at_rate / o.clients) / 10);
    json.key("behind").num(o.clients - at_rate);
    json.key("got_nothing").num(got_nothing);
    put_distribution(json, "stall_s", stall, 1);
    put_distribution(json, "ttfb_s", ttfb, 1);
    json.key("ttfb_over_1s").num(over_1s_ttfb);
    put_distribution(json, "ttfd_s", ttfd, 1);
    json.key("no_decodable").num(no_decodable);
    json.key("latency_ms");
    if (latency.count() > 0) {
        json.open();
        json.key("p50").num(double(latency.percentile(0.5)) / 1000);
        json.key("p99").num(double(latency.percentile(0.99)) / 1000);
        json.key("p999").num(double(latency.percentile(0.999)) / 1000);
        json.key("max").num(double(latency.max()) / 1000);
        json.key("samples").num(double(latency.count()));
        json.key("misses").num(double(latency_misses));
        json.close();
    } else {
        json.null();
    }
    json.key("server_pid").num(o.server_pid);
    if (o.server_pid && before.ok && at_start.process.ok && at_end.process.ok) {
        const double process_cpu = at_end.process.cpu_s - at_start.process.cpu_s;
        const double harness_cpu = at_end.harness.cpu_s - at_start.harness.cpu_s;
        const double cpu = process_cpu - harness_cpu;
        json.key("process_cpu_s").num(std::round(process_cpu * 1000) / 1000);
        json.key("harness_thread").str(o.harness_thread);
        json.key("harness_threads").num(at_end.harness.tasks);
        json.key("harness_cpu_s").num(std::round(harness_cpu * 1000) / 1000);
        json.key("server_cpu_s").num(std::round(cpu * 1000) / 1000);
        json.key("server_cpu_pct").num(std::round(cpu / window_s * 1000) / 10);
        json.key("cpu_s_per_gb")
            .num(window_bytes ? std::round(cpu / (double(window_bytes) / 1e9) * 1000) / 1000 : NAN);
        json.key("server_rss_kb_before").num(double(before.rss_kb));
        json.key("server_rss_kb_end").num(double(at_end.process.rss_kb));
        json.key("rss_growth_kb_per_client")
            .num(open_at_end ? std::round(double(at_end.process.rss_kb - before.rss_kb) /
                                          open_at_end * 100) /
                                   100
                             : NAN);
    } else {
        json.key("process_cpu_s").null();
        json.key("harness_cpu_s").null();
        json.key("server_cpu_s").null();
    }
    json.key("loadgen_cpu_s").num(std::round(loadgen_cpu * 1000) / 1000);
    json.key("loadgen_window_cpu_pct")
        .num(std::round((self_end.cpu_s - self_start.cpu_s) / window_s * 1000) / 10);
    /* Busy share of all CPUs in the window (100 = every core busy), whoever used it. */
    json.key("machine_busy_pct")
        .num(std::round(busy_fraction(machine_start, machine_end) * 1000) / 10);
    json.close();
    std::printf("%s\n", json.text().c_str());
    std::fflush(stdout);

    if (!o.harness_thread.empty() &&
        (at_end.harness.tasks == 0 || at_end.harness.tasks != at_start.harness.tasks))
        std::fprintf(stderr,
                     "loadgen: warning: --harness-thread %s: %d such thread(s) in process %d "
                     "at the window's start, %d at its end (the harness CPU subtracted is "
                     "not all of it)\n",
                     o.harness_thread.c_str(), at_start.harness.tasks, int(o.server_pid),
                     at_end.harness.tasks);
    std::vector<double> tp = throughput;
    std::fprintf(stderr,
                 "loadgen %s: %d %s clients, window %.1f s: served %d, never served %d, "
                 "%d%% at >= 95%% of %.0f kbit/s (p5 %.0f, p50 %.0f kbit/s), longest stall %.2f s,"
                 " TTFB p99 %.3f s, first decodable p99 %.3f s, latency p99 %.1f ms, "
                 "invalid %d (%s)\n",
                 o.label.c_str(), o.clients, kind_name(o.kind), window_s, o.clients - never_served,
                 never_served, int(100.0 * at_rate / o.clients), reference_rate / 1000,
                 percentile(tp, 0.05) / 1000, percentile(tp, 0.5) / 1000,
                 stall.empty() ? 0 : *std::max_element(stall.begin(), stall.end()),
                 percentile(ttfb, 0.99), percentile(ttfd, 0.99),
                 double(latency.percentile(0.99)) / 1000, invalid, first_error.c_str());
    return 0;
}

} // namespace
} // namespace wmstream::bench

int main(int argc, char **argv) {
    wmstream::bench::Options options;
    if (!wmstream::bench::parse_options(argc, argv, options)) {
        wmstream::bench::usage();
        return 2;
    }
    return wmstream::bench::run(options);
}
