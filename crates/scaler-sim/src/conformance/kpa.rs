//! `conformance kpa`: Knative KPA's vectors through `scaler_core::kpa`.
//!
//! Every vector is evaluated by the functions a KPA policy calls each tick; this module only
//! reads the JSON and converts units. Times: the vectors' seconds may be negative or go
//! backwards, while the core's clock is an unsigned count of milliseconds, so every time is
//! offset by [`T0_MS`] (a multiple of the 2 s delay buckets and the 1 s metric buckets, so
//! bucket boundaries and index differences are those of the vector's own clock).

use scaler_core::kpa::{
    self, ActiveStatus, Algorithm, Annotations, Config, DeciderSpec, DeciderState, DeciderStatus, Metric, PaStatus,
    Reachability, Revision, SksMode, WindowAverages, WindowBuckets,
};
use scaler_core::{DurationMs, TimeMs};
use serde_json::Value;

use super::same;

/// The vectors' time 0 on the core's clock: 1,000,000 s.
const T0_MS: i64 = 1_000_000_000;

fn num(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("input `{what}` is not a number: {v}"))
}

fn int(v: &Value, what: &str) -> Result<i64, String> {
    v.as_i64().ok_or_else(|| format!("input `{what}` is not an integer: {v}"))
}

fn int32(v: &Value, what: &str) -> Result<i32, String> {
    i32::try_from(int(v, what)?).map_err(|_| format!("input `{what}` is not a 32-bit integer: {v}"))
}

fn uint32(v: &Value, what: &str) -> Result<u32, String> {
    u32::try_from(int(v, what)?).map_err(|_| format!("input `{what}` is not a count: {v}"))
}

fn flag(v: &Value, what: &str) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| format!("input `{what}` is not a boolean: {v}"))
}

/// Seconds as whole milliseconds (rounded: `3.6` s is 3600 ms).
#[allow(clippy::cast_possible_truncation)]
fn ms(v: &Value, what: &str) -> Result<i64, String> {
    let s = num(v, what)?;
    let m = (s * 1000.0).round();
    if !m.is_finite() || m.abs() > 1e15 {
        return Err(format!("input `{what}` is out of range: {v}"));
    }
    Ok(m as i64)
}

/// A vector's time on the core's clock.
fn time(v: &Value, what: &str) -> Result<TimeMs, String> {
    u64::try_from(T0_MS + ms(v, what)?).map(TimeMs).map_err(|_| format!("input `{what}` is before the clock: {v}"))
}

/// A core time as the vector's seconds.
#[allow(clippy::cast_precision_loss)]
fn vector_secs(t: TimeMs) -> Value {
    Value::from((i64::try_from(t.0).unwrap_or(i64::MAX) - T0_MS) as f64 / 1000.0)
}

/// A non-negative duration in seconds.
fn duration(v: &Value, what: &str) -> Result<DurationMs, String> {
    u64::try_from(ms(v, what)?).map(DurationMs).map_err(|_| format!("input `{what}` must be >= 0 s: {v}"))
}

/// A duration as seconds: an integer when whole (as the vectors write them).
#[allow(clippy::cast_precision_loss)]
fn secs(d: DurationMs) -> Value {
    let (whole, rest) = (d.0 / 1000, d.0 % 1000);
    if rest == 0 {
        Value::from(whole)
    } else {
        Value::from(d.0 as f64 / 1000.0)
    }
}

fn metric(v: &Value) -> Result<Metric, String> {
    match v.as_str() {
        Some("concurrency" | "") | None => Ok(Metric::Concurrency),
        Some("rps") => Ok(Metric::Rps),
        Some(o) => Err(format!("unknown metric {o:?}")),
    }
}

fn reachability(v: &Value) -> Result<Reachability, String> {
    match v.as_str() {
        Some("Reachable") => Ok(Reachability::Reachable),
        Some("Unknown") | None => Ok(Reachability::Unknown),
        Some("Unreachable") => Ok(Reachability::Unreachable),
        Some(o) => Err(format!("unknown reachability {o:?}")),
    }
}

/// A vector's annotations (snake_case names, string values, `null` = unset) through the
/// core's annotation reader.
fn annotations(v: &Value) -> Result<Annotations, String> {
    let mut pairs = Vec::new();
    for (k, val) in v.as_object().into_iter().flatten() {
        let text = match val {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        pairs.push((k.replace('_', "-"), text));
    }
    Annotations::from_map(pairs).map_err(|e| format!("annotations: {e}"))
}

/// A test's `Config` (upstream's tests build it by hand, without validation).
fn config(v: &Value) -> Result<Config, String> {
    let mut c = Config::default();
    let f = |key: &str, dst: &mut f64| -> Result<(), String> {
        if !v[key].is_null() {
            *dst = num(&v[key], key)?;
        }
        Ok(())
    };
    f("container_concurrency_target_fraction", &mut c.container_concurrency_target_fraction)?;
    f("container_concurrency_target_default", &mut c.container_concurrency_target_default)?;
    f("rps_target_default", &mut c.rps_target_default)?;
    f("target_utilization", &mut c.target_utilization)?;
    f("target_burst_capacity", &mut c.target_burst_capacity)?;
    f("max_scale_up_rate", &mut c.max_scale_up_rate)?;
    f("max_scale_down_rate", &mut c.max_scale_down_rate)?;
    f("activator_capacity", &mut c.activator_capacity)?;
    f("panic_threshold_percentage", &mut c.panic_threshold_percentage)?;
    f("panic_window_percentage", &mut c.panic_window_percentage)?;
    let d = |key: &str, dst: &mut DurationMs| -> Result<(), String> {
        if !v[key].is_null() {
            *dst = duration(&v[key], key)?;
        }
        Ok(())
    };
    d("stable_window_s", &mut c.stable_window)?;
    d("scale_down_delay_s", &mut c.scale_down_delay)?;
    d("scale_to_zero_grace_period_s", &mut c.scale_to_zero_grace_period)?;
    d("scale_to_zero_pod_retention_period_s", &mut c.scale_to_zero_pod_retention_period)?;
    let i = |key: &str, dst: &mut i32| -> Result<(), String> {
        if !v[key].is_null() {
            *dst = int32(&v[key], key)?;
        }
        Ok(())
    };
    i("initial_scale", &mut c.initial_scale)?;
    i("min_scale", &mut c.min_scale)?;
    i("max_scale", &mut c.max_scale)?;
    let b = |key: &str, dst: &mut bool| -> Result<(), String> {
        if !v[key].is_null() {
            *dst = flag(&v[key], key)?;
        }
        Ok(())
    };
    b("enable_scale_to_zero", &mut c.enable_scale_to_zero)?;
    b("allow_zero_initial_scale", &mut c.allow_zero_initial_scale)?;
    Ok(c)
}

/// A vector's `pa`: metric, container concurrency, reachability and annotations (those of
/// `kpa_resolve_metric_target` are beside the others: `target`, `target_utilization_percentage`).
fn revision(pa: &Value) -> Result<Revision, String> {
    let mut all = pa["annotations"].as_object().cloned().unwrap_or_default();
    for key in ["target", "target_utilization_percentage"] {
        if let Some(v) = pa.get(key) {
            all.insert(key.into(), v.clone());
        }
    }
    let mut annotations = annotations(&Value::Object(all))?;
    if !pa["metric"].is_null() {
        annotations.metric = Some(metric(&pa["metric"])?);
    }
    let container_concurrency = if pa["container_concurrency"].is_null() {
        0
    } else {
        uint32(&pa["container_concurrency"], "container_concurrency")?
    };
    Ok(Revision { annotations, container_concurrency, reachability: reachability(&pa["reachability"])? })
}

fn spec(v: &Value) -> Result<DeciderSpec, String> {
    Ok(DeciderSpec {
        scaling_metric: metric(&v["scaling_metric"])?,
        target_value: num(&v["target_value"], "target_value")?,
        total_value: num(&v["total_value"], "total_value")?,
        target_burst_capacity: num(&v["target_burst_capacity"], "target_burst_capacity")?,
        panic_threshold: num(&v["panic_threshold"], "panic_threshold")?,
        max_scale_up_rate: num(&v["max_scale_up_rate"], "max_scale_up_rate")?,
        max_scale_down_rate: num(&v["max_scale_down_rate"], "max_scale_down_rate")?,
        activator_capacity: if v["activator_capacity"].is_null() {
            Config::default().activator_capacity
        } else {
            num(&v["activator_capacity"], "activator_capacity")?
        },
        stable_window: duration(&v["stable_window_s"], "stable_window_s")?,
        scale_down_delay: duration(&v["scale_down_delay_s"], "scale_down_delay_s")?,
        initial_scale: if v["initial_scale"].is_null() { 1 } else { int32(&v["initial_scale"], "initial_scale")? },
        reachable: flag(&v["reachable"], "reachable")?,
        activation_scale: if v["activation_scale"].is_null() {
            0
        } else {
            int32(&v["activation_scale"], "activation_scale")?
        },
    })
}

/// Compares `got` with `want[key]`, as float64 within `tolerance`.
fn close(want: &Value, key: &str, got: f64, tolerance: f64) -> Result<(), String> {
    match want.get(key).and_then(Value::as_f64) {
        None => Ok(()),
        Some(w) if (w - got).abs() <= tolerance => Ok(()),
        Some(w) => Err(format!("{key}: expected {w} (within {tolerance}), got {got}")),
    }
}

/// Evaluates one kpa vector (`inputs` against `expected` and `derived`).
pub(super) fn check(kind: &str, v: &Value) -> Result<(), String> {
    let (i, e, d) = (&v["inputs"], &v["expected"], &v["derived"]);
    match kind {
        "kpa_scale" => scale(i, e, d),
        "kpa_autoscaler_create" => {
            let ready = if flag(&i["pod_count_error"], "pod_count_error").unwrap_or(false) {
                None
            } else {
                Some(uint32(&i["ready_pods_at_creation"], "ready_pods_at_creation")?)
            };
            let spec = kpa::make_decider(&Config::default(), &Revision::default());
            let state = DeciderState::new(&spec, TimeMs(T0_MS.unsigned_abs()), ready);
            for want in [e, d] {
                same(want, "in_panic", &Value::from(state.in_panic()))?;
                same(want, "max_panic_pods", &Value::from(state.max_panic_pods))?;
            }
            Ok(())
        }
        "kpa_window_average" => window_average(i, e),
        "kpa_resolve_metric_target" => {
            let t = kpa::resolve_metric_target(&config(&i["config"])?, &revision(&i["pa"])?);
            same(e, "target", &Value::from(t.target))?;
            same(e, "total", &Value::from(t.total))
        }
        "kpa_metric_windows" => {
            let w = kpa::metric_windows(&config(&i["config"])?, &annotations(&i["annotations"])?);
            for want in [e, d] {
                same(want, "stable_window_s", &secs(w.stable))?;
                same(want, "panic_window_s", &secs(w.panic))?;
            }
            Ok(())
        }
        "kpa_make_decider" => {
            let s = kpa::make_decider(&config(&i["config"])?, &revision(&i["pa"])?);
            same(e, "scaling_metric", &Value::from(s.scaling_metric.as_str()))?;
            same(e, "target_value", &Value::from(s.target_value))?;
            same(e, "total_value", &Value::from(s.total_value))?;
            same(e, "target_burst_capacity", &Value::from(s.target_burst_capacity))?;
            same(e, "panic_threshold", &Value::from(s.panic_threshold))?;
            same(e, "max_scale_up_rate", &Value::from(s.max_scale_up_rate))?;
            same(e, "max_scale_down_rate", &Value::from(s.max_scale_down_rate))?;
            same(e, "activator_capacity", &Value::from(s.activator_capacity))?;
            same(e, "stable_window_s", &secs(s.stable_window))?;
            same(e, "scale_down_delay_s", &secs(s.scale_down_delay))?;
            same(e, "initial_scale", &Value::from(s.initial_scale))?;
            same(e, "reachable", &Value::from(s.reachable))?;
            same(e, "activation_scale", &Value::from(s.activation_scale))
        }
        "kpa_initial_scale" => {
            let cfg = config(&i["config"])?;
            let mut ann = serde_json::Map::new();
            ann.insert("initial_scale".into(), i["initial_scale_annotation"].clone());
            let n = kpa::initial_scale(&cfg, &annotations(&Value::Object(ann))?);
            same(e, "initial_scale", &Value::from(n))
        }
        "kpa_scaler_scale" => scaler_scale(i, e),
        "kpa_num_activators" => {
            let n = kpa::num_activators(
                uint32(&i["ready_pods"], "ready_pods")?,
                num(&i["total_value"], "total_value")?,
                num(&i["target_burst_capacity"], "target_burst_capacity")?,
                num(&i["activator_capacity"], "activator_capacity")?,
            );
            same(e, "num_activators", &Value::from(n))
        }
        "kpa_initial_ebc" => {
            let mut spec = kpa::make_decider(&Config::default(), &Revision::default());
            spec.initial_scale = int32(&i["initial_scale"], "initial_scale")?;
            spec.total_value = num(&i["total_value"], "total_value")?;
            spec.target_burst_capacity = num(&i["target_burst_capacity"], "target_burst_capacity")?;
            let status = DeciderStatus::initial(&spec);
            same(e, "desired_scale", &Value::from(status.desired_scale))?;
            same(e, "excess_burst_capacity", &Value::from(status.excess_burst_capacity))
        }
        "kpa_config_parse" => config_parse(i, e),
        other if other.starts_with("kpa_") => Err(format!("unknown kpa kind `{other}`")),
        other => Err(format!("kind `{other}` is not a kpa vector")),
    }
}

/// `Scale()` over a sequence of ticks, from a decider created as upstream's test creates it.
fn scale(i: &Value, e: &Value, d: &Value) -> Result<(), String> {
    let mut spec = spec(&i["spec"])?;
    let ready_at_creation = if i["initial_ready_pods"].is_null() {
        None
    } else {
        Some(uint32(&i["initial_ready_pods"], "initial_ready_pods")?)
    };
    let mut state = DeciderState::new(&spec, time(&i["created_at_s"], "created_at_s")?, ready_at_creation);
    if let Some(o) = i.get("state_override").filter(|o| !o.is_null()) {
        state.panic_time =
            if o["panic_time_s"].is_null() { None } else { Some(time(&o["panic_time_s"], "panic_time_s")?) };
        state.max_panic_pods = int32(&o["max_panic_pods"], "max_panic_pods")?;
    }
    if let Some(initial) = e.get("initial") {
        same(initial, "in_panic", &Value::from(state.in_panic())).map_err(|m| format!("initial: {m}"))?;
    }
    let steps = i["steps"].as_array().ok_or("inputs.steps is not a list")?;
    for (n, step) in steps.iter().enumerate() {
        if let Some(update) = step.get("spec_update").filter(|u| !u.is_null()) {
            spec = self::spec(update)?;
        }
        let ready = if step["pod_count_error"].as_bool() == Some(true) {
            None
        } else {
            Some(uint32(&step["ready_pods"], "ready_pods")?)
        };
        let averages = if step["metric_error"].as_bool() == Some(true) {
            None
        } else {
            Some(WindowAverages {
                stable: num(&step["observed_stable"], "observed_stable")?,
                panic: num(&step["observed_panic"], "observed_panic")?,
            })
        };
        let r = state.scale(&spec, time(&step["t_s"], "t_s")?, ready, averages);
        let at = |m: String| format!("step {n}: {m}");
        for want in [&e["steps"][n], &d["steps"][n]] {
            same(want, "desired_pod_count", &Value::from(r.desired_pod_count)).map_err(at)?;
            same(want, "excess_burst_capacity", &Value::from(r.excess_burst_capacity)).map_err(at)?;
            same(want, "scale_valid", &Value::from(r.scale_valid)).map_err(at)?;
            same(want, "in_panic", &Value::from(r.in_panic)).map_err(at)?;
            same(want, "panic_time_s", &state.panic_time.map_or(Value::Null, vector_secs)).map_err(at)?;
        }
    }
    Ok(())
}

fn window_average(i: &Value, e: &Value) -> Result<(), String> {
    let algorithm = match i["algorithm"].as_str() {
        Some("linear") | None => Algorithm::Linear,
        Some("weighted-exponential" | "weightedExponential") => Algorithm::WeightedExponential,
        Some(o) => return Err(format!("unknown algorithm {o:?}")),
    };
    let mut buckets = WindowBuckets::new(
        algorithm,
        duration(&i["window_s"], "window_s")?,
        duration(&i["granularity_s"], "granularity_s")?,
    )
    .map_err(|err| err.to_string())?;
    let tolerance = e["tolerance"].as_f64().unwrap_or(0.0);
    close(e, "smoothing_coeff", buckets.smoothing_coefficient(), tolerance)?;
    let want = e["averages"].as_array().ok_or("expected.averages is not a list")?;
    let mut got = Vec::new();
    for op in i["ops"].as_array().ok_or("inputs.ops is not a list")? {
        let t = time(&op["t_s"], "t_s")?;
        match op["op"].as_str() {
            Some("record") => buckets.record(t, num(&op["value"], "value")?),
            Some("average") => got.push(buckets.average(t)),
            o => return Err(format!("unknown op {o:?}")),
        }
    }
    if got.len() != want.len() {
        return Err(format!("averages: expected {} values, got {}", want.len(), got.len()));
    }
    for (n, (w, g)) in want.iter().zip(&got).enumerate() {
        let w = w.as_f64().ok_or("expected.averages holds a non-number")?;
        if (w - g).abs() > tolerance || w.is_nan() != g.is_nan() {
            return Err(format!("averages[{n}]: expected {w}, got {g}"));
        }
    }
    Ok(())
}

fn scaler_scale(i: &Value, e: &Value) -> Result<(), String> {
    let c = &i["config"];
    let cfg = config(c)?;
    let progress_deadline = duration(&c["progress_deadline_s"], "progress_deadline_s")?;
    let pa = &i["pa"];
    let rev = revision(pa)?;
    let active = match pa["active"]["status"].as_str() {
        Some("True") => ActiveStatus::Active,
        Some("False") => ActiveStatus::Inactive,
        Some("Unknown") => ActiveStatus::Activating,
        o => return Err(format!("unknown active status {o:?}")),
    };
    let status = PaStatus {
        active,
        active_for: duration(&pa["active"]["for_s"], "for_s")?,
        scale_target_initialized: flag(&pa["scale_target_initialized"], "scale_target_initialized")?,
        sks_mode: match i["sks"]["mode"].as_str() {
            Some("Serve") => SksMode::Serve,
            Some("Proxy") => SksMode::Proxy,
            o => return Err(format!("unknown sks mode {o:?}")),
        },
        proxy_for: if i["sks"]["proxy_for_s"].is_null() {
            None
        } else {
            Some(duration(&i["sks"]["proxy_for_s"], "proxy_for_s")?)
        },
    };
    let probe_answer = i["activator_probe"].as_bool();
    let mut probed = false;
    let out = kpa::reconcile_scale(
        &cfg,
        progress_deadline,
        &rev,
        &status,
        int32(&i["start_replicas"], "start_replicas")?,
        int32(&i["desired_scale"], "desired_scale")?,
        || {
            probed = true;
            probe_answer.unwrap_or(true)
        },
    );
    if probed && probe_answer.is_none() {
        return Err("the activator was probed, but the vector says the probe must not be reached".into());
    }
    same(e, "desired_scale", &Value::from(out.desired))?;
    same(e, "patched_replicas", &out.patch.map_or(Value::Null, Value::from))?;
    same(e, "enqueue_count", &Value::from(u8::from(out.requeue)))?;
    same(e, "async_probe_count", &Value::from(u8::from(out.async_probe)))
}

fn config_parse(i: &Value, e: &Value) -> Result<(), String> {
    let data = i["data"].as_object().ok_or("inputs.data is not an object")?;
    let pairs = data.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)));
    let want_error = e["error"].as_bool().ok_or("expected.error is not a boolean")?;
    match (Config::from_map(pairs), want_error) {
        (Err(_), true) => Ok(()),
        (Ok(c), true) => Err(format!("expected an error, got a config: {c:?}")),
        (Err(err), false) => Err(format!("expected a config, got the error: {err}")),
        (Ok(c), false) => {
            let w = &e["config"];
            same(w, "enable_scale_to_zero", &Value::from(c.enable_scale_to_zero))?;
            same(w, "container_concurrency_target_fraction", &Value::from(c.container_concurrency_target_fraction))?;
            same(w, "container_concurrency_target_default", &Value::from(c.container_concurrency_target_default))?;
            same(w, "target_utilization", &Value::from(c.target_utilization))?;
            same(w, "rps_target_default", &Value::from(c.rps_target_default))?;
            same(w, "max_scale_up_rate", &Value::from(c.max_scale_up_rate))?;
            same(w, "max_scale_down_rate", &Value::from(c.max_scale_down_rate))?;
            same(w, "target_burst_capacity", &Value::from(c.target_burst_capacity))?;
            same(w, "panic_window_percentage", &Value::from(c.panic_window_percentage))?;
            same(w, "activator_capacity", &Value::from(c.activator_capacity))?;
            same(w, "panic_threshold_percentage", &Value::from(c.panic_threshold_percentage))?;
            same(w, "stable_window_s", &secs(c.stable_window))?;
            same(w, "scale_to_zero_grace_period_s", &secs(c.scale_to_zero_grace_period))?;
            same(w, "scale_to_zero_pod_retention_period_s", &secs(c.scale_to_zero_pod_retention_period))?;
            same(w, "scale_down_delay_s", &secs(c.scale_down_delay))?;
            same(w, "pod_autoscaler_class", &Value::from(c.pod_autoscaler_class.as_str()))?;
            same(w, "allow_zero_initial_scale", &Value::from(c.allow_zero_initial_scale))?;
            same(w, "initial_scale", &Value::from(c.initial_scale))?;
            same(w, "min_scale", &Value::from(c.min_scale))?;
            same(w, "max_scale", &Value::from(c.max_scale))?;
            same(w, "max_scale_limit", &Value::from(c.max_scale_limit))
        }
    }
}
