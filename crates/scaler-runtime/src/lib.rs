//! `scaler-runtime`: the seed's `AutoScaler`, a thin async loop around the pure
//! `scaler-core` engine.
//!
//! Every `evaluation_interval` the loop collects metrics from a [`WorkerRegistry`]
//! and a [`TaskDistributor`], hands them to the core as an observation, asks it to
//! decide, and, when the decision scales, asks the [`CloudManager`] for the new
//! worker count. All decisions are made by `scaler-core`; this crate only moves data
//! and survives the outside world:
//!
//! - every external call has a timeout, and a panic inside a user's implementation is
//!   caught and logged (each call runs as its own tokio task);
//! - a failed or timed-out metrics collection skips that tick; nonsense metrics (NaN,
//!   negative, more busy workers than workers) are refused and skip the tick;
//! - a failed scaling call is logged with its context, starts no cooldown, and is retried
//!   by the next tick's decision; scaling is serialized (one loop, one call at a time)
//!   and never asks for a target outside `[min_workers, max_workers]`;
//! - an optional recorder appends every observation to an observations CSV, flushed at
//!   every tick, so `scaler-sim replay` can rerun production decisions.
//!
//! ```no_run
//! # use scaler_runtime::*;
//! # use scaler_core::ScalerConfig;
//! # struct Pool;
//! # impl WorkerRegistry for Pool { async fn workers(&self) -> Result<WorkerCounts, BoxError> { Ok(WorkerCounts { total: 2.0, busy: 1.0 }) } }
//! # impl TaskDistributor for Pool { async fn tasks(&self) -> Result<TaskStats, BoxError> { Ok(TaskStats { pending: 0.0, running: 1.0, avg_task_duration_s: 3.0 }) } }
//! # impl CloudManager for Pool { async fn set_workers(&self, _n: u32) -> Result<(), BoxError> { Ok(()) } }
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = std::sync::Arc::new(Pool);
//! let config = RuntimeConfig::new(ScalerConfig::builder().min_workers(1).max_workers(20).build()?)
//!     .record_observations("observations.csv");
//! let scaler = AutoScaler::new(pool.clone(), pool.clone(), pool, config);
//! scaler.start_monitoring().await;
//! // ... the service runs ...
//! println!("{}", serde_json::to_string(&scaler.get_scaling_metrics())?);
//! scaler.stop_monitoring().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scaler_core::{Decision, DurationMs, Observation, Scaler, ScalerConfig, TimeMs, OBSERVATIONS_HEADER};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The error type user implementations return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a worker registry reports. Numbers are `f64` so that whatever an embedder's
/// metrics system returns can be checked (NaN, negative, fractions are refused).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkerCounts {
    /// Workers in the pool (provisioning and ready).
    pub total: f64,
    /// Workers running at least one task.
    pub busy: f64,
}

/// What a task distributor reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaskStats {
    /// Tasks waiting.
    pub pending: f64,
    /// Tasks running.
    pub running: f64,
    /// Mean duration of recently completed tasks, seconds.
    pub avg_task_duration_s: f64,
}

/// The registry of workers: how many there are and how many are busy.
pub trait WorkerRegistry: Send + Sync + 'static {
    /// Current worker counts.
    fn workers(&self) -> impl Future<Output = Result<WorkerCounts, BoxError>> + Send;
}

/// The task distributor: pending and running tasks, recent durations.
pub trait TaskDistributor: Send + Sync + 'static {
    /// Current task statistics.
    fn tasks(&self) -> impl Future<Output = Result<TaskStats, BoxError>> + Send;
}

/// The cloud manager: sets the number of workers.
pub trait CloudManager: Send + Sync + 'static {
    /// Asks for `target` workers. `Ok` means the request succeeded (the cooldown starts).
    fn set_workers(&self, target: u32) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// Settings of the runtime around the engine's configuration.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// The engine's configuration (the seed's parameters and the evaluation interval).
    pub scaler: ScalerConfig,
    /// Timeout of every external call.
    pub call_timeout: Duration,
    /// Append every observation to this CSV file.
    pub record_observations: Option<PathBuf>,
    /// Decisions kept for [`AutoScaler::recent_decisions`].
    pub history: usize,
}

impl RuntimeConfig {
    /// Defaults: 10 s call timeout, no recording, 1,000 decisions of history.
    #[must_use]
    pub fn new(scaler: ScalerConfig) -> RuntimeConfig {
        RuntimeConfig { scaler, call_timeout: Duration::from_secs(10), record_observations: None, history: 1000 }
    }

    /// Sets the timeout of every external call.
    #[must_use]
    pub fn call_timeout(mut self, t: Duration) -> RuntimeConfig {
        self.call_timeout = t;
        self
    }

    /// Records observations to `path` (appending; a header is written to a new or empty file).
    #[must_use]
    pub fn record_observations(mut self, path: impl Into<PathBuf>) -> RuntimeConfig {
        self.record_observations = Some(path.into());
        self
    }
}

/// The last decision, as reported by [`AutoScaler::get_scaling_metrics`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DecisionInfo {
    /// When, in seconds since monitoring first started.
    pub at_s: f64,
    /// `scale_up`, `scale_down` or `hold`.
    pub action: String,
    /// The worker count asked for.
    pub target_workers: u32,
    /// The rule that decided.
    pub reason: String,
}

/// The seed's scaling metrics, plus what the runtime counts.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ScalingMetrics {
    /// Is the loop running?
    pub monitoring: bool,
    /// Workers at the last successful collection.
    pub current_workers: u32,
    /// Pending tasks at the last successful collection.
    pub pending_tasks: u64,
    /// Running tasks at the last successful collection.
    pub running_tasks: u64,
    /// Mean recent task duration, seconds.
    pub avg_task_duration_s: f64,
    /// Busy workers / workers at the last successful collection.
    pub worker_utilization: f64,
    /// When the last successful scaling happened, seconds since monitoring first started.
    pub last_scaling_time_s: Option<f64>,
    /// The last decision and its reason.
    pub last_decision: Option<DecisionInfo>,
    /// The configured metrics window, seconds.
    pub metrics_window_s: f64,
    /// The configured cooldown, seconds.
    pub cooldown_period_s: f64,
    /// The configured evaluation interval, seconds.
    pub evaluation_interval_s: f64,
    /// Ticks evaluated.
    pub ticks: u64,
    /// Ticks skipped because metrics could not be collected or made no sense.
    pub skipped_ticks: u64,
    /// Scaling calls that failed, timed out or panicked.
    pub scaling_failures: u64,
    /// Scaling calls that succeeded.
    pub scalings: u64,
    /// Observations that could not be recorded.
    pub record_errors: u64,
}

/// Why an external call did not return a value.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// It took longer than the call timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The implementation panicked.
    #[error("panicked: {0}")]
    Panicked(String),
    /// The implementation returned an error.
    #[error("{0}")]
    Failed(BoxError),
}

/// Metrics that make no sense.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadMetrics(String);

/// Runs `fut` as its own task with a timeout, catching panics.
async fn call<T: Send + 'static>(
    timeout: Duration,
    fut: impl Future<Output = Result<T, BoxError>> + Send + 'static,
) -> Result<T, CallError> {
    let handle = tokio::spawn(fut);
    let abort = handle.abort_handle();
    match tokio::time::timeout(timeout, handle).await {
        Err(_) => {
            abort.abort();
            Err(CallError::Timeout(timeout))
        }
        Ok(Err(join)) => {
            let msg = if join.is_panic() {
                let p = join.into_panic();
                p.downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into())
            } else {
                "cancelled".into()
            };
            Err(CallError::Panicked(msg))
        }
        Ok(Ok(Err(e))) => Err(CallError::Failed(e)),
        Ok(Ok(Ok(v))) => Ok(v),
    }
}

/// Turns what the registry and distributor said into an observation, or says why not.
pub fn observation(now: TimeMs, w: WorkerCounts, t: TaskStats) -> Result<Observation, BadMetrics> {
    if !(w.total.is_finite() && w.busy.is_finite()) || w.busy < 0.0 || w.total < 0.0 {
        return Err(BadMetrics(format!(
            "worker counts must be finite and >= 0, got total {} busy {}",
            w.total, w.busy
        )));
    }
    if w.busy > w.total {
        return Err(BadMetrics(format!("more busy workers ({}) than workers ({})", w.busy, w.total)));
    }
    let util = if w.total == 0.0 {
        if t.pending > 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        w.busy / w.total
    };
    Observation::from_f64(now, w.total, t.pending, t.running, t.avg_task_duration_s, util)
        .map_err(|e| BadMetrics(e.to_string()))
}

struct Recorder {
    path: PathBuf,
    file: File,
}

impl Recorder {
    fn open(path: &PathBuf) -> std::io::Result<Recorder> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        if file.metadata()?.len() == 0 {
            file.write_all(OBSERVATIONS_HEADER.as_bytes())?;
            file.flush()?;
        }
        Ok(Recorder { path: path.clone(), file })
    }

    fn record(&mut self, o: &Observation) -> std::io::Result<()> {
        self.file.write_all(o.csv_row().as_bytes())?;
        self.file.flush()
    }
}

struct Shared {
    scaler: Scaler,
    metrics: ScalingMetrics,
    history: VecDeque<Decision>,
    recorder: Option<Recorder>,
    /// The clock's origin: the first `start_monitoring`.
    origin: Option<Instant>,
}

struct Inner<R, D, C> {
    registry: Arc<R>,
    distributor: Arc<D>,
    cloud: Arc<C>,
    config: RuntimeConfig,
    shared: Mutex<Shared>,
}

/// The seed's `AutoScaler`: starts and stops a monitoring loop around `scaler-core`.
pub struct AutoScaler<R, D, C> {
    inner: Arc<Inner<R, D, C>>,
    task: tokio::sync::Mutex<Option<(JoinHandle<()>, watch::Sender<bool>)>>,
}

fn secs(ms: u64) -> f64 {
    Duration::from_millis(ms).as_secs_f64()
}

impl<R: WorkerRegistry, D: TaskDistributor, C: CloudManager> AutoScaler<R, D, C> {
    /// An auto-scaler over the given integrations; nothing runs until [`AutoScaler::start_monitoring`].
    pub fn new(registry: Arc<R>, distributor: Arc<D>, cloud_manager: Arc<C>, config: RuntimeConfig) -> Self {
        let sc = &config.scaler;
        let metrics = ScalingMetrics {
            metrics_window_s: secs(sc.metrics_window().as_ms()),
            cooldown_period_s: secs(sc.cooldown_period().as_ms()),
            evaluation_interval_s: secs(sc.evaluation_interval().as_ms()),
            ..ScalingMetrics::default()
        };
        let shared = Shared {
            scaler: Scaler::new(config.scaler.clone()),
            metrics,
            history: VecDeque::new(),
            recorder: None,
            origin: None,
        };
        AutoScaler {
            inner: Arc::new(Inner { registry, distributor, cloud: cloud_manager, config, shared: Mutex::new(shared) }),
            task: tokio::sync::Mutex::new(None),
        }
    }

    /// Starts the monitoring loop (the first tick is immediate). Calling it while the
    /// loop runs does nothing.
    pub async fn start_monitoring(&self) {
        let mut task = self.task.lock().await;
        if task.as_ref().is_some_and(|(h, _)| !h.is_finished()) {
            return;
        }
        {
            let mut s = self.inner.shared.lock().expect("state lock");
            s.origin.get_or_insert_with(Instant::now);
            s.metrics.monitoring = true;
            if s.recorder.is_none() {
                if let Some(path) = &self.inner.config.record_observations {
                    match Recorder::open(path) {
                        Ok(r) => s.recorder = Some(r),
                        Err(e) => {
                            tracing::error!(path = %path.display(), error = %e, "cannot open the observations recording; continuing without it");
                            s.metrics.record_errors += 1;
                        }
                    }
                }
            }
        }
        let (tx, rx) = watch::channel(false);
        let inner = Arc::clone(&self.inner);
        *task = Some((tokio::spawn(run_loop(inner, rx)), tx));
    }

    /// Stops the loop: an in-flight scaling call may finish (it is bounded by the call
    /// timeout), then the loop ends; no task is left running. The recording is flushed.
    pub async fn stop_monitoring(&self) {
        let mut task = self.task.lock().await;
        if let Some((handle, tx)) = task.take() {
            let _ = tx.send(true);
            let bound = self.inner.config.call_timeout * 3 + Duration::from_secs(1);
            let abort = handle.abort_handle();
            if tokio::time::timeout(bound, handle).await.is_err() {
                tracing::warn!(?bound, "the monitoring loop did not stop in time; aborting it");
                abort.abort();
            }
        }
        let mut s = self.inner.shared.lock().expect("state lock");
        s.metrics.monitoring = false;
        if let Some(r) = &mut s.recorder {
            if let Err(e) = r.file.flush() {
                tracing::error!(path = %r.path.display(), error = %e, "flushing the observations recording failed");
            }
        }
    }

    /// The current metrics, the last decision and the configuration's window and cooldown.
    pub fn get_scaling_metrics(&self) -> ScalingMetrics {
        self.inner.shared.lock().expect("state lock").metrics.clone()
    }

    /// The most recent decisions, oldest first.
    pub fn recent_decisions(&self) -> Vec<Decision> {
        self.inner.shared.lock().expect("state lock").history.iter().copied().collect()
    }
}

async fn run_loop<R: WorkerRegistry, D: TaskDistributor, C: CloudManager>(
    inner: Arc<Inner<R, D, C>>,
    mut stop: watch::Receiver<bool>,
) {
    let origin = inner.shared.lock().expect("state lock").origin.unwrap_or_else(Instant::now);
    loop {
        if *stop.borrow() {
            break;
        }
        let now = TimeMs(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX));
        tick(&inner, now).await;
        let next = inner.shared.lock().expect("state lock").scaler.next_tick(now);
        let wake = origin + Duration::from_millis(next.as_ms());
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            _ = stop.changed() => break,
        }
    }
}

async fn tick<R: WorkerRegistry, D: TaskDistributor, C: CloudManager>(inner: &Inner<R, D, C>, now: TimeMs) {
    let timeout = inner.config.call_timeout;
    let reg = Arc::clone(&inner.registry);
    let dist = Arc::clone(&inner.distributor);
    let (w, t) = tokio::join!(
        call(timeout, async move { reg.workers().await }),
        call(timeout, async move { dist.tasks().await })
    );
    let obs = match (w, t) {
        (Ok(w), Ok(t)) => observation(now, w, t).map_err(|e| e.to_string()),
        (Err(e), _) => Err(format!("worker registry: {e}")),
        (_, Err(e)) => Err(format!("task distributor: {e}")),
    };
    let decision = {
        let mut s = inner.shared.lock().expect("state lock");
        s.metrics.ticks += 1;
        let obs = match obs {
            Ok(o) => o,
            Err(e) => {
                s.metrics.skipped_ticks += 1;
                tracing::warn!(at_s = secs(now.as_ms()), error = %e, "metrics collection failed; skipping this tick");
                return;
            }
        };
        if let Err(e) = s.scaler.observe(obs) {
            s.metrics.skipped_ticks += 1;
            tracing::warn!(at_s = secs(now.as_ms()), error = %e, "observation refused; skipping this tick");
            return;
        }
        if let Some(r) = &mut s.recorder {
            if let Err(e) = r.record(&obs) {
                tracing::error!(path = %r.path.display(), error = %e, "recording the observation failed");
                s.metrics.record_errors += 1;
            }
        }
        let d = match s.scaler.decide(now) {
            Ok(d) => d,
            Err(e) => {
                s.metrics.skipped_ticks += 1;
                tracing::warn!(error = %e, "clock error; skipping this tick");
                return;
            }
        };
        let m = &mut s.metrics;
        m.current_workers = obs.current_workers;
        m.pending_tasks = obs.pending_tasks;
        m.running_tasks = obs.running_tasks;
        m.avg_task_duration_s = secs(obs.avg_task_duration.as_ms());
        m.worker_utilization = obs.worker_utilization().to_f64();
        m.last_decision = Some(DecisionInfo {
            at_s: secs(now.as_ms()),
            action: d.action.as_str().into(),
            target_workers: d.target_workers,
            reason: d.reason.as_str().into(),
        });
        s.history.push_back(d);
        while s.history.len() > inner.config.history {
            s.history.pop_front();
        }
        d
    };
    if !decision.is_scaling() {
        tracing::debug!(at_s = secs(now.as_ms()), reason = %decision.reason, "hold");
        return;
    }
    let cfg = &inner.config.scaler;
    if decision.target_workers < cfg.min_workers() || decision.target_workers > cfg.max_workers() {
        // The core guarantees this never happens; the runtime refuses to act on it anyway.
        tracing::error!(target = decision.target_workers, "decision outside [min_workers, max_workers]; not scaling");
        return;
    }
    let cloud = Arc::clone(&inner.cloud);
    let target = decision.target_workers;
    let result = call(timeout, async move { cloud.set_workers(target).await }).await;
    let mut s = inner.shared.lock().expect("state lock");
    match result {
        Ok(()) => {
            s.scaler.record_scaled(now);
            s.metrics.last_scaling_time_s = Some(secs(now.as_ms()));
            s.metrics.scalings += 1;
            tracing::info!(at_s = secs(now.as_ms()), action = %decision.action, from = decision.current_workers, to = target, reason = %decision.reason, "scaled");
        }
        Err(e) => {
            s.metrics.scaling_failures += 1;
            tracing::warn!(
                at_s = secs(now.as_ms()),
                action = %decision.action,
                from = decision.current_workers,
                to = target,
                reason = %decision.reason,
                error = %e,
                "scaling failed; no cooldown starts, the next tick decides again"
            );
        }
    }
}

/// Milliseconds as a [`DurationMs`] (re-exported for embedders building configs).
#[must_use]
pub fn duration_ms(d: Duration) -> DurationMs {
    DurationMs(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
