//! The `keda` policy: hand-computed decision sequences through `Scaler` (KEDA's poll every
//! `polling_interval`, the HPA at every tick), missing observations as metric errors, and
//! snapshots.

use scaler_core::{PolicyState, Scaler, ScalerSnapshot};

use crate::cfg;

/// One tick: `(t_s, Some((workers, pending, running)))`, or `(t_s, None)` when the tick's
/// observation did not arrive.
type Tick = (u64, Option<(u32, u64, u64)>);

/// Steps `s` through `ticks` as the simulator does (`Scaler::tick`, every scaling applied);
/// returns `action target reason` per tick.
fn drive(s: &mut Scaler, ticks: &[Tick]) -> Vec<String> {
    ticks.iter().map(|&(t, o)| crate::step(s, t, o)).collect()
}

fn run(config: &str, ticks: &[Tick]) -> Vec<String> {
    drive(&mut Scaler::new(cfg(config)), ticks)
}

/// Scale to zero allowed, HPA every 15 s, KEDA every 30 s, a 60 s cooldown, 5 tasks per
/// worker, scale-up by up to 100 pods per 15 s, no scale-down stabilization.
const BASIC: &str = "policy = \"keda\"\nmin_workers = 0\nmax_workers = 20\nevaluation_interval = 15\n\
    [keda]\npolling_interval = 30\ncooldown_period = 60\nthreshold = 5\n\
    behavior = { scaleUp = { policies = [{ type = \"Pods\", value = 100, periodSeconds = 15 }] }, \
    scaleDown = { stabilizationWindowSeconds = 0 } }\n";

#[test]
fn activation_from_zero_hpa_scaling_and_strict_cooldown_back_to_zero() {
    let got = run(
        BASIC,
        &[
            (0, Some((0, 0, 0))),    // poll: 0 tasks, not above activation 0: idle at zero
            (15, Some((0, 12, 0))),  // no poll (next at 30); the HPA does not act at zero
            (30, Some((0, 12, 0))),  // poll: 12 > 0, at zero: activate to 1; lastActiveTime 30
            (45, Some((1, 11, 1))),  // HPA: 12000m / (5000m x 1) = 2.4 -> ceil(2.4) = 3
            (60, Some((3, 20, 10))), // poll: active, LAT 60; served 30: 30000 / 15000 = 2 -> 6
            (75, Some((6, 0, 30))),  // no poll: cached 30000m over 6 x 5000m = 1.0: hold
            (90, Some((6, 0, 0))),   // poll: 0 tasks, inactive, 60 + 60 < 90 no: cooldown; HPA 0 -> min 1
            (105, Some((1, 0, 0))),  // HPA holds at its minimum 1: keda_cooldown
            (120, Some((1, 0, 0))),  // poll at exactly LAT + cooldown: 120 < 120 no: still cooldown
            (135, Some((1, 0, 0))),
            (150, Some((1, 0, 0))), // poll: 120 < 150: deactivate to minReplicaCount 0
            (165, Some((0, 0, 0))), // at zero between polls
            (180, Some((0, 3, 0))), // poll: 3 > 0: activate again
        ],
    );
    assert_eq!(
        got,
        [
            "hold 0 keda_idle",
            "hold 0 keda_idle",
            "scale_up 1 keda_activate",
            "scale_up 3 DesiredWithinRange",
            "scale_up 6 DesiredWithinRange",
            "hold 6 DesiredWithinRange",
            "scale_down 1 TooFewReplicas",
            "hold 1 keda_cooldown",
            "hold 1 keda_cooldown",
            "hold 1 keda_cooldown",
            "scale_down 0 keda_deactivate",
            "hold 0 keda_idle",
            "scale_up 1 keda_activate",
        ]
    );
}

#[test]
fn the_activation_threshold_is_strict_and_min_and_idle_counts_apply() {
    // activation_threshold 4: 4 tasks do not activate, 5 do; minReplicaCount 2 is the
    // activation's count and the HPA's minimum; idleReplicaCount 0 is the count while inactive.
    let c = "policy = \"keda\"\nmin_workers = 0\nmax_workers = 20\nevaluation_interval = 30\n\
             [keda]\ncooldown_period = 30\nthreshold = 5\nactivation_threshold = 4\nmin_replica_count = 2\n\
             idle_replica_count = 0\n";
    let got = run(
        c,
        &[
            (0, Some((0, 4, 0))),   // 4 is not above 4: idle
            (30, Some((0, 5, 0))),  // 5 > 4: activate to minReplicaCount 2; LAT 30
            (60, Some((2, 0, 4))),  // 4 tasks: not active (LAT stays 30); HPA 4000/10000 -> 1, min 2: hold
            (90, Some((2, 0, 0))),  // 30 + 30 < 90: deactivate to the idle count 0
            (120, Some((0, 0, 0))), // at the idle count: idle
        ],
    );
    assert_eq!(
        got,
        [
            "hold 0 keda_idle",
            "scale_up 2 keda_activate",
            "hold 2 keda_cooldown",
            "scale_down 0 keda_deactivate",
            "hold 0 keda_idle"
        ]
    );
}

/// Polls every 15 s (every tick); the fallback after strictly more than 2 failures serves
/// `5 x 4 = 20` tasks, which the HPA turns into 4 workers.
const FALLBACK: &str = "policy = \"keda\"\nmin_workers = 0\nmax_workers = 20\nevaluation_interval = 15\n\
    [keda]\npolling_interval = 15\nthreshold = 5\nfallback_failure_threshold = 2\nfallback_replicas = 4\n";

const FALLBACK_TICKS: &[Tick] = &[
    (0, Some((2, 6, 4))),  // 10 tasks over 2 x 5: 2, hold; active, LAT 0
    (15, None),            // no observation: failure 1 (not > 2): wait for the fallback
    (30, None),            // failure 2
    (45, None),            // failure 3 > 2: the fallback serves 20000m, active: 20000 / 10000 = 2 -> 4
    (60, Some((4, 0, 0))), // back: 0 tasks, health reset; inactive within the 300 s cooldown
    (75, None),            // failure 1 again
];

#[test]
fn missing_observations_are_metric_errors_and_the_fallback_starts_after_the_threshold() {
    assert_eq!(
        run(FALLBACK, FALLBACK_TICKS),
        [
            "hold 2 DesiredWithinRange",
            "hold 2 keda_awaiting_fallback",
            "hold 2 keda_awaiting_fallback",
            "scale_up 4 keda_fallback",
            // Legacy stabilization keeps the recommendation 4 of 15 s ago; the HPA holds.
            "hold 4 keda_cooldown",
            "hold 4 keda_awaiting_fallback",
        ]
    );
    // Without a fallback, a missing observation is a trigger error: the HPA cannot compute.
    let c =
        "policy = \"keda\"\nmin_workers = 0\nevaluation_interval = 15\n[keda]\npolling_interval = 15\nthreshold = 5\n";
    assert_eq!(
        run(c, &[(0, Some((2, 6, 4))), (15, None), (30, None), (45, None)]),
        [
            "hold 2 DesiredWithinRange",
            "hold 2 keda_trigger_error",
            "hold 2 keda_trigger_error",
            "hold 2 keda_trigger_error"
        ]
    );
}

#[test]
fn a_value_metric_scales_the_ready_workers_and_pause_holds() {
    // Value 10: 30 tasks in total over a target of 10 at 2 ready workers: ceil(3 x 2) = 6,
    // which the legacy scale-up limit max(2 x 2, 4) = 4 caps (no behavior set).
    let c = "policy = \"keda\"\nmin_workers = 0\nmax_workers = 20\nevaluation_interval = 30\n\
             [keda]\nmetric_type = \"Value\"\nthreshold = 10\n";
    assert_eq!(run(c, &[(0, Some((2, 20, 10)))]), ["scale_up 4 ScaleUpLimit"]);
    // Over 5 ready workers of 5, 30 / 10 = 3: ceil(3 x 5) = 15 > max(2 x 5, 4) = 10.
    assert_eq!(run(c, &[(0, Some((5, 20, 10)))]), ["scale_up 10 ScaleUpLimit"]);
    // 12 tasks over 10 at 5 workers: ratio 1.2, ceil(1.2 x 5) = 6.
    assert_eq!(run(c, &[(0, Some((5, 2, 10)))]), ["scale_up 6 DesiredWithinRange"]);
    let c = "policy = \"keda\"\nmin_workers = 0\n[keda]\npaused = true\n";
    assert_eq!(run(c, &[(0, Some((0, 20, 0))), (60, Some((0, 20, 0)))]), ["hold 0 keda_paused", "hold 0 keda_paused"]);
}

#[test]
fn a_snapshot_mid_run_resumes_exactly() {
    let whole = run(FALLBACK, FALLBACK_TICKS);
    for cut in 0..FALLBACK_TICKS.len() {
        let mut first = Scaler::new(cfg(FALLBACK));
        let mut got = drive(&mut first, &FALLBACK_TICKS[..cut]);
        let json = serde_json::to_string(&first.snapshot()).unwrap();
        let snap: ScalerSnapshot = serde_json::from_str(&json).unwrap();
        assert!(matches!(snap.state, PolicyState::Keda(_)), "{json}");
        let mut resumed = Scaler::restore(cfg(FALLBACK), snap).unwrap();
        got.extend(drive(&mut resumed, &FALLBACK_TICKS[cut..]));
        assert_eq!(got, whole, "cut at {cut}");
    }
}

#[test]
fn settings_are_refused_with_key_value_and_rule() {
    let err = |t: &str| crate::try_cfg(&format!("policy = \"keda\"\nmin_workers = 0\n[keda]\n{t}")).unwrap_err();
    let e = err("min_replica_count = 5\nmax_replica_count = 3\n");
    assert_eq!(e, "keda.min_replica_count = 5: MinReplicaCount=5 must be less than MaxReplicaCount=3");
    let e = err("min_replica_count = 2\nidle_replica_count = 2\n");
    assert_eq!(e, "keda.idle_replica_count = 2: IdleReplicaCount=2 must be less than MinReplicaCount=2");
    let e = err("threshold = 0\n");
    assert_eq!(e, "keda.threshold = 0: must be a finite number greater than 0");
    let e = err("fallback_replicas = 3\n");
    assert!(e.starts_with("keda.fallback_failure_threshold = unset: must be set together"), "{e}");
    assert!(err("polling_interval = 0\n").contains("keda.polling_interval = 0: must be > 0 seconds"));
    assert!(err("max_replica_count = 0\n").contains("keda.max_replica_count = 0: must be a whole number >= 1"));
    assert!(err("metric_type = \"Utilization\"\n").contains("must be one of \"AverageValue\", \"Value\""));
    assert!(
        err("pollingInterval = 10\n").contains("did you mean `polling_interval`"),
        "{}",
        err("pollingInterval = 10\n")
    );
    // The HPA's keys go through the hpa policy's readers.
    assert!(
        err("behavior = { scaleUp = { selectPolicy = \"Most\" } }\n").contains("keda.behavior.scaleUp.selectPolicy")
    );
}

#[test]
fn the_initial_cooldown_counts_from_the_first_decision_strictly() {
    // No activity ever: the scale-in waits for created + initial_cooldown_period < now, the
    // object being created at the first decision (0 s). The HPA meanwhile goes to its minimum.
    let c = "policy = \"keda\"\nmin_workers = 0\nevaluation_interval = 30\n\
             [keda]\npolling_interval = 30\ninitial_cooldown_period = 60\n";
    let got = run(c, &[(0, Some((2, 0, 0))), (30, Some((1, 0, 0))), (60, Some((1, 0, 0))), (90, Some((1, 0, 0)))]);
    assert_eq!(
        got,
        ["scale_down 1 TooFewReplicas", "hold 1 keda_cooldown", "hold 1 keda_cooldown", "scale_down 0 keda_deactivate"]
    );
}
