#!/usr/bin/env bash
# One BlockTorrent seed and N targets, each in its own network namespace, on a bridge that lives in a namespace too
# (nothing is added to the host's own namespace). Every link is limited with tbf in both directions (netem is not
# available). Prints each target's completion time against the fluid bound (the time for the seed to upload the
# image once at its link rate) and how much the seed uploaded.
#
#   sudo benchmarks/swarm/netns-swarm.sh [--targets 8] [--rate 50] [--slow-rate 10] [--size 256MiB]
#                                        [--piece-size 256KiB] [--no-super-seed] [--dir /dev/shm] [--timeout 300]
#                                        [--switch-queue 50ms] [--ready-to-run | --native-aot]
#                                        [--congestion-control cubic|reno|bbr|system]
#                                        [--trace-ms MS] [--warm-up] [--keep-logs DIR] [--tls]
#                                        [--compressible] [--compress]
#
# --compressible makes an image of text, binary records, random bytes and zero runs (about 3:1 with zstd) instead of
# random bytes; --compress then moves it as a seekable compressed image (docs/COMPRESSED-IMAGES.md): the seed serves
# image.raw.btz and every target decodes the pieces onto its raw image. The bound stays the raw image's.
#
# --tls makes it a TLS swarm (the manifest names a swarm authority; every node presents a certificate it signed), so
# two runs, with and without it, show what TLS costs.
#
# Every node's TCP uses --congestion-control (cubic, Linux's usual default, unless told otherwise; "system" keeps
# whatever the host's default is, which a child namespace inherits and, in some containers, may not change).
#
# --trace-ms has every node print the library's byte, piece and peer counters every MS milliseconds, and ends the run
# with benchmarks/swarm/trace-summary.py over them: when each node got going, the swarm's rate over the first and last
# seconds, and how the last target's time splits into waiting, the image at its steady rate, and ramp and tail.
#
# --rate and --slow-rate are Mbit/s; --slow-rate puts the last target on a slower link and reports the fast targets
# separately (they must not wait for it). Namespaces are named btsw<PID>-*, addresses are 10.77.0.0/24 inside them;
# everything (processes by PID, namespaces by name, files) is removed on exit.
set -euo pipefail

make=() seed_file=image.raw trace=0 cc=cubic nic_queue=1514000 switch_queue=50ms compile=jit targets=8 rate=50 slow_rate=0 size=256MiB piece=256KiB super=--super-seed root=/dev/shm timeout=300 keep="" warm="" extra=() tls=()
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
    --switch-queue) switch_queue=$2; shift 2 ;;
    --ready-to-run) compile=r2r; shift ;;
    --native-aot) compile=aot; shift ;;
    --congestion-control) cc=$2; shift 2 ;;
    --queue-time) extra+=(--queue-time "$2"); shift 2 ;;
    --trace-ms) trace=1; extra+=(--trace-ms "$2"); shift 2 ;;
    --warm-up) extra+=(--warm-up); warm=" warmed up"; shift ;;
    --compressible) make+=(--compressible); shift ;;
    --compress) make+=(--compress); seed_file=image.raw.btz; shift ;;
    --tls) tls=(--tls); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
[ "$cc" != system ] && extra+=(--congestion-control "$cc")
repo=$(cd "$(dirname "$0")/../.." && pwd)
bench=$repo/benchmarks/BlockTorrent.Benchmarks/bin/Release/net10.0/BlockTorrent.Benchmarks
if [ "$compile" = aot ]; then
  # Compiled ahead of time to native code, as a deployment agent would be shipped: no JIT at all, so a cold start
  # is as quick as a warm one. Needs clang (Debian: apt-get install clang). The libraries are IsAotCompatible (their
  # trim and AOT analyzer warnings fail the normal build); BenchmarkDotNet, linked into the same executable, is not,
  # so its warnings are not errors here (the peer command never calls into it).
  linker=()
  if ! command -v clang >/dev/null; then
    cc_path=$(ls /usr/bin/clang-[0-9]* 2>/dev/null | grep -E 'clang-[0-9]+$' | sort -V | tail -n 1 || true)
    [ -n "$cc_path" ] || { echo "--native-aot needs clang (apt-get install clang)" >&2; exit 2; }
    linker=(-p:CppCompilerAndLinker="$(basename "$cc_path")")
  fi
  bench=$repo/benchmarks/BlockTorrent.Benchmarks/bin/aot/BlockTorrent.Benchmarks
  dotnet publish -c Release -r linux-x64 -p:PublishAot=true -p:TreatWarningsAsErrors=false "${linker[@]}" \
    -o "$(dirname "$bench")" "$repo/benchmarks/BlockTorrent.Benchmarks" >/dev/null
elif [ "$compile" = r2r ]; then
  # Precompiled (ReadyToRun), as a tool would be published: nine processes starting at once on a few cores otherwise
  # spend the first second JIT-compiling the same code.
  bench=$repo/benchmarks/BlockTorrent.Benchmarks/bin/r2r/BlockTorrent.Benchmarks
  dotnet publish -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
    -o "$(dirname "$bench")" "$repo/benchmarks/BlockTorrent.Benchmarks" >/dev/null
elif [ ! -x "$bench" ]; then
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
"$bench" make-image --out "$work" --size "$size" --piece-size "$piece" "${make[@]}" "${tls[@]}" >/dev/null
[ ${#tls[@]} -gt 0 ] && extra+=(--tls-cert "$work/peer.pem" --tls-key "$work/peer.key.pem")
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
  # Upload (node -> bridge) and download (bridge -> node) each limited to the link rate. The upload side stands for
  # the node's own NIC: a queue of 1000 full-size packets, like Linux's default txqueuelen, so a sender is held back
  # (TCP small queues) rather than dropped, as on a real host. The download side stands for a switch port: a shallow
  # buffer (--switch-queue of drain time, 50 ms by default) where incast from many senders does drop packets.
  ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "${mbit}mbit" burst 64kb limit "${nic_queue}"
  ip netns exec "$bridge_ns" tc qdisc add dev "p$i" root tbf rate "${mbit}mbit" burst 64kb latency "${switch_queue}"
}

add_node 0 "$rate"
for i in $(seq 1 "$targets"); do
  if [ "$slow_rate" != 0 ] && [ "$i" = "$targets" ]; then add_node "$i" "$slow_rate"; else add_node "$i" "$rate"; fi
done

ip netns exec "$prefix-n0" "$bench" peer seed --torrent "$work/image.torrent" --image "$work/$seed_file" \
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
# Poll cheaply: one grep over the fast targets' logs twice a second (the completion times come from the logs, not
# from this loop). The emulated nodes share this machine's cores; a busier loop here would take CPU from them.
fast_logs=()
for i in $(seq 1 "$fast"); do fast_logs+=("$work/t$i.log"); done
deadline=$(( EPOCHSECONDS + timeout ))
while :; do
  done_count=$( (grep -l '"complete"' "${fast_logs[@]}" 2>/dev/null || true) | wc -l)
  [ "$done_count" = "$fast" ] && break
  if [ "$EPOCHSECONDS" -ge "$deadline" ]; then echo "timeout: $done_count of $fast fast targets complete" >&2; break; fi
  sleep 0.5
done

bound=$(awk -v b="$bytes" -v r="$rate" 'BEGIN { printf "%.1f", b * 8 / (r * 1e6) }')
echo "netns swarm: 1 seed + $targets targets, links ${rate} Mbit/s$([ "$slow_rate" != 0 ] && echo ", target $targets at ${slow_rate} Mbit/s"), $size in $piece pieces, seed ${super:-normal}, TCP $([ "$cc" = system ] && cat /proc/sys/net/ipv4/tcp_congestion_control || echo "$cc"), code $compile$warm; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
worst=0
for i in $(seq 1 "$targets"); do
  line=$(grep '"complete"' "$work/t$i.log" | head -1 || true)
  if [ -z "$line" ]; then echo "target $i: not complete"; continue; fi
  t=$(echo "$line" | sed -E 's/.*"complete_unix_ms":([0-9]+).*/\1/')
  s=$(awk -v t="$t" -v s="$start_ms" 'BEGIN { printf "%.1f", (t - s) / 1000 }')
  echo "target $i: complete after $s s ($(awk -v s="$s" -v b="$bound" 'BEGIN { printf "%.2f", s / b }') x bound)"
  if [ "$i" -le "$fast" ]; then worst=$(awk -v a="$worst" -v b="$s" 'BEGIN { print (b > a ? b : a) }'); fi
done
# CPU time (user + system, clock ticks) of the seed and the targets up to now: the emulated LAN shares this machine's
# cores, so CPU per byte moved decides how close to the link rate the swarm can run.
ticks=$(getconf CLK_TCK)
user=0 sys=0
for pid in "${pids[@]}"; do
  read -r u s < <(awk '{ print $14, $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0 0)
  user=$((user + u)) sys=$((sys + s))
done
echo "CPU of the seed and targets so far: $(awk -v u="$user" -v s="$sys" -v t="$ticks" 'BEGIN { printf "%.1f s user + %.1f s system", u / t, s / t }') on $(nproc) cores"
# TCP segments sent and retransmitted, over the seed and every target (drops at the emulated links cost resends).
out_segs=0 retrans=0
for i in $(seq 0 "$targets"); do
  read -r o r < <(ip netns exec "$prefix-n$i" nstat -az TcpOutSegs TcpRetransSegs 2>/dev/null | awk '$1 == "TcpOutSegs" { o = $2 } $1 == "TcpRetransSegs" { r = $2 } END { print o + 0, r + 0 }')
  out_segs=$((out_segs + o)) retrans=$((retrans + r))
done
up_drops=0 down_drops=0
for i in $(seq 0 "$targets"); do
  u=$(ip netns exec "$prefix-n$i" tc -s qdisc show dev eth0 | sed -nE 's/.*dropped ([0-9]+).*/\1/p' | head -1)
  d=$(ip netns exec "$bridge_ns" tc -s qdisc show dev "p$i" | sed -nE 's/.*dropped ([0-9]+).*/\1/p' | head -1)
  up_drops=$((up_drops + ${u:-0})) down_drops=$((down_drops + ${d:-0}))
done
echo "links dropped $up_drops packets on the way up (node queues) and $down_drops on the way down (switch ports)"
echo "TCP: $retrans of $out_segs segments retransmitted ($(awk -v r="$retrans" -v o="$out_segs" 'BEGIN { printf "%.1f", o ? 100 * r / o : 0 }') %)"
sent=$(ip netns exec "$prefix-n0" tc -s qdisc show dev eth0 | sed -nE 's/.*Sent ([0-9]+) bytes.*/\1/p' | head -1)
echo "fluid bound $bound s; last of the $fast fast targets at $worst s = $(awk -v w="$worst" -v b="$bound" 'BEGIN { printf "%.2f", w / b }') x bound (goal <= 1.10)"
[ "$seed_file" != image.raw ] && echo "compressed: $(stat -c %s "$work/$seed_file") bytes on the wire for the $bytes-byte raw image"
echo "seed sent $(awk -v s="$sent" -v b="$bytes" 'BEGIN { printf "%.2f", s / b }') x the image on the wire ($sent bytes, headers included)"
if [ "$trace" = 1 ]; then python3 "$repo/benchmarks/swarm/trace-summary.py" "$work" "$bytes"; fi
