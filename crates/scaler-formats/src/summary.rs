//! `summary.json`: a run's summary with its seed and scenario name.

use scaler_model::Summary;

use crate::scenario::Scenario;

/// The summary as pretty JSON with the run's seed and scenario name added.
#[must_use]
pub fn summary_json(summary: &Summary, scenario: &Scenario) -> String {
    let mut v = serde_json::to_value(summary).expect("plain struct");
    if let Some(obj) = v.as_object_mut() {
        obj.insert("seed".into(), serde_json::Value::from(scenario.seed));
        obj.insert("scenario".into(), serde_json::Value::from(scenario.name.clone()));
    }
    let mut s = serde_json::to_string_pretty(&v).expect("serializable");
    s.push('\n');
    s
}
