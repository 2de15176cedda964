/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stream selection of a Play request (see wmsp-selection.h for the sources). */
#include "proto/wmsp-selection.h"

#include <string>

namespace wmstream::proto::wmsp {

namespace {

constexpr uint16_t kNoStream = 0xffff;

std::string describe_entries(const std::vector<StreamSwitchEntry> &entries) {
    std::string text;
    for (const StreamSwitchEntry &entry : entries) {
        if (!text.empty())
            text += ' ';
        text += std::to_string(entry.source) + ':' + std::to_string(entry.stream) + ':' +
                std::to_string(entry.thinning);
    }
    return text;
}

/* @p selection changed by @p entries in order; InvalidData when none of the header's streams
 * is left selected. */
Result<asf::StreamSelection> apply_entries(asf::StreamSelection selection,
                                           const std::vector<StreamSwitchEntry> &entries,
                                           const asf::HeaderInfo &header) {
    const asf::StreamSelection all = asf::StreamSelection::all_of(header);
    for (const StreamSwitchEntry &entry : entries) {
        if (entry.source != kNoStream && entry.source < selection.streams.size()) {
            selection.streams.reset(entry.source);
            selection.key_frames_only.reset(entry.source);
        }
        if (entry.stream >= all.streams.size() || !all.streams[entry.stream])
            continue;
        selection.streams[entry.stream] = entry.thinning < 2;
        selection.key_frames_only[entry.stream] = entry.thinning == 1;
    }
    if ((selection.streams & all.streams).none())
        return make_error(Errc::InvalidData,
                          "stream-switch-entry (" + describe_entries(entries) +
                              ", decimal) selects none of the header's streams (" +
                              all.stream_list() + ")");
    return selection;
}

} // namespace

Result<asf::StreamSelection> select_streams(const ClientRequest &request,
                                            const asf::HeaderInfo &header) {
    if (request.kind != Kind::Play || request.selects_all || request.stream_selection.empty())
        return asf::StreamSelection::all_of(header);
    return apply_entries(asf::StreamSelection(), request.stream_selection, header);
}

Result<asf::StreamSelection> switch_streams(const asf::StreamSelection &current,
                                            const std::vector<StreamSwitchEntry> &entries,
                                            const asf::HeaderInfo &header) {
    if (entries.empty())
        return make_error(Errc::InvalidData, "SelectStream without stream-switch-entry");
    return apply_entries(current, entries, header);
}

} // namespace wmstream::proto::wmsp
