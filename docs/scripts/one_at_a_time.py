#!/usr/bin/env python3
"""Prints, for each swept key, the metrics when only that key moves away from the
baseline (every other key at the scenario's own value). Reads a sweep folder.
Usage: python3 docs/scripts/one_at_a_time.py out/nasa-tuning"""
import csv
import json
import sys

folder = sys.argv[1]
rec = json.load(open(f"{folder}/recommendation.json"))
base = rec["baseline"]["params"]
rows = list(csv.DictReader(open(f"{folder}/results.csv")))
axes = rec["axes"]
cols = ["cost", "wait_p95_s", "wait_p99_s", "slo_violation_ratio", "scale_ups", "scale_downs", "mean_workers"]


def same(a, b):
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


for axis in axes:
    print(f"\n| {axis} | " + " | ".join(cols) + " |")
    print("|" + " --- |" * (len(cols) + 1))
    for r in rows:
        if r["status"] != "ok":
            continue
        if all(same(r[a], base[a]) for a in axes if a != axis):
            mark = " (baseline)" if same(r[axis], base[axis]) else ""
            vals = []
            for c in cols:
                v = float(r[c])
                vals.append(f"{v:.0f}" if c in ("scale_ups", "scale_downs") else f"{v:.4f}" if c == "slo_violation_ratio" else f"{v:.2f}")
            print(f"| {r[axis]}{mark} | " + " | ".join(vals) + " |")
