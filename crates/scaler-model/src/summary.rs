//! What a run reports: a row per tick, and the summary at the end.

use scaler_core::{Decision, Observation, TimeMs, Utilization};

use crate::faults::FaultCounts;

/// One row of the timeline: the tick's decision and the state at the end of that instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TickRow {
    /// The tick's time.
    pub time: TimeMs,
    /// Provisioning plus ready workers.
    pub current_workers: u32,
    /// Ready workers.
    pub ready: u32,
    /// Provisioning workers.
    pub provisioning: u32,
    /// Draining workers.
    pub draining: u32,
    /// Queued tasks.
    pub pending_tasks: u64,
    /// Running tasks (draining workers included).
    pub running_tasks: u64,
    /// Busy slots of ready workers / their slots (SPEC 6.4), after the decision was applied.
    pub worker_utilization: Utilization,
    /// The tick's decision.
    pub decision: Decision,
    /// The observation the decision was made on.
    pub observation: Observation,
    /// False when the fault injector dropped this tick's observation.
    pub observed: bool,
    /// Billed so far, counting live workers as if terminated now.
    pub cost: f64,
}

/// The run's results (SPEC section 5, summary).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Summary {
    /// Tasks in the trace (all completed).
    pub tasks: u64,
    /// Mean wait, s.
    pub wait_mean_s: f64,
    /// Median wait (nearest rank), s.
    pub wait_p50_s: f64,
    /// 95th percentile wait (nearest rank), s.
    pub wait_p95_s: f64,
    /// 99th percentile wait (nearest rank), s.
    pub wait_p99_s: f64,
    /// Longest wait, s.
    pub wait_max_s: f64,
    /// Share of tasks that waited longer than `slo_wait_s`.
    pub slo_violation_ratio: f64,
    /// Billed worker time times the price.
    pub cost: f64,
    /// Sum of worker lives, unrounded, s.
    pub worker_seconds: f64,
    /// Sum of billed worker lives (rounded up, minimum applied), s. (Extension.)
    pub billed_worker_seconds: f64,
    /// Ticks whose action was `scale_up`.
    pub scale_ups: u64,
    /// Ticks whose action was `scale_down`.
    pub scale_downs: u64,
    /// Time-weighted mean of `current_workers` over `[0, end_time_s]`.
    pub mean_workers: f64,
    /// Maximum of `current_workers`.
    pub max_workers: u32,
    /// The later of the last arrival and the last completion.
    pub end_time_s: f64,
    /// Ticks evaluated. (Extension.)
    pub ticks: u64,
    /// Workers requested over the run, initial ones included. (Extension.)
    pub workers_requested: u64,
    /// Tasks that waited longer than `slo_wait_s`. (Extension.)
    pub slo_violations: u64,
    /// Time-weighted mean of the queue length over `[0, end_time_s]`. (Extension.)
    pub mean_queue_length: f64,
    /// Workers that started from the warm pool (`[cluster] warm_pool_size`). (Extension.)
    pub warm_starts: u64,
    /// Stopped (and preparing) warm-pool worker time, s, billed at the stopped price.
    /// (Extension.)
    pub warm_pool_worker_seconds: f64,
    /// Tasks that arrived while no worker was ready, so waited for one to start (a cold
    /// start, after the pool had scaled to zero or before its first worker). (Extension.)
    pub cold_start_tasks: u64,
    /// Their mean wait, s (0 with none). (Extension.)
    pub cold_start_wait_mean_s: f64,
    /// Their 95th percentile wait (nearest rank), s. (Extension.)
    pub cold_start_wait_p95_s: f64,
    /// Their longest wait, s. (Extension.)
    pub cold_start_wait_max_s: f64,
    /// What the injected faults did (extension; written as the summary's own fields:
    /// `retries`, `crashes`, `provision_failures`, `missing_observations`,
    /// `stale_observations`, `scaling_failures`).
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub faults: FaultCounts,
    /// The warm-up left out of the metrics, s (`[cluster] warmup_s`; written only when
    /// not 0). With one, the waits (and SLO violations, cold starts) are those of the
    /// `measured_tasks` that arrived at or after it; `cost`, `worker_seconds`,
    /// `billed_worker_seconds`, `mean_workers`, `mean_queue_length`, `scale_ups`,
    /// `scale_downs` and `max_workers` count from it; `tasks`, `ticks`, `end_time_s`,
    /// `workers_requested`, the warm pool and the fault counts stay the whole run's.
    /// (Extension.)
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "is_zero"))]
    pub warmup_s: f64,
    /// With a warm-up, the tasks whose waits are measured: those arriving at or after it
    /// (`None` without one; written only with a warm-up). (Extension.)
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub measured_tasks: Option<u64>,
}

#[cfg(feature = "serde")]
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Every summary metric, in the order `summary.json` and `results.csv` write them.
pub const METRICS: &[&str] = &[
    "tasks",
    "wait_mean_s",
    "wait_p50_s",
    "wait_p95_s",
    "wait_p99_s",
    "wait_max_s",
    "slo_violation_ratio",
    "cost",
    "worker_seconds",
    "billed_worker_seconds",
    "scale_ups",
    "scale_downs",
    "mean_workers",
    "max_workers",
    "end_time_s",
    "ticks",
    "workers_requested",
    "slo_violations",
    "mean_queue_length",
    "cold_start_tasks",
    "cold_start_wait_mean_s",
    "cold_start_wait_p95_s",
    "cold_start_wait_max_s",
];

impl Summary {
    /// The metrics as numbers, in [`METRICS`] order.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn values(&self) -> Vec<f64> {
        vec![
            self.tasks as f64,
            self.wait_mean_s,
            self.wait_p50_s,
            self.wait_p95_s,
            self.wait_p99_s,
            self.wait_max_s,
            self.slo_violation_ratio,
            self.cost,
            self.worker_seconds,
            self.billed_worker_seconds,
            self.scale_ups as f64,
            self.scale_downs as f64,
            self.mean_workers,
            f64::from(self.max_workers),
            self.end_time_s,
            self.ticks as f64,
            self.workers_requested as f64,
            self.slo_violations as f64,
            self.mean_queue_length,
            self.cold_start_tasks as f64,
            self.cold_start_wait_mean_s,
            self.cold_start_wait_p95_s,
            self.cold_start_wait_max_s,
        ]
    }
}
