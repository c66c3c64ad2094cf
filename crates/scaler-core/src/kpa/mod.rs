//! Knative Serving's Pod Autoscaler (KPA) arithmetic, exactly as knative/serving decides:
//! the decider's stable and panic windows, rate limits, activation scale, scale-down delay,
//! excess burst capacity, and the reconciler's scale-to-zero. Pure functions over explicit
//! state; the `kpa` policy and `scaler-sim conformance kpa` both call them.
//!
//! The parts, in the order one autoscaling tick uses them:
//! - [`Config::from_map`] and [`Annotations::from_map`]: the `config-autoscaler` ConfigMap
//!   and a revision's annotations, with Knative's key names, defaults, Go readers
//!   ([`go`]) and validation; [`Revision`] adds `containerConcurrency` and reachability.
//! - [`resolve_metric_target`], [`metric_windows`], [`initial_scale`] and
//!   [`make_decider`]: what the reconciler derives from them, a [`DeciderSpec`].
//! - [`WindowBuckets`] (linear or weighted-exponential time averages) and [`Collector`]
//!   (the stable and panic windows of one metric): what the metric collector reports.
//! - [`DeciderState::scale`]: upstream's `Scale()`, one call per tick
//!   ([`TICK_INTERVAL`]), with [`MaxWindow`] for `scale-down-delay`; [`DeciderStatus`],
//!   [`num_activators`].
//! - [`reconcile_scale`]: the reconciler's bounds, initial scale and scale-to-zero decision
//!   on the decider's proposal; [`sks_mode`], [`active_threshold`] and [`active_condition`]
//!   update the PodAutoscaler's state afterwards.
//!
//! Numbers are float64 and integers `i32` where Knative's are, with Go's conversions
//! (`int32(x)` truncates toward zero); where Go's result is undefined (a NaN or an
//! out-of-range float converted to an integer), Rust's saturating cast is used (NaN is 0).
//! Nothing here panics, in debug or release, for any input. Times are the core's
//! milliseconds ([`TimeMs`](crate::TimeMs)); Go durations ([`GoDuration`], nanoseconds)
//! appear only where a value is read from text, and are compared exactly.

pub mod go;

mod buckets;
mod config;
mod decider;
mod resources;
mod scaler;

pub use buckets::{BucketsError, Collector, WindowBuckets, BUCKET_GRANULARITY};
pub use config::{Annotations, Config, ANNOTATION_KEYS, CONFIG_KEYS, KPA_CLASS};
pub use decider::{
    num_activators, DeciderSpec, DeciderState, DeciderStatus, MaxWindow, ScaleReason, ScaleResult, WindowAverages,
    TICK_INTERVAL,
};
pub use go::GoDuration;
pub use resources::{
    initial_scale, make_decider, metric_windows, resolve_metric_target, MetricTarget, MetricWindows, Revision,
};
pub use scaler::{
    active_condition, active_threshold, reconcile_scale, sks_mode, ActiveStatus, Bound, PaStatus, ScaleBranch,
    ScaleOutcome, SksMode, ACTIVATION_TIMEOUT_BUFFER,
};

/// The metric a revision scales on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Metric {
    /// In-flight requests (the KPA's default).
    #[default]
    Concurrency,
    /// Requests per second.
    Rps,
}

impl Metric {
    /// The annotation's value: `concurrency` or `rps`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Concurrency => "concurrency",
            Metric::Rps => "rps",
        }
    }
}

/// How a window's per-second buckets are averaged (`metric-aggregation-algorithm`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Algorithm {
    /// The plain mean of the buckets since the first sample (`linear`, the default).
    #[default]
    Linear,
    /// Exponentially decaying weights, newest first (`weighted-exponential`).
    WeightedExponential,
}

/// Whether the revision can receive traffic (the PodAutoscaler's `reachability`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Reachability {
    /// Routed to.
    Reachable,
    /// Not known yet (treated as reachable).
    #[default]
    Unknown,
    /// Not routed to: no scale-down rate limit or delay, no min-scale, no initial scale,
    /// no pod retention.
    Unreachable,
}

/// Go's `math.Max`: NaN if either is NaN.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: NaN if either is NaN.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b {
        a
    } else {
        b
    }
}

/// Go's `int32(x)` for a float, with Rust's saturation where Go's is undefined.
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn go_int32(x: f64) -> i32 {
    x as i32
}
