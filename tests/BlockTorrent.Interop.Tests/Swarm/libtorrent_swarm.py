#!/usr/bin/python3
"""A libtorrent peer for the swarm interop tests.

check:    checks <dir>/<name> against the torrent; exits 0 when every piece matches, 1 otherwise.
seed:     seeds <dir>/<name> (trusted: seed mode) and prints {"port": N} once listening, then status until killed.
download: downloads into <dir>, connecting to --peer host:port (repeatable); exits 0 once complete, 1 on timeout.
          With --magnet instead of --torrent it starts from the magnet link: metadata (and v2 piece layers) come from the peers.
Only the peers named on the command line and those the torrent's trackers return are used: no DHT, LSD, UPnP,
NAT-PMP, uTP or encryption.
--ssl-cert CERT --ssl-key KEY: for an SSL torrent (its info dictionary has ssl-cert), the certificate libtorrent
presents; it also listens on an SSL port, and the port printed is that one, since SSL peers connect to it.
"""
import argparse
import json
import sys
import time

import libtorrent as lt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["seed", "download", "check"])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--torrent")
    source.add_argument("--magnet")
    p.add_argument("--dir", required=True)
    p.add_argument("--peer", action="append", default=[])
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--ssl-cert")
    p.add_argument("--ssl-key")
    args = p.parse_args()

    settings = {
        "listen_interfaces": "127.0.0.1:0,127.0.0.1:0s" if args.ssl_cert else "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": 2,
        "in_enc_policy": 2,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    }
    ses = lt.session(settings)
    if args.magnet:
        atp = lt.parse_magnet_uri(args.magnet)
    else:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = args.dir
    if args.mode == "seed":
        atp.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(atp)
    if args.ssl_cert:
        # No Diffie-Hellman parameters: TLS 1.3 and ECDHE need none (libtorrent reports an error for the empty file and goes on).
        h.set_ssl_certificate(args.ssl_cert, args.ssl_key, "")
    if args.mode == "check":
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            s = h.status()
            if s.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data) and s.has_metadata:
                break
            time.sleep(0.05)
        time.sleep(0.5)
        s = h.status()
        bad = [i for i, have in enumerate(s.pieces) if not have]
        print(json.dumps({"progress": s.progress, "missing": bad[:20]}), flush=True)
        return 0 if not bad else 1
    deadline = time.time() + args.timeout
    port = 0
    while port == 0 and time.time() < deadline:
        if args.ssl_cert:
            for a in ses.pop_alerts():
                if isinstance(a, lt.listen_succeeded_alert) and a.socket_type == lt.socket_type_t.tcp_ssl:
                    port = a.port
        else:
            port = ses.listen_port()
        time.sleep(0.05)
    print(json.dumps({"port": port}), flush=True)

    peers = []
    for peer in args.peer:
        host, port = peer.rsplit(":", 1)
        peers.append((host, int(port)))
    last_connect = 0
    while time.time() < deadline:
        s = h.status()
        if args.mode == "download":
            if s.is_seeding:
                print(json.dumps({"complete": True, "downloaded": s.total_payload_download}), flush=True)
                return 0
            if time.time() - last_connect > 2 and s.num_peers < len(peers):
                for peer in peers:
                    h.connect_peer(peer)
                last_connect = time.time()
        for a in ses.pop_alerts():
            if a.category() & lt.alert.category_t.error_notification:
                print(json.dumps({"alert": a.message()}), flush=True)
        time.sleep(0.05)
    s = h.status()
    print(json.dumps({"timeout": True, "progress": s.progress, "downloaded": s.total_payload_download, "peers": s.num_peers, "state": str(s.state)}), flush=True)
    return 1 if args.mode == "download" else 0


if __name__ == "__main__":
    sys.exit(main())
