/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which streams a Connection receives (MS-WMSP §3.2.5.6): the selection its
 * Play makes of each header, and SelectStream switches (§2.2.2.8, §3.2.5.7)
 * made at the new streams' key frames (server/stream-switch.h).
 */
#include "base/log.h"
#include "proto/response.h"
#include "proto/wmsp-selection.h"
#include "server/connection.h"

namespace wmstream::server {

bool Connection::select(const StreamHeader &header) {
    auto selection = proto::wmsp::select_streams(request_, header.info);
    if (!selection) {
        WMSTREAM_LOG_DEBUG("client %" G_GUINT64_FORMAT ": %s", id_,
                           selection.error().message.c_str());
        return false;
    }
    switch_.reset();
    apply_selection(*selection, header.info);
    return true;
}

void Connection::apply_selection(const proto::asf::StreamSelection &selection,
                                 const proto::asf::HeaderInfo &header) {
    forget_wait();
    selection_ = selection;
    filtered_ = !selection_.keeps_all(header);
    key_streams_.reset();
    for (const proto::asf::StreamInfo &stream : header.streams)
        key_streams_[stream.number] = stream.video && selection_.streams[stream.number];
    thin_selection_ = Thinning::thinned(selection_, key_streams_);
    update_watch();
    std::lock_guard<std::mutex> locker(info_lock_);
    info_.selected_streams = selection_.streams;
    info_.thinning = selection_.thinning();
}

/* From now on both selections, the new streams held back by the start filter until each
 * begins with a key frame (settle_switch() ends it); the Play's entries are rewritten to the
 * target, so that select() makes the same selection of a later header. */
SwitchOutcome
Connection::switch_streams(const std::vector<proto::wmsp::StreamSwitchEntry> &entries) {
    const proto::asf::StreamSelection &current = switch_ ? switch_->target() : selection_;
    auto target = proto::wmsp::switch_streams(current, entries, header_->info);
    if (!target) {
        WMSTREAM_LOG_DEBUG("client %" G_GUINT64_FORMAT ": SelectStream refused: %s", id_,
                           target.error().message.c_str());
        return SwitchOutcome::NoStreams;
    }
    const proto::asf::StreamSelection from = selection_;
    switch_.emplace(from, *target);
    /* The Play's entries become those of the target, one per stream of the header: bounded
     * however many switches a client sends, and a Play that had none keeps what it switched to. */
    request_.stream_selection.clear();
    for (const proto::asf::StreamInfo &stream : header_->info.streams)
        request_.stream_selection.push_back(
            {0xffff, stream.number,
             uint8_t(!target->streams[stream.number]          ? 2
                     : target->key_frames_only[stream.number] ? 1
                                                              : 0)});
    apply_selection(switch_->during(), header_->info);
    started_ &= ~switch_->waiting();
    starting_left_ = kStartingPackets;
    settle_switch();
    return SwitchOutcome::Switched;
}

void Connection::settle_switch() {
    if (switch_ && (switch_->done(started_) || starting_left_ == 0)) {
        apply_selection(switch_->target(), header_->info);
        switch_.reset();
        update_watch();
    }
}

void Connection::update_watch() {
    if (!filtered_ || switch_ || request_.kind != proto::wmsp::Kind::Play) {
        watch_.reset();
    } else if (!watch_ || watch_->selection() != selection_) {
        watch_.reset(); /* its own share first: the store may merge for one more selection */
        watch_ = store_.watch(selection_);
    }
}

void Connection::refuse_without_streams() {
    queue_string(proto::response::error(400));
    finish_then_close(RemoveReason::NoStreams);
}

} // namespace wmstream::server
