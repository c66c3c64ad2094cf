//! `scaler-sim compare BASE.toml --policies A.toml B.toml ...`: several scaler
//! configurations on one workload, side by side.
//!
//! The base scenario gives the trace and the cluster; each policy file gives a
//! `[scaler]` table (and nothing else). Every policy runs on the same trace, read once.

use std::path::{Path, PathBuf};

use crate::charts;
use crate::sweep::timeline_into;
use scaler_formats::error::{InputError, SimError};
use scaler_formats::fmtnum::{fmt_num, format_money};
use scaler_formats::output_set::OutputDir;
use scaler_formats::scenario::{self, Overrides, Scenario};
use scaler_formats::tomldoc::Doc;
use scaler_model::{Summary, METRICS};

/// The files `compare` writes besides one `timeline_<policy>.csv` per policy.
pub const COMPARE_OUTPUTS: &[&str] = &[
    "compare.csv",
    "chart_compare_frontier.png",
    "chart_compare_frontier.svg",
    "chart_compare_timeline.png",
    "chart_compare_timeline.svg",
    "chart_compare_cost.png",
    "chart_compare_cost.svg",
];

/// One policy's run.
#[derive(Debug)]
pub struct Entry {
    /// The policy file's stem.
    pub name: String,
    /// The run's summary.
    pub summary: Summary,
}

/// Runs every policy file's `[scaler]` on the base scenario and writes `compare.csv`,
/// the timelines and the charts into `out`, committed as one set.
pub fn compare(
    base: &Path,
    policies: &[PathBuf],
    overrides: &Overrides,
    out: &OutputDir,
) -> Result<Vec<Entry>, SimError> {
    let base_sc = scenario::load(base, overrides)?;
    let mut configs: Vec<(String, Scenario)> = Vec::new();
    for p in policies {
        let doc = Doc::read(p)?;
        doc.allow_only(&["scaler"])?;
        let cfg = scenario::scaler_config(&doc)?;
        let name = p.file_stem().map_or_else(|| "policy".into(), |s| s.to_string_lossy().into_owned());
        if configs.iter().any(|(n, _)| *n == name) {
            return Err(
                InputError::file(p, format!("a second policy file named `{name}`: give each a distinct name")).into()
            );
        }
        configs.push((name.clone(), Scenario { scaler: cfg, name, ..base_sc.clone() }));
    }
    if configs.is_empty() {
        return Err(InputError::file(Path::new("--policies"), "give at least one policy file").into());
    }
    let trace = scaler_formats::trace::load(&base_sc.trace)?;
    let mut set_names: Vec<String> = COMPARE_OUTPUTS.iter().map(|s| (*s).to_string()).collect();
    set_names.extend(configs.iter().map(|(name, _)| format!("timeline_{name}.csv")));
    let names: Vec<&str> = set_names.iter().map(String::as_str).collect();
    let mut set = out.stage(&names)?;
    let mut entries = Vec::new();
    let mut series = Vec::new();
    let origin = scaler_formats::origin::trace_origin(&base_sc.trace.path).unix_ms();
    for (name, sc) in &configs {
        let file = format!("timeline_{name}.csv");
        let summary = timeline_into(sc, &trace, base_sc.seed, &mut set, &file)?;
        let mut tl = charts::read_timeline(&set.staging().join(&file), name, None)?;
        tl.origin_unix_ms = origin;
        series.push(tl);
        entries.push(Entry { name: name.clone(), summary });
    }
    let mut text = format!("policy,{}\n", METRICS.join(","));
    for e in &entries {
        let vals: Vec<String> = e.summary.values().iter().map(|v| fmt_num(*v)).collect();
        text.push_str(&format!("{},{}\n", e.name, vals.join(",")));
    }
    set.write("compare.csv", text.as_bytes())?;
    let points: Vec<(String, f64, f64)> =
        entries.iter().map(|e| (e.name.clone(), e.summary.cost, e.summary.wait_p95_s)).collect();
    let base = crate::report::chart_base;
    charts::labelled_points_chart(
        &points,
        "Cost against p95 wait, by policy",
        &base(&mut set, "chart_compare_frontier"),
    )?;
    charts::timeline_chart(&series, "Demand and workers, by policy", &base(&mut set, "chart_compare_timeline"))?;
    charts::cost_chart(&series, "Cumulative cost, by policy", &base(&mut set, "chart_compare_cost"))?;
    set.commit()?;
    Ok(entries)
}

/// The side-by-side table printed by `compare`.
#[must_use]
pub fn table(entries: &[Entry]) -> String {
    let mut t = format!(
        "{:<14} {:>12} {:>10} {:>10} {:>10} {:>9} {:>11} {:>9}\n",
        "policy", "cost", "wait mean", "p95 wait", "p99 wait", "SLO viol", "scale ops", "workers"
    );
    for e in entries {
        let s = &e.summary;
        t.push_str(&format!(
            "{:<14} {:>12} {:>9.2}s {:>9.2}s {:>9.2}s {:>8.2}% {:>11} {:>9.2}\n",
            e.name,
            format_money(s.cost),
            s.wait_mean_s,
            s.wait_p95_s,
            s.wait_p99_s,
            s.slo_violation_ratio * 100.0,
            s.scale_ups + s.scale_downs,
            s.mean_workers
        ));
    }
    t
}
