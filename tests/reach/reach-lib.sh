# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the port reachability tests (sourced, not run): skip rules, a
# private work directory, network namespaces and daemons that are always
# cleaned up, and reach-sink drivers whose output is read line by line with
# bounded waits.
#
# Usage: source reach-lib.sh REACH_SINK [FIREWALL_OPENER]
#   REACH_SINK       the reach-sink binary; the plugin comes from GST_PLUGIN_PATH_1_0
#   FIREWALL_OPENER  the firewall-opener binary (driver_program=firewall-opener)
#
# Clean-up (EXIT trap, also on failure or signal): every driver and daemon is
# stopped by the PID recorded when it was started (TERM, then KILL after 3 s),
# every namespace created here is deleted, and the work directory removed.
# Nothing else is touched: all addresses live in namespaces created here.

set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin # the daemons, ip and nft

reach_sink_source=${1:?usage: $0 REACH_SINK [FIREWALL_OPENER]}
firewall_opener_source=${2:-}

# A missing prerequisite: a failure under CI (CI=true), which installs every
# one and runs as root; a skip (exit 77) elsewhere.
skip() {
    if [[ "${CI:-}" == true ]]; then
        echo "FAIL: $* (under CI a missing prerequisite is a failure)" >&2
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}

# Prints the logs of every driver and daemon, then fails the test.
fail() {
    echo "FAIL: $*" >&2
    local log
    for log in "$work"/*.out "$work"/*.err "$work"/*.log; do
        [[ -s "$log" ]] || continue
        echo "---- ${log##*/} (last 40 lines)" >&2
        tail -n 40 "$log" >&2
    done
    exit 1
}

pass() {
    echo "ok - $*"
}

require_root() {
    ((EUID == 0)) || skip "needs root (network namespaces)"
}

# require_command COMMAND PACKAGE
require_command() {
    command -v "$1" >/dev/null 2>&1 ||
        skip "$1 is not installed (Debian package $2; tools/install-deps.sh --tests)"
}

# ---- work directory, namespaces, daemons, clean-up

work=$(mktemp -d /tmp/wmreach.XXXXXX)
chmod 755 "$work"
namespace_prefix="wmr$$"
namespaces=()
daemon_pids=()
declare -A driver_pid=() driver_fd=() driver_cursor=()

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local name i fd
    for name in "${!driver_fd[@]}"; do
        fd=${driver_fd[$name]}
        exec {fd}>&- 2>/dev/null || true
    done
    for name in "${!driver_pid[@]}"; do
        stop_pid "${driver_pid[$name]}"
    done
    for ((i = ${#daemon_pids[@]} - 1; i >= 0; i--)); do
        stop_pid "${daemon_pids[$i]}"
    done
    for name in "${namespaces[@]}"; do
        ip netns del "$name" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# add_netns VAR: creates a namespace (loopback up) and stores its name in VAR.
add_netns() {
    local name="$namespace_prefix-$1"
    ip netns add "$name" || fail "cannot create network namespace $name"
    namespaces+=("$name")
    ip -n "$name" link set lo up
    printf -v "$1" '%s' "$name"
}

# add_veth NS_A IF_A CIDR_A NS_B IF_B CIDR_B: a veth pair from IF_A in NS_A
# to IF_B in NS_B, each end with its address and up.
add_veth() {
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$4" addr add "$6" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}

# start_daemon NAME COMMAND...: runs COMMAND in the background (its output in
# $work/NAME.log) and records its PID for clean-up. Use `exec`-ing wrappers
# only (ip netns exec, env, setpriv) so that the PID is the daemon's.
start_daemon() {
    local name=$1
    shift
    "$@" >"$work/$name.log" 2>&1 &
    daemon_pids+=($!)
    last_pid=$!
}

# wait_until TIMEOUT_S WHAT COMMAND...: retries COMMAND every 0.2 s.
wait_until() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "timed out after ${timeout} s waiting for $what"
        sleep 0.2
    done
}

# ---- reach-sink drivers

# The driver and the plugin are copied into the work directory so that a
# driver running as another user (setpriv) can read them wherever the build
# directory is; the registry only holds our plugin.
mkdir -p "$work/plugin" "$work/home"
chmod 777 "$work/home"
cp "$reach_sink_source" "$work/reach-sink"
[[ -z $firewall_opener_source ]] || cp "$firewall_opener_source" "$work/firewall-opener"
cp "${GST_PLUGIN_PATH_1_0:?GST_PLUGIN_PATH_1_0 must point to the built plugin}"/libgstwmstream.so \
    "$work/plugin/"
chmod -R a+rX "$work"

# [driver_program=PROGRAM] driver_start NAME NAMESPACE [WRAPPER... --] ARGUMENT...
# Starts PROGRAM (reach-sink unless set; ARGUMENTs are its PROPERTY=VALUEs) in
# NAMESPACE (optionally through WRAPPER, e.g. setpriv ...), its stdin a FIFO,
# its output in $work/NAME.out.
driver_start() {
    local name=$1 ns=$2
    shift 2
    local wrapper=()
    if [[ " $* " == *" -- "* ]]; then
        while [[ $1 != -- ]]; do
            wrapper+=("$1")
            shift
        done
        shift
    fi
    mkfifo "$work/$name.in"
    # The output files are opened before the FIFO: opening the FIFO's write end
    # below returns once the driver opened its read end, so NAME.out exists by
    # then (with the FIFO first, a driver_mark could run before it did).
    ip netns exec "$ns" "${wrapper[@]}" env HOME="$work/home" \
        GST_PLUGIN_PATH_1_0="$work/plugin" GST_PLUGIN_SYSTEM_PATH_1_0="" \
        GST_REGISTRY_1_0="$work/home/registry-$name.bin" GST_REGISTRY_FORK=no \
        "$work/${driver_program:-reach-sink}" "$@" >"$work/$name.out" 2>"$work/$name.err" <"$work/$name.in" &
    driver_pid[$name]=$!
    local fd
    exec {fd}>"$work/$name.in"
    driver_fd[$name]=$fd
    driver_cursor[$name]=0
}

# driver_cmd NAME COMMAND: one command line to the driver.
driver_cmd() {
    echo "$2" >&"${driver_fd[$1]}"
}

# driver_stop NAME: quit, and wait (bounded) for it to exit.
driver_stop() {
    local name=$1 fd=${driver_fd[$1]}
    driver_cmd "$name" quit
    exec {fd}>&-
    unset "driver_fd[$name]"
    local deadline=$((SECONDS + 10))
    while kill -0 "${driver_pid[$name]}" 2>/dev/null; do
        ((SECONDS < deadline)) || fail "driver $name did not quit within 10 s"
        sleep 0.1
    done
    wait "${driver_pid[$name]}" || fail "driver $name exited with status $?"
    unset "driver_pid[$name]"
}

# driver_kill NAME: kill -9 (a crash: nothing is undone), and wait for it to end.
driver_kill() {
    local name=$1 fd=${driver_fd[$1]}
    kill -KILL "${driver_pid[$name]}"
    wait "${driver_pid[$name]}" 2>/dev/null || true
    exec {fd}>&-
    unset "driver_fd[$name]" "driver_pid[$name]"
}

# wait_line NAME REGEX [TIMEOUT_S]: waits for the next output line of driver
# NAME matching REGEX (extended) after the last line matched before; sets LINE.
wait_line() {
    local name=$1 regex=$2 timeout=${3:-20}
    local out="$work/$name.out" deadline=$((SECONDS + timeout)) match
    while :; do
        match=$(tail -n +"$((driver_cursor[$name] + 1))" "$out" | grep -n -m1 -E -- "$regex" || true)
        if [[ -n $match ]]; then
            driver_cursor[$name]=$((driver_cursor[$name] + ${match%%:*}))
            LINE=${match#*:}
            return 0
        fi
        kill -0 "${driver_pid[$name]}" 2>/dev/null || fail "driver $name exited while waiting for /$regex/"
        ((SECONDS < deadline)) || fail "driver $name: no line matching /$regex/ within ${timeout} s"
        sleep 0.1
    done
}

# field LINE NAME: the value of field NAME in a printed GstStructure line
# ("name=(type)value" or "name=(string)\"value\""), with gst_structure_to_string()'s
# backslash escapes removed.
field() {
    local value
    value=$(grep -o -E "(^|[ ,])$2=\([a-z0-9]+\)(\"[^\"]*\"|[^,;]*)" <<<"$1" | head -n1 || true)
    value=${value#*)}
    value=${value#\"}
    value=${value%\"}
    printf '%s' "${value//\\/}"
}

# expect_field LINE NAME VALUE
expect_field() {
    local actual
    actual=$(field "$1" "$2")
    [[ "$actual" == "$3" ]] || fail "expected $2=$3, got '$actual' in: $1"
}

# driver_mark NAME: sets MARK to the number of lines the driver printed so far.
driver_mark() {
    MARK=$(wc -l <"$work/$1.out")
}

# The commands below leave the cursor where it was when the command was sent:
# messages the command caused may be printed before its own reply line.

# driver_ready NAME: NULL→READY, sets PORT and READY_MS.
driver_ready() {
    driver_mark "$1"
    driver_cmd "$1" ready
    wait_line "$1" '^state(-failed)? READY' 15
    driver_cursor[$1]=$MARK
    [[ $LINE == "state READY "* ]] || fail "driver $1: NULL→READY failed: $LINE"
    READY_MS=$(sed -E 's/.* ms=([0-9]+).*/\1/' <<<"$LINE")
    PORT=$(sed -E 's/.*current-port=([0-9]+).*/\1/' <<<"$LINE")
}

# driver_ready_then NAME WHAT REGEX: NULL→READY in under 1 s (it must not wait
# for WHAT), then the next line matching REGEX within 30 s; sets LINE_MS, the
# ms from READY to that line.
driver_ready_then() {
    driver_ready "$1"
    ((READY_MS < 1000)) || fail "NULL→READY took $READY_MS ms: it must not wait for $2"
    local started
    started=$(date +%s%N)
    wait_line "$1" "$3" 30
    LINE_MS=$((($(date +%s%N) - started) / 1000000))
}

# driver_null NAME: →NULL, sets NULL_MS.
driver_null() {
    driver_mark "$1"
    driver_cmd "$1" null
    wait_line "$1" '^state NULL' 15
    driver_cursor[$1]=$MARK
    NULL_MS=$(sed -E 's/.* ms=([0-9]+).*/\1/' <<<"$LINE")
}

# driver_get NAME PROPERTY: sets VALUE.
driver_get() {
    driver_mark "$1"
    driver_cmd "$1" "get $2"
    wait_line "$1" "^property $2=" 10
    driver_cursor[$1]=$MARK
    VALUE=${LINE#property $2=}
}

# expect_no_errors NAME: the driver never posted an ERROR message.
expect_no_errors() {
    if grep -q '^error ' "$work/$1.out"; then
        fail "driver $1 posted an ERROR: $(grep '^error ' "$work/$1.out" | head -n1)"
    fi
}

# ---- TCP probes from a namespace

# tcp_probe NAMESPACE HOST PORT: sets PROBE to "connected" or the error text.
tcp_probe() {
    PROBE=$(ip netns exec "$1" timeout 5 bash -c "exec 3<>/dev/tcp/$2/$3 && echo connected" 2>&1 ||
        true)
    [[ -n $PROBE ]] || PROBE="timed out"
}

expect_connects() {
    tcp_probe "$@"
    [[ $PROBE == connected ]] || fail "connect to $2:$3 from $1 failed: $PROBE"
}

# The firewall's reject (icmp-host-prohibited → EHOSTUNREACH), not a missing
# listener (ECONNREFUSED).
expect_rejected() {
    tcp_probe "$@"
    [[ $PROBE == *"No route to host"* ]] || fail "connect to $2:$3 from $1 was not rejected by the firewall: $PROBE"
}
