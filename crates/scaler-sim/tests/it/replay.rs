//! `replay` behaviour beyond the golden cases: atomic output, determinism.

use std::path::Path;

use crate::run_in;

const HEADER: &str = "timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn failed_replay_keeps_the_previous_output_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "c.toml", "[scaler]\n");
    write(dir.path(), "out.csv", "precious\n");
    // A large valid prefix (so output is flushed before the bad row), then a bad row.
    let mut obs = String::from(HEADER);
    for i in 0..50_000 {
        obs.push_str(&format!("{i},2,1,2,10,0.5\n"));
    }
    obs.push_str("50000,2,1,2,10,2\n");
    write(dir.path(), "o.csv", &obs);
    let out = run_in(dir.path(), &["replay", "--config", "c.toml", "--observations", "o.csv", "--out", "out.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: o.csv:50002: column 6 (worker_utilization): \"2\" is above 1 (a utilization is between 0 and 1)\n"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("out.csv")).unwrap(), "precious\n");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // On standard output, nothing is written either.
    let out = run_in(dir.path(), &["replay", "--config", "c.toml", "--observations", "o.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn stdout_and_file_outputs_are_identical_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "c.toml", "[scaler]\nmin_workers = 2\ncooldown_period = 90\nmetrics_window = 120\n");
    let mut obs = String::from(HEADER);
    let mut x: u64 = 7;
    for i in 0..5_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let util = (x >> 33) % 1001;
        let workers = 1 + (x >> 20) % 12;
        obs.push_str(&format!(
            "{},{workers},{},{workers},12.5,{}.{:03}\n",
            i * 30,
            (x >> 40) % 4,
            util / 1000,
            util % 1000
        ));
    }
    write(dir.path(), "o.csv", &obs);
    let a = run_in(dir.path(), &["replay", "--config", "c.toml", "--observations", "o.csv"]);
    let b = run_in(dir.path(), &["replay", "--config", "c.toml", "--observations", "o.csv", "--out", "d.csv"]);
    assert!(a.status.success() && b.status.success());
    let file = std::fs::read(dir.path().join("d.csv")).unwrap();
    assert_eq!(a.stdout, file);
    let c = run_in(dir.path(), &["replay", "--config", "c.toml", "--observations", "o.csv"]);
    assert_eq!(a.stdout, c.stdout);
    let text = String::from_utf8(file).unwrap();
    assert_eq!(text.lines().count(), 5_001);
    for reason in ["utilization_high", "utilization_low", "cooldown", "below_min_workers", "above_max_workers"] {
        assert!(text.contains(reason), "a random stream should reach {reason}");
    }
}

#[test]
fn hostile_inputs_get_one_clear_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "c.toml", "[scaler]\n");
    // A gigabyte-long line: a sparse 1 GiB file with no line end (not committed; made here).
    let big = std::fs::File::create(d.join("big.csv")).unwrap();
    big.set_len(1 << 30).unwrap();
    drop(big);
    let cases: Vec<(&str, String, &str)> = vec![
        ("big.csv", String::new(), "big.csv:1: line is longer than 1048576 bytes"),
        (
            "huge.csv",
            format!("{HEADER}99999999999999999999999999,1,0,0,1,0.5\n"),
            "huge.csv:2: column 1 (timestamp_s): \"99999999999999999999999999\" is too large",
        ),
        (
            "inf.csv",
            format!("{HEADER}0,1,0,0,inf,0.5\n"),
            "inf.csv:2: column 5 (avg_task_duration_s): \"inf\" must be a number of seconds",
        ),
        // A short row in the middle is an error; a torn last row (no line end) is skipped below.
        ("short.csv", format!("{HEADER}0,1,0,0,1,0.5\n60,1,0\n"), "short.csv:3: row has 3 fields but the header has 6"),
        ("trail.csv", format!("{HEADER}0,1,0,0,1,0.5,\n"), "trail.csv:2: row has 7 fields but the header has 6"),
        (
            "neg.csv",
            format!("{HEADER}-5,1,0,0,1,0.5\n"),
            "neg.csv:2: column 1 (timestamp_s): \"-5\" must not be negative",
        ),
        (
            "dup.csv",
            "timestamp_s,timestamp_s\n".to_string(),
            "dup.csv:1: column 2 (timestamp_s): duplicate column `timestamp_s` in header",
        ),
        (
            "bin.csv",
            format!("{HEADER}\u{0}\u{1},1,0,0,1,0.5\n"),
            "bin.csv:2: column 1 (timestamp_s): \"\\0\\u{1}\" must be a number of seconds",
        ),
    ];
    for (name, text, expect) in cases {
        if !text.is_empty() {
            write(d, name, &text);
        }
        let out = run_in(d, &["replay", "--config", "c.toml", "--observations", name, "--out", "o.csv"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with(&format!("error: {expect}")), "{name}: {err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"));
        assert!(!d.join("o.csv").exists(), "{name}: output written");
    }
    // A torn last row, as a crash or a full disk leaves a recording: skipped and reported.
    write(d, "trunc.csv", &format!("{HEADER}0,1,0,0,1,0.5\n60,1,0"));
    let out = run_in(d, &["replay", "--config", "c.toml", "--observations", "trunc.csv", "--out", "o.csv"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("skipped a torn last row (no line end, as a crash leaves it): trunc.csv:3: row has 3 fields"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(d.join("o.csv")).unwrap().lines().count(), 2);
    std::fs::remove_file(d.join("o.csv")).unwrap();
    // An --out that cannot be written: its folder is a file.
    write(d, "ok.csv", &format!("{HEADER}0,1,0,0,1,0.5\n"));
    write(d, "afile", "x");
    let out = run_in(d, &["replay", "--config", "c.toml", "--observations", "ok.csv", "--out", "afile/o.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("error: afile/o.csv: cannot write: directory afile does not exist"));
}

/// The contract's example: 67/68, 50/68, 43/68 and 44/68 have the exact mean 0.75. Read as
/// 9-decimal text they sum to 3.000000001 (each is rounded), so the six-column file is above a
/// 0.75 threshold; with the exact counts replay sees exactly 0.75, as the simulator did.
#[test]
fn replay_is_exact_with_the_recorded_counts() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.toml",
        "[scaler]\nmin_workers = 1\nmax_workers = 100\nscale_up_threshold = 0.75\nscale_down_threshold = 0.1\ncooldown_period = 0\nmetrics_window = 240\n",
    );
    let busy = [67u64, 50, 43, 44];
    let util = |b: u64| scaler_core::Utilization::ratio(b, 68).unwrap().to_string();
    let mut six = String::from(HEADER);
    let mut nine = format!("{},ready_workers,busy_slots,total_slots\n", HEADER.trim_end());
    for (i, &b) in busy.iter().enumerate() {
        six.push_str(&format!("{},68,5,{b},10,{}\n", i * 60, util(b)));
        nine.push_str(&format!("{},68,5,{b},10,{},68,{b},68\n", i * 60, util(b)));
    }
    write(dir.path(), "six.csv", &six);
    write(dir.path(), "nine.csv", &nine);
    let last = |name: &str| {
        let out = run_in(dir.path(), &["replay", "--config", "c.toml", "--observations", name]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_string()
    };
    assert_eq!(last("six.csv"), "180,scale_up,100,utilization_high,0.75,68,5");
    assert_eq!(last("nine.csv"), "180,hold,68,within_band,0.75,68,5");
}

#[test]
fn inconsistent_exact_counts_are_refused_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "c.toml", "[scaler]\n");
    let head = format!("{},ready_workers,busy_slots,total_slots\n", HEADER.trim_end());
    for (row, expect) in [
        (
            "0,4,1,2,10,0.5,4,3,4",
            "column 6 (worker_utilization): 0.5 does not match busy_slots / total_slots = 3 / 4 (= 0.75)",
        ),
        ("0,4,1,2,10,1,4,5,4", "column 8 (busy_slots): busy_slots = 5: must be <= total_slots"),
        ("0,4,1,2,10,0.5,5,2,4", "column 7 (ready_workers): ready_workers = 5: must be <= current_workers"),
        ("0,4,1,2,10,0.5,4,,4", "column 8 (busy_slots): is empty, but the other exact columns"),
    ] {
        write(dir.path(), "o.csv", &format!("{head}{row}\n"));
        let out = run_in(dir.path(), &["replay", "--config", "c.toml", "--observations", "o.csv"]);
        assert_eq!(out.status.code(), Some(2), "{row}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: o.csv:2: "), "{err}");
        assert!(err.contains(expect), "{row}: {err}");
        assert!(out.stdout.is_empty());
    }
    // All three empty: a plain observation (what the runtime writes when it has no counts).
    write(dir.path(), "o.csv", &format!("{head}0,4,1,2,10,0.5,,,\n"));
    let out = run_in(dir.path(), &["replay", "--config", "c.toml", "--observations", "o.csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// An output that is an input is refused, however it is spelled; nothing is destroyed.
#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "c.toml", "[scaler]\n");
    let obs = format!("{HEADER}0,1,0,0,1,0.5\n");
    write(d, "o.csv", &obs);
    std::os::unix::fs::symlink("o.csv", d.join("alias.csv")).unwrap();
    for out in ["o.csv", "./o.csv", "alias.csv", "c.toml"] {
        let r = run_in(d, &["replay", "--config", "c.toml", "--observations", "o.csv", "--out", out]);
        assert_eq!(r.status.code(), Some(2), "{out}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains("is also an input") && err.contains("would destroy that input"), "{out}: {err}");
        assert_eq!(std::fs::read_to_string(d.join("o.csv")).unwrap(), obs);
        assert_eq!(std::fs::read_to_string(d.join("c.toml")).unwrap(), "[scaler]\n");
    }
    // `run --out .` beside a trace named timeline.csv.
    write(d, "timeline.csv", "arrival_s,duration_s\n0,5\n");
    write(d, "s.toml", "[trace]\npath = \"timeline.csv\"\n[scaler]\n");
    let r = run_in(d, &["run", "s.toml", "--out", "."]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("is also an input"));
    assert_eq!(std::fs::read_to_string(d.join("timeline.csv")).unwrap(), "arrival_s,duration_s\n0,5\n");
}

/// A symbolic link as the output is written through (it stays a link); `-` and `/dev/stdout`
/// are standard output, written directly.
#[test]
fn links_stay_links_and_standard_output_is_written_directly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "c.toml", "[scaler]\n");
    write(d, "o.csv", &format!("{HEADER}0,1,0,0,1,0.5\n"));
    write(d, "real.csv", "old\n");
    std::os::unix::fs::symlink("real.csv", d.join("link.csv")).unwrap();
    let r = run_in(d, &["replay", "--config", "c.toml", "--observations", "o.csv", "--out", "link.csv"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(std::fs::symlink_metadata(d.join("link.csv")).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(d.join("real.csv")).unwrap().starts_with("timestamp_s,action"));
    // `--out -`: the decisions on standard output.
    let r = run_in(d, &["replay", "--config", "c.toml", "--observations", "o.csv", "--out", "-"]);
    assert!(r.status.success());
    assert!(String::from_utf8_lossy(&r.stdout).starts_with("timestamp_s,action"));
    assert!(!d.join("-").exists());
    // gen to standard output, by `-` and by /dev/stdout: the trace on stdout, messages on stderr,
    // and /dev/stdout is still what it was.
    let before = std::fs::symlink_metadata("/dev/stdout").map(|m| m.file_type().is_symlink()).ok();
    for o in ["-", "/dev/stdout"] {
        let r = run_in(
            d,
            &["gen", "poisson:rate=1", "--span-s", "20", "--duration", "exponential:mean=5", "--seed", "3", "-o", o],
        );
        assert!(r.status.success(), "{o}: {}", String::from_utf8_lossy(&r.stderr));
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(out.starts_with("arrival_s,duration_s\n"), "{o}: {out}");
        assert!(String::from_utf8_lossy(&r.stderr).contains("seed: 3"), "{o}");
    }
    assert_eq!(std::fs::symlink_metadata("/dev/stdout").map(|m| m.file_type().is_symlink()).ok(), before);
    assert!(!d.join("-").exists());
}
