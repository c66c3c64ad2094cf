//! A recommendation to trust: constraints that bind (or the warning that they do not), the
//! slack and both values of every change, limits that are not tuned unless asked, and the
//! held-out check (`[sweep] holdout`).

use std::path::Path;
use std::sync::Arc;

use scaler_model::trace::{LoadedTrace, RateExpansion, RateRow, Spread, Task};
use scaler_model::METRICS;
use scaler_sim::sweep::holdout::split;
use scaler_sim::sweep::{binding_warnings, change_text, parse_objective, slack_text, SettingResult};

use crate::run_in;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn p95(index: usize, v: f64) -> SettingResult {
    let mut metrics = vec![0.0; METRICS.len()];
    metrics[METRICS.iter().position(|m| *m == "wait_p95_s").unwrap()] = v;
    SettingResult { index, status: "ok".into(), metrics, spread: Vec::new() }
}

#[test]
fn a_constraint_that_binds_for_no_setting_or_for_all_is_warned_about() {
    let o = parse_objective("minimize cost subject to wait_p95_s <= 5").unwrap();
    let invalid = SettingResult { index: 9, status: "invalid: x".into(), metrics: Vec::new(), spread: Vec::new() };
    for (waits, want) in [
        (vec![1.0, 2.0, 5.0], Some("binds for no setting: all 3 settings that ran meet it")),
        (vec![6.0, 7.5], Some("binds for all settings: none of the 2 settings that ran meets it")),
        (vec![1.0, 6.0], None),
        (vec![], None),
    ] {
        let mut results: Vec<SettingResult> = waits.iter().enumerate().map(|(i, &w)| p95(i, w)).collect();
        results.push(invalid.clone());
        let w = binding_warnings(&results, &o);
        match want {
            Some(text) => {
                assert_eq!(w.len(), 1, "{waits:?}: {w:?}");
                assert!(w[0].contains(&format!("the constraint `wait_p95_s <= 5` {text}")), "{w:?}");
                assert!(w[0].contains("wait_p95_s ranges from"), "{w:?}");
            }
            None => assert!(w.is_empty(), "{waits:?}: {w:?}"),
        }
    }
    // One warning per constraint that does not choose, in order.
    let two = parse_objective("minimize cost subject to wait_p95_s <= 5 and wait_p95_s >= 100").unwrap();
    let w = binding_warnings(&[p95(0, 1.0), p95(1, 2.0)], &two);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains("`wait_p95_s <= 5` binds for no setting") && w[1].contains("`wait_p95_s >= 100` binds for all")
    );
}

#[test]
fn a_change_shows_both_values_and_never_n_a() {
    for (base, new, want) in [
        (0.0, 11.513, "from 0 (0 -> 11.51)"),
        (68.28, 58.92, "-14% (68.28 -> 58.92)"),
        (2.0, 3.0, "+50% (2.00 -> 3.00)"),
        (0.0, 0.0, "unchanged (0 -> 0)"),
        (0.0315, 0.0386, "+23% (0.0315 -> 0.0386)"),
        (485.2, 485.0, "-0.0% (485 -> 485)"),
        (100.0, 99.4, "-0.6% (100 -> 99.40)"),
        (1e-300, 1e300, "changed (0 -> 1000000"),
    ] {
        let t = change_text(base, new);
        assert!(t.starts_with(want), "{base} -> {new}: {t}");
        assert!(!t.contains("n/a"));
    }
}

#[test]
fn the_slack_of_a_constraint_is_named() {
    for (objective, v, want) in [
        ("minimize cost subject to wait_p95_s <= 5", 4.5, "wait_p95_s 4.50 <= 5 (slack 0.5, 10 %)"),
        ("minimize cost subject to wait_p95_s <= 5", 7.2, "wait_p95_s 7.20 <= 5 (broken by 2.20, 44 %)"),
        (
            "minimize cost subject to slo_violation_ratio < 0.05",
            0.04,
            "slo_violation_ratio 0.04 < 0.05 (slack 0.01, 20 %)",
        ),
        ("minimize cost subject to mean_workers >= 0", 3.0, "mean_workers 3.00 >= 0 (slack 3.00)"),
    ] {
        let o = parse_objective(objective).unwrap();
        assert_eq!(slack_text(&o.constraints[0], v), want);
    }
}

const SCENARIO: &str = "[trace]\npath = \"t.csv\"\n\
[cluster]\nprovision_delay_s = 20\nprice_per_worker_hour = 1\nslo_wait_s = 10\n\
[scaler]\nmin_workers = 1\nmax_workers = 40\ncooldown_period = 60\nmetrics_window = 60\nevaluation_interval = 15\n";

/// 1500 tasks; quiet then busy stretches of 250 tasks; `heavy_end` makes the last quarter's
/// tasks eight times longer.
fn trace(heavy_end: bool) -> (String, Vec<u64>) {
    let mut t = String::from("arrival_s,duration_s\n");
    let mut x: u64 = 11;
    let mut at = 0u64;
    let mut arrivals = Vec::new();
    for i in 0..1500u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        at += if (i / 250) % 2 == 0 { 3000 } else { 600 };
        let d = (2 + (x >> 40) % 25) * if heavy_end && i >= 1100 { 8 } else { 1 };
        t.push_str(&format!("{}.{:03},{d}\n", at / 1000, at % 1000));
        arrivals.push(at);
    }
    (t, arrivals)
}

fn sweep_dir(sweep: &str, heavy_end: bool) -> (tempfile::TempDir, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", &format!("{SCENARIO}[sweep]\n{sweep}"));
    let (t, arrivals) = trace(heavy_end);
    write(dir.path(), "t.csv", &t);
    (dir, arrivals)
}

const AXES: &str = "scaler.scale_up_threshold = [0.6, 0.8]\nscaler.cooldown_period = [30, 120]\n";

#[test]
fn max_workers_is_a_limit_not_swept_unless_asked() {
    let (dir, _) = sweep_dir(
        &format!("objective = \"minimize cost subject to wait_p95_s <= 20\"\n{AXES}scaler.max_workers = [10, 40]\n"),
        false,
    );
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("s.toml:17:8: sweep key `scaler.max_workers` is a limit, not a tuning knob"), "{err}");
    assert!(err.contains("tune_limits = [\"scaler.max_workers\"]"), "{err}");
    assert!(!dir.path().join("o").exists(), "nothing written");
    // Asked for, it is swept.
    let text = std::fs::read_to_string(dir.path().join("s.toml")).unwrap();
    write(dir.path(), "s.toml", &text.replace("[sweep]\n", "[sweep]\ntune_limits = [\"scaler.max_workers\"]\n"));
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("o/results.csv")).unwrap().lines().count(), 1 + 8);
    // A name that is not a limit, or not a list, is refused at its value.
    for (line, want) in [
        (
            "tune_limits = [\"scaler.min_workers\"]",
            "s.toml:14:16: sweep.tune_limits: `scaler.min_workers` is not a limit (the limits are scaler.max_workers, scaler.arc.max_runners,",
        ),
        ("tune_limits = \"scaler.max_workers\"", "s.toml:14:15: sweep.tune_limits must be a list"),
    ] {
        write(dir.path(), "s.toml", &format!("{SCENARIO}[sweep]\n{line}\n{AXES}"));
        let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "p"]);
        assert_eq!(r.status.code(), Some(2), "{line}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(want), "{line}: {err}");
    }
}

#[test]
fn a_bad_holdout_is_refused_at_its_value() {
    for (value, want) in [
        ("0", "s.toml:14:11: sweep.holdout = 0: sweep.holdout must be a number between 0 and 1 (exclusive)"),
        ("1", "sweep.holdout = 1: sweep.holdout must be a number between 0 and 1"),
        ("1.5", "sweep.holdout = 1.5:"),
        ("-0.25", "sweep.holdout = -0.25:"),
        ("\"25%\"", "s.toml:14:11: sweep.holdout must be a number between 0 and 1"),
    ] {
        let (dir, _) = sweep_dir(&format!("holdout = {value}\n{AXES}"), false);
        let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
        assert_eq!(r.status.code(), Some(2), "{value}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(want), "{value}: {err}");
        assert!(!dir.path().join("o").exists());
    }
}

#[test]
fn a_task_trace_is_split_at_its_span_and_the_held_out_part_rebased() {
    let tasks: Arc<[Task]> = [1_000u64, 2_000, 5_000, 7_999, 8_000, 9_000, 11_000]
        .iter()
        .map(|&a| Task { arrival_ms: a, duration_ms: a / 1000 })
        .collect();
    // Span 1 s to 11 s: the last 0.3 starts at 1 + 0.7 * 10 = 8 s.
    let s = split(&LoadedTrace::Tasks(tasks, Default::default()), 0.3);
    assert_eq!((s.start_ms, s.split_ms, s.end_ms), (1_000, 8_000, 11_000));
    let (LoadedTrace::Tasks(a, _), LoadedTrace::Tasks(b, _)) = (&s.tuning, &s.held_out) else { panic!("tasks") };
    assert_eq!(a.iter().map(|t| t.arrival_ms).collect::<Vec<_>>(), [1_000, 2_000, 5_000, 7_999]);
    assert_eq!(b.iter().map(|t| (t.arrival_ms, t.duration_ms)).collect::<Vec<_>>(), [(0, 8), (1_000, 9), (3_000, 11)]);
}

#[test]
fn a_rate_trace_is_split_between_rows() {
    let rows: Arc<[RateRow]> = (0..8u64)
        .map(|i| RateRow { ts_ms: i * 60_000, arrivals: i + 1, mean_ms: Some(1000), interval_ms: 60_000 })
        .collect();
    let e = RateExpansion { spread: Spread::Even, duration: None };
    // Span 0 to 480 s: 0.7 of it is 336 s, inside the row at 300 s, which goes to the held-out part.
    let s = split(&LoadedTrace::Rates(rows, e), 0.3);
    assert_eq!((s.start_ms, s.split_ms, s.end_ms), (0, 300_000, 480_000));
    let (LoadedTrace::Rates(a, _), LoadedTrace::Rates(b, _)) = (&s.tuning, &s.held_out) else { panic!("rates") };
    assert_eq!(a.len(), 5);
    assert_eq!(b.iter().map(|r| (r.ts_ms, r.arrivals)).collect::<Vec<_>>(), [(0, 6), (60_000, 7), (120_000, 8)]);
    assert_eq!(s.tuning.task_count() + s.held_out.task_count(), 36);
}

fn json(dir: &Path, out: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(out).join("recommendation.json")).unwrap()).unwrap()
}

#[test]
fn a_holdout_tunes_on_the_first_part_and_checks_on_the_rest() {
    let objective = "objective = \"minimize cost subject to wait_p95_s <= 20\"\n";
    let (dir, arrivals) = sweep_dir(&format!("{objective}holdout = 0.25\n{AXES}"), false);
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (first, last) = (arrivals[0], *arrivals.last().unwrap());
    let cut = first + ((last - first) as f64 * 0.75).floor() as u64;
    let tuned = arrivals.iter().filter(|&&a| a < cut).count();
    // Every setting ran on the tasks before the cut only.
    let results = std::fs::read_to_string(dir.path().join("o/results.csv")).unwrap();
    let tasks_col = 1 + 2 + 1;
    for l in results.lines().skip(1) {
        assert_eq!(l.split(',').nth(tasks_col).unwrap(), tuned.to_string(), "{l}");
    }
    let v = json(dir.path(), "o");
    for who in ["recommended", "baseline"] {
        let h = &v[who]["holdout"];
        assert_eq!(h["share"], 0.25, "{v}");
        assert_eq!(h["from_s"].as_f64().unwrap(), cut as f64 / 1000.0);
        assert_eq!(h["to_s"].as_f64().unwrap(), last as f64 / 1000.0);
        assert_eq!(h["tasks"].as_u64().unwrap() as usize, arrivals.len() - tuned);
        let names: Vec<&String> = h["metrics"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["wait_p95_s", "cost"], "cost and the constraint's metric, in METRICS order");
        let p95 = h["metrics"]["wait_p95_s"].as_f64().unwrap();
        assert_eq!(h["meets_constraints"], p95 <= 20.0);
    }
    assert_eq!(
        v["baseline"]["metrics"]["tasks"].as_f64().unwrap() as usize,
        tuned,
        "the baseline is tuned on the same part"
    );
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("held out: the last 25 % of the trace"), "{stdout}");
    assert!(stdout.contains("on the held-out part:\n  recommended: wait_p95_s "), "{stdout}");
    // The held-out figures are those of a run on the held-out tasks, rebased: the baseline's
    // scenario run on a trace of them gives the same wait_p95_s.
    let mut held = String::from("arrival_s,duration_s\n");
    let (t, _) = trace(false);
    for l in t.lines().skip(1) {
        let (a, d) = l.split_once(',').unwrap();
        let ms = (a.parse::<f64>().unwrap() * 1000.0).round() as u64;
        if ms >= cut {
            let r = ms - cut;
            held.push_str(&format!("{}.{:03},{d}\n", r / 1000, r % 1000));
        }
    }
    write(dir.path(), "held.csv", &held);
    let r = run_in(dir.path(), &["run", "s.toml", "--trace", "held.csv", "--out", "h"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("h/summary.json")).unwrap()).unwrap();
    assert_eq!(s["wait_p95_s"], v["baseline"]["holdout"]["metrics"]["wait_p95_s"]);
    assert_eq!(s["cost"], v["baseline"]["holdout"]["metrics"]["cost"]);
    // Same inputs, same bytes.
    let again = run_in(dir.path(), &["sweep", "s.toml", "--out", "o2"]);
    assert!(again.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("o/recommendation.json")).unwrap(),
        std::fs::read(dir.path().join("o2/recommendation.json")).unwrap()
    );
}

#[test]
fn a_recommendation_that_breaks_the_constraint_on_the_held_out_part_is_warned_about() {
    // The last quarter's tasks run eight times longer: what was cheapest and fast enough on
    // the first part is not on the last.
    let objective = "objective = \"minimize cost subject to wait_p95_s <= 20\"\n";
    let (dir, _) = sweep_dir(&format!("{objective}holdout = 0.25\n{AXES}"), true);
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v = json(dir.path(), "o");
    assert_eq!(v["feasible"], true, "it met the constraint on the tuning part");
    assert_eq!(v["recommended"]["holdout"]["meets_constraints"], false, "{v}");
    let warnings: Vec<&str> = v["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    let w = warnings.iter().find(|w| w.contains("held-out")).unwrap_or_else(|| panic!("{warnings:?}"));
    assert!(w.starts_with("the recommendation breaks `wait_p95_s <= 20` (wait_p95_s = "), "{w}");
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains(&format!("warning: {w}")), "{stdout}");
    assert!(stdout.contains("BREAKS a constraint"), "{stdout}");
    // The report shows the held-out check and the warning.
    let html = std::fs::read_to_string(dir.path().join("o/report.html")).unwrap();
    assert!(
        html.contains("<p id=\"holdout\">On the held-out last 25 % of the trace"),
        "no held-out check in the report"
    );
    assert!(
        html.contains("<tr><td>meets the constraints</td>")
            && html.contains("<b>Warning:</b> the recommendation breaks")
    );
}

#[test]
fn shards_of_a_sweep_with_a_holdout_merge_into_the_files_of_one_machine() {
    let objective = "objective = \"minimize cost subject to wait_p95_s <= 60\"\n";
    let (dir, _) = sweep_dir(&format!("{objective}holdout = 0.4\n{AXES}"), false);
    let ok = |args: &[&str]| {
        let r = run_in(dir.path(), args);
        assert!(r.status.success(), "{args:?}: {}", String::from_utf8_lossy(&r.stderr));
    };
    ok(&["sweep", "s.toml", "--out", "one"]);
    ok(&["sweep", "s.toml", "--out", "s0", "--shard", "0/2"]);
    ok(&["sweep", "s.toml", "--out", "s1", "--shard", "1/2"]);
    ok(&["merge", "s0", "s1", "--out", "merged"]);
    for f in ["results.csv", "recommendation.json", "baseline_timeline.csv", "recommended_timeline.csv"] {
        assert_eq!(
            std::fs::read(dir.path().join("one").join(f)).unwrap(),
            std::fs::read(dir.path().join("merged").join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(json(dir.path(), "merged")["recommended"]["holdout"]["share"], 0.4);
}

#[test]
fn a_holdout_that_leaves_a_part_without_tasks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", &format!("{SCENARIO}[sweep]\nholdout = 0.5\n{AXES}"));
    write(dir.path(), "t.csv", "arrival_s,duration_s\n5,1\n5,2\n");
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("sweep.holdout = 0.5: cutting the trace at 5 s (of 5 s to 5 s) leaves 0 task(s) to tune on and 2 to check on"), "{err}");
    assert!(!dir.path().join("o/results.partial.csv").exists() && !dir.path().join("o/sweep.json").exists());
}

/// The shipped default scenario's constraint binds: some setting fails it, the
/// recommendation meets it, and no warning is printed.
#[test]
fn the_quickstart_constraint_binds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("qs");
    let r = run_in(&root, &["sweep", "sims/quickstart.toml", "--out", out.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("recommendation.json")).unwrap()).unwrap();
    let o = parse_objective(v["objective"].as_str().unwrap()).unwrap();
    assert_eq!(o.constraints.len(), 1);
    assert_eq!(v["feasible"], true);
    assert!(v.get("warnings").is_none(), "{}", v["warnings"]);
    let results = std::fs::read_to_string(out.join("results.csv")).unwrap();
    // The metrics are the last columns (a swept table value holds commas).
    let from_end = METRICS.len() - o.constraints[0].metric;
    let bound = o.constraints[0].bound;
    let value = |l: &str| {
        let f: Vec<&str> = l.split(',').collect();
        f[f.len() - from_end].parse::<f64>().unwrap()
    };
    assert!(
        results.lines().next().unwrap().split(',').rev().nth(from_end - 1) == Some(METRICS[o.constraints[0].metric])
    );
    let failing = results.lines().skip(1).filter(|l| value(l) > bound).count();
    assert!(failing > 0 && failing < results.lines().count() - 1, "{failing} settings fail it");
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(!stdout.contains("warning") && !stdout.contains("n/a"), "{stdout}");
}

/// What the review of the merged features found, held fixed: a warm-up that measures nothing,
/// a baseline better than the recommendation, a policy's own limit, a bootstrap that cannot
/// resample, and a held-out check on the same `@qNN` value as the tuning.
#[test]
fn review_findings_on_trust_stay_fixed() {
    let objective = "objective = \"minimize cost subject to wait_p95_s <= 20\"\n";
    let (dir, _) = sweep_dir(&format!("{objective}{AXES}"), false);
    let d = dir.path();
    // A warm-up longer than the trace: no task measured, said so instead of "binds for no setting".
    let r = run_in(d, &["sweep", "s.toml", "--out", "w", "--set", "cluster.warmup_s=3000"]);
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
    let w = json(d, "w")["warnings"].clone();
    assert!(w[0].as_str().unwrap().contains("covers every task of the trace: no task was measured"), "{w}");
    assert_eq!(w.as_array().unwrap().len(), 1, "{w}");
    // The scenario as written (up 0.9, down 0.4) meets the constraint and is cheaper than the
    // only setting swept (up 0.5, down 0.1): the recommendation says so.
    let text = format!(
        "{}[sweep]\nobjective = \"minimize cost subject to wait_p95_s <= 1000\"\nscaler.scale_up_threshold = [0.5]\nscaler.scale_down_threshold = [0.1]\n",
        SCENARIO.replace("cooldown_period = 60\n", "cooldown_period = 60\nscale_up_threshold = 0.9\nscale_down_threshold = 0.4\n")
    );
    write(d, "b.toml", &text);
    let r = run_in(d, &["sweep", "b.toml", "--out", "b"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rec = json(d, "b");
    let (base, best) =
        (rec["baseline"]["metrics"]["cost"].as_f64().unwrap(), rec["recommended"]["metrics"]["cost"].as_f64().unwrap());
    assert!(base < best, "the case needs a cheaper baseline: {base} vs {best}");
    let w = rec["warnings"].to_string();
    assert!(w.contains("the scenario as written meets every constraint and has a better cost"), "{w}");
    // A policy's own maximum is a limit too.
    write(
        d,
        "arc.toml",
        &format!("{SCENARIO}[scaler.arc]\nmax_runners = 20\n[sweep]\n{objective}scaler.arc.max_runners = [10, 20]\n")
            .replace("evaluation_interval = 15\n", "evaluation_interval = 15\npolicy = \"arc\"\n"),
    );
    let r = run_in(d, &["sweep", "arc.toml", "--out", "never"]);
    assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("sweep key `scaler.arc.max_runners` is a limit"));
    // A block bootstrap of a trace within one block cannot resample it: the notice says so.
    let text = std::fs::read_to_string(d.join("s.toml")).unwrap().replace(
        "path = \"t.csv\"\n",
        "path = \"t.csv\"\nresample = { method = \"block_bootstrap\", block_s = 86400 }\n",
    );
    write(d, "bb.toml", &text.replace("[sweep]\n", "[sweep]\nseeds = [1, 2]\n"));
    let r = run_in(d, &["sweep", "bb.toml", "--out", "bb"]);
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
    let n = json(d, "bb")["seed_notice"].to_string();
    assert!(n.contains("lies within one block of [trace] resample's block_s = 86400 s"), "{n}");
    // The held-out check with seeds judges a `@q100` constraint on the worst seed, as the
    // tuning does: against a bound between the mean and the worst, the mean would pass.
    let text = std::fs::read_to_string(d.join("s.toml"))
        .unwrap()
        .replace("path = \"t.csv\"\n", "path = \"t.csv\"\nresample = { method = \"jitter\", resolution_s = 60 }\n");
    let q = |bound: f64| {
        text.replace("[sweep]\n", "[sweep]\nseeds = [1, 2, 3]\nholdout = 0.5\n").replace(
            "objective = \"minimize cost subject to wait_p95_s <= 20\"",
            &format!("objective = \"minimize cost subject to wait_p95_s@q100 <= {bound}\""),
        )
    };
    write(d, "q.toml", &q(1e9));
    let r = run_in(d, &["sweep", "q.toml", "--out", "q"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // Each seed's held-out p95 of the baseline, by `run` on the held-out part rebased to 0,
    // as the sweep runs it.
    let from_ms = (json(d, "q")["baseline"]["holdout"]["from_s"].as_f64().unwrap() * 1000.0).round() as u64;
    let mut held = String::from("arrival_s,duration_s\n");
    for line in std::fs::read_to_string(d.join("t.csv")).unwrap().lines().skip(1) {
        let (at, dur) = line.split_once(',').unwrap();
        let at_ms = (at.parse::<f64>().unwrap() * 1000.0).round() as u64;
        if at_ms >= from_ms {
            let r = at_ms - from_ms;
            held.push_str(&format!("{}.{:03},{dur}\n", r / 1000, r % 1000));
        }
    }
    write(d, "held.csv", &held);
    let mut p95s = Vec::new();
    for seed in ["1", "2", "3"] {
        let out = format!("h{seed}");
        let r = run_in(d, &["run", "q.toml", "--trace", "held.csv", "--seed", seed, "--out", &out]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(&out).join("summary.json")).unwrap()).unwrap();
        p95s.push(summary["wait_p95_s"].as_f64().unwrap());
    }
    let mean = p95s.iter().sum::<f64>() / 3.0;
    let worst = p95s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(worst > mean, "the seeds must differ on the held-out part: {p95s:?}");
    let held_mean = json(d, "q")["baseline"]["holdout"]["metrics"]["wait_p95_s"].as_f64().unwrap();
    assert!((held_mean - mean).abs() < 1e-6, "held-out mean {held_mean} against the runs' {mean}");
    // A bound between the mean and the worst seed: the mean meets it, the worst does not.
    write(d, "q.toml", &q((mean + worst) / 2.0));
    let r = run_in(d, &["sweep", "q.toml", "--out", "q2"]);
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(json(d, "q2")["baseline"]["holdout"]["meets_constraints"], false, "judged on the mean");
}

#[test]
fn a_run_with_a_warm_up_says_how_many_tasks_it_measured() {
    let (dir, arrivals) = sweep_dir(AXES, false);
    let d = dir.path();
    let r = run_in(d, &["run", "s.toml", "--set", "cluster.warmup_s=600", "--out", "w"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let measured = arrivals.iter().filter(|&&a| a >= 600_000).count();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains(&format!("  measured            {measured} tasks after the 600 s warm-up")), "{stdout}");
    let r = run_in(d, &["run", "s.toml", "--out", "plain"]);
    assert!(!String::from_utf8_lossy(&r.stdout).contains("measured"), "no line without a warm-up");
}
