//! AWS target tracking (`PolicyType: TargetTrackingScaling`), the most used AWS scaling
//! policy, as a documented model: AWS publishes the policy's parameters and its alarms, not
//! the arithmetic behind them, so what follows is what its documentation states, plus the
//! choices it leaves open, each named.
//!
//! What AWS documents, and this policy does:
//! - **Two alarms** that AWS creates for the policy: a high alarm, in breach while the metric
//!   is above `TargetValue` for 3 consecutive one-minute datapoints, and a low alarm, in breach
//!   while it is below 90 % of `TargetValue` for 15 consecutive datapoints. Here one datapoint
//!   is one decision (one tick, or one replayed row): with `evaluation_interval = 60` and
//!   `metrics_window = 60` it is CloudWatch's one-minute average. The counts are
//!   `scale_out_datapoints` and `scale_in_datapoints`, the 90 % is `scale_in_ratio`.
//! - **Scale-out in proportion to the metric**: while the high alarm is in breach the desired
//!   capacity is `ceil(n * metric / TargetValue)`, `n` the current workers (those still
//!   starting included, as AWS counts capacity that is warming up toward the desired
//!   capacity); it is recomputed at every datapoint the alarm stays in breach.
//! - **Scale-in more slowly**: only after the longer low alarm, to the same proportional
//!   capacity; never with `DisableScaleIn`.
//! - **Cooldowns** (Application Auto Scaling's `ScaleOutCooldown` / `ScaleInCooldown`): within
//!   `scale_out_cooldown` of a scale-out another scale-out happens only if it asks for more than
//!   that scale-out did; no scale-in happens within `scale_in_cooldown` of a scale-in, nor within
//!   `scale_out_cooldown` of a scale-out. The seed's `cooldown_period` does not apply.
//!
//! The model's choices (AWS does not say): the metric is the window's
//! `utilization_aggregate` of `worker_utilization` as a percentage (`metric = "utilization"`,
//! AWS's `ASGAverageCPUUtilization`), or the tasks in the system per worker (`metric =
//! "backlog_per_worker"`, AWS's recommended SQS backlog-per-instance metric); the alarm
//! comparisons and the capacity `ceil(n * metric / target)` are exact on the window's
//! fraction (no rounding anywhere, as for the seed's thresholds). At zero workers a
//! utilization metric has no datapoints at AWS; here the observed utilization is 1 (SPEC
//! section 1), so pending work scales out to at least one worker.

use alloc::format;
use alloc::string::String;
use core::cmp::Ordering;

use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::policy::{Ctx, Policy, Verdict};
use crate::read::{boolean, fixed, one_of, seconds, unit_interval, unknown, whole_at_least};
use crate::units::{DurationMs, Fixed9, TimeMs};

/// What the policy tracks (`metric`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackedMetric {
    /// The window's worker utilization, in percent (`TargetValue = 70` is 70 % busy).
    Utilization,
    /// Pending plus running tasks per worker, of the newest observation.
    BacklogPerWorker,
}

/// Settings of the `target_tracking` policy (`[scaler.target_tracking]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetTrackingConfig {
    /// The metric.
    pub metric: TrackedMetric,
    /// `TargetValue`: percent for utilization (`> 0`, `<= 100`), tasks per worker for backlog.
    pub target_value: Fixed9,
    /// `DisableScaleIn`.
    pub disable_scale_in: bool,
    /// `ScaleOutCooldown`.
    pub scale_out_cooldown: DurationMs,
    /// `ScaleInCooldown`.
    pub scale_in_cooldown: DurationMs,
    /// Consecutive datapoints above the target that put the high alarm in breach (AWS: 3).
    pub scale_out_datapoints: u32,
    /// Consecutive datapoints below `scale_in_ratio * target` for the low alarm (AWS: 15).
    pub scale_in_datapoints: u32,
    /// The low alarm's threshold as a share of the target (AWS: 0.9).
    pub scale_in_ratio: Fixed9,
}

impl Default for TargetTrackingConfig {
    fn default() -> Self {
        TargetTrackingConfig {
            metric: TrackedMetric::Utilization,
            target_value: Fixed9::from_units(50 * Fixed9::SCALE),
            disable_scale_in: false,
            scale_out_cooldown: DurationMs::from_secs(300),
            scale_in_cooldown: DurationMs::from_secs(300),
            scale_out_datapoints: 3,
            scale_in_datapoints: 15,
            scale_in_ratio: Fixed9::from_units(900_000_000),
        }
    }
}

/// The policy's memory: the alarms' runs of breaching datapoints and the last scalings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TargetTrackingState {
    /// Consecutive datapoints above the target, up to now.
    pub above: u32,
    /// Consecutive datapoints below the low alarm's threshold, up to now.
    pub below: u32,
    /// The last scale-out applied: when (ms) and to how many workers.
    pub last_out: Option<(u64, u32)>,
    /// When the last scale-in was applied (ms).
    pub last_in: Option<u64>,
}

/// `10^9`: `Fixed9`'s units per one.
const SCALE: u128 = Fixed9::SCALE as u128;

impl TargetTrackingConfig {
    /// How the datapoint at `ctx` compares with `num / den` in the metric's own unit
    /// (percent for utilization, tasks per worker for backlog), exactly.
    fn cmp(&self, ctx: &Ctx<'_>, num: u128, den: u128) -> Ordering {
        match self.metric {
            // u * 100 against num / den: u against num / (100 * den).
            TrackedMetric::Utilization => ctx.window.cmp_ratio(ctx.config.utilization_aggregate(), num, den * 100),
            TrackedMetric::BacklogPerWorker => {
                let o = ctx.window.newest();
                let backlog = u128::from(o.pending_tasks) + u128::from(o.running_tasks);
                let n = u128::from(o.current_workers);
                if n == 0 {
                    // Work with no worker is above any target; no work is below it.
                    return if backlog > 0 { Ordering::Greater } else { Ordering::Less };
                }
                // backlog / n against num / den.
                (backlog * den).cmp(&(num * n))
            }
        }
    }

    /// Above the target: the high alarm's datapoint.
    fn high(&self, ctx: &Ctx<'_>) -> bool {
        self.cmp(ctx, u128::from(self.target_value.units()), SCALE) == Ordering::Greater
    }

    /// Below `scale_in_ratio * target`: the low alarm's datapoint.
    fn low(&self, ctx: &Ctx<'_>) -> bool {
        let num = u128::from(self.target_value.units()) * u128::from(self.scale_in_ratio.units());
        self.cmp(ctx, num, SCALE * SCALE) == Ordering::Less
    }

    /// The proportional capacity `ceil(n * metric / target)`, exactly.
    fn proportional(&self, ctx: &Ctx<'_>) -> i64 {
        let o = ctx.window.newest();
        let t = u128::from(self.target_value.units()).max(1);
        match self.metric {
            TrackedMetric::Utilization => {
                // n * (u * 100) / (t / 10^9) = u * s / t with s = n * 100 * 10^9.
                let agg = ctx.config.utilization_aggregate();
                let s = u128::from(o.current_workers) * 100 * SCALE;
                let f = ctx.window.floor_scaled(agg, s);
                // ceil(x / t) for x = u * s in [f, f + 1): ceil(f / t) when x is f exactly,
                // else floor(f / t) + 1.
                let k =
                    if ctx.window.cmp_ratio(agg, f, s.max(1)) == Ordering::Equal { f.div_ceil(t) } else { f / t + 1 };
                i64::try_from(k).unwrap_or(i64::MAX)
            }
            TrackedMetric::BacklogPerWorker => {
                // n * (backlog / n) / t = backlog / t.
                let backlog = u128::from(o.pending_tasks) + u128::from(o.running_tasks);
                i64::try_from((backlog * SCALE).div_ceil(t)).unwrap_or(i64::MAX)
            }
        }
    }
}

fn within(now: TimeMs, since: u64, d: DurationMs) -> bool {
    now.0.saturating_sub(since) < d.as_ms()
}

impl Policy for TargetTrackingConfig {
    const NAME: &'static str = "target_tracking";
    const KEYS: &'static [&'static str] = &[
        "metric",
        "target_value",
        "disable_scale_in",
        "scale_out_cooldown",
        "scale_in_cooldown",
        "scale_out_datapoints",
        "scale_in_datapoints",
        "scale_in_ratio",
    ];
    type State = TargetTrackingState;

    fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "metric" => {
                self.metric = one_of(
                    key,
                    v,
                    &[
                        ("utilization", TrackedMetric::Utilization),
                        ("backlog_per_worker", TrackedMetric::BacklogPerWorker),
                    ],
                )?;
            }
            "target_value" => {
                let t = fixed(key, v, "must be > 0")?;
                if t == Fixed9::ZERO {
                    return Err(ConfigError::invalid(key, v, "must be > 0"));
                }
                self.target_value = t;
            }
            "disable_scale_in" => self.disable_scale_in = boolean(key, v)?,
            "scale_out_cooldown" => self.scale_out_cooldown = seconds(key, v, false)?,
            "scale_in_cooldown" => self.scale_in_cooldown = seconds(key, v, false)?,
            "scale_out_datapoints" => self.scale_out_datapoints = whole_at_least(key, v, 1)?,
            "scale_in_datapoints" => self.scale_in_datapoints = whole_at_least(key, v, 1)?,
            "scale_in_ratio" => self.scale_in_ratio = unit_interval(key, v, true)?,
            _ => return Err(unknown(key, Self::KEYS)),
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.metric == TrackedMetric::Utilization && self.target_value > Fixed9::from_units(100 * Fixed9::SCALE) {
            let v = ConfigValue::Number(format!("{}", self.target_value));
            return Err(ConfigError::invalid(
                "target_tracking.target_value",
                &v,
                "is a percentage of utilization with metric = \"utilization\": must be <= 100",
            ));
        }
        Ok(())
    }

    fn to_toml(&self) -> Option<String> {
        let metric = match self.metric {
            TrackedMetric::Utilization => "utilization",
            TrackedMetric::BacklogPerWorker => "backlog_per_worker",
        };
        Some(format!(
            "{{ metric = \"{metric}\", target_value = {}, disable_scale_in = {}, scale_out_cooldown = {}, scale_in_cooldown = {}, scale_out_datapoints = {}, scale_in_datapoints = {}, scale_in_ratio = {} }}",
            self.target_value,
            self.disable_scale_in,
            self.scale_out_cooldown,
            self.scale_in_cooldown,
            self.scale_out_datapoints,
            self.scale_in_datapoints,
            self.scale_in_ratio,
        ))
    }

    fn uses_cooldown(&self) -> bool {
        false
    }

    fn observe(&self, ctx: &Ctx<'_>, st: &mut TargetTrackingState) {
        let (high, low) = (self.high(ctx), self.low(ctx));
        st.above = if high { st.above.saturating_add(1) } else { 0 };
        st.below = if low { st.below.saturating_add(1) } else { 0 };
    }

    fn decide(&self, ctx: &Ctx<'_>, st: &mut TargetTrackingState) -> Verdict {
        let n = i64::from(ctx.current_workers());
        let now = ctx.now;
        if st.above >= self.scale_out_datapoints {
            let mut want = self.proportional(ctx);
            if n == 0 {
                want = want.max(1);
            }
            if want <= n {
                return Verdict::new(n, Reason::TrackingNoAlarm);
            }
            if let Some((at, to)) = st.last_out {
                if within(now, at, self.scale_out_cooldown) && want <= i64::from(to) {
                    return Verdict::new(n, Reason::TrackingScaleOutCooldown);
                }
            }
            return Verdict::new(want, Reason::TrackingScaleOut);
        }
        if st.below >= self.scale_in_datapoints {
            let want = self.proportional(ctx);
            if want >= n {
                return Verdict::new(n, Reason::TrackingNoAlarm);
            }
            if self.disable_scale_in {
                return Verdict::new(n, Reason::TrackingScaleInDisabled);
            }
            let out_recent = st.last_out.is_some_and(|(at, _)| within(now, at, self.scale_out_cooldown));
            let in_recent = st.last_in.is_some_and(|at| within(now, at, self.scale_in_cooldown));
            if out_recent || in_recent {
                return Verdict::new(n, Reason::TrackingScaleInCooldown);
            }
            return Verdict::new(want, Reason::TrackingScaleIn);
        }
        Verdict::new(n, Reason::TrackingNoAlarm)
    }

    fn on_applied(&self, st: &mut TargetTrackingState, at: TimeMs, from: u32, to: u32) {
        match to.cmp(&from) {
            Ordering::Greater => {
                st.last_out = Some((at.0, to));
                // AWS: a scale-out ends a scale-in cooldown.
                st.last_in = None;
            }
            Ordering::Less => st.last_in = Some(at.0),
            Ordering::Equal => {}
        }
    }
}
