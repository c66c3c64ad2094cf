//! `[trace] resample` read from a scenario (and refused clearly), applied by `trace::open`
//! and `trace::load` alike; `results.csv` with the spread columns of a multi-seed sweep.

use std::path::Path;

use scaler_formats::results::{self, Expected, SettingResult, TornRow};
use scaler_formats::scenario::{self, Overrides, Resample, Scenario};
use scaler_formats::tomldoc::Doc;
use scaler_model::trace::TaskSource;
use scaler_model::{Task, METRICS};

fn scenario_in(dir: &Path, trace_keys: &str) -> Result<Scenario, String> {
    let path = dir.join("s.toml");
    let doc = Doc::parse(&path, format!("[trace]\npath = \"t.csv\"\n{trace_keys}\n")).map_err(|e| e.to_string())?;
    scenario::from_doc(&doc, &Overrides::default()).map_err(|e| e.to_string())
}

fn resample_of(keys: &str) -> Result<Resample, String> {
    scenario_in(Path::new("."), keys).map(|s| s.trace.resample)
}

#[test]
fn the_resample_key_reads_each_method_and_its_defaults() {
    for (keys, want) in [
        ("", Resample::None),
        ("resample = \"none\"", Resample::None),
        ("resample = \"jitter\"", Resample::Jitter { resolution_ms: 1000 }),
        ("resample = { method = \"jitter\", resolution_s = 0.25 }", Resample::Jitter { resolution_ms: 250 }),
        ("resample = \"block_bootstrap\"", Resample::BlockBootstrap { block_ms: 86_400_000 }),
        (
            "resample = { method = \"block_bootstrap\", block_s = \"1h\" }",
            Resample::BlockBootstrap { block_ms: 3_600_000 },
        ),
    ] {
        assert_eq!(resample_of(keys), Ok(want), "{keys}");
    }
}

#[test]
fn bad_resample_keys_are_refused_at_their_place() {
    for (keys, want) in [
        (
            "resample = \"bootstrap\"",
            "s.toml:3:12: trace.resample = \"bootstrap\": must be \"none\", \"jitter\" or \"block_bootstrap\"",
        ),
        ("resample = 3", "trace.resample must be a string"),
        ("resample = { block_s = 60 }", "trace.resample.method is required"),
        ("resample = { method = \"jitter\", block_s = 60 }", "unknown key `trace.resample.block_s`"),
        ("resample = { method = \"block_bootstrap\", block_s = 0 }", "trace.resample.block_s = 0: must be > 0 seconds"),
        (
            "resample = { method = \"jitter\", resolution_s = -1 }",
            "trace.resample.resolution_s = -1: must be > 0 seconds",
        ),
        (
            "format = \"rates\"\nduration_s = 1\nresample = \"jitter\"",
            "s.toml:5:12: trace.resample applies to task traces only",
        ),
    ] {
        let e = resample_of(keys).expect_err(keys);
        assert!(e.contains(want), "{keys}: {e}");
    }
}

fn drain(mut s: impl TaskSource<Error = scaler_formats::error::InputError>) -> Vec<Task> {
    let mut v = Vec::new();
    while let Some(t) = s.next_task().unwrap() {
        v.push(t);
    }
    v
}

#[test]
fn open_and_load_resample_alike_and_a_rate_trace_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("arrival_s,duration_s\n");
    for i in 0..300u64 {
        text.push_str(&format!("{},{}\n", i / 3, 1 + i % 7));
    }
    std::fs::write(dir.path().join("t.csv"), &text).unwrap();
    for keys in ["", "resample = \"jitter\"", "resample = { method = \"block_bootstrap\", block_s = 10 }"] {
        let sc = scenario_in(dir.path(), keys).unwrap();
        let loaded = scaler_formats::trace::load(&sc.trace).unwrap();
        for seed in [1, 2] {
            let streamed = drain(scaler_formats::trace::open(&sc.trace, seed).unwrap());
            let mut shared = loaded.source(seed);
            let mut from_memory = Vec::new();
            while let Some(t) = shared.next_task().unwrap_or_else(|e| match e {}) {
                from_memory.push(t);
            }
            assert_eq!(streamed, from_memory, "{keys}, seed {seed}");
        }
        let (a, b) = (
            drain(scaler_formats::trace::open(&sc.trace, 1).unwrap()),
            drain(scaler_formats::trace::open(&sc.trace, 2).unwrap()),
        );
        assert_eq!(a == b, keys.is_empty(), "{keys}: only resampling makes seeds differ");
    }
    std::fs::write(dir.path().join("t.csv"), "timestamp_s,arrivals\n0,3\n60,4\n").unwrap();
    let sc = scenario_in(dir.path(), "duration_s = 1\nresample = \"jitter\"").unwrap();
    for e in
        [scaler_formats::trace::load(&sc.trace).unwrap_err(), scaler_formats::trace::open(&sc.trace, 0).err().unwrap()]
    {
        let e = e.to_string();
        assert!(e.contains("t.csv:1: trace.resample applies to task traces only"), "{e}");
    }
}

#[test]
fn spread_columns_are_written_read_back_and_checked_against_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.csv");
    let axes = vec!["scaler.cooldown_period".to_string()];
    let spread: Vec<String> = ["wait_p95_s_min", "wait_p95_s_max", "wait_p95_s_q90"].map(String::from).to_vec();
    let ok = SettingResult {
        index: 0,
        status: "ok".into(),
        metrics: (0..METRICS.len()).map(|k| k as f64 + 0.5).collect(),
        spread: vec![1.0, 3.0, 2.5],
    };
    let bad = SettingResult { index: 1, status: "invalid: no".into(), metrics: Vec::new(), spread: Vec::new() };
    let mut text = results::header_with(&axes, &spread) + "\n";
    text.push_str(&results::line_in(&ok, &["30"], spread.len()));
    text.push('\n');
    text.push_str(&results::line_in(&bad, &["60"], spread.len()));
    text.push('\n');
    std::fs::write(&path, &text).unwrap();
    assert!(text.lines().all(|l| l.split(',').count() == 1 + 1 + 1 + METRICS.len() + 3), "{text}");
    let want = Expected { axes: &axes, settings: 2, spread: &spread };
    let read = results::read_sweep(&path, want, TornRow::Refuse).unwrap();
    assert_eq!(read.table.rows[0].result, ok);
    assert_eq!(read.table.rows[1].result, bad);
    // Header-driven (plot): the spread columns are recognised.
    let t = results::read(&path, None).unwrap();
    assert_eq!(t.spread, spread);
    // A single-seed sweep refuses the file, and a multi-seed one refuses a single-seed file.
    let e = results::read_sweep(&path, Expected { axes: &axes, settings: 2, spread: &[] }, TornRow::Refuse)
        .unwrap_err()
        .to_string();
    assert!(e.contains("results.csv:1: the columns are not this sweep's (29 columns, this sweep's have 26)"), "{e}");
    let single = results::header(&axes) + "\n" + &results::line(&bad, &["60"]) + "\n";
    std::fs::write(&path, single).unwrap();
    let e = results::read_sweep(&path, want, TornRow::Refuse).unwrap_err().to_string();
    assert!(e.contains("the columns are not this sweep's (26 columns, this sweep's have 29)"), "{e}");
    // A column after the metrics that is not a spread column is refused by the header-driven reader.
    std::fs::write(&path, results::header_with(&axes, &["wait_p95_s_avg".to_string()]) + "\n").unwrap();
    let e = results::read(&path, None).unwrap_err().to_string();
    assert!(e.contains("column `wait_p95_s_avg` after the metrics is not a spread column"), "{e}");
    for (name, is) in
        [("cost_min", true), ("cost_q100", true), ("cost_q101", false), ("costs_max", false), ("cost_q", false)]
    {
        assert_eq!(results::is_spread_column(name), is, "{name}");
    }
}
