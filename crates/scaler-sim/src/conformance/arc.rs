//! `conformance arc`: actions-runner-controller's vectors through `scaler_core::arc`.

use serde_json::Value;

/// Evaluates one arc vector (`inputs` against `expected` and `derived`).
pub(super) fn check(kind: &str, _v: &Value) -> Result<(), String> {
    Err(format!("kind `{kind}`: the arc vectors are not evaluated by this version"))
}
