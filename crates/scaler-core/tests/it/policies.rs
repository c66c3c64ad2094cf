//! The policies beyond the seed's thresholds: data-driven cases and properties.

use proptest::prelude::*;
use scaler_core::PolicyState;
use scaler_core::{Action, DurationMs, Fixed9, Observation, Reason, Scaler, TimeMs};

use crate::cfg;

/// Observations `(t_s, workers, pending, running, avg_s, util)` fed one per tick; each
/// decision recorded as successful; returns `action target reason` per tick.
fn run(config: &str, obs: &[(u64, u32, u64, u64, u64, &str)]) -> Vec<String> {
    let mut s = Scaler::new(cfg(config));
    let mut out = Vec::new();
    for &(t, n, p, r, avg, u) in obs {
        let now = TimeMs(t * 1000);
        s.observe(Observation::new(now, n, p, r, DurationMs::from_secs(avg), Fixed9::parse(u).unwrap()).unwrap())
            .unwrap();
        let d = s.decide(now).unwrap();
        if d.is_scaling() {
            crate::applied(&mut s);
        }
        out.push(format!("{} {} {}", d.action, d.target_workers, d.reason));
    }
    out
}

#[test]
fn hpa_proportional_sizing_tolerance_and_legacy_stabilization() {
    let c = "min_workers = 1\nmax_workers = 50\npolicy = \"hpa\"\nmetrics_window = 1\n[hpa]\ntarget_utilization_percent = 50\n";
    let got = run(
        c,
        &[
            // ratio 0.9/0.5 = 1.8 -> ceil(1.8 * 4) = 8; legacy scale-up limit max(2 * 4, 4) = 8.
            (0, 4, 10, 4, 30, "0.9"),
            // ratio 0.52/0.5 = 1.04: within the 10 % tolerance.
            (60, 8, 0, 4, 30, "0.52"),
            // ratio 0.1/0.5 = 0.2 -> 2, but the 300 s window still holds 8 and 8: stays.
            (120, 8, 0, 1, 30, "0.1"),
            // 361 s after the last 8, it may go down to 2.
            (481, 8, 0, 1, 30, "0.1"),
        ],
    );
    assert_eq!(
        got,
        [
            "scale_up 8 DesiredWithinRange",
            "hold 8 DesiredWithinRange",
            "hold 8 ScaleDownStabilized",
            "scale_down 2 DesiredWithinRange"
        ]
    );
    // The legacy scale-up limit: from 2 workers at most max(2 * 2, 4) = 4 at once
    // (ratio 1 / 0.25 = 4 wants 8).
    let c4 = c.replace("target_utilization_percent = 50", "target_utilization_percent = 25");
    let got = run(&c4, &[(0, 2, 50, 2, 30, "1")]);
    assert_eq!(got, ["scale_up 4 ScaleUpLimit"]);
}

#[test]
fn hpa_behavior_rate_limits_and_conditions() {
    let c = "min_workers = 1\nmax_workers = 100\npolicy = \"hpa\"\nmetrics_window = 1\n[hpa]\ntarget_utilization_percent = 50\n\
             behavior = { scaleUp = { stabilizationWindowSeconds = 0, selectPolicy = \"Max\", policies = [{ type = \"Pods\", value = 2, periodSeconds = 120 }] }, \
             scaleDown = { stabilizationWindowSeconds = 0, policies = [{ type = \"Percent\", value = 50, periodSeconds = 60 }] } }\n";
    let got = run(
        c,
        &[
            (0, 4, 30, 4, 30, "1"),   // wants 8, may add 2 per 120 s -> 6
            (60, 6, 30, 6, 30, "1"),  // 2 already added within 120 s -> stays
            (120, 6, 30, 6, 30, "1"), // the event is 120 s old: 2 more -> 8
            (180, 8, 0, 0, 30, "0"),  // wants 1 (min); 50 % per 60 s -> 4
            (200, 4, 0, 0, 30, "0"),  // 4 removed 20 s ago: period start 8, 50 % -> 4: stays
            (260, 4, 0, 0, 30, "0"),  // that event is 80 s old: 4 -> 2
        ],
    );
    assert_eq!(
        got,
        [
            "scale_up 6 ScaleUpLimit",
            "hold 6 ScaleUpLimit",
            "scale_up 8 ScaleUpLimit",
            "scale_down 4 ScaleDownLimit",
            "hold 4 ScaleDownLimit",
            "scale_down 2 ScaleDownLimit"
        ]
    );
}

#[test]
fn hpa_queue_metric_is_an_average_value_target() {
    let c = "max_workers = 40\npolicy = \"hpa\"\n[hpa]\nmetric = \"queue\"\ntarget_average_value = 5\n\
             behavior = { scaleUp = { policies = [{ type = \"Pods\", value = 100, periodSeconds = 15 }] } }\n";
    // 60 tasks in the system at 5 per worker: 12.
    assert_eq!(run(c, &[(0, 4, 50, 10, 30, "1")]), ["scale_up 12 DesiredWithinRange"]);
}

#[test]
fn queue_policy_drains_the_backlog_activates_and_scales_to_zero() {
    let c = "min_workers = 0\nmax_workers = 30\nscale_up_threshold = 0.9\npolicy = \"queue\"\ncooldown_period = 0\n\
             [queue]\ntarget_drain_s = 60\nactivation_threshold = 3\nidle_grace_s = 120\nscale_down_window_s = 0\n";
    let got = run(
        c,
        &[
            (0, 0, 2, 0, 0, "0"),       // 2 tasks <= activation threshold 3: stay at zero
            (60, 0, 10, 0, 0, "1"),     // no duration known yet: one worker per task -> 10
            (120, 10, 20, 10, 30, "1"), // 10 running + 20 x 30 s / 60 s = 20 workers
            (180, 20, 0, 4, 30, "0.2"), // 4 running, nothing queued: 4
            (240, 4, 0, 0, 30, "0"),    // idle now, grace 120 s: hold
            (300, 4, 0, 0, 30, "0"),
            (360, 4, 0, 0, 30, "0"), // idle since 240: 120 s -> zero
        ],
    );
    assert_eq!(
        got,
        [
            "hold 0 below_activation",
            "scale_up 10 queue_backlog",
            "scale_up 20 queue_backlog",
            "scale_down 4 queue_shrink",
            "hold 4 queue_matched",
            "hold 4 queue_matched",
            "scale_down 0 idle_scale_to_zero"
        ]
    );
    // With a scale-down window, the shrink waits until the window forgets the larger target.
    let windowed = c.replace("scale_down_window_s = 0", "scale_down_window_s = 120");
    let got = run(
        &windowed,
        &[(0, 10, 20, 10, 30, "1"), (60, 20, 0, 4, 30, "0.2"), (119, 20, 0, 4, 30, "0.2"), (120, 20, 0, 4, 30, "0.2")],
    );
    assert_eq!(
        got,
        ["scale_up 20 queue_backlog", "hold 20 queue_matched", "hold 20 queue_matched", "scale_down 4 queue_shrink"]
    );
}

#[test]
fn step_policy_adjustments_and_warmup() {
    let base = "min_workers = 1\nmax_workers = 100\npolicy = \"step\"\ncooldown_period = 0\nmetrics_window = 1\n";
    let steps = "scale_out = [{ lower = 0, upper = 0.1, adjustment = 1 }, { lower = 0.1, adjustment = 3 }]\nscale_in = [{ upper = 0, adjustment = -2 }]\n";
    // Change in capacity: a small breach adds 1, a big one 3; below the lower alarm removes 2.
    let c = format!("{base}[step]\nupper_threshold = 0.7\nlower_threshold = 0.3\n{steps}");
    let got = run(
        &c,
        &[
            (0, 10, 5, 10, 30, "0.75"),
            (60, 11, 5, 11, 30, "0.95"),
            (120, 14, 0, 2, 30, "0.1"),
            (180, 12, 0, 6, 30, "0.5"),
        ],
    );
    assert_eq!(
        got,
        ["scale_up 11 step_scale_out", "scale_up 14 step_scale_out", "scale_down 12 step_scale_in", "hold 12 no_alarm"]
    );
    // Percent: 20 % of 10 is 2; of 3 is 0.6, which rounds to 1; a minimum magnitude of 2 raises it.
    let pct = format!("{base}[step]\nadjustment_type = \"PercentChangeInCapacity\"\nscale_out = [{{ lower = 0, adjustment = 20 }}]\nscale_in = [{{ upper = 0, adjustment = -50 }}]\n");
    assert_eq!(run(&pct, &[(0, 10, 5, 10, 30, "0.9")]), ["scale_up 12 step_scale_out"]);
    assert_eq!(run(&pct, &[(0, 3, 5, 3, 30, "0.9")]), ["scale_up 4 step_scale_out"]);
    let pct_min = format!("{pct}min_adjustment_magnitude = 2\n");
    assert_eq!(run(&pct_min, &[(0, 3, 5, 3, 30, "0.9")]), ["scale_up 5 step_scale_out"]);
    // Exact capacity.
    let exact =
        format!("{base}[step]\nadjustment_type = \"ExactCapacity\"\nscale_out = [{{ lower = 0, adjustment = 25 }}]\n");
    assert_eq!(run(&exact, &[(0, 3, 5, 3, 30, "0.9")]), ["scale_up 25 step_scale_out"]);
    // Warm-up: 3 workers added at 0 are still warming at 60 s and cover a step of 3.
    let warm = format!("{base}warmup_period = 120\n[step]\nupper_threshold = 0.7\nlower_threshold = 0.3\n{steps}");
    let got = run(&warm, &[(0, 10, 5, 10, 30, "0.95"), (60, 13, 5, 10, 30, "0.95"), (120, 13, 5, 13, 30, "0.95")]);
    assert_eq!(got, ["scale_up 13 step_scale_out", "hold 13 warming_up", "scale_up 16 step_scale_out"]);
}

#[test]
fn policy_configs_are_validated() {
    let err = |t: &str| crate::try_cfg(t).unwrap_err();
    assert!(err("policy = \"hpa\"\n[hpa]\ntarget_utilisation_percent = 50")
        .contains("did you mean `target_utilization_percent`"));
    assert!(
        err("policy = \"hpa\"\n[hpa]\ntarget_utilization_percent = 0").contains("hpa.target_utilization_percent = 0")
    );
    assert!(err("[hpa]\nbehavior = { scaleUp = { policies = [{ type = \"Pod\", value = 4, periodSeconds = 15 }] } }")
        .contains("\"Pods\", \"Percent\""));
    assert!(err("[hpa]\nbehavior = { scaleUp = { policies = [{ type = \"Pods\", value = 4 }] } }")
        .contains("needs `periodSeconds`"));
    assert!(err("policy = \"step\"\n[step]\nlower_threshold = 0.9\nupper_threshold = 0.5")
        .contains("step.lower_threshold = 0.9: must be < step.upper_threshold (0.5)"));
    assert!(
        err("[step]\nscale_out = [{ lower = 0.2, upper = 0.1, adjustment = 1 }]").contains("lower must be below upper")
    );
    assert!(err("[queue]\ntasks_per_worker = 0").contains("queue.tasks_per_worker"));
    assert!(err("[predictive]\nalpha = 1.5").contains("predictive.alpha = 1.5: must be between 0 and 1"));
    // An unknown policy lists the ones there are.
    let e = err("policy = \"arcs\"");
    assert!(e.contains("\"kpa\"") && e.contains("\"arc\"") && e.contains("\"target_tracking\""), "{e}");
    // Round trip through to_pairs for every policy.
    for text in [
        "policy = \"hpa\"\n[hpa]\ntarget_utilization_percent = 65\nbehavior = { scaleUp = { selectPolicy = \"Min\" } }\n",
        "policy = \"step\"\n[step]\nmin_adjustment_magnitude = 2\nscale_in = [{ lower = -0.25, upper = 0, adjustment = -1 }]\n",
        "policy = \"queue\"\n[queue]\ntarget_drain_s = 45\n",
        "policy = \"predictive\"\n[predictive]\nhorizon_s = 90\nalpha = 0.25\n",
        "policy = \"keda\"\n[keda]\nthreshold = 2.5\n",
        "policy = \"kpa\"\n[kpa]\n",
        "policy = \"arc\"\n[arc]\nmin_runners = 2\nmax_runners = 9\n",
        "policy = \"arc\"\n[arc]\n",
        "policy = \"target_tracking\"\n[target_tracking]\nmetric = \"backlog_per_worker\"\ntarget_value = 3\n",
        "policy = \"kpa\"\nmin_workers = 0\n[kpa]\n\"stable-window\" = \"1m30s\"\n\"max-scale-up-rate\" = 10\n\
         \"enable-scale-to-zero\" = false\n\"container-concurrency\" = 4\n\"autoscaling.knative.dev/target\" = 2.5\n\
         \"autoscaling.knative.dev/scale-down-delay\" = \"30s\"\n\"serving.knative.dev/progress-deadline\" = \"2m\"\n",
        "policy = \"keda\"\nmin_workers = 0\n[keda]\npolling_interval = 10\ncooldown_period = 0.5\ninitial_cooldown_period = 60\n\
         min_replica_count = 2\nmax_replica_count = 9\nidle_replica_count = 0\nfallback_failure_threshold = 3\n\
         fallback_replicas = 4\nfallback_behavior = \"currentReplicasIfHigher\"\nmetric_type = \"Value\"\nthreshold = 0.1\n\
         activation_threshold = 7\npaused = true\ntolerance_up = 0.05\ndownscale_stabilization_s = 30\n\
         behavior = { scaleDown = { stabilizationWindowSeconds = 20 } }\n",
    ] {
        let c = cfg(text);
        let again: String = c.to_pairs().iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        let c2 = cfg(&again);
        assert_eq!(c2.policy_config(), c.policy_config(), "{again}");
        assert_eq!(c2, c);
    }
}

/// A daily pattern: demand 4 tasks at night and 20 by day (a slot = one evaluation interval).
fn daily_demand(slot: u64, slots_per_day: u64) -> u64 {
    if (slot % slots_per_day) >= slots_per_day / 2 {
        20
    } else {
        4
    }
}

#[test]
fn predictive_scales_up_ahead_of_a_daily_rise() {
    // A "day" of 24 ticks of 60 s; forecast 5 min ahead.
    let c = cfg("min_workers = 1\nmax_workers = 60\npolicy = \"predictive\"\ncooldown_period = 0\n[predictive]\nseason_s = 1440\nhorizon_s = 300\ntarget_utilization = 0.8\n");
    let mut s = Scaler::new(c);
    let mut workers = 5u32;
    let mut early = Vec::new();
    for slot in 0..24 * 6u64 {
        let now = TimeMs(slot * 60_000);
        let demand = daily_demand(slot, 24);
        let running = demand.min(u64::from(workers));
        let util = Fixed9::from_ratio(running, u64::from(workers));
        s.observe(Observation::new(now, workers, demand - running, running, DurationMs::from_secs(30), util).unwrap())
            .unwrap();
        let d = s.decide(now).unwrap();
        if d.reason == Reason::ForecastHigh && demand == 4 {
            early.push(slot % 24);
        }
        if d.is_scaling() {
            crate::applied(&mut s);
            workers = d.target_workers;
        }
    }
    // After the first day the model has the season: it raises capacity in the slots just
    // before the rise (slot 12), while demand is still at its night level.
    assert!(early.iter().any(|&sl| (7..12).contains(&sl)), "no early scale-up: {early:?}");
}

fn arb_obs() -> impl Strategy<Value = Vec<(u64, u32, u64, u64, u64)>> {
    prop::collection::vec((0u64..4, 0u32..40, 0u64..60, 0u64..40, 0u64..1_000_000_000), 1..80)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Every policy: targets within [min, max]; a hold targets n (except no_metrics).
    #[test]
    fn every_policy_stays_in_bounds(policy in prop_oneof![Just("hpa"), Just("step"), Just("queue"), Just("predictive"), Just("keda"), Just("kpa")], obs in arb_obs(), min in 0u32..4, span in 1u32..30) {
        let table = if policy == "predictive" { "[predictive]\nseason_s = 600\n" } else { "" };
        let c = cfg(&format!("policy = \"{policy}\"\nmin_workers = {min}\nmax_workers = {}\nscale_up_threshold = 0.8\ncooldown_period = 30\nmetrics_window = 120\n{table}", min + span));
        let mut s = Scaler::new(c.clone());
        let mut t = 0;
        for (dt, n, p, r, u) in obs {
            t += dt * 15_000;
            let util = Fixed9::from_units(u);
            s.observe(Observation::new(TimeMs(t), n, p, r, DurationMs::from_secs(20), util).unwrap()).unwrap();
            let d = s.decide(TimeMs(t)).unwrap();
            if d.is_scaling() {
                prop_assert!(d.target_workers >= c.min_workers() && d.target_workers <= c.max_workers(), "{d:?}");
                crate::applied(&mut s);
            } else if d.reason != Reason::NoMetrics {
                prop_assert_eq!(d.target_workers, n);
            }
        }
    }

    /// HPA with behavior: a scale-up never goes beyond the replicas at the start of the
    /// Pods policy's period plus its value (Kubernetes' rule; tracked here independently).
    #[test]
    fn hpa_rate_limits_are_never_exceeded(utils in prop::collection::vec(0u64..=1_000_000_000, 1..60), value in 1u32..5, period_s in 1u64..6) {
        let c = cfg(&format!("policy = \"hpa\"\nmin_workers = 1\nmax_workers = 200\nmetrics_window = 1\n[hpa]\ntarget_utilization_percent = 40\n\
            behavior = {{ scaleUp = {{ policies = [{{ type = \"Pods\", value = {value}, periodSeconds = {} }}] }} }}\n", period_s * 60));
        let mut s = Scaler::new(c);
        let mut n = 3u32;
        let mut changes: Vec<(u64, i64)> = Vec::new();
        for (i, u) in utils.into_iter().enumerate() {
            let t = i as u64 * 60_000;
            s.observe(Observation::new(TimeMs(t), n, 5, n.into(), DurationMs::from_secs(20), Fixed9::from_units(u)).unwrap()).unwrap();
            let d = s.decide(TimeMs(t)).unwrap();
            if d.is_scaling() {
                if d.action == Action::ScaleUp {
                    let recent: i64 = changes.iter().filter(|(at, _)| t - at < period_s * 60_000).map(|(_, k)| k).sum();
                    let start = i64::from(n) - recent;
                    prop_assert!(i64::from(d.target_workers) <= start + i64::from(value), "to {} from a period start of {start} + {value}", d.target_workers);
                }
                changes.push((t, i64::from(d.target_workers) - i64::from(n)));
                crate::applied(&mut s);
                n = d.target_workers;
            }
        }
    }

    /// Predictive never scales in on a forecast alone: a scale-down is also a scale-down
    /// of the threshold policy under the same inputs, and never below its target.
    #[test]
    fn predictive_never_scales_in_on_the_forecast(obs in arb_obs()) {
        let text = "policy = \"predictive\"\nmin_workers = 1\nmax_workers = 40\ncooldown_period = 0\nmetrics_window = 60\n[predictive]\nseason_s = 300\n";
        let pc = cfg(text);
        let tc = cfg(&text.replace("policy = \"predictive\"", "policy = \"threshold\"").replace("[predictive]\nseason_s = 300\n", ""));
        let mut pred = Scaler::new(pc.clone());
        let mut thr = Scaler::new(tc.clone());
        let mut t = 0;
        for (dt, n, p, r, u) in obs {
            t += (dt + 1) * 60_000;
            let o = Observation::new(TimeMs(t), n, p, r, DurationMs::from_secs(20), Fixed9::from_units(u)).unwrap();
            pred.observe(o).unwrap();
            thr.observe(o).unwrap();
            let d = pred.decide(TimeMs(t)).unwrap();
            let r = thr.decide(TimeMs(t)).unwrap();
            if d.action == Action::ScaleDown {
                prop_assert_eq!(r.action, Action::ScaleDown);
                prop_assert!(d.target_workers >= r.target_workers);
            }
            // Both record the same successes, so their cooldowns agree.
            if r.is_scaling() { crate::applied(&mut thr); crate::applied(&mut pred); }
        }
    }
}

#[test]
fn the_pure_function_and_the_holder_agree_and_state_round_trips() {
    let c = cfg(
        "policy = \"hpa\"\nmax_workers = 30\n[hpa]\nbehavior = { scaleDown = { stabilizationWindowSeconds = 120 } }\n",
    );
    let mut s = Scaler::new(c.clone());
    for (i, u) in ["0.9", "0.95", "0.2", "0.1", "0.5"].iter().enumerate() {
        let now = TimeMs(i as u64 * 60_000);
        let o = Observation::new(now, 6, 3, 6, DurationMs::from_secs(10), Fixed9::parse(u).unwrap()).unwrap();
        let tick = s.tick(now, Some(o)).unwrap();
        if let Some(t) = tick.ticket {
            s.outcome(t, scaler_core::Outcome::Applied).unwrap();
        }
        // The state serializes and reads back unchanged (nothing lost on a restart).
        let state = s.policy_state().clone();
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<PolicyState>(&json).unwrap(), state);
    }
}

#[test]
fn the_generic_warmup_applies_to_any_policy() {
    // Threshold policy, no cooldown, 120 s warm-up: the 2 workers added at 0 s still warm at
    // 60 s, so a step of 3 adds only 1; at 120 s they are warm, but the 1 added at 60 s is
    // not: a step of 3 adds 2.
    let c = "min_workers = 1\nmax_workers = 100\ncooldown_period = 0\nmetrics_window = 1\nwarmup_period = 120\n";
    let got = run(c, &[(0, 4, 5, 4, 30, "1"), (60, 6, 5, 6, 30, "1"), (120, 7, 5, 7, 30, "1")]);
    assert_eq!(got, ["scale_up 6 utilization_high", "scale_up 7 utilization_high", "scale_up 9 utilization_high"]);
    let q = "min_workers = 1\nmax_workers = 100\npolicy = \"queue\"\ncooldown_period = 0\nwarmup_period = 300\n[queue]\nscale_down_window_s = 0\n";
    let got = run(q, &[(0, 2, 10, 2, 0, "1"), (30, 12, 20, 2, 0, "1")]);
    assert_eq!(got, ["scale_up 12 queue_backlog", "hold 12 warming_up"]);
}

proptest! {
    /// HPA stabilization never moves against the envelope: the result lies between the
    /// smallest recommendation of the up window and the largest of the down window (both
    /// including the new proposal), and it is the current count whenever that lies inside.
    #[test]
    fn stabilization_stays_inside_the_envelope(current in 0i64..100, proposal in 0i64..100,
        recs in prop::collection::vec((0u64..600_000, 0i64..100), 0..20), up in 0u64..400_000, down in 0u64..400_000) {
        let r: Vec<scaler_core::hpa::Recommendation> = recs.iter().map(|&(a, n)| scaler_core::hpa::Recommendation { age_ms: a, replicas: n }).collect();
        let (got, _) = scaler_core::hpa::stabilize(current, proposal, &r, up, down);
        let lo = r.iter().filter(|x| x.age_ms < up).map(|x| x.replicas).fold(proposal, i64::min);
        let hi = r.iter().filter(|x| x.age_ms < down).map(|x| x.replicas).fold(proposal, i64::max);
        prop_assert!(lo <= got && got <= hi, "{got} outside [{lo}, {hi}]");
        if lo <= current && current <= hi {
            prop_assert_eq!(got, current);
        }
    }
}

#[test]
fn a_table_for_a_policy_that_is_not_selected_is_refused() {
    let err = |t: &str| crate::try_cfg(t).unwrap_err();
    // Whatever order the keys come in.
    for text in ["[hpa]\ntarget_utilization_percent = 60\n", "policy = \"step\"\n[hpa]\ntolerance = 0.2\n"] {
        let e = err(text);
        assert!(e.contains("a [scaler.hpa] table applies only when policy = \"hpa\""), "{e}");
    }
    let mut b = scaler_core::ScalerConfig::builder();
    b.set("queue.target_drain_s", &scaler_core::ConfigValue::Integer(30)).unwrap();
    b.set("policy", &scaler_core::ConfigValue::String("queue".into())).unwrap();
    assert_eq!(b.build().unwrap().policy(), scaler_core::PolicyKind::Queue);
    // The threshold policy has no table of its own.
    assert!(err("[threshold]\nx = 1\n").contains("has no table"));
    // The one warm-up: the step policy's own is refused and names the one to use.
    assert!(err("policy = \"step\"\n[step]\nwarmup_s = 60\n").contains("use `warmup_period`"));
}

#[test]
fn every_configured_number_is_read_exactly() {
    use scaler_core::PolicyConfig;
    // Decimals that a binary float cannot hold keep their value.
    let c = cfg("policy = \"queue\"\n[queue]\nutilization_target = 0.7\n");
    let PolicyConfig::Queue(q) = c.policy_config() else { panic!() };
    assert_eq!(q.utilization_target.units(), 700_000_000);
    // ceil((0 * 60 + 21 * 30) / (60 * 1 * 0.7)) = ceil(630 / 42) = 15 exactly (in floats,
    // 21 * 30 / 60 = 10.5 and 10.5 / 0.7 = 15.000000000000002, whose ceil is 16).
    assert_eq!(q.needed(21, 0, 30_000), 15);
    let c = cfg("policy = \"predictive\"\n[predictive]\nalpha = 0.1\ntarget_utilization = 0.7\n");
    let PolicyConfig::Predictive(p) = c.policy_config() else { panic!() };
    assert_eq!((p.alpha.units(), p.target_utilization.units()), (100_000_000, 700_000_000));
    let c = cfg("policy = \"hpa\"\n[hpa]\ntarget_average_value = 2.5\ntolerance = 0.05\n");
    let PolicyConfig::Hpa(h) = c.policy_config() else { panic!() };
    assert_eq!(h.target_average_value_m, 2500);
    // Kubernetes holds the tolerance as a float64: the nearest to the decimal as written.
    assert_eq!(h.tolerance.scale_up, 0.05);
    let c = cfg("policy = \"step\"\n[step]\nupper_threshold = 0.7\nscale_out = [{ lower = 0.1, adjustment = 2 }]\n");
    let PolicyConfig::Step(s) = c.policy_config() else { panic!() };
    assert_eq!((s.upper_threshold.units(), s.scale_out[0].lower), (700_000_000, Some(100_000_000)));
}

#[test]
fn reasons_serialize_as_their_file_codes() {
    for r in scaler_core::Reason::ALL {
        assert_eq!(serde_json::to_string(r).unwrap(), format!("\"{}\"", r.as_str()));
        assert_eq!(scaler_core::Reason::from_code(r.as_str()), Some(*r));
        assert_eq!(serde_json::from_str::<scaler_core::Reason>(&format!("\"{r}\"")).unwrap(), *r);
    }
    assert_eq!(scaler_core::Reason::from_code("nonsense"), None);
}

#[test]
fn an_unready_pod_without_a_sample_is_unready_not_missing() {
    use scaler_core::hpa::{resource_replicas, PodClass, ResourcePod, Tolerance};
    let ready = |u| ResourcePod { class: PodClass::Ready, request_m: 1000, usage_m: Some(u) };
    let pending = ResourcePod { class: PodClass::Unready, request_m: 1000, usage_m: None };
    // Two ready pods at 100 % against a 50 % target, one Pending pod. Unready pods count at 0
    // when scaling up: utilization 200 / 3 = 66 %, ratio 1.32, ceil(1.32 * 3) = 4. Had the
    // Pending pod been missing, the same arithmetic would apply only through the missing rule
    // (0 when scaling up) — but a missing pod is also counted when scaling down, which an
    // unready one is not: at 20 % usage the ready pods alone decide.
    let up = resource_replicas(3, 50, Tolerance::default(), &[ready(1000), ready(1000), pending]).unwrap();
    assert_eq!(up.replicas, 4);
    let down = resource_replicas(3, 50, Tolerance::default(), &[ready(100), ready(100), pending]).unwrap();
    // ratio 10 / 50 = 0.2 over the 2 ready pods: ceil(0.2 * 2) = 1 (missing would have given
    // (100 + 100 + 1000) / 3000 = 40 %: ceil(0.8 * 3) = 3).
    assert_eq!(down.replicas, 1);
}

#[test]
fn a_predictive_season_of_too_many_ticks_is_refused() {
    let e = crate::try_cfg("policy = \"predictive\"\nevaluation_interval = 0.001\n[predictive]\nseason_s = 31536000\n")
        .unwrap_err();
    assert!(e.contains("predictive.season_s = 31536000: holds 31536000000 evaluation intervals"), "{e}");
    // A day at 15 s ticks is fine.
    cfg("policy = \"predictive\"\nevaluation_interval = 15\n[predictive]\nseason_s = 86400\n");
}
