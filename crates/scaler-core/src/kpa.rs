//! Knative Serving's Pod Autoscaler (KPA) arithmetic, exactly as knative/serving decides:
//! the decider's stable and panic windows, rate limits, activation scale, scale-down delay,
//! excess burst capacity, and the reconciler's scale-to-zero. Pure functions over explicit
//! state; the `kpa` policy and `scaler-sim conformance kpa` both call them.
