/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One send's many small buffers copied into one (sans-IO).
 *
 * A client that receives a share of the stream (MS-WMSP §3.2.5.6) writes
 * rewritten packets of a few hundred bytes, each behind its own 12-byte
 * `$D` head (§2.2.3.1.2): a 64-KiB write gathers some 200 buffers, and the
 * kernel's copy walks them at ~1.3–1.6× its cost per byte for the 4.8-KB
 * packets of a full client (perf; docs/performance.md). Copied first into
 * one buffer of the sending thread, the send is one vector of memory still
 * hot from the copy. Nothing is kept: the client's queue stays as it was
 * (a send that writes part of the copy advances it by what was written),
 * and a full client's few large buffers go as they are. Includes nothing
 * of the project.
 */
#pragma once

#include <gio/gio.h>

#include <cstddef>
#include <cstdint>

namespace wmstream::server {

class SendGather {
public:
    /** Fewer vectors than this go as they are. */
    static constexpr size_t kMinVectors = 8;
    /** Vectors averaging more than this many bytes go as they are. */
    static constexpr size_t kMaxAverage = 2048;
    /** The copy's size: bytes past it go as they are, in a later send. */
    static constexpr size_t kBytes = 256 * 1024;

    /**
     * What to send of @p count @p vectors: @p vectors themselves, or (many
     * small ones) as many of their leading bytes as kBytes holds, copied into
     * this object's buffer and described by @p one.
     * @return the vectors to send; their count in @p sent_count.
     */
    const GOutputVector *gather(const GOutputVector *vectors, size_t count, GOutputVector &one,
                                size_t &sent_count);

private:
    uint8_t buffer_[kBytes];
};

} // namespace wmstream::server
