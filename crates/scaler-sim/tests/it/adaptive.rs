//! `[sweep] search = "adaptive"`: successive halving over prefixes of the trace, and
//! continuous axes.

use std::path::Path;

use scaler_model::METRICS;

use crate::run_in;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn stderr(r: &std::process::Output) -> String {
    String::from_utf8_lossy(&r.stderr).into_owned()
}

const BASE: &str = "[trace]\npath = \"t.csv\"\n\
[cluster]\nprovision_delay_s = 20\nprice_per_worker_hour = 1\nslo_wait_s = 10\n\
[scaler]\nmin_workers = 1\nmax_workers = 40\ncooldown_period = 60\nmetrics_window = 60\nevaluation_interval = 15\n";

/// A 6 x 5 x 4 grid (120 settings).
const GRID: &str = "objective = \"minimize cost subject to wait_p95_s <= 20\"\n\
scaler.scale_up_threshold = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]\n\
scaler.scale_down_threshold = [0.1, 0.2, 0.3, 0.4, 0.45]\n\
scaler.cooldown_period = [15, 60, 120, 240]\n";

/// 27 cycles of a cosine rate (10 minutes each, 0.1 to 0.9 tasks a second), so that each
/// rung's prefix of the trace (1/27, 1/9, 1/3 of it) holds whole cycles and resembles all of it.
fn trace() -> String {
    let mut rows: Vec<(u64, u64)> = Vec::new();
    let mut x: u64 = 7;
    let mut next = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        x
    };
    for s in 0..600 * 27u64 {
        let r = 0.5 * (1.0 + 0.8 * (2.0 * std::f64::consts::PI * s as f64 / 600.0).cos());
        let n = r as u64 + u64::from(((next() >> 11) as f64 / (1u64 << 53) as f64) < r - r.floor());
        for _ in 0..n {
            let y = next();
            rows.push((s * 1000 + (y >> 20) % 1000, 2 + (y >> 40) % 10));
        }
    }
    rows.sort_unstable();
    let mut t = String::from("arrival_s,duration_s\n");
    for (at, d) in rows {
        t.push_str(&format!("{}.{:03},{d}\n", at / 1000, at % 1000));
    }
    t
}

fn setup(sweep: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", &format!("{BASE}[sweep]\n{sweep}"));
    write(dir.path(), "t.csv", &trace());
    dir
}

fn col(name: &str, axes: usize) -> usize {
    1 + axes + 1 + METRICS.iter().position(|m| *m == name).unwrap()
}

/// (setting, cost, p95) of the rows that ran.
fn rows(results: &str, axes: usize) -> Vec<(usize, f64, f64)> {
    results
        .lines()
        .skip(1)
        .filter(|l| l.contains(",ok,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[col("cost", axes)].parse().unwrap(), f[col("wait_p95_s", axes)].parse().unwrap())
        })
        .collect()
}

#[test]
fn adaptive_finds_the_grids_best_with_fewer_whole_trace_runs() {
    let dir = setup(GRID);
    write(dir.path(), "a.toml", &format!("{BASE}[sweep]\nsearch = \"adaptive\"\n{GRID}"));
    let g = run_in(dir.path(), &["sweep", "s.toml", "--out", "grid"]);
    assert!(g.status.success(), "{}", stderr(&g));
    let a = run_in(dir.path(), &["sweep", "a.toml", "--out", "adaptive"]);
    assert!(a.status.success(), "{}", stderr(&a));
    let grid = read(&dir.path().join("grid"), "results.csv");
    let adaptive = read(&dir.path().join("adaptive"), "results.csv");
    // The grid's file keeps its form: no search fields in its recommendation.
    let grec: serde_json::Value = serde_json::from_str(&read(&dir.path().join("grid"), "recommendation.json")).unwrap();
    assert!(grec.get("search").is_none() && grec.get("search_rungs").is_none(), "{grec}");
    let rec: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("adaptive"), "recommendation.json")).unwrap();
    assert_eq!(rec["search"], "adaptive");
    assert_eq!(rec["settings"], 120);
    // 120 settings on 1/27 of the trace, then 40 on 1/9, 14 on 1/3 and 5 on all of it.
    let rungs: Vec<(String, u64, u64)> = rec["search_rungs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["trace_fraction"].as_str().unwrap().to_string(),
                r["settings"].as_u64().unwrap(),
                r["kept"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [("1/27", 120, 40), ("1/9", 40, 14), ("1/3", 14, 5), ("1", 5, 5)];
    assert_eq!(rungs, want.map(|(f, s, k)| (f.to_string(), s, k)), "{rec}");
    assert!(
        rec["search_rungs"][3]["trace_until_s"].is_null()
            && rec["search_rungs"][0]["trace_until_s"].as_f64().unwrap() > 0.0
    );
    // The rows are the settings run on the whole trace, each exactly the grid's row.
    let arows = rows(&adaptive, 3);
    assert_eq!(arows.len(), 5, "{adaptive}");
    for line in adaptive.lines().skip(1) {
        assert!(grid.lines().any(|g| g == line), "adaptive row not in the grid's results: {line}");
    }
    // Its recommendation meets the constraint, at most 1 % above the grid's best cost.
    let best = rows(&grid, 3).into_iter().filter(|r| r.2 <= 20.0).map(|r| r.1).fold(f64::INFINITY, f64::min);
    let idx = rec["recommended"]["setting"].as_u64().unwrap() as usize;
    let (_, cost, p95) = arows.iter().copied().find(|r| r.0 == idx).unwrap();
    assert!(rec["feasible"].as_bool().unwrap() && p95 <= 20.0, "{rec}");
    assert!(cost <= best * 1.01, "adaptive cost {cost} against the grid's best {best}");
    let stdout = String::from_utf8_lossy(&a.stdout);
    assert!(stdout.contains("search: adaptive, 120 candidates (0 invalid): 120 on 1/27 of it, 40 on 1/9 of it, 14 on 1/3 of it, 5 on the whole trace"), "{stdout}");
    // The other files are written as the grid's are.
    for f in ["pareto.csv", "recommended.toml", "recommended_timeline.csv", "report.html", "chart_heatmap.png"] {
        assert!(dir.path().join("adaptive").join(f).exists(), "{f} missing");
    }
}

fn outputs(dir: &Path) -> Vec<String> {
    ["results.csv", "pareto.csv", "recommendation.json", "recommended.toml"].iter().map(|f| read(dir, f)).collect()
}

#[test]
fn adaptive_output_is_identical_run_to_run_and_thread_count_to_thread_count() {
    for sweep in [
        format!("search = \"adaptive\"\ncandidates = 40\n{GRID}"),
        "search = \"adaptive\"\ncandidates = 30\neta = 2\nrungs = 3\n\
         objective = \"minimize cost subject to wait_p95_s <= 20\"\n\
         scaler.scale_up_threshold = { min = 0.5, max = 0.95 }\n\
         scaler.scale_down_threshold = [0.1, 0.2, 0.3]\n\
         scaler.cooldown_period = { min = 0, max = 300, integer = true }\n"
            .to_string(),
    ] {
        let dir = setup(&sweep);
        let runs: Vec<Vec<String>> = [("a", "1"), ("b", "2"), ("c", "2")]
            .iter()
            .map(|(out, threads)| {
                let r = run_in(dir.path(), &["sweep", "s.toml", "--out", out, "--threads", threads]);
                assert!(r.status.success(), "{sweep}: {}", stderr(&r));
                outputs(&dir.path().join(out))
            })
            .collect();
        assert_eq!(runs[0], runs[1], "{sweep}: 1 thread against 2");
        assert_eq!(runs[1], runs[2], "{sweep}: run to run");
        let rec: serde_json::Value = serde_json::from_str(&runs[0][2]).unwrap();
        // 40 of the grid's settings, or 30 drawn (fewer if two draws coincide).
        let first = rec["search_rungs"][0]["settings"].as_u64().unwrap();
        let want = if sweep.contains("candidates = 40") { 40..=40 } else { 25..=30 };
        assert!(want.contains(&first), "{rec}");
    }
}

#[test]
fn continuous_axes_are_drawn_on_their_lattice_as_exact_decimals() {
    let dir = setup(
        "search = \"adaptive\"\ncandidates = 50\n\
         objective = \"minimize cost subject to wait_p95_s <= 20\"\n\
         scaler.scale_up_threshold = { min = 0.5, max = 0.95, step = 0.05 }\n\
         scaler.scale_down_threshold = { min = 0.1, max = 0.3 }\n\
         scaler.cooldown_period = { min = 30, max = 300, integer = true }\n",
    );
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let results = read(&dir.path().join("o"), "results.csv");
    assert!(results.lines().count() > 1, "{results}");
    let rec: serde_json::Value = serde_json::from_str(&read(&dir.path().join("o"), "recommendation.json")).unwrap();
    assert_eq!(rec["search_rungs"][0]["settings"], 50, "{rec}");
    for line in results.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (up, down, cool) = (f[1], f[2], f[3]);
        // 0.05 steps from 0.5: two decimals at most, on the lattice.
        let up_units: i64 = (up.parse::<f64>().unwrap() * 100.0).round() as i64;
        assert!(up.len() <= 4 && (50..=95).contains(&up_units) && up_units % 5 == 0, "{line}");
        assert_eq!(format!("{}", up_units as f64 / 100.0), up, "{line}");
        // No step: the finest power of ten at most a thousandth of the span (0.0001).
        let d = down.split('.').nth(1).unwrap_or("");
        assert!(down.starts_with("0.") && d.len() <= 4 && !d.ends_with('0'), "{line}");
        let dv: f64 = down.parse().unwrap();
        assert!((0.1..=0.3).contains(&dv), "{line}");
        let c: u64 = cool.parse().unwrap_or_else(|_| panic!("cooldown {cool} is not a whole number: {line}"));
        assert!((30..=300).contains(&c), "{line}");
    }
    // recommended.toml carries the drawn values as written.
    let idx = rec["recommended"]["setting"].as_u64().unwrap() as usize;
    let line = results.lines().find(|l| l.starts_with(&format!("{idx},"))).unwrap();
    let up = line.split(',').nth(1).unwrap();
    assert_eq!(rec["recommended"]["params"]["scaler.scale_up_threshold"], up);
    assert!(read(&dir.path().join("o"), "recommended.toml").contains(&format!("scale_up_threshold = {up}\n")));
}

#[test]
fn bad_adaptive_sweeps_are_refused_before_any_work() {
    let cases = [
        (
            "scaler.scale_up_threshold = { min = 0.5, max = 0.95 }\n",
            "sweep.scaler.scale_up_threshold is a continuous range: only search = \"adaptive\" samples ranges",
        ),
        (
            "candidates = 10\nscaler.cooldown_period = [60, 120]\n",
            "sweep.candidates is a setting of the adaptive search",
        ),
        (
            "search = \"random\"\nscaler.cooldown_period = [60, 120]\n",
            "sweep.search must be \"grid\" (the default) or \"adaptive\"",
        ),
        (
            "search = \"adaptive\"\ncandidates = 0\nscaler.cooldown_period = [60]\n",
            "sweep.candidates must be a whole number from 1 to 1000000",
        ),
        (
            "search = \"adaptive\"\neta = 1\nscaler.cooldown_period = [60]\n",
            "sweep.eta must be a whole number from 2 to 100",
        ),
        (
            "search = \"adaptive\"\nrungs = 11\nscaler.cooldown_period = [60]\n",
            "sweep.rungs must be a whole number from 1 to 10",
        ),
        (
            "search = \"adaptive\"\nscaler.scale_up_threshold = { min = 0.9, max = 0.5 }\n",
            "sweep.scaler.scale_up_threshold: max must not be below min",
        ),
        (
            "search = \"adaptive\"\nscaler.scale_up_threshold = { min = 0.5, max = 0.9, step = 0 }\n",
            "sweep.scaler.scale_up_threshold.step must be above 0",
        ),
        (
            "search = \"adaptive\"\nscaler.cooldown_period = { min = 0, max = 90.5, integer = true }\n",
            "sweep.scaler.cooldown_period.max must be a whole number (integer = true)",
        ),
        (
            "search = \"adaptive\"\nscaler.scale_up_threshold = { min = \"a\", max = 0.9 }\n",
            "sweep.scaler.scale_up_threshold.min must be a number",
        ),
        (
            "search = \"adaptive\"\nscaler.scale_up_threshold = { min = 0.5, max = 0.9, integer = 1 }\n",
            "sweep.scaler.scale_up_threshold.integer must be true or false",
        ),
        ("search = \"adaptive\"\ncandidate = 10\nscaler.cooldown_period = [60]\n", "unknown key `sweep.candidate`"),
    ];
    for (sweep, want) in cases {
        let dir = setup(sweep);
        let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
        let e = stderr(&r);
        assert_eq!(r.status.code(), Some(2), "{sweep}: {e}");
        assert!(e.contains("s.toml:") && e.contains(want), "{sweep}: wanted {want:?} in {e}");
        assert!(!dir.path().join("o").join("results.csv").exists(), "{sweep}");
    }
    // An adaptive search is not sharded (each rung picks from the last).
    let dir = setup("search = \"adaptive\"\nscaler.cooldown_period = [60, 120]\n");
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o", "--shard", "0/2"]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(r.stdout.is_empty(), "refused before it says what it would sweep");
    assert!(
        stderr(&r).contains("the adaptive search (sweep.search = \"adaptive\") cannot be sharded"),
        "{}",
        stderr(&r)
    ); // --resume runs it again from the start, and says so; the files are those of a fresh run.
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let first = read(&dir.path().join("o"), "results.csv");
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o", "--resume"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let e = stderr(&r);
    assert!(e.contains("notice: the adaptive search does not resume: it runs again from the start"), "{e}");
    assert_eq!(read(&dir.path().join("o"), "results.csv"), first);
    // merge refuses it: there is nothing to merge.
    let r = run_in(dir.path(), &["merge", "o", "--out", "m"]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    let e = stderr(&r);
    assert!(e.contains("an adaptive search runs on one machine and is never sharded"), "{e}");
}

/// A range's values are exact decimals of its lattice (no `0.30000000000000004`).
#[test]
fn range_values_are_exact_decimals() {
    use scaler_sim::sweep::adaptive::{range_points, range_text};
    use scaler_sim::sweep::Range;
    let r = |min: i64, max: i64, step: i64, integer: bool| Range {
        min_units: min,
        max_units: max,
        step_units: step,
        integer,
    };
    let e9 = 1_000_000_000;
    for (range, k, text, points) in [
        (r(e9 / 10, e9, e9 / 10, false), 2, "0.3", 10),
        (r(e9 / 10, e9, e9 / 10, false), 9, "1.0", 10),
        (r(e9 / 2, 95 * e9 / 100, e9 / 10_000, false), 1535, "0.6535", 4501),
        (r(0, 1200 * e9, e9, true), 37, "37", 1201),
        (r(-e9, e9, e9 / 4, false), 2, "-0.5", 9),
        (r(1, 3, 1, false), 2, "0.000000003", 3),
        // A step that does not divide the span: the lattice stops below max.
        (r(0, e9, 3 * e9 / 10, false), 3, "0.9", 4),
    ] {
        assert_eq!(range_text(&range, k), text, "{range:?} step {k}");
        assert_eq!(range_points(&range), points, "{range:?}");
    }
}

/// The adaptive search with the other parts of a trustworthy sweep: resampled seeds (the
/// spread columns), a held-out check and `--set`: its rows are the grid's rows for the
/// settings it ran on the whole (tuning part of the) trace, byte for byte.
#[test]
fn adaptive_with_seeds_a_holdout_and_set_writes_the_grids_rows() {
    let extra = "seeds = [1, 2, 3]\nholdout = 0.25\n";
    let dir = setup(&format!("{extra}{GRID}"));
    let d = dir.path();
    let text =
        read(d, "s.toml").replace("[trace]\npath = \"t.csv\"\n", "[trace]\npath = \"t.csv\"\nresample = \"jitter\"\n");
    write(d, "s.toml", &text);
    write(d, "a.toml", &text.replace("[sweep]\n", "[sweep]\nsearch = \"adaptive\"\n"));
    let set = ["--set", "cluster.provision_delay_s=30"];
    let grid = run_in(d, &[&["sweep", "s.toml", "--out", "grid"][..], &set].concat());
    assert!(matches!(grid.status.code(), Some(0 | 3)), "{}", stderr(&grid));
    let ad = run_in(d, &[&["sweep", "a.toml", "--out", "ad"][..], &set].concat());
    assert!(matches!(ad.status.code(), Some(0 | 3)), "{}", stderr(&ad));
    let rec: serde_json::Value = serde_json::from_str(&read(&d.join("ad"), "recommendation.json")).unwrap();
    assert_eq!(rec["search"], "adaptive");
    assert!(rec["spread"]["seeds"] == 3, "{rec}");
    assert!(rec["baseline"]["holdout"]["tasks"].as_u64().unwrap() > 0, "{rec}");
    // Every row the adaptive search wrote is the grid's row of that setting.
    let grid_rows = read(&d.join("grid"), "results.csv");
    let ad_rows = read(&d.join("ad"), "results.csv");
    assert_eq!(grid_rows.lines().next(), ad_rows.lines().next(), "headers differ");
    assert!(ad_rows.lines().next().unwrap().contains("wait_p95_s_min"), "no spread columns");
    let mut ran = 0;
    for row in ad_rows.lines().skip(1).filter(|l| l.contains(",ok,")) {
        let setting = row.split(',').next().unwrap();
        let same = grid_rows.lines().find(|l| l.split(',').next() == Some(setting)).unwrap();
        assert_eq!(row, same, "setting {setting}");
        ran += 1;
    }
    assert!((1..120).contains(&ran), "{ran} settings on the whole trace");
}

#[test]
fn a_range_gone_wrong_says_what_a_range_is() {
    for (axis, want) in [
        ("{ min = 0.5, max = 0.9, foo = 1 }", "`foo` is not a key of a range"),
        ("{ min = 0.5 }", "it has no `max`"),
        ("{ max = 0.9, step = 0.1 }", "it has no `min`"),
    ] {
        let dir = setup(&format!("search = \"adaptive\"\nscaler.scale_up_threshold = {axis}\n"));
        let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "never"]);
        assert_eq!(r.status.code(), Some(2), "{axis}");
        let err = stderr(&r);
        assert!(
            err.contains("sweep.scaler.scale_up_threshold: a continuous range is") && err.contains(want),
            "{axis}: {err}"
        );
        assert!(!dir.path().join("never").exists());
    }
}

/// A rung whose prefix ends within the warm-up would measure nothing (every setting ties):
/// it is skipped, so the survivors are chosen on figures, not on their indices.
#[test]
fn rungs_within_the_warm_up_are_skipped() {
    let dir = setup(&format!("search = \"adaptive\"\n{GRID}"));
    let d = dir.path();
    // 1/27 of the 4.5 h trace is 600 s: a 1,000 s warm-up covers the first rung only.
    let text = read(d, "s.toml").replace("slo_wait_s = 10\n", "slo_wait_s = 10\nwarmup_s = 1000\n");
    write(d, "s.toml", &text);
    let r = run_in(d, &["sweep", "s.toml", "--out", "a"]);
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", stderr(&r));
    let rec: serde_json::Value = serde_json::from_str(&read(&d.join("a"), "recommendation.json")).unwrap();
    let rungs = rec["search_rungs"].as_array().unwrap();
    assert_eq!(rungs[0]["settings"], 0, "{rec}");
    assert_eq!(rungs[0]["kept"], 120, "{rec}");
    assert_eq!(rungs[1]["settings"], 120, "{rec}");
    // Had the first rung run, all 120 would have tied on nothing measured and the lowest 40
    // indices survived: the rows on the whole trace would all be among settings 0 to 39.
    let rows = read(&d.join("a"), "results.csv");
    let indices: Vec<usize> = rows
        .lines()
        .skip(1)
        .filter(|l| l.contains(",ok,"))
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(indices.iter().any(|&i| i >= 40), "{indices:?}");
}
