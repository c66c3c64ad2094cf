//! The one decision type: what to do, to how many workers, and why.

use core::fmt;

use crate::units::{Fixed9, TimeMs};

/// What the scaler asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Action {
    /// Add workers up to `target_workers`.
    ScaleUp,
    /// Remove workers down to `target_workers`.
    ScaleDown,
    /// Keep the current workers.
    Hold,
}

impl Action {
    /// The code used in files: `scale_up`, `scale_down` or `hold`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ScaleUp => "scale_up",
            Action::ScaleDown => "scale_down",
            Action::Hold => "hold",
        }
    }

    /// True for a scale up or down.
    #[must_use]
    pub fn is_scaling(self) -> bool {
        self != Action::Hold
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a decision was taken: the rule of SPEC section 4 that matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Reason {
    /// Rule 1: the window is empty.
    NoMetrics,
    /// Rule 2: fewer workers than `min_workers`.
    BelowMinWorkers,
    /// Rule 3: more workers than `max_workers`.
    AboveMaxWorkers,
    /// Rule 4: within `cooldown_period` of the last successful scaling.
    Cooldown,
    /// Rule 5: utilization is high but nothing is pending.
    NoPendingTasks,
    /// Rule 5: utilization is high but the pool is at `max_workers`.
    AtMaxWorkers,
    /// Rule 5: utilization above `scale_up_threshold`.
    UtilizationHigh,
    /// Rule 6: utilization is low but the pool is at `min_workers`.
    AtMinWorkers,
    /// Rule 6: utilization below `scale_down_threshold`.
    UtilizationLow,
    /// Rule 7: utilization within the band.
    WithinBand,
    /// HPA: the desired count is within the acceptable range.
    DesiredWithinRange,
    /// HPA: limited by the scale-up rate rules.
    ScaleUpLimit,
    /// HPA: limited by the scale-down rate rules.
    ScaleDownLimit,
    /// HPA: limited by the maximum.
    TooManyReplicas,
    /// HPA: limited by the minimum.
    TooFewReplicas,
    /// HPA: held back by the scale-up stabilization window.
    ScaleUpStabilized,
    /// HPA: held back by the scale-down stabilization window.
    ScaleDownStabilized,
    /// Step: a step adjustment for a breach of the upper alarm.
    StepScaleOut,
    /// Step: a step adjustment for a breach of the lower alarm.
    StepScaleIn,
    /// Step: no alarm in breach, or no step matches.
    NoAlarm,
    /// Step: new workers are still warming up and already cover the step.
    WarmingUp,
    /// Queue: the backlog needs more workers.
    QueueBacklog,
    /// Queue: fewer workers can drain the backlog in time.
    QueueShrink,
    /// Queue: the backlog matches the workers.
    QueueMatched,
    /// Queue: below the activation threshold, staying at zero.
    BelowActivation,
    /// Queue: idle for the grace period: scale to the minimum (zero when allowed).
    IdleScaleToZero,
    /// Predictive: the forecast one provisioning delay ahead needs more workers.
    ForecastHigh,
}

impl Reason {
    /// Every reason, in rule order.
    pub const ALL: [Reason; 27] = [
        Reason::NoMetrics,
        Reason::BelowMinWorkers,
        Reason::AboveMaxWorkers,
        Reason::Cooldown,
        Reason::NoPendingTasks,
        Reason::AtMaxWorkers,
        Reason::UtilizationHigh,
        Reason::AtMinWorkers,
        Reason::UtilizationLow,
        Reason::WithinBand,
        Reason::DesiredWithinRange,
        Reason::ScaleUpLimit,
        Reason::ScaleDownLimit,
        Reason::TooManyReplicas,
        Reason::TooFewReplicas,
        Reason::ScaleUpStabilized,
        Reason::ScaleDownStabilized,
        Reason::StepScaleOut,
        Reason::StepScaleIn,
        Reason::NoAlarm,
        Reason::WarmingUp,
        Reason::QueueBacklog,
        Reason::QueueShrink,
        Reason::QueueMatched,
        Reason::BelowActivation,
        Reason::IdleScaleToZero,
        Reason::ForecastHigh,
    ];

    /// The reason code used in files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NoMetrics => "no_metrics",
            Reason::BelowMinWorkers => "below_min_workers",
            Reason::AboveMaxWorkers => "above_max_workers",
            Reason::Cooldown => "cooldown",
            Reason::NoPendingTasks => "no_pending_tasks",
            Reason::AtMaxWorkers => "at_max_workers",
            Reason::UtilizationHigh => "utilization_high",
            Reason::AtMinWorkers => "at_min_workers",
            Reason::UtilizationLow => "utilization_low",
            Reason::WithinBand => "within_band",
            Reason::DesiredWithinRange => "DesiredWithinRange",
            Reason::ScaleUpLimit => "ScaleUpLimit",
            Reason::ScaleDownLimit => "ScaleDownLimit",
            Reason::TooManyReplicas => "TooManyReplicas",
            Reason::TooFewReplicas => "TooFewReplicas",
            Reason::ScaleUpStabilized => "ScaleUpStabilized",
            Reason::ScaleDownStabilized => "ScaleDownStabilized",
            Reason::StepScaleOut => "step_scale_out",
            Reason::StepScaleIn => "step_scale_in",
            Reason::NoAlarm => "no_alarm",
            Reason::WarmingUp => "warming_up",
            Reason::QueueBacklog => "queue_backlog",
            Reason::QueueShrink => "queue_shrink",
            Reason::QueueMatched => "queue_matched",
            Reason::BelowActivation => "below_activation",
            Reason::IdleScaleToZero => "idle_scale_to_zero",
            Reason::ForecastHigh => "forecast_high",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision of the scaler at one instant, carrying its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Decision {
    /// When it was decided.
    pub at: TimeMs,
    /// Scale up, scale down or hold.
    pub action: Action,
    /// The worker count asked for (the current count for a hold; 0 for `no_metrics`).
    pub target_workers: u32,
    /// The rule that decided.
    pub reason: Reason,
    /// The window's aggregate utilization (rounded to 9 places); `None` when the window is empty.
    pub window_utilization: Option<Fixed9>,
    /// `current_workers` of the newest observation in the window (0 when empty).
    pub current_workers: u32,
    /// `pending_tasks` of the newest observation in the window (0 when empty).
    pub pending_tasks: u64,
}

impl Decision {
    /// True for a scale up or down.
    #[must_use]
    pub fn is_scaling(&self) -> bool {
        self.action.is_scaling()
    }
}
