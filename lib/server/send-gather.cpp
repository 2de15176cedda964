/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/send-gather.h"

#include <algorithm>
#include <cstring>

namespace wmstream::server {

const GOutputVector *SendGather::gather(const GOutputVector *vectors, size_t count,
                                        GOutputVector &one, size_t &sent_count) {
    sent_count = count;
    if (count < kMinVectors)
        return vectors;
    size_t total = 0;
    for (size_t i = 0; i < count; ++i)
        total += vectors[i].size;
    if (total > kMaxAverage * count)
        return vectors;
    size_t copied = 0;
    for (size_t i = 0; i < count && copied < kBytes; ++i) {
        const size_t len = std::min(vectors[i].size, kBytes - copied);
        std::memcpy(buffer_ + copied, vectors[i].buffer, len);
        copied += len;
    }
    one.buffer = buffer_;
    one.size = copied;
    sent_count = 1;
    return &one;
}

} // namespace wmstream::server
