/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/poller.h"
#include "base/log.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wmstream::server {

/** One watched fd: what it waits for and whom it calls. */
struct Entry {
    int fd = -1;
    Poller::Ready on_read = nullptr;
    void *read_data = nullptr;
    Poller::Ready on_write = nullptr;
    void *write_data = nullptr;
    bool registered = false;
};

namespace {

/** Events handled per dispatch before other sources get a turn. */
constexpr int kMaxEventsPerDispatch = 1024;

struct PollerSource {
    GSource source;
    Poller *poller;
};

} // namespace

gboolean Poller::on_ready(GSource *source, GSourceFunc, gpointer) {
    reinterpret_cast<PollerSource *>(source)->poller->dispatch();
    return G_SOURCE_CONTINUE;
}

Poller::Poller(GMainContext *context) : context_(context) {
    static GSourceFuncs funcs = {nullptr, nullptr, on_ready, nullptr, nullptr, nullptr};
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0)
        g_error("epoll_create1: %s", g_strerror(errno)); /* out of descriptors at start-up */
    source_ = g_source_new(&funcs, sizeof(PollerSource));
    reinterpret_cast<PollerSource *>(source_)->poller = this;
    g_source_add_unix_fd(source_, epoll_fd_, G_IO_IN);
    g_source_attach(source_, context_);
}

Poller::~Poller() {
    g_source_destroy(source_);
    g_source_unref(source_);
    for (Entry *entry : dead_)
        delete entry;
    for (auto &pair : entries_)
        delete pair.second;
    close(epoll_fd_);
}

Poller::Watch::~Watch() {
    poller_.unwatch(entry_, writable_);
}

std::unique_ptr<Poller::Watch> Poller::watch(int fd, bool writable, Ready ready, void *data) {
    Entry *&entry = entries_[fd];
    if (!entry) {
        entry = new Entry;
        entry->fd = fd;
    }
    g_return_val_if_fail(!(writable ? entry->on_write : entry->on_read), nullptr);
    (writable ? entry->on_write : entry->on_read) = ready;
    (writable ? entry->write_data : entry->read_data) = data;
    update(entry);
    return std::unique_ptr<Watch>(new Watch(*this, entry, writable));
}

void Poller::update(Entry *entry) {
    struct epoll_event event = {};
    event.data.ptr = entry;
    if (entry->on_read)
        event.events |= EPOLLIN | EPOLLRDHUP;
    if (entry->on_write)
        event.events |= EPOLLOUT;
    if (event.events == 0) {
        if (entry->registered)
            epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, entry->fd, nullptr);
        entry->registered = false;
        return;
    }
    if (epoll_ctl(epoll_fd_, entry->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, entry->fd,
                  &event) == 0)
        entry->registered = true;
    else
        WMSTREAM_LOG_WARNING("epoll_ctl(%d): %s", entry->fd, g_strerror(errno));
}

void Poller::unwatch(Entry *entry, bool writable) {
    (writable ? entry->on_write : entry->on_read) = nullptr;
    update(entry);
    if (entry->on_read || entry->on_write)
        return;
    entries_.erase(entry->fd);
    if (dispatching_)
        dead_.push_back(entry); /* its event may still be in this dispatch's array */
    else
        delete entry;
}

void Poller::dispatch() {
    struct epoll_event events[256];
    dispatching_ = true;
    for (int handled = 0; handled < kMaxEventsPerDispatch;) {
        const int n = epoll_wait(epoll_fd_, events, G_N_ELEMENTS(events), 0);
        if (n <= 0)
            break;
        for (int i = 0; i < n; ++i) {
            auto *entry = static_cast<Entry *>(events[i].data.ptr);
            const uint32_t got = events[i].events;
            if (entry->on_read && (got & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                entry->on_read(entry->read_data);
            if (entry->on_write && (got & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
                entry->on_write(entry->write_data);
        }
        handled += n;
        if (n < int(G_N_ELEMENTS(events)))
            break;
    }
    dispatching_ = false;
    for (Entry *entry : dead_)
        delete entry;
    dead_.clear();
}

} // namespace wmstream::server
