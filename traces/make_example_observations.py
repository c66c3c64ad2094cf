#!/usr/bin/env python3
"""Writes traces/example_observations.csv: two hours of one-minute observations of a
worker pool whose load rises to a peak and falls back, with a burst in the middle.
Deterministic (no randomness); run from the repository root:
    python3 traces/make_example_observations.py > traces/example_observations.csv
"""
import math

print("timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization")
workers = 2
for minute in range(121):
    t = minute * 60
    # Demand in busy-worker equivalents: a smooth hump plus a burst at minutes 50-54.
    demand = 1.0 + 7.0 * math.sin(math.pi * minute / 120) ** 2
    if 50 <= minute < 55:
        demand += 6.0
    busy = min(workers, int(round(demand)))
    pending = max(0, int(round((demand - workers) * 4)))
    util = busy / workers
    print(f"{t},{workers},{pending},{busy},{30 + (minute % 7) * 1.5:g},{util:.4f}")
    # A crude operator: the recorded pool grew and shrank a little behind demand.
    if minute % 10 == 9:
        workers = max(2, min(10, int(round(demand)) + 1))
