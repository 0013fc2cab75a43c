#!/usr/bin/python3
"""A libtorrent 2.0 peer for the BlockTorrent swarm benchmarks (run with /usr/bin/python3, python3-libtorrent).

seed:     seeds <dir>/<name> (trusted: seed mode), prints {"port": N} once listening, then runs until killed.
download: downloads into <dir> from --peer host:port (repeatable) and prints one JSON line when every piece is
          verified: {"event": "result", "seconds": ..., "peak_rss_kib": ...}; exits 1 on timeout.
          With --seed-after it prints {"event": "complete", "time": ISO-8601 UTC} instead and goes on seeding until
          killed, as a swarm member (benchmarks/swarm/cli-swarm.py): it then waits on libtorrent's alerts instead of
          polling, so the Python loop adds no CPU of its own to libtorrent's.
Only the named peers are used: no DHT, LSD, UPnP, NAT-PMP, uTP or encryption. Otherwise libtorrent's defaults,
or its high-performance seed preset with --preset high-performance.
"""
import argparse
import datetime
import json
import sys
import time

import libtorrent as lt


def peak_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["seed", "download"])
    p.add_argument("--torrent", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--peer", action="append", default=[])
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--preset", choices=["default", "high-performance"], default="default")
    p.add_argument("--seed-after", action="store_true", help="download: keep seeding once complete, until killed")
    args = p.parse_args()

    settings = lt.high_performance_seed() if args.preset == "high-performance" else lt.default_settings()
    settings.update({
        "listen_interfaces": args.listen,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": 2,
        "in_enc_policy": 2,
        "alert_mask": lt.alert.category_t.error_notification
        | (lt.alert.category_t.status_notification if args.seed_after else 0),
    })
    ses = lt.session(settings)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = args.dir
    if args.mode == "seed":
        atp.flags |= lt.torrent_flags.seed_mode
    start = time.monotonic()
    h = ses.add_torrent(atp)
    deadline = time.monotonic() + args.timeout
    while ses.listen_port() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    print(json.dumps({"port": ses.listen_port()}), flush=True)

    peers = []
    for peer in args.peer:
        host, port = peer.rsplit(":", 1)
        peers.append((host, int(port)))
    for peer in peers:
        h.connect_peer(peer)
    last_connect = time.monotonic()
    if args.seed_after:
        return swarm_member(ses, h, peers, deadline) if args.mode == "download" else seed_forever(ses)
    while time.monotonic() < deadline:
        if args.mode == "download":
            s = h.status()
            if s.is_seeding:
                seconds = time.monotonic() - start
                print(json.dumps({"event": "result", "seconds": seconds, "downloaded": s.total_payload_download,
                                  "peak_rss_kib": peak_rss_kib(), "cpu_seconds": time.process_time()}), flush=True)
                return 0
            if time.monotonic() - last_connect > 2 and s.num_peers < len(peers):
                for peer in peers:
                    h.connect_peer(peer)
                last_connect = time.monotonic()
        ses.pop_alerts()
        time.sleep(0.005 if args.mode == "download" else 0.2)
    print(json.dumps({"event": "timeout", "progress": h.status().progress}), flush=True)
    return 1


def swarm_member(ses, h, peers, deadline):
    """Downloads, prints the `complete` event when every piece is verified, then seeds until killed."""
    complete = False
    last_connect = time.monotonic()
    while complete or time.monotonic() < deadline:
        ses.wait_for_alert(1000)
        for a in ses.pop_alerts():
            if not complete and isinstance(a, lt.torrent_finished_alert):
                complete = True
                stamp = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
                print(json.dumps({"event": "complete", "time": stamp, "cpu_seconds": time.process_time(),
                                  "peak_rss_kib": peak_rss_kib()}, separators=(",", ":")), flush=True)
        if not complete and time.monotonic() - last_connect > 2:
            if h.status().num_peers < len(peers):
                for peer in peers:
                    h.connect_peer(peer)
            last_connect = time.monotonic()
    print(json.dumps({"event": "timeout", "progress": h.status().progress}), flush=True)
    return 1


def seed_forever(ses):
    while True:
        ses.wait_for_alert(60000)
        ses.pop_alerts()


if __name__ == "__main__":
    sys.exit(main())
