//! Workload traces as streams of tasks (SPEC section 5): task traces
//! (`arrival_s,duration_s`) and rate traces (`timestamp_s,arrivals[,mean_duration_s]`).
//!
//! Both stream: memory does not grow with the trace's length.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Pareto, Uniform};

use crate::csvio::{CsvReader, Next};
use crate::error::InputError;
use crate::fields;
use crate::scenario::{DurationDist, DurationSpec, Spread, TraceFormat, TraceSpec};

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
    /// The next task, `None` at the end.
    fn next_task(&mut self) -> Result<Option<Task>, InputError>;
}

/// Tasks already in memory (benchmarks, tests, generated workloads).
#[derive(Clone, Debug)]
pub struct VecSource {
    tasks: Vec<Task>,
    next: usize,
}

impl VecSource {
    /// A source over `tasks`, which must be sorted by arrival.
    #[must_use]
    pub fn new(tasks: Vec<Task>) -> VecSource {
        debug_assert!(tasks.windows(2).all(|w| w[0].arrival_ms <= w[1].arrival_ms));
        VecSource { tasks, next: 0 }
    }
}

impl TaskSource for VecSource {
    fn next_task(&mut self) -> Result<Option<Task>, InputError> {
        let t = self.tasks.get(self.next).copied();
        self.next += 1;
        Ok(t)
    }
}

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

impl DurationSampler {
    /// A sampler for `dist` with its own random stream.
    #[must_use]
    pub fn new(dist: DurationDist, rng: ChaCha8Rng) -> DurationSampler {
        let dist = match dist {
            DurationDist::Exponential { mean_s } => Sampler::Exp(Exp::new(1.0 / mean_s).expect("mean > 0 (validated)")),
            DurationDist::LogNormal { mean_s, cv } => {
                let sigma2 = (1.0 + cv * cv).ln();
                let mu = mean_s.ln() - sigma2 / 2.0;
                Sampler::LogNormal(LogNormal::new(mu, sigma2.sqrt()).expect("finite (validated)"))
            }
            DurationDist::Pareto { mean_s, alpha } => {
                let scale = mean_s * (alpha - 1.0) / alpha;
                Sampler::Pareto(Pareto::new(scale, alpha).expect("scale > 0, alpha > 1 (validated)"))
            }
            DurationDist::Uniform { min_s, max_s } => {
                Sampler::Uniform(Uniform::new_inclusive(min_s, max_s).expect("min <= max (validated)"))
            }
        };
        DurationSampler { dist, rng }
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

/// A task trace: `arrival_s,duration_s`, arrivals non-decreasing.
pub struct TaskTrace<R> {
    csv: CsvReader<R>,
    arrival: usize,
    duration: usize,
    last_ms: u64,
}

impl<R: Read> TaskTrace<R> {
    fn new(csv: CsvReader<R>) -> Result<Self, InputError> {
        let [arrival, duration] = csv.require(["arrival_s", "duration_s"])?;
        Ok(TaskTrace { csv, arrival, duration, last_ms: 0 })
    }
}

impl<R: Read> TaskSource for TaskTrace<R> {
    fn next_task(&mut self) -> Result<Option<Task>, InputError> {
        match self.csv.next_row()? {
            Next::End => Ok(None),
            Next::Bad(e) => Err(e),
            Next::Row => {
                let a = fields::time(&self.csv, self.arrival)?;
                let d = fields::duration(&self.csv, self.duration)?;
                if a.as_ms() < self.last_ms {
                    return Err(self.csv.field_error(
                        self.arrival,
                        format!(
                            "arrival {a} is before the previous arrival ({}); arrivals must be non-decreasing",
                            scaler_core::TimeMs(self.last_ms)
                        ),
                    ));
                }
                self.last_ms = a.as_ms();
                Ok(Some(Task { arrival_ms: a.as_ms(), duration_ms: d.as_ms() }))
            }
        }
    }
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

/// Where a rate trace's rows come from.
enum Rows<R> {
    /// A CSV file, read with one row of look-ahead to know each row's interval.
    Csv {
        csv: Box<CsvReader<R>>,
        cols: [usize; 2],
        mean_col: Option<usize>,
        /// The next row (its interval not yet known), and whether reading started.
        ahead: Option<RateRow>,
        started: bool,
        prev_interval: Option<u64>,
    },
    /// Rows already read and checked.
    Memory { rows: Arc<[RateRow]>, next: usize },
}

/// A rate trace expanded into tasks: `arrivals` tasks in `[timestamp_s, next timestamp_s)`.
pub struct RateTrace<R> {
    rows: Rows<R>,
    spread: Spread,
    constant_ms: Option<u64>,
    sampler: Option<DurationSampler>,
    arrivals_rng: ChaCha8Rng,
    /// The row being expanded and how many of its tasks were emitted.
    current: Option<(RateRow, u64)>,
    /// Poisson spreading: the last order statistic drawn, in [0, 1).
    last_u: f64,
}

/// The duration settings of a rate trace, checked against its columns.
fn rate_durations(spec: &TraceSpec, seed: u64) -> (Option<u64>, Option<DurationSampler>) {
    match spec.duration {
        Some(DurationSpec::Constant(d)) => (Some(d.as_ms()), None),
        Some(DurationSpec::Dist(d)) => (None, Some(DurationSampler::new(d, stream_rng(seed, streams::DURATIONS)))),
        None => (None, None),
    }
}

impl<R: Read> RateTrace<R> {
    fn new(csv: CsvReader<R>, spec: &TraceSpec, seed: u64) -> Result<Self, InputError> {
        let cols = csv.require(["timestamp_s", "arrivals"])?;
        let mean_col = csv.column("mean_duration_s");
        if spec.duration.is_none() && mean_col.is_none() {
            return Err(InputError::line(
                csv.path(),
                1,
                "a rate trace needs task durations: a mean_duration_s column, or trace.duration_s or trace.duration in the scenario",
            ));
        }
        let rows = Rows::Csv { csv: Box::new(csv), cols, mean_col, ahead: None, started: false, prev_interval: None };
        Ok(RateTrace::with_rows(rows, spec, seed))
    }

    fn with_rows(rows: Rows<R>, spec: &TraceSpec, seed: u64) -> Self {
        let (constant_ms, sampler) = rate_durations(spec, seed);
        RateTrace {
            rows,
            spread: spec.spread,
            constant_ms,
            sampler,
            arrivals_rng: stream_rng(seed, streams::ARRIVALS),
            current: None,
            last_u: 0.0,
        }
    }

    /// The next row with its interval, reading and checking the file as it goes.
    fn next_row(&mut self) -> Result<Option<RateRow>, InputError> {
        let has_durations = self.constant_ms.is_some() || self.sampler.is_some();
        match &mut self.rows {
            Rows::Memory { rows, next } => {
                let r = rows.get(*next).copied();
                *next += 1;
                Ok(r)
            }
            Rows::Csv { csv, cols, mean_col, ahead, started, prev_interval } => {
                let row = if *started {
                    ahead.take()
                } else {
                    *started = true;
                    read_rate_row(csv, *cols, *mean_col, has_durations)?
                };
                let Some(mut row) = row else { return Ok(None) };
                let row_line = csv.line();
                *ahead = read_rate_row(csv, *cols, *mean_col, has_durations)?;
                row.interval_ms = match ahead {
                    Some(next) => {
                        if next.ts_ms <= row.ts_ms {
                            return Err(csv.field_error(
                                cols[0],
                                format!(
                                    "timestamp_s {} is not after the previous row's ({}); timestamps must strictly increase",
                                    scaler_core::TimeMs(next.ts_ms),
                                    scaler_core::TimeMs(row.ts_ms)
                                ),
                            ));
                        }
                        next.ts_ms - row.ts_ms
                    }
                    None => prev_interval.ok_or_else(|| {
                        InputError::line(
                            csv.path(),
                            row_line,
                            "a rate trace needs at least two rows: the last row's interval is the one before it",
                        )
                    })?,
                };
                *prev_interval = Some(row.interval_ms);
                Ok(Some(row))
            }
        }
    }
}

fn read_rate_row<R: Read>(
    csv: &mut CsvReader<R>,
    cols: [usize; 2],
    mean_col: Option<usize>,
    has_durations: bool,
) -> Result<Option<RateRow>, InputError> {
    match csv.next_row()? {
        Next::End => Ok(None),
        Next::Bad(e) => Err(e),
        Next::Row => {
            let [t, a] = cols;
            let ts = fields::time(csv, t)?.as_ms();
            let arrivals = fields::count(csv, a)?;
            let mean_ms = match mean_col {
                Some(c) if !csv.get_bytes(c).is_empty() => Some(fields::duration(csv, c)?.as_ms()),
                _ => None,
            };
            if mean_ms.is_none() && !has_durations && arrivals > 0 {
                return Err(csv.field_error(
                    mean_col.unwrap_or(a),
                    "no duration for these tasks: this row has no mean_duration_s and the scenario sets no trace.duration_s or trace.duration",
                ));
            }
            Ok(Some(RateRow { ts_ms: ts, arrivals, mean_ms, interval_ms: 0 }))
        }
    }
}

impl<R: Read> TaskSource for RateTrace<R> {
    fn next_task(&mut self) -> Result<Option<Task>, InputError> {
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
            match self.next_row()? {
                Some(row) => {
                    self.current = Some((row, 0));
                    self.last_u = 0.0;
                }
                None => return Ok(None),
            }
        }
    }
}

/// A trace file opened as a task stream.
pub enum TraceSource {
    /// A task trace.
    Tasks(TaskTrace<File>),
    /// A rate trace.
    Rates(Box<RateTrace<File>>),
}

impl TaskSource for TraceSource {
    fn next_task(&mut self) -> Result<Option<Task>, InputError> {
        match self {
            TraceSource::Tasks(t) => t.next_task(),
            TraceSource::Rates(r) => r.next_task(),
        }
    }
}

/// A task stream over any reader (for tools and fuzzing); the format as in [`open`].
pub fn from_reader<R: Read + 'static>(
    csv: CsvReader<R>,
    spec: &TraceSpec,
    seed: u64,
) -> Result<Box<dyn TaskSource>, InputError> {
    let format = match spec.format {
        Some(f) => f,
        None => detect(&csv, &spec.path)?,
    };
    Ok(match format {
        TraceFormat::Tasks => Box::new(TaskTrace::new(csv)?),
        TraceFormat::Rates => Box::new(RateTrace::new(csv, spec, seed)?),
    })
}

/// Opens the scenario's trace, detecting its format from the header when not given.
pub fn open(spec: &TraceSpec, seed: u64) -> Result<TraceSource, InputError> {
    let csv = CsvReader::open(&spec.path)?;
    let format = match spec.format {
        Some(f) => f,
        None => detect(&csv, &spec.path)?,
    };
    Ok(match format {
        TraceFormat::Tasks => TraceSource::Tasks(TaskTrace::new(csv)?),
        TraceFormat::Rates => TraceSource::Rates(Box::new(RateTrace::new(csv, spec, seed)?)),
    })
}

fn detect<R: Read>(csv: &CsvReader<R>, path: &Path) -> Result<TraceFormat, InputError> {
    let has = |c: &str| csv.column(c).is_some();
    if has("arrival_s") && has("duration_s") {
        Ok(TraceFormat::Tasks)
    } else if has("timestamp_s") && has("arrivals") {
        Ok(TraceFormat::Rates)
    } else {
        Err(InputError::line(
            path,
            1,
            format!(
                "cannot tell the trace format from the header ({}): a task trace has arrival_s,duration_s; a rate trace has timestamp_s,arrivals",
                csv.header().join(",")
            ),
        ))
    }
}

/// A trace read and checked once, shared by many runs (sweeps): tasks as they are,
/// or rate rows that each run expands with its own seed.
#[derive(Clone, Debug)]
pub enum LoadedTrace {
    /// A task trace.
    Tasks(Arc<[Task]>),
    /// A rate trace's rows, with the scenario's trace settings.
    Rates(Arc<[RateRow]>, TraceSpec),
}

impl LoadedTrace {
    /// Reads the whole trace, with the same checks as a streaming run.
    pub fn load(spec: &TraceSpec) -> Result<LoadedTrace, InputError> {
        match open(spec, 0)? {
            TraceSource::Tasks(mut t) => {
                let mut v = Vec::new();
                while let Some(task) = t.next_task()? {
                    v.push(task);
                }
                Ok(LoadedTrace::Tasks(v.into()))
            }
            TraceSource::Rates(mut r) => {
                let mut v = Vec::new();
                while let Some(row) = r.next_row()? {
                    v.push(row);
                }
                Ok(LoadedTrace::Rates(v.into(), spec.clone()))
            }
        }
    }

    /// A task stream for one run with `seed`.
    #[must_use]
    pub fn source(&self, seed: u64) -> SharedSource {
        match self {
            LoadedTrace::Tasks(t) => SharedSource::Tasks { tasks: Arc::clone(t), next: 0 },
            LoadedTrace::Rates(rows, spec) => SharedSource::Rates(Box::new(RateTrace::with_rows(
                Rows::Memory { rows: Arc::clone(rows), next: 0 },
                spec,
                seed,
            ))),
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
    Tasks {
        /// The tasks.
        tasks: Arc<[Task]>,
        /// The next one.
        next: usize,
    },
    /// Rate rows in memory, expanded.
    Rates(Box<RateTrace<std::io::Empty>>),
}

impl TaskSource for SharedSource {
    fn next_task(&mut self) -> Result<Option<Task>, InputError> {
        match self {
            SharedSource::Tasks { tasks, next } => {
                let t = tasks.get(*next).copied();
                *next += 1;
                Ok(t)
            }
            SharedSource::Rates(r) => r.next_task(),
        }
    }
}
