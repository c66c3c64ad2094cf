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
    let rows = t.rows.into_iter().map(|r| (r.result.index, r.values, r.result.status, r.result.metrics)).collect();
    Ok(ResultsTable { axes: t.axes, rows })
}

fn m(name: &str) -> usize {
    METRICS.iter().position(|x| *x == name).expect("known metric")
}

/// The files `plot` writes into a run folder.
pub const RUN_CHARTS: &[&str] = &["timeline.png", "timeline.svg"];

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

/// Draws chart 1 of a run from its `timeline` file into the set (`timeline.png` / `.svg`).
pub fn plot_run(
    timeline: &Path,
    set: &mut OutputSet<'_>,
    title: &str,
    window_h: Option<(f64, f64)>,
    origin_unix_ms: Option<i64>,
) -> Result<(), SimError> {
    let mut tl = charts::read_timeline(timeline, "run", window_h)?;
    tl.origin_unix_ms = origin_unix_ms;
    charts::timeline_chart(&[tl], title, &chart_base(set, "timeline"))
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
    for s in &mut series {
        s.origin_unix_ms = origin_unix_ms;
    }
    let title = "Demand and workers: baseline vs recommended";
    charts::timeline_chart(&series, title, &chart_base(set, "chart_timeline"))?;
    charts::cost_chart(&series, "Cumulative cost: baseline vs recommended", &chart_base(set, "chart_cost"))?;

    // 2: cost against p95 wait.
    let (cost, p95) = (m("cost"), m("wait_p95_s"));
    let ok: Vec<&(usize, Vec<String>, String, Vec<f64>)> = table.rows.iter().filter(|r| r.2 == "ok").collect();
    let points: Vec<(f64, f64)> = ok.iter().map(|r| (r.3[cost], r.3[p95])).collect();
    let frontier: Vec<(f64, f64)> = rec
        .frontier_cost_vs_wait_p95
        .iter()
        .filter_map(|&i| ok.iter().find(|r| r.0 == i).map(|r| (r.3[cost], r.3[p95])))
        .collect();
    let base_pt = (number(&rec.baseline.metrics, "cost"), number(&rec.baseline.metrics, "wait_p95_s"));
    let rec_pt = recommended.map(|r| (number(&r.metrics, "cost"), number(&r.metrics, "wait_p95_s")));
    charts::frontier_chart(
        &points,
        &frontier,
        base_pt,
        rec_pt,
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
                    let meets = objective.feasible(&r.3);
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
                charts::heatmap_chart(xn, &xs, yn, &ys, &cells, &what, &chart_base(set, "chart_heatmap"))?;
                has_heatmap = true;
            }
        }
    }
    let html = report_html(set.staging(), &table, &rec, scenario_text, has_heatmap)?;
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

/// The self-contained report: recommendation, charts inline, a sortable results table.
fn report_html(
    dir: &Path,
    table: &ResultsTable,
    rec: &Recommendation,
    scenario_text: Option<&str>,
    heatmap: bool,
) -> Result<String, SimError> {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>scaler sweep report</title>\n<style>\n");
    h.push_str(
        "body{font-family:sans-serif;margin:2em auto;max-width:1250px;color:#222}\n\
         .chart{width:100%;height:auto;border:1px solid #ddd;margin:.5em 0}\n\
         table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}\n\
         th{background:#f0f0f0;cursor:pointer;user-select:none}th.asc::after{content:' \\25B2'}th.desc::after{content:' \\25BC'}\n\
         tr.rec td{background:#e3f6e3;font-weight:bold}.box{background:#f7f7f7;border-left:4px solid #2ca02c;padding:.6em 1em}\n\
         pre{background:#f7f7f7;padding:.6em;overflow:auto}.scroll{max-height:600px;overflow:auto}\n",
    );
    h.push_str("</style>\n</head>\n<body>\n");
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
                .map_or_else(|| "n/a".into(), |p| format!("{p:+.1} %"));
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
    h.push_str("</div>\n<h2>Charts</h2>\n");
    let mut charts_list = vec!["chart_timeline", "chart_frontier"];
    if heatmap {
        charts_list.push("chart_heatmap");
    }
    charts_list.push("chart_cost");
    for c in charts_list {
        h.push_str(&format!("<figure id=\"{c}\">\n{}\n</figure>\n", svg_inline(&dir.join(format!("{c}.svg")))?));
    }
    // Results table.
    let rec_idx = rec.recommended.as_ref().map(|r| r.setting as u64);
    h.push_str("<h2>All settings</h2>\n<p>Click a column to sort.</p>\n<div class=\"scroll\"><table id=\"results\">\n<thead><tr><th>setting</th>");
    for a in &table.axes {
        h.push_str(&format!("<th>{}</th>", escape(a)));
    }
    h.push_str("<th>status</th>");
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
            h.push_str(&"<td></td>".repeat(METRICS.len()));
        } else {
            for v in metrics {
                h.push_str(&format!("<td>{}</td>", num_cell(*v)));
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

/// Sorting, plus a self-test (`report.html#selftest`) that a headless browser can read back.
const SORT_JS: &str = r#"(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  var origError = console.error;
  console.error = function () { errors.push(Array.prototype.join.call(arguments, ' ')); origError.apply(console, arguments); };
  function cellValue(row, col) {
    var t = row.cells[col].textContent.trim();
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
  if (location.hash === '#selftest') {
    var verdict = 'pass';
    try {
      var heads = table.tHead.rows[0].cells, col = -1;
      for (var i = 0; i < heads.length; i++) { if (heads[i].textContent === 'cost') { col = i; } }
      if (col < 0) { throw new Error('no cost column'); }
      heads[col].click();
      var vals = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return cellValue(r, col); })
        .filter(function (v) { return typeof v === 'number'; });
      for (var k = 1; k < vals.length; k++) { if (vals[k - 1] > vals[k]) { throw new Error('not ascending after one click'); } }
      heads[col].click();
      vals = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return cellValue(r, col); })
        .filter(function (v) { return typeof v === 'number'; });
      for (var j = 1; j < vals.length; j++) { if (vals[j - 1] < vals[j]) { throw new Error('not descending after two clicks'); } }
      if (document.querySelectorAll('figure svg').length < 3) { throw new Error('charts missing'); }
    } catch (e) { verdict = 'fail: ' + e.message; }
    document.body.setAttribute('data-selftest', verdict);
  }
  setTimeout(function () { document.body.setAttribute('data-errors', String(errors.length)); document.body.setAttribute('data-error-text', errors.join(' | ')); }, 0);
})();
"#;

/// A number for people: at most 4 decimals, no trailing zeros (the results table keeps full precision).
fn readable(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}
