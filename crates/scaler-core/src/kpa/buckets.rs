//! Time-bucketed window averages (upstream's `TimedFloat64Buckets` and its
//! weighted-exponential variant), and the collector's pair of them.

use alloc::vec;
use alloc::vec::Vec;

use super::resources::MetricWindows;
use super::{go_max, Algorithm, WindowAverages};
use crate::units::{DurationMs, TimeMs};

/// The collector's bucket width: Knative scrapes and buckets once a second.
pub const BUCKET_GRANULARITY: DurationMs = DurationMs(1_000);

/// Why buckets could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BucketsError {
    /// A bucket must be at least a millisecond wide.
    #[error("the bucket granularity must be > 0 ms")]
    ZeroGranularity,
    /// A window must be at least a millisecond long.
    #[error("the window must be > 0 ms")]
    ZeroWindow,
    /// More buckets than [`WindowBuckets::MAX_BUCKETS`].
    #[error("the window needs {buckets} buckets, more than {max}", max = WindowBuckets::MAX_BUCKETS)]
    TooManyBuckets {
        /// How many it would need.
        buckets: u64,
    },
}

/// Values summed into fixed-width time buckets over a sliding window, averaged linearly
/// or with exponentially decaying weights.
///
/// A record at `t` adds to the bucket of `trunc(t) = floor(t / g) * g`. A record newer than
/// the newest bucket clears the buckets in between (all of them after a gap of a window or
/// more); a record a window or more older than the newest is dropped; an older one within
/// the window is added to its bucket.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WindowBuckets {
    algorithm: Algorithm,
    window_ms: u64,
    granularity_ms: u64,
    /// A ring of `ceil(window / g)` buckets; bucket time `b` is at `(b / g) % len`.
    buckets: Vec<f64>,
    /// The oldest bucket time written since the window last emptied.
    first: Option<u64>,
    /// The newest bucket time written (`None`: never, "infinitely old").
    last: Option<u64>,
    /// The sum of the buckets.
    total: f64,
}

/// `x` rounded to 6 decimals, halves away from zero (Go's `math.Round(x*1e6)/1e6`).
fn round6(x: f64) -> f64 {
    libm::round(x * 1e6) / 1e6
}

impl WindowBuckets {
    /// The most buckets a window may have (a 12-day window at 1 s granularity).
    pub const MAX_BUCKETS: u64 = 1 << 20;

    /// Empty buckets covering `window` at `granularity`.
    pub fn new(algorithm: Algorithm, window: DurationMs, granularity: DurationMs) -> Result<Self, BucketsError> {
        if granularity.0 == 0 {
            return Err(BucketsError::ZeroGranularity);
        }
        if window.0 == 0 {
            return Err(BucketsError::ZeroWindow);
        }
        let n = window.0.div_ceil(granularity.0);
        if n > Self::MAX_BUCKETS {
            return Err(BucketsError::TooManyBuckets { buckets: n });
        }
        let len = usize::try_from(n).map_err(|_| BucketsError::TooManyBuckets { buckets: n })?;
        Ok(WindowBuckets {
            algorithm,
            window_ms: window.0,
            granularity_ms: granularity.0,
            buckets: vec![0.0; len],
            first: None,
            last: None,
            total: 0.0,
        })
    }

    /// The window.
    #[must_use]
    pub fn window(&self) -> DurationMs {
        DurationMs(self.window_ms)
    }

    /// The averaging algorithm.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn g(&self) -> u64 {
        self.granularity_ms.max(1)
    }

    fn trunc(&self, t: TimeMs) -> u64 {
        t.0 / self.g() * self.g()
    }

    /// The ring slot of bucket number `i` (never out of range, whatever was deserialized).
    fn slot(&self, i: u64) -> Option<usize> {
        let len = u64::try_from(self.buckets.len()).ok().filter(|&n| n > 0)?;
        usize::try_from(i % len).ok()
    }

    fn len(&self) -> u64 {
        u64::try_from(self.buckets.len()).unwrap_or(u64::MAX)
    }

    /// Adds `value` at `now`.
    pub fn record(&mut self, now: TimeMs, value: f64) {
        let bt = self.trunc(now);
        let g = self.g();
        if self.last != Some(bt) {
            // `last` unset is infinitely old: every record is within a window of it.
            if self.last.is_some_and(|last| bt.saturating_add(self.window_ms) <= last) {
                return;
            }
            if self.first.is_none_or(|first| first > bt) {
                self.first = Some(bt);
            }
            match self.last {
                Some(last) if bt <= last => {}
                Some(last) if bt - last < self.window_ms => {
                    for i in (last / g).saturating_add(1)..=bt / g {
                        if let Some(s) = self.slot(i) {
                            self.total -= self.buckets[s];
                            self.buckets[s] = 0.0;
                        }
                    }
                    self.last = Some(bt);
                }
                _ => {
                    self.buckets.iter_mut().for_each(|b| *b = 0.0);
                    self.total = 0.0;
                    self.first = Some(bt);
                    self.last = Some(bt);
                }
            }
        }
        if let Some(s) = self.slot(bt / g) {
            self.buckets[s] += value;
            self.total += value;
        }
    }

    /// True when nothing was recorded within the window before `now` (`trunc(now)` more
    /// than a window after the newest bucket): the collector's "no data".
    #[must_use]
    pub fn is_empty(&self, now: TimeMs) -> bool {
        self.last.is_none_or(|last| self.trunc(now).saturating_sub(last) > self.window_ms)
    }

    /// The window's average at `now`, by the buckets' algorithm.
    #[must_use]
    pub fn average(&self, now: TimeMs) -> f64 {
        match self.algorithm {
            Algorithm::Linear => self.linear_average(now),
            Algorithm::WeightedExponential => self.weighted_average(now),
        }
    }

    /// The plain mean over the buckets since the first write (at most a window of them),
    /// empty seconds since the newest write counting as zeros and shrinking the divisor,
    /// rounded to 6 decimals; 0 once a whole window has passed since the newest write.
    #[must_use]
    pub fn linear_average(&self, now: TimeMs) -> f64 {
        let Some(last) = self.last else { return 0.0 };
        let g = self.g();
        let n = self.len();
        let now = self.trunc(now);
        let written = (last.saturating_sub(self.first.unwrap_or(last)) / g).saturating_add(1);
        if now <= last {
            #[allow(clippy::cast_precision_loss)]
            return round6(self.total / written.min(n) as f64);
        }
        if now - last >= self.window_ms {
            return 0.0;
        }
        let mut total = self.total;
        for i in (last / g).saturating_add(1)..=now / g {
            if let Some(s) = self.slot(i) {
                total -= self.buckets[s];
            }
        }
        let stale = now / g - last / g;
        #[allow(clippy::cast_precision_loss)]
        let divisor = written.min(n.saturating_sub(stale)).max(1) as f64;
        round6(total / divisor)
    }

    /// The smoothing coefficient of the weighted average: `max(1 - 0.0001^(1/N), 0.2)` for
    /// `N` buckets, so that the oldest bucket of a full window weighs about 0.01 % of the
    /// newest.
    #[must_use]
    pub fn smoothing_coefficient(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let n = self.len().max(1) as f64;
        go_max(1.0 - libm::pow(1.0 - 0.9999, 1.0 / n), 0.2)
    }

    /// The exponentially weighted average: the newest bucket weighs `m`, each older one
    /// `1 - m` times the next newer, and the seconds since the newest write count as empty
    /// buckets at the front; 0 once more than a window has passed.
    #[must_use]
    pub fn weighted_average(&self, now: TimeMs) -> f64 {
        let Some(last) = self.last else { return 0.0 };
        let g = self.g();
        let now = self.trunc(now);
        if now > last && now - last > self.window_ms {
            return 0.0;
        }
        let m = self.smoothing_coefficient();
        let mut multiplier = m;
        let mut count = self.len();
        if now > last {
            let empty = (now - last) / g;
            #[allow(clippy::cast_precision_loss)]
            let decay = libm::pow(1.0 - m, empty as f64);
            multiplier *= decay;
            count = count.saturating_sub(empty);
        }
        let newest = last / g;
        let n = self.len().max(1);
        let mut sum = 0.0;
        for i in 0..count {
            // Bucket number newest - i, modulo the ring (without going below zero).
            if let Some(s) = self.slot(newest % n + n - i % n) {
                sum += self.buckets[s] * multiplier;
            }
            multiplier *= 1.0 - m;
        }
        sum
    }
}

/// The metric collector's stable and panic windows of one metric, one sample a second.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Collector {
    /// Over the stable window.
    pub stable: WindowBuckets,
    /// Over the panic window.
    pub panic: WindowBuckets,
}

impl Collector {
    /// Empty windows of `windows`' lengths at [`BUCKET_GRANULARITY`].
    pub fn new(algorithm: Algorithm, windows: MetricWindows) -> Result<Collector, BucketsError> {
        Ok(Collector {
            stable: WindowBuckets::new(algorithm, windows.stable, BUCKET_GRANULARITY)?,
            panic: WindowBuckets::new(algorithm, windows.panic, BUCKET_GRANULARITY)?,
        })
    }

    /// Records one scrape's revision-wide total at `now` into both windows.
    pub fn record(&mut self, now: TimeMs, value: f64) {
        self.stable.record(now, value);
        self.panic.record(now, value);
    }

    /// Both windows' averages at `now`, as the decider takes them. `None` (upstream's
    /// `ErrNoData`) when the stable window holds nothing and `scraped` is true; upstream
    /// reports no data only for a revision whose pods it scrapes, so an unscraped one
    /// (target burst capacity -1, all traffic through the activator) averages to 0 instead.
    #[must_use]
    pub fn averages(&self, now: TimeMs, scraped: bool) -> Option<WindowAverages> {
        if scraped && self.stable.is_empty(now) {
            return None;
        }
        Some(WindowAverages { stable: self.stable.average(now), panic: self.panic.average(now) })
    }
}
