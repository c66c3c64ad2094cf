//! A scaler rebuilt from its snapshot decides as the uninterrupted one would.

use proptest::prelude::*;
use scaler_core::{DurationMs, Observation, Outcome, PoolSnapshot, Scaler, ScalerSnapshot, TimeMs};

use crate::cfg;

const CONFIGS: &[&str] = &[
    "min_workers = 1\nmax_workers = 30\ncooldown_period = 120\nmetrics_window = 180\nwarmup_period = 90\n",
    "policy = \"hpa\"\nmin_workers = 1\nmax_workers = 30\nmetrics_window = 60\nevaluation_interval = 15\n[hpa]\ntarget_utilization_percent = 60\nbehavior = { scaleDown = { stabilizationWindowSeconds = 120 } }\n",
    "policy = \"step\"\nmin_workers = 1\nmax_workers = 30\ncooldown_period = 60\nwarmup_period = 120\n",
    "policy = \"queue\"\nmin_workers = 0\nmax_workers = 30\ncooldown_period = 30\n[queue]\nidle_grace_s = 120\n",
    "policy = \"predictive\"\nmin_workers = 1\nmax_workers = 30\ncooldown_period = 60\n[predictive]\nseason_s = 600\nhorizon_s = 120\n",
    "policy = \"keda\"\nmin_workers = 0\nmax_workers = 30\nevaluation_interval = 15\n[keda]\npolling_interval = 30\ncooldown_period = 60\nthreshold = 3\nactivation_threshold = 1\nfallback_failure_threshold = 1\nfallback_replicas = 2\nbehavior = { scaleDown = { stabilizationWindowSeconds = 30 } }\n",
    "policy = \"kpa\"\nmin_workers = 0\nmax_workers = 30\nevaluation_interval = 2\n[kpa]\n\"stable-window\" = \"10s\"\n\"scale-down-delay\" = \"4s\"\n\"scale-to-zero-grace-period\" = \"4s\"\n\"container-concurrency-target-default\" = \"3\"\n",
];

fn arb_pools() -> impl Strategy<Value = Vec<(u32, u32, u64, u64, bool)>> {
    prop::collection::vec((0u32..30, 0u32..4, 0u64..=100, 0u64..40, any::<bool>()), 2..60)
}

/// Runs `pools` one per tick from `start`; a scaling is applied unless its flag says it
/// failed. Returns the decisions as text.
fn drive(s: &mut Scaler, pools: &[(u32, u32, u64, u64, bool)], start: usize) -> Vec<String> {
    let step = s.config().evaluation_interval().as_ms();
    pools
        .iter()
        .enumerate()
        .skip(start)
        .map(|(i, &(ready, prov, busy_pct, pending, fail))| {
            let now = TimeMs(i as u64 * step);
            let busy = u64::from(ready) * busy_pct / 100;
            let p = PoolSnapshot {
                ready_workers: ready,
                provisioning_workers: prov,
                busy_slots: busy,
                slots_per_worker: 1,
                pending_tasks: pending,
                running_tasks: busy,
                avg_task_duration: DurationMs::from_secs(20),
            };
            let tick = s.tick(now, Some(Observation::from_pool(now, &p).unwrap())).unwrap();
            if let Some(t) = tick.ticket {
                s.outcome(t, if fail { Outcome::Failed } else { Outcome::Applied }).unwrap();
            }
            format!("{:?}", tick.decision)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// Stop at any tick, serialize the snapshot to JSON, restore: the rest of the run is
    /// the same decision for decision, for every policy.
    #[test]
    fn restore_resumes_exactly(which in 0..CONFIGS.len(), pools in arb_pools(), cut_at in 0usize..60) {
        let config = cfg(CONFIGS[which]);
        let cut = cut_at % pools.len();
        let mut whole = Scaler::new(config.clone());
        let all = drive(&mut whole, &pools, 0);
        let mut first = Scaler::new(config.clone());
        let head = drive(&mut first, &pools[..cut], 0);
        let json = serde_json::to_string(&first.snapshot()).unwrap();
        let snap: ScalerSnapshot = serde_json::from_str(&json).unwrap();
        let mut resumed = Scaler::restore(config, snap).unwrap();
        let tail = drive(&mut resumed, &pools, cut);
        let joined: Vec<String> = head.into_iter().chain(tail).collect();
        prop_assert_eq!(joined, all);
    }
}

#[test]
fn restore_refuses_a_snapshot_of_another_policy() {
    let s = Scaler::new(cfg(CONFIGS[1]));
    let e = Scaler::restore(cfg(CONFIGS[0]), s.snapshot()).unwrap_err();
    assert!(e.to_string().contains("policy = \"threshold\""), "{e}");
}

/// Two ready workers, both busy, five tasks waiting: the threshold policy wants to scale up.
fn busy_pool() -> PoolSnapshot {
    PoolSnapshot {
        ready_workers: 2,
        provisioning_workers: 0,
        busy_slots: 2,
        slots_per_worker: 1,
        pending_tasks: 5,
        running_tasks: 2,
        avg_task_duration: DurationMs::ZERO,
    }
}

#[test]
fn an_outcome_answers_only_its_own_decision() {
    let mut s = Scaler::new(cfg("min_workers = 1\nmax_workers = 10\ncooldown_period = 60\n"));
    let p = busy_pool();
    let first = s.tick(TimeMs(0), Some(Observation::from_pool(TimeMs(0), &p).unwrap())).unwrap();
    let old = first.ticket.unwrap();
    // The scaling failed (no outcome reported): the next tick decides again, with no cooldown.
    let second = s.tick(TimeMs(60_000), Some(Observation::from_pool(TimeMs(60_000), &p).unwrap())).unwrap();
    assert_eq!(second.decision.reason.as_str(), "utilization_high");
    // The first decision's ticket no longer answers anything.
    assert!(s.outcome(old, Outcome::Applied).is_err());
    assert_eq!(s.last_scaled_at(), None);
    s.outcome(second.ticket.unwrap(), Outcome::Applied).unwrap();
    assert_eq!(s.last_scaled_at(), Some(TimeMs(60_000)));
    // Reported once only.
    assert!(s.outcome(second.ticket.unwrap(), Outcome::Applied).is_err());
}

#[test]
fn an_unknown_outcome_starts_the_cooldown_and_nothing_else() {
    let mut s = Scaler::new(cfg("min_workers = 1\nmax_workers = 10\ncooldown_period = 60\nwarmup_period = 600\n"));
    let p = busy_pool();
    let t = s.tick(TimeMs(0), Some(Observation::from_pool(TimeMs(0), &p).unwrap())).unwrap();
    s.outcome(t.ticket.unwrap(), Outcome::Unknown).unwrap();
    assert_eq!(s.last_scaled_at(), Some(TimeMs(0)));
    assert!(s.snapshot().warming.is_empty(), "an unknown effect is not warming capacity");
    let held = s.tick(TimeMs(30_000), Some(Observation::from_pool(TimeMs(30_000), &p).unwrap())).unwrap();
    assert_eq!(held.decision.reason.as_str(), "cooldown");
    let again = s.tick(TimeMs(60_000), Some(Observation::from_pool(TimeMs(60_000), &p).unwrap())).unwrap();
    assert_eq!(again.decision.reason.as_str(), "utilization_high");
}
