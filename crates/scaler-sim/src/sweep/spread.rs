//! The spread of a sweep's metrics across its seeds: the per-seed values of a setting
//! reduced to the columns `results.csv` carries after the means (`METRIC_min`,
//! `METRIC_max` for every metric, then `METRIC_qNN` for each percentile a `@qNN`
//! constraint of the objective checks), the value a constraint is checked on, the spread
//! shown in `recommendation.json` and on the terminal, and the notice for seeds that do
//! not change the workload.
//!
//! Percentiles are nearest-rank: the `NN`-th percentile of `n` values is the
//! `ceil(NN / 100 * n)`-th smallest (at least the first). With 3 seeds a 90 % interval is
//! therefore the min and the max, which the columns always carry.
//!
//! A sweep with one seed has no spread columns: its `results.csv` is what it always was.

use scaler_formats::recommendation::{Named, SeedSpread};
use scaler_formats::results::SettingResult;
use scaler_model::trace::LoadedTrace;
use scaler_model::METRICS;
use serde_json::{json, Value};

use super::frontier::Outcome;
use super::objective::{metric, Objective};
use super::spec::SweepSpec;

/// The nearest-rank `pct`-th percentile of `values` (not empty): the `ceil(pct/100 * n)`-th
/// smallest, the smallest for `pct = 0`.
///
/// # Panics
/// If `values` is empty.
#[must_use]
pub fn percentile(values: &[f64], pct: u8) -> f64 {
    assert!(!values.is_empty(), "a percentile of no values");
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (usize::from(pct) * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// The means over the seeds, metric by metric: summed in seed order, then divided (as the
/// sweep always computed them, so one seed's mean is its value, bit for bit).
#[must_use]
pub fn means(per_seed: &[Vec<f64>]) -> Vec<f64> {
    let mut sum = vec![0.0; METRICS.len()];
    for values in per_seed {
        for (acc, v) in sum.iter_mut().zip(values) {
            *acc += v;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let n = per_seed.len() as f64;
    sum.into_iter().map(|v| v / n).collect()
}

/// The names of the sweep's spread columns, in order (none with one seed).
#[must_use]
pub fn columns(spec: &SweepSpec) -> Vec<String> {
    if spec.seeds.len() <= 1 {
        return Vec::new();
    }
    let mut cols = Vec::with_capacity(2 * METRICS.len());
    for m in METRICS {
        cols.push(format!("{m}_min"));
        cols.push(format!("{m}_max"));
    }
    for (m, p) in spec.objective.quantiles() {
        cols.push(format!("{}_q{p}", METRICS[m]));
    }
    cols
}

/// The spread columns' values for one setting's per-seed metrics (none with one seed).
#[must_use]
pub fn values(objective: &Objective, per_seed: &[Vec<f64>]) -> Vec<f64> {
    if per_seed.len() <= 1 {
        return Vec::new();
    }
    let column = |k: usize| per_seed.iter().map(|v| v[k]).collect::<Vec<f64>>();
    let mut out = Vec::with_capacity(2 * METRICS.len());
    for k in 0..METRICS.len() {
        let c = column(k);
        out.push(c.iter().copied().fold(f64::INFINITY, f64::min));
        out.push(c.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    for (m, p) in objective.quantiles() {
        out.push(percentile(&column(m), p));
    }
    out
}

/// The value constraint `c` of `objective` is checked on for `r`: see
/// [`Objective::checked_value`].
#[must_use]
pub fn constraint_value(objective: &Objective, c: &super::objective::Constraint, r: &SettingResult) -> f64 {
    if let Some(p) = c.percentile() {
        if let Some(j) = objective.quantiles().iter().position(|&q| q == (c.metric, p)) {
            if let Some(v) = r.spread.get(2 * METRICS.len() + j) {
                return *v;
            }
        }
    }
    r.metrics[c.metric]
}

/// Why the seeds of this sweep change nothing but the policy's and the faults' random
/// draws, when they do not resample the workload: `None` with one seed, or when the seed
/// changes the workload (a task trace with `[trace] resample`, a rate trace with Poisson
/// spreading or drawn durations).
#[must_use]
pub fn seed_notice(spec: &SweepSpec, trace: &LoadedTrace) -> Option<String> {
    if spec.seeds.len() <= 1 || trace.seed_changes_workload() {
        return None;
    }
    let how = match trace {
        LoadedTrace::Tasks(_, scaler_model::trace::Resample::BlockBootstrap { block_ms }) => {
            return Some(format!(
                "the {} seeds {:?} all replay the same workload: the trace lies within one block of [trace] resample's block_s = {} s, so the bootstrap can only draw that block again; use a shorter block_s (a few blocks at least) or resample = \"jitter\"",
                spec.seeds.len(),
                spec.seeds,
                scaler_formats::fmtnum::fmt_num(*block_ms as f64 / 1000.0)
            ));
        }
        LoadedTrace::Tasks(..) => {
            "set [trace] resample = \"jitter\" (arrivals moved inside their recorded second) or resample = { method = \"block_bootstrap\", block_s = 86400 } (days drawn with replacement, for a trace of several days; hours for a one-day trace) to resample it per seed"
        }
        LoadedTrace::Rates(..) => {
            "set [trace] spread = \"poisson\" or a duration distribution (trace.duration) to draw it per seed"
        }
    };
    Some(format!(
        "the {} seeds {:?} all replay the same workload: the trace runs as recorded, so the seeds change only the policy's and the faults' random draws; {how}",
        spec.seeds.len(),
        spec.seeds
    ))
}

/// `{metric: {mean, min, max[, qNN]}}` from the means and the spread columns' values.
fn named(objective: &Objective, means: &[f64], spread: &[f64]) -> Named {
    let quantiles = objective.quantiles();
    METRICS
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut entry = serde_json::Map::new();
            entry.insert("mean".into(), json!(means[k]));
            entry.insert("min".into(), json!(spread[2 * k]));
            entry.insert("max".into(), json!(spread[2 * k + 1]));
            for (j, &(m, p)) in quantiles.iter().enumerate() {
                if m == k {
                    entry.insert(format!("q{p}"), json!(spread[2 * METRICS.len() + j]));
                }
            }
            ((*name).to_string(), Value::Object(entry))
        })
        .collect()
}

/// `recommendation.json`'s `spread`: the baseline's and the recommendation's spread
/// across the seeds; `None` with one seed.
#[must_use]
pub fn spread_doc(spec: &SweepSpec, o: &Outcome) -> Option<SeedSpread> {
    if spec.seeds.len() <= 1 || o.baseline_spread.is_empty() {
        return None;
    }
    let recommended = o
        .recommended
        .and_then(|i| o.results.iter().find(|r| r.index == i))
        .filter(|r| !r.spread.is_empty())
        .map(|r| named(&spec.objective, &r.metrics, &r.spread));
    Some(SeedSpread {
        seeds: spec.seeds.len(),
        baseline: named(&spec.objective, &o.baseline, &o.baseline_spread),
        recommended,
    })
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// The spread for the terminal: the recommendation's (and the baseline's) headline
/// metrics as `mean (min to max)` over the seeds, and each `@qNN` constraint's value.
/// Empty with one seed.
#[must_use]
pub fn spread_text(spec: &SweepSpec, o: &Outcome) -> String {
    let n = spec.seeds.len();
    if n <= 1 {
        return String::new();
    }
    let line = |who: &str, means: &[f64], spread: &[f64]| -> String {
        let parts: Vec<String> = [
            ("cost", "cost", ""),
            ("wait_p95_s", "p95 wait", " s"),
            ("wait_p99_s", "p99 wait", " s"),
            ("slo_violation_ratio", "SLO violations", ""),
        ]
        .iter()
        .map(|(name, label, unit)| {
            let k = metric(name);
            format!(
                "{label} {}{unit} ({} to {}{unit})",
                short(means[k]),
                short(spread[2 * k]),
                short(spread[2 * k + 1])
            )
        })
        .collect();
        format!("  {who} over {n} seeds, mean (min to max): {}\n", parts.join(", "))
    };
    let mut t = String::new();
    if let Some(r) = o.recommended.and_then(|i| o.results.iter().find(|r| r.index == i)) {
        if !r.spread.is_empty() {
            t.push_str(&line("recommended", &r.metrics, &r.spread));
            for c in spec.objective.constraints.iter().filter(|c| c.at.is_some()) {
                let p = c.percentile().unwrap_or(100);
                t.push_str(&format!(
                    "  {}@q{} must hold on {}% of the seeds: its percentile {p} across them is {}\n",
                    METRICS[c.metric],
                    c.at.unwrap_or(100),
                    c.at.unwrap_or(100),
                    short(spec.objective.checked_value(c, r))
                ));
            }
        }
    }
    if !o.baseline_spread.is_empty() {
        t.push_str(&line("baseline", &o.baseline, &o.baseline_spread));
    }
    t
}
