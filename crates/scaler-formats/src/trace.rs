//! Trace files (SPEC section 5) read into the model's task sources: task traces
//! (`arrival_s,duration_s`) and rate traces (`timestamp_s,arrivals[,mean_duration_s]`,
//! expanded by `scaler_model::trace::RateTrace`).
//!
//! Both stream: memory does not grow with the trace's length.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use scaler_model::trace::{
    BlockBootstrap, Jitter, LoadedTrace, RateRow, RateRows, RateTrace, Resample, Task, TaskSource,
};

use crate::csvio::{CsvReader, Next};
use crate::error::InputError;
use crate::fields;
use crate::scenario::{TraceFormat, TraceSpec};

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
    type Error = InputError;

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

/// A rate trace's rows from a CSV file, read with one row of look-ahead to know each
/// row's interval.
pub struct CsvRateRows<R> {
    csv: CsvReader<R>,
    cols: [usize; 2],
    mean_col: Option<usize>,
    /// The scenario gives durations (rows may then lack `mean_duration_s`).
    has_durations: bool,
    /// The next row (its interval not yet known), and whether reading started.
    ahead: Option<RateRow>,
    started: bool,
    prev_interval: Option<u64>,
}

impl<R: Read> CsvRateRows<R> {
    fn new(csv: CsvReader<R>, spec: &TraceSpec) -> Result<Self, InputError> {
        let cols = csv.require(["timestamp_s", "arrivals"])?;
        let mean_col = csv.column("mean_duration_s");
        if spec.duration.is_none() && mean_col.is_none() {
            return Err(InputError::line(
                csv.path(),
                1,
                "a rate trace needs task durations: a mean_duration_s column, or trace.duration_s or trace.duration in the scenario",
            ));
        }
        Ok(CsvRateRows {
            csv,
            cols,
            mean_col,
            has_durations: spec.duration.is_some(),
            ahead: None,
            started: false,
            prev_interval: None,
        })
    }

    fn read_row(&mut self) -> Result<Option<RateRow>, InputError> {
        let csv = &mut self.csv;
        match csv.next_row()? {
            Next::End => Ok(None),
            Next::Bad(e) => Err(e),
            Next::Row => {
                let [t, a] = self.cols;
                let ts = fields::time(csv, t)?.as_ms();
                let arrivals = fields::count(csv, a)?;
                let mean_ms = match self.mean_col {
                    Some(c) if !csv.get_bytes(c).is_empty() => Some(fields::duration(csv, c)?.as_ms()),
                    _ => None,
                };
                if mean_ms.is_none() && !self.has_durations && arrivals > 0 {
                    return Err(csv.field_error(
                        self.mean_col.unwrap_or(a),
                        "no duration for these tasks: this row has no mean_duration_s and the scenario sets no trace.duration_s or trace.duration",
                    ));
                }
                Ok(Some(RateRow { ts_ms: ts, arrivals, mean_ms, interval_ms: 0 }))
            }
        }
    }
}

impl<R: Read> RateRows for CsvRateRows<R> {
    type Error = InputError;

    /// The next row with its interval, reading and checking the file as it goes.
    fn next_row(&mut self) -> Result<Option<RateRow>, InputError> {
        let row = if self.started {
            self.ahead.take()
        } else {
            self.started = true;
            self.read_row()?
        };
        let Some(mut row) = row else { return Ok(None) };
        let row_line = self.csv.line();
        self.ahead = self.read_row()?;
        row.interval_ms = match self.ahead {
            Some(next) => {
                if next.ts_ms <= row.ts_ms {
                    return Err(self.csv.field_error(
                        self.cols[0],
                        format!(
                            "timestamp_s {} is not after the previous row's ({}); timestamps must strictly increase",
                            scaler_core::TimeMs(next.ts_ms),
                            scaler_core::TimeMs(row.ts_ms)
                        ),
                    ));
                }
                next.ts_ms - row.ts_ms
            }
            None => self.prev_interval.ok_or_else(|| {
                InputError::line(
                    self.csv.path(),
                    row_line,
                    "a rate trace needs at least two rows: the last row's interval is the one before it",
                )
            })?,
        };
        self.prev_interval = Some(row.interval_ms);
        Ok(Some(row))
    }
}

/// A rate trace file expanded into tasks.
pub type RateFile<R> = RateTrace<CsvRateRows<R>>;

/// A trace file opened as a task stream.
pub enum TraceSource {
    /// A task trace.
    Tasks(TaskTrace<File>),
    /// A rate trace.
    Rates(Box<RateFile<File>>),
    /// A task trace, its arrivals jittered as it streams (`resample = "jitter"`).
    Jittered(Box<Jitter<TaskTrace<File>>>),
    /// A task trace read whole, then block-bootstrapped (`resample = "block_bootstrap"`
    /// draws blocks from anywhere in the trace, so it holds the trace in memory).
    Bootstrapped(Box<BlockBootstrap>),
}

impl TaskSource for TraceSource {
    type Error = InputError;

    fn next_task(&mut self) -> Result<Option<Task>, InputError> {
        match self {
            TraceSource::Tasks(t) => t.next_task(),
            TraceSource::Rates(r) => r.next_task(),
            TraceSource::Jittered(j) => j.next_task(),
            TraceSource::Bootstrapped(b) => Ok(b.next_task().unwrap_or_else(|e| match e {})),
        }
    }
}

/// A task stream over any reader (for tools and fuzzing); the format as in [`open`].
pub fn from_reader<R: Read + 'static>(
    csv: CsvReader<R>,
    spec: &TraceSpec,
    seed: u64,
) -> Result<Box<dyn TaskSource<Error = InputError>>, InputError> {
    let format = match spec.format {
        Some(f) => f,
        None => detect(&csv, &spec.path)?,
    };
    if format == TraceFormat::Rates && spec.resample != Resample::None {
        return Err(InputError::line(&spec.path, 1, crate::scenario::RESAMPLE_RATES));
    }
    Ok(match (format, spec.resample) {
        (TraceFormat::Tasks, Resample::None) => Box::new(TaskTrace::new(csv)?),
        (TraceFormat::Tasks, Resample::Jitter { resolution_ms }) => {
            Box::new(Jitter::new(TaskTrace::new(csv)?, resolution_ms, seed))
        }
        (TraceFormat::Tasks, Resample::BlockBootstrap { block_ms }) => {
            let tasks = read_all(TaskTrace::new(csv)?)?;
            Box::new(Infallibly(BlockBootstrap::new(tasks.into(), block_ms, seed)))
        }
        (TraceFormat::Rates, _) => Box::new(RateTrace::new(CsvRateRows::new(csv, spec)?, spec.expansion(), seed)),
    })
}

/// An infallible source seen as one that fails with an [`InputError`].
struct Infallibly<S>(S);

impl<S: TaskSource<Error = std::convert::Infallible>> TaskSource for Infallibly<S> {
    type Error = InputError;

    fn next_task(&mut self) -> Result<Option<Task>, InputError> {
        Ok(self.0.next_task().unwrap_or_else(|e| match e {}))
    }
}

/// Every task of a task trace, checked.
fn read_all<R: Read>(mut t: TaskTrace<R>) -> Result<Vec<Task>, InputError> {
    let mut v = Vec::new();
    while let Some(task) = t.next_task()? {
        v.push(task);
    }
    Ok(v)
}

/// Opens the scenario's trace, detecting its format from the header when not given, and
/// resampled with `seed` as `spec.resample` says (a rate trace with a resampling method is
/// refused at line 1).
pub fn open(spec: &TraceSpec, seed: u64) -> Result<TraceSource, InputError> {
    let csv = CsvReader::open(&spec.path)?;
    let format = match spec.format {
        Some(f) => f,
        None => detect(&csv, &spec.path)?,
    };
    if format == TraceFormat::Rates && spec.resample != Resample::None {
        return Err(InputError::line(&spec.path, 1, crate::scenario::RESAMPLE_RATES));
    }
    Ok(match (format, spec.resample) {
        (TraceFormat::Tasks, Resample::None) => TraceSource::Tasks(TaskTrace::new(csv)?),
        (TraceFormat::Tasks, Resample::Jitter { resolution_ms }) => {
            TraceSource::Jittered(Box::new(Jitter::new(TaskTrace::new(csv)?, resolution_ms, seed)))
        }
        (TraceFormat::Tasks, Resample::BlockBootstrap { block_ms }) => {
            let tasks = read_all(TaskTrace::new(csv)?)?;
            TraceSource::Bootstrapped(Box::new(BlockBootstrap::new(tasks.into(), block_ms, seed)))
        }
        (TraceFormat::Rates, _) => {
            TraceSource::Rates(Box::new(RateTrace::new(CsvRateRows::new(csv, spec)?, spec.expansion(), seed)))
        }
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

/// Reads the whole trace once, with the same checks as a streaming run, for runs that
/// share it ([`LoadedTrace::source`], which resamples a task trace per seed as
/// `spec.resample` says: the tasks are held once, as recorded).
pub fn load(spec: &TraceSpec) -> Result<LoadedTrace, InputError> {
    let as_recorded = TraceSpec { resample: Resample::None, ..spec.clone() };
    let src = open(&as_recorded, 0);
    if spec.resample != Resample::None {
        if let Ok(TraceSource::Rates(_)) = &src {
            return Err(InputError::line(&spec.path, 1, crate::scenario::RESAMPLE_RATES));
        }
    }
    match src? {
        TraceSource::Tasks(t) => Ok(LoadedTrace::Tasks(read_all(t)?.into(), spec.resample)),
        TraceSource::Jittered(_) | TraceSource::Bootstrapped(_) => unreachable!("opened as recorded"),
        TraceSource::Rates(mut r) => {
            let mut v = Vec::new();
            while let Some(row) = r.rows_mut().next_row()? {
                v.push(row);
            }
            Ok(LoadedTrace::Rates(v.into(), spec.expansion()))
        }
    }
}
