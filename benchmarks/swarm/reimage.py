#!/usr/bin/env python3
"""Re-imaging a target that holds last month's image (issue 18.5): bytes fetched, time to the first byte from the
swarm, and total time, for one `blocktorrent` build against another in the same run.

Last month's image is --size random bytes; this month's is the same with --changed of its pieces replaced by new
random bytes and --moved of them replaced by the content last month's image held in some of those changed pieces (as a
file moved on the disk: its bytes are in both images once, at different offsets; --moved must not exceed --changed). A seed (the --cli build) serves this month's image on loopback; each build in turn deploys it onto a
fresh copy of last month's image (`blocktorrent deploy X.torrent --target FILE --peer SEED --json`: the target exists,
so its data is checked and reused), and the builds alternate over --runs rounds. Time to the first byte and to the
first piece from the swarm are the deploy's own (`deploy --json`'s result: firstByteSeconds, firstPieceSeconds, from
the start of the deployment once the target is open, in milliseconds); builds without them show n/a, and for them the
first progress snapshot (one a second) with bytes downloaded, counted from launch, is also given. The total is the
deploy process's whole run, its final flush included. Every target is compared with this month's image.

Loopback is faster than the disk read; a fleet's link is not. --max-download-rate RATE[,RATE...] (bytes a second, as
`deploy --max-download-rate` takes them, powers of 1024: 100M is 0.84 Gbit/s, 12M is 101 Mbit/s) caps every deploy's download,
and the rounds run once for each rate ("none" for no cap); a summary gives each build's median and range per rate.

--previous gives the --cli build `deploy --previous last-month.torrent` (the manifest of what the target holds, made
with --cli), so its check knows where each piece sits; the --before build deploys as before. Either build may also
remember what it deployed beside the target (TARGET.blocktorrent-deployed.torrent): the file is removed after every
deploy, so no run sees another's. --previous-both gives both builds the flag (the --before build must know it).

    benchmarks/swarm/reimage.py --cli NEW_BlockTorrent.Cli.dll --before OLD_BlockTorrent.Cli.dll
        [--size 1GiB] [--piece-size 1MiB] [--changed 0.10] [--moved 0.05] [--runs 2] [--dir /var/tmp] [--json FILE]
        [--max-download-rate none,100M,12M] [--previous | --previous-both]

Files are written under a temporary folder of --dir, removed on exit; processes are stopped by their PID.
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import MIB, cli_command, parse_size



def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(16 * MIB):
            digest.update(block)
    return digest.hexdigest()


def make_images(work, size, piece, changed, moved, rng):
    old, new = os.path.join(work, "last-month.img"), os.path.join(work, "this-month.img")
    with open(old, "wb") as f:
        for _ in range(size // MIB):
            f.write(os.urandom(MIB))
    pieces = size // piece
    order = list(range(pieces))
    rng.shuffle(order)
    replaced = order[:int(pieces * changed)]
    relocated = order[int(pieces * changed):int(pieces * changed) + int(pieces * moved)]
    shutil.copyfile(old, new)
    with open(old, "rb") as source, open(new, "r+b") as target:
        for index in replaced:
            target.seek(index * piece)
            target.write(os.urandom(piece))
        # A moved piece takes the bytes of a piece that was overwritten, as a file moved on a disk leaves its old
        # place to other data: the content then sits once in each image, at different offsets (no duplicate).
        for index, other in zip(relocated, rng.sample(replaced, len(relocated))):
            source.seek(other * piece)
            target.seek(index * piece)
            target.write(source.read(piece))
    return old, new, len(replaced), len(relocated)


def wait_for_port(port, process, bound=60):
    deadline = time.time() + bound
    while time.time() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"the seed did not listen on port {port} within {bound} s")


def deploy(cli, torrent, target, seed_port, rate, previous=None):
    cap = [] if rate == "none" else ["--max-download-rate", rate]
    if previous is not None:
        cap += ["--previous", previous]
    started = time.time()
    result = subprocess.run([*cli_command(cli), "deploy", torrent, "--target", target, "--peer", f"127.0.0.1:{seed_port}",
                             "--listen", "127.0.0.1:0", "--json", "--timeout", "30m", *cap],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    total = time.time() - started
    if result.returncode != 0:
        sys.exit(f"deploy with {cli} exited {result.returncode}:\n{result.stderr[-4000:]}")
    first, reported, downloaded, pieces_from_peers = None, None, 0, None
    result_first_byte = result_first_piece = None
    for line in result.stdout.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if reported is None and "time" in event:
            reported = datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp() - started
        if "downloaded" in event:
            downloaded = max(downloaded, event["downloaded"])
            if first is None and event["downloaded"] > 0:
                at = datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()
                first = at - started
        if event.get("event") == "complete":
            pieces_from_peers = event.get("piecesFromPeers")
        if event.get("event") == "result":
            # The deploy's own clock, from its start (the target open) to the first piece payload and the first
            # piece verified; builds before these fields have none.
            result_first_byte, result_first_piece = event.get("firstByteSeconds"), event.get("firstPieceSeconds")
            downloaded = max(downloaded, event.get("bytesDownloaded", 0))
    return {"total_seconds": total, "first_byte_seconds": first, "first_report_seconds": reported, "bytes_downloaded": downloaded,
            "pieces_from_peers": pieces_from_peers, "deploy_first_byte_seconds": result_first_byte, "deploy_first_piece_seconds": result_first_piece}


def ms(seconds):
    return "n/a" if seconds is None else f"{seconds * 1000:.0f}"


def spread(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return "n/a"
    return f"{statistics.median(values):.1f} ({values[0]:.1f}-{values[-1]:.1f})"


def spread_ms(values):
    values = sorted(v * 1000 for v in values if v is not None)
    if not values:
        return "n/a"
    return f"{statistics.median(values):.0f} ({values[0]:.0f}-{values[-1]:.0f})"


def summarize(results):
    print("cap    build   fetched MiB median (min-max)  1st byte ms (deploy)  1st piece ms (deploy)  1st snapshot s  total s             load")
    for rate in dict.fromkeys(r["rate"] for r in results):
        for label in ("before", "now"):
            rs = [r for r in results if r["rate"] == rate and r["build"] == label]
            print(f"{rate:<6} {label:<7} {spread([r['bytes_downloaded'] / MIB for r in rs]):<29} "
                  f"{spread_ms([r['deploy_first_byte_seconds'] for r in rs]):<21} {spread_ms([r['deploy_first_piece_seconds'] for r in rs]):<22} "
                  f"{spread([r['first_byte_seconds'] for r in rs]):<15} {spread([r['total_seconds'] for r in rs]):<19} "
                  f"{spread([r['load'] for r in rs])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", required=True, help="the build measured (blocktorrent or BlockTorrent.Cli.dll); it also seeds")
    parser.add_argument("--before", required=True, help="the build compared against")
    parser.add_argument("--size", type=parse_size, default=1024 * MIB)
    parser.add_argument("--piece-size", type=parse_size, default=MIB)
    parser.add_argument("--changed", type=float, default=0.10)
    parser.add_argument("--moved", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--dir", default="/var/tmp")
    parser.add_argument("--seed", type=int, default=185, help="the random choice of changed and moved pieces")
    parser.add_argument("--json", default=None)
    parser.add_argument("--previous", action="store_true", help="deploy with --cli given --previous last-month.torrent")
    parser.add_argument("--previous-both", action="store_true", help="give both builds --previous last-month.torrent")
    parser.add_argument("--max-download-rate", default="none",
                        help="comma-separated download caps for every deploy (e.g. 100M,12M); 'none' for no cap")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bt-reimage-", dir=args.dir)
    seed = None
    try:
        old, new, n_changed, n_moved = make_images(work, args.size, args.piece_size, args.changed, args.moved, random.Random(args.seed))
        expected = sha256(new)
        torrent = os.path.join(work, "this-month.torrent")
        subprocess.run([*cli_command(args.cli), "create", new, "--output", torrent, "--piece-size", str(args.piece_size)], check=True, stdout=subprocess.DEVNULL)
        old_torrent = os.path.join(work, "last-month.torrent")
        if args.previous or args.previous_both:
            subprocess.run([*cli_command(args.cli), "create", old, "--output", old_torrent, "--piece-size", str(args.piece_size)], check=True, stdout=subprocess.DEVNULL)
        port = 20000 + os.getpid() % 20000
        seed = subprocess.Popen([*cli_command(args.cli), "seed", torrent, "--source", new, "--listen", f"127.0.0.1:{port}", "--no-super-seed"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port, seed)
        results = []
        for rate in [r.strip() for r in args.max_download_rate.split(",")]:
            for run in range(args.runs):
                for label, cli in (("before", args.before), ("now", args.cli)):
                    target = os.path.join(work, "target.img")
                    shutil.copyfile(old, target)
                    load = os.getloadavg()[0]
                    hinted = args.previous_both or (args.previous and label == "now")
                    r = deploy(cli, torrent, target, port, rate, old_torrent if hinted else None)
                    if sha256(target) != expected:
                        sys.exit(f"the {label} build's target differs from this month's image")
                    os.remove(target)
                    remembered = target + ".blocktorrent-deployed.torrent"
                    if os.path.exists(remembered):
                        os.remove(remembered)
                    r.update(build=label, run=run + 1, rate=rate, load=load, previous=hinted)
                    results.append(r)
                    print(f"cap {rate:<5} run {run + 1} {label:<6} load {load:4.1f} fetched {r['bytes_downloaded'] / MIB:8.1f} MiB ({r['pieces_from_peers']} pieces)  first byte {ms(r['deploy_first_byte_seconds'])} ms, piece {ms(r['deploy_first_piece_seconds'])} ms from the deploy's start (first snapshot with bytes {r['first_byte_seconds'] if r['first_byte_seconds'] is None else round(r['first_byte_seconds'], 1)} s from launch, first report {r['first_report_seconds'] if r['first_report_seconds'] is None else round(r['first_report_seconds'], 1)} s)  total {r['total_seconds']:6.1f} s", flush=True)
    finally:
        if seed is not None:
            seed.terminate()
            seed.wait()
        shutil.rmtree(work, ignore_errors=True)
    pieces = args.size // args.piece_size
    print(f"{pieces} pieces of {args.piece_size} bytes; {n_changed} changed ({n_changed * args.piece_size / MIB:.0f} MiB), {n_moved} moved")
    summarize(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pieces": pieces, "changed": n_changed, "moved": n_moved, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
