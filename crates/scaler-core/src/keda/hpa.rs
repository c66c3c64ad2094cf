//! The HPA a ScaledObject creates: its bounds, one metric per trigger, its behavior, and its
//! proposal from the metrics KEDA serves, through [`crate::hpa`].

use alloc::vec::Vec;

use crate::hpa::{self as k8s, Tolerance};

use super::metric::MetricTarget;
use super::spec::Behavior;

/// The HPA KEDA creates ([`ScaledObjectSpec::hpa`](super::ScaledObjectSpec::hpa)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HpaSpec {
    /// `minReplicas`: `minReplicaCount` when above 0, else 1.
    pub min_replicas: i32,
    /// `maxReplicas`: `maxReplicaCount`, else 100.
    pub max_replicas: i32,
    /// One metric target per trigger, in the spec's order.
    pub metrics: Vec<MetricTarget>,
    /// `behavior` (`None`: the legacy path); a paused direction's `selectPolicy` is `Disabled`.
    pub behavior: Option<Behavior>,
}

/// What the HPA reads for one of its metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpaReading {
    /// An external metric as KEDA serves it, milli-units (a [`TriggerPoll::served_m`](super::TriggerPoll::served_m)).
    Served(i64),
    /// A resource metric's proposal, computed by the caller (with
    /// [`crate::hpa::resource_replicas_from_totals`], for `Utilization` targets).
    Proposal(i64),
    /// No value (a failed fetch): blocks scale-down, as in HPA.
    Invalid,
}

/// The HPA's proposal for one external metric: `AverageValue` through
/// [`crate::hpa::average_value_replicas`] (over the current replicas), `Value` through
/// [`crate::hpa::value_replicas`] (over the ready ones); `None` for a `Utilization` target,
/// which needs the pods' requests.
#[must_use]
pub fn external_replicas(target: MetricTarget, current: i64, ready: i64, usage_m: i64, tol: Tolerance) -> Option<i64> {
    match target {
        MetricTarget::AverageValue { value_m } => Some(k8s::average_value_replicas(current, usage_m, value_m, tol).0),
        MetricTarget::Value { value_m } => Some(k8s::value_replicas(current, ready, usage_m, value_m, tol)),
        MetricTarget::Utilization { .. } => None,
    }
}

impl HpaSpec {
    /// The HPA's proposal from its metrics (`computeReplicasForMetrics`): each metric's
    /// proposal ([`external_replicas`] for a served value), then [`crate::hpa::combine_metrics`]
    /// (the largest wins; an invalid metric blocks only scale-down). `readings` is aligned
    /// with [`HpaSpec::metrics`] (a missing reading is invalid). Returns `(replicas, valid)`;
    /// stabilization and rate limits ([`crate::hpa::stabilize`], [`crate::hpa::rate_limit`]
    /// with [`HpaSpec::behavior`] and the bounds) come after, as in HPA. At 0 replicas the
    /// HPA does not scale at all (`ScalingDisabled`): `(0, false)`.
    #[must_use]
    pub fn proposal(&self, current: i64, ready: i64, readings: &[HpaReading], tol: Tolerance) -> (i64, bool) {
        if current == 0 {
            return (0, false);
        }
        let proposals: Vec<Option<i64>> = self
            .metrics
            .iter()
            .enumerate()
            .map(|(i, &target)| match readings.get(i).copied().unwrap_or(HpaReading::Invalid) {
                HpaReading::Served(usage_m) => external_replicas(target, current, ready, usage_m, tol),
                HpaReading::Proposal(p) => Some(p),
                HpaReading::Invalid => None,
            })
            .collect();
        k8s::combine_metrics(current, &proposals)
    }
}
