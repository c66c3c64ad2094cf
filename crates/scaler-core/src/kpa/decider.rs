//! The decider: upstream's `autoscaler.Scale()` (stable and panic windows, rate limits,
//! activation scale, scale-down delay, excess burst capacity), over explicit state.

use alloc::collections::VecDeque;

use super::{go_int32, go_max, go_min, Metric};
use crate::units::{DurationMs, TimeMs};

/// How often Knative's autoscaler calls `Scale()` (`tickInterval`), and the granularity of
/// the scale-down delay's window.
pub const TICK_INTERVAL: DurationMs = DurationMs(2_000);

/// What the decider is told about a revision (upstream's `DeciderSpec`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeciderSpec {
    /// The metric the observed values are of (the arithmetic is the same for both).
    pub scaling_metric: Metric,
    /// The per-pod target, utilization applied.
    pub target_value: f64,
    /// The per-pod capacity.
    pub total_value: f64,
    /// Target burst capacity: -1 unlimited, 0 off.
    pub target_burst_capacity: f64,
    /// Panic when the panic window wants this many times the ready pods (2.0 = 200 %).
    pub panic_threshold: f64,
    /// At most this many times the ready pods in one step up.
    pub max_scale_up_rate: f64,
    /// At least the ready pods divided by this in one step down (reachable revisions).
    pub max_scale_down_rate: f64,
    /// Requests one activator takes.
    pub activator_capacity: f64,
    /// The stable window (panic mode lasts a stable window after its last trigger).
    pub stable_window: DurationMs,
    /// Scale-down delay: the largest count wanted within it is kept.
    pub scale_down_delay: DurationMs,
    /// The initial scale.
    pub initial_scale: i32,
    /// Whether the revision is routed to.
    pub reachable: bool,
    /// The least count when scaling from zero (effective when > 1).
    pub activation_scale: i32,
}

/// The decider's inputs from the metric collector: time averages of the revision-wide
/// *total* concurrency (or RPS, summed over pods) over each window.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WindowAverages {
    /// Over the stable window.
    pub stable: f64,
    /// Over the panic window.
    pub panic: f64,
}

/// Why `Scale()` gave its count: for a decision's reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ScaleReason {
    /// The ready pods could not be counted: no valid result, state untouched.
    NoPodCount,
    /// The collector had no metrics: no valid result, state untouched.
    NoMetrics,
    /// The stable window's count.
    Stable,
    /// Panic mode: the larger of both windows' counts, never below the panic's highest.
    Panic,
    /// The stable count, capped by `max-scale-up-rate`.
    ScaleUpLimited,
    /// The stable count, held up by `max-scale-down-rate`.
    ScaleDownLimited,
    /// The stable count, raised to the activation scale.
    ActivationScale,
    /// A higher count wanted within the scale-down delay is kept.
    ScaleDownDelayed,
}

/// One `Scale()` result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScaleResult {
    /// The pods wanted (may be 0: the reconciler decides whether to scale to zero).
    pub desired_pod_count: i32,
    /// Excess burst capacity: spare capacity beyond the target burst capacity (-1 when
    /// unlimited, 0 when off); negative puts the activator in the path.
    pub excess_burst_capacity: i32,
    /// False when there was no pod count or no metric: then the counts are 0.
    pub scale_valid: bool,
    /// Panic mode after this tick.
    pub in_panic: bool,
    /// Which branch decided.
    pub reason: ScaleReason,
}

impl ScaleResult {
    fn invalid(reason: ScaleReason, in_panic: bool) -> ScaleResult {
        ScaleResult { desired_pod_count: 0, excess_burst_capacity: 0, scale_valid: false, in_panic, reason }
    }
}

/// The maximum of values recorded within a sliding window of fixed-size time buckets
/// (upstream's `max.TimeWindow`): a record at `t` falls into bucket `t / granularity`, a
/// bucket keeps the largest value recorded into it, and the window's value is the largest
/// over the `ceil(window / granularity)` newest buckets. Kept as a monotonic deque, so a
/// record is O(1) amortized; a record older than the newest is handled as upstream's deque
/// handles it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MaxWindow {
    buckets: u64,
    granularity_ms: u64,
    /// (bucket index, value), values strictly decreasing from the front.
    entries: VecDeque<(u64, i32)>,
}

impl MaxWindow {
    /// A window of `ceil(window / granularity)` buckets (at least one; a zero granularity
    /// counts as one millisecond).
    #[must_use]
    pub fn new(window: DurationMs, granularity: DurationMs) -> MaxWindow {
        let g = granularity.0.max(1);
        MaxWindow { buckets: window.0.div_ceil(g).max(1), granularity_ms: g, entries: VecDeque::new() }
    }

    /// Records `value` at `now`.
    pub fn record(&mut self, now: TimeMs, value: i32) {
        let index = now.0 / self.granularity_ms.max(1);
        let mut value = value;
        while self.entries.back().is_some_and(|&(_, v)| value >= v) {
            self.entries.pop_back();
        }
        while self.entries.front().is_some_and(|&(i, _)| index.saturating_sub(i) >= self.buckets) {
            self.entries.pop_front();
        }
        if let Some(&(i, v)) = self.entries.back() {
            if i == index {
                value = value.max(v);
                self.entries.pop_back();
            }
        }
        self.entries.push_back((index, value));
    }

    /// The largest value in the window as of the last record (`None` before any).
    #[must_use]
    pub fn current(&self) -> Option<i32> {
        self.entries.front().map(|&(_, v)| v)
    }
}

/// The decider's state between ticks: panic mode and the scale-down delay's window.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeciderState {
    /// When panic mode was last (re)armed; `None` outside panic mode.
    pub panic_time: Option<TimeMs>,
    /// The highest count wanted in this panic (panic mode never scales down).
    pub max_panic_pods: i32,
    /// The scale-down delay's window: present when the spec at creation had a delay
    /// (a later spec neither creates, drops nor resizes it, as upstream).
    pub delay: Option<MaxWindow>,
}

impl DeciderState {
    /// A new decider (`newAutoscaler`) at `now` with `ready_pods` ready (`None` when they
    /// could not be counted: 0). With more than one ready pod it starts in panic mode, so
    /// that a restarted autoscaler does not scale a loaded revision down.
    #[must_use]
    pub fn new(spec: &DeciderSpec, now: TimeMs, ready_pods: Option<u32>) -> DeciderState {
        let ready = i32::try_from(ready_pods.unwrap_or(0)).unwrap_or(i32::MAX);
        DeciderState {
            panic_time: (ready > 1).then_some(now),
            max_panic_pods: ready,
            delay: (spec.scale_down_delay > DurationMs::ZERO)
                .then(|| MaxWindow::new(spec.scale_down_delay, TICK_INTERVAL)),
        }
    }

    /// True in panic mode.
    #[must_use]
    pub fn in_panic(&self) -> bool {
        self.panic_time.is_some()
    }

    /// One tick of upstream's `Scale()` at `now`, with the ready pods (`None`: the pod
    /// lister failed, other than not found) and the collector's window averages (`None`:
    /// no metrics). In order:
    /// 1. without a pod count or metrics: invalid, state untouched;
    /// 2. `ready = max(1, ready_pods)`; rate limits `ceil(up_rate * ready)` and (reachable
    ///    only) `floor(ready / down_rate)`;
    /// 3. each window's count `ceil(average / target)`, clamped by the rate limits, then
    ///    raised to the activation scale when that is above 1 and the unclamped count is
    ///    positive;
    /// 4. panic mode is (re)armed when the *unclamped* panic count is at least
    ///    `panic_threshold * ready`, and ends once a whole stable window has passed
    ///    (strictly) since it was last armed;
    /// 5. in panic the count is the larger of both windows' and never below the panic's
    ///    highest; otherwise the stable window's;
    /// 6. a reachable revision with a scale-down delay keeps the highest count of the delay;
    /// 7. excess burst capacity `floor(ready_pods * total - TBC - panic average)` (raw ready
    ///    pods), -1 for an unlimited TBC, 0 when off.
    pub fn scale(
        &mut self,
        spec: &DeciderSpec,
        now: TimeMs,
        ready_pods: Option<u32>,
        averages: Option<WindowAverages>,
    ) -> ScaleResult {
        let Some(ready_pods) = ready_pods else {
            return ScaleResult::invalid(ScaleReason::NoPodCount, self.in_panic());
        };
        let Some(avg) = averages else {
            return ScaleResult::invalid(ScaleReason::NoMetrics, self.in_panic());
        };
        let ready_raw = f64::from(ready_pods);
        let ready = go_max(1.0, ready_raw);
        let max_up = libm::ceil(spec.max_scale_up_rate * ready);
        let max_down = if spec.reachable { libm::floor(ready / spec.max_scale_down_rate) } else { 0.0 };
        let stable_count = libm::ceil(avg.stable / spec.target_value);
        let panic_count = libm::ceil(avg.panic / spec.target_value);
        let mut stable_pods = go_int32(go_min(go_max(stable_count, max_down), max_up));
        let mut panic_pods = go_int32(go_min(go_max(panic_count, max_down), max_up));
        let mut activated = false;
        if spec.activation_scale > 1 {
            if stable_count > 0.0 && spec.activation_scale > stable_pods {
                stable_pods = spec.activation_scale;
                activated = true;
            }
            if panic_count > 0.0 && spec.activation_scale > panic_pods {
                panic_pods = spec.activation_scale;
            }
        }

        if panic_count / ready >= spec.panic_threshold {
            self.panic_time = Some(now);
        } else if self.panic_time.is_some_and(|t| t.saturating_add(spec.stable_window) < now) {
            self.panic_time = None;
            self.max_panic_pods = 0;
        }

        let mut desired = stable_pods;
        let mut reason = if activated {
            ScaleReason::ActivationScale
        } else if stable_count > max_up {
            ScaleReason::ScaleUpLimited
        } else if stable_count < max_down {
            ScaleReason::ScaleDownLimited
        } else {
            ScaleReason::Stable
        };
        if self.panic_time.is_some() {
            desired = desired.max(panic_pods);
            self.max_panic_pods = self.max_panic_pods.max(desired);
            desired = self.max_panic_pods;
            reason = ScaleReason::Panic;
        }
        if spec.reachable {
            if let Some(delay) = self.delay.as_mut() {
                delay.record(now, desired);
                let held = delay.current().unwrap_or(desired);
                if held > desired {
                    reason = ScaleReason::ScaleDownDelayed;
                }
                desired = held;
            }
        }

        let tbc = spec.target_burst_capacity;
        let ebc = if tbc == 0.0 {
            0
        } else if tbc > 0.0 {
            go_int32(libm::floor(ready_raw * spec.total_value - tbc - avg.panic))
        } else {
            -1
        };
        ScaleResult {
            desired_pod_count: desired,
            excess_burst_capacity: ebc,
            scale_valid: true,
            in_panic: self.in_panic(),
            reason,
        }
    }
}

/// The decider's published status: the count it wants (-1 until its first valid tick) and
/// its excess burst capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeciderStatus {
    /// Pods wanted; -1 = not known yet.
    pub desired_scale: i32,
    /// Excess burst capacity.
    pub excess_burst_capacity: i32,
}

impl DeciderStatus {
    /// A new decider's status, before any tick: desired -1, and the excess burst capacity of
    /// the initial scale, `int32(initial_scale * total - TBC)` (0 when TBC is off, -1 when
    /// unlimited).
    #[must_use]
    pub fn initial(spec: &DeciderSpec) -> DeciderStatus {
        let tbc = spec.target_burst_capacity;
        let ebc = if tbc == 0.0 {
            0
        } else if tbc > 0.0 {
            go_int32(f64::from(spec.initial_scale) * spec.total_value - tbc)
        } else {
            -1
        };
        DeciderStatus { desired_scale: -1, excess_burst_capacity: ebc }
    }

    /// The status after a valid tick (an invalid one leaves the status as it was).
    #[must_use]
    pub fn after(self, result: &ScaleResult) -> DeciderStatus {
        if result.scale_valid {
            DeciderStatus {
                desired_scale: result.desired_pod_count,
                excess_burst_capacity: result.excess_burst_capacity,
            }
        } else {
            self
        }
    }
}

/// `computeNumActivators`: how many activators a revision's traffic is spread over, at
/// least 2: enough for its ready pods' capacity plus the target burst capacity (none is
/// needed beyond 2 when the burst capacity is off).
#[must_use]
pub fn num_activators(ready_pods: u32, total_value: f64, target_burst_capacity: f64, activator_capacity: f64) -> i32 {
    if target_burst_capacity == 0.0 {
        return 2;
    }
    let mut capacity = f64::from(ready_pods) * total_value;
    if target_burst_capacity > 0.0 {
        capacity += target_burst_capacity;
    }
    go_int32(go_max(2.0, libm::ceil(capacity / activator_capacity)))
}
