//! Injected faults (`[faults]`): their rates, their random streams (one per fault,
//! derived from the run's seed) and what they did.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::random::{seconds_to_ms, stream_rng, streams};

/// Faults injected into a run (`[faults]`); each draws from its own random stream, so
/// turning one on changes neither the arrivals nor the other faults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Probability that a requested worker never becomes ready (it fails when it would have).
    pub provision_failure: f64,
    /// Provisioning delays are multiplied by a log-normal factor with this sigma (a long tail).
    pub provision_jitter: f64,
    /// Crashes per ready worker-hour; a crash sends the worker's running tasks back to the
    /// head of the queue, to run again.
    pub crash_rate_per_hour: f64,
    /// Probability that a tick's observation is lost (the window simply lacks it).
    pub missing_observation: f64,
    /// Probability that a tick's observation carries the previous tick's values.
    pub stale_metrics: f64,
    /// Probability that a scaling call fails (nothing changes, no cooldown starts).
    pub scaling_failure: f64,
}

impl Faults {
    /// True when any fault is on.
    #[must_use]
    pub fn any(&self) -> bool {
        self.provision_failure > 0.0
            || self.provision_jitter > 0.0
            || self.crash_rate_per_hour > 0.0
            || self.missing_observation > 0.0
            || self.stale_metrics > 0.0
            || self.scaling_failure > 0.0
    }

    /// Rates drawn from the seed (swarm testing): each fault on or off, at a random rate.
    #[must_use]
    pub fn swarm(seed: u64) -> Faults {
        let mut r = stream_rng(seed, streams::SWARM);
        let mut pick = |max: f64| if r.random::<f64>() < 0.6 { r.random::<f64>() * max } else { 0.0 };
        Faults {
            provision_failure: pick(0.4),
            provision_jitter: pick(1.5),
            crash_rate_per_hour: pick(3.0),
            missing_observation: pick(0.4),
            stale_metrics: pick(0.4),
            scaling_failure: pick(0.5),
        }
    }
}

/// What the faults did over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FaultCounts {
    /// Task runs lost to worker crashes and run again.
    pub retries: u64,
    /// Worker crashes.
    pub crashes: u64,
    /// Requested workers that never became ready.
    pub provision_failures: u64,
    /// Ticks whose observation was lost.
    pub missing_observations: u64,
    /// Ticks that observed stale metrics.
    pub stale_observations: u64,
    /// Scaling calls that failed.
    pub scaling_failures: u64,
    /// Spot interruption notices (`[cluster]` spot capacity; not a fault, counted here with
    /// what it costs: the retries of the tasks its workers still ran).
    pub spot_interruptions: u64,
}

/// The faults of one run: rates, one random stream per fault, and the counts.
pub(crate) struct FaultStreams {
    rates: Faults,
    provision: ChaCha8Rng,
    jitter: ChaCha8Rng,
    crash: ChaCha8Rng,
    missing: ChaCha8Rng,
    stale: ChaCha8Rng,
    scaling: ChaCha8Rng,
    spot: ChaCha8Rng,
    /// What happened so far (crashes and retries are counted by the engine).
    pub(crate) counts: FaultCounts,
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    p > 0.0 && rng.random::<f64>() < p
}

impl FaultStreams {
    pub(crate) fn new(rates: &Faults, seed: u64) -> FaultStreams {
        FaultStreams {
            rates: rates.clone(),
            provision: stream_rng(seed, streams::FAULT_PROVISION),
            jitter: stream_rng(seed, streams::FAULT_JITTER),
            crash: stream_rng(seed, streams::FAULT_CRASH),
            missing: stream_rng(seed, streams::FAULT_MISSING),
            stale: stream_rng(seed, streams::FAULT_STALE),
            scaling: stream_rng(seed, streams::FAULT_SCALING),
            spot: stream_rng(seed, streams::SPOT_INTERRUPTION),
            counts: FaultCounts::default(),
        }
    }

    /// Whether a worker whose provisioning ends fails instead of becoming ready (counted).
    #[inline]
    pub(crate) fn provisioning_fails(&mut self) -> bool {
        let fails = chance(&mut self.provision, self.rates.provision_failure);
        if fails {
            self.counts.provision_failures += 1;
        }
        fails
    }

    /// A provisioning delay with the jitter fault: times a log-normal factor (median 1).
    #[inline]
    pub(crate) fn jittered(&mut self, delay: u64) -> u64 {
        let sigma = self.rates.provision_jitter;
        if sigma <= 0.0 || delay == 0 {
            return delay;
        }
        use rand_distr::Distribution;
        let f: f64 = rand_distr::LogNormal::new(0.0, sigma).map_or(1.0, |d| d.sample(&mut self.jitter));
        #[allow(clippy::cast_precision_loss)]
        seconds_to_ms(delay as f64 * f / 1000.0)
    }

    /// How long a worker that just became ready lives before it crashes (`None`: crashes are off).
    #[inline]
    pub(crate) fn crash_after_ms(&mut self) -> Option<u64> {
        let rate = self.rates.crash_rate_per_hour;
        if rate <= 0.0 {
            return None;
        }
        let u: f64 = self.crash.random();
        let after_h = -(1.0 - u).ln() / rate;
        Some(seconds_to_ms(after_h * 3600.0).max(1))
    }

    /// How long a ready spot worker runs before its interruption notice, at `rate` per hour
    /// (`None`: no interruptions).
    pub(crate) fn spot_after_ms(&mut self, rate: f64) -> Option<u64> {
        if rate <= 0.0 {
            return None;
        }
        let u: f64 = self.spot.random();
        let after_h = -(1.0 - u).ln() / rate;
        Some(seconds_to_ms(after_h * 3600.0).max(1))
    }

    /// Whether this tick observes the previous tick's values (counted).
    #[inline]
    pub(crate) fn stale(&mut self) -> bool {
        let stale = chance(&mut self.stale, self.rates.stale_metrics);
        if stale {
            self.counts.stale_observations += 1;
        }
        stale
    }

    /// Whether this tick's observation is lost (counted).
    #[inline]
    pub(crate) fn missing(&mut self) -> bool {
        let missing = chance(&mut self.missing, self.rates.missing_observation);
        if missing {
            self.counts.missing_observations += 1;
        }
        missing
    }

    /// Whether a scaling call fails (counted).
    #[inline]
    pub(crate) fn scaling_fails(&mut self) -> bool {
        let fails = chance(&mut self.scaling, self.rates.scaling_failure);
        if fails {
            self.counts.scaling_failures += 1;
        }
        fails
    }
}
