//! The `config-autoscaler` ConfigMap ([`Config`]) and a revision's `autoscaling.knative.dev/`
//! annotations ([`Annotations`]), read from their string maps with Knative's key names,
//! defaults, readers ([`go`](super::go)) and validation.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::go::{self, GoDuration, GoParseError};
use super::{Algorithm, Metric};
use crate::config::ConfigError;
use crate::units::DurationMs;

/// The cluster-wide autoscaler settings (`config-autoscaler`), as Knative holds them.
///
/// [`Config::from_map`] reads and validates a ConfigMap's data. A `Config` built by hand
/// (for example a test's, which upstream does not validate either) is taken as it is:
/// every function in [`kpa`](super) is total over any values, finite or not.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// `enable-scale-to-zero` (default true).
    pub enable_scale_to_zero: bool,
    /// `container-concurrency-target-percentage` as a fraction in `(0, 1]` (default 0.7;
    /// the key's value is a percentage when > 1, a fraction otherwise).
    pub container_concurrency_target_fraction: f64,
    /// `container-concurrency-target-default` (default 100).
    pub container_concurrency_target_default: f64,
    /// The target utilization for `rps` (0.7; a constant upstream, not a key).
    pub target_utilization: f64,
    /// `requests-per-second-target-default` (default 200).
    pub rps_target_default: f64,
    /// `max-scale-up-rate` (default 1000).
    pub max_scale_up_rate: f64,
    /// `max-scale-down-rate` (default 2).
    pub max_scale_down_rate: f64,
    /// `target-burst-capacity` (default 211; -1 unlimited, 0 off).
    pub target_burst_capacity: f64,
    /// `panic-window-percentage` of the stable window (default 10).
    pub panic_window_percentage: f64,
    /// `activator-capacity` (default 100).
    pub activator_capacity: f64,
    /// `panic-threshold-percentage` (default 200).
    pub panic_threshold_percentage: f64,
    /// `stable-window` (default 60 s).
    pub stable_window: DurationMs,
    /// `scale-to-zero-grace-period` (default 30 s).
    pub scale_to_zero_grace_period: DurationMs,
    /// `scale-to-zero-pod-retention-period` (default 0 s).
    pub scale_to_zero_pod_retention_period: DurationMs,
    /// `scale-down-delay` (default 0 s).
    pub scale_down_delay: DurationMs,
    /// `pod-autoscaler-class` (default `kpa.autoscaling.knative.dev`).
    pub pod_autoscaler_class: String,
    /// `allow-zero-initial-scale` (default false).
    pub allow_zero_initial_scale: bool,
    /// `initial-scale` (default 1).
    pub initial_scale: i32,
    /// `min-scale` (default 0).
    pub min_scale: i32,
    /// `max-scale` (default 0: no limit).
    pub max_scale: i32,
    /// `max-scale-limit` (default 0: none).
    pub max_scale_limit: i32,
}

impl Default for Config {
    /// Knative's defaults (`config/core/configmaps/autoscaler.yaml`).
    fn default() -> Self {
        Config {
            enable_scale_to_zero: true,
            container_concurrency_target_fraction: 0.7,
            container_concurrency_target_default: 100.0,
            target_utilization: 0.7,
            rps_target_default: 200.0,
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
            target_burst_capacity: 211.0,
            panic_window_percentage: 10.0,
            activator_capacity: 100.0,
            panic_threshold_percentage: 200.0,
            stable_window: DurationMs::from_secs(60),
            scale_to_zero_grace_period: DurationMs::from_secs(30),
            scale_to_zero_pod_retention_period: DurationMs::ZERO,
            scale_down_delay: DurationMs::ZERO,
            pod_autoscaler_class: String::from(KPA_CLASS),
            allow_zero_initial_scale: false,
            initial_scale: 1,
            min_scale: 0,
            max_scale: 0,
            max_scale_limit: 0,
        }
    }
}

/// The KPA's autoscaler class (`pod-autoscaler-class`, `autoscaling.knative.dev/class`).
pub const KPA_CLASS: &str = "kpa.autoscaling.knative.dev";

/// The `config-autoscaler` keys [`Config::from_map`] reads (other keys are ignored, as
/// upstream ignores them; a caller that wants typos refused checks against this list).
pub const CONFIG_KEYS: &[&str] = &[
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
    "pod-autoscaler-class",
    "allow-zero-initial-scale",
    "initial-scale",
    "min-scale",
    "max-scale",
    "max-scale-limit",
];

/// An error naming the key, the value as written (quoted) and the rule.
fn invalid(key: &str, raw: &str, rule: impl Into<String>) -> ConfigError {
    ConfigError::invalid(key, &format!("{raw:?}"), rule)
}

fn parse_error(key: &str, raw: &str, what: &str, e: GoParseError) -> ConfigError {
    invalid(key, raw, format!("must be {what} ({e})"))
}

/// The string values of a map, by key, with what each parses to.
struct Data {
    values: BTreeMap<String, String>,
}

impl Data {
    fn raw(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The value as written, or the default's text (for messages about defaults).
    fn shown(&self, key: &str, default: &dyn core::fmt::Display) -> String {
        self.raw(key).map_or_else(|| default.to_string(), ToString::to_string)
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        self.raw(key).map_or(Ok(default), |r| {
            go::parse_bool(r).map_err(|e| parse_error(key, r, "a boolean (1, t, true, 0, f, false, ...)", e))
        })
    }

    fn float(&self, key: &str, default: f64) -> Result<f64, ConfigError> {
        self.raw(key).map_or(Ok(default), |r| finite_float(key, r))
    }

    fn int32(&self, key: &str, default: i32) -> Result<i32, ConfigError> {
        self.raw(key)
            .map_or(Ok(default), |r| go::parse_int32(r).map_err(|e| parse_error(key, r, "a 32-bit integer", e)))
    }

    fn duration(&self, key: &str, default: GoDuration) -> Result<GoDuration, ConfigError> {
        self.raw(key).map_or(Ok(default), |r| duration(key, r))
    }
}

fn finite_float(key: &str, raw: &str) -> Result<f64, ConfigError> {
    let x = go::parse_float(raw).map_err(|e| parse_error(key, raw, "a number", e))?;
    if !x.is_finite() {
        return Err(invalid(key, raw, "must be a finite number"));
    }
    Ok(x)
}

fn duration(key: &str, raw: &str) -> Result<GoDuration, ConfigError> {
    go::parse_duration(raw).map_err(|e| parse_error(key, raw, "a Go duration such as \"60s\" or \"1m30s\"", e))
}

impl Config {
    /// Reads `config-autoscaler`'s data as Knative's `NewConfigFromMap` does: each key read
    /// with Go's reader for its type (absent keys keep their defaults, unknown keys are
    /// ignored), `container-concurrency-target-percentage` above 1 divided by 100, then
    /// validated in upstream's order. Errors name the key, the value as written (or the
    /// default, for a rule between two keys) and the rule. Unlike upstream, `NaN` and
    /// infinities are refused (no setting means anything with them).
    pub fn from_map<K: AsRef<str>, V: AsRef<str>>(
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Config, ConfigError> {
        let d = Data {
            values: data
                .into_iter()
                .filter(|(k, _)| CONFIG_KEYS.contains(&k.as_ref()))
                .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string()))
                .collect(),
        };
        let def = Config::default();
        let ns = |d: DurationMs| GoDuration::from_ms(d);
        let mut c = Config {
            enable_scale_to_zero: d.bool("enable-scale-to-zero", def.enable_scale_to_zero)?,
            container_concurrency_target_fraction: d.float("container-concurrency-target-percentage", 70.0)?,
            container_concurrency_target_default: d
                .float("container-concurrency-target-default", def.container_concurrency_target_default)?,
            target_utilization: def.target_utilization,
            rps_target_default: d.float("requests-per-second-target-default", def.rps_target_default)?,
            max_scale_up_rate: d.float("max-scale-up-rate", def.max_scale_up_rate)?,
            max_scale_down_rate: d.float("max-scale-down-rate", def.max_scale_down_rate)?,
            target_burst_capacity: d.float("target-burst-capacity", def.target_burst_capacity)?,
            panic_window_percentage: d.float("panic-window-percentage", def.panic_window_percentage)?,
            activator_capacity: d.float("activator-capacity", def.activator_capacity)?,
            panic_threshold_percentage: d.float("panic-threshold-percentage", def.panic_threshold_percentage)?,
            stable_window: DurationMs::ZERO,
            scale_to_zero_grace_period: DurationMs::ZERO,
            scale_to_zero_pod_retention_period: DurationMs::ZERO,
            scale_down_delay: DurationMs::ZERO,
            pod_autoscaler_class: d.raw("pod-autoscaler-class").map_or(def.pod_autoscaler_class, ToString::to_string),
            allow_zero_initial_scale: d.bool("allow-zero-initial-scale", def.allow_zero_initial_scale)?,
            initial_scale: d.int32("initial-scale", def.initial_scale)?,
            min_scale: d.int32("min-scale", def.min_scale)?,
            max_scale: d.int32("max-scale", def.max_scale)?,
            max_scale_limit: d.int32("max-scale-limit", def.max_scale_limit)?,
        };
        let stable = d.duration("stable-window", ns(def.stable_window))?;
        let grace = d.duration("scale-to-zero-grace-period", ns(def.scale_to_zero_grace_period))?;
        let retention = d.duration("scale-to-zero-pod-retention-period", ns(def.scale_to_zero_pod_retention_period))?;
        let delay = d.duration("scale-down-delay", ns(def.scale_down_delay))?;
        if c.container_concurrency_target_fraction > 1.0 {
            c.container_concurrency_target_fraction /= 100.0;
        }

        // Validation, in upstream's order.
        let shown_d = |key: &str, v: GoDuration| d.shown(key, &v);
        let shown_f = |key: &str, v: f64| d.shown(key, &v);
        let shown_i = |key: &str, v: i32| d.shown(key, &v);
        if grace.0 <= 0 {
            return Err(invalid(
                "scale-to-zero-grace-period",
                &shown_d("scale-to-zero-grace-period", grace),
                "must be > 0",
            ));
        }
        if delay.0 < 0 || !delay.is_whole_seconds() {
            let r = shown_d("scale-down-delay", delay);
            return Err(invalid("scale-down-delay", &r, "must be >= 0 and a whole number of seconds"));
        }
        if retention.0 < 0 {
            let r = shown_d("scale-to-zero-pod-retention-period", retention);
            return Err(invalid("scale-to-zero-pod-retention-period", &r, "must be >= 0"));
        }
        if c.target_burst_capacity < 0.0 && c.target_burst_capacity != -1.0 {
            let r = shown_f("target-burst-capacity", c.target_burst_capacity);
            return Err(invalid("target-burst-capacity", &r, "must be >= 0, or -1 for unlimited"));
        }
        let fraction = c.container_concurrency_target_fraction;
        if !(fraction > 0.0 && fraction <= 1.0) {
            let r = d.shown("container-concurrency-target-percentage", &70);
            return Err(invalid(
                "container-concurrency-target-percentage",
                &r,
                "must be a percentage in (1, 100] or a fraction in (0, 1]",
            ));
        }
        if fraction * c.container_concurrency_target_default < 0.01 {
            let r = shown_f("container-concurrency-target-default", c.container_concurrency_target_default);
            return Err(invalid(
                "container-concurrency-target-default",
                &r,
                format!("times the target fraction ({fraction}) must be >= 0.01"),
            ));
        }
        if c.rps_target_default < 0.01 {
            let r = shown_f("requests-per-second-target-default", c.rps_target_default);
            return Err(invalid("requests-per-second-target-default", &r, "must be >= 0.01"));
        }
        if c.activator_capacity < 1.0 {
            return Err(invalid(
                "activator-capacity",
                &shown_f("activator-capacity", c.activator_capacity),
                "must be >= 1",
            ));
        }
        if c.max_scale_up_rate <= 1.0 {
            return Err(invalid(
                "max-scale-up-rate",
                &shown_f("max-scale-up-rate", c.max_scale_up_rate),
                "must be > 1",
            ));
        }
        if c.max_scale_down_rate <= 1.0 {
            let r = shown_f("max-scale-down-rate", c.max_scale_down_rate);
            return Err(invalid("max-scale-down-rate", &r, "must be > 1"));
        }
        if stable < GoDuration::from_secs(6) || stable > GoDuration::from_secs(3600) || !stable.is_whole_seconds() {
            let r = shown_d("stable-window", stable);
            return Err(invalid("stable-window", &r, "must be between 6s and 1h, in whole seconds"));
        }
        if !(1.0..=100.0).contains(&c.panic_window_percentage) {
            let r = shown_f("panic-window-percentage", c.panic_window_percentage);
            return Err(invalid("panic-window-percentage", &r, "must be between 1 and 100"));
        }
        if c.initial_scale < 0 || (c.initial_scale == 0 && !c.allow_zero_initial_scale) {
            let r = shown_i("initial-scale", c.initial_scale);
            return Err(invalid("initial-scale", &r, "must be >= 1 (or 0 with allow-zero-initial-scale: true)"));
        }
        if c.min_scale < 0 {
            return Err(invalid("min-scale", &shown_i("min-scale", c.min_scale), "must be >= 0"));
        }
        let lowest_max = i32::from(c.max_scale_limit > 0);
        if c.max_scale < lowest_max || (c.max_scale_limit > 0 && c.max_scale > c.max_scale_limit) {
            let r = shown_i("max-scale", c.max_scale);
            let rule = if c.max_scale_limit > 0 {
                format!("must be between 1 and max-scale-limit ({})", c.max_scale_limit)
            } else {
                String::from("must be >= 0 (0: no limit)")
            };
            return Err(invalid("max-scale", &r, rule));
        }
        if c.max_scale_limit < 0 {
            return Err(invalid("max-scale-limit", &shown_i("max-scale-limit", c.max_scale_limit), "must be >= 0"));
        }
        if c.max_scale > 0 && c.min_scale > c.max_scale {
            let r = shown_i("min-scale", c.min_scale);
            return Err(invalid("min-scale", &r, format!("must be <= max-scale ({})", c.max_scale)));
        }
        c.stable_window = stable.to_ms_ceil();
        c.scale_to_zero_grace_period = grace.to_ms_ceil();
        c.scale_to_zero_pod_retention_period = retention.to_ms_ceil();
        c.scale_down_delay = delay.to_ms_ceil();
        Ok(c)
    }
}

/// A revision's autoscaling annotations (`autoscaling.knative.dev/<name>`, and
/// `serving.knative.dev/progress-deadline`), parsed. `None` = not set: the cluster's
/// setting applies.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Annotations {
    /// `class` (only [`KPA_CLASS`] is this module's).
    pub class: Option<String>,
    /// `metric`: `concurrency` (the KPA's default) or `rps`.
    pub metric: Option<Metric>,
    /// `metric-aggregation-algorithm`: `linear` (default) or `weighted-exponential`.
    pub metric_aggregation_algorithm: Option<Algorithm>,
    /// `target`: the per-pod target before utilization.
    pub target: Option<f64>,
    /// `target-utilization-percentage`.
    pub target_utilization_percentage: Option<f64>,
    /// `target-burst-capacity`.
    pub target_burst_capacity: Option<f64>,
    /// `window`: the stable window.
    pub window: Option<GoDuration>,
    /// `panic-window-percentage`.
    pub panic_window_percentage: Option<f64>,
    /// `panic-threshold-percentage`.
    pub panic_threshold_percentage: Option<f64>,
    /// `scale-down-delay`.
    pub scale_down_delay: Option<GoDuration>,
    /// `initial-scale`.
    pub initial_scale: Option<i32>,
    /// `activation-scale`: the least count when scaling from zero.
    pub activation_scale: Option<i32>,
    /// `min-scale`.
    pub min_scale: Option<i32>,
    /// `max-scale` (0: no limit).
    pub max_scale: Option<i32>,
    /// `scale-to-zero-pod-retention-period`.
    pub scale_to_zero_pod_retention_period: Option<GoDuration>,
    /// `serving.knative.dev/progress-deadline`.
    pub progress_deadline: Option<GoDuration>,
}

/// The annotation names [`Annotations::from_map`] knows (without their
/// `autoscaling.knative.dev/` prefix; `progress-deadline` is `serving.knative.dev/`'s).
pub const ANNOTATION_KEYS: &[&str] = &[
    "class",
    "metric",
    "metric-aggregation-algorithm",
    "target",
    "target-utilization-percentage",
    "target-burst-capacity",
    "window",
    "panic-window-percentage",
    "panic-threshold-percentage",
    "scale-down-delay",
    "initial-scale",
    "activation-scale",
    "min-scale",
    "max-scale",
    "scale-to-zero-pod-retention-period",
    "progress-deadline",
];

const AUTOSCALING: &str = "autoscaling.knative.dev/";

/// An unknown annotation, with a suggestion for its name (without the prefix).
fn unknown_annotation(key: &str, name: &str) -> ConfigError {
    ConfigError::UnknownKey { key: key.to_string(), hint: crate::config::suggest(name, ANNOTATION_KEYS) }
}
const SERVING: &str = "serving.knative.dev/";

impl Annotations {
    /// Reads a revision's annotations. A key is a name of [`ANNOTATION_KEYS`], bare or with
    /// its prefix (`autoscaling.knative.dev/min-scale`, `serving.knative.dev/progress-deadline`);
    /// keys of other prefixes belong to other systems and are ignored; an unknown bare or
    /// `autoscaling.knative.dev/` name is refused (with a suggestion). Values are read with
    /// Go's readers and checked against the ranges Knative's admission webhook enforces, so
    /// a value upstream would refuse is an error here, naming key, value and rule, rather
    /// than silently falling back to the cluster's setting.
    pub fn from_map<K: AsRef<str>, V: AsRef<str>>(
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Annotations, ConfigError> {
        let mut a = Annotations::default();
        let mut seen: Vec<(String, String)> = Vec::new();
        for (k, v) in data {
            let (key, raw) = (k.as_ref(), v.as_ref());
            let name = if let Some(n) = key.strip_prefix(AUTOSCALING) {
                n
            } else if key.strip_prefix(SERVING) == Some("progress-deadline") {
                "progress-deadline"
            } else if key.contains('/') {
                continue;
            } else {
                key
            };
            if !ANNOTATION_KEYS.contains(&name) || (name == "progress-deadline" && key.starts_with(AUTOSCALING)) {
                return Err(unknown_annotation(key, name));
            }
            a.set(key, name, raw)?;
            seen.push((name.to_string(), raw.to_string()));
        }
        if let (Some(min), Some(max)) = (a.min_scale, a.max_scale) {
            if max > 0 && min > max {
                let raw = seen.iter().rev().find(|(n, _)| n == "min-scale").map_or("", |(_, r)| r.as_str());
                return Err(invalid("min-scale", raw, format!("must be <= max-scale ({max})")));
            }
        }
        Ok(a)
    }

    fn set(&mut self, key: &str, name: &str, raw: &str) -> Result<(), ConfigError> {
        let float = || finite_float(key, raw);
        let int = || go::parse_int32(raw).map_err(|e| parse_error(key, raw, "a 32-bit integer", e));
        let dur = || duration(key, raw);
        let range = |x: f64, lo: f64, hi: f64| {
            if (lo..=hi).contains(&x) {
                Ok(x)
            } else {
                Err(invalid(key, raw, format!("must be between {lo} and {hi}")))
            }
        };
        let at_least =
            |n: i32, lo: i32| if n >= lo { Ok(n) } else { Err(invalid(key, raw, format!("must be >= {lo}"))) };
        let whole_secs = |d: GoDuration, max: Option<GoDuration>| {
            if d.0 < 0 || !d.is_whole_seconds() || max.is_some_and(|m| d > m) {
                let upper = max.map_or(String::new(), |m| format!(", at most {m}"));
                Err(invalid(key, raw, format!("must be >= 0 and a whole number of seconds{upper}")))
            } else {
                Ok(d)
            }
        };
        match name {
            "class" => self.class = Some(raw.to_string()),
            "metric" => {
                self.metric = Some(match raw {
                    "concurrency" => Metric::Concurrency,
                    "rps" => Metric::Rps,
                    _ => return Err(invalid(key, raw, "must be \"concurrency\" or \"rps\" for the KPA")),
                });
            }
            "metric-aggregation-algorithm" => {
                self.metric_aggregation_algorithm = Some(match raw {
                    "linear" => Algorithm::Linear,
                    "weighted-exponential" | "weightedExponential" => Algorithm::WeightedExponential,
                    _ => return Err(invalid(key, raw, "must be \"linear\" or \"weighted-exponential\"")),
                });
            }
            "target" => {
                let x = float()?;
                if x < 0.01 {
                    return Err(invalid(key, raw, "must be >= 0.01"));
                }
                self.target = Some(x);
            }
            "target-utilization-percentage" => self.target_utilization_percentage = Some(range(float()?, 1.0, 100.0)?),
            "target-burst-capacity" => {
                let x = float()?;
                if x < 0.0 && x != -1.0 {
                    return Err(invalid(key, raw, "must be >= 0, or -1 for unlimited"));
                }
                self.target_burst_capacity = Some(x);
            }
            "window" => {
                let d = dur()?;
                if d < GoDuration::from_secs(6) || d > GoDuration::from_secs(3600) || !d.is_whole_seconds() {
                    return Err(invalid(key, raw, "must be between 6s and 1h, in whole seconds"));
                }
                self.window = Some(d);
            }
            "panic-window-percentage" => self.panic_window_percentage = Some(range(float()?, 1.0, 100.0)?),
            "panic-threshold-percentage" => self.panic_threshold_percentage = Some(range(float()?, 110.0, 1000.0)?),
            "scale-down-delay" => self.scale_down_delay = Some(whole_secs(dur()?, Some(GoDuration::from_secs(3600)))?),
            "initial-scale" => self.initial_scale = Some(at_least(int()?, 0)?),
            "activation-scale" => self.activation_scale = Some(at_least(int()?, 1)?),
            "min-scale" => self.min_scale = Some(at_least(int()?, 0)?),
            "max-scale" => self.max_scale = Some(at_least(int()?, 0)?),
            "scale-to-zero-pod-retention-period" => {
                let d = dur()?;
                if d.0 < 0 {
                    return Err(invalid(key, raw, "must be >= 0"));
                }
                self.scale_to_zero_pod_retention_period = Some(d);
            }
            "progress-deadline" => {
                let d = dur()?;
                if d.0 <= 0 {
                    return Err(invalid(key, raw, "must be > 0"));
                }
                self.progress_deadline = Some(d);
            }
            _ => return Err(unknown_annotation(key, name)),
        }
        Ok(())
    }
}
