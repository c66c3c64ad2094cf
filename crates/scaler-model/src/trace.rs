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

/// How a task trace is resampled for each seed (`[trace] resample`). The default replays
/// the trace as recorded, whatever the seed (SPEC section 5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resample {
    /// As recorded: the seed does not change the workload.
    #[default]
    None,
    /// Each arrival is known only to its bin `[k * resolution_ms, (k + 1) * resolution_ms)`:
    /// the tasks of a bin are placed uniformly at random inside it (sorted uniforms, drawn
    /// in order, as a rate trace's Poisson spreading), keeping their order and durations.
    /// The task count is exactly the trace's; arrivals stay non-decreasing.
    Jitter {
        /// The recorded resolution, ms (at least 1).
        resolution_ms: u64,
    },
    /// A block bootstrap: time is cut into blocks of `block_ms` aligned on multiples of it,
    /// from the block that holds the first arrival to the one that holds the last; each
    /// block of the output is a block of the trace drawn uniformly with replacement, its
    /// tasks shifted into place (time of day kept when `block_ms` is a day). Tasks shifted
    /// past the last arrival are left out, so the output spans what the trace spans.
    BlockBootstrap {
        /// The block length, ms (at least 1).
        block_ms: u64,
    },
}

/// A task stream with its arrivals jittered inside their bins ([`Resample::Jitter`]).
/// It holds one bin's tasks at a time: memory grows with the largest bin, not the trace.
pub struct Jitter<S> {
    inner: S,
    resolution_ms: u64,
    rng: ChaCha8Rng,
    /// The current bin's tasks, its start, and how many were emitted.
    bin: Vec<Task>,
    bin_start: u64,
    next: usize,
    /// The first task of the next bin, read ahead.
    ahead: Option<Task>,
    /// The last order statistic drawn in this bin, in [0, 1).
    last_u: f64,
}

impl<S: TaskSource> Jitter<S> {
    /// Jitters `inner`'s arrivals inside bins of `resolution_ms` (at least 1), with the
    /// resampling stream of `seed`.
    #[must_use]
    pub fn new(inner: S, resolution_ms: u64, seed: u64) -> Jitter<S> {
        Jitter {
            inner,
            resolution_ms: resolution_ms.max(1),
            rng: stream_rng(seed, streams::RESAMPLE),
            bin: Vec::new(),
            bin_start: 0,
            next: 0,
            ahead: None,
            last_u: 0.0,
        }
    }

    /// Reads the next bin; false at the end of the stream.
    fn fill(&mut self) -> Result<bool, S::Error> {
        self.bin.clear();
        self.next = 0;
        self.last_u = 0.0;
        let first = match self.ahead.take() {
            Some(t) => t,
            None => match self.inner.next_task()? {
                Some(t) => t,
                None => return Ok(false),
            },
        };
        let r = self.resolution_ms;
        self.bin_start = first.arrival_ms / r * r;
        self.bin.push(first);
        while let Some(t) = self.inner.next_task()? {
            if t.arrival_ms / r * r == self.bin_start {
                self.bin.push(t);
            } else {
                self.ahead = Some(t);
                break;
            }
        }
        Ok(true)
    }
}

impl<S: TaskSource> TaskSource for Jitter<S> {
    type Error = S::Error;

    fn next_task(&mut self) -> Result<Option<Task>, S::Error> {
        if self.next >= self.bin.len() && !self.fill()? {
            return Ok(None);
        }
        let (k, m) = (self.next, self.bin.len());
        let v: f64 = self.rng.random();
        #[allow(clippy::cast_precision_loss)]
        let remaining = (m - k) as f64;
        self.last_u = 1.0 - (1.0 - self.last_u) * v.powf(1.0 / remaining);
        #[allow(clippy::cast_precision_loss)]
        let x = (self.last_u * self.resolution_ms as f64).floor();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let offset = (x as u64).min(self.resolution_ms - 1);
        let task = self.bin[k];
        self.next += 1;
        Ok(Some(Task { arrival_ms: self.bin_start.saturating_add(offset), duration_ms: task.duration_ms }))
    }
}

/// A block bootstrap of tasks in memory ([`Resample::BlockBootstrap`]): it draws one block
/// index per output block and walks the shared tasks; it copies none of them.
#[derive(Clone, Debug)]
pub struct BlockBootstrap {
    tasks: Arc<[Task]>,
    block_ms: u64,
    /// The start of the first block, and the end of the span (the last arrival + 1 ms).
    origin_ms: u64,
    end_ms: u64,
    blocks: u64,
    rng: ChaCha8Rng,
    /// The next output block to draw.
    out_block: u64,
    /// The source block being emitted: the next index, its end, and the shift to apply.
    pos: usize,
    stop: usize,
    src_start_ms: u64,
    dst_start_ms: u64,
}

impl BlockBootstrap {
    /// A bootstrap of `tasks` (sorted by arrival) in blocks of `block_ms` (at least 1),
    /// with the resampling stream of `seed`.
    #[must_use]
    pub fn new(tasks: Arc<[Task]>, block_ms: u64, seed: u64) -> BlockBootstrap {
        let block_ms = block_ms.max(1);
        let (origin_ms, end_ms) = match (tasks.first(), tasks.last()) {
            (Some(f), Some(l)) => (f.arrival_ms / block_ms * block_ms, l.arrival_ms.saturating_add(1)),
            _ => (0, 0),
        };
        let blocks = (end_ms - origin_ms).div_ceil(block_ms);
        BlockBootstrap {
            tasks,
            block_ms,
            origin_ms,
            end_ms,
            blocks,
            rng: stream_rng(seed, streams::RESAMPLE),
            out_block: 0,
            pos: 0,
            stop: 0,
            src_start_ms: 0,
            dst_start_ms: 0,
        }
    }

    /// The number of blocks the span holds (the number drawn).
    #[must_use]
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// The first index of `tasks` whose arrival is at or after `t`.
    fn index_at(&self, t: u64) -> usize {
        self.tasks.partition_point(|x| x.arrival_ms < t)
    }
}

impl TaskSource for BlockBootstrap {
    type Error = Infallible;

    fn next_task(&mut self) -> Result<Option<Task>, Infallible> {
        loop {
            if self.pos < self.stop {
                let t = self.tasks[self.pos];
                self.pos += 1;
                let arrival_ms = (t.arrival_ms - self.src_start_ms).saturating_add(self.dst_start_ms);
                if arrival_ms < self.end_ms {
                    return Ok(Some(Task { arrival_ms, duration_ms: t.duration_ms }));
                }
                // Sorted: the rest of this block falls past the span too.
                self.pos = self.stop;
                continue;
            }
            if self.out_block >= self.blocks {
                return Ok(None);
            }
            let k = self.rng.random_range(0..self.blocks);
            self.src_start_ms = self.origin_ms + k * self.block_ms;
            self.dst_start_ms = self.origin_ms + self.out_block * self.block_ms;
            self.pos = self.index_at(self.src_start_ms);
            self.stop = self.index_at(self.src_start_ms.saturating_add(self.block_ms));
            self.out_block += 1;
        }
    }
}

/// A trace read and checked once, shared by many runs (sweeps): tasks as they are (or
/// resampled per seed), or rate rows that each run expands with its own seed.
#[derive(Clone, Debug)]
pub enum LoadedTrace {
    /// A task trace, and how each run's seed resamples it.
    Tasks(Arc<[Task]>, Resample),
    /// A rate trace's rows, with the scenario's expansion settings.
    Rates(Arc<[RateRow]>, RateExpansion),
}

impl LoadedTrace {
    /// True when the seed changes the workload: a task trace with a resampling method, or
    /// a rate trace with Poisson spreading or drawn durations.
    #[must_use]
    pub fn seed_changes_workload(&self) -> bool {
        match self {
            // A bootstrap of a trace within one block can only draw that block again.
            LoadedTrace::Tasks(t, Resample::BlockBootstrap { block_ms }) => match (t.first(), t.last()) {
                (Some(a), Some(b)) => a.arrival_ms / block_ms.max(&1) != b.arrival_ms / block_ms.max(&1),
                _ => false,
            },
            LoadedTrace::Tasks(_, r) => *r != Resample::None,
            LoadedTrace::Rates(_, e) => {
                e.spread == Spread::Poisson || matches!(e.duration, Some(DurationSpec::Dist(_)))
            }
        }
    }

    /// A task stream for one run with `seed`.
    #[must_use]
    pub fn source(&self, seed: u64) -> SharedSource {
        match self {
            LoadedTrace::Tasks(t, Resample::None) => SharedSource::Tasks(VecSource::shared(Arc::clone(t))),
            LoadedTrace::Tasks(t, Resample::Jitter { resolution_ms }) => {
                SharedSource::Jitter(Box::new(Jitter::new(VecSource::shared(Arc::clone(t)), *resolution_ms, seed)))
            }
            LoadedTrace::Tasks(t, Resample::BlockBootstrap { block_ms }) => {
                SharedSource::Bootstrap(Box::new(BlockBootstrap::new(Arc::clone(t), *block_ms, seed)))
            }
            LoadedTrace::Rates(rows, expansion) => {
                SharedSource::Rates(Box::new(RateTrace::new(MemoryRows::new(Arc::clone(rows)), *expansion, seed)))
            }
        }
    }

    /// How many tasks the trace holds (rates: the sum of arrivals); a block bootstrap's
    /// runs see about as many.
    #[must_use]
    pub fn task_count(&self) -> u64 {
        match self {
            LoadedTrace::Tasks(t, _) => t.len() as u64,
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
    /// Tasks in memory, jittered.
    Jitter(Box<Jitter<VecSource>>),
    /// Tasks in memory, block-bootstrapped.
    Bootstrap(Box<BlockBootstrap>),
}

impl TaskSource for SharedSource {
    type Error = Infallible;

    fn next_task(&mut self) -> Result<Option<Task>, Infallible> {
        match self {
            SharedSource::Tasks(t) => t.next_task(),
            SharedSource::Rates(r) => r.next_task(),
            SharedSource::Jitter(j) => j.next_task(),
            SharedSource::Bootstrap(b) => b.next_task(),
        }
    }
}
