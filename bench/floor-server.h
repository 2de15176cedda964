/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The benchmark's floor: the least a fan-out server can do on this machine.
 * Raw TCP (like tcpserversink: the ASF header, then whole packets from the
 * newest key frame), one epoll thread, every client written with one
 * writev() of everything new per flush interval, no HTTP, no per-client
 * policy (no lag limit, no timeout, no stats). Its CPU per GB, next to
 * wmnetsink's at the same flush interval, shows how much of wmnetsink's
 * cost is the kernel's (the send calls) and how much is its own.
 */
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wmstream::bench {

class FloorServer {
public:
    FloorServer() = default;
    ~FloorServer(); /**< stops the thread, closes every socket */
    FloorServer(const FloorServer &) = delete;
    FloorServer &operator=(const FloorServer &) = delete;

    /** Listen on 127.0.0.1:@p port (0 = pick) and start the I/O thread. @return "" or an error. */
    std::string open(uint16_t port, int64_t flush_interval_us, const std::vector<uint8_t> &header);
    uint16_t port() const { return port_; }

    /** Queue one data packet for every client (from the pacing thread). */
    void push(std::vector<uint8_t> packet, bool key_frame_start);

private:
    struct Packet {
        std::vector<uint8_t> data;
        bool key = false;
    };
    using PacketRef = std::shared_ptr<const Packet>;
    struct Client {
        int fd = -1;
        uint64_t next = 0; /**< sequence of the next packet to write */
        size_t offset = 0; /**< bytes of that packet (or of the header) already written */
        bool header_done = false;
    };

    void run();
    void accept_all();
    void flush(Client &client);
    void flush_all();

    int listener_ = -1;
    int epoll_ = -1;
    int wake_fd_ = -1; /**< eventfd: a packet was pushed */
    uint16_t port_ = 0;
    int64_t interval_us_ = 0;
    std::vector<uint8_t> header_;
    std::thread thread_;
    bool stopping_ = false; /* Protected by lock_ */

    std::mutex lock_;
    std::deque<PacketRef> queue_; /* Protected by lock_: pushed, not yet taken by the thread */

    /* The I/O thread's own state. */
    std::deque<PacketRef> log_; /**< the newest packets, from the newest key frame on at least */
    uint64_t log_begin_ = 0;
    uint64_t newest_key_ = 0;
    std::vector<std::unique_ptr<Client>> clients_;
};

} // namespace wmstream::bench
