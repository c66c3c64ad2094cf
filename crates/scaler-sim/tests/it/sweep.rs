//! `sweep`, `merge` and `plot`: objectives, frontiers, shards, resume, charts, the report.

use std::path::Path;

use scaler_model::METRICS;
use scaler_sim::sweep::{frontier, parse_objective, parse_shard, recommend, SettingResult};

use crate::run_in;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn result(index: usize, cost: f64, p95: f64, slo: f64) -> SettingResult {
    let mut metrics = vec![0.0; METRICS.len()];
    let at = |n: &str| METRICS.iter().position(|m| *m == n).unwrap();
    metrics[at("cost")] = cost;
    metrics[at("wait_p95_s")] = p95;
    metrics[at("slo_violation_ratio")] = slo;
    SettingResult { index, status: "ok".into(), metrics, spread: Vec::new() }
}

#[test]
fn objectives_parse_and_refuse_clearly() {
    let o = parse_objective("minimize cost subject to wait_p95_s <= 30 and slo_violation_ratio < 0.05").unwrap();
    assert_eq!(o.to_string(), "minimize cost subject to wait_p95_s <= 30 and slo_violation_ratio < 0.05");
    assert!(!o.maximize && o.constraints.len() == 2);
    assert_eq!(parse_objective("maximize tasks").unwrap().to_string(), "maximize tasks");
    let e = parse_objective("minimize costs").unwrap_err();
    assert!(e.contains("unknown metric `costs`") && e.contains("did you mean `cost`"), "{e}");
    assert!(parse_objective("reduce cost").unwrap_err().contains("minimize"));
    assert!(parse_objective("minimize cost subject to wait_p95_s ~ 3").unwrap_err().contains("unknown comparison"));
    assert!(parse_objective("minimize cost subject to wait_p95_s <= x").unwrap_err().contains("not a number"));
    assert!(parse_objective("minimize cost with wait_p95_s <= 3").unwrap_err().contains("subject to"));
}

#[test]
fn shards_are_checked() {
    assert_eq!(parse_shard("0/4"), Ok((0, 4)));
    assert_eq!(parse_shard("3/4"), Ok((3, 4)));
    assert!(parse_shard("3/2").unwrap_err().contains("below the shard count 2"));
    assert!(parse_shard("1/0").unwrap_err().contains("at least 1"));
    assert!(parse_shard("x").unwrap_err().contains("I/N"));
}

#[test]
fn recommendation_and_frontier_by_hand() {
    let obj = parse_objective("minimize cost subject to wait_p95_s <= 10").unwrap();
    let rs = vec![
        result(0, 5.0, 30.0, 0.5),
        result(1, 7.0, 9.0, 0.2),
        result(2, 6.0, 12.0, 0.1),
        result(3, 9.0, 1.0, 0.0),
        result(4, 7.0, 9.5, 0.3),
    ];
    // Feasible: 1 (7, 9), 3 (9, 1), 4 (7, 9.5); cheapest is 7, a tie broken by the lower index.
    assert_eq!(recommend(&rs, &obj), (Some(1), true));
    // Frontier on (cost, p95), by cost: 0 (5, 30), 2 (6, 12), 1 (7, 9), 3 (9, 1); 4 is dominated by 1.
    let p95 = METRICS.iter().position(|m| *m == "wait_p95_s").unwrap();
    assert_eq!(frontier(&rs, p95), [0, 2, 1, 3]);
    // Nothing meets p95 <= 0.5: the closest (smallest relative miss) is 3.
    let strict = parse_objective("minimize cost subject to wait_p95_s <= 0.5").unwrap();
    assert_eq!(recommend(&rs, &strict), (Some(3), false));
    let mut invalid = result(5, 0.0, 0.0, 0.0);
    invalid.status = "invalid: x".into();
    invalid.metrics.clear();
    assert_eq!(recommend(&[invalid], &obj), (None, false));
}

/// A percent change too large for a float is no percent (`null`), like a change from 0; a
/// metric that is not finite is refused rather than written as `null`.
#[test]
fn recommendation_json_never_writes_an_infinite_metric_as_null() {
    assert_eq!(scaler_sim::sweep::change_pct(2.0, 3.0), Some(50.0));
    assert_eq!(scaler_sim::sweep::change_pct(0.0, 3.0), None);
    assert_eq!(scaler_sim::sweep::change_pct(1e-300, 1e300), None);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.csv", "arrival_s,duration_s\n0,1\n");
    write(dir.path(), "s.toml", SCENARIO);
    let doc = scaler_formats::tomldoc::Doc::read(&dir.path().join("s.toml")).unwrap();
    let base = scaler_formats::scenario::from_doc(&doc, &Default::default()).unwrap();
    let spec = scaler_sim::sweep::parse_spec(&doc, &base).unwrap();
    let mut best = result(1, 7.0, 9.0, 0.2);
    let outcome = |baseline: Vec<f64>, best: scaler_sim::sweep::SettingResult| scaler_sim::sweep::Outcome {
        results: vec![best],
        baseline,
        baseline_spread: Vec::new(),
        seed_notice: None,
        recommended: Some(1),
        feasible: true,
        frontier_p95: vec![1],
        frontier_slo: vec![1],
        warnings: Vec::new(),
        holdout: None,
        search: None,
    };
    let fine = result(0, 1e-307, 1.0, 0.0).metrics;
    let json = scaler_sim::sweep::recommendation_json(&spec, &base, &outcome(fine.clone(), best.clone())).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["recommended"]["change_pct"]["cost"].is_null(), "{json}");
    best.metrics[METRICS.iter().position(|m| *m == "cost").unwrap()] = f64::INFINITY;
    let err = scaler_sim::sweep::recommendation_json(&spec, &base, &outcome(fine, best)).unwrap_err().to_string();
    assert!(err.contains("recommendation.json: the recommendation's cost = inf is not a finite number"), "{err}");
}

const SCENARIO: &str = "[trace]\npath = \"t.csv\"\n\
[cluster]\nprovision_delay_s = 20\nprice_per_worker_hour = 1\nslo_wait_s = 10\n\
[scaler]\nmin_workers = 1\nmax_workers = 40\ncooldown_period = 60\nmetrics_window = 60\nevaluation_interval = 15\n\
[sweep]\nobjective = \"minimize cost subject to wait_p95_s <= 20\"\n\
scaler.scale_up_threshold = [0.6, 0.8]\nscaler.cooldown_period = [30, 120]\nscaler.scale_down_threshold = [0.2, 0.7]\n";

fn trace() -> String {
    crate::bursty_trace(11, 1500, 250, [3000, 600], false)
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "t.csv", &trace());
    dir
}

#[test]
fn a_sweep_writes_every_file_and_reports_invalid_settings() {
    let dir = setup();
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "a"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out = dir.path().join("a");
    for f in [
        "results.csv",
        "pareto.csv",
        "recommendation.json",
        "report.html",
        "baseline_timeline.csv",
        "recommended_timeline.csv",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    for c in ["chart_timeline", "chart_frontier", "chart_heatmap", "chart_cost"] {
        assert!(out.join(format!("{c}.png")).exists() && out.join(format!("{c}.svg")).exists(), "{c} missing");
    }
    let results = read(&out, "results.csv");
    assert_eq!(results.lines().count(), 1 + 8);
    // scale_down_threshold 0.7 with scale_up_threshold 0.6 breaks a rule: reported, not fatal.
    let invalid: Vec<&str> = results.lines().filter(|l| l.contains("invalid:")).collect();
    assert_eq!(invalid.len(), 2, "{results}");
    assert!(invalid[0].contains("scale_down_threshold = 0.7: must be < scale_up_threshold (0.6)"), "{}", invalid[0]);
    let rec: serde_json::Value = serde_json::from_str(&read(&out, "recommendation.json")).unwrap();
    assert_eq!(rec["objective"], "minimize cost subject to wait_p95_s <= 20");
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("recommended: setting"), "{stdout}");
    assert!(stdout.contains("against the baseline: cost"), "{stdout}");
    // The recommendation is the cheapest setting that meets the constraint.
    let idx = rec["recommended"]["setting"].as_u64().unwrap() as usize;
    let cost_col = 1 + 3 + 1 + METRICS.iter().position(|m| *m == "cost").unwrap();
    let p95_col = 1 + 3 + 1 + METRICS.iter().position(|m| *m == "wait_p95_s").unwrap();
    let mut best: Option<(f64, usize)> = None;
    for l in results.lines().skip(1).filter(|l| l.contains(",ok,")) {
        let f: Vec<&str> = l.split(',').collect();
        let (cost, p95): (f64, f64) = (f[cost_col].parse().unwrap(), f[p95_col].parse().unwrap());
        if p95 <= 20.0 && best.is_none_or(|(c, _)| cost < c) {
            best = Some((cost, f[0].parse().unwrap()));
        }
    }
    assert_eq!(best.map(|b| b.1), Some(idx));
    // Deterministic, and the same with one thread as with two.
    let r2 = run_in(dir.path(), &["sweep", "s.toml", "--out", "b", "--threads", "1"]);
    assert!(r2.status.success());
    for f in ["results.csv", "pareto.csv", "recommendation.json", "report.html", "chart_frontier.svg"] {
        assert_eq!(read(&out, f), read(&dir.path().join("b"), f), "{f} differs between runs");
    }
}

#[test]
fn shards_merged_equal_one_machine_and_resume_skips_finished_settings() {
    let dir = setup();
    assert!(run_in(dir.path(), &["sweep", "s.toml", "--out", "one"]).status.success());
    for i in 0..3 {
        let shard = format!("{i}/3");
        let r = run_in(dir.path(), &["sweep", "s.toml", "--out", &format!("shard{i}"), "--shard", &shard]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(!dir.path().join(format!("shard{i}/results.csv")).exists(), "a shard writes only partial results");
    }
    // A missing shard is refused.
    let r = run_in(dir.path(), &["merge", "shard0", "shard2", "--out", "bad"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("shard 1/3 is missing"));
    let r = run_in(dir.path(), &["merge", "shard0", "shard1", "shard2", "--out", "merged"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in ["results.csv", "pareto.csv", "recommendation.json"] {
        assert_eq!(read(&dir.path().join("one"), f), read(&dir.path().join("merged"), f), "{f}");
    }
    // Resume: keep the header and two finished settings, one of them altered; the resumed
    // sweep must keep it as it is (not recompute it) and compute the rest.
    let partial = dir.path().join("one/results.partial.csv");
    let text = read(&dir.path().join("one"), "results.partial.csv");
    let mut lines: Vec<String> = text.lines().take(3).map(String::from).collect();
    let cost_col = 1 + 3 + 1 + METRICS.iter().position(|m| *m == "cost").unwrap();
    let mut f: Vec<String> = lines[1].split(',').map(String::from).collect();
    if f[4] == "ok" {
        f[cost_col] = "999999".into();
    }
    lines[1] = f.join(",");
    std::fs::write(&partial, lines.join("\n") + "\n").unwrap();
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "one", "--resume"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let results = read(&dir.path().join("one"), "results.csv");
    assert_eq!(results.lines().count(), 9);
    assert_eq!(results.contains("999999"), f[4] == "ok", "a finished setting was recomputed on resume");
    // Resuming after the scenario changed is refused.
    write(dir.path(), "s.toml", &SCENARIO.replace("max_workers = 40", "max_workers = 41"));
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "one", "--resume"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("changed since this sweep started"));
}

#[test]
fn bad_sweeps_are_refused_before_any_work() {
    let dir = setup();
    let cases = [
        ("scaler.cooldown_perod = [1, 2]", "sweep key `scaler.cooldown_perod` does not exist"),
        ("scaler.min_workers = []", "sweep.scaler.min_workers is an empty list"),
        ("objective = \"minimize p95\"", "unknown metric `p95`"),
        ("cluster.slots = [1, 2]", "sweep key `cluster.slots` does not exist"),
        ("seed = [1]", "unknown key `sweep.seed`"),
        (
            "scaler.hpa.tolerance = [0.1, 0.2]",
            "sweep key `scaler.hpa.tolerance` is a setting of policy = \"hpa\", which no setting of this sweep selects",
        ),
    ];
    for (line, expect) in cases {
        let text = if line.starts_with("objective") {
            SCENARIO.replace("objective = \"minimize cost subject to wait_p95_s <= 20\"", line)
        } else {
            SCENARIO.replace("[sweep]\n", &format!("[sweep]\n{line}\n"))
        };
        write(dir.path(), "bad.toml", &text);
        let r = run_in(dir.path(), &["sweep", "bad.toml", "--out", "never"]);
        assert_eq!(r.status.code(), Some(2), "{line}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(expect) && err.starts_with("error: bad.toml:"), "{line}: {err}");
        assert!(!dir.path().join("never").exists(), "{line}: work started");
    }
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "never", "--shard", "3/2"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--shard 3/2: shard index 3 must be below the shard count 2"));
    assert!(!dir.path().join("never").exists());
}

/// Dark pixels in a rectangle of a PNG.
fn dark_pixels(png: &Path, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let img = image::open(png).unwrap().to_rgb8();
    let mut n = 0;
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            let p = img.get_pixel(x, y);
            if u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]) < 200 {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn chart_text_renders_with_the_embedded_font() {
    // The plotters build has no system-font support at all (no font-kit): any text on the
    // chart comes from the embedded DejaVu Sans. The title area must hold dark glyph pixels.
    let dir = tempfile::tempdir().unwrap();
    let tl = scaler_sim::charts::Timeline {
        label: "x".into(),
        t_h: vec![0.0, 1.0, 2.0],
        demand: vec![1.0, 5.0, 2.0],
        current: vec![2.0, 4.0, 3.0],
        ready: vec![2.0, 3.0, 3.0],
        cost: vec![0.0, 1.0, 2.0],
        ups: vec![(1.0, 4.0)],
        downs: vec![],
        ..Default::default()
    };
    scaler_sim::charts::timeline_chart(std::slice::from_ref(&tl), "A TITLE IN DEJAVU SANS", &dir.path().join("with"))
        .unwrap();
    scaler_sim::charts::timeline_chart(&[tl], "", &dir.path().join("without")).unwrap();
    let with = dark_pixels(&dir.path().join("with.png"), 300, 5, 900, 45);
    let without = dark_pixels(&dir.path().join("without.png"), 300, 5, 900, 45);
    assert!(with > 500, "the title drew {with} dark pixels");
    assert_eq!(without, 0);
    let svg = read(dir.path(), "with.svg");
    assert!(svg.contains("A TITLE IN DEJAVU SANS") && svg.contains("time (hours)"));
}

#[test]
fn report_in_a_real_browser() {
    if std::env::var_os("SCALER_CHROMIUM").is_none() {
        crate::browser(
            Path::new("."),
            "the headless-browser test of report.html (.ci/run installs chromium and sets it)",
        );
        return;
    }
    let dir = setup();
    assert!(run_in(dir.path(), &["sweep", "s.toml", "--out", "a"]).status.success());
    let (dom, log) = crate::browser(&dir.path().join("a/report.html"), "").expect("SCALER_CHROMIUM is set");

    assert!(dom.contains("data-selftest=\"pass\""), "sorting self-test did not pass: {}", &dom[..dom.len().min(400)]);
    assert!(
        dom.contains("data-errors=\"0\""),
        "console errors: {}",
        dom.split("data-error-text=").nth(1).unwrap_or("")
    );
    assert!(!log.contains("Uncaught"), "uncaught error in the page: {log}");
    assert!(dom.matches("<svg").count() >= 4, "charts missing from the rendered page");
    assert!(dom.contains("id=\"results\"") && dom.contains("id=\"recommendation\""));
}

#[test]
fn a_sweep_can_vary_the_policy_and_its_keys() {
    let dir = setup();
    let text = SCENARIO.split("[sweep]").next().unwrap().to_string()
        + "[sweep]\nobjective = \"minimize cost subject to wait_p95_s <= 60\"\nscaler.policy = [\"threshold\", \"hpa\", \"queue\"]\n\
           scaler.hpa.target_utilization_percent = [50, 70]\nscaler.queue.target_drain_s = [30]\n";
    write(dir.path(), "p.toml", &text);
    let r = run_in(dir.path(), &["sweep", "p.toml", "--out", "p"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let results = read(&dir.path().join("p"), "results.csv");
    assert!(
        results.starts_with(
            "setting,scaler.policy,scaler.hpa.target_utilization_percent,scaler.queue.target_drain_s,status,"
        ),
        "{results}"
    );
    assert_eq!(results.lines().filter(|l| l.contains(",ok,")).count(), 6);
    // A string value is shown as itself, not as quoted TOML inside CSV quotes.
    assert!(results.lines().nth(1).unwrap().starts_with("0,threshold,50,30,ok,"), "{results}");
    assert!(!results.contains('"'), "{results}");
    let rec = read(&dir.path().join("p"), "recommendation.json");
    let rec: serde_json::Value = serde_json::from_str(&rec).unwrap();
    let policy = rec["recommended"]["params"]["scaler.policy"].as_str().unwrap();
    assert!(["threshold", "hpa", "queue"].contains(&policy), "{rec}");
    // The hpa rows differ with their target; the threshold rows do not (the key is not theirs).
    let cost_col = 1 + 3 + 1 + METRICS.iter().position(|m| *m == "cost").unwrap();
    let cost = |i: usize| results.lines().nth(1 + i).unwrap().split(',').nth(cost_col).unwrap().to_string();
    assert_eq!(cost(0), cost(1));
    assert_ne!(cost(2), cost(3));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("scaler.policy = \""), "{stdout}");
}

#[test]
fn corrupt_manifests_are_refused_with_file_and_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = |name: &str, settings: &str, shard: &str| {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        let text = format!(
            "{{\"scenario\": \"/nowhere/s.toml\", \"fingerprint\": \"00\", \"settings\": {settings}, \"shard\": {shard}}}"
        );
        write(&d, "sweep.json", &text);
        d
    };
    let err = |dirs: &[std::path::PathBuf]| scaler_sim::sweep::gather_shards(dirs).unwrap_err().to_string();
    // An index beyond its count (it used to index out of bounds).
    let e = err(&[manifest("a", "4", "[7, 2]")]);
    assert!(
        e.contains("a/sweep.json: shard[0] = 7: the shard index must be below the shard count shard[1] = 2"),
        "{e}"
    );
    // A count of 0.
    let e = err(&[manifest("b", "4", "[0, 0]")]);
    assert!(e.contains("b/sweep.json: shard[1] = 0: the shard count must be at least 1"), "{e}");
    // A huge count allocates nothing: the first missing shard is named.
    let e = err(&[manifest("c", "4", &format!("[0, {}]", usize::MAX))]);
    assert!(e.contains(&format!("shard 1/{} is missing", usize::MAX)), "{e}");
    // No settings.
    let e = err(&[manifest("d", "0", "[0, 1]")]);
    assert!(e.contains("d/sweep.json: settings = 0"), "{e}");
    // Negative or fractional numbers, a short shard array, and not JSON at all.
    for (name, settings, shard) in [("e", "-1", "[0, 1]"), ("f", "4", "[0.5, 1]"), ("g", "4", "[0]")] {
        let e = err(&[manifest(name, settings, shard)]);
        assert!(e.contains(&format!("{name}/sweep.json: not a sweep manifest")), "{e}");
    }
    let h = manifest("h", "4", "[0, 1]");
    write(&h, "sweep.json", "\u{0}\u{1}garbage");
    assert!(err(&[h]).contains("h/sweep.json: not a sweep manifest"));
    // The same index twice.
    let e = err(&[manifest("i", "4", "[1, 2]"), manifest("j", "4", "[1, 2]")]);
    assert!(e.contains("j/sweep.json: shard 1/2 is given twice"), "{e}");
}

#[test]
fn merge_refuses_a_manifest_whose_settings_differ_from_the_scenario() {
    let dir = setup();
    let shard = dir.path().join("shard");
    std::fs::create_dir_all(&shard).unwrap();
    let scenario = dir.path().join("s.toml");
    let m = serde_json::json!({ "scenario": scenario, "fingerprint": "00", "settings": 999_999, "shard": [0, 1] });
    write(&shard, "sweep.json", &m.to_string());
    write(&shard, "results.partial.csv", "");
    let r = run_in(dir.path(), &["merge", "shard", "--out", "merged"]);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("shard/sweep.json: settings = 999999: the scenario's [sweep] now has"), "{e}");
    assert!(!dir.path().join("merged").exists());
}

fn stderr(r: &std::process::Output) -> String {
    String::from_utf8_lossy(&r.stderr).into_owned()
}

/// The trace with one duration changed and its size kept.
fn trace_edited_same_size() -> String {
    let t = trace();
    let mut b = t.into_bytes();
    let at = b.len() - 2; // the last digit of the last row's duration
    b[at] = if b[at] == b'9' { b'8' } else { b[at] + 1 };
    String::from_utf8(b).unwrap()
}

#[test]
fn resume_after_an_edit_of_the_scenario_or_of_the_trace_is_refused_naming_it() {
    let dir = setup();
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "a"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let manifest = read(&dir.path().join("a"), "sweep.json");
    for key in ["\"scenario_sha256\"", "\"trace\"", "\"trace_sha256\"", "\"trace_bytes\""] {
        assert!(manifest.contains(key), "{key} missing from {manifest}");
    }
    // The scenario: a value that keeps the settings' count.
    write(dir.path(), "s.toml", &SCENARIO.replace("max_workers = 40", "max_workers = 41"));
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "a", "--resume"]);
    assert_eq!(r.status.code(), Some(2));
    let e = stderr(&r);
    assert!(e.contains("cannot resume: the scenario ") && e.contains("s.toml changed since this sweep started"), "{e}");
    assert!(e.contains("restore the scenario") && !e.contains("the trace "), "{e}");
    // Restored, it resumes.
    write(dir.path(), "s.toml", SCENARIO);
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "a", "--resume"]);
    assert!(r.status.success(), "{}", stderr(&r));
    // The trace: one duration changed, the same size (a size fingerprint would let it through).
    let edited = trace_edited_same_size();
    assert_eq!(edited.len(), trace().len());
    assert_ne!(edited, trace());
    write(dir.path(), "t.csv", &edited);
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "a", "--resume"]);
    assert_eq!(r.status.code(), Some(2));
    let e = stderr(&r);
    assert!(e.contains("cannot resume: the trace ") && e.contains("t.csv changed since this sweep started"), "{e}");
    assert!(e.contains("(content hash ") && e.contains("restore the trace"), "{e}");
    // A manifest from before change detection is refused, saying so.
    write(dir.path(), "t.csv", &trace());
    let legacy: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let legacy = serde_json::json!({
        "scenario": legacy["scenario"], "fingerprint": "0123456789abcdef",
        "settings": legacy["settings"], "shard": legacy["shard"],
    });
    write(&dir.path().join("a"), "sweep.json", &legacy.to_string());
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "a", "--resume"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("predates change detection"), "{}", stderr(&r));
}

#[test]
fn merge_checks_every_shard_against_the_scenario_and_trace_as_they_are_now() {
    let dir = setup();
    for i in 0..2 {
        let r = run_in(dir.path(), &["sweep", "s.toml", "--out", &format!("shard{i}"), "--shard", &format!("{i}/2")]);
        assert!(r.status.success(), "{}", stderr(&r));
    }
    let merge = |out: &str| run_in(dir.path(), &["merge", "shard0", "shard1", "--out", out]);
    // The scenario edited after the shards ran: the shards agree with each other, not with it.
    write(dir.path(), "s.toml", &SCENARIO.replace("max_workers = 40", "max_workers = 41"));
    let r = merge("m1");
    assert_eq!(r.status.code(), Some(2));
    let e = stderr(&r);
    assert!(e.contains("cannot merge: the scenario ") && e.contains("s.toml changed since this sweep started"), "{e}");
    assert!(!dir.path().join("m1").exists());
    write(dir.path(), "s.toml", SCENARIO);
    // The trace edited, its size kept.
    write(dir.path(), "t.csv", &trace_edited_same_size());
    let r = merge("m2");
    assert_eq!(r.status.code(), Some(2));
    let e = stderr(&r);
    assert!(e.contains("cannot merge: the trace ") && e.contains("t.csv changed since this sweep started"), "{e}");
    assert!(!dir.path().join("m2").exists());
    write(dir.path(), "t.csv", &trace());
    // A torn row in the middle of a shard's results: refused with the file and the line.
    let partial = dir.path().join("shard1/results.partial.csv");
    let good = std::fs::read_to_string(&partial).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    assert!(lines.len() >= 4, "{good}");
    let torn = format!("{}\n{}{}\n{}\n", lines[0], &lines[1][..lines[1].len() / 2], lines[2], lines[3..].join("\n"));
    std::fs::write(&partial, &torn).unwrap();
    let r = merge("m3");
    assert_eq!(r.status.code(), Some(2));
    let e = stderr(&r);
    assert!(e.contains("shard1/results.partial.csv:2: ") && e.contains("before the last"), "{e}");
    // A torn last row: the shard is unfinished.
    std::fs::write(&partial, &good[..good.len() - 5]).unwrap();
    let r = merge("m4");
    assert_eq!(r.status.code(), Some(2));
    let e = stderr(&r);
    assert!(e.contains(&format!("shard1/results.partial.csv:{}: has no line end", lines.len())), "{e}");
    assert!(e.contains("--resume"), "{e}");
    // Resumed, the shard merges.
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "shard1", "--shard", "1/2", "--resume"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(std::fs::read_to_string(&partial).unwrap().lines().count(), lines.len());
    let r = merge("m5");
    assert!(r.status.success(), "{}", stderr(&r));
}

#[test]
fn a_torn_last_row_is_redone_on_resume_and_the_results_equal_a_clean_run() {
    let dir = setup();
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "clean"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let clean = read(&dir.path().join("clean"), "results.csv");
    let good = read(&dir.path().join("clean"), "results.partial.csv");
    let lines: Vec<&str> = good.lines().collect();
    let keep = lines[..4].join("\n") + "\n";
    let cases = [
        // Killed mid-row: no line end.
        ("cut", format!("{keep}{}", &lines[4][..lines[4].len() / 2])),
        // Killed mid-row, then the old two-write bug glued the next row onto it.
        ("glued", format!("{keep}{}{}\n", &lines[4][..lines[4].len() / 2], lines[5])),
        // Killed while the header was written.
        ("header", lines[0][..10].to_string()),
    ];
    for (name, text) in cases {
        let out = dir.path().join(name);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(dir.path().join("clean/sweep.json"), out.join("sweep.json")).unwrap();
        write(&out, "results.partial.csv", &text);
        let r = run_in(dir.path(), &["sweep", "s.toml", "--out", name, "--resume"]);
        assert!(r.status.success(), "{name}: {}", stderr(&r));
        assert_eq!(read(&out, "results.csv"), clean, "{name}");
        // The torn row was cut: every row of the partial file is whole, each setting once.
        let partial = read(&out, "results.partial.csv");
        let fields = lines[0].split(',').count();
        assert_eq!(partial.lines().count(), lines.len(), "{name}: {partial}");
        assert!(partial.lines().all(|l| l.split(',').count() == fields), "{name}: {partial}");
    }
}

#[test]
fn the_torn_row_notice_is_returned_not_printed() {
    use scaler_formats::scenario::{self, Overrides};
    use scaler_formats::tomldoc::Doc;
    let dir = setup();
    let s = dir.path().join("s.toml");
    let doc = Doc::read(&s).unwrap();
    let base = scenario::from_doc(&doc, &Overrides::default()).unwrap();
    let spec = scaler_sim::sweep::parse_spec(&doc, &base).unwrap();
    let (trace, now) = scaler_sim::sweep::load_trace(&doc, &spec, &base).unwrap();
    let mut req = scaler_sim::sweep::SweepRequest {
        scenario: s.clone(),
        out: dir.path().join("lib"),
        resume: false,
        shard: (0, 1),
        threads: 1,
        progress: false,
        overrides: Default::default(),
    };
    let first = scaler_sim::sweep::run_shard_report(&req, &doc, &spec, &trace, &now, &mut |_, _| {}).unwrap();
    assert!(first.notices.is_empty() && first.results.len() == spec.settings());
    let partial = req.out.join("results.partial.csv");
    let text = std::fs::read_to_string(&partial).unwrap();
    std::fs::write(&partial, &text[..text.len() - 3]).unwrap();
    req.resume = true;
    let mut starts = Vec::new();
    let again =
        scaler_sim::sweep::run_shard_report(&req, &doc, &spec, &trace, &now, &mut |d, t| starts.push((d, t))).unwrap();
    assert_eq!(starts[0], (spec.settings() - 1, spec.settings()), "only the torn setting runs again");
    assert_eq!(again.results, first.results);
    assert_eq!(again.notices.len(), 1, "{:?}", again.notices);
    let n = &again.notices[0];
    assert!(n.contains(&format!("results.partial.csv:{}: dropped a torn last row", 1 + spec.settings())), "{n}");
    assert!(n.contains("its setting runs again"), "{n}");
}

#[test]
fn json_output_and_the_status_of_a_sweep_no_setting_satisfies() {
    let dir = setup();
    // Feasible: status 0; standard output is exactly one JSON object, recommendation.json's plus
    // the files written, and the text report is not printed.
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "ok", "--json", "--threads", "1"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let text = String::from_utf8(r.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let file: serde_json::Value = serde_json::from_str(&read(&dir.path().join("ok"), "recommendation.json")).unwrap();
    assert_eq!(v["feasible"], serde_json::Value::Bool(true));
    assert_eq!(v["recommended"], file["recommended"]);
    assert!(v["files"].as_array().unwrap().iter().any(|f| f.as_str().unwrap().ends_with("results.csv")), "{v}");
    // No setting can meet a 0 s p95 wait with a 20 s provisioning delay: everything is still
    // written, and the status is 3.
    write(dir.path(), "s.toml", &SCENARIO.replace("wait_p95_s <= 20", "wait_p95_s < 0"));
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "none", "--threads", "1"]);
    assert_eq!(r.status.code(), Some(3), "{}", stderr(&r));
    assert!(stderr(&r).contains("no setting meets every constraint of the objective: exit status 3"), "{}", stderr(&r));
    assert!(dir.path().join("none/recommendation.json").is_file() && dir.path().join("none/report.html").is_file());
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "none", "--json", "--threads", "1"]);
    assert_eq!(r.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_str(&String::from_utf8(r.stdout).unwrap()).unwrap();
    assert_eq!(v["feasible"], serde_json::Value::Bool(false));
}

#[test]
fn a_key_with_dots_is_swept_and_set_by_quoting_it() {
    // Knative's annotations carry dots: `scaler.kpa."autoscaling.knative.dev/..."`, in the
    // [sweep] table as in --set, as TOML quotes a key part.
    let dir = setup();
    let kpa = SCENARIO.split("[scaler]").next().unwrap().to_string()
        + "[scaler]\npolicy = \"kpa\"\nmin_workers = 0\nmax_workers = 40\nmetrics_window = 60\nevaluation_interval = 2\n\
           [scaler.kpa]\n\"container-concurrency\" = 1\n\
           [sweep]\nobjective = \"minimize cost\"\n\
           scaler.kpa.\"autoscaling.knative.dev/scale-down-delay\" = [\"0s\", \"10m\"]\n";
    write(dir.path(), "k.toml", &kpa);
    let r = run_in(dir.path(), &["sweep", "k.toml", "--out", "k", "--threads", "1"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let results = read(&dir.path().join("k"), "results.csv");
    let header = results.lines().next().unwrap();
    assert!(
        header.starts_with("setting,\"scaler.kpa.\"\"autoscaling.knative.dev/scale-down-delay\"\"\",status,"),
        "{header}"
    );
    let costs: Vec<&str> = results.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
    let rows: Vec<&str> = results.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{results}");
    assert_ne!(
        rows[0].split(',').skip(3).collect::<Vec<_>>(),
        rows[1].split(',').skip(3).collect::<Vec<_>>(),
        "{costs:?}"
    );
    // plot reads the quoted header back.
    let r = run_in(dir.path(), &["plot", "k"]);
    assert!(r.status.success(), "{}", stderr(&r));
    // --set takes the same key.
    let r = run_in(
        dir.path(),
        &["run", "k.toml", "--out", "r", "--set", "scaler.kpa.\"autoscaling.knative.dev/scale-down-delay\"=\"10m\""],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let r = run_in(
        dir.path(),
        &["run", "k.toml", "--out", "r2", "--set", "scaler.kpa.\"autoscaling.knative.dev/scale-down-delay=1"],
    );
    assert!(stderr(&r).contains("a quoted part of the key is not closed"), "{}", stderr(&r));
}
