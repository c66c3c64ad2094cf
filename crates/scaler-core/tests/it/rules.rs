//! One data-driven case per rule of SPEC section 4 and per reason code.

use scaler_core::{Reason, Scaler, TimeMs};

use crate::{cfg, obs};

/// Runs `observations` (`t,n,p,util` separated by `;`) through a scaler built
/// from `config`, with a successful scaling recorded at `scaled_at` (seconds), then decides at
/// `now` and compares `action target reason [window_utilization]` with `expect`.
fn check(config: &str, observations: &str, scaled_at: Option<&str>, now: &str, expect: &str) {
    let mut s = Scaler::new(cfg(config));
    for o in observations.split(';').map(str::trim).filter(|o| !o.is_empty()) {
        let f: Vec<&str> = o.split(',').map(str::trim).collect();
        s.observe(obs(f[0], f[1].parse().unwrap(), f[2].parse().unwrap(), f[3])).unwrap();
    }
    if let Some(at) = scaled_at {
        // A scaling applied at `at`, as a restored snapshot says it.
        let mut snap = s.snapshot();
        snap.last_scaled_at = Some(TimeMs::parse_seconds(at).unwrap());
        s = Scaler::restore(cfg(config), snap).unwrap();
    }
    let d = s.decide(TimeMs::parse_seconds(now).unwrap()).unwrap();
    let util = d.window_utilization.map(|u| u.to_string()).unwrap_or_else(|| "-".into());
    let got = format!("{} {} {} {}", d.action, d.target_workers, d.reason, util);
    assert_eq!(got, expect, "config {config:?}, observations {observations:?}, scaled_at {scaled_at:?}, now {now}");
}

const BASE: &str = "min_workers = 2\nmax_workers = 10";

#[test]
fn rule1_empty_window_holds_with_zero_target() {
    check(BASE, "", None, "0", "hold 0 no_metrics -");
    // Everything expired: the window is empty again.
    check(BASE, "0,4,1,0.9", None, "300", "hold 0 no_metrics -");
}

#[test]
fn rule2_below_min_scales_up_ignoring_cooldown() {
    check(BASE, "100,1,0,0.5", Some("90"), "100", "scale_up 2 below_min_workers 0.5");
    check(
        "min_workers = 0\nmax_workers = 3\nscale_up_threshold = 0.9",
        "0,0,0,0",
        None,
        "0",
        "hold 0 at_min_workers 0",
    );
}

#[test]
fn rule3_above_max_scales_down_ignoring_cooldown() {
    check(BASE, "100,14,5,0.95", Some("99"), "100", "scale_down 10 above_max_workers 0.95");
}

#[test]
fn rule4_cooldown_is_strict() {
    check(BASE, "100,4,5,0.95", Some("0"), "100", "hold 4 cooldown 0.95");
    check("min_workers = 2\ncooldown_period = 100", "100,4,5,0.95", Some("0.001"), "100", "hold 4 cooldown 0.95");
    // Exactly cooldown_period after the scaling: may scale.
    check(
        "min_workers = 2\ncooldown_period = 100",
        "100,4,5,0.95",
        Some("0"),
        "100",
        "scale_up 6 utilization_high 0.95",
    );
}

#[test]
fn rule5_high_utilization() {
    check(BASE, "0,4,0,0.95", None, "0", "hold 4 no_pending_tasks 0.95");
    check(BASE, "0,10,3,0.95", None, "0", "hold 10 at_max_workers 0.95");
    // up_step(4) = max(1, floor(4 * 50 / 100)) = 2.
    check(BASE, "0,4,3,0.95", None, "0", "scale_up 6 utilization_high 0.95");
    // up_step(3) = max(1, floor(1.5)) = 1; then capped by max_workers.
    check(BASE, "0,3,3,0.95", None, "0", "scale_up 4 utilization_high 0.95");
    check(BASE, "0,9,3,0.95", None, "0", "scale_up 10 utilization_high 0.95");
    check(
        "max_workers = 100\nscale_up_step = { percent = 0, min = 7 }",
        "0,4,3,0.95",
        None,
        "0",
        "scale_up 11 utilization_high 0.95",
    );
}

#[test]
fn rule6_low_utilization() {
    check(BASE, "0,2,0,0.1", None, "0", "hold 2 at_min_workers 0.1");
    // down_step(8) = max(1, floor(8 * 25 / 100)) = 2.
    check(BASE, "0,8,0,0.1", None, "0", "scale_down 6 utilization_low 0.1");
    // down_step(3) = 1 (the minimum); then floored at min_workers.
    check(BASE, "0,3,0,0.1", None, "0", "scale_down 2 utilization_low 0.1");
    check(
        "min_workers = 2\nmax_workers = 100\nscale_down_step = { percent = 90, min = 1 }",
        "0,50,0,0",
        None,
        "0",
        "scale_down 5 utilization_low 0",
    );
    check(
        "min_workers = 4\nmax_workers = 100\nscale_down_step = { percent = 90, min = 1 }",
        "0,10,0,0",
        None,
        "0",
        "scale_down 4 utilization_low 0",
    );
}

#[test]
fn rule7_within_band() {
    check(BASE, "0,4,3,0.5", None, "0", "hold 4 within_band 0.5");
    // Equal to a threshold is not beyond it.
    check(BASE, "0,4,3,0.8", None, "0", "hold 4 within_band 0.8");
    check(BASE, "0,4,3,0.2", None, "0", "hold 4 within_band 0.2");
}

#[test]
fn mean_is_exact_not_floating_point() {
    // (0.6 + 1.0 + 0.8) / 3 = 0.8 exactly, which is not above 0.8.
    check(BASE, "0,4,3,0.6; 60,4,3,1.0; 120,4,3,0.8", None, "120", "hold 4 within_band 0.8");
    check(BASE, "0,4,3,0.1; 60,4,3,0.2; 120,4,3,0.3", None, "120", "hold 4 within_band 0.2");
    // One unit above: scale.
    check(BASE, "0,4,3,0.6; 60,4,3,1.0; 120,4,3,0.800000001", None, "120", "scale_up 6 utilization_high 0.8");
}

#[test]
fn aggregates() {
    let o = "0,4,3,0.9; 60,4,3,0.1; 120,4,3,0.5";
    check("min_workers = 2\nutilization_aggregate = \"max\"", o, None, "120", "scale_up 6 utilization_high 0.9");
    check("min_workers = 2\nutilization_aggregate = \"min\"", o, None, "120", "scale_down 3 utilization_low 0.1");
    check("min_workers = 2\nutilization_aggregate = \"latest\"", o, None, "120", "hold 4 within_band 0.5");
    check("min_workers = 2\nutilization_aggregate = \"mean\"", o, None, "120", "hold 4 within_band 0.5");
}

#[test]
fn newest_observation_supplies_n_and_p() {
    // n and p come from the newest sample; utilization is the window's mean.
    check(BASE, "0,4,0,1; 60,5,2,1", None, "60", "scale_up 7 utilization_high 1");
    // Same timestamp twice: the last taken is the newest.
    check(BASE, "60,5,2,1; 60,6,0,1", None, "60", "hold 6 no_pending_tasks 1");
}

#[test]
fn every_reason_is_reachable_by_some_case_above() {
    // Kept in sync by hand with the cases above: a new reason needs a case.
    let covered = [
        "no_metrics",
        "below_min_workers",
        "above_max_workers",
        "cooldown",
        "no_pending_tasks",
        "at_max_workers",
        "utilization_high",
        "at_min_workers",
        "utilization_low",
        "within_band",
    ];
    // The threshold policy's reasons come first; other policies' follow (tests/it/policies.rs).
    let all: Vec<&str> = Reason::ALL[..10].iter().map(|r| r.as_str()).collect();
    assert_eq!(all, covered);
}
