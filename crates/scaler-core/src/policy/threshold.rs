//! The seed's threshold policy (SPEC section 4, rules 5 to 7).

use alloc::string::String;

use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::policy::{Ctx, Policy, Verdict};

/// The threshold policy. Its settings are the seed's own (`scale_up_threshold`,
/// `scale_down_threshold`, the steps and the aggregate), at the top of `[scaler]`, so it
/// has no table of its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Threshold;

impl Policy for Threshold {
    const NAME: &'static str = "threshold";
    const KEYS: &'static [&'static str] = &[];
    type State = ();

    fn set(&mut self, key: &str, _sub: &str, value: &ConfigValue) -> Result<(), ConfigError> {
        Err(ConfigError::invalid(
            key,
            value,
            "the threshold policy has no table: its settings are the top-level keys of [scaler]",
        ))
    }

    fn to_toml(&self) -> Option<String> {
        None
    }

    fn decide(&self, ctx: &Ctx<'_>, _state: &mut ()) -> Verdict {
        rules_5_to_7(ctx)
    }
}

/// Rules 5 to 7 of the seed (after rules 1 to 4 did not decide):
/// 5. `u > scale_up_threshold` → `no_pending_tasks` / `at_max_workers` holds, else up by a step;
/// 6. `u < scale_down_threshold` → `at_min_workers` hold, else down by a step;
/// 7. hold, `within_band`.
#[must_use]
pub fn rules_5_to_7(ctx: &Ctx<'_>) -> Verdict {
    let cfg = ctx.config;
    let w = ctx.window;
    let n = ctx.current_workers();
    let p = w.newest().pending_tasks;
    let agg = cfg.utilization_aggregate();
    let (min, max) = (cfg.min_workers(), cfg.max_workers());
    if w.above(agg, cfg.scale_up_threshold()) {
        if p == 0 {
            return Verdict::new(n, Reason::NoPendingTasks);
        }
        if n >= max {
            return Verdict::new(n, Reason::AtMaxWorkers);
        }
        let up = u64::from(n).saturating_add(cfg.scale_up_step().amount(n));
        return Verdict::new(i64::try_from(up.min(u64::from(max))).unwrap_or(i64::MAX), Reason::UtilizationHigh);
    }
    if w.below(agg, cfg.scale_down_threshold()) {
        if n <= min {
            return Verdict::new(n, Reason::AtMinWorkers);
        }
        let down = u64::from(n).saturating_sub(cfg.scale_down_step().amount(n));
        return Verdict::new(i64::try_from(down.max(u64::from(min))).unwrap_or(0), Reason::UtilizationLow);
    }
    Verdict::new(n, Reason::WithinBand)
}
