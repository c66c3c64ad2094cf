//! `scaler-sim sweep`: many settings of one scenario, the cost / latency frontier,
//! and a recommendation.
//!
//! The scenario's `[sweep]` table lists values for any `scaler.*` or `cluster.*` key;
//! the settings are their cartesian product (the last key varies fastest). Each
//! setting runs once per seed, in parallel, on a trace parsed once and shared.
//! Finished settings are appended to `results.partial.csv` as they complete (one write
//! per row), so an interrupted sweep continues with `--resume`; `--shard I/N` runs every
//! N-th setting, and `merge` combines shard folders into the files one machine writes.
//! `sweep.json` records the SHA-256 of the scenario (text, resolved trace path, seeds,
//! swept values) and of the trace's content: `--resume` and `merge` refuse a folder whose
//! inputs changed since, naming the scenario or the trace.
//!
//! `spec` reads the table, `objective` the objective language, `runner` runs the
//! settings (in parallel, sharded, resumable), `frontier` picks the recommendation
//! and `present` shows it; the files' formats are `scaler-formats`' `results` and
//! `recommendation`. [`finalize`] writes a finished sweep's data files into the set the
//! command commits (with the charts and the report) as one.

use scaler_formats::error::SimError;
use scaler_formats::fmtnum::fmt_num;
use scaler_formats::output_set::OutputSet;
use scaler_formats::results::{self, csv_field};
use scaler_formats::scenario::Scenario;
use scaler_formats::tomldoc::{Doc, Value};
use scaler_model::trace::LoadedTrace;

pub mod adaptive;
pub mod frontier;
pub mod holdout;
pub mod objective;
pub mod present;
pub mod runner;
pub mod shard;
pub mod spec;
pub mod spread;

pub use adaptive::{run_adaptive, AdaptiveRun, SearchReport};
pub use frontier::{binding_warnings, change_pct, frontier, recommend, Outcome};
pub use objective::{parse_objective, Constraint, Objective, Op};
pub use present::{change_text, recommendation, recommendation_json, recommendation_text, slack_text};
pub use runner::{
    check_manifest_settings, gather_shards, inputs, load_trace, read_results, run_each_seed, run_each_seed_summary,
    run_seeds, run_shard_report, run_summary, timeline_into, Inputs, Manifest, ShardRun, SweepOverrides, SweepRequest,
};
pub use scaler_formats::results::SettingResult;
pub use shard::{parse_shard, resolve_shard, Shard};
pub use spec::{current_value, parse_spec, setting_scenario, Axis, Range, Search, SweepSpec};

use objective::metric;

/// The data files a finished sweep commits (with [`crate::report::SWEEP_CHARTS`]):
/// `recommended.toml` is the base scenario with the recommended setting applied, and
/// `recommended-*.{yaml,json}` / `recommended.py` the recommendation in its system's own
/// form (`export`), for the policies that have one.
pub const SWEEP_DATA: &[&str] = &[
    "results.csv",
    "pareto.csv",
    "recommendation.json",
    "baseline_timeline.csv",
    "recommended_timeline.csv",
    "recommended.toml",
    "recommended-hpa.yaml",
    "recommended-aws-step.json",
    "recommended-keda.yaml",
    "recommended-kpa.yaml",
    "recommended-aws-target-tracking.json",
    "recommended-arc.yaml",
    "recommended.py",
];

/// Computes the recommendation and the frontiers, runs the baseline and the
/// recommended setting for their timelines, and writes every data file into the set.
///
/// `full` is the whole trace. With `[sweep] holdout`, the baseline and the timelines are
/// run on its tuning part (as the settings were), and the baseline and the recommendation
/// again on its held-out part ([`holdout`]).
pub fn finalize(
    set: &mut OutputSet<'_>,
    doc: &Doc,
    spec: &SweepSpec,
    base: &Scenario,
    full: &LoadedTrace,
    results: Vec<SettingResult>,
) -> Result<Outcome, SimError> {
    finalize_search(set, doc, spec, base, full, results, None)
}

/// [`finalize`] for a search: the adaptive search's report goes into `recommendation.json`
/// (`None`: the grid, whose files are exactly [`finalize`]'s).
pub fn finalize_search(
    set: &mut OutputSet<'_>,
    doc: &Doc,
    spec: &SweepSpec,
    base: &Scenario,
    full: &LoadedTrace,
    results: Vec<SettingResult>,
    search: Option<SearchReport>,
) -> Result<Outcome, SimError> {
    let split = spec.holdout.map(|h| holdout::checked_split(&doc.path, full, h)).transpose()?;
    let trace = split.as_ref().map_or(full, |s| &s.tuning);
    let baseline_runs = run_each_seed_summary(base, trace, &spec.seeds)?;
    let baseline_seeds: Vec<Vec<f64>> = baseline_runs.iter().map(|s| s.values().to_vec()).collect();
    // A warm-up that covers every task leaves every setting's waits at 0: say so.
    let warmup_covers_all = baseline_runs[0].measured_tasks == Some(0);
    let (recommended, feasible) = recommend(&results, &spec.objective);
    let mut outcome = Outcome {
        baseline: spread::means(&baseline_seeds),
        baseline_spread: spread::values(&spec.objective, &baseline_seeds),
        seed_notice: spread::seed_notice(spec, trace),
        frontier_p95: frontier(&results, metric("wait_p95_s")),
        frontier_slo: frontier(&results, metric("slo_violation_ratio")),
        warnings: if warmup_covers_all {
            vec![format!(
                "[cluster] warmup_s = {} s covers every task of the trace: no task was measured, so every wait figure is 0 and the recommendation means nothing; shorten warmup_s",
                base.cluster.warmup
            )]
        } else if search.is_some() {
            // The adaptive search's rows are its survivors, chosen by the constraints: that
            // they all meet a constraint says nothing about the constraint.
            Vec::new()
        } else {
            binding_warnings(&results, &spec.objective)
        },
        results,
        recommended,
        feasible,
        holdout: None,
        search,
    };
    if let Some(w) = baseline_beats_recommendation(spec, &outcome) {
        outcome.warnings.push(w);
    }
    // results.csv, sorted by setting.
    let spread_columns = spread::columns(spec);
    let mut text = results::header_with(&spec.keys(), &spread_columns) + "\n";
    for r in &outcome.results {
        text.push_str(&results::line_in(r, &spec.cells(r.index), spread_columns.len()));
        text.push('\n');
    }
    set.write("results.csv", text.as_bytes())?;
    // pareto.csv
    let mut cols = vec!["frontier".to_string(), "setting".into()];
    cols.extend(spec.axes.iter().map(|a| csv_field(&a.key)));
    cols.extend(["cost".into(), "wait_p95_s".into(), "slo_violation_ratio".into()]);
    let mut text = cols.join(",") + "\n";
    for (name, list) in [("cost_vs_wait_p95", &outcome.frontier_p95), ("cost_vs_slo_violations", &outcome.frontier_slo)]
    {
        for &i in list {
            let r = &outcome.results.iter().find(|r| r.index == i).expect("present");
            let mut f = vec![name.to_string(), i.to_string()];
            f.extend(spec.cells(i).iter().map(|v| csv_field(v)));
            for m in ["cost", "wait_p95_s", "slo_violation_ratio"] {
                f.push(fmt_num(r.metrics[metric(m)]));
            }
            text.push_str(&(f.join(",") + "\n"));
        }
    }
    set.write("pareto.csv", text.as_bytes())?;
    // Timelines of the baseline and the recommendation (first seed), streamed.
    let seed = spec.seeds[0];
    timeline_into(base, trace, seed, set, "baseline_timeline.csv")?;
    let mut recommended_sc = None;
    if let Some(i) = outcome.recommended {
        let sc = setting_scenario(doc, spec, i)?;
        timeline_into(&sc, trace, seed, set, "recommended_timeline.csv")?;
        recommended_files(set, doc, spec, base, &sc, i)?;
        recommended_sc = Some(sc);
    }
    if let (Some(s), Some(share)) = (&split, spec.holdout) {
        let h = holdout::check(s, share, base, recommended_sc.as_ref(), &spec.seeds, &spec.objective)?;
        if h.baseline.measured_tasks == 0 || h.recommended.as_ref().is_some_and(|c| c.measured_tasks == 0) {
            outcome.warnings.push(format!(
                "the held-out last {} of the trace measured no task (all of them arrive within [cluster] warmup_s of its start, or it has none): its figures say nothing; hold out more of the trace or shorten warmup_s",
                present::percent(share)
            ));
        } else if let Some(c) = h.recommended.as_ref().filter(|c| !c.meets_constraints) {
            let broken: Vec<String> = spec
                .objective
                .constraints
                .iter()
                .zip(&c.checked)
                .filter(|(k, v)| !frontier::meets(k, **v))
                .map(|(k, v)| {
                    let name = frontier::constraint_text(k);
                    let name = name.split(' ').next().unwrap_or_default().to_string();
                    format!("`{}` ({name} = {})", frontier::constraint_text(k), fmt_num(*v))
                })
                .collect();
            outcome.warnings.push(format!(
                "the recommendation breaks {} on the held-out last {} of the trace: it was tuned on the first part and does not carry over to the rest{}",
                broken.join(" and "),
                present::percent(share),
                if base.cluster.warmup == scaler_core::DurationMs::ZERO {
                    " (or the held-out part's own start decides it: it runs on a fresh pool of initial_workers; compare the baseline there, or set [cluster] warmup_s to leave that start out)"
                } else {
                    ""
                }
            ));
        }
        outcome.holdout = Some(h);
    }
    // recommendation.json
    let json = recommendation_json(spec, base, &outcome)?;
    set.write("recommendation.json", json.as_bytes())?;
    Ok(outcome)
}

/// A warning when the scenario as written meets every constraint and does better on the
/// objective than the recommendation (a grid without the baseline's own values, or an
/// adaptive search that pruned the best settings): keeping it is the better choice.
fn baseline_beats_recommendation(spec: &SweepSpec, o: &Outcome) -> Option<String> {
    let r = o.results.iter().find(|r| Some(r.index) == o.recommended)?;
    let base =
        SettingResult { index: 0, status: "ok".into(), metrics: o.baseline.clone(), spread: o.baseline_spread.clone() };
    let k = spec.objective.metric;
    let better = if spec.objective.maximize { base.metrics[k] > r.metrics[k] } else { base.metrics[k] < r.metrics[k] };
    (better && spec.objective.holds(&base)).then(|| {
        format!(
            "the scenario as written meets every constraint and has a better {} ({} against the recommendation's {}): keep it, or sweep values around it",
            scaler_model::METRICS[k],
            fmt_num(base.metrics[k]),
            fmt_num(r.metrics[k])
        )
    })
}

/// `recommended.toml` (complete: `scaler-sim run recommended.toml` reproduces the
/// recommendation's figures for the sweep's first seed) and the policy's own form.
fn recommended_files(
    set: &mut OutputSet<'_>,
    doc: &Doc,
    spec: &SweepSpec,
    base: &Scenario,
    sc: &Scenario,
    i: usize,
) -> Result<(), SimError> {
    use scaler_formats::export::{export_for, toml_table, ExportFormat};
    use scaler_formats::manifest::toml_string;
    let seed = spec.seeds[0];
    // The scenario's absolute path: the same text whether the sweep was given a relative path
    // on one machine or `merge` read it from the shards' manifest.
    let scenario = std::fs::canonicalize(&base.path).unwrap_or_else(|_| base.path.clone());
    let mut t = format!("# Setting {i} of the sweep of {}, recommended for: {}.\n", scenario.display(), spec.objective);
    t.push_str("# The base scenario with the recommended settings, complete (the [sweep] table left out):\n");
    t.push_str("# `scaler-sim run recommended.toml` reproduces the recommendation's figures");
    if spec.seeds.len() > 1 {
        t.push_str(&format!(
            " for seed {seed};\n# recommendation.json's are the mean over seeds {:?} (run each with --seed).\n",
            spec.seeds
        ));
    } else {
        t.push_str(".\n");
    }
    if let Some(h) = spec.holdout {
        t.push_str(&format!(
            "# With [sweep] holdout = {h}, recommendation.json's figures are those of the trace's first {}\n# (what the settings were tuned on); this file runs the whole trace.\n",
            present::percent(1.0 - h)
        ));
    }
    let own = ExportFormat::of_policy(sc.scaler.policy().as_str()).into_iter().find(|f| *f != ExportFormat::Toml);
    let workload = scaler_formats::scenario::workload_of_doc(doc)?;
    let own_text = own.map(|f| (f, export_for(f, &sc.scaler, &workload)));
    if let Some((f, r)) = &own_text {
        match r {
            Ok(_) => t.push_str(&format!("# Its {} form: {}.\n", f.as_str(), f.recommended_file())),
            Err(e) => {
                t.push_str(&format!("# {} not written: {}\n", f.recommended_file(), e.to_string().replace('\n', " ")))
            }
        }
    }
    // [trace]: the path absolute (this file is read from the output folder), the seed the
    // figures are for, the other keys as the scenario has them.
    let path = std::path::absolute(&base.trace.path).unwrap_or_else(|_| base.trace.path.clone());
    t.push_str(&format!("\n[trace]\npath = {}\n", toml_string(&path.to_string_lossy())));
    if let Some((_, _, node)) = doc.get("trace") {
        if let Value::Table(entries) = &node.value {
            for (k, _, v) in entries {
                if k != "path" && k != "seed" {
                    t.push_str(&format!("{} = {}\n", scaler_formats::manifest::toml_key(k), node_toml(v)));
                }
            }
        }
    }
    t.push_str(&format!("seed = {seed}\n"));
    let c = &sc.cluster;
    t.push_str(&format!(
        "\n[cluster]\ninitial_workers = {}\nslots_per_worker = {}\nprovision_delay_s = {}\nprice_per_worker_hour = {}\nbilling_increment_s = {}\nbilling_minimum_s = {}\nslo_wait_s = {}\n",
        c.initial_workers,
        c.slots_per_worker,
        c.provision_delay,
        c.price_per_worker_hour,
        c.billing_increment,
        c.billing_minimum,
        c.slo_wait
    ));
    if c.warmup.as_ms() > 0 {
        t.push_str(&format!("warmup_s = {}\n", c.warmup));
    }
    t.push('\n');
    t.push_str(&toml_table(&sc.scaler));
    let f = &sc.faults;
    t.push_str(&format!(
        "\n[faults]\nprovision_failure = {}\nprovision_jitter = {}\ncrash_rate_per_hour = {}\nmissing_observation = {}\nstale_metrics = {}\nscaling_failure = {}\n",
        f.provision_failure, f.provision_jitter, f.crash_rate_per_hour, f.missing_observation, f.stale_metrics, f.scaling_failure
    ));
    set.write("recommended.toml", t.as_bytes())?;
    if let Some((f, Ok(text))) = own_text {
        set.write(f.recommended_file(), text.as_bytes())?;
    }
    Ok(())
}

/// A scenario value as TOML text.
fn node_toml(n: &scaler_formats::tomldoc::Node) -> String {
    use scaler_formats::manifest::{toml_key, toml_string};
    match &n.value {
        Value::Integer(t) | Value::Float(t) | Value::Datetime(t) => t.clone(),
        Value::String(s) => toml_string(s),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(node_toml).collect::<Vec<_>>().join(", ")),
        Value::Table(t) => {
            let items: Vec<String> = t.iter().map(|(k, _, v)| format!("{} = {}", toml_key(k), node_toml(v))).collect();
            format!("{{ {} }}", items.join(", "))
        }
    }
}
