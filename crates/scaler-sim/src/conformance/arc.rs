//! `conformance arc`: actions-runner-controller's vectors through `scaler_core::arc`.
//!
//! Every vector is evaluated by the functions a policy calls each tick: the listener's
//! [`ListenerState::desired_runners`] (with [`ListenerState::job_event`] for a dirty call),
//! [`ArcConfig`]'s validation and effective bounds, and [`EphemeralRunnerSet::settle`]. This
//! module only reads JSON into their inputs and compares their outputs.

use scaler_core::arc::{ArcConfig, EphemeralRunnerSet, ListenerState, Runner, RunnerPhase, RunnerSetSpec};
use serde_json::Value;

use super::same;

/// An integer input.
fn int(v: &Value, what: &str) -> Result<i64, String> {
    v.as_i64().ok_or_else(|| format!("input `{what}` is not an integer: {v}"))
}

/// A non-negative integer input.
fn count(v: &Value, what: &str) -> Result<u64, String> {
    v.as_u64().ok_or_else(|| format!("input `{what}` is not a whole number >= 0: {v}"))
}

/// An optional integer input (`null` or absent = unset).
fn opt_int(v: &Value, what: &str) -> Result<Option<i64>, String> {
    if v.is_null() {
        Ok(None)
    } else {
        int(v, what).map(Some)
    }
}

fn boolean(v: &Value, what: &str) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| format!("input `{what}` is not a boolean: {v}"))
}

fn list<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    v.as_array().map(Vec::as_slice).ok_or_else(|| format!("input `{what}` is not a list"))
}

/// Upstream's `-1` sentinel (nothing yet) or a value in range.
fn sentinel<T: TryFrom<i64>>(v: &Value, what: &str) -> Result<Option<T>, String> {
    match int(v, what)? {
        -1 => Ok(None),
        n => T::try_from(n).map(Some).map_err(|_| format!("input `{what}` is out of range: {n}")),
    }
}

fn phase(v: &Value) -> Result<RunnerPhase, String> {
    match v.as_str() {
        Some("Pending" | "") => Ok(RunnerPhase::Pending),
        Some("Running") => Ok(RunnerPhase::Running),
        Some("Succeeded") => Ok(RunnerPhase::Succeeded),
        Some("Failed") => Ok(RunnerPhase::Failed),
        Some("Outdated") => Ok(RunnerPhase::Outdated),
        _ => Err(format!("unknown runner phase {v}")),
    }
}

/// `got` against `expected[key]` and `derived[key]` (each when the vector gives it); a
/// failure names the value as `at.key`.
fn check_value(expected: &Value, derived: &Value, at: &str, key: &str, got: Value) -> Result<(), String> {
    let prefix = |e: String| if at.is_empty() { e } else { format!("{at}.{e}") };
    same(expected, key, &got).map_err(prefix)?;
    same(derived, key, &got).map_err(|e| prefix(format!("{e} (derived)")))
}

/// `expected[key]` and `derived[key]` as lists (`Null` for a list the vector lacks), each of
/// `n` entries when present.
fn entries<'a>(v: &'a Value, key: &str, n: usize) -> Result<(&'a Value, &'a Value), String> {
    let pick = |part: &str| -> Result<&'a Value, String> {
        match v[part].get(key) {
            None => Ok(&Value::Null),
            Some(Value::Array(a)) if a.len() == n => Ok(&v[part][key]),
            Some(other) => Err(format!("{part}.{key}: expected a list of {n} entries, got {other}")),
        }
    };
    Ok((pick("expected")?, pick("derived")?))
}

/// Evaluates one arc vector (`inputs` against `expected` and `derived`).
pub(super) fn check(kind: &str, v: &Value) -> Result<(), String> {
    let i = &v["inputs"];
    let (e, d) = (&v["expected"], &v["derived"]);
    match kind {
        "arc_desired_runners" => desired_runners(v),
        "arc_listener_config" => {
            let r = ArcConfig::new(int(&i["min_runners"], "min_runners")?, int(&i["max_runners"], "max_runners")?);
            check_value(e, d, "", "valid", Value::from(r.is_ok()))?;
            if let (Err(err), Some(want)) = (&r, e.get("error_contains").and_then(Value::as_str)) {
                let text = err.to_string();
                if !text.contains(want) {
                    return Err(format!("error_contains: expected {want:?} in {text:?}"));
                }
            }
            Ok(())
        }
        "arc_effective_bounds" => {
            let c = ArcConfig::from_spec(
                opt_int(&i["min_runners"], "min_runners")?,
                opt_int(&i["max_runners"], "max_runners")?,
            )
            .map_err(|err| err.to_string())?;
            check_value(e, d, "", "min_runners", Value::from(c.min_runners()))?;
            check_value(e, d, "", "max_runners", Value::from(c.max_runners()))
        }
        "arc_ephemeral_runner_set" => ephemeral_runner_set(v),
        other => Err(format!("kind `{other}` is not an arc vector")),
    }
}

/// A sequence of listener calls from `initial_state`.
fn desired_runners(v: &Value) -> Result<(), String> {
    let i = &v["inputs"];
    let c = &i["config"];
    let config =
        ArcConfig::new(int(&c["min_runners"], "config.min_runners")?, int(&c["max_runners"], "config.max_runners")?)
            .map_err(|err| err.to_string())?;
    let s = &i["initial_state"];
    let mut state = ListenerState {
        target_runners: sentinel(&s["target_runners"], "initial_state.target_runners")?,
        patch_seq: sentinel(&s["patch_seq"], "initial_state.patch_seq")?,
        dirty: boolean(&s["dirty"], "initial_state.dirty")?,
    };
    let calls = list(&i["calls"], "calls")?;
    let (expected, derived) = entries(v, "calls", calls.len())?;
    for (n, call) in calls.iter().enumerate() {
        if boolean(&call["dirty_before"], "calls[].dirty_before")? {
            state.job_event();
        }
        let out = state.desired_runners(&config, count(&call["count"], "calls[].count")?);
        let at = format!("calls[{n}]");
        let (e, d) = (&expected[n], &derived[n]);
        check_value(e, d, &at, "patch_id", Value::from(out.spec.patch_id))?;
        check_value(e, d, &at, "target_runners", state.target_runners.map_or(Value::from(-1), Value::from))?;
        check_value(e, d, &at, "patch_seq", state.patch_seq.map_or(Value::from(-1), Value::from))?;
        check_value(e, d, &at, "dirty_after", Value::from(state.dirty))?;
    }
    Ok(())
}

/// Phases of spec patches and runner status changes, each settled to a fixpoint.
fn ephemeral_runner_set(v: &Value) -> Result<(), String> {
    let phases = list(&v["inputs"]["phases"], "phases")?;
    let (expected, derived) = entries(v, "phases", phases.len())?;
    let mut set = EphemeralRunnerSet::new();
    for (n, p) in phases.iter().enumerate() {
        if let Some(spec) = p.get("spec") {
            let patch_id = count(&spec["patch_id"], "spec.patch_id")?;
            set.patch(RunnerSetSpec {
                replicas: count(&spec["replicas"], "spec.replicas")?,
                patch_id: u32::try_from(patch_id)
                    .map_err(|_| format!("input `spec.patch_id` is out of range: {patch_id}"))?,
            });
        }
        for r in p.get("set_runners").map(|r| list(r, "set_runners")).transpose()?.unwrap_or_default() {
            let index = count(&r["index"], "set_runners[].index")?;
            let phase = r.get("phase").map(phase).transpose()?;
            let registered =
                r.get("runner_id").map(|id| count(id, "set_runners[].runner_id").map(|id| id != 0)).transpose()?;
            let has_job = r.get("job_id").map(|j| !(j.is_null() || j.as_str() == Some("")));
            set.update(index..index.saturating_add(1), |runner: &mut Runner| {
                if let Some(phase) = phase {
                    runner.phase = phase;
                }
                if let Some(registered) = registered {
                    runner.registered = registered;
                }
                if let Some(has_job) = has_job {
                    runner.has_job = has_job;
                }
            })
            .map_err(|err| format!("phases[{n}].set_runners: {err}"))?;
        }
        set.settle();
        let counts = set.counts();
        let at = format!("phases[{n}]");
        let (e, d) = (&expected[n], &derived[n]);
        check_value(e, d, &at, "runner_count", Value::from(counts.len()))?;
        check_value(e, d, &at, "succeeded", Value::from(counts.succeeded))?;
        check_value(e, d, &at, "pending", Value::from(counts.pending))?;
        check_value(e, d, &at, "running", Value::from(counts.running))?;
        check_value(e, d, &at, "failed", Value::from(counts.failed))?;
    }
    Ok(())
}
