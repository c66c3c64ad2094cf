//! The recommendation for people (terminal text) and for tools (`recommendation.json`).

use scaler_formats::error::InputError;
use scaler_formats::recommendation::{self, named_numbers, Baseline, Recommendation, Recommended};
use scaler_formats::scenario::Scenario;
use scaler_model::METRICS;

use super::frontier::{change_pct, Outcome};
use super::objective::metric;
use super::spec::{current_value, SweepSpec};

/// The recommendation as the typed `recommendation.json` document.
#[must_use]
pub fn recommendation(spec: &SweepSpec, base: &Scenario, o: &Outcome) -> Recommendation {
    let numbers = |values: &[f64]| named_numbers(METRICS, values.iter().map(|v| Some(*v)));
    let recommended = o.recommended.map(|i| {
        let r = o.results.iter().find(|r| r.index == i).expect("present");
        Recommended {
            setting: i,
            params: spec.axes.iter().zip(spec.cells(i)).map(|(a, v)| (a.key.clone(), v.into())).collect(),
            metrics: numbers(&r.metrics),
            change_pct: named_numbers(METRICS, o.baseline.iter().zip(&r.metrics).map(|(b, n)| change_pct(*b, *n))),
        }
    });
    Recommendation {
        objective: spec.objective.to_string(),
        seeds: spec.seeds.clone(),
        settings: spec.settings(),
        axes: spec.keys(),
        heatmap: spec.heatmap.map(|[a, b]| vec![spec.axes[a].key.clone(), spec.axes[b].key.clone()]),
        feasible: o.feasible,
        baseline: Baseline {
            params: spec.axes.iter().map(|a| (a.key.clone(), current_value(base, &a.key).into())).collect(),
            metrics: numbers(&o.baseline),
        },
        frontier_cost_vs_wait_p95: o.frontier_p95.clone(),
        frontier_cost_vs_slo_violations: o.frontier_slo.clone(),
        recommended,
        spread: super::spread::spread_doc(spec, o),
        seed_notice: o.seed_notice.clone(),
    }
}

/// The recommendation as JSON (the text of `recommendation.json`).
///
/// # Errors
/// A metric of the baseline or of the recommendation that is not a finite number: JSON
/// cannot hold it, and `serde_json` would write `null`. It is refused, naming it. Validation keeps every metric finite (prices are capped, counts
/// are integers), so this is a last guard.
pub fn recommendation_json(spec: &SweepSpec, base: &Scenario, o: &Outcome) -> Result<String, InputError> {
    let refuse = |what: &str, name: &str, v: f64| {
        InputError::file(
            &base.path,
            format!(
                "recommendation.json: {what} {name} = {v} is not a finite number; JSON cannot hold it (refused rather than written as null)"
            ),
        )
    };
    for (name, v) in METRICS.iter().zip(&o.baseline) {
        if !v.is_finite() {
            return Err(refuse("the baseline's", name, *v));
        }
    }
    if let Some(r) = o.recommended.and_then(|i| o.results.iter().find(|r| r.index == i)) {
        for (name, v) in METRICS.iter().zip(&r.metrics) {
            if !v.is_finite() {
                return Err(refuse("the recommendation's", name, *v));
            }
        }
    }
    Ok(recommendation::to_json(&recommendation(spec, base, o)))
}

/// A readable recommendation for the terminal.
#[must_use]
pub fn recommendation_text(spec: &SweepSpec, base: &Scenario, o: &Outcome) -> String {
    let mut t = String::new();
    let ok = o.results.iter().filter(|r| r.status == "ok").count();
    if let Some(n) = &o.seed_notice {
        t.push_str(&format!("notice: {n}\n"));
    }
    t.push_str(&format!("objective: {}\n", spec.objective));
    t.push_str(&format!(
        "settings: {} ({} ran, {} invalid), seeds: {:?}\n",
        spec.settings(),
        ok,
        o.results.len() - ok,
        spec.seeds
    ));
    let Some(i) = o.recommended else {
        t.push_str("no setting ran successfully: nothing to recommend\n");
        return t;
    };
    let r = o.results.iter().find(|r| r.index == i).expect("present");
    if !o.feasible {
        t.push_str("no setting meets every constraint; the closest one is:\n");
    }
    t.push_str(&format!("recommended: setting {i}\n"));
    for (a, v) in spec.axes.iter().zip(spec.values(i)) {
        let was = current_value(base, &a.key);
        let note = if was == v { String::new() } else { format!("   (baseline {was})") };
        t.push_str(&format!("  {} = {v}{note}\n", a.key));
    }
    let mut parts = Vec::new();
    for (name, label) in [
        ("cost", "cost"),
        ("wait_p95_s", "p95 wait"),
        ("wait_p99_s", "p99 wait"),
        ("slo_violation_ratio", "SLO violations"),
    ] {
        let k = metric(name);
        let (b, n) = (o.baseline[k], r.metrics[k]);
        let pct = change_pct(b, n).map_or_else(|| "n/a".to_string(), |p| format!("{p:+.0}%"));
        parts.push(format!("{label} {pct} ({} -> {})", short(b), short(n)));
    }
    t.push_str(&format!("  against the baseline: {}\n", parts.join(", ")));
    t.push_str(&super::spread::spread_text(spec, o));
    t
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
