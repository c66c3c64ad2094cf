#!/usr/bin/env bash
# Measures `scaler-sim run` end to end (CSV reading included, one thread) on synthetic task
# traces of about 1, 3 and 10 million tasks, with /usr/bin/time -v. Results go to stdout;
# docs/PERFORMANCE.md records them. Usage: benches/scripts/run_scaling.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/scaler-perf}
mkdir -p "$work"
cargo build --release -q -p scaler-sim
bin=target/release/scaler-sim

# measure LABEL SCENARIO OUT: one timed run, one table row.
measure() {
  /usr/bin/time -v "$bin" run "$2" --out "$3" > "$work/stdout" 2> "$work/time"
  tasks=$(awk '/^  tasks/ {print $2}' "$work/stdout")
  wall=$(awk -F': ' '/Elapsed/ {split($2, a, ":"); print a[1] * 60 + a[2]}' "$work/time")
  rss=$(awk -F': ' '/Maximum resident/ {printf "%.1f", $2 / 1024}' "$work/time")
  rate=$(awk -v t="$tasks" -v w="$wall" 'BEGIN {printf "%.2fM", t / w / 1e6}')
  printf '%-10s %-10s %-8s %-12s %-10s\n' "$1" "$tasks" "$wall" "$rate" "$rss"
}
printf '%-10s %-10s %-8s %-12s %-10s\n' size tasks wall_s tasks_per_s peak_MB
for m in 1 3 10; do
  span=$((m * 10000))
  trace="$work/tasks_${m}m.csv"
  [ -f "$trace" ] || "$bin" gen poisson:rate=100 diurnal:period=10000,ratio=3 --span-s "$span" \
      --duration exponential:mean=0.5 --seed 1 -o "$trace" > /dev/null
  cat > "$work/s_${m}m.toml" <<TOML
[trace]
path = "$trace"
[cluster]
initial_workers = 50
provision_delay_s = 30
[scaler]
min_workers = 10
max_workers = 200
cooldown_period = 120
metrics_window = 120
evaluation_interval = 30
TOML
  for run in 1 2 3; do
    measure "${m}M" "$work/s_${m}m.toml" "$work/out_${m}m"
  done
done

# Cost against pool size: the same 3M arrivals, with task durations (and so busy workers) x1, x10, x100.
echo
printf '%-10s %-10s %-8s %-12s %-10s\n' busy/max tasks wall_s tasks_per_s peak_MB
for k in 1 10 100; do
  mean=$(awk -v k="$k" 'BEGIN {print 0.5 * k}')
  trace="$work/tasks_3m_x${k}.csv"
  [ -f "$trace" ] || "$bin" gen poisson:rate=100 diurnal:period=10000,ratio=3 --span-s 30000 \
      --duration "exponential:mean=$mean" --seed 1 -o "$trace" > /dev/null
  max=$((200 * k))
  cat > "$work/w_${k}.toml" <<TOML
[trace]
path = "$trace"
[cluster]
initial_workers = $((50 * k))
provision_delay_s = 30
[scaler]
min_workers = $((10 * k))
max_workers = $max
cooldown_period = 120
metrics_window = 120
evaluation_interval = 30
TOML
  for run in 1 2; do
    measure "$((50 * k))/$max" "$work/w_${k}.toml" "$work/out_w${k}"
  done
done
