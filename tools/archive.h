/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --archive: the ASF that reaches the job's filesink, made to read clean.
 */
#pragma once

#include <gst/gst.h>

namespace wmstream::job {

/**
 * Completes the short Packet Lengths asfmux writes (proto::asf::complete_packet_length:
 * a packet with padding, such as the one it fills at EOS, says only its payloads' bytes,
 * which FFmpeg reports as "invalid padsize") in the buffers that pass @p pad, a sink pad fed
 * by `asfmux streamable=true`. The packet size comes from the header buffer; a buffer before
 * it, or not made of whole packets, passes unchanged, as does everything on the tee's other
 * branches (a changed buffer is a copy).
 */
void complete_packet_lengths(GstPad *pad);

} // namespace wmstream::job
