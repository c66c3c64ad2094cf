//! `recommendation.json`: what a sweep recommends, against the baseline, with the
//! frontiers. One writer ([`to_json`]) and one reader ([`read`]).

use std::path::Path;

use serde_json::{Map, Value};

use crate::csvio::io_reason;
use crate::error::InputError;

/// Values by name, in order: swept keys to their TOML text, or metrics to numbers
/// (`null` where a number is undefined).
pub type Named = Map<String, Value>;

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Recommendation {
    /// The objective, as text (`minimize cost subject to ...`).
    pub objective: String,
    /// Seeds per setting.
    pub seeds: Vec<u64>,
    /// Settings in the sweep.
    pub settings: usize,
    /// The swept keys.
    pub axes: Vec<String>,
    /// The heatmap's two keys, if any.
    pub heatmap: Option<Vec<String>>,
    /// Whether the recommendation meets every constraint.
    pub feasible: bool,
    /// The scenario's own settings and their metrics.
    pub baseline: Baseline,
    /// Settings on the cost / wait-p95 frontier.
    pub frontier_cost_vs_wait_p95: Vec<usize>,
    /// Settings on the cost / SLO-violation frontier.
    pub frontier_cost_vs_slo_violations: Vec<usize>,
    /// The recommended setting (`null` when no setting ran).
    pub recommended: Option<Recommended>,
    /// The spread across the seeds (absent when the sweep has one seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread: Option<SeedSpread>,
    /// Why several seeds report nothing new: they do not resample the workload (absent
    /// when they do, or with one seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed_notice: Option<String>,
    /// What the reader should know before trusting the recommendation: a constraint that
    /// binds for no setting or for all, a recommendation that breaks a constraint on the
    /// held-out part (absent when there is none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `"adaptive"` for the adaptive search (absent for the grid, whose file is unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// The adaptive search's rungs: how many settings ran on which share of the trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_rungs: Option<Vec<SearchRung>>,
}

/// The spread of the baseline's and the recommendation's metrics across the seeds: for
/// every metric `{"mean", "min", "max"}`, and `"qNN"` for each percentile a `@qNN`
/// constraint of the objective checks (nearest rank).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SeedSpread {
    /// How many seeds each setting ran.
    pub seeds: usize,
    /// The baseline's spread.
    pub baseline: Named,
    /// The recommendation's spread (`null` when no setting ran).
    pub recommended: Option<Named>,
}

/// A scenario run on the held-out part of the trace (`[sweep] holdout`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HoldoutCheck {
    /// The share of the trace's time span held out.
    pub share: f64,
    /// Where the held-out part starts, s of the trace's time (the tuning used what came before).
    pub from_s: f64,
    /// Where the trace ends, s of the trace's time.
    pub to_s: f64,
    /// Tasks in the held-out part.
    pub tasks: u64,
    /// Cost, the objective's metric and the constraints' metrics, means over the seeds.
    pub metrics: Named,
    /// Whether they meet every constraint of the objective.
    pub meets_constraints: bool,
}

/// One rung of the adaptive search.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SearchRung {
    /// The share of the trace's time span run, as a fraction (`"1/27"`, `"1"`).
    pub trace_fraction: String,
    /// Arrivals before this time (seconds) were run; `null` on the whole trace.
    pub trace_until_s: Option<f64>,
    /// Settings run on this rung.
    pub settings: usize,
    /// Settings kept for the next rung (on the last, the rows of results.csv that ran).
    pub kept: usize,
}

/// The baseline: the scenario's values of the swept keys, and its metrics.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Baseline {
    /// Swept key to its value in the scenario.
    pub params: Named,
    /// Metric to its mean over the seeds.
    pub metrics: Named,
    /// The baseline on the held-out part (with `[sweep] holdout`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdout: Option<HoldoutCheck>,
}

/// The recommended setting.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Recommended {
    /// Its index.
    pub setting: usize,
    /// Swept key to its value.
    pub params: Named,
    /// Metric to its mean over the seeds.
    pub metrics: Named,
    /// Metric to its change against the baseline, percent (`null` when the baseline is 0).
    pub change_pct: Named,
    /// The recommendation on the held-out part (with `[sweep] holdout`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdout: Option<HoldoutCheck>,
}

/// Metric names paired with values, as a [`Named`] map.
#[must_use]
pub fn named_numbers<'a>(names: &[&str], values: impl IntoIterator<Item = Option<f64>> + 'a) -> Named {
    names.iter().zip(values).map(|(k, v)| ((*k).to_string(), v.map_or(Value::Null, |x| serde_json::json!(x)))).collect()
}

/// The file's text (pretty JSON and a final newline).
#[must_use]
pub fn to_json(r: &Recommendation) -> String {
    serde_json::to_string_pretty(r).expect("serializable") + "\n"
}

/// A metric of a [`Named`] map as a number (0 when absent or not a number).
#[must_use]
pub fn number(m: &Named, name: &str) -> f64 {
    m.get(name).and_then(Value::as_f64).unwrap_or(0.0)
}

/// Reads a `recommendation.json`.
pub fn read(path: &Path) -> Result<Recommendation, InputError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| InputError::file(path, format!("cannot read: {}", io_reason(&e))))?;
    serde_json::from_str(&text).map_err(|e| InputError::file(path, format!("not valid JSON: {e}")))
}
