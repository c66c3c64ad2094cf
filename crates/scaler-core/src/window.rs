//! The metrics window (SPEC section 3): the observations of the last
//! `metrics_window`, with O(1) amortized aggregates.

use alloc::collections::VecDeque;

use crate::config::Aggregate;
use crate::observation::{Observation, ObservationError};
use crate::units::{round_div, DurationMs, Fixed9, TimeMs};

/// A time given to the window that lies before what it has already seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The decision time is before the newest observation taken.
    #[error("decision time {now} s is before the newest observation ({newest} s)")]
    BeforeNewestObservation {
        /// The time given.
        now: TimeMs,
        /// The newest observation's time.
        newest: TimeMs,
    },
    /// The decision time is before an earlier decision time.
    #[error("decision time {now} s is before an earlier decision time ({previous} s); time must not go backwards")]
    Backwards {
        /// The time given.
        now: TimeMs,
        /// The latest time already used.
        previous: TimeMs,
    },
}

/// The observations with `t - metrics_window < timestamp <= t`.
///
/// Keeps a running sum for the mean and monotonic queues for max and min, so
/// taking an observation and reading any aggregate is O(1) amortized whatever
/// the window length, and nothing allocates once the queues have grown to the
/// window's size.
#[derive(Clone, Debug)]
pub struct MetricsWindow {
    length: DurationMs,
    /// `(timestamp, utilization units)`, oldest first.
    samples: VecDeque<(TimeMs, u64)>,
    /// Sequence number of `samples.front()`.
    head_seq: u64,
    sum: u128,
    /// `(seq, units)` with strictly decreasing units: the front is the max.
    max_q: VecDeque<(u64, u64)>,
    /// `(seq, units)` with strictly increasing units: the front is the min.
    min_q: VecDeque<(u64, u64)>,
    /// The newest observation ever taken.
    newest: Option<Observation>,
    /// The latest time the window was advanced to.
    horizon: Option<TimeMs>,
}

/// What the policy needs to know of the window at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSummary {
    /// Samples in the window (at least one).
    pub count: u64,
    /// Sum of their utilizations, in units of `10^-9`.
    pub sum: u128,
    /// Largest utilization.
    pub max: Fixed9,
    /// Smallest utilization.
    pub min: Fixed9,
    /// The newest observation in the window (whose `current_workers` and
    /// `pending_tasks` the policy uses).
    pub newest: Observation,
}

impl WindowSummary {
    /// The aggregate as a number, rounded to 9 places for a mean (for reports).
    #[must_use]
    pub fn value(&self, agg: Aggregate) -> Fixed9 {
        match agg {
            Aggregate::Mean => {
                Fixed9::from_units(u64::try_from(round_div(self.sum, u128::from(self.count))).unwrap_or(u64::MAX))
            }
            Aggregate::Max => self.max,
            Aggregate::Min => self.min,
            Aggregate::Latest => self.newest.worker_utilization(),
        }
    }

    /// Exactly `aggregate > threshold` (for a mean: `sum > threshold * count`).
    #[must_use]
    pub fn above(&self, agg: Aggregate, threshold: Fixed9) -> bool {
        match agg {
            Aggregate::Mean => self.sum > u128::from(threshold.units()) * u128::from(self.count),
            _ => self.value(agg) > threshold,
        }
    }

    /// Exactly `aggregate < threshold` (for a mean: `sum < threshold * count`).
    #[must_use]
    pub fn below(&self, agg: Aggregate, threshold: Fixed9) -> bool {
        match agg {
            Aggregate::Mean => self.sum < u128::from(threshold.units()) * u128::from(self.count),
            _ => self.value(agg) < threshold,
        }
    }
}

impl MetricsWindow {
    /// An empty window of the given length (which the configuration guarantees is > 0).
    #[must_use]
    pub fn new(length: DurationMs) -> MetricsWindow {
        MetricsWindow {
            length,
            samples: VecDeque::new(),
            head_seq: 0,
            sum: 0,
            max_q: VecDeque::new(),
            min_q: VecDeque::new(),
            newest: None,
            horizon: None,
        }
    }

    /// The window's length.
    #[must_use]
    pub fn length(&self) -> DurationMs {
        self.length
    }

    /// Samples held (including any that a later [`MetricsWindow::advance`] will drop).
    #[must_use]
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when no sample is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The newest observation ever taken.
    #[must_use]
    pub fn newest(&self) -> Option<&Observation> {
        self.newest.as_ref()
    }

    /// Takes an observation. An observation older than the newest one already
    /// taken is refused and the window is left unchanged.
    pub fn observe(&mut self, obs: Observation) -> Result<(), ObservationError> {
        if let Some(n) = &self.newest {
            if obs.timestamp < n.timestamp {
                return Err(ObservationError::OutOfOrder { timestamp: obs.timestamp, newest: n.timestamp });
            }
        }
        let u = obs.worker_utilization().units();
        let seq = self.head_seq + self.samples.len() as u64;
        self.samples.push_back((obs.timestamp, u));
        self.sum += u128::from(u);
        while self.max_q.back().is_some_and(|&(_, b)| b <= u) {
            self.max_q.pop_back();
        }
        self.max_q.push_back((seq, u));
        while self.min_q.back().is_some_and(|&(_, b)| b >= u) {
            self.min_q.pop_back();
        }
        self.min_q.push_back((seq, u));
        self.newest = Some(obs);
        Ok(())
    }

    /// Moves the window to `now`, dropping samples with `timestamp <= now - length`.
    ///
    /// `now` must not be before the newest observation nor before an earlier `now`.
    pub fn advance(&mut self, now: TimeMs) -> Result<(), ClockError> {
        if let Some(n) = &self.newest {
            if now < n.timestamp {
                return Err(ClockError::BeforeNewestObservation { now, newest: n.timestamp });
            }
        }
        if let Some(h) = self.horizon {
            if now < h {
                return Err(ClockError::Backwards { now, previous: h });
            }
        }
        self.horizon = Some(now);
        // A sample leaves when timestamp + length <= now (half-open window).
        let now = u128::from(now.0);
        let len = u128::from(self.length.0);
        while let Some(&(ts, u)) = self.samples.front() {
            if u128::from(ts.0) + len > now {
                break;
            }
            self.samples.pop_front();
            self.sum -= u128::from(u);
            if self.max_q.front().is_some_and(|&(s, _)| s == self.head_seq) {
                self.max_q.pop_front();
            }
            if self.min_q.front().is_some_and(|&(s, _)| s == self.head_seq) {
                self.min_q.pop_front();
            }
            self.head_seq += 1;
        }
        Ok(())
    }

    /// The window's aggregates as they stand (after the last [`MetricsWindow::advance`]);
    /// `None` when it is empty.
    #[must_use]
    pub fn summary(&self) -> Option<WindowSummary> {
        let newest = self.newest?;
        let (&(_, max), &(_, min)) = (self.max_q.front()?, self.min_q.front()?);
        Some(WindowSummary {
            count: self.samples.len() as u64,
            sum: self.sum,
            max: Fixed9::from_units(max),
            min: Fixed9::from_units(min),
            newest,
        })
    }

    /// [`MetricsWindow::advance`] to `now`, then [`MetricsWindow::summary`].
    pub fn summary_at(&mut self, now: TimeMs) -> Result<Option<WindowSummary>, ClockError> {
        self.advance(now)?;
        Ok(self.summary())
    }
}
