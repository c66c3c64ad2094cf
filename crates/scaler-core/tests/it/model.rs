//! Model-based property tests against a deliberately naive reference, plus invariants.

use proptest::prelude::*;
use scaler_core::{Action, Aggregate, DurationMs, Fixed9, Observation, Reason, Scaler, ScalerConfig, Step, TimeMs};

/// The naive reference: keeps every observation and recomputes the window from
/// scratch at each decision, with the rules written out as in the spec.
struct Naive {
    cfg: ScalerConfig,
    all: Vec<Observation>,
    last_scaled: Option<u64>,
}

impl Naive {
    fn observe(&mut self, o: Observation) -> bool {
        if self.all.last().is_some_and(|l| o.timestamp < l.timestamp) {
            return false;
        }
        self.all.push(o);
        true
    }

    fn decide(&self, t: u64) -> (Action, u32, Reason) {
        let w = self.cfg.metrics_window().as_ms() as u128;
        let inside: Vec<&Observation> =
            self.all.iter().filter(|o| (o.timestamp.0 as u128) + w > t as u128 && o.timestamp.0 <= t).collect();
        let Some(newest) = inside.last() else { return (Action::Hold, 0, Reason::NoMetrics) };
        let n = newest.current_workers;
        let p = newest.pending_tasks;
        let (min, max) = (self.cfg.min_workers(), self.cfg.max_workers());
        if n < min {
            return (Action::ScaleUp, min, Reason::BelowMinWorkers);
        }
        if n > max {
            return (Action::ScaleDown, max, Reason::AboveMaxWorkers);
        }
        if let Some(s) = self.last_scaled {
            if (t as i128) - (s as i128) < self.cfg.cooldown_period().as_ms() as i128 {
                return (Action::Hold, n, Reason::Cooldown);
            }
        }
        let utils: Vec<u128> = inside.iter().map(|o| o.worker_utilization().to_fixed9().units() as u128).collect();
        // Compare u against a threshold as fractions: (num/den) vs thr.
        let (num, den) = match self.cfg.utilization_aggregate() {
            Aggregate::Mean => (utils.iter().sum::<u128>(), utils.len() as u128),
            Aggregate::Max => (*utils.iter().max().unwrap(), 1),
            Aggregate::Min => (*utils.iter().min().unwrap(), 1),
            Aggregate::Latest => (*utils.last().unwrap(), 1),
        };
        let up = self.cfg.scale_up_threshold().units() as u128;
        let down = self.cfg.scale_down_threshold().units() as u128;
        let step = |s: Step, n: u32| -> u128 {
            let pct = (n as u128 * s.percent().units() as u128) / 100 / 1_000_000_000;
            pct.max(s.min() as u128)
        };
        if num > up * den {
            if p == 0 {
                return (Action::Hold, n, Reason::NoPendingTasks);
            }
            if n >= max {
                return (Action::Hold, n, Reason::AtMaxWorkers);
            }
            let target = (n as u128 + step(self.cfg.scale_up_step(), n)).min(max as u128);
            return (Action::ScaleUp, target as u32, Reason::UtilizationHigh);
        }
        if num < down * den {
            if n <= min {
                return (Action::Hold, n, Reason::AtMinWorkers);
            }
            let dec = step(self.cfg.scale_down_step(), n);
            let target = (n as u128).saturating_sub(dec).max(min as u128);
            return (Action::ScaleDown, target as u32, Reason::UtilizationLow);
        }
        (Action::Hold, n, Reason::WithinBand)
    }
}

fn config_strategy() -> impl Strategy<Value = ScalerConfig> {
    (
        0u32..6,
        1u32..40,
        0u64..=1_000_000_000,
        0u64..=1_000_000_000,
        prop_oneof![Just(0u64), (0u64..8).prop_map(|s| s * 1000), (0u64..200).prop_map(|s| s * 1000), 0u64..200_000],
        prop_oneof![(1u64..400).prop_map(|s| s * 1000), 1u64..400_000],
        prop_oneof![Just(Aggregate::Mean), Just(Aggregate::Max), Just(Aggregate::Min), Just(Aggregate::Latest)],
        (0u64..300, 1u32..5, 0u64..120, 1u32..5),
    )
        .prop_filter_map("valid config", |(min, span, a, b, cool, win, agg, (upp, upm, dnp, dnm))| {
            let (lo, hi) = (a.min(b), a.max(b));
            ScalerConfig::builder()
                .min_workers(min)
                .max_workers(min + span)
                .scale_up_threshold(Fixed9::from_units(hi))
                .scale_down_threshold(Fixed9::from_units(lo))
                .cooldown_period(DurationMs(cool))
                .metrics_window(DurationMs(win))
                .utilization_aggregate(agg)
                .scale_up_step(Step::new(Fixed9::from_units(upp * 1_000_000_000), upm).unwrap())
                .scale_down_step(Step::new(Fixed9::from_units(dnp * 1_000_000_000), dnm).unwrap())
                .build()
                .ok()
        })
}

#[derive(Clone, Debug)]
enum Op {
    /// Observe at `now + dt` (dt may be negative: an out-of-order sample).
    Observe { dt: i64, n: u32, p: u64, util: u64 },
    /// Decide at `now + dt`, then record success if it scaled (when `succeed`).
    Decide { dt: u64, succeed: bool },
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (prop_oneof![(-5i64..90).prop_map(|s| s * 1000), -5_000i64..90_000], prop_oneof![0u32..50, Just(u32::MAX)], prop_oneof![0u64..5, Just(u64::MAX)],
              prop_oneof![0u64..=1_000_000_000, Just(0), Just(1_000_000_000), 700_000_000u64..900_000_000])
            .prop_map(|(dt, n, p, util)| Op::Observe { dt, n, p, util }),
        2 => (prop_oneof![(0u64..4).prop_map(|s| s * 1000), (0u64..90).prop_map(|s| s * 1000), 0u64..90_000], any::<bool>()).prop_map(|(dt, succeed)| Op::Decide { dt, succeed }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_naive_reference_and_keeps_invariants(cfg in config_strategy(), ops in prop::collection::vec(op_strategy(), 1..120)) {
        let mut real = Scaler::new(cfg.clone());
        let mut naive = Naive { cfg: cfg.clone(), all: Vec::new(), last_scaled: None };
        let mut now: u64 = 0;
        for op in ops {
            match op {
                Op::Observe { dt, n, p, util } => {
                    let t = (now as i64 + dt).max(0) as u64;
                    let o = Observation::new(TimeMs(t), n, p, 0, DurationMs::ZERO, Fixed9::from_units(util)).unwrap();
                    let before = format!("{:?}", real.window());
                    let accepted_real = real.observe(o).is_ok();
                    if !accepted_real {
                        prop_assert_eq!(before, format!("{:?}", real.window()), "refused observation changed state");
                    }
                    prop_assert_eq!(accepted_real, naive.observe(o));
                    if accepted_real { now = now.max(t); }
                }
                Op::Decide { dt, succeed } => {
                    now += dt;
                    let d = real.decide(TimeMs(now)).unwrap();
                    let expect = naive.decide(now);
                    prop_assert_eq!((d.action, d.target_workers, d.reason), expect);
                    // Invariants.
                    let (min, max) = (cfg.min_workers(), cfg.max_workers());
                    if d.is_scaling() {
                        prop_assert!(d.target_workers >= min && d.target_workers <= max);
                        prop_assert!(d.target_workers != d.current_workers);
                        prop_assert_eq!(d.action == Action::ScaleUp, d.target_workers > d.current_workers);
                        let bound_rule = matches!(d.reason, Reason::BelowMinWorkers | Reason::AboveMaxWorkers);
                        if let (Some(s), false) = (real.last_scaled_at(), bound_rule) {
                            prop_assert!(now - s.0 >= cfg.cooldown_period().as_ms(), "scaled within cooldown");
                        }
                    } else if d.reason != Reason::NoMetrics {
                        prop_assert_eq!(d.target_workers, d.current_workers);
                    }
                    if d.reason == Reason::UtilizationHigh {
                        prop_assert!(d.pending_tasks > 0);
                    }
                    if d.is_scaling() && succeed {
                        crate::applied(&mut real);
                        naive.last_scaled = Some(now);
                    }
                }
            }
        }
    }

    #[test]
    fn decide_never_panics_on_extreme_times(cfg in config_strategy(), times in prop::collection::vec(prop_oneof![any::<u64>(), Just(u64::MAX), Just(0u64)], 1..20)) {
        let mut s = Scaler::new(cfg);
        for t in times {
            let o = Observation::new(TimeMs(t), u32::MAX, u64::MAX, u64::MAX, DurationMs(u64::MAX), Fixed9::ONE).unwrap();
            let _ = s.observe(o);
            if let Ok(d) = s.decide(TimeMs(t)) {
                if d.is_scaling() { crate::applied(&mut s); }
            }
            let _ = s.next_tick(TimeMs(t));
        }
    }

    #[test]
    fn from_f64_refuses_exactly_the_invalid(x in prop_oneof![any::<f64>(), -1.0f64..2.0, Just(f64::NAN), Just(f64::INFINITY)]) {
        let r = Observation::from_f64(TimeMs(0), 1.0, 0.0, 0.0, 0.0, x);
        prop_assert_eq!(r.is_ok(), x.is_finite() && (0.0..=1.0).contains(&x));
    }
}
