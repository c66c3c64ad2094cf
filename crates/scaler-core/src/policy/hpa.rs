//! Kubernetes' Horizontal Pod Autoscaler as a policy: the pool is the pods, its
//! utilization the Resource metric (or its backlog an External AverageValue metric), and
//! the sizing, stabilization and rate limits are [`crate::hpa`]'s arithmetic, the same
//! code that `scaler-sim conformance hpa` checks against Kubernetes' own test vectors.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::hpa::{
    self, PolicyType, RatePolicy, Recommendation, ResourceTotals, Rules, ScaleEvent, SelectPolicy, Tolerance,
};
use crate::policy::{Ctx, Policy, Verdict};
use crate::read::{boolean, float64, milli, one_of, seconds, table, unknown, whole_at_least};
use crate::units::{DurationMs, TimeMs};

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
    /// Per-direction tolerance (float64, as Kubernetes holds it).
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

/// A request of one worker in milli-units: a worker is one "CPU" of `slots_per_worker` slots.
const WORKER_REQUEST_M: i64 = 1000;

fn rules_from(key: &str, v: &ConfigValue, mut rules: Rules) -> Result<Rules, ConfigError> {
    let t = table(key, v, "{ stabilizationWindowSeconds = 0, selectPolicy = \"Max\", policies = [...] }")?;
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
                    let pt = table(&pk, p, "{ type = \"Pods\", value = 4, periodSeconds = 15 }")?;
                    let get = |name: &str| {
                        pt.get(name).ok_or_else(|| ConfigError::invalid(&pk, p, format!("needs `{name}`")))
                    };
                    let kind = one_of(
                        &format!("{pk}.type"),
                        get("type")?,
                        &[("Pods", PolicyType::Pods), ("Percent", PolicyType::Percent)],
                    )?;
                    let value = i64::from(whole_at_least(&format!("{pk}.value"), get("value")?, 1)?);
                    let period = seconds(&format!("{pk}.periodSeconds"), get("periodSeconds")?, true)?;
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

/// One direction of `behavior` as an inline TOML table (the shape `rules_from` reads).
pub(crate) fn rules_toml(r: &Rules) -> String {
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
}

impl Policy for HpaConfig {
    const NAME: &'static str = "hpa";
    const KEYS: &'static [&'static str] = &[
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
    type State = HpaState;

    fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "metric" => {
                self.metric = one_of(key, v, &[("utilization", HpaMetric::Utilization), ("queue", HpaMetric::Queue)])?;
            }
            "target_utilization_percent" => self.target_utilization_percent = i64::from(whole_at_least(key, v, 1)?),
            "target_average_value" => self.target_average_value_m = milli(key, v, true)?,
            "tolerance" => {
                let t = float64(key, v)?;
                self.tolerance = Tolerance { scale_up: t, scale_down: t };
            }
            "tolerance_up" => self.tolerance.scale_up = float64(key, v)?,
            "tolerance_down" => self.tolerance.scale_down = float64(key, v)?,
            "downscale_stabilization_s" => self.downscale_stabilization = seconds(key, v, false)?,
            "scale_up_limit_factor" => {
                let f = float64(key, v)?;
                if f <= 0.0 {
                    return Err(ConfigError::invalid(key, v, "must be > 0"));
                }
                self.scale_up_limit_factor = f;
            }
            "respect_cooldown" => self.respect_cooldown = boolean(key, v)?,
            "behavior" => {
                let t = table(key, v, "{ scaleUp = { ... }, scaleDown = { ... } }")?;
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
            _ => return Err(unknown(key, Self::KEYS)),
        }
        Ok(())
    }

    fn to_toml(&self) -> Option<String> {
        let metric = match self.metric {
            HpaMetric::Utilization => "utilization",
            HpaMetric::Queue => "queue",
        };
        let rules = rules_toml;
        let behavior = match &self.behavior {
            Some((u, d)) => format!(", behavior = {{ scaleUp = {}, scaleDown = {} }}", rules(u), rules(d)),
            None => String::new(),
        };
        Some(format!(
            "{{ metric = \"{metric}\", target_utilization_percent = {}, target_average_value = {}, tolerance_up = {}, tolerance_down = {}, downscale_stabilization_s = {}, scale_up_limit_factor = {}, respect_cooldown = {}{behavior} }}",
            self.target_utilization_percent,
            milli_text(self.target_average_value_m),
            self.tolerance.scale_up,
            self.tolerance.scale_down,
            self.downscale_stabilization,
            self.scale_up_limit_factor,
            self.respect_cooldown
        ))
    }

    fn uses_cooldown(&self) -> bool {
        self.respect_cooldown
    }

    fn decide(&self, ctx: &Ctx<'_>, st: &mut HpaState) -> Verdict {
        let cfg = ctx.config;
        let w = ctx.window;
        let now = ctx.now;
        let newest = w.newest();
        let n = i64::from(newest.current_workers);
        let active = i64::try_from(newest.pending_tasks.saturating_add(newest.running_tasks)).unwrap_or(i64::MAX);
        let proposal = if n == 0 {
            // HPA never scales from zero by itself; KEDA's activation does: one worker for work.
            i64::from(cfg.min_workers()).max(i64::from(active > 0))
        } else {
            match self.metric {
                HpaMetric::Utilization => {
                    // The pool as HPA sees its pods: ready workers are ready pods requesting
                    // 1000m each, using their exact share of the aggregate utilization; workers
                    // still starting are unready pods (Pending: no sample).
                    let ready = i64::from(newest.ready_workers());
                    let usage = w.floor_scaled(cfg.utilization_aggregate(), u128::from(newest.ready_workers()) * 1000);
                    let totals = ResourceTotals {
                        ready_count: ready,
                        ready_usage_m: i64::try_from(usage).unwrap_or(i64::MAX),
                        ready_request_m: ready.saturating_mul(WORKER_REQUEST_M),
                        unready_count: n - ready,
                        unready_request_m: (n - ready).saturating_mul(WORKER_REQUEST_M),
                        ..ResourceTotals::default()
                    };
                    match hpa::resource_replicas_from_totals(
                        n,
                        self.target_utilization_percent,
                        self.tolerance,
                        &totals,
                    ) {
                        Ok(r) => r.replicas,
                        // No ready pod has a sample: HPA cannot compute and keeps the count.
                        Err(_) => return Verdict::new(n, Reason::FailedGetResourceMetric),
                    }
                }
                HpaMetric::Queue => {
                    hpa::average_value_replicas(
                        n,
                        active.saturating_mul(1000),
                        self.target_average_value_m,
                        self.tolerance,
                    )
                    .0
                }
            }
        };
        let (recs, _) = aged(now, &st.recommendations);
        let (min, max) = (i64::from(cfg.min_workers()), i64::from(cfg.max_workers()));
        let (desired, reason) = match &self.behavior {
            Some((up, down)) => {
                let (stab, stab_reason) =
                    hpa::stabilize(n, proposal, &recs, up.stabilization_window_ms, down.stabilization_window_ms);
                let (_, up_ev) = aged(now, &st.up_events);
                let (_, down_ev) = aged(now, &st.down_events);
                let (d, cond) = hpa::rate_limit(n, stab, min, max, up, down, &up_ev, &down_ev);
                (d, if cond == "DesiredWithinRange" && stab != proposal { stab_reason } else { cond })
            }
            None => {
                let stab = hpa::stabilize_legacy(proposal, &recs, self.downscale_stabilization.as_ms());
                let (d, cond) = hpa::legacy_limit(n, stab, min, max, self.scale_up_limit_factor);
                (d, if cond == "DesiredWithinRange" && stab != proposal { "ScaleDownStabilized" } else { cond })
            }
        };
        let reason = Reason::from_code(reason).unwrap_or(Reason::DesiredWithinRange);
        // Remember the recommendation; forget what no window or period can still see.
        st.recommendations.push_back((now.0, proposal));
        let horizon = match &self.behavior {
            Some((u, d)) => u.stabilization_window_ms.max(d.stabilization_window_ms),
            None => self.downscale_stabilization.as_ms(),
        }
        .saturating_add(1);
        while st.recommendations.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) > horizon) {
            st.recommendations.pop_front();
        }
        let period = self
            .behavior
            .as_ref()
            .map_or(0, |(u, d)| u.policies.iter().chain(&d.policies).map(|p| p.period_ms).max().unwrap_or(0));
        for ev in [&mut st.up_events, &mut st.down_events] {
            while ev.front().is_some_and(|&(t, _)| now.0.saturating_sub(t) >= period) {
                ev.pop_front();
            }
        }
        Verdict::new(desired, reason)
    }

    fn on_applied(&self, st: &mut HpaState, at: TimeMs, from: u32, to: u32) {
        match to.cmp(&from) {
            core::cmp::Ordering::Greater => st.up_events.push_back((at.0, i64::from(to - from))),
            core::cmp::Ordering::Less => st.down_events.push_back((at.0, i64::from(from - to))),
            core::cmp::Ordering::Equal => {}
        }
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

/// Thousandths as exact decimal text (`1500` is `1.5`), for any `i64`.
fn milli_text(m: i64) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    let (whole, frac) = (a / 1000, a % 1000);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{frac:03}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}
