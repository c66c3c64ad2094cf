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

/// Defines [`Reason`] from one list: each variant with its file code (which is also
/// its serde name) and its documentation; `ALL` and `as_str` follow from the list.
macro_rules! reasons {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal,)*) => {
        /// Why a decision was taken: the rule that matched. New policies add reasons, so
        /// the enum is non-exhaustive; its serde names are its file codes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[non_exhaustive]
        pub enum Reason {
            $(
                $(#[doc = $doc])*
                #[cfg_attr(feature = "serde", serde(rename = $code))]
                $name,
            )*
        }

        impl Reason {
            /// Every reason, in rule order.
            pub const ALL: &'static [Reason] = &[$(Reason::$name),*];

            /// The reason code used in files.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$name => $code,)*
                }
            }

            /// The reason with this file code.
            #[must_use]
            pub fn from_code(code: &str) -> Option<Reason> {
                match code {
                    $($code => Some(Reason::$name),)*
                    _ => None,
                }
            }
        }
    };
}

reasons! {
    /// Rule 1: the window is empty.
    NoMetrics = "no_metrics",
    /// Rule 2: fewer workers than `min_workers`.
    BelowMinWorkers = "below_min_workers",
    /// Rule 3: more workers than `max_workers`.
    AboveMaxWorkers = "above_max_workers",
    /// Rule 4: within `cooldown_period` of the last successful scaling.
    Cooldown = "cooldown",
    /// Rule 5: utilization is high but nothing is pending.
    NoPendingTasks = "no_pending_tasks",
    /// Rule 5: utilization is high but the pool is at `max_workers`.
    AtMaxWorkers = "at_max_workers",
    /// Rule 5: utilization above `scale_up_threshold`.
    UtilizationHigh = "utilization_high",
    /// Rule 6: utilization is low but the pool is at `min_workers`.
    AtMinWorkers = "at_min_workers",
    /// Rule 6: utilization below `scale_down_threshold`.
    UtilizationLow = "utilization_low",
    /// Rule 7: utilization within the band.
    WithinBand = "within_band",
    /// Warm-up (`warmup_period`): workers added recently already cover the scale-up.
    WarmingUp = "warming_up",
    /// HPA: the desired count is within the acceptable range.
    DesiredWithinRange = "DesiredWithinRange",
    /// HPA: limited by the scale-up rate rules.
    ScaleUpLimit = "ScaleUpLimit",
    /// HPA: limited by the scale-down rate rules.
    ScaleDownLimit = "ScaleDownLimit",
    /// HPA: limited by the maximum.
    TooManyReplicas = "TooManyReplicas",
    /// HPA: limited by the minimum.
    TooFewReplicas = "TooFewReplicas",
    /// HPA: held back by the scale-up stabilization window.
    ScaleUpStabilized = "ScaleUpStabilized",
    /// HPA: held back by the scale-down stabilization window.
    ScaleDownStabilized = "ScaleDownStabilized",
    /// HPA: no ready worker has a metric sample (every worker is still starting), so HPA
    /// cannot compute a proposal and keeps the current count.
    FailedGetResourceMetric = "FailedGetResourceMetric",
    /// Step: a step adjustment for a breach of the upper alarm.
    StepScaleOut = "step_scale_out",
    /// Step: a step adjustment for a breach of the lower alarm.
    StepScaleIn = "step_scale_in",
    /// Step: no alarm in breach, or no step matches.
    NoAlarm = "no_alarm",
    /// Queue: the backlog needs more workers.
    QueueBacklog = "queue_backlog",
    /// Queue: fewer workers can drain the backlog in time.
    QueueShrink = "queue_shrink",
    /// Queue: the backlog matches the workers.
    QueueMatched = "queue_matched",
    /// Queue: below the activation threshold, staying at zero.
    BelowActivation = "below_activation",
    /// Queue: idle for the grace period: scale to the minimum (zero when allowed).
    IdleScaleToZero = "idle_scale_to_zero",
    /// Predictive: the forecast one provisioning delay ahead needs more workers.
    ForecastHigh = "forecast_high",
    /// KEDA: a poll found the trigger active at zero (or the idle count): scale to
    /// `min_replica_count`, at least 1 (the executor's activation).
    KedaActivate = "keda_activate",
    /// KEDA: inactive for longer than `cooldown_period` since the last active poll: scale to
    /// `idle_replica_count`, else `min_replica_count` (the executor's deactivation).
    KedaDeactivate = "keda_deactivate",
    /// KEDA: inactive below `min_replica_count` (no idle count): raise to it.
    KedaMinReplicas = "keda_min_replicas",
    /// KEDA: inactive, within `cooldown_period` of the last active poll; the HPA holds.
    KedaCooldown = "keda_cooldown",
    /// KEDA: inactive with nothing to do (at zero, idle or the minimum), or at zero between
    /// polls (the HPA does not act at zero).
    KedaIdle = "keda_idle",
    /// KEDA: the metric failed (a missing observation) and no fallback serves: hold.
    KedaTriggerError = "keda_trigger_error",
    /// KEDA: the metric failed, a fallback is set but its failure threshold is not yet exceeded: hold.
    KedaAwaitingFallback = "keda_awaiting_fallback",
    /// KEDA: the fallback serves the metric; the HPA scales to the fallback's replicas.
    KedaFallback = "keda_fallback",
    /// KEDA: the ScaledObject is paused: nothing scales.
    KedaPaused = "keda_paused",
    /// ARC: more runners wanted than there are: create the difference.
    ArcCreate = "arc_create",
    /// ARC: as many runners as wanted.
    ArcSteady = "arc_steady",
    /// ARC: fewer runners wanted, with a patch id above 0: ignored (ephemeral runners exit by themselves).
    ArcScaleDownIgnored = "arc_scale_down_ignored",
    /// ARC: fewer runners wanted, with patch id 0: idle runners deleted, at most the excess.
    ArcDeleteIdle = "arc_delete_idle",
    /// Target tracking: the high alarm is in breach: the proportional capacity.
    TrackingScaleOut = "tracking_scale_out",
    /// Target tracking: the low alarm is in breach: the proportional capacity.
    TrackingScaleIn = "tracking_scale_in",
    /// Target tracking: no alarm in breach (or the proportional capacity is the current one).
    TrackingNoAlarm = "tracking_no_alarm",
    /// Target tracking: within `scale_out_cooldown`, and asking no more than the last scale-out.
    TrackingScaleOutCooldown = "tracking_scale_out_cooldown",
    /// Target tracking: within `scale_in_cooldown` of a scale-in or `scale_out_cooldown` of a scale-out.
    TrackingScaleInCooldown = "tracking_scale_in_cooldown",
    /// Target tracking: the low alarm is in breach, but `disable_scale_in` is set.
    TrackingScaleInDisabled = "tracking_scale_in_disabled",
    /// KPA: the stable window's count (not in panic).
    KpaStable = "kpa_stable",
    /// KPA: in panic mode: the larger of both windows' counts, never below the panic's highest.
    KpaPanic = "kpa_panic",
    /// KPA: the stable count was capped by `max-scale-up-rate`.
    KpaScaleUpLimited = "kpa_scale_up_limited",
    /// KPA: the stable count was raised to the `max-scale-down-rate` floor.
    KpaScaleDownLimited = "kpa_scale_down_limited",
    /// KPA: raised to `activation-scale`.
    KpaActivationScale = "kpa_activation_scale",
    /// KPA: `scale-down-delay` holds a higher count from within the delay.
    KpaScaleDownDelayed = "kpa_scale_down_delayed",
    /// KPA: the reconciler raised the count to `min-scale`.
    KpaMinScale = "kpa_min_scale",
    /// KPA: the reconciler raised the count to `initial-scale` (not yet reached).
    KpaInitialScale = "kpa_initial_scale",
    /// KPA: the reconciler capped the count at `max-scale`.
    KpaMaxScale = "kpa_max_scale",
    /// KPA: no metrics (no count yet, or no data for a stable window): the previous count stands.
    KpaNoMetrics = "kpa_no_metrics",
    /// KPA: 0 wanted but `enable-scale-to-zero` is false: 1.
    KpaScaleToZeroDisabled = "kpa_scale_to_zero_disabled",
    /// KPA: activating (not enough ready workers yet) and 0 wanted: hold.
    KpaActivating = "kpa_activating",
    /// KPA: activating for longer than the progress deadline plus 30 s: 0.
    KpaActivationTimeout = "kpa_activation_timeout",
    /// KPA: active and 0 wanted, not yet for a stable window: 1.
    KpaIdleWait = "kpa_idle_wait",
    /// KPA: active and idle for a stable window: marked inactive, not yet scaled to zero.
    KpaDeactivating = "kpa_deactivating",
    /// KPA: inactive, but the activator is not yet in the path: hold.
    KpaProbeFailed = "kpa_probe_failed",
    /// KPA: inactive, within `scale-to-zero-grace-period`: hold.
    KpaGracePeriod = "kpa_grace_period",
    /// KPA: inactive, the last worker kept for `scale-to-zero-pod-retention-period`: hold.
    KpaPodRetention = "kpa_pod_retention",
    /// KPA: inactive past the grace period (and retention): scale to zero.
    KpaScaleToZero = "kpa_scale_to_zero",
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
