/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "request.h"

#include <algorithm>
#include <cstdio>

namespace wmstream::bench {

namespace {

/** The largest ASF stream number (ASF §5.1: 7 bits). */
constexpr unsigned kMaxStreamNumber = 127;

/** `Pragma: stream-switch-count=N` and `stream-switch-entry=…` for @p select. */
std::string selection_pragmas(const std::vector<unsigned> &select) {
    const unsigned last = select.empty() ? 0 : select.back();
    std::string entries;
    for (unsigned stream = 1; stream <= last; ++stream) {
        const bool on = std::binary_search(select.begin(), select.end(), stream);
        char item[16];
        std::snprintf(item, sizeof item, "ffff:%x:%d ", stream, on ? 0 : 2);
        entries += item;
    }
    return "Pragma: stream-switch-count=" + std::to_string(last) +
           "\r\nPragma: stream-switch-entry=" + entries + "\r\n";
}

} // namespace

Result<std::vector<unsigned>> parse_stream_list(std::string_view list) {
    std::vector<unsigned> streams;
    size_t start = 0;
    for (;;) {
        const size_t end = std::min(list.find(',', start), list.size());
        const std::string_view item = list.substr(start, end - start);
        unsigned number = 0;
        bool valid = !item.empty() && item.size() <= 3;
        for (char c : item) {
            valid = valid && c >= '0' && c <= '9';
            number = number * 10 + unsigned(c - '0');
        }
        if (!valid || number < 1 || number > kMaxStreamNumber)
            return make_error(Errc::InvalidArgument, "stream list '" + std::string(list) + "': '" +
                                                         std::string(item) +
                                                         "' is not a stream number 1-127");
        if (std::find(streams.begin(), streams.end(), number) != streams.end())
            return make_error(Errc::InvalidArgument, "stream list '" + std::string(list) +
                                                         "': stream " + std::string(item) +
                                                         " given twice");
        streams.push_back(number);
        if (end == list.size())
            break;
        start = end + 1;
    }
    std::sort(streams.begin(), streams.end());
    return streams;
}

std::string request_for(StreamKind kind, const RequestTarget &target) {
    const std::string host = target.host + ":" + std::to_string(target.port);
    if (kind == StreamKind::Wmsp)
        return "GET " + target.path + " HTTP/1.0\r\nHost: " + host +
               "\r\nAccept: */*\r\nUser-Agent: NSPlayer/7.10.0.3059\r\n"
               "Pragma: no-cache,rate=1.000000,request-context=2\r\nPragma: xPlayStrm=1\r\n"
               "Pragma: xClientGUID={c77e7400-738a-11d2-9add-0020af0a3278}\r\n" +
               selection_pragmas(target.select) + "Connection: Close\r\n\r\n";
    if (kind == StreamKind::Http)
        return "GET " + target.path + " HTTP/1.0\r\nHost: " + host +
               "\r\nUser-Agent: wmstream-loadgen/1.0\r\nAccept: */*\r\n\r\n";
    return {};
}

} // namespace wmstream::bench
