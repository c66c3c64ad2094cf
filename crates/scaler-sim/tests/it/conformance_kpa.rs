//! `conformance kpa` on the shared vectors and on small hand-written vectors of our own.

use crate::run_in;

#[test]
fn shared_knative_vectors_all_pass() {
    if let Some(text) = crate::shared_conformance("kpa", "Knative's KPA") {
        assert_eq!(text, "132 passed, 0 failed\n");
    }
}

/// A decider with a 10 s scale-down delay (5 buckets of 2 s), by hand: target 10 per pod,
/// one ready pod, so the rate limits are ceil(1000 * 1) = 1000 up and floor(1 / 2) = 0 down,
/// and a panic threshold of 10 that 4 wanted pods on 1 ready do not reach.
/// t=0: ceil(40 / 10) = 4, recorded in bucket 0 -> 4.
/// t=4: 0 wanted, bucket 2; bucket 0 is 2 < 5 buckets old -> still 4 (scale-down delayed).
/// t=10: bucket 5; bucket 0 is 5 buckets old and leaves the window -> 0.
const DELAY_SPEC: &str = r#"{"scaling_metric": "concurrency", "target_value": 10.0, "total_value": 13.0,
    "target_burst_capacity": 0.0, "panic_threshold": 10.0, "max_scale_up_rate": 1000.0, "max_scale_down_rate": 2.0,
    "stable_window_s": 60, "scale_down_delay_s": 10, "reachable": true, "activation_scale": 0}"#;

fn delay_vector(id: &str, second: i64) -> String {
    format!(
        r#"{{"id": "{id}", "kind": "kpa_scale", "confidence": "verified",
        "inputs": {{"spec": {DELAY_SPEC}, "initial_ready_pods": 1, "created_at_s": 0, "steps": [
            {{"t_s": 0, "ready_pods": 1, "observed_stable": 40.0, "observed_panic": 40.0}},
            {{"t_s": 4, "ready_pods": 1, "observed_stable": 0.0, "observed_panic": 0.0}},
            {{"t_s": 10, "ready_pods": 1, "observed_stable": 0.0, "observed_panic": 0.0}}]}},
        "expected": {{"steps": [
            {{"desired_pod_count": 4, "excess_burst_capacity": 0, "scale_valid": true, "in_panic": false}},
            {{"desired_pod_count": {second}, "excess_burst_capacity": 0, "scale_valid": true}},
            {{"desired_pod_count": 0, "excess_burst_capacity": 0, "scale_valid": true}}]}}}}"#
    )
}

#[test]
fn a_wrong_expectation_fails_with_a_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = delay_vector("own-kpa-1", 4);
    // "61984ms" is not a whole number of seconds: upstream refuses it as a stable window.
    let config = r#"{"id": "own-kpa-2", "kind": "kpa_config_parse", "confidence": "verified",
        "inputs": {"data": {"stable-window": "61984ms"}}, "expected": {"error": true}}"#;
    // Wrong on purpose: the delay still holds the 4 pods wanted at t=0.
    let bad = delay_vector("own-kpa-3", 0);
    let foreign = r#"{"id": "own-kpa-4", "kind": "replica_calc_resource_utilization", "confidence": "verified",
        "inputs": {}, "expected": {}}"#;
    std::fs::write(dir.path().join("v.json"), format!("[{good}, {config}, {bad}, {foreign}]")).unwrap();
    let out = run_in(dir.path(), &["conformance", "kpa", "v.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "FAIL own-kpa-3 (kpa_scale, verified): step 1: desired_pod_count: expected 0, got 4\n\
         FAIL own-kpa-4 (replica_calc_resource_utilization, verified): \
         kind `replica_calc_resource_utilization` is not a kpa vector\n\
         2 passed, 2 failed\n"
    );
}
