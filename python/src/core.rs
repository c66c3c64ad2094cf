//! [`Core`]: one tick of the seed's `AutoScaler`, the step `scaler-runtime` takes, for the
//! Python monitoring loop. The loop collects the counts (calling the user's components,
//! with timeouts) and the clock; this object checks the counts into the observation
//! (`scaler_runtime::observation`, exactly as the Rust runtime and the simulator observe),
//! steps the scaler (`Scaler::tick`), reports the scaling call's outcome
//! (`Scaler::outcome`), records observations and keeps the runtime's metrics.

use std::collections::VecDeque;
use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use scaler_core::{Decision, Outcome, Scaler, Ticket, TimeMs};
use scaler_runtime::{DecisionInfo, ScalingMetrics, TaskStats, WorkerCounts};

use crate::{any_config, ms_to_s};

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What [`Core::tick`] returns: the decision (or `None`: skipped), the worker count to ask
/// the cloud manager for (when it scales), and a note (why skipped, or a recording error).
type TickOutcome<'py> = (Option<Bound<'py, PyDict>>, Option<u32>, Option<String>);

/// The scaler's state between ticks, for the Python loop (internal; use `scaler.AutoScaler`).
#[pyclass(module = "scaler._scaler")]
pub struct Core {
    scaler: Scaler,
    metrics: ScalingMetrics,
    pending: Option<(Ticket, Decision)>,
    history: VecDeque<Decision>,
    history_len: usize,
    recorder: Option<scaler_runtime::Recorder>,
    record_path: Option<PathBuf>,
    state_file: Option<PathBuf>,
    resumed: bool,
}

fn decision_dict<'py>(py: Python<'py>, d: &Decision) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("at_s", ms_to_s(d.at.as_ms()))?;
    out.set_item("action", d.action.as_str())?;
    out.set_item("target_workers", d.target_workers)?;
    out.set_item("reason", d.reason.as_str())?;
    out.set_item("window_utilization", d.window_utilization.map(scaler_core::Fixed9::to_f64))?;
    out.set_item("current_workers", d.current_workers)?;
    out.set_item("pending_tasks", d.pending_tasks)?;
    Ok(out)
}

impl Core {
    /// Writes the state file (when configured) after a tick that decided.
    fn persist(&mut self, now_ms: u64) -> Option<String> {
        let path = self.state_file.as_ref()?;
        match scaler_runtime::save_state(path, &self.scaler, now_ms) {
            Ok(()) => None,
            Err(e) => {
                self.metrics.state_errors += 1;
                Some(format!("writing the state file failed: {e}"))
            }
        }
    }
}

#[pymethods]
impl Core {
    #[new]
    #[pyo3(signature = (config, record_observations=None, history=100, state_file=None))]
    fn new(
        config: &Bound<'_, PyAny>,
        record_observations: Option<PathBuf>,
        history: usize,
        state_file: Option<PathBuf>,
    ) -> PyResult<Core> {
        let cfg = any_config(config)?;
        let metrics = ScalingMetrics {
            metrics_window_s: ms_to_s(cfg.metrics_window().as_ms()),
            cooldown_period_s: ms_to_s(cfg.cooldown_period().as_ms()),
            evaluation_interval_s: ms_to_s(cfg.evaluation_interval().as_ms()),
            ..ScalingMetrics::default()
        };
        Ok(Core {
            scaler: Scaler::new(cfg),
            metrics,
            pending: None,
            history: VecDeque::new(),
            history_len: history,
            recorder: None,
            record_path: record_observations,
            state_file,
            resumed: false,
        })
    }

    /// On the first start: resumes from the state file when it exists, as `scaler-runtime`
    /// does (`load_state`: the scaler rebuilt under this configuration; a decision that was
    /// awaiting its outcome is treated as failed). Returns `(clock_ms, error)`: the clock to
    /// continue from (the saved reading plus the wall-clock downtime), or why the file could
    /// not be used (counted in `state_errors`; the scaler starts fresh).
    fn resume(&mut self) -> (Option<u64>, Option<String>) {
        let Some(path) = self.state_file.clone().filter(|p| p.exists()) else {
            return (None, None);
        };
        match scaler_runtime::load_state(&path, self.scaler.config()) {
            Ok(r) => {
                let downtime = r.saved_unix_ms.map_or(0, |t| unix_ms().saturating_sub(t));
                self.scaler = r.scaler;
                self.resumed = true;
                (Some(r.clock_ms.saturating_add(downtime)), None)
            }
            Err(e) => {
                self.metrics.state_errors += 1;
                (None, Some(format!("cannot resume from the state file; starting fresh: {e}")))
            }
        }
    }

    /// Opens the recording (on the first start); an error is returned as text and counted.
    fn open_recording(&mut self) -> Option<String> {
        if self.recorder.is_some() {
            return None;
        }
        let path = self.record_path.clone()?;
        match scaler_runtime::Recorder::open(&path, self.resumed) {
            Ok((r, torn)) => {
                self.metrics.torn_rows_dropped += torn;
                self.metrics.recording_path = Some(r.path().to_path_buf());
                self.recorder = Some(r);
                None
            }
            Err(e) => {
                self.metrics.record_errors += 1;
                Some(format!("{}: cannot open the observations recording: {e}", path.display()))
            }
        }
    }

    /// One tick at `now_ms` with the registry's `(ready, provisioning, busy_slots,
    /// slots_per_worker)` and the distributor's `(pending, running, avg_task_duration_s)`.
    ///
    /// Returns `(decision, target, error)`: the decision (a dict) or `None` when the tick
    /// is skipped; the worker count to ask the cloud manager for when the decision scales
    /// (then [`Core::outcome`] must follow), else `None`; and why the tick was skipped or
    /// what went wrong recording.
    fn tick<'py>(
        &mut self,
        py: Python<'py>,
        now_ms: u64,
        workers: (f64, f64, f64, f64),
        tasks: (f64, f64, f64),
    ) -> PyResult<TickOutcome<'py>> {
        if let Some((ticket, _)) = self.pending.take() {
            // An outcome that was never reported (the loop was cancelled mid-call): unknown.
            let _ = self.scaler.outcome(ticket, Outcome::Unknown);
        }
        let now = TimeMs(now_ms);
        self.metrics.ticks += 1;
        let (ready, provisioning, busy_slots, slots_per_worker) = workers;
        let (pending, running, avg_task_duration_s) = tasks;
        let w = WorkerCounts { ready, provisioning, busy_slots, slots_per_worker };
        let t = TaskStats { pending, running, avg_task_duration_s };
        let obs = match scaler_runtime::observation(now, w, t) {
            Ok(o) => o,
            Err(e) => {
                self.metrics.skipped_ticks += 1;
                return Ok((None, None, Some(format!("metrics make no sense: {e}"))));
            }
        };
        let tick = match self.scaler.tick(now, Some(obs)) {
            Ok(t) => t,
            Err(e) => {
                self.metrics.skipped_ticks += 1;
                return Ok((None, None, Some(format!("observation refused: {e}"))));
            }
        };
        let mut note = None;
        if let Some(r) = &mut self.recorder {
            if let Err(e) = r.record(&obs) {
                self.metrics.record_errors += 1;
                note = Some(format!("{}: recording the observation failed: {e}", r.path().display()));
            }
        }
        let d = tick.decision;
        let m = &mut self.metrics;
        m.current_workers = obs.current_workers;
        m.pending_tasks = obs.pending_tasks;
        m.running_tasks = obs.running_tasks;
        m.avg_task_duration_s = ms_to_s(obs.avg_task_duration.as_ms());
        m.worker_utilization = obs.worker_utilization().to_f64();
        m.ready_workers = obs.ready_workers();
        m.last_decision = Some(DecisionInfo {
            at_s: ms_to_s(now_ms),
            action: d.action.as_str().into(),
            target_workers: d.target_workers,
            reason: d.reason.as_str().into(),
        });
        self.history.push_back(d);
        while self.history.len() > self.history_len {
            self.history.pop_front();
        }
        let dict = decision_dict(py, &d)?;
        let Some(ticket) = tick.ticket else {
            let note = self.persist(now_ms).or(note);
            return Ok((Some(dict), None, note));
        };
        let cfg = self.scaler.config();
        if d.target_workers < cfg.min_workers() || d.target_workers > cfg.max_workers() {
            // The core guarantees this never happens; never act on it anyway.
            let _ = self.scaler.outcome(ticket, Outcome::Failed);
            let _ = self.persist(now_ms);
            return Ok((Some(dict), None, Some("decision outside [min_workers, max_workers]; not scaling".into())));
        }
        self.pending = Some((ticket, d));
        Ok((Some(dict), Some(d.target_workers), note))
    }

    /// A tick whose metrics could not be collected (a component raised, hung or returned
    /// nonsense): counted and skipped, as in `scaler-runtime`.
    fn skip(&mut self) {
        self.metrics.ticks += 1;
        self.metrics.skipped_ticks += 1;
    }

    /// What became of the pending scaling call: `"applied"` (it returned in time),
    /// `"failed"` (it raised), `"timeout"` (its effect is unknown: the cooldown starts) or
    /// `"deferred"` (not started: an earlier call that timed out is still running).
    ///
    /// Returns why the state file could not be written, if it could not.
    fn outcome(&mut self, now_ms: u64, result: &str) -> PyResult<Option<String>> {
        let outcome = match result {
            "applied" => Outcome::Applied,
            "failed" | "deferred" => Outcome::Failed,
            "timeout" => Outcome::Unknown,
            other => return Err(PyValueError::new_err(format!("unknown outcome {other:?}"))),
        };
        let Some((ticket, _)) = self.pending.take() else {
            return Err(PyValueError::new_err("no scaling decision awaits its outcome"));
        };
        self.scaler.outcome(ticket, outcome).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let m = &mut self.metrics;
        match result {
            "applied" => {
                m.scalings += 1;
                m.last_scaling_time_s = Some(ms_to_s(now_ms));
            }
            "failed" => m.scaling_failures += 1,
            "timeout" => {
                m.scaling_failures += 1;
                m.scaling_timeouts += 1;
            }
            _ => m.scalings_deferred += 1,
        }
        Ok(self.persist(now_ms))
    }

    /// When the next tick is due (ms on the loop's clock).
    fn next_tick(&self, now_ms: u64) -> u64 {
        self.scaler.next_tick(TimeMs(now_ms)).as_ms()
    }

    /// Sets the `monitoring` flag of the metrics.
    fn set_monitoring(&mut self, on: bool) {
        self.metrics.monitoring = on;
    }

    /// Flushes the recording.
    fn flush(&mut self) -> PyResult<()> {
        // Every row is flushed as it is recorded (`scaler_runtime::Recorder::record`).
        Ok(())
    }

    /// The runtime's metrics (`scaler_runtime::ScalingMetrics`) as JSON.
    fn metrics_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.metrics).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The most recent decisions, oldest first, as dicts.
    fn recent_decisions<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.history.iter().map(|d| decision_dict(py, d)).collect()
    }
}
