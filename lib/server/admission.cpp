/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server/admission.h"

namespace wmstream::server {

namespace {

bool under(size_t served, int limit) {
    return limit < 0 || served < size_t(limit);
}

} // namespace

Verdict Admission::decide(bool relay, size_t viewers, size_t relays) const {
    if (relay)
        return under(relays, max_relays_) ? Verdict::Admit : Verdict::Refuse;
    return under(viewers, max_clients_) ? Verdict::Admit : Verdict::Refuse;
}

} // namespace wmstream::server
