//! The observations file (SPEC section 5): what `replay` reads and the runtime records.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

use scaler_core::Observation;

use crate::csvio::{CsvReader, Next};
use crate::error::{InputError, SimError};
use crate::fields;
use crate::fmtnum::{push_fixed9, push_ms_as_seconds, push_u64};

/// The columns, in the order the project writes them.
pub const COLUMNS: [&str; 6] =
    ["timestamp_s", "current_workers", "pending_tasks", "running_tasks", "avg_task_duration_s", "worker_utilization"];

/// Streams observations from a CSV file.
pub struct ObservationReader<R> {
    csv: CsvReader<R>,
    idx: [usize; 6],
}

impl ObservationReader<File> {
    /// Opens a file and checks its header.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let csv = CsvReader::open(path)?;
        let idx = csv.require(COLUMNS)?;
        Ok(ObservationReader { csv, idx })
    }
}

impl<R: Read> ObservationReader<R> {
    /// Reads observations from an already opened CSV (its header is checked).
    pub fn from_csv(csv: CsvReader<R>) -> Result<Self, InputError> {
        let idx = csv.require(COLUMNS)?;
        Ok(ObservationReader { csv, idx })
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
        let obs = Observation::new(
            fields::time(r, t)?,
            fields::count_u32(r, w)?,
            fields::count(r, p)?,
            fields::count(r, run)?,
            fields::duration(r, d)?,
            fields::utilization(r, u)?,
        );
        obs.map_err(|e| r.field_error(u, e.to_string()))
    }

    /// The current row's line number.
    #[must_use]
    pub fn line(&self) -> u64 {
        self.csv.line()
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
                    Ok(Some(obs)) => batch.push(Row { line: reader.line(), obs }),
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
    push_fixed9(buf, o.worker_utilization());
    buf.push(b'\n');
}
