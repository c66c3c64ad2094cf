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
