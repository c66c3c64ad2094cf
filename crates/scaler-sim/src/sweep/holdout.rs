//! The held-out check (`[sweep] holdout = H`): the settings are tuned on the first
//! `1 - H` of the trace's time span and the recommendation and the baseline are run on
//! the rest, which no tuning run saw.
//!
//! The split is at `t_split = start + floor((1 - H) * (end - start))` ms, where `start`
//! and `end` are the first and last arrival of a task trace, or the first row's start and
//! the last row's end of a rate trace. A rate trace is split between rows: `t_split` is
//! moved down to the start of the row that contains it (a row is never cut, so its
//! arrivals are spread as the scenario says, on one side only).
//!
//! The tuning part is the tasks arriving before `t_split` (the run ends, as every run,
//! once they have completed). The held-out part is the tasks arriving at or after it,
//! their times moved back by `t_split`: a run on it starts, as a run on a trace does, at
//! 0 with a fresh pool of `initial_workers` (not the state the tuning part left), so the
//! held-out figures of the baseline and the recommendation are comparable with each
//! other, and free of the tuning part's end.

use std::path::Path;
use std::sync::Arc;

use scaler_formats::error::{InputError, SimError};
use scaler_formats::fmtnum::fmt_num;
use scaler_formats::recommendation::{named_numbers, HoldoutCheck};
use scaler_formats::scenario::Scenario;
use scaler_model::trace::{LoadedTrace, RateRow, Task};
use scaler_model::METRICS;

use super::objective::Objective;
use scaler_formats::results::SettingResult;

/// A trace cut in two at `split_ms` (see the module's documentation).
#[derive(Clone, Debug)]
pub struct Split {
    /// The part the settings are tuned on: what arrives before `split_ms`.
    pub tuning: LoadedTrace,
    /// The part held out: what arrives at or after `split_ms`, times moved back by it.
    pub held_out: LoadedTrace,
    /// The trace's first arrival (row start), ms.
    pub start_ms: u64,
    /// Where it is cut, ms of the trace's time.
    pub split_ms: u64,
    /// The trace's last arrival (row end), ms.
    pub end_ms: u64,
}

/// `start + floor(share * (end - start))`, in whole ms, without overflow.
fn point(start: u64, end: u64, share: f64) -> u64 {
    let span = end.saturating_sub(start);
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let off = ((span as f64) * share).floor().clamp(0.0, span as f64) as u64;
    start + off
}

/// Cuts `trace` so that the last `holdout` of its time span is held out.
#[must_use]
pub fn split(trace: &LoadedTrace, holdout: f64) -> Split {
    match trace {
        LoadedTrace::Tasks(tasks, resample) => {
            let (start, end) = match (tasks.first(), tasks.last()) {
                (Some(a), Some(b)) => (a.arrival_ms, b.arrival_ms),
                _ => (0, 0),
            };
            let at = point(start, end, 1.0 - holdout);
            let k = tasks.partition_point(|t| t.arrival_ms < at);
            let tuning: Arc<[Task]> = tasks[..k].into();
            let held: Arc<[Task]> =
                tasks[k..].iter().map(|t| Task { arrival_ms: t.arrival_ms - at, duration_ms: t.duration_ms }).collect();
            Split {
                // Each part is resampled as the whole trace would be.
                tuning: LoadedTrace::Tasks(tuning, *resample),
                held_out: LoadedTrace::Tasks(held, *resample),
                start_ms: start,
                split_ms: at,
                end_ms: end,
            }
        }
        LoadedTrace::Rates(rows, expansion) => {
            let (start, end) = match (rows.first(), rows.last()) {
                (Some(a), Some(b)) => (a.ts_ms, b.ts_ms.saturating_add(b.interval_ms)),
                _ => (0, 0),
            };
            let at = point(start, end, 1.0 - holdout);
            // The row that contains `at` goes wholly to the held-out part.
            let k = rows.partition_point(|r| r.ts_ms.saturating_add(r.interval_ms) <= at);
            let at = rows.get(k).map_or(at, |r| r.ts_ms.min(at));
            let tuning: Arc<[RateRow]> = rows[..k].into();
            let held: Arc<[RateRow]> = rows[k..].iter().map(|r| RateRow { ts_ms: r.ts_ms - at, ..*r }).collect();
            Split {
                tuning: LoadedTrace::Rates(tuning, *expansion),
                held_out: LoadedTrace::Rates(held, *expansion),
                start_ms: start,
                split_ms: at,
                end_ms: end,
            }
        }
    }
}

/// [`split`], refused (naming the scenario `path`) when either part has no task.
pub fn checked_split(path: &Path, trace: &LoadedTrace, holdout: f64) -> Result<Split, InputError> {
    let s = split(trace, holdout);
    let (tuning, held) = (s.tuning.task_count(), s.held_out.task_count());
    if tuning == 0 || held == 0 {
        return Err(InputError::file(
            path,
            format!(
                "sweep.holdout = {holdout}: cutting the trace at {} s (of {} s to {} s) leaves {tuning} task(s) to tune on and {held} to check on; both parts need tasks: choose another share or a longer trace",
                fmt_num(s.split_ms as f64 / 1000.0),
                fmt_num(s.start_ms as f64 / 1000.0),
                fmt_num(s.end_ms as f64 / 1000.0)
            ),
        ));
    }
    Ok(s)
}

/// The trace the settings are tuned on: the whole trace, or with `holdout` its tuning part.
pub fn tuning_trace(path: &Path, trace: &LoadedTrace, holdout: Option<f64>) -> Result<LoadedTrace, InputError> {
    match holdout {
        Some(h) => Ok(checked_split(path, trace, h)?.tuning),
        None => Ok(trace.clone()),
    }
}

/// The held-out figures of one scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Metric means over the seeds, in [`METRICS`] order.
    pub metrics: Vec<f64>,
    /// Whether they meet every constraint of the objective, each checked as the sweep checks
    /// it (a `@qNN` constraint on its percentile across the seeds).
    pub meets_constraints: bool,
    /// Each constraint's value as it is checked (the mean, or the `@qNN` percentile), in
    /// the objective's order.
    pub checked: Vec<f64>,
    /// The fewest tasks a seed's run measured (those arriving after `[cluster] warmup_s`):
    /// 0 means the held-out figures measure nothing.
    pub measured_tasks: u64,
}

/// The held-out check of a sweep: where the trace was cut and how the baseline and the
/// recommendation did after the cut.
#[derive(Clone, Debug, PartialEq)]
pub struct Holdout {
    /// The share held out (`[sweep] holdout`).
    pub share: f64,
    /// The trace's start, cut and end, ms of the trace's time.
    pub start_ms: u64,
    /// See [`Split::split_ms`].
    pub split_ms: u64,
    /// See [`Split::end_ms`].
    pub end_ms: u64,
    /// Tasks in the held-out part (rates: the sum of its rows' arrivals).
    pub tasks: u64,
    /// The baseline on the held-out part.
    pub baseline: Check,
    /// The recommendation on the held-out part (`None` with no recommendation).
    pub recommended: Option<Check>,
}

/// Runs the baseline and the recommended scenario on the held-out part, once per seed.
pub fn check(
    split: &Split,
    share: f64,
    base: &Scenario,
    recommended: Option<&Scenario>,
    seeds: &[u64],
    objective: &Objective,
) -> Result<Holdout, SimError> {
    let run = |sc: &Scenario| -> Result<Check, SimError> {
        let runs = super::runner::run_each_seed_summary(sc, &split.held_out, seeds)?;
        let measured_tasks = runs.iter().map(|s| s.measured_tasks.unwrap_or(s.tasks)).min().unwrap_or(0);
        let per_seed: Vec<Vec<f64>> = runs.iter().map(|s| s.values().to_vec()).collect();
        let metrics = super::spread::means(&per_seed);
        let result = SettingResult {
            index: 0,
            status: "ok".into(),
            spread: super::spread::values(objective, &per_seed),
            metrics: metrics.clone(),
        };
        let checked = objective.constraints.iter().map(|c| objective.checked_value(c, &result)).collect();
        Ok(Check { meets_constraints: objective.holds(&result), metrics, checked, measured_tasks })
    };
    Ok(Holdout {
        share,
        start_ms: split.start_ms,
        split_ms: split.split_ms,
        end_ms: split.end_ms,
        tasks: split.held_out.task_count(),
        baseline: run(base)?,
        recommended: recommended.map(run).transpose()?,
    })
}

/// The metrics a held-out check reports: cost, the objective's metric and the
/// constraints' metrics, in [`METRICS`] order.
#[must_use]
pub fn reported_metrics(objective: &Objective) -> Vec<usize> {
    let cost = super::objective::metric("cost");
    (0..METRICS.len())
        .filter(|&m| m == cost || m == objective.metric || objective.constraints.iter().any(|c| c.metric == m))
        .collect()
}

/// One held-out check as `recommendation.json` holds it.
#[must_use]
pub fn to_file(h: &Holdout, c: &Check, objective: &Objective) -> HoldoutCheck {
    let ms = |v: u64| {
        #[allow(clippy::cast_precision_loss)]
        let s = v as f64 / 1000.0;
        s
    };
    let shown = reported_metrics(objective);
    HoldoutCheck {
        share: h.share,
        from_s: ms(h.split_ms),
        to_s: ms(h.end_ms),
        tasks: h.tasks,
        metrics: named_numbers(
            &shown.iter().map(|&m| METRICS[m]).collect::<Vec<_>>(),
            shown.iter().map(|&m| Some(c.metrics[m])),
        ),
        meets_constraints: c.meets_constraints,
    }
}
