//! KEDA's ScaledObject arithmetic, exactly as kedacore/keda (v2.20) decides: activation,
//! cooldown to the minimum or idle count, fallback, pause, and the bounds and metric targets
//! of the HPA it creates. Pure functions over explicit state; the `keda` policy and
//! `scaler-sim conformance keda` both call them.
//!
//! How a ScaledObject works: KEDA creates an HPA ([`ScaledObjectSpec::hpa`]: `minReplicas =
//! minReplicaCount` if above 0, else 1; `maxReplicas = maxReplicaCount`, else 100) fed by
//! KEDA's external metrics, one per trigger. KEDA itself only moves the target between 0 (or
//! `idleReplicaCount`) and the HPA's range: every `pollingInterval` it evaluates all triggers
//! and calls its executor; between polls the HPA does the proportional scaling.
//!
//! One poll ([`poll`]), in upstream's order:
//!
//! 1. Each trigger's scaler answers with a metric value or an error. [`metric_with_fallback`]
//!    turns it into the metric served to the HPA (a [`quantity_m`]), counting the trigger's
//!    consecutive failures in [`ScaledObjectStatus::health`]; once a trigger has failed more
//!    than `fallback.failureThreshold` times, the fallback serves `target * replicas` and the
//!    trigger counts as active and not in error.
//! 2. A trigger is active when its value is strictly above its `activationThreshold`
//!    ([`is_active`]); the object is active when any trigger is, in error when any trigger is
//!    ([`scaled_object_state`]; an object with only cpu/memory triggers is always active).
//! 3. The executor ([`request_scale`]) decides, in this order: paused (nothing); active
//!    (scale up from zero or idle, else record `lastActiveTime`); inactive (wait for the
//!    fallback, report the error, scale in to `idleReplicaCount` or `minReplicaCount` once
//!    `cooldownPeriod` has passed since `lastActiveTime`, or raise to `minReplicaCount`).
//!    Its [`Branch`] says which case decided.
//!
//! Conventions: replica counts are Go `int32`s (`i32`); metric values are float64 (`f64`) as
//! scalers return them, and what KEDA serves to the HPA is a quantity in milli-units (`_m`,
//! `i64`). Times are [`TimeMs`](crate::TimeMs); a status's `created_at` of `None` is Go's zero
//! time ("long ago"). Cooldowns compare strictly (`lastActiveTime + cooldownPeriod < now`).
//!
//! Overflow: every function here accepts any input and never panics: failure counts
//! saturate, times add saturating, float-to-integer casts saturate (NaN gives 0), and the
//! HPA arithmetic is [`crate::hpa`]'s, which saturates too.
//!
//! Not modelled: `scalingModifiers` (composite formulas) and the `scalingModifiers` fallback
//! behaviour, ScaledJobs, and KEDA's metrics server path. Upstream also counts a fallback
//! failure on every metric fetch the HPA makes through KEDA's metrics server (unless the
//! trigger sets `useCachedMetrics`); here failures are counted once per poll, which is
//! upstream with `useCachedMetrics: true`.

mod executor;
mod hpa;
mod metric;
mod poll;
mod spec;

pub use executor::{
    request_scale, Branch, Condition, ConditionStatus, Event, EventKind, ScaleResult, ScaledObjectStatus,
};
pub use hpa::{external_replicas, HpaReading, HpaSpec};
pub use metric::{
    fallback_condition, fallback_replicas, fallback_value_m, is_active, metric_with_fallback, quantity_m,
    workload_pods, FallbackError, Health, HealthStatus, MetricTarget, PodPhase, Served,
};
pub use poll::{poll, scaled_object_state, ObjectState, Poll, TriggerPoll};
pub use spec::{
    annotation_bool, Annotations, Behavior, Fallback, FallbackBehavior, KedaError, MetricType, ScaledObjectSpec,
    Trigger, TriggerType, DEFAULT_COOLDOWN_PERIOD, DEFAULT_HPA_MAX_REPLICAS, DEFAULT_HPA_MIN_REPLICAS,
    DEFAULT_INITIAL_COOLDOWN_PERIOD, DEFAULT_POLLING_INTERVAL, FORCE_ACTIVATION, PAUSED, PAUSED_REPLICAS,
    PAUSED_SCALE_IN, PAUSED_SCALE_OUT,
};
