//! The seed's threshold policy (SPEC section 4) as a pure function.

use crate::config::ScalerConfig;
use crate::decision::{Action, Decision, Reason};
use crate::units::TimeMs;
use crate::window::WindowSummary;

/// Decides at `now` from the window's summary and the time of the last
/// successful scaling. Pure: the same arguments always give the same decision.
///
/// The first rule that matches decides:
/// 1. empty window → hold, `no_metrics`;
/// 2. `n < min_workers` → up to `min_workers`, `below_min_workers` (ignores cooldown);
/// 3. `n > max_workers` → down to `max_workers`, `above_max_workers` (ignores cooldown);
/// 4. `now - last_scaled_at < cooldown_period` → hold, `cooldown`;
/// 5. `u > scale_up_threshold` → `no_pending_tasks` / `at_max_workers` holds, else up by a step;
/// 6. `u < scale_down_threshold` → `at_min_workers` hold, else down by a step;
/// 7. hold, `within_band`.
#[must_use]
pub fn decide(
    config: &ScalerConfig,
    window: Option<&WindowSummary>,
    last_scaled_at: Option<TimeMs>,
    now: TimeMs,
) -> Decision {
    let Some(w) = window else {
        return Decision {
            at: now,
            action: Action::Hold,
            target_workers: 0,
            reason: Reason::NoMetrics,
            window_utilization: None,
            current_workers: 0,
            pending_tasks: 0,
        };
    };
    let n = w.newest.current_workers;
    let p = w.newest.pending_tasks;
    let agg = config.utilization_aggregate();
    let make = |action, target_workers, reason| Decision {
        at: now,
        action,
        target_workers,
        reason,
        window_utilization: Some(w.value(agg)),
        current_workers: n,
        pending_tasks: p,
    };
    let (min, max) = (config.min_workers(), config.max_workers());
    if n < min {
        return make(Action::ScaleUp, min, Reason::BelowMinWorkers);
    }
    if n > max {
        return make(Action::ScaleDown, max, Reason::AboveMaxWorkers);
    }
    if let Some(s) = last_scaled_at {
        // A scaling "in the future" (now < s) also counts as within the cooldown.
        if now < s || now.saturating_since(s) < config.cooldown_period() {
            return make(Action::Hold, n, Reason::Cooldown);
        }
    }
    if w.above(agg, config.scale_up_threshold()) {
        if p == 0 {
            return make(Action::Hold, n, Reason::NoPendingTasks);
        }
        if n >= max {
            return make(Action::Hold, n, Reason::AtMaxWorkers);
        }
        let up = u64::from(n).saturating_add(config.scale_up_step().amount(n));
        // `up > n >= min`, and the result is at most `max`, which fits a u32.
        let target = u32::try_from(up.min(u64::from(max))).unwrap_or(max);
        return make(Action::ScaleUp, target, Reason::UtilizationHigh);
    }
    if w.below(agg, config.scale_down_threshold()) {
        if n <= min {
            return make(Action::Hold, n, Reason::AtMinWorkers);
        }
        let down = u64::from(n).saturating_sub(config.scale_down_step().amount(n));
        let target = u32::try_from(down.max(u64::from(min))).unwrap_or(min);
        return make(Action::ScaleDown, target, Reason::UtilizationLow);
    }
    make(Action::Hold, n, Reason::WithinBand)
}
