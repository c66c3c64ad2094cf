//! Shared set-up for the criterion benchmarks in `benches/benches/`.
#![forbid(unsafe_code)]

use scaler_core::{DurationMs, Fixed9, Observation, PoolSnapshot, Scaler, ScalerConfig, TimeMs};

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

/// A pool observation at `t_ms`: 1 to 50 ready workers of 2 slots, some busy (an exact ratio
/// whose denominator changes with the pool size, as the simulator's do).
pub fn pool_observation(t_ms: u64, rng: &mut Lcg) -> Observation {
    let ready = u32::try_from(1 + rng.next_u64() % 50).expect("small");
    let busy = rng.next_u64() % (2 * u64::from(ready) + 1);
    let pool = PoolSnapshot {
        ready_workers: ready,
        provisioning_workers: 0,
        busy_slots: busy,
        slots_per_worker: 2,
        pending_tasks: rng.next_u64() % 3,
        running_tasks: busy,
        avg_task_duration: DurationMs(30_000),
    };
    Observation::from_pool(TimeMs(t_ms), &pool).expect("valid")
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

/// One day of Poisson arrivals at `rate_per_s` with exponential durations of mean
/// `mean_s`, following a daily cosine (peak-to-trough 3), in memory.
pub fn one_day_trace(rate_per_s: f64, mean_s: f64, seed: u64) -> Vec<scaler_model::Task> {
    let mut rng = Lcg(seed);
    let mut unit = move || (rng.next_u64() as f64 + 0.5) / (1u64 << 53) as f64;
    let mut t = 0.0;
    let mut out = Vec::new();
    let peak = rate_per_s * 1.5;
    // Thinning: candidates at the peak rate, kept with probability rate(t) / peak.
    while t < 86_400.0 {
        t += -unit().ln() / peak;
        let rate = rate_per_s * (1.0 + 0.5 * (std::f64::consts::TAU * t / 86_400.0).cos());
        if unit() * peak < rate {
            let d = -unit().ln() * mean_s;
            out.push(scaler_model::Task { arrival_ms: (t * 1000.0) as u64, duration_ms: (d * 1000.0) as u64 });
        }
    }
    out
}
