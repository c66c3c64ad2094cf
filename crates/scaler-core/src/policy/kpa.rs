//! Knative's Pod Autoscaler (KPA) as a policy: one revision whose in-flight requests are the
//! tasks in the system, scaled by the KPA's decider and reconciler. The arithmetic is
//! [`crate::kpa`]'s (checked by `scaler-sim conformance kpa`).
//!
//! Settings are Knative's own: `[scaler.kpa]` takes the `config-autoscaler` ConfigMap's keys
//! bare (`"stable-window" = "60s"`), a revision's annotations with their prefix
//! (`"autoscaling.knative.dev/target" = "10"`, `"serving.knative.dev/progress-deadline"`),
//! plus the revision's `container-concurrency` (`containerConcurrency`) and
//! `config-deployment`'s `progress-deadline`. Values are read as Knative reads the
//! ConfigMap's strings ([`Config::from_map`], [`Annotations::from_map`]): a string as written,
//! a TOML number or boolean as its text (so a duration needs its unit, `"30s"`); errors name
//! the key, the value and the rule.
//!
//! Each decision is one KPA autoscaler tick and one PodAutoscaler reconcile:
//!
//! 1. **The collector** ([`Policy::observe`], so that it runs whatever decides): the metric is
//!    the concurrency `pending + running` tasks, which Knative scrapes once a second. Each
//!    new observation is recorded into its second's bucket, and every second since the
//!    previous observation holds the previous value (sample and hold), so that the windows'
//!    linear averages do not count the seconds between observations as zeros. A second holds
//!    one value (the first observation within it; a later one is held from the next second).
//! 2. **The decider** ([`DeciderState::scale`]) on the stable and panic windows' averages and
//!    the ready workers; created at the first decision with the ready workers then (more than
//!    one starts it in panic, as a restarted autoscaler). Without data for a stable window the
//!    previous count stands.
//! 3. **The reconciler** ([`reconcile_scale`]) on the decider's count, with the PodAutoscaler's
//!    `Active` condition, initialization and the activator's mode kept in the state and
//!    updated afterwards as Knative does ([`sks_mode`], [`active_threshold`],
//!    [`active_condition`]); the activator probe succeeds when the activator is in the path.
//!
//! An applied count is the verdict; otherwise the pool holds. The seed's cooldown does not
//! apply (the KPA has its own rate limits and windows); `min_workers`/`max_workers` stay the
//! pool's hard bounds around `min-scale`/`max-scale`: set `min_workers = 0` to let the KPA
//! scale to zero. Knative ticks every 2 s ([`crate::kpa::TICK_INTERVAL`]): use
//! `evaluation_interval = 2` for its dynamics.
//!
//! Only the `concurrency` metric is supported: `rps` needs the requests arrived each second,
//! which observations do not carry, and is refused.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::kpa::{
    self, active_condition, active_threshold, go, make_decider, metric_windows, reconcile_scale, sks_mode,
    ActiveStatus, Annotations, Bound, Collector, Config, DeciderSpec, DeciderState, DeciderStatus, Metric,
    MetricWindows, PaStatus, Reachability, Revision, ScaleBranch, ScaleReason, SksMode,
};
use crate::policy::{Ctx, Policy, Verdict};
use crate::units::{DurationMs, TimeMs};

/// The prefix of a revision's autoscaling annotations.
const AUTOSCALING: &str = "autoscaling.knative.dev/";
/// The progress deadline's annotation.
const PROGRESS_ANNOTATION: &str = "serving.knative.dev/progress-deadline";
/// `config-deployment`'s default `progress-deadline`.
const DEFAULT_PROGRESS_DEADLINE: DurationMs = DurationMs(600_000);
/// Knative's largest `containerConcurrency`.
const MAX_CONTAINER_CONCURRENCY: u32 = 1000;

/// Settings of the `kpa` policy (`[scaler.kpa]`): Knative's keys and their values as written,
/// and what Knative derives from them.
#[derive(Clone, Debug, PartialEq)]
pub struct KpaConfig {
    /// The keys set and their values as text, as a ConfigMap and annotations hold them.
    entries: BTreeMap<String, String>,
    /// The settings they read to.
    parsed: Box<Parsed>,
}

/// What the entries read to.
#[derive(Clone, Debug, PartialEq)]
struct Parsed {
    config: Config,
    revision: Revision,
    progress_deadline: DurationMs,
    spec: DeciderSpec,
    windows: MetricWindows,
}

impl Default for KpaConfig {
    fn default() -> KpaConfig {
        let entries = BTreeMap::new();
        let parsed = parse(&entries).unwrap_or_else(|_| unreachable!("Knative's defaults are valid"));
        KpaConfig { entries, parsed: Box::new(parsed) }
    }
}

/// Reads the entries as Knative would: the ConfigMap's keys, the annotations, the revision's
/// `containerConcurrency` and `config-deployment`'s `progress-deadline`.
fn parse(entries: &BTreeMap<String, String>) -> Result<Parsed, ConfigError> {
    let prefixed = |e: ConfigError| e.prefixed("kpa.");
    let config =
        Config::from_map(entries.iter().filter(|(k, _)| kpa::CONFIG_KEYS.contains(&k.as_str()))).map_err(prefixed)?;
    let annotations =
        Annotations::from_map(entries.iter().filter(|(k, _)| k.starts_with(AUTOSCALING) || *k == PROGRESS_ANNOTATION))
            .map_err(|e| match e {
                // A rule between two annotations names the bare annotation.
                ConfigError::Invalid { key, value, rule } if !key.contains('/') => {
                    ConfigError::Invalid { key: format!("{AUTOSCALING}{key}"), value, rule }
                }
                e => e,
            })
            .map_err(prefixed)?;
    let container_concurrency = match entries.get("container-concurrency") {
        None => 0,
        Some(raw) => go::parse_int32(raw)
            .ok()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n <= MAX_CONTAINER_CONCURRENCY)
            .ok_or_else(|| {
                ConfigError::invalid(
                    "kpa.container-concurrency",
                    &format!("{raw:?}"),
                    "must be a whole number from 0 (unlimited) to 1000",
                )
            })?,
    };
    let progress_deadline = match entries.get("progress-deadline") {
        None => DEFAULT_PROGRESS_DEADLINE,
        Some(raw) => match go::parse_duration(raw) {
            Ok(d) if d.as_nanos() > 0 => d.to_ms_ceil(),
            _ => {
                return Err(ConfigError::invalid(
                    "kpa.progress-deadline",
                    &format!("{raw:?}"),
                    "must be a Go duration > 0 such as \"600s\"",
                ))
            }
        },
    };
    if annotations.metric == Some(Metric::Rps) {
        return Err(ConfigError::invalid(
            "kpa.autoscaling.knative.dev/metric",
            &"\"rps\"",
            "rps needs the requests arrived each second, which observations do not carry; \
             only \"concurrency\" (pending + running tasks) is supported",
        ));
    }
    let revision = Revision { annotations, container_concurrency, reachability: Reachability::Reachable };
    let windows = metric_windows(&config, &revision.annotations);
    let algorithm = revision.annotations.metric_aggregation_algorithm.unwrap_or_default();
    if Collector::new(algorithm, windows).is_err() {
        return Err(ConfigError::invalid(
            "kpa.stable-window",
            &format!("{}", windows.stable),
            "the metric windows must be positive and at most 12 days",
        ));
    }
    let spec = make_decider(&config, &revision);
    Ok(Parsed { config, revision, progress_deadline, spec, windows })
}

/// Every key of the table.
const KEYS: &[&str] = &[
    "enable-scale-to-zero",
    "container-concurrency-target-percentage",
    "container-concurrency-target-default",
    "requests-per-second-target-default",
    "max-scale-up-rate",
    "max-scale-down-rate",
    "target-burst-capacity",
    "panic-window-percentage",
    "activator-capacity",
    "panic-threshold-percentage",
    "stable-window",
    "scale-to-zero-grace-period",
    "scale-to-zero-pod-retention-period",
    "scale-down-delay",
    "allow-zero-initial-scale",
    "initial-scale",
    "min-scale",
    "max-scale",
    "max-scale-limit",
    "container-concurrency",
    "progress-deadline",
    "autoscaling.knative.dev/metric",
    "autoscaling.knative.dev/metric-aggregation-algorithm",
    "autoscaling.knative.dev/target",
    "autoscaling.knative.dev/target-utilization-percentage",
    "autoscaling.knative.dev/target-burst-capacity",
    "autoscaling.knative.dev/window",
    "autoscaling.knative.dev/panic-window-percentage",
    "autoscaling.knative.dev/panic-threshold-percentage",
    "autoscaling.knative.dev/scale-down-delay",
    "autoscaling.knative.dev/initial-scale",
    "autoscaling.knative.dev/activation-scale",
    "autoscaling.knative.dev/min-scale",
    "autoscaling.knative.dev/max-scale",
    "autoscaling.knative.dev/scale-to-zero-pod-retention-period",
    "serving.knative.dev/progress-deadline",
];

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl KpaConfig {
    /// The value set for `key` (a key of the table), as text.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// The `config-autoscaler` settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.parsed.config
    }

    /// The revision (annotations, `containerConcurrency`).
    #[must_use]
    pub fn revision(&self) -> &Revision {
        &self.parsed.revision
    }

    /// The decider's spec.
    #[must_use]
    pub fn decider_spec(&self) -> &DeciderSpec {
        &self.parsed.spec
    }
}

impl Policy for KpaConfig {
    const NAME: &'static str = "kpa";
    const KEYS: &'static [&'static str] = KEYS;
    type State = KpaState;

    fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        if !KEYS.contains(&sub) {
            // An annotation's suggestion is among the annotations, on its name.
            let hint = match sub.strip_prefix(AUTOSCALING) {
                Some(name) => {
                    let names: Vec<&str> = KEYS.iter().filter_map(|k| k.strip_prefix(AUTOSCALING)).collect();
                    crate::config::suggest(name, &names).replacen('`', &format!("`{AUTOSCALING}"), 1)
                }
                None => crate::config::suggest(sub, KEYS),
            };
            return Err(ConfigError::UnknownKey { key: key.to_string(), hint });
        }
        let text = match v {
            ConfigValue::String(s) | ConfigValue::Number(s) => s.clone(),
            ConfigValue::Integer(i) => i.to_string(),
            ConfigValue::Float(x) => format!("{x}"),
            ConfigValue::Bool(b) => b.to_string(),
            ConfigValue::Table(_) | ConfigValue::Array(_) => {
                return Err(ConfigError::invalid(key, v, "must be a string, a number or a boolean, as in Knative"));
            }
        };
        self.entries.insert(sub.to_string(), text);
        // Rules between keys are checked once all are set (`validate`); keep the last
        // settings that read.
        if let Ok(p) = parse(&self.entries) {
            *self.parsed = p;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        parse(&self.entries).map(|_| ())
    }

    fn to_toml(&self) -> Option<String> {
        let parts: Vec<String> =
            self.entries.iter().map(|(k, v)| format!("{} = {}", toml_string(k), toml_string(v))).collect();
        Some(if parts.is_empty() { String::from("{}") } else { format!("{{ {} }}", parts.join(", ")) })
    }

    fn uses_cooldown(&self) -> bool {
        false
    }

    fn observe(&self, ctx: &Ctx<'_>, st: &mut KpaState) {
        let p = &self.parsed;
        let newest = ctx.window.newest();
        let algorithm = p.revision.annotations.metric_aggregation_algorithm.unwrap_or_default();
        if st.collector.as_ref().is_none_or(|c| {
            c.stable.window() != p.windows.stable
                || c.panic.window() != p.windows.panic
                || c.stable.algorithm() != algorithm
        }) {
            st.collector = Collector::new(algorithm, p.windows).ok();
            st.recorded = None;
        }
        let Some(c) = st.collector.as_mut() else { return };
        let ts = newest.timestamp;
        #[allow(clippy::cast_precision_loss)]
        let value = newest.pending_tasks.saturating_add(newest.running_tasks) as f64;
        let second = ts.0 / 1000;
        match st.recorded {
            Some((t, _)) if ts <= t => {}
            Some((t, _)) if second == t.0 / 1000 => {
                // One value a second, as one scrape: this second has its value; this one is
                // held from the next.
                st.recorded = Some((ts, value));
            }
            Some((t, held)) => {
                // The seconds between the previous observation's and this one's hold the
                // previous value (at most a stable window of them: older ones fall out).
                let window_s = p.windows.stable.0.div_ceil(1000);
                let from = (t.0 / 1000).saturating_add(1).max(second.saturating_sub(window_s));
                for s in from..second {
                    c.record(TimeMs(s.saturating_mul(1000)), held);
                }
                c.record(ts, value);
                st.recorded = Some((ts, value));
            }
            None => {
                c.record(ts, value);
                st.recorded = Some((ts, value));
            }
        }
    }

    fn decide(&self, ctx: &Ctx<'_>, st: &mut KpaState) -> Verdict {
        let p = &self.parsed;
        let now = ctx.now;
        let newest = ctx.window.newest();
        let n = newest.current_workers;
        let ready = newest.ready_workers();
        // The decider (created at the first decision, or anew when its spec changed).
        if st.spec.as_ref() != Some(&p.spec) || st.decider.is_none() {
            st.decider = Some(DeciderState::new(&p.spec, now, Some(ready)));
            st.status = Some(DeciderStatus::initial(&p.spec));
            st.spec = Some(p.spec);
        }
        let scraped = p.spec.target_burst_capacity != -1.0;
        let averages = st.collector.as_ref().and_then(|c| c.averages(now, scraped));
        let (Some(decider), Some(status)) = (st.decider.as_mut(), st.status.as_mut()) else {
            return Verdict::new(n, Reason::KpaNoMetrics);
        };
        let result = decider.scale(&p.spec, now, Some(ready), averages);
        *status = status.after(&result);
        let dc = *status;
        // The reconciler, on the PodAutoscaler as it stands.
        let since = |t: Option<TimeMs>| t.map_or(DurationMs::ZERO, |s| now.saturating_since(s));
        let active_since = *st.active_since.get_or_insert(now);
        let pa = PaStatus {
            active: st.active,
            active_for: since(Some(active_since)),
            scale_target_initialized: st.initialized,
            sks_mode: st.sks,
            proxy_for: (st.sks == SksMode::Proxy).then(|| since(st.proxy_since)),
        };
        let current = i32::try_from(n).unwrap_or(i32::MAX);
        let out = reconcile_scale(&p.config, p.progress_deadline, &p.revision, &pa, current, dc.desired_scale, || {
            st.sks == SksMode::Proxy
        });
        // The PodAutoscaler's status after the reconcile, as `kpa.go` computes it.
        let want = out.desired;
        let mode = sks_mode(want, dc.excess_burst_capacity, st.active);
        if mode != st.sks || (mode == SksMode::Proxy && st.proxy_since.is_none()) {
            st.proxy_since = (mode == SksMode::Proxy).then_some(now);
        }
        st.sks = mode;
        let min_ready = active_threshold(&p.config, &p.revision, st.initialized);
        let active = active_condition(st.active, want, ready, min_ready);
        if active != st.active {
            st.active = active;
            st.active_since = Some(now);
        }
        if i64::from(ready) >= i64::from(min_ready) {
            st.initialized = true;
        }
        let reason = reason_of(out.branch, out.bound, result.scale_valid.then_some(result.reason));
        if out.apply {
            Verdict::new(want, reason)
        } else {
            Verdict::new(n, reason)
        }
    }
}

/// The decision's reason: the reconciler's branch, the bound it applied, else the decider's
/// reason (`None`: this tick had no metrics).
fn reason_of(branch: ScaleBranch, bound: Bound, decider: Option<ScaleReason>) -> Reason {
    match branch {
        ScaleBranch::Scale => match (bound, decider) {
            (Bound::MinScale, _) => Reason::KpaMinScale,
            (Bound::InitialScale, _) => Reason::KpaInitialScale,
            (Bound::MaxScale, _) => Reason::KpaMaxScale,
            (Bound::None, Some(ScaleReason::Stable)) => Reason::KpaStable,
            (Bound::None, Some(ScaleReason::Panic)) => Reason::KpaPanic,
            (Bound::None, Some(ScaleReason::ScaleUpLimited)) => Reason::KpaScaleUpLimited,
            (Bound::None, Some(ScaleReason::ScaleDownLimited)) => Reason::KpaScaleDownLimited,
            (Bound::None, Some(ScaleReason::ActivationScale)) => Reason::KpaActivationScale,
            (Bound::None, Some(ScaleReason::ScaleDownDelayed)) => Reason::KpaScaleDownDelayed,
            (Bound::None, Some(ScaleReason::NoPodCount | ScaleReason::NoMetrics) | None) => Reason::KpaNoMetrics,
        },
        ScaleBranch::NoMetrics => Reason::KpaNoMetrics,
        ScaleBranch::ScaleToZeroDisabled => Reason::KpaScaleToZeroDisabled,
        ScaleBranch::Activating => Reason::KpaActivating,
        ScaleBranch::ActivationTimeout => Reason::KpaActivationTimeout,
        ScaleBranch::IdleWait => Reason::KpaIdleWait,
        ScaleBranch::Deactivating => Reason::KpaDeactivating,
        ScaleBranch::ProbeFailed => Reason::KpaProbeFailed,
        ScaleBranch::ScaleToZero | ScaleBranch::ScaleToZeroFastPath => Reason::KpaScaleToZero,
        ScaleBranch::PodRetention => Reason::KpaPodRetention,
        ScaleBranch::GracePeriod => Reason::KpaGracePeriod,
    }
}

/// The `kpa` policy's memory: the collector's windows, the decider and the PodAutoscaler's
/// status.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KpaState {
    /// The stable and panic windows of the concurrency, one bucket a second.
    pub collector: Option<Collector>,
    /// The newest observation recorded and its value (held until the next).
    pub recorded: Option<(TimeMs, f64)>,
    /// The spec the decider was made with.
    pub spec: Option<DeciderSpec>,
    /// The decider (panic mode, scale-down delay).
    pub decider: Option<DeciderState>,
    /// The decider's published count (-1 until its first valid tick) and excess burst capacity.
    pub status: Option<DeciderStatus>,
    /// The PodAutoscaler's `Active` condition (activating at creation).
    pub active: ActiveStatus,
    /// When it took that status.
    pub active_since: Option<TimeMs>,
    /// The scale target has reached its initial scale.
    pub initialized: bool,
    /// The activator's mode.
    pub sks: SksMode,
    /// Since when the activator is in the path.
    pub proxy_since: Option<TimeMs>,
}
