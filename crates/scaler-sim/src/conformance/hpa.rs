//! `conformance hpa`: Kubernetes' HPA vectors through `scaler_core::hpa`.

use scaler_core::hpa::{
    self, PodClass, RatePolicy, Recommendation, ResourcePod, Rules, ScaleEvent, SelectPolicy, Tolerance, ValuePod,
};
use serde_json::Value;

use super::same;

fn int(v: &Value, what: &str) -> Result<i64, String> {
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)).ok_or_else(|| format!("input `{what}` is not a number: {v}"))
}

fn ms(v: &Value, what: &str) -> Result<u64, String> {
    let f = v.as_f64().ok_or_else(|| format!("input `{what}` is not a number of seconds: {v}"))?;
    if !(f >= 0.0 && f.is_finite()) {
        return Err(format!("input `{what}` must be >= 0 seconds"));
    }
    Ok((f * 1000.0).round() as u64)
}

fn tolerance(v: &Value) -> Result<Tolerance, String> {
    if v.is_null() {
        return Ok(Tolerance::default());
    }
    let f = |k: &str| v[k].as_f64().ok_or_else(|| format!("tolerance.{k} is not a number"));
    Ok(Tolerance { scale_up: f("scale_up")?, scale_down: f("scale_down")? })
}

fn class(v: &Value) -> Result<PodClass, String> {
    match v.as_str() {
        Some("ready") => Ok(PodClass::Ready),
        Some("unready") => Ok(PodClass::Unready),
        Some("missing") => Ok(PodClass::Missing),
        Some("ignored") => Ok(PodClass::Ignored),
        other => Err(format!("unknown pod class {other:?}")),
    }
}

fn rules(v: &Value, default: Rules) -> Result<Rules, String> {
    if v.is_null() {
        return Ok(default);
    }
    let select = match v["select_policy"].as_str() {
        Some("Max") | None => SelectPolicy::Max,
        Some("Min") => SelectPolicy::Min,
        Some("Disabled") => SelectPolicy::Disabled,
        Some(o) => return Err(format!("unknown select_policy {o}")),
    };
    let mut policies = Vec::new();
    for p in v["policies"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let kind = match p["type"].as_str() {
            Some("Pods") => hpa::PolicyType::Pods,
            Some("Percent") => hpa::PolicyType::Percent,
            o => return Err(format!("unknown policy type {o:?}")),
        };
        policies.push(RatePolicy {
            kind,
            value: int(&p["value"], "value")?,
            period_ms: ms(&p["period_s"], "period_s")?,
        });
    }
    let window = if v["stabilization_window_s"].is_null() {
        default.stabilization_window_ms
    } else {
        ms(&v["stabilization_window_s"], "stabilization_window_s")?
    };
    Ok(Rules { select, stabilization_window_ms: window, policies })
}

fn events(v: &Value) -> Result<Vec<ScaleEvent>, String> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| Ok(ScaleEvent { age_ms: ms(&e["age_s"], "age_s")?, replicas: int(&e["replicas"], "replicas")? }))
        .collect()
}

fn recommendations(v: &Value) -> Result<Vec<Recommendation>, String> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| Ok(Recommendation { age_ms: ms(&e["age_s"], "age_s")?, replicas: int(&e["replicas"], "replicas")? }))
        .collect()
}

/// The sum of a list of milli-values.
fn sum_m(v: &Value) -> Result<i64, String> {
    Ok(v.as_array().ok_or("metric_values_m is not a list")?.iter().filter_map(Value::as_i64).sum())
}

/// Compares `got` with `expected[key]` when the vector gives it.
/// Evaluates one HPA vector's `inputs` against its `expected`.
pub(super) fn check(kind: &str, i: &Value, e: &Value) -> Result<(), String> {
    match kind {
        "replica_calc_resource_utilization" => {
            let pods = i["pods"]
                .as_array()
                .ok_or("pods is not a list")?
                .iter()
                .map(|p| {
                    Ok(ResourcePod {
                        class: class(&p["class"])?,
                        request_m: int(&p["request_m"], "request_m")?,
                        usage_m: p["usage_m"].as_i64(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let r = hpa::resource_replicas(
                int(&i["current_replicas"], "current_replicas")?,
                int(&i["target_utilization_percent"], "target")?,
                tolerance(&i["tolerance"])?,
                &pods,
            )
            .map_err(|err| err.to_string())?;
            same(e, "desired_replicas", &Value::from(r.replicas))?;
            same(e, "utilization_percent", &Value::from(r.utilization_percent))?;
            same(e, "raw_average_m", &Value::from(r.raw_average_m))
        }
        "replica_calc_pods_metric_average_value" => {
            let pods = i["pods"]
                .as_array()
                .ok_or("pods is not a list")?
                .iter()
                .map(|p| Ok(ValuePod { class: class(&p["class"])?, value_m: p["value_m"].as_i64() }))
                .collect::<Result<Vec<_>, String>>()?;
            let (r, avg) = hpa::pods_metric_replicas(
                int(&i["current_replicas"], "current_replicas")?,
                int(&i["target_average_m"], "target")?,
                tolerance(&i["tolerance"])?,
                &pods,
            )
            .map_err(|err| err.to_string())?;
            same(e, "desired_replicas", &Value::from(r))?;
            same(e, "average_m", &Value::from(avg))
        }
        "replica_calc_object_or_external_value" => {
            let usage = sum_m(&i["metric_values_m"])?;
            let current = int(&i["current_replicas"], "current_replicas")?;
            let ready =
                if i["ready_pod_count"].is_null() { current } else { int(&i["ready_pod_count"], "ready_pod_count")? };
            let r = hpa::value_replicas(
                current,
                ready,
                usage,
                int(&i["target_value_m"], "target_value_m")?,
                tolerance(&i["tolerance"])?,
            );
            same(e, "desired_replicas", &Value::from(r))?;
            same(e, "usage_m", &Value::from(usage))
        }
        "replica_calc_object_or_external_average_value" => {
            let usage = sum_m(&i["metric_values_m"])?;
            let (r, avg) = hpa::average_value_replicas(
                int(&i["status_replicas"], "status_replicas")?,
                usage,
                int(&i["target_average_m"], "target_average_m")?,
                tolerance(&i["tolerance"])?,
            );
            same(e, "desired_replicas", &Value::from(r))?;
            same(e, "reported_average_m", &Value::from(avg))
        }
        "multi_metric_legacy" => {
            let current = int(&i["current_replicas"], "current_replicas")?;
            let mut proposals = Vec::new();
            for m in i["metrics"].as_array().ok_or("metrics is not a list")? {
                if m["error"].as_bool() == Some(true) {
                    proposals.push(None);
                    continue;
                }
                let pods = m["pods_usage_m_request_m"]
                    .as_array()
                    .ok_or("pods_usage_m_request_m is not a list")?
                    .iter()
                    .map(|p| {
                        Ok(ResourcePod {
                            class: PodClass::Ready,
                            usage_m: p[0].as_i64(),
                            request_m: int(&p[1], "request")?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                let r = hpa::resource_replicas(
                    current,
                    int(&m["target_utilization_percent"], "target")?,
                    Tolerance::default(),
                    &pods,
                )
                .map_err(|err| err.to_string())?;
                if let Some(p) = m["proposal"].as_i64() {
                    if p != r.replicas {
                        return Err(format!("metric {}: proposal expected {p}, got {}", m["name"], r.replicas));
                    }
                }
                proposals.push(Some(r.replicas));
            }
            let (combined, scaled) = hpa::combine_metrics(current, &proposals);
            let desired = if scaled {
                let stabilized = hpa::stabilize_legacy(combined, &recommendations(&i["recommendations"])?, 300_000);
                let factor = i["scale_up_limit_factor"].as_f64().unwrap_or(2.0);
                hpa::legacy_limit(
                    current,
                    stabilized,
                    int(&i["min_replicas"], "min")?,
                    int(&i["max_replicas"], "max")?,
                    factor,
                )
                .0
            } else {
                current
            };
            same(e, "desired_replicas", &Value::from(desired))?;
            same(e, "scaled", &Value::from(scaled && desired != current))
        }
        "stabilize_with_behavior" => {
            let (r, _) = hpa::stabilize(
                int(&i["current_replicas"], "current_replicas")?,
                int(&i["prenormalized_desired"], "prenormalized_desired")?,
                &recommendations(&i["recommendations"])?,
                ms(&i["scale_up_window_s"], "scale_up_window_s")?,
                ms(&i["scale_down_window_s"], "scale_down_window_s")?,
            );
            same(e, "desired_replicas", &Value::from(r))
        }
        "stabilize_legacy_no_behavior" => {
            let r = hpa::stabilize_legacy(
                int(&i["prenormalized_desired"], "prenormalized_desired")?,
                &recommendations(&i["recommendations"])?,
                ms(&i["downscale_stabilization_window_s"], "downscale_stabilization_window_s")?,
            );
            same(e, "desired_replicas", &Value::from(r))
        }
        "behavior_rate_limit" => {
            let (r, cond) = hpa::rate_limit(
                int(&i["current_replicas"], "current_replicas")?,
                int(&i["prenormalized_desired"], "prenormalized_desired")?,
                int(&i["min_replicas"], "min_replicas")?,
                int(&i["max_replicas"], "max_replicas")?,
                &rules(&i["scale_up_rules"], Rules::default_up())?,
                &rules(&i["scale_down_rules"], Rules::default_down())?,
                &events(&i["scale_up_events"])?,
                &events(&i["scale_down_events"])?,
            );
            same(e, "desired_replicas", &Value::from(r))?;
            same(e, "condition", &Value::from(cond))
        }
        "convert_rules_legacy_no_behavior" => {
            let (r, cond) = hpa::legacy_limit(
                int(&i["current_replicas"], "current_replicas")?,
                int(&i["prenormalized_desired"], "prenormalized_desired")?,
                int(&i["min_replicas"], "min_replicas")?,
                int(&i["max_replicas"], "max_replicas")?,
                i["scale_up_limit_factor"].as_f64().unwrap_or(2.0),
            );
            same(e, "desired_replicas", &Value::from(r))?;
            same(e, "condition", &Value::from(cond))
        }
        "sequence_average_value" => {
            let tol = tolerance(&i["tolerance"])?;
            let target = int(&i["target_average_m"], "target_average_m")?;
            let mut got = Vec::new();
            for p in i["phases"].as_array().ok_or("phases is not a list")? {
                let usage = sum_m(&p["metric_values_m"])?;
                let status = int(&p["status_replicas"], "status_replicas")?;
                let (proposal, _) = hpa::average_value_replicas(status, usage, target, tol);
                // Default behavior with the test's 1 s stabilization and no recent events.
                let (r, _) = hpa::rate_limit(
                    status,
                    proposal,
                    1,
                    i64::from(i32::MAX),
                    &Rules::default_up(),
                    &Rules::default_down(),
                    &[],
                    &[],
                );
                got.push(r);
            }
            same(e, "desired_replicas_per_phase", &Value::from(got))
        }
        other => Err(format!("unknown vector kind `{other}`")),
    }
}
