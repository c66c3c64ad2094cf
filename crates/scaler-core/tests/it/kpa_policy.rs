//! The `kpa` policy: hand-computed decision sequences through `Scaler` (the collector fed one
//! value a second with sample and hold, the decider and the reconciler at every tick),
//! settings and snapshots.

use scaler_core::{DurationMs, PolicyState, Scaler, ScalerSnapshot};

use crate::cfg;

/// One tick: `(t_s, workers, pending, running)`.
type Tick = (u64, u32, u64, u64);

/// Steps `s` through `ticks` as the simulator does (`Scaler::tick`, every scaling applied);
/// returns `action target reason` per tick.
fn drive(s: &mut Scaler, ticks: &[Tick]) -> Vec<String> {
    ticks.iter().map(|&(t, n, p, r)| crate::step(s, t, Some((n, p, r)))).collect()
}

fn run(config: &str, ticks: &[Tick]) -> Vec<String> {
    drive(&mut Scaler::new(cfg(config)), ticks)
}

/// A tick every 2 s (Knative's), a 10 s stable window and a 2 s panic window (20 %), a
/// target of 10 in-flight tasks per worker (100 % of 10), no burst capacity (the activator
/// leaves the path whenever a count is wanted), scale to zero allowed.
const BASE: &str = "policy = \"kpa\"\nmin_workers = 0\nmax_workers = 50\nevaluation_interval = 2\n[kpa]\n\
    \"stable-window\" = \"10s\"\n\"panic-window-percentage\" = \"20\"\n\
    \"container-concurrency-target-default\" = \"10\"\n\"container-concurrency-target-percentage\" = \"100\"\n\
    \"target-burst-capacity\" = \"0\"\n";

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

/// 4 workers at 40 in flight from 0 s to 12 s: the decider is created with 4 ready workers,
/// so it starts in panic (a restarted autoscaler does not scale a loaded revision down), and
/// the panic ends once a whole stable window has passed since: 0 + 10 < 12.
const WARM: &[Tick] =
    &[(0, 4, 0, 40), (2, 4, 0, 40), (4, 4, 0, 40), (6, 4, 0, 40), (8, 4, 0, 40), (10, 4, 0, 40), (12, 4, 0, 40)];
const WARM_OUT: [&str; 7] = [
    "hold 4 kpa_panic",
    "hold 4 kpa_panic",
    "hold 4 kpa_panic",
    "hold 4 kpa_panic",
    "hold 4 kpa_panic",
    "hold 4 kpa_panic", // 0 + 10 < 10 is false: still in panic
    "hold 4 kpa_stable",
];

fn after_warm(rest: &[Tick]) -> Vec<Tick> {
    WARM.iter().chain(rest).copied().collect()
}

#[test]
fn stable_mode_scales_to_the_target_concurrency() {
    // From 14 s the concurrency is 60; every second since the previous tick holds the
    // previous value, so the 10 s window's mean rises 2 s at a time.
    let ticks = after_warm(&[
        (14, 4, 0, 60), // 5..13 at 40 (9 s), 14 at 60: 420 / 10 = 42 -> ceil(4.2) = 5; panic (40 + 60) / 2 = 50 -> 5, 5/4 < 2
        (16, 5, 0, 60), // 7..13 at 40, 14..16 at 60: 460 / 10 = 46 -> 5
        (18, 5, 0, 60), // 9..13, 14..18: 500 / 10 = 50 -> 5
        (20, 5, 0, 60), // 11..13, 14..20: 540 / 10 = 54 -> 6
        (22, 6, 0, 60), // 13, 14..22: 580 / 10 = 58 -> 6
        (24, 6, 0, 60), // all 60: 6 = 60 / 10
    ]);
    let mut want: Vec<&str> = WARM_OUT.to_vec();
    want.extend([
        "scale_up 5 kpa_stable",
        "hold 5 kpa_stable",
        "hold 5 kpa_stable",
        "scale_up 6 kpa_stable",
        "hold 6 kpa_stable",
        "hold 6 kpa_stable",
    ]);
    assert_eq!(run(BASE, &ticks), want);
}

#[test]
fn a_burst_panics_without_scaling_down_until_a_stable_window_after_the_last_trigger() {
    let ticks = after_warm(&[
        (14, 4, 0, 200), // panic window 13 (40), 14 (200): 120 -> 12, 12 / 4 = 3 >= 2: panic at 14;
        //                  stable (9 x 40 + 200) / 10 = 56 -> 6; max(6, 12) = 12
        (16, 12, 0, 40), // panic 15 (200 held), 16 (40): 120 -> 12, 12 / 12 < 2: no re-arm; stable 72 -> 8; 12 kept
        (18, 12, 0, 40), // panic window 40 -> 4; the panic's highest 12 stands
        (20, 12, 0, 40),
        (22, 12, 0, 40),
        (24, 12, 0, 40), // 14 + 10 < 24 is false: still in panic
        (26, 12, 0, 40), // 24 < 26: panic ends; stable 40 -> 4, but floor(12 / 2) = 6 (max-scale-down-rate 2)
        (28, 6, 0, 40),  // floor(6 / 2) = 3 < 4: 4
        (30, 4, 0, 40),
    ]);
    let mut want: Vec<&str> = WARM_OUT.to_vec();
    want.extend([
        "scale_up 12 kpa_panic",
        "hold 12 kpa_panic",
        "hold 12 kpa_panic",
        "hold 12 kpa_panic",
        "hold 12 kpa_panic",
        "hold 12 kpa_panic",
        "scale_down 6 kpa_scale_down_limited",
        "scale_down 4 kpa_stable",
        "hold 4 kpa_stable",
    ]);
    assert_eq!(run(BASE, &ticks), want);
}

#[test]
fn max_scale_up_rate_limits_each_tick_to_a_multiple_of_the_ready_workers() {
    // One ready worker at creation: no initial panic; a panic threshold of 1000 % keeps 90
    // in flight (9 workers' worth) out of panic at every step.
    let c = with("\"max-scale-up-rate\" = \"2\"\n\"panic-threshold-percentage\" = \"1000\"\n");
    let got = run(&c, &[(0, 1, 0, 90), (2, 2, 0, 90), (4, 4, 0, 90), (6, 8, 0, 90), (8, 9, 0, 90)]);
    assert_eq!(
        got,
        [
            "scale_up 2 kpa_scale_up_limited", // ceil(90 / 10) = 9 > ceil(2 x 1) = 2
            "scale_up 4 kpa_scale_up_limited", // ceil(2 x 2) = 4
            "scale_up 8 kpa_scale_up_limited", // ceil(2 x 4) = 8
            "scale_up 9 kpa_stable",           // 9 <= 16
            "hold 9 kpa_stable",
        ]
    );
}

#[test]
fn the_scale_down_delay_keeps_the_highest_count_of_the_delay() {
    // scale-down-delay 6 s: the counts of the last three 2 s buckets, the highest kept; a
    // panic threshold of 1000 % keeps 30 in flight at 1 worker out of panic.
    let c = with("\"scale-down-delay\" = \"6s\"\n\"panic-threshold-percentage\" = \"1000\"\n");
    let got = run(
        &c,
        &[
            (0, 1, 0, 30),  // 30 -> 3
            (2, 3, 0, 10),  // 0, 1 at 30, 2 at 10: 70 / 3 = 23.3 -> 3
            (4, 3, 0, 10),  // 30, 30, 10, 10, 10: 90 / 5 = 18 -> 2; the delay holds 3 (buckets 0, 2, 4: 3, 3, 2)
            (6, 3, 0, 10),  // 110 / 7 = 15.7 -> 2; buckets 2, 4, 6: 3, 2, 2 -> 3
            (8, 3, 0, 10),  // 130 / 9 = 14.4 -> 2; buckets 4, 6, 8: 2 -> scale down
            (10, 2, 0, 10), // 1..10: 30 + 9 x 10 = 120 / 10 = 12 -> 2
            (12, 2, 0, 10), // 10 -> 1; buckets 8, 10, 12: 2, 2, 1 -> 2
            (14, 2, 0, 10), // buckets 10, 12, 14: 2, 1, 1 -> 2
            (16, 2, 0, 10), // buckets 12, 14, 16: 1
        ],
    );
    assert_eq!(
        got,
        [
            "scale_up 3 kpa_stable",
            "hold 3 kpa_stable",
            "hold 3 kpa_scale_down_delayed",
            "hold 3 kpa_scale_down_delayed",
            "scale_down 2 kpa_stable",
            "hold 2 kpa_stable",
            "hold 2 kpa_scale_down_delayed",
            "hold 2 kpa_scale_down_delayed",
            "scale_down 1 kpa_stable",
        ]
    );
}

#[test]
fn scale_to_zero_after_the_stable_window_and_the_grace_period() {
    let c = with("\"scale-to-zero-grace-period\" = \"4s\"\n");
    let got = run(
        &c,
        &[
            (0, 1, 0, 5), // 5 -> 1; activating -> active at 0 s (1 ready of 1)
            (2, 1, 0, 0), // 5, 5, 0: 3.3 -> 1
            (4, 1, 0, 0), // 10 / 5 = 2 -> 1
            (6, 1, 0, 0),
            (8, 1, 0, 0),
            (10, 1, 0, 0), // 1..10: 5 / 10 = 0.5 -> 1
            (12, 1, 0, 0), // 3..12: 0 -> 0 wanted; active for 12 s >= the 10 s window: 0 returned, not
            //                applied; marked inactive, the activator put in the path
            (14, 1, 0, 0), // inactive for 2 s < the 4 s grace period
            (16, 1, 0, 0), // inactive for 4 s: scale to zero
            (18, 0, 0, 0), // at zero
            (20, 0, 0, 3), // 3 in flight at zero: 11..20 = 0.3 -> 1, applied; activating
            (22, 1, 0, 3), // 6 / 10 -> 1; active again
        ],
    );
    assert_eq!(
        got,
        [
            "hold 1 kpa_stable",
            "hold 1 kpa_stable",
            "hold 1 kpa_stable",
            "hold 1 kpa_stable",
            "hold 1 kpa_stable",
            "hold 1 kpa_stable",
            "hold 1 kpa_deactivating",
            "hold 1 kpa_grace_period",
            "scale_down 0 kpa_scale_to_zero",
            "hold 0 kpa_scale_to_zero",
            "scale_up 1 kpa_stable",
            "hold 1 kpa_stable",
        ]
    );
    // Nothing in flight from the start (a 6 s window): the PodAutoscaler is activating, so 0
    // is not applied (-1 returned); with its 1 ready worker it becomes active at 0 s; while
    // active for less than a window it keeps 1 worker (idle wait), then deactivates.
    let c = with("\"autoscaling.knative.dev/window\" = \"6s\"\n");
    let got = run(&c, &[(0, 1, 0, 0), (2, 1, 0, 0), (4, 1, 0, 0), (6, 1, 0, 0)]);
    assert_eq!(
        got,
        ["hold 1 kpa_activating", "hold 1 kpa_idle_wait", "hold 1 kpa_idle_wait", "hold 1 kpa_deactivating"]
    );
}

#[test]
fn a_snapshot_mid_run_resumes_exactly() {
    let c = with("\"scale-down-delay\" = \"4s\"\n\"scale-to-zero-grace-period\" = \"4s\"\n");
    let ticks = after_warm(&[
        (14, 4, 0, 200),
        (16, 12, 0, 40),
        (18, 12, 0, 0),
        (20, 12, 0, 0),
        (26, 12, 0, 0), // a gap: the seconds between hold 0
        (28, 12, 0, 0),
        (40, 6, 0, 0),
        (42, 3, 0, 0),
        (52, 1, 0, 0),
        (54, 1, 0, 0),
        (56, 1, 0, 0),
        (58, 0, 2, 1),
    ]);
    let whole = run(&c, &ticks);
    for cut in 0..ticks.len() {
        let mut first = Scaler::new(cfg(&c));
        let mut got = drive(&mut first, &ticks[..cut]);
        let json = serde_json::to_string(&first.snapshot()).unwrap();
        let snap: ScalerSnapshot = serde_json::from_str(&json).unwrap();
        assert!(matches!(snap.state, PolicyState::Kpa(_)), "{json}");
        let mut resumed = Scaler::restore(cfg(&c), snap).unwrap();
        got.extend(drive(&mut resumed, &ticks[cut..]));
        assert_eq!(got, whole, "cut at {cut}");
    }
}

#[test]
fn settings_are_read_as_knative_reads_them_and_refused_with_key_value_and_rule() {
    let err = |t: &str| crate::try_cfg(&format!("policy = \"kpa\"\nmin_workers = 0\n[kpa]\n{t}")).unwrap_err();
    let e = err("\"stable-window\" = \"5s\"\n");
    assert!(e.starts_with("kpa.stable-window = \"5s\": "), "{e}");
    let e = err("\"stable-window\" = 60\n");
    assert!(e.starts_with("kpa.stable-window = \"60\": must be a Go duration"), "{e}");
    let e = err("\"autoscaling.knative.dev/metric\" = \"rps\"\n");
    assert!(e.starts_with("kpa.autoscaling.knative.dev/metric = \"rps\": rps needs the requests arrived"), "{e}");
    let e = err("\"autoscaling.knative.dev/target\" = \"abc\"\n");
    assert!(e.starts_with("kpa.autoscaling.knative.dev/target = \"abc\": "), "{e}");
    let e = err("\"stable-windw\" = \"60s\"\n");
    assert!(e.contains("did you mean `stable-window`"), "{e}");
    let e = err("\"autoscaling.knative.dev/minscale\" = \"1\"\n");
    assert!(e.contains("did you mean `autoscaling.knative.dev/min-scale`"), "{e}");
    let e = err("\"container-concurrency\" = -1\n");
    assert!(e.starts_with("kpa.container-concurrency = \"-1\": must be a whole number"), "{e}");
    // Annotations override the ConfigMap: a window of 20 s, a target of 5 at 50 %.
    let c = cfg("policy = \"kpa\"\n[kpa]\n\"stable-window\" = \"30s\"\n\"autoscaling.knative.dev/window\" = \"20s\"\n\
                 \"autoscaling.knative.dev/target\" = 5\n\"autoscaling.knative.dev/target-utilization-percentage\" = 50\n\
                 \"enable-scale-to-zero\" = false\n");
    let scaler_core::PolicyConfig::Kpa(k) = c.policy_config() else { panic!("not kpa") };
    assert_eq!(k.decider_spec().stable_window, DurationMs::from_secs(20));
    assert!((k.decider_spec().target_value - 2.5).abs() < 1e-12);
    assert!(!k.config().enable_scale_to_zero);
    assert_eq!(k.get("autoscaling.knative.dev/target"), Some("5"));
}
