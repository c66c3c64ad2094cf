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
//! - the observation is made exactly as the simulator makes it: the registry and the
//!   distributor report a [`PoolSnapshot`]'s parts (ready and starting workers, busy
//!   slots, slots per worker, pending and running tasks), and
//!   [`Observation::from_pool`] in the core turns them into the observation, with the
//!   utilization kept as the exact ratio busy slots / slots of ready workers;
//! - each tick is the core's one step: [`Scaler::tick`], then the scaling call, then
//!   [`Scaler::outcome`] with what became of that decision;
//! - a failed or timed-out metrics collection skips that tick; nonsense metrics (NaN,
//!   negative, more busy slots than slots) are refused and skip the tick;
//! - a failed scaling call is logged with its context, starts no cooldown, and is retried
//!   by the next tick's decision; scaling is serialized (one loop, one call at a time)
//!   and never asks for a target outside `[min_workers, max_workers]`;
//! - an optional recorder appends every observation to an observations CSV (with the
//!   exact counts), flushed at every tick, so `scaler-sim replay` reruns production
//!   decisions exactly;
//! - an optional state file holds the scaler's snapshot, written atomically after every
//!   tick; a new `AutoScaler` with the same file resumes where the old one stopped.
//!
//! ```no_run
//! # use scaler_runtime::*;
//! # use scaler_core::ScalerConfig;
//! # struct Pool;
//! # impl WorkerRegistry for Pool { async fn workers(&self) -> Result<WorkerCounts, BoxError> { Ok(WorkerCounts { ready: 2.0, provisioning: 0.0, busy_slots: 1.0, slots_per_worker: 1.0 }) } }
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

use scaler_core::{
    Decision, DurationMs, Observation, Outcome, PoolSnapshot, Scaler, ScalerConfig, ScalerSnapshot, TimeMs,
    OBSERVATIONS_HEADER,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The error type user implementations return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a worker registry reports: the worker half of a [`PoolSnapshot`]. Numbers are
/// `f64` so that whatever an embedder's metrics system returns can be checked (NaN,
/// negative, fractions are refused).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkerCounts {
    /// Workers ready to take tasks (not starting, not draining).
    pub ready: f64,
    /// Workers requested and still starting.
    pub provisioning: f64,
    /// Busy task slots of the ready workers (a worker running `k` tasks has `k` busy slots).
    pub busy_slots: f64,
    /// Task slots per worker (1 when a worker runs one task at a time).
    pub slots_per_worker: f64,
}

/// What a task distributor reports: the task half of a [`PoolSnapshot`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaskStats {
    /// Tasks waiting.
    pub pending: f64,
    /// Tasks running anywhere (draining workers included).
    pub running: f64,
    /// Mean duration of the tasks completed within the metrics window, seconds (0 if none);
    /// [`scaler_core::CompletionWindow`] computes it as the simulator does.
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
    /// Keep the scaler's state in this file (JSON, written atomically after every tick) and
    /// resume from it when monitoring starts.
    pub state_file: Option<PathBuf>,
}

impl RuntimeConfig {
    /// Defaults: 10 s call timeout, no recording, 1,000 decisions of history.
    #[must_use]
    pub fn new(scaler: ScalerConfig) -> RuntimeConfig {
        RuntimeConfig {
            scaler,
            call_timeout: Duration::from_secs(10),
            record_observations: None,
            history: 1000,
            state_file: None,
        }
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

    /// Persists the scaler's state in `path` after every tick (atomically: a complete file
    /// or the previous one) and resumes from it on start, so a restarted service keeps its
    /// window, cooldown, warm-up and policy memory.
    #[must_use]
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> RuntimeConfig {
        self.state_file = Some(path.into());
        self
    }
}

/// What the state file holds: the scaler's snapshot and the runtime clock's reading when it
/// was taken (milliseconds since monitoring first started, across restarts).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StateFile {
    /// The runtime clock when the snapshot was taken.
    pub clock_ms: u64,
    /// The wall clock when it was written (ms since the Unix epoch), to count the downtime
    /// until a restart. Absent in files of earlier versions: their modification time is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_unix_ms: Option<u64>,
    /// The scaler's state.
    pub scaler: ScalerSnapshot,
}

/// A state file as read back by [`load_state`].
#[derive(Debug)]
pub struct Resumed {
    /// The scaler, rebuilt.
    pub scaler: Scaler,
    /// The runtime clock when the snapshot was taken.
    pub clock_ms: u64,
    /// The wall clock when the file was written (ms since the Unix epoch), from the file
    /// itself, or its modification time for files of earlier versions.
    pub saved_unix_ms: Option<u64>,
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a state file.
    #[error("{path}: not a scaler state file: {source}")]
    Format {
        /// The file.
        path: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The snapshot does not fit the configuration.
    #[error("{path}: {source}")]
    Restore {
        /// The file.
        path: String,
        /// Why.
        source: scaler_core::RestoreError,
    },
}

/// Reads a state file and rebuilds the scaler it describes under `config`. A decision that
/// was awaiting its outcome when the file was written is treated as failed (its effect is
/// unknown): the next tick decides again from what it observes.
pub fn load_state(path: &std::path::Path, config: &ScalerConfig) -> Result<Resumed, StateError> {
    let p = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| StateError::Io { path: p(), source })?;
    let file: StateFile = serde_json::from_str(&text).map_err(|source| StateError::Format { path: p(), source })?;
    let mut snap = file.scaler;
    snap.pending = None;
    let scaler = Scaler::restore(config.clone(), snap).map_err(|source| StateError::Restore { path: p(), source })?;
    let saved_unix_ms = file.saved_unix_ms.or_else(|| file_mtime_unix_ms(path));
    Ok(Resumed { scaler, clock_ms: file.clock_ms, saved_unix_ms })
}

/// Writes a state file atomically: a temporary file in the same folder, flushed, then renamed.
pub fn save_state(path: &std::path::Path, scaler: &Scaler, clock_ms: u64) -> Result<(), StateError> {
    let p = || path.display().to_string();
    let file = StateFile { clock_ms, saved_unix_ms: Some(unix_ms()), scaler: scaler.snapshot() };
    let text = serde_json::to_vec(&file).map_err(|source| StateError::Format { path: p(), source })?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        StateError::Io { path: p(), source }
    })
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
    /// Busy slots / slots of ready workers at the last successful collection.
    pub worker_utilization: f64,
    /// Ready workers at the last successful collection.
    pub ready_workers: u32,
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
    /// State files that could not be written or read.
    pub state_errors: u64,
    /// Scaling calls that timed out (counted in `scaling_failures` too); their effect is
    /// unknown, so each started the cooldown.
    pub scaling_timeouts: u64,
    /// Scalings not started because a timed-out call was still running.
    pub scalings_deferred: u64,
    /// Torn rows (an incomplete last line after a crash) cut from the recording when it was
    /// reopened.
    pub torn_rows_dropped: u64,
    /// The file observations are recorded to (a new segment when the clock restarted).
    pub recording_path: Option<PathBuf>,
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
    call_tracked(timeout, fut).await.0
}

/// [`call`], and on a timeout the call's task too: it was asked to stop (aborted), but a
/// call that blocks or ignores cancellation may still be running.
async fn call_tracked<T: Send + 'static>(
    timeout: Duration,
    fut: impl Future<Output = Result<T, BoxError>> + Send + 'static,
) -> (Result<T, CallError>, Option<JoinHandle<Result<T, BoxError>>>) {
    let mut handle = tokio::spawn(fut);
    let result = match tokio::time::timeout(timeout, &mut handle).await {
        Err(_) => {
            handle.abort();
            return (Err(CallError::Timeout(timeout)), Some(handle));
        }
        Ok(r) => r,
    };
    let result = match result {
        Err(join) => {
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
        Ok(Err(e)) => Err(CallError::Failed(e)),
        Ok(Ok(v)) => Ok(v),
    };
    (result, None)
}

/// Turns what the registry and distributor said into the pool's snapshot, or says why not.
pub fn pool_snapshot(w: WorkerCounts, t: TaskStats) -> Result<PoolSnapshot, BadMetrics> {
    fn count(field: &str, x: f64, max: f64) -> Result<u64, BadMetrics> {
        if !x.is_finite() || x < 0.0 {
            return Err(BadMetrics(format!("{field} must be a finite number >= 0, got {x}")));
        }
        if x > max {
            return Err(BadMetrics(format!("{field} = {x} is too large")));
        }
        if x.fract() != 0.0 {
            return Err(BadMetrics(format!("{field} must be a whole number, got {x}")));
        }
        // Finite, non-negative, whole and within range: the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(x as u64)
    }
    let small = f64::from(u32::MAX);
    let ready = u32::try_from(count("ready workers", w.ready, small)?).unwrap_or(u32::MAX);
    let provisioning = u32::try_from(count("provisioning workers", w.provisioning, small)?).unwrap_or(u32::MAX);
    let slots = u32::try_from(count("slots per worker", w.slots_per_worker, small)?).unwrap_or(u32::MAX);
    if slots == 0 {
        return Err(BadMetrics("slots per worker must be >= 1".into()));
    }
    let busy = count("busy slots", w.busy_slots, 9.0e15)?;
    if busy > u64::from(ready) * u64::from(slots) {
        return Err(BadMetrics(format!("more busy slots ({busy}) than slots of ready workers ({ready} x {slots})")));
    }
    let pending = count("pending tasks", t.pending, 9.0e15)?;
    let running = count("running tasks", t.running, 9.0e15)?;
    if !t.avg_task_duration_s.is_finite() || t.avg_task_duration_s < 0.0 {
        return Err(BadMetrics(format!(
            "avg_task_duration_s must be a finite number >= 0, got {}",
            t.avg_task_duration_s
        )));
    }
    // Whole milliseconds, as every duration the project holds.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let avg_ms = (t.avg_task_duration_s * 1000.0).round().min(9.0e15) as u64;
    Ok(PoolSnapshot {
        ready_workers: ready,
        provisioning_workers: provisioning,
        busy_slots: busy,
        slots_per_worker: slots,
        pending_tasks: pending,
        running_tasks: running,
        avg_task_duration: DurationMs(avg_ms),
    })
}

/// Turns what the registry and distributor said into the observation at `now`: the pool's
/// snapshot through [`Observation::from_pool`], exactly as the simulator observes.
pub fn observation(now: TimeMs, w: WorkerCounts, t: TaskStats) -> Result<Observation, BadMetrics> {
    let pool = pool_snapshot(w, t)?;
    Observation::from_pool(now, &pool).map_err(|e| BadMetrics(e.to_string()))
}

/// The observations recorder: every observation the runtime (or an embedding such as the
/// Python package) takes, appended to a file that `scaler-sim replay` reruns.
pub struct Recorder {
    path: PathBuf,
    file: File,
}

/// The path of segment `k` of a recording: `observations.csv` → `observations.1.csv`.
fn segment_path(path: &std::path::Path, k: u32) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(e) => format!("{stem}.{k}.{}", e.to_string_lossy()),
        None => format!("{stem}.{k}"),
    };
    path.with_file_name(name)
}

impl Recorder {
    /// Opens the recording. An existing one is continued only when the clock continues
    /// (`resumed` from a state file) and its header is this version's; otherwise the
    /// observations go to a new segment (`name.1.csv`, `name.2.csv`, ...), so that every file
    /// has non-decreasing timestamps that `replay` accepts. A torn last row (no line end, from a
    /// crash) is cut before appending; returns how many rows were cut.
    pub fn open(path: &std::path::Path, resumed: bool) -> std::io::Result<(Recorder, u64)> {
        let mut target = path.to_path_buf();
        let mut torn = 0;
        let usable = |p: &std::path::Path| -> std::io::Result<bool> {
            let text = std::fs::read(p)?;
            Ok(text.is_empty() || text.starts_with(OBSERVATIONS_HEADER.as_bytes()))
        };
        if target.exists() && std::fs::metadata(&target)?.len() > 0 && !(resumed && usable(&target)?) {
            let mut k = 1;
            while segment_path(path, k).exists() {
                k += 1;
            }
            target = segment_path(path, k);
        }
        if target.exists() {
            let text = std::fs::read(&target)?;
            if !text.is_empty() && !text.ends_with(b"\n") {
                let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                OpenOptions::new().write(true).open(&target)?.set_len(keep as u64)?;
                torn = 1;
            }
        }
        let mut file = OpenOptions::new().create(true).append(true).open(&target)?;
        if file.metadata()?.len() == 0 {
            file.write_all(OBSERVATIONS_HEADER.as_bytes())?;
            file.flush()?;
        }
        Ok((Recorder { path: target, file }, torn))
    }

    /// Appends `o` (flushed, so a crash loses at most the row being written).
    pub fn record(&mut self, o: &Observation) -> std::io::Result<()> {
        self.file.write_all(o.csv_row().as_bytes())?;
        self.file.flush()
    }

    /// The file written (a new segment's when the recording could not be continued).
    #[must_use]
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

struct Shared {
    scaler: Scaler,
    metrics: ScalingMetrics,
    history: VecDeque<Decision>,
    recorder: Option<Recorder>,
    /// The clock's origin: the first `start_monitoring`.
    origin: Option<Instant>,
    /// Milliseconds the clock already read at `origin` (a state file's clock plus the
    /// downtime since it was written; 0 for a fresh start).
    offset_ms: u64,
    /// Resumed from a state file: the next tick is the next one on the grid, not an
    /// immediate one.
    resumed: bool,
}

impl Shared {
    /// The runtime clock: milliseconds since monitoring first started, across restarts.
    fn now(&self) -> TimeMs {
        let elapsed = self.origin.map_or(0, |o| u64::try_from(o.elapsed().as_millis()).unwrap_or(u64::MAX));
        TimeMs(self.offset_ms.saturating_add(elapsed))
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

struct Inner<R, D, C> {
    registry: Arc<R>,
    distributor: Arc<D>,
    cloud: Arc<C>,
    config: RuntimeConfig,
    shared: Mutex<Shared>,
    /// A scaling call that timed out and may still be running: no other starts until it ends.
    straggler: Mutex<Option<JoinHandle<Result<(), BoxError>>>>,
}

/// What [`AutoScaler::stop_monitoring`] found when it stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StopReport {
    /// A scaling call that timed out earlier was still running after waiting the call
    /// timeout for it (it ignores cancellation); its effect is unknown.
    pub call_still_running: bool,
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
            offset_ms: 0,
            resumed: false,
        };
        AutoScaler {
            inner: Arc::new(Inner {
                registry,
                distributor,
                cloud: cloud_manager,
                config,
                shared: Mutex::new(shared),
                straggler: Mutex::new(None),
            }),
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
            if s.origin.is_none() {
                s.origin = Some(Instant::now());
                if let Some(path) = self.inner.config.state_file.as_deref().filter(|p| p.exists()) {
                    match load_state(path, &self.inner.config.scaler) {
                        Ok(Resumed { scaler, clock_ms, saved_unix_ms }) => {
                            let downtime = saved_unix_ms.map_or(0, |t| unix_ms().saturating_sub(t));
                            s.scaler = scaler;
                            s.offset_ms = clock_ms.saturating_add(downtime);
                            s.resumed = true;
                            tracing::info!(path = %path.display(), clock_s = secs(s.offset_ms), "resumed the scaler's state");
                        }
                        Err(e) => {
                            s.metrics.state_errors += 1;
                            tracing::error!(error = %e, "cannot resume from the state file; starting fresh");
                        }
                    }
                }
            }
            s.metrics.monitoring = true;
            if s.recorder.is_none() {
                if let Some(path) = &self.inner.config.record_observations {
                    match Recorder::open(path, s.resumed) {
                        Ok((r, torn)) => {
                            if torn > 0 {
                                tracing::warn!(path = %r.path.display(), "cut a torn last row from the recording");
                            }
                            if r.path != *path {
                                tracing::info!(path = %r.path.display(), "recording to a new segment (the clock restarted)");
                            }
                            s.metrics.torn_rows_dropped += torn;
                            s.metrics.recording_path = Some(r.path.clone());
                            s.recorder = Some(r);
                        }
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
    pub async fn stop_monitoring(&self) -> StopReport {
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
        // A timed-out scaling call that is still running: wait for it (bounded), or report it.
        let straggler = self.inner.straggler.lock().expect("straggler lock").take();
        let mut report = StopReport::default();
        if let Some(mut h) = straggler {
            if tokio::time::timeout(self.inner.config.call_timeout, &mut h).await.is_err() {
                tracing::error!("a timed-out scaling call is still running after stop; its effect is unknown");
                report.call_still_running = true;
                *self.inner.straggler.lock().expect("straggler lock") = Some(h);
            }
        }
        let mut s = self.inner.shared.lock().expect("state lock");
        s.metrics.monitoring = false;
        if let Some(r) = &mut s.recorder {
            if let Err(e) = r.file.flush() {
                tracing::error!(path = %r.path.display(), error = %e, "flushing the observations recording failed");
            }
        }
        report
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
    let (origin, offset, resumed) = {
        let mut s = inner.shared.lock().expect("state lock");
        let r = (s.origin.unwrap_or_else(Instant::now), s.offset_ms, s.resumed);
        s.resumed = false;
        r
    };
    let mut skip = resumed;
    loop {
        if *stop.borrow() {
            break;
        }
        let now = inner.shared.lock().expect("state lock").now();
        if !skip {
            tick(&inner, now).await;
        }
        skip = false;
        let next = inner.shared.lock().expect("state lock").scaler.next_tick(now);
        let wake = origin + Duration::from_millis(next.as_ms().saturating_sub(offset));
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
        let (d, ticket) = match s.scaler.tick(now, Some(obs)) {
            Ok(t) => (t.decision, t.ticket),
            Err(e) => {
                s.metrics.skipped_ticks += 1;
                tracing::warn!(at_s = secs(now.as_ms()), error = %e, "observation refused; skipping this tick");
                return;
            }
        };
        if let Some(r) = &mut s.recorder {
            if let Err(e) = r.record(&obs) {
                tracing::error!(path = %r.path.display(), error = %e, "recording the observation failed");
                s.metrics.record_errors += 1;
            }
        }
        let m = &mut s.metrics;
        m.current_workers = obs.current_workers;
        m.pending_tasks = obs.pending_tasks;
        m.running_tasks = obs.running_tasks;
        m.avg_task_duration_s = secs(obs.avg_task_duration.as_ms());
        m.worker_utilization = obs.worker_utilization().to_f64();
        m.ready_workers = obs.ready_workers();
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
        (d, ticket)
    };
    let (decision, ticket) = decision;
    let Some(ticket) = ticket else {
        tracing::debug!(at_s = secs(now.as_ms()), reason = %decision.reason, "hold");
        persist(inner, now);
        return;
    };
    let cfg = &inner.config.scaler;
    if decision.target_workers < cfg.min_workers() || decision.target_workers > cfg.max_workers() {
        // The core guarantees this never happens; the runtime refuses to act on it anyway.
        tracing::error!(target = decision.target_workers, "decision outside [min_workers, max_workers]; not scaling");
        let _ = inner.shared.lock().expect("state lock").scaler.outcome(ticket, Outcome::Failed);
        persist(inner, now);
        return;
    }
    // Never two scaling calls at once: one that timed out may still be running.
    let busy = {
        let mut st = inner.straggler.lock().expect("straggler lock");
        if st.as_ref().is_some_and(JoinHandle::is_finished) {
            *st = None;
        }
        st.is_some()
    };
    if busy {
        let mut s = inner.shared.lock().expect("state lock");
        let _ = s.scaler.outcome(ticket, Outcome::Failed);
        s.metrics.scalings_deferred += 1;
        tracing::warn!(
            at_s = secs(now.as_ms()),
            to = decision.target_workers,
            "an earlier scaling call that timed out is still running; not starting another"
        );
        drop(s);
        persist(inner, now);
        return;
    }
    let cloud = Arc::clone(&inner.cloud);
    let target = decision.target_workers;
    let (result, straggler) = call_tracked(timeout, async move { cloud.set_workers(target).await }).await;
    let timed_out = straggler.is_some();
    if let Some(h) = straggler {
        *inner.straggler.lock().expect("straggler lock") = Some(h);
    }
    let mut s = inner.shared.lock().expect("state lock");
    // A timed-out call may have taken effect: its outcome is unknown (the cooldown starts, so
    // that a late effect is not compounded; the next tick observes afresh).
    let outcome = match (&result, timed_out) {
        (Ok(()), _) => Outcome::Applied,
        (Err(_), true) => Outcome::Unknown,
        (Err(_), false) => Outcome::Failed,
    };
    if timed_out {
        s.metrics.scaling_timeouts += 1;
    }
    if let Err(e) = s.scaler.outcome(ticket, outcome) {
        tracing::error!(error = %e, "scaling outcome not taken");
    }
    drop(s);
    persist(inner, now);
    let mut s = inner.shared.lock().expect("state lock");
    match result {
        Ok(()) => {
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
                "scaling failed; the next tick decides again from a fresh observation (a timed-out call starts the cooldown, since it may have taken effect)"
            );
        }
    }
}

/// Writes the state file (when configured) after a tick.
fn persist<R, D, C>(inner: &Inner<R, D, C>, now: TimeMs) {
    let Some(path) = &inner.config.state_file else { return };
    let mut s = inner.shared.lock().expect("state lock");
    if let Err(e) = save_state(path, &s.scaler, now.as_ms()) {
        s.metrics.state_errors += 1;
        tracing::error!(error = %e, "writing the state file failed");
    }
}

/// A file's modification time (ms since the Unix epoch): when a state file of an earlier
/// version, which does not record it, was written.
fn file_mtime_unix_ms(path: &std::path::Path) -> Option<u64> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Milliseconds as a [`DurationMs`] (re-exported for embedders building configs).
#[must_use]
pub fn duration_ms(d: Duration) -> DurationMs {
    DurationMs(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
