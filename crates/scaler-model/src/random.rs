//! Seeded random streams and the task-duration distributions drawn from them.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Pareto, Uniform};

/// Independent random streams derived from one seed, so that turning one
/// random feature on never changes another's draws.
#[must_use]
pub fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    // SplitMix64 finalizer over (seed, stream).
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

/// Random stream numbers.
pub mod streams {
    /// Arrival placement of rate traces.
    pub const ARRIVALS: u64 = 1;
    /// Task durations.
    pub const DURATIONS: u64 = 2;
    /// Trace generation (`gen`).
    pub const GENERATE: u64 = 3;
    /// Resampling of a task trace (`[trace] resample`: jitter offsets, bootstrap blocks).
    pub const RESAMPLE: u64 = 4;
    /// Fault rates of swarm mode.
    pub const SWARM: u64 = 10;
    /// Provisioning failures.
    pub const FAULT_PROVISION: u64 = 11;
    /// Provisioning delay jitter.
    pub const FAULT_JITTER: u64 = 12;
    /// Worker crashes.
    pub const FAULT_CRASH: u64 = 13;
    /// Missing observations.
    pub const FAULT_MISSING: u64 = 14;
    /// Stale metrics.
    pub const FAULT_STALE: u64 = 15;
    /// Failed scaling calls.
    pub const FAULT_SCALING: u64 = 16;
    /// Spot interruptions.
    pub const SPOT_INTERRUPTION: u64 = 17;
}

/// A distribution of task durations, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DurationDist {
    /// Exponential with the given mean.
    Exponential {
        /// Mean, seconds.
        mean_s: f64,
    },
    /// Log-normal with the given mean and coefficient of variation (stddev / mean).
    LogNormal {
        /// Mean, seconds.
        mean_s: f64,
        /// Coefficient of variation.
        cv: f64,
    },
    /// Pareto (type I) with the given mean and shape `alpha > 1`.
    Pareto {
        /// Mean, seconds.
        mean_s: f64,
        /// Shape.
        alpha: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound, seconds.
        min_s: f64,
        /// Upper bound, seconds.
        max_s: f64,
    },
}

/// Draws task durations from a distribution.
#[derive(Clone, Debug)]
pub struct DurationSampler {
    dist: Sampler,
    rng: ChaCha8Rng,
}

#[derive(Clone, Debug)]
enum Sampler {
    Exp(Exp<f64>),
    LogNormal(LogNormal<f64>),
    Pareto(Pareto<f64>),
    Uniform(Uniform<f64>),
}

/// Why a [`DurationDist`] cannot be sampled: the parameter (`mean_s`, `cv`, `alpha`, `min_s`
/// or `max_s`), its value and the rule it breaks. Readers prefix the key with where it was
/// written (`trace.duration.cv`, `gen --duration lognormal:cv=...`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{key} = {}: {rule}", short(*.value))]
pub struct DistError {
    /// The parameter, as the distribution names it.
    pub key: &'static str,
    /// Its value.
    pub value: f64,
    /// The rule it breaks.
    pub rule: &'static str,
}

impl DistError {
    /// The value as the message shows it (scientific notation when long).
    #[must_use]
    pub fn shown_value(&self) -> String {
        short(self.value)
    }
}

/// A value as `{}` writes it, or in scientific notation when that would be long (`1.35e154`).
fn short(v: f64) -> String {
    let plain = v.to_string();
    if plain.len() > 20 {
        format!("{v:e}")
    } else {
        plain
    }
}

impl DurationDist {
    /// Checks that the distribution can be sampled, by building its sampler: the
    /// distribution's own constructor is the rule, so what passes here never fails later
    /// (a `cv` whose square overflows, a Pareto scale that underflows to 0, a uniform range
    /// too wide for `f64`). Readers call this when they validate.
    ///
    /// # Errors
    /// The first parameter the constructor refuses.
    pub fn check(&self) -> Result<(), DistError> {
        Sampler::build(*self).map(|_| ())
    }
}

impl Sampler {
    fn build(dist: DurationDist) -> Result<Sampler, DistError> {
        let err = |key, value, rule| DistError { key, value, rule };
        let positive = |key, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(err(key, v, "must be a finite number > 0"))
            }
        };
        Ok(match dist {
            DurationDist::Exponential { mean_s } => {
                positive("mean_s", mean_s)?;
                Sampler::Exp(
                    Exp::new(1.0 / mean_s).map_err(|_| err("mean_s", mean_s, "1 / mean_s must be a rate >= 0"))?,
                )
            }
            DurationDist::LogNormal { mean_s, cv } => {
                positive("mean_s", mean_s)?;
                positive("cv", cv)?;
                let sigma2 = (1.0 + cv * cv).ln();
                if !sigma2.is_finite() {
                    return Err(err("cv", cv, "too large: ln(1 + cv^2) overflows (cv must be below about 1e154)"));
                }
                let mu = mean_s.ln() - sigma2 / 2.0;
                Sampler::LogNormal(
                    LogNormal::new(mu, sigma2.sqrt())
                        .map_err(|_| err("cv", cv, "the log-normal's sigma must be finite"))?,
                )
            }
            DurationDist::Pareto { mean_s, alpha } => {
                positive("mean_s", mean_s)?;
                if !(alpha > 1.0 && alpha.is_finite()) {
                    return Err(err("alpha", alpha, "must be a finite number > 1 (the mean is infinite otherwise)"));
                }
                let scale = mean_s * (alpha - 1.0) / alpha;
                if !(scale > 0.0 && scale.is_finite()) {
                    return Err(err(
                        "mean_s",
                        mean_s,
                        "the Pareto scale mean_s * (alpha - 1) / alpha must be a finite number > 0 (it under- or overflows)",
                    ));
                }
                Sampler::Pareto(
                    Pareto::new(scale, alpha)
                        .map_err(|_| err("mean_s", mean_s, "the Pareto scale must be a finite number > 0"))?,
                )
            }
            DurationDist::Uniform { min_s, max_s } => {
                if !(min_s >= 0.0 && min_s.is_finite()) {
                    return Err(err("min_s", min_s, "must be a finite number >= 0"));
                }
                if !(max_s >= min_s && max_s.is_finite()) {
                    return Err(err("max_s", max_s, "must be a finite number >= min_s"));
                }
                Sampler::Uniform(
                    Uniform::new_inclusive(min_s, max_s)
                        .map_err(|_| err("max_s", max_s, "max_s - min_s is too wide a range to sample"))?,
                )
            }
        })
    }
}

impl DurationSampler {
    /// A sampler for `dist` with its own random stream.
    ///
    /// # Panics
    /// If `dist.check()` fails: readers refuse such a distribution when they validate it.
    #[must_use]
    pub fn new(dist: DurationDist, rng: ChaCha8Rng) -> DurationSampler {
        match DurationSampler::try_new(dist, rng) {
            Ok(s) => s,
            Err(e) => panic!("unchecked duration distribution: {e}"),
        }
    }

    /// A sampler for `dist` with its own random stream, or why `dist` cannot be sampled.
    ///
    /// # Errors
    /// As [`DurationDist::check`].
    pub fn try_new(dist: DurationDist, rng: ChaCha8Rng) -> Result<DurationSampler, DistError> {
        Ok(DurationSampler { dist: Sampler::build(dist)?, rng })
    }

    /// The next duration, in ms (rounded to the nearest ms; capped at about 31,000 years).
    pub fn sample_ms(&mut self) -> u64 {
        let s = match &self.dist {
            Sampler::Exp(d) => d.sample(&mut self.rng),
            Sampler::LogNormal(d) => d.sample(&mut self.rng),
            Sampler::Pareto(d) => d.sample(&mut self.rng),
            Sampler::Uniform(d) => d.sample(&mut self.rng),
        };
        seconds_to_ms(s)
    }
}

/// Seconds (a sampled float) to whole ms, rounding half away from zero; negative and NaN give 0.
#[must_use]
pub fn seconds_to_ms(s: f64) -> u64 {
    let ms = (s * 1000.0).round();
    if ms.is_nan() || ms <= 0.0 {
        0
    } else if ms >= 1e15 {
        1_000_000_000_000_000
    } else {
        // In range and whole: exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = ms as u64;
        v
    }
}
