//! Shared set-up for the criterion benchmarks in `benches/benches/`.
#![forbid(unsafe_code)]

use scaler_core::{DurationMs, Fixed9, Observation, Scaler, ScalerConfig, TimeMs};

/// A small deterministic generator (64-bit LCG) so benches need no RNG crate.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next pseudo-random value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }
}

/// One observation per millisecond at `t_ms`, with a pseudo-random utilization.
pub fn observation(t_ms: u64, rng: &mut Lcg) -> Observation {
    let util = Fixed9::from_units(rng.next_u64() % 1_000_000_001);
    Observation::new(TimeMs(t_ms), 4, rng.next_u64() % 3, 4, DurationMs(30_000), util).expect("valid")
}

/// A scaler whose window holds `samples` observations in steady state (one per ms),
/// already warmed up; returns it with the next timestamp to use.
pub fn warm_scaler(samples: u64) -> (Scaler, u64, Lcg) {
    let cfg = ScalerConfig::builder()
        .min_workers(1)
        .max_workers(1000)
        .metrics_window(DurationMs(samples))
        .cooldown_period(DurationMs::ZERO)
        .build()
        .expect("valid config");
    let mut s = Scaler::new(cfg);
    let mut rng = Lcg(42);
    // Two window lengths, so the queues have reached their steady-state capacity.
    for t in 0..2 * samples {
        s.observe(observation(t, &mut rng)).expect("in order");
        let _ = s.decide(TimeMs(t)).expect("clock");
    }
    (s, 2 * samples, rng)
}
