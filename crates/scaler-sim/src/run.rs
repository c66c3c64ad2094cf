//! `scaler-sim run`: one scenario through the simulator, written to an output folder.
//!
//! Outputs (SPEC section 5, plus `observations.csv` and the chart, extensions) are built
//! in a staging folder and committed together once the whole run has succeeded
//! ([`scaler_formats::output_set`]).

use std::io::Write;
use std::path::PathBuf;

use scaler_formats::error::{InputError, SimError};
use scaler_formats::fmtnum::format_money;
use scaler_formats::observations;
use scaler_formats::output_set::{OutputDir, OutputSet};
use scaler_formats::scenario::{Overrides, Scenario};
use scaler_formats::summary::summary_json_with_origin;
use scaler_formats::timeline::{push_tick_row, TIMELINE_HEADER};
use scaler_formats::tomldoc::{Doc, Value};
use scaler_formats::trace;
use scaler_model::{simulate, Summary};

/// The files `run` writes into its output folder, as one set.
pub const RUN_OUTPUTS: &[&str] =
    &["timeline.csv", "observations.csv", "summary.json", "timeline.png", "timeline.svg", "report.html"];

/// What a run produced.
#[derive(Debug)]
pub struct RunResult {
    /// The summary.
    pub summary: Summary,
    /// The files written.
    pub files: Vec<PathBuf>,
    /// `summary.json` as written.
    pub summary_json: String,
}

/// Runs `scenario` and commits `timeline.csv`, `observations.csv`, `summary.json`, the
/// timeline chart and `report.html` into `out` as one set (nothing changes in `out` if any part fails).
pub fn run_to_dir(scenario: &Scenario, out: &OutputDir) -> Result<RunResult, SimError> {
    let mut set = out.stage(RUN_OUTPUTS)?;
    let origin = scaler_formats::origin::trace_origin(&scenario.trace.path).unix_ms();
    let (summary, summary_json) = write_run(scenario, &mut set, origin)?;
    let timeline = set.staging().join("timeline.csv");
    let info = crate::report::RunInfo {
        origin_unix_ms: origin,
        slots_per_worker: Some(scenario.cluster.slots_per_worker),
        summary_json: Some(summary_json.clone()),
    };
    crate::report::plot_run(&timeline, &mut set, &format!("{}: demand and workers", scenario.name), None, &info)?;
    let files = set.commit()?;
    Ok(RunResult { summary, files, summary_json })
}

/// Simulates `scenario`, streaming its timeline and observations into the set.
fn write_run(scenario: &Scenario, set: &mut OutputSet<'_>, origin: Option<i64>) -> Result<(Summary, String), SimError> {
    let mut source = trace::open(&scenario.trace, scenario.seed)?;
    let (tl_path, obs_path) = (set.final_path("timeline.csv"), set.final_path("observations.csv"));
    let mut tl = set.create("timeline.csv")?;
    let mut obs = set.create("observations.csv")?;
    tl.write_all(TIMELINE_HEADER.as_bytes()).map_err(|e| SimError::io(&tl_path, "write", e))?;
    obs.write_all(observations::header_line().as_bytes()).map_err(|e| SimError::io(&obs_path, "write", e))?;
    let params = scenario.params(scenario.seed);
    let mut line = Vec::with_capacity(256);
    let summary = simulate(params, &mut source, |row| {
        line.clear();
        push_tick_row(&mut line, row);
        tl.write_all(&line).map_err(|e| SimError::io(&tl_path, "write", e))?;
        if !row.observed {
            return Ok(());
        }
        line.clear();
        observations::push_row(&mut line, &row.observation);
        obs.write_all(&line).map_err(|e| SimError::io(&obs_path, "write", e))
    })?;
    tl.flush().map_err(|e| SimError::io(&tl_path, "write", e))?;
    obs.flush().map_err(|e| SimError::io(&obs_path, "write", e))?;
    let json = summary_json_with_origin(&summary, scenario, origin)?;
    set.write("summary.json", json.as_bytes())?;
    Ok((summary, json))
}

/// A short, readable table of a summary.
#[must_use]
pub fn summary_table(s: &Summary, scenario: &Scenario) -> String {
    let slo = scenario.cluster.slo_wait;
    let pct = s.slo_violation_ratio * 100.0;
    let mut t = String::new();
    t.push_str(&format!("  tasks               {}\n", s.tasks));
    if let Some(m) = s.measured_tasks {
        t.push_str(&format!(
            "  measured            {m} tasks after the {} s warm-up (the figures below leave it out)\n",
            s.warmup_s
        ));
    }
    t.push_str(&format!("  cost                {}\n", format_money(s.cost)));
    t.push_str(&format!(
        "  wait mean/p95/p99   {:.3} s / {:.3} s / {:.3} s (max {:.3} s)\n",
        s.wait_mean_s, s.wait_p95_s, s.wait_p99_s, s.wait_max_s
    ));
    t.push_str(&format!("  SLO violations      {pct:.2} % of tasks waited > {slo} s\n"));
    t.push_str(&format!("  scale ups/downs     {} / {}\n", s.scale_ups, s.scale_downs));
    t.push_str(&format!("  workers mean/max    {:.2} / {}\n", s.mean_workers, s.max_workers));
    t.push_str(&format!("  worker-seconds      {:.3}\n", s.worker_seconds));
    t.push_str(&format!("  end time            {} s\n", s.end_time_s));
    t
}

/// Applies a sweep's command-line overrides to its scenario document, with `run`'s
/// semantics: every `--set` is applied to the document (so every setting, the baseline and
/// `recommended.toml` see it, validated by the same code); `--seed` and `--trace` are
/// applied by [`scaler_formats::scenario::from_doc`] (the caller passes them on).
///
/// All three are appended to the document's text as a comment block: the text is what
/// the sweep's change detection hashes (`sweep::inputs`) and what the report shows, so
/// `--resume` refuses a folder swept with other overrides and the report says which were
/// given. Without overrides the text (and so the fingerprint) is unchanged.
///
/// # Errors
/// A `--set` that is not `table.key=value`, and `--seed` when the `[sweep]` table lists
/// `seeds` (the two would disagree on what is swept).
pub fn apply_sweep_overrides(doc: &mut Doc, o: &Overrides) -> Result<(), InputError> {
    if let Some(n) = o.seed {
        let lists_seeds = doc.get("sweep").is_some_and(
            |(_, _, node)| matches!(&node.value, Value::Table(t) if t.iter().any(|(k, _, _)| k == "seeds")),
        );
        if lists_seeds {
            return Err(InputError::file(
                std::path::Path::new(&format!("--seed {n}")),
                format!(
                    "{} lists sweep.seeds: give the seeds there, or drop them to sweep one --seed",
                    doc.path.display()
                ),
            ));
        }
    }
    for a in &o.set {
        doc.set_override(a)?;
    }
    if o.set.is_empty() && o.seed.is_none() && o.trace.is_none() {
        return Ok(());
    }
    let mut note = String::from("\n# scaler-sim sweep, overrides given on the command line:\n");
    for a in &o.set {
        note.push_str(&format!("# --set {a}\n"));
    }
    if let Some(n) = o.seed {
        note.push_str(&format!("# --seed {n}\n"));
    }
    if let Some(t) = &o.trace {
        note.push_str(&format!("# --trace {}\n", t.display()));
    }
    doc.text.push_str(&note);
    Ok(())
}
