//! `import csv`: any CSV with a time column, into a rate trace, a task trace or
//! observations.
//!
//! Read with [`CsvReader`] (located errors, BOM, quoting). Times are epoch seconds, epoch
//! milliseconds or ISO 8601 (with an offset, or in `--time-zone`: UTC, a fixed offset or a zone name);
//! rows may come in any order (they are sorted), and several files are read as one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use scaler_core::{Decimal, DecimalError, DurationMs};

use super::series::{self, Loc, Point, RateOptions, Summed, Value};
use super::{ImportOptions, ImportReport, Shape, TimeFormat};
use crate::csvio::{CsvReader, Next};
use crate::error::{InputError, Location, SimError};
use crate::fmtnum::push_ms_as_seconds;

/// Imports `inputs` into `out`.
pub fn import(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    let bad = [
        (!opts.select.is_empty(), "--select"),
        (!opts.labels.is_empty(), "--labels"),
        (opts.accept_partial, "--accept-partial"),
    ];
    if let Some((_, name)) = bad.iter().find(|(b, _)| *b) {
        return Err(InputError::file(Path::new(name), format!("{name} does not apply to import csv")).into());
    }
    let Some(time_column) = opts.time_column.as_deref() else {
        return Err(InputError::file(
            Path::new("--time-column"),
            "import csv needs --time-column NAME: the column with the times",
        )
        .into());
    };
    let zone = match &opts.time_zone {
        None => jiff::tz::TimeZone::UTC,
        Some(z) => {
            if matches!(opts.time_format, Some(TimeFormat::Epoch | TimeFormat::EpochMs)) {
                return Err(InputError::file(
                    Path::new("--time-zone"),
                    "--time-zone is for ISO 8601 times (epoch times are UTC)",
                )
                .into());
            }
            super::jobs::time_zone(Some(z))?
        }
    };
    let times = Times { format: opts.time_format, zone, detected: None };
    let shape = opts.shape.unwrap_or(Shape::Rates);
    if shape != Shape::Rates && (opts.value_column.is_some() || opts.counts || opts.step_s.is_some()) {
        return Err(
            InputError::file(Path::new("--as"), "--value-column, --counts and --step-s are for --as rates").into()
        );
    }
    let mut r = match shape {
        Shape::Rates => rates(opts, time_column, times, inputs, out, out_path)?,
        Shape::Tasks => tasks(opts, time_column, times, inputs, out, out_path)?,
        Shape::Observations => observations(opts, time_column, times, inputs, out, out_path)?,
    };
    r.0.notices.extend(r.1);
    Ok(r.0)
}

/// How times are read.
#[derive(Clone, Debug)]
struct Times {
    format: Option<TimeFormat>,
    /// The zone of ISO times written without an offset.
    zone: jiff::tz::TimeZone,
    detected: Option<TimeFormat>,
}

impl Times {
    /// Reads the time in field `i` as epoch ms (years -9999 to 9999).
    fn read(&mut self, csv: &CsvReader<File>, i: usize) -> Result<i64, InputError> {
        let ms = self.read_any(csv, i)?;
        if ms.unsigned_abs() >= 253_402_300_800_000 {
            let text = String::from_utf8_lossy(csv.get_bytes(i));
            return Err(csv.field_error(i, format!("{text:?} is beyond the year 9999")));
        }
        Ok(ms)
    }

    fn read_any(&mut self, csv: &CsvReader<File>, i: usize) -> Result<i64, InputError> {
        let b = csv.get_bytes(i);
        let format = match self.format.or(self.detected) {
            Some(f) => f,
            None => {
                let f = if Decimal::parse_bytes(b).is_ok() { TimeFormat::Epoch } else { TimeFormat::Iso8601 };
                self.detected = Some(f);
                f
            }
        };
        let text = || String::from_utf8_lossy(b).into_owned();
        match format {
            TimeFormat::Epoch | TimeFormat::EpochMs => {
                let scale = if format == TimeFormat::Epoch { 3 } else { 0 };
                let unit = if format == TimeFormat::Epoch { "seconds" } else { "milliseconds" };
                match Decimal::parse_bytes(b).and_then(|d| d.to_scaled_i64(scale)) {
                    Ok(ms) => Ok(ms),
                    Err(DecimalError::TooLarge) => Err(csv.field_error(i, format!("{:?} is too large a time", text()))),
                    Err(_) => Err(csv.field_error(
                        i,
                        format!(
                            "{:?} is not a number of {unit} since the epoch (--time-format {})",
                            text(),
                            time_format_name(format)
                        ),
                    )),
                }
            }
            TimeFormat::Iso8601 => {
                let s = std::str::from_utf8(b).map_err(|_| csv.field_error(i, "is not UTF-8 text"))?;
                if let Ok(t) = s.parse::<jiff::Timestamp>() {
                    return Ok(t.as_millisecond());
                }
                let dt = s.parse::<jiff::civil::DateTime>().map_err(|_| {
                    csv.field_error(
                        i,
                        format!("{s:?} is not an ISO 8601 time (2024-03-01T12:00:00Z, 2024-03-01 12:00:00+01:00, 2024-03-01T12:00:00)"),
                    )
                })?;
                self.zone
                    .to_timestamp(dt)
                    .map(jiff::Timestamp::as_millisecond)
                    .map_err(|e| csv.field_error(i, e.to_string()))
            }
        }
    }

    fn notice(&self) -> Option<String> {
        if self.format.is_some() {
            return None;
        }
        self.detected.map(|f| {
            format!(
                "times read as {} (from the first row; give --time-format to choose)",
                match f {
                    TimeFormat::Epoch => "epoch seconds",
                    TimeFormat::EpochMs => "epoch milliseconds",
                    TimeFormat::Iso8601 => "ISO 8601",
                }
            )
        })
    }
}

fn time_format_name(f: TimeFormat) -> &'static str {
    TimeFormat::ALL.iter().find(|(_, t)| *t == f).map_or("?", |(n, _)| n)
}

/// A column of every input, by name.
fn column(csv: &CsvReader<File>, name: &str, option: &str) -> Result<usize, InputError> {
    csv.column(name).ok_or_else(|| {
        InputError::line(
            csv.path(),
            1,
            format!("has no column {name:?} ({option}); the header has: {}", csv.header().join(", ")),
        )
    })
}

/// The error at a field, from a [`Loc`] (series = column index, index = line).
fn locate(inputs: &[PathBuf], names: &[Vec<String>], loc: Loc, message: String) -> InputError {
    let f = loc.file as usize;
    let path = inputs.get(f).map_or(Path::new("?"), PathBuf::as_path);
    let col = loc.series as usize;
    let name = names.get(f).and_then(|h| h.get(col)).cloned().unwrap_or_default();
    InputError { path: path.to_path_buf(), location: Location::Field(loc.index, col + 1, name), message }
}

type Result2 = Result<(ImportReport, Vec<String>), SimError>;

/// Every data row of every input, in file order: opens each file, finds `time_column` and
/// the columns `cols` names (`(name, option)`; `None` is not read), and calls `row(file,
/// csv, time_ms, indices)` with each named column's index. Returns the rows read and each
/// file's header.
fn each_row(
    inputs: &[PathBuf],
    time_column: &str,
    times: &mut Times,
    cols: &[Option<(&str, String)>],
    mut row: impl FnMut(u32, &CsvReader<File>, i64, &[Option<usize>]) -> Result<(), SimError>,
) -> Result<(u64, Vec<Vec<String>>), SimError> {
    let (mut read, mut names) = (0u64, Vec::new());
    for (f, p) in inputs.iter().enumerate() {
        let mut csv = CsvReader::open(p)?;
        let t = column(&csv, time_column, "--time-column")?;
        let mut idx = Vec::with_capacity(cols.len());
        for c in cols {
            idx.push(match c {
                Some((name, option)) => Some(column(&csv, name, option)?),
                None => None,
            });
        }
        names.push(csv.header().to_vec());
        let file = u32::try_from(f).unwrap_or(u32::MAX);
        loop {
            match csv.next_row()? {
                Next::End => break,
                Next::Bad(e) => return Err(e.into()),
                Next::Row => {}
            }
            read += 1;
            let ts = times.read(&csv, t)?;
            row(file, &csv, ts, &idx)?;
        }
    }
    Ok((read, names))
}

fn rates(
    opts: &ImportOptions,
    time_column: &str,
    mut times: Times,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result2 {
    if !opts.columns.is_empty() {
        return Err(InputError::file(
            Path::new("--column"),
            "--column is for --as tasks and --as observations; give the values with --value-column",
        )
        .into());
    }
    let Some(value_column) = opts.value_column.as_deref() else {
        return Err(
            InputError::file(Path::new("--value-column"), "import csv --as rates needs --value-column NAME").into()
        );
    };
    let step = super::prometheus::step_ms(opts)?;
    let mut sum = Summed::new();
    let (mut nan, mut empty) = (0u64, 0u64);
    let cols = [Some((value_column, "--value-column".to_string()))];
    let (read, names) = each_row(inputs, time_column, &mut times, &cols, |file, csv, ts, idx| {
        let v = idx[0].unwrap_or(0);
        let b = csv.get_bytes(v);
        if b.is_empty() {
            empty += 1;
            return Ok(());
        }
        let units = match series::parse_value(b) {
            Ok(Value::Units(u)) => u,
            Ok(Value::NaN) => {
                nan += 1;
                0
            }
            Err(e) => {
                return Err(csv.field_error(v, format!("{:?} {}", String::from_utf8_lossy(b), e.rule())).into());
            }
        };
        let loc = Loc { file, series: u32::try_from(v).unwrap_or(u32::MAX), index: csv.line() };
        sum.add(ts, units, loc).map_err(|_| csv.field_error(v, "the sum at this time is too large"))?;
        Ok(())
    })?;
    sum.settle().map_err(|t| InputError::file(&inputs[0], format!("the sum at {} is too large", series::fmt_ms(t))))?;
    if sum.points().is_empty() {
        return Err(InputError::file(
            &inputs[0],
            "nothing to import: no row has a value; an empty trace is not written",
        )
        .into());
    }
    let ro = RateOptions { per_second: !opts.counts, step_ms: step };
    let w = series::write_rates(sum.points(), ro, out, out_path, &|loc, m| locate(inputs, &names, loc, m))?;
    let mut left_out = Vec::new();
    series::left(&mut left_out, "rows with an empty value", empty);
    series::left(&mut left_out, "rows with a NaN value", nan);
    let head: Vec<String> = times.notice().into_iter().collect();
    Ok((series::rates_report(&w, read, ro.per_second, left_out, head, Vec::new()), Vec::new()))
}

fn tasks(
    opts: &ImportOptions,
    time_column: &str,
    mut times: Times,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result2 {
    let mut duration_column = None;
    for (name, col) in &opts.columns {
        if name != "duration_s" {
            return Err(InputError::file(
                Path::new("--column"),
                format!("{name:?}: --as tasks maps one column, duration_s (--column duration_s=CSV_COLUMN); the arrival is --time-column"),
            )
            .into());
        }
        duration_column = Some(col.as_str());
    }
    let Some(duration_column) = duration_column else {
        return Err(InputError::file(
            Path::new("--column"),
            "import csv --as tasks needs --column duration_s=CSV_COLUMN",
        )
        .into());
    };
    let mut empty = 0u64;
    let mut rows: Vec<(i64, u64)> = Vec::new();
    let cols = [Some((duration_column, "--column duration_s".to_string()))];
    let (read, _) = each_row(inputs, time_column, &mut times, &cols, |_, csv, ts, idx| {
        let d = idx[0].unwrap_or(0);
        let b = csv.get_bytes(d);
        if b.is_empty() {
            empty += 1;
            return Ok(());
        }
        let dur = DurationMs::parse_seconds_bytes(b).map_err(|e| {
            let rule = match e {
                DecimalError::NotANumber => "must be a number of seconds".to_string(),
                DecimalError::RoundsToZero => "is a positive duration that rounds to 0 ms".to_string(),
                other => other.to_string(),
            };
            csv.field_error(d, format!("{:?} {rule}", String::from_utf8_lossy(b)))
        })?;
        rows.push((ts, dur.as_ms()));
        Ok(())
    })?;
    let sorted = rows.windows(2).all(|w| w[0].0 <= w[1].0);
    rows.sort_by_key(|r| r.0);
    let origin = rows.first().map(|r| r.0);
    let mut w = crate::output::Chunked::new(out, out_path);
    w.buf.extend_from_slice(b"arrival_s,duration_s\n");
    for &(t, d) in &rows {
        push_ms_as_seconds(&mut w.buf, (t - origin.unwrap_or(t)).unsigned_abs());
        w.buf.push(b',');
        push_ms_as_seconds(&mut w.buf, d);
        w.buf.push(b'\n');
        w.maybe_flush()?;
    }
    w.flush()?;
    let mut report = ImportReport {
        wrote: "task trace",
        read,
        written: rows.len() as u64,
        origin_unix_ms: origin,
        ..ImportReport::default()
    };
    series::left(&mut report.left_out, "rows with an empty duration", empty);
    let mut notices: Vec<String> = times.notice().into_iter().collect();
    if !sorted {
        notices.push("rows were not in time order: sorted by arrival".to_string());
    }
    if rows.is_empty() {
        notices.push("no task: only the header was written".to_string());
    }
    Ok((report, notices))
}

fn observations(
    opts: &ImportOptions,
    time_column: &str,
    mut times: Times,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result2 {
    let given = series::obs_columns(&opts.columns, "CSV_COLUMN")?;
    let (mut empty, mut nan) = (0u64, 0u64);
    // (time, values, where) per row.
    let mut rows: Vec<(i64, [u64; 5], [Loc; 5])> = Vec::new();
    let cols: Vec<Option<(&str, String)>> = given
        .iter()
        .enumerate()
        .map(|(k, g)| g.as_deref().map(|name| (name, format!("--column {}", series::OBS_COLUMNS[k]))))
        .collect();
    let (read, names) = each_row(inputs, time_column, &mut times, &cols, |file, csv, ts, idx| {
        let mut vals = [0u64; 5];
        let mut locs = [Loc::default(); 5];
        for (k, i) in idx.iter().enumerate() {
            let Some(i) = *i else { continue };
            let b = csv.get_bytes(i);
            if b.is_empty() {
                empty += 1;
                return Ok(());
            }
            match series::parse_value(b) {
                Ok(Value::Units(u)) => vals[k] = u,
                Ok(Value::NaN) => {
                    nan += 1;
                    return Ok(());
                }
                Err(e) => {
                    return Err(csv.field_error(i, format!("{:?} {}", String::from_utf8_lossy(b), e.rule())).into())
                }
            }
            locs[k] = Loc { file, series: u32::try_from(i).unwrap_or(u32::MAX), index: csv.line() };
        }
        rows.push((ts, vals, locs));
        Ok(())
    })?;
    let sorted = rows.windows(2).all(|w| w[0].0 <= w[1].0);
    rows.sort_by_key(|r| r.0);
    for w in rows.windows(2) {
        if w[0].0 == w[1].0 {
            let l = w[1].2.iter().find(|l| l.index > 0).copied().unwrap_or_default();
            let first = w[0].2.iter().find(|l| l.index > 0).map_or(0, |l| l.index);
            return Err(locate(
                inputs,
                &names,
                Loc {
                    series: u32::try_from(
                        names.get(l.file as usize).and_then(|h| h.iter().position(|c| c == time_column)).unwrap_or(0),
                    )
                    .unwrap_or(0),
                    ..l
                },
                format!(
                    "time {} is given twice (also on line {first}): observations need one row per time",
                    series::fmt_time(w[1].0)
                ),
            )
            .into());
        }
    }
    let cols: Vec<Vec<Point>> =
        (0..5).map(|k| rows.iter().map(|(t, v, l)| Point { ts_ms: *t, sum: v[k], loc: l[k] }).collect()).collect();
    let col_refs: [Option<&[Point]>; 5] = std::array::from_fn(|k| given[k].as_ref().map(|_| cols[k].as_slice()));
    let w = series::write_observations(col_refs, out, out_path, &|_, loc, m| locate(inputs, &names, loc, m))?;
    let mut report = ImportReport {
        wrote: "observations",
        read,
        written: w.rows,
        origin_unix_ms: w.origin_ms,
        ..ImportReport::default()
    };
    series::left(&mut report.left_out, "rows with an empty value", empty);
    series::left(&mut report.left_out, "rows with a NaN value", nan);
    let mut notices: Vec<String> = times.notice().into_iter().collect();
    if !sorted {
        notices.push("rows were not in time order: sorted by time".to_string());
    }
    if let Some(n) = series::obs_defaults_notice(&given) {
        notices.push(n);
    }
    if w.rows == 0 {
        notices.push("no row: only the header was written".to_string());
    }
    Ok((report, notices))
}
