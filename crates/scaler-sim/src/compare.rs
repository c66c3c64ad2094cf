//! `scaler-sim compare BASE.toml --policies A.toml B.toml ...`: several scaler
//! configurations on one workload, side by side.
//!
//! The base scenario gives the trace and the cluster, and its own `[scaler]` is the first
//! row (`(scenario)`); each policy file gives a `[scaler]` table, alone or in a whole
//! scenario of the same workload. Every policy runs on the same trace, read once.

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
    "report.html",
];

/// One policy's run.
#[derive(Debug)]
pub struct Entry {
    /// The policy file's stem.
    pub name: String,
    /// The run's summary.
    pub summary: Summary,
}

/// The row of the base scenario's own `[scaler]`, first in every comparison.
pub const SCENARIO_ROW: &str = "(scenario)";

/// The file stem of [`SCENARIO_ROW`]'s timeline: `timeline_scenario.csv`.
const SCENARIO_FILE: &str = "scenario";

/// The `[scaler]` of one policy file, with the file's name.
///
/// A policy file holds a `[scaler]` table, alone or in a whole scenario: a scenario's
/// `[sweep]` is ignored, and its `[trace]`, `[cluster]` and `[faults]` must describe the
/// base's workload (the same values once read; a file run on another workload would not
/// compare like with like), or the file is refused, naming the table.
fn policy_config(p: &Path, base_sc: &Scenario, overrides: &Overrides) -> Result<scaler_core::ScalerConfig, SimError> {
    let doc = Doc::read(p)?;
    if doc.root.iter().all(|(k, _, _)| k == "scaler") {
        return Ok(scenario::scaler_config(&doc)?);
    }
    let sc = scenario::from_doc(&doc, &Overrides { set: Vec::new(), ..overrides.clone() })?;
    let same_path = |a: &Path, b: &Path| {
        a == b || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    };
    let trace_same = same_path(&sc.trace.path, &base_sc.trace.path)
        && scaler_formats::scenario::TraceSpec { path: base_sc.trace.path.clone(), ..sc.trace.clone() }
            == base_sc.trace;
    let differs = if !trace_same {
        Some("trace")
    } else if sc.cluster != base_sc.cluster {
        Some("cluster")
    } else if sc.faults != base_sc.faults {
        Some("faults")
    } else {
        None
    };
    if let Some(table) = differs {
        return Err(InputError::file(
            p,
            format!(
                "its [{table}] differs from the base scenario's: compare runs every policy on the base's workload; \
                 give a file with only [scaler], or the same [{table}]"
            ),
        )
        .into());
    }
    Ok(sc.scaler)
}

/// Runs the base scenario's own `[scaler]` (the first row, [`SCENARIO_ROW`]) and every
/// policy file's on the base scenario, and writes `compare.csv`, the timelines, the charts
/// and `report.html` into `out`, committed as one set. `progress(done, total)` is called
/// before the first run and after each.
pub fn compare(
    base: &Path,
    policies: &[PathBuf],
    overrides: &Overrides,
    out: &OutputDir,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Entry>, SimError> {
    let base_sc = scenario::load(base, overrides)?;
    let mut configs: Vec<(String, String, Scenario)> =
        vec![(SCENARIO_ROW.to_string(), SCENARIO_FILE.to_string(), base_sc.clone())];
    for p in policies {
        let cfg = policy_config(p, &base_sc, overrides)?;
        let name = p.file_stem().map_or_else(|| "policy".into(), |s| s.to_string_lossy().into_owned());
        if name == SCENARIO_FILE {
            return Err(InputError::file(
                p,
                format!("a policy file named `{name}`: the name of the base scenario's own row's timeline; rename it"),
            )
            .into());
        }
        if configs.iter().any(|(n, _, _)| *n == name) {
            return Err(
                InputError::file(p, format!("a second policy file named `{name}`: give each a distinct name")).into()
            );
        }
        configs.push((name.clone(), name.clone(), Scenario { scaler: cfg, name, ..base_sc.clone() }));
    }
    if configs.len() == 1 {
        return Err(InputError::file(Path::new("--policies"), "give at least one policy file").into());
    }
    let trace = scaler_formats::trace::load(&base_sc.trace)?;
    let mut set_names: Vec<String> = COMPARE_OUTPUTS.iter().map(|s| (*s).to_string()).collect();
    set_names.extend(configs.iter().map(|(_, file, _)| format!("timeline_{file}.csv")));
    let names: Vec<&str> = set_names.iter().map(String::as_str).collect();
    let mut set = out.stage(&names)?;
    let mut entries = Vec::new();
    let mut series = Vec::new();
    let origin = scaler_formats::origin::trace_origin(&base_sc.trace.path).unix_ms();
    progress(0, configs.len());
    for (i, (name, file_stem, sc)) in configs.iter().enumerate() {
        let file = format!("timeline_{file_stem}.csv");
        let summary = timeline_into(sc, &trace, base_sc.seed, &mut set, &file)?;
        let mut tl = charts::read_timeline(&set.staging().join(&file), name, None)?;
        tl.origin_unix_ms = origin;
        tl.total_cost = Some(summary.cost);
        tl.slots_per_worker = Some(base_sc.cluster.slots_per_worker);
        series.push(tl);
        entries.push(Entry { name: name.clone(), summary });
        progress(i + 1, configs.len());
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
    charts::timeline_panels_chart(&series, "Demand and workers, by policy", &base(&mut set, "chart_compare_timeline"))?;
    charts::cost_chart(&series, "Cumulative cost, by policy", &base(&mut set, "chart_compare_cost"))?;
    let html = crate::report::compare_html(set.staging(), &entries, &base_sc)?;
    set.write("report.html", html.as_bytes())?;
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
