//! The step policy's bounds, at every bound in both directions, with exact decimals.

use scaler_core::{DurationMs, Fixed9, Observation, Scaler, TimeMs};

use crate::cfg;

/// The decision for one observation of utilization `u` (decimal text) at 10 workers.
fn at(u: &str) -> String {
    let c = "policy = \"step\"\nmin_workers = 1\nmax_workers = 100\ncooldown_period = 0\nmetrics_window = 1\n\
             [step]\nupper_threshold = 0.8\nlower_threshold = 0.3\n\
             scale_out = [{ lower = 0, upper = 0.1, adjustment = 1 }, { lower = 0.1, upper = 0.15, adjustment = 2 }, { lower = 0.15, adjustment = 3 }]\n\
             scale_in = [{ lower = -0.1, upper = 0, adjustment = -1 }, { lower = -0.2, upper = -0.1, adjustment = -2 }, { upper = -0.2, adjustment = -3 }]\n";
    let mut s = Scaler::new(cfg(c));
    let o = Observation::new(TimeMs(0), 10, 5, 10, DurationMs::ZERO, Fixed9::parse(u).unwrap()).unwrap();
    let d = s.tick(TimeMs(0), Some(o)).unwrap().decision;
    format!("{} {}", d.target_workers, d.reason)
}

#[test]
fn scale_out_bounds_lower_inclusive_upper_exclusive() {
    // 0.9 - 0.8 is exactly 0.1: the [0.1, 0.15) step, not [0, 0.1) (a float breach of
    // 0.0999... would miss it).
    for (u, expect) in [
        ("0.8", "10 no_alarm"),               // at the threshold: no breach
        ("0.800000001", "11 step_scale_out"), // just above: [0, 0.1)
        ("0.899999999", "11 step_scale_out"),
        ("0.9", "12 step_scale_out"), // lower bound 0.1 is inclusive
        ("0.949999999", "12 step_scale_out"),
        ("0.95", "13 step_scale_out"), // upper bound 0.15 is exclusive
        ("1", "13 step_scale_out"),
    ] {
        assert_eq!(at(u), expect, "utilization {u}");
    }
}

#[test]
fn scale_in_bounds_lower_exclusive_upper_inclusive() {
    for (u, expect) in [
        ("0.3", "10 no_alarm"),             // at the threshold: no breach
        ("0.299999999", "9 step_scale_in"), // (-0.1, 0]
        ("0.200000001", "9 step_scale_in"),
        ("0.2", "8 step_scale_in"), // -0.1: upper bound of (-0.2, -0.1] is inclusive
        ("0.100000001", "8 step_scale_in"),
        ("0.1", "7 step_scale_in"), // -0.2: lower bound of (-0.2, -0.1] is exclusive
        ("0", "7 step_scale_in"),
    ] {
        assert_eq!(at(u), expect, "utilization {u}");
    }
}

#[test]
fn a_gap_between_steps_holds_with_no_alarm() {
    let c = "policy = \"step\"\nmin_workers = 1\nmax_workers = 100\ncooldown_period = 0\nmetrics_window = 1\n\
             [step]\nupper_threshold = 0.5\nlower_threshold = 0.2\nscale_out = [{ lower = 0.2, adjustment = 5 }]\n";
    let mut s = Scaler::new(cfg(c));
    let o = Observation::new(TimeMs(0), 10, 5, 10, DurationMs::ZERO, Fixed9::parse("0.6").unwrap()).unwrap();
    assert_eq!(s.tick(TimeMs(0), Some(o)).unwrap().decision.reason.as_str(), "no_alarm");
}

#[test]
fn percent_change_rounds_as_aws_does() {
    use scaler_core::policy::step::percent_change;
    assert_eq!(percent_change(10, 20, 0), 2);
    assert_eq!(percent_change(3, 20, 0), 1); // 0.6 -> 1
    assert_eq!(percent_change(3, -20, 0), -1); // -0.6 -> -1
    assert_eq!(percent_change(7, 50, 0), 3); // 3.5 -> 3
    assert_eq!(percent_change(7, -50, 0), -3); // -3.5 -> -3
    assert_eq!(percent_change(3, 20, 2), 2);
    assert_eq!(percent_change(0, 50, 0), 0);
}
