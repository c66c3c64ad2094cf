//! Valid input that used to hang, exhaust memory or leave half-written outputs (issue
//! "Hostile input, round two"): each case must finish, within its own memory and time
//! limits, with a result or one clear error, and leave outputs whole.

use std::time::{Duration, Instant};

/// Every case runs under its own memory and time limits, so that a regression fails the
/// test rather than exhausting the machine.
const LIMIT_MIB: u64 = 1024;
const TIMEOUT: Duration = Duration::from_secs(120);

fn run_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    crate::run_limited(dir, args, LIMIT_MIB, TIMEOUT)
}

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// An on/off generator with sojourns far shorter than its bins: the chain's state at each bin
/// is drawn from its transition law, not stepped through ten billion switches.
#[test]
fn an_onoff_pattern_with_sub_millisecond_periods_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let r = run_in(
        dir.path(),
        &[
            "gen",
            "poisson:rate=0.5",
            "onoff:on=0.000001,off=0.000003,high=4,low=0.5",
            "--span-s",
            "86400",
            "--form",
            "rates",
            "--bin-s",
            "60",
            "--seed",
            "2",
            "-o",
            "t.csv",
        ],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    let text = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    assert_eq!(text.lines().count(), 1 + 1440);
    // Time on is a quarter (1 : 3): the mean multiplier is 4/4 + 0.5 * 3/4 = 1.375, so about
    // 0.5 * 1.375 * 60 = 41 arrivals per bin.
    let total: u64 = text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap()).sum();
    let mean = total as f64 / 1440.0;
    assert!((35.0..48.0).contains(&mean), "mean arrivals per bin {mean}");
}

/// `plot` on files holding infinities or NaN refuses them (the plotting library loops on them).
#[test]
fn plot_refuses_non_finite_values() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("run")).unwrap();
    write(
        &d.join("run"),
        "timeline.csv",
        "time_s,current_workers,ready,provisioning,draining,pending_tasks,running_tasks,worker_utilization,window_utilization,action,target_workers,reason,cost\n\
         0,1,1,0,0,0,0,0,0,hold,1,within_band,0\n60,1,1,0,0,inf,0,0,0,hold,1,within_band,NaN\n",
    );
    let start = Instant::now();
    let r = run_in(d, &["plot", "run"]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("is not a finite number"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn thread_counts_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["sweep", "nothing.toml", "--threads", "20000"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("more than the 256 allowed"));
}

/// A scenario, configuration or sweep file that never ends (/dev/zero) is refused after a
/// bounded read, not read until memory runs out.
#[test]
fn an_endless_scenario_file_is_refused_after_a_bounded_read() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["run", "/dev/zero"],
        vec!["sweep", "/dev/zero"],
        vec!["replay", "--config", "/dev/zero", "--observations", "o.csv"],
    ] {
        let r = run_in(dir.path(), &args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains("/dev/zero: is larger than 16 MiB"), "{args:?}: {err}");
    }
}

/// `gen` with a huge rate or span: refused before anything is written, naming the option that
/// lifts the limit; a bin of very many arrivals is placed without holding them all.
#[test]
fn gen_bounds_its_work_and_places_large_bins_in_constant_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (args, expect) in [
        (
            vec!["gen", "poisson:rate=1e9", "--span-s", "10", "--duration", "exponential:mean=1", "-o", "t.csv"],
            "at most 1000000000 (raise the limit with --max-tasks)",
        ),
        (
            vec!["gen", "poisson:rate=1", "--span-s", "1e15", "--form", "rates", "-o", "t.csv"],
            "at most 100000000 (raise the limit with --max-bins)",
        ),
    ] {
        let start = Instant::now();
        let r = run_in(d, &args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(start.elapsed() < Duration::from_secs(30));
        let names: Vec<_> = std::fs::read_dir(d).unwrap().collect();
        assert!(names.is_empty(), "{args:?}: something was written");
    }
    // 300,000 arrivals in one 10 s bin: placed millisecond by millisecond, sorted, all kept.
    let r = run_in(
        d,
        &[
            "gen",
            "poisson:rate=30000",
            "--span-s",
            "10",
            "--bin-s",
            "10",
            "--duration",
            "constant:value=1",
            "-o",
            "t.csv",
        ],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(d.join("t.csv")).unwrap();
    let times: Vec<f64> = text.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert!((290_000..310_000).contains(&times.len()), "{}", times.len());
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "arrivals are in order");
    assert!(times[0] < 0.01 && *times.last().unwrap() > 9.99 && *times.last().unwrap() < 10.0);
}

/// A sweep grid whose settings count overflows 64 bits (or is absurdly large) is refused with
/// its size, before any work.
#[test]
fn a_sweep_grid_too_large_to_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
    let list = format!("[{}]", values.join(", "));
    let text = format!(
        "[trace]\npath = \"t.csv\"\n[scaler]\nmax_workers = 2000\n[sweep]\nscaler.max_workers = {list}\nscaler.min_workers = {list}\n\
         scaler.cooldown_period = {list}\nscaler.metrics_window = {list}\nscaler.evaluation_interval = {list}\nscaler.warmup_period = {list}\n\
         scaler.scale_up_step.min = {list}\n"
    );
    write(dir.path(), "s.toml", &text);
    write(dir.path(), "t.csv", "arrival_s,duration_s\n0,1\n");
    let r = run_in(dir.path(), &["sweep", "s.toml", "--out", "o"]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("grid has more than 2^64 settings (1000 x 1000"), "{err}");
    assert!(!dir.path().join("o").exists());
}

/// The files of `dir` whose names start with a dot (staging folders, temporary files).
fn hidden(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// A run that fails part way (a bad row deep in its trace, after thousands of timeline rows
/// were written) leaves the previous run's files exactly as they were, and nothing else.
#[test]
fn a_run_that_fails_part_way_leaves_the_previous_set_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut trace = String::from("arrival_s,duration_s\n");
    for i in 0..3000 {
        trace.push_str(&format!("{},{}\n", i * 10, 5 + i % 40));
    }
    write(d, "good.csv", &trace);
    trace.push_str("30010,not-a-number\n");
    write(d, "bad.csv", &trace);
    write(
        d,
        "s.toml",
        "[trace]\npath = \"good.csv\"\n[cluster]\ninitial_workers = 1\n[scaler]\nmin_workers = 1\nmax_workers = 5\n",
    );
    let r = run_in(d, &["run", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let before: Vec<(String, Vec<u8>)> =
        ["timeline.csv", "observations.csv", "summary.json", "timeline.png", "timeline.svg"]
            .iter()
            .map(|n| ((*n).to_string(), std::fs::read(d.join("o").join(n)).unwrap()))
            .collect();
    let r = run_in(d, &["run", "s.toml", "--out", "o", "--trace", "bad.csv"]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("bad.csv:3002:"), "{err}");
    for (n, bytes) in &before {
        assert_eq!(&std::fs::read(d.join("o").join(n)).unwrap(), bytes, "{n} changed");
    }
    assert!(hidden(&d.join("o")).is_empty(), "left behind: {:?}", hidden(&d.join("o")));
}

/// `run` killed at pseudo-random moments, alternating two settings: after the next command
/// opens the folder, its files are always one run's whole set (the timeline's scale-ups
/// agree with the summary's) and nothing of the killed runs is left.
#[test]
fn runs_killed_at_any_moment_leave_one_whole_set() {
    let seed: u64 = std::env::var("SCALER_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7);
    println!("kill schedule seed: {seed} (replay with SCALER_KILL_SEED={seed})");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut trace = String::from("arrival_s,duration_s\n");
    for i in 0..20_000u64 {
        trace.push_str(&format!("{},{}\n", i * 3, 20 + (i * 7919) % 200));
    }
    write(d, "t.csv", &trace);
    write(
        d,
        "s.toml",
        "[trace]\npath = \"t.csv\"\n[scaler]\nmin_workers = 1\nmax_workers = 60\nevaluation_interval = 5\n",
    );
    // How long one run takes here, to spread the kills over it.
    let start = Instant::now();
    let r = run_in(d, &["run", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let full = start.elapsed();
    let mut x = seed;
    let mut killed = 0;
    for round in 0..12u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let at = full.mul_f64(((x >> 33) % 1000) as f64 / 1000.0 * 1.2);
        let cooldown = if round % 2 == 0 { "30" } else { "600" };
        let mut child = std::process::Command::new(crate::bin())
            .args(["run", "s.toml", "--out", "o", "--set", &format!("scaler.cooldown_period={cooldown}")])
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        // The next command on the folder completes or removes what the kill left.
        let r = run_in(d, &["plot", "o"]);
        assert!(r.status.success(), "round {round} (seed {seed}): {}", String::from_utf8_lossy(&r.stderr));
        assert!(hidden(&d.join("o")).is_empty(), "round {round} (seed {seed}): left {:?}", hidden(&d.join("o")));
        let tl = std::fs::read_to_string(d.join("o/timeline.csv")).unwrap();
        let ups = tl.lines().filter(|l| l.contains(",scale_up,")).count();
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("o/summary.json")).unwrap()).unwrap();
        assert_eq!(
            summary["scale_ups"].as_u64(),
            Some(ups as u64),
            "round {round} (seed {seed}): timeline.csv and summary.json are from different runs"
        );
    }
    println!("{killed} of 12 runs killed");
    assert!(killed > 0, "no run was killed (seed {seed}): the schedule tests nothing");
}

/// `plot` reads the scenario a sweep's manifest names with the scenario reader's size cap: a
/// manifest naming `/dev/zero` used to be read until memory ran out.
#[test]
fn plot_reads_the_manifests_scenario_with_a_size_cap() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t.csv", "arrival_s,duration_s\n0,5\n10,5\n20,5\n");
    write(
        d,
        "s.toml",
        "[trace]\npath = \"t.csv\"\n[scaler]\nmin_workers = 1\nmax_workers = 4\n[sweep]\nscaler.cooldown_period = [30, 60]\n",
    );
    let r = run_in(d, &["sweep", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let manifest = std::fs::read_to_string(d.join("o/sweep.json")).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    m["scenario"] = serde_json::json!("/dev/zero");
    std::fs::write(d.join("o/sweep.json"), m.to_string()).unwrap();
    let r = run_in(d, &["plot", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(d.join("o/report.html").exists());
}
