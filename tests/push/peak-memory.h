/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The test process's resident memory and its peak, to show that a hostile
 * server cannot make the push client hold more than its bounds: reset the
 * peak (proc(5), /proc/self/clear_refs "5", Linux ≥ 4.0), run the scenario,
 * then compare VmHWM with the resident size before it.
 */
#pragma once

#include <glib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace pushtest {

/* AddressSanitizer keeps freed memory in quarantine (256 MB by default): resident sizes then
 * say nothing about what the code holds. */
#if defined(__SANITIZE_ADDRESS__)
#define PUSHTEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PUSHTEST_ASAN 1
#endif
#endif

/** Whether peak-RSS bounds mean anything in this build (not under AddressSanitizer). */
constexpr bool kRssMeaningful =
#ifdef PUSHTEST_ASAN
    false;
#else
    true;
#endif

/** VmRSS (@p field "VmRSS:") or VmHWM ("VmHWM:") of this process, KiB; −1 when unreadable. */
inline int64_t proc_status_kb(const char *field) {
    FILE *file = fopen("/proc/self/status", "r");
    if (!file)
        return -1;
    char line[256];
    int64_t value = -1;
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, field, strlen(field)) == 0) {
            value = g_ascii_strtoll(line + strlen(field), nullptr, 10);
            break;
        }
    }
    fclose(file);
    return value;
}

/** Reset the peak resident size to the current one. @return false when the kernel refused or
 *  the build makes resident sizes meaningless (kRssMeaningful). */
inline bool reset_peak_rss() {
    if (!kRssMeaningful)
        return false;
    FILE *file = fopen("/proc/self/clear_refs", "w");
    if (!file)
        return false;
    const bool ok = fputs("5", file) >= 0;
    return fclose(file) == 0 && ok;
}

} // namespace pushtest
