/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reach/mapping-identity.h"

#include <glib.h>

namespace wmstream::reach {

namespace {

/* The HMAC key that makes our hash of the machine ID ours alone. */
constexpr char kApplicationKey[] = "wmstream port mapping";
/* Hex digits of the hash kept: 64 bits. */
constexpr size_t kHostIdLength = 16;

/* The machine ID (machine-id(5)), else the host name. */
std::string machine_id() {
    for (const char *path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
        g_autofree char *contents = nullptr;
        if (g_file_get_contents(path, &contents, nullptr, nullptr)) {
            g_strstrip(contents);
            if (*contents)
                return contents;
        }
    }
    return g_get_host_name();
}

/* This host's identity, computed once. */
const std::string &host_id() {
    static const std::string id = [] {
        const std::string machine = machine_id();
        g_autofree char *hmac = g_compute_hmac_for_string(
            G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(kApplicationKey),
            sizeof kApplicationKey - 1, machine.c_str(), -1);
        return std::string(hmac, kHostIdLength);
    }();
    return id;
}

} // namespace

std::string mapping_description(uint16_t port) {
    return "wmstream " + host_id() + " " + std::to_string(port);
}

} // namespace wmstream::reach
