//! The observations file (SPEC section 5): what `replay` reads and the runtime records.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

use scaler_core::{Observation, PoolCounts};

use crate::csvio::{CsvReader, Next};
use crate::error::{InputError, SimError};
use crate::fields;
use crate::fmtnum::{push_fixed9, push_ms_as_seconds, push_u64};

/// The columns, in the order the project writes them.
pub const COLUMNS: [&str; 6] =
    ["timestamp_s", "current_workers", "pending_tasks", "running_tasks", "avg_task_duration_s", "worker_utilization"];

/// The optional columns with the exact pool counts (an extension; the simulator and the
/// runtime write them): when all three are in the header, replay builds the exact
/// utilization `busy_slots / total_slots` from them.
pub const EXACT_COLUMNS: [&str; 3] = ["ready_workers", "busy_slots", "total_slots"];

/// Streams observations from a CSV file.
pub struct ObservationReader<R> {
    csv: CsvReader<R>,
    idx: [usize; 6],
    exact: Option<[usize; 3]>,
}

fn exact_columns<R: Read>(csv: &CsvReader<R>) -> Option<[usize; 3]> {
    let [a, b, c] = EXACT_COLUMNS.map(|n| csv.column(n));
    Some([a?, b?, c?])
}

impl ObservationReader<File> {
    /// Opens a file and checks its header.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        ObservationReader::from_csv(CsvReader::open(path)?)
    }
}

impl<R: Read> ObservationReader<R> {
    /// Reads observations from an already opened CSV (its header is checked).
    pub fn from_csv(csv: CsvReader<R>) -> Result<Self, InputError> {
        let idx = csv.require(COLUMNS)?;
        let exact = exact_columns(&csv);
        Ok(ObservationReader { csv, idx, exact })
    }

    /// The next observation. The outer `Err` is fatal; an inner `Err` is an invalid row.
    pub fn next_observation(&mut self) -> Result<Option<Result<Observation, InputError>>, InputError> {
        match self.csv.next_row()? {
            Next::End => Ok(None),
            Next::Bad(e) => Ok(Some(Err(e))),
            Next::Row => Ok(Some(self.parse_row())),
        }
    }

    fn parse_row(&self) -> Result<Observation, InputError> {
        let r = &self.csv;
        let [t, w, p, run, d, u] = self.idx;
        let (time, workers, pending, running, avg) = (
            fields::time(r, t)?,
            fields::count_u32(r, w)?,
            fields::count(r, p)?,
            fields::count(r, run)?,
            fields::duration(r, d)?,
        );
        let util = fields::utilization(r, u)?;
        if let Some([ready_i, busy_i, total_i]) = self.exact {
            let empty = [ready_i, busy_i, total_i].map(|i| r.get_bytes(i).is_empty());
            if empty != [true; 3] {
                if let Some(k) = empty.iter().position(|&e| e) {
                    let i = [ready_i, busy_i, total_i][k];
                    return Err(r.field_error(
                        i,
                        "is empty, but the other exact columns (ready_workers, busy_slots, total_slots) are given: give all three or none",
                    ));
                }
                let counts = PoolCounts {
                    ready_workers: fields::count_u32(r, ready_i)?,
                    busy_slots: fields::count(r, busy_i)?,
                    total_slots: fields::count(r, total_i)?,
                };
                let obs = Observation::with_counts(time, workers, pending, running, avg, counts).map_err(|e| {
                    let col = if counts.busy_slots > counts.total_slots { busy_i } else { ready_i };
                    r.field_error(col, e.to_string())
                })?;
                if obs.worker_utilization().to_fixed9() != util {
                    return Err(r.field_error(
                        u,
                        format!(
                            "{util} does not match busy_slots / total_slots = {} / {} (= {})",
                            counts.busy_slots,
                            counts.total_slots,
                            obs.worker_utilization()
                        ),
                    ));
                }
                return Ok(obs);
            }
        }
        Observation::new(time, workers, pending, running, avg, util).map_err(|e| r.field_error(u, e.to_string()))
    }

    /// The current row's line number.
    #[must_use]
    pub fn line(&self) -> u64 {
        self.csv.line()
    }

    /// True when the current row is the last and has no line end (a torn write).
    #[must_use]
    pub fn unterminated(&self) -> bool {
        self.csv.unterminated()
    }

    /// The file's name as given.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.csv.path()
    }

    /// The 1-based column number of `timestamp_s`.
    #[must_use]
    pub fn timestamp_column(&self) -> usize {
        self.idx[0] + 1
    }
}

/// One row of an observations file: its line and the observation or why it is invalid.
#[derive(Debug)]
pub struct Row {
    /// The row's line number.
    pub line: u64,
    /// The observation, or the reason the row is invalid.
    pub obs: Result<Observation, InputError>,
    /// The row is the file's last and has no line end (a torn write).
    pub torn: bool,
}

const BATCH_ROWS: usize = 4096;

/// Reads the rows on a second thread and hands them to `f` in order, a batch at
/// a time, so that parsing overlaps with whatever `f` does.
///
/// A fatal read error ends the stream with that error; an error returned by `f`
/// stops the reading.
pub fn for_each_batch<R: Read + Send>(
    mut reader: ObservationReader<R>,
    mut f: impl FnMut(&[Row]) -> Result<(), SimError>,
) -> Result<(), SimError> {
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::sync_channel::<Result<Vec<Row>, InputError>>(4);
        let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<Row>>();
        s.spawn(move || loop {
            let mut batch = recycle_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH_ROWS));
            batch.clear();
            while batch.len() < BATCH_ROWS {
                match reader.next_observation() {
                    Ok(Some(obs)) => batch.push(Row { line: reader.line(), obs, torn: reader.unterminated() }),
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            let last = batch.len() < BATCH_ROWS;
            if tx.send(Ok(batch)).is_err() || last {
                return;
            }
        });
        for msg in rx {
            let batch = msg?;
            f(&batch)?;
            let _ = recycle_tx.send(batch);
        }
        Ok(())
    })
}

/// The header line of an observations file, with its line end.
#[must_use]
pub fn header_line() -> String {
    scaler_core::OBSERVATIONS_HEADER.to_string()
}

/// Appends one observation as a CSV row (with its line end): the same text as
/// [`Observation::csv_row`], without allocating.
pub fn push_row(buf: &mut Vec<u8>, o: &Observation) {
    push_ms_as_seconds(buf, o.timestamp.as_ms());
    buf.push(b',');
    push_u64(buf, u64::from(o.current_workers));
    buf.push(b',');
    push_u64(buf, o.pending_tasks);
    buf.push(b',');
    push_u64(buf, o.running_tasks);
    buf.push(b',');
    push_ms_as_seconds(buf, o.avg_task_duration.as_ms());
    buf.push(b',');
    push_fixed9(buf, o.worker_utilization().to_fixed9());
    buf.push(b',');
    if let Some(p) = o.pool() {
        push_u64(buf, u64::from(p.ready_workers));
        buf.push(b',');
        push_u64(buf, p.busy_slots);
        buf.push(b',');
        push_u64(buf, p.total_slots);
    } else {
        buf.extend_from_slice(b",,");
    }
    buf.push(b'\n');
}
