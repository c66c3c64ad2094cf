//! `import sacct`: Slurm's `sacct --parsable2` (or `--parsable`) output into a task trace.
//!
//! The header names the columns (any order, matched without regard to case): `JobID` (or
//! `JobIDRaw`), `Submit`, `Start`, `End`, and optionally `Elapsed`, `State` and any column
//! `--select` names. A job that started becomes a task: arrival `Submit`, duration `End -
//! Start` (`Elapsed` when `End` is `Unknown` but `State` says the job is over), and
//! `observed_wait_s` = `Start - Submit`. Job steps (`123.batch`, `123.0`) are left out,
//! and so are jobs that never started or still run, each counted. The file is read a
//! line at a time; memory holds the tasks only.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::{ImportOptions, ImportReport};
use crate::csvio::open_file;
use crate::error::{InputError, Location, SimError};
use crate::import::jobs::{self, LeftOut, Tasks};

/// The fixed reasons a row is left out; `--select`'s come after [`STEP`].
const STEP: usize = 0;
const NEVER_STARTED: &str = "never started (Start is Unknown or None: pending, or cancelled before it started)";
const RUNNING: &str = "still running (End is Unknown)";
const NO_SUBMIT: &str = "no Submit time (Submit is Unknown or None)";

/// States of a job that is not over yet (its `End` is `Unknown`).
const LIVE_STATES: [&str; 9] =
    ["RUNNING", "PENDING", "SUSPENDED", "REQUEUED", "RESIZING", "COMPLETING", "STOPPED", "SIGNALING", "STAGE_OUT"];

/// Imports `inputs` into `out`.
pub fn import(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    jobs::refuse_options(opts, "sacct", &["--time-zone", "--select"])?;
    let zone = Zone::new(jobs::time_zone(opts.time_zone.as_deref())?);
    // --select COLUMN=VALUE: the values each column may have (several for one column: any).
    let mut select: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in &opts.select {
        match select.iter_mut().find(|(c, _)| c.eq_ignore_ascii_case(k)) {
            Some((_, vals)) => vals.push(v.clone()),
            None => select.push((k.clone(), vec![v.clone()])),
        }
    }
    let mut reasons = vec!["job step (a JobID with a dot: 123.batch, 123.extern, 123.0)".to_string()];
    for (c, vals) in &select {
        reasons.push(format!("{c} is not {}", vals.join(" or ")));
    }
    let never_started = reasons.len();
    reasons.extend([NEVER_STARTED.to_string(), RUNNING.to_string(), NO_SUBMIT.to_string()]);
    let mut st = State { tasks: Tasks::default(), left: LeftOut::new(&reasons), read: 0, never_started };
    for input in inputs {
        read_file(input, &zone, &select, &mut st)?;
    }
    let mut report = ImportReport { read: st.read, ..ImportReport::default() };
    report.left_out = st.left.into_report();
    if st.tasks.len() == 0 {
        report.notices.push("no job became a task: the trace has its header only".to_string());
    }
    st.tasks.write(out, out_path, &mut report)?;
    Ok(report)
}

/// What the import has gathered so far.
struct State {
    tasks: Tasks,
    left: LeftOut,
    read: u64,
    /// The index of [`NEVER_STARTED`] in the reasons (then [`RUNNING`], [`NO_SUBMIT`]).
    never_started: usize,
}

/// The columns of one file's header.
struct Columns {
    /// The header line as written (the outputs of several sacct runs pasted together
    /// repeat it: such a line is skipped).
    raw: Vec<u8>,
    names: Vec<String>,
    /// A `--parsable` header: every line ends with a `|`.
    trailing: bool,
    job_id: usize,
    submit: usize,
    start: usize,
    end: usize,
    elapsed: Option<usize>,
    state: Option<usize>,
    /// `--select`: the column and the values it may have.
    select: Vec<(usize, Vec<String>)>,
}

/// Splits `line` at `|` into `fields` (byte ranges).
fn split(line: &[u8], fields: &mut Vec<(usize, usize)>) {
    fields.clear();
    let mut start = 0;
    for i in memchr::memchr_iter(b'|', line) {
        fields.push((start, i));
        start = i + 1;
    }
    fields.push((start, line.len()));
}

fn read_file(path: &Path, zone: &Zone, select: &[(String, Vec<String>)], st: &mut State) -> Result<(), SimError> {
    let file = open_file(path)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let io = |e| SimError::io(path, "read", e);
    let mut buf = Vec::with_capacity(1 << 12);
    let mut fields: Vec<(usize, usize)> = Vec::with_capacity(16);
    let mut line_no = 0u64;
    let mut cols: Option<Columns> = None;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(io)? == 0 {
            break;
        }
        line_no += 1;
        let mut line = buf.as_slice();
        if line_no == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        split(line, &mut fields);
        let Some(c) = &cols else {
            cols = Some(header(path, line_no, line, &fields, select)?);
            continue;
        };
        if line == c.raw.as_slice() {
            continue;
        }
        if c.trailing && fields.last().is_some_and(|&(a, b)| a == b) && fields.len() == c.names.len() + 1 {
            fields.pop();
        }
        if fields.len() != c.names.len() {
            return Err(InputError::line(
                path,
                line_no,
                format!(
                    "has {} field(s) but the header has {}: a | inside a field (a JobName, a Comment) cannot be told from a separator, so leave such columns out of --format",
                    fields.len(),
                    c.names.len()
                ),
            )
            .into());
        }
        row(path, line_no, line, &fields, c, zone, st)?;
    }
    if cols.is_none() {
        return Err(InputError::file(
            path,
            "is empty: expected sacct --parsable2 output with its header (JobID|Submit|Start|End|...)",
        )
        .into());
    }
    Ok(())
}

/// Reads the header line.
fn header(
    path: &Path,
    line_no: u64,
    line: &[u8],
    fields: &[(usize, usize)],
    select: &[(String, Vec<String>)],
) -> Result<Columns, SimError> {
    let mut names: Vec<String> =
        fields.iter().map(|&(a, b)| String::from_utf8_lossy(&line[a..b]).trim().to_string()).collect();
    let trailing = names.len() > 1 && names.last().is_some_and(String::is_empty);
    if trailing {
        names.pop();
    }
    let find = |n: &str| names.iter().position(|h| h.eq_ignore_ascii_case(n));
    let missing = |n: &str| -> SimError {
        let hint = if names.first().is_some_and(|f| f.bytes().next().is_some_and(|b| b.is_ascii_digit())) {
            " (this looks like a row: run sacct without --noheader)"
        } else {
            ""
        };
        InputError::line(
            path,
            line_no,
            format!(
                "the header has no {n} column{hint}: sacct --parsable2 --format JobID,Submit,Start,End,Elapsed,State,Partition prints what is read"
            ),
        )
        .into()
    };
    let job_id = find("JobID").or_else(|| find("JobIDRaw")).ok_or_else(|| missing("JobID"))?;
    let submit = find("Submit").ok_or_else(|| missing("Submit"))?;
    let start = find("Start").ok_or_else(|| missing("Start"))?;
    let end = find("End").ok_or_else(|| missing("End"))?;
    let mut sel = Vec::new();
    for (c, vals) in select {
        let i = find(c).ok_or_else(|| -> SimError {
            InputError::line(path, line_no, format!("--select {c}=...: the header has no {c} column")).into()
        })?;
        sel.push((i, vals.clone()));
    }
    Ok(Columns {
        raw: line.to_vec(),
        elapsed: find("Elapsed"),
        state: find("State"),
        names,
        trailing,
        job_id,
        submit,
        start,
        end,
        select: sel,
    })
}

/// Reads one row into `st`.
fn row(
    path: &Path,
    line_no: u64,
    line: &[u8],
    fields: &[(usize, usize)],
    c: &Columns,
    zone: &Zone,
    st: &mut State,
) -> Result<(), SimError> {
    st.read += 1;
    let field = |i: usize| {
        let (a, b) = fields[i];
        line[a..b].trim_ascii()
    };
    let err = |i: usize, msg: String| -> SimError {
        InputError {
            path: path.to_path_buf(),
            location: Location::Field(line_no, i + 1, c.names[i].clone()),
            message: msg,
        }
        .into()
    };
    let id = field(c.job_id);
    if id.is_empty() {
        return Err(err(c.job_id, "a row has a JobID".to_string()));
    }
    if id.contains(&b'.') {
        st.left.add(STEP);
        return Ok(());
    }
    for (k, (i, vals)) in c.select.iter().enumerate() {
        let v = field(*i);
        if !vals.iter().any(|want| want.as_bytes() == v) {
            st.left.add(STEP + 1 + k);
            return Ok(());
        }
    }
    let time = |i: usize| zone.parse(field(i)).map_err(|why| err(i, why));
    let submit = time(c.submit)?;
    let start = time(c.start)?;
    let end = time(c.end)?;
    let Some(start) = start else {
        st.left.add(st.never_started);
        return Ok(());
    };
    let end = match end {
        Some(e) => e,
        None => {
            let state = c.state.map(field);
            let over = state.is_some_and(|s| {
                let word = s.split(|&b| b == b' ').next().unwrap_or(s);
                !LIVE_STATES.iter().any(|l| l.as_bytes() == word)
            });
            match (over, c.elapsed) {
                (true, Some(i)) => {
                    let ms = elapsed_ms(field(i)).map_err(|why| err(i, why))?;
                    start.saturating_add(ms)
                }
                _ => {
                    st.left.add(st.never_started + 1);
                    return Ok(());
                }
            }
        }
    };
    let Some(submit) = submit else {
        st.left.add(st.never_started + 2);
        return Ok(());
    };
    let key = st.read;
    st.tasks.push(path, submit, start, end, key, id)?;
    Ok(())
}

/// The zone of times written without one, with a fast path for a fixed offset.
struct Zone {
    tz: jiff::tz::TimeZone,
    /// The offset in seconds, if the zone is a fixed one.
    fixed: Option<i64>,
}

impl Zone {
    fn new(tz: jiff::tz::TimeZone) -> Zone {
        let fixed = tz.to_fixed_offset().ok().map(|o| i64::from(o.seconds()));
        Zone { tz, fixed }
    }

    /// A sacct time in ms since the epoch: `2024-03-01T12:00:00` (local time in this zone),
    /// or with an offset (`...Z`, `...+01:00`), or epoch seconds (`SLURM_TIME_FORMAT=%s`);
    /// `None` for `Unknown`, `None` and an empty field.
    fn parse(&self, text: &[u8]) -> Result<Option<i64>, String> {
        if text.is_empty() || text == b"Unknown" || text == b"None" {
            return Ok(None);
        }
        if let (Some(off), Some(s)) = (self.fixed, civil_seconds(text)) {
            let utc = s - off;
            // Within jiff's range (years -9999 to 9999), as every other time is.
            if (jiff::Timestamp::MIN.as_second()..=jiff::Timestamp::MAX.as_second()).contains(&utc) {
                return Ok(Some(utc * 1000));
            }
        }
        let s = std::str::from_utf8(text).map_err(|_| "is not UTF-8 text".to_string())?;
        let bad = |e: jiff::Error| format!("{s:?} is not a time (like 2024-03-01T12:00:00, Unknown or None): {e}");
        if s.bytes().all(|b| b.is_ascii_digit()) {
            let secs: i64 = s.parse().map_err(|_| format!("{s:?} is too large for epoch seconds"))?;
            return jiff::Timestamp::from_second(secs).map(|t| Some(t.as_millisecond())).map_err(bad);
        }
        let has_offset = s.ends_with('Z') || s.ends_with('z') || s.get(19..).is_some_and(|t| t.contains(['+', '-']));
        if has_offset {
            return s.parse::<jiff::Timestamp>().map(|t| Some(t.as_millisecond())).map_err(bad);
        }
        let dt: jiff::civil::DateTime = s.parse().map_err(bad)?;
        // A time that happens twice (clocks set back) is the first; one that never happens
        // (clocks set forward) is moved forward by the gap.
        let ts = self.tz.to_ambiguous_timestamp(dt).compatible().map_err(bad)?;
        Ok(Some(ts.as_millisecond()))
    }
}

/// `YYYY-MM-DDTHH:MM:SS` as seconds since 1970-01-01T00:00:00 of the same calendar (the
/// proleptic Gregorian one), or `None` if `text` is not exactly that with a valid date
/// and time (then jiff's parser decides). The fast path of every sacct time; the test
/// `civil_seconds_agrees_with_jiff` checks it against jiff on many values.
fn civil_seconds(text: &[u8]) -> Option<i64> {
    if text.len() != 19
        || text[4] != b'-'
        || text[7] != b'-'
        || text[10] != b'T'
        || text[13] != b':'
        || text[16] != b':'
    {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<i64> {
        text[a..b].iter().try_fold(0i64, |n, &d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
    };
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Days from 1970-01-01, counting years from March (so the leap day is a year's last).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let year_of_era = yy - era * 400;
    let month_from_march = (m + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// sacct's `Elapsed` in ms: `[DD-]HH:MM:SS`, or `MM:SS` and `MM:SS.mmm` (short jobs).
fn elapsed_ms(text: &[u8]) -> Result<i64, String> {
    let shown = String::from_utf8_lossy(text);
    let bad = || format!("{shown:?} is not an elapsed time ([days-]HH:MM:SS, MM:SS or MM:SS.mmm)");
    let digits = |t: &[u8]| -> Option<i64> {
        if t.is_empty() || t.len() > 9 {
            return None;
        }
        t.iter().try_fold(0i64, |n, &d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
    };
    let (days, clock) = match text.iter().position(|&b| b == b'-') {
        Some(i) => (digits(&text[..i]).ok_or_else(bad)?, &text[i + 1..]),
        None => (0, text),
    };
    let (clock, frac_ms) = match clock.iter().position(|&b| b == b'.') {
        Some(i) => {
            let f = &clock[i + 1..];
            if f.is_empty() || f.len() > 3 {
                return Err(bad());
            }
            let v = digits(f).ok_or_else(bad)?;
            (&clock[..i], v * 10i64.pow(3 - f.len() as u32))
        }
        None => (clock, 0),
    };
    let parts: Vec<&[u8]> = clock.split(|&b| b == b':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (digits(h).ok_or_else(bad)?, digits(m).ok_or_else(bad)?, digits(s).ok_or_else(bad)?),
        [m, s] if days == 0 && text.first() != Some(&b'-') => {
            (0, digits(m).ok_or_else(bad)?, digits(s).ok_or_else(bad)?)
        }
        _ => return Err(bad()),
    };
    if m > 59 || s > 59 || (days > 0 && h > 23) {
        return Err(bad());
    }
    Ok((((days * 24 + h) * 60 + m) * 60 + s) * 1000 + frac_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_seconds_agrees_with_jiff() {
        // A walk over many dates and times (every month's edges, leap years, centuries),
        // and strings that are not valid, compared with jiff's own parse in UTC.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut checked = 0;
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let y = 1600 + (x % 900) as i64;
            let m = 1 + (x >> 10) % 13; // 13: invalid
            let d = [1, 28, 29, 30, 31, 32][((x >> 20) % 6) as usize];
            let (hh, mm, ss) = ((x >> 24) % 25, (x >> 32) % 61, (x >> 40) % 61);
            let text = if i % 1000 == 7 {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}")
            };
            let ours = civil_seconds(text.as_bytes());
            let theirs = text.parse::<jiff::civil::DateTime>().ok().and_then(|dt| {
                jiff::tz::TimeZone::UTC.to_ambiguous_timestamp(dt).compatible().ok().map(|t| t.as_second())
            });
            if let Some(s) = ours {
                assert_eq!(Some(s), theirs, "{text}");
                checked += 1;
            } else if ss < 60 && i % 1000 != 7 {
                // Refused by the fast path: then jiff refuses it too (leap seconds and the
                // space-separated form, which jiff reads and the fallback passes to it, aside).
                assert_eq!(theirs, None, "{text}");
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn elapsed_forms() {
        let ok = |t: &str| elapsed_ms(t.as_bytes()).unwrap();
        assert_eq!(ok("00:00:01"), 1000);
        assert_eq!(ok("01:02:03"), 3_723_000);
        assert_eq!(ok("2-00:00:00"), 172_800_000);
        assert_eq!(ok("1-23:59:59"), 172_799_000);
        assert_eq!(ok("05:07"), 307_000);
        assert_eq!(ok("00:01.250"), 1250);
        assert_eq!(ok("00:01.5"), 1500);
        assert_eq!(ok("30:00:00"), 108_000_000);
        for bad in ["", "INVALID", "1-05:07", "00:60:00", "1:2:3:4", "-01:00:00", "00:01.", "00:01.1234", "1-24:00:00"]
        {
            assert!(elapsed_ms(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_in_zones() {
        let utc = Zone::new(jiff::tz::TimeZone::UTC);
        assert_eq!(utc.parse(b"1970-01-01T00:00:01").unwrap(), Some(1000));
        assert_eq!(utc.parse(b"Unknown").unwrap(), None);
        assert_eq!(utc.parse(b"None").unwrap(), None);
        assert_eq!(utc.parse(b"1709294400").unwrap(), Some(1_709_294_400_000));
        assert_eq!(utc.parse(b"2024-03-01T12:00:00+01:00").unwrap(), Some(1_709_290_800_000));
        // Out of jiff's range once the offset is applied: refused as jiff refuses it.
        let late = Zone::new(jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(-7200).unwrap()));
        assert!(late.parse(b"9999-12-31T23:00:00").unwrap_err().contains("is not a time"));
        let plus2 = Zone::new(jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(7200).unwrap()));
        assert_eq!(plus2.parse(b"2024-03-01T12:00:00").unwrap(), Some(1_709_287_200_000));
        assert!(utc.parse(b"2024-02-30T00:00:00").unwrap_err().contains("is not a time"));
        assert!(utc.parse(b"yesterday").is_err());
    }
}
