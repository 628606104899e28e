#!/usr/bin/env python3
"""Paired whole-program timing on a noisy machine: runs the commands in
alternating order N times (after one warm-up each) and prints each one's median
and minimum wall time and the median of the per-pair ratios to the first
command. Drift of the machine over the run cancels in the ratios, which
hyperfine's back-to-back batches do not. Used for docs/performance.md:

    python3 tests/bench/paired.py 20 "OLD detect s.nwb --out /tmp/a" "NEW detect s.nwb --out /tmp/b"
"""
import subprocess, sys, time, statistics, os, shutil

n = int(sys.argv[1]); cmds = sys.argv[2:]
times = [[] for _ in cmds]
for c in cmds:  # warm-up
    subprocess.run(c, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for i in range(n):
    order = list(range(len(cmds)))
    if i % 2: order.reverse()
    for j in order:
        t = time.perf_counter()
        r = subprocess.run(cmds[j], shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[j].append(time.perf_counter() - t)
        if r.returncode: print("failed:", cmds[j]); sys.exit(1)
for j, c in enumerate(cmds):
    ratios = [a / b for a, b in zip(times[0], times[j])]
    print(f"median {statistics.median(times[j])*1e3:7.1f} ms  min {min(times[j])*1e3:7.1f}  ratio first/this {statistics.median(ratios):.3f}  {c[:90]}")
