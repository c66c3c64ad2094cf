//! The recommendation for people (terminal text) and for tools (`recommendation.json`).

use scaler_formats::error::InputError;
use scaler_formats::recommendation::{self, named_numbers, Baseline, Recommendation, Recommended};
use scaler_formats::scenario::Scenario;
use scaler_model::METRICS;

use super::frontier::{change_pct, constraint_text, meets, Outcome};
use super::holdout;
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
            holdout: o
                .holdout
                .as_ref()
                .and_then(|h| h.recommended.as_ref().map(|c| holdout::to_file(h, c, &spec.objective))),
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
            holdout: o.holdout.as_ref().map(|h| holdout::to_file(h, &h.baseline, &spec.objective)),
        },
        frontier_cost_vs_wait_p95: o.frontier_p95.clone(),
        frontier_cost_vs_slo_violations: o.frontier_slo.clone(),
        recommended,
        spread: super::spread::spread_doc(spec, o),
        seed_notice: o.seed_notice.clone(),
        warnings: o.warnings.clone(),
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
    if let Some(h) = o.holdout.as_ref() {
        t.push_str(&format!(
            "held out: the last {} of the trace ({} s to {} s, {} tasks); tuned on {} s to {} s\n",
            percent(h.share),
            short(ms_s(h.split_ms)),
            short(ms_s(h.end_ms)),
            h.tasks,
            short(ms_s(h.start_ms)),
            short(ms_s(h.split_ms))
        ));
    }
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
        warnings(&mut t, o);
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
        ("wait_mean_s", "mean wait"),
        ("wait_p95_s", "p95 wait"),
        ("wait_p99_s", "p99 wait"),
        ("slo_violation_ratio", "SLO violations"),
    ] {
        let k = metric(name);
        parts.push(format!("{label} {}", change_text(o.baseline[k], r.metrics[k])));
    }
    t.push_str(&format!("  against the baseline: {}\n", parts.join(", ")));
    for c in &spec.objective.constraints {
        t.push_str(&format!("  {}\n", slack_text(c, spec.objective.checked_value(c, r))));
    }
    t.push_str(&super::spread::spread_text(spec, o));
    if let Some(h) = o.holdout.as_ref() {
        let shown = holdout::reported_metrics(&spec.objective);
        let line =
            |m: &[f64]| shown.iter().map(|&k| format!("{} {}", METRICS[k], short(m[k]))).collect::<Vec<_>>().join(", ");
        t.push_str("on the held-out part:\n");
        if let Some(c) = &h.recommended {
            t.push_str(&format!(
                "  recommended: {} ({})\n",
                line(&c.metrics),
                if c.meets_constraints { "meets the constraints" } else { "BREAKS a constraint" }
            ));
        }
        t.push_str(&format!(
            "  baseline:    {} ({})\n",
            line(&h.baseline.metrics),
            if h.baseline.meets_constraints { "meets the constraints" } else { "breaks a constraint" }
        ));
    }
    warnings(&mut t, o);
    t
}

fn warnings(t: &mut String, o: &Outcome) {
    for w in &o.warnings {
        t.push_str(&format!("warning: {w}\n"));
    }
}

#[allow(clippy::cast_precision_loss)]
fn ms_s(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

pub(crate) fn percent(share: f64) -> String {
    format!("{} %", scaler_formats::fmtnum::fmt_num((share * 1e6).round() / 1e4))
}

/// A metric's change from `base` to `new`: both values always, with the percent when the
/// base is not 0 (`-14% (68.28 -> 58.92)`); from 0, `from 0 (0 -> 11.51)`; else `unchanged (2.00 -> 2.00)`.
#[must_use]
pub fn change_text(base: f64, new: f64) -> String {
    let values = format!("({} -> {})", short(base), short(new));
    if base == new {
        return format!("unchanged {values}");
    }
    match change_pct(base, new) {
        // Under 1 %, one decimal: a small change is not shown as `-0%`.
        Some(p) if p.abs() < 1.0 => format!("{p:+.1}% {values}"),
        Some(p) => format!("{p:+.0}% {values}"),
        None if base == 0.0 => format!("from 0 {values}"),
        None => format!("changed {values}"),
    }
}

/// A constraint with the recommendation's value and its slack: `wait_p95_s 4.50 <= 5
/// (slack 0.5, 10 %)`, or how far a broken one is missed (`broken by 2.20, 44 %`).
#[must_use]
pub fn slack_text(c: &super::objective::Constraint, v: f64) -> String {
    let text = constraint_text(c);
    let (name, rest) = text.split_once(' ').unwrap_or((&text, ""));
    let gap = (c.bound - v).abs();
    let rel = if c.bound == 0.0 { String::new() } else { format!(", {:.0} %", gap / c.bound.abs() * 100.0) };
    let how = if meets(c, v) { "slack" } else { "broken by" };
    format!("{name} {} {rest} ({how} {}{rel})", short(v), short(gap))
}

/// A number for the terminal: no decimals from 100, two from 1, else four (trailing
/// zeros dropped: `0.5`, `0`).
pub(crate) fn short(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        let t = format!("{v:.4}");
        let t = t.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" || t.is_empty() {
            "0".to_string()
        } else {
            t.to_string()
        }
    }
}
