//! Time series (Prometheus, CloudWatch, CSV) into rate traces and observations.
//!
//! Values are read as exact decimals and held in units of `10^-9` ([`SCALE`]), so sums do
//! not depend on the order the series come in. [`Summed`] adds series sample by sample
//! (memory proportional to the distinct timestamps, not to the samples);
//! [`write_rates`] turns the sums into a rate trace on one grid, carrying fractional
//! counts from bin to bin; [`write_observations`] aligns one series per observations
//! column.

use std::io::Write;
use std::path::Path;

use scaler_core::{Decimal, DecimalError, DurationMs, Fixed9, Observation, TimeMs};

use crate::error::{InputError, SimError};
use crate::fmtnum::{push_fixed9, push_ms_as_seconds, push_u64};
use crate::output::Chunked;

/// Decimal places kept of every value read (values are rounded to them, ties away from zero).
pub const SCALE: u32 = 9;
/// `10^SCALE`.
pub const UNIT: u64 = 1_000_000_000;

/// The most rows one import writes (a grid with a huge gap would otherwise write for ever).
pub const MAX_ROWS: u64 = 100_000_000;

/// Where a sample came from, for messages: the input's index, the series (or result, or
/// 0) within it, and the sample's index (or the CSV line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loc {
    /// Index of the input file.
    pub file: u32,
    /// Index of the series (Prometheus result, CloudWatch result) in the file.
    pub series: u32,
    /// Index of the sample in its series, or the CSV line.
    pub index: u64,
}

/// One timestamp of a summed series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    /// Milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The sum of the values at this time, in units of `10^-9`.
    pub sum: u64,
    /// The first sample that contributed.
    pub loc: Loc,
}

/// A value as read from text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A finite, non-negative number in units of `10^-9`.
    Units(u64),
    /// `NaN` (left out, counted).
    NaN,
}

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueError {
    /// `+Inf`, `-Inf`.
    Infinite,
    /// Below zero.
    Negative,
    /// Not a number at all.
    NotANumber,
    /// More than about 1.8e10.
    TooLarge,
}

impl ValueError {
    /// The rule, for a message that already quotes the value.
    #[must_use]
    pub fn rule(&self) -> &'static str {
        match self {
            ValueError::Infinite => "is infinite: a value must be finite",
            ValueError::Negative => "is negative: counts, rates and gauges imported here must be >= 0",
            ValueError::NotANumber => "is not a decimal number",
            ValueError::TooLarge => "is too large (at most 18446744073.709551615)",
        }
    }
}

/// Reads a value written as text: a decimal number, `NaN`, or `±Inf` (refused).
pub fn parse_value(text: &[u8]) -> Result<Value, ValueError> {
    match text {
        b"NaN" | b"nan" | b"NAN" => return Ok(Value::NaN),
        b"+Inf" | b"Inf" | b"inf" | b"+inf" | b"-Inf" | b"-inf" | b"Infinity" | b"-Infinity" | b"+Infinity" => {
            return Err(ValueError::Infinite)
        }
        _ => {}
    }
    let d = Decimal::parse_bytes(text).map_err(|_| ValueError::NotANumber)?;
    if d.is_negative() {
        return Err(ValueError::Negative);
    }
    match d.to_scaled_u64(SCALE) {
        Ok(u) => Ok(Value::Units(u)),
        Err(DecimalError::TooLarge) => Err(ValueError::TooLarge),
        Err(DecimalError::Negative) => Err(ValueError::Negative),
        Err(_) => Err(ValueError::NotANumber),
    }
}

/// Reads a JSON number (already an `f64`) through its shortest decimal form, so `0.1` is
/// exactly `0.1`.
pub fn value_from_f64(x: f64) -> Result<Value, ValueError> {
    if x.is_nan() {
        return Ok(Value::NaN);
    }
    if x.is_infinite() {
        return Err(ValueError::Infinite);
    }
    let s = format!("{x}");
    parse_value(s.as_bytes())
}

/// Seconds since the epoch (a JSON number) to milliseconds, rounded; `None` when not finite
/// or beyond the year 9999.
#[must_use]
pub fn seconds_f64_to_ms(s: f64) -> Option<i64> {
    let ms = (s * 1000.0).round();
    if ms.is_finite() && ms.abs() < 253_402_300_800_000.0 {
        // In range: the cast is exact for these magnitudes.
        #[allow(clippy::cast_possible_truncation)]
        Some(ms as i64)
    } else {
        None
    }
}

/// Epoch milliseconds as seconds text (`1700000000.5`, `-1.25`), for messages.
#[must_use]
pub fn fmt_ms(ms: i64) -> String {
    let mut b = Vec::new();
    if ms < 0 {
        b.push(b'-');
    }
    push_ms_as_seconds(&mut b, ms.unsigned_abs());
    String::from_utf8_lossy(&b).into_owned()
}

/// `10^-9` units as decimal text, for messages.
#[must_use]
pub fn fmt_units(u: u64) -> String {
    let mut b = Vec::new();
    push_fixed9(&mut b, Fixed9::from_units(u));
    String::from_utf8_lossy(&b).into_owned()
}

/// Series summed per timestamp, sorted by time.
///
/// Samples that fall on a timestamp already held are added in place (found from the last
/// position, so series sharing one grid cost O(1) a sample); new timestamps before the end
/// wait in `pending` until [`Summed::settle`] merges them.
#[derive(Clone, Debug, Default)]
pub struct Summed {
    points: Vec<Point>,
    pending: Vec<Point>,
    cursor: usize,
}

impl Summed {
    /// An empty sum.
    #[must_use]
    pub fn new() -> Summed {
        Summed::default()
    }

    /// Adds `units` at `ts_ms`; `Err` with the time when the sum would overflow.
    pub fn add(&mut self, ts_ms: i64, units: u64, loc: Loc) -> Result<(), i64> {
        let n = self.points.len();
        if n == 0 || self.points[n - 1].ts_ms < ts_ms {
            self.points.push(Point { ts_ms, sum: units, loc });
            self.cursor = n;
            return Ok(());
        }
        let c = self.cursor.min(n - 1);
        let found = if self.points[c].ts_ms == ts_ms {
            Some(c)
        } else if c + 1 < n && self.points[c + 1].ts_ms == ts_ms {
            Some(c + 1)
        } else {
            self.points.binary_search_by_key(&ts_ms, |p| p.ts_ms).ok()
        };
        match found {
            Some(i) => {
                let p = &mut self.points[i];
                p.sum = p.sum.checked_add(units).ok_or(ts_ms)?;
                self.cursor = i;
            }
            None => self.pending.push(Point { ts_ms, sum: units, loc }),
        }
        Ok(())
    }

    /// Merges the samples waiting in `pending` (call after each series, and before reading).
    pub fn settle(&mut self) -> Result<(), i64> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|p| p.ts_ms);
        let old = std::mem::take(&mut self.points);
        let mut merged: Vec<Point> = Vec::with_capacity(old.len() + pending.len());
        let (mut a, mut b) = (old.into_iter().peekable(), pending.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.ts_ms <= y.ts_ms => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            let Some(p) = next else { break };
            match merged.last_mut() {
                Some(last) if last.ts_ms == p.ts_ms => last.sum = last.sum.checked_add(p.sum).ok_or(p.ts_ms)?,
                _ => merged.push(p),
            }
        }
        self.points = merged;
        self.cursor = 0;
        Ok(())
    }

    /// The points (call [`Summed::settle`] first).
    #[must_use]
    pub fn points(&self) -> &[Point] {
        &self.points
    }
}

/// How [`write_rates`] reads the sums.
#[derive(Clone, Copy, Debug)]
pub struct RateOptions {
    /// The values are per-second rates (multiplied by the step), not counts per step.
    pub per_second: bool,
    /// The step, when the user gave one (`--step-s`); else the smallest spacing.
    pub step_ms: Option<u64>,
}

/// What [`write_rates`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RatesWritten {
    /// Rows written (bins).
    pub rows: u64,
    /// The step in ms.
    pub step_ms: u64,
    /// Missing timestamps on the grid, filled with 0 arrivals.
    pub gap_bins: u64,
    /// Runs of missing timestamps.
    pub gaps: u64,
    /// Arrivals written in all.
    pub total: u64,
    /// The exact total before the last rounding, in units of `10^-12`.
    pub exact_total_e12: u128,
    /// The epoch time of the first bin.
    pub origin_ms: i64,
    /// A 0-arrival row was added after a single bin (a rate trace needs two rows).
    pub padded: bool,
}

/// Writes `points` as a rate trace `timestamp_s,arrivals` with times rebased to the first
/// point, one row per step; `at` makes the error of a point (its file and place).
///
/// The step is `opts.step_ms` or the smallest spacing of the timestamps; every timestamp
/// must be a whole number of steps after the first (else refused), and missing ones are
/// written as 0 arrivals. Arrivals are carried exactly: the running sum's whole part is
/// emitted, and the last bin gets the total rounded half up, so the file's total is the
/// exact total rounded to the nearest whole number.
pub fn write_rates(
    points: &[Point],
    opts: RateOptions,
    out: &mut dyn Write,
    out_path: &Path,
    at: &dyn Fn(Loc, String) -> InputError,
) -> Result<RatesWritten, SimError> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Err(InputError::file(out_path, "no samples to write").into());
    };
    let step_ms = match opts.step_ms {
        Some(s) => s,
        None => {
            match common_spacing(points) {
                Some(d) => d,
                None => {
                    return Err(at(
                        first.loc,
                        format!(
                            "the only timestamp ({}) does not fix the step: give --step-s (a rate trace needs the width of its bins)",
                            fmt_time(first.ts_ms)
                        ),
                    )
                    .into())
                }
            }
        }
    };
    let step = i64::try_from(step_ms).map_err(|_| InputError::file(Path::new("--step-s"), "the step is too large"))?;
    if step <= 0 {
        return Err(InputError::file(Path::new("--step-s"), "the step must be positive").into());
    }
    for p in points {
        if (p.ts_ms - first.ts_ms) % step != 0 {
            return Err(at(
                p.loc,
                format!(
                    "timestamp {} is off the grid: samples must be whole steps of {} s (the most common spacing) after the first ({}); give --step-s if the step is smaller",
                    fmt_time(p.ts_ms),
                    fmt_ms(step),
                    fmt_time(first.ts_ms)
                ),
            )
            .into());
        }
    }
    let bins = (last.ts_ms - first.ts_ms) / step + 1;
    let bins = u64::try_from(bins).unwrap_or(u64::MAX);
    if bins > MAX_ROWS {
        return Err(at(
            last.loc,
            format!(
                "{bins} rows of {} s from {} to {}: more than the {MAX_ROWS} an import writes (is the step right? are the inputs from one period?)",
                fmt_ms(step),
                fmt_time(first.ts_ms),
                fmt_time(last.ts_ms)
            ),
        )
        .into());
    }
    const E12: u128 = 1_000_000_000_000;
    let mul: u128 = if opts.per_second { u128::from(step_ms) } else { 1000 };
    let mut w = Chunked::new(out, out_path);
    w.buf.extend_from_slice(b"timestamp_s,arrivals\n");
    let mut r = RatesWritten { step_ms, origin_ms: first.ts_ms, ..RatesWritten::default() };
    let mut running: u128 = 0;
    let mut emitted: u128 = 0;
    let mut prev = first.ts_ms - step;
    let mut row = |w: &mut Chunked<'_, dyn Write>,
                   t: i64,
                   x: u128,
                   loc: Loc,
                   is_last: bool,
                   r: &mut RatesWritten|
     -> Result<(), SimError> {
        running = running
            .checked_add(x)
            .ok_or_else(|| at(loc, format!("the total of arrivals is too large at {}", fmt_time(t))))?;
        let whole = if is_last { (running + E12 / 2) / E12 } else { running / E12 };
        let n = whole - emitted;
        emitted = whole;
        push_ms_as_seconds(&mut w.buf, (t - first.ts_ms).unsigned_abs());
        w.buf.push(b',');
        push_u64(&mut w.buf, u64::try_from(n).unwrap_or(u64::MAX));
        w.buf.push(b'\n');
        r.rows += 1;
        w.maybe_flush()
    };
    let n = points.len();
    for (i, p) in points.iter().enumerate() {
        let missing = (p.ts_ms - prev) / step - 1;
        if missing > 0 {
            r.gaps += 1;
            r.gap_bins += missing.unsigned_abs();
            let mut t = prev + step;
            while t < p.ts_ms {
                row(&mut w, t, 0, p.loc, false, &mut r)?;
                t += step;
            }
        }
        row(&mut w, p.ts_ms, u128::from(p.sum) * mul, p.loc, i + 1 == n, &mut r)?;
        prev = p.ts_ms;
    }
    r.exact_total_e12 = running;
    r.total = u64::try_from(emitted).unwrap_or(u64::MAX);
    if r.rows == 1 {
        push_ms_as_seconds(&mut w.buf, step_ms);
        w.buf.extend_from_slice(b",0\n");
        r.rows += 1;
        r.padded = true;
    }
    w.flush()?;
    Ok(r)
}

/// The most common spacing of consecutive timestamps (the smallest of equally common ones).
fn common_spacing(points: &[Point]) -> Option<u64> {
    let mut counts: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    // Runs of one spacing (the common case) cost one map update each.
    let mut run: Option<(u64, u64)> = None;
    for w in points.windows(2) {
        let d = (w[1].ts_ms - w[0].ts_ms).unsigned_abs();
        match &mut run {
            Some((rd, n)) if *rd == d => *n += 1,
            _ => {
                if let Some((rd, n)) = run {
                    *counts.entry(rd).or_default() += n;
                }
                run = Some((d, 1));
            }
        }
    }
    if let Some((rd, n)) = run {
        *counts.entry(rd).or_default() += n;
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(d, _)| d)
}

/// Epoch milliseconds as seconds and RFC 3339 (`1709294400 (2024-03-01T12:00:00Z)`), for messages.
#[must_use]
pub fn fmt_time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => format!("{} ({t})", fmt_ms(ms)),
        Err(_) => fmt_ms(ms),
    }
}

/// The notices of a rate trace written: the step, gaps filled, the carried total.
#[must_use]
pub fn rate_notices(r: &RatesWritten, per_second: bool) -> Vec<String> {
    let mut v = Vec::new();
    v.push(format!(
        "step {} s ({}), {} arrivals in all",
        fmt_ms(i64::try_from(r.step_ms).unwrap_or(i64::MAX)),
        if per_second { "per-second rates times the step" } else { "counts per step" },
        r.total
    ));
    if r.gap_bins > 0 {
        v.push(format!("{} missing timestamp(s) in {} gap(s) written as 0 arrivals", r.gap_bins, r.gaps));
    }
    let frac = r.exact_total_e12 % 1_000_000_000_000;
    if frac != 0 {
        let mut b = Vec::new();
        push_u64(&mut b, u64::try_from(r.exact_total_e12 / 1_000_000_000_000).unwrap_or(u64::MAX));
        b.push(b'.');
        let s = format!("{frac:012}");
        b.extend_from_slice(s.trim_end_matches('0').as_bytes());
        v.push(format!(
            "the exact total {} was rounded to {} (fractions are carried from bin to bin; the last bin takes the rounding)",
            String::from_utf8_lossy(&b),
            r.total
        ));
    }
    if r.padded {
        v.push("one bin only: a 0-arrival row was added after it (a rate trace needs two rows)".to_string());
    }
    v
}

/// The observations columns an import can fill, in file order.
pub const OBS_COLUMNS: [&str; 5] =
    ["current_workers", "pending_tasks", "running_tasks", "avg_task_duration_s", "worker_utilization"];

/// The columns that must be given (the others are written as 0).
pub const OBS_REQUIRED: [&str; 2] = ["current_workers", "worker_utilization"];

/// Checks the `--column NAME=VALUE` options of `--as observations`: known names, each at
/// most once, the required ones given. Returns each column's VALUE.
pub fn obs_columns(columns: &[(String, String)], what: &str) -> Result<[Option<String>; 5], InputError> {
    let arg = Path::new("--column");
    let mut out: [Option<String>; 5] = Default::default();
    for (name, value) in columns {
        let Some(i) = OBS_COLUMNS.iter().position(|c| c == name) else {
            return Err(InputError::file(
                arg,
                format!("unknown observations column {name:?}: give one of {}", OBS_COLUMNS.join(", ")),
            ));
        };
        if out[i].is_some() {
            return Err(InputError::file(arg, format!("{name} is given twice")));
        }
        out[i] = Some(value.clone());
    }
    for req in OBS_REQUIRED {
        let i = OBS_COLUMNS.iter().position(|c| *c == req).unwrap_or(0);
        if out[i].is_none() {
            return Err(InputError::file(
                arg,
                format!(
                    "--as observations needs --column {req}={what} (current_workers and worker_utilization are required; pending_tasks, running_tasks and avg_task_duration_s are 0 when not given)"
                ),
            ));
        }
    }
    Ok(out)
}

/// What [`write_observations`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObsWritten {
    /// Rows written.
    pub rows: u64,
    /// Timestamps left out because a column's series has no sample there, per column.
    pub missing: [u64; 5],
    /// The epoch time of the first row written.
    pub origin_ms: Option<i64>,
}

/// Writes observations: one row per timestamp that every given column has, times rebased
/// to the first row; the columns not given are 0. Counts must be whole, the utilization
/// in `[0, 1]`.
pub fn write_observations(
    cols: [Option<&[Point]>; 5],
    out: &mut dyn Write,
    out_path: &Path,
    at: &dyn Fn(usize, Loc, String) -> InputError,
) -> Result<ObsWritten, SimError> {
    let mut w = Chunked::new(out, out_path);
    w.buf.extend_from_slice(
        b"timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n",
    );
    let mut pos = [0usize; 5];
    let mut r = ObsWritten::default();
    loop {
        // The earliest timestamp at any given column's head.
        let mut t: Option<i64> = None;
        for (k, c) in cols.iter().enumerate() {
            if let Some(p) = c.and_then(|c| c.get(pos[k])) {
                t = Some(t.map_or(p.ts_ms, |t| t.min(p.ts_ms)));
            }
        }
        let Some(t) = t else { break };
        let mut vals: [Option<Point>; 5] = [None; 5];
        let mut first_missing = None;
        for (k, c) in cols.iter().enumerate() {
            let Some(c) = c else { continue };
            match c.get(pos[k]) {
                Some(p) if p.ts_ms == t => {
                    vals[k] = Some(*p);
                    pos[k] += 1;
                }
                _ => {
                    if first_missing.is_none() {
                        first_missing = Some(k);
                    }
                }
            }
        }
        if let Some(k) = first_missing {
            r.missing[k] += 1;
            continue;
        }
        let origin = *r.origin_ms.get_or_insert(t);
        let whole = |k: usize| -> Result<u64, InputError> {
            let Some(p) = vals[k] else { return Ok(0) };
            if p.sum % UNIT != 0 {
                return Err(at(
                    k,
                    p.loc,
                    format!(
                        "{} at {} is {}: a count must be whole (round it in the query, e.g. round(...))",
                        OBS_COLUMNS[k],
                        fmt_time(t),
                        fmt_units(p.sum)
                    ),
                ));
            }
            Ok(p.sum / UNIT)
        };
        let workers = whole(0)?;
        let workers = u32::try_from(workers).map_err(|_| {
            at(
                0,
                vals[0].map(|p| p.loc).unwrap_or_default(),
                format!("current_workers {workers} is too large (at most {})", u32::MAX),
            )
        })?;
        let pending = whole(1)?;
        let running = whole(2)?;
        let avg_ms = vals[3].map_or(0, |p| p.sum.saturating_add(500_000) / 1_000_000);
        let util = vals[4].map_or(0, |p| p.sum);
        if util > UNIT {
            let hint = if util <= 100 * UNIT {
                ": this looks like a percentage; divide by 100 in the query (a utilization is between 0 and 1)"
            } else {
                ": a utilization is between 0 and 1"
            };
            return Err(at(
                4,
                vals[4].map(|p| p.loc).unwrap_or_default(),
                format!("worker_utilization at {} is {}{hint}", fmt_time(t), fmt_units(util)),
            )
            .into());
        }
        let time = TimeMs((t - origin).unsigned_abs());
        Observation::new(time, workers, pending, running, DurationMs(avg_ms), Fixed9::from_units(util))
            .map_err(|e| at(4, vals[4].map(|p| p.loc).unwrap_or_default(), e.to_string()))?;
        push_ms_as_seconds(&mut w.buf, time.as_ms());
        w.buf.push(b',');
        push_u64(&mut w.buf, u64::from(workers));
        w.buf.push(b',');
        push_u64(&mut w.buf, pending);
        w.buf.push(b',');
        push_u64(&mut w.buf, running);
        w.buf.push(b',');
        push_ms_as_seconds(&mut w.buf, avg_ms);
        w.buf.push(b',');
        push_fixed9(&mut w.buf, Fixed9::from_units(util));
        w.buf.push(b'\n');
        r.rows += 1;
        w.maybe_flush()?;
    }
    w.flush()?;
    Ok(r)
}

/// The left-out reasons of [`write_observations`], for an [`super::ImportReport`].
#[must_use]
pub fn obs_left_out(r: &ObsWritten) -> Vec<(String, u64)> {
    OBS_COLUMNS
        .iter()
        .zip(r.missing)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| (format!("timestamps where the {c} series has no sample"), n))
        .collect()
}

/// The notice naming the observations columns written as 0.
#[must_use]
pub fn obs_defaults_notice(given: &[Option<String>; 5]) -> Option<String> {
    let zero: Vec<&str> = OBS_COLUMNS.iter().zip(given).filter(|(_, g)| g.is_none()).map(|(c, _)| *c).collect();
    (!zero.is_empty()).then(|| format!("not given, written as 0: {}", zero.join(", ")))
}

/// Adds `(reason, n)` to a left-out list when `n > 0`.
pub fn left(list: &mut Vec<(String, u64)>, reason: &str, n: u64) {
    if n > 0 {
        list.push((reason.to_string(), n));
    }
}

/// The report of a rate-trace import from what [`write_rates`] wrote: `read` records, the
/// format's own left-out counts, then its notices `head`, the rate notices and `tail`.
pub fn rates_report(
    w: &RatesWritten,
    read: u64,
    per_second: bool,
    left_out: Vec<(String, u64)>,
    mut head: Vec<String>,
    mut tail: Vec<String>,
) -> super::ImportReport {
    head.extend(rate_notices(w, per_second));
    head.append(&mut tail);
    super::ImportReport {
        wrote: "rate trace",
        read,
        written: w.rows,
        origin_unix_ms: Some(w.origin_ms),
        left_out,
        notices: head,
    }
}

/// The report of an observations import from what [`write_observations`] wrote: `read`
/// records, the format's own left-out counts (`left_out`, listed first) and notices, then the
/// timestamps a column had no `point` for, the columns not given, and an empty result said so.
pub fn observations_report(
    w: &ObsWritten,
    read: u64,
    given: &[Option<String>; 5],
    point: &str,
    left_out: Vec<(String, u64)>,
    mut notices: Vec<String>,
) -> super::ImportReport {
    let mut report = super::ImportReport {
        wrote: "observations",
        read,
        written: w.rows,
        origin_unix_ms: w.origin_ms,
        left_out,
        ..super::ImportReport::default()
    };
    report.left_out.extend(obs_left_out(w));
    if let Some(n) = obs_defaults_notice(given) {
        report.notices.push(n);
    }
    if w.rows == 0 {
        report.notices.push(format!("no timestamp has a {point} in every column: only the header was written"));
    }
    report.notices.append(&mut notices);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Loc {
        Loc::default()
    }

    fn rates(points: &[(i64, u64)], per_second: bool) -> (String, RatesWritten) {
        let pts: Vec<Point> = points.iter().map(|&(t, s)| Point { ts_ms: t, sum: s, loc: loc() }).collect();
        let mut out = Vec::new();
        let r = write_rates(&pts, RateOptions { per_second, step_ms: None }, &mut out, Path::new("o.csv"), &|_, m| {
            InputError::file(Path::new("x"), m)
        })
        .expect("writes");
        (String::from_utf8(out).expect("utf8"), r)
    }

    #[test]
    fn carry_keeps_the_total() {
        // 0.4 per step for 5 steps = 2 arrivals, none invented or lost.
        let (s, r) = rates(
            &[(0, 400_000_000), (1000, 400_000_000), (2000, 400_000_000), (3000, 400_000_000), (4000, 400_000_000)],
            false,
        );
        assert_eq!(s, "timestamp_s,arrivals\n0,0\n1,0\n2,1\n3,0\n4,1\n");
        assert_eq!(r.total, 2);
    }

    #[test]
    fn last_bin_rounds_half_up() {
        let (s, r) = rates(&[(0, 250_000_000), (10_000, 250_000_000)], true);
        // 0.25/s * 10 s = 2.5 each: 2, then 5 - 2 = 3.
        assert_eq!(s, "timestamp_s,arrivals\n0,2\n10,3\n");
        assert_eq!(r.total, 5);
    }

    #[test]
    fn gaps_are_zero_rows() {
        // Spacings 1 s and 3 s, equally common: the smaller is the step.
        let (s, r) = rates(&[(0, UNIT), (1000, UNIT), (4000, UNIT)], false);
        assert_eq!(s, "timestamp_s,arrivals\n0,1\n1,1\n2,0\n3,0\n4,1\n");
        assert_eq!((r.gaps, r.gap_bins), (1, 2));
    }

    #[test]
    fn summed_merges_out_of_order() {
        let mut s = Summed::new();
        for (t, v) in [(10, 1), (30, 1), (20, 5), (10, 2), (5, 7), (20, 1)] {
            s.add(t, v, loc()).expect("fits");
        }
        s.settle().expect("fits");
        let got: Vec<(i64, u64)> = s.points().iter().map(|p| (p.ts_ms, p.sum)).collect();
        assert_eq!(got, vec![(5, 7), (10, 3), (20, 6), (30, 1)]);
    }

    #[test]
    fn values() {
        assert_eq!(parse_value(b"2.5"), Ok(Value::Units(2_500_000_000)));
        assert_eq!(parse_value(b"NaN"), Ok(Value::NaN));
        assert_eq!(parse_value(b"+Inf"), Err(ValueError::Infinite));
        assert_eq!(parse_value(b"-1"), Err(ValueError::Negative));
        assert_eq!(parse_value(b"1e-3"), Ok(Value::Units(1_000_000)));
        assert_eq!(value_from_f64(0.1), Ok(Value::Units(100_000_000)));
    }
}
