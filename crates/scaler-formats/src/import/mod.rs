//! `scaler-sim import`: other systems' exports read into the scaler's own files: rate and
//! task traces and observations (SPEC section 5), and `[scaler]` tables from Kubernetes
//! manifests.
//!
//! Every importer streams where its format allows, rebases times so that the first sample
//! is at 0 (the absolute origin goes into the [`ImportReport`]), counts what it read and
//! what it left out, and refuses bad input with the file, the line or JSON path, and the
//! rule. Nothing here prints; the command line reports.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{InputError, SimError};

pub mod cloudwatch;
pub mod csv;
pub mod github;
pub(crate) mod jobs;
pub mod manifest;
pub mod prometheus;
pub mod sacct;
pub mod series;

/// A JSON input opened for streaming, its UTF-8 byte-order mark (which JSON does not allow
/// but Windows tools write) skipped, as the CSV and YAML readers skip it.
pub(crate) fn json_reader(path: &Path, capacity: usize) -> Result<std::io::BufReader<std::fs::File>, SimError> {
    use std::io::BufRead;
    let mut r = std::io::BufReader::with_capacity(capacity, crate::csvio::open_file(path)?);
    let bom = r.fill_buf().map_err(|e| SimError::io(path, "read", e))?.starts_with(b"\xEF\xBB\xBF");
    if bom {
        r.consume(3);
    }
    Ok(r)
}

/// The formats `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A Prometheus `/api/v1/query_range` response (`resultType: matrix`).
    Prometheus,
    /// An AWS CloudWatch `GetMetricData` response.
    Cloudwatch,
    /// GitHub Actions' "list jobs for a workflow run" responses.
    GithubJobs,
    /// Slurm's `sacct --parsable2` output.
    Sacct,
    /// Any CSV with a time column.
    Csv,
    /// A Kubernetes `autoscaling/v2` HorizontalPodAutoscaler manifest.
    Hpa,
    /// A KEDA `ScaledObject` manifest.
    Keda,
    /// Knative's `config-autoscaler` ConfigMap and a revision's annotations.
    Kpa,
}

impl Format {
    /// Every format with its command-line name.
    pub const ALL: &'static [(&'static str, Format)] = &[
        ("prometheus", Format::Prometheus),
        ("cloudwatch", Format::Cloudwatch),
        ("github-jobs", Format::GithubJobs),
        ("sacct", Format::Sacct),
        ("csv", Format::Csv),
        ("hpa", Format::Hpa),
        ("keda", Format::Keda),
        ("kpa", Format::Kpa),
    ];

    /// The format named `name` on the command line.
    #[must_use]
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The command-line name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Format::ALL.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }
}

/// What an import writes (`--as`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A rate trace: `timestamp_s,arrivals`.
    Rates,
    /// A task trace: `arrival_s,duration_s`.
    Tasks,
    /// Observations: `timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization`.
    Observations,
}

impl Shape {
    /// Every shape with its command-line name.
    pub const ALL: &'static [(&'static str, Shape)] =
        &[("rates", Shape::Rates), ("tasks", Shape::Tasks), ("observations", Shape::Observations)];

    /// The shape named `name` on the command line.
    #[must_use]
    pub fn parse(name: &str) -> Option<Shape> {
        Shape::ALL.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }
}

/// How a CSV's time column is written (`--time-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Seconds since 1970-01-01T00:00:00Z, possibly fractional.
    Epoch,
    /// Milliseconds since the epoch.
    EpochMs,
    /// ISO 8601 / RFC 3339 (`2024-03-01T12:00:00Z`, `2024-03-01 12:00:00+01:00`).
    Iso8601,
}

impl TimeFormat {
    /// Every time format with its command-line name.
    pub const ALL: &'static [(&'static str, TimeFormat)] =
        &[("epoch", TimeFormat::Epoch), ("epoch-ms", TimeFormat::EpochMs), ("iso8601", TimeFormat::Iso8601)];

    /// The time format named `name` on the command line.
    #[must_use]
    pub fn parse(name: &str) -> Option<TimeFormat> {
        TimeFormat::ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

/// The command line's options; each format reads the ones that apply to it and refuses
/// ones that make no sense for it (with a message that says so).
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// `--as`: what to write (each format has a default, or requires it).
    pub shape: Option<Shape>,
    /// `--counts`: the values already are counts per step (`increase()`, a `Sum` statistic),
    /// not per-second rates.
    pub counts: bool,
    /// `--select label=value` (repeatable): keep only the series with these labels.
    pub select: Vec<(String, String)>,
    /// `--column NAME=VALUE` (repeatable): for `--as observations` from Prometheus or
    /// CloudWatch, NAME=FILE (one query's response per observations column); for `csv`,
    /// NAME=CSV_COLUMN (which input column gives each output column).
    pub columns: Vec<(String, String)>,
    /// `--accept-partial`: accept CloudWatch's `PartialData` status.
    pub accept_partial: bool,
    /// `--labels a,b`: keep the GitHub jobs whose runner labels include all of these.
    pub labels: Vec<String>,
    /// `--time-column`: the CSV's time column.
    pub time_column: Option<String>,
    /// `--time-format`: how the CSV's times are written.
    pub time_format: Option<TimeFormat>,
    /// `--time-zone`: the zone of ISO 8601 times written without an offset (default UTC).
    pub time_zone: Option<String>,
    /// `--value-column`: the CSV's value column (`--as rates`).
    pub value_column: Option<String>,
    /// `--step-s`: the bin width in seconds, where the input does not fix it.
    pub step_s: Option<String>,
}

/// What an import read, wrote and left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    /// What was written: `"rate trace"`, `"task trace"`, `"observations"` or `"[scaler] table"`.
    pub wrote: &'static str,
    /// Records read (samples, jobs, rows, documents).
    pub read: u64,
    /// Rows (or keys) written.
    pub written: u64,
    /// Records left out, by reason (`("queued or in progress", 12)`), in a stable order;
    /// only reasons with a count above 0.
    pub left_out: Vec<(String, u64)>,
    /// The absolute time of the output's 0, in ms since the Unix epoch, when the input had
    /// absolute times.
    pub origin_unix_ms: Option<i64>,
    /// Anything else the user should know (a gap filled, a total carried).
    pub notices: Vec<String>,
}

/// Imports `inputs` in `format` into `out` (whose name, for messages, is `out_path`).
pub fn import(
    format: Format,
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    if inputs.is_empty() {
        return Err(InputError::file(Path::new("import"), "give at least one input file").into());
    }
    match format {
        Format::Prometheus => prometheus::import(opts, inputs, out, out_path),
        Format::Cloudwatch => cloudwatch::import(opts, inputs, out, out_path),
        Format::GithubJobs => github::import(opts, inputs, out, out_path),
        Format::Sacct => sacct::import(opts, inputs, out, out_path),
        Format::Csv => csv::import(opts, inputs, out, out_path),
        Format::Hpa | Format::Keda | Format::Kpa => manifest::import(format, opts, inputs, out, out_path),
    }
}
