//! Configuration rules (SPEC section 2): each refusal names key, value and rule.

use scaler_core::{Aggregate, DurationMs, Fixed9, ScalerConfig};

use crate::{cfg, try_cfg};

#[test]
fn defaults_match_the_contract() {
    let c = ScalerConfig::default();
    assert_eq!(c, cfg(""));
    assert_eq!((c.min_workers(), c.max_workers()), (1, 10));
    assert_eq!(c.scale_up_threshold(), Fixed9::parse("0.8").unwrap());
    assert_eq!(c.scale_down_threshold(), Fixed9::parse("0.2").unwrap());
    assert_eq!(c.cooldown_period(), DurationMs(300_000));
    assert_eq!(c.metrics_window(), DurationMs(300_000));
    assert_eq!(c.evaluation_interval(), DurationMs(60_000));
    assert_eq!(c.utilization_aggregate(), Aggregate::Mean);
    assert_eq!((c.scale_up_step().percent().to_string(), c.scale_up_step().min()), ("50".into(), 1));
    assert_eq!((c.scale_down_step().percent().to_string(), c.scale_down_step().min()), ("25".into(), 1));
}

/// `toml` must be refused with a message containing every fragment of `expect`.
fn refused(toml: &str, expect: &[&str]) {
    let err = try_cfg(toml).expect_err(toml);
    for e in expect {
        assert!(err.contains(e), "config {toml:?}: error {err:?} lacks {e:?}");
    }
}

#[test]
fn every_rule_is_enforced() {
    refused("min_workers = -1", &["min_workers", "-1", ">= 0"]);
    refused("min_workers = 1.5", &["min_workers", "1.5", "whole"]);
    refused("max_workers = 0", &["max_workers", "0", ">= 1"]);
    refused("min_workers = 5\nmax_workers = 4", &["min_workers", "5", "<= max_workers (4)"]);
    refused("scale_up_threshold = 1.01", &["scale_up_threshold", "1.01", "<= 1"]);
    refused("scale_down_threshold = 0.8", &["scale_down_threshold", "0.8", "< scale_up_threshold (0.8)"]);
    refused("scale_down_threshold = -0.1", &["scale_down_threshold", "-0.1", ">= 0"]);
    refused("min_workers = 0\nscale_up_threshold = 1", &["scale_up_threshold", "min_workers = 0"]);
    refused("cooldown_period = -5", &["cooldown_period", "-5", ">= 0"]);
    refused("metrics_window = 0", &["metrics_window", "0", "> 0"]);
    refused("evaluation_interval = 0", &["evaluation_interval", "> 0"]);
    refused("metrics_window = 0.0004", &["metrics_window", "0.0004", "rounds to 0 ms"]);
    refused("utilization_aggregate = \"median\"", &["utilization_aggregate", "median", "\"mean\", \"max\", \"min\""]);
    refused("scale_up_step = { percent = -1, min = 1 }", &["scale_up_step.percent", "-1", ">= 0"]);
    refused("scale_down_step = { percent = 10, min = 0 }", &["scale_down_step.min", "0", ">= 1"]);
    refused("scale_down_step = { percent = 10, minimum = 2 }", &["unknown key", "scale_down_step.minimum", "min"]);
    refused("scale_up_step = 3", &["scale_up_step", "table"]);
    refused("policy = \"magic\"", &["policy", "magic", "\"threshold\""]);
    refused("cooldown_perod = 5", &["unknown key", "cooldown_perod", "did you mean `cooldown_period`"]);
    refused("max_workers = \"ten\"", &["max_workers", "number"]);
}

#[test]
fn accepted_edges() {
    assert_eq!(cfg("cooldown_period = 0").cooldown_period(), DurationMs(0));
    assert_eq!(cfg("cooldown_period = 1.0005").cooldown_period(), DurationMs(1001));
    assert_eq!(cfg("min_workers = 0\nscale_up_threshold = 0.99").min_workers(), 0);
    assert_eq!(cfg("scale_up_threshold = 1").scale_up_threshold(), Fixed9::ONE);
    assert_eq!(cfg("max_workers = 3.0").max_workers(), 3);
    let c = cfg("scale_up_step = { percent = 12.5 }");
    assert_eq!((c.scale_up_step().percent().to_string(), c.scale_up_step().min()), ("12.5".into(), 1));
}

#[test]
fn pairs_round_trip() {
    let c = cfg("min_workers = 3\nmax_workers = 7\ncooldown_period = 12.5\nutilization_aggregate = \"max\"\nscale_down_step = { percent = 10, min = 2 }");
    let text: String = c.to_pairs().iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    assert_eq!(cfg(&text), c);
}

#[test]
fn builder_checks_cross_key_rules() {
    let err = ScalerConfig::builder().min_workers(4).max_workers(2).build().unwrap_err();
    assert_eq!(err.key(), "min_workers");
    let err = ScalerConfig::builder().metrics_window(DurationMs::ZERO).build().unwrap_err();
    assert_eq!(err.key(), "metrics_window");
}

#[test]
fn serde_deserialize_goes_through_the_same_rules() {
    #[derive(serde::Deserialize)]
    struct File {
        scaler: ScalerConfig,
    }
    let f: File = toml::from_str("[scaler]\nmin_workers = 3\ncooldown_period = 1.0005\n").unwrap();
    assert_eq!(f.scaler.min_workers(), 3);
    assert_eq!(f.scaler.cooldown_period(), DurationMs(1001));
    let err = toml::from_str::<File>("[scaler]\nmin_workers = 3\nmax_workers = 2\n").err().unwrap().to_string();
    assert!(err.contains("min_workers = 3: must be <= max_workers (2)"), "{err}");
    let err = toml::from_str::<File>("[scaler]\nmin_wrokers = 3\n").err().unwrap().to_string();
    assert!(err.contains("unknown key `min_wrokers`"), "{err}");
}
