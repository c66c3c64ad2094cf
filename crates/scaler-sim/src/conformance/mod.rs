//! `scaler-sim conformance POLICY FILE.json`: checks the shipped policy arithmetic against
//! test vectors taken from each system's own tests (format: `../shared/conformance/README.md`):
//! `hpa` (Kubernetes, through `scaler_core::hpa`), `kpa` (Knative, `scaler_core::kpa`),
//! `keda` (KEDA, `scaler_core::keda`) and `arc` (actions-runner-controller,
//! `scaler_core::arc`). One module per system reads its vectors' inputs and compares what
//! the shipped code computes with `expected` (and `derived`, where a vector has it).

use std::path::Path;

use serde_json::Value;

use scaler_formats::csvio::io_reason;
use scaler_formats::error::InputError;

mod arc;
mod hpa;
mod keda;
mod kpa;

/// The systems whose vectors `conformance` evaluates.
pub const POLICIES: &[&str] = &["hpa", "kpa", "keda", "arc"];

/// One vector's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The vector's id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// `verified` or `unsure`.
    pub confidence: String,
    /// `None` when it passed; otherwise what differed.
    pub failure: Option<String>,
}

/// Reads the vectors file of `policy` and evaluates every vector.
pub fn run_file(policy: &str, path: &Path) -> Result<Vec<Outcome>, InputError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| InputError::file(path, format!("cannot read: {}", io_reason(&e))))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| InputError {
        path: path.to_path_buf(),
        location: scaler_formats::error::Location::LineCol(e.line() as u64, e.column() as u64),
        message: format!("not valid JSON: {e}"),
    })?;
    let arr = v.as_array().ok_or_else(|| InputError::file(path, "must be a JSON array of vectors"))?;
    Ok(arr.iter().map(|v| evaluate(policy, v)).collect())
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

/// Evaluates one vector of `policy`'s file.
#[must_use]
pub fn evaluate(policy: &str, v: &Value) -> Outcome {
    let id = s(&v["id"]);
    let kind = s(&v["kind"]);
    let failure = match policy {
        "hpa" => hpa::check(&kind, &v["inputs"], &v["expected"]),
        "kpa" => kpa::check(&kind, v),
        "keda" => keda::check(&kind, v),
        "arc" => arc::check(&kind, v),
        other => Err(format!("unknown policy `{other}` (one of {})", POLICIES.join(", "))),
    }
    .err();
    Outcome { id, kind, confidence: s(&v["confidence"]), failure }
}

/// `expected[key]` (when present) equals `got`: exactly, or as the same float64.
pub(crate) fn same(expected: &Value, key: &str, got: &Value) -> Result<(), String> {
    match expected.get(key) {
        None => Ok(()),
        Some(want) if want == got || (want.as_f64().is_some() && want.as_f64() == got.as_f64()) => Ok(()),
        Some(want) => Err(format!("{key}: expected {want}, got {got}")),
    }
}
