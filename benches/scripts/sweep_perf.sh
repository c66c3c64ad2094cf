#!/usr/bin/env bash
# Sweep throughput: 1,000 settings over a one-week synthetic trace of about one million
# tasks, with 1 and with 2 threads, timed with /usr/bin/time -v. docs/PERFORMANCE.md
# records the results. Usage: benches/scripts/sweep_perf.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/scaler-sweep-perf}
mkdir -p "$work"
cargo build --release -q -p scaler-sim
bin=$(pwd)/target/release/scaler-sim
trace="$work/week.csv"
[ -f "$trace" ] || "$bin" gen poisson:rate=2 diurnal:ratio=4 weekly:weekend=0.5 --span-s 604800 \
    --duration exponential:mean=20 --seed 1 -o "$trace"
cat > "$work/week.toml" <<TOML
[trace]
path = "$trace"
[cluster]
initial_workers = 20
provision_delay_s = 60
billing_minimum_s = 60
slo_wait_s = 30
[scaler]
min_workers = 5
max_workers = 150
evaluation_interval = 60
[sweep]
objective = "minimize cost subject to wait_p95_s <= 30"
scaler.scale_up_threshold = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
scaler.cooldown_period = [30, 60, 90, 120, 180, 240, 300, 420, 540, 600]
scaler.scale_down_threshold = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]
TOML
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
