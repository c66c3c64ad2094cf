//! `scaler_core::kpa` by hand: the decider (panic entry and exit, rate limits, activation
//! scale, scale-down delay, excess burst capacity), the reconciler's scale-to-zero branches,
//! the window averages, the Go readers and the ConfigMap and annotation errors, and a
//! property test that no input makes any of it panic (overflow checks are on in debug).

use proptest::prelude::*;
use scaler_core::kpa::go::{self, GoDuration, GoParseError};
use scaler_core::kpa::{
    self, ActiveStatus, Algorithm, Annotations, Bound, Collector, Config, DeciderSpec, DeciderState, DeciderStatus,
    MaxWindow, MetricWindows, PaStatus, Reachability, Revision, ScaleBranch, ScaleReason, SksMode, WindowAverages,
    WindowBuckets,
};
use scaler_core::{DurationMs, TimeMs};

/// Seconds on the clock (from an origin of 1000 s, so that "before creation" exists).
fn t(s: u64) -> TimeMs {
    TimeMs((1000 + s) * 1000)
}

fn secs(s: u64) -> DurationMs {
    DurationMs::from_secs(s)
}

/// Target 10 per pod, capacity 15, TBC 50, panic at 200 %, rates 1000 up / 2 down, 60 s
/// stable window, no delay, reachable.
fn base() -> DeciderSpec {
    DeciderSpec {
        scaling_metric: kpa::Metric::Concurrency,
        target_value: 10.0,
        total_value: 15.0,
        target_burst_capacity: 50.0,
        panic_threshold: 2.0,
        max_scale_up_rate: 1000.0,
        max_scale_down_rate: 2.0,
        activator_capacity: 100.0,
        stable_window: secs(60),
        scale_down_delay: DurationMs::ZERO,
        initial_scale: 1,
        reachable: true,
        activation_scale: 0,
    }
}

/// One tick: (t_s, ready pods, stable average, panic average) and what `Scale()` gives:
/// (desired, EBC, in panic, reason).
type Step = ((u64, u32, f64, f64), (i32, i32, bool, ScaleReason));

struct Case {
    name: &'static str,
    spec: DeciderSpec,
    created_ready: u32,
    steps: &'static [Step],
}

fn run(case: &Case) {
    let mut state = DeciderState::new(&case.spec, t(0), Some(case.created_ready));
    for (n, &((at, ready, stable, panic), want)) in case.steps.iter().enumerate() {
        let r = state.scale(&case.spec, t(at), Some(ready), Some(WindowAverages { stable, panic }));
        assert!(r.scale_valid, "{} step {n}", case.name);
        assert_eq!(
            (r.desired_pod_count, r.excess_burst_capacity, r.in_panic, r.reason),
            want,
            "{} step {n} (t={at})",
            case.name
        );
    }
}

#[test]
fn decider_cases() {
    use ScaleReason::*;
    let cases = [
        Case {
            name: "panic entry and exit",
            spec: base(),
            created_ready: 1,
            steps: &[
                // ceil(10/10) = 1 on 1 ready: 1/1 < 2. EBC floor(1*15 - 50 - 10) = -45.
                ((0, 1, 10.0, 10.0), (1, -45, false, Stable)),
                // Panic count ceil(30/10) = 3 on 1 ready: 3 >= 2, panic from t=2; max(2, 3) = 3.
                ((2, 1, 15.0, 30.0), (3, -65, true, Panic)),
                // 1 wanted, but panic never scales down: max_panic_pods 3. EBC 45 - 50 - 10.
                ((4, 3, 10.0, 10.0), (3, -15, true, Panic)),
                // 2 + 60 < 62 is false (strict): still panicking.
                ((62, 3, 10.0, 10.0), (3, -15, true, Panic)),
                // 2 + 60 < 64: panic ends; stable count 0 held at max_down floor(3/2) = 1.
                ((64, 3, 0.0, 10.0), (1, -15, false, ScaleDownLimited)),
            ],
        },
        Case {
            name: "panic re-armed on every tick over the threshold",
            spec: base(),
            created_ready: 1,
            steps: &[
                ((0, 1, 10.0, 20.0), (2, -55, true, Panic)),
                // 40/10 = 4 on 2 ready: 4/2 = 2 >= 2, re-armed at t=50.
                ((50, 2, 10.0, 40.0), (4, -60, true, Panic)),
                // 0 + 60 < 100 would have ended the first arming; 50 + 60 < 100 does not.
                ((100, 4, 10.0, 10.0), (4, 0, true, Panic)),
                ((112, 4, 10.0, 10.0), (2, 0, false, ScaleDownLimited)),
            ],
        },
        Case {
            name: "a restart with several ready pods starts in panic",
            spec: base(),
            created_ready: 5,
            steps: &[
                // 1 wanted, 1/5 < 2, but max_panic_pods is 5 from creation. EBC 75 - 50 - 0.
                ((2, 5, 10.0, 0.0), (5, 25, true, Panic)),
                ((62, 5, 10.0, 0.0), (2, 25, false, ScaleDownLimited)),
            ],
        },
        Case {
            name: "rate limits",
            spec: DeciderSpec { max_scale_up_rate: 2.0, panic_threshold: 100.0, ..base() },
            created_ready: 1,
            steps: &[
                // 4 ready: up to ceil(2*4) = 8, down to floor(4/2) = 2.
                ((0, 4, 200.0, 200.0), (8, -190, false, ScaleUpLimited)),
                ((2, 4, 0.0, 0.0), (2, 10, false, ScaleDownLimited)),
                ((4, 4, 50.0, 50.0), (5, -40, false, Stable)),
                // 0 ready counts as 1 for the limits (up to 2, down to 0) but not for EBC:
                // floor(0*15 - 50 - 30) = -80.
                ((6, 0, 30.0, 30.0), (2, -80, false, ScaleUpLimited)),
            ],
        },
        Case {
            name: "max-scale-up-rate 1.1 on 2 pods still grants one more (ceil)",
            spec: DeciderSpec { max_scale_up_rate: 1.1, panic_threshold: 100.0, ..base() },
            created_ready: 1,
            steps: &[((0, 2, 100.0, 100.0), (3, -120, false, ScaleUpLimited))],
        },
        Case {
            name: "unreachable: no scale-down limit",
            spec: DeciderSpec { reachable: false, ..base() },
            created_ready: 1,
            steps: &[((0, 10, 0.0, 0.0), (0, 100, false, Stable))],
        },
        Case {
            name: "activation scale applies only to a positive unclamped count",
            spec: DeciderSpec { activation_scale: 3, panic_threshold: 100.0, ..base() },
            created_ready: 1,
            steps: &[((0, 1, 5.0, 5.0), (3, -40, false, ActivationScale)), ((2, 1, 0.0, 0.0), (0, -35, false, Stable))],
        },
        Case {
            name: "scale-down delay of 10 s keeps a count for 5 buckets of 2 s",
            spec: DeciderSpec { scale_down_delay: secs(10), panic_threshold: 100.0, ..base() },
            created_ready: 1,
            steps: &[
                ((0, 1, 40.0, 40.0), (4, -75, false, Stable)),
                ((4, 1, 0.0, 0.0), (4, -35, false, ScaleDownDelayed)),
                ((8, 1, 20.0, 20.0), (4, -55, false, ScaleDownDelayed)),
                // Bucket 5 - bucket 0 = 5: the 4 leaves; the 2 of t=8 is the highest left.
                ((10, 1, 0.0, 0.0), (2, -35, false, ScaleDownDelayed)),
                ((18, 1, 0.0, 0.0), (0, -35, false, Stable)),
            ],
        },
        Case {
            name: "burst capacity unlimited and off",
            spec: DeciderSpec { target_burst_capacity: -1.0, ..base() },
            created_ready: 1,
            steps: &[((0, 1, 10.0, 10.0), (1, -1, false, Stable))],
        },
        Case {
            name: "burst capacity off",
            spec: DeciderSpec { target_burst_capacity: 0.0, ..base() },
            created_ready: 1,
            steps: &[((0, 1, 10.0, 10.0), (1, 0, false, Stable))],
        },
    ];
    for case in &cases {
        run(case);
    }
}

#[test]
fn delay_is_bypassed_when_unreachable_and_kept_across_spec_updates() {
    let spec = DeciderSpec { scale_down_delay: secs(10), panic_threshold: 100.0, ..base() };
    let mut state = DeciderState::new(&spec, t(0), Some(1));
    let avg = |x: f64| Some(WindowAverages { stable: x, panic: x });
    assert_eq!(state.scale(&spec, t(0), Some(1), avg(40.0)).desired_pod_count, 4);
    let unreachable = DeciderSpec { reachable: false, ..spec };
    assert_eq!(state.scale(&unreachable, t(2), Some(1), avg(0.0)).desired_pod_count, 0);
    // A spec without a delay does not drop the window created with the first spec.
    let no_delay = DeciderSpec { scale_down_delay: DurationMs::ZERO, ..spec };
    assert_eq!(state.scale(&no_delay, t(4), Some(1), avg(0.0)).desired_pod_count, 4);
    // And a first spec without a delay never gets one.
    let mut plain = DeciderState::new(&no_delay, t(0), Some(1));
    assert!(plain.delay.is_none());
    plain.scale(&no_delay, t(0), Some(1), avg(40.0));
    assert_eq!(plain.scale(&spec, t(2), Some(1), avg(0.0)).desired_pod_count, 0);
}

#[test]
fn invalid_ticks_leave_the_state_untouched() {
    let spec = base();
    let mut state = DeciderState::new(&spec, t(0), Some(4));
    let before = state.clone();
    let r = state.scale(&spec, t(100), None, Some(WindowAverages { stable: 1.0, panic: 1.0 }));
    assert_eq!(
        (r.desired_pod_count, r.excess_burst_capacity, r.scale_valid, r.reason),
        (0, 0, false, ScaleReason::NoPodCount)
    );
    let r = state.scale(&spec, t(100), Some(4), None);
    assert_eq!((r.scale_valid, r.reason, r.in_panic), (false, ScaleReason::NoMetrics, true));
    assert_eq!(state, before);
    // A failed pod count at creation counts as 0 pods: no panic.
    let fresh = DeciderState::new(&spec, t(0), None);
    assert_eq!((fresh.in_panic(), fresh.max_panic_pods), (false, 0));
    // The published status keeps its last valid value.
    let status = DeciderStatus::initial(&DeciderSpec {
        initial_scale: 2,
        total_value: 25.0,
        target_burst_capacity: 42.0,
        ..spec
    });
    assert_eq!(status, DeciderStatus { desired_scale: -1, excess_burst_capacity: 8 });
    assert_eq!(status.after(&r), status);
}

#[test]
fn max_window_keeps_the_largest_per_bucket() {
    let mut w = MaxWindow::new(secs(6), secs(2));
    assert_eq!(w.current(), None);
    w.record(t(0), 3);
    w.record(t(1), 1); // same bucket: 3 kept
    assert_eq!(w.current(), Some(3));
    w.record(t(2), 2);
    w.record(t(4), 1);
    assert_eq!(w.current(), Some(3));
    w.record(t(6), 1); // bucket 0 is 3 buckets old: out
    assert_eq!(w.current(), Some(2));
    w.record(t(10), 0);
    assert_eq!(w.current(), Some(1));
}

#[test]
fn linear_and_weighted_averages_by_hand() {
    let mut b = WindowBuckets::new(Algorithm::Linear, secs(4), secs(1)).unwrap();
    assert!(b.is_empty(t(0)));
    assert_eq!(b.average(t(0)), 0.0);
    b.record(t(0), 4.0);
    b.record(TimeMs(t(1).0 + 999), 8.0); // truncated into second 1
                                         // Two buckets written: 12 / 2.
    assert_eq!(b.average(t(1)), 6.0);
    // One and two empty seconds after the newest: they count as zeros, but the divisor is
    // also capped at N - empty = 3, 2 buckets.
    assert_eq!(b.average(t(2)), 6.0);
    assert_eq!(b.average(t(3)), 6.0);
    // At 4 s the window is seconds 1..4: 8 over min(2 written, 4 - 3) = 1.
    assert_eq!(b.average(t(4)), 8.0);
    assert_eq!(b.average(t(5)), 0.0);
    assert!(!b.is_empty(t(5)));
    assert!(b.is_empty(t(6)));
    // A gap of a window or more starts over; a record a window or more older than the
    // newest is dropped; an older one within the window counts from its own second.
    b.record(t(10), 1.0);
    assert_eq!(b.average(t(10)), 1.0);
    b.record(t(6), 100.0);
    assert_eq!(b.average(t(10)), 1.0);
    b.record(t(7), 2.0);
    assert_eq!(b.average(t(10)), 0.75);
    // Second 11 reuses second 7's slot: 7 leaves the window, the divisor stays 4.
    b.record(t(11), 0.0);
    assert_eq!(b.average(t(11)), 0.25);
    // Averages are rounded to 6 decimals.
    b.record(t(20), 1.0);
    b.record(t(21), 1.0);
    b.record(t(22), 0.0);
    assert_eq!(b.average(t(22)), 0.666667);

    let mut w = WindowBuckets::new(Algorithm::WeightedExponential, secs(5), secs(1)).unwrap();
    let m = w.smoothing_coefficient();
    assert!((m - 0.8415106807538886).abs() < 1e-12, "{m}");
    w.record(t(0), 2.0);
    w.record(t(1), 4.0);
    assert!((w.average(t(1)) - (4.0 * m + 2.0 * m * (1.0 - m))).abs() < 1e-12);
    // One empty second first: every weight one step smaller.
    assert!((w.average(t(2)) - (4.0 * m * (1.0 - m) + 2.0 * m * (1.0 - m) * (1.0 - m))).abs() < 1e-12);
    assert_eq!(w.average(t(7)), 0.0);
    // A long window's coefficient is floored at 0.2.
    let long = WindowBuckets::new(Algorithm::WeightedExponential, secs(3600), secs(1)).unwrap();
    assert_eq!(long.smoothing_coefficient(), 0.2);

    assert!(WindowBuckets::new(Algorithm::Linear, secs(1), DurationMs::ZERO).is_err());
    assert!(WindowBuckets::new(Algorithm::Linear, DurationMs::ZERO, secs(1)).is_err());
    assert!(WindowBuckets::new(Algorithm::Linear, DurationMs(u64::MAX), DurationMs(1)).is_err());
}

#[test]
fn collector_reports_no_data_only_for_scraped_revisions() {
    let windows = MetricWindows { stable: secs(60), panic: secs(6) };
    let mut c = Collector::new(Algorithm::Linear, windows).unwrap();
    assert_eq!(c.averages(t(0), true), None);
    assert_eq!(c.averages(t(0), false), Some(WindowAverages { stable: 0.0, panic: 0.0 }));
    for s in 0..10 {
        c.record(t(s), 12.0);
    }
    assert_eq!(c.averages(t(9), true), Some(WindowAverages { stable: 12.0, panic: 12.0 }));
    assert_eq!(c.averages(t(70), true), None);
}

fn revision(pairs: &[(&str, &str)], reachability: Reachability) -> Revision {
    Revision {
        annotations: Annotations::from_map(pairs.iter().copied()).unwrap(),
        container_concurrency: 0,
        reachability,
    }
}

fn pa(active: ActiveStatus, for_s: u64) -> PaStatus {
    PaStatus { active, active_for: secs(for_s), ..PaStatus::default() }
}

/// (name, config, revision, PA status, current replicas, proposal) and what `scale()`
/// gives: (desired, patch, requeue, branch, bound).
type ReconcileCase = (&'static str, Config, Revision, PaStatus, i32, i32, (i32, Option<i32>, bool, ScaleBranch, Bound));

#[test]
fn reconciler_branches() {
    let cfg = Config { scale_to_zero_grace_period: secs(60), stable_window: secs(300), ..Config::default() };
    let deadline = secs(120);
    let plain = revision(&[], Reachability::Reachable);
    let cases: &[ReconcileCase] = &[
        (
            "no metrics",
            cfg.clone(),
            plain.clone(),
            pa(ActiveStatus::Active, 0),
            3,
            -1,
            (-1, None, false, ScaleBranch::NoMetrics, Bound::None),
        ),
        (
            "scale",
            cfg.clone(),
            plain.clone(),
            pa(ActiveStatus::Active, 0),
            3,
            5,
            (5, Some(5), false, ScaleBranch::Scale, Bound::None),
        ),
        (
            "max-scale",
            cfg.clone(),
            revision(&[("max-scale", "4")], Reachability::Reachable),
            pa(ActiveStatus::Active, 0),
            4,
            9,
            (4, None, false, ScaleBranch::Scale, Bound::MaxScale),
        ),
        (
            "initial scale until initialized",
            cfg.clone(),
            revision(&[("initial-scale", "3"), ("min-scale", "2")], Reachability::Reachable),
            pa(ActiveStatus::Activating, 0),
            0,
            1,
            (3, Some(3), false, ScaleBranch::Scale, Bound::InitialScale),
        ),
        (
            "min-scale ignored when unreachable",
            cfg.clone(),
            revision(&[("min-scale", "2")], Reachability::Unreachable),
            pa(ActiveStatus::Inactive, 100),
            1,
            0,
            (0, Some(0), false, ScaleBranch::ScaleToZero, Bound::None),
        ),
        (
            "scale to zero disabled",
            Config { enable_scale_to_zero: false, ..cfg.clone() },
            plain.clone(),
            pa(ActiveStatus::Active, 1000),
            2,
            0,
            (1, Some(1), false, ScaleBranch::ScaleToZeroDisabled, Bound::None),
        ),
        (
            "activating",
            cfg.clone(),
            plain.clone(),
            pa(ActiveStatus::Activating, 150),
            1,
            0,
            (-1, None, true, ScaleBranch::Activating, Bound::None),
        ),
        (
            "activation timeout: 151 > 120 + 30",
            cfg.clone(),
            plain.clone(),
            pa(ActiveStatus::Activating, 151),
            1,
            0,
            (0, Some(0), false, ScaleBranch::ActivationTimeout, Bound::None),
        ),
        (
            "idle wait",
            cfg.clone(),
            plain.clone(),
            pa(ActiveStatus::Active, 299),
            1,
            0,
            (1, None, true, ScaleBranch::IdleWait, Bound::None),
        ),
        (
            "deactivating",
            cfg.clone(),
            plain.clone(),
            pa(ActiveStatus::Active, 300),
            1,
            0,
            (0, None, false, ScaleBranch::Deactivating, Bound::None),
        ),
        (
            "grace period",
            cfg.clone(),
            plain.clone(),
            pa(ActiveStatus::Inactive, 59),
            1,
            0,
            (0, None, true, ScaleBranch::GracePeriod, Bound::None),
        ),
        (
            "scale to zero",
            cfg.clone(),
            plain.clone(),
            pa(ActiveStatus::Inactive, 60),
            1,
            0,
            (0, Some(0), false, ScaleBranch::ScaleToZero, Bound::None),
        ),
        (
            "fast path: the activator in the path for the grace period",
            cfg.clone(),
            plain.clone(),
            PaStatus { proxy_for: Some(secs(60)), ..pa(ActiveStatus::Inactive, 10) },
            1,
            0,
            (0, Some(0), false, ScaleBranch::ScaleToZeroFastPath, Bound::None),
        ),
        (
            "pod retention",
            cfg.clone(),
            revision(&[("scale-to-zero-pod-retention-period", "2m")], Reachability::Reachable),
            PaStatus { proxy_for: Some(secs(90)), ..pa(ActiveStatus::Inactive, 90) },
            1,
            0,
            (0, None, true, ScaleBranch::PodRetention, Bound::None),
        ),
    ];
    for (name, cfg, rev, status, current, desired, want) in cases {
        let o = kpa::reconcile_scale(cfg, deadline, rev, status, *current, *desired, || true);
        assert_eq!((o.desired, o.patch, o.requeue, o.branch, o.bound), *want, "{name}");
        assert_eq!(o.patch.is_some(), o.apply && o.desired != *current, "{name}");
    }

    // A failed probe asks for an asynchronous one; TBC -1 never probes.
    let o = kpa::reconcile_scale(&cfg, deadline, &plain, &pa(ActiveStatus::Inactive, 60), 1, 0, || false);
    assert_eq!((o.branch, o.async_probe, o.apply), (ScaleBranch::ProbeFailed, true, false));
    let unlimited = revision(&[("target-burst-capacity", "-1")], Reachability::Reachable);
    let o = kpa::reconcile_scale(&cfg, deadline, &unlimited, &pa(ActiveStatus::Inactive, 60), 1, 0, || {
        panic!("probed with TBC -1")
    });
    assert_eq!(o.branch, ScaleBranch::ScaleToZero);
}

#[test]
fn pod_autoscaler_state_after_a_reconcile() {
    use ActiveStatus::*;
    assert_eq!(kpa::sks_mode(0, 5, Active), SksMode::Proxy);
    assert_eq!(kpa::sks_mode(3, -1, Active), SksMode::Proxy);
    assert_eq!(kpa::sks_mode(-1, 0, Inactive), SksMode::Proxy);
    assert_eq!(kpa::sks_mode(-1, 0, Active), SksMode::Serve);
    assert_eq!(kpa::sks_mode(3, 0, Active), SksMode::Serve);

    let cfg = Config::default();
    let rev = revision(&[("initial-scale", "3")], Reachability::Reachable);
    assert_eq!(kpa::active_threshold(&cfg, &rev, false), 3);
    assert_eq!(kpa::active_threshold(&cfg, &rev, true), 1);
    let rev = revision(&[("min-scale", "4")], Reachability::Reachable);
    assert_eq!(kpa::active_threshold(&cfg, &rev, true), 4);

    assert_eq!(kpa::active_condition(Active, 0, 5, 1), Inactive);
    assert_eq!(kpa::active_condition(Inactive, 2, 0, 1), Activating);
    assert_eq!(kpa::active_condition(Inactive, -1, 0, 1), Inactive);
    assert_eq!(kpa::active_condition(Activating, 2, 2, 1), Active);
    assert_eq!(kpa::active_condition(Inactive, -1, 2, 1), Inactive);
    assert_eq!(kpa::active_condition(Active, -1, 2, 1), Active);
}

#[test]
fn targets_windows_and_decider_from_config_and_annotations() {
    let cfg = Config::default();
    let rev = |pairs: &[(&str, &str)], cc: u32| Revision {
        container_concurrency: cc,
        ..revision(pairs, Reachability::Unknown)
    };
    let t = kpa::resolve_metric_target(&cfg, &rev(&[], 0));
    assert_eq!((t.target, t.total), (70.0, 100.0));
    let t = kpa::resolve_metric_target(&cfg, &rev(&[("target", "50")], 10));
    assert_eq!((t.target, t.total), (7.0, 10.0));
    let t = kpa::resolve_metric_target(&cfg, &rev(&[("metric", "rps"), ("target-utilization-percentage", "50")], 10));
    assert_eq!((t.target, t.total), (100.0, 200.0));

    let w = kpa::metric_windows(&cfg, &Annotations::default());
    assert_eq!((w.stable, w.panic), (secs(60), secs(6)));
    // 7 s * 5 % = 0.35 s rounds to 0: at least 1 s.
    let a = Annotations::from_map([("window", "7s"), ("panic-window-percentage", "5")]).unwrap();
    assert_eq!(kpa::metric_windows(&cfg, &a).panic, secs(1));
    // 90 s * 15 % = 13.5 s: halves round up.
    let a = Annotations::from_map([("window", "90s"), ("panic-window-percentage", "15")]).unwrap();
    assert_eq!(kpa::metric_windows(&cfg, &a).panic, secs(14));

    let s = kpa::make_decider(
        &cfg,
        &rev(
            &[
                ("window", "2m"),
                ("scale-down-delay", "30s"),
                ("activation-scale", "2"),
                ("panic-threshold-percentage", "150"),
            ],
            0,
        ),
    );
    assert_eq!(
        (s.stable_window, s.scale_down_delay, s.activation_scale, s.panic_threshold, s.reachable),
        (secs(120), secs(30), 2, 1.5, true)
    );
    // Zero initial scale only when the cluster allows it.
    let zero = Annotations::from_map([("initial-scale", "0")]).unwrap();
    assert_eq!(kpa::initial_scale(&cfg, &zero), 1);
    assert_eq!(kpa::initial_scale(&Config { allow_zero_initial_scale: true, ..cfg.clone() }, &zero), 0);
    assert_eq!(kpa::num_activators(15, 100.0, 200.0, 100.0), 17);
    assert_eq!(kpa::num_activators(15, 100.0, 0.0, 100.0), 2);
}

#[test]
fn config_from_map_reads_knative_values() {
    let c = Config::from_map(std::iter::empty::<(&str, &str)>()).unwrap();
    assert_eq!(c, Config::default());
    let c = Config::from_map([
        ("container-concurrency-target-percentage", "1"),
        ("enable-scale-to-zero", "F"),
        ("stable-window", "1h"),
        ("scale-to-zero-grace-period", "1500ms"),
        ("scale-to-zero-pod-retention-period", "1ns"),
        ("max-scale-up-rate", "1_000.5"),
        ("tick-interval", "anything: unknown keys are ignored"),
    ])
    .unwrap();
    assert_eq!(c.container_concurrency_target_fraction, 1.0, "\"1\" is 100 %, not 1 %");
    assert!(!c.enable_scale_to_zero);
    assert_eq!(c.stable_window, secs(3600));
    assert_eq!(c.scale_to_zero_grace_period, DurationMs(1500));
    assert_eq!(c.scale_to_zero_pod_retention_period, DurationMs(1), "a positive sub-millisecond stays positive");
    assert_eq!(c.max_scale_up_rate, 1000.5);
    let c = Config::from_map([("container-concurrency-target-percentage", "55")]).unwrap();
    assert_eq!(c.container_concurrency_target_fraction, 0.55);
}

#[test]
fn config_errors_name_key_value_and_rule() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("stable-window", "61984ms")], "stable-window = \"61984ms\": must be between 6s and 1h, in whole seconds"),
        (&[("stable-window", "5s")], "stable-window = \"5s\": must be between 6s and 1h, in whole seconds"),
        (
            &[("stable-window", "not a duration")],
            "stable-window = \"not a duration\": must be a Go duration such as \"60s\" or \"1m30s\" (invalid duration)",
        ),
        (&[("stable-window", "60")], "stable-window = \"60\": must be a Go duration such as \"60s\" or \"1m30s\" (missing unit in duration)"),
        (&[("scale-to-zero-grace-period", "0s")], "scale-to-zero-grace-period = \"0s\": must be > 0"),
        (&[("scale-down-delay", "1.5s")], "scale-down-delay = \"1.5s\": must be >= 0 and a whole number of seconds"),
        (&[("scale-to-zero-pod-retention-period", "-4m11s")], "scale-to-zero-pod-retention-period = \"-4m11s\": must be >= 0"),
        (&[("target-burst-capacity", "-2")], "target-burst-capacity = \"-2\": must be >= 0, or -1 for unlimited"),
        (
            &[("container-concurrency-target-percentage", "-42")],
            "container-concurrency-target-percentage = \"-42\": must be a percentage in (1, 100] or a fraction in (0, 1]",
        ),
        (
            &[("container-concurrency-target-percentage", "1"), ("container-concurrency-target-default", "0.001")],
            "container-concurrency-target-default = \"0.001\": times the target fraction (1) must be >= 0.01",
        ),
        (
            &[("container-concurrency-target-default", "0.01")],
            "container-concurrency-target-default = \"0.01\": times the target fraction (0.7) must be >= 0.01",
        ),
        (&[("requests-per-second-target-default", "-5.25")], "requests-per-second-target-default = \"-5.25\": must be >= 0.01"),
        (&[("activator-capacity", "0.95")], "activator-capacity = \"0.95\": must be >= 1"),
        (&[("max-scale-up-rate", "1")], "max-scale-up-rate = \"1\": must be > 1"),
        (&[("max-scale-down-rate", "-55")], "max-scale-down-rate = \"-55\": must be > 1"),
        (&[("max-scale-up-rate", "NaN")], "max-scale-up-rate = \"NaN\": must be a finite number"),
        (&[("max-scale-up-rate", "1e400")], "max-scale-up-rate = \"1e400\": must be a number (value out of range)"),
        (&[("panic-window-percentage", "110")], "panic-window-percentage = \"110\": must be between 1 and 100"),
        (&[("enable-scale-to-zero", "yes")], "enable-scale-to-zero = \"yes\": must be a boolean (1, t, true, 0, f, false, ...) (invalid syntax)"),
        (&[("initial-scale", "0")], "initial-scale = \"0\": must be >= 1 (or 0 with allow-zero-initial-scale: true)"),
        (&[("initial-scale", "2147483648")], "initial-scale = \"2147483648\": must be a 32-bit integer (value out of range)"),
        (&[("initial-scale", "1_0")], "initial-scale = \"1_0\": must be a 32-bit integer (invalid syntax)"),
        (&[("min-scale", "-1")], "min-scale = \"-1\": must be >= 0"),
        (&[("max-scale", "-1")], "max-scale = \"-1\": must be >= 0 (0: no limit)"),
        (&[("max-scale", "10"), ("max-scale-limit", "9")], "max-scale = \"10\": must be between 1 and max-scale-limit (9)"),
        (&[("max-scale", "0"), ("max-scale-limit", "11")], "max-scale = \"0\": must be between 1 and max-scale-limit (11)"),
        (&[("max-scale-limit", "-9")], "max-scale-limit = \"-9\": must be >= 0"),
        (&[("min-scale", "4"), ("max-scale", "3")], "min-scale = \"4\": must be <= max-scale (3)"),
    ];
    for (data, want) in cases {
        let err = Config::from_map(data.iter().copied()).expect_err(want);
        assert_eq!(err.to_string(), *want);
    }
}

#[test]
fn annotation_errors_name_key_value_and_rule() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("autoscaling.knative.dev/min-scale", "-1")], "autoscaling.knative.dev/min-scale = \"-1\": must be >= 0"),
        (
            &[("autoscaling.knative.dev/minscale", "1")],
            "unknown key `autoscaling.knative.dev/minscale` (did you mean `min-scale`?)",
        ),
        (&[("windw", "60s")], "unknown key `windw` (did you mean `window`?)"),
        (&[("window", "5s")], "window = \"5s\": must be between 6s and 1h, in whole seconds"),
        (&[("metric", "cpu")], "metric = \"cpu\": must be \"concurrency\" or \"rps\" for the KPA"),
        (&[("target", "0.001")], "target = \"0.001\": must be >= 0.01"),
        (
            &[("target-utilization-percentage", "101")],
            "target-utilization-percentage = \"101\": must be between 1 and 100",
        ),
        (
            &[("panic-threshold-percentage", "100")],
            "panic-threshold-percentage = \"100\": must be between 110 and 1000",
        ),
        (
            &[("scale-down-delay", "2h")],
            "scale-down-delay = \"2h\": must be >= 0 and a whole number of seconds, at most 3600s",
        ),
        (
            &[("serving.knative.dev/progress-deadline", "0s")],
            "serving.knative.dev/progress-deadline = \"0s\": must be > 0",
        ),
        (&[("min-scale", "4"), ("max-scale", "3")], "min-scale = \"4\": must be <= max-scale (3)"),
    ];
    for (data, want) in cases {
        let err = Annotations::from_map(data.iter().copied()).expect_err(want);
        assert_eq!(err.to_string(), *want);
    }
    // Other systems' annotations are not ours to refuse.
    let a = Annotations::from_map([("kubectl.kubernetes.io/last-applied-configuration", "{}"), ("min-scale", "2")])
        .unwrap();
    assert_eq!(a.min_scale, Some(2));
    let a = Annotations::from_map([("autoscaling.knative.dev/metric-aggregation-algorithm", "weightedExponential")])
        .unwrap();
    assert_eq!(a.metric_aggregation_algorithm, Some(Algorithm::WeightedExponential));
}

#[test]
fn go_durations() {
    let ok: &[(&str, i64)] = &[
        ("0", 0),
        ("-0", 0),
        ("+5s", 5_000_000_000),
        ("1.5h", 5_400_000_000_000),
        ("1h2m3.5s", 3_723_500_000_000),
        (".5s", 500_000_000),
        ("1.s", 1_000_000_000),
        ("0.1h", 360_000_000_000),
        ("-4m11s", -251_000_000_000),
        ("61984ms", 61_984_000_000),
        ("1us", 1000),
        ("1\u{b5}s", 1000),
        ("1\u{3bc}s", 1000),
        ("3ns", 3),
        ("1.0000000001s", 1_000_000_000),
        ("9223372036854775807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
        ("2562047h", 2_562_047 * 3_600_000_000_000),
    ];
    for &(text, ns) in ok {
        assert_eq!(go::parse_duration(text), Ok(GoDuration(ns)), "{text}");
    }
    let bad: &[(&str, GoParseError)] = &[
        ("", GoParseError::Duration),
        ("-", GoParseError::Duration),
        (".", GoParseError::Duration),
        ("s", GoParseError::Duration),
        ("1", GoParseError::MissingUnit),
        ("1s5", GoParseError::MissingUnit),
        ("1x", GoParseError::UnknownUnit),
        ("1e3s", GoParseError::UnknownUnit),
        ("1s ", GoParseError::UnknownUnit),
        ("9223372036854775808ns", GoParseError::Duration),
        ("2562048h", GoParseError::Duration),
        ("99999999999999999999s", GoParseError::Duration),
    ];
    for &(text, e) in bad {
        assert_eq!(go::parse_duration(text), Err(e), "{text}");
    }
    assert_eq!(GoDuration(30_600_000_000).round(GoDuration::SECOND), GoDuration::from_secs(31));
    assert_eq!(GoDuration(-1_500_000_000).round(GoDuration::SECOND), GoDuration::from_secs(-2));
    assert_eq!(GoDuration(25_100_000_000).round(GoDuration::SECOND), GoDuration::from_secs(25));
    assert_eq!(GoDuration(i64::MAX).round(GoDuration::SECOND), GoDuration(i64::MAX), "saturates");
    assert_eq!(GoDuration(9_223_372_036_400_000_000).round(GoDuration::SECOND), GoDuration(9_223_372_036_000_000_000));
    assert_eq!(GoDuration(1).to_ms_ceil(), DurationMs(1));
    assert_eq!(GoDuration(-5).to_ms_ceil(), DurationMs::ZERO);
    assert_eq!(GoDuration(1_500_000_000).to_string(), "1.5s");
}

#[test]
fn go_floats_ints_and_bools() {
    // Hexadecimal values checked against Python's float.fromhex (correct rounding).
    let ok: &[(&str, f64)] = &[
        ("1", 1.0),
        ("-0.25", -0.25),
        ("1.", 1.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("1E-2", 0.01),
        ("1_000.5", 1000.5),
        ("1_0e1_0", 1e11),
        ("1e-400", 0.0),
        ("inf", f64::INFINITY),
        ("+Infinity", f64::INFINITY),
        ("-INF", f64::NEG_INFINITY),
        ("0x1p-2", 0.25),
        ("0x1.8p1", 3.0),
        ("0X_1P+3", 8.0),
        ("0x.1p4", 1.0),
        ("0x1p-1074", 5e-324),
        ("0x1p-1075", 0.0),
        ("0x1.8p-1074", 1e-323),
        ("0xffp-1080", 2e-323),
        ("0x1.fffffffffffffp1023", f64::MAX),
        ("0x1.fffffffffffff7p1023", f64::MAX),
        ("0x123456789abcdef01p0", 2.0988295479420645e19),
        ("0x1.0000000000000801p0", 1.0000000000000002),
        ("0x1.00000000000008p0", 1.0),
        ("0x1.00000000000018p0", 1.0000000000000004),
    ];
    for &(text, x) in ok {
        let got = go::parse_float(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got.to_bits(), x.to_bits(), "{text}: {got}");
    }
    assert!(go::parse_float("nan").unwrap().is_nan());
    assert!(go::parse_float("NaN").unwrap().is_nan());
    let bad: &[(&str, GoParseError)] = &[
        ("", GoParseError::Syntax),
        (".", GoParseError::Syntax),
        ("+nan", GoParseError::Syntax),
        ("infinit", GoParseError::Syntax),
        ("1__0", GoParseError::Syntax),
        ("_1", GoParseError::Syntax),
        ("1_", GoParseError::Syntax),
        ("1_.5", GoParseError::Syntax),
        ("5e", GoParseError::Syntax),
        ("1.2.3", GoParseError::Syntax),
        (" 1", GoParseError::Syntax),
        ("0x1", GoParseError::Syntax),
        ("0x", GoParseError::Syntax),
        ("0xp1", GoParseError::Syntax),
        ("1e400", GoParseError::Range),
        ("0x1p1024", GoParseError::Range),
        ("0x1.fffffffffffff8p1023", GoParseError::Range),
    ];
    for &(text, e) in bad {
        assert_eq!(go::parse_float(text), Err(e), "{text}");
    }

    assert_eq!(go::parse_int32("+5"), Ok(5));
    assert_eq!(go::parse_int32("-2147483648"), Ok(i32::MIN));
    assert_eq!(go::parse_int32("2147483647"), Ok(i32::MAX));
    assert_eq!(go::parse_int32("2147483648"), Err(GoParseError::Range));
    assert_eq!(go::parse_int32("-99999999999999999999"), Err(GoParseError::Range));
    for bad in ["", "+", "1_0", " 1", "1.0", "0x10"] {
        assert_eq!(go::parse_int32(bad), Err(GoParseError::Syntax), "{bad}");
    }
    for yes in ["1", "t", "T", "TRUE", "true", "True"] {
        assert_eq!(go::parse_bool(yes), Ok(true));
    }
    for no in ["0", "f", "F", "FALSE", "false", "False"] {
        assert_eq!(go::parse_bool(no), Ok(false));
    }
    for bad in ["yes", "tRUE", "", " true"] {
        assert_eq!(go::parse_bool(bad), Err(GoParseError::Syntax));
    }
}

#[test]
fn state_round_trips_through_serde() {
    let spec = DeciderSpec { scale_down_delay: secs(10), ..base() };
    let mut state = DeciderState::new(&spec, t(0), Some(3));
    state.scale(&spec, t(2), Some(3), Some(WindowAverages { stable: 40.0, panic: 90.0 }));
    let text = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<DeciderState>(&text).unwrap(), state);
    let mut c =
        Collector::new(Algorithm::WeightedExponential, MetricWindows { stable: secs(6), panic: secs(2) }).unwrap();
    c.record(t(1), 3.0);
    let text = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<Collector>(&text).unwrap(), c);
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6f64..1e6,
        1 => prop::num::f64::ANY,
        1 => prop::sample::select(vec![0.0, -1.0, 1.0, f64::MAX, f64::MIN_POSITIVE, f64::INFINITY, f64::NAN]),
    ]
}

fn any_spec() -> impl Strategy<Value = DeciderSpec> {
    (
        (any_f64(), any_f64(), any_f64(), any_f64(), any_f64(), any_f64(), any_f64()),
        (any::<u64>(), 0u64..100_000, any::<i32>(), any::<bool>(), any::<i32>()),
    )
        .prop_map(
            |((target, total, tbc, panic, up, down, act), (window, delay, initial, reachable, activation))| {
                DeciderSpec {
                    scaling_metric: kpa::Metric::Concurrency,
                    target_value: target,
                    total_value: total,
                    target_burst_capacity: tbc,
                    panic_threshold: panic,
                    max_scale_up_rate: up,
                    max_scale_down_rate: down,
                    activator_capacity: act,
                    stable_window: DurationMs(window),
                    scale_down_delay: DurationMs(delay),
                    initial_scale: initial,
                    reachable,
                    activation_scale: activation,
                }
            },
        )
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+0-9._a-zA-Z µμ]{0,24}",
        "[-+]?[0-9]{0,22}(\\.[0-9]{0,12})?(e[-+]?[0-9]{1,4})?",
        "[-+]?0[xX][0-9a-fA-F_.]{0,20}[pP][-+]?[0-9]{1,5}",
        "([0-9]{1,20}(\\.[0-9]{0,20})?(ns|us|ms|s|m|h)){1,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_decider_never_panics(
        spec in any_spec(),
        created in any::<u64>(),
        ready0 in prop::option::of(any::<u32>()),
        steps in prop::collection::vec(
            (any::<u64>(), prop::option::of(any::<u32>()), prop::option::of((any_f64(), any_f64())), any_spec()),
            0..12,
        ),
    ) {
        let mut state = DeciderState::new(&spec, TimeMs(created), ready0);
        let _ = DeciderStatus::initial(&spec);
        for (now, ready, avg, other) in steps {
            let spec = if now % 3 == 0 { other } else { spec };
            let r = state.scale(&spec, TimeMs(now), ready, avg.map(|(stable, panic)| WindowAverages { stable, panic }));
            let _ = DeciderStatus::initial(&spec).after(&r);
            let _ = kpa::num_activators(ready.unwrap_or(0), spec.total_value, spec.target_burst_capacity, spec.activator_capacity);
        }
    }

    #[test]
    fn buckets_never_panic(
        weighted in any::<bool>(),
        granularity in 1u64..5_000,
        buckets in 1u64..300,
        ops in prop::collection::vec((any::<bool>(), prop_oneof![any::<u64>(), 0u64..1_000_000], any_f64()), 0..40),
    ) {
        let algorithm = if weighted { Algorithm::WeightedExponential } else { Algorithm::Linear };
        let window = DurationMs(granularity * buckets - granularity / 2);
        let mut b = WindowBuckets::new(algorithm, window, DurationMs(granularity)).unwrap();
        let mut w = MaxWindow::new(window, DurationMs(granularity));
        for (record, at, value) in ops {
            if record {
                b.record(TimeMs(at), value);
                #[allow(clippy::cast_possible_truncation)]
                w.record(TimeMs(at), value as i32);
            } else {
                let _ = (b.average(TimeMs(at)), b.is_empty(TimeMs(at)), w.current());
            }
        }
    }

    #[test]
    fn the_reconciler_never_panics(
        desired in any::<i32>(), current in any::<i32>(),
        active in 0u8..3, active_for in any::<u64>(), initialized in any::<bool>(),
        proxy in prop::option::of(any::<u64>()), probe in any::<bool>(),
        durations in (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
        ints in (any::<i32>(), any::<i32>(), any::<i32>(), any::<bool>(), any::<bool>()),
        ann in (prop::option::of(any::<i64>()), prop::option::of(any::<i64>()), prop::option::of(any::<i64>()),
                prop::option::of(any::<i32>()), prop::option::of(any::<i32>()), prop::option::of(any::<i32>()),
                prop::option::of(any_f64()), prop::option::of(any_f64())),
        reach in 0u8..3, tbc in any_f64(), pct in any_f64(),
    ) {
        let (window, grace, retention, deadline) = durations;
        let (min, max, initial, to_zero, allow_zero) = ints;
        let cfg = Config {
            stable_window: DurationMs(window),
            scale_to_zero_grace_period: DurationMs(grace),
            scale_to_zero_pod_retention_period: DurationMs(retention),
            min_scale: min,
            max_scale: max,
            initial_scale: initial,
            enable_scale_to_zero: to_zero,
            allow_zero_initial_scale: allow_zero,
            target_burst_capacity: tbc,
            panic_window_percentage: pct,
            ..Config::default()
        };
        let annotations = Annotations {
            window: ann.0.map(GoDuration),
            scale_to_zero_pod_retention_period: ann.1.map(GoDuration),
            progress_deadline: ann.2.map(GoDuration),
            min_scale: ann.3,
            max_scale: ann.4,
            initial_scale: ann.5,
            target_burst_capacity: ann.6,
            target: ann.7,
            ..Annotations::default()
        };
        let reachability = [Reachability::Reachable, Reachability::Unknown, Reachability::Unreachable][usize::from(reach)];
        let rev = Revision { annotations, container_concurrency: current.unsigned_abs(), reachability };
        let status = PaStatus {
            active: [ActiveStatus::Active, ActiveStatus::Inactive, ActiveStatus::Activating][usize::from(active)],
            active_for: DurationMs(active_for),
            scale_target_initialized: initialized,
            sks_mode: if probe { SksMode::Proxy } else { SksMode::Serve },
            proxy_for: proxy.map(DurationMs),
        };
        let o = kpa::reconcile_scale(&cfg, DurationMs(deadline), &rev, &status, current, desired, || probe);
        let _ = kpa::sks_mode(o.desired, desired, status.active);
        let min_ready = kpa::active_threshold(&cfg, &rev, initialized);
        let _ = kpa::active_condition(status.active, o.desired, current.unsigned_abs(), min_ready);
        let _ = kpa::metric_windows(&cfg, &rev.annotations);
        let _ = kpa::make_decider(&cfg, &rev);
    }

    #[test]
    fn the_readers_never_panic(text in any_text(), keys in prop::collection::vec((0usize..40, any_text()), 0..6)) {
        let _ = go::parse_duration(&text);
        let _ = go::parse_float(&text);
        let _ = go::parse_int32(&text);
        let _ = go::parse_bool(&text);
        let config: Vec<(String, String)> = keys.iter().map(|(k, v)| {
            (kpa::CONFIG_KEYS.get(*k).map_or_else(|| format!("x-{k}"), |k| (*k).to_string()), v.clone())
        }).collect();
        let _ = Config::from_map(config);
        let annotations: Vec<(String, String)> = keys.iter().map(|(k, v)| {
            (kpa::ANNOTATION_KEYS.get(*k).map_or_else(|| format!("autoscaling.knative.dev/x{k}"), |k| (*k).to_string()), v.clone())
        }).collect();
        let _ = Annotations::from_map(annotations);
    }
}
