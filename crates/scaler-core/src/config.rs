//! The scaler configuration: the seed's parameters, validated once into a type
//! that cannot be invalid.
//!
//! There is one way in: [`ConfigBuilder`], either through typed setters or through
//! [`ConfigBuilder::set`] with a key and a [`ConfigValue`] (what files and
//! command lines use). Every rule of the contract is checked there, and an error
//! names the key, the value and the rule.

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

use crate::policy::{PolicyConfig, PolicyKind};
use crate::read::{fixed, one_of, seconds, whole};
use crate::units::{DurationMs, Fixed9};

/// A value for one configuration key, as read from TOML, JSON or a command line.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum ConfigValue {
    /// `true` or `false`.
    Bool(bool),
    /// A whole number as written.
    Integer(i64),
    /// A number with a fractional part or an exponent.
    Float(f64),
    /// A number given as its decimal text exactly as written (`"1.0005"`), as
    /// file readers that keep literals pass it; read without going through a float.
    #[cfg_attr(feature = "serde", serde(skip))]
    Number(String),
    /// Text.
    String(String),
    /// A nested table such as `{ percent = 50, min = 1 }`.
    Table(BTreeMap<String, ConfigValue>),
    /// A list, such as `behavior.scaleUp.policies`.
    Array(alloc::vec::Vec<ConfigValue>),
}

impl fmt::Display for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::Bool(b) => write!(f, "{b}"),
            ConfigValue::Integer(i) => write!(f, "{i}"),
            ConfigValue::Float(x) => write!(f, "{x}"),
            ConfigValue::Number(t) => f.write_str(t),
            ConfigValue::String(s) => write!(f, "{s:?}"),
            ConfigValue::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            ConfigValue::Table(t) => {
                f.write_str("{ ")?;
                for (i, (k, v)) in t.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str(" }")
            }
        }
    }
}

impl ConfigValue {
    /// The decimal text of a number (floats through their shortest round-trip form,
    /// which is the literal the user wrote for any literal of up to 17 digits).
    pub(crate) fn number_text(&self) -> Option<String> {
        match self {
            ConfigValue::Integer(i) => Some(i.to_string()),
            ConfigValue::Float(x) => Some(format!("{x}")),
            ConfigValue::Number(t) => Some(t.clone()),
            _ => None,
        }
    }
}

/// A configuration that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The key is not a configuration key (a typo must not fall back to a default).
    #[error("unknown key `{key}`{hint}")]
    UnknownKey {
        /// The key as given.
        key: String,
        /// A suggestion such as ` (did you mean `cooldown_period`?)`, or empty.
        hint: String,
    },
    /// The value breaks the key's rule.
    #[error("{key} = {value}: {rule}")]
    Invalid {
        /// The key (`scale_up_step.percent` for a nested key).
        key: String,
        /// The value as given.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(key: &str, value: &dyn fmt::Display, rule: impl Into<String>) -> ConfigError {
        ConfigError::Invalid { key: key.to_owned(), value: value.to_string(), rule: rule.into() }
    }

    /// The same error with its key under a table name (`scaler.` + key).
    #[must_use]
    pub fn prefixed(self, prefix: &str) -> ConfigError {
        match self {
            ConfigError::UnknownKey { key, hint } => ConfigError::UnknownKey { key: format!("{prefix}{key}"), hint },
            ConfigError::Invalid { key, value, rule } => {
                ConfigError::Invalid { key: format!("{prefix}{key}"), value, rule }
            }
        }
    }

    /// The key the error is about.
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            ConfigError::UnknownKey { key, .. } | ConfigError::Invalid { key, .. } => key,
        }
    }
}

/// How the window's utilization samples are summarised into one number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Aggregate {
    /// Plain arithmetic mean of the samples (not time-weighted).
    #[default]
    Mean,
    /// Largest sample.
    Max,
    /// Smallest sample.
    Min,
    /// The newest sample.
    Latest,
}

impl Aggregate {
    /// The name used in configuration files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Mean => "mean",
            Aggregate::Max => "max",
            Aggregate::Min => "min",
            Aggregate::Latest => "latest",
        }
    }
}

/// A scaling step: `max(min, floor(n * percent / 100))` workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    percent: Fixed9,
    min: u32,
}

impl Step {
    /// A step of `percent` % of the current workers, at least `min` (which must be >= 1).
    pub fn new(percent: Fixed9, min: u32) -> Option<Step> {
        (min >= 1).then_some(Step { percent, min })
    }

    /// The percentage of current workers.
    #[must_use]
    pub fn percent(self) -> Fixed9 {
        self.percent
    }

    /// The smallest step.
    #[must_use]
    pub fn min(self) -> u32 {
        self.min
    }

    /// How many workers this step adds or removes at `n` current workers.
    #[must_use]
    pub fn amount(self, n: u32) -> u64 {
        let scaled = u128::from(n) * u128::from(self.percent.units()) / (100 * u128::from(Fixed9::SCALE));
        let pct = u64::try_from(scaled).unwrap_or(u64::MAX);
        pct.max(u64::from(self.min))
    }
}

/// A validated scaler configuration (SPEC section 2). It cannot hold a value that breaks a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalerConfig {
    min_workers: u32,
    max_workers: u32,
    scale_up_threshold: Fixed9,
    scale_down_threshold: Fixed9,
    cooldown_period: DurationMs,
    metrics_window: DurationMs,
    evaluation_interval: DurationMs,
    utilization_aggregate: Aggregate,
    scale_up_step: Step,
    scale_down_step: Step,
    warmup_period: DurationMs,
    policy: PolicyConfig,
}

impl Default for ScalerConfig {
    fn default() -> Self {
        ScalerConfig {
            min_workers: 1,
            max_workers: 10,
            scale_up_threshold: Fixed9::from_units(800_000_000),
            scale_down_threshold: Fixed9::from_units(200_000_000),
            cooldown_period: DurationMs::from_secs(300),
            metrics_window: DurationMs::from_secs(300),
            evaluation_interval: DurationMs::from_secs(60),
            utilization_aggregate: Aggregate::Mean,
            scale_up_step: Step { percent: Fixed9::from_units(50 * Fixed9::SCALE), min: 1 },
            scale_down_step: Step { percent: Fixed9::from_units(25 * Fixed9::SCALE), min: 1 },
            warmup_period: DurationMs::ZERO,
            policy: PolicyConfig::default_for(PolicyKind::default()),
        }
    }
}

/// Every top-level key, in documentation order (each policy's table, `[scaler.NAME]`, is a
/// key too: see [`PolicyKind::ALL`]).
pub const KEYS: &[&str] = &[
    "min_workers",
    "max_workers",
    "scale_up_threshold",
    "scale_down_threshold",
    "cooldown_period",
    "metrics_window",
    "evaluation_interval",
    "utilization_aggregate",
    "scale_up_step",
    "scale_down_step",
    "policy",
    "warmup_period",
];

/// The most seasonal terms the predictive policy keeps (`season / evaluation_interval`).
pub const MAX_SEASON_SLOTS: u64 = 1_000_000;

/// The top-level keys and the policies' table names, for suggestions.
fn known_keys() -> alloc::vec::Vec<&'static str> {
    KEYS.iter().copied().chain(PolicyKind::ALL.iter().map(|k| k.as_str())).collect()
}

impl ScalerConfig {
    /// A builder that starts from the defaults.
    #[must_use]
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder { cfg: ScalerConfig::default(), kind: PolicyKind::default(), tables: alloc::vec::Vec::new() }
    }

    /// Reads a whole configuration from key/value pairs (a parsed `[scaler]` table).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a ConfigValue)>,
    ) -> Result<ScalerConfig, ConfigError> {
        let mut b = ScalerConfig::builder();
        for (k, v) in pairs {
            b.set(k, v)?;
        }
        b.build()
    }

    /// Fewest workers.
    #[must_use]
    pub fn min_workers(&self) -> u32 {
        self.min_workers
    }
    /// Most workers.
    #[must_use]
    pub fn max_workers(&self) -> u32 {
        self.max_workers
    }
    /// Utilization above which the scaler adds workers.
    #[must_use]
    pub fn scale_up_threshold(&self) -> Fixed9 {
        self.scale_up_threshold
    }
    /// Utilization below which the scaler removes workers.
    #[must_use]
    pub fn scale_down_threshold(&self) -> Fixed9 {
        self.scale_down_threshold
    }
    /// Time after a successful scaling during which rules 5 and 6 hold.
    #[must_use]
    pub fn cooldown_period(&self) -> DurationMs {
        self.cooldown_period
    }
    /// Length of the metrics window.
    #[must_use]
    pub fn metrics_window(&self) -> DurationMs {
        self.metrics_window
    }
    /// Time between ticks.
    #[must_use]
    pub fn evaluation_interval(&self) -> DurationMs {
        self.evaluation_interval
    }
    /// How the window's utilization is summarised.
    #[must_use]
    pub fn utilization_aggregate(&self) -> Aggregate {
        self.utilization_aggregate
    }
    /// How many workers a scale-up adds.
    #[must_use]
    pub fn scale_up_step(&self) -> Step {
        self.scale_up_step
    }
    /// How many workers a scale-down removes.
    #[must_use]
    pub fn scale_down_step(&self) -> Step {
        self.scale_down_step
    }
    /// The decision policy.
    #[must_use]
    pub fn policy(&self) -> PolicyKind {
        self.policy.kind()
    }

    /// The selected policy's settings.
    #[must_use]
    pub fn policy_config(&self) -> &PolicyConfig {
        &self.policy
    }

    /// Workers added within this time count as capacity already on its way: a further
    /// scale-up adds only what they do not cover (0: off). Applies to every policy.
    #[must_use]
    pub fn warmup_period(&self) -> DurationMs {
        self.warmup_period
    }

    /// The configuration as key/value pairs, in [`KEYS`] order; `from_pairs` reads them back.
    #[must_use]
    pub fn to_pairs(&self) -> alloc::vec::Vec<(&'static str, String)> {
        let step = |s: Step| format!("{{ percent = {}, min = {} }}", s.percent, s.min);
        let mut pairs = alloc::vec![
            ("min_workers", self.min_workers.to_string()),
            ("max_workers", self.max_workers.to_string()),
            ("scale_up_threshold", self.scale_up_threshold.to_string()),
            ("scale_down_threshold", self.scale_down_threshold.to_string()),
            ("cooldown_period", self.cooldown_period.to_string()),
            ("metrics_window", self.metrics_window.to_string()),
            ("evaluation_interval", self.evaluation_interval.to_string()),
            ("utilization_aggregate", format!("{:?}", self.utilization_aggregate.as_str())),
            ("scale_up_step", step(self.scale_up_step)),
            ("scale_down_step", step(self.scale_down_step)),
            ("policy", format!("{:?}", self.policy().as_str())),
            ("warmup_period", self.warmup_period.to_string()),
        ];
        if let Some(table) = self.policy.to_toml() {
            pairs.push((self.policy().as_str(), table));
        }
        pairs
    }
}

/// Builds a [`ScalerConfig`]; [`ConfigBuilder::build`] checks the rules that span keys.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    cfg: ScalerConfig,
    /// The selected policy.
    kind: PolicyKind,
    /// The policies' tables as set so far (the selected one is taken at `build`; any other
    /// is refused there, whatever order the keys came in).
    tables: alloc::vec::Vec<PolicyConfig>,
}

/// A hint for a mistyped key: ` (did you mean `k`?)` for the closest known key
/// when it is within 3 edits, else ` (known keys: ...)`.
#[must_use]
pub fn suggest(key: &str, known: &[&str]) -> String {
    let best = known.iter().map(|k| (edit_distance(key, k), *k)).min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= 3 => format!(" (did you mean `{k}`?)"),
        _ => format!(" (known keys: {})", known.join(", ")),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: alloc::vec::Vec<char> = b.chars().collect();
    let mut prev: alloc::vec::Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = alloc::vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl ConfigBuilder {
    /// Sets one key from a value as read from a file or command line.
    ///
    /// Nested keys may be given whole (`scale_up_step` = `{ percent = 50, min = 1 }`)
    /// or one at a time (`scale_up_step.percent` = `50`).
    pub fn set(&mut self, key: &str, value: &ConfigValue) -> Result<&mut Self, ConfigError> {
        match key {
            "min_workers" => self.cfg.min_workers = whole(key, value, "must be >= 0")?,
            "max_workers" => {
                let n = whole(key, value, "must be >= 1")?;
                if n < 1 {
                    return Err(ConfigError::invalid(key, value, "must be >= 1"));
                }
                self.cfg.max_workers = n;
            }
            "scale_up_threshold" => {
                let t = fixed(key, value, "must be > scale_down_threshold and <= 1")?;
                if t > Fixed9::ONE {
                    return Err(ConfigError::invalid(key, value, "must be <= 1"));
                }
                self.cfg.scale_up_threshold = t;
            }
            "scale_down_threshold" => self.cfg.scale_down_threshold = fixed(key, value, "must be >= 0")?,
            "cooldown_period" => self.cfg.cooldown_period = seconds(key, value, false)?,
            "warmup_period" => self.cfg.warmup_period = seconds(key, value, false)?,
            "metrics_window" => self.cfg.metrics_window = seconds(key, value, true)?,
            "evaluation_interval" => self.cfg.evaluation_interval = seconds(key, value, true)?,
            "utilization_aggregate" => {
                self.cfg.utilization_aggregate = one_of(
                    key,
                    value,
                    &[
                        ("mean", Aggregate::Mean),
                        ("max", Aggregate::Max),
                        ("min", Aggregate::Min),
                        ("latest", Aggregate::Latest),
                    ],
                )?;
            }
            "policy" => {
                let options: alloc::vec::Vec<(&str, PolicyKind)> =
                    PolicyKind::ALL.iter().map(|k| (k.as_str(), *k)).collect();
                self.kind = one_of(key, value, &options)?;
            }
            "scale_up_step" | "scale_down_step" => match value {
                ConfigValue::Table(t) => {
                    for (sub, v) in t {
                        self.set(&format!("{key}.{sub}"), v)?;
                    }
                }
                _ => return Err(ConfigError::invalid(key, value, "must be a table like { percent = 50, min = 1 }")),
            },
            _ => {
                if let Some((head, sub)) = key.split_once('.') {
                    if head == "scale_up_step" || head == "scale_down_step" {
                        let step = if head == "scale_up_step" {
                            &mut self.cfg.scale_up_step
                        } else {
                            &mut self.cfg.scale_down_step
                        };
                        match sub {
                            "percent" => step.percent = fixed(key, value, "must be >= 0")?,
                            "min" => {
                                let m = whole(key, value, "must be a whole number >= 1")?;
                                if m < 1 {
                                    return Err(ConfigError::invalid(key, value, "must be a whole number >= 1"));
                                }
                                step.min = m;
                            }
                            _ => {
                                return Err(ConfigError::UnknownKey {
                                    key: key.to_owned(),
                                    hint: suggest(sub, &["percent", "min"]),
                                });
                            }
                        }
                        return Ok(self);
                    }
                }
                let (head, sub) = key.split_once('.').unwrap_or((key, ""));
                if let Some(kind) = PolicyKind::from_name(head) {
                    if sub.is_empty() {
                        let ConfigValue::Table(t) = value else {
                            return Err(ConfigError::invalid(key, value, "must be a table of the policy's settings"));
                        };
                        if kind.keys().is_empty() {
                            return Err(ConfigError::invalid(
                                key,
                                value,
                                format!(
                                    "the {} policy has no table: its settings are the top-level keys of [scaler]",
                                    kind.as_str()
                                ),
                            ));
                        }
                        self.table(kind);
                        for (sub, v) in t {
                            self.set(&format!("{key}.{sub}"), v)?;
                        }
                        return Ok(self);
                    }
                    return self.table(kind).set(key, sub, value).map(|()| self);
                }
                return Err(ConfigError::UnknownKey { key: key.to_owned(), hint: suggest(key, &known_keys()) });
            }
        }
        Ok(self)
    }

    /// Sets `min_workers`.
    pub fn min_workers(&mut self, n: u32) -> &mut Self {
        self.cfg.min_workers = n;
        self
    }
    /// Sets `max_workers` (checked by [`ConfigBuilder::build`]).
    pub fn max_workers(&mut self, n: u32) -> &mut Self {
        self.cfg.max_workers = n;
        self
    }
    /// Sets `scale_up_threshold` (checked by [`ConfigBuilder::build`]).
    pub fn scale_up_threshold(&mut self, t: Fixed9) -> &mut Self {
        self.cfg.scale_up_threshold = t;
        self
    }
    /// Sets `scale_down_threshold` (checked by [`ConfigBuilder::build`]).
    pub fn scale_down_threshold(&mut self, t: Fixed9) -> &mut Self {
        self.cfg.scale_down_threshold = t;
        self
    }
    /// Sets `cooldown_period`.
    pub fn cooldown_period(&mut self, d: DurationMs) -> &mut Self {
        self.cfg.cooldown_period = d;
        self
    }
    /// Sets `metrics_window` (must be > 0, checked by [`ConfigBuilder::build`]).
    pub fn metrics_window(&mut self, d: DurationMs) -> &mut Self {
        self.cfg.metrics_window = d;
        self
    }
    /// Sets `evaluation_interval` (must be > 0, checked by [`ConfigBuilder::build`]).
    pub fn evaluation_interval(&mut self, d: DurationMs) -> &mut Self {
        self.cfg.evaluation_interval = d;
        self
    }
    /// Sets `utilization_aggregate`.
    pub fn utilization_aggregate(&mut self, a: Aggregate) -> &mut Self {
        self.cfg.utilization_aggregate = a;
        self
    }
    /// Sets `scale_up_step`.
    pub fn scale_up_step(&mut self, s: Step) -> &mut Self {
        self.cfg.scale_up_step = s;
        self
    }
    /// Sets `scale_down_step`.
    pub fn scale_down_step(&mut self, s: Step) -> &mut Self {
        self.cfg.scale_down_step = s;
        self
    }

    /// Selects the policy (with its default settings unless they are set too).
    pub fn policy(&mut self, p: PolicyKind) -> &mut Self {
        self.kind = p;
        self
    }

    /// Selects a policy with these settings.
    pub fn policy_config(&mut self, p: PolicyConfig) -> &mut Self {
        self.kind = p.kind();
        self.tables.retain(|t| t.kind() != p.kind());
        self.tables.push(p);
        self
    }

    /// Sets `warmup_period`.
    pub fn warmup_period(&mut self, d: DurationMs) -> &mut Self {
        self.cfg.warmup_period = d;
        self
    }

    /// The table of `kind`, created with its defaults on first use.
    fn table(&mut self, kind: PolicyKind) -> &mut PolicyConfig {
        let i = match self.tables.iter().position(|t| t.kind() == kind) {
            Some(i) => i,
            None => {
                self.tables.push(PolicyConfig::default_for(kind));
                self.tables.len() - 1
            }
        };
        &mut self.tables[i]
    }

    /// Checks every rule and returns the configuration.
    pub fn build(&self) -> Result<ScalerConfig, ConfigError> {
        let mut c = self.cfg.clone();
        if let Some(other) = self.tables.iter().find(|t| t.kind() != self.kind) {
            let name = other.kind().as_str();
            return Err(ConfigError::Invalid {
                key: name.to_owned(),
                value: other.to_toml().unwrap_or_default(),
                rule: format!(
                    "is set but policy = \"{}\": a [scaler.{name}] table applies only when policy = \"{name}\"",
                    self.kind.as_str()
                ),
            });
        }
        c.policy = self
            .tables
            .iter()
            .find(|t| t.kind() == self.kind)
            .cloned()
            .unwrap_or_else(|| PolicyConfig::default_for(self.kind));
        c.policy.validate()?;
        if let PolicyConfig::Predictive(p) = &c.policy {
            // One seasonal term per evaluation interval of the season: bound the memory.
            let slots = p.season.as_ms() / c.evaluation_interval.as_ms().max(1);
            if slots > MAX_SEASON_SLOTS {
                return Err(ConfigError::invalid(
                    "predictive.season_s",
                    &p.season,
                    format!(
                        "holds {slots} evaluation intervals of {} s; at most {MAX_SEASON_SLOTS} (a longer evaluation_interval or a shorter season)",
                        c.evaluation_interval
                    ),
                ));
            }
        }
        let c = &c;
        if c.max_workers < 1 {
            return Err(ConfigError::invalid("max_workers", &c.max_workers, "must be >= 1"));
        }
        if c.min_workers > c.max_workers {
            return Err(ConfigError::invalid(
                "min_workers",
                &c.min_workers,
                format!("must be <= max_workers ({})", c.max_workers),
            ));
        }
        if c.scale_up_threshold > Fixed9::ONE {
            return Err(ConfigError::invalid("scale_up_threshold", &c.scale_up_threshold, "must be <= 1"));
        }
        if c.scale_down_threshold >= c.scale_up_threshold {
            return Err(ConfigError::invalid(
                "scale_down_threshold",
                &c.scale_down_threshold,
                format!("must be < scale_up_threshold ({})", c.scale_up_threshold),
            ));
        }
        if c.min_workers == 0 && c.scale_up_threshold >= Fixed9::ONE {
            return Err(ConfigError::invalid(
                "scale_up_threshold",
                &c.scale_up_threshold,
                "must be < 1 when min_workers = 0 (at zero workers the observed utilization is 1.0)",
            ));
        }
        if c.metrics_window == DurationMs::ZERO {
            return Err(ConfigError::invalid("metrics_window", &c.metrics_window, "must be > 0 seconds"));
        }
        if c.evaluation_interval == DurationMs::ZERO {
            return Err(ConfigError::invalid("evaluation_interval", &c.evaluation_interval, "must be > 0 seconds"));
        }
        Ok(c.clone())
    }
}

/// A builder that starts from a configuration (to change a few keys of it).
impl From<&ScalerConfig> for ConfigBuilder {
    fn from(c: &ScalerConfig) -> ConfigBuilder {
        ConfigBuilder { cfg: c.clone(), kind: c.policy(), tables: alloc::vec![c.policy.clone()] }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ScalerConfig {
    /// Reads a table of the keys of SPEC section 2; unknown keys are refused.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, ConfigValue>::deserialize(d)?;
        ScalerConfig::from_pairs(map.iter().map(|(k, v)| (k.as_str(), v))).map_err(serde::de::Error::custom)
    }
}
