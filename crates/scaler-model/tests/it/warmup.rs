//! `[cluster] warmup_s`: the first seconds are simulated but left out of the metrics.

use std::path::{Path, PathBuf};

use scaler_formats::scenario::{self, Overrides};
use scaler_formats::tomldoc::Doc;

use crate::sim::{sim, tasks};

const ONE: &str = "[scaler]\nmin_workers = 1\nmax_workers = 1\n";

/// One worker: A 0-10, B waits 0-10 then runs 10-20, C arrives at 5, waits 5-20 and runs 20-21.
fn abc() -> Vec<scaler_model::Task> {
    tasks(&[("0", "10"), ("0", "10"), ("5", "1")])
}

fn cluster(warmup: &str) -> String {
    format!(
        "{ONE}[cluster]\nbilling_increment_s = 1\nbilling_minimum_s = 0\nprice_per_worker_hour = 3.6\nslo_wait_s = 10\n{warmup}"
    )
}

#[test]
fn a_warmup_of_zero_changes_nothing() {
    // Scenarios with scaling, billing minimums and a tick-0 scale down: the summary and the
    // timeline with `warmup_s = 0` are those without the key.
    let bases = [
        cluster(""),
        "[cluster]\ninitial_workers = 4\nprovision_delay_s = 30\nbilling_minimum_s = 60\n[scaler]\nmin_workers = 1\nmax_workers = 6\ncooldown_period = 30\nmetrics_window = 30\nevaluation_interval = 15\n".to_string(),
    ];
    let load: Vec<_> = (0..200u64)
        .map(|i| scaler_model::Task { arrival_ms: 20_000 + i * 700, duration_ms: 4_000 + (i * 7919) % 9_000 })
        .collect();
    for base in &bases {
        for t in [abc(), load.clone()] {
            let (rows0, s0) = sim(base, t.clone());
            let with = if base.contains("[cluster]\n") {
                base.replacen("[cluster]\n", "[cluster]\nwarmup_s = 0\n", 1)
            } else {
                format!("{base}[cluster]\nwarmup_s = 0\n")
            };
            let (rows1, s1) = sim(&with, t);
            assert_eq!(s0, s1, "{with}");
            assert_eq!(rows0, rows1, "{with}");
            assert_eq!((s1.warmup_s, s1.measured_tasks), (0.0, None));
        }
    }
}

#[test]
fn a_warmup_leaves_out_the_tasks_arriving_in_it_and_the_time_before_it() {
    // Without a warm-up: waits 0, 10, 15 over 21 s of one worker (see sim.rs).
    let (rows0, s0) = sim(&cluster(""), abc());
    assert_eq!((s0.wait_max_s, s0.cost, s0.worker_seconds), (15.0, 0.021, 21.0));
    // Warm-up 3 s (not an instant of any event): only C (arrival 5 s) is measured; the worker's
    // time counts from 3 s: 18 s at 0.001 per s.
    // Billed time is the bill at the end less the bill had the pool stopped at the warm-up's
    // end: with 1 s increments, 0.001 s bills a whole second.
    for (warmup, measured, life_s, billed_s) in
        [("3", 1, 18.0, 18.0), ("5", 1, 16.0, 16.0), ("0.001", 1, 20.999, 20.0), ("6", 0, 15.0, 15.0)]
    {
        let (rows, s) = sim(&cluster(&format!("warmup_s = {warmup}\n")), abc());
        assert_eq!(rows, rows0, "the timeline stays complete (warmup {warmup})");
        assert_eq!(s.tasks, 3, "tasks is the trace's (warmup {warmup})");
        assert_eq!(s.measured_tasks, Some(measured), "warmup {warmup}");
        assert_eq!(s.warmup_s, warmup.parse::<f64>().unwrap());
        let (wait, ratio) = if measured == 1 { (15.0, 1.0) } else { (0.0, 0.0) };
        assert_eq!(
            (s.wait_mean_s, s.wait_p50_s, s.wait_p95_s, s.wait_max_s),
            (wait, wait, wait, wait),
            "warmup {warmup}"
        );
        assert_eq!((s.slo_violation_ratio, s.slo_violations), (ratio, measured), "warmup {warmup}");
        assert!((s.worker_seconds - life_s).abs() < 1e-9, "warmup {warmup}: {}", s.worker_seconds);
        assert!((s.billed_worker_seconds - billed_s).abs() < 1e-9, "warmup {warmup}: {}", s.billed_worker_seconds);
        assert!((s.cost - billed_s * 0.001).abs() < 1e-12, "warmup {warmup}: {}", s.cost);
        assert_eq!((s.mean_workers, s.max_workers), (1.0, 1), "warmup {warmup}");
        assert_eq!((s.end_time_s, s.ticks), (s0.end_time_s, s0.ticks));
    }
}

#[test]
fn a_warmup_leaves_out_the_tick_0_scale_down() {
    // Four workers at 0, the first task at 20 s: tick 0 sees no load and scales down.
    let cfg = |w: &str| {
        format!("[cluster]\ninitial_workers = 4\n{w}[scaler]\nmin_workers = 1\nmax_workers = 4\ncooldown_period = 30\nmetrics_window = 30\nevaluation_interval = 15\n")
    };
    let t: Vec<_> =
        (0..40u64).map(|i| scaler_model::Task { arrival_ms: 20_000 + i * 500, duration_ms: 2_000 }).collect();
    let (rows0, s0) = sim(&cfg(""), t.clone());
    assert_eq!(rows0[0].decision.action, scaler_core::Action::ScaleDown, "the tick-0 artefact");
    let after_tick_0 = f64::from(rows0[0].current_workers);
    assert_eq!(after_tick_0, 3.0);
    let (rows, s) = sim(&cfg("warmup_s = 1\n"), t);
    assert_eq!(rows, rows0);
    assert_eq!(s.scale_downs, s0.scale_downs - 1, "tick 0 is in the warm-up");
    assert_eq!(s.scale_ups, s0.scale_ups);
    assert_eq!((s.measured_tasks, s.wait_mean_s), (Some(40), s0.wait_mean_s), "every task arrives after 1 s");
    assert!(s.cost < s0.cost && s.worker_seconds < s0.worker_seconds);
    // Mean workers over [1 s, end]: the integral of workers less the first second's 3 workers.
    let end = s0.end_time_s;
    let want = (s0.mean_workers * end - after_tick_0) / (end - 1.0);
    assert!((s.mean_workers - want).abs() < 1e-9, "{} vs {want}", s.mean_workers);
}

#[test]
fn a_run_that_ends_in_its_warmup_measures_nothing() {
    let (_, s) = sim(&cluster("warmup_s = \"1m\"\n"), abc());
    assert_eq!((s.tasks, s.measured_tasks, s.warmup_s), (3, Some(0), 60.0));
    assert_eq!((s.wait_max_s, s.cost, s.worker_seconds, s.mean_workers, s.max_workers), (0.0, 0.0, 0.0, 0.0, 0));
}

#[test]
fn a_bad_warmup_is_refused_at_its_value() {
    for (text, want) in [
        ("warmup_s = -1", "inline.toml:2:12: cluster.warmup_s = -1: must be >= 0 seconds"),
        ("warmup_s = \"soon\"", "inline.toml:2:12: cluster.warmup_s"),
        ("warmup = 5", "unknown key `cluster.warmup`"),
    ] {
        let doc = Doc::parse(Path::new("inline.toml"), format!("[cluster]\n{text}\n")).unwrap();
        let o = Overrides { trace: Some(PathBuf::from("inline.csv")), ..Overrides::default() };
        let err = scenario::from_doc(&doc, &o).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}
