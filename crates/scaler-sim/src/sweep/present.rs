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
        search: o.search.as_ref().map(|_| "adaptive".to_string()),
        search_rungs: o.search.as_ref().map(|s| {
            s.rungs
                .iter()
                .map(|r| recommendation::SearchRung {
                    trace_fraction: if r.fraction_den == 1 { "1".into() } else { format!("1/{}", r.fraction_den) },
                    #[allow(clippy::cast_precision_loss)] // milliseconds of a trace, below 2^53
                    trace_until_s: r.until_ms.map(|ms| ms as f64 / 1000.0),
                    settings: r.settings,
                    kept: r.kept,
                })
                .collect()
        }),
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
    t.push_str(&format!("objective: {}\n", spec.objective));
    t.push_str(&format!(
        "settings: {} ({} ran, {} invalid), seeds: {:?}\n",
        spec.settings(),
        ok,
        o.results.len() - ok,
        spec.seeds
    ));
    if let Some(s) = &o.search {
        let rungs: Vec<String> = s
            .rungs
            .iter()
            .map(|r| {
                let share =
                    if r.fraction_den == 1 { "the whole trace".into() } else { format!("1/{} of it", r.fraction_den) };
                format!("{} on {share}", r.settings)
            })
            .collect();
        t.push_str(&format!(
            "search: adaptive, {} candidates ({} invalid): {} (the work of {:.1} whole-trace runs per seed)\n",
            s.candidates,
            s.invalid,
            rungs.join(", "),
            s.whole_trace_runs()
        ));
    }
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
