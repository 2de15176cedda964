/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/connection.h"
#include "base/log.h"

#include "base/address.h"
#include "proto/response.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace wmstream::server {

namespace {

/** Bytes of packets fetched per refill: about 100 ms of a 4 Mbit/s stream. */
constexpr size_t kBatchBytes = 64 * 1024;
/** Sends per wake-up before yielding to other clients. */
constexpr int kMaxSendsPerWake = 8;
/** A graceful close waits this long for the peer's EOF, µs. */
constexpr int64_t kLingerUs = 2 * G_USEC_PER_SEC;

bool peer_gone(const GError *error) {
    return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
           g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
           g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
}

} // namespace

Connection::Connection(ConnectionHost &host, const StreamStore &store, uint64_t id,
                       std::unique_ptr<Transport> transport, Poller &poller)
    : host_(host), store_(store), transport_(std::move(transport)),
      coalescing_(host.config().max_write_delay_us, host.config().flush_interval_us), id_(id),
      poller_(poller), connected_mono_us_(g_get_monotonic_time()) {
    last_progress_us_ = connected_mono_us_;
    client_id_ = g_random_int_range(1, G_MAXINT32);
    info_.id = id;
    info_.connected_at_us = g_get_real_time();
    g_autoptr(GSocketAddress) remote = transport_->remote_address();
    if (remote && G_IS_INET_SOCKET_ADDRESS(remote)) {
        auto *inet = G_INET_SOCKET_ADDRESS(remote);
        peer_address_ = G_INET_ADDRESS(g_object_ref(g_inet_socket_address_get_address(inet)));
        info_.address = address_text(peer_address_);
        info_.port = g_inet_socket_address_get_port(inet);
    }
}

Connection::~Connection() {
    write_watch_.reset();
    read_watch_.reset();
    hello_watch_.reset();
    transport_->close();
    g_clear_object(&peer_address_);
}

/* A TLS handshake holds a thread while it runs: it starts only once the
 * ClientHello's first bytes arrived, so a silent connection holds none. */
void Connection::start() {
    handshake_deadline_us_ = connected_mono_us_ + host_.config().handshake_timeout_us;
    if (transport_->encrypted())
        hello_watch_ = poller_.watch(g_socket_get_fd(transport_->socket()), false, on_hello, this);
    else
        transport_->start(poller_.context(), on_started, this);
}

void Connection::on_hello(void *self) {
    auto *client = static_cast<Connection *>(self);
    client->hello_watch_.reset();
    char byte;
    if (recv(g_socket_get_fd(client->transport_->socket()), &byte, 1, MSG_PEEK | MSG_DONTWAIT) ==
        0) {
        /* Closed without a byte: no TLS connection is made for it. */
        client->host_.count_tls_failure();
        client->finish(RemoveReason::ClosedByPeer);
        return;
    }
    if (client->host_.may_handshake(*client))
        client->begin_handshake();
    else
        client->handshake_deadline_us_ =
            client->connected_mono_us_ + client->host_.config().request_timeout_us;
}

void Connection::begin_handshake() {
    handshake_deadline_us_ = g_get_monotonic_time() + host_.config().handshake_timeout_us;
    transport_->start(poller_.context(), on_started, this);
}

void Connection::on_started(void *self, const GError *error) {
    auto *client = static_cast<Connection *>(self);
    if (client->transport_->encrypted())
        client->host_.handshaken(*client);
    if (error) {
        WMSTREAM_LOG_DEBUG("client %" G_GUINT64_FORMAT ": TLS handshake failed: %s", client->id_,
                           error->message);
        client->host_.count_tls_failure();
        client->finish(RemoveReason::Error);
        return;
    }
    client->handshaken_ = true;
    client->read_watch_ = client->transport_->watch(client->poller_, false, on_readable, self);
    /* The request is usually there already: read it now, so that a burst of connects from
     * one address is answered as it is accepted instead of filling its intake places. */
    client->read_request();
}

void Connection::on_readable(void *self) {
    auto *client = static_cast<Connection *>(self);
    if (client->state_ == State::ReadingRequest)
        client->read_request();
    else
        client->drain_input();
}

void Connection::on_writable(void *self) {
    auto *client = static_cast<Connection *>(self);
    client->watch_writable(false);
    if (client->state_ == State::Closing)
        client->half_close();
    else
        client->flush();
}

void Connection::watch_writable(bool on) {
    forget_wait();
    if (on && !write_watch_)
        write_watch_ = transport_->watch(poller_, true, on_writable, this);
    else if (!on)
        write_watch_.reset();
}

void Connection::read_request() {
    char buffer[4096];
    g_autoptr(GError) error = nullptr;
    gssize n = transport_->receive(buffer, sizeof buffer, &error);
    if (n < 0) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            finish(RemoveReason::Error);
        return;
    }
    if (n == 0) {
        finish(RemoveReason::ClosedByPeer);
        return;
    }
    request_bytes_.append(buffer, size_t(n));

    const proto::http::Scan scan =
        proto::http::scan_header_block(request_bytes_.data(), request_bytes_.size(), scanned_);
    if (scan.state == proto::http::Scan::State::Incomplete)
        return;
    state_ = State::WaitingHeader;
    if (scan.state == proto::http::Scan::State::TooLarge) {
        queue_string(proto::response::error(400));
        finish_then_close(RemoveReason::Error);
        return;
    }
    unsigned status = 400;
    auto parsed = proto::http::parse_request(request_bytes_.data(), scan.block_size, &status);
    request_bytes_.clear();
    if (!parsed) {
        queue_string(proto::response::error(status));
        finish_then_close(RemoveReason::Error);
        return;
    }
    request_ = proto::wmsp::classify(*parsed, host_.config().status_path);
    {
        std::lock_guard<std::mutex> locker(info_lock_);
        info_.user_agent = request_.user_agent;
        info_.relay = request_.relay;
        info_.protocol =
            request_.kind == proto::wmsp::Kind::Play ? ClientProtocol::Wmsp : ClientProtocol::Http;
    }
    answer(*parsed);
}

bool Connection::check_credentials(const proto::http::Request &request,
                                   const access::Authenticator *auth) {
    if (auth) {
        const int64_t now = g_get_monotonic_time();
        const access::Verdict verdict =
            auth->check(request.method, request.path, request.find("Authorization"), now, &user_);
        if (verdict != access::Verdict::Ok) {
            queue_string(proto::response::unauthorized(
                auth->challenges(now, verdict == access::Verdict::Stale)));
            /* A first request without credentials is the normal challenge, not a refusal. */
            finish_then_close(verdict == access::Verdict::Bad ? RemoveReason::Unauthorized
                                                              : RemoveReason::ClosedByPeer);
            return false;
        }
    }
    return true;
}

bool Connection::admit_viewer(const proto::http::Request &request) {
    if (!check_credentials(request, host_.authenticator()))
        return false;
    if (host_.config().ask_application) {
        state_ = State::Authorizing;
        host_.ask(*this, request.path, user_);
        return false;
    }
    return true;
}

void Connection::authorized(bool allowed) {
    if (state_ != State::Authorizing)
        return;
    state_ = State::WaitingHeader;
    if (allowed) {
        serve_viewer();
    } else {
        queue_string(proto::response::error(403));
        finish_then_close(RemoveReason::Forbidden);
    }
}

/* Play and plain GET are admitted (counted against max-clients, client-added)
 * as soon as their request is read, even when they then wait for the first
 * header; a Describe is a short exchange and is never counted. */
void Connection::serve_viewer() {
    if (request_.kind == proto::wmsp::Kind::HttpHead) {
        queue_string(proto::response::raw_asf());
        finish_then_close(RemoveReason::ClosedByPeer);
        return;
    }
    /* With the header known, a selection of none is refused before it counts as a client. */
    if (StreamHeaderRef header = store_.header(); header && !select(*header)) {
        refuse_without_streams();
        return;
    }
    if (!admitted(host_.admit(*this)))
        return;
    if (!describe())
        streaming_.store(true, std::memory_order_relaxed);
    if (store_.header())
        answer_with_header(); /* else wait in WaitingHeader until wake() */
}

void Connection::answer(const proto::http::Request &request) {
    if (refuse_loop())
        return;
    switch (request_.kind) {
    case proto::wmsp::Kind::Describe:
    case proto::wmsp::Kind::Play:
    case proto::wmsp::Kind::HttpStream:
    case proto::wmsp::Kind::HttpHead:
        if (admit_viewer(request))
            serve_viewer();
        return;
    case proto::wmsp::Kind::Announcement:
        if (check_credentials(request, host_.authenticator()))
            announce(request);
        return;
    case proto::wmsp::Kind::StatusPage:
    case proto::wmsp::Kind::StatusData:
        serve_status(request);
        return;
    case proto::wmsp::Kind::SelectStream:
        /* Non-pipelined (§2.2.2.8): answered on its own connection, which then closes. */
        if (request_.client_id &&
            host_.switch_streams(*this, *request_.client_id, request_.stream_selection) ==
                SwitchOutcome::Switched)
            queue_string(proto::response::empty_ok(*request_.client_id));
        else
            queue_string(proto::response::error(400));
        break;
    case proto::wmsp::Kind::GetContentInfo:
        queue_string(
            proto::response::get_content_info(request_.client_id.value_or(0), relay_via()));
        break;
    case proto::wmsp::Kind::KeepAlive:
    case proto::wmsp::Kind::Log:
    case proto::wmsp::Kind::OtherPost:
        queue_string(proto::response::empty_ok(request_.client_id.value_or(0)));
        break;
    case proto::wmsp::Kind::MethodNotAllowed:
        queue_string(proto::response::error(405));
        break;
    case proto::wmsp::Kind::NotImplemented:
        queue_string(proto::response::error(501));
        break;
    }
    finish_then_close(RemoveReason::ClosedByPeer);
}

void Connection::answer_with_header() {
    StreamHeaderRef header = store_.header();
    header_generation_ = header->generation;
    if (request_.kind == proto::wmsp::Kind::Describe) {
        queue_string(proto::response::describe(client_id_, header->pull.size(), relay_via()));
        queue_header();
        finish_then_close(RemoveReason::ClosedByPeer);
        return;
    }
    if (!select(*header)) {
        refuse_without_streams();
        return;
    }
    state_ = State::Streaming;
    std::string fast_start;
    if (request_.kind == proto::wmsp::Kind::Play && request_.fast_start) {
        pacer_.emplace(request_.fast_start->bandwidth_bps, g_get_monotonic_time());
        fast_start = request_.fast_start->echo();
    }
    queue_string(request_.kind == proto::wmsp::Kind::Play
                     ? proto::response::play(client_id_, relay_via(), fast_start)
                     : proto::response::raw_asf());
    queue_header();
    next_seq_ = store_.join_point(own_key_streams());
    need_key_ = true;
    flush();
}

bool Connection::playing() const {
    return request_.kind == proto::wmsp::Kind::Play && state_ == State::Streaming && header_;
}

void Connection::end_stream(RemoveReason reason) {
    if (request_.kind == proto::wmsp::Kind::Play) {
        const auto end = proto::framing::pull_end(proto::framing::kReasonDone);
        out_.push_inline(end.data(), end.size());
    }
    finish_then_close(reason);
}

void Connection::queue_string(std::string text) {
    auto owned = std::make_shared<const std::string>(std::move(text));
    const auto *data = reinterpret_cast<const uint8_t *>(owned->data());
    const size_t len = owned->size();
    out_.push_shared(std::move(owned), data, len, false);
}

void Connection::queue_header() {
    header_ = store_.header();
    const bool framed = request_.kind != proto::wmsp::Kind::HttpStream;
    const std::vector<uint8_t> &bytes = framed ? header_->pull : header_->raw;
    out_.push_shared(header_, bytes.data(), bytes.size(), false);
}

proto::asf::PacketFilter Connection::starting_filter(const std::vector<uint8_t> &bytes) {
    auto filter =
        proto::asf::drop_unstarted_payloads(bytes.data(), bytes.size(), header_->info, started_);
    --starting_left_;
    const auto &streams = header_->info.streams;
    if (std::none_of(streams.begin(), streams.end(), [this](const proto::asf::StreamInfo &s) {
            return (s.audio || s.video) && selection_.streams[s.number] && !started_[s.number];
        }))
        starting_left_ = 0;
    return filter ? std::move(*filter) : proto::asf::PacketFilter{}; /* unparsable: as it is */
}

void Connection::update_thinning(int64_t behind) {
    const Thinning::Mode before = thinning_.mode();
    if (thinning_.update(behind, host_.config().lag_soft_max) != before)
        note_thinning();
}

void Connection::note_thinning() {
    std::lock_guard<std::mutex> locker(info_lock_);
    info_.thinning = thinning_.mode() == Thinning::Mode::Full ? selection_.thinning()
                                                              : thin_selection_.thinning();
}

size_t Connection::queue_packet(PacketRef packet, bool join) {
    if (join) {
        started_.reset();
        starting_left_ = kStartingPackets;
        if (thinning_.mode() != Thinning::Mode::Full) {
            thinning_.restart();
            note_thinning();
        }
    }
    /* Recover policy Thin: key frames only while behind; back to full video where one of its
     * video streams begins a key frame, the payloads of the frames before it left out. */
    bool thin = thinning_.mode() != Thinning::Mode::Full;
    if (thin && thinning_.resume_at(packet->key_frame_streams, key_streams_)) {
        thin = false;
        started_ &= ~key_streams_;
        starting_left_ = std::max<uint16_t>(starting_left_, 1);
        note_thinning();
    }
    const std::vector<uint8_t> &shared =
        join && !packet->join_data.empty() ? packet->join_data : packet->data;
    /* The shared packet memory, unless the client selected some of the streams or the stream
     * is starting, and the packet must be thinned. A $D of a rewritten packet goes without
     * its padding (MS-WMSP §2.2.3.3), once its stream has started (the start filter takes
     * whole packets). A variant cached with the packet lives as long as it: @c own holds
     * only bytes made for this client. */
    const std::vector<uint8_t> *bytes = &shared;
    std::shared_ptr<const std::vector<uint8_t>> own;
    if (filtered_ || thin) {
        const proto::asf::StreamSelection &selection = thin ? thin_selection_ : selection_;
        const bool strip = request_.kind == proto::wmsp::Kind::Play && starting_left_ == 0;
        PacketVariant made;
        const PacketVariant &variant =
            &shared == &packet->data
                ? packet->variants.get(packet->data, header_->info, selection, strip, made)
                : (made = PacketVariant::make(shared, header_->info, selection, strip));
        if (variant.kept == proto::asf::PacketFilter::Kept::None)
            return 0; /* none of its streams: not sent, not numbered */
        if (variant.bytes)
            bytes = variant.bytes.get();
        if (&variant == &made)
            own = std::move(made.bytes);
    }
    if (starting_left_ != 0) {
        proto::asf::PacketFilter filter = starting_filter(*bytes);
        settle_switch();
        if (filter.kept == proto::asf::PacketFilter::Kept::None)
            return 0; /* only payloads of streams not begun yet */
        if (filter.kept == proto::asf::PacketFilter::Kept::Some) {
            own = std::make_shared<const std::vector<uint8_t>>(std::move(filter.packet));
            bytes = own.get();
        }
    }
    const uint8_t *data = bytes->data();
    const size_t size = bytes->size();
    std::shared_ptr<const void> keep = own ? std::shared_ptr<const void>(std::move(own))
                                           : std::shared_ptr<const void>(std::move(packet));
    return queue_data(std::move(keep), data, size);
}

size_t Connection::queue_run(const std::vector<PacketRef> &packets, size_t &i) {
    if (!watch_ || starting_left_ != 0 || switch_ || thinning_.mode() != Thinning::Mode::Full)
        return 0;
    const MergedRun *run = packets[i]->variants.run(selection_);
    if (!run || packets.back()->seq < run->last_seq)
        return 0; /* no run begins here, or the batch ends inside it */
    const size_t size = queue_data(packets[i], run->bytes.data(), run->bytes.size());
    while (i + 1 < packets.size() && packets[i + 1]->seq <= run->last_seq)
        ++i;
    return size;
}

size_t Connection::queue_data(std::shared_ptr<const void> keep, const uint8_t *data, size_t size) {
    if (request_.kind == proto::wmsp::Kind::Play) {
        uint8_t head[proto::framing::kPullHeaderSize];
        const Status framed = proto::framing::write_pull_data_header(
            head, data_counter_, uint8_t(data_counter_ & 0xff), size);
        if (!framed) {
            /* Cannot happen: the store refuses a header whose packets do not fit a $D, and a
             * merged run is no larger than a packet. */
            g_warning("client %" G_GUINT64_FORMAT ": packet not sent: %s", id_,
                      framed.error().message.c_str());
            return 0;
        }
        ++data_counter_;
        out_.push_inline(head, sizeof head);
    }
    out_.push_shared(std::move(keep), data, size, true);
    return size;
}

bool Connection::refill() {
    forget_wait();
    /* The lock-free check first: the header rarely changes, refills happen every round. */
    StreamHeaderRef header;
    if (store_.header_generation() != header_generation_)
        header = store_.header();
    if (header && header->generation != header_generation_) {
        if (request_.kind != proto::wmsp::Kind::Play) {
            finish_then_close(RemoveReason::EndOfStream);
            return false;
        }
        if (!select(*header)) {
            end_stream(RemoveReason::NoStreams);
            return false;
        }
        /* MS-WMSP §2.2.3.4: $C, then the new header as $H. */
        const auto change = proto::framing::pull_change(proto::framing::kReasonDone);
        out_.push_inline(change.data(), change.size());
        queue_header();
        header_generation_ = header->generation;
        need_key_ = true;
    }

    /* A client that receives a share fetches up to two batches of its own bytes: a write that
     * waited for one (WriteCoalescing::kMinBytes) then takes what is pending in one refill. */
    size_t batch_bytes =
        filtered_ && coalescing_.enabled() ? coalescing_.fetch_bytes(2 * kBatchBytes) : kBatchBytes;
    /* A fast start is paced: nothing is fetched while its tokens are spent (a round or
     * tick() wakes it again). */
    if (pacer_) {
        batch_bytes = std::min(batch_bytes, pacer_->allowance(g_get_monotonic_time()));
        if (batch_bytes == 0)
            return false;
    }
    /* Scratch kept for its capacity, one per thread (the I/O thread's serves every client: a
     * client's own would keep up to a few KiB per client). Emptied before anything below
     * could refill again. */
    static thread_local std::vector<PacketRef> fetched;
    Batch batch = store_.fetch(next_seq_, need_key_, start_lag_units_, batch_bytes, fetched,
                               own_key_streams(), filtered_ ? &selection_.streams : nullptr);
    if (batch.too_slow) {
        finish(RemoveReason::Slow);
        return false;
    }
    lag_us_.store(batch.lag_us, std::memory_order_relaxed);
    if (batch.joined && start_lag_us_.load(std::memory_order_relaxed) < 0)
        start_lag_us_.store(batch.join_lag_us, std::memory_order_relaxed);
    if (batch.skipped)
        skips_.fetch_add(1, std::memory_order_relaxed);
    if (host_.config().recover_policy == RecoverPolicy::Thin && host_.config().lag_soft_max >= 0 &&
        !need_key_ && !batch.joined)
        update_thinning(batch.behind);
    size_t kept = 0;
    for (size_t i = 0; i < fetched.size(); ++i) {
        if (const size_t run = i == 0 && batch.joined ? 0 : queue_run(fetched, i))
            kept += run;
        else
            kept += queue_packet(std::move(fetched[i]), i == 0 && batch.joined);
    }
    fetched.clear();
    coalescing_.taken(batch.bytes, kept);
    if (pacer_) {
        pacer_->spend(kept);
        if (kept > 0 && batch.lag_us == 0)
            pacer_.reset(); /* caught up with live: the stream paces it now */
    }
    if (batch.end_of_stream && !end_sent_) {
        end_sent_ = true;
        end_stream(RemoveReason::EndOfStream);
        return false;
    }
    return batch.bytes >= batch_bytes;
}

bool Connection::ready_to_send(bool &more_in_log) {
    if (out_.empty() && more_in_log && state_ == State::Streaming && !close_after_flush_)
        more_in_log = refill();
    if (state_ == State::Done)
        return false;
    if (out_.empty()) {
        watch_writable(false);
        if (close_after_flush_)
            begin_closing();
        return false;
    }
    return true;
}

size_t Connection::gather(GOutputVector *vectors) const {
    return out_.gather(vectors, kMaxVectors);
}

bool Connection::sent(gssize n, const GError *error) {
    if (n < 0) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            watch_writable(true);
        else
            finish(peer_gone(error) ? RemoveReason::ClosedByPeer : RemoveReason::Error);
        return false;
    }
    last_progress_us_ = g_get_monotonic_time();
    bytes_sent_.fetch_add(uint64_t(n), std::memory_order_relaxed);
    host_.count_sent(size_t(n));
    if (const size_t packets = out_.advance(size_t(n)))
        packets_sent_.fetch_add(packets, std::memory_order_relaxed);
    return true;
}

void Connection::flush() {
    continue_flush(0, true);
}

void Connection::continue_flush(int sends, bool more_in_log) {
    for (; sends < kMaxSendsPerWake; ++sends) {
        if (!ready_to_send(more_in_log))
            return;
        GOutputVector vectors[kMaxVectors];
        const size_t count = gather(vectors);
        g_autoptr(GError) error = nullptr;
        /* Two statements: in one call, error could be read before send() sets it. */
        const gssize n = transport_->send(vectors, count, &error);
        if (!sent(n, error))
            return;
    }
    /* More to write: come back when the socket is writable, after other clients. */
    watch_writable(true);
}

void Connection::wake() {
    /* One whose answer is queued already (close_after_flush_: a refusal, a Describe's header)
     * is never answered again: its write watch sends the rest. */
    if (state_ == State::WaitingHeader && !close_after_flush_ && store_.header() &&
        (request_.kind == proto::wmsp::Kind::Describe || request_.kind == proto::wmsp::Kind::Play ||
         request_.kind == proto::wmsp::Kind::HttpStream))
        answer_with_header();
    else if (state_ == State::Streaming && !write_watch_)
        flush();
}

void Connection::drain_input() {
    char buffer[4096];
    g_autoptr(GError) error = nullptr;
    const gssize n = transport_->receive(buffer, sizeof buffer, &error);
    if (n > 0)
        return; /* pipelined or unexpected bytes: ignored */
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return;
    if (state_ == State::Closing)
        finish(close_reason_);
    else
        finish(n == 0 || peer_gone(error) ? RemoveReason::ClosedByPeer : RemoveReason::Error);
}

void Connection::finish_then_close(RemoveReason reason) {
    forget_wait();
    host_.answered(*this);
    close_after_flush_ = true;
    close_reason_ = reason;
    flush();
}

void Connection::begin_closing() {
    if (state_ == State::Closing || state_ == State::Done)
        return;
    state_ = State::Closing;
    closing_since_us_ = g_get_monotonic_time();
    /* Half-close and wait for the peer's EOF, so our last bytes are not lost to a reset
     * when unread request bytes are still queued. */
    half_close();
}

/* TLS sends close_notify only when the socket takes it at once; the linger ends the wait
 * for that too (then the connection closes without it). */
void Connection::half_close() {
    watch_writable(!transport_->shutdown_write());
}

void Connection::tick(int64_t now_us) {
    switch (state_) {
    case State::ReadingRequest:
        if (!handshaken_ && now_us > handshake_deadline_us_) {
            WMSTREAM_LOG_DEBUG("client %" G_GUINT64_FORMAT
                               ": no TLS handshake within %" G_GINT64_FORMAT " ms",
                               id_, host_.config().handshake_timeout_us / 1000);
            host_.count_tls_failure();
            finish(RemoveReason::Error);
        } else if (now_us - connected_mono_us_ > host_.config().request_timeout_us) {
            finish(RemoveReason::Error);
        }
        break;
    case State::Authorizing:
        if (now_us - connected_mono_us_ > host_.config().request_timeout_us)
            finish(RemoveReason::Forbidden);
        break;
    case State::WaitingHeader:
    case State::Streaming: {
        /* Not admitted (a Describe before the first header): no longer than a request. */
        if (!streaming_ && now_us - connected_mono_us_ > host_.config().request_timeout_us) {
            finish(RemoveReason::Error);
            break;
        }
        const int64_t timeout = host_.config().timeout_us;
        const bool pending = !out_.empty() || write_watch_ != nullptr;
        if (timeout > 0 && pending && now_us - last_progress_us_ > timeout)
            finish(RemoveReason::Slow);
        else if (pacer_ && state_ == State::Streaming && !pending)
            flush(); /* a paced fast start goes on even when no new packet wakes it */
        break;
    }
    case State::Closing:
        if (now_us - closing_since_us_ > kLingerUs)
            finish(close_reason_);
        break;
    case State::Done:
        break;
    }
}

void Connection::abort(RemoveReason reason) {
    finish(reason);
}

void Connection::finish(RemoveReason reason) {
    forget_wait();
    if (state_ == State::Done)
        return;
    state_ = State::Done;
    write_watch_.reset();
    read_watch_.reset();
    hello_watch_.reset();
    transport_->close();
    out_.clear();
    host_.finished(*this, reason);
}

ClientInfo Connection::info() const {
    ClientInfo info;
    {
        std::lock_guard<std::mutex> locker(info_lock_);
        info = info_;
    }
    info.connected_for_us = g_get_monotonic_time() - connected_mono_us_;
    info.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
    info.packets_sent = packets_sent_.load(std::memory_order_relaxed);
    info.key_frame_skips = skips_.load(std::memory_order_relaxed);
    info.lag_us = lag_us_.load(std::memory_order_relaxed);
    info.start_lag_us = start_lag_us_.load(std::memory_order_relaxed);
    if (info.connected_for_us > 0)
        info.bitrate_bps = uint64_t(double(info.bytes_sent) * 8.0 * G_USEC_PER_SEC /
                                    double(info.connected_for_us));
    return info;
}

void Connection::set_dns_name(std::string name) {
    std::lock_guard<std::mutex> locker(info_lock_);
    info_.dns_name = std::move(name);
}

} // namespace wmstream::server
