#!/usr/bin/env bash
# Sweep throughput: 1,000 settings over a one-week synthetic trace of about one million
# tasks, with 1 and with 2 threads, timed with /usr/bin/time -v. docs/PERFORMANCE.md
# records the results. Usage: benches/scripts/sweep_perf.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/scaler-sweep-perf}
mkdir -p "$work"
. benches/scripts/week_sweep_setup.sh
echo "tasks: $(($(wc -l < "$trace") - 1))"
for threads in 1 2; do
  rm -rf "$work/out$threads"
  /usr/bin/time -v "$bin" sweep "$work/week.toml" --out "$work/out$threads" --threads "$threads" > "$work/stdout$threads" 2> "$work/time$threads"
  wall=$(awk -F': ' '/Elapsed/ {split($2, a, ":"); print a[1] * 60 + a[2]}' "$work/time$threads")
  rss=$(awk -F': ' '/Maximum resident/ {printf "%.1f", $2 / 1024}' "$work/time$threads")
  echo "threads=$threads wall_s=$wall peak_MB=$rss"
done
cmp "$work/out1/results.csv" "$work/out2/results.csv" && echo "results.csv identical for 1 and 2 threads"
grep -A6 '^recommended' "$work/stdout2" || true
