#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# wmnetsink open-firewall=true against the real firewalld (Debian package),
# started on a private D-Bus system bus inside a network namespace ("fw",
# 10.200.0.1) that a second namespace ("peer", 10.200.0.2) connects to
# through a veth pair. The recipe is ../../docs/port-reachability.md's.
#
#   test-firewalld.sh REACH_SINK     (meson runs it; exit 77 = skipped)
#
# What it proves:
#  1. port=0: the port chosen at the bind is rejected by firewalld before,
#     accepted once the element reaches READY (result=opened, zone public,
#     firewall-cmd --query-port yes), rejected again after NULL (result=closed,
#     query no). NULL→READY does not wait for firewalld.
#  2. A rule that was already there is reported already-open, kept at NULL
#     (result=kept) and still open afterwards.
#  3. firewall-cmd --reload drops runtime rules; the element adds its rule
#     again (a second result=opened), and the peer connects again.
#  4. As uid 65534 firewalld refuses (no polkit on the private bus: uid
#     check): READY still succeeds, the element posts a WARNING
#     RESOURCE/NOT_AUTHORIZED with condition E_ACCESSDENIED (0x80070005) and
#     result=failed; nothing is opened. No test ever sees an ERROR message.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/reach-lib.sh" "${1:-}"

require_root
require_command firewalld firewalld
require_command firewall-cmd firewalld
require_command dbus-daemon dbus-daemon
require_command nft nftables
require_command setpriv util-linux
require_command ip iproute2

# ---- namespaces: fw (the host running wmnetsink and firewalld) and peer
add_netns fw
add_netns peer
ip link add fw0 netns "$fw" type veth peer name peer0 netns "$peer"
ip -n "$fw" addr add 10.200.0.1/24 dev fw0
ip -n "$peer" addr add 10.200.0.2/24 dev peer0
ip -n "$fw" link set fw0 up
ip -n "$peer" link set peer0 up

# ---- a private system bus: every uid may connect (the non-root case)
cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
start_daemon dbus-daemon dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile
wait_until 10 "the private bus socket" test -S "$work/bus"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/bus"

# ---- firewalld in fw, with a copy of the packaged configuration
[[ -f /etc/firewalld/firewalld.conf ]] || skip "/etc/firewalld/firewalld.conf missing"
cp -r /etc/firewalld "$work/firewalld-etc"
started=$SECONDS
start_daemon firewalld ip netns exec "$fw" firewalld --nofork --nopid \
    --system-config "$work/firewalld-etc" --log-target file --log-file "$work/firewalld.log"
firewalld_state() {
    [[ $(firewall-cmd --state 2>/dev/null) == running ]]
}
wait_until 60 "firewalld to run" firewalld_state
echo "# firewalld running after $((SECONDS - started)) s; default zone $(firewall-cmd --get-default-zone)"

query_port() {
    firewall-cmd --query-port="$1/tcp" 2>/dev/null || true
}

open_line='^element wmnetsink-port-open, .*backend=\(string\)firewalld, action=\(string\)open'
close_line='^element wmnetsink-port-open, .*backend=\(string\)firewalld, action=\(string\)close'

# ---- 1. rejected → READY opens → NULL closes (port 0)
driver_start plain "$fw" port=0 open-firewall=false
driver_ready plain
port=$PORT
expect_rejected "$peer" 10.200.0.1 "$port"
driver_stop plain
pass "port $port is rejected by firewalld without open-firewall"

driver_start open "$fw" port="$port" open-firewall=true
driver_ready open
((READY_MS < 1000)) || fail "NULL→READY took $READY_MS ms: it must not wait for firewalld"
started=$(date +%s%N)
wait_line open "$open_line" 30
opened_ms=$((($(date +%s%N) - started) / 1000000))
expect_field "$LINE" result opened
expect_field "$LINE" zone public
expect_field "$LINE" port "$port"
expect_field "$LINE" protocol tcp
[[ $(query_port "$port") == yes ]] || fail "firewall-cmd --query-port=$port/tcp is not yes after opened"
expect_connects "$peer" 10.200.0.1 "$port"
driver_null open
close_ms=$NULL_MS
wait_line open "$close_line" 5
expect_field "$LINE" result closed
[[ $(query_port "$port") == no ]] || fail "the rule for $port is still there after NULL"
expect_no_errors open
driver_stop open
pass "READY in $READY_MS ms, rule opened ${opened_ms} ms later, peer connected; NULL in $close_ms ms removed it"

driver_start again "$fw" port="$port" open-firewall=false
driver_ready again
expect_rejected "$peer" 10.200.0.1 "$port"
driver_stop again
pass "port $port is rejected again after NULL"

# ---- 2. a rule that was already there survives NULL
firewall-cmd --add-port=8555/tcp >/dev/null
driver_start existing "$fw" port=8555 open-firewall=true
driver_ready existing
wait_line existing "$open_line" 30
expect_field "$LINE" result already-open
expect_connects "$peer" 10.200.0.1 8555
driver_null existing
wait_line existing "$close_line" 5
expect_field "$LINE" result kept
[[ $(query_port 8555) == yes ]] || fail "the pre-existing rule for 8555 was removed"
expect_no_errors existing
driver_stop existing
firewall-cmd --remove-port=8555/tcp >/dev/null
pass "a pre-existing rule is reported already-open and kept at NULL"

# ---- 3. firewall-cmd --reload: the rule comes back
driver_start reload "$fw" port=8556 open-firewall=true
driver_ready reload
wait_line reload "$open_line" 30
expect_field "$LINE" result opened
started=$(date +%s%N)
firewall-cmd --reload >/dev/null
wait_line reload "$open_line" 30
reopened_ms=$((($(date +%s%N) - started) / 1000000))
expect_field "$LINE" result opened
[[ $(query_port 8556) == yes ]] || fail "the rule for 8556 did not come back after --reload"
expect_connects "$peer" 10.200.0.1 8556
driver_null reload
wait_line reload "$close_line" 5
expect_field "$LINE" result closed
[[ $(query_port 8556) == no ]] || fail "the rule for 8556 is still there after NULL"
expect_no_errors reload
driver_stop reload
pass "after --reload the rule was added again (${reopened_ms} ms after the reload command began)"

# ---- 4. a non-root caller is refused: a WARNING, never an ERROR
driver_start nobody "$fw" setpriv --reuid=65534 --regid=65534 --clear-groups -- \
    port=8557 open-firewall=true
driver_ready nobody
wait_line nobody "$open_line" 30
expect_field "$LINE" result failed
expect_field "$LINE" error-name org.fedoraproject.FirewallD1.NotAuthorizedException
wait_line nobody '^warning ' 5
warning=$LINE
[[ $warning == "warning gst-resource-error-quark:15 "* ]] ||
    fail "expected RESOURCE/NOT_AUTHORIZED (15): $warning"
expect_field "$warning" condition E_ACCESSDENIED
expect_field "$warning" hresult 2147942405
expect_field "$warning" backend firewalld
[[ $(query_port 8557) == no ]] || fail "8557 was opened for uid 65534"
expect_rejected "$peer" 10.200.0.1 8557
driver_null nobody
expect_no_errors nobody
driver_stop nobody
pass "uid 65534: READY succeeded, WARNING E_ACCESSDENIED ($(field "$warning" error-message))"
