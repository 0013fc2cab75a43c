#!/usr/bin/env python3
"""The bandwidth caps measured where they matter: two network namespaces on a veth link, the `blocktorrent` command
in each, and the rate a capped seed and a capped target achieve.

Two runs, each a seed in namespace A and a target in namespace B deploying a random image (the cap times
--seconds + 4 bytes) over a link shaped with tbf to --link Mbit/s in both directions:

  seed    `blocktorrent seed --max-upload-rate CAP`, the target uncapped;
  target  `blocktorrent deploy --max-download-rate CAP`, the seed uncapped.

The target runs with --json; its progress lines carry the time of each snapshot and the bytes downloaded. The rate is
taken as the test does (BandwidthCapTests): from the first snapshot past one cap's worth of bytes to the first one
--seconds later. Each run prints the cap, the achieved rate, their difference in percent and the whole deployment's
time, and the target is compared byte for byte with the image.

    sudo benchmarks/swarm/netns-caps.py [--cap 2MiB] [--seconds 10] [--link 1000] [--cli PATH] [--name PREFIX]
        [--dir /var/tmp] [--json FILE]

--cli is the command to run (a published `blocktorrent`, or `BlockTorrent.Cli.dll`, run with dotnet); by default the
Release build of samples/BlockTorrent.Cli. Namespaces are named PREFIX-a and PREFIX-b (btcap<PID> unless --name),
addresses 10.79.0.1 and 10.79.0.2; every process is stopped by its PID and both namespaces and all files removed on exit.
"""

import argparse
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from benchlib import MIB, cli_command, parse_size

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def default_cli():
    found = sorted(glob.glob(os.path.join(ROOT, "samples/BlockTorrent.Cli/bin/Release/*/BlockTorrent.Cli.dll")))
    if not found:
        sys.exit("no Release build of samples/BlockTorrent.Cli: run `dotnet build BlockTorrent.sln -c Release` or pass --cli")
    return found[-1]


class Link:
    """Two namespaces joined by a veth pair, shaped with tbf both ways; removed by close()."""

    def __init__(self, prefix, mbit):
        self.a, self.b = f"{prefix}-a", f"{prefix}-b"
        self.namespaces = []
        for ns in (self.a, self.b):
            run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", self.a, "link", "add", "cap0", "type", "veth", "peer", "name", "cap1", "netns", self.b)
        for ns, dev, address in ((self.a, "cap0", "10.79.0.1/24"), (self.b, "cap1", "10.79.0.2/24")):
            run("ip", "-n", ns, "addr", "add", address, "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")
            # A queue of about 50 ms at the link rate, the burst one 10 ms tick's worth.
            rate = f"{mbit}mbit"
            burst = max(16 * 1024, mbit * 1_000_000 // 8 // 100)
            limit = max(64 * 1024, mbit * 1_000_000 // 8 // 20)
            run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", rate, "burst", str(burst), "limit", str(limit))

    def close(self):
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "delete", ns], check=False)


def measure(link, cli, work, image, torrent, cap, seconds, capped):
    target = os.path.join(work, f"target-{capped}.img")
    seed_args = ["seed", torrent, "--source", image, "--listen", "10.79.0.1:6881", "--no-super-seed"]
    deploy_args = ["deploy", torrent, "--target", target, "--peer", "10.79.0.1:6881", "--listen", "10.79.0.2:6881", "--json", "--timeout", "10m"]
    if capped == "seed":
        seed_args += ["--max-upload-rate", str(cap)]
    else:
        deploy_args += ["--max-download-rate", str(cap)]
    seed = subprocess.Popen(["ip", "netns", "exec", link.a, *cli_command(cli), *seed_args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deploy = subprocess.run(["ip", "netns", "exec", link.b, *cli_command(cli), *deploy_args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    finally:
        seed.terminate()
        try:
            seed.wait(timeout=30)
        except subprocess.TimeoutExpired:
            seed.kill()
            seed.wait()
    if deploy.returncode != 0:
        sys.exit(f"deploy ({capped} capped) exited {deploy.returncode}:\n{deploy.stderr}")
    samples, started, finished = [], None, None
    for line in deploy.stdout.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        at = datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()
        started = at if started is None else started
        if event.get("event") in ("progress", "complete") and "downloaded" in event:
            samples.append((at, event["downloaded"]))
        if event.get("event") == "complete":
            finished = at
    with open(image, "rb") as a, open(target, "rb") as b:
        if a.read() != b.read():
            sys.exit(f"the target of the {capped}-capped run differs from the image")
    os.remove(target)
    start = next((s for s in samples if s[1] >= cap), None)
    end = next((s for s in samples if start and s[0] >= start[0] + seconds), None)
    if start is None or end is None:
        sys.exit(f"the {capped}-capped run has no {seconds} s window past the first {cap} bytes; samples: {samples}")
    rate = (end[1] - start[1]) / (end[0] - start[0])
    return {"capped": capped, "cap": cap, "rate": rate, "error_percent": 100.0 * (rate - cap) / cap,
            "window_seconds": end[0] - start[0], "total_seconds": (finished or samples[-1][0]) - started, "bytes": os.path.getsize(image)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cap", type=parse_size, default=2 * MIB, help="the cap in bytes/s (default 2MiB)")
    parser.add_argument("--seconds", type=int, default=10, help="the measuring window (default 10)")
    parser.add_argument("--link", type=int, default=1000, help="the link's rate in Mbit/s (default 1000)")
    parser.add_argument("--cli", default=None, help="the blocktorrent command or BlockTorrent.Cli.dll")
    parser.add_argument("--name", default=f"btcap{os.getpid()}", help="the namespaces' prefix")
    parser.add_argument("--dir", default="/var/tmp", help="where the image and targets are written (not under /dev, which the CLI takes for devices)")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    cli = args.cli or default_cli()
    work = tempfile.mkdtemp(prefix=f"{args.name}-", dir=args.dir)
    link = None
    try:
        image, torrent = os.path.join(work, "image.raw"), os.path.join(work, "image.torrent")
        with open(image, "wb") as f:
            f.write(os.urandom(args.cap * (args.seconds + 4)))
        subprocess.run([*cli_command(cli), "create", image, "--output", torrent, "--piece-size", "256KiB"], check=True, stdout=subprocess.DEVNULL)
        link = Link(args.name, args.link)
        results = [measure(link, cli, work, image, torrent, args.cap, args.seconds, capped) for capped in ("seed", "target")]
    finally:
        if link is not None:
            link.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'capped':<8} {'cap B/s':>10} {'achieved B/s':>13} {'error':>8} {'window':>8} {'whole run':>10}")
    for r in results:
        print(f"{r['capped']:<8} {r['cap']:>10} {r['rate']:>13.0f} {r['error_percent']:>+7.2f}% {r['window_seconds']:>7.2f}s {r['total_seconds']:>9.2f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"link_mbit": args.link, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
