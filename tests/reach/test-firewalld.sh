#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# wmnetsink open-firewall=true against the real firewalld (Debian package),
# started on a private D-Bus system bus inside a network namespace ("fw",
# 10.200.0.1) that a second namespace ("peer", 10.200.0.2) connects to
# through a veth pair (docs/wmnetsink.md, "Port reachability").
#
#   test-firewalld.sh REACH_SINK FIREWALL_OPENER   (meson runs it; exit 77 = skipped)
#
# What it proves:
#  0. Before firewalld runs the element reports result=unavailable (no
#     WARNING); when firewalld then appears on the bus, the port is opened.
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
#     result=failed; nothing is opened.
#  5. A rule of ours removed behind our back: NULL still reports closed
#     (NOT_ENABLED counts as success).
#  6. firewalld frozen (SIGSTOP): NULL→READY and READY→NULL return at once
#     when only a query is pending; with our removePort pending, READY→NULL
#     gives up after about 2 s and reports close failed with a WARNING.
#  7. An unknown firewall-zone: WARNING RESOURCE/SETTINGS, E_INVALIDARG. A
#     listener on loopback: open-firewall and port-mapping report
#     unavailable, no WARNING, nothing asked.
# With the core's Firewall (firewall-opener, rule timeout 4 s):
#  8. The rule is added with firewalld's timeout (PortAdded carries 4, seen on
#     the bus) and renewed before it expires, alternating its two forms
#     (RichRuleAdded, PortAdded again, each with timeout 4): after 10 s it is
#     still there, and a peer probing every 0.2 s throughout never found the
#     port closed. After kill -9 of the process its rule expires by itself
#     within the timeout and the peer is rejected again.
#  9. Two Firewalls of one process on one port share the rule: closing the
#     first reports kept and leaves the rule, which the second keeps renewing
#     (still there 6 s later); closing the second removes it.
# 10. A rule of another process (one with a 3 s timeout, as a crashed run
#     leaves) is already-open; when it times out, ours is added (opened).
# No driver ever posts an ERROR message.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/reach-lib.sh" "$@"

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
add_veth "$fw" fw0 10.200.0.1/24 "$peer" peer0 10.200.0.2/24

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

open_line='^element wmnetsink-port-open, .*backend=\(string\)firewalld, action=\(string\)open'
close_line='^element wmnetsink-port-open, .*backend=\(string\)firewalld, action=\(string\)close'

# ---- 0. no firewalld yet: unavailable, then opened once it appears
[[ -f /etc/firewalld/firewalld.conf ]] || skip "/etc/firewalld/firewalld.conf missing"
driver_start early "$fw" port=8550 open-firewall=true
driver_ready early
wait_line early "$open_line" 30
expect_field "$LINE" result unavailable
unavailable=$(field "$LINE" error-message)

# ---- firewalld in fw, with a copy of the packaged configuration
cp -r /etc/firewalld "$work/firewalld-etc"
started=$SECONDS
start_daemon firewalld ip netns exec "$fw" firewalld --nofork --nopid \
    --system-config "$work/firewalld-etc" --log-target file --log-file "$work/firewalld.log"
firewalld_state() {
    [[ $(firewall-cmd --state 2>/dev/null) == running ]]
}
wait_until 60 "firewalld to run" firewalld_state
firewalld_pid=$last_pid
echo "# firewalld running after $((SECONDS - started)) s; default zone $(firewall-cmd --get-default-zone)"

query_port() {
    firewall-cmd --query-port="$1/tcp" 2>/dev/null || true
}

# open_rule NAME PORT: driver NAME on PORT with open-firewall=true goes READY
# and reports its rule opened.
open_rule() {
    driver_start "$1" "$fw" port="$2" open-firewall=true
    driver_ready "$1"
    wait_line "$1" "$open_line" 30
    expect_field "$LINE" result opened
}

# close_quietly NAME WHAT: driver NAME goes NULL and reports its rule closed,
# without a WARNING ("WHAT posted a WARNING") or an ERROR; then it quits.
close_quietly() {
    driver_null "$1"
    wait_line "$1" "$close_line" 5
    expect_field "$LINE" result closed
    grep -q '^warning ' "$work/$1.out" && fail "$2 posted a WARNING"
    expect_no_errors "$1"
    driver_stop "$1"
}

wait_line early "$open_line" 30
expect_field "$LINE" result opened
[[ $(query_port 8550) == yes ]] || fail "8550 is not open after firewalld appeared"
close_quietly early unavailable
pass "without firewalld: unavailable ($unavailable), no WARNING; opened when firewalld appeared"

# ---- 1. rejected → READY opens → NULL closes (port 0)
driver_start plain "$fw" port=0 open-firewall=false
driver_ready plain
port=$PORT
expect_rejected "$peer" 10.200.0.1 "$port"
driver_stop plain
pass "port $port is rejected by firewalld without open-firewall"

driver_start open "$fw" port="$port" open-firewall=true
driver_ready_then open firewalld "$open_line"
opened_ms=$LINE_MS
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
open_rule reload 8556
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

# ---- 5. our rule removed behind our back: NULL still succeeds (NOT_ENABLED)
open_rule removed 8559
firewall-cmd --remove-port=8559/tcp >/dev/null
close_quietly removed NOT_ENABLED
pass "a rule removed by someone else: NULL reports closed (NOT_ENABLED is success)"

# ---- 6. firewalld frozen: state changes do not wait for it, close is bounded
open_rule frozen 8560
kill -STOP "$firewalld_pid"
driver_null frozen
frozen_close_ms=$NULL_MS
kill -CONT "$firewalld_pid"
((NULL_MS >= 1500 && NULL_MS < 4000)) || fail "READY→NULL took $NULL_MS ms with removePort unanswered (expected about 2000)"
wait_line frozen "$close_line" 5
expect_field "$LINE" result failed
wait_line frozen '^warning ' 5
expect_no_errors frozen
driver_stop frozen
wait_until 30 "firewalld to answer again" firewalld_state
left=$(query_port 8560)
[[ $left == no ]] || firewall-cmd --remove-port=8560/tcp >/dev/null
pass "removePort unanswered: READY→NULL gave up after $frozen_close_ms ms, close failed + WARNING (rule left after SIGCONT: $left)"

kill -STOP "$firewalld_pid"
driver_start stalled "$fw" port=8561 open-firewall=true
driver_ready stalled
stalled_ready_ms=$READY_MS
sleep 0.5
driver_null stalled
stalled_null_ms=$NULL_MS
kill -CONT "$firewalld_pid"
((stalled_ready_ms < 1000 && stalled_null_ms < 1000)) ||
    fail "with firewalld frozen NULL→READY took $stalled_ready_ms ms, READY→NULL $stalled_null_ms ms"
grep -q 'wmnetsink-port-open' "$work/stalled.out" && fail "a report came while firewalld was frozen"
expect_no_errors stalled
driver_stop stalled
wait_until 30 "firewalld to answer again" firewalld_state
[[ $(query_port 8561) == no ]] || fail "8561 was opened although the element closed before firewalld answered"
pass "firewalld frozen: NULL→READY in $stalled_ready_ms ms, READY→NULL in $stalled_null_ms ms (nothing pending could open the port)"

# ---- 7. an unknown zone; a listener on loopback
driver_start zone "$fw" port=8562 open-firewall=true firewall-zone=nosuchzone
driver_ready zone
wait_line zone "$open_line" 30
expect_field "$LINE" result failed
expect_field "$LINE" zone nosuchzone
wait_line zone '^warning ' 5
[[ $LINE == "warning gst-resource-error-quark:13 "* ]] || fail "expected RESOURCE/SETTINGS (13): $LINE"
expect_field "$LINE" condition E_INVALIDARG
zone_error=$(field "$LINE" error-message)
driver_null zone
expect_no_errors zone
driver_stop zone
pass "unknown zone: WARNING E_INVALIDARG ($zone_error)"

driver_start loopback "$fw" address=127.0.0.1 port=8563 open-firewall=true port-mapping=auto
driver_ready loopback
# Two threads report: in either order.
for backend in firewalld upnp; do
    wait_until 10 "$backend unavailable" grep -q -E \
        "^element wmnetsink-port-open, backend=\\(string\\)$backend, .*result=\\(string\\)unavailable" \
        "$work/loopback.out"
done
driver_null loopback
grep -q '^warning ' "$work/loopback.out" && fail "a loopback listener posted a WARNING"
[[ $(query_port 8563) == no ]] || fail "8563 was opened for a loopback listener"
expect_no_errors loopback
driver_stop loopback
pass "loopback listener: firewalld and upnp unavailable, no WARNING"

# ---- 8. a rule with a timeout, renewed; after kill -9 it expires by itself
# rule_present PORT: the port rule or the rich rule is there. One --list-all (one
# answer of firewalld): two queries could both miss a renewal that swaps the forms between them.
rule_present() {
    grep -q -E "^ *ports:.* $1/tcp( |\$)|rule port port=\"$1\" protocol=\"tcp\" accept" \
        <<<"$(firewall-cmd --list-all 2>/dev/null || true)"
}
rule_absent() {
    ! rule_present "$1"
}
# The bus messages firewalld sends: PortAdded/RichRuleAdded carry the timeout.
start_daemon monitor stdbuf -oL gdbus monitor --system --dest org.fedoraproject.FirewallD1
monitor_log="$work/monitor.log"
report_line() { # report_line NAME ACTION: the next report of opener NAME for ACTION
    wait_line "$1" "^report name=\\(string\\)$2, .*action=\\(string\\)$3," 30
}

driver_start listener "$fw" port=8570 open-firewall=false
driver_ready listener
driver_program=firewall-opener driver_start timed "$fw"
driver_cmd timed "open a 8570 4"
report_line timed a open
expect_field "$LINE" result opened
expect_field "$LINE" zone public
wait_until 5 "PortAdded with timeout 4" grep -q "PortAdded ('public', '8570', 'tcp', 4)" "$monitor_log"
started=$SECONDS
closed_probes=0
probes=0
while ((SECONDS - started < 10)); do
    tcp_probe "$peer" 10.200.0.1 8570
    [[ $PROBE == connected ]] || closed_probes=$((closed_probes + 1))
    probes=$((probes + 1))
    sleep 0.2
done
((closed_probes == 0)) || fail "$closed_probes of $probes probes found 8570 closed during renewals"
rule_present 8570 || fail "the rule for 8570 is gone after 10 s (2.5 timeouts): not renewed"
rich_added=$(grep -c "RichRuleAdded ('public', 'rule port port=\"8570\" protocol=\"tcp\" accept', 4)" "$monitor_log" || true)
port_added=$(grep -c "PortAdded ('public', '8570', 'tcp', 4)" "$monitor_log" || true)
((rich_added >= 2 && port_added >= 2)) ||
    fail "expected the rule renewed in both forms with timeout 4 (RichRuleAdded $rich_added, PortAdded $port_added)"
! grep -q 'action=(string)renew' "$work/timed.out" || fail "a successful renewal was reported"
removals() {
    grep -c -E "(PortRemoved \('public', '8570'|RichRuleRemoved \('public', 'rule port port=\"8570\")" \
        "$monitor_log" || true
}
removed_before=$(removals)
expired() {
    (($(removals) > removed_before))
}
driver_kill timed
killed=$(date +%s%N)
wait_until 8 "the killed process's rule to expire" expired
expired_ms=$((($(date +%s%N) - killed) / 1000000))
# firewalld's timers run on whole seconds: up to 1 s late.
((expired_ms <= 5300)) || fail "the rule expired $expired_ms ms after kill -9 (timeout 4 s)"
rule_absent 8570 || fail "a rule for 8570 is left after the killed process's rule expired"
expect_rejected "$peer" 10.200.0.1 8570
pass "rule added with timeout 4, renewed $((rich_added + port_added - 1)) times in 10 s ($probes probes, none closed); after kill -9 it expired within $expired_ms ms"

# ---- 9. two Firewalls of one process on one port
driver_program=firewall-opener driver_start pair "$fw"
driver_cmd pair "open a 8570 4"
report_line pair a open
expect_field "$LINE" result opened
driver_cmd pair "open b 8570 4"
report_line pair b open
expect_field "$LINE" result opened
driver_cmd pair "close a"
report_line pair a close
expect_field "$LINE" result kept
wait_line pair '^closed a' 5
rule_present 8570 || fail "closing the first of two openers removed the rule"
sleep 6
rule_present 8570 || fail "the rule expired after the first opener closed: the second did not renew it"
expect_connects "$peer" 10.200.0.1 8570
driver_cmd pair "close b"
report_line pair b close
expect_field "$LINE" result closed
wait_line pair '^closed b' 5
rule_absent 8570 || fail "the rule for 8570 is still there after both openers closed"
expect_rejected "$peer" 10.200.0.1 8570
driver_stop pair
pass "two openers of 8570 in one process: the first close kept the rule (renewed by the second), the second removed it"

# ---- 10. another process's timed rule (a crashed run's) goes: ours replaces it
firewall-cmd --add-port=8570/tcp --timeout=3s >/dev/null
driver_program=firewall-opener driver_start after "$fw"
driver_cmd after "open a 8570 60"
report_line after a open
expect_field "$LINE" result already-open
report_line after a open
expect_field "$LINE" result opened
sleep 1
rule_present 8570 || fail "the rule for 8570 is gone after the foreign one timed out"
expect_connects "$peer" 10.200.0.1 8570
driver_stop after
rule_absent 8570 || fail "the rule for 8570 is still there after close"
driver_stop listener
pass "a foreign rule with a timeout: already-open, then opened when it timed out"
