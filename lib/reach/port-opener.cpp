/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reach/port-opener.h"

#include <string>

namespace wmstream::reach {

PortOpener::~PortOpener() {
    close();
}

Status PortOpener::start(uint16_t port, const char *what,
                         const std::function<std::unique_ptr<PortJob>(PortEvents *)> &make) {
    if (job_)
        return make_error(Errc::InvalidRequest, std::string(what) + " is already open");
    if (port == 0)
        return make_error(Errc::InvalidArgument, std::string("no port for ") + what);
    job_ = make(events_);
    return {};
}

void PortOpener::begin_close() {
    if (job_)
        job_->begin_close();
}

void PortOpener::close() {
    if (!job_)
        return;
    job_->close();
    job_.reset();
}

} // namespace wmstream::reach
