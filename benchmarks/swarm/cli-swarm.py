#!/usr/bin/env python3
"""The swarm as a user runs it: 1 seed + N targets, the `blocktorrent` command as shipped, and udpcast beside it.

Every node is its own network namespace on a bridge that lives in a namespace too (nothing is added to the host's own
namespace). Each link is shaped in both directions with tbf: a host's upload at its NIC (eth0; a queue of 1000
full-size packets, Linux's default txqueuelen), a host's download at its switch port (the bridge's port towards it; a
queue of --switch-queue drain time, 50 ms by default, where incast from several senders drops packets). TCP runs the
system's default congestion control (whatever net.ipv4.tcp_congestion_control says; nothing is set per node).

BlockTorrent runs exactly as a user would run it: the CLI published ahead of time (`dotnet publish -p:PublishAot=true`,
as .ci/run and the README build it), manifests made by `blocktorrent create IMAGE -o X.torrent` with no option but
--piece-size where a setup names one, `blocktorrent seed X.torrent --source IMAGE --embedded-tracker ADDR` and on
every target `blocktorrent deploy X.torrent --target FILE --tracker URL --seed-after forever`: peers found through
the tracker only. udpcast (udp-sender/udp-receiver, multicast, `apt-get install udpcast`) is the reference when it is
installed.

Setups (--setups, comma-separated): `udpcast`; `create` (the piece size `create` picks); a piece size such as `256KiB`,
`1MiB`, `4MiB`; any of the BlockTorrent ones with `/super` to add the seed's --super-seed, `/plain` for its
--no-super-seed (the seed's default is to super-seed the peers that pass pieces on), `/verbose` for its --verbose (its
debug log in seed.log, kept with --keep-logs: connections, and peers the super-seed opens), `/NAME` to run the CLI given
by --cli-alt NAME=PATH instead (a build with a change, against the current one in the same run), or `/nomap` to strip the block map
(the zero and repeated 16 KiB blocks inside pieces, `blocktorrent blocks`, outside the info dictionary) from the
.torrent `create` made, so targets fetch whole pieces as before it existed: the same run compares both; `/zst` to compress
the image with `zstd -3` and deploy that stream (`create IMAGE.zst`, the seed's --source the .zst; the default seed
offers a stream target only pieces inside the decoder window it tells, see docs/COMPRESSED-IMAGES.md), or `/btz` to
deploy the seekable image `create --compress zstd` writes (IMAGE.btz, the seed's --source), with `/scratch64MiB` (any size) for the targets' --scratch-size;
`libtorrent` runs libtorrent 2 (python3-libtorrent under /usr/bin/python3, benchmarks/scripts/lt_peer.py, default
settings) on the manifest `create` picks, or `libtorrent/256KiB` on that piece size's: one seed, every target told
every other node's address, seeding on once complete. Images
(--images): `dense` (random bytes), `sparse` (runs of 64 KiB to 4 MiB, 64 KiB-aligned: half the bytes zero, 15 % copies of
earlier runs, the rest random) and `mixed` (about 2.9:1 under zstd -3: 15 % random, 10 % zeros, 75 % text-like lines). Every setup runs on every image, --runs times, setups alternating within each round so a
busy machine weighs on all alike. Each run reports every target's completion time (from the targets' start to its
`complete` event, final flush included), each target's CPU when it completed and its scratch peak (the deploy's JSON
`result`, scratchPeakBytes), against the fluid bound (the image sent once at the link rate), the seed's
bytes on the wire, the processes' CPU (user + system of the seed and every target) and that CPU per GiB moved
(received + sent: every node's upload at its NIC plus its download at its switch port, as the wire carried them), the
machine's softirq time over the run (/proc/stat and the ksoftirqd threads: the kernel's network work no process is
charged for; machine-wide, so on a shared machine it holds others' work too), drops and retransmissions, and the load average; every target is compared
byte for byte with the image. The summary gives, per image and setup, the median of T_all / bound and its spread.

    sudo benchmarks/swarm/cli-swarm.py [--targets 8 | --targets 2,4,8,16] [--rate 50] [--size 256MiB] [--runs 5]
        [--setups udpcast,create,256KiB,1MiB,4MiB] [--images dense,sparse] [--slow-rate MBIT]
        [--switch-queue 50ms] [--cli PATH] [--cli-alt NAME=PATH ...] [--json FILE] [--dir /var/tmp] [--name PREFIX] [--keep-logs DIR]

--targets with several counts runs every count in turn (a lab of its own each), for how T_all / bound scales with N.
--slow-rate MBIT puts the last target on a link of that rate; T_all and the ratio are then the other targets'.

Namespaces are named PREFIX-* (btcs<PID> unless --name), addresses are 10.78.0.0/24 inside them; every process is
stopped by its PID and every namespace and file removed on exit.
"""

import argparse
import datetime
import itertools
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

from benchlib import MIB, parse_size

TRACKER_PORT = 6969


def run(*args, check=True, quiet=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE if quiet else None,
                          stderr=subprocess.PIPE if quiet else None, text=True)


def ns_run(ns, *args, check=True):
    return run("ip", "netns", "exec", ns, *args, check=check)


class Lab:
    """The namespaces, links and processes of one invocation, all removed by close()."""

    def __init__(self, prefix, targets, rate, slow_rate, switch_queue):
        self.prefix = prefix
        self.bridge = f"{prefix}-br"
        self.namespaces = []
        self.procs = []
        self.targets = targets
        run("ip", "netns", "add", self.bridge)
        self.namespaces.append(self.bridge)
        run("ip", "-n", self.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        run("ip", "-n", self.bridge, "link", "set", "br0", "up")
        for i in range(targets + 1):
            mbit = slow_rate if slow_rate and i == targets else rate
            self.add_node(i, mbit, switch_queue)

    def ns(self, i):
        return f"{self.prefix}-n{i}"

    @staticmethod
    def address(i):
        return f"10.78.0.{i + 1}"

    def add_node(self, i, mbit, switch_queue):
        ns = self.ns(i)
        run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", f"p{i}", "netns", self.bridge)
        run("ip", "-n", ns, "addr", "add", f"{self.address(i)}/24", "brd", "+", "dev", "eth0")  # udpcast finds its peers by broadcast
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        # Multicast (udpcast) leaves through eth0.
        run("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
        run("ip", "-n", self.bridge, "link", "set", f"p{i}", "master", "br0", "up")
        # Runs must not inherit each other's ssthresh and round trips through the TCP metrics cache.
        ns_run(ns, "sysctl", "-q", "-w", "net.ipv4.tcp_no_metrics_save=1")
        # Upload at the host's NIC (a queue of 1000 full-size packets: the sender is held back by TCP small queues,
        # as on a real host), download at the switch port (a shallow queue of drain time).
        ns_run(ns, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", f"{mbit}mbit", "burst", "64kb", "limit", "1514000")
        ns_run(self.bridge, "tc", "qdisc", "add", "dev", f"p{i}", "root", "tbf", "rate", f"{mbit}mbit", "burst", "64kb", "latency", switch_queue)

    def start(self, i, args, log):
        out = open(log, "w", encoding="utf-8")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(i), *args], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def counters(self):
        """Drops, sent bytes and TCP segments per node, to take differences around a run."""
        c = {"up_drops": 0, "down_drops": 0, "out_segs": 0, "retrans": 0, "seed_sent": 0, "sent_all": 0, "delivered_all": 0}
        for i in range(self.targets + 1):
            up = ns_run(self.ns(i), "tc", "-s", "qdisc", "show", "dev", "eth0").stdout
            down = ns_run(self.bridge, "tc", "-s", "qdisc", "show", "dev", f"p{i}").stdout
            c["up_drops"] += int(re.search(r"dropped (\d+)", up).group(1))
            c["down_drops"] += int(re.search(r"dropped (\d+)", down).group(1))
            sent = int(re.search(r"Sent (\d+) bytes", up).group(1))
            if i == 0:
                c["seed_sent"] = sent
            c["sent_all"] += sent
            c["delivered_all"] += int(re.search(r"Sent (\d+) bytes", down).group(1))
            nstat = ns_run(self.ns(i), "nstat", "-az", "TcpOutSegs", "TcpRetransSegs").stdout
            for line in nstat.splitlines():
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "TcpOutSegs":
                    c["out_segs"] += int(parts[1])
                elif len(parts) >= 2 and parts[0] == "TcpRetransSegs":
                    c["retrans"] += int(parts[1])
        c["softirq_s"] = softirq_seconds()
        return c

    def close(self):
        self.stop_all()
        for ns in reversed(self.namespaces):
            run("ip", "netns", "del", ns, check=False)
        self.namespaces = []


def make_images(work, size, kinds, seed=17):
    """Writes the images the run needs; returns {kind: path}."""
    paths = {}
    rnd = random.Random(seed)
    for kind in kinds:
        path = os.path.join(work, f"{kind}.img")
        with open(path, "wb") as f:
            if kind == "dense":
                left = size
                while left > 0:
                    n = min(left, 4 * MIB)
                    f.write(os.urandom(n))
                    left -= n
            elif kind == "sparse":
                # Runs of 64 KiB to 4 MiB at 64 KiB boundaries: half the bytes zero, 15 % copies of an earlier random
                # run, the rest random. Zero runs are left as holes, as in an image file of a mostly empty disk.
                unit = 64 * 1024
                written = 0
                randoms = []
                while written < size:
                    n = min(size - written, rnd.randint(1, 64) * unit)
                    roll = rnd.random()
                    if roll < 0.5:
                        f.seek(n, os.SEEK_CUR)
                    elif roll < 0.65 and randoms:
                        off, length = rnd.choice(randoms)
                        n = min(n, length)
                        f.flush()
                        with open(path, "rb") as g:
                            g.seek(off)
                            f.write(g.read(n))
                    else:
                        f.flush()
                        randoms.append((written, n))
                        f.write(os.urandom(n))
                    written += n
                f.truncate(size)
            elif kind == "mixed":
                # About 2.9:1 under `zstd -3`: runs of 64 KiB to 1 MiB at 64 KiB boundaries, 15 % random bytes, 10 %
                # zeros (written, not holes) and 75 % text-like lines drawn from 50,000 lines of words (a 4,000-word
                # vocabulary, Zipf-weighted), as logs, sources and documents are.
                vocab = ["".join(rnd.choices("abcdefghijklmnopqrstuvwxyz", k=rnd.randint(2, 10))) for _ in range(4000)]
                cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))
                lines = [(" ".join(rnd.choices(vocab, cum_weights=cum, k=rnd.randint(4, 14))) + "\n").encode() for _ in range(50000)]
                unit = 64 * 1024
                written = 0
                while written < size:
                    n = min(size - written, rnd.randint(1, 16) * unit)
                    roll = rnd.random()
                    if roll < 0.15:
                        f.write(os.urandom(n))
                    elif roll < 0.25:
                        f.write(bytes(n))
                    else:
                        f.write(b"".join(rnd.choices(lines, k=n // 40 + 64))[:n])
                    written += n
            else:
                raise SystemExit(f"unknown image kind {kind}")
        paths[kind] = path
    return paths


def btz_path(image, alt):
    """The seekable image `create --compress` writes for a build: IMAGE.btz, or IMAGE.NAME.btz for --cli-alt NAME."""
    return f"{image}.{alt}.btz" if alt else image + ".btz"


def strip_block_map(src, dest):
    """Copies a .torrent without its top-level `blocktorrent blocks` entry (outside the info dictionary)."""
    data = open(src, "rb").read()

    def skip(i):
        c = data[i:i + 1]
        if c == b"i":
            return data.index(b"e", i) + 1
        if c in (b"l", b"d"):
            i += 1
            while data[i:i + 1] != b"e":
                i = skip(i)
            return i + 1
        colon = data.index(b":", i)
        return colon + 1 + int(data[i:colon])

    out = bytearray(b"d")
    i = 1
    while data[i:i + 1] != b"e":
        key_end = skip(i)
        value_end = skip(key_end)
        key = data[data.index(b":", i) + 1:key_end]
        if key != b"blocktorrent blocks":
            out += data[i:value_end]
        i = value_end
    out += b"e"
    with open(dest, "wb") as f:
        f.write(out)


def softirq_seconds():
    """The machine's softirq time so far (/proc/stat) plus its ksoftirqd threads' CPU: where the kernel's receive path,
    the veths, the bridge and the tc shapers run without a process to charge (this kernel accounts by tick, without
    CONFIG_IRQ_TIME_ACCOUNTING, so a tick that lands in a softirq run on a process's way out of a system call is
    charged to that process's system time instead). Machine-wide: it includes whatever else the machine runs."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat", encoding="ascii") as f:
        total = int(f.readline().split()[7])
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                    text = f.read()
            except OSError:
                continue
            if "(ksoftirqd/" in text:
                fields = text.rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
    return total / ticks


def setup_piece(setup):
    """The piece-size token of a setup's manifest: its first part, or for `libtorrent` the size named after the slash
    (`libtorrent/256KiB`), else `create`'s choice."""
    parts = setup.split("/")
    if parts[0] != "libtorrent":
        return parts[0]
    return next((m for m in parts[1:] if re.fullmatch(r"\d+[KMG]iB", m)), "create")


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / ticks, int(fields[12]) / ticks
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0, 0.0


def complete_time(log):
    """The UTC time of a deploy's first `complete` JSON event, or None."""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                if '"event":"complete"' in line:
                    stamp = json.loads(line)["time"]
                    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except (FileNotFoundError, ValueError, KeyError):
        return None
    return None


def wait_for(predicate, timeout, interval=0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def bit_exact(image, target):
    return run("cmp", "-s", image, target, check=False).returncode == 0


def scratch_peak(log):
    """The `scratchPeakBytes` of a deploy's JSON `result` line, or None."""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                if '"event":"result"' in line:
                    return json.loads(line).get("scratchPeakBytes")
    except (FileNotFoundError, ValueError):
        return None
    return None


def cpu_of(processes):
    """The user and system CPU seconds of the processes, together."""
    both = [cpu_seconds(p.pid) for p in processes]
    return sum(u for u, _ in both), sum(s for _, s in both)


def finish_targets(lab, args, seed, targets, start):
    """Once the fast targets are done: gives a slow last target 5 s more, then reads the lab's counters, the CPU of the
    seed and every target, and each target's time from `start` (None for one that never completed)."""
    if args.slow_rate:
        wait_for(lambda: complete_time(targets[-1][1]) is not None or targets[-1][0].poll() is not None, 5)
    after = lab.counters()
    user, sys_ = cpu_of([seed] + [p for p, _ in targets])
    times = [None if (t := complete_time(log)) is None else round(t - start, 2) for _, log in targets]
    return after, user, sys_, times


def run_blocktorrent(lab, args, cli, torrent, image, work, timeout, seed_flags, source=None, deploy_flags=()):
    seed_log = os.path.join(work, "seed.log")
    tracker = f"{lab.address(0)}:{TRACKER_PORT}"
    seed = lab.start(0, [cli, "seed", torrent, "--source", source or image, "--embedded-tracker", tracker, "--json", *seed_flags], seed_log)
    if not wait_for(lambda: "tracker running" in open(seed_log, encoding="utf-8", errors="replace").read() or seed.poll() is not None, 30, 0.1):
        raise RuntimeError("the seed did not start its tracker: " + open(seed_log, encoding="utf-8").read()[-2000:])
    if seed.poll() is not None:
        raise RuntimeError("the seed exited: " + open(seed_log, encoding="utf-8").read()[-2000:])
    before = lab.counters()
    targets = []
    start = time.time()
    for i in range(1, args.targets + 1):
        log = os.path.join(work, f"t{i}.log")
        p = lab.start(i, [cli, "deploy", torrent, "--target", os.path.join(work, f"t{i}.raw"),
                          "--tracker", f"http://{tracker}/announce", "--seed-after", "forever", "--json", *deploy_flags], log)
        targets.append((p, log))
    fast = args.targets - 1 if args.slow_rate else args.targets
    # Each target's CPU when its `complete` event is first seen (sampled before the process is reaped: a stream
    # target exits once complete, as it does not seed the raw image afterwards).
    cpu_done = [None] * len(targets)

    def sample():
        for k, (p, log) in enumerate(targets):
            if cpu_done[k] is None and p.returncode is None:
                u, s = cpu_seconds(p.pid)
                if complete_time(log) is not None:
                    cpu_done[k] = round(u + s, 2)
        return all(complete_time(log) is not None or p.poll() is not None for p, log in targets[:fast])

    wait_for(sample, timeout)
    after, user, sys_, times = finish_targets(lab, args, seed, targets, start)
    lab.stop_all()
    exact = all(t is None or bit_exact(image, os.path.join(work, f"t{i}.raw")) for i, t in enumerate(times, 1))
    return times, before, after, user, sys_, exact, cpu_done, [scratch_peak(log) for _, log in targets]


LT_PEER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "lt_peer.py")
LT_PORT = 6881


def run_libtorrent(lab, args, torrent, image, work, timeout):
    """libtorrent 2 (python3-libtorrent under /usr/bin/python3, benchmarks/scripts/lt_peer.py, its default settings) on
    the same manifest: one seed of the image, every target given the seed's and every other target's address (no
    tracker: libtorrent's peers are named, not announced), each target seeding on once complete."""
    seed_log = os.path.join(work, "seed.log")
    seed = lab.start(0, ["/usr/bin/python3", LT_PEER, "seed", "--torrent", torrent, "--dir", os.path.dirname(image),
                         "--listen", f"{lab.address(0)}:{LT_PORT}", "--seed-after"], seed_log)
    if not wait_for(lambda: '"port"' in open(seed_log, encoding="utf-8", errors="replace").read() or seed.poll() is not None, 30, 0.1) \
            or seed.poll() is not None:
        raise RuntimeError("the libtorrent seed did not start: " + open(seed_log, encoding="utf-8").read()[-2000:])
    before = lab.counters()
    targets = []
    start = time.time()
    for i in range(1, args.targets + 1):
        log = os.path.join(work, f"t{i}.log")
        folder = os.path.join(work, f"lt-t{i}")
        os.makedirs(folder)
        peers = [a for j in range(args.targets + 1) if j != i for a in ("--peer", f"{lab.address(j)}:{LT_PORT}")]
        p = lab.start(i, ["/usr/bin/python3", LT_PEER, "download", "--torrent", torrent, "--dir", folder,
                          "--listen", f"{lab.address(i)}:{LT_PORT}", "--timeout", str(timeout), "--seed-after", *peers], log)
        targets.append((p, log))
    fast = args.targets - 1 if args.slow_rate else args.targets
    wait_for(lambda: all(complete_time(log) is not None or p.poll() is not None for p, log in targets[:fast]), timeout)
    after, user, sys_, times = finish_targets(lab, args, seed, targets, start)
    lab.stop_all()
    name = os.path.basename(image)
    exact = all(t is None or bit_exact(image, os.path.join(work, f"lt-t{i}", name)) for i, t in enumerate(times, 1))
    return times, before, after, user, sys_, exact, None, None


def run_udpcast(lab, args, image, work, timeout):
    sender_log = os.path.join(work, "sender.log")
    # The sender waits for every receiver, then sends at most the link rate (what an operator sets for a switched
    # LAN: without a cap it overruns the switch ports and repeats slices).
    sender = lab.start(0, ["udp-sender", "--file", image, "--interface", "eth0", "--full-duplex", "--nokbd",
                           "--min-receivers", str(args.targets), "--max-bitrate", f"{args.udpcast_bitrate}m"], sender_log)
    before = lab.counters()
    receivers = []
    start = time.time()
    for i in range(1, args.targets + 1):
        log = os.path.join(work, f"t{i}.log")
        receivers.append(lab.start(i, ["udp-receiver", "--file", os.path.join(work, f"t{i}.raw"), "--interface", "eth0", "--nokbd"], log))
    done = [None] * len(receivers)

    def poll():
        for k, p in enumerate(receivers):
            if done[k] is None and p.poll() is not None:
                done[k] = round(time.time() - start, 2) if p.returncode == 0 else None
        return all(p.poll() is not None for p in receivers)

    wait_for(poll, timeout, 0.1)
    after = lab.counters()
    user, sys_ = cpu_of([sender] + receivers)
    lab.stop_all()
    exact = all(t is None or bit_exact(image, os.path.join(work, f"t{i}.raw")) for i, t in enumerate(done, 1))
    return done, before, after, user, sys_, exact, None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default="8", help="targets, or several counts (2,4,8,16) run in turn")
    ap.add_argument("--rate", type=int, default=50, help="link rate, Mbit/s")
    ap.add_argument("--slow-rate", type=int, default=0, help="the last target's link rate, Mbit/s (0: all alike)")
    ap.add_argument("--size", type=parse_size, default=parse_size("256MiB"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--setups", default="udpcast,create,256KiB,1MiB,4MiB")
    ap.add_argument("--images", default="dense,sparse")
    ap.add_argument("--switch-queue", default="50ms")
    ap.add_argument("--udpcast-bitrate", type=int, default=0, help="udp-sender --max-bitrate in Mbit/s (default: 0.95 x --rate)")
    ap.add_argument("--cli", help="a published blocktorrent executable (default: publish one ahead of time, as .ci/run does)")
    ap.add_argument("--cli-alt", action="append", default=[], metavar="NAME=PATH",
                    help="another published blocktorrent executable, run by the setups marked /NAME (repeatable)")
    ap.add_argument("--json", help="write every run and the summary here")
    ap.add_argument("--dir", default="/var/tmp", help="where the run's own tmpfs is mounted (a folder named after --name)")
    ap.add_argument("--name", default=f"btcs{os.getpid()}")
    ap.add_argument("--keep-logs")
    ap.add_argument("--timeout", type=float, default=0, help="seconds per run (default: 10 x the bound + 60)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    if not args.udpcast_bitrate:
        args.udpcast_bitrate = int(0.95 * args.rate)
    counts = [int(n) for n in str(args.targets).split(",") if n.strip()]
    args.targets = max(counts)

    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    args.cli_alt = dict(a.split("=", 1) for a in args.cli_alt)
    if "udpcast" in setups and not shutil.which("udp-sender"):
        print("udpcast is not installed (apt-get install udpcast): its runs are left out", file=sys.stderr)
        setups.remove("udpcast")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cli = args.cli
    if cli is None:
        rid = "linux-" + {"x86_64": "x64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
        out = os.path.join(repo, "artifacts", "cli")
        print(f"publishing the CLI ahead of time into {out} ...", file=sys.stderr)
        run("dotnet", "publish", os.path.join(repo, "samples", "BlockTorrent.Cli"), "-c", "Release", "-r", rid,
            "-p:PublishAot=true", "-o", out, "-nologo", quiet=True)
        cli = os.path.join(out, "BlockTorrent.Cli")

    # Images and targets live in a tmpfs of the run's own, so the disk does not weigh on the figures. Not under /dev:
    # the CLI takes any path there for a block device.
    work = os.path.join(args.dir, f"{args.name}-work")
    os.makedirs(work)
    run("mount", "-t", "tmpfs", "-o", f"size={(args.targets + 4) * args.size}", f"{args.name}-tmpfs", work)
    lab = None
    records = []
    bound = args.size * 8 / (args.rate * 1e6)
    timeout = args.timeout or 10 * bound + 60

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        kinds = [k.strip() for k in args.images.split(",") if k.strip()]
        images = make_images(work, args.size, kinds)
        torrents = {}
        for kind, path in images.items():
            for setup in setups:
                if setup == "udpcast":
                    continue
                piece = setup_piece(setup)
                nomap = "nomap" in setup.split("/")[1:]
                mods = setup.split("/")[1:] if not setup.startswith("libtorrent") else []
                stream = "zst" if "zst" in mods else "btz" if "btz" in mods else None
                # A .btz is made by the build that deploys it (its layout is that build's), so each build has its own.
                alt = next((m for m in mods if m in args.cli_alt), None) if stream == "btz" else None
                key = (kind, piece, nomap, stream, alt)
                if key in torrents:
                    continue
                torrent = os.path.join(work, f"{kind}-{piece}{'-nomap' if nomap else ''}{'-' + stream if stream else ''}{'-' + alt if alt else ''}.torrent")
                src = path
                if stream == "zst":
                    src = path + ".zst"
                    if not os.path.exists(src):
                        run("zstd", "-q", "-3", path, "-o", src)
                extra = [] if piece == "create" else ["--piece-size", piece]
                if stream == "btz":
                    extra += ["--compress", "zstd", "--compressed-file", btz_path(path, alt)]
                t0 = time.time()
                run(args.cli_alt[alt] if alt else cli, "create", src, "-o", torrent, *extra)
                create_s = round(time.time() - t0, 2)
                if nomap:
                    strip_block_map(torrent, torrent)
                info = run(args.cli_alt[alt] if alt else cli, "info", torrent).stdout
                size = re.search(r"piece size:\s+([\d.]+) ?([KMG]iB)", info)
                zeros = re.search(r"zero pieces:\s+(\d+)", info)
                dups = re.search(r"duplicate pieces:\s+(\d+)", info)
                zero_blocks = re.search(r"zero blocks:\s+(\d+)", info)
                repeated_blocks = re.search(r"repeated blocks:\s+(\d+)", info)
                torrents[key] = (torrent, size.group(1) + size.group(2), create_s, int(zeros.group(1)) if zeros else 0, int(dups.group(1)) if dups else 0,
                                 int(zero_blocks.group(1)) if zero_blocks else 0, int(repeated_blocks.group(1)) if repeated_blocks else 0)
        for n in counts:
            args.targets = n
            if lab is not None:
                lab.close()
            lab = Lab(args.name, n, args.rate, args.slow_rate, args.switch_queue)
            run_rounds(lab, args, cli, kinds, setups, images, torrents, work, bound, timeout, records)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        if lab is not None:
            lab.close()
        run("umount", work, check=False)
        shutil.rmtree(work, ignore_errors=True)

    args.targets = counts
    summary = summarize(records, args, bound)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"conditions": conditions(args, bound), "runs": records, "summary": summary}, f, indent=1)
    print_table(summary, args, bound)


def run_rounds(lab, args, cli, kinds, setups, images, torrents, work, bound, timeout, records):
    """Every setup on every image, --runs times, setups alternating within each round."""
    for r in range(1, args.runs + 1):
        for kind in kinds:
            for setup in setups:
                load_before = os.getloadavg()
                record = {"image": kind, "setup": setup, "run": r, "targets": args.targets, "rate_mbit": args.rate,
                          "size": args.size, "bound_s": round(bound, 2)}
                if setup == "udpcast":
                    times, before, after, user, sys_, exact, cpu_done, peaks = run_udpcast(lab, args, images[kind], work, timeout)
                    record["piece"] = None
                elif setup.startswith("libtorrent"):
                    torrent, piece_text = torrents[(kind, setup_piece(setup), False, None, None)][:2]
                    record["piece"] = piece_text
                    times, before, after, user, sys_, exact, cpu_done, peaks = run_libtorrent(lab, args, torrent, images[kind], work, timeout)
                else:
                    piece = setup.split("/")[0]
                    mods = setup.split("/")[1:]
                    stream = "zst" if "zst" in mods else "btz" if "btz" in mods else None
                    alt = next((m for m in mods if m in args.cli_alt), None) if stream == "btz" else None
                    torrent, piece_text, create_s, zeros, dups, zero_blocks, repeated_blocks = torrents[(kind, piece, "nomap" in mods, stream, alt)]
                    record["piece"] = piece_text
                    record["zero_pieces"] = zeros
                    record["duplicate_pieces"] = dups
                    record["zero_blocks"] = zero_blocks
                    record["repeated_blocks"] = repeated_blocks
                    record["create_s"] = create_s
                    flags = [f for m in mods for f in {"super": ["--super-seed"], "plain": ["--no-super-seed"], "verbose": ["--verbose"]}.get(m, [])]
                    build = next((args.cli_alt[m] for m in mods if m in args.cli_alt), cli)
                    deploy_flags = [f for m in mods if m.startswith("scratch") for f in ["--scratch-size", m[len("scratch"):]]]
                    source = btz_path(images[kind], alt) if stream == "btz" else images[kind] + ".zst" if stream else None
                    if stream:
                        record["compressed_size"] = os.path.getsize(source)
                    times, before, after, user, sys_, exact, cpu_done, peaks = run_blocktorrent(
                        lab, args, build, torrent, images[kind], work, timeout, flags, source, deploy_flags)
                fast = times[:-1] if args.slow_rate else times
                record["targets_s"] = times
                record["t_all_s"] = None if any(t is None for t in fast) else max(fast)
                record["ratio"] = None if record["t_all_s"] is None else round(record["t_all_s"] / bound, 3)
                if args.slow_rate:
                    record["slow_s"] = times[-1]
                record["seed_wire_x"] = round((after["seed_sent"] - before["seed_sent"]) / args.size, 3)
                record["cpu_user_s"] = round(user, 1)
                record["cpu_sys_s"] = round(sys_, 1)
                # Bytes moved: every node's upload at its NIC plus every node's download at its switch port, headers
                # and retransmissions included, so received + sent as the wire carried them.
                moved = (after["sent_all"] - before["sent_all"] + after["delivered_all"] - before["delivered_all"]) / (1024 * MIB)
                record["moved_gib"] = round(moved, 3)
                record["cpu_s_per_gib"] = round((user + sys_) / moved, 2) if moved else None
                record["softirq_s"] = round(after["softirq_s"] - before["softirq_s"], 1)
                record["drops_up"] = after["up_drops"] - before["up_drops"]
                record["drops_down"] = after["down_drops"] - before["down_drops"]
                segs = after["out_segs"] - before["out_segs"]
                record["retrans_pct"] = round(100 * (after["retrans"] - before["retrans"]) / segs, 2) if segs else 0
                record["bit_exact"] = exact
                if cpu_done is not None:
                    record["target_cpu_at_complete_s"] = cpu_done
                    record["scratch_peak_bytes"] = peaks
                record["load"] = [round(x, 1) for x in load_before]
                records.append(record)
                print(json.dumps(record), flush=True)
                if args.keep_logs:
                    dest = os.path.join(args.keep_logs, f"{kind}-{setup.replace('/', '-')}-n{args.targets}-{r}")
                    os.makedirs(dest, exist_ok=True)
                    for name in os.listdir(work):
                        if name.endswith(".log"):
                            shutil.copy(os.path.join(work, name), dest)
                for name in os.listdir(work):
                    if name.endswith(".raw") or name.endswith(".log") or name.endswith(".resume"):
                        os.remove(os.path.join(work, name))
                    elif name.startswith("lt-t"):
                        shutil.rmtree(os.path.join(work, name))


def conditions(args, bound):
    with open("/proc/sys/net/ipv4/tcp_congestion_control", encoding="ascii") as f:
        cc = f.read().strip()
    return {"targets": args.targets, "rate_mbit": args.rate, "slow_rate_mbit": args.slow_rate, "size": args.size,
            "switch_queue": args.switch_queue, "congestion_control": cc, "bound_s": round(bound, 2),
            "cores": os.cpu_count(), "udpcast_max_bitrate_mbit": args.udpcast_bitrate}


def summarize(records, args, bound):
    rows = []
    keys = []
    for rec in records:
        key = (rec["targets"], rec["image"], rec["setup"])
        if key not in keys:
            keys.append(key)
    udp = {}
    for targets, image, setup in keys:
        runs = [r for r in records if r["targets"] == targets and r["image"] == image and r["setup"] == setup]
        done = [r["t_all_s"] for r in runs if r["t_all_s"] is not None]
        row = {"targets": targets, "image": image, "setup": setup, "piece": runs[0]["piece"], "runs": len(runs), "complete": len(done),
               "bit_exact": all(r["bit_exact"] for r in runs)}
        if done:
            row["t_all_median_s"] = round(statistics.median(done), 2)
            row["t_all_min_s"] = min(done)
            row["t_all_max_s"] = max(done)
            row["ratio_median"] = round(row["t_all_median_s"] / bound, 3)
            row["ratio_min"] = round(row["t_all_min_s"] / bound, 3)
            row["ratio_max"] = round(row["t_all_max_s"] / bound, 3)
        row["seed_wire_x_median"] = statistics.median(r["seed_wire_x"] for r in runs)
        row["cpu_s_median"] = round(statistics.median(r["cpu_user_s"] + r["cpu_sys_s"] for r in runs), 1)
        per_gib = [r["cpu_s_per_gib"] for r in runs if r.get("cpu_s_per_gib") is not None]
        row["cpu_s_per_gib_median"] = round(statistics.median(per_gib), 2) if per_gib else None
        row["cpu_s_per_gib_min"] = min(per_gib) if per_gib else None
        row["cpu_s_per_gib_max"] = max(per_gib) if per_gib else None
        row["softirq_s_median"] = round(statistics.median(r["softirq_s"] for r in runs), 1)
        row["load_median"] = round(statistics.median(r["load"][0] for r in runs), 1)
        cpus = [c for r in runs for c in r.get("target_cpu_at_complete_s") or [] if c is not None]
        row["target_cpu_median_s"] = round(statistics.median(cpus), 2) if cpus else None
        peaks = [b for r in runs for b in r.get("scratch_peak_bytes") or [] if b is not None]
        row["scratch_peak_max_bytes"] = max(peaks) if peaks else None
        if args.slow_rate:
            slow = [r["slow_s"] for r in runs if r.get("slow_s") is not None]
            row["slow_median_s"] = round(statistics.median(slow), 2) if slow else None
        if setup == "udpcast" and done:
            udp[(targets, image)] = row["t_all_median_s"]
        rows.append(row)
    for row in rows:
        if (row["targets"], row["image"]) in udp and "t_all_median_s" in row:
            row["vs_udpcast"] = round(row["t_all_median_s"] / udp[(row["targets"], row["image"])], 3)
    return rows


def print_table(rows, args, bound):
    c = conditions(args, bound)
    print(f"\n1 seed + {','.join(str(n) for n in c['targets'])} targets, {c['rate_mbit']} Mbit/s links"
          + (f" (the last target at {c['slow_rate_mbit']}; T_all is the others')" if c["slow_rate_mbit"] else "")
          + f", switch queue {c['switch_queue']}, TCP {c['congestion_control']}, image {c['size'] // MIB} MiB,"
          + f" fluid bound {bound:.1f} s; {c['cores']} cores")
    print("| targets | image | setup | piece | runs done | T_all median (min–max) s | T_all / bound median (min–max) | vs udpcast | seed sent × image | CPU s | CPU s per GiB moved, median (min–max) | machine softirq s | target CPU s at complete, median | scratch peak MiB, max | load |"
          + (" slow target s |" if args.slow_rate else ""))
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if args.slow_rate else ""))
    for r in rows:
        if "t_all_median_s" in r:
            t = f"{r['t_all_median_s']:.1f} ({r['t_all_min_s']:.1f}–{r['t_all_max_s']:.1f})"
            x = f"{r['ratio_median']:.2f} ({r['ratio_min']:.2f}–{r['ratio_max']:.2f})"
        else:
            t = x = "—"
        per_gib = "—" if r["cpu_s_per_gib_median"] is None else \
            f"{r['cpu_s_per_gib_median']:.2f} ({r['cpu_s_per_gib_min']:.2f}–{r['cpu_s_per_gib_max']:.2f})"
        print(f"| {r['targets']} | {r['image']} | {r['setup']} | {r['piece'] or '—'} | {r['complete']}/{r['runs']}{'' if r['bit_exact'] else ' NOT BIT-EXACT'} | {t} | {x} | "
              f"{r.get('vs_udpcast', '—')} | {r['seed_wire_x_median']:.2f} | {r['cpu_s_median']} | "
              f"{per_gib} | {r['softirq_s_median']} | "
              f"{r['target_cpu_median_s'] if r['target_cpu_median_s'] is not None else '—'} | "
              f"{'—' if r['scratch_peak_max_bytes'] is None else round(r['scratch_peak_max_bytes'] / MIB, 1)} | {r['load_median']} |"
              + (f" {r.get('slow_median_s', '—')} |" if args.slow_rate else ""))


if __name__ == "__main__":
    main()
