#!/usr/bin/env bash
# The main job: broadcast real media live with wmnetsink.
#
#   tools/broadcast.sh [OPTIONS]     e.g. --port 0, --input FILE, --capture; see --help
#
# Installs what is missing (tools/install-deps.sh), configures the build
# directory build/ once, builds, then runs build/tools/wmstream-broadcast with
# the freshly built plugin on GST_PLUGIN_PATH. It prints the URLs to open;
# Ctrl-C ends the stream cleanly.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Runs a build step quietly; shows its output only when it fails.
quietly() {
    local log
    if ! log=$("$@" 2>&1); then
        printf '%s\n' "$log" >&2
        echo "broadcast: '$*' failed" >&2
        exit 1
    fi
}

bash tools/install-deps.sh
if [[ ! -f build/build.ninja ]]; then
    echo "broadcast: configuring build/ (meson setup)..." >&2
    if [[ -f build/meson-private/coredata.dat ]]; then
        quietly meson setup --reconfigure build
    else
        quietly meson setup build
    fi
fi
echo "broadcast: building (meson compile -C build)..." >&2
quietly meson compile -C build

export GST_PLUGIN_PATH="$root/build/plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
exec build/tools/wmstream-broadcast "$@"
