//! The ScaledObject: its spec (KEDA's field names in snake case), its annotations, and the
//! validation KEDA's webhook and controller apply.

use alloc::string::String;
use alloc::vec::Vec;

use crate::hpa::{Rules, SelectPolicy};
use crate::units::DurationMs;

use super::hpa::HpaSpec;
use super::metric::MetricTarget;

/// `pollingInterval` when unset: 30 s.
pub const DEFAULT_POLLING_INTERVAL: DurationMs = DurationMs::from_secs(30);
/// `cooldownPeriod` when unset: 300 s.
pub const DEFAULT_COOLDOWN_PERIOD: DurationMs = DurationMs::from_secs(300);
/// `initialCooldownPeriod` when unset: 0 s.
pub const DEFAULT_INITIAL_COOLDOWN_PERIOD: DurationMs = DurationMs::ZERO;
/// The HPA's `minReplicas` when `minReplicaCount` is unset or 0.
pub const DEFAULT_HPA_MIN_REPLICAS: i32 = 1;
/// The HPA's `maxReplicas` when `maxReplicaCount` is unset.
pub const DEFAULT_HPA_MAX_REPLICAS: i32 = 100;

/// Annotation: pause the ScaledObject (a boolean; a value that is not one pauses).
pub const PAUSED: &str = "autoscaling.keda.sh/paused";
/// Annotation: pause the ScaledObject at this replica count (its presence pauses).
pub const PAUSED_REPLICAS: &str = "autoscaling.keda.sh/paused-replicas";
/// Annotation: never scale in (the executor keeps the count; the HPA's scale-down is disabled).
pub const PAUSED_SCALE_IN: &str = "autoscaling.keda.sh/paused-scale-in";
/// Annotation: never scale out (no activation from zero; the HPA's scale-up is disabled).
pub const PAUSED_SCALE_OUT: &str = "autoscaling.keda.sh/paused-scale-out";
/// Annotation: treat the object as active whatever its triggers say.
pub const FORCE_ACTIVATION: &str = "autoscaling.keda.sh/force-activation";

/// Why a ScaledObject is refused. Each message names the field, its value and the rule; the
/// bounds and fallback rules carry upstream's own wording after the colon.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum KedaError {
    /// `CheckReplicaCountBoundsAreValid`: the HPA's minimum above its maximum.
    #[error(
        "minReplicaCount = {min_replica_count}: MinReplicaCount={hpa_min} must be less than MaxReplicaCount={hpa_max}"
    )]
    MinAboveMax {
        /// `minReplicaCount` as given.
        min_replica_count: i32,
        /// The HPA minimum it maps to.
        hpa_min: i32,
        /// The HPA maximum (`maxReplicaCount` or 100).
        hpa_max: i32,
    },
    /// `CheckReplicaCountBoundsAreValid`: an idle count not below the minimum.
    #[error("idleReplicaCount = {idle}: IdleReplicaCount={idle} must be less than MinReplicaCount={min}")]
    IdleNotBelowMin {
        /// `idleReplicaCount`.
        idle: i32,
        /// The minimum it is compared with (0 when `minReplicaCount` is unset).
        min: i32,
    },
    /// `CheckFallbackValid`: a negative threshold or replica count.
    #[error(
        "fallback = {{ failureThreshold = {failure_threshold}, replicas = {replicas} }}: FailureThreshold={failure_threshold} & Replicas={replicas} must both be greater than or equal to 0"
    )]
    FallbackNegative {
        /// `fallback.failureThreshold`.
        failure_threshold: i32,
        /// `fallback.replicas`.
        replicas: i32,
    },
    /// `CheckFallbackValid`: only cpu/memory triggers, whose metrics never fall back.
    #[error(
        "fallback (with {triggers} trigger(s), all cpu or memory): at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback to be enabled"
    )]
    FallbackNeedsExternalTrigger {
        /// How many triggers there are.
        triggers: usize,
    },
    /// No trigger at all.
    #[error("triggers = []: at least one trigger is required")]
    NoTriggers,
    /// A trigger's metric type that its trigger type does not take.
    #[error(
        "triggers[{index}].metricType = {metric_type}: a cpu or memory trigger takes Utilization or AverageValue, any other trigger AverageValue or Value"
    )]
    MetricType {
        /// The trigger's index.
        index: usize,
        /// Its metric type.
        metric_type: &'static str,
    },
    /// A threshold that is not a usable number.
    #[error("triggers[{index}].{field} = {value}: {rule}")]
    Threshold {
        /// The trigger's index.
        index: usize,
        /// `threshold` or `activationThreshold`.
        field: &'static str,
        /// The value given.
        value: f64,
        /// What it must be.
        rule: &'static str,
    },
    /// A replica count below its lower limit.
    #[error("{field} = {value}: must be at least {least}")]
    ReplicaCount {
        /// `minReplicaCount`, `maxReplicaCount`, `idleReplicaCount` or `fallback.replicas`.
        field: &'static str,
        /// The value given.
        value: i32,
        /// The least allowed value.
        least: i32,
    },
    /// A zero polling interval.
    #[error("pollingInterval = {0}: must be greater than 0")]
    PollingInterval(DurationMs),
    /// A `paused-replicas` annotation that is not a whole number.
    #[error("annotations.\"autoscaling.keda.sh/paused-replicas\" = {0:?}: must be a whole number (int32)")]
    PausedReplicas(String),
    /// [`poll`](super::poll) was given a number of readings that is not one per trigger.
    #[error("readings: {got} given for {triggers} trigger(s): must be one per trigger")]
    Readings {
        /// How many were given.
        got: usize,
        /// How many triggers the spec has.
        triggers: usize,
    },
}

/// A trigger's scaler, as far as KEDA's arithmetic tells them apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TriggerType {
    /// `cpu`: a Resource metric the HPA reads itself; never active, never in error.
    Cpu,
    /// `memory`: likewise.
    Memory,
    /// Any other scaler (`prometheus`, `rabbitmq`, ...): an External metric KEDA serves.
    #[default]
    External,
}

impl TriggerType {
    /// `cpu` or `memory`: a Resource metric, outside KEDA's activation and fallback.
    #[must_use]
    pub fn is_resource(self) -> bool {
        matches!(self, TriggerType::Cpu | TriggerType::Memory)
    }
}

/// A trigger's `metricType`: how the HPA compares the metric with the threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MetricType {
    /// Per replica: the HPA wants `ceil(metric / threshold)` replicas (KEDA's default).
    #[default]
    AverageValue,
    /// In total: the HPA scales the ready replicas by `metric / threshold`.
    Value,
    /// Percent of the resource request (cpu and memory triggers only).
    Utilization,
}

impl MetricType {
    /// KEDA's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::AverageValue => "AverageValue",
            MetricType::Value => "Value",
            MetricType::Utilization => "Utilization",
        }
    }
}

/// One entry of `triggers`.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Trigger {
    /// The trigger's `name` (the metric name KEDA lists as an active trigger in events).
    pub name: String,
    /// `type`, as far as it matters here.
    pub trigger_type: TriggerType,
    /// `metricType`.
    pub metric_type: MetricType,
    /// The target value (the scaler's `threshold`/`value` metadata); a whole percent for
    /// `Utilization`.
    pub threshold: f64,
    /// `activationThreshold` (`activationValue` for some scalers): active strictly above it.
    pub activation_threshold: f64,
}

impl Trigger {
    /// An External trigger.
    #[must_use]
    pub fn external(name: &str, metric_type: MetricType, threshold: f64, activation_threshold: f64) -> Trigger {
        Trigger {
            name: String::from(name),
            trigger_type: TriggerType::External,
            metric_type,
            threshold,
            activation_threshold,
        }
    }

    /// The HPA metric target KEDA creates for this trigger (`GetMetricTargetMili`).
    #[must_use]
    pub fn metric_target(&self) -> MetricTarget {
        MetricTarget::new(self.metric_type, self.threshold)
    }
}

/// How the fallback picks its replica count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FallbackBehavior {
    /// `static` (also `""`, the default): `fallback.replicas`.
    #[default]
    Static,
    /// `currentReplicas`: the target's current replicas.
    CurrentReplicas,
    /// `currentReplicasIfHigher`: the larger of the two.
    CurrentReplicasIfHigher,
    /// `currentReplicasIfLower`: the smaller of the two.
    CurrentReplicasIfLower,
}

impl FallbackBehavior {
    /// KEDA's spelling (`""` is `static`); `None` for any other text (including
    /// `scalingModifiers`, which is not modelled).
    #[must_use]
    pub fn parse(text: &str) -> Option<FallbackBehavior> {
        match text {
            "" | "static" => Some(FallbackBehavior::Static),
            "currentReplicas" => Some(FallbackBehavior::CurrentReplicas),
            "currentReplicasIfHigher" => Some(FallbackBehavior::CurrentReplicasIfHigher),
            "currentReplicasIfLower" => Some(FallbackBehavior::CurrentReplicasIfLower),
            _ => None,
        }
    }

    /// KEDA's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackBehavior::Static => "static",
            FallbackBehavior::CurrentReplicas => "currentReplicas",
            FallbackBehavior::CurrentReplicasIfHigher => "currentReplicasIfHigher",
            FallbackBehavior::CurrentReplicasIfLower => "currentReplicasIfLower",
        }
    }
}

/// `fallback`: what to serve once a trigger keeps failing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Fallback {
    /// `failureThreshold`: the fallback starts after strictly more failures than this.
    pub failure_threshold: i32,
    /// `replicas`.
    pub replicas: i32,
    /// `behavior`.
    pub behavior: FallbackBehavior,
}

impl Fallback {
    /// `HasValidFallback`: both numbers at least 0. Health is tracked, and the fallback
    /// served, only for a valid fallback.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.failure_threshold >= 0 && self.replicas >= 0
    }
}

/// Go's `strconv.ParseBool` as KEDA reads a boolean annotation: absent is false; `1 t T TRUE
/// true True` are true, `0 f F FALSE false False` false, and any other text is **true**.
#[must_use]
pub fn annotation_bool(value: Option<&str>) -> bool {
    match value {
        None => false,
        Some("0" | "f" | "F" | "FALSE" | "false" | "False") => false,
        Some(_) => true,
    }
}

/// The ScaledObject's annotations KEDA reads (their values as written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Annotations {
    /// [`PAUSED`].
    pub paused: Option<String>,
    /// [`PAUSED_REPLICAS`].
    pub paused_replicas: Option<String>,
    /// [`PAUSED_SCALE_IN`].
    pub paused_scale_in: Option<String>,
    /// [`PAUSED_SCALE_OUT`].
    pub paused_scale_out: Option<String>,
    /// [`FORCE_ACTIVATION`].
    pub force_activation: Option<String>,
}

impl Annotations {
    /// Sets the annotation with full key `key`; `false` (and nothing set) for a key KEDA's
    /// scaling does not read.
    pub fn set(&mut self, key: &str, value: &str) -> bool {
        let slot = match key {
            PAUSED => &mut self.paused,
            PAUSED_REPLICAS => &mut self.paused_replicas,
            PAUSED_SCALE_IN => &mut self.paused_scale_in,
            PAUSED_SCALE_OUT => &mut self.paused_scale_out,
            FORCE_ACTIVATION => &mut self.force_activation,
            _ => return false,
        };
        *slot = Some(String::from(value));
        true
    }

    /// The annotations among `pairs` (full key, value) that KEDA reads; others are ignored,
    /// as KEDA ignores them.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Annotations {
        let mut a = Annotations::default();
        for (k, v) in pairs {
            a.set(k, v);
        }
        a
    }

    /// `NeedToBePausedByAnnotation`: `paused-replicas` is present (whatever its value), or
    /// `paused` is true.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.paused_replicas.is_some() || annotation_bool(self.paused.as_deref())
    }

    /// `NeedToPauseScaleIn`.
    #[must_use]
    pub fn pauses_scale_in(&self) -> bool {
        annotation_bool(self.paused_scale_in.as_deref())
    }

    /// `NeedToPauseScaleOut`.
    #[must_use]
    pub fn pauses_scale_out(&self) -> bool {
        annotation_bool(self.paused_scale_out.as_deref())
    }

    /// `NeedToForceActivation`.
    #[must_use]
    pub fn forces_activation(&self) -> bool {
        annotation_bool(self.force_activation.as_deref())
    }

    /// The count `paused-replicas` holds the target at (KEDA's ScaledObject controller, not
    /// its executor, scales to it): `None` when absent.
    #[must_use]
    pub fn paused_replicas(&self) -> Option<Result<i32, KedaError>> {
        self.paused_replicas
            .as_deref()
            .map(|v| v.parse::<i32>().map_err(|_| KedaError::PausedReplicas(String::from(v))))
    }
}

/// `advanced.horizontalPodAutoscalerConfig.behavior`, both directions filled in (a direction
/// the user leaves out has Kubernetes' defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Behavior {
    /// `scaleUp`.
    pub scale_up: Rules,
    /// `scaleDown`.
    pub scale_down: Rules,
}

impl Default for Behavior {
    /// Kubernetes' defaults for both directions.
    fn default() -> Self {
        Behavior { scale_up: Rules::default_up(), scale_down: Rules::default_down() }
    }
}

/// A ScaledObject's spec (the fields that scaling reads) and its annotations. `None` is
/// "not set", as KEDA's pointers are; the accessors give the defaults.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScaledObjectSpec {
    /// `pollingInterval` (default 30 s).
    pub polling_interval: Option<DurationMs>,
    /// `cooldownPeriod` (default 300 s): how long after the last active poll to scale in.
    pub cooldown_period: Option<DurationMs>,
    /// `initialCooldownPeriod` (default 0 s): from creation, before any active poll.
    pub initial_cooldown_period: Option<DurationMs>,
    /// `minReplicaCount` (default 0).
    pub min_replica_count: Option<i32>,
    /// `maxReplicaCount` (default 100).
    pub max_replica_count: Option<i32>,
    /// `idleReplicaCount`: the count while inactive, instead of `minReplicaCount`.
    pub idle_replica_count: Option<i32>,
    /// `fallback`.
    pub fallback: Option<Fallback>,
    /// `advanced.horizontalPodAutoscalerConfig.behavior` (`None`: the HPA's legacy path).
    pub behavior: Option<Behavior>,
    /// `triggers`.
    pub triggers: Vec<Trigger>,
    /// The annotations KEDA reads.
    pub annotations: Annotations,
}

impl ScaledObjectSpec {
    /// `pollingInterval` or its default.
    #[must_use]
    pub fn polling_interval(&self) -> DurationMs {
        self.polling_interval.unwrap_or(DEFAULT_POLLING_INTERVAL)
    }

    /// `cooldownPeriod` or its default.
    #[must_use]
    pub fn cooldown_period(&self) -> DurationMs {
        self.cooldown_period.unwrap_or(DEFAULT_COOLDOWN_PERIOD)
    }

    /// `initialCooldownPeriod` or its default.
    #[must_use]
    pub fn initial_cooldown_period(&self) -> DurationMs {
        self.initial_cooldown_period.unwrap_or(DEFAULT_INITIAL_COOLDOWN_PERIOD)
    }

    /// The minimum the executor works with: `minReplicaCount`, or 0.
    #[must_use]
    pub fn min_replicas(&self) -> i32 {
        self.min_replica_count.unwrap_or(0)
    }

    /// `GetHPAMinReplicas`: `minReplicaCount` when above 0, else 1.
    #[must_use]
    pub fn hpa_min_replicas(&self) -> i32 {
        self.min_replica_count.filter(|&m| m > 0).unwrap_or(DEFAULT_HPA_MIN_REPLICAS)
    }

    /// `GetHPAMaxReplicas`: `maxReplicaCount`, else 100.
    #[must_use]
    pub fn hpa_max_replicas(&self) -> i32 {
        self.max_replica_count.unwrap_or(DEFAULT_HPA_MAX_REPLICAS)
    }

    /// `CheckReplicaCountBoundsAreValid`: the minimum (0 when `minReplicaCount` is unset, else
    /// the HPA's) at most the HPA's maximum, and `idleReplicaCount` below that minimum.
    pub fn check_replica_bounds(&self) -> Result<(), KedaError> {
        let min = if self.min_replica_count.is_some() { self.hpa_min_replicas() } else { 0 };
        let max = self.hpa_max_replicas();
        if min > max {
            return Err(KedaError::MinAboveMax { min_replica_count: self.min_replicas(), hpa_min: min, hpa_max: max });
        }
        match self.idle_replica_count {
            Some(idle) if idle >= min => Err(KedaError::IdleNotBelowMin { idle, min }),
            _ => Ok(()),
        }
    }

    /// `CheckFallbackValid`: no fallback, or one with both numbers at least 0 and (unless
    /// `scalingModifiers` are in use) at least one trigger that is not cpu or memory.
    /// Despite upstream's message, the metric type is not checked.
    pub fn check_fallback(&self, uses_scaling_modifiers: bool) -> Result<(), KedaError> {
        let Some(f) = &self.fallback else { return Ok(()) };
        if !f.is_valid() {
            return Err(KedaError::FallbackNegative { failure_threshold: f.failure_threshold, replicas: f.replicas });
        }
        if !uses_scaling_modifiers && self.triggers.iter().all(|t| t.trigger_type.is_resource()) {
            return Err(KedaError::FallbackNeedsExternalTrigger { triggers: self.triggers.len() });
        }
        Ok(())
    }

    /// Everything a ScaledObject must satisfy before it scales: upstream's bounds and
    /// fallback checks (in that order, as KEDA's webhook runs them), then at least one
    /// trigger, metric types that fit their triggers, finite thresholds (above 0, and whole
    /// for `Utilization`), counts at least 0 (`maxReplicaCount` at least 1), a polling
    /// interval above 0 and a whole `paused-replicas`.
    pub fn validate(&self) -> Result<(), KedaError> {
        self.check_replica_bounds()?;
        self.check_fallback(false)?;
        let least = |field: &'static str, value: Option<i32>, least: i32| match value {
            Some(v) if v < least => Err(KedaError::ReplicaCount { field, value: v, least }),
            _ => Ok(()),
        };
        least("minReplicaCount", self.min_replica_count, 0)?;
        least("maxReplicaCount", self.max_replica_count, 1)?;
        least("idleReplicaCount", self.idle_replica_count, 0)?;
        if self.triggers.is_empty() {
            return Err(KedaError::NoTriggers);
        }
        for (index, t) in self.triggers.iter().enumerate() {
            let fits = match t.metric_type {
                MetricType::Utilization => t.trigger_type.is_resource(),
                MetricType::AverageValue => true,
                MetricType::Value => !t.trigger_type.is_resource(),
            };
            if !fits {
                return Err(KedaError::MetricType { index, metric_type: t.metric_type.as_str() });
            }
            let threshold = |rule| KedaError::Threshold { index, field: "threshold", value: t.threshold, rule };
            if !(t.threshold.is_finite() && t.threshold > 0.0) {
                return Err(threshold("must be a finite number greater than 0"));
            }
            if t.metric_type == MetricType::Utilization
                && (libm::trunc(t.threshold) != t.threshold || t.threshold > f64::from(i32::MAX))
            {
                return Err(threshold("must be a whole percent (int32) for Utilization"));
            }
            if !t.activation_threshold.is_finite() {
                return Err(KedaError::Threshold {
                    index,
                    field: "activationThreshold",
                    value: t.activation_threshold,
                    rule: "must be a finite number",
                });
            }
        }
        if self.polling_interval == Some(DurationMs::ZERO) {
            return Err(KedaError::PollingInterval(DurationMs::ZERO));
        }
        if let Some(Err(e)) = self.annotations.paused_replicas() {
            return Err(e);
        }
        Ok(())
    }

    /// The HPA KEDA creates for this object (`newHPAForScaledObject`): bounds, one metric per
    /// trigger, and the behavior, with scale-down (scale-up) disabled while scale-in
    /// (scale-out) is paused.
    #[must_use]
    pub fn hpa(&self) -> HpaSpec {
        let mut behavior = self.behavior.clone();
        let mut disable = |pick: fn(&mut Behavior) -> &mut Rules| {
            let b = behavior.get_or_insert_with(Behavior::default);
            pick(b).select = SelectPolicy::Disabled;
        };
        if self.annotations.pauses_scale_in() {
            disable(|b| &mut b.scale_down);
        }
        if self.annotations.pauses_scale_out() {
            disable(|b| &mut b.scale_up);
        }
        HpaSpec {
            min_replicas: self.hpa_min_replicas(),
            max_replicas: self.hpa_max_replicas(),
            metrics: self.triggers.iter().map(Trigger::metric_target).collect(),
            behavior,
        }
    }
}
