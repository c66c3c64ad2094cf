# Sourced by sweep_perf.sh and slurm_sweep.sh with $work set: builds the release binary
# ($bin) and writes the one-week trace ($trace, made once) and the 1,000-setting scenario
# $work/week.toml.
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
