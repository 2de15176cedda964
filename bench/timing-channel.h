/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The benchmark's timing side channel: the source stamps the monotonic time
 * at which each data packet reached the sink (just before render()) into a
 * shared file (normally in /dev/shm); the load generator, on the same
 * machine, looks a received packet up by its ASF send time and subtracts.
 *
 * The source makes every packet's send time unique and increasing (see
 * replay.h), so the send time (ms) identifies a packet. The file is a fixed
 * header followed by a ring of kSlots slots indexed by send_ms % kSlots
 * (2^20 ms ≈ 17 min: older packets are overwritten, they are long gone).
 * Times are CLOCK_MONOTONIC µs (g_get_monotonic_time), shared by every
 * process of the machine.
 */
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace wmstream::bench {

/** One packet's stamp. Written send_ms last (release), read first (acquire). */
struct TimingSlot {
    std::atomic<int64_t> render_us{0};         /**< monotonic µs the packet entered the sink */
    std::atomic<uint32_t> send_ms{UINT32_MAX}; /**< the packet's send time; UINT32_MAX = empty */
    uint32_t reserved = 0;
};

/** The file's header: what the load generator needs to know about the stream. */
struct TimingHeader {
    char magic[8];              /**< "WMSBTIM1" */
    uint32_t slots;             /**< ring size (kSlots) */
    uint32_t packet_size;       /**< ASF data packet size, bytes */
    uint64_t rate_bps;          /**< stream rate of the ASF data packets, bits/s */
    std::atomic<int64_t> t0_us; /**< monotonic µs of send time 0 (0 until the replay starts) */
};

constexpr uint32_t kTimingSlots = 1u << 20;

/** The source side: creates (or truncates) the file and stamps packets. */
class TimingWriter {
public:
    TimingWriter() = default;
    ~TimingWriter();
    TimingWriter(const TimingWriter &) = delete;
    TimingWriter &operator=(const TimingWriter &) = delete;

    /** Create @p path (mode 0644) sized for the ring. @return "" or an error message. */
    std::string open(const std::string &path, uint32_t packet_size, uint64_t rate_bps);
    bool is_open() const { return header_ != nullptr; }
    void set_t0(int64_t t0_us);
    /** Record that the packet with send time @p send_ms entered the sink at @p render_us. */
    void stamp(uint32_t send_ms, int64_t render_us);

private:
    TimingHeader *header_ = nullptr;
    TimingSlot *slots_ = nullptr;
    size_t map_size_ = 0;
};

/** The load generator side: maps the file read-only. */
class TimingReader {
public:
    TimingReader() = default;
    ~TimingReader();
    TimingReader(const TimingReader &) = delete;
    TimingReader &operator=(const TimingReader &) = delete;

    /** Map @p path. @return "" or an error message. */
    std::string open(const std::string &path);
    bool is_open() const { return header_ != nullptr; }
    const TimingHeader &header() const { return *header_; }
    /** When the packet with send time @p send_ms entered the sink, µs; nullopt if unknown. */
    std::optional<int64_t> render_time(uint32_t send_ms) const;

private:
    const TimingHeader *header_ = nullptr;
    const TimingSlot *slots_ = nullptr;
    size_t map_size_ = 0;
};

} // namespace wmstream::bench
