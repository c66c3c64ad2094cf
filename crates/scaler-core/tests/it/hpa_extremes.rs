//! Every pub fn of `scaler_core::hpa` on extreme values: no panic (the test binary is built
//! with overflow checks in debug, so an unchecked `+`, `*` or `/` fails here), and the
//! saturating meaning documented in `hpa.rs` where it can be stated simply.

use proptest::prelude::*;
use scaler_core::hpa::{
    self, PodClass, PolicyType, RatePolicy, Recommendation, ResourcePod, ResourceTotals, Rules, ScaleEvent,
    SelectPolicy, Tolerance, ValuePod,
};

/// Mostly the edges of `i64`, sometimes anything.
fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::MIN + 1),
        Just(i64::MAX - 1),
        Just(-1i64),
        Just(0i64),
        Just(1i64),
        Just(100i64),
        Just(i64::from(i32::MAX)),
        Just(i64::from(i32::MIN)),
        any::<i64>(),
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        Just(0.1),
        any::<f64>(),
    ]
}

fn age() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1u64), Just(u64::MAX), any::<u64>()]
}

fn tol() -> impl Strategy<Value = Tolerance> {
    (float(), float()).prop_map(|(scale_up, scale_down)| Tolerance { scale_up, scale_down })
}

fn class() -> impl Strategy<Value = PodClass> {
    prop_oneof![Just(PodClass::Ready), Just(PodClass::Unready), Just(PodClass::Missing), Just(PodClass::Ignored)]
}

fn totals() -> impl Strategy<Value = ResourceTotals> {
    (int(), int(), int(), int(), int(), int(), int(), int()).prop_map(|(a, b, c, d, e, f, g, h)| ResourceTotals {
        ready_count: a,
        ready_usage_m: b,
        ready_request_m: c,
        unready_count: d,
        unready_request_m: e,
        missing_count: f,
        missing_request_m: g,
        missing_fallback_usage_m: h,
    })
}

fn events() -> impl Strategy<Value = Vec<ScaleEvent>> {
    prop::collection::vec((age(), int()).prop_map(|(age_ms, replicas)| ScaleEvent { age_ms, replicas }), 0..6)
}

fn rules() -> impl Strategy<Value = Rules> {
    let select = prop_oneof![Just(SelectPolicy::Max), Just(SelectPolicy::Min), Just(SelectPolicy::Disabled)];
    let kind = prop_oneof![Just(PolicyType::Pods), Just(PolicyType::Percent)];
    let policy = (kind, int(), age()).prop_map(|(kind, value, period_ms)| RatePolicy { kind, value, period_ms });
    (select, age(), prop::collection::vec(policy, 0..4)).prop_map(|(select, stabilization_window_ms, policies)| Rules {
        select,
        stabilization_window_ms,
        policies,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn resource_sizing_never_panics(
        current in int(), target in int(), t in tol(), totals in totals(),
        pods in prop::collection::vec((class(), int(), prop::option::of(int())), 0..8),
    ) {
        let _ = t.within(0.5);
        let _ = hpa::resource_replicas_from_totals(current, target, t, &totals);
        let pods: Vec<ResourcePod> =
            pods.into_iter().map(|(class, request_m, usage_m)| ResourcePod { class, request_m, usage_m }).collect();
        let _ = hpa::resource_replicas(current, target, t, &pods);
    }

    #[test]
    fn value_sizing_never_panics(
        current in int(), target in int(), t in tol(), usage in int(), ready in int(),
        pods in prop::collection::vec((class(), prop::option::of(int())), 0..8),
    ) {
        let pods: Vec<ValuePod> = pods.into_iter().map(|(class, value_m)| ValuePod { class, value_m }).collect();
        if let Ok((_, avg)) = hpa::pods_metric_replicas(current, target, t, &pods) {
            // The average is exact (summed in i128), so it lies between the ready values.
            let ready: Vec<i64> = pods.iter().filter(|p| p.class == PodClass::Ready).filter_map(|p| p.value_m).collect();
            prop_assert!(ready.iter().min().is_some_and(|&m| m <= avg) && ready.iter().max().is_some_and(|&m| avg <= m));
        }
        let _ = hpa::value_replicas(current, ready, usage, target, t);
        let _ = hpa::average_value_replicas(current, usage, target, t);
    }

    #[test]
    fn combining_and_stabilizing_never_panic(
        current in int(), pre in int(), proposals in prop::collection::vec(prop::option::of(int()), 0..5),
        recs in prop::collection::vec((age(), int()).prop_map(|(age_ms, replicas)| Recommendation { age_ms, replicas }), 0..6),
        w1 in age(), w2 in age(),
    ) {
        let _ = hpa::combine_metrics(current, &proposals);
        let _ = hpa::stabilize_legacy(pre, &recs, w1);
        let _ = hpa::stabilize(current, pre, &recs, w1, w2);
    }

    #[test]
    fn rate_limits_never_panic(
        current in int(), desired in int(), min in int(), max in int(), factor in float(),
        up in rules(), down in rules(), up_events in events(), down_events in events(),
    ) {
        let _ = hpa::scale_up_limit(current, &up_events, &down_events, &up);
        let _ = hpa::scale_down_limit(current, &up_events, &down_events, &down);
        let _ = hpa::rate_limit(current, desired, min, max, &up, &down, &up_events, &down_events);
        let _ = hpa::rate_limit(current, desired, min, max, &Rules::default_up(), &Rules::default_down(), &up_events, &down_events);
        let _ = hpa::legacy_limit(current, desired, min, max, factor);
    }
}

#[test]
fn overflowing_arithmetic_saturates() {
    let t = Tolerance::default();
    // `usage * 100` and `i64::MIN / -1` saturate instead of panicking.
    let totals = ResourceTotals { ready_count: -1, ready_usage_m: i64::MIN, ready_request_m: -1, ..Default::default() };
    let r = hpa::resource_replicas_from_totals(1, 100, t, &totals).unwrap();
    assert_eq!((r.utilization_percent, r.raw_average_m), (i64::MAX, i64::MAX));
    // `start + value` saturates at i64::MAX; the Max policy then picks it.
    let up = Rules {
        select: SelectPolicy::Max,
        stabilization_window_ms: 0,
        policies: vec![RatePolicy { kind: PolicyType::Pods, value: i64::MAX, period_ms: 15_000 }],
    };
    assert_eq!(hpa::scale_up_limit(i64::MAX, &[], &[], &up), i64::MAX);
    // Removed replicas summed over the period saturate too.
    let down_events = [ScaleEvent { age_ms: 0, replicas: i64::MAX }, ScaleEvent { age_ms: 0, replicas: i64::MAX }];
    assert_eq!(hpa::scale_up_limit(i64::MAX, &[], &down_events, &up), i64::MAX);
    // An average of values near i64::MAX is exact.
    let pods = [ValuePod { class: PodClass::Ready, value_m: Some(i64::MAX) }; 3];
    assert_eq!(hpa::pods_metric_replicas(3, 1, t, &pods).unwrap().1, i64::MAX);
}
