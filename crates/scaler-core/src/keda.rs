//! KEDA's ScaledObject arithmetic, exactly as kedacore/keda decides: activation, cooldown to
//! the minimum or idle count, fallback, pause, and the bounds of the HPA it creates. Pure
//! functions over explicit state; the `keda` policy and `scaler-sim conformance keda` both
//! call them.
