/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a send round (rounds.cpp) does with one Connection: whether its
 * writes wait this round (max-write-delay, server/write-coalescing.h), and
 * the three steps of a round served by several threads (prepare on the I/O
 * thread, send on any, complete on the I/O thread).
 */
#include "server/connection.h"

namespace wmstream::server {

size_t Connection::prepare_round_send(GOutputVector *vectors) {
    if (state_ != State::Streaming || write_watch_ || !transport_->send_from_any_thread()) {
        wake();
        return 0;
    }
    round_more_in_log_ = true;
    return ready_to_send(round_more_in_log_) ? gather(vectors) : 0;
}

gssize Connection::round_send(const GOutputVector *vectors, size_t count, GError **error) {
    if (state_ == State::Done) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CLOSED, "client already removed");
        return -1;
    }
    return transport_->send(vectors, count, error);
}

void Connection::complete_round_send(gssize n, const GError *error) {
    if (state_ != State::Done && sent(n, error))
        continue_flush(1, round_more_in_log_);
}

std::optional<int64_t> Connection::deferred(int64_t now_us) {
    if (wait_.holds(store_.progress(), now_us))
        return wait_.at_us;
    forget_wait();
    if (!filtered_ || !coalescing_.enabled() || state_ != State::Streaming || close_after_flush_ ||
        write_watch_ || !out_.empty() || need_key_ || starting_left_ != 0 || switch_ ||
        thinning_.mode() != Thinning::Mode::Full ||
        store_.header_generation() != header_generation_)
        return std::nullopt;
    const WriteCoalescing::Decision decision =
        coalescing_.decide(store_.pending(next_seq_, start_lag_units_, now_us), now_us);
    if (decision.write)
        return std::nullopt;
    wait_ = decision.recheck;
    return wait_.at_us;
}

} // namespace wmstream::server
