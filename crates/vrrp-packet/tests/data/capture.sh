#!/usr/bin/env bash
# Regenerates the keepalived captures under crates/vrrp-packet/tests/data.
#
# For each capture: two fresh network namespaces (A runs keepalived, B runs tcpdump) joined by a veth
# pair, documentation addresses only:
#   A eth0 02:00:00:00:00:0a  192.0.2.1/24  2001:db8::1/64  fe80::1/64
#   B eth0 02:00:00:00:00:0b  192.0.2.2/24  2001:db8::2/64  fe80::2/64
# keepalived (Debian's 2.2.7) runs with its own pid files in a temp dir, tcpdump writes NAME.pcap, and
# tshark's view of every packet goes to NAME.tshark.tsv (the frozen copy the tests also check; the
# tests run tshark live as well when it is installed). The root namespace is never touched.
#
# Usage: capture.sh [-o OUTDIR] [NAME...]     (root; default OUTDIR = this directory, NAME = all)
#   NAME is one of: v2_pass v2_noauth_3vip v3_ipv4_50ms v3_ipv6 v3_unicast v2_pass_sigterm
#
# Every wait is bounded; namespaces and the processes started here are removed on exit (trap).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here"
if [[ "${1:-}" == "-o" ]]; then
    out="$(mkdir -p "$2" && cd "$2" && pwd)"
    shift 2
fi

# name | config | tcpdump interface[:link type] | mode (count:N or sigterm)
# "any" captures are Linux cooked (SLL / SLL2) so the decoders see every link type tcpdump writes.
captures=(
    "v2_pass          v2_pass.conf          eth0 count:3"
    "v2_noauth_3vip   v2_noauth_3vip.conf   any:LINUX_SLL count:3"
    "v3_ipv4_50ms     v3_ipv4_50ms.conf     eth0 count:6"
    "v3_ipv6          v3_ipv6.conf          eth0 count:3"
    "v3_unicast       v3_unicast.conf       any:LINUX_SLL2 count:3"
    "v2_pass_sigterm  v2_pass.conf          eth0 sigterm"
)

# Fields recorded from tshark. The tests read the header line, so the order is free.
tshark_fields=(
    frame.number eth.src eth.dst sll.pkttype
    ip.src ip.dst ip.ttl ip.dsfield ip.id ip.flags ip.len ip.proto
    ipv6.src ipv6.dst ipv6.hlim ipv6.tclass ipv6.plen ipv6.nxt
    vrrp.version vrrp.type vrrp.virt_rtr_id vrrp.prio vrrp.addr_count vrrp.auth_type
    vrrp.adver_int vrrp.short_adver_int vrrp.checksum vrrp.checksum.status
    vrrp.ip_addr vrrp.ipv6_addr vrrp.auth_string
)

tshark_tsv() {
    local args=(-n -r "$1" -o vrrp.v3_checksum_as_in_v2:FALSE -T fields -E header=y
        -E separator=/t -E occurrence=a -E aggregator=,)
    local f
    for f in "${tshark_fields[@]}"; do args+=(-e "$f"); done
    tshark "${args[@]}" 2>/dev/null
}

[[ $(id -u) -eq 0 ]] || { echo "capture.sh: needs root (network namespaces)" >&2; exit 1; }
for p in ip keepalived tcpdump timeout; do
    command -v "$p" >/dev/null || { echo "capture.sh: $p not installed" >&2; exit 1; }
done

work="$(mktemp -d /tmp/lvs-capture.XXXXXX)"
nsa="lvs-cap-$$-a"
nsb="lvs-cap-$$-b"
pids=()

teardown() {
    local p ns
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait_exit "$p" 30 || true; done
    for ns in "$nsa" "$nsb"; do
        if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
            # Only processes started by this script live in these namespaces.
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
cleanup() {
    teardown
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE PATTERN TENTHS: poll FILE for PATTERN for at most TENTHS * 0.1 s.
wait_for() {
    local i
    for ((i = 0; i < $3; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "capture.sh: timed out waiting for '$2' in $1" >&2
    cat "$1" >&2 || true
    return 1
}

# wait_exit PID TENTHS: wait for a child to exit, at most TENTHS * 0.1 s.
wait_exit() {
    local i
    for ((i = 0; i < $2; i++)); do
        kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    return 1
}

setup_namespaces() {
    ip netns add "$nsa"
    ip netns add "$nsb"
    ip link add eth0 netns "$nsa" address 02:00:00:00:00:0a type veth \
        peer name eth0 netns "$nsb" address 02:00:00:00:00:0b
    local ns n
    for n in 1 2; do
        if [[ $n == 1 ]]; then ns=$nsa; else ns=$nsb; fi
        ip -n "$ns" link set lo up
        # No EUI-64 link-local: fixed ones below, so the captures are reproducible.
        ip -n "$ns" link set eth0 addrgenmode none
        ip -n "$ns" link set eth0 up
        ip -n "$ns" addr add "192.0.2.$n/24" dev eth0
        ip -n "$ns" -6 addr add "2001:db8::$n/64" dev eth0 nodad
        ip -n "$ns" -6 addr add "fe80::$n/64" dev eth0 nodad
    done
}

capture_one() {
    local name=$1 conf=$2 ifc=$3 mode=$4
    local pcap="$work/$name.pcap" tlog="$work/$name.tcpdump.log" klog="$work/$name.keepalived.log"
    local run="$work/$name.run" count=100
    mkdir "$run"
    [[ $mode == count:* ]] && count=${mode#count:}

    setup_namespaces
    local linktype=()
    if [[ $ifc == *:* ]]; then
        linktype=(-y "${ifc#*:}")
        ifc=${ifc%%:*}
    fi
    ip netns exec "$nsb" timeout 20 tcpdump -Z root -U -n -i "$ifc" "${linktype[@]}" -c "$count" -w "$pcap" \
        'ip proto 112 or ip6 proto 112' 2>"$tlog" &
    local tpid=$!
    pids+=("$tpid")
    wait_for "$tlog" "listening on" 50

    ip netns exec "$nsa" keepalived -n -l -D -G -P -f "$here/$conf" \
        -p "$run/keepalived.pid" -r "$run/vrrp.pid" -c "$run/checkers.pid" -b "$run/bfd.pid" \
        >"$klog" 2>&1 &
    local kpid=$!
    pids+=("$kpid")

    if [[ $mode == sigterm ]]; then
        # Two adverts as MASTER, then SIGTERM: keepalived sends the priority-0 advert on the way out.
        wait_for "$klog" "Entering MASTER STATE" 100
        sleep 1.5
        kill -TERM "$kpid"
        wait_exit "$kpid" 50 || { echo "capture.sh: keepalived did not stop" >&2; return 1; }
        grep -q "sent 0 priority" "$klog" || { echo "capture.sh: no priority-0 advert" >&2; return 1; }
        sleep 0.3
        kill -INT "$tpid" 2>/dev/null || true
    fi
    wait_exit "$tpid" 200 || { echo "capture.sh: tcpdump did not finish" >&2; return 1; }
    grep -q "packets captured" "$tlog" || { cat "$tlog" >&2; return 1; }
    teardown

    cp "$pcap" "$out/$name.pcap"
    if command -v tshark >/dev/null; then
        tshark_tsv "$out/$name.pcap" >"$out/$name.tshark.tsv"
    fi
    echo "$name: $(grep 'packets captured' "$tlog")"
}

wanted=("$@")
for spec in "${captures[@]}"; do
    read -r name conf ifc mode <<<"$spec"
    if [[ ${#wanted[@]} -gt 0 ]] && ! printf '%s\n' "${wanted[@]}" | grep -qx "$name"; then
        continue
    fi
    capture_one "$name" "$conf" "$ifc" "$mode"
done
