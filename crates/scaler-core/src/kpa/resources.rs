//! What Knative's reconciler derives from the cluster config and a revision: the metric's
//! target (`ResolveMetricTarget`), its windows (`MakeMetric`), the initial scale
//! (`GetInitialScale`) and the decider's spec (`MakeDecider`).

use super::config::{Annotations, Config};
use super::decider::DeciderSpec;
use super::go::GoDuration;
use super::{go_max, go_min, Metric, Reachability};
use crate::units::DurationMs;

/// The revision as the autoscaler sees it: its annotations, its `containerConcurrency`
/// and whether it is routed to.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Revision {
    /// Its `autoscaling.knative.dev/` annotations.
    pub annotations: Annotations,
    /// `containerConcurrency`: the hard per-pod limit, 0 = unlimited.
    pub container_concurrency: u32,
    /// Whether it is routed to.
    pub reachability: Reachability,
}

impl Revision {
    /// The metric it scales on (`concurrency` unless annotated).
    #[must_use]
    pub fn metric(&self) -> Metric {
        self.annotations.metric.unwrap_or_default()
    }
}

/// A metric's per-pod target and capacity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricTarget {
    /// The value per pod the autoscaler aims at: `total * utilization`, at least 0.01.
    pub target: f64,
    /// The value per pod at full capacity.
    pub total: f64,
}

/// `ResolveMetricTarget`: for `rps` the total is `requests-per-second-target-default` at the
/// fixed target utilization; for `concurrency` it is `containerConcurrency` (or
/// `container-concurrency-target-default` when unlimited) at the target percentage. A
/// `target` annotation replaces the total (capped by `containerConcurrency` when set), a
/// `target-utilization-percentage` annotation the utilization.
#[must_use]
pub fn resolve_metric_target(cfg: &Config, rev: &Revision) -> MetricTarget {
    let cc = f64::from(rev.container_concurrency);
    let (mut total, mut utilization) = match rev.metric() {
        Metric::Rps => (cfg.rps_target_default, cfg.target_utilization),
        Metric::Concurrency => (
            if rev.container_concurrency == 0 { cfg.container_concurrency_target_default } else { cc },
            cfg.container_concurrency_target_fraction,
        ),
    };
    if let Some(t) = rev.annotations.target {
        total = if rev.metric() == Metric::Concurrency && rev.container_concurrency != 0 { go_min(t, cc) } else { t };
    }
    if let Some(p) = rev.annotations.target_utilization_percentage {
        utilization = p / 100.0;
    }
    MetricTarget { target: go_max(0.01, total * utilization), total }
}

/// A metric's averaging windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MetricWindows {
    /// The stable window.
    pub stable: DurationMs,
    /// The panic window.
    pub panic: DurationMs,
}

/// `MakeMetric`'s windows: the stable window is the `window` annotation or the config's;
/// the panic window is `panic-window-percentage` of it, computed in float64 on nanoseconds
/// as Go does, truncated, rounded to the second (halves up) and at least one second.
#[must_use]
pub fn metric_windows(cfg: &Config, ann: &Annotations) -> MetricWindows {
    let stable = ann.window.unwrap_or_else(|| GoDuration::from_ms(cfg.stable_window));
    let pct = ann.panic_window_percentage.unwrap_or(cfg.panic_window_percentage);
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let raw = GoDuration((stable.0 as f64 * pct / 100.0) as i64);
    let panic = raw.round(GoDuration::SECOND).max(GoDuration::SECOND);
    MetricWindows { stable: stable.to_ms_ceil(), panic: panic.to_ms_ceil() }
}

/// `GetInitialScale`: the `initial-scale` annotation, unless it is 0 and the cluster does
/// not allow zero (then, and when unset, the config's).
#[must_use]
pub fn initial_scale(cfg: &Config, ann: &Annotations) -> i32 {
    match ann.initial_scale {
        Some(0) if !cfg.allow_zero_initial_scale => cfg.initial_scale,
        Some(n) => n,
        None => cfg.initial_scale,
    }
}

/// `MakeDecider`: the decider's spec for a revision. Annotations override the config's
/// target burst capacity, panic threshold, stable window and scale-down delay; activation
/// scale is the annotation's or 0; rates and activator capacity are the config's.
#[must_use]
pub fn make_decider(cfg: &Config, rev: &Revision) -> DeciderSpec {
    let ann = &rev.annotations;
    let target = resolve_metric_target(cfg, rev);
    DeciderSpec {
        scaling_metric: rev.metric(),
        target_value: target.target,
        total_value: target.total,
        target_burst_capacity: ann.target_burst_capacity.unwrap_or(cfg.target_burst_capacity),
        panic_threshold: ann.panic_threshold_percentage.unwrap_or(cfg.panic_threshold_percentage) / 100.0,
        max_scale_up_rate: cfg.max_scale_up_rate,
        max_scale_down_rate: cfg.max_scale_down_rate,
        activator_capacity: cfg.activator_capacity,
        stable_window: ann.window.map_or(cfg.stable_window, GoDuration::to_ms_ceil),
        scale_down_delay: ann.scale_down_delay.map_or(cfg.scale_down_delay, GoDuration::to_ms_ceil),
        initial_scale: initial_scale(cfg, ann),
        reachable: rev.reachability != Reachability::Unreachable,
        activation_scale: ann.activation_scale.unwrap_or(0),
    }
}
