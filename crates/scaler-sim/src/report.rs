//! Charts and `report.html` from the files a sweep or a run wrote, so that
//! `scaler-sim plot DIR` can redraw them at any time.

use std::path::{Path, PathBuf};

use crate::charts;
use crate::sweep::parse_objective;
use scaler_formats::error::{InputError, SimError};
use scaler_formats::output_set::OutputSet;
use scaler_formats::recommendation::{self, number, Recommendation};
use scaler_formats::results;
use scaler_model::METRICS;

/// A sweep's results as read back from `results.csv`.
#[derive(Clone, Debug)]
pub struct ResultsTable {
    /// Swept keys.
    pub axes: Vec<String>,
    /// `(setting, values, status, metrics)` rows.
    pub rows: Vec<(usize, Vec<String>, String, Vec<f64>)>,
    /// Each setting's spread columns (a multi-seed sweep's; empty with one seed).
    pub spread: std::collections::BTreeMap<usize, Vec<f64>>,
}

impl ResultsTable {
    /// Whether setting `index` (a row's metrics) meets every constraint of `objective`, each
    /// checked as the sweep checked it (a `@qNN` constraint on its percentile across the
    /// seeds, read from the spread columns).
    #[must_use]
    pub fn meets(&self, objective: &crate::sweep::Objective, index: usize, metrics: &[f64]) -> bool {
        let r = crate::sweep::SettingResult {
            index,
            status: "ok".into(),
            metrics: metrics.to_vec(),
            spread: self.spread.get(&index).cloned().unwrap_or_default(),
        };
        objective.holds(&r)
    }
}

/// Reads `results.csv` (its header tells the swept keys).
pub fn read_results_table(path: &Path) -> Result<ResultsTable, InputError> {
    let t = results::read(path, None)?;
    // The plotting library loops on infinities and NaN: refuse them here.
    for r in &t.rows {
        if let Some((k, v)) = r.result.metrics.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(InputError::file(
                path,
                format!(
                    "setting {}: {} = {v} is not a finite number",
                    r.result.index,
                    METRICS.get(k).copied().unwrap_or("?")
                ),
            ));
        }
    }
    let spread = t.rows.iter().map(|r| (r.result.index, r.result.spread.clone())).collect();
    let rows = t.rows.into_iter().map(|r| (r.result.index, r.values, r.result.status, r.result.metrics)).collect();
    Ok(ResultsTable { axes: t.axes, rows, spread })
}

fn m(name: &str) -> usize {
    METRICS.iter().position(|x| *x == name).expect("known metric")
}

/// The files `plot` writes into a run folder.
pub const RUN_CHARTS: &[&str] = &["timeline.png", "timeline.svg", "report.html"];

/// The files drawn from a sweep's data files (by `sweep`, `merge` and `plot`).
pub const SWEEP_CHARTS: &[&str] = &[
    "chart_timeline.png",
    "chart_timeline.svg",
    "chart_cost.png",
    "chart_cost.svg",
    "chart_frontier.png",
    "chart_frontier.svg",
    "chart_heatmap.png",
    "chart_heatmap.svg",
    "report.html",
];

/// Registers `stem.png` and `stem.svg` in the set and returns the base path to draw them at.
pub(crate) fn chart_base(set: &mut OutputSet<'_>, stem: &str) -> PathBuf {
    set.path(&format!("{stem}.png"));
    set.path(&format!("{stem}.svg"));
    set.staging().join(stem)
}

/// What a run's chart and report show besides its timeline.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The trace's wall-clock origin (ms since the Unix epoch), if known.
    pub origin_unix_ms: Option<i64>,
    /// Task slots per worker (the capacity line), if known.
    pub slots_per_worker: Option<u32>,
    /// `summary.json` as written (its figures go into `report.html`).
    pub summary_json: Option<String>,
}

/// Task slots per worker as a run's `observations.csv` records them (`total_slots /
/// ready_workers` on the first row with a ready worker), for `plot` of a run folder.
#[must_use]
pub fn slots_from_observations(path: &Path) -> Option<u32> {
    use scaler_formats::csvio::{CsvReader, Next};
    // Only a regular file is read (a pipe there would block).
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut csv = CsvReader::open(path).ok()?;
    let [ready, total] = csv.require(["ready_workers", "total_slots"]).ok()?;
    loop {
        match csv.next_row().ok()? {
            Next::Row => {}
            _ => return None,
        }
        let r: u64 = csv.get(ready).ok()?.parse().ok()?;
        let t: u64 = csv.get(total).ok()?.parse().ok()?;
        if let Some(k) = t.checked_div(r) {
            return u32::try_from(k).ok();
        }
    }
}

/// Draws chart 1 of a run from its `timeline` file into the set (`timeline.png` / `.svg`),
/// and the run's `report.html` (its summary and the chart).
pub fn plot_run(
    timeline: &Path,
    set: &mut OutputSet<'_>,
    title: &str,
    window_h: Option<(f64, f64)>,
    info: &RunInfo,
) -> Result<(), SimError> {
    let mut tl = charts::read_timeline(timeline, "run", window_h)?;
    tl.origin_unix_ms = info.origin_unix_ms;
    tl.slots_per_worker = info.slots_per_worker;
    charts::timeline_chart(&[tl], title, &chart_base(set, "timeline"))?;
    let html = run_html(title, info.summary_json.as_deref(), window_h)?;
    set.write("report.html", html.as_bytes())
}

/// Draws the four sweep charts and `report.html` into the set, from the sweep's data
/// files in `src` (the output folder, or the set's staging folder while a sweep commits).
///
/// `window_h` limits the timeline charts to hours `(from, to)`; `origin_unix_ms`, the
/// trace's wall-clock origin, labels their time axis with UTC dates.
pub fn plot_sweep(
    src: &Path,
    set: &mut OutputSet<'_>,
    scenario_text: Option<&str>,
    window_h: Option<(f64, f64)>,
    origin_unix_ms: Option<i64>,
) -> Result<(), SimError> {
    let table = read_results_table(&src.join("results.csv"))?;
    let rec = recommendation::read(&src.join("recommendation.json"))?;
    let objective =
        parse_objective(&rec.objective).map_err(|e| InputError::file(&src.join("recommendation.json"), e))?;
    let recommended = rec.recommended.as_ref();

    // 1 and 4: timelines of the baseline and the recommendation.
    let mut series = vec![charts::read_timeline(&src.join("baseline_timeline.csv"), "baseline", window_h)?];
    let rec_tl = src.join("recommended_timeline.csv");
    if rec_tl.exists() && recommended.is_some() {
        series.push(charts::read_timeline(&rec_tl, "recommended", window_h)?);
    }
    // The timelines are of the first seed's runs: with one seed their totals are
    // recommendation.json's figures, stated in the legend as written there.
    let one_seed = rec.seeds.len() == 1;
    let totals = [Some(&rec.baseline.metrics), recommended.map(|r| &r.metrics)];
    // Slots per worker (the capacity line): the scenario's, or the recommended setting's.
    let base_slots = scenario_text.and_then(|t| {
        let mut doc = scaler_formats::tomldoc::Doc::parse(Path::new("scenario"), t.to_string()).ok()?;
        // A sweep's `--set` overrides, as `run::apply_sweep_overrides` noted them.
        for a in t.lines().filter_map(|l| l.strip_prefix("# --set ")) {
            doc.set_override(a).ok()?;
        }
        let o =
            scaler_formats::scenario::Overrides { trace: Some(PathBuf::from("(loaded once)")), ..Default::default() };
        scaler_formats::scenario::from_doc(&doc, &o).ok().map(|sc| sc.cluster.slots_per_worker)
    });
    let swept_slots = |p: &serde_json::Map<String, serde_json::Value>| {
        p.get("cluster.slots_per_worker").and_then(serde_json::Value::as_str).and_then(|v| v.parse::<u32>().ok())
    };
    let slots = [base_slots, recommended.and_then(|r| swept_slots(&r.params)).or(base_slots)];
    for ((s, t), k) in series.iter_mut().zip(totals).zip(slots) {
        s.origin_unix_ms = origin_unix_ms;
        s.slots_per_worker = k;
        if one_seed {
            s.total_cost = t.map(|m| number(m, "cost"));
        }
    }
    let title = "Demand and workers: baseline vs recommended";
    charts::timeline_chart(&series, title, &chart_base(set, "chart_timeline"))?;
    charts::cost_chart(&series, "Cumulative cost: baseline vs recommended", &chart_base(set, "chart_cost"))?;

    // 2: cost against p95 wait.
    let (cost, p95) = (m("cost"), m("wait_p95_s"));
    let ok: Vec<&(usize, Vec<String>, String, Vec<f64>)> = table.rows.iter().filter(|r| r.2 == "ok").collect();
    let points: Vec<(f64, f64)> = ok.iter().map(|r| (r.3[cost], r.3[p95])).collect();
    let feasible: Vec<bool> = ok.iter().map(|r| table.meets(&objective, r.0, &r.3)).collect();
    let constraint = objective.constraints.iter().find(|c| c.metric == p95).map(|c| charts::ConstraintLine {
        bound: c.bound,
        label: format!("wait_p95_s {} {}", op_text(c.op), scaler_formats::fmtnum::fmt_num(c.bound)),
    });
    let frontier: Vec<(f64, f64)> = rec
        .frontier_cost_vs_wait_p95
        .iter()
        .filter_map(|&i| ok.iter().find(|r| r.0 == i).map(|r| (r.3[cost], r.3[p95])))
        .collect();
    let base_pt = (number(&rec.baseline.metrics, "cost"), number(&rec.baseline.metrics, "wait_p95_s"));
    let rec_pt = recommended.map(|r| (number(&r.metrics, "cost"), number(&r.metrics, "wait_p95_s")));
    charts::frontier_chart(
        &points,
        &feasible,
        &frontier,
        base_pt,
        rec_pt,
        constraint.as_ref(),
        "Cost against p95 wait, every setting",
        &chart_base(set, "chart_frontier"),
    )?;

    // 3: heatmap over two swept keys: the best objective among the settings at each cell
    // that meet the constraints.
    let mut has_heatmap = false;
    if let Some(keys) = &rec.heatmap {
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        let pos = |n: &str| table.axes.iter().position(|a| a == n);
        if let (Some(&xn), Some(&yn)) = (names.first(), names.get(1)) {
            if let (Some(xa), Some(ya)) = (pos(xn), pos(yn)) {
                let mut xs: Vec<String> = Vec::new();
                let mut ys: Vec<String> = Vec::new();
                for r in &table.rows {
                    if !xs.contains(&r.1[xa]) {
                        xs.push(r.1[xa].clone());
                    }
                    if !ys.contains(&r.1[ya]) {
                        ys.push(r.1[ya].clone());
                    }
                }
                let sign = if objective.maximize { -1.0 } else { 1.0 };
                let mut cells = vec![vec![None::<f64>; xs.len()]; ys.len()];
                for r in &ok {
                    let meets = table.meets(&objective, r.0, &r.3);
                    if !meets {
                        continue;
                    }
                    let xi = xs.iter().position(|x| *x == r.1[xa]).expect("seen");
                    let yi = ys.iter().position(|y| *y == r.1[ya]).expect("seen");
                    let v = r.3[objective.metric];
                    let cell = &mut cells[yi][xi];
                    if cell.is_none_or(|c| sign * v < sign * c) {
                        *cell = Some(v);
                    }
                }
                let what = format!("best {}", METRICS[objective.metric]);
                let text = constraints_text(&objective);
                let (xd, yd) = (with_unit(xn), with_unit(yn));
                charts::heatmap_chart(&xd, &xs, &yd, &ys, &cells, &what, &text, &chart_base(set, "chart_heatmap"))?;
                has_heatmap = true;
            }
        }
    }
    let html = report_html(set.staging(), src, &table, &rec, &objective, scenario_text, has_heatmap)?;
    set.write("report.html", html.as_bytes())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn svg_inline(path: &Path) -> Result<String, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::io(path, "read", e))?;
    // Drop an XML declaration, keep the <svg> element; make it scale with the page.
    let start = text.find("<svg").unwrap_or(0);
    Ok(text[start..].replacen("<svg", "<svg class=\"chart\" preserveAspectRatio=\"xMidYMid meet\"", 1))
}

fn num_cell(v: f64) -> String {
    scaler_formats::fmtnum::fmt_num(v)
}

/// The held-out check (`[sweep] holdout`): the recommendation and the baseline on the part
/// of the trace the tuning did not see.
fn holdout_html(h: &mut String, rec: &Recommendation, recommended: &scaler_formats::recommendation::Recommended) {
    let (Some(r), Some(b)) = (&recommended.holdout, &rec.baseline.holdout) else { return };
    h.push_str(&format!(
        "<p id=\"holdout\">On the held-out last {} % of the trace ({} s to {} s, {} tasks), which no setting was tuned on:</p>\n",
        readable(r.share * 100.0),
        readable(r.from_s),
        readable(r.to_s),
        r.tasks
    ));
    h.push_str("<table><tr><th>metric</th><th>baseline</th><th>recommended</th></tr>\n");
    for (name, v) in &r.metrics {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(name),
            readable(number(&b.metrics, name)),
            readable(v.as_f64().unwrap_or(0.0))
        ));
    }
    let meets = |m: bool| if m { "yes" } else { "<b>no</b>" };
    h.push_str(&format!(
        "<tr><td>meets the constraints</td><td>{}</td><td>{}</td></tr>\n</table>\n",
        meets(b.meets_constraints),
        meets(r.meets_constraints)
    ));
}

/// A swept key with its unit, for an axis: `scaler.cooldown_period (s)`.
fn with_unit(key: &str) -> String {
    let last = key.rsplit('.').next().unwrap_or(key);
    let unit = if last.ends_with("_s")
        || ["cooldown_period", "metrics_window", "evaluation_interval", "warmup_period"].contains(&last)
    {
        Some("s")
    } else if last.ends_with("_percent") {
        Some("%")
    } else if last.ends_with("_threshold") {
        Some("utilization, 0 to 1")
    } else if last.ends_with("_workers") || last.ends_with("_runners") {
        Some("workers")
    } else if last == "price_per_worker_hour" {
        Some("price units per worker-hour")
    } else {
        None
    };
    unit.map_or_else(|| key.to_string(), |u| format!("{key} ({u})"))
}

fn op_text(op: crate::sweep::Op) -> &'static str {
    use crate::sweep::Op;
    match op {
        Op::Le => "<=",
        Op::Lt => "<",
        Op::Ge => ">=",
        Op::Gt => ">",
    }
}

/// The objective's constraints as text (`wait_p95_s <= 30 and ...`), or `no constraint`.
fn constraints_text(o: &crate::sweep::Objective) -> String {
    if o.constraints.is_empty() {
        return "no constraint".to_string();
    }
    o.constraints
        .iter()
        .map(|c| {
            let at = c.at.map_or_else(String::new, |q| format!("@q{q}"));
            format!("{}{at} {} {}", METRICS[c.metric], op_text(c.op), num_cell(c.bound))
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// How to read each chart: one or two sentences under it.
const CAPTIONS: &[(&str, &str)] = &[
    (
        "chart_timeline",
        "How to read it: the thin line is the demand (tasks running or waiting), the thick line the workers the pool has \
         and the dashed line those ready to take tasks; triangles mark scale-ups, crosses scale-downs. Where the demand \
         rises above the ready capacity, tasks wait.",
    ),
    (
        "chart_frontier",
        "How to read it: each dot is one setting, cheaper to the left and faster (lower p95 wait) further down; filled \
         dots meet the objective's constraints, the dashed line is the constraint on p95 wait. The blue line joins the \
         settings no other beats on both; the cross is the scenario as written, the triangle the recommendation.",
    ),
    (
        "chart_heatmap",
        "How to read it: each cell holds the best objective value among the settings with that pair of values that \
         meet the constraints (viridis: dark is low, yellow high); a grey cell has none that meets them.",
    ),
    (
        "chart_cost",
        "How to read it: the money spent so far; the steeper the line, the more workers were paid for then. Each \
         legend entry states the run's total cost.",
    ),
    (
        "chart_compare_frontier",
        "How to read it: one dot per policy, cheaper to the left and faster (lower p95 wait) further down; a policy \
         up and to the right of another is beaten by it on both.",
    ),
    (
        "chart_compare_timeline",
        "How to read it: one panel per policy, all on the same axes: the thin line is the demand, the thick line the \
         workers, the dashed line those ready; compare how closely each follows the demand.",
    ),
    (
        "chart_compare_cost",
        "How to read it: the money each policy spent so far (one line style per policy); the legend states each \
         total, the cost column of the table.",
    ),
    (
        "timeline",
        "How to read it: the thin line is the demand (tasks running or waiting), the thick line the workers the pool \
         has and the dashed line those ready; triangles mark scale-ups, crosses scale-downs.",
    ),
];

/// A chart's SVG inline, in a figure with its caption.
fn figure(dir: &Path, stem: &str) -> Result<String, SimError> {
    let caption = CAPTIONS.iter().find(|(c, _)| *c == stem).map_or("", |(_, t)| t);
    Ok(format!(
        "<figure id=\"{stem}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
        svg_inline(&dir.join(format!("{stem}.svg")))?,
        escape(caption)
    ))
}

/// A number in a table cell: readable text, the exact value in `data-v` (for sorting).
fn td_num(v: f64) -> String {
    format!("<td data-v=\"{}\">{}</td>", num_cell(v), readable(v))
}

/// The page's head and style, with `title`.
fn head(title: &str) -> String {
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n",
        escape(title)
    );
    h.push_str(
        "body{font-family:sans-serif;margin:2em auto;max-width:1250px;color:#222}\n\
         .chart{width:100%;height:auto;border:1px solid #ddd;margin:.5em 0}\n\
         figcaption{color:#444;font-size:14px;max-width:60em}\n\
         table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}\n\
         th{background:#f0f0f0;cursor:pointer;user-select:none}th.asc::after{content:' \\25B2'}th.desc::after{content:' \\25BC'}\n\
         tr.rec td{background:#fdf0d5;font-weight:bold}.box{background:#f7f7f7;border-left:4px solid #0072b2;padding:.6em 1em}\n\
         td.yes{color:#0072b2}td.no{color:#d55e00}\n\
         pre{background:#f7f7f7;padding:.6em;overflow:auto}.scroll{max-height:600px;overflow:auto}\n\
         .file h3{font-size:15px;margin:.8em 0 .2em}button.copy{margin-left:1em;font-size:12px}\n",
    );
    h.push_str("</style>\n</head>\n<body>\n");
    h
}

/// The recommended configuration's files (`recommended.toml`, `recommended-hpa.yaml`...)
/// in `src`, as blocks to copy.
fn recommended_blocks(src: &Path) -> Result<String, SimError> {
    let mut h = String::new();
    for name in crate::sweep::SWEEP_DATA.iter().filter(|n| n.starts_with("recommended") && !n.ends_with(".csv")) {
        let path = src.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        if h.is_empty() {
            h.push_str(
                "<h2>The recommended configuration</h2>\n<p>The files the sweep wrote, to copy as they are.</p>\n",
            );
        }
        h.push_str(&format!(
            "<div class=\"file\"><h3><code>{n}</code><button class=\"copy\" data-for=\"file-{n}\">copy</button></h3>\n\
             <pre class=\"copy\" id=\"file-{n}\">{}</pre></div>\n",
            escape(&text),
            n = escape(name)
        ));
    }
    Ok(h)
}

/// The self-contained report: recommendation, charts inline with how to read them, the
/// recommended configuration's files, a sortable results table with a column saying
/// which settings meet the objective's constraints.
fn report_html(
    dir: &Path,
    src: &Path,
    table: &ResultsTable,
    rec: &Recommendation,
    objective: &crate::sweep::Objective,
    scenario_text: Option<&str>,
    heatmap: bool,
) -> Result<String, SimError> {
    let mut h = head("scaler sweep report");
    h.push_str("<h1>scaler sweep report</h1>\n");
    h.push_str(&format!(
        "<p>scaler-sim {} &middot; objective: <b>{}</b> &middot; seeds: {} &middot; settings: {}</p>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&rec.objective),
        escape(&serde_json::to_string(&rec.seeds).expect("serializable")),
        rec.settings
    ));
    // Recommendation.
    h.push_str("<h2>Recommendation</h2>\n<div class=\"box\" id=\"recommendation\">\n");
    if let Some(recommended) = &rec.recommended {
        if !rec.feasible {
            h.push_str("<p><b>No setting meets every constraint;</b> this is the closest.</p>\n");
        }
        h.push_str(&format!("<p>Setting {}:</p>\n<ul>\n", recommended.setting));
        for (k, v) in &recommended.params {
            let was = rec.baseline.params.get(k).and_then(serde_json::Value::as_str).unwrap_or("");
            h.push_str(&format!(
                "<li><code>{} = {}</code> (baseline {})</li>\n",
                escape(k),
                escape(v.as_str().unwrap_or("")),
                escape(was)
            ));
        }
        h.push_str("</ul>\n<table><tr><th>metric</th><th>baseline</th><th>recommended</th><th>change</th></tr>\n");
        for name in [
            "cost",
            "wait_mean_s",
            "wait_p95_s",
            "wait_p99_s",
            "slo_violation_ratio",
            "mean_workers",
            "scale_ups",
            "scale_downs",
        ] {
            let b = number(&rec.baseline.metrics, name);
            let r = number(&recommended.metrics, name);
            let c = recommended
                .change_pct
                .get(name)
                .and_then(serde_json::Value::as_f64)
                .map_or_else(|| crate::diff::change(b, r).text(), |p| format!("{p:+.1} %"));
            h.push_str(&format!(
                "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{c}</td></tr>\n",
                readable(b),
                readable(r)
            ));
        }
        h.push_str("</table>\n");
        holdout_html(&mut h, rec, recommended);
    } else {
        h.push_str("<p>No setting ran successfully.</p>\n");
    }
    for w in &rec.warnings {
        h.push_str(&format!("<p class=\"warning\"><b>Warning:</b> {}</p>\n", escape(w)));
    }
    h.push_str("</div>\n");
    h.push_str(&recommended_blocks(src)?);
    h.push_str("<h2>Charts</h2>\n");
    let mut charts_list = vec!["chart_timeline", "chart_frontier"];
    if heatmap {
        charts_list.push("chart_heatmap");
    }
    charts_list.push("chart_cost");
    for c in charts_list {
        h.push_str(&figure(dir, c)?);
    }
    // Results table.
    let rec_idx = rec.recommended.as_ref().map(|r| r.setting as u64);
    h.push_str(&format!(
        "<h2>All settings</h2>\n<p>Click a column to sort. <b>meets</b>: the setting meets the objective's constraints ({}).</p>\n\
         <div class=\"scroll\"><table id=\"results\">\n<thead><tr><th>setting</th>",
        escape(&constraints_text(objective))
    ));
    for a in &table.axes {
        h.push_str(&format!("<th>{}</th>", escape(a)));
    }
    h.push_str("<th>status</th><th>meets</th>");
    for mname in METRICS {
        h.push_str(&format!("<th>{mname}</th>"));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (i, vals, status, metrics) in &table.rows {
        let class = if Some(*i as u64) == rec_idx { " class=\"rec\"" } else { "" };
        h.push_str(&format!("<tr{class}><td>{i}</td>"));
        for v in vals {
            h.push_str(&format!("<td>{}</td>", escape(v)));
        }
        h.push_str(&format!("<td>{}</td>", escape(status)));
        if metrics.is_empty() {
            h.push_str("<td></td>");
            h.push_str(&"<td></td>".repeat(METRICS.len()));
        } else {
            let meets = status == "ok" && table.meets(objective, *i, metrics);
            h.push_str(if meets { "<td class=\"yes\">yes</td>" } else { "<td class=\"no\">no</td>" });
            for v in metrics {
                h.push_str(&td_num(*v));
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
    if let Some(t) = scenario_text {
        h.push_str(&format!("<h2>Scenario</h2>\n<pre id=\"scenario\">{}</pre>\n", escape(t)));
    }
    h.push_str("<script>\n");
    h.push_str(SORT_JS);
    h.push_str("</script>\n</body>\n</html>\n");
    Ok(h)
}

/// A run's `report.html`: its summary (`summary.json`'s figures) and its chart.
fn run_html(title: &str, summary_json: Option<&str>, window_h: Option<(f64, f64)>) -> Result<String, SimError> {
    let mut h = head("scaler run report");
    h.push_str(&format!(
        "<h1>scaler run report</h1>\n<p>scaler-sim {} &middot; {}</p>\n",
        env!("CARGO_PKG_VERSION"),
        escape(title)
    ));
    if let Some((a, b)) = window_h {
        h.push_str(&format!(
            "<p>The chart shows hours {} to {} (<code>plot --window-h</code>); the table is the whole run.</p>\n",
            readable(a),
            readable(b)
        ));
    }
    let summary = summary_json.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    if let Some(v) = &summary {
        h.push_str(
            "<h2>Summary</h2>\n<table id=\"results\"><thead><tr><th>metric</th><th>value</th></tr></thead>\n<tbody>\n",
        );
        for name in METRICS {
            if let Some(x) = v.get(*name).and_then(serde_json::Value::as_f64) {
                h.push_str(&format!("<tr><td>{name}</td>{}</tr>\n", td_num(x)));
            }
        }
        h.push_str("</tbody></table>\n");
    }
    // The chart beside the page (the run's folder holds it), not inline: the page stays
    // small and readable as text.
    let caption = CAPTIONS.iter().find(|(c, _)| *c == "timeline").map_or("", |(_, t)| t);
    h.push_str(&format!(
        "<h2>Chart</h2>\n<figure id=\"timeline\">\n<img class=\"chart\" src=\"timeline.svg\" alt=\"demand and workers over time\">\n<figcaption>{}</figcaption>\n</figure>\n",
        escape(caption)
    ));
    h.push_str("<script>\n");
    h.push_str(SORT_JS);
    h.push_str("</script>\n</body>\n</html>\n");
    Ok(h)
}

/// `compare`'s `report.html`: the policies side by side (the base scenario's own first),
/// and the three charts.
pub(crate) fn compare_html(
    dir: &Path,
    entries: &[crate::compare::Entry],
    base: &scaler_formats::scenario::Scenario,
) -> Result<String, SimError> {
    let mut h = head("scaler compare report");
    h.push_str(&format!(
        "<h1>scaler compare report</h1>\n<p>scaler-sim {} &middot; base scenario <code>{}</code> &middot; trace <code>{}</code> &middot; seed {}</p>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&base.path.display().to_string()),
        escape(&base.trace.path.display().to_string()),
        base.seed
    ));
    h.push_str("<h2>Policies</h2>\n<p>Click a column to sort; <code>(scenario)</code> is the base scenario's own [scaler].</p>\n");
    h.push_str("<div class=\"scroll\"><table id=\"results\">\n<thead><tr><th>policy</th>");
    for mname in METRICS {
        h.push_str(&format!("<th>{mname}</th>"));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for e in entries {
        h.push_str(&format!("<tr><td>{}</td>", escape(&e.name)));
        for v in e.summary.values() {
            h.push_str(&td_num(v));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n<h2>Charts</h2>\n");
    for c in ["chart_compare_frontier", "chart_compare_timeline", "chart_compare_cost"] {
        h.push_str(&figure(dir, c)?);
    }
    h.push_str("<script>\n");
    h.push_str(SORT_JS);
    h.push_str("</script>\n</body>\n</html>\n");
    Ok(h)
}

/// Sorting, plus a self-test (`report.html#selftest`) that a headless browser can read back.
const SORT_JS: &str = r#"(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  var origError = console.error;
  console.error = function () { errors.push(Array.prototype.join.call(arguments, ' ')); origError.apply(console, arguments); };
  function cellValue(row, col) {
    var c = row.cells[col];
    var t = (c.dataset && c.dataset.v !== undefined ? c.dataset.v : c.textContent).trim();
    var n = parseFloat(t);
    return (t !== '' && !isNaN(n) && isFinite(t)) ? n : t;
  }
  function sortTable(table, col, asc) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, col), y = cellValue(b, col);
      if (typeof x === 'number' && typeof y === 'number') { return asc ? x - y : y - x; }
      if (typeof x === 'number') { return -1; }
      if (typeof y === 'number') { return 1; }
      return asc ? String(x).localeCompare(String(y)) : String(y).localeCompare(String(x));
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.classList.remove('asc', 'desc');
      if (i === col) { th.classList.add(asc ? 'asc' : 'desc'); }
    });
  }
  var table = document.getElementById('results');
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener('click', function () { sortTable(table, i, !th.classList.contains('asc')); });
  });
  window.scalerSortTable = sortTable;
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (b) {
    b.addEventListener('click', function () {
      var text = document.getElementById(b.getAttribute('data-for')).textContent;
      if (navigator.clipboard) { navigator.clipboard.writeText(text).then(function () { b.textContent = 'copied'; }, function () {}); }
    });
  });
  if (location.hash === '#selftest') {
    var verdict = 'pass';
    try {
      var heads = table.tHead.rows[0].cells, col = -1;
      for (var i = 0; i < heads.length; i++) { if (heads[i].textContent === 'cost') { col = i; } }
      // A table with a cost column (a sweep's, compare's) sorts both ways.
      if (col >= 0) {
        heads[col].click();
        var vals = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return cellValue(r, col); })
          .filter(function (v) { return typeof v === 'number'; });
        for (var k = 1; k < vals.length; k++) { if (vals[k - 1] > vals[k]) { throw new Error('not ascending after one click'); } }
        heads[col].click();
        vals = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return cellValue(r, col); })
          .filter(function (v) { return typeof v === 'number'; });
        for (var j = 1; j < vals.length; j++) { if (vals[j - 1] < vals[j]) { throw new Error('not descending after two clicks'); } }
      }
      if (document.querySelectorAll('figure svg, figure img').length < 1) { throw new Error('charts missing'); }
      Array.prototype.forEach.call(document.querySelectorAll('figure'), function (f) {
        var cap = f.querySelector('figcaption');
        if (!cap || cap.textContent.indexOf('How to read it') !== 0) { throw new Error('no caption under ' + f.id); }
      });
      Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (b) {
        var pre = document.getElementById(b.getAttribute('data-for'));
        if (!pre || pre.textContent.length === 0) { throw new Error('empty block for ' + b.getAttribute('data-for')); }
      });
    } catch (e) { verdict = 'fail: ' + e.message; }
    document.body.setAttribute('data-selftest', verdict);
  }
  setTimeout(function () { document.body.setAttribute('data-errors', String(errors.length)); document.body.setAttribute('data-error-text', errors.join(' | ')); }, 0);
})();
"#;

/// A number for people: at most 4 decimals, no trailing zeros (the results table keeps full precision).
pub(crate) fn readable(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}
