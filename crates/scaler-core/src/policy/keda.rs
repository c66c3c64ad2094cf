//! KEDA as a policy: one ScaledObject with one External trigger over the pool's tasks, and
//! the HPA it creates. The arithmetic is [`crate::keda`]'s (checked by `scaler-sim
//! conformance keda`) and [`crate::hpa`]'s (checked by `scaler-sim conformance hpa`).
//!
//! Two time scales, both decided in [`Policy::decide`] from `ctx.now` and the state:
//!
//! - **KEDA's poll**, every `polling_interval` (the first decision polls; the next poll is due
//!   `polling_interval` after each poll, at the first tick at or after that time). The
//!   trigger's value is the tasks in the system (`pending + running`); it is a **metric
//!   error** when the tick's observation did not arrive (the newest observation is the one
//!   the previous tick already saw). [`crate::keda::poll`] then runs the fallback, the
//!   activity (strictly above `activation_threshold`) and the executor: activation from 0
//!   (or the idle count) to `min_replica_count` (at least 1), deactivation to
//!   `idle_replica_count` (else `min_replica_count`) once `last_active_time +
//!   cooldown_period < now` (strict, as KEDA), or a raise to `min_replica_count`. When the
//!   executor writes a count, that is the verdict; an activation's `lastActiveTime` is stored
//!   only once the scaling is reported applied ([`Policy::on_applied`]), as KEDA stores it
//!   after a successful write.
//! - **The HPA**, at every tick (`evaluation_interval` is its sync period) while the pool has
//!   workers: the metric KEDA served at the last poll (KEDA with `useCachedMetrics`), through
//!   [`crate::keda::HpaSpec::proposal`], then the stabilization and rate limits of
//!   [`crate::hpa`] (`behavior` when set, else the legacy path), within the HPA's bounds
//!   (`max(min_replica_count, 1)` to `max_replica_count`). At zero workers the HPA does
//!   nothing (Kubernetes' `ScalingDisabled`) and the pool waits for the next poll.
//!
//! The seed's `min_workers`/`max_workers` stay the pool's hard bounds, as for every policy
//! (shared rules 2 and 3 and the final clamp): the ScaledObject's counts are the policy's,
//! and `min_workers`/`max_workers` bound them. To let KEDA scale to zero, set `min_workers =
//! 0`; with `max_workers < max_replica_count` the clamp caps the HPA.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::hpa::{self, Recommendation, ScaleEvent, Tolerance};
use crate::keda::{
    self, Behavior, Branch, Fallback, FallbackBehavior, HpaReading, KedaError, MetricType, ScaledObjectSpec,
    ScaledObjectStatus, Trigger,
};
use crate::policy::hpa::{rules_toml, HpaConfig, HpaState};
use crate::policy::{Ctx, Policy, Verdict};
use crate::read::{boolean, float64, one_of, seconds, unknown, whole_at_least};
use crate::units::{DurationMs, TimeMs};

/// The trigger's name (the metric the HPA reads).
const TRIGGER: &str = "tasks";

/// Settings of the `keda` policy (`[scaler.keda]`): a ScaledObject's fields in snake case.
#[derive(Clone, Debug, PartialEq)]
pub struct KedaConfig {
    /// The ScaledObject (one External trigger over the tasks in the system).
    pub spec: Box<ScaledObjectSpec>,
    /// `fallback.failureThreshold` as set (the fallback needs it and `fallback_replicas`).
    pub fallback_failure_threshold: Option<i32>,
    /// `fallback.replicas` as set.
    pub fallback_replicas: Option<i32>,
    /// `fallback.behavior` as set.
    pub fallback_behavior: Option<FallbackBehavior>,
    /// The HPA's per-direction tolerance (`tolerance`, `tolerance_up`, `tolerance_down`).
    pub tolerance: Tolerance,
    /// The HPA's legacy downscale stabilization window (without `behavior`).
    pub downscale_stabilization: DurationMs,
    /// The HPA's legacy scale-up limit factor (without `behavior`).
    pub scale_up_limit_factor: f64,
}

impl Default for KedaConfig {
    fn default() -> Self {
        KedaConfig {
            spec: Box::new(ScaledObjectSpec {
                triggers: alloc::vec![Trigger::external(TRIGGER, MetricType::AverageValue, 1.0, 0.0)],
                ..ScaledObjectSpec::default()
            }),
            fallback_failure_threshold: None,
            fallback_replicas: None,
            fallback_behavior: None,
            tolerance: Tolerance::default(),
            downscale_stabilization: HpaConfig::default().downscale_stabilization,
            scale_up_limit_factor: HpaConfig::default().scale_up_limit_factor,
        }
    }
}

/// A replica count: a whole number `>= least` that fits KEDA's int32.
fn count(key: &str, v: &ConfigValue, least: u32) -> Result<i32, ConfigError> {
    let n = whole_at_least(key, v, least)?;
    i32::try_from(n).map_err(|_| ConfigError::invalid(key, v, format!("must be at most {} (an int32)", i32::MAX)))
}

/// The `[scaler.keda]` key of a ScaledObject field named in a [`KedaError`].
fn key_of(field: &str) -> String {
    let sub = match field {
        "minReplicaCount" => "min_replica_count",
        "maxReplicaCount" => "max_replica_count",
        "idleReplicaCount" => "idle_replica_count",
        "pollingInterval" => "polling_interval",
        "triggers[0].threshold" => "threshold",
        "triggers[0].activationThreshold" => "activation_threshold",
        f if f.starts_with("fallback") => "fallback_replicas",
        other => return format!("keda.{other}"),
    };
    format!("keda.{sub}")
}

/// A refused ScaledObject as a configuration error: key, value and KEDA's rule.
fn refused(e: &KedaError) -> ConfigError {
    let msg = e.to_string();
    let (lhs, rule) = msg.split_once(": ").unwrap_or((msg.as_str(), "is refused by KEDA"));
    let (field, value) = lhs.split_once(" = ").unwrap_or((lhs, ""));
    ConfigError::Invalid { key: key_of(field), value: value.to_string(), rule: rule.to_string() }
}

impl KedaConfig {
    fn trigger(&mut self) -> &mut Trigger {
        if self.spec.triggers.is_empty() {
            self.spec.triggers.push(Trigger::external(TRIGGER, MetricType::AverageValue, 1.0, 0.0));
        }
        &mut self.spec.triggers[0]
    }

    fn sync_fallback(&mut self) {
        self.spec.fallback = match (self.fallback_failure_threshold, self.fallback_replicas) {
            (Some(failure_threshold), Some(replicas)) => {
                Some(Fallback { failure_threshold, replicas, behavior: self.fallback_behavior.unwrap_or_default() })
            }
            _ => None,
        };
    }
}

/// The reason for an executor branch.
fn branch_reason(b: Branch) -> Reason {
    match b {
        Branch::Paused | Branch::ScaleOutPaused | Branch::ScaleInPaused => Reason::KedaPaused,
        Branch::Activate => Reason::KedaActivate,
        Branch::Deactivate => Reason::KedaDeactivate,
        Branch::RaiseToMin => Reason::KedaMinReplicas,
        Branch::Cooldown => Reason::KedaCooldown,
        Branch::AwaitingFallback => Reason::KedaAwaitingFallback,
        Branch::TriggerError | Branch::PartialTriggerError => Reason::KedaTriggerError,
        // Active: the HPA owns the count and gives the reason.
        Branch::Active => Reason::DesiredWithinRange,
        Branch::Idle => Reason::KedaIdle,
    }
}

impl Policy for KedaConfig {
    const NAME: &'static str = "keda";
    const KEYS: &'static [&'static str] = &[
        "polling_interval",
        "cooldown_period",
        "initial_cooldown_period",
        "min_replica_count",
        "max_replica_count",
        "idle_replica_count",
        "fallback_failure_threshold",
        "fallback_replicas",
        "fallback_behavior",
        "metric_type",
        "threshold",
        "activation_threshold",
        "paused",
        "tolerance",
        "tolerance_up",
        "tolerance_down",
        "behavior",
        "downscale_stabilization_s",
        "scale_up_limit_factor",
    ];
    type State = KedaState;

    fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "polling_interval" => self.spec.polling_interval = Some(seconds(key, v, true)?),
            "cooldown_period" => self.spec.cooldown_period = Some(seconds(key, v, false)?),
            "initial_cooldown_period" => self.spec.initial_cooldown_period = Some(seconds(key, v, false)?),
            "min_replica_count" => self.spec.min_replica_count = Some(count(key, v, 0)?),
            "max_replica_count" => self.spec.max_replica_count = Some(count(key, v, 1)?),
            "idle_replica_count" => self.spec.idle_replica_count = Some(count(key, v, 0)?),
            "fallback_failure_threshold" => {
                self.fallback_failure_threshold = Some(count(key, v, 0)?);
                self.sync_fallback();
            }
            "fallback_replicas" => {
                self.fallback_replicas = Some(count(key, v, 0)?);
                self.sync_fallback();
            }
            "fallback_behavior" => {
                self.fallback_behavior = Some(one_of(
                    key,
                    v,
                    &[
                        ("static", FallbackBehavior::Static),
                        ("currentReplicas", FallbackBehavior::CurrentReplicas),
                        ("currentReplicasIfHigher", FallbackBehavior::CurrentReplicasIfHigher),
                        ("currentReplicasIfLower", FallbackBehavior::CurrentReplicasIfLower),
                    ],
                )?);
                self.sync_fallback();
            }
            "metric_type" => {
                self.trigger().metric_type =
                    one_of(key, v, &[("AverageValue", MetricType::AverageValue), ("Value", MetricType::Value)])?;
            }
            "threshold" => self.trigger().threshold = float64(key, v)?,
            "activation_threshold" => self.trigger().activation_threshold = float64(key, v)?,
            "paused" => self.spec.annotations.paused = boolean(key, v)?.then(|| String::from("true")),
            "tolerance"
            | "tolerance_up"
            | "tolerance_down"
            | "downscale_stabilization_s"
            | "scale_up_limit_factor"
            | "behavior" => {
                // The hpa policy's readers, on its settings of the same names.
                let mut h = HpaConfig {
                    tolerance: self.tolerance,
                    downscale_stabilization: self.downscale_stabilization,
                    scale_up_limit_factor: self.scale_up_limit_factor,
                    ..HpaConfig::default()
                };
                h.set(key, sub, v)?;
                self.tolerance = h.tolerance;
                self.downscale_stabilization = h.downscale_stabilization;
                self.scale_up_limit_factor = h.scale_up_limit_factor;
                if let Some((scale_up, scale_down)) = h.behavior {
                    self.spec.behavior = Some(Behavior { scale_up, scale_down });
                }
            }
            _ => return Err(unknown(key, Self::KEYS)),
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let both =
            "must be set together with fallback_failure_threshold and fallback_replicas (KEDA's fallback needs both)";
        match (self.fallback_failure_threshold, self.fallback_replicas) {
            (Some(_), None) => return Err(ConfigError::invalid("keda.fallback_replicas", &"unset", both)),
            (None, Some(_)) => return Err(ConfigError::invalid("keda.fallback_failure_threshold", &"unset", both)),
            (None, None) if self.fallback_behavior.is_some() => {
                let b = self.fallback_behavior.unwrap_or_default().as_str();
                return Err(ConfigError::invalid("keda.fallback_behavior", &format!("\"{b}\""), both));
            }
            _ => {}
        }
        self.spec.validate().map_err(|e| refused(&e))
    }

    fn to_toml(&self) -> Option<String> {
        // What is set is written (an unset field reads back unset), so that the table reads
        // back to equal settings.
        let s = &self.spec;
        let t = s.triggers.first().cloned().unwrap_or_default();
        let mut parts: Vec<String> = Vec::new();
        let durations = [
            ("polling_interval", s.polling_interval),
            ("cooldown_period", s.cooldown_period),
            ("initial_cooldown_period", s.initial_cooldown_period),
        ];
        for (k, v) in durations {
            if let Some(d) = v {
                parts.push(format!("{k} = {d}"));
            }
        }
        let counts = [
            ("min_replica_count", s.min_replica_count),
            ("max_replica_count", s.max_replica_count),
            ("idle_replica_count", s.idle_replica_count),
            ("fallback_failure_threshold", self.fallback_failure_threshold),
            ("fallback_replicas", self.fallback_replicas),
        ];
        for (k, v) in counts {
            if let Some(n) = v {
                parts.push(format!("{k} = {n}"));
            }
        }
        if let Some(b) = self.fallback_behavior {
            parts.push(format!("fallback_behavior = \"{}\"", b.as_str()));
        }
        parts.push(format!("metric_type = \"{}\"", t.metric_type.as_str()));
        parts.push(format!("threshold = {}", t.threshold));
        parts.push(format!("activation_threshold = {}", t.activation_threshold));
        parts.push(format!("paused = {}", s.annotations.is_paused()));
        parts.push(format!("tolerance_up = {}", self.tolerance.scale_up));
        parts.push(format!("tolerance_down = {}", self.tolerance.scale_down));
        parts.push(format!("downscale_stabilization_s = {}", self.downscale_stabilization));
        parts.push(format!("scale_up_limit_factor = {}", self.scale_up_limit_factor));
        if let Some(b) = &s.behavior {
            parts.push(format!(
                "behavior = {{ scaleUp = {}, scaleDown = {} }}",
                rules_toml(&b.scale_up),
                rules_toml(&b.scale_down)
            ));
        }
        Some(format!("{{ {} }}", parts.join(", ")))
    }

    fn uses_cooldown(&self) -> bool {
        false
    }

    fn observe(&self, ctx: &Ctx<'_>, st: &mut KedaState) {
        let ts = ctx.window.newest().timestamp.0;
        st.fresh = st.seen_ts.is_none_or(|s| ts > s);
        st.seen_ts = Some(ts);
        // The object is created at the first decision (initialCooldownPeriod counts from it).
        st.status.created_at.get_or_insert(ctx.now);
        // A new decision replaces any pending one: forget what the previous one would commit.
        st.pending_last_active = None;
        st.hpa_decided = false;
    }

    fn decide(&self, ctx: &Ctx<'_>, st: &mut KedaState) -> Verdict {
        let spec = &self.spec;
        let now = ctx.now;
        let newest = ctx.window.newest();
        let n = i64::from(newest.current_workers);
        let current = i32::try_from(newest.current_workers).unwrap_or(i32::MAX);
        let ready_u = newest.ready_workers();
        let ready = i32::try_from(ready_u).unwrap_or(i32::MAX);
        if spec.annotations.is_paused() {
            // KEDA removes the HPA of a paused object: nothing scales.
            return Verdict::new(n, Reason::KedaPaused);
        }
        if st.next_poll.is_none_or(|t| now.0 >= t) {
            st.next_poll = Some(now.0.saturating_add(spec.polling_interval().as_ms()));
            #[allow(clippy::cast_precision_loss)]
            let tasks = newest.pending_tasks.saturating_add(newest.running_tasks) as f64;
            let reading = st.fresh.then_some(tasks);
            match keda::poll(spec, &mut st.status, now, &[reading], current, ready) {
                Ok(p) => {
                    st.served_m = p.triggers.first().and_then(|t| t.served_m);
                    st.fallback_active = p.fallback_active();
                    st.inactive = match p.scale.branch {
                        b @ (Branch::Cooldown
                        | Branch::Idle
                        | Branch::AwaitingFallback
                        | Branch::TriggerError
                        | Branch::PartialTriggerError) => Some(branch_reason(b)),
                        _ => None,
                    };
                    if let Some(to) = p.scale.set_replicas {
                        if p.scale.branch == Branch::Activate {
                            st.pending_last_active = p.scale.last_active_time;
                        }
                        return Verdict::new(to, branch_reason(p.scale.branch));
                    }
                }
                // One reading for the one trigger: not reached; hold as for a failed metric.
                Err(_) => return Verdict::new(n, Reason::KedaTriggerError),
            }
        }
        if n == 0 {
            // The HPA does not act at zero replicas; only the next poll can activate.
            return Verdict::new(0, st.inactive.unwrap_or(Reason::KedaIdle));
        }
        let hspec = spec.hpa();
        let reading = st.served_m.map_or(HpaReading::Invalid, HpaReading::Served);
        let (proposal, valid) = hspec.proposal(n, i64::from(ready_u), &[reading], self.tolerance);
        if !valid {
            // No metric: the HPA cannot compute and keeps the count.
            let waiting = spec.fallback.is_some_and(|f| f.replicas != 0);
            return Verdict::new(n, if waiting { Reason::KedaAwaitingFallback } else { Reason::KedaTriggerError });
        }
        let (min, max) = (i64::from(hspec.min_replicas), i64::from(hspec.max_replicas));
        let recs: Vec<Recommendation> = st
            .hpa
            .recommendations
            .iter()
            .map(|&(t, r)| Recommendation { age_ms: now.0.saturating_sub(t), replicas: r })
            .collect();
        let events = |v: &VecDeque<(u64, i64)>| -> Vec<ScaleEvent> {
            v.iter().map(|&(t, r)| ScaleEvent { age_ms: now.0.saturating_sub(t), replicas: r }).collect()
        };
        let (desired, cond) = match &hspec.behavior {
            Some(b) => {
                let (up, down) = (&b.scale_up, &b.scale_down);
                let (stab, stab_reason) =
                    hpa::stabilize(n, proposal, &recs, up.stabilization_window_ms, down.stabilization_window_ms);
                let (d, cond) = hpa::rate_limit(
                    n,
                    stab,
                    min,
                    max,
                    up,
                    down,
                    &events(&st.hpa.up_events),
                    &events(&st.hpa.down_events),
                );
                (d, if cond == "DesiredWithinRange" && stab != proposal { stab_reason } else { cond })
            }
            None => {
                let stab = hpa::stabilize_legacy(proposal, &recs, self.downscale_stabilization.as_ms());
                let (d, cond) = hpa::legacy_limit(n, stab, min, max, self.scale_up_limit_factor);
                (d, if cond == "DesiredWithinRange" && stab != proposal { "ScaleDownStabilized" } else { cond })
            }
        };
        let mut reason = Reason::from_code(cond).unwrap_or(Reason::DesiredWithinRange);
        if st.fallback_active && reason == Reason::DesiredWithinRange {
            reason = Reason::KedaFallback;
        } else if desired == n {
            if let Some(r) = st.inactive {
                reason = r;
            }
        }
        st.hpa_decided = desired != n;
        // Remember the recommendation; forget what no window or period can still see.
        st.hpa.recommendations.push_back((now.0, proposal));
        let horizon = match &hspec.behavior {
            Some(b) => b.scale_up.stabilization_window_ms.max(b.scale_down.stabilization_window_ms),
            None => self.downscale_stabilization.as_ms(),
        }
        .saturating_add(1);
        while st.hpa.recommendations.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) > horizon) {
            st.hpa.recommendations.pop_front();
        }
        let period = hspec.behavior.as_ref().map_or(0, |b| {
            b.scale_up.policies.iter().chain(&b.scale_down.policies).map(|p| p.period_ms).max().unwrap_or(0)
        });
        for ev in [&mut st.hpa.up_events, &mut st.hpa.down_events] {
            while ev.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) >= period) {
                ev.pop_front();
            }
        }
        Verdict::new(desired, reason)
    }

    fn on_applied(&self, st: &mut KedaState, at: TimeMs, from: u32, to: u32) {
        if let Some(t) = st.pending_last_active.take() {
            // The activation's scale write succeeded: KEDA stores lastActiveTime now.
            st.status.last_active_time = Some(t);
            return;
        }
        if !st.hpa_decided {
            // The executor's writes are not the HPA's scale events.
            return;
        }
        match to.cmp(&from) {
            core::cmp::Ordering::Greater => st.hpa.up_events.push_back((at.0, i64::from(to - from))),
            core::cmp::Ordering::Less => st.hpa.down_events.push_back((at.0, i64::from(from - to))),
            core::cmp::Ordering::Equal => {}
        }
    }
}

/// The `keda` policy's memory: the ScaledObject's status, the poll schedule, the metric
/// served at the last poll, and the HPA's recommendations and scale events.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KedaState {
    /// The ScaledObject's status (creation at the first decision, `lastActiveTime`, health).
    pub status: ScaledObjectStatus,
    /// When the next poll is due, ms (`None`: at the next decision).
    pub next_poll: Option<u64>,
    /// The newest observation's timestamp at the previous decision, ms.
    pub seen_ts: Option<u64>,
    /// This decision's observation is new (not the previous decision's).
    pub fresh: bool,
    /// The metric served to the HPA at the last poll, milli-tasks (`None`: in error).
    pub served_m: Option<i64>,
    /// The fallback served it.
    pub fallback_active: bool,
    /// The last poll found the object inactive with nothing to write: `keda_cooldown`,
    /// `keda_idle`, `keda_awaiting_fallback` or `keda_trigger_error`, reported while the HPA
    /// holds (or at zero, where the HPA does not act).
    pub inactive: Option<Reason>,
    /// The `lastActiveTime` an activation stores once it is applied.
    pub pending_last_active: Option<TimeMs>,
    /// The HPA (not the executor) decided this decision's scaling.
    pub hpa_decided: bool,
    /// The HPA's recommendations and scale events.
    pub hpa: HpaState,
}
