/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "archive.h"

#include "proto/asf.h"

#include <optional>
#include <vector>

namespace wmstream::job {

namespace {

/* Lives as long as the probe (its destroy notify). Only the streaming thread of the pad
 * touches it. */
struct ArchiveProbe {
    std::optional<proto::asf::HeaderInfo> header;
};

GstPadProbeReturn on_buffer(GstPad *, GstPadProbeInfo *info, gpointer user_data) {
    auto &probe = *static_cast<ArchiveProbe *>(user_data);
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
        return GST_PAD_PROBE_OK;
    std::vector<uint8_t> bytes;
    if (Result<proto::asf::HeaderInfo> header = proto::asf::parse_header(map.data, map.size))
        probe.header = *header;
    else if (probe.header && map.size % probe.header->packet_size == 0)
        bytes.assign(map.data, map.data + map.size);
    gst_buffer_unmap(buffer, &map);

    bool changed = false;
    for (size_t at = 0; at < bytes.size(); at += probe.header->packet_size) {
        const Result<bool> completed = proto::asf::complete_packet_length(
            bytes.data() + at, probe.header->packet_size, *probe.header);
        changed |= completed && *completed;
    }
    if (changed) {
        buffer = gst_buffer_make_writable(buffer);
        gst_buffer_fill(buffer, 0, bytes.data(), bytes.size());
        GST_PAD_PROBE_INFO_DATA(info) = buffer;
    }
    return GST_PAD_PROBE_OK;
}

} // namespace

void complete_packet_lengths(GstPad *pad) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, new ArchiveProbe,
                      [](gpointer probe) { delete static_cast<ArchiveProbe *>(probe); });
}

} // namespace wmstream::job
