//! The cost / latency frontiers and the recommendation.

use scaler_formats::results::SettingResult;

use super::holdout::Holdout;
use super::objective::{metric, Constraint, Objective, Op};
use super::present::short;
use scaler_model::METRICS;

/// The outcome of a whole sweep.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Every setting, by index.
    pub results: Vec<SettingResult>,
    /// The baseline's metrics (the scenario's own settings).
    pub baseline: Vec<f64>,
    /// The baseline's spread columns across the seeds (empty with one seed; see `spread`).
    pub baseline_spread: Vec<f64>,
    /// Why the seeds report nothing new, when they do not resample the workload.
    pub seed_notice: Option<String>,
    /// The recommended setting's index, if any setting ran.
    pub recommended: Option<usize>,
    /// Whether the recommendation meets every constraint.
    pub feasible: bool,
    /// Settings on the cost / wait-p95 frontier.
    pub frontier_p95: Vec<usize>,
    /// Settings on the cost / SLO-violation frontier.
    pub frontier_slo: Vec<usize>,
    /// What to know before trusting the recommendation ([`binding_warnings`], and a
    /// recommendation that breaks a constraint on the held-out part).
    pub warnings: Vec<String>,
    /// The held-out check (`[sweep] holdout`).
    pub holdout: Option<Holdout>,
    /// What the adaptive search ran (`None`: the grid).
    pub search: Option<super::adaptive::SearchReport>,
}

/// The constraint as the objective writes it: `wait_p95_s <= 30`.
#[must_use]
pub fn constraint_text(c: &Constraint) -> String {
    let at = c.at.map_or_else(String::new, |q| format!("@q{q}"));
    format!("{}{at} {} {}", METRICS[c.metric], c.op.as_str(), c.bound)
}

/// Whether `v` meets `c`.
#[must_use]
pub fn meets(c: &Constraint, v: f64) -> bool {
    c.op.holds(v, c.bound)
}

/// A constraint that does not choose: met by every setting that ran (it binds for no
/// setting, so the recommendation is simply the best objective, as if it were not there)
/// or by none (it binds for all: the recommendation is only the closest). One sentence
/// per such constraint, in the objective's order; none when no setting ran.
#[must_use]
pub fn binding_warnings(results: &[SettingResult], objective: &Objective) -> Vec<String> {
    let ok: Vec<&SettingResult> = results.iter().filter(|r| r.status == "ok").collect();
    if ok.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for c in &objective.constraints {
        // Each setting's value as the constraint checks it (a `@qNN` constraint: its
        // percentile across the seeds).
        let value = |r: &SettingResult| objective.checked_value(c, r);
        let met = ok.iter().filter(|r| meets(c, value(r))).count();
        let (lo, hi) =
            ok.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| (lo.min(value(r)), hi.max(value(r))));
        let name = constraint_text(c).split(' ').next().unwrap_or_default().to_string();
        let range = format!("{name} ranges from {} to {} over the settings", short(lo), short(hi));
        if met == ok.len() {
            out.push(format!(
                "the constraint `{}` binds for no setting: all {} settings that ran meet it, so it constrains nothing and the recommendation is simply the best {} ({range}); tighten it to make it choose",
                constraint_text(c),
                ok.len(),
                METRICS[objective.metric]
            ));
        } else if met == 0 {
            out.push(format!(
                "the constraint `{}` binds for all settings: none of the {} settings that ran meets it, so the recommendation is only the closest ({range}); loosen it or sweep other values",
                constraint_text(c),
                ok.len()
            ));
        }
    }
    out
}

/// Settings not dominated in (cost, `other`), both minimized, ordered by cost.
#[must_use]
pub fn frontier(results: &[SettingResult], other: usize) -> Vec<usize> {
    let cost = metric("cost");
    let mut ok: Vec<&SettingResult> = results.iter().filter(|r| r.status == "ok").collect();
    ok.sort_by(|a, b| {
        a.metrics[cost]
            .total_cmp(&b.metrics[cost])
            .then(a.metrics[other].total_cmp(&b.metrics[other]))
            .then(a.index.cmp(&b.index))
    });
    let mut best = f64::INFINITY;
    let mut out = Vec::new();
    for r in ok {
        if r.metrics[other] < best {
            best = r.metrics[other];
            out.push(r.index);
        }
    }
    out
}

/// Picks the recommendation: the best objective among settings meeting every
/// constraint; if none does, the one closest to meeting them.
#[must_use]
pub fn recommend(results: &[SettingResult], objective: &Objective) -> (Option<usize>, bool) {
    let ok: Vec<&SettingResult> = results.iter().filter(|r| r.status == "ok").collect();
    let sign = if objective.maximize { -1.0 } else { 1.0 };
    let feasible: Vec<&&SettingResult> = ok.iter().filter(|r| objective.holds(r)).collect();
    if let Some(best) = feasible.iter().min_by(|a, b| {
        (sign * a.metrics[objective.metric])
            .total_cmp(&(sign * b.metrics[objective.metric]))
            .then(a.index.cmp(&b.index))
    }) {
        return (Some(best.index), true);
    }
    let violation = |r: &SettingResult| -> f64 {
        objective
            .constraints
            .iter()
            .map(|c| {
                let v = objective.checked_value(c, r);
                let miss = match c.op {
                    Op::Le | Op::Lt => v - c.bound,
                    Op::Ge | Op::Gt => c.bound - v,
                };
                miss.max(0.0) / c.bound.abs().max(1e-9)
            })
            .sum()
    };
    let closest = ok.iter().min_by(|a, b| violation(a).total_cmp(&violation(b)).then(a.index.cmp(&b.index)));
    (closest.map(|r| r.index), false)
}

/// Percentage change from `base` to `new` (`None` when the base is zero, or the change is
/// too large for a float).
#[must_use]
pub fn change_pct(base: f64, new: f64) -> Option<f64> {
    // A change too large for a float (a tiny baseline) has no percent either.
    (base != 0.0).then(|| (new - base) / base.abs() * 100.0).filter(|c| c.is_finite())
}
