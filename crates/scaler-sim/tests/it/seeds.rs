//! Seeds that mean something: `[trace] resample` in `run` and `sweep`, the spread columns
//! of a multi-seed `results.csv` (only then), `@qNN` constraints, the spread in
//! `recommendation.json` and on the terminal, the notice for seeds that change nothing, and
//! shards merged equal to one machine with several seeds.

use std::path::Path;

use scaler_model::METRICS;
use scaler_sim::sweep::spread::percentile;
use scaler_sim::sweep::{parse_objective, recommend, SettingResult};

use crate::run_in;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn ok(r: &std::process::Output) {
    assert!(r.status.success(), "{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
}

fn at(name: &str) -> usize {
    METRICS.iter().position(|m| *m == name).unwrap()
}

/// Bursts and lulls, arrivals recorded to the second.
fn trace() -> String {
    crate::bursty_trace(5, 900, 150, [2500, 500], true)
}

fn scenario(trace_keys: &str, sweep: &str) -> String {
    format!(
        "[trace]\npath = \"t.csv\"\nseed = 1\n{trace_keys}\n[cluster]\nprovision_delay_s = 20\nslo_wait_s = 10\n\
         [scaler]\nmin_workers = 1\nmax_workers = 30\ncooldown_period = 60\nmetrics_window = 60\nevaluation_interval = 15\n{sweep}"
    )
}

const SWEEP_3: &str = "[sweep]\nseeds = [1, 2, 3]\nobjective = \"minimize cost subject to wait_p95_s <= 600\"\n\
                       scaler.scale_up_threshold = [0.6, 0.8]\nscaler.cooldown_period = [30, 120]\n";

fn setup(trace_keys: &str, sweep: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.csv", &trace());
    write(dir.path(), "s.toml", &scenario(trace_keys, sweep));
    dir
}

#[test]
fn run_with_resample_changes_the_workload_with_the_seed_and_without_it_does_not() {
    let dir = setup("", "");
    for (name, seed) in [("a1", "1"), ("a2", "2")] {
        ok(&run_in(dir.path(), &["run", "s.toml", "--out", name, "--seed", seed]));
    }
    assert_eq!(read(&dir.path().join("a1"), "timeline.csv"), read(&dir.path().join("a2"), "timeline.csv"));
    write(dir.path(), "s.toml", &scenario("resample = \"jitter\"", ""));
    for (name, seed) in [("j1", "1"), ("j1b", "1"), ("j2", "2")] {
        ok(&run_in(dir.path(), &["run", "s.toml", "--out", name, "--seed", seed]));
    }
    let (j1, j1b, j2) = (
        read(&dir.path().join("j1"), "summary.json"),
        read(&dir.path().join("j1b"), "summary.json"),
        read(&dir.path().join("j2"), "summary.json"),
    );
    assert_eq!(j1, j1b, "the same seed gives byte-identical outputs");
    assert_ne!(j1, j2, "another seed resamples the workload");
    let tasks = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["tasks"].as_u64().unwrap();
    assert_eq!((tasks(&j1), tasks(&j2)), (900, 900), "jitter keeps every task");
    write(dir.path(), "s.toml", &scenario("resample = { method = \"block_bootstrap\", block_s = 300 }", ""));
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "b1", "--seed", "1"]));
    ok(&run_in(dir.path(), &["run", "s.toml", "--out", "b2", "--seed", "2"]));
    assert_ne!(read(&dir.path().join("b1"), "summary.json"), read(&dir.path().join("b2"), "summary.json"));
}

#[test]
fn a_multi_seed_sweep_without_resampling_says_its_seeds_change_nothing() {
    let dir = setup("", SWEEP_3);
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    ok(&r);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        stdout.contains("notice: the 3 seeds [1, 2, 3] all replay the same workload")
            && stdout.contains("resample = \"jitter\""),
        "{stdout}"
    );
    let rec: serde_json::Value = serde_json::from_str(&read(&dir.path().join("o"), "recommendation.json")).unwrap();
    assert!(rec["seed_notice"]
        .as_str()
        .unwrap()
        .contains("seeds change only the policy's and the faults' random draws"));
    // With no faults the seeds give the same figures: min = max = mean.
    let p95 = &rec["spread"]["recommended"]["wait_p95_s"];
    assert_eq!(p95["min"], p95["max"], "{p95}");
    assert_eq!(p95["mean"], p95["max"], "{p95}");
}

#[test]
fn spread_columns_only_with_several_seeds_and_they_bound_the_mean() {
    let dir = setup("resample = \"jitter\"", SWEEP_3);
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "three"]);
    ok(&r);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(!stdout.contains("notice:"), "resampled seeds need no notice: {stdout}");
    assert!(stdout.contains("recommended over 3 seeds, mean (min to max): cost "), "{stdout}");
    assert!(stdout.contains("baseline over 3 seeds"), "{stdout}");
    let results = read(&dir.path().join("three"), "results.csv");
    let header: Vec<&str> = results.lines().next().unwrap().split(',').collect();
    let metrics_end = 1 + 2 + 1 + METRICS.len();
    assert_eq!(header.len(), metrics_end + 2 * METRICS.len());
    assert_eq!(&header[metrics_end..metrics_end + 2], ["tasks_min", "tasks_max"]);
    let mut some_spread = false;
    for line in results.lines().skip(1) {
        let f: Vec<f64> = line.split(',').skip(4).map(|v| v.parse().unwrap()).collect();
        for k in 0..METRICS.len() {
            let (mean, min, max) = (f[k], f[METRICS.len() + 2 * k], f[METRICS.len() + 2 * k + 1]);
            assert!(min <= mean + 1e-9 && mean <= max + 1e-9, "{}: {min} {mean} {max}", METRICS[k]);
            some_spread |= min < max;
        }
    }
    assert!(some_spread, "jittered seeds give different figures: {results}");
    let rec: serde_json::Value = serde_json::from_str(&read(&dir.path().join("three"), "recommendation.json")).unwrap();
    assert_eq!(rec["spread"]["seeds"], 3);
    assert!(rec.get("seed_notice").is_none());
    for who in ["baseline", "recommended"] {
        let p = &rec["spread"][who]["wait_p95_s"];
        assert!(p["min"].as_f64() <= p["mean"].as_f64() && p["mean"].as_f64() <= p["max"].as_f64(), "{who}: {p}");
    }
    // One seed: the columns and files as they always were.
    write(dir.path(), "s.toml", &scenario("resample = \"jitter\"", &SWEEP_3.replace("[1, 2, 3]", "[1]")));
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "one"]);
    ok(&r);
    let one = read(&dir.path().join("one"), "results.csv");
    assert_eq!(one.lines().next().unwrap().split(',').count(), metrics_end);
    let rec: serde_json::Value = serde_json::from_str(&read(&dir.path().join("one"), "recommendation.json")).unwrap();
    assert!(rec.get("spread").is_none() && rec.get("seed_notice").is_none(), "{rec}");
    assert!(!String::from_utf8_lossy(&r.stdout).contains("over 1 seeds"));
}

#[test]
fn shards_merged_and_resumed_with_three_seeds_equal_one_machine() {
    let sweep = SWEEP_3.replace("wait_p95_s <= 600", "wait_p95_s@q90 <= 600");
    let dir = setup("resample = \"jitter\"", &sweep);
    ok(&run_in(dir.path(), &["sweep", "s.toml", "--out", "one"]));
    let header = read(&dir.path().join("one"), "results.csv");
    assert!(header.lines().next().unwrap().ends_with(",cold_start_wait_max_s_max,wait_p95_s_q90"), "{header}");
    for i in 0..2 {
        ok(&run_in(dir.path(), &["sweep", "s.toml", "--out", &format!("s{i}"), "--shard", &format!("{i}/2")]));
    }
    ok(&run_in(dir.path(), &["merge", "s0", "s1", "--out", "merged"]));
    for f in ["results.csv", "pareto.csv", "recommendation.json"] {
        assert_eq!(read(&dir.path().join("one"), f), read(&dir.path().join("merged"), f), "{f}");
    }
    // Resume from the header and one row: the same files.
    let text = read(&dir.path().join("one"), "results.partial.csv");
    let kept: Vec<&str> = text.lines().take(2).collect();
    write(&dir.path().join("one"), "results.partial.csv", &(kept.join("\n") + "\n"));
    ok(&run_in(dir.path(), &["sweep", "s.toml", "--out", "one", "--resume"]));
    assert_eq!(read(&dir.path().join("one"), "results.csv"), read(&dir.path().join("merged"), "results.csv"));
    // A partial file of a single-seed sweep is refused by the three-seed one, naming the columns.
    let single = header.lines().next().unwrap().split(',').take(4 + METRICS.len()).collect::<Vec<_>>().join(",");
    write(&dir.path().join("one"), "results.partial.csv", &(single + "\n"));
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "one", "--resume"]);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(
        e.contains("results.partial.csv:1: the columns are not this sweep's (27 columns, this sweep's have 74)"),
        "{e}"
    );
}

/// A result with `p95` per seed (3 seeds) and a cost: its mean, min/max and q90 columns.
fn result(index: usize, cost: f64, p95: [f64; 3], objective: &scaler_sim::sweep::Objective) -> SettingResult {
    let per_seed: Vec<Vec<f64>> = p95
        .iter()
        .map(|&p| {
            let mut m = vec![0.0; METRICS.len()];
            m[at("cost")] = cost;
            m[at("wait_p95_s")] = p;
            m
        })
        .collect();
    SettingResult {
        index,
        status: "ok".into(),
        metrics: scaler_sim::sweep::spread::means(&per_seed),
        spread: scaler_sim::sweep::spread::values(objective, &per_seed),
    }
}

#[test]
fn a_quantile_constraint_decides_on_the_seeds_spread_not_the_mean() {
    let q = parse_objective("minimize cost subject to wait_p95_s@q90 <= 5").unwrap();
    let mean = parse_objective("minimize cost subject to wait_p95_s <= 5").unwrap();
    // Setting 0 is cheap with a mean of 4.5 but one seed at 6; setting 1 holds on every seed.
    let rs = vec![result(0, 1.0, [3.5, 4.0, 6.0], &q), result(1, 2.0, [4.6, 4.8, 4.9], &q)];
    assert_eq!(recommend(&rs, &mean), (Some(0), true));
    assert_eq!(recommend(&rs, &q), (Some(1), true));
    assert_eq!(q.checked_value(&q.constraints[0], &rs[0]), 6.0);
    // At q60 two of three seeds suffice (nearest rank: the 2nd smallest).
    let q60 = parse_objective("minimize cost subject to wait_p95_s@q60 <= 5").unwrap();
    let rs60 = vec![result(0, 1.0, [3.5, 4.0, 6.0], &q60), result(1, 2.0, [4.6, 4.8, 4.9], &q60)];
    assert_eq!(recommend(&rs60, &q60), (Some(0), true));
    // A >= constraint at q90 checks the low tail: the 10th percentile.
    let ge = parse_objective("minimize cost subject to wait_p95_s@q90 >= 4").unwrap();
    assert_eq!(ge.constraints[0].percentile(), Some(10));
    let rsge = vec![result(0, 1.0, [3.5, 4.0, 6.0], &ge), result(1, 2.0, [4.6, 4.8, 4.9], &ge)];
    assert_eq!(recommend(&rsge, &ge), (Some(1), true));
    // Infeasible everywhere: the closest by the checked value.
    let tight = parse_objective("minimize cost subject to wait_p95_s@q100 <= 4.5").unwrap();
    let rst = vec![result(0, 1.0, [3.5, 4.0, 6.0], &tight), result(1, 2.0, [4.6, 4.8, 4.9], &tight)];
    assert_eq!(recommend(&rst, &tight), (Some(1), false));
}

#[test]
fn quantile_objectives_parse_print_and_refuse_clearly() {
    let o = parse_objective("minimize cost subject to wait_p95_s@q90 <= 5 and slo_violation_ratio < 0.1").unwrap();
    assert_eq!(o.to_string(), "minimize cost subject to wait_p95_s@q90 <= 5 and slo_violation_ratio < 0.1");
    assert_eq!((o.constraints[0].at, o.constraints[1].at), (Some(90), None));
    assert_eq!(o.quantiles(), vec![(at("wait_p95_s"), 90)]);
    for (text, want) in [
        ("minimize cost subject to wait_p95_s@q0 <= 5", "NN a whole number from 1 to 100"),
        ("minimize cost subject to wait_p95_s@q101 <= 5", "NN a whole number from 1 to 100"),
        ("minimize cost subject to wait_p95_s@90 <= 5", "METRIC@qNN"),
        ("minimize cost subject to wait_p95_s@q <= 5", "METRIC@qNN"),
        ("minimize cost subject to wait_p95@q90 <= 5", "unknown metric `wait_p95`"),
    ] {
        let e = parse_objective(text).unwrap_err();
        assert!(e.contains(want), "{text}: {e}");
    }
}

#[test]
fn percentiles_are_nearest_rank() {
    let v = [5.0, 1.0, 4.0, 2.0, 3.0];
    for (p, want) in [(0, 1.0), (10, 1.0), (20, 1.0), (21, 2.0), (50, 3.0), (90, 5.0), (100, 5.0)] {
        assert_eq!(percentile(&v, p), want, "p{p}");
    }
    // With 3 seeds the 5th and 95th percentiles are the min and the max.
    assert_eq!((percentile(&[2.0, 9.0, 4.0], 5), percentile(&[2.0, 9.0, 4.0], 95)), (2.0, 9.0));
}

/// The NASA iPSC/860 job log (a task trace, arrivals to the second, about 3 months):
/// without resampling five seeds report one figure; a block bootstrap of days spreads them.
#[test]
fn on_a_real_task_trace_only_resampled_seeds_spread() {
    let Some(traces) = std::env::var_os("SCALER_REAL_TRACES") else {
        crate::skip_notice("the real-trace spread across seeds", "SCALER_REAL_TRACES");
        return;
    };
    let trace = Path::new(&traces).join("nasa_ipsc_1993_jobs.csv");
    let trace = std::path::absolute(&trace).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p95 = at("wait_p95_s");
    for (name, resample, spreads) in
        [("none", "", false), ("days", "resample = { method = \"block_bootstrap\", block_s = 86400 }", true)]
    {
        let text = format!(
            "[trace]\npath = {:?}\nseed = 1\n{resample}\n[cluster]\nprovision_delay_s = 120\nslo_wait_s = 600\n\
             [scaler]\nmin_workers = 1\nmax_workers = 64\nevaluation_interval = 60\nmetrics_window = 300\n\
             [sweep]\nseeds = [1, 2, 3, 4, 5]\nobjective = \"minimize cost subject to wait_p95_s@q90 <= 600\"\n\
             scaler.cooldown_period = [120]\n",
            trace.to_string_lossy()
        );
        write(dir.path(), &format!("{name}.toml"), &text);
        let r = run_in(dir.path(), &["sweep", &format!("{name}.toml"), "--out", name]);
        ok(&r);
        let stdout = String::from_utf8_lossy(&r.stdout);
        assert_eq!(stdout.contains("notice: the 5 seeds"), !spreads, "{name}: {stdout}");
        let results = read(&dir.path().join(name), "results.csv");
        let row: Vec<f64> = results.lines().nth(1).unwrap().split(',').skip(3).map(|v| v.parse().unwrap()).collect();
        let (min, max) = (row[METRICS.len() + 2 * p95], row[METRICS.len() + 2 * p95 + 1]);
        assert_eq!(min < max, spreads, "{name}: wait_p95_s from {min} to {max}");
    }
}

#[test]
fn a_rate_trace_whose_seed_draws_nothing_gets_the_notice_and_one_that_draws_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = String::from("timestamp_s,arrivals\n");
    for i in 0..40u64 {
        t.push_str(&format!("{},{}\n", i * 60, 5 + (i * 7) % 11));
    }
    write(dir.path(), "r.csv", &t);
    for (spread, noticed) in [("even", true), ("poisson", false)] {
        let text = format!(
            "[trace]\npath = \"r.csv\"\nspread = \"{spread}\"\nduration_s = 20\n[scaler]\nmin_workers = 1\nmax_workers = 20\n\
             [sweep]\nseeds = [1, 2]\nobjective = \"minimize cost\"\nscaler.cooldown_period = [60]\n"
        );
        write(dir.path(), "s.toml", &text);
        let r = run_in(dir.path(), &["sweep", "s.toml", "--out", spread]);
        ok(&r);
        let stdout = String::from_utf8_lossy(&r.stdout);
        assert_eq!(
            stdout.contains("notice: the 2 seeds [1, 2] all replay the same workload"),
            noticed,
            "{spread}: {stdout}"
        );
        if noticed {
            assert!(stdout.contains("spread = \"poisson\""), "{stdout}");
        }
    }
    // A rate trace takes no resample key.
    write(dir.path(), "s.toml", "[trace]\npath = \"r.csv\"\nduration_s = 20\nresample = \"jitter\"\n");
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "x"]);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("r.csv:1: trace.resample applies to task traces only"), "{e}");
    assert!(!dir.path().join("x").exists(), "nothing written");
}
