//! Policies beyond the seed's thresholds: Kubernetes HPA, AWS step scaling,
//! queue-based (KEDA, Ray, Dask) and predictive (Holt-Winters).
//!
//! Each is a pure function `(config, state, window, last scaling, now) -> (decision,
//! state)`: the state is passed in by value and returned, and is serializable, so nothing
//! is lost when a service restarts. All share the seed's rules 1 to 3 (no metrics,
//! below `min_workers`, above `max_workers`); the seed's cooldown (rule 4) applies to
//! `step`, `queue` and `predictive` and, for `hpa`, only with `respect_cooldown = true`
//! (HPA stabilizes with its windows instead).

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::config::{one_of, seconds, whole, ConfigError, ConfigValue, PolicyKind, ScalerConfig};
use crate::decision::{Action, Decision, Reason};
use crate::hpa::{self, PolicyType, RatePolicy, Recommendation, Rules, ScaleEvent, SelectPolicy, Tolerance};
use crate::threshold;
use crate::units::{DurationMs, Fixed9, TimeMs};
use crate::window::WindowSummary;

fn number(key: &str, v: &ConfigValue, min_exclusive: Option<f64>) -> Result<f64, ConfigError> {
    let t = v.number_text().ok_or_else(|| ConfigError::invalid(key, v, "must be a number"))?;
    let x: f64 = t.parse().map_err(|_| ConfigError::invalid(key, v, "must be a number"))?;
    if !x.is_finite() || x < 0.0 {
        return Err(ConfigError::invalid(key, v, "must be a finite number >= 0"));
    }
    if let Some(m) = min_exclusive {
        if x <= m {
            return Err(ConfigError::invalid(key, v, format!("must be > {m}")));
        }
    }
    Ok(x)
}

fn boolean(key: &str, v: &ConfigValue) -> Result<bool, ConfigError> {
    match v {
        ConfigValue::Bool(b) => Ok(*b),
        _ => Err(ConfigError::invalid(key, v, "must be true or false")),
    }
}

fn unknown(key: &str, known: &[&str]) -> ConfigError {
    let sub = key.rsplit('.').next().unwrap_or(key);
    ConfigError::UnknownKey { key: key.to_string(), hint: crate::config::suggest(sub, known) }
}

fn ceil_f(x: f64) -> i64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let t = x as i64;
    #[allow(clippy::cast_precision_loss)]
    if (t as f64) < x {
        t + 1
    } else {
        t
    }
}

fn decision(now: TimeMs, w: &WindowSummary, cfg: &ScalerConfig, target: i64, reason: Reason) -> Decision {
    let n = w.newest.current_workers;
    let target = u32::try_from(target.clamp(i64::from(cfg.min_workers()), i64::from(cfg.max_workers())))
        .unwrap_or(cfg.max_workers());
    let action = match target.cmp(&n) {
        core::cmp::Ordering::Greater => Action::ScaleUp,
        core::cmp::Ordering::Less => Action::ScaleDown,
        core::cmp::Ordering::Equal => Action::Hold,
    };
    Decision {
        at: now,
        action,
        target_workers: target,
        reason,
        window_utilization: Some(w.value(cfg.utilization_aggregate())),
        current_workers: n,
        pending_tasks: w.newest.pending_tasks,
    }
}

/// Rules 1 to 3 (and 4 when `cooldown`) of the seed, shared by every policy.
fn shared_rules(
    cfg: &ScalerConfig,
    w: Option<&WindowSummary>,
    last: Option<TimeMs>,
    now: TimeMs,
    cooldown: bool,
) -> Option<Decision> {
    let d = threshold::decide(cfg, w, last, now);
    match d.reason {
        Reason::NoMetrics | Reason::BelowMinWorkers | Reason::AboveMaxWorkers => Some(d),
        Reason::Cooldown if cooldown => Some(d),
        _ => None,
    }
}

// ---------------------------------------------------------------- hpa

/// What the `hpa` policy measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpaMetric {
    /// The window's worker utilization against `target_utilization_percent` (a Resource metric).
    Utilization,
    /// Tasks in the system (pending + running) per worker against `target_average_value`
    /// (an External metric with an AverageValue target, as KEDA feeds HPA).
    Queue,
}

/// Settings of the `hpa` policy (`[scaler.hpa]`).
#[derive(Clone, Debug, PartialEq)]
pub struct HpaConfig {
    /// The metric.
    pub metric: HpaMetric,
    /// Target utilization, percent.
    pub target_utilization_percent: i64,
    /// Target tasks per worker (for `metric = "queue"`), in milli-tasks.
    pub target_average_value_m: i64,
    /// Per-direction tolerance.
    pub tolerance: Tolerance,
    /// `behavior` (`None`: the legacy path without behavior).
    pub behavior: Option<(Rules, Rules)>,
    /// Legacy downscale stabilization window.
    pub downscale_stabilization: DurationMs,
    /// Legacy scale-up limit factor (Kubernetes: 2).
    pub scale_up_limit_factor: f64,
    /// Apply the seed's `cooldown_period` too.
    pub respect_cooldown: bool,
}

impl Default for HpaConfig {
    fn default() -> Self {
        HpaConfig {
            metric: HpaMetric::Utilization,
            target_utilization_percent: 80,
            target_average_value_m: 1000,
            tolerance: Tolerance::default(),
            behavior: None,
            downscale_stabilization: DurationMs::from_secs(300),
            scale_up_limit_factor: 2.0,
            respect_cooldown: false,
        }
    }
}

const HPA_KEYS: &[&str] = &[
    "metric",
    "target_utilization_percent",
    "target_average_value",
    "tolerance",
    "tolerance_up",
    "tolerance_down",
    "behavior",
    "downscale_stabilization_s",
    "scale_up_limit_factor",
    "respect_cooldown",
];

fn rules_from(key: &str, v: &ConfigValue, mut rules: Rules) -> Result<Rules, ConfigError> {
    let ConfigValue::Table(t) = v else {
        return Err(ConfigError::invalid(
            key,
            v,
            "must be a table like { stabilizationWindowSeconds = 0, selectPolicy = \"Max\", policies = [...] }",
        ));
    };
    for (k, val) in t {
        let full = format!("{key}.{k}");
        match k.as_str() {
            "stabilizationWindowSeconds" => rules.stabilization_window_ms = seconds(&full, val, false)?.as_ms(),
            "selectPolicy" => {
                rules.select = one_of(
                    &full,
                    val,
                    &[("Max", SelectPolicy::Max), ("Min", SelectPolicy::Min), ("Disabled", SelectPolicy::Disabled)],
                )?;
            }
            "policies" => {
                let ConfigValue::Array(a) = val else { return Err(ConfigError::invalid(&full, val, "must be a list")) };
                rules.policies.clear();
                for (i, p) in a.iter().enumerate() {
                    let pk = format!("{full}[{i}]");
                    let ConfigValue::Table(pt) = p else {
                        return Err(ConfigError::invalid(
                            &pk,
                            p,
                            "must be { type = \"Pods\", value = 4, periodSeconds = 15 }",
                        ));
                    };
                    let get = |name: &str| {
                        pt.get(name).ok_or_else(|| ConfigError::invalid(&pk, p, format!("needs `{name}`")))
                    };
                    let kind = one_of(
                        &format!("{pk}.type"),
                        get("type")?,
                        &[("Pods", PolicyType::Pods), ("Percent", PolicyType::Percent)],
                    )?;
                    let value = i64::from(whole(&format!("{pk}.value"), get("value")?, "must be a whole number >= 1")?);
                    let period = seconds(&format!("{pk}.periodSeconds"), get("periodSeconds")?, true)?;
                    if value < 1 {
                        return Err(ConfigError::invalid(&format!("{pk}.value"), get("value")?, "must be >= 1"));
                    }
                    if let Some(extra) = pt.keys().find(|k| !["type", "value", "periodSeconds"].contains(&k.as_str())) {
                        return Err(unknown(&format!("{pk}.{extra}"), &["type", "value", "periodSeconds"]));
                    }
                    rules.policies.push(RatePolicy { kind, value, period_ms: period.as_ms() });
                }
            }
            _ => return Err(unknown(&full, &["stabilizationWindowSeconds", "selectPolicy", "policies"])),
        }
    }
    Ok(rules)
}

impl HpaConfig {
    pub(crate) fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "metric" => {
                self.metric = one_of(key, v, &[("utilization", HpaMetric::Utilization), ("queue", HpaMetric::Queue)])?
            }
            "target_utilization_percent" => {
                let p = whole(key, v, "must be a whole percent >= 1")?;
                if p < 1 {
                    return Err(ConfigError::invalid(key, v, "must be a whole percent >= 1"));
                }
                self.target_utilization_percent = i64::from(p);
            }
            "target_average_value" => {
                #[allow(clippy::cast_possible_truncation)]
                let m = (number(key, v, Some(0.0))? * 1000.0) as i64;
                self.target_average_value_m = m.max(1);
            }
            "tolerance" => {
                let t = number(key, v, None)?;
                self.tolerance = Tolerance { scale_up: t, scale_down: t };
            }
            "tolerance_up" => self.tolerance.scale_up = number(key, v, None)?,
            "tolerance_down" => self.tolerance.scale_down = number(key, v, None)?,
            "downscale_stabilization_s" => self.downscale_stabilization = seconds(key, v, false)?,
            "scale_up_limit_factor" => self.scale_up_limit_factor = number(key, v, Some(0.0))?,
            "respect_cooldown" => self.respect_cooldown = boolean(key, v)?,
            "behavior" => {
                let ConfigValue::Table(t) = v else {
                    return Err(ConfigError::invalid(key, v, "must be a table with scaleUp and/or scaleDown"));
                };
                let (mut up, mut down) = (Rules::default_up(), Rules::default_down());
                for (k, val) in t {
                    match k.as_str() {
                        "scaleUp" => up = rules_from(&format!("{key}.scaleUp"), val, up)?,
                        "scaleDown" => down = rules_from(&format!("{key}.scaleDown"), val, down)?,
                        _ => return Err(unknown(&format!("{key}.{k}"), &["scaleUp", "scaleDown"])),
                    }
                }
                self.behavior = Some((up, down));
            }
            _ => return Err(unknown(key, HPA_KEYS)),
        }
        Ok(())
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    pub(crate) fn to_toml(&self) -> String {
        let metric = match self.metric {
            HpaMetric::Utilization => "utilization",
            HpaMetric::Queue => "queue",
        };
        let rules = |r: &Rules| {
            let sel = match r.select {
                SelectPolicy::Max => "Max",
                SelectPolicy::Min => "Min",
                SelectPolicy::Disabled => "Disabled",
            };
            let pols: Vec<String> = r
                .policies
                .iter()
                .map(|p| {
                    let t = if p.kind == PolicyType::Pods { "Pods" } else { "Percent" };
                    format!("{{ type = \"{t}\", value = {}, periodSeconds = {} }}", p.value, DurationMs(p.period_ms))
                })
                .collect();
            format!(
                "{{ stabilizationWindowSeconds = {}, selectPolicy = \"{sel}\", policies = [{}] }}",
                DurationMs(r.stabilization_window_ms),
                pols.join(", ")
            )
        };
        let behavior = match &self.behavior {
            Some((u, d)) => format!(", behavior = {{ scaleUp = {}, scaleDown = {} }}", rules(u), rules(d)),
            None => String::new(),
        };
        format!(
            "{{ metric = \"{metric}\", target_utilization_percent = {}, target_average_value = {}, tolerance_up = {}, tolerance_down = {}, downscale_stabilization_s = {}, scale_up_limit_factor = {}, respect_cooldown = {}{behavior} }}",
            self.target_utilization_percent,
            Fixed9::from_units(u64::try_from(self.target_average_value_m).unwrap_or(0) * 1_000_000),
            self.tolerance.scale_up,
            self.tolerance.scale_down,
            self.downscale_stabilization,
            self.scale_up_limit_factor,
            self.respect_cooldown
        )
    }
}

/// The `hpa` policy's memory: past recommendations and scale events.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HpaState {
    /// `(time ms, recommended replicas)`.
    pub recommendations: VecDeque<(u64, i64)>,
    /// `(time ms, replicas added)`.
    pub up_events: VecDeque<(u64, i64)>,
    /// `(time ms, replicas removed)`.
    pub down_events: VecDeque<(u64, i64)>,
}

fn aged(now: TimeMs, v: &VecDeque<(u64, i64)>) -> (Vec<Recommendation>, Vec<ScaleEvent>) {
    let recs = v.iter().map(|&(t, r)| Recommendation { age_ms: now.0.saturating_sub(t), replicas: r }).collect();
    let evs = v.iter().map(|&(t, r)| ScaleEvent { age_ms: now.0.saturating_sub(t), replicas: r }).collect();
    (recs, evs)
}

/// The `hpa` policy.
#[must_use]
pub fn decide_hpa(
    cfg: &ScalerConfig,
    mut st: HpaState,
    w: Option<&WindowSummary>,
    last: Option<TimeMs>,
    now: TimeMs,
) -> (Decision, HpaState) {
    let h = cfg.hpa();
    if let Some(d) = shared_rules(cfg, w, last, now, h.respect_cooldown) {
        return (d, st);
    }
    let w = w.expect("shared_rules handles an empty window");
    let n = i64::from(w.newest.current_workers);
    let active = i64::try_from(w.newest.pending_tasks.saturating_add(w.newest.running_tasks)).unwrap_or(i64::MAX);
    let proposal = if n == 0 {
        i64::from(cfg.min_workers()).max(i64::from(active > 0))
    } else {
        match h.metric {
            HpaMetric::Utilization => {
                let ratio = w.value(cfg.utilization_aggregate()).to_f64() * 100.0 / h.target_utilization_percent as f64;
                #[allow(clippy::cast_precision_loss)]
                if h.tolerance.within(ratio) {
                    n
                } else {
                    ceil_f(ratio * n as f64)
                }
            }
            HpaMetric::Queue => {
                hpa::average_value_replicas(n, active.saturating_mul(1000), h.target_average_value_m, h.tolerance).0
            }
        }
    };
    let (recs, _) = aged(now, &st.recommendations);
    let (min, max) = (i64::from(cfg.min_workers()), i64::from(cfg.max_workers()));
    let (desired, reason) = match &h.behavior {
        Some((up, down)) => {
            let (stab, stab_reason) =
                hpa::stabilize(n, proposal, &recs, up.stabilization_window_ms, down.stabilization_window_ms);
            let (_, up_ev) = aged(now, &st.up_events);
            let (_, down_ev) = aged(now, &st.down_events);
            let (d, cond) = hpa::rate_limit(n, stab, min, max, up, down, &up_ev, &down_ev);
            (d, if cond == "DesiredWithinRange" && stab != proposal { stab_reason } else { cond })
        }
        None => {
            let stab = hpa::stabilize_legacy(proposal, &recs, h.downscale_stabilization.as_ms());
            let (d, cond) = hpa::legacy_limit(n, stab, min, max, h.scale_up_limit_factor);
            (d, if cond == "DesiredWithinRange" && stab != proposal { "ScaleDownStabilized" } else { cond })
        }
    };
    let reason = match reason {
        "ScaleUpLimit" => Reason::ScaleUpLimit,
        "ScaleDownLimit" => Reason::ScaleDownLimit,
        "TooManyReplicas" => Reason::TooManyReplicas,
        "TooFewReplicas" => Reason::TooFewReplicas,
        "ScaleUpStabilized" => Reason::ScaleUpStabilized,
        "ScaleDownStabilized" => Reason::ScaleDownStabilized,
        _ => Reason::DesiredWithinRange,
    };
    // Remember the recommendation; forget what no window or period can still see.
    st.recommendations.push_back((now.0, proposal));
    let horizon = match &h.behavior {
        Some((u, d)) => u.stabilization_window_ms.max(d.stabilization_window_ms),
        None => h.downscale_stabilization.as_ms(),
    } + 1;
    while st.recommendations.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) > horizon) {
        st.recommendations.pop_front();
    }
    let period = h
        .behavior
        .as_ref()
        .map_or(0, |(u, d)| u.policies.iter().chain(&d.policies).map(|p| p.period_ms).max().unwrap_or(0));
    for ev in [&mut st.up_events, &mut st.down_events] {
        while ev.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) >= period) {
            ev.pop_front();
        }
    }
    (decision(now, w, cfg, desired, reason), st)
}

/// Records a successful scaling from `from` to `to` workers at `at` (the rate limits' events).
#[must_use]
pub fn record_hpa(mut st: HpaState, at: TimeMs, from: u32, to: u32) -> HpaState {
    match to.cmp(&from) {
        core::cmp::Ordering::Greater => st.up_events.push_back((at.0, i64::from(to - from))),
        core::cmp::Ordering::Less => st.down_events.push_back((at.0, i64::from(from - to))),
        core::cmp::Ordering::Equal => {}
    }
    st
}

// ---------------------------------------------------------------- queue

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

impl QueueConfig {
    pub(crate) fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "tasks_per_worker" => {
                let n = whole(key, v, "must be a whole number >= 1")?;
                if n < 1 {
                    return Err(ConfigError::invalid(key, v, "must be >= 1"));
                }
                self.tasks_per_worker = n;
            }
            "target_drain_s" => self.target_drain = seconds(key, v, true)?,
            "activation_threshold" => {
                self.activation_threshold = u64::from(whole(key, v, "must be a whole number >= 0")?)
            }
            "idle_grace_s" => self.idle_grace = seconds(key, v, false)?,
            "scale_down_window_s" => self.scale_down_window = seconds(key, v, false)?,
            "utilization_target" => {
                let f = crate::config::fixed(key, v, "must be between 0 and 1")?;
                if f == Fixed9::ZERO || f > Fixed9::ONE {
                    return Err(ConfigError::invalid(key, v, "must be > 0 and <= 1"));
                }
                self.utilization_target = f;
            }
            _ => {
                return Err(unknown(
                    key,
                    &[
                        "tasks_per_worker",
                        "target_drain_s",
                        "activation_threshold",
                        "idle_grace_s",
                        "utilization_target",
                        "scale_down_window_s",
                    ],
                ))
            }
        }
        Ok(())
    }

    pub(crate) fn to_toml(&self) -> String {
        format!(
            "{{ tasks_per_worker = {}, target_drain_s = {}, activation_threshold = {}, idle_grace_s = {}, utilization_target = {}, scale_down_window_s = {} }}",
            self.tasks_per_worker,
            self.target_drain,
            self.activation_threshold,
            self.idle_grace,
            self.utilization_target,
            self.scale_down_window
        )
    }
}

/// The `queue` policy's memory: since when nothing was pending or running.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QueueState {
    /// Idle since (ms), if idle.
    pub idle_since: Option<u64>,
    /// Recent targets `(time ms, workers)` for the scale-down window.
    pub recent: VecDeque<(u64, i64)>,
}

/// The `queue` policy: enough workers to run what is running and drain the queue within
/// `target_drain_s` at the observed task duration (without a duration yet: one slot per
/// task), divided by `utilization_target` for headroom.
#[must_use]
pub fn decide_queue(
    cfg: &ScalerConfig,
    mut st: QueueState,
    w: Option<&WindowSummary>,
    last: Option<TimeMs>,
    now: TimeMs,
) -> (Decision, QueueState) {
    let q = cfg.queue();
    if let Some(wn) = w {
        let active = wn.newest.pending_tasks.saturating_add(wn.newest.running_tasks);
        st.idle_since = if active == 0 { Some(st.idle_since.unwrap_or(now.0)) } else { None };
    }
    if let Some(d) = shared_rules(cfg, w, last, now, true) {
        return (d, st);
    }
    let w = w.expect("shared_rules handles an empty window");
    let n = i64::from(w.newest.current_workers);
    let (p, r) = (w.newest.pending_tasks, w.newest.running_tasks);
    let active = p.saturating_add(r);
    let tpw = f64::from(q.tasks_per_worker);
    if n == 0 && active <= q.activation_threshold {
        return (decision(now, w, cfg, 0, Reason::BelowActivation), st);
    }
    if active == 0 {
        let idle_for = st.idle_since.map_or(0, |t| now.0.saturating_sub(t));
        if idle_for >= q.idle_grace.as_ms() {
            return (decision(now, w, cfg, 0, Reason::IdleScaleToZero), st);
        }
        return (decision(now, w, cfg, n, Reason::QueueMatched), st);
    }
    let avg_ms = w.newest.avg_task_duration.as_ms();
    #[allow(clippy::cast_precision_loss)]
    let need = if avg_ms > 0 {
        r as f64 / tpw + (p as f64 * avg_ms as f64) / (q.target_drain.as_ms() as f64 * tpw)
    } else {
        active as f64 / tpw
    };
    let raw = ceil_f(need / q.utilization_target.to_f64()).max(1);
    // Scale down only as far as the largest target of the window allows.
    st.recent.push_back((now.0, raw));
    while st.recent.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) >= q.scale_down_window.as_ms()) {
        st.recent.pop_front();
    }
    let held = st.recent.iter().map(|&(_, r)| r).max().unwrap_or(raw);
    let target = if raw < n { held.min(n) } else { raw };
    let reason = match target.cmp(&n) {
        core::cmp::Ordering::Greater => Reason::QueueBacklog,
        core::cmp::Ordering::Less => Reason::QueueShrink,
        core::cmp::Ordering::Equal => Reason::QueueMatched,
    };
    (decision(now, w, cfg, target, reason), st)
}

// ---------------------------------------------------------------- step

/// How a step adjustment is read (AWS `AdjustmentType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustmentType {
    /// Add or remove this many workers.
    ChangeInCapacity,
    /// Add or remove this percentage of the current workers.
    PercentChangeInCapacity,
    /// Set exactly this many workers.
    ExactCapacity,
}

/// One step: applies when `lower <= breach < upper` (breach = metric - alarm threshold).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepAdjustment {
    /// Lower bound of the breach (`None`: minus infinity).
    pub lower: Option<f64>,
    /// Upper bound of the breach (`None`: plus infinity).
    pub upper: Option<f64>,
    /// The adjustment.
    pub adjustment: i64,
}

/// Settings of the `step` policy (`[scaler.step]`).
#[derive(Clone, Debug, PartialEq)]
pub struct StepConfig {
    /// The scale-out alarm: utilization above this.
    pub upper_threshold: f64,
    /// The scale-in alarm: utilization below this.
    pub lower_threshold: f64,
    /// How adjustments are read.
    pub adjustment_type: AdjustmentType,
    /// Steps for the scale-out alarm (breach >= 0).
    pub scale_out: Vec<StepAdjustment>,
    /// Steps for the scale-in alarm (breach < 0).
    pub scale_in: Vec<StepAdjustment>,
    /// For percent adjustments: change at least this many workers.
    pub min_adjustment_magnitude: i64,
    /// New workers count as capacity but are not added again until warm.
    pub warmup: DurationMs,
}

impl Default for StepConfig {
    fn default() -> Self {
        StepConfig {
            upper_threshold: 0.8,
            lower_threshold: 0.3,
            adjustment_type: AdjustmentType::ChangeInCapacity,
            scale_out: alloc::vec![
                StepAdjustment { lower: Some(0.0), upper: Some(0.1), adjustment: 1 },
                StepAdjustment { lower: Some(0.1), upper: None, adjustment: 3 },
            ],
            scale_in: alloc::vec![StepAdjustment { lower: None, upper: Some(0.0), adjustment: -1 }],
            min_adjustment_magnitude: 0,
            warmup: DurationMs::ZERO,
        }
    }
}

fn steps_from(key: &str, v: &ConfigValue) -> Result<Vec<StepAdjustment>, ConfigError> {
    let ConfigValue::Array(a) = v else {
        return Err(ConfigError::invalid(key, v, "must be a list like [{ lower = 0, upper = 0.1, adjustment = 1 }]"));
    };
    let mut out = Vec::new();
    for (i, s) in a.iter().enumerate() {
        let k = format!("{key}[{i}]");
        let ConfigValue::Table(t) = s else {
            return Err(ConfigError::invalid(&k, s, "must be { lower = ..., upper = ..., adjustment = ... }"));
        };
        let bound = |name: &str| -> Result<Option<f64>, ConfigError> {
            match t.get(name) {
                None => Ok(None),
                Some(val) => {
                    let text = val
                        .number_text()
                        .ok_or_else(|| ConfigError::invalid(&format!("{k}.{name}"), val, "must be a number"))?;
                    text.parse()
                        .map(Some)
                        .map_err(|_| ConfigError::invalid(&format!("{k}.{name}"), val, "must be a number"))
                }
            }
        };
        let adj = t.get("adjustment").ok_or_else(|| ConfigError::invalid(&k, s, "needs `adjustment`"))?;
        let adjustment: i64 = adj
            .number_text()
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| ConfigError::invalid(&format!("{k}.adjustment"), adj, "must be a whole number"))?;
        if let Some(extra) = t.keys().find(|x| !["lower", "upper", "adjustment"].contains(&x.as_str())) {
            return Err(unknown(&format!("{k}.{extra}"), &["lower", "upper", "adjustment"]));
        }
        let (lower, upper) = (bound("lower")?, bound("upper")?);
        if let (Some(l), Some(u)) = (lower, upper) {
            if l >= u {
                return Err(ConfigError::invalid(&k, s, "lower must be below upper"));
            }
        }
        out.push(StepAdjustment { lower, upper, adjustment });
    }
    Ok(out)
}

impl StepConfig {
    pub(crate) fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "upper_threshold" => self.upper_threshold = number(key, v, None)?,
            "lower_threshold" => self.lower_threshold = number(key, v, None)?,
            "adjustment_type" => {
                self.adjustment_type = one_of(
                    key,
                    v,
                    &[
                        ("ChangeInCapacity", AdjustmentType::ChangeInCapacity),
                        ("PercentChangeInCapacity", AdjustmentType::PercentChangeInCapacity),
                        ("ExactCapacity", AdjustmentType::ExactCapacity),
                    ],
                )?;
            }
            "scale_out" => self.scale_out = steps_from(key, v)?,
            "scale_in" => self.scale_in = steps_from(key, v)?,
            "min_adjustment_magnitude" => {
                self.min_adjustment_magnitude = i64::from(whole(key, v, "must be a whole number >= 0")?)
            }
            "warmup_s" => self.warmup = seconds(key, v, false)?,
            _ => {
                return Err(unknown(
                    key,
                    &[
                        "upper_threshold",
                        "lower_threshold",
                        "adjustment_type",
                        "scale_out",
                        "scale_in",
                        "min_adjustment_magnitude",
                        "warmup_s",
                    ],
                ))
            }
        }
        Ok(())
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.lower_threshold >= self.upper_threshold {
            let v = ConfigValue::Number(format!("{}", self.lower_threshold));
            return Err(ConfigError::invalid(
                "step.lower_threshold",
                &v,
                format!("must be < step.upper_threshold ({})", self.upper_threshold),
            ));
        }
        Ok(())
    }

    pub(crate) fn to_toml(&self) -> String {
        let t = match self.adjustment_type {
            AdjustmentType::ChangeInCapacity => "ChangeInCapacity",
            AdjustmentType::PercentChangeInCapacity => "PercentChangeInCapacity",
            AdjustmentType::ExactCapacity => "ExactCapacity",
        };
        let steps = |v: &[StepAdjustment]| {
            let items: Vec<String> = v
                .iter()
                .map(|s| {
                    let mut parts = Vec::new();
                    if let Some(l) = s.lower {
                        parts.push(format!("lower = {l}"));
                    }
                    if let Some(u) = s.upper {
                        parts.push(format!("upper = {u}"));
                    }
                    parts.push(format!("adjustment = {}", s.adjustment));
                    format!("{{ {} }}", parts.join(", "))
                })
                .collect();
            format!("[{}]", items.join(", "))
        };
        format!(
            "{{ upper_threshold = {}, lower_threshold = {}, adjustment_type = \"{t}\", scale_out = {}, scale_in = {}, min_adjustment_magnitude = {}, warmup_s = {} }}",
            self.upper_threshold,
            self.lower_threshold,
            steps(&self.scale_out),
            steps(&self.scale_in),
            self.min_adjustment_magnitude,
            self.warmup
        )
    }
}

/// The `step` policy's memory: recent scale-outs, for the warm-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StepState {
    /// `(time ms, workers added)`.
    pub scale_outs: VecDeque<(u64, u64)>,
}

fn find_step(steps: &[StepAdjustment], breach: f64) -> Option<i64> {
    steps
        .iter()
        .find(|s| s.lower.is_none_or(|l| breach >= l) && s.upper.is_none_or(|u| breach < u))
        .map(|s| s.adjustment)
}

/// The AWS rounding of a percent change: |x| between 0 and 1 becomes 1; otherwise toward zero.
fn percent_change(n: i64, pct: i64, min_magnitude: i64) -> i64 {
    #[allow(clippy::cast_precision_loss)]
    let x = n as f64 * pct as f64 / 100.0;
    #[allow(clippy::cast_possible_truncation)]
    let mut c = if x > 0.0 && x < 1.0 {
        1
    } else if x < 0.0 && x > -1.0 {
        -1
    } else {
        x as i64
    };
    if min_magnitude > 0 && c != 0 && c.abs() < min_magnitude {
        c = c.signum() * min_magnitude;
    }
    c
}

/// The `step` policy: AWS step scaling on the window's utilization.
#[must_use]
pub fn decide_step(
    cfg: &ScalerConfig,
    mut st: StepState,
    w: Option<&WindowSummary>,
    last: Option<TimeMs>,
    now: TimeMs,
) -> (Decision, StepState) {
    let s = cfg.step();
    while st.scale_outs.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) >= s.warmup.as_ms()) {
        st.scale_outs.pop_front();
    }
    if let Some(d) = shared_rules(cfg, w, last, now, true) {
        return (d, st);
    }
    let w = w.expect("shared_rules handles an empty window");
    let n = i64::from(w.newest.current_workers);
    let u = w.value(cfg.utilization_aggregate()).to_f64();
    let (breach, steps, reason) = if u > s.upper_threshold {
        (u - s.upper_threshold, &s.scale_out, Reason::StepScaleOut)
    } else if u < s.lower_threshold {
        (u - s.lower_threshold, &s.scale_in, Reason::StepScaleIn)
    } else {
        return (decision(now, w, cfg, n, Reason::NoAlarm), st);
    };
    let Some(adj) = find_step(steps, breach) else {
        return (decision(now, w, cfg, n, Reason::NoAlarm), st);
    };
    let mut target = match s.adjustment_type {
        AdjustmentType::ChangeInCapacity => n + adj,
        AdjustmentType::PercentChangeInCapacity => n + percent_change(n, adj, s.min_adjustment_magnitude),
        AdjustmentType::ExactCapacity => adj,
    };
    if target > n {
        // Workers still warming up already count toward this step: add only the rest.
        let warming = i64::try_from(st.scale_outs.iter().map(|&(_, k)| k).sum::<u64>()).unwrap_or(i64::MAX);
        let wanted = target - n;
        if warming >= wanted {
            return (decision(now, w, cfg, n, Reason::WarmingUp), st);
        }
        target = n + (wanted - warming);
    }
    (decision(now, w, cfg, target, reason), st)
}

/// Records a successful scaling for the warm-up.
#[must_use]
pub fn record_step(mut st: StepState, at: TimeMs, from: u32, to: u32) -> StepState {
    if to > from {
        st.scale_outs.push_back((at.0, u64::from(to - from)));
    }
    st
}

// ---------------------------------------------------------------- predictive

/// Settings of the `predictive` policy (`[scaler.predictive]`).
#[derive(Clone, Debug, PartialEq)]
pub struct PredictiveConfig {
    /// The season (a day).
    pub season: DurationMs,
    /// How far ahead to forecast (about one provisioning delay).
    pub horizon: DurationMs,
    /// Level smoothing.
    pub alpha: f64,
    /// Trend smoothing.
    pub beta: f64,
    /// Seasonal smoothing.
    pub gamma: f64,
    /// Workers for a forecast demand `d`: `ceil(d / (target_utilization * tasks_per_worker))`.
    pub target_utilization: f64,
    /// Tasks a worker runs at once.
    pub tasks_per_worker: u32,
}

impl Default for PredictiveConfig {
    fn default() -> Self {
        PredictiveConfig {
            season: DurationMs::from_secs(86_400),
            horizon: DurationMs::from_secs(300),
            alpha: 0.3,
            beta: 0.01,
            gamma: 0.3,
            target_utilization: 0.7,
            tasks_per_worker: 1,
        }
    }
}

impl PredictiveConfig {
    pub(crate) fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        let unit = |x: f64| -> Result<f64, ConfigError> {
            if x > 1.0 {
                Err(ConfigError::invalid(key, v, "must be between 0 and 1"))
            } else {
                Ok(x)
            }
        };
        match sub {
            "season_s" => self.season = seconds(key, v, true)?,
            "horizon_s" => self.horizon = seconds(key, v, false)?,
            "alpha" => self.alpha = unit(number(key, v, None)?)?,
            "beta" => self.beta = unit(number(key, v, None)?)?,
            "gamma" => self.gamma = unit(number(key, v, None)?)?,
            "target_utilization" => self.target_utilization = unit(number(key, v, Some(0.0))?)?,
            "tasks_per_worker" => {
                let n = whole(key, v, "must be a whole number >= 1")?;
                if n < 1 {
                    return Err(ConfigError::invalid(key, v, "must be >= 1"));
                }
                self.tasks_per_worker = n;
            }
            _ => {
                return Err(unknown(
                    key,
                    &["season_s", "horizon_s", "alpha", "beta", "gamma", "target_utilization", "tasks_per_worker"],
                ))
            }
        }
        Ok(())
    }

    pub(crate) fn to_toml(&self) -> String {
        format!(
            "{{ season_s = {}, horizon_s = {}, alpha = {}, beta = {}, gamma = {}, target_utilization = {}, tasks_per_worker = {} }}",
            self.season, self.horizon, self.alpha, self.beta, self.gamma, self.target_utilization, self.tasks_per_worker
        )
    }
}

/// The `predictive` policy's memory: an additive Holt-Winters model of demand
/// (pending + running tasks) sampled at every decision.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PredictiveState {
    /// Level.
    pub level: f64,
    /// Trend per slot.
    pub trend: f64,
    /// Seasonal offsets, one per evaluation interval of the season.
    pub seasonal: Vec<f64>,
    /// Samples taken.
    pub samples: u64,
    /// The last forecast of demand `horizon` ahead.
    pub last_forecast: f64,
}

/// The `predictive` policy: the seed's thresholds (reactive), raised to what the forecast
/// demand one `horizon` ahead needs; it never scales in on a forecast alone.
#[must_use]
pub fn decide_predictive(
    cfg: &ScalerConfig,
    mut st: PredictiveState,
    w: Option<&WindowSummary>,
    last: Option<TimeMs>,
    now: TimeMs,
) -> (Decision, PredictiveState) {
    let p = cfg.predictive();
    let reactive = threshold::decide(cfg, w, last, now);
    let Some(wn) = w else { return (reactive, st) };
    // Update the model with this tick's demand.
    let interval = cfg.evaluation_interval().as_ms().max(1);
    let slots = usize::try_from((p.season.as_ms() / interval).max(1)).unwrap_or(1);
    if st.seasonal.len() != slots {
        st.seasonal = alloc::vec![0.0; slots];
        st.samples = 0;
    }
    let slot = usize::try_from((now.0 / interval) % slots as u64).unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let demand = wn.newest.pending_tasks.saturating_add(wn.newest.running_tasks) as f64;
    if st.samples == 0 {
        st.level = demand;
        st.trend = 0.0;
    } else {
        let prev = st.level;
        st.level = p.alpha * (demand - st.seasonal[slot]) + (1.0 - p.alpha) * (st.level + st.trend);
        st.trend = p.beta * (st.level - prev) + (1.0 - p.beta) * st.trend;
        st.seasonal[slot] = p.gamma * (demand - st.level) + (1.0 - p.gamma) * st.seasonal[slot];
    }
    st.samples += 1;
    let h = usize::try_from(p.horizon.as_ms().div_ceil(interval)).unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let forecast = (st.level + h as f64 * st.trend + st.seasonal[(slot + h) % slots]).max(0.0);
    st.last_forecast = forecast;
    // Until a whole season has been seen, the seasonal terms are unreliable: be reactive.
    if st.samples < slots as u64
        || matches!(
            reactive.reason,
            Reason::NoMetrics | Reason::BelowMinWorkers | Reason::AboveMaxWorkers | Reason::Cooldown
        )
    {
        return (reactive, st);
    }
    let needed = ceil_f(forecast / (p.target_utilization * f64::from(p.tasks_per_worker)));
    let n = i64::from(wn.newest.current_workers);
    let max = i64::from(cfg.max_workers());
    let needed = needed.min(max);
    let r = i64::from(reactive.target_workers);
    let d = match reactive.action {
        Action::ScaleUp | Action::Hold if needed > r.max(n) => decision(now, wn, cfg, needed, Reason::ForecastHigh),
        // Scaling in: never below what the forecast needs (and never on the forecast alone).
        Action::ScaleDown if needed > r => {
            let t = needed.min(n);
            if t == n {
                decision(now, wn, cfg, n, Reason::ForecastHigh)
            } else {
                decision(now, wn, cfg, t, reactive.reason)
            }
        }
        _ => reactive,
    };
    (d, st)
}

/// The state of whichever policy runs.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PolicyState {
    /// The threshold policy keeps no state beyond the cooldown.
    Threshold,
    /// `hpa`.
    Hpa(HpaState),
    /// `step`.
    Step(StepState),
    /// `queue`.
    Queue(QueueState),
    /// `predictive`.
    Predictive(PredictiveState),
}

impl PolicyState {
    /// A fresh state for `cfg`'s policy.
    #[must_use]
    pub fn new(cfg: &ScalerConfig) -> PolicyState {
        match cfg.policy() {
            PolicyKind::Threshold => PolicyState::Threshold,
            PolicyKind::Hpa => PolicyState::Hpa(HpaState::default()),
            PolicyKind::Step => PolicyState::Step(StepState::default()),
            PolicyKind::Queue => PolicyState::Queue(QueueState::default()),
            PolicyKind::Predictive => PolicyState::Predictive(PredictiveState::default()),
        }
    }
}

/// Decides with whichever policy `cfg` selects (the state must be of that policy; a
/// mismatched state is replaced by a fresh one).
#[must_use]
pub fn decide(
    cfg: &ScalerConfig,
    state: PolicyState,
    w: Option<&WindowSummary>,
    last: Option<TimeMs>,
    now: TimeMs,
) -> (Decision, PolicyState) {
    match (cfg.policy(), state) {
        (PolicyKind::Threshold, _) => (threshold::decide(cfg, w, last, now), PolicyState::Threshold),
        (PolicyKind::Hpa, PolicyState::Hpa(s)) => {
            let (d, s) = decide_hpa(cfg, s, w, last, now);
            (d, PolicyState::Hpa(s))
        }
        (PolicyKind::Step, PolicyState::Step(s)) => {
            let (d, s) = decide_step(cfg, s, w, last, now);
            (d, PolicyState::Step(s))
        }
        (PolicyKind::Queue, PolicyState::Queue(s)) => {
            let (d, s) = decide_queue(cfg, s, w, last, now);
            (d, PolicyState::Queue(s))
        }
        (PolicyKind::Predictive, PolicyState::Predictive(s)) => {
            let (d, s) = decide_predictive(cfg, s, w, last, now);
            (d, PolicyState::Predictive(s))
        }
        (_, _) => decide(cfg, PolicyState::new(cfg), w, last, now),
    }
}

/// Records a successful scaling from `from` to `to` workers at `at`.
#[must_use]
pub fn record(state: PolicyState, at: TimeMs, from: u32, to: u32) -> PolicyState {
    match state {
        PolicyState::Hpa(s) => PolicyState::Hpa(record_hpa(s, at, from, to)),
        PolicyState::Step(s) => PolicyState::Step(record_step(s, at, from, to)),
        other => other,
    }
}

/// The generic warm-up (`warmup_period`): a scale-up adds only what the `warming` workers
/// (added within the warm-up period) do not already cover; when they cover it all, hold.
/// Bound rules (`below_min_workers`) are not reduced.
#[must_use]
pub fn apply_warmup(mut d: Decision, warming: u32) -> Decision {
    if d.action != Action::ScaleUp || warming == 0 || d.reason == Reason::BelowMinWorkers {
        return d;
    }
    let wanted = d.target_workers - d.current_workers;
    if warming >= wanted {
        d.action = Action::Hold;
        d.target_workers = d.current_workers;
        d.reason = Reason::WarmingUp;
    } else {
        d.target_workers = d.current_workers + (wanted - warming);
    }
    d
}
