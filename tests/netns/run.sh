#!/usr/bin/env bash
# Network-fault test of the grid: four `duckton host` processes, each in its own network namespace
# behind a veth pair on a bridge, with `tc netem delay 5ms loss 1%` on every link (kernels without netem: 1% random
# loss each way from nftables and a tbf rate cap, no fixed delay); a requester in the root namespace
# joins by seed and runs verified queries (replicas 3, quorum 2), one with a SIMULATED cheater among the hosts and
# one whose first-fetched host SIGKILLs itself mid-stream. Checks every answer; cleans up on any exit.
#
# Needs root (ip netns, tc). Usage:  sudo tests/netns/run.sh
# DUCKTON overrides the command used to run the CLI (default: the repository's ./duckton wrapper, which builds it).
# Exit status: 0 = passed, 1 = a check failed, 2 = cannot run here (not root, no ip/tc, no netns support).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
read -r -a DUCKTON <<<"${DUCKTON:-$root/duckton}"
tag="dk$$"
net=10.213.77
bridge="${tag}br"
work=$(mktemp -d /tmp/duckton-netns-XXXXXX)
pids=()
log() { printf 'netns: %s\n' "$*" >&2; }
skip() { log "cannot run: $*"; exit 2; }

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces and tc); run with sudo"
if ! command -v ip >/dev/null 2>&1 || ! command -v tc >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing iproute2"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2) >/dev/null 2>&1 || skip "could not install iproute2"
  else
    skip "ip/tc (iproute2) not found"
  fi
fi

cleanup() {
  set +e
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for i in 1 2 3 4; do ip netns del "${tag}n$i" 2>/dev/null; ip link del "${tag}v$i" 2>/dev/null; done
  ip link del "$bridge" 2>/dev/null
  if [ "${KEEP_NETNS_LOGS:-0}" != 1 ]; then rm -rf "$work"; else log "logs kept in $work"; fi
}
trap cleanup EXIT INT TERM

ip netns add "${tag}probe" 2>/dev/null || skip "ip netns add failed (no CAP_SYS_ADMIN or no netns support)"
ip netns del "${tag}probe"

netem=1
# Topology: bridge in the root namespace (the requester's side), one namespace per host.
ip link add "$bridge" type bridge
ip addr add "$net.1/24" dev "$bridge"
ip link set "$bridge" up
for i in 1 2 3 4; do
  ns="${tag}n$i"
  ip netns add "$ns"
  ip link add "${tag}v$i" type veth peer name "${tag}p$i"
  ip link set "${tag}v$i" master "$bridge" up
  ip link set "${tag}p$i" netns "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "${tag}p$i" name eth0
  ip -n "$ns" addr add "$net.$((10 + i))/24" dev eth0
  ip -n "$ns" link set eth0 up
  # Delay and loss on both ends of the host's link, so every packet in either direction is delayed and may be lost.
  if [ $netem = 1 ] && ! ip netns exec "$ns" tc qdisc add dev eth0 root netem delay 5ms loss 1% 2>"$work/tc.err"; then
    netem=0
  fi
  if [ $netem = 1 ]; then tc qdisc add dev "${tag}v$i" root netem delay 5ms loss 1%; fi
done
if [ $netem = 0 ]; then
  [ "${NETNS_REQUIRE_NETEM:-0}" = 1 ] && skip "tc netem is not available in this kernel ($(cat "$work/tc.err")); NETNS_REQUIRE_NETEM=1"
  # Without netem: random loss from nftables (numgen) in every host namespace, both directions, and a token-bucket
  # rate cap (tbf: queueing delay when a result saturates the link). A fixed per-packet delay needs netem.
  if ! command -v nft >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables) >/dev/null 2>&1 || true
  fi
  loss=0
  if command -v nft >/dev/null 2>&1; then
    loss=1
    for i in 1 2 3 4; do
      ns="${tag}n$i"
      ip netns exec "$ns" nft -f - <<'NFT' 2>"$work/nft.err" || loss=0
table inet duckton_loss {
  chain in { type filter hook input priority 0; numgen random mod 100 < 1 counter drop; }
  chain out { type filter hook output priority 0; numgen random mod 100 < 1 counter drop; }
}
NFT
      ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate 200mbit burst 256kb latency 20ms 2>>"$work/tc.err" || true
    done
  fi
  if [ $loss = 1 ]; then
    log "WARNING: tc netem is not available in this kernel ($(cat "$work/tc.err" | head -1)): links get 1% random loss each way (nftables numgen) and a 200 Mbit/s token bucket (tbf) instead; no fixed delay"
  else
    log "WARNING: tc netem is not available in this kernel and nftables could not be used ($(cat "$work/nft.err" 2>/dev/null | head -1)): running over namespaces WITHOUT delay and loss"
  fi
else
  log "links: netem delay 5ms loss 1% on both ends"
fi
# Bridged traffic must not be dropped by a host firewall's FORWARD policy.
if [ -w /proc/sys/net/bridge/bridge-nf-call-iptables ]; then echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables || true; fi

# Hosts: h1 honest (the seed), h2 honest but 1 s slower to commit, h3 cheats, h4 SIGKILLs itself mid-stream.
start_host() { # index name extra-args...
  local i=$1 name=$2; shift 2
  "${DUCKTON[@]}" --version >/dev/null 2>&1 || true
  ip netns exec "${tag}n$i" "${DUCKTON[@]}" host --config-dir "$work/$name" --listen "$net.$((10 + i)):9494" \
    --memory 2GB --threads 2 --max-jobs 4 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  disown "$!"
  eval "pid_$name=$!"
}
wait_ready() { # name
  local n=0
  until grep -q '^ready ' "$work/$1.out" 2>/dev/null; do
    n=$((n + 1)); [ $n -lt 300 ] || { log "host $1 did not start:"; cat "$work/$1.err" >&2; exit 1; }
    sleep 0.1
  done
  sed -n 's/^ready node_id=\([^ ]*\) .*/\1/p' "$work/$1.out"
}
"${DUCKTON[@]}" --help >/dev/null # build once before timing anything
start_host 1 h1
id1=$(wait_ready h1)
start_host 2 h2 --seed "$net.11:9494" --simulate-commit-delay-ms 1000
start_host 3 cheater --seed "$net.11:9494" --simulate cheat
start_host 4 dier --seed "$net.11:9494" --simulate die-stream
id2=$(wait_ready h2); id3=$(wait_ready cheater); id4=$(wait_ready dier)
log "hosts up: h1 $id1, h2 $id2 (slow commit), cheater $id3, dier $id4"

rq=("${DUCKTON[@]}" sql --config-dir "$work/requester" --format csv)
fails=0
check() { # description expected actual
  if [ "$2" = "$3" ]; then log "ok: $1"; else log "FAIL: $1: expected '$2', got '$3'"; fails=$((fails + 1)); fi
}
nodes() { local s="" x; for x in "$@"; do s+="${s:+, }'$x'"; done; printf '[%s]' "$s"; }

"${rq[@]}" -c "SELECT * FROM p2p_join(bootstrap => ['$net.11:9494'])" >"$work/join.csv"
peers=$(sed -n 's/^join,peers,//p' "$work/join.csv")
check "joined by seed and learned every host through gossip" 4 "$peers"

# 1. Verified query with a cheater among the three hosts: the honest answer, verified, never from the cheater.
sql="SELECT range AS i, range * 3 AS v FROM range(50000)"
out=$("${rq[@]}" -c "SELECT count(*) || '/' || sum(v) FROM p2p_query('$sql', prefer => 'remote', replicas => 3, quorum => 2, nodes => $(nodes "$id1" "$id2" "$id3"))" | tail -1)
check "cheater among k=3: rows and sum" "50000/3749925000" "$out"
meta=$("${rq[@]}" -c "SELECT key || '=' || coalesce(value, '') FROM p2p_query_meta('$sql', prefer => 'remote', replicas => 3, quorum => 2, nodes => $(nodes "$id1" "$id2" "$id3")) WHERE key IN ('verified', 'winner', 'agreement')")
check "cheater among k=3: verified" "verified=true" "$(grep '^verified=' <<<"$meta")"
winner=$(sed -n 's/^winner=//p' <<<"$meta")
[ "$winner" != "$id3" ] && [ -n "$winner" ] && log "ok: winner is not the cheater" || { log "FAIL: winner '$winner' is the cheater or empty"; fails=$((fails + 1)); }

# 2. The dier commits first (h2 is 1 s slower), is fetched first, and SIGKILLs itself after its first batch frame. On a
# loaded machine h1 may commit before the dier and be fetched instead (the query still verifies without the dier ever
# streaming): then the same query runs again, up to fifteen times, until the dier has been fetched from. Every run keeps h1
# and h2 for the quorum, because the dier can die before its commit arrives: it SIGKILLs itself after the first batch of
# any result it sends, and an audit canary the requester sends it beside the query (rows inline with the commit) is
# enough (a run with only the dier and h2 once ended at agreement 1/2, the dier "closed the connection" before committing).
sql="SELECT range AS i FROM range(400000)"
for attempt in $(seq 1 15); do
  out=$("${rq[@]}" -c "SELECT count(*) || '/' || sum(i) FROM p2p_query('$sql', prefer => 'remote', replicas => 3, quorum => 2, nodes => $(nodes "$id4" "$id2" "$id1"))" | tail -1)
  check "host killed mid-stream (run $attempt): rows and sum" "400000/79999800000" "$out"
  for _ in $(seq 1 50); do kill -0 "$pid_dier" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid_dier" 2>/dev/null || break
done
if kill -0 "$pid_dier" 2>/dev/null; then log "FAIL: the dying host was never fetched from"; fails=$((fails + 1)); else log "ok: the dying host was killed mid-stream and the query still verified"; fi

# 3. With the dier gone, a plain verified query over the surviving hosts still works across the lossy links.
out=$("${rq[@]}" -c "SELECT answer FROM p2p_query('SELECT 42 AS answer', prefer => 'remote', replicas => 3, quorum => 2, nodes => $(nodes "$id1" "$id2" "$id3"))" | tail -1)
check "verified small query after the kill" 42 "$out"

if [ "${loss:-0}" = 1 ]; then
  dropped=0
  for i in 1 2 3 4; do
    n=$(ip netns exec "${tag}n$i" nft list table inet duckton_loss 2>/dev/null | grep -o 'packets [0-9]*' | awk '{s += $2} END {print s + 0}')
    dropped=$((dropped + n))
  done
  log "packets dropped by the loss rules during the run: $dropped"
fi
if [ $fails -ne 0 ]; then log "$fails check(s) failed; host logs:"; for f in "$work"/*.err; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; fi
log "passed"
