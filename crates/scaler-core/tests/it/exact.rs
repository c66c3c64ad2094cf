//! Exactness at thresholds with fractional utilizations: the window's aggregates and
//! the threshold policy against a deliberately naive reference that keeps every sample
//! as a big rational and recomputes everything from scratch.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use proptest::prelude::*;
use scaler_core::{Aggregate, DurationMs, Fixed9, Observation, PoolSnapshot, Reason, Scaler, TimeMs};

use crate::cfg;

fn pool(ready: u32, slots: u32, busy: u64, pending: u64) -> PoolSnapshot {
    PoolSnapshot {
        ready_workers: ready,
        provisioning_workers: 0,
        busy_slots: busy,
        slots_per_worker: slots,
        pending_tasks: pending,
        running_tasks: busy,
        avg_task_duration: DurationMs::from_secs(10),
    }
}

/// Decides once per observation (at its time) and returns the reasons.
fn reasons(config: &str, pools: &[PoolSnapshot]) -> Vec<Reason> {
    let mut s = Scaler::new(cfg(config));
    pools
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let now = TimeMs(i as u64 * 60_000);
            let t = s.tick(now, Some(Observation::from_pool(now, p).unwrap())).unwrap();
            t.decision.reason
        })
        .collect()
}

#[test]
fn the_contracts_examples_are_exact() {
    // 67/68, 50/68, 43/68, 44/68: the mean is exactly 0.75, not above a 0.75 threshold.
    let c = "min_workers = 1\nmax_workers = 100\nscale_up_threshold = 0.75\nscale_down_threshold = 0.1\ncooldown_period = 0\nmetrics_window = 240\n";
    let pools: Vec<_> = [67, 50, 43, 44].iter().map(|&b| pool(68, 1, b, 5)).collect();
    assert_eq!(reasons(c, &pools).last(), Some(&Reason::WithinBand));
    // One more busy slot anywhere and it is above.
    let pools: Vec<_> = [67, 50, 43, 45].iter().map(|&b| pool(68, 1, b, 5)).collect();
    assert_eq!(reasons(c, &pools).last(), Some(&Reason::UtilizationHigh));
    // 23 ready workers with a window mean of exactly 0.2 (4.6 busy on average) are not below 0.2.
    let c = "min_workers = 1\nmax_workers = 100\nscale_up_threshold = 0.9\nscale_down_threshold = 0.2\ncooldown_period = 0\nmetrics_window = 300\n";
    let pools: Vec<_> = [4, 5, 5, 4, 5].iter().map(|&b| pool(23, 1, b, 0)).collect();
    assert_eq!(reasons(c, &pools).last(), Some(&Reason::WithinBand));
    // The mean of 0.6, 1.0 and 0.8 (as decimal text) is 0.8, not above 0.8.
    let mut s = Scaler::new(cfg("min_workers = 1\nmax_workers = 10\ncooldown_period = 0\n"));
    for (i, u) in ["0.6", "1.0", "0.8"].iter().enumerate() {
        let now = TimeMs(i as u64 * 60_000);
        let o = Observation::new(now, 4, 3, 4, DurationMs::ZERO, Fixed9::parse(u).unwrap()).unwrap();
        let d = s.tick(now, Some(o)).unwrap().decision;
        if i == 2 {
            assert_eq!(d.reason, Reason::WithinBand);
            assert_eq!(d.window_utilization.unwrap().to_string(), "0.8");
        }
    }
    // Mixed denominators: 1/3 (3 slots) and 2/3 (as a ratio of 3) average to exactly 0.5.
    let c = "min_workers = 1\nmax_workers = 100\nscale_up_threshold = 0.5\nscale_down_threshold = 0.1\ncooldown_period = 0\nmetrics_window = 120\n";
    assert_eq!(reasons(c, &[pool(3, 1, 1, 2), pool(1, 3, 2, 2)]).last(), Some(&Reason::WithinBand));
}

/// The naive reference: the window's samples as big rationals, recomputed from scratch.
fn naive_aggregate(samples: &[BigRational], agg: Aggregate) -> BigRational {
    match agg {
        Aggregate::Mean => {
            let sum = samples.iter().fold(BigRational::zero(), |a, b| a + b);
            sum / BigRational::from_integer(BigInt::from(samples.len()))
        }
        Aggregate::Max => samples.iter().max().unwrap().clone(),
        Aggregate::Min => samples.iter().min().unwrap().clone(),
        Aggregate::Latest => samples.last().unwrap().clone(),
    }
}

fn ratio(n: u64, d: u64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// Rounds to 9 places, ties away from zero (the value is non-negative).
fn round9(x: &BigRational) -> u64 {
    let scaled = x * BigRational::from_integer(BigInt::from(1_000_000_000u64));
    let twice = scaled.clone() * BigRational::from_integer(BigInt::from(2));
    let floor = scaled.floor().to_integer();
    let half_up = (twice.floor().to_integer() + 1) / 2;
    let v = if half_up > floor { half_up } else { floor };
    v.to_u64().unwrap()
}

fn arb_pool() -> impl Strategy<Value = PoolSnapshot> {
    (0u32..=50, 1u32..=4, 0u64..=6).prop_flat_map(|(ready, slots, pending)| {
        let total = u64::from(ready) * u64::from(slots);
        (0..=total).prop_map(move |busy| pool(ready, slots, busy, pending))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random pools of 1 to 50 ready workers with 1 to 4 slots each, observed every 20 s
    /// into a 100 s window: every aggregate compares with thresholds exactly as the naive
    /// rational reference says, including at the aggregate's own rounded value and its
    /// neighbours, and the reported value is the reference rounded to 9 places.
    #[test]
    fn window_aggregates_are_exact(pools in prop::collection::vec(arb_pool(), 1..40), probes in prop::collection::vec(0u64..=1_000_000_000, 3)) {
        let mut w = scaler_core::MetricsWindow::new(DurationMs::from_secs(100));
        let mut naive: Vec<(u64, BigRational)> = Vec::new();
        for (i, p) in pools.iter().enumerate() {
            let now = i as u64 * 20_000;
            let o = Observation::from_pool(TimeMs(now), p).unwrap();
            w.observe(o).unwrap();
            let u = if p.ready_workers == 0 {
                ratio(u64::from(p.pending_tasks > 0), 1)
            } else {
                ratio(p.busy_slots, u64::from(p.ready_workers) * u64::from(p.slots_per_worker))
            };
            naive.push((now, u));
            naive.retain(|(t, _)| t + 100_000 > now);
            let s = w.summary_at(TimeMs(now)).unwrap().unwrap();
            let samples: Vec<BigRational> = naive.iter().map(|(_, u)| u.clone()).collect();
            prop_assert_eq!(s.count() as usize, samples.len());
            for agg in [Aggregate::Mean, Aggregate::Max, Aggregate::Min, Aggregate::Latest] {
                let exact = naive_aggregate(&samples, agg);
                let r = round9(&exact);
                prop_assert_eq!(s.value(agg).units(), r, "{:?} at {}", agg, i);
                let mut thresholds = probes.clone();
                thresholds.extend([r.saturating_sub(1), r, r + 1, 500_000_000, 750_000_000, 200_000_000]);
                for t in thresholds {
                    let tr = ratio(t, 1_000_000_000);
                    prop_assert_eq!(s.cmp(agg, Fixed9::from_units(t)), exact.cmp(&tr), "{:?} vs {} at {}", agg, t, i);
                }
            }
        }
    }

    /// The threshold policy on random pools decides as the naive reference of rules 5 to 7
    /// does on the exact mean (no cooldown, so every tick reaches rules 5 to 7).
    #[test]
    fn threshold_decisions_are_exact(pools in prop::collection::vec(arb_pool(), 1..30), up in 1u64..=20, down in 0u64..=19) {
        prop_assume!(down < up);
        let (up, down) = (up * 50_000_000, down * 50_000_000);
        let c = format!(
            "min_workers = 0\nmax_workers = 60\nscale_up_threshold = {}\nscale_down_threshold = {}\ncooldown_period = 0\nmetrics_window = 90\nevaluation_interval = 30\n",
            Fixed9::from_units(up.min(999_999_999)), Fixed9::from_units(down)
        );
        let config = cfg(&c);
        let mut s = Scaler::new(config.clone());
        let mut naive: Vec<(u64, BigRational)> = Vec::new();
        for (i, p) in pools.iter().enumerate() {
            let now = i as u64 * 30_000;
            let o = Observation::from_pool(TimeMs(now), p).unwrap();
            let d = s.tick(TimeMs(now), Some(o)).unwrap().decision;
            let u = o.worker_utilization();
            naive.push((now, ratio(u.num(), u.den())));
            naive.retain(|(t, _)| t + 90_000 > now);
            let samples: Vec<BigRational> = naive.iter().map(|(_, u)| u.clone()).collect();
            let mean = naive_aggregate(&samples, Aggregate::Mean);
            let n = o.current_workers;
            let expect = if n > config.max_workers() {
                Reason::AboveMaxWorkers
            } else if mean > ratio(config.scale_up_threshold().units(), 1_000_000_000) {
                if p.pending_tasks == 0 { Reason::NoPendingTasks } else if n >= config.max_workers() { Reason::AtMaxWorkers } else { Reason::UtilizationHigh }
            } else if mean < ratio(config.scale_down_threshold().units(), 1_000_000_000) {
                if n <= config.min_workers() { Reason::AtMinWorkers } else { Reason::UtilizationLow }
            } else {
                Reason::WithinBand
            };
            prop_assert_eq!(d.reason, expect, "tick {} pool {:?}", i, p);
        }
    }
}

#[test]
fn big_rationals_are_needed_and_exact() {
    // Fifty distinct denominators (1..=50 ready workers) overflow a u128 common multiple;
    // the mean is still compared exactly.
    let mut w = scaler_core::MetricsWindow::new(DurationMs::from_secs(10_000));
    let mut naive = Vec::new();
    for r in 1..=50u32 {
        let p = pool(r, 7, u64::from(r) * 7 / 2, 1);
        w.observe(Observation::from_pool(TimeMs(u64::from(r)), &p).unwrap()).unwrap();
        naive.push(ratio(p.busy_slots, u64::from(r) * 7));
    }
    let s = w.summary_at(TimeMs(100)).unwrap().unwrap();
    let exact = naive_aggregate(&naive, Aggregate::Mean);
    let r = round9(&exact);
    assert_eq!(s.value(Aggregate::Mean).units(), r);
    for t in [r - 1, r, r + 1] {
        assert_eq!(s.cmp(Aggregate::Mean, Fixed9::from_units(t)), exact.cmp(&ratio(t, 1_000_000_000)), "{t}");
    }
}
