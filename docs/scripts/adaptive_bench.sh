#!/bin/sh
# The adaptive search's benchmark (docs/PERFORMANCE.md, "Adaptive search"): the 1,000-setting
# grid of sims/nasa_search.toml once, its adaptive twin sims/nasa_search_adaptive.toml twice,
# each under /usr/bin/time -v; then checks the two conditions:
#   1. the adaptive recommendation meets the constraint (wait_p95_s <= 5) on the whole trace
#      and its cost is within 1 % of the grid's best feasible cost;
#   2. the adaptive search's wall time (each run) is at most 20 % of the grid's.
# Exit status 0 when both hold, 1 otherwise. Run from the repository's root:
#   cargo build --release -p scaler-sim
#   SCALER_REAL_TRACES=../shared/traces sh docs/scripts/adaptive_bench.sh [OUT_DIR]
# BIN (default target/release/scaler-sim) and THREADS (default 0: one per core) may be set.
set -eu
: "${SCALER_REAL_TRACES:?set SCALER_REAL_TRACES to the folder holding nasa_http_jul1995_1min.csv}"
export SCALER_REAL_TRACES
BIN=${BIN:-target/release/scaler-sim}
THREADS=${THREADS:-0}
OUT=${1:-out/adaptive-bench}
[ -x "$BIN" ] || { echo "no $BIN: build it first (cargo build --release -p scaler-sim)" >&2; exit 2; }
mkdir -p "$OUT"

# name scenario: runs one sweep under /usr/bin/time -v into $OUT/name, times in $OUT/name.time.
sweep() {
    rm -rf "${OUT:?}/$1"
    /usr/bin/time -v -o "$OUT/$1.time" "$BIN" sweep "$2" --out "$OUT/$1" --threads "$THREADS" --json \
        > "$OUT/$1.json" 2> "$OUT/$1.log" || [ $? -eq 3 ]
}

sweep grid sims/nasa_search.toml
sweep adaptive1 sims/nasa_search_adaptive.toml
sweep adaptive2 sims/nasa_search_adaptive.toml

python3 - "$OUT" <<'EOF'
import json, re, sys
out = sys.argv[1]

def times(name):
    text = open(f"{out}/{name}.time").read()
    h, m, s = ([0, 0] + re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1).split(":"))[-3:]
    wall = int(h) * 3600 + int(m) * 60 + float(s)
    cpu = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", text).group(1)) for k in ("User", "System"))
    return wall, cpu

def rec(name):
    return json.load(open(f"{out}/{name}/recommendation.json"))

grid = rec("grid")
best = grid["recommended"]["metrics"]["cost"]
gw, gc = times("grid")
print(f"grid: {grid['settings']} settings, best feasible cost {best}, wall {gw:.1f} s, cpu {gc:.1f} s")
ok = grid["feasible"]
for name in ("adaptive1", "adaptive2"):
    a = rec(name)
    m = a["recommended"]["metrics"]
    w, c = times(name)
    rungs = ", ".join(f"{r['settings']} on {r['trace_fraction']}" for r in a["search_rungs"])
    within = m["cost"] <= best * 1.01
    fast = w <= 0.20 * gw
    print(f"{name}: setting {a['recommended']['setting']} cost {m['cost']} ({(m['cost'] / best - 1) * 100:+.2f} %), "
          f"wait_p95_s {m['wait_p95_s']}, feasible {a['feasible']}; rungs {rungs}")
    print(f"  wall {w:.1f} s = {w / gw * 100:.1f} % of the grid's, cpu {c:.1f} s = {c / gc * 100:.1f} %")
    print(f"  constraint met: {a['feasible'] and m['wait_p95_s'] <= 5}, cost within 1 %: {within}, wall <= 20 %: {fast}")
    ok = ok and a["feasible"] and m["wait_p95_s"] <= 5 and within and fast
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
