//! `results.csv` and `results.partial.csv` of a sweep: one row per setting
//! (`setting`, the swept keys' values, `status`, then every metric). One writer
//! ([`header`], [`line()`]) and one reader ([`read`]).

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
}

/// A row as read back: the result and the swept keys' values (as written).
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    /// The result.
    pub result: SettingResult,
    /// The swept keys' values, as TOML text.
    pub values: Vec<String>,
}

/// A results file as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultsTable {
    /// Swept keys.
    pub axes: Vec<String>,
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
}

/// The header line (no newline).
#[must_use]
pub fn header(axes: &[String]) -> String {
    let mut cols = vec!["setting".to_string()];
    cols.extend(axes.iter().cloned());
    cols.push("status".into());
    cols.extend(METRICS.iter().map(|m| (*m).to_string()));
    cols.join(",")
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
    f.join(",")
}

/// Reads a results file. With `expected`, the columns must be that sweep's and every
/// index inside it; without, the header tells the swept keys.
pub fn read(path: &Path, expected: Option<Expected<'_>>) -> Result<ResultsTable, InputError> {
    let mut csv = CsvReader::open(path)?;
    let (axes, status_col) = match expected {
        Some(e) => {
            let want = header(e.axes);
            if csv.header().join(",") != want {
                return Err(InputError::line(path, 1, format!("the columns are not this sweep's: expected {want}")));
            }
            (e.axes.to_vec(), 1 + e.axes.len())
        }
        None => {
            let header = csv.header().to_vec();
            let status_col = header
                .iter()
                .position(|h| h == "status")
                .ok_or_else(|| InputError::line(path, 1, "missing column `status`"))?;
            if header.first().map(String::as_str) != Some("setting") || header.len() != status_col + 1 + METRICS.len() {
                return Err(InputError::line(
                    path,
                    1,
                    "not a sweep's results.csv (setting, swept keys, status, then the metrics)",
                ));
            }
            (header[1..status_col].to_vec(), status_col)
        }
    };
    let mut rows = Vec::new();
    loop {
        match csv.next_row()? {
            Next::End => break,
            Next::Bad(e) => return Err(e),
            Next::Row => {}
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
        rows.push(ResultRow { result: SettingResult { index, status, metrics }, values });
    }
    Ok(ResultsTable { axes, rows })
}
