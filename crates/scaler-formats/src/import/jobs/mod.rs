//! What `import github-jobs` and `import sacct` share: the task trace they write (tasks
//! collected, sorted by arrival, rebased to the first one), the counts of what was left
//! out, the options they refuse, and `--time-zone`.

use std::io::Write;
use std::path::Path;

use crate::error::{InputError, SimError};
use crate::fmtnum::push_ms_as_seconds;
use crate::import::{ImportOptions, ImportReport, Shape};
use crate::output::Chunked;

/// The task trace's header: the two columns every reader wants, then the real queueing
/// time and the job's own id (extra columns, ignored by the simulator).
pub(crate) const HEADER: &[u8] = b"arrival_s,duration_s,observed_wait_s,job_id\n";

/// One finished job, in absolute time.
#[derive(Clone, Copy, Debug)]
struct Task {
    /// Arrival (submission, creation), ms since the Unix epoch.
    arrival_ms: i64,
    /// The tie-break of equal arrivals: the job id (GitHub) or the row's order (sacct).
    key: u64,
    /// Run time, ms.
    duration_ms: u64,
    /// Arrival to start, ms.
    wait_ms: u64,
    /// The job id's bytes in [`Tasks::ids`]: start and length.
    id_at: u32,
    id_len: u32,
}

/// The tasks of an import, held (a few integers each) until they can be sorted and written.
#[derive(Debug, Default)]
pub(crate) struct Tasks {
    tasks: Vec<Task>,
    /// Every task's job id, one after the other.
    ids: Vec<u8>,
    /// Jobs that started before they arrived (clock skew): their wait is written as 0.
    negative_waits: u64,
    /// Jobs that ended before they started: their duration is written as 0.
    negative_durations: u64,
}

impl Tasks {
    /// Adds a job that arrived at `arrival_ms`, started at `start_ms` and ended at `end_ms`
    /// (ms since the epoch). A start before the arrival or an end before the start (clock
    /// skew between the systems that stamp them) is written as 0 and counted.
    pub(crate) fn push(
        &mut self,
        path: &Path,
        arrival_ms: i64,
        start_ms: i64,
        end_ms: i64,
        key: u64,
        id: &[u8],
    ) -> Result<(), InputError> {
        let wait = start_ms.saturating_sub(arrival_ms);
        let duration = end_ms.saturating_sub(start_ms);
        if wait < 0 {
            self.negative_waits += 1;
        }
        if duration < 0 {
            self.negative_durations += 1;
        }
        let id_at = u32::try_from(self.ids.len())
            .map_err(|_| InputError::file(path, "more than 4 GiB of job ids: split the input"))?;
        let id_len = u32::try_from(id.len()).map_err(|_| InputError::file(path, "a job id longer than 4 GiB"))?;
        self.ids.extend_from_slice(id);
        self.tasks.push(Task {
            arrival_ms,
            key,
            duration_ms: u64::try_from(duration).unwrap_or(0),
            wait_ms: u64::try_from(wait).unwrap_or(0),
            id_at,
            id_len,
        });
        Ok(())
    }

    /// How many tasks there are.
    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Sorts the tasks by arrival (ties by key), rebases them to the first arrival and
    /// writes the task trace to `out`; fills `report`'s `written`, `origin_unix_ms`,
    /// `wrote` and the clock-skew notices.
    pub(crate) fn write(
        mut self,
        mut out: &mut dyn Write,
        out_path: &Path,
        report: &mut ImportReport,
    ) -> Result<(), SimError> {
        self.tasks.sort_unstable_by_key(|t| (t.arrival_ms, t.key));
        let origin = self.tasks.first().map(|t| t.arrival_ms);
        let mut o = Chunked::new(&mut out, out_path);
        o.buf.extend_from_slice(HEADER);
        if let Some(origin) = origin {
            for t in &self.tasks {
                // Sorted: every arrival is at or after the origin, and both are within
                // jiff's range (years -9999 to 9999), so the difference fits.
                let at = u64::try_from(t.arrival_ms.saturating_sub(origin)).unwrap_or(0);
                push_ms_as_seconds(&mut o.buf, at);
                o.buf.push(b',');
                push_ms_as_seconds(&mut o.buf, t.duration_ms);
                o.buf.push(b',');
                push_ms_as_seconds(&mut o.buf, t.wait_ms);
                o.buf.push(b',');
                let start = t.id_at as usize;
                push_csv_field(&mut o.buf, &self.ids[start..start + t.id_len as usize]);
                o.buf.push(b'\n');
                o.maybe_flush()?;
            }
        }
        o.flush()?;
        report.wrote = "task trace";
        report.written = self.tasks.len() as u64;
        report.origin_unix_ms = origin;
        if let Some(line) = recorded_waits(&self.tasks) {
            report.notices.push(line);
        }
        if self.negative_waits > 0 {
            report.notices.push(format!(
                "{} job(s) started before they arrived (clock skew): observed_wait_s is written as 0",
                self.negative_waits
            ));
        }
        if self.negative_durations > 0 {
            report.notices.push(format!(
                "{} job(s) ended before they started (clock skew): duration_s is written as 0",
                self.negative_durations
            ));
        }
        Ok(())
    }
}

/// The recorded queue times (`observed_wait_s`) summed up as the simulator's summary states
/// its waits (mean, nearest-rank p50, p95 and p99, max), to set beside a simulated pool's.
fn recorded_waits(tasks: &[Task]) -> Option<String> {
    if tasks.is_empty() {
        return None;
    }
    let mut w: Vec<u64> = tasks.iter().map(|t| t.wait_ms).collect();
    w.sort_unstable();
    let n = w.len() as u64;
    let rank = |q: u64| w[usize::try_from((q * n).div_ceil(100).max(1) - 1).unwrap_or(0)];
    let s = |ms: u64| scaler_core::DurationMs(ms).to_string();
    let sum: u128 = w.iter().map(|&x| u128::from(x)).sum();
    #[allow(clippy::cast_precision_loss)]
    let mean = sum as f64 / n as f64 / 1000.0;
    Some(format!(
        "recorded queue times (observed_wait_s): mean {mean:.3} s, p50 {} s, p95 {} s, p99 {} s, max {} s",
        s(rank(50)),
        s(rank(95)),
        s(rank(99)),
        s(*w.last().unwrap_or(&0))
    ))
}

/// Appends `field`, quoted as CSV quotes it if it holds a comma, a quote or a line break.
fn push_csv_field(buf: &mut Vec<u8>, field: &[u8]) {
    if !field.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.extend_from_slice(field);
        return;
    }
    buf.push(b'"');
    for &b in field {
        if b == b'"' {
            buf.push(b'"');
        }
        buf.push(b);
    }
    buf.push(b'"');
}

/// Counts of what was left out, by reason, in the order the reasons are declared.
#[derive(Debug)]
pub(crate) struct LeftOut {
    counts: Vec<(String, u64)>,
}

impl LeftOut {
    /// The reasons, in the order they are to be reported.
    pub(crate) fn new<S: AsRef<str>>(reasons: &[S]) -> LeftOut {
        LeftOut { counts: reasons.iter().map(|r| (r.as_ref().to_string(), 0)).collect() }
    }

    /// Counts one record left out for reason number `i`.
    pub(crate) fn add(&mut self, i: usize) {
        if let Some(c) = self.counts.get_mut(i) {
            c.1 += 1;
        }
    }

    /// The reasons with a count above 0.
    pub(crate) fn into_report(self) -> Vec<(String, u64)> {
        self.counts.into_iter().filter(|(_, n)| *n > 0).collect()
    }
}

/// Refuses the options `format` has no use for (each named, with what it is for), and any
/// `--as` but `tasks`.
pub(crate) fn refuse_options(opts: &ImportOptions, format: &str, allowed: &[&str]) -> Result<(), SimError> {
    let here = Path::new(format);
    if opts.shape.is_some_and(|s| s != Shape::Tasks) {
        return Err(InputError::file(
            here,
            format!("--as: {format} writes a task trace (one row per finished job): --as tasks, or leave --as out"),
        )
        .into());
    }
    let given: [(&str, bool); 9] = [
        ("--counts", opts.counts),
        ("--select", !opts.select.is_empty()),
        ("--column", !opts.columns.is_empty()),
        ("--accept-partial", opts.accept_partial),
        ("--labels", !opts.labels.is_empty()),
        ("--time-column", opts.time_column.is_some()),
        ("--time-format", opts.time_format.is_some()),
        ("--time-zone", opts.time_zone.is_some()),
        ("--value-column", opts.value_column.is_some()),
    ];
    for (flag, set) in given.into_iter().chain([("--step-s", opts.step_s.is_some())]) {
        if set && !allowed.contains(&flag) {
            let uses = if allowed.is_empty() { "no options".to_string() } else { allowed.join(", ") };
            return Err(InputError::file(here, format!("{flag} does not apply to {format} (it takes {uses})")).into());
        }
    }
    Ok(())
}

/// The zone `--time-zone` names: `UTC` (the default), a fixed offset (`+02:00`, `-0500`,
/// `+5`) or a time zone database name (`Europe/Paris`), read from `$TZDIR` or
/// `/usr/share/zoneinfo`.
pub(crate) fn time_zone(name: Option<&str>) -> Result<jiff::tz::TimeZone, SimError> {
    let Some(name) = name else {
        return Ok(jiff::tz::TimeZone::UTC);
    };
    let here = Path::new("--time-zone");
    let bad = |why: String| -> SimError { InputError::file(here, format!("{name:?}: {why}")).into() };
    if name.eq_ignore_ascii_case("utc") || name == "Z" || name.eq_ignore_ascii_case("gmt") {
        return Ok(jiff::tz::TimeZone::UTC);
    }
    if let Some(rest) = name.strip_prefix('+').map(|r| (1, r)).or_else(|| name.strip_prefix('-').map(|r| (-1, r))) {
        let (sign, digits) = rest;
        let (h, m) = match digits.split_once(':') {
            Some((h, m)) => (h, m),
            None if digits.len() == 4 => digits.split_at(2),
            None => (digits, "0"),
        };
        let num = |s: &str| s.parse::<i32>().ok().filter(|_| !s.is_empty() && s.len() <= 2);
        let (Some(h), Some(m)) = (num(h), num(m)) else {
            return Err(bad("an offset is written +HH:MM or -HH:MM (like +02:00)".into()));
        };
        if h > 25 || m > 59 {
            return Err(bad("an offset has hours up to 25 and minutes up to 59".into()));
        }
        let seconds = sign * (h * 3600 + m * 60);
        let offset =
            jiff::tz::Offset::from_seconds(seconds).map_err(|e| bad(format!("not a valid UTC offset: {e}")))?;
        return Ok(jiff::tz::TimeZone::fixed(offset));
    }
    let plain = name.split('/').all(|part| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
    });
    if !plain {
        return Err(bad("not a time zone name (like Europe/Paris), UTC, or an offset (like +02:00)".into()));
    }
    let dir = std::env::var_os("TZDIR").unwrap_or_else(|| "/usr/share/zoneinfo".into());
    let file = Path::new(&dir).join(name);
    let data = std::fs::read(&file).map_err(|e| {
        bad(format!(
            "no such time zone in {} ({e}); give a name like Europe/Paris, UTC, or an offset like +02:00",
            Path::new(&dir).display()
        ))
    })?;
    jiff::tz::TimeZone::tzif(name, &data).map_err(|e| bad(format!("{} is not a time zone file: {e}", file.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_by_offset_and_name() {
        let at = jiff::civil::date(2024, 7, 1).at(12, 0, 0, 0);
        let ts = |z: &jiff::tz::TimeZone| z.to_ambiguous_timestamp(at).compatible().unwrap().as_second();
        let utc = ts(&time_zone(None).unwrap());
        assert_eq!(ts(&time_zone(Some("UTC")).unwrap()), utc);
        assert_eq!(ts(&time_zone(Some("+02:00")).unwrap()), utc - 7200);
        assert_eq!(ts(&time_zone(Some("-0530")).unwrap()), utc + 5 * 3600 + 1800);
        assert_eq!(ts(&time_zone(Some("+5")).unwrap()), utc - 5 * 3600);
        if Path::new("/usr/share/zoneinfo/Europe/Paris").exists() && std::env::var_os("TZDIR").is_none() {
            assert_eq!(ts(&time_zone(Some("Europe/Paris")).unwrap()), utc - 7200);
        }
        for bad in ["+2:61", "../etc/passwd", "/etc/passwd", "Mars/Olympus", "+x"] {
            let e = time_zone(Some(bad)).unwrap_err().to_string();
            assert!(e.starts_with("--time-zone: "), "{e}");
        }
    }

    #[test]
    fn written_sorted_rebased_and_quoted() {
        let mut t = Tasks::default();
        let p = Path::new("x");
        t.push(p, 10_000, 12_500, 20_000, 2, b"b").unwrap();
        t.push(p, 5_000, 4_000, 3_000, 9, b"a,\"q\"").unwrap();
        t.push(p, 10_000, 10_000, 10_001, 1, b"c").unwrap();
        let mut out = Vec::new();
        let mut r = ImportReport::default();
        t.write(&mut out, p, &mut r).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "arrival_s,duration_s,observed_wait_s,job_id\n0,0,0,\"a,\"\"q\"\"\"\n5,0.001,0,c\n5,7.5,2.5,b\n"
        );
        assert_eq!(r.origin_unix_ms, Some(5_000));
        assert_eq!(r.written, 3);
        // Waits 0, 0 and 2.5 s: the recorded queue times, then the two clock skews.
        assert_eq!(r.notices.len(), 3, "{:?}", r.notices);
        assert_eq!(
            r.notices[0],
            "recorded queue times (observed_wait_s): mean 0.833 s, p50 0 s, p95 2.5 s, p99 2.5 s, max 2.5 s"
        );
    }
}
