"""Performance of the Python package (docs/PERFORMANCE.md, "Python"):

1. ``scaler.replay`` on 1 M observations (rows per second, best of 5), and the cost of
   turning the decisions into Python objects;
2. the per-tick overhead of the asyncio monitoring loop (``AutoScaler``): one tick with
   async components, with sync components (each call in its own thread), and the Rust step
   alone (``Core.tick`` through PyO3).

Run with the release build installed:  python python/bench/bench.py [--rows N] [--ticks N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from pathlib import Path

import scaler

ROOT = Path(__file__).resolve().parents[2]


def make_observations(path: Path, rows: int) -> None:
    rng = random.Random(7)
    workers = 4
    with open(path, "w") as f:
        f.write("timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n")
        for i in range(rows):
            if rng.random() < 0.01:
                workers = max(1, min(40, workers + rng.choice((-1, 1))))
            busy = rng.randint(0, workers)
            pending = rng.choice((0, 0, 0, 3, 12))
            f.write(f"{i * 15},{workers},{pending},{busy},{rng.randint(5, 60)}.{rng.randint(0, 999):03d},{busy / workers:.6f}\n")


def bench_replay(rows: int) -> None:
    path = ROOT / "target" / f"bench_{rows}_observations.csv"
    if not path.exists() or sum(1 for _ in open(path)) != rows + 1:
        make_observations(path, rows)
    cfg = scaler.Config.from_file(ROOT / "sims" / "replay_example.toml")
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        t = scaler.replay(cfg, path)
        times.append(time.perf_counter() - t0)
    assert len(t) == rows
    best = min(times)
    print(f"replay {rows} rows: best {best:.3f} s, median {statistics.median(times):.3f} s -> {rows / best / 1e6:.2f} M rows/s")
    t0 = time.perf_counter()
    cols = t.columns()
    tc = time.perf_counter() - t0
    t0 = time.perf_counter()
    lst = t.to_list()
    tl = time.perf_counter() - t0
    print(f"  columns() {tc:.3f} s ({rows / tc / 1e6:.2f} M rows/s), to_list() {tl:.3f} s ({rows / tl / 1e6:.2f} M rows/s)")
    assert len(cols["action"]) == len(lst) == rows
    try:
        import pandas  # noqa: F401

        t0 = time.perf_counter()
        t.to_pandas()
        print(f"  to_pandas() {time.perf_counter() - t0:.3f} s")
    except ImportError:
        pass


class AsyncPool:
    def __init__(self) -> None:
        self.n = 8

    async def workers(self):
        return {"ready": self.n, "busy_slots": 5, "provisioning": 0, "slots_per_worker": 1}

    async def tasks(self):
        return {"pending": 0, "running": 5, "avg_task_duration_s": 20.0}

    async def set_workers(self, n):
        self.n = n


class SyncPool:
    def __init__(self) -> None:
        self.n = 8

    def workers(self):
        return scaler.WorkerCounts(ready=self.n, busy_slots=5)

    def tasks(self):
        return scaler.TaskStats(pending=0, running=5, avg_task_duration_s=20.0)

    def set_workers(self, n):
        self.n = n


async def per_tick(pool, ticks: int) -> float:
    a = scaler.AutoScaler(pool, pool, pool, evaluation_interval=1, metrics_window=60, cooldown_period=0)
    t0 = time.perf_counter()
    for k in range(ticks):
        await a._tick(k * 1000)
    dt = (time.perf_counter() - t0) / ticks
    m = a.get_scaling_metrics()
    assert m["ticks"] == ticks and m["skipped_ticks"] == 0, m
    return dt


async def live_loop(pool, seconds: float) -> "tuple[int, float]":
    """The real loop (sleeping on the tick grid) at a 1 ms interval: CPU time per tick."""
    a = scaler.AutoScaler(pool, pool, pool, evaluation_interval=0.001, metrics_window=0.06, cooldown_period=0)
    c0 = time.process_time()
    await a.start_monitoring()
    await asyncio.sleep(seconds)
    await a.stop_monitoring()
    cpu = time.process_time() - c0
    ticks = a.get_scaling_metrics()["ticks"]
    return ticks, cpu / ticks


def core_tick(ticks: int) -> float:
    core = scaler._scaler.Core(scaler.Config(evaluation_interval=1, metrics_window=60, cooldown_period=0))
    t0 = time.perf_counter()
    for k in range(ticks):
        _, target, _ = core.tick(k * 1000, (8.0, 0.0, 5.0, 1.0), (0.0, 5.0, 20.0))
        if target is not None:
            core.outcome(k * 1000, "applied")
    return (time.perf_counter() - t0) / ticks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--ticks", type=int, default=5_000)
    args = ap.parse_args()
    print(f"python {os.sys.version.split()[0]}, scaler {scaler.__version__} ({scaler._scaler.__file__})")
    bench_replay(args.rows)
    a = asyncio.run(per_tick(AsyncPool(), args.ticks))
    s = asyncio.run(per_tick(SyncPool(), max(500, args.ticks // 5)))
    c = core_tick(args.ticks * 10)
    n, cpu = asyncio.run(live_loop(AsyncPool(), 2.0))
    print(f"live loop, 1 ms interval, async components: {n} ticks in 2 s, {cpu * 1e6:.1f} us CPU per tick")
    print(f"per tick: async components {a * 1e6:.1f} us, sync components (a thread per call) {s * 1e6:.1f} us, Core.tick alone {c * 1e6:.2f} us")


if __name__ == "__main__":
    main()
