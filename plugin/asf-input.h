/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What both sinks do with their video/x-ms-asf input (asfmux
 * streamable=true): take the header from the caps' streamheader, map
 * buffers, and report input the core refuses as not ASF.
 */
#pragma once

#include "base/error.h"

#include <gst/gst.h>

#include <cstddef>
#include <cstdint>

namespace wmstream::plugin {

/** A GstBuffer mapped for reading for the lifetime of the object. */
class BufferMapping {
public:
    explicit BufferMapping(GstBuffer *buffer) : buffer_(buffer) {
        mapped_ = gst_buffer_map(buffer_, &info_, GST_MAP_READ);
    }
    ~BufferMapping() {
        if (mapped_)
            gst_buffer_unmap(buffer_, &info_);
    }
    BufferMapping(const BufferMapping &) = delete;
    BufferMapping &operator=(const BufferMapping &) = delete;

    bool mapped() const { return mapped_; }
    const uint8_t *data() const { return info_.data; }
    size_t size() const { return info_.size; }

private:
    GstBuffer *buffer_;
    GstMapInfo info_ = GST_MAP_INFO_INIT;
    bool mapped_ = false;
};

/**
 * The stream header carried by @p caps: the first buffer of the
 * "streamheader" array (asfmux: Header Object + 50-byte Data Object head).
 * @param header receives it (borrowed from the caps), or null when the caps
 *        carry no streamheader (the header then comes as a HEADER buffer).
 * @return false when "streamheader" is not an array of buffers; an ERROR
 *         (STREAM/FORMAT, NS_E_INVALID_DATA) has then been posted.
 */
bool caps_stream_header(GstElement *element, GstCaps *caps, GstBuffer **header);

/**
 * Post the ERROR for input the core refused: STREAM/FORMAT with @p error's
 * condition (NS_E_INVALID_DATA), user text saying whether the header or a
 * data packet was not ASF, and the buffer @p size in the details.
 */
void post_asf_input_error(GstElement *element, const Error &error, bool header, size_t size);

} // namespace wmstream::plugin
