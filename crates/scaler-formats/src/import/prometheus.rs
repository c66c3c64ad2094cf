//! `import prometheus`: `/api/v1/query_range` responses (`resultType: matrix`).
//!
//! Streams: the response is read with serde's visitors straight from the file, each sample
//! added to a [`Summed`] as it is read, so memory grows with the distinct timestamps, not
//! with the file. Several files are combined; a series (label set) given in several files
//! may share only a boundary sample, with the same value (left out once as a duplicate);
//! any other overlap is refused.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::series::{self, Loc, RateOptions, Summed, Value, ValueError};
use super::{ImportOptions, ImportReport, Shape};
use crate::csvio::io_reason;
use crate::error::{InputError, Location, SimError};

/// Imports `inputs` into `out`.
pub fn import(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    refuse_options(opts, "prometheus")?;
    match opts.shape.unwrap_or(Shape::Rates) {
        Shape::Rates => rates(opts, inputs, out, out_path),
        Shape::Observations => observations(opts, inputs, out, out_path),
        Shape::Tasks => Err(InputError::file(
            Path::new("--as"),
            "a Prometheus series gives rates or observations, not tasks: use --as rates or --as observations",
        )
        .into()),
    }
}

/// Refuses the options that do not apply to the JSON series importers.
pub(crate) fn refuse_options(opts: &ImportOptions, format: &str) -> Result<(), SimError> {
    let bad = [
        (!opts.labels.is_empty(), "--labels"),
        (opts.time_column.is_some(), "--time-column"),
        (opts.time_format.is_some(), "--time-format"),
        (opts.time_zone.is_some(), "--time-zone"),
        (opts.value_column.is_some(), "--value-column"),
    ];
    if let Some((_, name)) = bad.iter().find(|(b, _)| *b) {
        return Err(InputError::file(Path::new(name), format!("{name} does not apply to import {format}")).into());
    }
    if opts.accept_partial && format != "cloudwatch" {
        return Err(InputError::file(
            Path::new("--accept-partial"),
            format!("--accept-partial does not apply to import {format}"),
        )
        .into());
    }
    Ok(())
}

/// `--step-s` read as milliseconds.
pub(crate) fn step_ms(opts: &ImportOptions) -> Result<Option<u64>, SimError> {
    let Some(s) = &opts.step_s else { return Ok(None) };
    match scaler_core::DurationMs::parse_seconds(s) {
        Ok(d) if d.as_ms() > 0 => Ok(Some(d.as_ms())),
        _ => Err(InputError::file(Path::new("--step-s"), format!("{s:?} must be a positive number of seconds")).into()),
    }
}

/// The sums and counts of reading some files.
#[derive(Default)]
struct Tally {
    read: u64,
    nan: u64,
    unselected: u64,
    duplicate: u64,
    series: u64,
    selected: u64,
    notices: Vec<String>,
}

fn rates(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    let step = step_ms(opts)?;
    if !opts.columns.is_empty() {
        return Err(InputError::file(Path::new("--column"), "--column is for --as observations").into());
    }
    let mut sum = Summed::new();
    let mut spans = HashMap::new();
    let mut tally = Tally::default();
    for (i, p) in inputs.iter().enumerate() {
        read_file(p, i, inputs, &opts.select, true, &mut sum, &mut spans, &mut tally)?;
    }
    settle(&mut sum, &inputs[0])?;
    if sum.points().is_empty() {
        return Err(empty_error(inputs, &tally));
    }
    let ro = RateOptions { per_second: !opts.counts, step_ms: step };
    let w = series::write_rates(sum.points(), ro, out, out_path, &|loc, m| locate(inputs, loc, m))?;
    let mut own = ImportReport::default();
    left_outs(&mut own, &tally);
    let head = vec![format!(
        "{} of {} series summed (a series in several files counts once per file)",
        tally.selected, tally.series
    )];
    let tail = std::mem::take(&mut tally.notices);
    Ok(series::rates_report(&w, tally.read, ro.per_second, own.left_out, head, tail))
}

fn observations(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    if opts.counts || opts.step_s.is_some() {
        return Err(InputError::file(Path::new("--as"), "--counts and --step-s are for --as rates").into());
    }
    let given = series::obs_columns(&opts.columns, "FILE")?;
    let files = column_files(&given, inputs)?;
    let mut sums: [Option<Summed>; 5] = Default::default();
    let mut tally = Tally::default();
    for (k, f) in files.iter().enumerate() {
        let Some(i) = *f else { continue };
        let mut sum = Summed::new();
        let mut spans = HashMap::new();
        let before = tally.selected;
        read_file(&inputs[i], i, inputs, &opts.select, false, &mut sum, &mut spans, &mut tally)?;
        settle(&mut sum, &inputs[i])?;
        if tally.selected == before {
            return Err(InputError::file(
                &inputs[i],
                format!("no series for {} (the result is empty{})", series::OBS_COLUMNS[k], select_hint(opts)),
            )
            .into());
        }
        sums[k] = Some(sum);
    }
    let cols: [Option<&[series::Point]>; 5] = std::array::from_fn(|k| sums[k].as_ref().map(Summed::points));
    let w = series::write_observations(cols, out, out_path, &|_, loc, m| locate(inputs, loc, m))?;
    let mut own = ImportReport::default();
    left_outs(&mut own, &tally);
    Ok(series::observations_report(&w, tally.read, &given, "sample", own.left_out, std::mem::take(&mut tally.notices)))
}

/// Which input each observations column reads: its FILE must be one of the inputs, and
/// every input must be some column's.
pub(crate) fn column_files(given: &[Option<String>; 5], inputs: &[PathBuf]) -> Result<[Option<usize>; 5], SimError> {
    let mut files = [None; 5];
    let mut used = vec![false; inputs.len()];
    for (k, g) in given.iter().enumerate() {
        let Some(f) = g else { continue };
        let Some(i) = inputs.iter().position(|p| p == Path::new(f)) else {
            return Err(InputError::file(
                Path::new("--column"),
                format!(
                    "{}={f}: {f} is not one of the INPUT files; list every column's file as an input too",
                    series::OBS_COLUMNS[k]
                ),
            )
            .into());
        };
        files[k] = Some(i);
        used[i] = true;
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(InputError::file(
            &inputs[i],
            "is no column's file: with --as observations each INPUT is named by a --column NAME=FILE",
        )
        .into());
    }
    Ok(files)
}

fn select_hint(opts: &ImportOptions) -> &'static str {
    if opts.select.is_empty() {
        ""
    } else {
        ", or --select matches no series"
    }
}

fn empty_error(inputs: &[PathBuf], tally: &Tally) -> SimError {
    let why = if tally.series == 0 {
        "the result has no series (the query matched nothing)".to_string()
    } else if tally.selected == 0 {
        format!("--select matches none of the {} series", tally.series)
    } else {
        "the series have no samples".to_string()
    };
    InputError::file(&inputs[0], format!("nothing to import: {why}; an empty trace is not written")).into()
}

fn left_outs(report: &mut ImportReport, t: &Tally) {
    series::left(&mut report.left_out, "NaN samples", t.nan);
    series::left(&mut report.left_out, "samples of series not selected by --select", t.unselected);
    series::left(&mut report.left_out, "samples given twice (the boundary of two files), kept once", t.duplicate);
}

fn settle(sum: &mut Summed, path: &Path) -> Result<(), SimError> {
    sum.settle().map_err(|t| InputError::file(path, format!("the sum at {} is too large", series::fmt_ms(t))).into())
}

/// The error at a sample: its file and JSON path.
fn locate(inputs: &[PathBuf], loc: Loc, message: String) -> InputError {
    let path = inputs.get(loc.file as usize).map_or(Path::new("?"), PathBuf::as_path);
    InputError::at_path(path, format!("data.result[{}].values[{}]", loc.series, loc.index), message)
}

/// A series' span in one file: its first and last samples.
#[derive(Clone, Copy, Debug)]
struct Span {
    file: usize,
    first: (i64, Value),
    last: (i64, Value),
}

/// Reads one response, adding the selected series' samples to `sum`.
#[allow(clippy::too_many_arguments)]
fn read_file(
    path: &Path,
    file: usize,
    inputs: &[PathBuf],
    select: &[(String, String)],
    keep_nan: bool,
    sum: &mut Summed,
    spans: &mut HashMap<String, Vec<Span>>,
    tally: &mut Tally,
) -> Result<(), SimError> {
    let reader = super::json_reader(path, 1 << 18)?;
    let mut ctx = Ctx {
        path,
        file,
        inputs,
        select,
        keep_nan,
        sum,
        spans,
        tally,
        err: None,
        status: None,
        error_type: None,
        error: None,
        result_type: None,
        has_data: false,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let res = TopSeed(&mut ctx).deserialize(&mut de).and_then(|()| de.end());
    if let Some(e) = ctx.err.take() {
        return Err(e.into());
    }
    if let Err(e) = res {
        return Err(json_error(path, &e));
    }
    match ctx.status.as_deref() {
        Some("success") => {}
        Some("error") => {
            return Err(InputError::file(
                path,
                format!(
                    "the response is an error ({}): {}",
                    ctx.error_type.as_deref().unwrap_or("no errorType"),
                    ctx.error.as_deref().unwrap_or("no error message")
                ),
            )
            .into())
        }
        Some(other) => {
            return Err(InputError::at_path(path, "status", format!("{other:?}: status must be \"success\"")).into())
        }
        None => {
            return Err(InputError::file(
                path,
                "has no \"status\": this is not a Prometheus /api/v1/query_range response",
            )
            .into())
        }
    }
    if !ctx.has_data {
        return Err(
            InputError::file(path, "has no \"data\": this is not a Prometheus /api/v1/query_range response").into()
        );
    }
    match ctx.result_type.as_deref() {
        Some("matrix") => Ok(()),
        _ => Err(InputError::at_path(path, "data.resultType", "missing: it must be \"matrix\"").into()),
    }
}

/// A serde_json error as a located input error (line and column), or an IO error.
pub(crate) fn json_error(path: &Path, e: &serde_json::Error) -> SimError {
    if e.is_io() {
        let io = std::io::Error::other(e.to_string());
        return InputError::file(path, format!("cannot read: {}", io_reason(&io))).into();
    }
    let (line, col) = (e.line() as u64, e.column() as u64);
    let text = e.to_string();
    let suffix = format!(" at line {line} column {col}");
    let msg = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
    let msg = if e.is_eof() { format!("{msg}: the file ends too early (is it cut off?)") } else { msg };
    InputError { path: path.to_path_buf(), location: Location::LineCol(line, col.max(1)), message: msg }.into()
}

struct Ctx<'a, 's> {
    path: &'a Path,
    file: usize,
    inputs: &'a [PathBuf],
    select: &'a [(String, String)],
    keep_nan: bool,
    sum: &'s mut Summed,
    spans: &'s mut HashMap<String, Vec<Span>>,
    tally: &'s mut Tally,
    err: Option<InputError>,
    status: Option<String>,
    error_type: Option<String>,
    error: Option<String>,
    result_type: Option<String>,
    has_data: bool,
}

impl Ctx<'_, '_> {
    /// Records `e` and returns the marker error that stops the parse.
    fn fail<E: de::Error>(&mut self, e: InputError) -> E {
        self.err = Some(e);
        E::custom("stopped")
    }
}

struct TopSeed<'c, 'a, 's>(&'c mut Ctx<'a, 's>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Prometheus API response object ({\"status\": ..., \"data\": ...})")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "status" => ctx.status = Some(map.next_value()?),
                "errorType" => ctx.error_type = Some(map.next_value()?),
                "error" => ctx.error = Some(map.next_value()?),
                "data" => {
                    ctx.has_data = true;
                    map.next_value_seed(DataSeed(&mut *ctx))?;
                }
                "warnings" | "infos" => {
                    let v: Option<Vec<String>> = map.next_value()?;
                    for w in v.unwrap_or_default() {
                        let name = if k == "warnings" { "warning" } else { "info" };
                        ctx.tally.notices.push(format!("{}: Prometheus {name}: {w}", ctx.path.display()));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct DataSeed<'c, 'a, 's>(&'c mut Ctx<'a, 's>);

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a data object ({\"resultType\": \"matrix\", \"result\": [...]})")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.has_data = false;
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "resultType" => {
                    let t: String = map.next_value()?;
                    if t != "matrix" {
                        let e = InputError::at_path(
                            ctx.path,
                            "data.resultType",
                            format!(
                                "{t:?}: only a range query's result (\"matrix\", from /api/v1/query_range) is a series over time{}",
                                if t == "vector" { "; this is an instant query's (/api/v1/query)" } else { "" }
                            ),
                        );
                        return Err(ctx.fail(e));
                    }
                    ctx.result_type = Some(t);
                }
                "result" => map.next_value_seed(ResultSeed(&mut *ctx))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct ResultSeed<'c, 'a, 's>(&'c mut Ctx<'a, 's>);

impl<'de> DeserializeSeed<'de> for ResultSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of series ({\"metric\": {...}, \"values\": [...]})")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ctx = self.0;
        let mut i: u32 = 0;
        while seq.next_element_seed(SeriesSeed { ctx: &mut *ctx, index: i })?.is_some() {
            i = i.saturating_add(1);
        }
        Ok(())
    }
}

/// The keys of a series object (`histogram` as `histograms`).
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum SeriesKey {
    Metric,
    Values,
    Value,
    #[serde(alias = "histogram")]
    Histograms,
    #[serde(other)]
    Other,
}

struct SeriesSeed<'c, 'a, 's> {
    ctx: &'c mut Ctx<'a, 's>,
    index: u32,
}

impl<'de> DeserializeSeed<'de> for SeriesSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// One series being read.
struct Occurrence {
    key: String,
    selected: bool,
    priors: Vec<Span>,
    first: Option<(i64, Value)>,
    last: Option<(i64, Value)>,
}

impl<'de> Visitor<'de> for SeriesSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a series object ({\"metric\": {...}, \"values\": [...]})")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let SeriesSeed { ctx, index } = self;
        let mut occ: Option<Occurrence> = None;
        let mut early: Option<Vec<(f64, RawValue)>> = None;
        let mut seen_values = false;
        while let Some(k) = map.next_key::<SeriesKey>()? {
            match k {
                SeriesKey::Metric => {
                    let labels: BTreeMap<String, String> = map.next_value()?;
                    let o = ctx.begin(&labels);
                    if let Some(buf) = early.take() {
                        let mut o = o;
                        for (j, (ts, v)) in buf.into_iter().enumerate() {
                            ctx.sample(&mut o, index, j as u64, ts, v).map_err(|e| ctx.fail(e))?;
                        }
                        occ = Some(o);
                    } else {
                        occ = Some(o);
                    }
                }
                SeriesKey::Values => {
                    seen_values = true;
                    match occ.as_mut() {
                        Some(o) => map.next_value_seed(ValuesSeed { ctx: &mut *ctx, occ: o, series: index })?,
                        // "values" before "metric" (Prometheus writes metric first): hold them.
                        None => early = Some(map.next_value::<Vec<(f64, RawValue)>>()?),
                    }
                }
                SeriesKey::Value => {
                    let e = InputError::at_path(
                        ctx.path,
                        format!("data.result[{index}].value"),
                        "one \"value\", not \"values\": this is an instant query's result; export a range query (/api/v1/query_range)",
                    );
                    return Err(ctx.fail(e));
                }
                SeriesKey::Histograms => {
                    let e = InputError::at_path(
                        ctx.path,
                        format!("data.result[{index}].histograms"),
                        "native histogram samples are not supported: query a number (e.g. histogram_count(rate(...)))",
                    );
                    return Err(ctx.fail(e));
                }
                SeriesKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if early.is_some() {
            let e = InputError::at_path(ctx.path, format!("data.result[{index}]"), "has \"values\" but no \"metric\"");
            return Err(ctx.fail(e));
        }
        let Some(o) = occ else {
            let e = InputError::at_path(ctx.path, format!("data.result[{index}]"), "has no \"metric\"");
            return Err(ctx.fail(e));
        };
        if !seen_values {
            let e = InputError::at_path(ctx.path, format!("data.result[{index}]"), "has no \"values\"");
            return Err(ctx.fail(e));
        }
        ctx.end(o).map_err(|e| ctx.fail(e))
    }
}

impl Ctx<'_, '_> {
    fn begin(&mut self, labels: &BTreeMap<String, String>) -> Occurrence {
        let selected = self.select.iter().all(|(k, v)| labels.get(k) == Some(v));
        self.tally.series += 1;
        let mut key = String::from("{");
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                key.push_str(", ");
            }
            key.push_str(&format!("{k}={v:?}"));
        }
        key.push('}');
        let priors = if selected {
            self.tally.selected += 1;
            self.spans.get(&key).cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        Occurrence { key, selected, priors, first: None, last: None }
    }

    fn end(&mut self, o: Occurrence) -> Result<(), InputError> {
        if let (true, Some(first), Some(last)) = (o.selected, o.first, o.last) {
            self.spans.entry(o.key).or_default().push(Span { file: self.file, first, last });
        }
        self.sum
            .settle()
            .map_err(|t| InputError::file(self.path, format!("the sum at {} is too large", series::fmt_ms(t))))
    }

    fn sample(
        &mut self,
        o: &mut Occurrence,
        series: u32,
        index: u64,
        ts: f64,
        raw: RawValue,
    ) -> Result<(), InputError> {
        self.tally.read += 1;
        if !o.selected {
            self.tally.unselected += 1;
            return Ok(());
        }
        let at = || format!("data.result[{series}].values[{index}]");
        let Some(ts_ms) = series::seconds_f64_to_ms(ts) else {
            return Err(InputError::at_path(
                self.path,
                at(),
                format!("timestamp {ts} must be seconds since the epoch"),
            ));
        };
        let v = match raw {
            RawValue::Ok(v) => v,
            RawValue::Bad(text, why) => {
                return Err(InputError::at_path(self.path, at(), format!("value {text:?} {}", why.rule())));
            }
        };
        if let Some((prev, _)) = o.last {
            if ts_ms <= prev {
                return Err(InputError::at_path(
                    self.path,
                    at(),
                    format!(
                        "timestamp {} is not after the previous sample's ({}): a series' samples must be in increasing time order, as Prometheus writes them",
                        series::fmt_time(ts_ms),
                        series::fmt_time(prev)
                    ),
                ));
            }
        }
        for s in &o.priors {
            let other = self.inputs.get(s.file).map_or(String::from("?"), |p| p.display().to_string());
            let boundary = if ts_ms == s.first.0 {
                Some(s.first.1)
            } else if ts_ms == s.last.0 {
                Some(s.last.1)
            } else {
                None
            };
            match boundary {
                Some(pv) if pv == v => {
                    self.tally.duplicate += 1;
                    if o.first.is_none() {
                        o.first = Some((ts_ms, v));
                    }
                    o.last = Some((ts_ms, v));
                    return Ok(());
                }
                Some(pv) => {
                    return Err(InputError::at_path(
                        self.path,
                        at(),
                        format!(
                            "series {} has a sample at {} in {other} too, with another value ({} here, {} there): a timestamp given twice must have one value",
                            o.key,
                            series::fmt_time(ts_ms),
                            show(v),
                            show(pv)
                        ),
                    ));
                }
                None if s.first.0 < ts_ms && ts_ms < s.last.0 => {
                    return Err(InputError::at_path(
                        self.path,
                        at(),
                        format!(
                            "series {} at {} overlaps its samples in {other} (from {} to {}): files of one series must cover separate time ranges, sharing at most the boundary sample",
                            o.key,
                            series::fmt_time(ts_ms),
                            series::fmt_time(s.first.0),
                            series::fmt_time(s.last.0)
                        ),
                    ));
                }
                None => {}
            }
        }
        if o.first.is_none() {
            o.first = Some((ts_ms, v));
        }
        o.last = Some((ts_ms, v));
        let loc = Loc { file: u32::try_from(self.file).unwrap_or(u32::MAX), series, index };
        let units = match v {
            Value::Units(u) => u,
            Value::NaN => {
                self.tally.nan += 1;
                if !self.keep_nan {
                    return Ok(());
                }
                0
            }
        };
        self.sum
            .add(ts_ms, units, loc)
            .map_err(|t| InputError::at_path(self.path, at(), format!("the sum at {} is too large", series::fmt_ms(t))))
    }
}

fn show(v: Value) -> String {
    match v {
        Value::Units(u) => series::fmt_units(u),
        Value::NaN => "NaN".to_string(),
    }
}

/// A sample's value, parsed where it is read (the text is not kept unless refused).
enum RawValue {
    Ok(Value),
    Bad(String, ValueError),
}

impl<'de> de::Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawValue, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sample value (a string such as \"2.5\" or \"NaN\")")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawValue, E> {
                Ok(match series::parse_value(s.as_bytes()) {
                    Ok(v) => RawValue::Ok(v),
                    Err(e) => RawValue::Bad(s.to_string(), e),
                })
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<RawValue, E> {
                Ok(match series::value_from_f64(x) {
                    Ok(v) => RawValue::Ok(v),
                    Err(e) => RawValue::Bad(x.to_string(), e),
                })
            }
            fn visit_u64<E: de::Error>(self, x: u64) -> Result<RawValue, E> {
                self.visit_str(&x.to_string())
            }
            fn visit_i64<E: de::Error>(self, x: i64) -> Result<RawValue, E> {
                self.visit_str(&x.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

struct ValuesSeed<'c, 'o, 'a, 's> {
    ctx: &'c mut Ctx<'a, 's>,
    occ: &'o mut Occurrence,
    series: u32,
}

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of samples ([[1700000000.123, \"2.5\"], ...])")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ValuesSeed { ctx, occ, series } = self;
        let mut j: u64 = 0;
        while let Some(s) = seq.next_element::<Sample>()? {
            ctx.sample(occ, series, j, s.0, s.1).map_err(|e| ctx.fail(e))?;
            j += 1;
        }
        Ok(())
    }
}

/// `[timestamp, "value"]`.
struct Sample(f64, RawValue);

impl<'de> de::Deserialize<'de> for Sample {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Sample, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sample;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sample [timestamp, \"value\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Sample, A::Error> {
                let ts: f64 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let v: RawValue = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(Sample(ts, v))
            }
        }
        d.deserialize_seq(V)
    }
}
