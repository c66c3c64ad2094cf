//! Workload traces as streams of tasks (SPEC section 5), from rows already in memory:
//! tasks as they are, or rate rows (`arrivals` tasks per interval) expanded with even
//! or Poisson spreading. `scaler-formats` reads the files into these rows.
//!
//! Sources stream: memory does not grow with the trace's length.

use std::convert::Infallible;
use std::sync::Arc;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use scaler_core::DurationMs;

use crate::random::{stream_rng, streams, DurationDist, DurationSampler};

/// One task: when it arrives and how long it runs, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    /// Arrival time, ms.
    pub arrival_ms: u64,
    /// Run time, ms.
    pub duration_ms: u64,
}

/// A stream of tasks in non-decreasing arrival order.
pub trait TaskSource {
    /// Why the next task could not be produced (`Infallible` for sources in memory).
    type Error;

    /// The next task, `None` at the end.
    fn next_task(&mut self) -> Result<Option<Task>, Self::Error>;
}

/// Items in memory, owned or shared between runs.
#[derive(Clone, Debug)]
enum Items<T> {
    Owned(Vec<T>),
    Shared(Arc<[T]>),
}

/// Items in memory (possibly shared between runs), handed out in order.
#[derive(Clone, Debug)]
struct Cursor<T> {
    items: Items<T>,
    next: usize,
}

impl<T: Copy> Cursor<T> {
    fn new(items: Items<T>) -> Cursor<T> {
        Cursor { items, next: 0 }
    }

    #[inline]
    fn next_item(&mut self) -> Option<T> {
        let items = match &self.items {
            Items::Owned(v) => v.as_slice(),
            Items::Shared(a) => a,
        };
        let t = items.get(self.next).copied();
        self.next += 1;
        t
    }
}

/// Tasks already in memory (benchmarks, tests, generated workloads, loaded traces).
#[derive(Clone, Debug)]
pub struct VecSource {
    tasks: Cursor<Task>,
}

impl VecSource {
    /// A source over `tasks`, which must be sorted by arrival.
    #[must_use]
    pub fn new(tasks: Vec<Task>) -> VecSource {
        debug_assert!(tasks.windows(2).all(|w| w[0].arrival_ms <= w[1].arrival_ms));
        VecSource { tasks: Cursor::new(Items::Owned(tasks)) }
    }

    /// A source over tasks shared with other runs, sorted by arrival.
    #[must_use]
    pub fn shared(tasks: Arc<[Task]>) -> VecSource {
        debug_assert!(tasks.windows(2).all(|w| w[0].arrival_ms <= w[1].arrival_ms));
        VecSource { tasks: Cursor::new(Items::Shared(tasks)) }
    }
}

impl TaskSource for VecSource {
    type Error = Infallible;

    #[inline]
    fn next_task(&mut self) -> Result<Option<Task>, Infallible> {
        Ok(self.tasks.next_item())
    }
}

/// How a rate trace's arrivals are placed inside their interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    /// The `k`-th of `m` at `timestamp + (k + 0.5) * interval / m`.
    Even,
    /// Uniformly at random inside the interval (the arrivals of a Poisson process, given their count).
    Poisson,
}

/// Where task durations come from for a rate trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DurationSpec {
    /// Every task runs this long.
    Constant(DurationMs),
    /// Drawn from a distribution, seeded.
    Dist(DurationDist),
}

/// How a rate trace's rows become tasks: arrival placement and durations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateExpansion {
    /// Arrival placement inside each row's interval.
    pub spread: Spread,
    /// Durations for rows without their own mean (`None`: every row must carry one).
    pub duration: Option<DurationSpec>,
}

/// One row of a rate trace, with the interval it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateRow {
    /// Start of the interval, ms.
    pub ts_ms: u64,
    /// Tasks arriving in the interval.
    pub arrivals: u64,
    /// The row's `mean_duration_s`, ms.
    pub mean_ms: Option<u64>,
    /// Length of the interval, ms.
    pub interval_ms: u64,
}

/// A stream of checked rate rows, each with its interval known.
pub trait RateRows {
    /// Why the next row could not be produced.
    type Error;

    /// The next row, `None` at the end.
    fn next_row(&mut self) -> Result<Option<RateRow>, Self::Error>;
}

/// Rate rows already read and checked, shared between runs.
#[derive(Clone, Debug)]
pub struct MemoryRows(Cursor<RateRow>);

impl MemoryRows {
    /// A stream over `rows` from the first.
    #[must_use]
    pub fn new(rows: Arc<[RateRow]>) -> MemoryRows {
        MemoryRows(Cursor::new(Items::Shared(rows)))
    }
}

impl RateRows for MemoryRows {
    type Error = Infallible;

    fn next_row(&mut self) -> Result<Option<RateRow>, Infallible> {
        Ok(self.0.next_item())
    }
}

/// A rate trace expanded into tasks: `arrivals` tasks in `[timestamp_s, next timestamp_s)`.
pub struct RateTrace<R> {
    rows: R,
    spread: Spread,
    constant_ms: Option<u64>,
    sampler: Option<DurationSampler>,
    arrivals_rng: ChaCha8Rng,
    /// The row being expanded and how many of its tasks were emitted.
    current: Option<(RateRow, u64)>,
    /// Poisson spreading: the last order statistic drawn, in [0, 1).
    last_u: f64,
}

impl<R: RateRows> RateTrace<R> {
    /// Expands `rows` as `expansion` says, with the random streams of `seed`.
    #[must_use]
    pub fn new(rows: R, expansion: RateExpansion, seed: u64) -> Self {
        let (constant_ms, sampler) = match expansion.duration {
            Some(DurationSpec::Constant(d)) => (Some(d.as_ms()), None),
            Some(DurationSpec::Dist(d)) => (None, Some(DurationSampler::new(d, stream_rng(seed, streams::DURATIONS)))),
            None => (None, None),
        };
        RateTrace {
            rows,
            spread: expansion.spread,
            constant_ms,
            sampler,
            arrivals_rng: stream_rng(seed, streams::ARRIVALS),
            current: None,
            last_u: 0.0,
        }
    }

    /// The rows, read directly (to load them once).
    pub fn rows_mut(&mut self) -> &mut R {
        &mut self.rows
    }
}

impl<R: RateRows> TaskSource for RateTrace<R> {
    type Error = R::Error;

    fn next_task(&mut self) -> Result<Option<Task>, R::Error> {
        loop {
            if let Some((row, k)) = self.current {
                let interval = row.interval_ms;
                if k < row.arrivals {
                    let m = row.arrivals;
                    let offset = match self.spread {
                        Spread::Even => {
                            // (k + 0.5) * interval / m = (2k + 1) * interval / 2m, rounded half away from zero.
                            let num = (2 * u128::from(k) + 1) * u128::from(interval);
                            let den = 2 * u128::from(m);
                            u64::try_from((num + den / 2) / den).unwrap_or(u64::MAX)
                        }
                        Spread::Poisson => {
                            // The next of m sorted uniforms on [0, 1), drawn in order:
                            // u_k = 1 - (1 - u_{k-1}) * V^(1 / (m - k)).
                            let v: f64 = self.arrivals_rng.random();
                            #[allow(clippy::cast_precision_loss)]
                            let remaining = (m - k) as f64;
                            self.last_u = 1.0 - (1.0 - self.last_u) * v.powf(1.0 / remaining);
                            #[allow(clippy::cast_precision_loss)]
                            let x = (self.last_u * interval as f64).floor();
                            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                            let off = x as u64;
                            off.min(interval - 1)
                        }
                    };
                    self.current = Some((row, k + 1));
                    let duration_ms = match (self.constant_ms, row.mean_ms, &mut self.sampler) {
                        (Some(c), _, _) => c,
                        (None, Some(m), _) => m,
                        (None, None, Some(s)) => s.sample_ms(),
                        (None, None, None) => unreachable!("checked when the row was read"),
                    };
                    return Ok(Some(Task { arrival_ms: row.ts_ms.saturating_add(offset), duration_ms }));
                }
            }
            match self.rows.next_row()? {
                Some(row) => {
                    self.current = Some((row, 0));
                    self.last_u = 0.0;
                }
                None => return Ok(None),
            }
        }
    }
}

/// A trace read and checked once, shared by many runs (sweeps): tasks as they are,
/// or rate rows that each run expands with its own seed.
#[derive(Clone, Debug)]
pub enum LoadedTrace {
    /// A task trace.
    Tasks(Arc<[Task]>),
    /// A rate trace's rows, with the scenario's expansion settings.
    Rates(Arc<[RateRow]>, RateExpansion),
}

impl LoadedTrace {
    /// A task stream for one run with `seed`.
    #[must_use]
    pub fn source(&self, seed: u64) -> SharedSource {
        match self {
            LoadedTrace::Tasks(t) => SharedSource::Tasks(VecSource::shared(Arc::clone(t))),
            LoadedTrace::Rates(rows, expansion) => {
                SharedSource::Rates(Box::new(RateTrace::new(MemoryRows::new(Arc::clone(rows)), *expansion, seed)))
            }
        }
    }

    /// How many tasks a run will see (rates: the sum of arrivals).
    #[must_use]
    pub fn task_count(&self) -> u64 {
        match self {
            LoadedTrace::Tasks(t) => t.len() as u64,
            LoadedTrace::Rates(rows, _) => rows.iter().map(|r| r.arrivals).sum(),
        }
    }
}

/// A task stream over a [`LoadedTrace`].
pub enum SharedSource {
    /// Tasks in memory.
    Tasks(VecSource),
    /// Rate rows in memory, expanded.
    Rates(Box<RateTrace<MemoryRows>>),
}

impl TaskSource for SharedSource {
    type Error = Infallible;

    fn next_task(&mut self) -> Result<Option<Task>, Infallible> {
        match self {
            SharedSource::Tasks(t) => t.next_task(),
            SharedSource::Rates(r) => r.next_task(),
        }
    }
}
