#!/usr/bin/env bash
# One BlockTorrent seed and N targets, each in its own network namespace, on a bridge that lives in a namespace too
# (nothing is added to the host's own namespace). Every link is limited with tbf in both directions (netem is not
# available). Prints each target's completion time against the fluid bound (the time for the seed to upload the
# image once at its link rate) and how much the seed uploaded.
#
#   sudo benchmarks/swarm/netns-swarm.sh [--targets 8] [--rate 50] [--slow-rate 10] [--size 256MiB]
#                                        [--piece-size 256KiB] [--no-super-seed] [--dir /dev/shm] [--timeout 300]
#                                        [--keep-logs DIR]
#
# --rate and --slow-rate are Mbit/s; --slow-rate puts the last target on a slower link and reports the fast targets
# separately (they must not wait for it). Namespaces are named btsw<PID>-*, addresses are 10.77.0.0/24 inside them;
# everything (processes by PID, namespaces by name, files) is removed on exit.
set -euo pipefail

targets=8 rate=50 slow_rate=0 size=256MiB piece=256KiB super=--super-seed root=/dev/shm timeout=300 keep="" extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) targets=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --slow-rate) slow_rate=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --piece-size) piece=$2; shift 2 ;;
    --no-super-seed) super=""; shift ;;
    --dir) root=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --keep-logs) keep=$2; shift 2 ;;
    --queue-time) extra+=(--queue-time "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
bench=$repo/benchmarks/BlockTorrent.Benchmarks/bin/Release/net10.0/BlockTorrent.Benchmarks
if [ ! -x "$bench" ]; then
  dotnet build -c Release "$repo/benchmarks/BlockTorrent.Benchmarks" >/dev/null
fi

prefix=btsw$$
work=$root/$prefix
bridge_ns=$prefix-br
namespaces=()
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$work"/*.log "$keep"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work"
"$bench" make-image --out "$work" --size "$size" --piece-size "$piece" >/dev/null
bytes=$(stat -c %s "$work/image.raw")

ip netns add "$bridge_ns"; namespaces+=("$bridge_ns")
ip -n "$bridge_ns" link add br0 type bridge
ip -n "$bridge_ns" link set br0 up

# Node 0 is the seed, 1..N the targets; node i is 10.77.0.(i+1) on the link "eth0", bridge port "p<i>".
add_node() {
  local i=$1 mbit=$2 ns=$prefix-n$1
  ip netns add "$ns"; namespaces+=("$ns")
  ip -n "$ns" link set lo up
  ip -n "$ns" link add eth0 type veth peer name "p$i" netns "$bridge_ns"
  ip -n "$ns" addr add "10.77.0.$((i + 1))/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$bridge_ns" link set "p$i" master br0 up
  # Upload (node -> bridge) and download (bridge -> node) each limited to the link rate.
  ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "${mbit}mbit" burst 64kb latency 50ms
  ip netns exec "$bridge_ns" tc qdisc add dev "p$i" root tbf rate "${mbit}mbit" burst 64kb latency 50ms
}

add_node 0 "$rate"
for i in $(seq 1 "$targets"); do
  if [ "$slow_rate" != 0 ] && [ "$i" = "$targets" ]; then add_node "$i" "$slow_rate"; else add_node "$i" "$rate"; fi
done

ip netns exec "$prefix-n0" "$bench" peer seed --torrent "$work/image.torrent" --image "$work/image.raw" \
  --listen 10.77.0.1:6881 $super --progress "${extra[@]}" > "$work/seed.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do grep -q '"port"' "$work/seed.log" 2>/dev/null && break; sleep 0.05; done

# Every target process starts now, and all begin deploying at start_ms, once they are up: the measurement covers
# the deployment, not .NET start-up on a loaded machine.
start_ms=$(( $(date +%s%3N) + 5000 ))
for i in $(seq 1 "$targets"); do
  peers=(--peer 10.77.0.1:6881)
  for j in $(seq 1 "$targets"); do [ "$j" != "$i" ] && peers+=(--peer "10.77.0.$((j + 1)):6881"); done
  ip netns exec "$prefix-n$i" "$bench" peer deploy --torrent "$work/image.torrent" --target "$work/t$i.raw" \
    --listen "10.77.0.$((i + 1)):6881" "${peers[@]}" --seed-after 3600 --progress --start-at "$start_ms" "${extra[@]}" > "$work/t$i.log" 2>&1 &
  pids+=($!)
done

fast=$targets
[ "$slow_rate" != 0 ] && fast=$((targets - 1))
deadline=$(( $(date +%s) + timeout ))
while :; do
  done_count=0
  for i in $(seq 1 "$fast"); do grep -q '"complete"' "$work/t$i.log" && done_count=$((done_count + 1)); done
  [ "$done_count" = "$fast" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "timeout: $done_count of $fast fast targets complete" >&2; break; fi
  sleep 0.2
done

bound=$(awk -v b="$bytes" -v r="$rate" 'BEGIN { printf "%.1f", b * 8 / (r * 1e6) }')
echo "netns swarm: 1 seed + $targets targets, links ${rate} Mbit/s$([ "$slow_rate" != 0 ] && echo ", target $targets at ${slow_rate} Mbit/s"), $size in $piece pieces, seed ${super:-normal}; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
worst=0
for i in $(seq 1 "$targets"); do
  line=$(grep '"complete"' "$work/t$i.log" | head -1 || true)
  if [ -z "$line" ]; then echo "target $i: not complete"; continue; fi
  t=$(echo "$line" | sed -E 's/.*"complete_unix_ms":([0-9]+).*/\1/')
  s=$(awk -v t="$t" -v s="$start_ms" 'BEGIN { printf "%.1f", (t - s) / 1000 }')
  echo "target $i: complete after $s s ($(awk -v s="$s" -v b="$bound" 'BEGIN { printf "%.2f", s / b }') x bound)"
  if [ "$i" -le "$fast" ]; then worst=$(awk -v a="$worst" -v b="$s" 'BEGIN { print (b > a ? b : a) }'); fi
done
sent=$(ip netns exec "$prefix-n0" tc -s qdisc show dev eth0 | sed -nE 's/.*Sent ([0-9]+) bytes.*/\1/p' | head -1)
echo "fluid bound $bound s; last of the $fast fast targets at $worst s = $(awk -v w="$worst" -v b="$bound" 'BEGIN { printf "%.2f", w / b }') x bound (goal <= 1.10)"
echo "seed sent $(awk -v s="$sent" -v b="$bytes" 'BEGIN { printf "%.2f", s / b }') x the image on the wire ($sent bytes, headers included)"
