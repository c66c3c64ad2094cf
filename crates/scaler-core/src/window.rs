//! The metrics window (SPEC section 3): the observations of the last
//! `metrics_window`, with O(1) amortized aggregates that compare exactly.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::config::Aggregate;
use crate::exact::{mean_of_groups, Frac};
use crate::observation::{Observation, ObservationError};
use crate::units::{DurationMs, Fixed9, TimeMs};
use crate::utilization::Utilization;

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
/// Utilizations are exact ratios. The window keeps, per distinct denominator, the
/// sum of numerators and the count (so the mean is an exact fraction, whatever mix
/// of `busy / slots` ratios and 9-decimal values it holds), and monotonic queues for
/// max and min; taking an observation and reading any aggregate is O(1) amortized
/// in the window's length (linear only in the number of distinct denominators).
#[derive(Clone, Debug)]
pub struct MetricsWindow {
    length: DurationMs,
    /// `(timestamp, utilization)`, oldest first.
    samples: VecDeque<(TimeMs, Utilization)>,
    /// Sequence number of `samples.front()`.
    head_seq: u64,
    /// `(denominator, sum of numerators, samples)` for each denominator in the window.
    groups: Vec<(u64, u128, u64)>,
    /// `(seq, utilization)` with strictly decreasing values: the front is the max.
    max_q: VecDeque<(u64, Utilization)>,
    /// `(seq, utilization)` with strictly increasing values: the front is the min.
    min_q: VecDeque<(u64, Utilization)>,
    /// The newest observation ever taken.
    newest: Option<Observation>,
    /// The latest time the window was advanced to.
    horizon: Option<TimeMs>,
}

/// The window at one instant, as a policy sees it: read-only, exact.
#[derive(Clone, Debug)]
pub struct WindowSummary<'a> {
    window: &'a MetricsWindow,
    newest: &'a Observation,
    /// The mean as a fraction, computed on first use (several comparisons share it).
    mean: core::cell::OnceCell<Frac>,
}

impl WindowSummary<'_> {
    /// Samples in the window (at least one).
    #[must_use]
    pub fn count(&self) -> u64 {
        self.window.samples.len() as u64
    }

    /// The newest observation in the window (whose `current_workers` and
    /// `pending_tasks` the policies use).
    #[must_use]
    pub fn newest(&self) -> &Observation {
        self.newest
    }

    /// The aggregate as a fraction of two `u128`s when that needs no big integers (a single
    /// denominator in the window, or max/min/latest): the hot path, with no allocation.
    #[inline]
    fn small(&self, agg: Aggregate) -> Option<(u128, u128)> {
        let pick = |u: Utilization| Some((u128::from(u.num()), u128::from(u.den())));
        match agg {
            Aggregate::Mean => match self.window.groups.as_slice() {
                // A u64 times a u64 always fits a u128.
                [(den, sum, count)] => Some((*sum, u128::from(*den) * u128::from(*count))),
                _ => None,
            },
            Aggregate::Max => pick(self.window.max_q.front().map_or(Utilization::ZERO, |&(_, u)| u)),
            Aggregate::Min => pick(self.window.min_q.front().map_or(Utilization::ZERO, |&(_, u)| u)),
            Aggregate::Latest => pick(self.newest.worker_utilization()),
        }
    }

    /// `f` of the aggregate as a fraction: the small form when it has one (max, min and
    /// latest always do), else the mean over several denominators, computed once per summary.
    fn with_frac<R>(&self, agg: Aggregate, f: impl FnOnce(&Frac) -> R) -> R {
        match self.small(agg) {
            Some((n, d)) => f(&Frac::Small(n, d)),
            None => f(self.mean.get_or_init(|| mean_of_groups(&self.window.groups, self.count()))),
        }
    }

    /// The aggregate rounded to 9 places, ties away from zero (for files and reports only).
    #[must_use]
    pub fn value(&self, agg: Aggregate) -> Fixed9 {
        let units = self.with_frac(agg, |x| x.round_scaled(u128::from(Fixed9::SCALE)));
        Fixed9::from_units(u64::try_from(units).unwrap_or(Fixed9::SCALE))
    }

    /// The aggregate compared exactly with a 9-decimal value.
    #[must_use]
    pub fn cmp(&self, agg: Aggregate, threshold: Fixed9) -> Ordering {
        if let Some((n, d)) = self.small(agg) {
            if let (Ok(n), Ok(d)) = (u64::try_from(n), u64::try_from(d)) {
                // Cross products of 64-bit parts cannot overflow.
                return (u128::from(n) * u128::from(Fixed9::SCALE))
                    .cmp(&(u128::from(threshold.units()) * u128::from(d)));
            }
        }
        self.with_frac(agg, |x| x.cmp_ratio(u128::from(threshold.units()), u128::from(Fixed9::SCALE)))
    }

    /// The aggregate compared exactly with `units / 10^9`, which may be negative.
    #[must_use]
    pub fn cmp_units(&self, agg: Aggregate, units: i128) -> Ordering {
        match u128::try_from(units) {
            Ok(u) => self.with_frac(agg, |x| x.cmp_ratio(u, u128::from(Fixed9::SCALE))),
            Err(_) => Ordering::Greater,
        }
    }

    /// Exactly `aggregate > threshold`.
    #[must_use]
    pub fn above(&self, agg: Aggregate, threshold: Fixed9) -> bool {
        self.cmp(agg, threshold) == Ordering::Greater
    }

    /// Exactly `aggregate < threshold`.
    #[must_use]
    pub fn below(&self, agg: Aggregate, threshold: Fixed9) -> bool {
        self.cmp(agg, threshold) == Ordering::Less
    }

    /// The aggregate compared exactly with `a / b` (`b > 0`).
    #[must_use]
    pub fn cmp_ratio(&self, agg: Aggregate, a: u128, b: u128) -> Ordering {
        self.with_frac(agg, |x| x.cmp_ratio(a, b.max(1)))
    }

    /// `floor(aggregate * s)`, exactly (the aggregate is at most 1, so the result is at most `s`).
    #[must_use]
    pub fn floor_scaled(&self, agg: Aggregate, s: u128) -> u128 {
        self.with_frac(agg, |x| x.floor_scaled(s))
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
            groups: Vec::new(),
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

    /// The latest time the window was advanced to.
    #[must_use]
    pub fn horizon(&self) -> Option<TimeMs> {
        self.horizon
    }

    /// The samples held, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = (TimeMs, Utilization)> + '_ {
        self.samples.iter().copied()
    }

    /// Takes an observation. An observation older than the newest one already
    /// taken is refused and the window is left unchanged.
    pub fn observe(&mut self, obs: Observation) -> Result<(), ObservationError> {
        self.check_order(&obs)?;
        self.push(obs.timestamp, obs.worker_utilization());
        self.newest = Some(obs);
        Ok(())
    }

    /// Refuses an observation older than the newest one taken.
    pub(crate) fn check_order(&self, obs: &Observation) -> Result<(), ObservationError> {
        match &self.newest {
            Some(n) if obs.timestamp < n.timestamp => {
                Err(ObservationError::OutOfOrder { timestamp: obs.timestamp, newest: n.timestamp })
            }
            _ => Ok(()),
        }
    }

    /// Refuses a time before `newest` (the newest observation, taken or about to be) or
    /// before an earlier time the window was advanced to.
    pub(crate) fn check_clock(&self, now: TimeMs, newest: Option<TimeMs>) -> Result<(), ClockError> {
        if let Some(n) = newest.filter(|&n| now < n) {
            return Err(ClockError::BeforeNewestObservation { now, newest: n });
        }
        match self.horizon {
            Some(h) if now < h => Err(ClockError::Backwards { now, previous: h }),
            _ => Ok(()),
        }
    }

    fn push(&mut self, ts: TimeMs, u: Utilization) {
        let seq = self.head_seq + self.samples.len() as u64;
        self.samples.push_back((ts, u));
        // The newest group first: consecutive samples usually share a denominator.
        match self.groups.iter_mut().rev().find(|g| g.0 == u.den()) {
            Some(g) => {
                g.1 += u128::from(u.num());
                g.2 += 1;
            }
            None => self.groups.push((u.den(), u128::from(u.num()), 1)),
        }
        while self.max_q.back().is_some_and(|&(_, b)| b <= u) {
            self.max_q.pop_back();
        }
        self.max_q.push_back((seq, u));
        while self.min_q.back().is_some_and(|&(_, b)| b >= u) {
            self.min_q.pop_back();
        }
        self.min_q.push_back((seq, u));
    }

    /// Moves the window to `now`, dropping samples with `timestamp <= now - length`.
    ///
    /// `now` must not be before the newest observation nor before an earlier `now`.
    pub fn advance(&mut self, now: TimeMs) -> Result<(), ClockError> {
        self.check_clock(now, self.newest.map(|n| n.timestamp))?;
        self.horizon = Some(now);
        // A sample leaves when timestamp + length <= now (half-open window).
        let now = u128::from(now.0);
        let len = u128::from(self.length.0);
        while let Some(&(ts, u)) = self.samples.front() {
            if u128::from(ts.0) + len > now {
                break;
            }
            self.samples.pop_front();
            if let Some(i) = self.groups.iter().position(|g| g.0 == u.den()) {
                let g = &mut self.groups[i];
                g.1 -= u128::from(u.num());
                g.2 -= 1;
                if g.2 == 0 {
                    self.groups.swap_remove(i);
                }
            }
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

    /// The window as it stands (after the last [`MetricsWindow::advance`]); `None` when it is empty.
    #[must_use]
    pub fn summary(&self) -> Option<WindowSummary<'_>> {
        if self.samples.is_empty() {
            return None;
        }
        Some(WindowSummary { window: self, newest: self.newest.as_ref()?, mean: core::cell::OnceCell::new() })
    }

    /// [`MetricsWindow::advance`] to `now`, then [`MetricsWindow::summary`].
    pub fn summary_at(&mut self, now: TimeMs) -> Result<Option<WindowSummary<'_>>, ClockError> {
        self.advance(now)?;
        Ok(self.summary())
    }

    /// Rebuilds a window from its parts (a snapshot): the samples oldest first, the newest
    /// observation and the horizon. Refuses samples out of order, or a newest observation
    /// older than a sample.
    pub(crate) fn restore(
        length: DurationMs,
        samples: &[(TimeMs, Utilization)],
        newest: Option<Observation>,
        horizon: Option<TimeMs>,
    ) -> Option<MetricsWindow> {
        let mut w = MetricsWindow::new(length);
        let mut last = TimeMs::ZERO;
        for &(ts, u) in samples {
            if ts < last {
                return None;
            }
            last = ts;
            w.push(ts, u);
        }
        if !samples.is_empty() && newest.is_none_or(|n| n.timestamp < last) {
            return None;
        }
        w.newest = newest;
        w.horizon = horizon;
        Some(w)
    }
}
