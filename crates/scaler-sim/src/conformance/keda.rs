//! `conformance keda`: KEDA's vectors through `scaler_core::keda`.
//!
//! Every vector is evaluated by the functions a policy calls at each poll: the executor
//! [`keda::request_scale`], the fallback [`keda::metric_with_fallback`] and
//! [`keda::fallback_condition`], the spec's HPA ([`ScaledObjectSpec::hpa`]) and validation
//! ([`ScaledObjectSpec::check_replica_bounds`], [`ScaledObjectSpec::check_fallback`]), the
//! annotations, [`keda::is_active`] and [`keda::workload_pods`], [`keda::scaled_object_state`],
//! [`keda::quantity_m`], and [`keda::poll`] over a sequence. This module only reads JSON into
//! their inputs (seconds into milliseconds, offset by [`T0_S`] so that negative times fit a
//! `TimeMs`) and compares their outputs (milli-units back into units) with `expected` and
//! `derived`.

use scaler_core::keda::{
    self, Annotations, Fallback, FallbackBehavior, Health, HealthStatus, MetricTarget, MetricType, PodPhase,
    ScaleResult, ScaledObjectSpec, ScaledObjectStatus, Trigger, TriggerPoll, TriggerType,
};
use scaler_core::{DurationMs, TimeMs};
use serde_json::{json, Value};

use super::same;

/// Vector time 0, in seconds on the core's clock: vectors have times below 0 (`created_at_s:
/// -1`), a `TimeMs` does not.
const T0_S: f64 = 1_000_000.0;

/// The scale target of upstream's executor tests (kind, namespace, name), for event messages.
const FIXTURE_TARGET: (&str, &str, &str) = ("", "namespace", "name");
/// The active triggers upstream's executor tests pass.
const FIXTURE_ACTIVE_TRIGGERS: &[&str] = &["testTrigger"];

fn int(v: &Value, what: &str) -> Result<i32, String> {
    v.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(|| format!("input `{what}` is not an int32: {v}"))
}

/// `null` or absent: unset.
fn opt_int(v: &Value, what: &str) -> Result<Option<i32>, String> {
    if v.is_null() {
        Ok(None)
    } else {
        int(v, what).map(Some)
    }
}

fn float(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("input `{what}` is not a number: {v}"))
}

fn boolean(v: &Value, what: &str) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| format!("input `{what}` is not a boolean: {v}"))
}

fn list<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    v.as_array().map(Vec::as_slice).ok_or_else(|| format!("input `{what}` is not a list"))
}

/// Milliseconds of a number of seconds (`null`: unset).
fn duration(v: &Value, what: &str) -> Result<Option<DurationMs>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let s = float(v, what)?;
    if !(s >= 0.0 && s.is_finite()) {
        return Err(format!("input `{what}` must be >= 0 seconds: {v}"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(Some(DurationMs((s * 1000.0).round() as u64)))
}

/// A vector time (seconds, possibly negative) on the core's clock (`null`: unset).
fn time(v: &Value, what: &str) -> Result<Option<TimeMs>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let s = float(v, what)? + T0_S;
    if !(s >= 0.0 && s.is_finite()) {
        return Err(format!("input `{what}` is before -{T0_S} s: {v}"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(Some(TimeMs((s * 1000.0).round() as u64)))
}

/// A time on the core's clock back in vector seconds.
#[allow(clippy::cast_precision_loss)]
fn seconds(t: Option<TimeMs>) -> Value {
    t.map_or(Value::Null, |t| json!(t.as_ms() as f64 / 1000.0 - T0_S))
}

/// Milli-units back in units.
#[allow(clippy::cast_precision_loss)]
fn units(m: i64) -> Value {
    json!(m as f64 / 1000.0)
}

fn metric_type(v: &Value, default: MetricType) -> Result<MetricType, String> {
    match v.as_str() {
        None | Some("") => Ok(default),
        Some("AverageValue") => Ok(MetricType::AverageValue),
        Some("Value") => Ok(MetricType::Value),
        Some("Utilization") => Ok(MetricType::Utilization),
        Some(o) => Err(format!("unknown metric type `{o}`")),
    }
}

fn trigger_type(v: &Value) -> Result<TriggerType, String> {
    match v.as_str() {
        Some("cpu") => Ok(TriggerType::Cpu),
        Some("memory") => Ok(TriggerType::Memory),
        Some(_) => Ok(TriggerType::External),
        None => Err(format!("trigger type is not a string: {v}")),
    }
}

fn fallback(v: &Value) -> Result<Option<Fallback>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let text = v["behavior"].as_str().unwrap_or("");
    let behavior =
        FallbackBehavior::parse(text).ok_or_else(|| format!("fallback behavior `{text}` is not modelled"))?;
    Ok(Some(Fallback {
        failure_threshold: int(&v["failure_threshold"], "fallback.failure_threshold")?,
        replicas: int(&v["replicas"], "fallback.replicas")?,
        behavior,
    }))
}

fn annotations(v: &Value) -> Result<Annotations, String> {
    let map = v.as_object().ok_or("input `annotations` is not an object")?;
    let mut a = Annotations::default();
    for (k, val) in map {
        let text = val.as_str().ok_or_else(|| format!("annotation `{k}` is not a string"))?;
        if !a.set(k, text) {
            return Err(format!("annotation `{k}` is not one KEDA's scaling reads"));
        }
    }
    Ok(a)
}

/// `inputs.scaled_object` (no triggers).
fn scaled_object(v: &Value) -> Result<ScaledObjectSpec, String> {
    Ok(ScaledObjectSpec {
        polling_interval: duration(&v["polling_interval_s"], "polling_interval_s")?,
        cooldown_period: duration(&v["cooldown_period_s"], "cooldown_period_s")?,
        initial_cooldown_period: duration(&v["initial_cooldown_period_s"], "initial_cooldown_period_s")?,
        min_replica_count: opt_int(&v["min_replica_count"], "min_replica_count")?,
        max_replica_count: opt_int(&v["max_replica_count"], "max_replica_count")?,
        idle_replica_count: opt_int(&v["idle_replica_count"], "idle_replica_count")?,
        fallback: fallback(&v["fallback"])?,
        annotations: if v["annotations"].is_null() { Annotations::default() } else { annotations(&v["annotations"])? },
        ..ScaledObjectSpec::default()
    })
}

fn health(v: &Value, what: &str) -> Result<Option<Health>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let status = match v["status"].as_str() {
        Some("Happy") => HealthStatus::Happy,
        Some("Failing") => HealthStatus::Failing,
        _ => return Err(format!("input `{what}.status` is not Happy or Failing: {}", v["status"])),
    };
    Ok(Some(Health { failures: int(&v["failures"], &format!("{what}.failures"))?, status }))
}

fn health_json(h: Option<Health>) -> Value {
    h.map_or(Value::Null, |h| {
        let status = match h.status {
            HealthStatus::Happy => "Happy",
            HealthStatus::Failing => "Failing",
        };
        json!({"failures": h.failures, "status": status})
    })
}

fn pod_phase(v: &Value) -> Result<PodPhase, String> {
    match v.as_str() {
        None | Some("") => Ok(PodPhase::Unset),
        Some("Pending") => Ok(PodPhase::Pending),
        Some("Running") => Ok(PodPhase::Running),
        Some("Succeeded") => Ok(PodPhase::Succeeded),
        Some("Failed") => Ok(PodPhase::Failed),
        Some("Unknown") => Ok(PodPhase::Unknown),
        Some(o) => Err(format!("unknown pod phase `{o}`")),
    }
}

fn refuse_modifiers(i: &Value) -> Result<(), String> {
    if i["uses_scaling_modifiers"].as_bool() == Some(true) {
        return Err("scalingModifiers are not modelled".to_string());
    }
    Ok(())
}

/// `got` against `expected[key]` and `derived[key]` (each when the vector gives it); a
/// failure names the value as `at.key`.
/// Lists are compared entry by entry, so that `0.0` and `0` are the same float64 there too.
fn check_value(expected: &Value, derived: &Value, at: &str, key: &str, got: &Value) -> Result<(), String> {
    let prefix = |e: String| if at.is_empty() { e } else { format!("{at}.{e}") };
    for (part, suffix) in [(expected, ""), (derived, " (derived)")] {
        let result = match (part.get(key), got) {
            (Some(Value::Array(want)), Value::Array(g)) if want.len() == g.len() => {
                want.iter().zip(g).enumerate().try_for_each(|(j, (w, g))| {
                    let entry = format!("{key}[{j}]");
                    same(&json!({ entry.as_str(): w }), &entry, g)
                })
            }
            _ => same(part, key, got),
        };
        result.map_err(|e| prefix(format!("{e}{suffix}")))?;
    }
    Ok(())
}

/// Compares each `(key, value)` of `got` with the vector's `expected` and `derived`.
fn check_all(v: &Value, got: &[(&str, Value)]) -> Result<(), String> {
    for (key, value) in got {
        check_value(&v["expected"], &v["derived"], "", key, value)?;
    }
    Ok(())
}

/// An `error_contains` check: the error message (or none) against `valid`/`error_contains`.
fn check_validity(v: &Value, result: Result<(), keda::KedaError>) -> Result<(), String> {
    check_all(v, &[("valid", json!(result.is_ok()))])?;
    if let (Some(want), Err(e)) = (v["expected"]["error_contains"].as_str(), &result) {
        let msg = e.to_string();
        if !msg.contains(want) {
            return Err(format!("error_contains: expected {want:?} in {msg:?}"));
        }
    }
    Ok(())
}

fn condition_status(c: Option<keda::Condition>) -> Value {
    json!(c.map_or("unset", |c| c.status.as_str()))
}

/// The values a `keda_request_scale` vector may name, from the executor's result.
fn scale_values(r: &ScaleResult, current: i32) -> Vec<(&'static str, Value)> {
    let event = r.event.map_or(Value::Null, |e| {
        let (kind, namespace, name) = FIXTURE_TARGET;
        json!(format!(
            "{} {} {}",
            e.event_type(),
            e.reason(),
            e.message(kind, namespace, name, FIXTURE_ACTIVE_TRIGGERS)
        ))
    });
    vec![
        ("replicas", json!(r.set_replicas.unwrap_or(current))),
        ("scale_updated", json!(r.set_replicas.is_some())),
        ("active_condition", condition_status(r.active)),
        ("active_reason", r.active.map_or(Value::Null, |c| json!(c.reason))),
        ("active_message", r.active.map_or(Value::Null, |c| json!(c.message))),
        ("active_condition_is_true", json!(r.active.is_some_and(|c| c.status == keda::ConditionStatus::True))),
        ("last_active_time_set", json!(r.last_active_time.is_some())),
        ("ready_condition", json!(r.ready.status.as_str())),
        ("ready_reason", json!(r.ready.reason)),
        ("paused_condition", condition_status(r.paused)),
        ("event", event),
    ]
}

/// Evaluates one keda vector (`inputs` against `expected` and `derived`).
pub(super) fn check(kind: &str, v: &Value) -> Result<(), String> {
    let i = &v["inputs"];
    match kind {
        "keda_request_scale" => {
            let spec = scaled_object(&i["scaled_object"])?;
            let status = ScaledObjectStatus {
                created_at: time(&i["status"]["created_at_s"], "status.created_at_s")?,
                last_active_time: time(&i["status"]["last_active_time_s"], "status.last_active_time_s")?,
                health: Vec::new(),
            };
            let now = time(&i["now_s"], "now_s")?.ok_or("input `now_s` is null")?;
            let current = int(&i["current_replicas"], "current_replicas")?;
            let r = keda::request_scale(
                &spec,
                &status,
                now,
                current,
                boolean(&i["is_active"], "is_active")?,
                boolean(&i["is_error"], "is_error")?,
            );
            check_all(v, &scale_values(&r, current))
        }
        "keda_fallback" => {
            refuse_modifiers(i)?;
            let fb = fallback(&i["fallback"])?;
            let t = &i["metric_target"];
            let target =
                MetricTarget::new(metric_type(&t["type"], MetricType::AverageValue)?, float(&t["value"], "value")?);
            let mut h = health(&i["health_before"], "health_before")?;
            let result = if let Some(e) = i["scaler"].get("error") {
                Err(e.as_str().unwrap_or("error").to_string())
            } else {
                Ok(float(&i["scaler"]["value"], "scaler.value")?)
            };
            let current = opt_int(&i["current_replicas"], "current_replicas")?.unwrap_or(0);
            let ready = opt_int(&i["ready_replicas"], "ready_replicas")?.unwrap_or(0);
            let served = keda::metric_with_fallback(fb.as_ref(), target, &mut h, result, current, ready);
            let mut all = vec![h];
            for (name, other) in i["other_health"].as_object().ok_or("input `other_health` is not an object")? {
                all.push(health(other, &format!("other_health.{name}"))?);
            }
            let condition = keda::fallback_condition(fb.as_ref(), all.iter().flatten());
            let (error, value, active) = match &served {
                Ok(s) => (Value::Null, units(s.value_m), s.fallback_active),
                Err(e) => (json!(e.to_string()), Value::Null, false),
            };
            check_all(
                v,
                &[
                    ("error", error),
                    ("metric_value", value),
                    ("health_after", health_json(h)),
                    ("fallback_active", json!(active)),
                    ("fallback_condition", json!(condition.map_or("unset", |c| if c { "True" } else { "False" }))),
                    ("fallback_condition_is_true", json!(condition == Some(true))),
                ],
            )
        }
        "keda_hpa_bounds" => {
            let spec = ScaledObjectSpec {
                min_replica_count: opt_int(&i["min_replica_count"], "min_replica_count")?,
                max_replica_count: opt_int(&i["max_replica_count"], "max_replica_count")?,
                ..ScaledObjectSpec::default()
            };
            let hpa = spec.hpa();
            check_all(
                v,
                &[("hpa_min_replicas", json!(hpa.min_replicas)), ("hpa_max_replicas", json!(hpa.max_replicas))],
            )
        }
        "keda_replica_bounds_valid" => {
            let spec = ScaledObjectSpec {
                min_replica_count: opt_int(&i["min_replica_count"], "min_replica_count")?,
                max_replica_count: opt_int(&i["max_replica_count"], "max_replica_count")?,
                idle_replica_count: opt_int(&i["idle_replica_count"], "idle_replica_count")?,
                ..ScaledObjectSpec::default()
            };
            check_validity(v, spec.check_replica_bounds())
        }
        "keda_paused" => {
            let a = annotations(&i["annotations"])?;
            check_all(v, &[("paused", json!(a.is_paused()))])
        }
        "keda_fallback_valid" => {
            let mut triggers = Vec::new();
            for (n, t) in list(&i["triggers"], "triggers")?.iter().enumerate() {
                let trigger_type = trigger_type(&t["type"])?;
                let default =
                    if trigger_type.is_resource() { MetricType::Utilization } else { MetricType::AverageValue };
                triggers.push(Trigger {
                    name: format!("trigger-{n}"),
                    trigger_type,
                    metric_type: metric_type(&t["metric_type"], default)?,
                    threshold: 1.0,
                    activation_threshold: 0.0,
                });
            }
            let spec =
                ScaledObjectSpec { fallback: fallback(&i["fallback"])?, triggers, ..ScaledObjectSpec::default() };
            let modifiers = i["uses_scaling_modifiers"].as_bool().unwrap_or(false);
            check_validity(v, spec.check_fallback(modifiers))
        }
        "keda_trigger_activity" => match i["scaler"].as_str() {
            Some("kubernetes-resource") => {
                let value = float(&i["value"], "value")?;
                let active = keda::is_active(value, float(&i["activation_target_value"], "activation_target_value")?);
                check_all(v, &[("is_active", json!(active)), ("metric_value", units(keda::quantity_m(value)))])
            }
            Some("kubernetes-workload") => {
                let phases =
                    list(&i["pods"], "pods")?.iter().map(|p| pod_phase(&p["phase"])).collect::<Result<Vec<_>, _>>()?;
                let value = keda::workload_pods(&phases);
                let active = keda::is_active(value, float(&i["activation_value"], "activation_value")?);
                check_all(v, &[("is_active", json!(active)), ("metric_value", units(keda::quantity_m(value)))])
            }
            other => Err(format!("unknown scaler {other:?}")),
        },
        "keda_scaled_object_state" => {
            refuse_modifiers(i)?;
            let triggers = list(&i["triggers"], "triggers")?;
            let mut polls = Vec::new();
            for t in triggers {
                let r = &t["result"];
                let resource = trigger_type(&t["type"])?.is_resource();
                polls.push(if r.get("error").is_some() {
                    TriggerPoll { resource, error: true, ..TriggerPoll::default() }
                } else if let Some(value) = r.get("value") {
                    TriggerPoll {
                        resource,
                        served_m: Some(keda::quantity_m(float(value, "result.value")?)),
                        active: boolean(&r["active"], "result.active")?,
                        ..TriggerPoll::default()
                    }
                } else {
                    TriggerPoll { resource, ..TriggerPoll::default() }
                });
            }
            let s = keda::scaled_object_state(&polls);
            let names: Vec<Value> = s.active_triggers.iter().map(|&n| triggers[n]["metric_name"].clone()).collect();
            check_all(
                v,
                &[
                    ("is_active", json!(s.is_active)),
                    ("is_error", json!(s.is_error)),
                    ("active_triggers", json!(names)),
                ],
            )
        }
        "keda_metric_quantity" => {
            let value = match &i["value"] {
                Value::String(s) if s == "NaN" => f64::NAN,
                Value::String(s) if s == "+Inf" || s == "Inf" => f64::INFINITY,
                Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
                other => float(other, "value")?,
            };
            let m = keda::quantity_m(value);
            check_all(v, &[("is_zero", json!(m == 0)), ("value", units(m))])
        }
        "keda_poll_sequence" => poll_sequence(v),
        other => Err(format!("unknown vector kind `{other}`")),
    }
}

/// `keda_poll_sequence`: [`keda::poll`] at each step, the target's replicas carried (the
/// executor's writes applied, then each step's `set_replicas`, the HPA's or a user's change).
fn poll_sequence(v: &Value) -> Result<(), String> {
    let i = &v["inputs"];
    let mut spec = scaled_object(&i["scaled_object"])?;
    for t in list(&i["triggers"], "triggers")? {
        spec.triggers.push(Trigger::external(
            t["name"].as_str().unwrap_or(""),
            metric_type(&t["metric_type"], MetricType::AverageValue)?,
            float(&t["target"], "target")?,
            float(&t["activation"], "activation")?,
        ));
    }
    spec.validate().map_err(|e| format!("spec refused: {e}"))?;
    let mut status = ScaledObjectStatus::new(time(&i["created_at_s"], "created_at_s")?);
    let mut replicas = int(&i["initial_replicas"], "initial_replicas")?;
    let steps = list(&i["steps"], "steps")?;
    let expected = v["expected"]["steps"].as_array().map_or(&[][..], Vec::as_slice);
    let derived = v["derived"]["steps"].as_array().map_or(&[][..], Vec::as_slice);
    for (list_, part) in [(expected, "expected"), (derived, "derived")] {
        if !list_.is_empty() && list_.len() != steps.len() {
            return Err(format!("{part}.steps: {} entries for {} steps", list_.len(), steps.len()));
        }
    }
    for (n, step) in steps.iter().enumerate() {
        let at = format!("steps[{n}]");
        if let Some(r) = opt_int(&step["set_replicas"], "set_replicas")? {
            replicas = r;
        }
        let ready = opt_int(&step["ready_replicas"], "ready_replicas")?.unwrap_or(replicas);
        let mut readings = Vec::new();
        for r in list(&step["results"], "results")? {
            readings.push(if r["error"].as_bool() == Some(true) { None } else { Some(float(&r["value"], "value")?) });
        }
        let now = time(&step["t_s"], "t_s")?.ok_or("input `t_s` is null")?;
        let p = keda::poll(&spec, &mut status, now, &readings, replicas, ready).map_err(|e| format!("{at}: {e}"))?;
        if let Some(r) = p.scale.set_replicas {
            replicas = r;
            status.scale_written(&p.scale);
        }
        let served: Vec<Value> = p.triggers.iter().map(|t| t.served_m.map_or(Value::Null, units)).collect();
        let got = [
            ("replicas", json!(replicas)),
            ("is_active", json!(p.state.is_active)),
            ("is_error", json!(p.state.is_error)),
            ("fallback_active", json!(p.fallback_active())),
            ("last_active_time_s", seconds(status.last_active_time)),
            ("metric_values", json!(served)),
        ];
        let none = Value::Null;
        for (key, value) in &got {
            check_value(expected.get(n).unwrap_or(&none), derived.get(n).unwrap_or(&none), &at, key, value)?;
        }
    }
    Ok(())
}
