//! The cost / latency frontiers and the recommendation.

use scaler_formats::results::SettingResult;

use super::objective::{metric, Objective, Op};

/// The outcome of a whole sweep.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Every setting, by index.
    pub results: Vec<SettingResult>,
    /// The baseline's metrics (the scenario's own settings).
    pub baseline: Vec<f64>,
    /// The recommended setting's index, if any setting ran.
    pub recommended: Option<usize>,
    /// Whether the recommendation meets every constraint.
    pub feasible: bool,
    /// Settings on the cost / wait-p95 frontier.
    pub frontier_p95: Vec<usize>,
    /// Settings on the cost / SLO-violation frontier.
    pub frontier_slo: Vec<usize>,
    /// What the adaptive search ran (`None`: the grid).
    pub search: Option<super::adaptive::SearchReport>,
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
    let feasible: Vec<&&SettingResult> = ok.iter().filter(|r| objective.feasible(&r.metrics)).collect();
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
                let v = r.metrics[c.metric];
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
