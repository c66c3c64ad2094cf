//! `import cloudwatch`: AWS CloudWatch `GetMetricData` responses.
//!
//! A response page holds at most 100,800 data points, so each page is read whole (as a
//! JSON document, then walked with its paths for messages). Pages (`NextToken`) of one
//! query are concatenated per result `Id`; timestamps are sorted (CloudWatch returns newest
//! first by default); the selected results are summed per timestamp.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::prometheus::{column_files, json_error, refuse_options, step_ms};
use super::series::{self, Loc, RateOptions, Summed, Value};
use super::{ImportOptions, ImportReport, Shape};
use crate::error::{InputError, SimError};

/// Imports `inputs` into `out`.
pub fn import(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    refuse_options(opts, "cloudwatch")?;
    for (k, _) in &opts.select {
        if k != "Id" && k != "Label" {
            return Err(InputError::file(
                Path::new("--select"),
                format!("{k}: a CloudWatch result is chosen by Id or Label (--select Id=m1, --select Label=Requests)"),
            )
            .into());
        }
    }
    match opts.shape.unwrap_or(Shape::Rates) {
        Shape::Rates => rates(opts, inputs, out, out_path),
        Shape::Observations => observations(opts, inputs, out, out_path),
        Shape::Tasks => Err(InputError::file(
            Path::new("--as"),
            "a CloudWatch metric gives rates or observations, not tasks: use --as rates or --as observations",
        )
        .into()),
    }
}

#[derive(Default)]
struct Tally {
    read: u64,
    nulls: u64,
    unselected: u64,
    duplicate: u64,
    results: u64,
    notices: Vec<String>,
}

/// One result `Id` across pages.
#[derive(Default)]
struct Series {
    label: String,
    complete: bool,
    partial_at: Option<(usize, String)>,
    /// (time, value, where).
    samples: Vec<(i64, Value, Loc)>,
}

fn rates(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    if !opts.columns.is_empty() {
        return Err(InputError::file(Path::new("--column"), "--column is for --as observations").into());
    }
    let step = step_ms(opts)?;
    let mut tally = Tally::default();
    let mut by_id = BTreeMap::new();
    for (i, p) in inputs.iter().enumerate() {
        read_page(p, i, opts, &mut by_id, &mut tally)?;
    }
    let sum = combine(opts, inputs, by_id, &mut tally, true)?;
    if sum.points().is_empty() {
        return Err(InputError::file(
            &inputs[0],
            "nothing to import: the selected results have no data points; an empty trace is not written",
        )
        .into());
    }
    let ro = RateOptions { per_second: !opts.counts, step_ms: step };
    let w = series::write_rates(sum.points(), ro, out, out_path, &|loc, m| locate(inputs, loc, m))?;
    let mut own = ImportReport::default();
    left_outs(&mut own, &tally);
    let tail = std::mem::take(&mut tally.notices);
    Ok(series::rates_report(&w, tally.read, ro.per_second, own.left_out, Vec::new(), tail))
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
    let mut tally = Tally::default();
    let mut sums: [Option<Summed>; 5] = Default::default();
    for (k, f) in files.iter().enumerate() {
        let Some(i) = *f else { continue };
        let mut by_id = BTreeMap::new();
        read_page(&inputs[i], i, opts, &mut by_id, &mut tally)?;
        let sum = combine(opts, inputs, by_id, &mut tally, false)?;
        sums[k] = Some(sum);
    }
    let cols: [Option<&[series::Point]>; 5] = std::array::from_fn(|k| sums[k].as_ref().map(Summed::points));
    let w = series::write_observations(cols, out, out_path, &|_, loc, m| locate(inputs, loc, m))?;
    let mut own = ImportReport::default();
    left_outs(&mut own, &tally);
    Ok(series::observations_report(
        &w,
        tally.read,
        &given,
        "data point",
        own.left_out,
        std::mem::take(&mut tally.notices),
    ))
}

fn left_outs(report: &mut ImportReport, t: &Tally) {
    series::left(&mut report.left_out, "null values", t.nulls);
    series::left(&mut report.left_out, "data points of results not selected by --select", t.unselected);
    series::left(&mut report.left_out, "data points given twice with the same value, kept once", t.duplicate);
}

fn locate(inputs: &[PathBuf], loc: Loc, message: String) -> InputError {
    let path = inputs.get(loc.file as usize).map_or(Path::new("?"), PathBuf::as_path);
    InputError::at_path(path, format!("MetricDataResults[{}].Values[{}]", loc.series, loc.index), message)
}

/// Checks statuses, selects, sorts and sums the results.
fn combine(
    opts: &ImportOptions,
    inputs: &[PathBuf],
    by_id: BTreeMap<String, Series>,
    tally: &mut Tally,
    keep_nan: bool,
) -> Result<Summed, SimError> {
    let mut sum = Summed::new();
    let mut chosen = 0;
    for (id, mut s) in by_id {
        let selected = opts.select.iter().all(|(k, v)| if k == "Id" { *v == id } else { *v == s.label });
        if !selected {
            tally.unselected += s.samples.len() as u64;
            continue;
        }
        chosen += 1;
        if !s.complete {
            if let Some((file, at)) = &s.partial_at {
                if !opts.accept_partial {
                    return Err(InputError::at_path(
                        &inputs[*file],
                        at.clone(),
                        format!(
                            "result {id:?} is PartialData and no page has it Complete: fetch the remaining pages (NextToken) and give them too, or accept it with --accept-partial"
                        ),
                    )
                    .into());
                }
                tally.notices.push(format!("result {id:?} is PartialData (accepted with --accept-partial)"));
            }
        }
        s.samples.sort_by_key(|x| x.0);
        let mut prev: Option<(i64, Value, Loc)> = None;
        for &(t, v, loc) in &s.samples {
            if let Some((pt, pv, ploc)) = prev {
                if pt == t {
                    if pv == v {
                        tally.duplicate += 1;
                        continue;
                    }
                    let other = inputs.get(ploc.file as usize).map_or(String::from("?"), |p| p.display().to_string());
                    return Err(locate(
                        inputs,
                        loc,
                        format!(
                            "result {id:?} has two data points at {} with different values (the other: {other} at MetricDataResults[{}].Values[{}]): a timestamp must have one value",
                            series::fmt_time(t),
                            ploc.series,
                            ploc.index
                        ),
                    )
                    .into());
                }
            }
            prev = Some((t, v, loc));
            let units = match v {
                Value::Units(u) => u,
                Value::NaN => {
                    if !keep_nan {
                        continue;
                    }
                    0
                }
            };
            sum.add(t, units, loc)
                .map_err(|t| locate(inputs, loc, format!("the sum at {} is too large", series::fmt_ms(t))))?;
        }
    }
    if chosen == 0 {
        let why =
            if tally.results == 0 { "the responses have no MetricDataResults" } else { "--select matches no result" };
        return Err(InputError::file(&inputs[0], format!("nothing to import: {why}")).into());
    }
    sum.settle().map_err(|t| InputError::file(&inputs[0], format!("the sum at {} is too large", series::fmt_ms(t))))?;
    Ok(sum)
}

fn str_at<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str)
}

/// Reads one page into `by_id`.
fn read_page(
    path: &Path,
    file: usize,
    opts: &ImportOptions,
    by_id: &mut BTreeMap<String, Series>,
    tally: &mut Tally,
) -> Result<(), SimError> {
    let doc: Json = serde_json::from_reader(super::json_reader(path, 1 << 16)?).map_err(|e| json_error(path, &e))?;
    let Some(top) = doc.as_object() else {
        return Err(
            InputError::file(path, "must be a GetMetricData response object ({\"MetricDataResults\": [...]})").into()
        );
    };
    let Some(results) = top.get("MetricDataResults") else {
        return Err(InputError::file(
            path,
            "has no \"MetricDataResults\": this is not a CloudWatch GetMetricData response (GetMetricStatistics' \"Datapoints\" are not read)",
        )
        .into());
    };
    let Some(results) = results.as_array() else {
        return Err(InputError::at_path(path, "MetricDataResults", "must be an array").into());
    };
    if let Some(Json::Array(msgs)) = top.get("Messages") {
        for m in msgs {
            let text = str_at(m, "Value").unwrap_or("");
            let code = str_at(m, "Code").unwrap_or("");
            tally.notices.push(format!("{}: CloudWatch message {code}: {text}", path.display()));
        }
    }
    let file32 = u32::try_from(file).unwrap_or(u32::MAX);
    for (r, res) in results.iter().enumerate() {
        tally.results += 1;
        let at = |k: &str| format!("MetricDataResults[{r}].{k}");
        let Some(id) = str_at(res, "Id") else {
            return Err(InputError::at_path(path, at("Id"), "missing: every result has an Id (a string)").into());
        };
        let label = str_at(res, "Label").unwrap_or(id).to_string();
        let status = str_at(res, "StatusCode").unwrap_or("Complete");
        let messages: Vec<String> = match res.get("Messages") {
            Some(Json::Array(m)) => m
                .iter()
                .map(|m| format!("{}: {}", str_at(m, "Code").unwrap_or(""), str_at(m, "Value").unwrap_or("")))
                .collect(),
            _ => Vec::new(),
        };
        let selected = opts.select.iter().all(|(k, v)| if k == "Id" { v == id } else { *v == label });
        match status {
            "Complete" | "PartialData" => {}
            "InternalError" | "Forbidden" if selected => {
                return Err(InputError::at_path(
                    path,
                    at("StatusCode"),
                    format!(
                        "result {id:?} is {status}: CloudWatch returned no usable data{}",
                        if messages.is_empty() { String::new() } else { format!(" ({})", messages.join("; ")) }
                    ),
                )
                .into())
            }
            "InternalError" | "Forbidden" => {}
            other => {
                return Err(InputError::at_path(
                    path,
                    at("StatusCode"),
                    format!("{other:?}: must be Complete, PartialData, InternalError or Forbidden"),
                )
                .into())
            }
        }
        let (Some(ts), Some(vs)) = (res.get("Timestamps"), res.get("Values")) else {
            return Err(InputError::at_path(
                path,
                format!("MetricDataResults[{r}]"),
                "needs Timestamps and Values arrays",
            )
            .into());
        };
        let (Some(ts), Some(vs)) = (ts.as_array(), vs.as_array()) else {
            return Err(InputError::at_path(
                path,
                format!("MetricDataResults[{r}]"),
                "Timestamps and Values must be arrays",
            )
            .into());
        };
        if ts.len() != vs.len() {
            return Err(InputError::at_path(
                path,
                format!("MetricDataResults[{r}]"),
                format!("has {} Timestamps but {} Values: they must pair up", ts.len(), vs.len()),
            )
            .into());
        }
        let s = by_id.entry(id.to_string()).or_insert_with(|| Series { label: label.clone(), ..Series::default() });
        if s.label != label {
            return Err(InputError::at_path(
                path,
                at("Label"),
                format!(
                    "result {id:?} is labelled {label:?} here but {:?} in an earlier page: pages must be of one query",
                    s.label
                ),
            )
            .into());
        }
        match status {
            "Complete" => s.complete = true,
            "PartialData" if s.partial_at.is_none() => s.partial_at = Some((file, at("StatusCode"))),
            _ => {}
        }
        for (j, (t, v)) in ts.iter().zip(vs).enumerate() {
            tally.read += 1;
            let t_ms = timestamp(t).ok_or_else(|| {
                InputError::at_path(
                    path,
                    format!("MetricDataResults[{r}].Timestamps[{j}]"),
                    format!("{t}: a timestamp must be ISO 8601 with an offset (\"2024-03-01T12:05:00+00:00\", \"...Z\") or epoch seconds"),
                )
            })?;
            let value = match v {
                Json::Null => {
                    tally.nulls += 1;
                    continue;
                }
                Json::Number(n) => n.as_f64().map(series::value_from_f64),
                Json::String(s) => Some(series::parse_value(s.as_bytes())),
                _ => None,
            };
            let vat = format!("MetricDataResults[{r}].Values[{j}]");
            let value = match value {
                Some(Ok(v)) => v,
                Some(Err(e)) => return Err(InputError::at_path(path, vat, format!("value {v} {}", e.rule())).into()),
                None => return Err(InputError::at_path(path, vat, format!("{v}: a value must be a number")).into()),
            };
            s.samples.push((
                t_ms,
                value,
                Loc { file: file32, series: u32::try_from(r).unwrap_or(u32::MAX), index: j as u64 },
            ));
        }
    }
    Ok(())
}

/// An ISO 8601 string with an offset, or epoch seconds, as epoch milliseconds.
fn timestamp(t: &Json) -> Option<i64> {
    match t {
        Json::Number(n) => n.as_f64().and_then(series::seconds_f64_to_ms),
        Json::String(s) => s.parse::<jiff::Timestamp>().ok().map(jiff::Timestamp::as_millisecond),
        _ => None,
    }
}
