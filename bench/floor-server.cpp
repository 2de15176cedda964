/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "floor-server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace wmstream::bench {

namespace {

/** Packets kept for joins and slow clients (≈ 3 min at 1 Mbit/s). */
constexpr size_t kLogPackets = 4096;
/** Vectors per writev. */
constexpr int kMaxVectors = 128;
constexpr uint64_t kListenerTag = 1;
constexpr uint64_t kWakeTag = 2;

int64_t now_us() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string errno_text(const char *what) {
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

FloorServer::~FloorServer() {
    if (thread_.joinable()) {
        {
            std::lock_guard<std::mutex> locker(lock_);
            stopping_ = true;
        }
        const uint64_t one = 1;
        (void)!write(wake_fd_, &one, sizeof one);
        thread_.join();
    }
    for (auto &client : clients_)
        if (client->fd >= 0)
            close(client->fd);
    for (int fd : {listener_, epoll_, wake_fd_})
        if (fd >= 0)
            close(fd);
}

std::string FloorServer::open(uint16_t port, int64_t flush_interval_us,
                              const std::vector<uint8_t> &header) {
    header_ = header;
    interval_us_ = flush_interval_us;
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener_ < 0)
        return errno_text("socket");
    const int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener_, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
        return errno_text("bind");
    if (listen(listener_, 4096) != 0)
        return errno_text("listen");
    socklen_t len = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr *>(&address), &len);
    port_ = ntohs(address.sin_port);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_ < 0 || wake_fd_ < 0)
        return errno_text("epoll/eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerTag;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &ev);
    ev.data.u64 = kWakeTag;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_fd_, &ev);
    thread_ = std::thread([this] { run(); });
    return {};
}

void FloorServer::push(std::vector<uint8_t> packet, bool key_frame_start) {
    auto shared = std::make_shared<Packet>();
    shared->data = std::move(packet);
    shared->key = key_frame_start;
    {
        std::lock_guard<std::mutex> locker(lock_);
        queue_.push_back(std::move(shared));
    }
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
}

void FloorServer::accept_all() {
    for (;;) {
        const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto client = std::make_unique<Client>();
        client->fd = fd;
        client->next = log_.empty() ? log_begin_ : newest_key_;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = client.get();
        epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
        clients_.push_back(std::move(client));
        flush(*clients_.back());
    }
}

void FloorServer::flush(Client &client) {
    if (client.fd < 0)
        return;
    const uint64_t end = log_begin_ + log_.size();
    if (client.next < log_begin_) {
        /* Fell out of the log (minutes behind): dropped. */
        close(client.fd);
        client.fd = -1;
        return;
    }
    iovec vectors[kMaxVectors];
    int count = 0;
    size_t skip = client.offset;
    if (!client.header_done) {
        vectors[count++] = {header_.data() + skip, header_.size() - skip};
        skip = 0;
    }
    for (uint64_t seq = client.next; seq < end && count < kMaxVectors; ++seq) {
        const Packet &packet = *log_[seq - log_begin_];
        vectors[count++] = {const_cast<uint8_t *>(packet.data.data()) + skip,
                            packet.data.size() - skip};
        skip = 0;
    }
    if (count == 0)
        return;
    const ssize_t n = writev(client.fd, vectors, count);
    if (n < 0 && errno != EAGAIN) {
        close(client.fd);
        client.fd = -1;
        return;
    }
    size_t written = n > 0 ? size_t(n) : 0;
    /* Advance over what was written. */
    int i = 0;
    for (; i < count && written >= vectors[i].iov_len; ++i) {
        written -= vectors[i].iov_len;
        if (!client.header_done)
            client.header_done = true;
        else
            ++client.next;
        client.offset = 0;
    }
    if (i < count)
        client.offset += written;
    const bool blocked = i < count;
    epoll_event ev{};
    ev.events = blocked ? EPOLLIN | EPOLLOUT : EPOLLIN;
    ev.data.ptr = &client;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, client.fd, &ev);
}

void FloorServer::flush_all() {
    for (size_t i = 0; i < clients_.size();) {
        flush(*clients_[i]);
        if (clients_[i]->fd < 0) {
            clients_[i] = std::move(clients_.back());
            clients_.pop_back();
        } else {
            ++i;
        }
    }
}

void FloorServer::run() {
    epoll_event events[256];
    bool pending = false;
    int64_t flush_at = 0;
    for (;;) {
        int timeout = -1;
        if (pending)
            timeout = int(std::max<int64_t>(0, (flush_at - now_us() + 999) / 1000));
        const int count = epoll_wait(epoll_, events, 256, timeout);
        for (int i = 0; i < count; ++i) {
            if (events[i].data.u64 == kListenerTag) {
                accept_all();
            } else if (events[i].data.u64 == kWakeTag) {
                uint64_t value;
                (void)!read(wake_fd_, &value, sizeof value);
                std::deque<PacketRef> taken;
                {
                    std::lock_guard<std::mutex> locker(lock_);
                    if (stopping_)
                        return;
                    taken.swap(queue_);
                }
                for (auto &packet : taken) {
                    if (packet->key)
                        newest_key_ = log_begin_ + log_.size();
                    log_.push_back(std::move(packet));
                }
                while (log_.size() > kLogPackets && log_begin_ < newest_key_) {
                    log_.pop_front();
                    ++log_begin_;
                }
                if (!pending) {
                    pending = true;
                    flush_at = now_us() + interval_us_;
                }
            } else {
                auto *client = static_cast<Client *>(events[i].data.ptr);
                if (client->fd < 0)
                    continue;
                if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                    char sink[1024];
                    const ssize_t n = recv(client->fd, sink, sizeof sink, 0);
                    if (n == 0 || (n < 0 && errno != EAGAIN)) {
                        close(client->fd);
                        client->fd = -1;
                        continue;
                    }
                }
                if (events[i].events & EPOLLOUT)
                    flush(*client);
            }
        }
        if (pending && now_us() >= flush_at) {
            pending = false;
            flush_all();
        }
    }
}

} // namespace wmstream::bench
