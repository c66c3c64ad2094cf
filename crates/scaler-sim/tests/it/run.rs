//! `run` and `gen` through the command line: outputs, determinism, errors.

use std::path::Path;

use crate::run_in;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

const SCENARIO: &str = "[trace]\npath = \"trace.csv\"\nspread = \"poisson\"\nduration = { dist = \"lognormal\", mean_s = 20, cv = 1.5 }\nseed = 5\n\
[cluster]\nprovision_delay_s = 30\nbilling_minimum_s = 60\nprice_per_worker_hour = 0.5\n\
[scaler]\nmin_workers = 1\nmax_workers = 12\ncooldown_period = 60\nmetrics_window = 120\nevaluation_interval = 15\n";

fn rate_trace() -> String {
    let mut t = String::from("timestamp_s,arrivals\n");
    for i in 0..120 {
        let arrivals = if (40..60).contains(&i) { 30 } else { 3 + i % 4 };
        t.push_str(&format!("{},{arrivals}\n", i * 60));
    }
    t
}

#[test]
fn same_scenario_and_seed_give_byte_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    let a = run_in(dir.path(), &["run", "s.toml", "--out", "a"]);
    let b = run_in(dir.path(), &["run", "s.toml", "--out", "b"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success());
    assert_eq!(a.stdout.split(|&c| c == b'\n').next().unwrap(), b"seed: 5", "the seed is printed first");
    for f in ["timeline.csv", "observations.csv", "summary.json"] {
        assert_eq!(read(&dir.path().join("a"), f), read(&dir.path().join("b"), f), "{f} differs between two runs");
    }
    // Another seed draws other arrivals and durations.
    let c = run_in(dir.path(), &["run", "s.toml", "--out", "c", "--seed", "6"]);
    assert!(c.status.success());
    assert!(String::from_utf8_lossy(&c.stdout).starts_with("seed: 6\n"));
    assert_ne!(read(&dir.path().join("a"), "summary.json"), read(&dir.path().join("c"), "summary.json"));
    let summary: serde_json::Value = serde_json::from_str(&read(&dir.path().join("a"), "summary.json")).unwrap();
    for key in [
        "tasks",
        "wait_mean_s",
        "wait_p50_s",
        "wait_p95_s",
        "wait_p99_s",
        "wait_max_s",
        "slo_violation_ratio",
        "cost",
        "worker_seconds",
        "scale_ups",
        "scale_downs",
        "mean_workers",
        "max_workers",
        "end_time_s",
    ] {
        assert!(summary.get(key).is_some(), "summary lacks {key}");
    }
    assert!(summary["tasks"].is_u64() && summary["scale_ups"].is_u64() && summary["max_workers"].is_u64());
    assert_eq!(
        summary["tasks"].as_u64().unwrap(),
        120 * 3 + 20 * 27 + (0..120).filter(|i| !(40..60).contains(i)).map(|i| i % 4).sum::<u64>()
    );
}

#[test]
fn replaying_the_recorded_observations_gives_the_timeline_decisions() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "o"]);
    assert!(r.status.success());
    let rep = run_in(dir.path(), &["replay", "--config", "s.toml", "--observations", "o/observations.csv"]);
    assert!(rep.status.success(), "{}", String::from_utf8_lossy(&rep.stderr));
    let decisions = String::from_utf8(rep.stdout).unwrap();
    let timeline = read(&dir.path().join("o"), "timeline.csv");
    // timeline: ...,window_utilization(8),action(9),target(10),reason(11)
    // decisions: timestamp_s(0),action(1),target(2),reason(3),window_utilization(4)
    let from_timeline: Vec<String> = timeline
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{} {} {} {} {}", f[0], f[9], f[10], f[11], f[8])
        })
        .collect();
    let from_replay: Vec<String> = decisions
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{} {} {} {} {}", f[0], f[1], f[2], f[3], f[4])
        })
        .collect();
    assert_eq!(from_timeline.len(), from_replay.len());
    assert_eq!(from_timeline, from_replay);
    assert!(from_replay.iter().any(|l| l.contains("scale_up")) && from_replay.iter().any(|l| l.contains("scale_down")));
}

#[test]
fn failed_run_leaves_nothing_in_out() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", "[trace]\npath = \"t.csv\"\n[scaler]\n");
    let mut t = String::from("arrival_s,duration_s\n");
    for i in 0..20_000 {
        t.push_str(&format!("{i},1\n"));
    }
    t.push_str("19998.5,2\n"); // goes backwards
    write(dir.path(), "t.csv", &t);
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "fresh"]);
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&r.stderr),
        "error: t.csv:20002: column 1 (arrival_s): arrival 19998.5 is before the previous arrival (19999); arrivals must be non-decreasing\n"
    );
    assert!(!dir.path().join("fresh").exists(), "a folder the failed run created is removed");
    // An existing folder keeps its files and gets no partial ones.
    std::fs::create_dir(dir.path().join("kept")).unwrap();
    write(&dir.path().join("kept"), "summary.json", "old\n");
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "kept"]);
    assert_eq!(r.status.code(), Some(2));
    let names: Vec<String> = std::fs::read_dir(dir.path().join("kept"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["summary.json"]);
    assert_eq!(read(&dir.path().join("kept"), "summary.json"), "old\n");
}

#[test]
fn set_overrides_are_validated_like_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "o", "--set", "scaler.cooldown_period=-1"]);
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&r.stderr),
        "error: --set scaler.cooldown_period=-1: scaler.cooldown_period = -1: must be >= 0 seconds\n"
    );
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "o", "--set", "cluster.slots=2"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("unknown key `cluster.slots`"));
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "o", "--set", "scaler.cooldown_period=600"]);
    assert!(r.status.success());
    let timeline = read(&dir.path().join("o"), "timeline.csv");
    let r2 = run_in(dir.path(), &["run", "s.toml", "--out", "p"]);
    assert!(r2.status.success());
    assert_ne!(timeline, read(&dir.path().join("p"), "timeline.csv"), "the override changed the run");
}

#[test]
fn rate_trace_even_spread_places_arrivals_exactly() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "r.csv", "timestamp_s,arrivals\n0,3\n10,0\n20,2\n");
    write(
        dir.path(),
        "s.toml",
        "[trace]\npath = \"r.csv\"\nduration_s = 0.5\n[scaler]\nmin_workers = 5\nmax_workers = 5\n",
    );
    let spec = scaler_formats::scenario::load(&dir.path().join("s.toml"), &Default::default()).unwrap();
    let mut src = scaler_formats::trace::open(&spec.trace, 0).unwrap();
    let mut got = Vec::new();
    while let Some(t) = scaler_model::TaskSource::next_task(&mut src).unwrap() {
        got.push((t.arrival_ms, t.duration_ms));
    }
    // (k + 0.5) * 10 / 3 s = 1.6667, 5, 8.3333 -> 1667, 5000, 8333 ms; the last row's interval is 10 s.
    assert_eq!(got, [(1667, 500), (5000, 500), (8333, 500), (22_500, 500), (27_500, 500)]);
}

#[test]
fn gen_is_seeded_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &str, seed: &str| {
        vec![
            "gen".to_string(),
            "poisson:rate=2".into(),
            "diurnal:period=3600,ratio=3".into(),
            "flash:at=1800,height=5,decay=60".into(),
            "onoff:on=120,off=300,high=3,low=0.5".into(),
            "--span-s".into(),
            "3600".into(),
            "--duration".into(),
            "pareto:mean=10,alpha=2.2".into(),
            "--seed".into(),
            seed.into(),
            "-o".into(),
            out.into(),
        ]
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        run_in(dir.path(), &refs)
    };
    assert!(run(args("a.csv", "3")).status.success());
    assert!(run(args("b.csv", "3")).status.success());
    assert!(run(args("c.csv", "4")).status.success());
    assert_eq!(read(dir.path(), "a.csv"), read(dir.path(), "b.csv"));
    assert_ne!(read(dir.path(), "a.csv"), read(dir.path(), "c.csv"));
    let text = read(dir.path(), "a.csv");
    let n = text.lines().count() - 1;
    // Mean rate about 2/s (modulations average near 1, plus the spike): roughly 7,200 tasks.
    assert!((4_000..16_000).contains(&n), "{n} tasks");
    // Rates form with bins, and it runs through the simulator.
    let r = run_in(
        dir.path(),
        &[
            "gen",
            "poisson:rate=1",
            "weekly:weekend=0.5,period=7200,weekend_start=5000",
            "ramp:from=1,to=2",
            "--span-s",
            "7200",
            "--form",
            "rates",
            "-o",
            "r.csv",
        ],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rates = read(dir.path(), "r.csv");
    assert!(rates.starts_with("timestamp_s,arrivals\n0,"));
    assert_eq!(rates.lines().count(), 1 + 120);
    let bad = run_in(dir.path(), &["gen", "diurnl:ratio=2", "--span-s", "60", "-o", "x.csv"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean `diurnal`"));
    assert!(!dir.path().join("x.csv").exists());
}

#[test]
fn gen_refuses_a_distribution_its_sampler_cannot_build() {
    let dir = tempfile::tempdir().unwrap();
    for (dist, want) in [
        (
            "lognormal:mean=10,cv=1.35e154",
            "lognormal:mean=10,cv=1.35e154: cv = 1.35e154: too large: ln(1 + cv^2) overflows",
        ),
        ("pareto:mean=5e-324,alpha=2", "pareto:mean=5e-324,alpha=2: mean = 5e-324: the Pareto scale"),
    ] {
        let r = run_in(dir.path(), &["gen", "poisson:rate=1", "--span-s", "10", "--duration", dist, "-o", "x.csv"]);
        assert_eq!(r.status.code(), Some(2), "{dist}");
        let e = String::from_utf8_lossy(&r.stderr);
        assert!(e.contains(want) && !e.contains("panicked"), "{dist}: {e}");
        assert!(!dir.path().join("x.csv").exists());
    }
}

#[test]
fn a_relative_environment_path_is_resolved_from_the_working_folder() {
    // cwd = a/b; the variable says ../traces (a/traces); the scenario lives in sims/.
    // Resolved from the scenario's folder it would be sims/../traces, which does not exist.
    let dir = tempfile::tempdir().unwrap();
    let (cwd, traces, sims) = (dir.path().join("a/b"), dir.path().join("a/traces"), dir.path().join("sims"));
    for d in [&cwd, &traces, &sims] {
        std::fs::create_dir_all(d).unwrap();
    }
    write(&traces, "t.csv", "arrival_s,duration_s\n0,1\n5,1\n");
    write(&sims, "s.toml", "[trace]\npath = \"${SCALER_TEST_TRACES_DIR}/t.csv\"\n");
    let run = |var: &str| {
        std::process::Command::new(crate::bin())
            .args(["run", "../../sims/s.toml", "--out", "out"])
            .env("SCALER_TEST_TRACES_DIR", var)
            .current_dir(&cwd)
            .output()
            .unwrap()
    };
    let r = run("../traces");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let summary: serde_json::Value = serde_json::from_str(&read(&cwd.join("out"), "summary.json")).unwrap();
    assert_eq!(summary["tasks"], 2);
    // An error names the path as resolved, from the working folder.
    let r = run("../nowhere");
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains(&cwd.join("../nowhere/t.csv").display().to_string()), "{e}");
    // A path that does not begin with a variable stays relative to the scenario's folder.
    write(&sims, "s.toml", "[trace]\npath = \"../a/traces/t.csv\"\n");
    assert!(run("unused").status.success());
}

#[test]
fn real_traces_when_available() {
    let Some(dir) = std::env::var_os("SCALER_REAL_TRACES") else {
        crate::skip_notice("the real-trace runs (CI sets it to ../shared/traces)", "SCALER_REAL_TRACES");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (scenario, min_tasks) in
        [("sims/nasa_http_1995.toml", 1_800_000u64), ("sims/azure_functions_http.toml", 60_000)]
    {
        let out = tempfile::tempdir().unwrap();
        let o = out.path().to_string_lossy().into_owned();
        let r = run_in(&root, &["run", scenario, "--out", &o]);
        assert!(
            r.status.success(),
            "{scenario} with SCALER_REAL_TRACES={}: {}",
            Path::new(&dir).display(),
            String::from_utf8_lossy(&r.stderr)
        );
        let summary: serde_json::Value = serde_json::from_str(&read(out.path(), "summary.json")).unwrap();
        assert!(summary["tasks"].as_u64().unwrap() >= min_tasks, "{scenario}: {summary}");
        assert!(summary["scale_ups"].as_u64().unwrap() > 0, "{scenario}: the scaler should act on real traffic");
    }
}

#[test]
fn shipped_traces_regenerate_byte_for_byte_from_their_documented_commands() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("traces/README.md")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for cmd in readme.split('`').filter(|s| s.starts_with("target/release/scaler-sim gen ")) {
        let mut args: Vec<String> = cmd.split_whitespace().skip(1).map(String::from).collect();
        let o = args.iter().position(|a| a == "-o").expect("-o FILE");
        let shipped = root.join(&args[o + 1]);
        let fresh = out.path().join("fresh.csv");
        args[o + 1] = fresh.to_string_lossy().into_owned();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run_in(&root, &refs);
        assert!(r.status.success(), "{cmd}: {}", String::from_utf8_lossy(&r.stderr));
        assert!(
            std::fs::read(&fresh).unwrap() == std::fs::read(&shipped).unwrap(),
            "{} does not match its command in traces/README.md",
            shipped.display()
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "every generated trace in traces/README.md is checked");
}

#[test]
fn a_loaded_trace_gives_the_same_tasks_as_streaming_it() {
    use scaler_model::TaskSource;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    let sc = scaler_formats::scenario::load(&dir.path().join("s.toml"), &Default::default()).unwrap();
    let loaded = scaler_formats::trace::load(&sc.trace).unwrap();
    for seed in [1, 2] {
        let mut streamed = scaler_formats::trace::open(&sc.trace, seed).unwrap();
        let mut shared = loaded.source(seed);
        let mut n = 0;
        loop {
            let (a, b) = (streamed.next_task().unwrap(), shared.next_task().unwrap());
            assert_eq!(a, b, "seed {seed}, task {n}");
            if a.is_none() {
                break;
            }
            n += 1;
        }
        assert_eq!(n, loaded.task_count());
    }
}

#[test]
fn compare_runs_every_policy_on_one_trace() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    for p in ["threshold", "hpa", "step", "queue", "predictive"] {
        write(
            dir.path(),
            &format!("{p}.toml"),
            &format!("[scaler]\npolicy = \"{p}\"\nmin_workers = 1\nmax_workers = 12\nevaluation_interval = 15\n"),
        );
    }
    let r = run_in(
        dir.path(),
        &[
            "compare",
            "s.toml",
            "--policies",
            "threshold.toml",
            "hpa.toml",
            "step.toml",
            "queue.toml",
            "predictive.toml",
            "--out",
            "c",
        ],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let csv = read(&dir.path().join("c"), "compare.csv");
    let names: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(names, ["(scenario)", "threshold", "hpa", "step", "queue", "predictive"]);
    // Every policy ran the same tasks.
    let tasks: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert!(tasks.windows(2).all(|w| w[0] == w[1]), "{csv}");
    for c in ["chart_compare_frontier", "chart_compare_timeline", "chart_compare_cost"] {
        assert!(dir.path().join("c").join(format!("{c}.png")).exists());
    }
    // A policy file of another workload is refused.
    write(dir.path(), "bad.toml", "[trace]\npath = \"x.csv\"\n[scaler]\n");
    let r = run_in(dir.path(), &["compare", "s.toml", "--policies", "bad.toml", "--out", "d"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("its [trace] differs from the base scenario's"));
}

#[test]
fn soak_reports_runs_and_simulated_hours() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    let r = run_in(dir.path(), &["soak", "s.toml", "--runs", "30", "--seed", "7"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(out.starts_with("seeds: 7..37\n30 runs, 30 held, "), "{out}");
    assert!(out.contains("crashes"));
    // Results are folded as they come: the report is the same whatever the thread count.
    let one = run_in(dir.path(), &["soak", "s.toml", "--runs", "30", "--seed", "7", "--threads", "1"]);
    assert_eq!(String::from_utf8_lossy(&one.stdout), out);
    // [faults] in a scenario is validated.
    write(dir.path(), "f.toml", &(SCENARIO.to_string() + "[faults]\nprovision_failure = 1.5\n"));
    let r = run_in(dir.path(), &["run", "f.toml", "--out", "o"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr)
        .contains("faults.provision_failure = 1.5: must be a probability between 0 and 1"));
}

#[test]
fn durations_with_units_run_as_their_seconds_and_bad_ones_are_located() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    let with_units = SCENARIO
        .replace("provision_delay_s = 30", "provision_delay_s = \"30s\"")
        .replace("cooldown_period = 60", "cooldown_period = \"1m\"")
        .replace("metrics_window = 120", "metrics_window = \"1m60s\"")
        .replace("evaluation_interval = 15", "evaluation_interval = \"15000ms\"");
    write(dir.path(), "u.toml", &with_units);
    let a = run_in(dir.path(), &["run", "s.toml", "--out", "a"]);
    let b = run_in(dir.path(), &["run", "u.toml", "--out", "b"]);
    assert!(a.status.success() && b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(read(&dir.path().join("a"), "timeline.csv"), read(&dir.path().join("b"), "timeline.csv"));
    // --set takes them too.
    let c = run_in(dir.path(), &["run", "s.toml", "--out", "c", "--set", "scaler.cooldown_period=\"1m\""]);
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(read(&dir.path().join("a"), "timeline.csv"), read(&dir.path().join("c"), "timeline.csv"));
    for (from, to, expect) in [
        ("cooldown_period = 60", "cooldown_period = \"120\"", "u.toml:13:19: scaler.cooldown_period = \"120\": "),
        (
            "provision_delay_s = 30",
            "provision_delay_s = \"30 seconds\"",
            "u.toml:7:21: cluster.provision_delay_s = \"30 seconds\": ",
        ),
    ] {
        write(dir.path(), "u.toml", &SCENARIO.replace(from, to));
        let r = run_in(dir.path(), &["run", "u.toml", "--out", "d"]);
        let e = String::from_utf8_lossy(&r.stderr).to_string();
        assert_eq!(r.status.code(), Some(2), "{e}");
        assert!(e.contains(expect) && (e.contains("needs a unit") || e.contains("unknown unit")), "{e}");
        assert!(!dir.path().join("d").exists());
    }
}

#[test]
fn run_json_is_one_object_with_the_summary_and_the_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "a", "--json"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = String::from_utf8(r.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "only the JSON object on standard output: {text}");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["files"].as_array().map(Vec::len), Some(6), "data, chart and report: {v}");
    v.as_object_mut().unwrap().remove("files");
    let file: serde_json::Value = serde_json::from_str(&read(&dir.path().join("a"), "summary.json")).unwrap();
    assert_eq!(v, file, "the printed object is summary.json's");
}

#[test]
fn an_imported_traces_origin_dates_the_summary_and_the_chart_while_its_hash_matches() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let trace = rate_trace();
    write(dir.path(), "trace.csv", &trace);
    let sha = format!("{:x}", sha2::Sha256::digest(trace.as_bytes()));
    // 2024-03-01T12:00:00Z
    let meta = format!("{{\"origin_unix_ms\": 1709294400000, \"sha256\": \"{sha}\"}}");
    write(dir.path(), "trace.csv.meta.json", &meta);
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "a"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let summary: serde_json::Value = serde_json::from_str(&read(&dir.path().join("a"), "summary.json")).unwrap();
    assert_eq!(summary["origin"], "2024-03-01T12:00:00Z");
    assert_eq!(summary["origin_unix_ms"], 1_709_294_400_000_i64);
    let svg = read(&dir.path().join("a"), "timeline.svg");
    assert!(svg.contains("hour 0 = 2024-03-01T12:00:00Z") && svg.contains("03-01 1"), "dated axis");
    // `plot` redraws it with the dates, from summary.json.
    std::fs::remove_file(dir.path().join("a/timeline.svg")).unwrap();
    let r = run_in(dir.path(), &["plot", "a"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(read(&dir.path().join("a"), "timeline.svg").contains("hour 0 = 2024-03-01T12:00:00Z"));
    // The trace changed since the meta file was written: no origin rather than a wrong one.
    write(dir.path(), "trace.csv", &trace.replace("\n0,", "\n0,9"));
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "b"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let summary: serde_json::Value = serde_json::from_str(&read(&dir.path().join("b"), "summary.json")).unwrap();
    assert!(summary.get("origin").is_none(), "{summary}");
    assert!(read(&dir.path().join("b"), "timeline.svg").contains("time (hours)"));
}

#[test]
fn every_shipped_policy_file_runs_in_compare_and_scales() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "trace.csv", &rate_trace());
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sims/policies");
    let mut files: Vec<_> = std::fs::read_dir(&shipped)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    let mut args: Vec<String> = vec!["compare".into(), "s.toml".into(), "--policies".into()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), "c".into()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(dir.path(), &argv);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let csv = read(&dir.path().join("c"), "compare.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let ups = header.iter().position(|h| *h == "scale_ups").unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), files.len() + 1, "the base scenario's own row, then one per file");
    for row in &rows {
        assert!(row[ups].parse::<f64>().unwrap() > 0.0, "{} never scaled up on the burst: {csv}", row[0]);
    }
    assert!(rows.iter().any(|r| r[0] == "target_tracking"), "{csv}");
}

#[test]
fn ephemeral_workers_run_one_task_each_under_arc_and_the_soak_holds() {
    let dir = tempfile::tempdir().unwrap();
    // 200 CI jobs of 30 to 330 s, in bursts.
    let mut t = String::from("arrival_s,duration_s\n");
    let (mut x, mut total_ms) = (7u64, 0u64);
    for i in 0..200u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let d = 30 + (x >> 33) % 300;
        total_ms += d * 1000;
        t.push_str(&format!("{},{d}\n", (i / 20) * 900 + (i % 20) * 7));
    }
    write(dir.path(), "jobs.csv", &t);
    let scenario = "[trace]\npath = \"jobs.csv\"\n[cluster]\nephemeral_workers = true\nprovision_delay_s = 45\n\
                    initial_workers = 2\nslo_wait_s = 60\n\
                    [scaler]\npolicy = \"arc\"\nmin_workers = 0\nmax_workers = 40\nmetrics_window = 1\nevaluation_interval = 5\n\
                    [scaler.arc]\nmin_runners = 2\nmax_runners = 40\n";
    write(dir.path(), "ci.toml", scenario);
    let a = run_in(dir.path(), &["run", "ci.toml", "--out", "a", "--json"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let s: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(s["tasks"], 200);
    // Every job ran on a worker of its own: at least as many workers as jobs were started
    // (2 initial ones included), and their time covers the jobs' time.
    assert!(s["workers_requested"].as_u64().unwrap() + 2 >= 200, "{s}");
    assert!(s["worker_seconds"].as_f64().unwrap() * 1000.0 >= total_ms as f64, "{s}");
    // ARC never scales down while jobs move; idle runners go only when quiet at minRunners.
    let timeline = read(&dir.path().join("a"), "timeline.csv");
    let reasons: std::collections::BTreeSet<&str> =
        timeline.lines().skip(1).map(|l| l.split(',').nth(11).unwrap()).collect();
    assert!(reasons.contains("arc_create"), "{reasons:?}");
    let arc = ["arc_create", "arc_steady", "arc_scale_down_ignored", "arc_delete_idle"];
    assert!(reasons.iter().all(|r| arc.contains(r)), "{reasons:?}");
    // Each job's runner exits with it, so the pool falls back to minRunners by itself.
    let last: Vec<&str> = timeline.lines().last().unwrap().split(',').collect();
    assert_eq!((last[1], last[5], last[6]), ("2", "0", "0"), "{last:?}");
    // The same again is byte-identical.
    let b = run_in(dir.path(), &["run", "ci.toml", "--out", "b"]);
    assert!(b.status.success());
    assert_eq!(timeline, read(&dir.path().join("b"), "timeline.csv"));
    // 40 seeds with swarm faults (crashes, failed provisioning, lost observations...) keep
    // every invariant with ephemeral workers.
    soak_holds(dir.path(), "ci.toml", "40", "3");
    // Ephemeral workers take one task each, so they have one slot.
    write(
        dir.path(),
        "bad.toml",
        &scenario.replace("ephemeral_workers = true", "ephemeral_workers = true\nslots_per_worker = 2"),
    );
    let e = refused_run(dir.path(), "bad.toml");
    assert!(e.contains("bad.toml:4:") && e.contains("slots_per_worker must be 1"), "{e}");
}

#[test]
fn the_tuning_guides_test_farm_holds_its_numbers() {
    // docs/tuning.md, "A CI test farm from its GitHub Actions history", steps 4 and 5.
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sc = root.join("sims/ci_runners.toml");
    let pol = |n: &str| root.join("sims/ci").join(n).display().to_string();
    let (a, b, c, d) = (pol("arc.toml"), pol("arc_min24.toml"), pol("queue.toml"), pol("threshold.toml"));
    let r =
        run_in(dir.path(), &["compare", sc.to_str().unwrap(), "--policies", &a, &b, &c, &d, "--out", "c", "--json"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let row = |name: &str| v["policies"].as_array().unwrap().iter().find(|p| p["policy"] == name).unwrap().clone();
    assert_eq!((row("arc")["wait_p95_s"].as_f64(), row("arc_min24")["wait_p95_s"].as_f64()), (Some(94.0), Some(56.0)));
    assert_eq!(row("threshold")["wait_p99_s"].as_f64(), Some(437.0));
    assert_eq!(row("arc")["tasks"], 5185);
    let r = run_in(dir.path(), &["sweep", sc.to_str().unwrap(), "--out", "s", "--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["recommended"]["params"]["scaler.arc.min_runners"], "24", "{v}");
    assert!(read(&dir.path().join("s"), "recommended-arc.yaml").contains("\nminRunners: 24\nmaxRunners: 400\n"));
}

#[test]
fn tasks_that_arrive_to_no_ready_worker_report_their_cold_start_waits() {
    let dir = tempfile::tempdir().unwrap();
    // Three tasks before the first worker is ready (a cold start), one while it is, and one
    // after the pool went back to zero.
    write(dir.path(), "t.csv", "arrival_s,duration_s\n5,10\n6,10\n20,10\n45,5\n1000,5\n");
    write(
        dir.path(),
        "s.toml",
        "[trace]\npath = \"t.csv\"\n[cluster]\ninitial_workers = 0\nprovision_delay_s = 30\n\
         [scaler]\npolicy = \"queue\"\nmin_workers = 0\nmax_workers = 5\ncooldown_period = 0\nmetrics_window = 10\nevaluation_interval = 10\n\
         [scaler.queue]\nidle_grace_s = 60\nscale_down_window_s = 0\n",
    );
    let r = run_in(dir.path(), &["run", "s.toml", "--out", "a", "--json"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    // Two workers asked at the 10 s tick (ready at 40 s: waits 35 and 34 s), a third at the
    // 20 s tick (ready at 50 s: the task of 20 s waits 30 s); back at zero by 1000 s, the
    // last task scales up at its own tick and waits the 30 s start.
    assert_eq!(s["cold_start_tasks"], 4, "{s}");
    assert_eq!(s["cold_start_wait_max_s"].as_f64(), Some(35.0), "{s}");
    assert_eq!(s["cold_start_wait_p95_s"].as_f64(), Some(35.0), "{s}");
    assert_eq!(s["cold_start_wait_mean_s"].as_f64(), Some((35.0 + 34.0 + 30.0 + 30.0) / 4.0), "{s}");
    assert_eq!(s["tasks"], 5);
    // The task of 45 s found ready (busy) workers: not a cold start, though it waited 5 s.
    assert_eq!(s["wait_mean_s"].as_f64(), Some((35.0 + 34.0 + 30.0 + 5.0 + 30.0) / 5.0));
    // A sweep can constrain it: it is a results.csv column.
    let header = read(&dir.path().join("a"), "summary.json");
    assert!(header.contains("\"cold_start_wait_p95_s\""));
}

#[test]
fn spot_capacity_is_cheaper_interrupted_and_its_lost_work_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "trace.csv", &rate_trace());
    let spot = "\nspot_percent = 70\non_demand_base = 2\nspot_price_per_worker_hour = 0.15\nspot_interruptions_per_hour = 6\nspot_notice_s = \"1s\"\n";
    let with_spot = SCENARIO.replace("price_per_worker_hour = 0.5\n", &format!("price_per_worker_hour = 0.5{spot}"));
    assert_ne!(with_spot, SCENARIO);
    write(dir.path(), "od.toml", SCENARIO);
    write(dir.path(), "spot.toml", &with_spot);
    let run = |name: &str, out: &str| run_json(dir.path(), name, out);
    let (od, sp) = (run("od.toml", "a"), run("spot.toml", "b"));
    assert_eq!(od["spot_interruptions"], 0);
    let n = sp["spot_interruptions"].as_u64().unwrap();
    assert!(n > 0, "{sp}");
    // Every task still ran to the end (the run's conservation check), some of them twice.
    assert_eq!(sp["tasks"], od["tasks"]);
    assert!(sp["retries"].as_u64().unwrap() > 0, "{sp}");
    // Most of the pool at 30 % of the price: cheaper, even with the replacements.
    assert!(sp["cost"].as_f64().unwrap() < od["cost"].as_f64().unwrap(), "{od} {sp}");
    // Seeded: the same again is byte-identical; another seed interrupts other workers.
    run("spot.toml", "c");
    assert_eq!(read(&dir.path().join("b"), "timeline.csv"), read(&dir.path().join("c"), "timeline.csv"));
    // 30 seeds with swarm faults on top keep every invariant.
    soak_holds(dir.path(), "spot.toml", "30", "11");
    // Spot keys without a spot share are refused rather than ignored.
    write(
        dir.path(),
        "bad.toml",
        &SCENARIO
            .replace("price_per_worker_hour = 0.5\n", "price_per_worker_hour = 0.5\nspot_interruptions_per_hour = 2\n"),
    );
    let e = refused_run(dir.path(), "bad.toml");
    assert!(e.contains("cluster.spot_interruptions_per_hour = 2: applies to spot capacity"), "{e}");
}

#[test]
fn a_warm_pool_starts_workers_sooner_for_its_stopped_price() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "trace.csv", &rate_trace());
    let warm = "\nwarm_pool_size = 4\nwarm_start_delay_s = 5\nwarm_price_per_worker_hour = 0.02\nwarm_reuse_on_scale_in = true\n";
    let with_warm = SCENARIO.replace("price_per_worker_hour = 0.5\n", &format!("price_per_worker_hour = 0.5{warm}"));
    write(dir.path(), "cold.toml", SCENARIO);
    write(dir.path(), "warm.toml", &with_warm);
    let run = |name: &str, out: &str| run_json(dir.path(), name, out);
    let (cold, warm) = (run("cold.toml", "a"), run("warm.toml", "b"));
    assert_eq!((cold["warm_starts"].as_u64(), cold["warm_pool_worker_seconds"].as_f64()), (Some(0), Some(0.0)));
    assert!(warm["warm_starts"].as_u64().unwrap() > 0, "{warm}");
    // Four stopped workers for the whole run: 4 x end_time_s of warm-pool time.
    let end = warm["end_time_s"].as_f64().unwrap();
    assert!((warm["warm_pool_worker_seconds"].as_f64().unwrap() - 4.0 * end).abs() < 1e-6, "{warm}");
    // Starting in 5 s instead of 30 s: the burst waits less.
    assert!(warm["wait_mean_s"].as_f64().unwrap() < cold["wait_mean_s"].as_f64().unwrap(), "{cold} {warm}");
    assert_eq!(warm["tasks"], cold["tasks"]);
    // The soak's invariants hold with it.
    soak_holds(dir.path(), "warm.toml", "30", "5");
    write(
        dir.path(),
        "bad.toml",
        &SCENARIO.replace("price_per_worker_hour = 0.5\n", "price_per_worker_hour = 0.5\nwarm_start_delay_s = 5\n"),
    );
    let e = refused_run(dir.path(), "bad.toml");
    assert!(e.contains("cluster.warm_start_delay_s = 5: applies to a warm pool"), "{e}");
}

/// `run NAME --out OUT --json` in `dir`, which must succeed: its summary.
fn run_json(dir: &Path, name: &str, out: &str) -> serde_json::Value {
    let r = run_in(dir, &["run", name, "--out", out, "--json"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    serde_json::from_slice(&r.stdout).unwrap()
}

/// `soak FILE --runs RUNS --seed SEED` in `dir`: every run keeps every invariant.
fn soak_holds(dir: &Path, file: &str, runs: &str, seed: &str) {
    let soak = run_in(dir, &["soak", file, "--runs", runs, "--seed", seed]);
    assert!(
        soak.status.success(),
        "{}{}",
        String::from_utf8_lossy(&soak.stdout),
        String::from_utf8_lossy(&soak.stderr)
    );
}

/// `run FILE` in `dir` is refused (status 2) and writes no output folder: its error text.
fn refused_run(dir: &Path, file: &str) -> String {
    let r = run_in(dir, &["run", file, "--out", "refused"]);
    assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!dir.join("refused").exists());
    String::from_utf8_lossy(&r.stderr).into_owned()
}
