//! Scenario values that validate must also run: distributions are checked by building their
//! sampler, prices are capped, summaries never hold `null` for a number.

use std::path::Path;

use scaler_formats::scenario::{self, DurationDist, DurationSpec, Overrides, Scenario};
use scaler_formats::tomldoc::Doc;
use scaler_model::random::{stream_rng, DurationSampler};

fn scenario(text: &str) -> Result<Scenario, String> {
    let doc = Doc::parse(Path::new("s.toml"), text.to_string()).map_err(|e| e.to_string())?;
    scenario::from_doc(&doc, &Overrides::default()).map_err(|e| e.to_string())
}

fn with_duration(duration: &str) -> Result<Scenario, String> {
    scenario(&format!("[trace]\npath = \"trace.csv\"\nduration = {duration}\n"))
}

#[test]
fn distributions_whose_constructor_fails_are_refused_at_validation() {
    for (dist, want) in [
        (
            "{ dist = \"lognormal\", mean_s = 10, cv = 1.35e154 }",
            "s.toml:3:52: trace.duration.cv = 1.35e154: too large: ln(1 + cv^2) overflows",
        ),
        (
            "{ dist = \"pareto\", mean_s = 5e-324, alpha = 2 }",
            "s.toml:3:40: trace.duration.mean_s = 5e-324: the Pareto scale mean_s * (alpha - 1) / alpha must be a finite number > 0",
        ),
        (
            "{ dist = \"pareto\", mean_s = 1.7e308, alpha = 3 }",
            "trace.duration.mean_s = 1.7e308: the Pareto scale",
        ),
    ] {
        let err = with_duration(dist).expect_err(dist);
        assert!(err.contains(want), "{dist}: {err}");
    }
}

#[test]
fn every_distribution_that_validates_can_be_sampled() {
    // Edges that pass: each builds its sampler and draws without panicking.
    for dist in [
        "{ dist = \"lognormal\", mean_s = 10, cv = 1e150 }",
        "{ dist = \"lognormal\", mean_s = 5e-324, cv = 1e-300 }",
        "{ dist = \"lognormal\", mean_s = 1.7e308, cv = 3 }",
        "{ dist = \"pareto\", mean_s = 1e-300, alpha = 1.5 }",
        "{ dist = \"pareto\", mean_s = 1e300, alpha = 1.0000001 }",
        "{ dist = \"exponential\", mean_s = 5e-324 }",
        "{ dist = \"exponential\", mean_s = 1.7e308 }",
        "{ dist = \"uniform\", min_s = 0, max_s = 1.7e308 }",
        "{ dist = \"uniform\", min_s = 5, max_s = 5 }",
    ] {
        let s = with_duration(dist).unwrap_or_else(|e| panic!("{dist}: {e}"));
        let Some(DurationSpec::Dist(d)) = s.trace.duration else { panic!("{dist}: no distribution") };
        let mut sampler = DurationSampler::try_new(d, stream_rng(1, 2)).unwrap();
        for _ in 0..100 {
            let ms = sampler.sample_ms();
            assert!(ms <= 1_000_000_000_000_000, "{dist}: {ms}");
        }
    }
}

#[test]
fn the_check_is_the_constructor() {
    let bad = DurationDist::LogNormal { mean_s: 1.0, cv: 1.35e154 };
    let e = bad.check().unwrap_err();
    assert_eq!((e.key, e.shown_value()), ("cv", "1.35e154".to_string()));
    assert!(DurationSampler::try_new(bad, stream_rng(1, 2)).is_err());
    let e = DurationDist::Uniform { min_s: 2.0, max_s: 1.0 }.check().unwrap_err();
    assert_eq!(e.to_string(), "max_s = 1: must be a finite number >= min_s");
    assert!(DurationDist::Pareto { mean_s: 1.0, alpha: f64::NAN }.check().is_err());
}

#[test]
fn a_price_that_could_overflow_the_cost_is_refused() {
    let base = "[trace]\npath = \"trace.csv\"\n[cluster]\nprice_per_worker_hour = ";
    let err = scenario(&format!("{base}1.7e308\n")).unwrap_err();
    assert_eq!(
        err,
        "s.toml:4:25: cluster.price_per_worker_hour = 1.7e308: must be at most 1e12 per worker-hour (a higher price can overflow the cost to infinity)"
    );
    assert!(scenario(&format!("{base}1e12\n")).is_ok());
    assert!(scenario(&format!("{base}1000000000001\n")).is_err());
}

#[test]
fn a_window_of_too_many_ticks_is_refused_in_the_simulator() {
    let base = "[trace]\npath = \"trace.csv\"\n[scaler]\nevaluation_interval = 0.001\nmetrics_window = ";
    let err = scenario(&format!("{base}86400\n")).unwrap_err();
    assert!(
        err.contains("scaler.metrics_window = 86400 holds 86400000 evaluation intervals of 0.001 s: the simulator keeps a sample per tick, at most 10000000"),
        "{err}"
    );
    assert!(scenario(&format!("{base}10000\n")).is_ok());
}

#[test]
fn summary_json_refuses_a_non_finite_number_instead_of_writing_null() {
    let sc = scenario("[trace]\npath = \"trace.csv\"\n").unwrap();
    let mut s = scaler_model::Summary {
        tasks: 1,
        wait_mean_s: 0.0,
        wait_p50_s: 0.0,
        wait_p95_s: 0.0,
        wait_p99_s: 0.0,
        wait_max_s: 0.0,
        slo_violation_ratio: 0.0,
        cost: 2.5,
        worker_seconds: 1.0,
        billed_worker_seconds: 1.0,
        scale_ups: 0,
        scale_downs: 0,
        mean_workers: 1.0,
        max_workers: 1,
        end_time_s: 1.0,
        ticks: 1,
        workers_requested: 1,
        slo_violations: 0,
        mean_queue_length: 0.0,
        warm_starts: 0,
        warm_pool_worker_seconds: 0.0,
        cold_start_tasks: 0,
        cold_start_wait_mean_s: 0.0,
        cold_start_wait_p95_s: 0.0,
        cold_start_wait_max_s: 0.0,
        faults: scaler_model::FaultCounts::default(),
        warmup_s: 0.0,
        measured_tasks: None,
    };
    let ok = scaler_formats::summary::summary_json(&s, &sc).unwrap();
    assert!(ok.contains("\"cost\": 2.5") && !ok.contains("null"), "{ok}");
    s.cost = f64::INFINITY;
    let e = scaler_formats::summary::summary_json(&s, &sc).unwrap_err().to_string();
    assert!(e.contains("summary.json: cost = inf is not a finite number"), "{e}");
    s.cost = 1.0;
    s.mean_queue_length = f64::NAN;
    let e = scaler_formats::summary::summary_json(&s, &sc).unwrap_err().to_string();
    assert!(e.contains("mean_queue_length = NaN"), "{e}");
}
