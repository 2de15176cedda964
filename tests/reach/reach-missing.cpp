/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reach-missing: stands in for every reach test in a build without port
 * reachability (meson -Dreach=disabled, or auto without the libraries), so
 * that the tests fail visibly instead of disappearing. Prints the core's own
 * refusal of open-firewall / port-mapping and exits 1.
 */
#include "broadcast/broadcast.h"

#include <cstdio>

int main() {
    std::fprintf(stderr, "reach tests not run: %s\n", wmstream::broadcast::kReachMissing);
    return 1;
}
