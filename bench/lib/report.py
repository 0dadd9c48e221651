#!/usr/bin/python3
"""bench/run's report: reads "ROUND NAME WRK-OUTPUT-FILE" lines on stdin,
takes each endpoint's median round (by requests/s), and prints a table and
one JSON line of the figures, the ratios against the no-op responder and
DESIGN.md's targets."""
import argparse
import json
import re
import statistics
import sys

TARGETS = {"metered": 0.5, "usage": 0.6, "token": 0.35}
P99_MS_TARGET = 15.0
DISPATCH_TARGET = 500
RSS_KIB_TARGET = 8 * 1024
RSS_FLAT_KIB = 128  # "flat": page-granular noise, not growth per request
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse(path):
    text = open(path).read()
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    total = re.search(r"^\s+(\d+) requests in", text, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if not (rps and p99 and total):
        sys.exit("bench/run: cannot read wrk's output in %s:\n%s" % (path, text))
    return {
        "rps": float(rps.group(1)),
        "p99_ms": float(p99.group(1)) * UNIT_MS[p99.group(2)],
        "requests": int(total.group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--rss", required=True)
    ap.add_argument("--dispatch", default="null")
    args = ap.parse_args()

    runs = {}
    for line in sys.stdin:
        if line.strip():
            rnd, name, path = line.split(None, 2)
            runs.setdefault(name, []).append(parse(path.strip()))
    median = {}
    for name, rs in runs.items():
        rs = sorted(rs, key=lambda r: r["rps"])
        median[name] = dict(rs[(len(rs) - 1) // 2])
        median[name]["rounds_rps"] = [round(r["rps"]) for r in runs[name]]
        median[name]["non_2xx"] = sum(r["non_2xx"] for r in rs)
        median[name]["socket_errors"] = sum(r["socket_errors"] for r in rs)
    base = median["noop"]["rps"]

    with open(args.rss) as f:
        served, mid, end = (f.readline().split() for _ in range(3))
    rss = {"requests": int(served[0]), "start_kib": [int(x) for x in mid],
           "end_kib": [int(x) for x in end]}
    dispatch = json.loads(args.dispatch)

    print("%-9s %12s %8s %8s %9s %s" % ("endpoint", "req/s", "ratio", "target",
                                        "p99 ms", "rounds (req/s)"))
    out = {"benchmark": "run", "connections": args.connections,
           "seconds": args.seconds, "endpoints": {}}
    for name in ("noop", "metered", "usage", "token"):
        m = median[name]
        ratio = m["rps"] / base if base else 0.0
        target = TARGETS.get(name)
        print("%-9s %12.0f %7.2fx %8s %9.2f %s%s" % (
            name, m["rps"], ratio, "%.2fx" % target if target else "-", m["p99_ms"],
            " ".join(str(x) for x in m["rounds_rps"]),
            "   (%d non-2xx, %d socket errors)" % (m["non_2xx"], m["socket_errors"])
            if m["non_2xx"] or m["socket_errors"] else ""))
        out["endpoints"][name] = {
            "rps": round(m["rps"], 1), "ratio": round(ratio, 3), "target_ratio": target,
            "p99_ms": round(m["p99_ms"], 2), "rounds_rps": m["rounds_rps"],
            "non_2xx": m["non_2xx"], "socket_errors": m["socket_errors"]}
    out["endpoints"]["metered"]["target_p99_ms"] = P99_MS_TARGET
    print("metered p99 %.2f ms (target <= %.0f ms)" % (median["metered"]["p99_ms"],
                                                       P99_MS_TARGET))
    print("metered responders' RSS after %d requests: %s KiB, then %s KiB (target <= %d, flat)"
          % (rss["requests"], "/".join(map(str, rss["start_kib"])),
             "/".join(map(str, rss["end_kib"])), RSS_KIB_TARGET))
    out["rss"] = dict(rss, target_kib=RSS_KIB_TARGET)
    if dispatch:
        print("dispatcher %.0f deliveries/s (target >= %d)" % (dispatch["deliveries_per_s"],
                                                               DISPATCH_TARGET))
        out["dispatch"] = dispatch
    met = {
        "metered": out["endpoints"]["metered"]["ratio"] >= TARGETS["metered"],
        "metered_p99": median["metered"]["p99_ms"] <= P99_MS_TARGET,
        "usage": out["endpoints"]["usage"]["ratio"] >= TARGETS["usage"],
        "token": out["endpoints"]["token"]["ratio"] >= TARGETS["token"],
        "rss": max(rss["end_kib"]) <= RSS_KIB_TARGET and all(
            e - s <= RSS_FLAT_KIB for s, e in zip(rss["start_kib"], rss["end_kib"])),
    }
    if dispatch:
        met["dispatch"] = dispatch["deliveries_per_s"] >= DISPATCH_TARGET
    out["targets_met"] = met
    print(json.dumps(out))


main()
