//! The shipped `hpa` policy (not only the helpers in `scaler_core::hpa`) driven through
//! Kubernetes' own resource-utilization vectors (`$SCALER_CONFORMANCE/hpa_vectors.json`).
//!
//! A pool is expressible as pods when its workers are alike: every vector whose pods are
//! ready or unready (ignored pods are left out, as HPA does), whose unready pods have the
//! same request as the ready ones, and whose usage does not exceed its requests (a pool's
//! busy share is at most 1). Vectors with missing pods have no pool equivalent (every
//! ready worker reports its busy state); they are counted and named as skipped.

use scaler_core::{DurationMs, Observation, PoolCounts, Scaler, TimeMs};

use crate::cfg;

#[test]
fn hpa_policy_decides_as_kubernetes_vectors_assert() {
    let Some(dir) = std::env::var_os("SCALER_CONFORMANCE") else {
        crate::skip_notice("the hpa policy against Kubernetes' HPA vectors (hpa_vectors.json)", "SCALER_CONFORMANCE");
        return;
    };
    let path = std::path::Path::new(&dir).join("hpa_vectors.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let (mut checked, mut skipped) = (0, Vec::new());
    for v in vectors.iter().filter(|v| v["kind"] == "replica_calc_resource_utilization") {
        let id = v["id"].as_str().unwrap();
        let i = &v["inputs"];
        let pods: Vec<&serde_json::Value> =
            i["pods"].as_array().unwrap().iter().filter(|p| p["class"] != "ignored").collect();
        let class = |p: &serde_json::Value| p["class"].as_str().unwrap().to_string();
        let ready: Vec<_> = pods.iter().filter(|p| class(p) == "ready").collect();
        let unready: Vec<_> = pods.iter().filter(|p| class(p) == "unready").collect();
        let usage: i64 = ready.iter().map(|p| p["usage_m"].as_i64().unwrap()).sum();
        let request: i64 = ready.iter().map(|p| p["request_m"].as_i64().unwrap()).sum();
        let alike = unready.is_empty() || pods.iter().all(|p| p["request_m"] == pods[0]["request_m"]);
        if ready.len() + unready.len() != pods.len() || !alike || usage > request || request == 0 {
            skipped.push(id.to_string());
            continue;
        }
        let current = i["current_replicas"].as_u64().unwrap() as u32;
        let tol = &i["tolerance"];
        let config = format!(
            "policy = \"hpa\"\nmin_workers = 0\nmax_workers = 1000\nmetrics_window = 1\n[hpa]\n\
             target_utilization_percent = {}\ntolerance_up = {}\ntolerance_down = {}\n\
             behavior = {{ scaleUp = {{ stabilizationWindowSeconds = 0, policies = [{{ type = \"Percent\", value = 100000, periodSeconds = 1 }}] }}, \
             scaleDown = {{ stabilizationWindowSeconds = 0, policies = [{{ type = \"Percent\", value = 100, periodSeconds = 1 }}] }} }}\n",
            i["target_utilization_percent"], tol["scale_up"], tol["scale_down"]
        );
        let mut s = Scaler::new(cfg(&config));
        let counts =
            PoolCounts { ready_workers: ready.len() as u32, busy_slots: usage as u64, total_slots: request as u64 };
        let o = Observation::with_counts(TimeMs(0), current, 0, 0, DurationMs::ZERO, counts).unwrap();
        let d = s.tick(TimeMs(0), Some(o)).unwrap().decision;
        let expect = v["expected"]["desired_replicas"].as_i64().unwrap();
        assert_eq!(i64::from(d.target_workers), expect, "{id}: {}", v["hand_check"]);
        checked += 1;
    }
    println!(
        "hpa policy through Kubernetes' vectors: {checked} checked; skipped (not a pool of alike workers): {skipped:?}"
    );
    assert!(checked >= 8, "only {checked} vectors were expressible");
}
