//! The executor (`RequestScale`): what KEDA does with one poll's activity and error.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::units::TimeMs;

use super::metric::Health;
use super::spec::ScaledObjectSpec;

/// What KEDA keeps about a ScaledObject between polls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScaledObjectStatus {
    /// `metadata.creationTimestamp`; `None` is Go's zero time (long ago), so the initial
    /// cooldown has always passed.
    pub created_at: Option<TimeMs>,
    /// `status.lastActiveTime`: the last poll that found the object active (and, when it
    /// scaled up from zero or idle, whose scale write succeeded).
    pub last_active_time: Option<TimeMs>,
    /// `status.health`, by trigger index (`None`: no entry).
    pub health: Vec<Option<Health>>,
}

impl ScaledObjectStatus {
    /// A new object's status.
    #[must_use]
    pub fn new(created_at: Option<TimeMs>) -> ScaledObjectStatus {
        ScaledObjectStatus { created_at, ..ScaledObjectStatus::default() }
    }

    /// Records that the scale write `result` asked for succeeded: an activation from zero or
    /// idle then sets `lastActiveTime` (upstream sets it only after a successful write).
    pub fn scale_written(&mut self, result: &ScaleResult) {
        if result.set_replicas.is_some() {
            if let Some(t) = result.last_active_time {
                self.last_active_time = Some(t);
            }
        }
    }
}

/// A condition's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`.
    Unknown,
}

impl ConditionStatus {
    /// Kubernetes' spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

/// A status condition as the executor sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Condition {
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// Upstream's reason.
    pub reason: &'static str,
    /// Upstream's message.
    pub message: &'static str,
}

const fn condition(status: ConditionStatus, reason: &'static str, message: &'static str) -> Condition {
    Condition { status, reason, message }
}

const READY: Condition =
    condition(ConditionStatus::True, "ScaledObjectReady", "ScaledObject is defined correctly and is ready for scaling");
const PARTIAL_ERROR: Condition = condition(
    ConditionStatus::Unknown,
    "PartialTriggerError",
    "Some triggers defined in ScaledObject are not working correctly",
);
const TRIGGER_ERROR: Condition =
    condition(ConditionStatus::False, "TriggerError", "Triggers defined in ScaledObject are not working correctly");
const ACTIVE: Condition =
    condition(ConditionStatus::True, "ScalerActive", "Scaling is performed because triggers are active");
const FORCED: Condition = condition(
    ConditionStatus::True,
    "ScalerActive",
    "Scaling is performed because activation is being forced by annotation",
);
const NOT_ACTIVE: Condition =
    condition(ConditionStatus::False, "ScalerNotActive", "Scaling is not performed because triggers are not active");
const COOLDOWN: Condition =
    condition(ConditionStatus::False, "ScalerCooldown", "Scaler cooling down because triggers are not active");
const PAUSED: Condition = condition(ConditionStatus::True, "ScaledObjectPaused", "ScaledObject is paused");

/// Which case of the executor decided (upstream's `switch` order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branch {
    /// Paused by annotation: nothing else happens (`paused-replicas` is applied by KEDA's
    /// controller, not here).
    Paused,
    /// Active at zero (or below the minimum with an idle count): scale to `minReplicaCount`
    /// (at least 1) and set `lastActiveTime` once written.
    Activate,
    /// Would activate, but scale-out is paused.
    ScaleOutPaused,
    /// Active, but some trigger failed: the HPA owns the count; `lastActiveTime` is **not**
    /// refreshed (Ready = Unknown / `PartialTriggerError`).
    PartialTriggerError,
    /// Active: the HPA owns the count; `lastActiveTime` is now.
    Active,
    /// Inactive and in error, with a fallback whose replicas are not 0: wait for the
    /// fallback to start (no scale-in meanwhile).
    AwaitingFallback,
    /// Inactive and in error without a fallback (Ready = False / `TriggerError`).
    TriggerError,
    /// Inactive past the cooldown: scale in to `idleReplicaCount`, else `minReplicaCount`.
    Deactivate,
    /// Would scale in, but scale-in is paused.
    ScaleInPaused,
    /// Inactive, still within the cooldown (`ScalerCooldown`).
    Cooldown,
    /// Inactive below `minReplicaCount` (no idle count): raise to it at once.
    RaiseToMin,
    /// Inactive and nothing to do (already at zero, idle or the minimum).
    Idle,
}

impl Branch {
    /// A stable name (the reason a policy reports).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Branch::Paused => "ScaledObjectPaused",
            Branch::Activate => "KEDAScaleTargetActivated",
            Branch::ScaleOutPaused => "PausedScaleOut",
            Branch::PartialTriggerError => "PartialTriggerError",
            Branch::Active => "ScalerActive",
            Branch::AwaitingFallback => "AwaitingFallback",
            Branch::TriggerError => "TriggerError",
            Branch::Deactivate => "KEDAScaleTargetDeactivated",
            Branch::ScaleInPaused => "PausedScaleIn",
            Branch::Cooldown => "ScalerCooldown",
            Branch::RaiseToMin => "MinReplicaCount",
            Branch::Idle => "ScalerNotActive",
        }
    }
}

/// An event's reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `KEDAScaleTargetActivated`.
    Activated,
    /// `KEDAScaleTargetDeactivated`.
    Deactivated,
}

/// An event the executor records once its scale write succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Activated or deactivated.
    pub kind: EventKind,
    /// Replicas before.
    pub from: i32,
    /// Replicas after.
    pub to: i32,
    /// The activation was forced by annotation.
    pub forced: bool,
}

impl Event {
    /// The event type (`Normal`).
    #[must_use]
    pub fn event_type(&self) -> &'static str {
        "Normal"
    }

    /// The event reason.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self.kind {
            EventKind::Activated => "KEDAScaleTargetActivated",
            EventKind::Deactivated => "KEDAScaleTargetDeactivated",
        }
    }

    /// The event message, for a scale target of kind `target_kind` named `namespace/name`,
    /// with the names of the active triggers.
    #[must_use]
    pub fn message(&self, target_kind: &str, namespace: &str, name: &str, active_triggers: &[&str]) -> String {
        let (from, to) = (self.from, self.to);
        match (self.kind, self.forced) {
            (EventKind::Activated, false) => format!(
                "Scaled {target_kind} {namespace}/{name} from {from} to {to}, triggered by {}",
                active_triggers.join(";")
            ),
            (EventKind::Activated, true) => format!(
                "Scaled {target_kind} {namespace}/{name} from {from} to {to}, caused by forced activation annotation"
            ),
            (EventKind::Deactivated, _) => format!("Deactivated {target_kind} {namespace}/{name} from {from} to {to}"),
        }
    }
}

/// What one executor call decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleResult {
    /// The case that decided.
    pub branch: Branch,
    /// The replica count written to the target's scale (`None`: not written).
    pub set_replicas: Option<i32>,
    /// The `Active` condition (`None`: not touched).
    pub active: Option<Condition>,
    /// The `Ready` condition.
    pub ready: Condition,
    /// The `Paused` condition (`None`: not touched).
    pub paused: Option<Condition>,
    /// A new `lastActiveTime` (now). For [`Branch::Activate`] it stands only once the write
    /// succeeded ([`ScaledObjectStatus::scale_written`]).
    pub last_active_time: Option<TimeMs>,
    /// The event recorded with a successful write.
    pub event: Option<Event>,
}

/// One executor call (`RequestScale`) at `now`, for a target at `current_replicas`, after a
/// poll that found the object `is_active` and `is_error` (see
/// [`scaled_object_state`](super::scaled_object_state)). Pure: the caller writes
/// `set_replicas` and stores `last_active_time` ([`poll`](super::poll) stores it for
/// [`Branch::Active`]; for [`Branch::Activate`], [`ScaledObjectStatus::scale_written`] does
/// once the write succeeded).
///
/// Cases, in upstream's order: paused; active or forced (from zero, or below the minimum
/// with an idle count: scale to the minimum, at least 1, unless scale-out is paused; else in
/// error: nothing, not even `lastActiveTime`; else `lastActiveTime = now`); inactive (in
/// error with a fallback whose replicas are not 0: nothing; in error without a fallback:
/// Ready False; above the idle count, or above 0 with a minimum of 0: unless scale-in is
/// paused, scale to the idle count (else the minimum) once `lastActiveTime +
/// cooldownPeriod < now`, or, with no `lastActiveTime`, once `created + initialCooldownPeriod
/// < now`, both strict; without an idle count and below the minimum: raise to it).
#[must_use]
pub fn request_scale(
    spec: &ScaledObjectSpec,
    status: &ScaledObjectStatus,
    now: TimeMs,
    current_replicas: i32,
    is_active: bool,
    is_error: bool,
) -> ScaleResult {
    let mut r = ScaleResult {
        branch: Branch::Idle,
        set_replicas: None,
        active: None,
        ready: READY,
        paused: None,
        last_active_time: None,
        event: None,
    };
    let notes = &spec.annotations;
    if notes.is_paused() {
        r.branch = Branch::Paused;
        r.paused = Some(PAUSED);
        return r;
    }
    let min = spec.min_replicas();
    let idle = spec.idle_replica_count;
    let forced = notes.forces_activation();
    if is_active || forced {
        r.active = Some(if forced { FORCED } else { ACTIVE });
        if (idle.is_some() && current_replicas < min) || current_replicas == 0 {
            if notes.pauses_scale_out() {
                r.branch = Branch::ScaleOutPaused;
            } else {
                let to = spec.min_replica_count.filter(|&m| m > 0).unwrap_or(1);
                r.branch = Branch::Activate;
                r.set_replicas = Some(to);
                r.last_active_time = Some(now);
                r.event = Some(Event { kind: EventKind::Activated, from: current_replicas, to, forced });
            }
        } else if is_error {
            r.branch = Branch::PartialTriggerError;
            r.ready = PARTIAL_ERROR;
        } else {
            r.branch = Branch::Active;
            r.last_active_time = Some(now);
        }
        return r;
    }
    r.active = Some(NOT_ACTIVE);
    if is_error && spec.fallback.is_some_and(|f| f.replicas != 0) {
        r.branch = Branch::AwaitingFallback;
    } else if is_error && spec.fallback.is_none() {
        r.branch = Branch::TriggerError;
        r.ready = TRIGGER_ERROR;
    } else if idle.is_some_and(|i| current_replicas > i) || (current_replicas > 0 && min == 0) {
        if notes.pauses_scale_in() {
            r.branch = Branch::ScaleInPaused;
        } else if cooled_down(spec, status, now) {
            let to = idle.unwrap_or(min);
            r.branch = Branch::Deactivate;
            r.set_replicas = Some(to);
            r.event = Some(Event { kind: EventKind::Deactivated, from: current_replicas, to, forced: false });
        } else {
            r.branch = Branch::Cooldown;
            r.active = Some(COOLDOWN);
        }
    } else if idle.is_none() && current_replicas < min {
        r.branch = Branch::RaiseToMin;
        r.set_replicas = Some(min);
    }
    r
}

/// The cooldown has passed (both comparisons strict): since `lastActiveTime` when there is
/// one, else since creation by `initialCooldownPeriod` (always, for an unknown creation).
fn cooled_down(spec: &ScaledObjectSpec, status: &ScaledObjectStatus, now: TimeMs) -> bool {
    match (status.last_active_time, status.created_at) {
        (Some(last), _) => last.saturating_add(spec.cooldown_period()) < now,
        (None, Some(created)) => created.saturating_add(spec.initial_cooldown_period()) < now,
        (None, None) => true,
    }
}
