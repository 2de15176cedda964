/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "timing-channel.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace wmstream::bench {

namespace {

constexpr char kMagic[8] = {'W', 'M', 'S', 'B', 'T', 'I', 'M', '1'};

/* The slots start at the first multiple of 64 after the header. */
constexpr size_t kSlotsOffset = (sizeof(TimingHeader) + 63) / 64 * 64;

size_t map_size_for(uint32_t slots) {
    return kSlotsOffset + size_t(slots) * sizeof(TimingSlot);
}

std::string errno_text(const std::string &what, const std::string &path) {
    return what + " " + path + ": " + std::strerror(errno);
}

static_assert(std::atomic<int64_t>::is_always_lock_free, "shared-memory atomics must be lock-free");
static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "shared-memory atomics must be lock-free");

} // namespace

TimingWriter::~TimingWriter() {
    if (header_)
        munmap(header_, map_size_);
}

std::string TimingWriter::open(const std::string &path, uint32_t packet_size, uint64_t rate_bps) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno_text("cannot create", path);
    const size_t size = map_size_for(kTimingSlots);
    if (ftruncate(fd, off_t(size)) != 0) {
        const std::string error = errno_text("cannot size", path);
        ::close(fd);
        return error;
    }
    void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED)
        return errno_text("cannot map", path);
    map_size_ = size;
    /* The file is zero-filled: construct the header and the slots in place. */
    header_ = new (map) TimingHeader{};
    std::memcpy(header_->magic, kMagic, sizeof kMagic);
    header_->slots = kTimingSlots;
    header_->packet_size = packet_size;
    header_->rate_bps = rate_bps;
    slots_ = reinterpret_cast<TimingSlot *>(static_cast<uint8_t *>(map) + kSlotsOffset);
    for (uint32_t i = 0; i < kTimingSlots; ++i)
        new (&slots_[i]) TimingSlot{};
    return {};
}

void TimingWriter::set_t0(int64_t t0_us) {
    header_->t0_us.store(t0_us, std::memory_order_release);
}

void TimingWriter::stamp(uint32_t send_ms, int64_t render_us) {
    TimingSlot &slot = slots_[send_ms % kTimingSlots];
    /* A seqlock with the send time as the sequence: invalidate, write, publish. */
    slot.send_ms.store(UINT32_MAX, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    slot.render_us.store(render_us, std::memory_order_relaxed);
    slot.send_ms.store(send_ms, std::memory_order_release);
}

TimingReader::~TimingReader() {
    if (header_)
        munmap(const_cast<TimingHeader *>(header_), map_size_);
}

std::string TimingReader::open(const std::string &path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno_text("cannot open", path);
    struct stat st = {};
    if (fstat(fd, &st) != 0 || size_t(st.st_size) < map_size_for(kTimingSlots)) {
        ::close(fd);
        return "not a timing file (too short): " + path;
    }
    const size_t size = map_size_for(kTimingSlots);
    void *map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED)
        return errno_text("cannot map", path);
    const auto *header = static_cast<const TimingHeader *>(map);
    if (std::memcmp(header->magic, kMagic, sizeof kMagic) != 0 || header->slots != kTimingSlots) {
        munmap(map, size);
        return "not a timing file (bad magic): " + path;
    }
    header_ = header;
    slots_ = reinterpret_cast<const TimingSlot *>(static_cast<const uint8_t *>(map) + kSlotsOffset);
    map_size_ = size;
    return {};
}

std::optional<int64_t> TimingReader::render_time(uint32_t send_ms) const {
    const TimingSlot &slot = slots_[send_ms % kTimingSlots];
    if (slot.send_ms.load(std::memory_order_acquire) != send_ms)
        return std::nullopt;
    const int64_t render_us = slot.render_us.load(std::memory_order_relaxed);
    /* A concurrent rewrite of the slot would have changed send_ms again. */
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.send_ms.load(std::memory_order_relaxed) != send_ms)
        return std::nullopt;
    return render_us;
}

} // namespace wmstream::bench
