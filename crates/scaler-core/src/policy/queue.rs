//! A backlog-driven policy, as KEDA, Ray and Dask scale task queues: enough workers to
//! run what runs and drain the queue within a target time, computed in exact integers.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;

use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::policy::{Ctx, Policy, Verdict};
use crate::read::{seconds, unit_interval, unknown, whole, whole_at_least};
use crate::units::{DurationMs, Fixed9};

/// Settings of the `queue` policy (`[scaler.queue]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Tasks a worker runs at once.
    pub tasks_per_worker: u32,
    /// Drain the queued work within this time.
    pub target_drain: DurationMs,
    /// From zero workers, scale up only when more tasks than this are in the system.
    pub activation_threshold: u64,
    /// With nothing pending or running for this long, scale to `min_workers` (zero when allowed).
    pub idle_grace: DurationMs,
    /// Size for this busy share (1 = exactly the demand; 0.8 leaves 20 % headroom).
    pub utilization_target: Fixed9,
    /// Scale down only to the largest target of this window (KEDA inherits HPA's 300 s).
    pub scale_down_window: DurationMs,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            tasks_per_worker: 1,
            target_drain: DurationMs::from_secs(60),
            activation_threshold: 0,
            idle_grace: DurationMs::from_secs(300),
            utilization_target: Fixed9::ONE,
            scale_down_window: DurationMs::from_secs(300),
        }
    }
}

/// The `queue` policy's memory: since when nothing was pending or running, and recent targets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QueueState {
    /// Idle since (ms), if idle.
    pub idle_since: Option<u64>,
    /// Recent targets `(time ms, workers)` for the scale-down window.
    pub recent: VecDeque<(u64, i64)>,
}

/// `ceil(num / den)` for `den > 0`, saturating.
fn ceil_div(num: u128, den: u128) -> i64 {
    i64::try_from(num.div_ceil(den.max(1))).unwrap_or(i64::MAX)
}

impl QueueConfig {
    /// Workers needed for `running` tasks plus `pending` tasks of `avg_ms` each to drain
    /// within `target_drain`, at `utilization_target`:
    /// `ceil((running * drain + pending * avg) / (drain * tasks_per_worker * utilization_target))`;
    /// without a duration yet, one slot per task. Exact (integers).
    #[must_use]
    pub fn needed(&self, pending: u64, running: u64, avg_ms: u64) -> i64 {
        let tpw = u128::from(self.tasks_per_worker);
        let ut = u128::from(self.utilization_target.units());
        let scale = u128::from(Fixed9::SCALE);
        let raw = if avg_ms > 0 {
            let drain = u128::from(self.target_drain.as_ms());
            let work = u128::from(running)
                .saturating_mul(drain)
                .saturating_add(u128::from(pending).saturating_mul(u128::from(avg_ms)));
            ceil_div(work.saturating_mul(scale), drain.saturating_mul(tpw).saturating_mul(ut))
        } else {
            let active = u128::from(pending) + u128::from(running);
            ceil_div(active.saturating_mul(scale), tpw.saturating_mul(ut))
        };
        raw.max(1)
    }
}

impl Policy for QueueConfig {
    const NAME: &'static str = "queue";
    const KEYS: &'static [&'static str] = &[
        "tasks_per_worker",
        "target_drain_s",
        "activation_threshold",
        "idle_grace_s",
        "utilization_target",
        "scale_down_window_s",
    ];
    type State = QueueState;

    fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "tasks_per_worker" => self.tasks_per_worker = whole_at_least(key, v, 1)?,
            "target_drain_s" => self.target_drain = seconds(key, v, true)?,
            "activation_threshold" => {
                self.activation_threshold = u64::from(whole(key, v, "must be a whole number >= 0")?);
            }
            "idle_grace_s" => self.idle_grace = seconds(key, v, false)?,
            "scale_down_window_s" => self.scale_down_window = seconds(key, v, false)?,
            "utilization_target" => self.utilization_target = unit_interval(key, v, true)?,
            _ => return Err(unknown(key, Self::KEYS)),
        }
        Ok(())
    }

    fn to_toml(&self) -> Option<String> {
        Some(format!(
            "{{ tasks_per_worker = {}, target_drain_s = {}, activation_threshold = {}, idle_grace_s = {}, utilization_target = {}, scale_down_window_s = {} }}",
            self.tasks_per_worker,
            self.target_drain,
            self.activation_threshold,
            self.idle_grace,
            self.utilization_target,
            self.scale_down_window
        ))
    }

    fn observe(&self, ctx: &Ctx<'_>, st: &mut QueueState) {
        let o = ctx.window.newest();
        let active = o.pending_tasks.saturating_add(o.running_tasks);
        st.idle_since = if active == 0 { Some(st.idle_since.unwrap_or(ctx.now.0)) } else { None };
    }

    fn decide(&self, ctx: &Ctx<'_>, st: &mut QueueState) -> Verdict {
        let now = ctx.now;
        let o = ctx.window.newest();
        let n = i64::from(o.current_workers);
        let (p, r) = (o.pending_tasks, o.running_tasks);
        let active = p.saturating_add(r);
        if n == 0 && active <= self.activation_threshold {
            return Verdict::new(0, Reason::BelowActivation);
        }
        if active == 0 {
            let idle_for = st.idle_since.map_or(0, |t| now.0.saturating_sub(t));
            if idle_for >= self.idle_grace.as_ms() {
                return Verdict::new(0, Reason::IdleScaleToZero);
            }
            return Verdict::new(n, Reason::QueueMatched);
        }
        let raw = self.needed(p, r, o.avg_task_duration.as_ms());
        // Scale down only as far as the largest target of the window allows.
        st.recent.push_back((now.0, raw));
        while st.recent.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) >= self.scale_down_window.as_ms()) {
            st.recent.pop_front();
        }
        let held = st.recent.iter().map(|&(_, r)| r).max().unwrap_or(raw);
        let target = if raw < n { held.min(n) } else { raw };
        let reason = match target.cmp(&n) {
            core::cmp::Ordering::Greater => Reason::QueueBacklog,
            core::cmp::Ordering::Less => Reason::QueueShrink,
            core::cmp::Ordering::Equal => Reason::QueueMatched,
        };
        Verdict::new(target, reason)
    }
}
