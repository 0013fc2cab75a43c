#!/usr/bin/env python3
"""Summarises a netns-swarm run made with --trace-ms: where the time between the fluid bound and the last target went.

    benchmarks/swarm/trace-summary.py LOG_DIR IMAGE_BYTES [--window-ms 1000]

LOG_DIR holds seed.log and t1.log ... tN.log from `netns-swarm.sh --trace-ms N --keep-logs LOG_DIR` (netns-swarm.sh
runs this itself when given --trace-ms). Every trace line carries the wall clock and the library's own counters, so
all nodes line up on the moment the targets started deploying (start_unix_ms of their completion lines).

Prints, in milliseconds after that start: when each target had its first peer, its first byte in and out, and its
completion; the seed's first byte and when its payload reached one image; the swarm's download rate per window over
the first and the last seconds; and, for the last target, the split of its time into the wait for its first byte, the
image at its own steady rate (the median of its per-window rates between the fifth second and five seconds before the
end), and what is left (the ramp up to that rate and the tail after the seed's first pass).
"""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def first(trace, key, start):
    return next((x["unix_ms"] - start for x in trace if x[key] > 0), None)


def value_at(trace, key, ms, start):
    v = 0
    for x in trace:
        if x["unix_ms"] - start > ms:
            break
        v = x[key]
    return v


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    root, image = argv[1], int(argv[2])
    window = int(argv[argv.index("--window-ms") + 1]) if "--window-ms" in argv else 1000
    targets = []
    i = 1
    while True:
        try:
            lines = load(f"{root}/t{i}.log")
        except FileNotFoundError:
            break
        done = next((x for x in lines if x.get("event") == "complete"), None)
        trace = [x for x in lines if x.get("event") == "trace"]
        if not trace:
            print(f"t{i}.log has no trace lines: run netns-swarm.sh with --trace-ms", file=sys.stderr)
            return 3
        targets.append((i, trace, done))
        i += 1
    if not targets:
        print(f"no t1.log in {root}", file=sys.stderr)
        return 3
    starts = [d["start_unix_ms"] for _, _, d in targets if d]
    if not starts:
        print("no target completed", file=sys.stderr)
        return 3
    start = min(starts)
    seed = [x for x in load(f"{root}/seed.log") if x.get("event") == "trace"]

    print("target  first peer  first byte in  first byte out  complete   (ms after the targets started)")
    for i, trace, done in targets:
        complete = done["complete_unix_ms"] - start if done else None
        print(f"{i:6d}  {first(trace, 'peers', start)!s:>10}  {first(trace, 'down', start)!s:>13}  "
              f"{first(trace, 'up', start)!s:>14}  {complete!s:>8}")
    image_at = next((x["unix_ms"] - start for x in seed if x["up"] >= image), None)
    print(f"seed: first byte out at {first(seed, 'up', start)} ms; payload reached one image at {image_at} ms; "
          f"{seed[-1]['up'] / image:.3f} images of payload in all" if seed else "seed: no trace lines")

    end = max((d["complete_unix_ms"] - start for _, _, d in targets if d), default=0)
    print(f"swarm download, MB/s per {window} ms window (sum over targets; seed upload in brackets):")
    marks = list(range(window, min(end, 6000) + window, window)) + list(range(max(window, end - 4000), end + window, window))
    shown = set()
    for ms in marks:
        if ms in shown:
            continue
        shown.add(ms)
        down = sum(value_at(t, "down", ms, start) - value_at(t, "down", ms - window, start) for _, t, _ in targets)
        up = value_at(seed, "up", ms, start) - value_at(seed, "up", ms - window, start)
        print(f"  {ms - window:6d}-{ms:<6d} {down * 1000 / window / 1e6:7.2f}  [{up * 1000 / window / 1e6:5.2f}]")

    last_i, last_trace, last_done = max(((i, t, d) for i, t, d in targets if d), key=lambda x: x[2]["complete_unix_ms"])
    finish = last_done["complete_unix_ms"] - start
    rates = [(value_at(last_trace, "down", ms + window, start) - value_at(last_trace, "down", ms, start)) * 1000 / window
             for ms in range(5000, finish - 5000, window)]
    if rates:
        steady = statistics.median(rates)
        waited = first(last_trace, "down", start) or 0
        at_rate = image / steady * 1000
        print(f"last target (t{last_i}) complete at {finish} ms = {waited} ms before its first byte + {at_rate:.0f} ms for "
              f"the image at its steady {steady / 1e6:.2f} MB/s + {finish - waited - at_rate:.0f} ms of ramp and tail")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
