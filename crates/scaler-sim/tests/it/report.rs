//! Charts, `report.html`, `diff`, and the consistent command line: `sweep --set/--seed/--trace`,
//! `compare`'s own row and whole scenario files, `plot --window-h`.

use std::path::Path;

use scaler_model::METRICS;

use crate::run_in;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn json(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&read(dir, name)).unwrap()
}

fn ok(r: &std::process::Output) {
    assert!(r.status.success(), "status {:?}: {}", r.status.code(), String::from_utf8_lossy(&r.stderr));
}

/// Two slots per worker, so the capacity line is drawn; a burst in minutes 40 to 60.
const BASE: &str = "[trace]\npath = \"trace.csv\"\nspread = \"poisson\"\nduration = { dist = \"lognormal\", mean_s = 20, cv = 1.5 }\nseed = 5\n\
[cluster]\nprovision_delay_s = 30\nbilling_minimum_s = 60\nprice_per_worker_hour = 0.5\nslots_per_worker = 2\n\
[scaler]\nmin_workers = 1\nmax_workers = 12\ncooldown_period = 60\nmetrics_window = 120\nevaluation_interval = 15\n";

const SWEEP: &str = "[sweep]\nobjective = \"minimize cost subject to wait_p95_s <= 80\"\n\
scaler.cooldown_period = [30, 60, 120]\nscaler.scale_up_threshold = [0.6, 0.8]\n\
heatmap = [\"scaler.cooldown_period\", \"scaler.scale_up_threshold\"]\n";

fn rate_trace(scale: u32) -> String {
    let mut t = String::from("timestamp_s,arrivals\n");
    for i in 0..120 {
        let arrivals = if (40..60).contains(&i) { 15 * scale } else { 3 + i % 4 };
        t.push_str(&format!("{},{arrivals}\n", i * 60));
    }
    t
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", &format!("{BASE}{SWEEP}"));
    write(dir.path(), "trace.csv", &rate_trace(2));
    write(dir.path(), "busy.csv", &rate_trace(3));
    dir
}

/// Every number following `prefix` in `text` (up to the next character that is not part of
/// a number).
fn numbers_after(text: &str, prefix: &str) -> Vec<f64> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let end =
                rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e')).unwrap_or(rest.len());
            rest[..end].parse::<f64>().unwrap_or_else(|_| panic!("not a number after {prefix:?}: {rest:.30}"))
        })
        .collect()
}

// ---------------------------------------------------------------- diff

/// A summary.json with every metric, the given ones changed.
fn summary_with(changes: &[(&str, f64)]) -> String {
    let mut v = serde_json::Map::new();
    for m in METRICS {
        v.insert((*m).to_string(), serde_json::Value::from(10.0));
    }
    for (k, x) in changes {
        v.insert((*k).to_string(), serde_json::Value::from(*x));
    }
    v.insert("seed".into(), serde_json::Value::from(3));
    v.insert("scenario".into(), serde_json::Value::from("x"));
    serde_json::to_string_pretty(&serde_json::Value::Object(v)).unwrap()
}

#[test]
fn diff_compares_two_runs_figure_by_figure_with_the_change_in_percent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    // (metric, A, B, the change printed)
    let cases: [(&str, f64, f64, &str); 5] = [
        ("cost", 10.0, 12.0, "+20.0 %"),
        ("wait_p95_s", 40.0, 30.0, "-25.0 %"),
        ("scale_ups", 0.0, 3.0, "new"),
        ("cold_start_tasks", 0.0, 0.0, "0.0 %"),
        ("tasks", 1000.0, 1000.0, "0.0 %"),
    ];
    let a: Vec<(&str, f64)> = cases.iter().map(|c| (c.0, c.1)).collect();
    let b: Vec<(&str, f64)> = cases.iter().map(|c| (c.0, c.2)).collect();
    write(&dir.path().join("a"), "summary.json", &summary_with(&a));
    write(&dir.path().join("b"), "summary.json", &summary_with(&b));
    let r = run_in(dir.path(), &["diff", "a", "b"]);
    ok(&r);
    let text = String::from_utf8(r.stdout).unwrap();
    assert!(text.starts_with("A: a (scenario x, seed 3)\nB: b (scenario x, seed 3)\n"), "{text}");
    assert_eq!(text.lines().count(), 3 + METRICS.len(), "one line per metric: {text}");
    for (m, x, y, change) in cases {
        let line = text.lines().find(|l| l.split_whitespace().next() == Some(m)).unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[1].parse::<f64>().unwrap(), x, "{line}");
        assert_eq!(words[2].parse::<f64>().unwrap(), y, "{line}");
        assert!(line.ends_with(change), "{m}: {line}");
    }
    assert!(!text.contains("inf") && !text.contains("n/a") && !text.contains("NaN"), "{text}");
    // --json: the same figures, exact, and no percentage for a change from 0.
    let r = run_in(dir.path(), &["diff", "a", "b", "--json"]);
    ok(&r);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let rows = v["metrics"].as_array().unwrap();
    assert_eq!(rows.len(), METRICS.len());
    for (m, x, y, change) in cases {
        let row = rows.iter().find(|r| r["metric"] == m).unwrap();
        assert_eq!((row["a"].as_f64(), row["b"].as_f64()), (Some(x), Some(y)));
        assert_eq!(row["change"], change);
        if change == "new" {
            assert!(row.get("change_pct").is_none(), "{row}");
        } else {
            let pct = row["change_pct"].as_f64().unwrap();
            assert!((pct - if x == 0.0 { 0.0 } else { 100.0 * (y - x) / x }).abs() < 1e-12, "{row}");
        }
    }
}

#[test]
fn diff_of_two_real_runs_matches_their_summaries() {
    let dir = setup();
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "a"]));
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "b", "--set", "scaler.max_workers=6"]));
    let r = run_in(dir.path(), &["diff", "a", "b", "--json"]);
    ok(&r);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let (sa, sb) = (json(&dir.path().join("a"), "summary.json"), json(&dir.path().join("b"), "summary.json"));
    for row in v["metrics"].as_array().unwrap() {
        let m = row["metric"].as_str().unwrap();
        assert_eq!(row["a"].as_f64(), sa[m].as_f64(), "{m}");
        assert_eq!(row["b"].as_f64(), sb[m].as_f64(), "{m}");
    }
    let row = |m: &str| v["metrics"].as_array().unwrap().iter().find(|r| r["metric"] == m).unwrap().clone();
    assert_eq!(row("max_workers")["change"], "-50.0 %");
}

#[test]
fn diff_refuses_a_folder_without_a_summary() {
    let dir = setup();
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "a"]));
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    std::fs::create_dir_all(dir.path().join("bad")).unwrap();
    write(&dir.path().join("bad"), "summary.json", "{\"tasks\": 3}");
    // A summary.json that never ends is refused without being read.
    std::fs::create_dir_all(dir.path().join("zero")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero/summary.json")).unwrap();
    for (b, says) in [
        ("zero", "summary.json: is not a summary `run` wrote (not a regular file"),
        ("empty", "empty: has no summary.json: it is not a folder `scaler-sim run` wrote"),
        ("missing", "missing: is not a folder"),
        ("bad", "summary.json: has no `wait_mean_s`"),
    ] {
        let r = run_in(dir.path(), &["diff", "a", b]);
        assert_eq!(r.status.code(), Some(2), "{b}");
        let e = String::from_utf8_lossy(&r.stderr);
        assert!(e.contains(says) && e.lines().count() == 1, "{b}: {e}");
        assert!(r.stdout.is_empty(), "{b}: nothing printed on standard output");
    }
}

// ---------------------------------------------------------------- sweep --set --seed --trace

#[test]
fn sweep_takes_set_seed_and_trace_as_run_does() {
    let dir = setup();
    let args = ["--set", "scaler.max_workers=6", "--seed", "9", "--trace", "busy.csv"];
    let mut sweep = vec!["sweep", "s.toml", "--out", "sw"];
    sweep.extend(args);
    let r = run_in(dir.path(), &sweep);
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
    let mut run = vec!["run", "s.toml", "--out", "r"];
    run.extend(args);
    ok(&run_in(dir.path(), &run));
    // The baseline of the sweep is the run with the same overrides, figure for figure.
    let rec = json(&dir.path().join("sw"), "recommendation.json");
    let summary = json(&dir.path().join("r"), "summary.json");
    assert_eq!(rec["seeds"], serde_json::json!([9]));
    for m in ["tasks", "cost", "wait_p95_s", "max_workers", "scale_ups"] {
        assert_eq!(rec["baseline"]["metrics"][m].as_f64(), summary[m].as_f64(), "{m}");
    }
    assert_eq!(summary["max_workers"], 6);
    // recommended.toml carries them: the trace, the seed, the --set key.
    let toml = read(&dir.path().join("sw"), "recommended.toml");
    assert!(
        toml.contains("busy.csv\"\n") && toml.contains("seed = 9\n") && toml.contains("max_workers = 6\n"),
        "{toml}"
    );
    // The report shows them with the scenario.
    let html = read(&dir.path().join("sw"), "report.html");
    // (--trace made absolute: a merge elsewhere reads the same file.)
    assert!(html.contains("# --set scaler.max_workers=6\n# --seed 9\n# --trace /"), "overrides shown");
    assert!(html.contains("busy.csv\n"), "the trace shown");
    // They are part of the fingerprint: a resume with another --set is refused, naming the scenario.
    let mut other = sweep.clone();
    other[5] = "scaler.max_workers=7";
    other.push("--resume");
    let r = run_in(dir.path(), &other);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("cannot resume: the scenario") && e.contains("changed since this sweep started"), "{e}");
    // The same overrides resume (nothing left to do).
    let mut again = sweep.clone();
    again.push("--resume");
    let r = run_in(dir.path(), &again);
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
    // Without overrides, the fingerprint is the one it always was: a plain sweep resumes a plain sweep.
    ok_or_3(&run_in(dir.path(), &["sweep", "s.toml", "--out", "plain"]));
    ok_or_3(&run_in(dir.path(), &["sweep", "s.toml", "--out", "plain", "--resume"]));
}

fn ok_or_3(r: &std::process::Output) {
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn sweep_refuses_a_seed_when_the_sweep_lists_seeds_and_a_bad_set() {
    let dir = setup();
    write(dir.path(), "m.toml", &format!("{BASE}{SWEEP}seeds = [1, 2]\n"));
    let r = run_in(dir.path(), &["sweep", "m.toml", "--out", "m", "--seed", "4"]);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("--seed 4") && e.contains("lists sweep.seeds"), "{e}");
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "n", "--set", "scaler.nope=1"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--set scaler.nope=1"));
    assert!(!dir.path().join("m").exists() && !dir.path().join("n").exists(), "nothing written");
}

// ---------------------------------------------------------------- compare

#[test]
fn compare_has_the_scenarios_own_row_and_takes_whole_scenario_files() {
    let dir = setup();
    write(
        dir.path(),
        "hpa.toml",
        "[scaler]\npolicy = \"hpa\"\nmin_workers = 1\nmax_workers = 12\nevaluation_interval = 15\n",
    );
    // A whole scenario of the same workload, another [scaler].
    write(dir.path(), "wide.toml", &format!("{BASE}{SWEEP}").replace("max_workers = 12", "max_workers = 20"));
    let r = run_in(dir.path(), &["compare", "s.toml", "--policies", "hpa.toml", "wide.toml", "--out", "c", "--json"]);
    ok(&r);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let names: Vec<&str> = v["policies"].as_array().unwrap().iter().map(|p| p["policy"].as_str().unwrap()).collect();
    assert_eq!(names, ["(scenario)", "hpa", "wide"]);
    // The first row is the scenario as `run` runs it.
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "r"]));
    let summary = json(&dir.path().join("r"), "summary.json");
    for m in METRICS {
        assert_eq!(v["policies"][0][*m].as_f64(), summary[*m].as_f64(), "{m}");
    }
    assert!(dir.path().join("c/timeline_scenario.csv").exists());
    assert_eq!(read(&dir.path().join("c"), "timeline_scenario.csv"), read(&dir.path().join("r"), "timeline.csv"));
    // A scenario file of another workload is refused, naming the table.
    for (name, from, to, table) in [
        ("other_cluster.toml", "slots_per_worker = 2", "slots_per_worker = 3", "[cluster]"),
        ("other_trace.toml", "path = \"trace.csv\"", "path = \"busy.csv\"", "[trace]"),
    ] {
        write(dir.path(), name, &BASE.replace(from, to));
        let r = run_in(dir.path(), &["compare", "s.toml", "--policies", name, "--out", "d"]);
        assert_eq!(r.status.code(), Some(2), "{name}");
        let e = String::from_utf8_lossy(&r.stderr);
        assert!(e.contains(name) && e.contains(&format!("its {table} differs from the base scenario's")), "{e}");
        assert!(!dir.path().join("d").exists());
    }
    // A policy file whose name is the scenario row's file is refused.
    write(dir.path(), "scenario.toml", "[scaler]\nmax_workers = 3\n");
    let r = run_in(dir.path(), &["compare", "s.toml", "--policies", "scenario.toml", "--out", "d"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("rename it"));
}

#[test]
fn compare_shows_progress_on_stderr_and_its_outputs_are_byte_identical() {
    let dir = setup();
    write(
        dir.path(),
        "hpa.toml",
        "[scaler]\npolicy = \"hpa\"\nmin_workers = 1\nmax_workers = 12\nevaluation_interval = 15\n",
    );
    let a = run_in(dir.path(), &["compare", "s.toml", "--policies", "hpa.toml", "--out", "a"]);
    let b = run_in(dir.path(), &["compare", "s.toml", "--policies", "hpa.toml", "--out", "b"]);
    ok(&a);
    ok(&b);
    // Not a terminal: a plain line at the end (as sweep does), on stderr only.
    assert!(
        String::from_utf8_lossy(&a.stderr).contains("ran 2/2 policies (100 %)"),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    assert!(!String::from_utf8_lossy(&a.stdout).contains("ran 2/2"));
    for f in [
        "compare.csv",
        "report.html",
        "chart_compare_timeline.svg",
        "chart_compare_timeline.png",
        "chart_compare_cost.svg",
        "timeline_hpa.csv",
    ] {
        assert!(
            std::fs::read(dir.path().join("a").join(f)).unwrap()
                == std::fs::read(dir.path().join("b").join(f)).unwrap(),
            "{f} differs between two runs"
        );
    }
    // The timeline chart has one panel per policy (its title each), on one shared axis.
    let svg = read(&dir.path().join("a"), "chart_compare_timeline.svg");
    assert!(svg.contains(">\n(scenario)\n</text>") && svg.contains(">\nhpa\n</text>"), "a panel per policy");
    let soak = run_in(dir.path(), &["soak", "s.toml", "--runs", "4", "--seed", "1"]);
    ok(&soak);
    assert!(
        String::from_utf8_lossy(&soak.stderr).contains("ran 4/4 runs (100 %)"),
        "{}",
        String::from_utf8_lossy(&soak.stderr)
    );
}

// ---------------------------------------------------------------- charts

#[test]
fn legend_totals_equal_the_summaries() {
    let dir = setup();
    write(
        dir.path(),
        "hpa.toml",
        "[scaler]\npolicy = \"hpa\"\nmin_workers = 1\nmax_workers = 12\nevaluation_interval = 15\n",
    );
    let r = run_in(dir.path(), &["compare", "s.toml", "--policies", "hpa.toml", "--out", "c", "--json"]);
    ok(&r);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let want: Vec<f64> = v["policies"].as_array().unwrap().iter().map(|p| p["cost"].as_f64().unwrap()).collect();
    let svg = read(&dir.path().join("c"), "chart_compare_cost.svg");
    same_totals(&svg, &want, "compare's legend");
    ok_or_3(&run_in(dir.path(), &["sweep", "s.toml", "--out", "sw"]));
    let rec = json(&dir.path().join("sw"), "recommendation.json");
    let want =
        [rec["baseline"]["metrics"]["cost"].as_f64().unwrap(), rec["recommended"]["metrics"]["cost"].as_f64().unwrap()];
    let svg = read(&dir.path().join("sw"), "chart_cost.svg");
    same_totals(&svg, &want, "the sweep's legend");
}

/// The legend's totals are the summaries' costs as `run` prints them (9 decimals at most).
fn same_totals(svg: &str, want: &[f64], what: &str) {
    let got = numbers_after(svg, "total cost ");
    assert_eq!(got.len(), want.len(), "{what}: {got:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 5e-10, "{what}: {g} against {w}");
        assert!(svg.contains(&format!("total cost {})", scaler_formats::fmtnum::format_money(*w))), "{what}: {w}");
    }
}

#[test]
fn charts_use_colour_blind_safe_colours_the_constraint_line_and_capacity() {
    let dir = setup();
    ok_or_3(&run_in(dir.path(), &["sweep", "s.toml", "--out", "sw"]));
    let sw = dir.path().join("sw");
    let (frontier, heatmap, timeline) =
        (read(&sw, "chart_frontier.svg"), read(&sw, "chart_heatmap.svg"), read(&sw, "chart_timeline.svg"));
    // The old red/green pair is gone; Okabe-Ito blue and orange draw the series.
    for svg in [&frontier, &heatmap, &timeline] {
        for old in ["#2CA02C", "#D62728", "#1F77B4"] {
            assert!(!svg.to_uppercase().contains(old), "{old} still drawn");
        }
    }
    assert!(timeline.contains("#0072B2") && timeline.contains("#E69F00"));
    // The heatmap's cells are viridis: its darkest and brightest stops.
    assert!(heatmap.contains("#440154") && heatmap.contains("#FDE725"), "viridis colour bar");
    // The objective's bound on p95 wait is a labelled line; settings that meet it are marked.
    assert!(frontier.contains("constraint: wait_p95_s &lt;= 80") || frontier.contains("constraint: wait_p95_s <= 80"));
    assert!(frontier.contains("setting that meets the constraints"));
    // Two slots per worker: the capacity line beside the tasks, and units on the axes.
    assert!(timeline.contains("capacity: current workers x 2 slots"));
    assert!(timeline.contains("(count)") && timeline.contains("time (hours)") && frontier.contains("p95 wait (s)"));
    assert!(read(&sw, "chart_cost.svg").contains("cumulative cost (price units)"));
    assert!(
        heatmap.contains("scaler.cooldown_period (s)")
            && heatmap.contains("scaler.scale_up_threshold (utilization, 0 to 1)")
    );
}

#[test]
fn plot_window_rescales_the_axis_and_the_totals_and_refuses_a_window_outside_the_data() {
    let dir = setup();
    ok_or_3(&run_in(dir.path(), &["sweep", "s.toml", "--out", "sw"]));
    let sw = dir.path().join("sw");
    let r = run_in(dir.path(), &["plot", "sw", "--window-h", "0.5,1"]);
    ok(&r);
    // The legend's cost is the cost within hours 0.5 to 1, from the baseline's timeline.
    let tl = read(&sw, "baseline_timeline.csv");
    let header: Vec<&str> = tl.lines().next().unwrap().split(',').collect();
    let (t, c) =
        (header.iter().position(|h| *h == "time_s").unwrap(), header.iter().position(|h| *h == "cost").unwrap());
    let (mut before, mut last) = (0.0, 0.0);
    for l in tl.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let (ts, cost) = (f[t].parse::<f64>().unwrap() / 3600.0, f[c].parse::<f64>().unwrap());
        if ts < 0.5 {
            before = cost;
        }
        if ts <= 1.0 {
            last = cost;
        }
    }
    let svg = read(&sw, "chart_cost.svg");
    let got = numbers_after(&svg, "cost in hours 0.5 to 1: ");
    assert_eq!(got.len(), 2, "both series");
    assert!((got[0] - (last - before)).abs() < 1e-9, "{got:?} vs {}", last - before);
    assert!(svg.contains("cost since the window"), "the axis says so");
    // The axis spans the window: no tick label past hour 1.
    let timeline = read(&sw, "chart_timeline.svg");
    assert!(timeline.contains(">\n0.5\n</text>") && timeline.contains(">\n1.0\n</text>"), "the axis spans the window");
    assert!(!timeline.contains(">\n1.5\n</text>") && !timeline.contains(">\n0.2\n</text>"), "and only the window");
    // A window outside the data is refused, and the folder is left as it was.
    let before_bytes = std::fs::read(sw.join("chart_cost.svg")).unwrap();
    for w in ["5,9", "-3,-1"] {
        let r = run_in(dir.path(), &["plot", "sw", &format!("--window-h={w}")]);
        assert_eq!(r.status.code(), Some(2), "{w}");
        let e = String::from_utf8_lossy(&r.stderr);
        assert!(
            e.contains(&format!("--window-h {w}"))
                && e.contains("is outside the data")
                && e.contains("covers hours 0 to"),
            "{e}"
        );
    }
    // A negative hour after a space is the option's value, not an option of its own.
    let r = run_in(dir.path(), &["plot", "sw", "--window-h", "-3,-1"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("is outside the data"));
    assert_eq!(std::fs::read(sw.join("chart_cost.svg")).unwrap(), before_bytes);
    // A run folder too.
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "r"]));
    let r = run_in(dir.path(), &["plot", "r", "--window-h", "7,8"]);
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn every_time_chart_of_compare_has_the_wall_clock_axis_when_the_trace_has_an_origin() {
    use sha2::Digest;
    let dir = setup();
    let trace = read(dir.path(), "trace.csv");
    let sha = format!("{:x}", sha2::Sha256::digest(trace.as_bytes()));
    // 2024-03-01T12:00:00Z
    write(dir.path(), "trace.csv.meta.json", &format!("{{\"origin_unix_ms\": 1709294400000, \"sha256\": \"{sha}\"}}"));
    write(
        dir.path(),
        "hpa.toml",
        "[scaler]\npolicy = \"hpa\"\nmin_workers = 1\nmax_workers = 12\nevaluation_interval = 15\n",
    );
    ok(&run_in(dir.path(), &["compare", "s.toml", "--policies", "hpa.toml", "--out", "c"]));
    for chart in ["chart_compare_timeline.svg", "chart_compare_cost.svg"] {
        let svg = read(&dir.path().join("c"), chart);
        assert!(svg.contains("hour 0 = 2024-03-01T12:00:00Z") && svg.contains("03-01 1"), "{chart}: dated axis");
    }
    ok_or_3(&run_in(dir.path(), &["sweep", "s.toml", "--out", "sw"]));
    for chart in ["chart_timeline.svg", "chart_cost.svg"] {
        assert!(read(&dir.path().join("sw"), chart).contains("hour 0 = 2024-03-01T12:00:00Z"), "{chart}: dated axis");
    }
}

// ---------------------------------------------------------------- report.html

#[test]
fn the_sweep_report_has_a_meets_column_the_recommended_files_and_captions() {
    let dir = setup();
    ok_or_3(&run_in(dir.path(), &["sweep", "s.toml", "--out", "sw"]));
    let sw = dir.path().join("sw");
    let html = read(&sw, "report.html");
    // meets: one cell per row, "yes" exactly where wait_p95_s <= 80 (the objective's constraint).
    let results = read(&sw, "results.csv");
    let header: Vec<&str> = results.lines().next().unwrap().split(',').collect();
    let p95 = header.iter().position(|h| *h == "wait_p95_s").unwrap();
    let feasible =
        results.lines().skip(1).filter(|l| l.split(',').nth(p95).unwrap().parse::<f64>().unwrap() <= 80.0).count();
    assert!(html.contains("<th>meets</th>"));
    assert_eq!(html.matches("<td class=\"yes\">yes</td>").count(), feasible, "{results}");
    assert_eq!(html.matches("<td class=\"no\">no</td>").count(), results.lines().count() - 1 - feasible);
    // The recommended configuration's files, as written, in blocks to copy.
    let toml = read(&sw, "recommended.toml");
    let escaped = toml.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    assert!(html.contains(&format!("<pre class=\"copy\" id=\"file-recommended.toml\">{escaped}</pre>")));
    assert!(html.contains("data-for=\"file-recommended.toml\""));
    // One or two sentences under every chart.
    for c in ["chart_timeline", "chart_frontier", "chart_heatmap", "chart_cost"] {
        let at = html.find(&format!("<figure id=\"{c}\">")).unwrap_or_else(|| panic!("{c} missing"));
        let fig = &html[at..at + html[at..].find("</figure>").unwrap()];
        assert!(fig.contains("<figcaption>How to read it: "), "{c} has no caption");
    }
    // Numbers are readable (4 decimals at most) with the exact value kept for sorting.
    let cost =
        results.lines().nth(1).unwrap().split(',').nth(header.iter().position(|h| *h == "cost").unwrap()).unwrap();
    let exact: f64 = cost.parse().unwrap();
    assert!(html.contains(&format!("<td data-v=\"{cost}\">")), "exact value kept");
    let shown = format!("{exact:.4}").trim_end_matches('0').trim_end_matches('.').to_string();
    assert!(html.contains(&format!("<td data-v=\"{cost}\">{shown}</td>")), "readable value shown");
    // Byte-identical when redrawn from the same files.
    ok(&run_in(dir.path(), &["plot", "sw"]));
    assert!(read(&sw, "report.html") == html, "plot wrote another report.html");
}

#[test]
fn run_and_compare_write_a_report_too() {
    let dir = setup();
    write(
        dir.path(),
        "hpa.toml",
        "[scaler]\npolicy = \"hpa\"\nmin_workers = 1\nmax_workers = 12\nevaluation_interval = 15\n",
    );
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "r"]));
    let html = read(&dir.path().join("r"), "report.html");
    let summary = json(&dir.path().join("r"), "summary.json");
    for m in ["tasks", "cost", "wait_p95_s"] {
        let exact = scaler_formats::fmtnum::fmt_num(summary[m].as_f64().unwrap());
        assert!(html.contains(&format!("<tr><td>{m}</td><td data-v=\"{exact}\">")), "{m} = {exact}");
    }
    assert!(html.contains("src=\"timeline.svg\"") && html.contains("<figcaption>How to read it: "));
    // `plot` redraws the run's chart and report as `run` drew them (the capacity line too).
    let (svg, png) =
        (read(&dir.path().join("r"), "timeline.svg"), std::fs::read(dir.path().join("r/timeline.png")).unwrap());
    assert!(svg.contains("capacity: current workers x 2 slots"));
    ok(&run_in(dir.path(), &["plot", "r"]));
    assert!(read(&dir.path().join("r"), "timeline.svg") == svg, "plot redrew another timeline.svg");
    assert!(std::fs::read(dir.path().join("r/timeline.png")).unwrap() == png, "plot redrew another timeline.png");
    assert!(read(&dir.path().join("r"), "report.html") == html, "plot wrote another report.html");
    ok(&run_in(dir.path(), &["compare", "s.toml", "--policies", "hpa.toml", "--out", "c"]));
    let html = read(&dir.path().join("c"), "report.html");
    assert!(html.contains("<tr><td>(scenario)</td>") && html.contains("<tr><td>hpa</td>"));
    assert_eq!(html.matches("<figcaption>How to read it: ").count(), 3);
}

/// The page as headless Chromium leaves it after its scripts ran (`#selftest`).
fn browser_dom(page: &Path) -> Option<String> {
    crate::browser(page, "the headless-browser test of the reports (.ci/run sets it)").map(|(dom, _)| dom)
}

#[test]
fn the_reports_new_parts_work_in_a_real_browser() {
    let dir = setup();
    write(
        dir.path(),
        "hpa.toml",
        "[scaler]\npolicy = \"hpa\"\nmin_workers = 1\nmax_workers = 12\nevaluation_interval = 15\n",
    );
    if std::env::var_os("SCALER_CHROMIUM").is_none() {
        browser_dom(Path::new("."));
        return;
    }
    ok_or_3(&run_in(dir.path(), &["sweep", "s.toml", "--out", "sw"]));
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "r"]));
    ok(&run_in(dir.path(), &["compare", "s.toml", "--policies", "hpa.toml", "--out", "c"]));
    for (page, figures) in [("sw/report.html", 4), ("r/report.html", 1), ("c/report.html", 3)] {
        let dom = browser_dom(&dir.path().join(page)).unwrap();
        // The self-test: sorting both ways on the cost column (where there is one), a caption
        // under every chart, every copy block non-empty.
        assert!(
            dom.contains("data-selftest=\"pass\""),
            "{page}: {}",
            dom.split("data-selftest=").nth(1).unwrap_or(&dom[..dom.len().min(300)])
        );
        assert!(dom.contains("data-errors=\"0\""), "{page}: {}", dom.split("data-error-text=").nth(1).unwrap_or(""));
        assert_eq!(dom.matches("<figcaption>How to read it: ").count(), figures, "{page}");
    }
    let dom = browser_dom(&dir.path().join("sw/report.html")).unwrap();
    assert!(dom.contains("<button class=\"copy\" data-for=\"file-recommended.toml\">"));
    assert!(dom.contains("<th>meets</th>"));
}

// ---------------------------------------------------------------- README

/// The `text` block that follows the `sh` block holding exactly `command` in the README.
fn readme_output(readme: &str, command: &str) -> String {
    let block = format!("```sh\n{command}\n```\n```text\n");
    let at = readme.find(&block).unwrap_or_else(|| panic!("README has no block for `{command}`")) + block.len();
    readme[at..at + readme[at..].find("```").unwrap()].to_string()
}

#[test]
fn the_readmes_run_diff_and_compare_outputs_are_what_the_commands_print() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = read(&root, "README.md");
    let tmp = tempfile::tempdir().unwrap();
    let out = |name: &str| tmp.path().join(name).display().to_string();
    // The commands run from the repository's root, as the README's do, into a temporary
    // folder standing for `out/`.
    let printed = |args: &[&str]| {
        let r = run_in(&root, args);
        ok(&r);
        String::from_utf8(r.stdout).unwrap().replace(&format!("{}/", tmp.path().display()), "out/")
    };
    let run = printed(&["run", "sims/quickstart.toml", "--out", &out("quickstart")]);
    assert_eq!(run, readme_output(&readme, "target/release/scaler-sim run sims/quickstart.toml"));
    printed(&[
        "run",
        "sims/quickstart.toml",
        "--set",
        "scaler.cooldown_period=300",
        "--set",
        "scaler.max_workers=30",
        "--out",
        &out("slower"),
    ]);
    // The README shows some of diff's lines: each is one of the lines printed.
    let diff = printed(&["diff", &out("quickstart"), &out("slower")]);
    let shown = readme_output(&readme, "target/release/scaler-sim diff out/quickstart out/slower");
    assert!(shown.lines().count() > 5);
    for line in shown.lines().filter(|l| *l != "...") {
        assert!(diff.lines().any(|l| l == line), "README's `{line}` is not printed:\n{diff}");
    }
    let policies = ["sims/policies/hpa.toml", "sims/policies/queue.toml", "sims/policies/step.toml"];
    let mut args = vec!["compare", "sims/quickstart.toml", "--policies"];
    args.extend(policies);
    let c = out("quickstart-compare");
    args.extend(["--out", &c]);
    let compare = printed(&args);
    let command = format!("target/release/scaler-sim compare sims/quickstart.toml --policies {}", policies.join(" "));
    assert_eq!(compare, readme_output(&readme, &command));
}
