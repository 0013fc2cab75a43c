#!/usr/bin/python3
"""A libtorrent peer for the discovery interop tests.

make:     writes a random file and a .torrent for it, prints the v1 info-hash (hex).
seed:     seeds the file; prints JSON status lines until killed.
download: downloads the torrent; exits 0 once complete, 1 on timeout.
Only the sources named on the command line are enabled (no DHT, no UPnP/NAT-PMP, no PEX, no uTP).
"""
import argparse
import json
import os
import sys
import time

import libtorrent as lt


def make(args):
    data = os.path.join(args.dir, "payload.bin")
    with open(data, "wb") as f:
        f.write(os.urandom(args.size))
    fs = lt.file_storage()
    lt.add_files(fs, data)
    t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
    if args.tracker:
        t.add_tracker(args.tracker)
    if args.private:
        t.set_priv(True)
    lt.set_piece_hashes(t, args.dir)
    with open(args.torrent, "wb") as f:
        f.write(lt.bencode(t.generate()))
    print(str(lt.torrent_info(args.torrent).info_hash()))


def run(args, seeding):
    settings = {
        "listen_interfaces": args.listen,
        "enable_dht": False,
        "enable_lsd": args.lsd,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.all_categories,
    }
    # flags 0: no default plugins, so no ut_pex (the sources under test must be the only ones).
    ses = lt.session(settings, 0)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = args.dir
    h = ses.add_torrent(atp)
    deadline = time.time() + args.timeout
    last = None
    print(json.dumps({"event": "ready", "port": ses.listen_port()}), flush=True)
    while time.time() < deadline:
        for a in ses.pop_alerts():
            what = a.what()
            if "tracker" in what or "lsd" in what or "peer_connect" in what or "error" in what:
                print(json.dumps({"event": "alert", "what": what, "message": a.message()}), flush=True)
        s = h.status()
        status = {"event": "status", "state": str(s.state), "progress": s.progress, "peers": s.num_peers, "seeding": s.is_seeding}
        if status != last:
            print(json.dumps(status), flush=True)
            last = status
        if not seeding and s.is_seeding:
            print(json.dumps({"event": "complete"}), flush=True)
            return 0
        time.sleep(0.2)
    return 0 if seeding else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["make", "seed", "download"])
    p.add_argument("--dir", required=True)
    p.add_argument("--torrent", required=True)
    p.add_argument("--size", type=int, default=1 << 20)
    p.add_argument("--tracker")
    p.add_argument("--private", action="store_true")
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--lsd", action="store_true")
    p.add_argument("--timeout", type=float, default=120)
    args = p.parse_args()
    if args.mode == "make":
        make(args)
        return 0
    return run(args, args.mode == "seed")


if __name__ == "__main__":
    sys.exit(main())
