//! The reconciler's side: `scaler.scale()` (bounds, initial scale, and the actual
//! scale-to-zero decision with its grace period and pod retention; the decider only
//! proposes 0), and the PodAutoscaler state it keeps between reconciles (the activator's
//! mode and the Active condition).

use super::config::Config;
use super::resources::{initial_scale, Revision};
use super::Reachability;
use crate::units::DurationMs;

/// Added to the progress deadline before an activation that has not produced a pod is
/// given up (`activationTimeoutBuffer`).
pub const ACTIVATION_TIMEOUT_BUFFER: DurationMs = DurationMs(30_000);

/// The PodAutoscaler's `Active` condition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ActiveStatus {
    /// `True`: serving with enough ready pods.
    Active,
    /// `False`: scaled to zero (or about to be).
    Inactive,
    /// `Unknown`: pods are being brought up (requests are buffered).
    #[default]
    Activating,
}

/// The serverless service's mode: whether the activator is in the request path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SksMode {
    /// Requests go straight to the pods.
    #[default]
    Serve,
    /// Requests go through the activator (it buffers them while there are no pods).
    Proxy,
}

/// What the reconciler knows about the PodAutoscaler when it scales.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PaStatus {
    /// The `Active` condition.
    pub active: ActiveStatus,
    /// How long it has had that status.
    pub active_for: DurationMs,
    /// Whether the scale target has ever reached its initial scale.
    pub scale_target_initialized: bool,
    /// The serverless service's mode.
    pub sks_mode: SksMode,
    /// How long the activator has been in the path (`None`: it is not).
    pub proxy_for: Option<DurationMs>,
}

/// Which bound the reconciler applied to the proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Bound {
    /// None: the proposal was within the bounds.
    None,
    /// Raised to `min-scale`.
    MinScale,
    /// Raised to the initial scale (the target has not reached it yet).
    InitialScale,
    /// Lowered to `max-scale`.
    MaxScale,
}

/// The branch of `scale()` that decided: what a decision's reason says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ScaleBranch {
    /// The decider has no count yet (-1) and the revision is not activating: nothing done.
    NoMetrics,
    /// A positive count (after bounds): applied.
    Scale,
    /// 0 wanted but `enable-scale-to-zero` is off: 1 applied.
    ScaleToZeroDisabled,
    /// 0 wanted while activating: wait for the activation (-1 returned, not applied).
    Activating,
    /// Activating for longer than the progress deadline plus [`ACTIVATION_TIMEOUT_BUFFER`]:
    /// 0 applied.
    ActivationTimeout,
    /// Active and 0 wanted, but not yet idle for a stable window: 1 applied.
    IdleWait,
    /// Active and idle for a stable window: 0 returned but not applied (the PodAutoscaler is
    /// marked inactive first, so the activator takes the path).
    Deactivating,
    /// Inactive but the activator is not yet in the path (probe failed): wait.
    ProbeFailed,
    /// Inactive for the grace period and the pod retention period: 0 applied.
    ScaleToZero,
    /// Inactive, but the last pod is kept for the retention period: wait.
    PodRetention,
    /// Inactive and the activator has been in the path for the grace period: 0 applied.
    ScaleToZeroFastPath,
    /// Inactive, within the grace period: wait.
    GracePeriod,
}

/// What `scale()` decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScaleOutcome {
    /// The count returned (-1: unknown); what the PodAutoscaler's status is computed from.
    pub desired: i32,
    /// Whether `desired` is applied to the scale target.
    pub apply: bool,
    /// The replicas written to the scale target: `Some(desired)` when applied and
    /// different from the current replicas.
    pub patch: Option<i32>,
    /// A re-reconcile was requested (upstream enqueues one after the remaining time).
    pub requeue: bool,
    /// An asynchronous activator probe was requested.
    pub async_probe: bool,
    /// Which branch decided.
    pub branch: ScaleBranch,
    /// Which bound applied.
    pub bound: Bound,
}

/// A duration in nanoseconds, for comparisons with annotations' Go durations.
fn nanos(d: DurationMs) -> i128 {
    i128::from(d.0) * 1_000_000
}

/// The reconciler's `scale()` and `handleScaleToZero()` on the decider's proposal
/// `desired` (-1: no metrics yet), with the scale target at `current_replicas`:
/// - without a proposal, nothing is done unless activating;
/// - the proposal is bounded by `min-scale` (0 when unreachable), raised to the initial
///   scale while the target has not reached it (reachable only), and capped by `max-scale`;
/// - a positive count is applied; 0 is applied only when scale-to-zero is on and, when
///   activating, only after the progress deadline plus 30 s; an active revision first waits
///   a stable window holding 1 pod, then returns 0 unapplied (to be marked inactive); an
///   inactive one scales to zero once the activator answers `probe` (not asked when the
///   target burst capacity is -1: the activator is always in the path) and the grace period
///   and the pod retention period have passed, or at once when the activator has been in
///   the path for the grace period and no retention holds the pod.
///
/// `progress_deadline` is `config-deployment`'s, overridden by the revision's annotation.
pub fn reconcile_scale(
    cfg: &Config,
    progress_deadline: DurationMs,
    rev: &Revision,
    pa: &PaStatus,
    current_replicas: i32,
    desired: i32,
    probe: impl FnOnce() -> bool,
) -> ScaleOutcome {
    let ann = &rev.annotations;
    let unreachable = rev.reachability == Reachability::Unreachable;
    let outcome = |desired: i32, apply: bool, branch: ScaleBranch, bound: Bound| ScaleOutcome {
        desired,
        apply,
        patch: (apply && desired != current_replicas).then_some(desired),
        requeue: false,
        async_probe: false,
        branch,
        bound,
    };
    if desired < 0 && pa.active != ActiveStatus::Activating {
        return outcome(desired, false, ScaleBranch::NoMetrics, Bound::None);
    }
    let mut min = if unreachable { 0 } else { ann.min_scale.unwrap_or(cfg.min_scale) };
    let max = ann.max_scale.unwrap_or(cfg.max_scale);
    let mut min_bound = Bound::MinScale;
    let initial = initial_scale(cfg, ann);
    if initial > 1 && !pa.scale_target_initialized && !unreachable && initial > min {
        min = initial;
        min_bound = Bound::InitialScale;
    }
    let (desired, bound) = if desired < min {
        (min, min_bound)
    } else if max != 0 && desired > max {
        (max, Bound::MaxScale)
    } else {
        (desired, Bound::None)
    };
    if desired != 0 {
        return outcome(desired, true, ScaleBranch::Scale, bound);
    }
    if !cfg.enable_scale_to_zero {
        return outcome(1, true, ScaleBranch::ScaleToZeroDisabled, bound);
    }
    let waiting =
        |desired: i32, branch: ScaleBranch| ScaleOutcome { requeue: true, ..outcome(desired, false, branch, bound) };
    let active_for = nanos(pa.active_for);
    match pa.active {
        ActiveStatus::Activating => {
            let deadline = ann.progress_deadline.map_or(nanos(progress_deadline), |d| i128::from(d.0));
            if active_for > deadline + nanos(ACTIVATION_TIMEOUT_BUFFER) {
                outcome(0, true, ScaleBranch::ActivationTimeout, bound)
            } else {
                waiting(-1, ScaleBranch::Activating)
            }
        }
        ActiveStatus::Active => {
            let window = ann.window.map_or(nanos(cfg.stable_window), |d| i128::from(d.0));
            if active_for >= window {
                ScaleOutcome {
                    requeue: pa.sks_mode == SksMode::Proxy,
                    ..outcome(0, false, ScaleBranch::Deactivating, bound)
                }
            } else {
                ScaleOutcome { requeue: true, ..outcome(1, true, ScaleBranch::IdleWait, bound) }
            }
        }
        ActiveStatus::Inactive => {
            let tbc = ann.target_burst_capacity.unwrap_or(cfg.target_burst_capacity);
            // With an unlimited burst capacity the activator is always in the path.
            if tbc != -1.0 && !probe() {
                return ScaleOutcome { async_probe: true, ..outcome(0, false, ScaleBranch::ProbeFailed, bound) };
            }
            let retention = if unreachable {
                0
            } else {
                ann.scale_to_zero_pod_retention_period
                    .map_or(nanos(cfg.scale_to_zero_pod_retention_period), |d| i128::from(d.0))
            };
            let grace = nanos(cfg.scale_to_zero_grace_period);
            if active_for >= grace.max(retention) {
                return outcome(0, true, ScaleBranch::ScaleToZero, bound);
            }
            if retention > 0 && active_for < retention {
                return waiting(0, ScaleBranch::PodRetention);
            }
            if grace - pa.proxy_for.map_or(0, nanos) <= 0 {
                return outcome(0, true, ScaleBranch::ScaleToZeroFastPath, bound);
            }
            waiting(0, ScaleBranch::GracePeriod)
        }
    }
}

/// The serverless service's mode after a reconcile (`kpa.go`): the activator is put in the
/// path when the revision is scaled to zero (`want` 0, or unknown while inactive) or has
/// negative excess burst capacity; otherwise requests go straight to the pods.
#[must_use]
pub fn sks_mode(want: i32, excess_burst_capacity: i32, active: ActiveStatus) -> SksMode {
    if want == 0 || excess_burst_capacity < 0 || (want == -1 && active == ActiveStatus::Inactive) {
        SksMode::Proxy
    } else {
        SksMode::Serve
    }
}

/// The ready pods the revision needs to count as active (`activeThreshold`): `min-scale`
/// (the annotation's or the config's), and at least the initial scale until the scale
/// target has reached it, at least 1 afterwards.
#[must_use]
pub fn active_threshold(cfg: &Config, rev: &Revision, scale_target_initialized: bool) -> i32 {
    let min = rev.annotations.min_scale.unwrap_or(cfg.min_scale);
    if scale_target_initialized {
        min.max(1)
    } else {
        min.max(initial_scale(cfg, &rev.annotations))
    }
}

/// The `Active` condition after a reconcile (`computeActiveCondition`), from the current
/// one, the count `scale()` returned, the ready pods and [`active_threshold`] (computed
/// before this reconcile marks the target initialized, which it does once
/// `ready >= min_ready`): inactive when 0 is wanted (or nothing is needed); activating
/// while short of `min_ready` pods; active once there are enough; an inactive revision
/// without a positive count stays inactive.
#[must_use]
pub fn active_condition(current: ActiveStatus, want: i32, ready: u32, min_ready: i32) -> ActiveStatus {
    let ready = i64::from(ready);
    let min_ready = i64::from(min_ready);
    let wakes = want > 0 || current != ActiveStatus::Inactive;
    if want == 0 || min_ready == 0 {
        ActiveStatus::Inactive
    } else if ready < min_ready {
        if wakes {
            ActiveStatus::Activating
        } else {
            ActiveStatus::Inactive
        }
    } else if wakes {
        ActiveStatus::Active
    } else {
        current
    }
}
