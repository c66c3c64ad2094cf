//! `summary.json`: a run's summary with its seed and scenario name.

use scaler_model::{Summary, METRICS};

use crate::error::InputError;
use crate::scenario::Scenario;

/// The summary as pretty JSON with the run's seed and scenario name added.
///
/// # Errors
/// A metric that is not a finite number (JSON has no infinity or NaN, and `serde_json` would
/// write `null`): refused, naming the metric, rather than written as `null`. Validation keeps
/// every metric finite (prices are capped, counts are integers), so this is a last guard.
pub fn summary_json(summary: &Summary, scenario: &Scenario) -> Result<String, InputError> {
    summary_json_with_origin(summary, scenario, None)
}

/// [`summary_json`] with the trace's wall-clock origin (`origin`, RFC 3339 UTC, and
/// `origin_unix_ms`) when it is known (`crate::origin::trace_origin`).
pub fn summary_json_with_origin(
    summary: &Summary,
    scenario: &Scenario,
    origin_unix_ms: Option<i64>,
) -> Result<String, InputError> {
    if let Some((name, v)) = METRICS.iter().zip(summary.values()).find(|(_, v)| !v.is_finite()) {
        return Err(InputError::file(
            &scenario.path,
            format!("summary.json: {name} = {v} is not a finite number; JSON cannot hold it (refused rather than written as null)"),
        ));
    }
    let mut v = serde_json::to_value(summary).expect("plain struct");
    if let Some(obj) = v.as_object_mut() {
        obj.insert("seed".into(), serde_json::Value::from(scenario.seed));
        obj.insert("scenario".into(), serde_json::Value::from(scenario.name.clone()));
        if let Some(ms) = origin_unix_ms {
            obj.insert("origin".into(), serde_json::Value::from(crate::origin::format_utc(ms)));
            obj.insert("origin_unix_ms".into(), serde_json::Value::from(ms));
        }
    }
    let mut s = serde_json::to_string_pretty(&v).expect("serializable");
    s.push('\n');
    Ok(s)
}
