//! Metric values: the quantity KEDA serves to the HPA, activity, the HPA metric target, and
//! the fallback with its per-trigger health.

use core::fmt::Write as _;

use super::spec::{Fallback, FallbackBehavior, MetricType};

/// The quantity KEDA serves for a scaler's float64 value, in milli-units
/// (`quantityFromFloat64`): NaN, infinities and negative values are 0; any other value is
/// the quantity written with three decimals (`"%.3f"`: correctly rounded, ties to even, so
/// values below 0.0005 are 0). Values of `i64::MAX / 1000` and more saturate at `i64::MAX`.
#[must_use]
pub fn quantity_m(value: f64) -> i64 {
    // `value <= 0.0` also covers -0.0, which would print a sign.
    if value.is_nan() || value.is_infinite() || value <= 0.0 {
        return 0;
    }
    // i64::MAX milli-units is 9_223_372_036_854_775.807 units.
    if value >= 9_223_372_036_854_775.0 {
        return i64::MAX;
    }
    let mut text = Digits::default();
    if write!(text, "{value:.3}").is_err() {
        return i64::MAX;
    }
    // "123.456" is 123456 milli-units: the digits without the point.
    let mut milli: i64 = 0;
    for &b in &text.bytes[..text.len] {
        if b.is_ascii_digit() {
            match milli.checked_mul(10).and_then(|m| m.checked_add(i64::from(b - b'0'))) {
                Some(m) => milli = m,
                None => return i64::MAX,
            }
        }
    }
    milli
}

/// A small text buffer for [`quantity_m`] (no allocation).
struct Digits {
    bytes: [u8; 40],
    len: usize,
}

impl Default for Digits {
    fn default() -> Self {
        Digits { bytes: [0; 40], len: 0 }
    }
}

impl core::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).filter(|&e| e <= self.bytes.len()).ok_or(core::fmt::Error)?;
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A trigger's activity: its value strictly above its activation threshold (a value equal
/// to the threshold is inactive; with the default threshold 0, a value of 0 is inactive).
#[must_use]
pub fn is_active(value: f64, activation_threshold: f64) -> bool {
    value > activation_threshold
}

/// A pod's `status.phase` (the empty phase of a pod that has none yet is `Unset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    /// No phase reported.
    Unset,
    /// `Pending`.
    Pending,
    /// `Running`.
    Running,
    /// `Succeeded`.
    Succeeded,
    /// `Failed`.
    Failed,
    /// `Unknown`.
    Unknown,
}

/// The `kubernetes-workload` scaler's metric: the pods that have not finished (any phase but
/// `Succeeded` and `Failed`).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn workload_pods(phases: &[PodPhase]) -> f64 {
    phases.iter().filter(|p| !matches!(p, PodPhase::Succeeded | PodPhase::Failed)).count() as f64
}

/// The HPA metric target KEDA creates for a trigger (`GetMetricTargetMili`): the threshold
/// as a quantity in milli-units ([`quantity_m`]), or a whole percent for `Utilization`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MetricTarget {
    /// Per replica, milli-units.
    AverageValue {
        /// The target quantity.
        value_m: i64,
    },
    /// In total, milli-units.
    Value {
        /// The target quantity.
        value_m: i64,
    },
    /// Percent of the resource request.
    Utilization {
        /// The target percent.
        percent: i32,
    },
}

impl MetricTarget {
    /// The target of a `metric_type` trigger with `threshold` (the float cast to a percent
    /// saturates; [`ScaledObjectSpec::validate`](super::ScaledObjectSpec::validate) refuses a
    /// percent that is not whole).
    #[must_use]
    #[allow(clippy::cast_possible_truncation)]
    pub fn new(metric_type: MetricType, threshold: f64) -> MetricTarget {
        match metric_type {
            MetricType::AverageValue => MetricTarget::AverageValue { value_m: quantity_m(threshold) },
            MetricType::Value => MetricTarget::Value { value_m: quantity_m(threshold) },
            MetricType::Utilization => MetricTarget::Utilization { percent: threshold as i32 },
        }
    }

    /// The metric type.
    #[must_use]
    pub fn metric_type(self) -> MetricType {
        match self {
            MetricTarget::AverageValue { .. } => MetricType::AverageValue,
            MetricTarget::Value { .. } => MetricType::Value,
            MetricTarget::Utilization { .. } => MetricType::Utilization,
        }
    }
}

/// A trigger's health status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum HealthStatus {
    /// The last fetch succeeded.
    Happy,
    /// The last fetch failed.
    Failing,
}

/// A trigger's entry in `status.health` (kept only while the object has a valid fallback).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Health {
    /// `numberOfFailures`: consecutive failed fetches (saturating).
    pub failures: i32,
    /// `status`.
    pub status: HealthStatus,
}

/// The metric served for a trigger at one fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Served {
    /// What the HPA reads, milli-units.
    pub value_m: i64,
    /// The value is the fallback's: the trigger then counts as active and not in error.
    pub fallback_active: bool,
}

/// Why no metric is served for a trigger.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FallbackError<E> {
    /// The scaler's own error, passed through (no fallback, an invalid one, or not yet past
    /// its failure threshold).
    #[error("{0}")]
    Scaler(E),
    /// The fallback itself could not be computed: a `Value` target with no ready replica.
    #[error("error performing fallback")]
    Failed,
}

/// The replica count the fallback stands for (`doFallback`): `static` gives
/// `fallback.replicas`, `currentReplicas` the current count, and the `IfHigher`/`IfLower`
/// behaviours the larger/smaller of the two.
#[must_use]
pub fn fallback_replicas(fallback: &Fallback, current_replicas: i32) -> i32 {
    let r = fallback.replicas;
    match fallback.behavior {
        FallbackBehavior::Static => r,
        FallbackBehavior::CurrentReplicas => current_replicas,
        FallbackBehavior::CurrentReplicasIfHigher => current_replicas.max(r),
        FallbackBehavior::CurrentReplicasIfLower => current_replicas.min(r),
    }
}

/// The metric the fallback serves for `replicas` (`doFallback`): `target * 1000 * replicas`
/// milli-units in float64, truncated toward zero (the cast saturates), so that the HPA
/// computes `replicas` for an `AverageValue` target. For a `Value` target the replicas are
/// first divided by the ready replicas (`None` when there is none). The target is the HPA's
/// target quantity as a float (milli-units / 1000); a `Utilization` target, whose metric
/// never reaches KEDA's fallback, serves 0 as upstream's would.
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
pub fn fallback_value_m(target: MetricTarget, replicas: i32, ready_replicas: i32) -> Option<i64> {
    let mut r = f64::from(replicas);
    let normalisation = match target {
        MetricTarget::AverageValue { value_m } => value_m as f64 / 1000.0,
        MetricTarget::Value { value_m } => {
            if ready_replicas == 0 {
                return None;
            }
            r /= f64::from(ready_replicas);
            value_m as f64 / 1000.0
        }
        MetricTarget::Utilization { .. } => 0.0,
    };
    Some((normalisation * 1000.0 * r) as i64)
}

/// One fetch of a trigger's metric through the fallback (`GetMetricsWithFallback`).
///
/// `health` is the trigger's entry in `status.health`; it changes only when `fallback` is
/// valid: a success resets it to `{0, Happy}`, an error adds a failure and marks it
/// `Failing`. Once the failures are **strictly** more than `failureThreshold`, the fallback
/// ([`fallback_replicas`] of `current_replicas`, [`fallback_value_m`] with
/// `ready_replicas`) is served instead of the error. A success serves [`quantity_m`] of the
/// value. Without a fallback, or with an invalid one, an error passes through untouched.
pub fn metric_with_fallback<E>(
    fallback: Option<&Fallback>,
    target: MetricTarget,
    health: &mut Option<Health>,
    result: Result<f64, E>,
    current_replicas: i32,
    ready_replicas: i32,
) -> Result<Served, FallbackError<E>> {
    let valid = fallback.filter(|f| f.is_valid());
    let error = match result {
        Ok(value) => {
            if valid.is_some() {
                *health = Some(Health { failures: 0, status: HealthStatus::Happy });
            }
            return Ok(Served { value_m: quantity_m(value), fallback_active: false });
        }
        Err(e) => e,
    };
    let Some(f) = valid else { return Err(FallbackError::Scaler(error)) };
    let failures = health.map_or(0, |h| h.failures).saturating_add(1);
    *health = Some(Health { failures, status: HealthStatus::Failing });
    if failures <= f.failure_threshold {
        return Err(FallbackError::Scaler(error));
    }
    match fallback_value_m(target, fallback_replicas(f, current_replicas), ready_replicas) {
        Some(value_m) => Ok(Served { value_m, fallback_active: true }),
        None => Err(FallbackError::Failed),
    }
}

/// The object's `Fallback` condition after a fetch: `Some(true)` when some trigger is
/// `Failing` with more failures than the threshold, `Some(false)` otherwise, and `None`
/// (left as it was) without a valid fallback.
pub fn fallback_condition<'a>(
    fallback: Option<&Fallback>,
    health: impl IntoIterator<Item = &'a Health>,
) -> Option<bool> {
    let f = fallback.filter(|f| f.is_valid())?;
    Some(health.into_iter().any(|h| h.status == HealthStatus::Failing && h.failures > f.failure_threshold))
}
