#!/usr/bin/env python3
"""Paired A/B of two builds of the stress binaries: runs each workload alternately from the
`before` and `after` bin directories (order swapped every pair), and prints the medians,
the ranges, their ratio, and in how many pairs the `after` build won.

Usage: scripts/ab.py BEFORE_BIN_DIR AFTER_BIN_DIR PAIRS SPEC [SPEC ...]
SPEC:  workload:arg,arg,...:RESULT_key:1|0   (1: higher is better, 0: lower is better)
Example (a build of an older commit in a git worktree, then `make stress-bins` in each):
  scripts/ab.py ../old/target/stress/bin target/stress/bin 10 \\
      ring:2,10000,300:hops_per_s:1 link_cascade:1,100000:ns_per_link:0
"""
import re
import statistics
import subprocess
import sys


def run(bin_dir, name, args, key):
    out = subprocess.run([f"{bin_dir}/{name}"] + args, capture_output=True, text=True,
                         timeout=900, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("RESULT")][-1]
    return float(dict(re.findall(r"(\w+)=(\S+)", line))[key])


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    before, after, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for spec in sys.argv[4:]:
        name, args, key, higher = spec.split(":")
        args, higher = args.split(","), higher == "1"
        b, a, wins = [], [], 0
        for i in range(pairs):
            order = [(before, b), (after, a)] if i % 2 == 0 else [(after, a), (before, b)]
            for d, acc in order:
                acc.append(run(d, name, args, key))
            if (a[-1] > b[-1]) == higher:
                wins += 1
        mb, ma = statistics.median(b), statistics.median(a)
        print(f"{name} {' '.join(args)} {key}: before {mb:.4g} [{min(b):.4g}-{max(b):.4g}] "
              f"after {ma:.4g} [{min(a):.4g}-{max(a):.4g}] after/before {ma / mb:.3f}; "
              f"after better in {wins}/{pairs} pairs", flush=True)


if __name__ == "__main__":
    main()
