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
    /// When set: `(demand, pending)` per minute since the fake was made (overrides the two above).
    schedule: Option<Vec<(u32, u32)>>,
}

impl PoolState {
    /// `(demand, pending)` now.
    fn load(&self, elapsed: Duration) -> (u32, u32) {
        match &self.schedule {
            Some(s) => s[usize::try_from(elapsed.as_secs() / 60).unwrap() % s.len()],
            None => (self.demand, self.pending),
        }
    }
}

/// A pool whose registry, distributor and cloud manager the tests control.
struct Fake {
    pool: Mutex<PoolState>,
    metrics_mode: Mutex<Mode>,
    cloud_mode: Mutex<Mode>,
    cloud_delay: Mutex<Duration>,
    /// Apply the target at once, then take `cloud_delay` to confirm.
    apply_first: Mutex<bool>,
    /// Block the thread (ignoring cancellation) for this long, then apply.
    block: Mutex<Duration>,
    calls: Mutex<Vec<(u64, u32)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Milliseconds since start of every set_workers call.
    call_times_ms: Mutex<Vec<u128>>,
    start: tokio::time::Instant,
}

impl Fake {
    fn new(workers: u32, demand: u32, pending: u32) -> Arc<Fake> {
        Arc::new(Fake {
            pool: Mutex::new(PoolState { workers, pending, demand, schedule: None }),
            metrics_mode: Mutex::new(Mode::Ok),
            cloud_mode: Mutex::new(Mode::Ok),
            cloud_delay: Mutex::new(Duration::ZERO),
            apply_first: Mutex::new(false),
            block: Mutex::new(Duration::ZERO),
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            call_times_ms: Mutex::new(Vec::new()),
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

/// Decrements the in-flight count if a call is dropped (aborted) before it ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
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
        let (demand, _) = p.load(self.start.elapsed());
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
            busy_slots: f64::from(demand.min(p.workers)),
            slots_per_worker: 1.0,
        })
    }
}

impl TaskDistributor for Fake {
    async fn tasks(&self) -> Result<TaskStats, BoxError> {
        let p = self.pool.lock().unwrap();
        let (demand, pending) = p.load(self.start.elapsed());
        Ok(TaskStats {
            pending: f64::from(pending),
            running: f64::from(demand.min(p.workers)),
            avg_task_duration_s: 12.5,
        })
    }
}

impl CloudManager for Fake {
    async fn set_workers(&self, target: u32) -> Result<(), BoxError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.calls.lock().unwrap().push((self.start.elapsed().as_secs(), target));
        self.call_times_ms.lock().unwrap().push(self.start.elapsed().as_millis());
        let block = *self.block.lock().unwrap();
        if !block.is_zero() {
            // A call that ignores cancellation: it holds its thread, whatever the caller does.
            std::thread::sleep(block);
            self.pool.lock().unwrap().workers = target;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Ok(());
        }
        if *self.apply_first.lock().unwrap() {
            self.pool.lock().unwrap().workers = target;
        }
        let delay = *self.cloud_delay.lock().unwrap();
        // Leaves `in_flight` correct even when the call is aborted during the delay.
        let guard = InFlight(&self.in_flight);
        tokio::time::sleep(delay).await;
        std::mem::forget(guard);
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

/// A load that rises, falls and rises again, one entry per minute.
const SCHEDULE: &[(u32, u32)] =
    &[(10, 6), (10, 6), (12, 8), (3, 0), (1, 0), (0, 0), (9, 4), (20, 12), (20, 12), (2, 0), (2, 0), (15, 7)];

fn scheduled_fake() -> Arc<Fake> {
    let fake = Fake::new(2, 0, 0);
    fake.pool.lock().unwrap().schedule = Some(SCHEDULE.to_vec());
    fake
}

fn resume_config(state: &std::path::Path) -> RuntimeConfig {
    let sc = ScalerConfig::builder()
        .min_workers(1)
        .max_workers(30)
        .cooldown_period(DurationMs::from_secs(120))
        .metrics_window(DurationMs::from_secs(180))
        .evaluation_interval(DurationMs::from_secs(60))
        .warmup_period(DurationMs::from_secs(120))
        .build()
        .unwrap();
    RuntimeConfig::new(sc).call_timeout(Duration::from_secs(5)).state_file(state)
}

#[tokio::test(start_paused = true)]
async fn resuming_from_the_state_file_decides_as_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    // Uninterrupted: 12 ticks (0 s to 660 s).
    let whole_fake = scheduled_fake();
    let whole = scaler(&whole_fake, resume_config(&dir.path().join("whole.json")));
    run_for(&whole, 661).await;
    whole.stop_monitoring().await;
    let expected: Vec<String> = whole.recent_decisions().iter().map(|d| format!("{d:?}")).collect();
    assert_eq!(expected.len(), 12);
    assert!(whole_fake.calls().len() >= 3, "the load should make it scale: {:?}", whole_fake.calls());

    // Interrupted after the tick at 240 s: a new AutoScaler (a restarted service) resumes
    // from the state file and runs the rest.
    let fake = scheduled_fake();
    let state = dir.path().join("state.json");
    let first = scaler(&fake, resume_config(&state));
    run_for(&first, 241).await;
    first.stop_monitoring().await;
    let mut got: Vec<String> = first.recent_decisions().iter().map(|d| format!("{d:?}")).collect();
    assert_eq!(got.len(), 5);
    assert!(state.exists(), "the state file is written after every tick");
    drop(first);
    // The paused test clock stopped at 241 s, 1 s after the tick at 240 s; the runtime counts
    // the real downtime since the file was written (a few ms, or 0 on a fast machine). Record
    // the write half a second earlier, so that the resumed clock (240.5 s plus the real
    // downtime) puts every later tick, and the fake's whole-second call times, where the
    // uninterrupted run has them on any machine.
    let mut file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let saved = file["saved_unix_ms"].as_u64().unwrap();
    file["saved_unix_ms"] = serde_json::json!(saved - 500);
    std::fs::write(&state, file.to_string()).unwrap();
    let second = scaler(&fake, resume_config(&state));
    run_for(&second, 420).await;
    second.stop_monitoring().await;
    got.extend(second.recent_decisions().iter().map(|d| format!("{d:?}")));
    assert_eq!(got, expected);
    assert_eq!(fake.calls(), whole_fake.calls());
    assert_eq!(second.get_scaling_metrics().state_errors, 0);
    // No temporary file is left next to the state file.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_state_file_is_reported_and_the_scaler_starts_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, "{ not json").unwrap();
    let fake = Fake::new(2, 10, 5);
    let s = scaler(&fake, resume_config(&state));
    run_for(&s, 61).await;
    s.stop_monitoring().await;
    let m = s.get_scaling_metrics();
    assert_eq!(m.state_errors, 1);
    assert_eq!(m.ticks, 2);
    // The next write replaced the corrupt file with a readable one.
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(serde_json::from_str::<scaler_runtime::StateFile>(&text).is_ok());
}

/// The runtime observes exactly what the simulator observes for the same pool state:
/// every observation of a simulated run (3 slots per worker, provisioning delays, so ready,
/// starting and busy slots all vary), reported through the runtime's registry and
/// distributor types, gives the identical observation.
#[test]
fn the_runtime_observes_as_the_simulator_does() {
    use scaler_formats::scenario::{self, Overrides};
    use scaler_model::{simulate, ModelError, Task, VecSource};
    let text = "[scaler]\nmin_workers = 1\nmax_workers = 12\ncooldown_period = 30\nmetrics_window = 60\nevaluation_interval = 10\n\
                [cluster]\nslots_per_worker = 3\nprovision_delay_s = 25\n";
    let doc = scaler_formats::tomldoc::Doc::parse(std::path::Path::new("s.toml"), text.to_string()).unwrap();
    let o = Overrides { trace: Some(std::path::PathBuf::from("inline.csv")), ..Overrides::default() };
    let sc = scenario::from_doc(&doc, &o).unwrap();
    let mut x: u64 = 7;
    let tasks: Vec<Task> = (0..600u64)
        .map(|i| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            Task { arrival_ms: i * 700 + (x >> 50) % 500, duration_ms: 2_000 + (x >> 40) % 30_000 }
        })
        .collect();
    let mut observations = Vec::new();
    simulate(sc.params(sc.seed), &mut VecSource::new(tasks), |r| {
        observations.push(r.observation);
        Ok::<(), ModelError>(())
    })
    .unwrap();
    let mut distinct = std::collections::BTreeSet::new();
    for obs in &observations {
        let pool = obs.pool().expect("the simulator observes a pool");
        let workers = WorkerCounts {
            ready: f64::from(pool.ready_workers),
            provisioning: f64::from(obs.current_workers - pool.ready_workers),
            busy_slots: pool.busy_slots as f64,
            slots_per_worker: 3.0,
        };
        #[allow(clippy::cast_precision_loss)]
        let tasks = TaskStats {
            pending: obs.pending_tasks as f64,
            running: obs.running_tasks as f64,
            avg_task_duration_s: obs.avg_task_duration.as_ms() as f64 / 1000.0,
        };
        let live = scaler_runtime::observation(obs.timestamp, workers, tasks).unwrap();
        assert_eq!(live, *obs);
        assert_eq!(live.pool(), obs.pool());
        assert_eq!(live.worker_utilization().num(), obs.worker_utilization().num());
        distinct.insert((pool.ready_workers, obs.current_workers - pool.ready_workers, pool.busy_slots));
    }
    assert!(distinct.len() > 10, "the run should visit many pool states ({})", distinct.len());
}

fn fast_config(interval_ms: u64, cooldown_ms: u64, timeout_ms: u64) -> RuntimeConfig {
    let sc = ScalerConfig::builder()
        .min_workers(1)
        .max_workers(100)
        .cooldown_period(DurationMs(cooldown_ms))
        .metrics_window(DurationMs(interval_ms))
        .evaluation_interval(DurationMs(interval_ms))
        .build()
        .unwrap();
    RuntimeConfig::new(sc).call_timeout(Duration::from_millis(timeout_ms))
}

/// A cloud that applies at once but confirms after 300 ms, with a 100 ms call timeout and
/// ticks every 200 ms: the timed-out calls' effect is unknown, so each starts the 1 s
/// cooldown and the pool cannot run away (before: 2 to 50 workers in nine ticks).
#[tokio::test(start_paused = true)]
async fn a_cloud_that_confirms_late_does_not_run_away() {
    let fake = Fake::new(2, 100, 50);
    *fake.apply_first.lock().unwrap() = true;
    *fake.cloud_delay.lock().unwrap() = Duration::from_millis(300);
    let s = scaler(&fake, fast_config(200, 1000, 100));
    s.start_monitoring().await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let report = s.stop_monitoring().await;
    assert!(!report.call_still_running);
    let times = fake.call_times_ms.lock().unwrap().clone();
    assert!(times.len() >= 3, "{times:?}");
    for w in times.windows(2) {
        assert!(w[1] - w[0] >= 1000, "scaled within the cooldown: {times:?}");
    }
    // Four scalings in 3.1 s: 2 -> 3 -> 4 -> 6 -> 9, not 50.
    assert!(fake.workers_now() <= 9, "{} workers", fake.workers_now());
    let m = s.get_scaling_metrics();
    assert_eq!(m.scaling_timeouts, times.len() as u64);
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(fake.in_flight.load(Ordering::SeqCst), 0);
}

/// A cloud call that blocks its thread for 300 ms (cancellation cannot end it), a 50 ms
/// timeout and ticks every 100 ms: no second call starts while it runs, and stop waits for it
/// or says that it is still running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_ignores_cancellation_never_overlaps_the_next() {
    let fake = Fake::new(2, 100, 50);
    *fake.block.lock().unwrap() = Duration::from_millis(300);
    let s = scaler(&fake, fast_config(100, 0, 50));
    s.start_monitoring().await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let report = s.stop_monitoring().await;
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 1, "calls overlapped");
    let m = s.get_scaling_metrics();
    assert!(m.scaling_timeouts >= 1, "{m:?}");
    assert!(m.scalings_deferred >= 1, "{m:?}");
    // Nothing runs after stop, or stop said so.
    if !report.call_still_running {
        assert_eq!(fake.in_flight.load(Ordering::SeqCst), 0);
    }
    let calls = fake.calls().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(fake.calls().len(), calls, "a call started after stop");
    assert_eq!(fake.in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_restart_without_state_records_a_new_segment_and_cuts_a_torn_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("obs.csv");
    let fake = Fake::new(2, 1, 0);
    let cfg = || config(1, 10, 60).record_observations(&path);
    let first = scaler(&fake, cfg());
    run_for(&first, 121).await;
    first.stop_monitoring().await;
    // A crash mid-write leaves a torn row.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("180,2,0");
    std::fs::write(&path, &text).unwrap();
    let second = scaler(&fake, cfg());
    run_for(&second, 61).await;
    second.stop_monitoring().await;
    let m = second.get_scaling_metrics();
    let seg = dir.path().join("obs.1.csv");
    assert_eq!(m.recording_path.as_deref(), Some(seg.as_path()));
    // Each file starts at its own clock and replays on its own.
    for p in [&path, &seg] {
        let t = std::fs::read_to_string(p).unwrap();
        assert!(t.starts_with(scaler_core::OBSERVATIONS_HEADER), "{t}");
        assert!(t.lines().nth(1).unwrap().starts_with("0,"), "{t}");
        let toml_path = dir.path().join("c.toml");
        std::fs::write(
            &toml_path,
            "[scaler]\nmin_workers = 1\nmax_workers = 10\ncooldown_period = 60\nmetrics_window = 60\n",
        )
        .unwrap();
        let sc = scaler_formats::scenario::read_scaler_config(&toml_path).unwrap();
        let mut out = Vec::new();
        let report = scaler_formats::replay::replay(&sc, p, &mut out, std::path::Path::new("-"), false).unwrap();
        // The first file keeps its torn row; replay skips it and says so.
        assert_eq!(report.torn_last_row.is_some(), *p == path, "{}", p.display());
    }
}

#[tokio::test(start_paused = true)]
async fn a_resumed_recording_continues_the_file_and_cuts_a_torn_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("obs.csv");
    let state = dir.path().join("state.json");
    let fake = Fake::new(2, 1, 0);
    let cfg = || config(1, 10, 60).record_observations(&path).state_file(&state);
    let first = scaler(&fake, cfg());
    run_for(&first, 61).await;
    first.stop_monitoring().await;
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("120,2,0");
    std::fs::write(&path, &text).unwrap();
    let second = scaler(&fake, cfg());
    run_for(&second, 61).await;
    second.stop_monitoring().await;
    let m = second.get_scaling_metrics();
    assert_eq!(m.torn_rows_dropped, 1);
    assert_eq!(m.recording_path.as_deref(), Some(path.as_path()));
    let t = std::fs::read_to_string(&path).unwrap();
    let times: Vec<&str> = t.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(times, ["0", "60", "120"], "{t}");
}

/// The downtime is measured from the wall-clock time the state file records, not from the
/// file's modification time (which a copy or a restore from backup changes); a file of an
/// earlier version, without it, falls back to the modification time.
#[test]
fn the_state_file_records_when_it_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let config = scaler_core::ScalerConfig::default();
    let core = scaler_core::Scaler::new(config.clone());
    scaler_runtime::save_state(&path, &core, 5000).unwrap();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let r = scaler_runtime::load_state(&path, &config).unwrap();
    assert_eq!(r.clock_ms, 5000);
    let saved = r.saved_unix_ms.unwrap();
    assert!(saved <= now_ms && now_ms - saved < 60_000, "{saved} vs {now_ms}");
    // An hour earlier, as recorded: that is what counts, though the file was just modified.
    let mut file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["saved_unix_ms"] = serde_json::json!(saved - 3_600_000);
    std::fs::write(&path, file.to_string()).unwrap();
    assert_eq!(scaler_runtime::load_state(&path, &config).unwrap().saved_unix_ms, Some(saved - 3_600_000));
    // Without the field: the modification time (just now).
    file.as_object_mut().unwrap().remove("saved_unix_ms");
    std::fs::write(&path, file.to_string()).unwrap();
    let old = scaler_runtime::load_state(&path, &config).unwrap().saved_unix_ms.unwrap();
    assert!(old + 60_000 > now_ms, "{old} vs {now_ms}");
}

#[tokio::test(start_paused = true)]
async fn every_shipped_policy_decides_live_as_its_recording_replays() {
    // Each policy file of sims/policies/ in the live loop: it scales up under load, stays in
    // its bounds, and the observations it recorded replay to the very decisions it took.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sims/policies");
    for policy in ["threshold", "hpa", "keda", "kpa", "step", "target_tracking", "queue", "predictive", "arc"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("obs.csv");
        let file = root.join(format!("{policy}.toml"));
        let sc = scaler_formats::scenario::read_scaler_config(&file).unwrap();
        let (lo, hi) = (sc.min_workers(), sc.max_workers());
        let fake = Fake::new(2, 1, 0);
        let cfg = RuntimeConfig::new(sc.clone()).call_timeout(Duration::from_secs(5)).record_observations(&path);
        let s = scaler(&fake, cfg);
        s.start_monitoring().await;
        for (demand, pending, secs) in [(1, 0, 120), (9, 20, 600), (30, 40, 600), (0, 0, 900)] {
            fake.set_load(demand, pending);
            tokio::time::sleep(Duration::from_secs(secs)).await;
        }
        s.stop_monitoring().await;
        let live = s.recent_decisions();
        let calls = fake.calls();
        assert!(calls.iter().any(|&(_, t)| t > 2), "{policy} never scaled up: {calls:?}");
        assert!(calls.iter().all(|&(_, t)| (lo..=hi).contains(&t)), "{policy}: {calls:?}");
        let mut out = Vec::new();
        let report = scaler_formats::replay::replay(&sc, &path, &mut out, std::path::Path::new("-"), false).unwrap();
        // The runtime keeps its most recent decisions (1,000): they are the replay's last rows.
        assert!(report.rows as usize >= live.len() && !live.is_empty(), "{policy}");
        let mut expected = Vec::new();
        for d in &live {
            scaler_formats::replay::push_decision(&mut expected, d);
        }
        let out = String::from_utf8(out).unwrap();
        let replayed: Vec<&str> = out.lines().skip(1).collect();
        let tail = replayed[replayed.len() - live.len()..].join("\n") + "\n";
        assert_eq!(tail, String::from_utf8(expected).unwrap(), "{policy}");
    }
}
