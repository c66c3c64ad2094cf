#!/usr/bin/env python3
"""A generated GitHub Actions job history, in the shape of the REST API's "list jobs for a
workflow run" responses (`{"total_count": N, "jobs": [...]}`, at most 100 jobs a page), for
`scaler-sim import github-jobs`: tests of size, the performance measurement, and worked
examples of a CI test farm.

Seeded and deterministic: the same arguments give the same bytes. Runs arrive through a
working day (busier at 10:00 and 15:00, quiet at night); each run has a matrix of jobs
on one of three runner pools (GitHub-hosted, self-hosted linux x64, self-hosted gpu);
each job waits in the queue, then runs. The awkward parts of real exports are there: jobs
still queued or in progress (null `completed_at`, null runner), skipped jobs and jobs
cancelled before a runner took them (null `runner_id`, empty `runner_name`), clock skew
(`started_at` a second before `created_at`), re-run attempts (a new job id,
`run_attempt: 2`), and with --overlap, pages printed twice (the same job ids again).

    python3 docs/scripts/gen_github_jobs.py --runs 50 -o jobs.jsonl
    python3 docs/scripts/gen_github_jobs.py --size-mb 1024 -o /tmp/jobs-1g.jsonl
    scaler-sim import github-jobs /tmp/jobs-1g.jsonl -o /tmp/jobs-1g.csv

--format: `pages` (one response per line, JSON Lines: what `gh api --paginate` prints
with one page a line), `jobs` (one job per line: `gh api --paginate --jq '.jobs[]'`),
`array` (a pretty-printed JSON array of responses: `gh api --paginate --slurp`), `page`
(one pretty-printed response holding every job).
"""

import argparse
import json
import math
import random
import sys
from datetime import datetime, timedelta, timezone

REPO = "octo-org/octo-repo"
API = "https://api.github.com/repos/" + REPO
POOLS = [
    # (labels, runner name prefix, runner group, share of jobs, mean run time s)
    (["ubuntu-latest"], "GitHub Actions", (1, "GitHub Actions"), 0.45, 240.0),
    (["self-hosted", "linux", "x64"], "farm-x64", (2, "test-farm"), 0.45, 600.0),
    (["self-hosted", "linux", "x64", "gpu"], "farm-gpu", (3, "gpu"), 0.10, 1500.0),
]
STEP_NAMES = [
    "Set up job", "Run actions/checkout@v4", "Set up toolchain", "Restore cache",
    "Build", "Run unit tests", "Run integration tests", "Upload artifacts",
    "Post Restore cache", "Post Run actions/checkout@v4", "Complete job",
]
WORKFLOWS = ["CI", "Nightly", "Release", "Lint"]
BRANCHES = ["main", "release/2.4", "feature/pool-sizing", "dependabot/cargo/serde-1.0.200"]


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def day_rate(t, base):
    """Runs per second at time t: two working-hour peaks, quiet nights."""
    h = t.hour + t.minute / 60.0
    peak = math.exp(-((h - 10.0) ** 2) / 4.0) + 0.8 * math.exp(-((h - 15.0) ** 2) / 5.0)
    return base * (0.05 + peak)


def make_job(rng, job_id, run, attempt, index, pool, created, now):
    labels, runner_prefix, (group_id, group_name), _, mean_s = pool
    wait = rng.expovariate(1.0 / 20.0) if labels[0] == "ubuntu-latest" else rng.expovariate(1.0 / 90.0)
    run_s = max(1.0, rng.lognormvariate(math.log(mean_s), 0.6))
    r = rng.random()
    status, conclusion = "completed", "success"
    started = created + timedelta(seconds=int(wait))
    completed = started + timedelta(seconds=int(run_s))
    runner = (rng.randrange(1, 40), "%s %d" % (runner_prefix, rng.randrange(1, 40)))
    if r < 0.04:
        # Skipped (an `if:` was false): never on a runner.
        conclusion = "skipped"
        started, completed, runner = created, created, None
    elif r < 0.05:
        # Cancelled before any runner took it.
        conclusion = "cancelled"
        started, completed, runner = created, created + timedelta(seconds=int(wait)), (0, "")
    elif r < 0.06:
        # Clock skew: the runner's clock is a second behind.
        started = created - timedelta(seconds=1)
    elif r < 0.12:
        conclusion = "failure"
    if completed > now:
        # Still going when the export was taken.
        if started > now:
            status, conclusion, started, runner = "queued", None, None, None
        else:
            status, conclusion = "in_progress", None
        completed = None
    steps = []
    if started is not None and runner is not None:
        t = started
        n = rng.randrange(5, len(STEP_NAMES) + 1)
        for k, name in enumerate(STEP_NAMES[:n]):
            t2 = t + timedelta(seconds=int(run_s / n))
            done = completed is not None or k < n - 1
            steps.append({
                "name": name,
                "status": "completed" if done else "in_progress",
                "conclusion": (conclusion if k == n - 1 else "success") if done else None,
                "number": k + 1,
                "started_at": stamp(t),
                "completed_at": stamp(t2) if done else None,
            })
            t = t2
    return {
        "id": job_id,
        "run_id": run["id"],
        "workflow_name": run["workflow"],
        "head_branch": run["branch"],
        "run_url": "%s/actions/runs/%d" % (API, run["id"]),
        "run_attempt": attempt,
        "node_id": "CR_kwDOA%010dzw%d" % (job_id % 10**10, index),
        "head_sha": run["sha"],
        "url": "%s/actions/jobs/%d" % (API, job_id),
        "html_url": "https://github.com/%s/actions/runs/%d/job/%d" % (REPO, run["id"], job_id),
        "status": status,
        "conclusion": conclusion,
        "created_at": stamp(created),
        "started_at": stamp(started) if started is not None else None,
        "completed_at": stamp(completed) if completed is not None else None,
        "name": "test (%s, shard %d)" % (labels[-1], index + 1),
        "steps": steps,
        "check_run_url": "%s/check-runs/%d" % (API, job_id),
        "labels": labels,
        "runner_id": runner[0] if runner else None,
        "runner_name": runner[1] if runner else None,
        "runner_group_id": group_id if runner and runner[0] else None,
        "runner_group_name": group_name if runner and runner[0] else None,
    }


def pools_cumulative():
    acc, out = 0.0, []
    for p in POOLS:
        acc += p[3]
        out.append((acc, p))
    return out


def generate(args, write_page):
    """Calls write_page(total_count, jobs) for each page of each run; returns bytes written."""
    rng = random.Random(args.seed)
    trng = random.Random(args.seed + 1)  # the runs' arrival times, a stream of their own
    start = datetime(2024, 3, 4, 0, 0, 0, tzinfo=timezone.utc)
    budget = args.size_mb * 1024 * 1024 if args.size_mb else None
    base = args.runs_per_hour / 3600.0

    def arrivals():
        t = start
        while True:
            t = t + timedelta(seconds=trng.expovariate(day_rate(t, base) * 2.0))
            yield t

    if args.runs:
        # The export is taken two minutes after the last run arrived, so the newest jobs
        # are still queued or in progress.
        gen = arrivals()
        times = [next(gen) for _ in range(args.runs)]
        now = times[-1] + timedelta(seconds=120)
        times = iter(times)
    else:
        times = arrivals()
        now = datetime(9999, 1, 1, tzinfo=timezone.utc)
    cum = pools_cumulative()
    run_id = 8000000000
    job_id = 20000000000
    written = 0
    for t in times:
        if budget is not None and written >= budget:
            break
        run_id += rng.randrange(1, 50)
        run = {
            "id": run_id,
            "workflow": rng.choice(WORKFLOWS),
            "branch": rng.choice(BRANCHES),
            "sha": "%040x" % rng.getrandbits(160),
        }
        x = rng.random()
        pool = next(p for c, p in cum if x <= c)
        attempts = 2 if rng.random() < 0.05 else 1
        jobs = []
        for attempt in range(1, attempts + 1):
            created = t + timedelta(seconds=(attempt - 1) * 900)
            for i in range(rng.randrange(1, args.max_matrix + 1)):
                job_id += rng.randrange(1, 20)
                jobs.append(make_job(rng, job_id, run, attempt, i, pool, created, now))
        for p in range(0, len(jobs), 100):
            written += write_page(len(jobs), jobs[p:p + 100])
            if args.overlap and rng.random() < 0.02:
                # A page fetched twice (the listing moved between requests).
                written += write_page(len(jobs), jobs[p:p + 100])
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", required=True, help="output file (- for standard output)")
    ap.add_argument("--runs", type=int, default=0, help="number of workflow runs (default: until --size-mb)")
    ap.add_argument("--size-mb", type=int, default=0, help="stop once this many MiB are written")
    ap.add_argument("--format", choices=["pages", "jobs", "array", "page"], default="pages")
    ap.add_argument("--max-matrix", type=int, default=12, help="at most this many jobs per run attempt")
    ap.add_argument("--runs-per-hour", type=float, default=120.0, help="runs per hour at the daily peak")
    ap.add_argument("--overlap", action="store_true", help="print about 2%% of pages twice")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not args.runs and not args.size_mb:
        ap.error("give --runs or --size-mb")
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="\n")
    pretty = args.format in ("array", "page")
    state = {"first": True, "all": []}

    def write_page(total, jobs):
        if args.format == "pages":
            text = json.dumps({"total_count": total, "jobs": jobs}, separators=(",", ":")) + "\n"
        elif args.format == "jobs":
            text = "".join(json.dumps(j, separators=(",", ":")) + "\n" for j in jobs)
        elif args.format == "array":
            body = json.dumps({"total_count": total, "jobs": jobs}, indent=2)
            text = ("[\n" if state["first"] else ",\n") + body
            state["first"] = False
        else:
            state["all"].extend(jobs)
            return sum(len(json.dumps(j)) for j in jobs)
        out.write(text)
        return len(text)

    generate(args, write_page)
    if args.format == "array":
        out.write("[]\n" if state["first"] else "\n]\n")
    elif args.format == "page":
        json.dump({"total_count": len(state["all"]), "jobs": state["all"]}, out, indent=2)
        out.write("\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
