//! The one integration-test binary of scaler-runtime. Everything runs on tokio's
//! paused clock: virtual time, fast and deterministic.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scaler_core::{Action, DurationMs, ScalerConfig};
use scaler_runtime::{
    AutoScaler, BoxError, CloudManager, RuntimeConfig, TaskDistributor, TaskStats, WorkerCounts, WorkerRegistry,
};

/// How a fake integration misbehaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Ok,
    /// Return an error this many more times, then behave.
    FailTimes(u32),
    Hang,
    Panic,
    /// Return NaN / negative / more busy than total.
    Nonsense,
}

struct PoolState {
    workers: u32,
    pending: u32,
    /// Busy workers = min(workers, demand); demand is set by the test.
    demand: u32,
}

/// A pool whose registry, distributor and cloud manager the tests control.
struct Fake {
    pool: Mutex<PoolState>,
    metrics_mode: Mutex<Mode>,
    cloud_mode: Mutex<Mode>,
    cloud_delay: Mutex<Duration>,
    calls: Mutex<Vec<(u64, u32)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    start: tokio::time::Instant,
}

impl Fake {
    fn new(workers: u32, demand: u32, pending: u32) -> Arc<Fake> {
        Arc::new(Fake {
            pool: Mutex::new(PoolState { workers, pending, demand }),
            metrics_mode: Mutex::new(Mode::Ok),
            cloud_mode: Mutex::new(Mode::Ok),
            cloud_delay: Mutex::new(Duration::ZERO),
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            start: tokio::time::Instant::now(),
        })
    }

    fn set_load(&self, demand: u32, pending: u32) {
        let mut p = self.pool.lock().unwrap();
        p.demand = demand;
        p.pending = pending;
    }

    fn workers_now(&self) -> u32 {
        self.pool.lock().unwrap().workers
    }

    /// `(seconds since start, target)` of every set_workers call, successful or not.
    fn calls(&self) -> Vec<(u64, u32)> {
        self.calls.lock().unwrap().clone()
    }

    fn mode(m: &Mutex<Mode>) -> Mode {
        let mut g = m.lock().unwrap();
        let cur = *g;
        if let Mode::FailTimes(n) = cur {
            *g = if n <= 1 { Mode::Ok } else { Mode::FailTimes(n - 1) };
        }
        cur
    }
}

async fn misbehave(mode: Mode) -> Result<(), BoxError> {
    match mode {
        Mode::Ok | Mode::Nonsense => Ok(()),
        Mode::FailTimes(_) => Err("injected failure".into()),
        Mode::Hang => {
            std::future::pending::<()>().await;
            Ok(())
        }
        Mode::Panic => panic!("injected panic"),
    }
}

impl WorkerRegistry for Fake {
    async fn workers(&self) -> Result<WorkerCounts, BoxError> {
        let mode = Fake::mode(&self.metrics_mode);
        misbehave(mode).await?;
        let p = self.pool.lock().unwrap();
        if mode == Mode::Nonsense {
            return Ok(WorkerCounts {
                ready: f64::from(p.workers),
                provisioning: 0.0,
                busy_slots: f64::from(p.workers) + 3.0,
                slots_per_worker: 1.0,
            });
        }
        Ok(WorkerCounts {
            ready: f64::from(p.workers),
            provisioning: 0.0,
            busy_slots: f64::from(p.demand.min(p.workers)),
            slots_per_worker: 1.0,
        })
    }
}

impl TaskDistributor for Fake {
    async fn tasks(&self) -> Result<TaskStats, BoxError> {
        let p = self.pool.lock().unwrap();
        Ok(TaskStats {
            pending: f64::from(p.pending),
            running: f64::from(p.demand.min(p.workers)),
            avg_task_duration_s: 12.5,
        })
    }
}

impl CloudManager for Fake {
    async fn set_workers(&self, target: u32) -> Result<(), BoxError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.calls.lock().unwrap().push((self.start.elapsed().as_secs(), target));
        let delay = *self.cloud_delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        let result = misbehave(Fake::mode(&self.cloud_mode)).await;
        if result.is_ok() {
            self.pool.lock().unwrap().workers = target;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

fn config(min: u32, max: u32, cooldown_s: u64) -> RuntimeConfig {
    let sc = ScalerConfig::builder()
        .min_workers(min)
        .max_workers(max)
        .cooldown_period(DurationMs::from_secs(cooldown_s))
        .metrics_window(DurationMs::from_secs(60))
        .evaluation_interval(DurationMs::from_secs(60))
        .build()
        .unwrap();
    RuntimeConfig::new(sc).call_timeout(Duration::from_secs(5))
}

fn scaler(fake: &Arc<Fake>, cfg: RuntimeConfig) -> AutoScaler<Fake, Fake, Fake> {
    AutoScaler::new(fake.clone(), fake.clone(), fake.clone(), cfg)
}

async fn run_for(s: &AutoScaler<Fake, Fake, Fake>, secs: u64) {
    s.start_monitoring().await;
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

#[tokio::test(start_paused = true)]
async fn scales_up_under_load_and_respects_the_cooldown() {
    let fake = Fake::new(2, 10, 5);
    let s = scaler(&fake, config(1, 10, 300));
    run_for(&s, 1000).await;
    s.stop_monitoring().await;
    // Ticks at 0, 60, ...: scale up at 0 (2 -> 3), then not again before 300 s.
    let calls = fake.calls();
    assert_eq!(calls[0], (0, 3), "{calls:?}");
    for w in calls.windows(2) {
        assert!(w[1].0 - w[0].0 >= 300, "scaled within the cooldown: {calls:?}");
    }
    assert_eq!(calls.iter().map(|c| c.0).collect::<Vec<_>>(), [0, 300, 600, 900]);
    let m = s.get_scaling_metrics();
    assert_eq!(m.scalings, 4);
    assert_eq!(m.last_scaling_time_s, Some(900.0));
    assert_eq!(m.metrics_window_s, 60.0);
    assert_eq!(m.cooldown_period_s, 300.0);
    assert!(!m.monitoring);
    let d = m.last_decision.unwrap();
    assert_eq!(d.reason, "cooldown");
    let json = serde_json::to_value(s.get_scaling_metrics()).unwrap();
    for k in [
        "current_workers",
        "pending_tasks",
        "running_tasks",
        "avg_task_duration_s",
        "worker_utilization",
        "last_scaling_time_s",
    ] {
        assert!(json.get(k).is_some(), "{k}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_scaling_starts_no_cooldown_and_is_retried() {
    let fake = Fake::new(2, 10, 5);
    *fake.cloud_mode.lock().unwrap() = Mode::FailTimes(2);
    let s = scaler(&fake, config(1, 10, 300));
    run_for(&s, 400).await;
    s.stop_monitoring().await;
    // Fails at 0 and 60 (no cooldown starts), succeeds at 120; the cooldown then runs to 420.
    assert_eq!(fake.calls(), [(0, 3), (60, 3), (120, 3)]);
    let m = s.get_scaling_metrics();
    assert_eq!((m.scaling_failures, m.scalings, m.last_scaling_time_s), (2, 1, Some(120.0)));
    assert_eq!(fake.workers_now(), 3);
}

#[tokio::test(start_paused = true)]
async fn hanging_and_panicking_calls_are_bounded_and_survived() {
    let fake = Fake::new(2, 10, 5);
    *fake.cloud_mode.lock().unwrap() = Mode::Hang;
    let s = scaler(&fake, config(1, 10, 0));
    run_for(&s, 130).await;
    assert_eq!(s.get_scaling_metrics().scaling_failures, 3, "ticks 0, 60 and 120 each time out");
    *fake.cloud_mode.lock().unwrap() = Mode::Panic;
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(s.get_scaling_metrics().scaling_failures, 4, "a panic in set_workers is a failure, not a crash");
    *fake.metrics_mode.lock().unwrap() = Mode::Panic;
    tokio::time::sleep(Duration::from_secs(60)).await;
    *fake.metrics_mode.lock().unwrap() = Mode::Hang;
    tokio::time::sleep(Duration::from_secs(60)).await;
    let m = s.get_scaling_metrics();
    assert_eq!(m.skipped_ticks, 2, "a panicking and a hanging registry each skip a tick");
    *fake.metrics_mode.lock().unwrap() = Mode::Ok;
    *fake.cloud_mode.lock().unwrap() = Mode::Ok;
    tokio::time::sleep(Duration::from_secs(60)).await;
    let m = s.get_scaling_metrics();
    assert!(m.monitoring && m.scalings == 1, "the loop is alive and scales again: {m:?}");
    s.stop_monitoring().await;
}

#[tokio::test(start_paused = true)]
async fn nonsense_metrics_skip_ticks_and_never_scale() {
    let fake = Fake::new(2, 10, 5);
    *fake.metrics_mode.lock().unwrap() = Mode::Nonsense;
    let s = scaler(&fake, config(1, 10, 0));
    run_for(&s, 200).await;
    s.stop_monitoring().await;
    let m = s.get_scaling_metrics();
    assert_eq!((m.ticks, m.skipped_ticks), (4, 4));
    assert!(fake.calls().is_empty());
    assert!(s.recent_decisions().is_empty());
}

#[tokio::test(start_paused = true)]
async fn scaling_is_serialized_and_within_bounds() {
    let fake = Fake::new(1, 50, 40);
    // A slow cloud (50 s per call) and ticks every 60 s with no cooldown: calls never overlap.
    *fake.cloud_delay.lock().unwrap() = Duration::from_secs(4);
    let s = scaler(&fake, config(1, 7, 0));
    run_for(&s, 900).await;
    fake.set_load(0, 0);
    tokio::time::sleep(Duration::from_secs(900)).await;
    s.stop_monitoring().await;
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 1);
    let calls = fake.calls();
    assert!(calls.iter().all(|&(_, t)| (1..=7).contains(&t)), "{calls:?}");
    assert!(
        calls.iter().any(|&(_, t)| t == 7) && calls.last().unwrap().1 < 7,
        "went up to the max and back down: {calls:?}"
    );
    assert!(s.recent_decisions().iter().any(|d| d.action == Action::ScaleDown));
}

#[tokio::test(start_paused = true)]
async fn start_twice_is_harmless_and_stop_leaves_nothing_running() {
    let fake = Fake::new(2, 1, 0);
    let s = scaler(&fake, config(1, 10, 0));
    s.start_monitoring().await;
    s.start_monitoring().await;
    tokio::time::sleep(Duration::from_secs(300)).await;
    assert_eq!(s.get_scaling_metrics().ticks, 5, "one loop: ticks at 0, 60, 120, 180, 240");
    s.stop_monitoring().await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(s.get_scaling_metrics().ticks, 5, "no tick after stop");
    // Restarting continues on the same clock (ticks stay aligned to the first start).
    s.start_monitoring().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(s.get_scaling_metrics().ticks, 6);
    s.stop_monitoring().await;
    s.stop_monitoring().await;
}

#[tokio::test(start_paused = true)]
async fn stop_waits_for_an_in_flight_scaling_call() {
    let fake = Fake::new(2, 10, 5);
    *fake.cloud_delay.lock().unwrap() = Duration::from_secs(3);
    let s = scaler(&fake, config(1, 10, 0));
    s.start_monitoring().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.in_flight.load(Ordering::SeqCst), 1, "the tick-0 scaling call is in flight");
    s.stop_monitoring().await;
    assert_eq!(fake.in_flight.load(Ordering::SeqCst), 0);
    assert_eq!(s.get_scaling_metrics().scalings, 1, "the call finished and was counted");
}

#[tokio::test(start_paused = true)]
async fn the_recording_replays_to_the_live_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("obs.csv");
    let fake = Fake::new(2, 1, 0);
    let cfg = config(1, 12, 120).record_observations(&path);
    let s = scaler(&fake, cfg.clone());
    s.start_monitoring().await;
    // Load rises, stays, falls.
    for (demand, pending, secs) in [(1, 0, 300), (8, 6, 600), (20, 15, 600), (3, 0, 900), (0, 0, 900)] {
        fake.set_load(demand, pending);
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
    s.stop_monitoring().await;
    let live = s.recent_decisions();
    assert!(live.iter().any(|d| d.action == Action::ScaleUp) && live.iter().any(|d| d.action == Action::ScaleDown));
    // Replay the recording through scaler-sim replay with the same configuration.
    let toml_path = dir.path().join("cfg.toml");
    let pairs: String = cfg.scaler.to_pairs().iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    std::fs::write(&toml_path, format!("[scaler]\n{pairs}")).unwrap();
    let sc = scaler_formats::scenario::read_scaler_config(&toml_path).unwrap();
    let mut out = Vec::new();
    let report = scaler_formats::replay::replay(&sc, &path, &mut out, std::path::Path::new("-"), false).unwrap();
    assert_eq!(report.rows as usize, live.len());
    let mut expected = scaler_formats::replay::DECISIONS_HEADER.as_bytes().to_vec();
    for d in &live {
        scaler_formats::replay::push_decision(&mut expected, d);
    }
    assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(expected).unwrap());
}

#[tokio::test(start_paused = true)]
async fn every_policy_runs_in_the_live_loop_within_bounds() {
    for policy in ["hpa", "step", "queue", "predictive"] {
        let fake = Fake::new(2, 1, 0);
        let text = format!("[scaler]\npolicy = \"{policy}\"\nmin_workers = 1\nmax_workers = 9\ncooldown_period = 60\nmetrics_window = 60\nevaluation_interval = 30\n");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.toml"), &text).unwrap();
        let sc = scaler_formats::scenario::read_scaler_config(&dir.path().join("c.toml")).unwrap();
        let s = scaler(&fake, RuntimeConfig::new(sc).call_timeout(Duration::from_secs(5)));
        s.start_monitoring().await;
        for (demand, pending, secs) in [(1, 0, 120), (9, 20, 600), (0, 0, 900)] {
            fake.set_load(demand, pending);
            tokio::time::sleep(Duration::from_secs(secs)).await;
        }
        s.stop_monitoring().await;
        let calls = fake.calls();
        assert!(calls.iter().any(|&(_, t)| t > 2), "{policy} never scaled up: {calls:?}");
        assert!(calls.iter().all(|&(_, t)| (1..=9).contains(&t)), "{policy}: {calls:?}");
        assert!(s.recent_decisions().iter().any(|d| d.action == Action::ScaleDown), "{policy} never scaled down");
    }
}
