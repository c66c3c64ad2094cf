#!/usr/bin/env bash
# Submits a scaler sweep to Slurm: a job array of TASKS shards (indices 1..TASKS) and the
# merge as a job that runs once every shard succeeded.
#
#   deploy/slurm/submit.sh SCENARIO SWEEP_DIR TASKS [--wait]
#
# SCENARIO and SWEEP_DIR must be on storage every node mounts at the same path. Job logs go
# to SWEEP_DIR/logs/. SCALER_SIM names the binary (default: scaler-sim on the nodes' PATH).
# With --wait the script returns when the merge has ended, with its exit status (0, or 3 when
# no setting meets the objective, as `merge` itself; 1 when a task or the merge failed); the
# merged files are then in SWEEP_DIR/merged. Prints the two job ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 3 ] || [ $# -gt 4 ] || { [ $# -eq 4 ] && [ "$4" != --wait ]; }; then
  echo "usage: $0 SCENARIO SWEEP_DIR TASKS [--wait]" >&2
  exit 2
fi
case "$3" in ''|*[!0-9]*|0) echo "$0: TASKS must be a whole number of at least 1, not '$3'" >&2; exit 2 ;; esac
[ -f "$1" ] || { echo "$0: $1: no such scenario file" >&2; exit 2; }
SCENARIO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mkdir -p "$2/logs"
SWEEP_DIR=$(cd "$2" && pwd)
export SCENARIO SWEEP_DIR
[ -z "${SCALER_SIM:-}" ] || export SCALER_SIM
array=$(sbatch --parsable --export=ALL --array="1-$3" \
  --output="$SWEEP_DIR/logs/sweep-%A_%a.out" "$here/sweep.sbatch")
array=${array%%;*}
wait=()
[ "${4:-}" = --wait ] && wait=(--wait)
echo "sweep array: job $array ($3 tasks)"
marker="$SWEEP_DIR/logs/.submitted-$array"
: > "$marker"
status=0
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$SWEEP_DIR/logs/merge-%j.out" "${wait[@]}" "$here/merge.sbatch") || status=$?
merge=${merge%%;*}
echo "merge: job $merge (after job $array succeeds), into $SWEEP_DIR/merged"
if [ -n "${wait[*]}" ]; then
  # sbatch --wait exits 0 for a merge cancelled because a shard failed: check the result.
  if [ "$status" -eq 3 ] && [ "$SWEEP_DIR/merged/recommendation.json" -nt "$marker" ]; then
    echo "merged: $SWEEP_DIR/merged (no setting meets the objective's constraints: exit status 3)"
    exit 3
  fi
  if [ "$status" -ne 0 ] || [ ! "$SWEEP_DIR/merged/recommendation.json" -nt "$marker" ]; then
    state=$(scontrol show job "$merge" 2>/dev/null | grep -Eo 'JobState=[A-Z_]+|Reason=[^ ]+' | tr '\n' ' ')
    echo "$0: the merge did not complete (${state:-its state is no longer known}); see $SWEEP_DIR/logs/" >&2
    exit 1
  fi
  echo "merged: $SWEEP_DIR/merged"
fi
