#!/usr/bin/env bash
# The sweep of benches/scripts/sweep_perf.sh (1,000 settings over a one-week trace of about
# one million tasks) on one machine and as a Slurm job array on the same machine, timed:
# the overhead Slurm adds per task and in all, and a check that the merged files are the
# one-machine sweep's, byte for byte. docs/PERFORMANCE.md records the results.
#
#   scripts/slurm-cluster start            # prints: export SLURM_CONF=...; run that
#   benches/scripts/slurm_sweep.sh [TASKS] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
tasks=${1:-8}
work=${2:-/tmp/scaler-slurm-sweep}
sinfo -h -o '%T' | grep -Eq 'idle|mixed|allocated' || { echo "no Slurm cluster answers: run scripts/slurm-cluster start and export SLURM_CONF" >&2; exit 2; }
mkdir -p "$work"
. benches/scripts/week_sweep_setup.sh
cpus=$(nproc)
secs() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

# Slurm alone: an array of empty tasks and a dependent empty job, submitted to merged.
# Waits until job $1 has left the queue (polled every 0.1 s: `sbatch --wait` polls every 10 s).
gone() { while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do sleep 0.1; done; }
t0=$(secs)
empty=$(sbatch --parsable --array="1-$tasks" --output=/dev/null --wrap true)
after=$(sbatch --parsable --dependency="afterok:${empty%%;*}" --output=/dev/null --wrap true)
gone "${after%%;*}"
t1=$(secs)
echo "slurm alone: $tasks empty tasks + dependent job: $(calc "$t1 - $t0") s"

# Every scaler-sim process is timed (wall, user and system seconds, peak RSS) into times.txt:
# CPU seconds are what load on a shared machine changes least.
cat > "$work/timed-scaler-sim" <<SH
#!/bin/sh
exec /usr/bin/time -a -o "$work/times.txt" -f "%C|%e|%U|%S|%M" "$bin" "\$@"
SH
chmod +x "$work/timed-scaler-sim"
rm -f "$work/times.txt"

# One machine, every core.
rm -rf "$work/one"
t0=$(secs)
"$work/timed-scaler-sim" sweep "$work/week.toml" --out "$work/one" --threads "$cpus" > "$work/one.stdout" 2>&1 || [ $? -eq 3 ]
t1=$(secs)
one=$(calc "$t1 - $t0")
echo "one machine, $cpus threads: $one s"

# The Slurm array (one core per task, $cpus at a time) and the merge, submitted to merged.
rm -rf "$work/slurm"
t0=$(secs)
SCALER_SIM="$work/timed-scaler-sim" deploy/slurm/submit.sh "$work/week.toml" "$work/slurm" "$tasks" | tee "$work/submit.stdout"
gone "$(awk '/^merge: job/ {print $3}' "$work/submit.stdout")"
t1=$(secs)
[ -s "$work/slurm/merged/recommendation.json" ] || { echo "the merge wrote no recommendation.json: see $work/slurm/logs" >&2; exit 1; }
arr=$(calc "$t1 - $t0")
echo "slurm array of $tasks tasks + merge: $arr s ($(calc "$arr / $one")x the one-machine sweep)"
echo "overhead: $(calc "$arr - $one") s in all, $(calc "($arr - $one) * $cpus / $tasks") s per task ($cpus tasks at a time)"
# Each task's run as Slurm accounts it (start and end, 1 s resolution).
job=$(awk '/^sweep array: job/ {print $4}' "$work/submit.stdout")
scontrol show job "$job" 2>/dev/null | awk '/ArrayTaskId=/ {for (i = 1; i <= NF; i++) if ($i ~ /^ArrayTaskId=/) id = $i}
  /RunTime=/ {for (i = 1; i <= NF; i++) if ($i ~ /^RunTime=/) print "  task " id " " $i}' || true
# CPU seconds: the one-machine sweep, the shards, the merge (from times.txt).
awk -F'|' -v tasks="$tasks" '
  / --out [^ ]*\/one / { one = $3 + $4; onewall = $2 }
  / --shard auto / { n++; shards += $3 + $4; wall += $2 }
  / merge / { merge = $3 + $4; mergewall = $2 }
  END {
    printf "cpu seconds: one machine %.1f (wall %.1f); %d shards %.1f in all, %.2f each (wall %.1f each); merge %.1f (wall %.1f)\n", one, onewall, n, shards, shards / n, wall / n, merge, mergewall
    printf "extra cpu of the array: %.1f s in all (%.1f %% of the one-machine sweep), %.2f s per task\n", shards + merge - one, 100 * (shards + merge - one) / one, (shards + merge - one) / tasks
  }' "$work/times.txt"
diff -r -x results.partial.csv -x sweep.json "$work/one" "$work/slurm/merged" \
  && echo "merged files identical to the one-machine sweep's"
