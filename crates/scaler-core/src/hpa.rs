//! Kubernetes Horizontal Pod Autoscaler arithmetic, as pure functions.
//!
//! These follow the Kubernetes controller step by step (`replica_calculator.go` and
//! `horizontal.go`), including its integer and floating-point conventions, so that an
//! HPA-compatible policy decides exactly as HPA does: proportional sizing with
//! per-direction tolerance, the handling of unready and missing pods, per-pod average,
//! object and external value targets, several metrics, stabilization windows, `behavior`
//! rate policies and the legacy path. `scaler-sim conformance hpa` checks them against
//! vectors taken from Kubernetes' own tests.
//!
//! Quantities ending in `_m` are milli-units, as in Kubernetes. Ages are milliseconds.
//!
//! Overflow: every function here accepts any `i64` and never panics, in debug or release.
//! Integer sums, products and differences *saturate* at `i64::MIN`/`i64::MAX` (Kubernetes
//! works in `int32`/`int64` and never reaches these magnitudes; a saturated count is then
//! clamped to `[min, max]` by the caller like any other proposal), divisions use
//! `saturating_div` (`i64::MIN / -1` is `i64::MAX`), averages are summed in `i128` (exact), and
//! `f64` to `i64` casts are Rust's saturating casts (NaN becomes 0, infinities the bounds).
//! Tested with extreme values in `tests/it/hpa_extremes.rs`.

use alloc::vec::Vec;

/// Per-direction tolerance around a usage ratio of 1 (Kubernetes' default is 0.1 both ways).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tolerance {
    /// A ratio up to `1 + scale_up` does not scale up.
    pub scale_up: f64,
    /// A ratio down to `1 - scale_down` does not scale down.
    pub scale_down: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance { scale_up: 0.1, scale_down: 0.1 }
    }
}

impl Tolerance {
    /// True when `ratio` is close enough to 1 not to scale.
    #[must_use]
    pub fn within(&self, ratio: f64) -> bool {
        (1.0 - self.scale_down) <= ratio && ratio <= (1.0 + self.scale_up)
    }
}

/// HPA's classification of a pod for one metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodClass {
    /// Ready, with a metric sample.
    Ready,
    /// Not ready, or still in its CPU initialization period (resource metrics only).
    Unready,
    /// No metric sample.
    Missing,
    /// Being deleted or failed: left out entirely.
    Ignored,
}

/// A pod for a resource-utilization metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourcePod {
    /// Classification.
    pub class: PodClass,
    /// The pod's total request, milli-units.
    pub request_m: i64,
    /// The pod's total usage, milli-units (`None` when missing).
    pub usage_m: Option<i64>,
}

/// The result of proportional sizing on resource utilization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceReplicas {
    /// Proposed replicas.
    pub replicas: i64,
    /// Utilization of the ready pods with samples, integer percent.
    pub utilization_percent: i64,
    /// Their raw average usage, milli-units.
    pub raw_average_m: i64,
}

/// Why HPA could not compute a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HpaError {
    /// No pod had a usable sample.
    #[error("no metrics returned for any ready pod")]
    NoMetrics,
    /// Requests sum to zero.
    #[error("pods have no resource requests")]
    NoRequests,
}

/// The sums HPA's resource-utilization sizing works on: what `groupPods` sorts the pods
/// into, summed. [`resource_replicas`] builds them from a pod list; the `hpa` policy builds
/// them from the pool's observation. Both then size through [`resource_replicas_from_totals`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceTotals {
    /// Ready pods with a metric sample.
    pub ready_count: i64,
    /// Their summed usage, milli-units.
    pub ready_usage_m: i64,
    /// Their summed requests, milli-units.
    pub ready_request_m: i64,
    /// Unready pods (not ready, pending, or in their CPU initialization period).
    pub unready_count: i64,
    /// Their summed requests, milli-units.
    pub unready_request_m: i64,
    /// Pods without a metric sample.
    pub missing_count: i64,
    /// Their summed requests, milli-units.
    pub missing_request_m: i64,
    /// Their summed usage as assumed when scaling down: per pod
    /// `request * max(target, 100) / 100` (integer division per pod, as Kubernetes does).
    pub missing_fallback_usage_m: i64,
}

/// Kubernetes' integer percent: `usage * 100 / requests`, truncated.
fn percent(usage_m: i64, request_m: i64) -> Result<i64, HpaError> {
    if request_m == 0 {
        return Err(HpaError::NoRequests);
    }
    Ok(usage_m.saturating_mul(100).saturating_div(request_m))
}

/// `ceil(ratio * n)`; the cast to `i64` saturates (NaN gives 0).
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn ceil_mul(ratio: f64, n: i64) -> i64 {
    libm_ceil(ratio * n as f64) as i64
}

/// `f64::ceil` without `std` (exact for the magnitudes replica counts have).
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn libm_ceil(x: f64) -> f64 {
    if !x.is_finite() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = x as i64 as f64;
    if t < x {
        t + 1.0
    } else {
        t
    }
}

/// Proportional sizing on resource utilization (`GetResourceReplicas`) from a pod list.
///
/// Pods are grouped as Kubernetes' `groupPods` does: ignored pods are left out, an
/// `Unready` pod is unready whether or not it has a sample (a Pending pod has none), a
/// pod without a sample is missing, and the rest are ready.
pub fn resource_replicas(
    current: i64,
    target_percent: i64,
    tol: Tolerance,
    pods: &[ResourcePod],
) -> Result<ResourceReplicas, HpaError> {
    let mut t = ResourceTotals::default();
    let fallback = target_percent.max(100);
    for p in pods {
        match (p.class, p.usage_m) {
            (PodClass::Ignored, _) => {}
            (PodClass::Unready, _) => {
                t.unready_count = t.unready_count.saturating_add(1);
                t.unready_request_m = t.unready_request_m.saturating_add(p.request_m);
            }
            (PodClass::Missing, _) | (PodClass::Ready, None) => {
                t.missing_count = t.missing_count.saturating_add(1);
                t.missing_request_m = t.missing_request_m.saturating_add(p.request_m);
                t.missing_fallback_usage_m =
                    t.missing_fallback_usage_m.saturating_add(p.request_m.saturating_mul(fallback) / 100);
            }
            (PodClass::Ready, Some(u)) => {
                t.ready_count = t.ready_count.saturating_add(1);
                t.ready_usage_m = t.ready_usage_m.saturating_add(u);
                t.ready_request_m = t.ready_request_m.saturating_add(p.request_m);
            }
        }
    }
    resource_replicas_from_totals(current, target_percent, tol, &t)
}

/// Proportional sizing on resource utilization (`GetResourceReplicas`) from the sums:
/// the integer-percent utilization of the ready pods, the float64 tolerance test and
/// ceil, and the recomputation with missing pods (at 100 % or the target when scaling
/// down, 0 when scaling up) and unready pods (at 0, only when scaling up).
pub fn resource_replicas_from_totals(
    current: i64,
    target_percent: i64,
    tol: Tolerance,
    t: &ResourceTotals,
) -> Result<ResourceReplicas, HpaError> {
    if t.ready_count == 0 {
        return Err(HpaError::NoMetrics);
    }
    let util = percent(t.ready_usage_m, t.ready_request_m)?;
    let raw = t.ready_usage_m.saturating_div(t.ready_count);
    #[allow(clippy::cast_precision_loss)]
    let ratio = util as f64 / target_percent as f64;
    let scale_up_with_unready = t.unready_count > 0 && ratio > 1.0;
    if !scale_up_with_unready && t.missing_count == 0 {
        let replicas = if tol.within(ratio) { current } else { ceil_mul(ratio, t.ready_count) };
        return Ok(ResourceReplicas { replicas, utilization_percent: util, raw_average_m: raw });
    }
    let (mut usage, mut requests, mut count) = (t.ready_usage_m, t.ready_request_m, t.ready_count);
    if ratio < 1.0 {
        // Missing pods are assumed to use 100 % (or the target, if higher) when scaling down.
        usage = usage.saturating_add(t.missing_fallback_usage_m);
    }
    if ratio != 1.0 {
        // ... and nothing when scaling up.
        requests = requests.saturating_add(t.missing_request_m);
        count = count.saturating_add(t.missing_count);
    }
    if scale_up_with_unready {
        requests = requests.saturating_add(t.unready_request_m);
        count = count.saturating_add(t.unready_count);
    }
    #[allow(clippy::cast_precision_loss)]
    let new_ratio = percent(usage, requests)? as f64 / target_percent as f64;
    let flips = (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0);
    if tol.within(new_ratio) || flips {
        return Ok(ResourceReplicas { replicas: current, utilization_percent: util, raw_average_m: raw });
    }
    let proposed = ceil_mul(new_ratio, count);
    let replicas = if (new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current) {
        current
    } else {
        proposed
    };
    Ok(ResourceReplicas { replicas, utilization_percent: util, raw_average_m: raw })
}

/// A pod for a per-pod (`Pods`) metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValuePod {
    /// Classification (unready pods are not singled out for non-CPU metrics).
    pub class: PodClass,
    /// The pod's value, milli-units (`None` when missing).
    pub value_m: Option<i64>,
}

/// Proportional sizing on a per-pod average metric (`GetMetricReplicas`):
/// `(replicas, average_m)`.
pub fn pods_metric_replicas(
    current: i64,
    target_average_m: i64,
    tol: Tolerance,
    pods: &[ValuePod],
) -> Result<(i64, i64), HpaError> {
    let mut ready: Vec<i64> = Vec::new();
    let mut missing = 0usize;
    let mut unready = 0usize;
    for p in pods {
        match (p.class, p.value_m) {
            (PodClass::Ignored, _) => {}
            (PodClass::Unready, _) => unready += 1,
            (PodClass::Missing, _) | (PodClass::Ready, None) => missing += 1,
            (PodClass::Ready, Some(v)) => ready.push(v),
        }
    }
    let ratio_of = |values: &[i64]| -> Result<(f64, i64), HpaError> {
        if values.is_empty() {
            return Err(HpaError::NoMetrics);
        }
        // Summed in i128: exact for any number of i64 values a slice can hold, and the
        // average of i64 values is an i64 again.
        let sum: i128 = values.iter().map(|&v| i128::from(v)).sum();
        let len = i128::try_from(values.len()).unwrap_or(i128::MAX);
        let avg = i64::try_from(sum / len).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX });
        #[allow(clippy::cast_precision_loss)]
        Ok((avg as f64 / target_average_m as f64, avg))
    };
    let (ratio, avg) = ratio_of(&ready)?;
    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        let replicas =
            if tol.within(ratio) { current } else { ceil_mul(ratio, i64::try_from(ready.len()).unwrap_or(i64::MAX)) };
        return Ok((replicas, avg));
    }
    let mut all = ready.clone();
    if ratio < 1.0 {
        all.extend(core::iter::repeat_n(target_average_m, missing));
    } else if ratio > 1.0 {
        all.extend(core::iter::repeat_n(0, missing));
    }
    if scale_up_with_unready {
        all.extend(core::iter::repeat_n(0, unready));
    }
    let (new_ratio, _) = ratio_of(&all)?;
    let flips = (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0);
    if tol.within(new_ratio) || flips {
        return Ok((current, avg));
    }
    let proposed = ceil_mul(new_ratio, i64::try_from(all.len()).unwrap_or(i64::MAX));
    let replicas = if (new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current) {
        current
    } else {
        proposed
    };
    Ok((replicas, avg))
}

/// An object or external metric with a total-value target (`GetObjectMetricReplicas`,
/// `GetExternalMetricReplicas`): scales the *ready* pod count.
#[must_use]
pub fn value_replicas(current: i64, ready_pods: i64, usage_m: i64, target_m: i64, tol: Tolerance) -> i64 {
    #[allow(clippy::cast_precision_loss)]
    let ratio = usage_m as f64 / target_m as f64;
    if tol.within(ratio) {
        current
    } else {
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let r = libm_ceil(ratio * ready_pods as f64) as i64;
        r
    }
}

/// An object or external metric with a per-pod average target
/// (`GetObjectPerPodMetricReplicas`, `GetExternalPerPodMetricReplicas`): `(replicas, average_m)`.
#[must_use]
pub fn average_value_replicas(status_replicas: i64, usage_m: i64, target_average_m: i64, tol: Tolerance) -> (i64, i64) {
    #[allow(clippy::cast_precision_loss)]
    let ratio = usage_m as f64 / (target_average_m as f64 * status_replicas as f64);
    let replicas = if tol.within(ratio) {
        status_replicas
    } else {
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let r = libm_ceil(usage_m as f64 / target_average_m as f64) as i64;
        r
    };
    // Kubernetes reports the per-pod average rounded up.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let avg = if status_replicas == 0 { 0 } else { libm_ceil(usage_m as f64 / status_replicas as f64) as i64 };
    (replicas, avg)
}

/// Several metrics (`computeReplicasForMetrics`): the largest proposal wins; if any
/// metric is invalid and the result would scale down (or every metric is invalid), the
/// replicas stay as they are. `None` in `proposals` is an invalid metric.
#[must_use]
pub fn combine_metrics(current: i64, proposals: &[Option<i64>]) -> (i64, bool) {
    let invalid = proposals.iter().filter(|p| p.is_none()).count();
    let best = proposals.iter().flatten().copied().max().unwrap_or(0);
    if invalid >= proposals.len() || (invalid > 0 && best < current) {
        return (current, false);
    }
    (best, true)
}

/// A past recommendation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Recommendation {
    /// How long ago, ms.
    pub age_ms: u64,
    /// Replicas recommended.
    pub replicas: i64,
}

/// The legacy downscale stabilization (no `behavior`): the largest recommendation within
/// the window (`age <= window`, as Kubernetes' legacy path counts it).
#[must_use]
pub fn stabilize_legacy(prenormalized: i64, recommendations: &[Recommendation], window_ms: u64) -> i64 {
    recommendations.iter().filter(|r| r.age_ms <= window_ms).map(|r| r.replicas).fold(prenormalized, i64::max)
}

/// Stabilization with `behavior`: an envelope over the recommendations within each
/// window (`age < window`); the current replicas are moved only to the envelope's edge.
/// Returns `(replicas, reason)` with `ScaleUpStabilized` / `ScaleDownStabilized` when it held back.
#[must_use]
pub fn stabilize(
    current: i64,
    prenormalized: i64,
    recommendations: &[Recommendation],
    up_window_ms: u64,
    down_window_ms: u64,
) -> (i64, &'static str) {
    let mut up = prenormalized;
    let mut down = prenormalized;
    for r in recommendations {
        if r.age_ms < up_window_ms {
            up = up.min(r.replicas);
        }
        if r.age_ms < down_window_ms {
            down = down.max(r.replicas);
        }
    }
    let mut rec = current;
    let mut reason = "ReadyForNewScale";
    if rec < up {
        rec = up;
    }
    if rec > down {
        rec = down;
    }
    if rec != prenormalized {
        reason = if prenormalized > rec { "ScaleUpStabilized" } else { "ScaleDownStabilized" };
    }
    (rec, reason)
}

/// How `behavior` picks among its policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// A `behavior` rate policy's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PolicyType {
    /// An absolute number of pods per period.
    Pods,
    /// A percentage of the pods at the period's start.
    Percent,
}

/// One rate policy: at most `value` pods or percent per `period_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RatePolicy {
    /// Pods or Percent.
    pub kind: PolicyType,
    /// The amount.
    pub value: i64,
    /// The period, ms.
    pub period_ms: u64,
}

/// One direction of `behavior` (`scaleUp` or `scaleDown`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Rules {
    /// How to pick among the policies.
    pub select: SelectPolicy,
    /// Stabilization window, ms.
    pub stabilization_window_ms: u64,
    /// The rate policies.
    pub policies: Vec<RatePolicy>,
}

impl Rules {
    /// Kubernetes' default scale-up rules: no stabilization, max of 4 pods or 100 % per 15 s.
    #[must_use]
    pub fn default_up() -> Rules {
        Rules {
            select: SelectPolicy::Max,
            stabilization_window_ms: 0,
            policies: alloc::vec![
                RatePolicy { kind: PolicyType::Pods, value: 4, period_ms: 15_000 },
                RatePolicy { kind: PolicyType::Percent, value: 100, period_ms: 15_000 },
            ],
        }
    }

    /// Kubernetes' default scale-down rules: a 300 s window, 100 % per 15 s.
    #[must_use]
    pub fn default_down() -> Rules {
        Rules {
            select: SelectPolicy::Max,
            stabilization_window_ms: 300_000,
            policies: alloc::vec![RatePolicy { kind: PolicyType::Percent, value: 100, period_ms: 15_000 }],
        }
    }
}

/// A past scaling: its age and how many replicas it changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScaleEvent {
    /// How long ago, ms.
    pub age_ms: u64,
    /// Replicas added (for an up event) or removed (for a down event).
    pub replicas: i64,
}

/// Replicas changed by the events younger than `period_ms`, saturating.
fn changed_within(period_ms: u64, events: &[ScaleEvent]) -> i64 {
    events.iter().filter(|e| e.age_ms < period_ms).fold(0i64, |acc, e| acc.saturating_add(e.replicas))
}

/// The replica count at the start of a period: `current - added + removed`, saturating.
fn period_start(current: i64, period_ms: u64, up_events: &[ScaleEvent], down_events: &[ScaleEvent]) -> i64 {
    current.saturating_sub(changed_within(period_ms, up_events)).saturating_add(changed_within(period_ms, down_events))
}

/// The highest replica count the scale-up rules allow (`calculateScaleUpLimitWithScalingRules`).
#[must_use]
pub fn scale_up_limit(current: i64, up_events: &[ScaleEvent], down_events: &[ScaleEvent], rules: &Rules) -> i64 {
    let (mut result, pick): (i64, fn(i64, i64) -> i64) = match rules.select {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i64::from(i32::MAX), i64::min),
        SelectPolicy::Max => (i64::from(i32::MIN), i64::max),
    };
    for p in &rules.policies {
        let start = period_start(current, p.period_ms, up_events, down_events);
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let proposed = match p.kind {
            PolicyType::Pods => start.saturating_add(p.value),
            // The float product's cast saturates.
            PolicyType::Percent => libm_ceil(start as f64 * (1.0 + p.value as f64 / 100.0)) as i64,
        };
        result = pick(result, proposed);
    }
    result
}

/// The lowest replica count the scale-down rules allow (`calculateScaleDownLimitWithBehaviors`).
#[must_use]
pub fn scale_down_limit(current: i64, up_events: &[ScaleEvent], down_events: &[ScaleEvent], rules: &Rules) -> i64 {
    let (mut result, pick): (i64, fn(i64, i64) -> i64) = match rules.select {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i64::from(i32::MIN), i64::max),
        SelectPolicy::Max => (i64::from(i32::MAX), i64::min),
    };
    for p in &rules.policies {
        let start = period_start(current, p.period_ms, up_events, down_events);
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let proposed = match p.kind {
            PolicyType::Pods => start.saturating_sub(p.value),
            // Go's int32(float64) truncates toward zero; Rust's cast also saturates.
            PolicyType::Percent => (start as f64 * (1.0 - p.value as f64 / 100.0)) as i64,
        };
        result = pick(result, proposed);
    }
    result
}

/// `behavior` rate limits and min/max (`convertDesiredReplicasWithBehaviorRate`):
/// `(replicas, condition)`.
#[must_use]
#[allow(clippy::too_many_arguments)]
pub fn rate_limit(
    current: i64,
    desired: i64,
    min: i64,
    max: i64,
    up: &Rules,
    down: &Rules,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
) -> (i64, &'static str) {
    if desired > current {
        let limit = scale_up_limit(current, up_events, down_events, up).max(current);
        let (allowed, reason) = if max > limit { (limit, "ScaleUpLimit") } else { (max, "TooManyReplicas") };
        if desired > allowed {
            return (allowed, reason);
        }
    } else if desired < current {
        let limit = scale_down_limit(current, up_events, down_events, down).min(current);
        let (allowed, reason) = if min < limit { (limit, "ScaleDownLimit") } else { (min, "TooFewReplicas") };
        if desired < allowed {
            return (allowed, reason);
        }
    }
    (desired, "DesiredWithinRange")
}

/// The legacy limits without `behavior` (`convertDesiredReplicasWithRules`): scale up to at
/// most `max(factor * current, 4)`, within `[min, max]`.
#[must_use]
pub fn legacy_limit(current: i64, desired: i64, min: i64, max: i64, factor: f64) -> (i64, &'static str) {
    // The cast saturates at the i64 bounds; a NaN product gives 4 (`f64::max` ignores NaN).
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let up_limit = (factor * current as f64).max(4.0) as i64;
    let (allowed_max, reason) = if max > up_limit { (up_limit, "ScaleUpLimit") } else { (max, "TooManyReplicas") };
    if desired < min {
        (min, "TooFewReplicas")
    } else if desired > allowed_max {
        (allowed_max, reason)
    } else {
        (desired, "DesiredWithinRange")
    }
}
