//! `import github-jobs`: GitHub Actions' "list jobs for a workflow run" responses
//! (`{"total_count": N, "jobs": [...]}`) into a task trace.
//!
//! An input is one response, a JSON array of them, or a stream of them (JSON Lines, or
//! the pages `gh api --paginate` prints one after the other); each value may also be a
//! single job object (what `gh api --paginate --jq '.jobs[]'` prints), and an array may hold
//! jobs. The input is streamed: each job is deserialized on its own into a few fields
//! (its `steps` and every other key are skipped unread), so memory holds the tasks only.
//!
//! A job becomes a task when it is `completed` and ran on a runner (`runner_id` above 0
//! or a `runner_name`) with a `started_at` and a `completed_at`: arrival `created_at`,
//! duration `completed_at - started_at`, and `observed_wait_s` = `started_at -
//! created_at`. Every other job is left out and counted by reason; a job id seen before
//! (overlapping pages) is counted once.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{ImportOptions, ImportReport};
use crate::csvio::open_file;
use crate::error::{InputError, Location, SimError};

use super::jobs::{self, LeftOut, Tasks};

/// The reasons a job is left out, in the order they are reported.
const DUPLICATE: usize = 0;
const OTHER_LABELS: usize = 1;
const NOT_FINISHED: usize = 2;
const NO_RUNNER: usize = 3;
const NO_TIMES: usize = 4;
const REASONS: [&str; 5] = [
    "duplicate (a job id seen before: overlapping pages)",
    "runner labels do not include all of --labels",
    "not finished (status queued, in_progress, waiting, requested or pending)",
    "never ran on a runner (skipped, or cancelled before a runner took it)",
    "completed without a started_at or completed_at",
];

/// Imports `inputs` into `out`.
pub fn import(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    jobs::refuse_options(opts, "github-jobs", &["--labels"])?;
    let labels: Vec<&str> = opts.labels.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
    let mut ctx = Ctx {
        path: Path::new(""),
        labels: &labels,
        seen: HashSet::new(),
        tasks: Tasks::default(),
        left: LeftOut::new(&REASONS),
        read: 0,
        runs: BTreeMap::new(),
        line: None,
        failed: None,
    };
    for input in inputs {
        ctx.path = input;
        read_file(&mut ctx)?;
    }
    let mut report = ImportReport { read: ctx.read, ..ImportReport::default() };
    report.left_out = ctx.left.into_report();
    let short: Vec<(&u64, &(u64, u64))> = ctx.runs.iter().filter(|(_, (total, read))| read < total).collect();
    if let Some((run, (total, read))) = short.first() {
        report.notices.push(format!(
            "{} workflow run(s) have fewer jobs than their pages' total_count (run {run}: {read} of {total}): pages may be missing (gh api --paginate fetches them all)",
            short.len()
        ));
    }
    if ctx.tasks.len() == 0 {
        report.notices.push("no job became a task: the trace has its header only".to_string());
    }
    ctx.tasks.write(out, out_path, &mut report)?;
    Ok(report)
}

/// What the import has gathered so far, and the file it is reading.
struct Ctx<'a> {
    path: &'a Path,
    labels: &'a [&'a str],
    seen: HashSet<u64>,
    tasks: Tasks,
    left: LeftOut,
    read: u64,
    /// Per workflow run: the largest `total_count` of a page of its jobs, and how many
    /// distinct jobs of it were read (fewer than the total: pages are missing).
    runs: BTreeMap<u64, (u64, u64)>,
    /// The line being read, in JSON Lines (errors name it).
    line: Option<u64>,
    /// An error found while deserializing (a bad job): serde is stopped with a placeholder
    /// error and this one is reported instead.
    failed: Option<SimError>,
}

/// The longest first line read to tell JSON Lines from a document that spans lines.
const FIRST_LINE_MAX: usize = 64 << 20;

/// Reads one input file, a stream of JSON values, into `ctx`.
///
/// JSON Lines (every line a whole value: what `gh api --paginate` prints) are read a line
/// at a time and parsed from memory, the fast path; anything else (pretty-printed JSON,
/// one long line) is parsed as it is read.
fn read_file(ctx: &mut Ctx<'_>) -> Result<(), SimError> {
    let path = ctx.path;
    let file = open_file(path)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let io = |e| SimError::io(path, "read", e);
    // A UTF-8 byte-order mark is skipped (serde_json refuses it).
    let head = reader.fill_buf().map_err(io)?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    let mut line = Vec::new();
    let whole = read_line_capped(&mut reader, &mut line, FIRST_LINE_MAX).map_err(io)?;
    // JSON Lines if the first line holds one value or more, each whole.
    let first_is_whole = whole && {
        let mut n = 0u64;
        let ok = serde_json::Deserializer::from_slice(&line).into_iter::<IgnoredAny>().all(|v| {
            n += 1;
            v.is_ok()
        });
        ok && n > 0
    };
    let mut values = 0u64;
    if first_is_whole {
        let mut n = 1u64;
        loop {
            ctx.line = Some(n);
            let mut de = serde_json::Deserializer::from_slice(&line);
            match drive(ctx, &mut de) {
                Ok(v) => values += v,
                Err(e) => {
                    return Err(ctx.failed.take().unwrap_or_else(|| {
                        if e.is_eof() {
                            InputError::line(
                                path,
                                n,
                                "the value does not end on its line: in JSON Lines every line holds whole values",
                            )
                            .into()
                        } else {
                            json_error(path, &e, n - 1)
                        }
                    }))
                }
            }
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
                break;
            }
            n += 1;
        }
        ctx.line = None;
    } else {
        let rest = std::io::Cursor::new(std::mem::take(&mut line)).chain(reader);
        let mut de = serde_json::Deserializer::from_reader(rest);
        values = drive(ctx, &mut de).map_err(|e| ctx.failed.take().unwrap_or_else(|| json_error(path, &e, 0)))?;
    }
    if values == 0 {
        return Err(InputError::file(
            path,
            "is empty: expected a GitHub jobs response ({\"total_count\": N, \"jobs\": [...]}), an array of them, or JSON Lines",
        )
        .into());
    }
    Ok(())
}

/// Reads the values of `de` one after the other into `ctx`; returns how many there were.
fn drive<'de, R: serde_json::de::Read<'de>>(
    ctx: &mut Ctx<'_>,
    de: &mut serde_json::Deserializer<R>,
) -> Result<u64, serde_json::Error> {
    let mut value = 0u64;
    // `end` succeeds only at the end of the input (after whitespace); otherwise another
    // value follows, and it is read next.
    while de.end().is_err() {
        value += 1;
        TopSeed { ctx: &mut *ctx, value }.deserialize(&mut *de)?;
    }
    Ok(value)
}

/// Appends one line (with its `\n`) to `buf`, reading at most about `cap` bytes: false if
/// the line is longer.
fn read_line_capped<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, cap: usize) -> std::io::Result<bool> {
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(true);
        }
        if let Some(i) = memchr::memchr(b'\n', chunk) {
            buf.extend_from_slice(&chunk[..=i]);
            r.consume(i + 1);
            return Ok(true);
        }
        let n = chunk.len();
        buf.extend_from_slice(chunk);
        r.consume(n);
        if buf.len() > cap {
            return Ok(false);
        }
    }
}

/// serde_json's error at its line and column (without its own " at line L column C").
/// `lines_before` is added to its line (the lines before the one parsed, in JSON Lines).
fn json_error(path: &Path, e: &serde_json::Error, lines_before: u64) -> SimError {
    if e.is_io() {
        return SimError::io(path, "read", std::io::Error::other(e.to_string()));
    }
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = text.strip_suffix(&suffix).unwrap_or(&text);
    let msg = if e.is_eof() { format!("the JSON ends early ({msg})") } else { format!("invalid JSON: {msg}") };
    InputError {
        path: path.to_path_buf(),
        location: Location::LineCol(e.line() as u64 + lines_before, e.column() as u64),
        message: msg,
    }
    .into()
}

/// Where a job is, to name it in errors.
#[derive(Clone, Copy)]
enum Place {
    /// The `value`-th top-level value (1-based), a job itself.
    Value(u64),
    /// Element `i` of the top-level array.
    Element(u64),
    /// `jobs[i]` of the page at `page`.
    InPage(PagePlace, u64),
}

/// Where a page is.
#[derive(Clone, Copy)]
enum PagePlace {
    Value(u64),
    Element(u64),
}

impl Place {
    fn describe(self, id: Option<u64>) -> String {
        let mut s = match self {
            Place::Value(1) => "job".to_string(),
            Place::Value(v) => format!("value {v}"),
            Place::Element(i) => format!("[{i}]"),
            Place::InPage(PagePlace::Value(1), j) => format!("jobs[{j}]"),
            Place::InPage(PagePlace::Value(v), j) => format!("value {v}, jobs[{j}]"),
            Place::InPage(PagePlace::Element(i), j) => format!("[{i}].jobs[{j}]"),
        };
        if let Some(id) = id {
            s.push_str(&format!(" (id {id})"));
        }
        s
    }
}

/// A top-level value: a page or a job (an object), or an array of them.
struct TopSeed<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    value: u64,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a jobs response ({\"total_count\": N, \"jobs\": [...]}), a job, or an array of them")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let v = self.value;
        ItemSeed { ctx: self.ctx, page: PagePlace::Value(v), alone: Place::Value(v) }.visit_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0u64;
        loop {
            let seed = ItemSeed { ctx: &mut *self.ctx, page: PagePlace::Element(i), alone: Place::Element(i) };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
}

/// An object that is a page (it has `jobs`) or a job.
struct ItemSeed<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    /// Where it is, if it is a page.
    page: PagePlace,
    /// Where it is, if it is a job.
    alone: Place,
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a jobs response ({\"total_count\": N, \"jobs\": [...]}) or a job object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut job = Job::default();
        let mut page = false;
        let mut fields = false;
        let mut total = None;
        let mut run = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Jobs => {
                    page = true;
                    run = map.next_value_seed(JobsSeed { ctx: &mut *self.ctx, page: self.page })?;
                }
                Key::TotalCount => total = map.next_value::<Option<u64>>()?,
                _ => fields |= job.field(key, &mut map)?,
            }
        }
        if page {
            if let (Some(total), Some(run)) = (total, run) {
                let r = self.ctx.runs.entry(run).or_default();
                r.0 = r.0.max(total);
            }
            return Ok(());
        }
        if !fields && job.id.is_none() {
            let e = self
                .ctx
                .error(self.alone.describe(None), "neither a jobs response (no \"jobs\") nor a job (no \"id\")");
            return fail(self.ctx, e);
        }
        let r = self.ctx.take(job, self.alone);
        r.or_else(|e| fail(self.ctx, e))
    }
}

/// Stops serde with a placeholder, keeping `e` to report.
fn fail<E: de::Error>(ctx: &mut Ctx<'_>, e: InputError) -> Result<(), E> {
    ctx.failed = Some(e.into());
    Err(E::custom("bad job"))
}

/// A page's `jobs` array, each job taken as it is read.
struct JobsSeed<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    page: PagePlace,
}

/// The run the page's jobs belong to, if they all have the same `run_id`.
impl<'de> DeserializeSeed<'de> for JobsSeed<'_, '_> {
    type Value = Option<u64>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for JobsSeed<'_, '_> {
    type Value = Option<u64>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of jobs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<u64>, A::Error> {
        let mut j = 0u64;
        // The run of the first job; `Some(None)` once two runs (or none) were seen.
        let mut run: Option<Option<u64>> = None;
        while let Some(job) = seq.next_element::<Job>()? {
            run = match run {
                None => Some(job.run_id),
                Some(r) if r == job.run_id => Some(r),
                Some(_) => Some(None),
            };
            if let Err(e) = self.ctx.take(job, Place::InPage(self.page, j)) {
                return fail(self.ctx, e).map(|()| None);
            }
            j += 1;
        }
        Ok(run.flatten())
    }
}

/// The keys of a job (and a page's `jobs`) that are read; every other is skipped (read as a
/// borrowed identifier by serde's derive: no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    Jobs,
    TotalCount,
    Id,
    RunId,
    Status,
    CreatedAt,
    StartedAt,
    CompletedAt,
    Labels,
    RunnerId,
    RunnerName,
    #[serde(other)]
    Other,
}

/// The fields of a job that matter.
#[derive(Default)]
struct Job {
    id: Option<u64>,
    run_id: Option<u64>,
    /// `status == "completed"`.
    completed: Option<bool>,
    created_at: Option<Stamp>,
    started_at: Option<Stamp>,
    completed_at: Option<Stamp>,
    labels: Option<Vec<String>>,
    runner_id: Option<u64>,
    /// A `runner_name` that is not empty.
    runner_name: Option<bool>,
}

impl Job {
    /// Reads the value of `key` (skips it if it is not a job's); true if it was a job's.
    fn field<'de, A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<bool, A::Error> {
        match key {
            Key::Id => self.id = map.next_value()?,
            Key::RunId => self.run_id = map.next_value()?,
            Key::Status => self.completed = map.next_value::<Option<Text>>()?.map(|t| t.completed),
            Key::CreatedAt => self.created_at = map.next_value()?,
            Key::StartedAt => self.started_at = map.next_value()?,
            Key::CompletedAt => self.completed_at = map.next_value()?,
            Key::Labels => self.labels = map.next_value()?,
            Key::RunnerId => self.runner_id = map.next_value()?,
            Key::RunnerName => self.runner_name = map.next_value::<Option<Text>>()?.map(|t| t.non_empty),
            Key::Jobs | Key::TotalCount | Key::Other => {
                map.next_value::<IgnoredAny>()?;
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for Job {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Job, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Job;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a job object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Job, A::Error> {
                let mut job = Job::default();
                while let Some(key) = map.next_key::<Key>()? {
                    job.field(key, &mut map)?;
                }
                Ok(job)
            }
        }
        d.deserialize_map(V)
    }
}

/// A string read without keeping it: whether it is `"completed"`, and whether it is not empty.
struct Text {
    completed: bool,
    non_empty: bool,
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text { completed: s == "completed", non_empty: !s.is_empty() })
            }
        }
        d.deserialize_str(V)
    }
}

/// An RFC 3339 time in ms since the epoch, or the text that is not one.
enum Stamp {
    Ms(i64),
    /// The text, and why jiff refused it.
    Bad(String, String),
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Stamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 time (a string like \"2024-03-01T12:00:00Z\") or null")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Stamp, E> {
                Ok(match s.parse::<jiff::Timestamp>() {
                    Ok(t) => Stamp::Ms(t.as_millisecond()),
                    Err(e) => Stamp::Bad(s.to_string(), e.to_string()),
                })
            }
        }
        d.deserialize_str(V)
    }
}

impl Ctx<'_> {
    /// An error about the job at `place` (a JSON path within the value, or within the line in JSON Lines).
    fn error(&self, place: String, message: impl Into<String>) -> InputError {
        match self.line {
            Some(n) => InputError::line(self.path, n, format!("{place}: {}", message.into())),
            None => InputError::at_path(self.path, place, message),
        }
    }

    /// Counts `job`, and keeps it as a task if it is one.
    fn take(&mut self, job: Job, at: Place) -> Result<(), InputError> {
        self.read += 1;
        let path = self.path;
        let Some(id) = job.id else {
            return Err(self.error(format!("{}.id", at.describe(None)), "a job has an \"id\" (a number)"));
        };
        let here = |field: &str| format!("{}.{field}", at.describe(Some(id)));
        let time = |field: &str, s: &Option<Stamp>| -> Result<Option<i64>, InputError> {
            match s {
                None => Ok(None),
                Some(Stamp::Ms(ms)) => Ok(Some(*ms)),
                Some(Stamp::Bad(text, why)) => Err(self.error(
                    here(field),
                    format!("{text:?} is not an RFC 3339 time (like \"2024-03-01T12:00:00Z\"): {why}"),
                )),
            }
        };
        let created = time("created_at", &job.created_at)?;
        let started = time("started_at", &job.started_at)?;
        let completed = time("completed_at", &job.completed_at)?;
        let Some(done) = job.completed else {
            return Err(self.error(here("status"), "a job has a \"status\" (queued, in_progress, completed, ...)"));
        };
        if !self.seen.insert(id) {
            self.left.add(DUPLICATE);
            return Ok(());
        }
        if let Some(run) = job.run_id {
            self.runs.entry(run).or_default().1 += 1;
        }
        if !self.labels.is_empty() {
            let has = |want: &str| job.labels.iter().flatten().any(|l| l.eq_ignore_ascii_case(want));
            if !self.labels.iter().all(|w| has(w)) {
                self.left.add(OTHER_LABELS);
                return Ok(());
            }
        }
        if !done {
            self.left.add(NOT_FINISHED);
            return Ok(());
        }
        if job.runner_id.unwrap_or(0) == 0 && !job.runner_name.unwrap_or(false) {
            self.left.add(NO_RUNNER);
            return Ok(());
        }
        let (Some(started), Some(completed)) = (started, completed) else {
            self.left.add(NO_TIMES);
            return Ok(());
        };
        let Some(created) = created else {
            return Err(self.error(
                here("created_at"),
                "a completed job has a \"created_at\" (its arrival): it is missing or null",
            ));
        };
        let mut digits = itoa::Buffer::new();
        self.tasks.push(path, created, started, completed, id, digits.format(id).as_bytes())
    }
}
