#!/usr/bin/env python3
"""Side-by-side runner: tapegrad (benches/engine.rs) vs PyTorch (torch_bench.py).

    python3 bench/compare.py [--rounds 5] [--python /path/to/python] [W3 W4 ...]

The two benchmarks run interleaved on the same machine (tapegrad, PyTorch,
PyTorch, tapegrad, ... alternating which goes first), each in its quick mode,
so a noisy neighbour hits both sides alike. Each round gives one median per
case and side; the table shows, per case, the median over rounds of each
side's medians with their min-max, and the ratio tapegrad / PyTorch of the
times computed per round (median and min-max over rounds): below 1 means
tapegrad is faster. For W4 the throughput ratio (PyTorch time / tapegrad
time) is shown too, since its target is stated in GFLOP/s.

Needs cargo and a Python with torch (default: /work/torch-venv/bin/python,
or $TORCH_PYTHON). PyTorch is never a dependency of the crate.
"""

import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Targets from issue 7, as a bound on the time ratio tapegrad / PyTorch
# (W4: >= 0.85x PyTorch's GFLOP/s, i.e. a time ratio <= 1/0.85).
TARGETS = {
    "W1": "≤ 170 µs",
    "W2-64": "≤ 0.6×",
    "W2-512": "≤ 1.0×",
    "W3": "≤ 300 ns/op",
    "W4-256": "≥ 0.85× GFLOP/s",
    "W4-512": "≥ 0.85× GFLOP/s",
    "W4-1024": "≥ 0.85× GFLOP/s",
    "W5": "≤ 4 µs",
}


def parse(text):
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[0] == "RESULT":
            out[(parts[1], int(parts[2]))] = float(parts[3])
    return out


def run(cmd, env=None):
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return parse(p.stdout + "\n" + p.stderr)


def human(s):
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    return f"{s * 1e3:.3f} ms"


def spread(values, fmt):
    return f"{fmt(statistics.median(values))} ({fmt(min(values))} – {fmt(max(values))})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--python", default=os.environ.get("TORCH_PYTHON", "/work/torch-venv/bin/python"))
    ap.add_argument("cases", nargs="*", help="W1 .. W5 (default: all)")
    args = ap.parse_args()

    subprocess.run(["cargo", "bench", "--bench", "engine", "--no-run"], cwd=ROOT, check=True,
                   capture_output=True)
    tg_cmd = ["cargo", "bench", "--quiet", "--bench", "engine", "--", "--quick", *args.cases]
    pt_cmd = [args.python, os.path.join(HERE, "torch_bench.py"), "--quick", *args.cases]

    tg, pt = defaultdict(list), defaultdict(list)
    ratios = defaultdict(list)
    for r in range(args.rounds):
        order = [("tg", tg_cmd), ("pt", pt_cmd)]
        if r % 2:
            order.reverse()
        got = {}
        for side, cmd in order:
            print(f"round {r + 1}/{args.rounds}: {side}", file=sys.stderr, flush=True)
            got[side] = run(cmd)
        for key, v in got["tg"].items():
            tg[key].append(v)
        for key, v in got["pt"].items():
            pt[key].append(v)
        for key in got["tg"].keys() & got["pt"].keys():
            ratios[key].append(got["tg"][key] / got["pt"][key])
        # micrograd (pure Python) is compared with tapegrad's W5.
        if ("W5", 1) in got["tg"] and ("W5-micrograd", 1) in got["pt"]:
            ratios[("W5-micrograd", 1)].append(got["tg"][("W5", 1)] / got["pt"][("W5-micrograd", 1)])

    print(f"{args.rounds} interleaved rounds; per-round medians; median (min – max) over rounds")
    print()
    print("| case | threads | tapegrad | PyTorch | time ratio tapegrad/PyTorch | "
          "throughput ratio | target |")
    print("|---|---|---|---|---|---|---|")
    for key in sorted(tg.keys() | pt.keys(), key=lambda k: (k[0], k[1])):
        case, threads = key
        t = spread(tg[key], human) if key in tg else "–"
        p = spread(pt[key], human) if key in pt else "–"
        if key in ratios:
            rr = ratios[key]
            ratio = spread(rr, lambda v: f"{v:.2f}")
            thr = spread([1 / v for v in rr], lambda v: f"{v:.2f}×") if case.startswith("W4") else ""
        else:
            ratio, thr = "–", ""
        print(f"| {case} | {threads} | {t} | {p} | {ratio} | {thr} | {TARGETS.get(case, '')} |")


if __name__ == "__main__":
    main()
