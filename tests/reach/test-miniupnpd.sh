#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# wmnetsink port-mapping against the real miniupnpd (Debian package,
# nftables variant) as the NAT gateway, UPnP IGD and NAT-PMP, in network
# namespaces: "igd" (bridge br0 10.201.0.1/24 on the LAN side, wan0 on the
# WAN side), "lan" (10.201.0.2, runs wmnetsink) and "other" (10.201.0.3,
# another LAN host).
#
#   test-miniupnpd.sh REACH_SINK     (meson runs it; exit 77 = skipped)
#
# wan0 carries 198.20.0.1/32: miniupnpd 2.3.1 refuses to map behind a
# private or reserved WAN address (ext_allow_private_ipv4 only exists from
# 2.3.9), so it must look public. wan0's veth peer also stays inside "igd",
# no route leads out of it and no packet is ever sent to that address.
#
# What it proves:
#  1. upnp: after READY the mapping 8554 → 10.201.0.2:8554 is in miniupnpd's
#     nft chain (inet filter prerouting_miniupnpd) and in `upnpc -l`;
#     external-port=8554, external-address=198.20.0.1 and host-url
#     http://198.20.0.1:8554/ (with notify); NULL deletes it from both and
#     resets external-port to 0. NULL→READY does not wait for SSDP.
#  2. A mapping of the same external port owned by another host (made with
#     upnpc from "other", description "other") is reported result=conflict with a WARNING
#     (NS_E_NETWORK_RESOURCE_FAILURE, UPnP 718), never overwritten, and
#     still there after NULL.
#  3. A mapping to this host that existed before is already-open, kept at NULL.
#  4. nat-pmp: the mapping appears in the nft chain (gateway 10.201.0.1),
#     disappears at NULL; for a port another host holds, miniupnpd grants
#     another external port and the other host's mapping stays.
#  5. auto: UPnP is used first.
#  6. port-mapping-lease=4: the mapping is renewed and still there after 10
#     s, when an unrenewed 4 s mapping made with upnpc is gone.
#  7. No gateway at all ("alone", routed to "dead" where nothing listens):
#     auto reports upnp unavailable, then nat-pmp failed with a WARNING
#     (NS_E_NETWORK_RESOURCE_FAILURE); READY→NULL during the SSDP search
#     returns at once (nothing to undo) and nothing is reported after it.
#  8. A mapping our own killed (kill -9) process left, recognised by its
#     description ("wmstream <host> <port>", the host part stable across
#     runs), is taken over by the next run: result opened (not already-open,
#     not conflict), its lease renewed (the new run's lease), and deleted at
#     NULL. A mapping with a foreign description stays someone else's: to
#     another host a conflict (2), to us already-open and kept (3).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/reach-lib.sh" "$@"

require_root
require_command miniupnpd miniupnpd
require_command upnpc miniupnpc
require_command nft nftables
require_command ip iproute2

# ---- namespaces: igd (the router), lan (us), other (another LAN host)
add_netns igd
add_netns lan
add_netns other
ip -n "$igd" link add br0 type bridge
ip -n "$igd" addr add 10.201.0.1/24 dev br0
ip -n "$igd" link set br0 up
address=2
for host in "$lan" "$other"; do
    ip link add lan0 netns "$host" type veth peer name port$address netns "$igd"
    ip -n "$igd" link set port$address master br0 up
    ip -n "$host" addr add 10.201.0.$address/24 dev lan0
    ip -n "$host" link set lan0 up
    ip -n "$host" route add default via 10.201.0.1
    address=$((address + 1))
done
ip -n "$igd" link add wan0 type veth peer name wan1
ip -n "$igd" addr add 198.20.0.1/32 dev wan0
ip -n "$igd" link set wan0 up
ip -n "$igd" link set wan1 up
ip netns exec "$igd" sysctl -qw net.ipv4.ip_forward=1

# alone (10.202.0.2) → dead (10.202.0.1): a default route, and no gateway.
add_netns alone
add_netns dead
add_veth "$alone" lan0 10.202.0.2/24 "$dead" lan0 10.202.0.1/24
ip -n "$alone" route add default via 10.202.0.1

# miniupnpd 2.3.1's default nft layout (table inet filter; chains miniupnpd,
# prerouting_miniupnpd, postrouting_miniupnpd) behind base chains, made here
# because Debian's nft_init.sh needs iptables.
ip netns exec "$igd" nft -f - <<'EOF'
table inet filter {
    chain forward { type filter hook forward priority 0; policy drop; jump miniupnpd; }
    chain miniupnpd { }
    chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
    chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
    chain prerouting_miniupnpd { }
    chain postrouting_miniupnpd { }
}
EOF

cat >"$work/miniupnpd.conf" <<EOF
ext_ifname=wan0
listening_ip=br0
port=5000
enable_upnp=yes
enable_natpmp=yes
secure_mode=yes
system_uptime=yes
uuid=3b9f1a52-6a1e-4a3c-9d2a-7f3e2c1b0a11
allow 1024-65535 10.201.0.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
started=$SECONDS
start_daemon miniupnpd ip netns exec "$igd" miniupnpd -f "$work/miniupnpd.conf" -d \
    -P "$work/miniupnpd.pid"
igd_found() {
    grep -q 'Found valid IGD' <<<"$(ip netns exec "$lan" upnpc -s 2>/dev/null)"
}
wait_until 30 "miniupnpd to answer SSDP" igd_found
echo "# miniupnpd answering after $((SECONDS - started)) s"

chain() {
    ip netns exec "$igd" nft list chain inet filter prerouting_miniupnpd
}
upnp_list() {
    ip netns exec "$lan" upnpc -l 2>/dev/null
}
# expect_mapped PORT TARGET / expect_unmapped PORT: miniupnpd's nft chain.
# (grep reads a here-string: with pipefail, `nft | grep -q` fails when grep
# stops reading early.)
expect_mapped() {
    grep -q -E "dport $1 dnat ip to $2\$" <<<"$(chain)" ||
        fail "no dnat of external port $1 to $2 in the nft chain: $(chain)"
}
expect_unmapped() {
    ! grep -q -E "dport $1 dnat" <<<"$(chain)" || fail "external port $1 is still mapped: $(chain)"
}

open_line='^element wmnetsink-port-open, .*action=\(string\)open'
close_line='^element wmnetsink-port-open, .*action=\(string\)close'

# ---- 1. upnp: mapped after READY, deleted at NULL
driver_start upnp "$lan" port=8554 port-mapping=upnp
driver_ready_then upnp "the gateway" "$open_line"
mapped_ms=$LINE_MS
expect_field "$LINE" backend upnp
expect_field "$LINE" result opened
expect_field "$LINE" external-port 8554
expect_field "$LINE" external-address 198.20.0.1
expect_field "$LINE" gateway http://10.201.0.1:5000/rootDesc.xml
expect_field "$LINE" lease 3600
wait_line upnp '^notify host-url' 5
driver_get upnp external-port
[[ $VALUE == 8554 ]] || fail "external-port is '$VALUE'"
driver_get upnp external-address
[[ $VALUE == 198.20.0.1 ]] || fail "external-address is '$VALUE'"
driver_get upnp host-url
[[ $VALUE == http://198.20.0.1:8554/ ]] || fail "host-url is '$VALUE'"
expect_mapped 8554 10.201.0.2:8554
grep -q -E 'TCP +8554->10.201.0.2:8554' <<<"$(upnp_list)" || fail "upnpc -l does not list 8554: $(upnp_list)"
driver_null upnp
close_ms=$NULL_MS
wait_line upnp "$close_line" 5
expect_field "$LINE" result closed
expect_unmapped 8554
! grep -q -E 'TCP +8554->' <<<"$(upnp_list)" || fail "upnpc -l still lists 8554"
driver_get upnp external-port
[[ $VALUE == 0 ]] || fail "external-port is '$VALUE' after NULL"
expect_no_errors upnp
driver_stop upnp
pass "upnp: READY in $READY_MS ms, mapped ${mapped_ms} ms later (nft + upnpc -l), deleted by NULL in $close_ms ms"

# ---- 2. a conflicting mapping owned by another host
ip netns exec "$other" upnpc -e other -a 10.201.0.3 9000 9000 TCP >/dev/null 2>&1
expect_mapped 9000 10.201.0.3:9000
driver_start conflict "$lan" port=9000 port-mapping=upnp
driver_ready conflict
wait_line conflict "$open_line" 30
expect_field "$LINE" result conflict
expect_field "$LINE" error-code 718
wait_line conflict '^warning ' 5
warning=$LINE
expect_field "$warning" condition NS_E_NETWORK_RESOURCE_FAILURE
expect_field "$warning" hresult 3222077480
expect_field "$warning" result conflict
expect_mapped 9000 10.201.0.3:9000
driver_get conflict external-port
[[ $VALUE == 0 ]] || fail "external-port is '$VALUE' after a conflict"
driver_null conflict
expect_mapped 9000 10.201.0.3:9000
expect_no_errors conflict
driver_stop conflict
pass "upnp conflict reported as a WARNING ($(field "$warning" error-message)); not overwritten"

# ---- 3. a mapping to this host that was already there is kept
ip netns exec "$lan" upnpc -e before -a 10.201.0.2 9100 9100 TCP >/dev/null 2>&1
driver_start existing "$lan" port=9100 port-mapping=upnp
driver_ready existing
wait_line existing "$open_line" 30
expect_field "$LINE" result already-open
driver_null existing
wait_line existing "$close_line" 5
expect_field "$LINE" result kept
expect_mapped 9100 10.201.0.2:9100
expect_no_errors existing
driver_stop existing
pass "upnp: a pre-existing mapping to us is already-open and kept at NULL"

# ---- 4. NAT-PMP against the same daemon
driver_start natpmp "$lan" port=9200 port-mapping=nat-pmp
driver_ready natpmp
wait_line natpmp "$open_line" 30
expect_field "$LINE" backend nat-pmp
expect_field "$LINE" result opened
expect_field "$LINE" gateway 10.201.0.1
expect_field "$LINE" external-port 9200
expect_field "$LINE" external-address 198.20.0.1
expect_mapped 9200 10.201.0.2:9200
driver_get natpmp host-url
[[ $VALUE == http://198.20.0.1:9200/ ]] || fail "host-url is '$VALUE'"
driver_null natpmp
wait_line natpmp "$close_line" 5
expect_field "$LINE" result closed
expect_unmapped 9200
expect_no_errors natpmp
driver_stop natpmp

driver_start natpmp-taken "$lan" port=9000 port-mapping=nat-pmp
driver_ready natpmp-taken
wait_line natpmp-taken "$open_line" 30
expect_field "$LINE" result opened
external=$(field "$LINE" external-port)
[[ $external != 9000 && $external -gt 0 ]] || fail "NAT-PMP got external port '$external' for a taken port"
expect_mapped "$external" 10.201.0.2:9000
expect_mapped 9000 10.201.0.3:9000
driver_null natpmp-taken
expect_unmapped "$external"
expect_mapped 9000 10.201.0.3:9000
expect_no_errors natpmp-taken
driver_stop natpmp-taken
pass "nat-pmp: mapped and deleted; a taken port got external port $external, the other host's mapping stayed"

# ---- 5. auto: UPnP first
driver_start auto "$lan" port=9300 port-mapping=auto
driver_ready auto
wait_line auto "$open_line" 30
expect_field "$LINE" backend upnp
expect_field "$LINE" result opened
expect_mapped 9300 10.201.0.2:9300
driver_null auto
expect_unmapped 9300
driver_stop auto
pass "auto: mapped through UPnP"

# ---- 6. a short lease is renewed
ip netns exec "$lan" upnpc -e unrenewed -a 10.201.0.2 9401 9401 TCP 4 >/dev/null 2>&1
driver_start lease "$lan" port=9400 port-mapping=upnp port-mapping-lease=4
driver_ready lease
wait_line lease "$open_line" 30
expect_field "$LINE" lease 4
expect_mapped 9401 10.201.0.2:9401
sleep 10
# miniupnpd removes expired rules when it next handles a request or times out.
upnp_list >/dev/null
expect_unmapped 9401
expect_mapped 9400 10.201.0.2:9400
! grep -q 'action=(string)renew' "$work/lease.out" || fail "a successful renewal was reported"
driver_null lease
expect_unmapped 9400
expect_no_errors lease
driver_stop lease
pass "a 4 s lease is renewed: mapped after 10 s, when an unrenewed one expired"

# ---- 7. no gateway at all
driver_start nogateway "$alone" port=9500 port-mapping=auto
driver_ready nogateway
started=$(date +%s%N)
wait_line nogateway "$open_line" 30
expect_field "$LINE" backend upnp
expect_field "$LINE" result unavailable
wait_line nogateway "$open_line" 30
failed_ms=$((($(date +%s%N) - started) / 1000000))
expect_field "$LINE" backend nat-pmp
expect_field "$LINE" result failed
wait_line nogateway '^warning ' 5
expect_field "$LINE" condition NS_E_NETWORK_RESOURCE_FAILURE
nogateway_error=$(field "$LINE" error-message)
driver_null nogateway
expect_no_errors nogateway
driver_stop nogateway
pass "no gateway: upnp unavailable, nat-pmp failed after ${failed_ms} ms with a WARNING ($nogateway_error)"

driver_start searching "$alone" port=9501 port-mapping=upnp
driver_ready searching
driver_null searching
((NULL_MS < 500)) || fail "READY→NULL during the SSDP search took $NULL_MS ms"
searching_ms=$NULL_MS
sleep 2.5
grep -q 'wmnetsink-port-open' "$work/searching.out" && fail "a report came after READY→NULL: $(grep wmnetsink-port-open "$work/searching.out")"
expect_no_errors searching
driver_stop searching
pass "READY→NULL during the SSDP search returned in $searching_ms ms, no report followed"

# ---- 8. a mapping left by our own killed process is taken over
driver_start crashed "$lan" port=9600 port-mapping=upnp port-mapping-lease=100
driver_ready crashed
wait_line crashed "$open_line" 30
expect_field "$LINE" result opened
listed=$(grep -E 'TCP +9600->10.201.0.2:9600' <<<"$(upnp_list)" || true)
description=$(sed -E "s/.*'(wmstream [^']*)'.*/\1/" <<<"$listed")
[[ $description =~ ^wmstream\ [0-9a-f]{16}\ 9600$ ]] || fail "unexpected mapping description: $listed"
driver_kill crashed
expect_mapped 9600 10.201.0.2:9600
driver_start restarted "$lan" port=9600 port-mapping=upnp port-mapping-lease=1000
driver_ready restarted
wait_line restarted "$open_line" 30
expect_field "$LINE" result opened
expect_field "$LINE" lease 1000
lease_left=$(grep -E 'TCP +9600->10.201.0.2:9600' <<<"$(upnp_list)" | awk '{print $NF}')
((lease_left > 100)) || fail "the taken-over mapping was not renewed (lease left: '$lease_left')"
driver_null restarted
wait_line restarted "$close_line" 5
expect_field "$LINE" result closed
expect_unmapped 9600
expect_no_errors restarted
driver_stop restarted
pass "a mapping left by a killed run ('$description') was taken over: opened, lease renewed to $lease_left s, deleted at NULL"
