//! `scaler_core::keda`: hand-computed cases for activation, the executor (cooldown, idle,
//! minimum, fallback, pause), the fallback's thresholds, quantities, validation and the HPA
//! KEDA creates, and a property that no input panics (overflow checks are on in tests).

use proptest::prelude::*;
use scaler_core::hpa::{SelectPolicy, Tolerance};
use scaler_core::keda::{
    self, Annotations, Branch, ConditionStatus, Fallback, FallbackBehavior, FallbackError, Health, HealthStatus,
    HpaReading, MetricTarget, MetricType, ScaledObjectSpec, ScaledObjectStatus, Served, Trigger, TriggerType,
};
use scaler_core::{DurationMs, TimeMs};

/// Seconds on the core's clock.
fn t(s: u64) -> TimeMs {
    TimeMs(s * 1000)
}

fn secs(s: u64) -> Option<DurationMs> {
    Some(DurationMs::from_secs(s))
}

fn one_trigger(metric_type: MetricType, threshold: f64) -> Vec<Trigger> {
    vec![Trigger::external("queue", metric_type, threshold, 0.0)]
}

#[test]
fn activation_is_strictly_above_the_threshold() {
    // (value, activation threshold, active)
    let cases = [
        (0.0, 0.0, false),
        (0.5, 0.0, true),
        (5.0, 5.0, false),
        (5.000_000_001, 5.0, true),
        (-1.0, -2.0, true),
        (f64::NAN, 0.0, false),
        (f64::INFINITY, 1e300, true),
    ];
    for (value, activation, want) in cases {
        assert_eq!(keda::is_active(value, activation), want, "{value} > {activation}");
    }
}

#[test]
fn quantities_round_to_three_decimals_like_go() {
    // (value, milli-units): "%.3f" rounds the exact binary value, ties to even.
    let cases = [
        (42.5, 42_500),
        (0.000_4, 0),
        (0.000_5, 1),   // 0.0005 is slightly above 5e-4 in binary
        (0.062_5, 62),  // an exact tie: to even
        (0.187_5, 188), // an exact tie: to even
        (2.142_857, 2_143),
        (-0.0, 0),
        (-1.0, 0),
        (f64::NAN, 0),
        (f64::INFINITY, 0),
        (f64::NEG_INFINITY, 0),
        (1e15, 1_000_000_000_000_000_000),
        (1e18, i64::MAX),
    ];
    for (value, want) in cases {
        assert_eq!(keda::quantity_m(value), want, "{value}");
    }
}

/// One executor case: what is set on the spec and status, the call, and what must happen.
struct Exec {
    what: &'static str,
    spec: ScaledObjectSpec,
    last_active_s: Option<u64>,
    created_s: Option<u64>,
    now_s: u64,
    current: i32,
    active: bool,
    error: bool,
    branch: Branch,
    set: Option<i32>,
    lat_set: bool,
}

fn spec(min: Option<i32>, idle: Option<i32>, cooldown_s: Option<u64>) -> ScaledObjectSpec {
    ScaledObjectSpec {
        min_replica_count: min,
        idle_replica_count: idle,
        cooldown_period: cooldown_s.map(DurationMs::from_secs),
        triggers: one_trigger(MetricType::AverageValue, 1.0),
        ..ScaledObjectSpec::default()
    }
}

fn with_notes(mut s: ScaledObjectSpec, notes: &[(&str, &str)]) -> ScaledObjectSpec {
    s.annotations = Annotations::from_pairs(notes.iter().copied());
    s
}

fn with_fallback(mut s: ScaledObjectSpec, replicas: i32) -> ScaledObjectSpec {
    s.fallback = Some(Fallback { failure_threshold: 3, replicas, behavior: FallbackBehavior::Static });
    s
}

#[allow(clippy::too_many_lines)]
fn exec_cases() -> Vec<Exec> {
    let base = |what, spec, now_s, current, active, branch, set, lat_set| Exec {
        what,
        spec,
        last_active_s: Some(100),
        created_s: Some(0),
        now_s,
        current,
        active,
        error: false,
        branch,
        set,
        lat_set,
    };
    vec![
        // Cooldown 300 s from lastActiveTime 100 s: 100 + 300 < now is strict.
        base("within cooldown", spec(None, None, None), 400, 3, false, Branch::Cooldown, None, false),
        base("cooldown over", spec(None, None, None), 401, 3, false, Branch::Deactivate, Some(0), false),
        base("short cooldown", spec(None, None, Some(10)), 111, 3, false, Branch::Deactivate, Some(0), false),
        // Active at 0 with no minimum: one replica; with a minimum: the minimum.
        base("activate to 1", spec(None, None, None), 500, 0, true, Branch::Activate, Some(1), true),
        base("activate to min", spec(Some(4), None, None), 500, 0, true, Branch::Activate, Some(4), true),
        base("activate min 0", spec(Some(0), None, None), 500, 0, true, Branch::Activate, Some(1), true),
        // Active above 0: the HPA owns the count; lastActiveTime is now.
        base("active", spec(Some(1), None, None), 500, 3, true, Branch::Active, None, true),
        // Idle count 1 under minimum 3: active lifts from idle to min, inactive drops to idle.
        base("idle activates", spec(Some(3), Some(1), None), 500, 1, true, Branch::Activate, Some(3), true),
        base("idle after cooldown", spec(Some(3), Some(1), None), 500, 3, false, Branch::Deactivate, Some(1), false),
        base("at idle", spec(Some(3), Some(1), None), 500, 1, false, Branch::Idle, None, false),
        // Without an idle count, an inactive object below its minimum is raised at once.
        base("raise to min", spec(Some(2), None, None), 101, 1, false, Branch::RaiseToMin, Some(2), false),
        base("at min", spec(Some(2), None, None), 500, 2, false, Branch::Idle, None, false),
        base("at zero", spec(None, None, None), 500, 0, false, Branch::Idle, None, false),
        // Pause: `paused-replicas` pauses whatever its value; `paused` unless it is false.
        base(
            "paused replicas",
            with_notes(spec(None, None, None), &[(keda::PAUSED_REPLICAS, "")]),
            500,
            0,
            true,
            Branch::Paused,
            None,
            false,
        ),
        base(
            "paused yes",
            with_notes(spec(None, None, None), &[(keda::PAUSED, "yes")]),
            500,
            0,
            true,
            Branch::Paused,
            None,
            false,
        ),
        base(
            "paused false",
            with_notes(spec(None, None, None), &[(keda::PAUSED, "False")]),
            500,
            0,
            true,
            Branch::Activate,
            Some(1),
            true,
        ),
        base(
            "scale-out paused",
            with_notes(spec(None, None, None), &[(keda::PAUSED_SCALE_OUT, "1")]),
            500,
            0,
            true,
            Branch::ScaleOutPaused,
            None,
            false,
        ),
        base(
            "scale-in paused",
            with_notes(spec(None, None, None), &[(keda::PAUSED_SCALE_IN, "t")]),
            500,
            3,
            false,
            Branch::ScaleInPaused,
            None,
            false,
        ),
        base(
            "forced",
            with_notes(spec(Some(2), None, None), &[(keda::FORCE_ACTIVATION, "true")]),
            500,
            0,
            false,
            Branch::Activate,
            Some(2),
            true,
        ),
        // No lastActiveTime: the initial cooldown (default 0) from creation, strict.
        Exec {
            last_active_s: None,
            created_s: Some(500),
            ..base("created now", spec(None, None, None), 500, 2, false, Branch::Cooldown, None, false)
        },
        Exec {
            last_active_s: None,
            created_s: Some(499),
            ..base("created before", spec(None, None, None), 500, 2, false, Branch::Deactivate, Some(0), false)
        },
        Exec {
            last_active_s: None,
            created_s: None,
            ..base("created long ago", spec(None, None, None), 0, 2, false, Branch::Deactivate, Some(0), false)
        },
        Exec {
            last_active_s: None,
            spec: ScaledObjectSpec { initial_cooldown_period: secs(120), ..spec(None, None, None) },
            ..base("initial cooldown", spec(None, None, None), 120, 2, false, Branch::Cooldown, None, false)
        },
        // Errors: active with an error keeps lastActiveTime as it was.
        Exec {
            error: true,
            ..base("partial error", spec(None, None, None), 500, 3, true, Branch::PartialTriggerError, None, false)
        },
        Exec {
            error: true,
            ..base("error, no fallback", spec(None, None, None), 500, 3, false, Branch::TriggerError, None, false)
        },
        Exec {
            error: true,
            ..base(
                "error, fallback",
                with_fallback(spec(None, None, None), 5),
                500,
                3,
                false,
                Branch::AwaitingFallback,
                None,
                false,
            )
        },
        // A fallback of 0 replicas does not hold the object up: it scales in after the cooldown.
        Exec {
            error: true,
            ..base(
                "error, fallback 0",
                with_fallback(spec(None, None, None), 0),
                500,
                3,
                false,
                Branch::Deactivate,
                Some(0),
                false,
            )
        },
    ]
}

#[test]
fn executor_cases() {
    for c in exec_cases() {
        let status = ScaledObjectStatus {
            created_at: c.created_s.map(t),
            last_active_time: c.last_active_s.map(t),
            health: Vec::new(),
        };
        let r = keda::request_scale(&c.spec, &status, t(c.now_s), c.current, c.active, c.error);
        assert_eq!(r.branch, c.branch, "{}", c.what);
        assert_eq!(r.set_replicas, c.set, "{}", c.what);
        assert_eq!(r.last_active_time, c.lat_set.then(|| t(c.now_s)), "{}", c.what);
        let active = r.active.map(|a| a.status);
        match c.branch {
            Branch::Paused => assert_eq!((active, r.paused.map(|p| p.status)), (None, Some(ConditionStatus::True))),
            Branch::Cooldown => assert_eq!(r.active.map(|a| a.reason), Some("ScalerCooldown"), "{}", c.what),
            _ => assert_eq!(
                active,
                Some(if c.active || c.what == "forced" { ConditionStatus::True } else { ConditionStatus::False }),
                "{}",
                c.what
            ),
        }
        let ready = match c.branch {
            Branch::PartialTriggerError => (ConditionStatus::Unknown, "PartialTriggerError"),
            Branch::TriggerError => (ConditionStatus::False, "TriggerError"),
            _ => (ConditionStatus::True, "ScaledObjectReady"),
        };
        assert_eq!((r.ready.status, r.ready.reason), ready, "{}", c.what);
    }
}

#[test]
fn events_name_the_target_and_the_triggers() {
    let s = spec(Some(2), None, None);
    let r = keda::request_scale(&s, &ScaledObjectStatus::default(), t(5), 0, true, false);
    let e = r.event.unwrap();
    assert_eq!((e.event_type(), e.reason()), ("Normal", "KEDAScaleTargetActivated"));
    assert_eq!(
        e.message("Deployment", "ns", "web", &["a", "b"]),
        "Scaled Deployment ns/web from 0 to 2, triggered by a;b"
    );
    let r = keda::request_scale(&s, &ScaledObjectStatus::default(), t(5), 0, false, false);
    assert_eq!(r.event, None, "raising to the minimum records no event");
    let s = spec(None, None, None);
    let e = keda::request_scale(&s, &ScaledObjectStatus::default(), t(5), 4, false, false).event.unwrap();
    assert_eq!(e.message("Deployment", "ns", "web", &[]), "Deactivated Deployment ns/web from 4 to 0");
}

#[test]
fn fallback_starts_strictly_after_the_threshold_and_resets_on_success() {
    let f = Fallback { failure_threshold: 2, replicas: 4, behavior: FallbackBehavior::Static };
    let target = MetricTarget::new(MetricType::AverageValue, 2.5);
    let mut h = None;
    let fetch = |result: Result<f64, &'static str>, h: &mut Option<Health>| {
        keda::metric_with_fallback(Some(&f), target, h, result, 1, 1)
    };
    assert_eq!(fetch(Err("down"), &mut h), Err(FallbackError::Scaler("down")));
    assert_eq!(fetch(Err("down"), &mut h), Err(FallbackError::Scaler("down")));
    assert_eq!(h, Some(Health { failures: 2, status: HealthStatus::Failing }));
    // The third failure is more than 2: 2.5 * 1000 * 4 = 10000 milli-units.
    assert_eq!(fetch(Err("down"), &mut h), Ok(Served { value_m: 10_000, fallback_active: true }));
    assert_eq!(keda::fallback_condition(Some(&f), h.iter()), Some(true));
    assert_eq!(fetch(Ok(7.0), &mut h), Ok(Served { value_m: 7_000, fallback_active: false }));
    assert_eq!(h, Some(Health { failures: 0, status: HealthStatus::Happy }));
    assert_eq!(keda::fallback_condition(Some(&f), h.iter()), Some(false));

    // Threshold 0: the first failure already falls back.
    let zero = Fallback { failure_threshold: 0, ..f };
    let mut h = None;
    assert!(keda::metric_with_fallback(Some(&zero), target, &mut h, Err(()), 1, 1).is_ok());

    // An invalid fallback behaves as none, and leaves the health alone.
    let invalid = Fallback { replicas: -1, ..f };
    let mut h = Some(Health { failures: 9, status: HealthStatus::Failing });
    assert_eq!(
        keda::metric_with_fallback(Some(&invalid), target, &mut h, Err(()), 1, 1),
        Err(FallbackError::Scaler(()))
    );
    assert_eq!(
        keda::metric_with_fallback::<()>(Some(&invalid), target, &mut h, Ok(1.0), 1, 1).map(|s| s.value_m),
        Ok(1000)
    );
    assert_eq!(h, Some(Health { failures: 9, status: HealthStatus::Failing }));
    assert_eq!(keda::fallback_condition(Some(&invalid), h.iter()), None);

    // The failure count saturates instead of overflowing.
    let mut h = Some(Health { failures: i32::MAX, status: HealthStatus::Failing });
    assert!(keda::metric_with_fallback(Some(&f), target, &mut h, Err(()), 1, 1).is_ok());
    assert_eq!(h.unwrap().failures, i32::MAX);
}

#[test]
fn fallback_replicas_and_values() {
    let f = |behavior| Fallback { failure_threshold: 0, replicas: 3, behavior };
    // (behaviour, current, replicas)
    let cases = [
        (FallbackBehavior::Static, 7, 3),
        (FallbackBehavior::CurrentReplicas, 7, 7),
        (FallbackBehavior::CurrentReplicasIfHigher, 7, 7),
        (FallbackBehavior::CurrentReplicasIfHigher, 2, 3),
        (FallbackBehavior::CurrentReplicasIfLower, 7, 3),
        (FallbackBehavior::CurrentReplicasIfLower, 2, 2),
    ];
    for (b, current, want) in cases {
        assert_eq!(keda::fallback_replicas(&f(b), current), want, "{b:?} at {current}");
    }
    let value = MetricTarget::new(MetricType::Value, 5.0);
    // 5 * 1000 * (3 / 7) = 2142.857...: truncated.
    assert_eq!(keda::fallback_value_m(value, 3, 7), Some(2142));
    assert_eq!(keda::fallback_value_m(value, 3, 0), None);
    let mut h = None;
    assert_eq!(
        keda::metric_with_fallback(Some(&f(FallbackBehavior::Static)), value, &mut h, Err(()), 0, 0),
        Err(FallbackError::Failed)
    );
    assert_eq!(FallbackError::<&str>::Failed.to_string(), "error performing fallback");
    assert_eq!(keda::fallback_value_m(MetricTarget::new(MetricType::AverageValue, 0.1), 3, 0), Some(300));
}

#[test]
fn a_poll_sequence_scales_from_zero_cools_down_and_falls_back() {
    let spec = ScaledObjectSpec {
        cooldown_period: secs(60),
        max_replica_count: Some(10),
        fallback: Some(Fallback { failure_threshold: 1, replicas: 6, behavior: FallbackBehavior::Static }),
        triggers: vec![Trigger::external("queue", MetricType::AverageValue, 2.0, 1.0)],
        ..ScaledObjectSpec::default()
    };
    spec.validate().unwrap();
    let mut status = ScaledObjectStatus::new(Some(t(0)));
    let mut replicas = 0;
    // (time s, reading, replicas after, branch, last active s)
    let steps = [
        (10, Some(1.0), 0, Branch::Idle, None::<u64>), // 1.0 is not above the activation 1.0
        (20, Some(8.0), 1, Branch::Activate, Some(20)), // from zero to 1; the HPA then sizes
        (30, Some(0.0), 1, Branch::Cooldown, Some(20)),
        (80, Some(0.0), 1, Branch::Cooldown, Some(20)), // 20 + 60 < 80 is false
        (81, Some(0.0), 0, Branch::Deactivate, Some(20)),
        (90, None, 0, Branch::AwaitingFallback, Some(20)), // first failure: not more than 1
        (100, None, 1, Branch::Activate, Some(100)),       // second failure > 1: fallback, active
        (110, Some(4.0), 1, Branch::Active, Some(110)),
    ];
    for (now, reading, want, branch, lat) in steps {
        let p = keda::poll(&spec, &mut status, t(now), &[reading], replicas, replicas).unwrap();
        assert_eq!(p.scale.branch, branch, "at {now}");
        if let Some(r) = p.scale.set_replicas {
            replicas = r;
            status.scale_written(&p.scale);
        }
        assert_eq!(replicas, want, "at {now}");
        assert_eq!(status.last_active_time, lat.map(t), "at {now}");
        if now == 100 {
            // 2.0 * 1000 * 6 replicas.
            assert_eq!(p.triggers[0].served_m, Some(12_000));
            assert!(p.fallback_active() && p.state.is_active && !p.state.is_error);
            assert_eq!(p.fallback_condition, Some(true));
        }
    }
    assert_eq!(
        keda::poll(&spec, &mut status, t(120), &[], 1, 1),
        Err(keda::KedaError::Readings { got: 0, triggers: 1 })
    );
}

#[test]
fn cpu_only_objects_are_always_active() {
    let cpu = Trigger {
        trigger_type: TriggerType::Cpu,
        metric_type: MetricType::Utilization,
        threshold: 50.0,
        ..Trigger::default()
    };
    let spec = ScaledObjectSpec { triggers: vec![cpu.clone()], ..ScaledObjectSpec::default() };
    spec.validate().unwrap();
    let p = keda::poll(&spec, &mut ScaledObjectStatus::default(), t(1), &[None], 0, 0).unwrap();
    assert!(p.state.is_active && !p.state.is_error && p.triggers[0].resource);
    assert_eq!(p.scale.set_replicas, Some(1));
    // With an external trigger beside it, the external one decides.
    let spec = ScaledObjectSpec { triggers: vec![cpu, Trigger::external("q", MetricType::Value, 1.0, 0.0)], ..spec };
    let p = keda::poll(&spec, &mut ScaledObjectStatus::default(), t(1), &[None, Some(0.0)], 0, 0).unwrap();
    assert!(!p.state.is_active);
}

#[test]
fn validation_names_field_value_and_rule() {
    let ok = spec(Some(1), None, None);
    ok.validate().unwrap();
    // (spec, message)
    let cases: Vec<(ScaledObjectSpec, &str)> = vec![
        (ScaledObjectSpec { max_replica_count: Some(0), ..ok.clone() }, "minReplicaCount = 1: MinReplicaCount=1 must be less than MaxReplicaCount=0"),
        (ScaledObjectSpec { idle_replica_count: Some(1), ..ok.clone() }, "idleReplicaCount = 1: IdleReplicaCount=1 must be less than MinReplicaCount=1"),
        (with_fallback(ok.clone(), -2), "fallback = { failureThreshold = 3, replicas = -2 }: FailureThreshold=3 & Replicas=-2 must both be greater than or equal to 0"),
        (ScaledObjectSpec { triggers: vec![], ..ok.clone() }, "triggers = []: at least one trigger is required"),
        (ScaledObjectSpec { triggers: one_trigger(MetricType::Utilization, 50.0), ..ok.clone() }, "triggers[0].metricType = Utilization: a cpu or memory trigger takes Utilization or AverageValue, any other trigger AverageValue or Value"),
        (ScaledObjectSpec { triggers: one_trigger(MetricType::Value, 0.0), ..ok.clone() }, "triggers[0].threshold = 0: must be a finite number greater than 0"),
        (ScaledObjectSpec { min_replica_count: Some(-1), ..ok.clone() }, "minReplicaCount = -1: must be at least 0"),
        (ScaledObjectSpec { polling_interval: Some(DurationMs::ZERO), ..ok.clone() }, "pollingInterval = 0: must be greater than 0"),
        (with_notes(ok.clone(), &[(keda::PAUSED_REPLICAS, "five")]), "annotations.\"autoscaling.keda.sh/paused-replicas\" = \"five\": must be a whole number (int32)"),
    ];
    for (s, want) in cases {
        assert_eq!(s.validate().unwrap_err().to_string(), want);
    }
    let cpu = Trigger {
        trigger_type: TriggerType::Memory,
        metric_type: MetricType::AverageValue,
        threshold: 1.0,
        ..Trigger::default()
    };
    let only_cpu = ScaledObjectSpec { triggers: vec![cpu], ..with_fallback(ok, 1) };
    assert!(only_cpu.validate().unwrap_err().to_string().contains("type for the fallback to be enabled"));
    only_cpu.check_fallback(true).unwrap();
    assert_eq!(
        with_notes(ScaledObjectSpec::default(), &[(keda::PAUSED_REPLICAS, "+7")]).annotations.paused_replicas(),
        Some(Ok(7))
    );
}

#[test]
fn the_hpa_keda_creates() {
    let s = ScaledObjectSpec {
        min_replica_count: Some(0),
        triggers: vec![
            Trigger::external("avg", MetricType::AverageValue, 5.0, 0.0),
            Trigger::external("total", MetricType::Value, 10.0, 0.0),
        ],
        ..ScaledObjectSpec::default()
    };
    let hpa = s.hpa();
    assert_eq!((hpa.min_replicas, hpa.max_replicas, hpa.behavior.clone()), (1, 100, None));
    assert_eq!(
        hpa.metrics,
        vec![MetricTarget::AverageValue { value_m: 5000 }, MetricTarget::Value { value_m: 10_000 }]
    );
    let tol = Tolerance::default();
    // AverageValue: ceil(23000 / 5000) = 5. Value over 2 ready: ceil(2 * 30000 / 10000) = 6.
    assert_eq!(hpa.proposal(2, 2, &[HpaReading::Served(23_000), HpaReading::Invalid], tol), (5, true));
    assert_eq!(hpa.proposal(2, 2, &[HpaReading::Served(23_000), HpaReading::Served(30_000)], tol), (6, true));
    // An invalid metric blocks a scale-down: 1000 / 5000 would give 1.
    assert_eq!(hpa.proposal(3, 3, &[HpaReading::Served(1000)], tol), (3, false));
    assert_eq!(hpa.proposal(0, 0, &[HpaReading::Served(23_000), HpaReading::Served(0)], tol), (0, false));
    // The fallback of 4 replicas on an AverageValue target makes the HPA propose 4.
    let served = keda::fallback_value_m(hpa.metrics[0], 4, 0).unwrap();
    assert_eq!(hpa.proposal(9, 9, &[HpaReading::Served(served), HpaReading::Proposal(1)], tol), (4, true));

    let paused = with_notes(s, &[(keda::PAUSED_SCALE_IN, "true")]).hpa();
    let b = paused.behavior.unwrap();
    assert_eq!((b.scale_up.select, b.scale_down.select), (SelectPolicy::Max, SelectPolicy::Disabled));
    assert_eq!(b.scale_down.stabilization_window_ms, 300_000);
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![any::<f64>(), -1e6..1e6f64, Just(0.0), Just(f64::NAN), Just(f64::INFINITY), Just(1e300)]
}

fn note() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(vec!["true", "false", "0", "yes", "", "12", "-3"]).prop_map(String::from))
}

prop_compose! {
    fn trigger()(kind in 0..3u8, mt in 0..3u8, threshold in float(), activation in float()) -> Trigger {
        let trigger_type = [TriggerType::External, TriggerType::Cpu, TriggerType::Memory][usize::from(kind)];
        let metric_type = [MetricType::AverageValue, MetricType::Value, MetricType::Utilization][usize::from(mt)];
        Trigger { name: String::from("t"), trigger_type, metric_type, threshold, activation_threshold: activation }
    }
}

prop_compose! {
    fn any_spec()(
        min in prop::option::of(any::<i32>()),
        max in prop::option::of(any::<i32>()),
        idle in prop::option::of(any::<i32>()),
        cooldown in prop::option::of(any::<u64>()),
        initial in prop::option::of(any::<u64>()),
        fallback in prop::option::of((any::<i32>(), any::<i32>(), 0..4u8)),
        triggers in prop::collection::vec(trigger(), 0..4),
        notes in (note(), note(), note(), note(), note()),
    ) -> ScaledObjectSpec {
        let behaviors = [FallbackBehavior::Static, FallbackBehavior::CurrentReplicas, FallbackBehavior::CurrentReplicasIfHigher, FallbackBehavior::CurrentReplicasIfLower];
        ScaledObjectSpec {
            min_replica_count: min,
            max_replica_count: max,
            idle_replica_count: idle,
            cooldown_period: cooldown.map(DurationMs),
            initial_cooldown_period: initial.map(DurationMs),
            fallback: fallback.map(|(failure_threshold, replicas, b)| Fallback { failure_threshold, replicas, behavior: behaviors[usize::from(b)] }),
            triggers,
            annotations: Annotations { paused: notes.0, paused_replicas: notes.1, paused_scale_in: notes.2, paused_scale_out: notes.3, force_activation: notes.4 },
            ..ScaledObjectSpec::default()
        }
    }
}

proptest! {
    #[test]
    fn no_input_panics(
        spec in any_spec(),
        created in prop::option::of(any::<u64>()),
        steps in prop::collection::vec(
            (any::<u64>(), prop::collection::vec(prop::option::of(float()), 0..4), any::<i32>(), any::<i32>(), any::<bool>()),
            1..6,
        ),
        usage in any::<i64>(),
        current in any::<i64>(),
    ) {
        let _ = spec.validate();
        let _ = spec.check_fallback(true);
        let hpa = spec.hpa();
        let readings: Vec<HpaReading> = hpa.metrics.iter().map(|_| HpaReading::Served(usage)).collect();
        let _ = hpa.proposal(current, current, &readings, Tolerance::default());
        let _ = spec.annotations.paused_replicas();
        let mut status = ScaledObjectStatus::new(created.map(TimeMs));
        for (now, mut values, replicas, ready, write) in steps {
            let r = keda::request_scale(&spec, &status, TimeMs(now), replicas, write, !write);
            prop_assert!(r.set_replicas.is_none() || r.branch != Branch::Paused);
            for v in &values {
                let _ = keda::quantity_m(v.unwrap_or(0.0));
            }
            values.resize(spec.triggers.len(), None);
            let p = keda::poll(&spec, &mut status, TimeMs(now), &values, replicas, ready).unwrap();
            if write {
                status.scale_written(&p.scale);
            }
            prop_assert_eq!(status.health.len(), spec.triggers.len());
        }
    }
}
