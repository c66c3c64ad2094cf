//! One poll: every trigger through the fallback, the object's activity, then the executor.

use alloc::vec::Vec;

use crate::units::TimeMs;

use super::executor::{request_scale, Branch, ScaleResult, ScaledObjectStatus};
use super::metric::{fallback_condition, is_active, metric_with_fallback};
use super::spec::{KedaError, ScaledObjectSpec};

/// One trigger's outcome at a poll.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TriggerPoll {
    /// A cpu/memory trigger: KEDA fetches no metric for it (the HPA reads the resource
    /// itself), so it is neither active nor in error.
    pub resource: bool,
    /// The metric served to the HPA, milli-units (`None`: in error, or a resource trigger).
    pub served_m: Option<i64>,
    /// Active: the value strictly above the activation threshold, or the fallback serving.
    pub active: bool,
    /// The fetch failed (and no fallback was served).
    pub error: bool,
    /// The fallback is serving this trigger's metric.
    pub fallback_active: bool,
}

/// The object's state after a poll (`getScaledObjectState`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectState {
    /// Some trigger is active, or every trigger is cpu/memory and none is in error.
    pub is_active: bool,
    /// Some trigger is in error.
    pub is_error: bool,
    /// Some trigger is served by the fallback.
    pub fallback_active: bool,
    /// The indexes of the active triggers, in order (the names an activation event lists).
    pub active_triggers: Vec<usize>,
}

/// The object's activity from all its triggers' outcomes (every trigger is evaluated; none
/// short-circuits the others). An object whose triggers are all cpu/memory (or that has
/// none) is forced active when none is in error: otherwise it could never leave zero.
#[must_use]
pub fn scaled_object_state(triggers: &[TriggerPoll]) -> ObjectState {
    let mut s = ObjectState::default();
    for (i, t) in triggers.iter().enumerate() {
        if t.active {
            s.is_active = true;
            s.active_triggers.push(i);
        }
        s.is_error |= t.error;
        s.fallback_active |= t.fallback_active;
    }
    if triggers.iter().all(|t| t.resource) && !s.is_error {
        s.is_active = true;
    }
    s
}

/// What one poll found and decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Poll {
    /// Each trigger's outcome, in the spec's order.
    pub triggers: Vec<TriggerPoll>,
    /// The object's state.
    pub state: ObjectState,
    /// The `Fallback` condition after the poll (`None`: not touched, without a valid fallback).
    pub fallback_condition: Option<bool>,
    /// The executor's decision.
    pub scale: ScaleResult,
}

impl Poll {
    /// The fallback serves some trigger (the `FallbackExists` case for a policy's reason).
    #[must_use]
    pub fn fallback_active(&self) -> bool {
        self.state.fallback_active
    }
}

/// One poll at `now`: `readings` holds each trigger's scaler answer in the spec's order
/// (`Some(value)`, or `None` when the scaler failed; ignored for cpu/memory triggers),
/// `current_replicas` is the target's replica count (the HPA's changes since the last poll
/// included) and `ready_replicas` its Ready pods (read only by a `Value` fallback).
///
/// Each external trigger goes through [`metric_with_fallback`] (its health kept in
/// `status.health`, one failure per poll), is active when served by the fallback or when its
/// value is strictly above its activation threshold; then [`scaled_object_state`], then
/// [`request_scale`] with `status`. A `lastActiveTime` that needs no write is stored in
/// `status` here; the one an activation carries is stored by
/// [`ScaledObjectStatus::scale_written`] once the caller's write succeeded.
pub fn poll(
    spec: &ScaledObjectSpec,
    status: &mut ScaledObjectStatus,
    now: TimeMs,
    readings: &[Option<f64>],
    current_replicas: i32,
    ready_replicas: i32,
) -> Result<Poll, KedaError> {
    if readings.len() != spec.triggers.len() {
        return Err(KedaError::Readings { got: readings.len(), triggers: spec.triggers.len() });
    }
    status.health.resize(spec.triggers.len(), None);
    let fallback = spec.fallback.as_ref();
    let mut triggers = Vec::with_capacity(spec.triggers.len());
    for ((trigger, reading), health) in spec.triggers.iter().zip(readings).zip(status.health.iter_mut()) {
        if trigger.trigger_type.is_resource() {
            triggers.push(TriggerPoll { resource: true, ..TriggerPoll::default() });
            continue;
        }
        let result = reading.ok_or(());
        let served =
            metric_with_fallback(fallback, trigger.metric_target(), health, result, current_replicas, ready_replicas);
        triggers.push(match served {
            Ok(s) => TriggerPoll {
                resource: false,
                served_m: Some(s.value_m),
                active: s.fallback_active || reading.is_some_and(|v| is_active(v, trigger.activation_threshold)),
                error: false,
                fallback_active: s.fallback_active,
            },
            Err(_) => TriggerPoll { error: true, ..TriggerPoll::default() },
        });
    }
    let state = scaled_object_state(&triggers);
    let condition = fallback_condition(fallback, status.health.iter().flatten());
    let scale = request_scale(spec, status, now, current_replicas, state.is_active, state.is_error);
    if scale.branch == Branch::Active {
        status.last_active_time = scale.last_active_time;
    }
    Ok(Poll { triggers, state, fallback_condition: condition, scale })
}
