//! `conformance keda`: KEDA's vectors through `scaler_core::keda`.

use serde_json::Value;

/// Evaluates one keda vector (`inputs` against `expected` and `derived`).
pub(super) fn check(kind: &str, _v: &Value) -> Result<(), String> {
    Err(format!("kind `{kind}`: the keda vectors are not evaluated by this version"))
}
