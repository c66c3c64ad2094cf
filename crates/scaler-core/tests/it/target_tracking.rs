//! AWS target tracking: its two alarms, the proportional capacity (exact), the cooldowns,
//! DisableScaleIn and the backlog-per-worker metric, as data-driven sequences.

use scaler_core::{DurationMs, Fixed9, Observation, Scaler, TimeMs};

use crate::{cfg, try_cfg};

const BASE: &str =
    "policy = \"target_tracking\"\nmin_workers = 0\nmax_workers = 100\nmetrics_window = 1\nevaluation_interval = 60\n";

/// Runs one datapoint a minute, `(workers, pending, running, utilization)`, every scaling
/// applied; returns `target reason` per datapoint.
fn check(table: &str, points: &[(u32, u64, u64, &str)], expect: &[&str]) {
    let mut s = Scaler::new(cfg(&format!("{BASE}[target_tracking]\n{table}")));
    let got: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, &(n, p, r, u))| {
            let now = TimeMs(i as u64 * 60_000);
            let o = Observation::new(now, n, p, r, DurationMs::from_secs(10), Fixed9::parse(u).unwrap()).unwrap();
            let tick = s.tick(now, Some(o)).unwrap();
            if let Some(k) = tick.ticket {
                s.outcome(k, scaler_core::Outcome::Applied).unwrap();
            }
            format!("{} {}", tick.decision.target_workers, tick.decision.reason)
        })
        .collect();
    assert_eq!(got, expect, "{table}");
}

#[test]
fn the_high_alarm_needs_three_datapoints_above_the_target_strictly() {
    check(
        "target_value = 70",
        &[(10, 5, 9, "0.9"), (10, 5, 9, "0.9"), (10, 5, 9, "0.9")],
        &["10 tracking_no_alarm", "10 tracking_no_alarm", "13 tracking_scale_out"],
    );
    // At the target exactly: not above, and the run of breaching datapoints starts again.
    check(
        "target_value = 70",
        &[(10, 5, 7, "0.9"), (10, 5, 7, "0.9"), (10, 5, 7, "0.7"), (10, 5, 7, "0.9"), (10, 5, 7, "0.9")],
        &["10 tracking_no_alarm"; 5],
    );
    // 70.0000001 % is above a 70 % target: the comparison is exact.
    check(
        "target_value = 70\nscale_out_datapoints = 1",
        &[(10, 5, 7, "0.700000001"), (10, 5, 7, "0.7")],
        &["11 tracking_scale_out", "10 tracking_no_alarm"],
    );
}

#[test]
fn the_proportional_capacity_is_exact() {
    // 10 * 77 / 70 is 11 exactly: 11, not 12 (a float 11.000000000000002 would round up).
    check("target_value = 70\nscale_out_datapoints = 1", &[(10, 5, 7, "0.77")], &["11 tracking_scale_out"]);
    // 10 * 77.0000001 / 70 is just above 11: 12.
    check("target_value = 70\nscale_out_datapoints = 1", &[(10, 5, 7, "0.770000001")], &["12 tracking_scale_out"]);
    // A fractional target: 3 workers at 100 % against 33.3 %: 3 * 100 / 33.3 = 9.009...: 10.
    check("target_value = 33.3\nscale_out_datapoints = 1", &[(3, 5, 3, "1")], &["10 tracking_scale_out"]);
}

#[test]
fn scale_out_cooldown_allows_only_a_larger_scale_out() {
    // Scaled out to 13 at minute 2; two workers never came (11 observed): within the
    // cooldown a scale-out asking 13 or less holds, one asking more goes ahead.
    check(
        "target_value = 70",
        &[(10, 5, 9, "0.9"), (10, 5, 9, "0.9"), (10, 5, 9, "0.9"), (11, 5, 9, "0.8"), (11, 5, 9, "0.9")],
        &[
            "10 tracking_no_alarm",
            "10 tracking_no_alarm",
            "13 tracking_scale_out",
            "11 tracking_scale_out_cooldown",
            "15 tracking_scale_out",
        ],
    );
}

#[test]
fn the_low_alarm_needs_fifteen_datapoints_below_ninety_percent_of_the_target() {
    let below = (10, 0, 3, "0.3");
    let mut points = vec![below; 16];
    let mut expect = vec!["10 tracking_no_alarm"; 14];
    expect.push("5 tracking_scale_in"); // ceil(10 * 30 / 70) = 5
    expect.push("10 tracking_scale_in_cooldown"); // (the fed observations still say 10)
    check("target_value = 70", &points, &expect);
    // 63 % is 90 % of 70 exactly: not below, so the run restarts.
    points[7] = (10, 0, 6, "0.63");
    let mut expect = vec!["10 tracking_no_alarm"; 16];
    expect[15] = "10 tracking_no_alarm";
    check("target_value = 70", &points, &expect);
    // DisableScaleIn: the alarm fires, nothing is removed.
    check(
        "target_value = 70\nscale_in_datapoints = 2\ndisable_scale_in = true",
        &[below, below],
        &["10 tracking_no_alarm", "10 tracking_scale_in_disabled"],
    );
}

#[test]
fn scale_in_waits_for_both_cooldowns_and_a_scale_out_ends_the_scale_in_cooldown() {
    check(
        "target_value = 50\nscale_out_datapoints = 1\nscale_in_datapoints = 1\nscale_out_cooldown = \"2m\"\nscale_in_cooldown = \"3m\"",
        &[
            (10, 5, 9, "0.9"), // out to 18
            (18, 0, 2, "0.1"), // low, within scale-out cooldown
            (18, 0, 2, "0.1"), // 2 minutes after: out of it: in to ceil(18 * 10 / 50) = 4
            (4, 0, 1, "0.2"),  // low: within the scale-in cooldown
            (4, 5, 4, "1"),    // out to 8: ends the scale-in cooldown
            (8, 0, 1, "0.1"),  // low: within the scale-out cooldown
            (8, 0, 1, "0.1"), // 2 minutes after the scale-out: ceil(8 * 10 / 50) = 2
            (2, 0, 1, "0.1"), // within the new scale-in cooldown
        ],
        &[
            "18 tracking_scale_out",
            "18 tracking_scale_in_cooldown",
            "4 tracking_scale_in",
            "4 tracking_scale_in_cooldown",
            "8 tracking_scale_out",
            "8 tracking_scale_in_cooldown",
            "2 tracking_scale_in",
            "2 tracking_scale_in_cooldown",
        ],
    );
}

#[test]
fn backlog_per_worker_and_zero_workers() {
    // 23 tasks on 2 workers against 5 a worker: ceil(23 / 5) = 5.
    check(
        "metric = \"backlog_per_worker\"\ntarget_value = 5\nscale_out_datapoints = 1",
        &[(2, 20, 3, "1")],
        &["5 tracking_scale_out"],
    );
    // From zero workers: the backlog decides; and with utilization, pending work gets one worker.
    check(
        "metric = \"backlog_per_worker\"\ntarget_value = 5\nscale_out_datapoints = 1",
        &[(0, 12, 0, "1")],
        &["3 tracking_scale_out"],
    );
    check("target_value = 70\nscale_out_datapoints = 1", &[(0, 12, 0, "1")], &["1 tracking_scale_out"]);
    // No work at zero workers: below any target, but nothing to remove.
    check(
        "metric = \"backlog_per_worker\"\ntarget_value = 5\nscale_in_datapoints = 1",
        &[(0, 0, 0, "1")],
        &["0 tracking_no_alarm"],
    );
}

#[test]
fn settings_are_validated_with_the_rule() {
    for (table, want) in [
        ("target_value = 150", "must be <= 100"),
        ("target_value = 0", "must be > 0"),
        ("scale_out_datapoints = 0", "must be a whole number >= 1"),
        ("scale_in_ratio = 1.5", "must be > 0 and <= 1"),
        ("metric = \"cpu\"", "must be one of \"utilization\", \"backlog_per_worker\""),
        ("scale_in_cooldown = \"5\"", "needs a unit"),
        ("target = 70", "unknown key"),
    ] {
        let e = try_cfg(&format!("{BASE}[target_tracking]\n{table}")).expect_err(table);
        assert!(e.contains(want), "{table}: {e}");
    }
    // A backlog target is not a percentage: 150 tasks a worker is fine.
    assert!(try_cfg(&format!("{BASE}[target_tracking]\nmetric = \"backlog_per_worker\"\ntarget_value = 150")).is_ok());
    // The table prints back as it reads.
    let c = cfg(&format!("{BASE}[target_tracking]\ntarget_value = 62.5\nscale_in_cooldown = \"10m\""));
    let pairs = c.to_pairs();
    let t = pairs.iter().find(|(k, _)| *k == "target_tracking").map(|(_, v)| v.clone()).unwrap();
    assert_eq!(
        t,
        "{ metric = \"utilization\", target_value = 62.5, disable_scale_in = false, scale_out_cooldown = 300, scale_in_cooldown = 600, scale_out_datapoints = 3, scale_in_datapoints = 15, scale_in_ratio = 0.9 }"
    );
}
