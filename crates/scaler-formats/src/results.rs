//! `results.csv` and `results.partial.csv` of a sweep: one row per setting
//! (`setting`, the swept keys' values, `status`, then every metric). One writer
//! ([`header`], [`line()`]) and one reader ([`read`], and [`read_sweep`] for a sweep's own
//! files, which tells a torn last row from a corrupt one).
//!
//! A sweep with more than one seed adds its spread columns after the metrics: `METRIC_min`
//! and `METRIC_max` for every metric, then `METRIC_qNN` (a nearest-rank percentile across
//! the seeds) for every quantile its objective checks; the sweep names them
//! ([`header_with`], [`Expected::spread`]). A single-seed file has none.
//!
//! A row is written with its line end in one write, so what an interrupted write leaves is
//! at most one torn row, the last: no line end, or a field count that does not match.

use std::path::Path;

use scaler_model::METRICS;

use crate::csvio::{CsvReader, Next};
use crate::error::InputError;
use crate::fmtnum::fmt_num;

/// The result of one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingResult {
    /// The setting's index.
    pub index: usize,
    /// `ok`, or `invalid: ...` for a setting that failed validation.
    pub status: String,
    /// Means over the seeds, in [`METRICS`] order (empty when invalid).
    pub metrics: Vec<f64>,
    /// The spread columns' values, in the sweep's spread column order (empty when invalid
    /// or when the sweep has one seed).
    pub spread: Vec<f64>,
}

/// A row as read back: the result and the swept keys' values (as written).
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    /// The result.
    pub result: SettingResult,
    /// The swept keys' values, as TOML text.
    pub values: Vec<String>,
    /// The row's line in the file (the header is line 1).
    pub line: u64,
}

/// A results file as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultsTable {
    /// Swept keys.
    pub axes: Vec<String>,
    /// The spread columns after the metrics (none for a single-seed sweep).
    pub spread: Vec<String>,
    /// The rows, in file order.
    pub rows: Vec<ResultRow>,
}

/// What a reader expects of a sweep's own results file.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The sweep's keys, in order.
    pub axes: &'a [String],
    /// Settings in the sweep (indices must be below).
    pub settings: usize,
    /// The sweep's spread columns (none for a single seed).
    pub spread: &'a [String],
}

/// What [`read_sweep`] does with a torn last row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TornRow {
    /// Refuse it, naming the file and the line (`merge`, a finished file).
    Refuse,
    /// Leave it out and say so in [`SweepTable::torn`] (`--resume`: the setting runs again).
    Drop,
}

/// A torn last row that [`read_sweep`] left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Torn {
    /// Its line (the header is line 1).
    pub line: u64,
    /// Where it starts in the file, in bytes: the length to cut the file back to.
    pub offset: u64,
    /// What is wrong with it (`has no line end`, `row has 3 fields but the header has 20`).
    pub reason: String,
}

/// A sweep's own results file as read back by [`read_sweep`].
#[derive(Clone, Debug, PartialEq)]
pub struct SweepTable {
    /// The well-formed rows.
    pub table: ResultsTable,
    /// The torn last row left out, if any (only with [`TornRow::Drop`]).
    pub torn: Option<Torn>,
}

/// The header line (no newline) of a single-seed sweep.
#[must_use]
pub fn header(axes: &[String]) -> String {
    header_with(axes, &[])
}

/// The header line (no newline) with the sweep's spread columns after the metrics.
#[must_use]
pub fn header_with(axes: &[String], spread: &[String]) -> String {
    let mut cols = vec!["setting".to_string()];
    cols.extend(axes.iter().map(|a| csv_field(a)));
    cols.push("status".into());
    cols.extend(METRICS.iter().map(|m| (*m).to_string()));
    cols.extend(spread.iter().map(|c| csv_field(c)));
    cols.join(",")
}

/// True when `name` is a spread column: `METRIC_min`, `METRIC_max` or `METRIC_qNN`
/// (`NN` from 0 to 100) for a metric of [`METRICS`].
#[must_use]
pub fn is_spread_column(name: &str) -> bool {
    let Some((metric, stat)) = name.rsplit_once('_') else { return false };
    let stat_ok = stat == "min"
        || stat == "max"
        || stat.strip_prefix('q').is_some_and(|n| {
            !n.is_empty()
                && n.len() <= 3
                && n.bytes().all(|b| b.is_ascii_digit())
                && n.parse::<u32>().is_ok_and(|v| v <= 100)
        });
    stat_ok && METRICS.contains(&metric)
}

/// A CSV field, quoted when it must be.
#[must_use]
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The line of a result whose setting has `values`, with its line end: what is written
/// to `results.partial.csv` in one write, so that an interrupted write tears at most this row.
#[must_use]
pub fn line_with_end(r: &SettingResult, values: &[&str], spread_columns: usize) -> Vec<u8> {
    let mut text = line_in(r, values, spread_columns);
    text.push('\n');
    text.into_bytes()
}

/// The line of a result whose setting has `values` (no newline).
#[must_use]
pub fn line(r: &SettingResult, values: &[&str]) -> String {
    let mut f = vec![r.index.to_string()];
    f.extend(values.iter().map(|v| csv_field(v)));
    f.push(csv_field(&r.status));
    if r.metrics.is_empty() {
        f.extend(std::iter::repeat_n(String::new(), METRICS.len()));
    } else {
        f.extend(r.metrics.iter().map(|v| fmt_num(*v)));
    }
    f.extend(r.spread.iter().map(|v| fmt_num(*v)));
    f.join(",")
}

/// [`line()`] for a sweep with `spread_columns` spread columns: an invalid setting's row
/// carries that many empty fields after its empty metrics.
#[must_use]
pub fn line_in(r: &SettingResult, values: &[&str], spread_columns: usize) -> String {
    let mut text = line(r, values);
    if r.metrics.is_empty() {
        for _ in 0..spread_columns {
            text.push(',');
        }
    }
    text
}

/// Reads a results file. With `expected`, the columns must be that sweep's and every
/// index inside it; without, the header tells the swept keys. A malformed row is refused
/// wherever it is; a well-formed last row without a line end is accepted (a file saved by
/// an editor).
pub fn read(path: &Path, expected: Option<Expected<'_>>) -> Result<ResultsTable, InputError> {
    read_rows(path, expected, None).map(|t| t.table)
}

/// Reads a sweep's own results file (`results.partial.csv`, `results.csv`), which its
/// writer always ends with a line end. A malformed row before the last is refused with the
/// file and its line; the last row is torn when it has no line end or its field count does
/// not match: refused with [`TornRow::Refuse`], left out and reported with [`TornRow::Drop`].
pub fn read_sweep(path: &Path, expected: Expected<'_>, torn: TornRow) -> Result<SweepTable, InputError> {
    read_rows(path, Some(expected), Some(torn))
}

/// The one reader. `torn`: `None` for [`read`]'s lenient last row.
fn read_rows(path: &Path, expected: Option<Expected<'_>>, torn: Option<TornRow>) -> Result<SweepTable, InputError> {
    let mut csv = CsvReader::open(path)?;
    let (axes, status_col, spread) = match expected {
        Some(e) => {
            let want = header_with(e.axes, e.spread);
            if csv.header().join(",") != want {
                let (found, wanted) = (csv.header().len(), want.split(',').count());
                let why = if found == wanted {
                    String::new()
                } else {
                    format!(" ({found} columns, this sweep's have {wanted})")
                };
                return Err(InputError::line(
                    path,
                    1,
                    format!("the columns are not this sweep's{why}: expected {want}"),
                ));
            }
            (e.axes.to_vec(), 1 + e.axes.len(), e.spread.to_vec())
        }
        None => {
            let header = csv.header().to_vec();
            let status_col = header
                .iter()
                .position(|h| h == "status")
                .ok_or_else(|| InputError::line(path, 1, "missing column `status`"))?;
            let metrics_end = status_col + 1 + METRICS.len();
            let metrics_ok =
                header.get(status_col + 1..metrics_end).is_some_and(|m| m.iter().zip(METRICS).all(|(a, b)| a == b));
            if header.first().map(String::as_str) != Some("setting") || !metrics_ok {
                return Err(InputError::line(
                    path,
                    1,
                    "not a sweep's results.csv (setting, swept keys, status, the metrics, then any spread columns)",
                ));
            }
            if let Some(bad) = header[metrics_end..].iter().find(|c| !is_spread_column(c)) {
                return Err(InputError::line(
                    path,
                    1,
                    format!("column `{bad}` after the metrics is not a spread column (METRIC_min, METRIC_max or METRIC_qNN)"),
                ));
            }
            (header[1..status_col].to_vec(), status_col, header[metrics_end..].to_vec())
        }
    };
    let mut rows = Vec::new();
    // A malformed row is only known to be torn when nothing follows it.
    let mut pending: Option<(InputError, u64)> = None;
    loop {
        let next = csv.next_row()?;
        if let Some((e, line)) = pending.take() {
            if !matches!(next, Next::End) {
                return Err(match torn {
                    None => e,
                    Some(_) => InputError {
                        message: format!(
                            "{}: a malformed row before the last (the file was damaged or edited)",
                            e.message
                        ),
                        ..e
                    },
                });
            }
            pending = Some((e, line));
        }
        match next {
            Next::End => break,
            Next::Bad(e) => {
                let e = if csv.unterminated() {
                    InputError { message: format!("has no line end ({})", e.message), ..e }
                } else {
                    e
                };
                pending = Some((e, csv.line()));
                continue;
            }
            Next::Row => {}
        }
        if csv.unterminated() && torn.is_some() {
            pending = Some((InputError::line(path, csv.line(), "has no line end"), csv.line()));
            continue;
        }
        let index: usize = csv.get(0)?.parse().map_err(|_| csv.field_error(0, "not a setting index"))?;
        if let Some(e) = expected {
            if index >= e.settings {
                return Err(
                    csv.field_error(0, format!("setting {index} is beyond this sweep's {} settings", e.settings))
                );
            }
        }
        let values = (1..status_col).map(|i| csv.get(i).map(str::to_string)).collect::<Result<Vec<_>, _>>()?;
        let status = csv.get(status_col)?.to_string();
        let metrics = if status == "ok" {
            (0..METRICS.len())
                .map(|k| {
                    let c = status_col + 1 + k;
                    csv.get(c)?.parse::<f64>().map_err(|_| csv.field_error(c, "not a number"))
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        let spread_values = if status == "ok" {
            (0..spread.len())
                .map(|k| {
                    let c = status_col + 1 + METRICS.len() + k;
                    csv.get(c)?.parse::<f64>().map_err(|_| csv.field_error(c, "not a number"))
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        rows.push(ResultRow {
            result: SettingResult { index, status, metrics, spread: spread_values },
            values,
            line: csv.line(),
        });
    }
    let torn = match (pending, torn) {
        (None, _) => None,
        (Some((e, _)), None) => return Err(e),
        (Some((e, _)), Some(TornRow::Refuse)) => {
            return Err(InputError {
                message: format!(
                    "{}: a torn last row (the sweep was interrupted while writing it; continue it with --resume)",
                    e.message
                ),
                ..e
            })
        }
        (Some((e, line)), Some(TornRow::Drop)) => Some(Torn {
            line,
            offset: line_start(path, line).map_err(|err| {
                InputError::line(path, line, format!("cannot read: {}", crate::csvio::io_reason(&err)))
            })?,
            reason: e.message,
        }),
    };
    Ok(SweepTable { table: ResultsTable { axes, spread, rows }, torn })
}

/// The byte offset at which line `line` (1-based, as [`CsvReader`] counts) starts: after
/// the file's `line - 1`-th line end. Streams the file.
fn line_start(path: &Path, line: u64) -> std::io::Result<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let (mut seen, mut offset) = (0u64, 0u64);
    if line <= 1 {
        return Ok(0);
    }
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => return Ok(offset),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            seen += 1;
            if seen == line - 1 {
                return Ok(offset + i as u64 + 1);
            }
        }
        offset += n as u64;
    }
}
