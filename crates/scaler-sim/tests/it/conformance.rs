//! The HPA conformance command: the shared Kubernetes vectors when available, and
//! small hand-written vectors (our own) that show the command can fail.

use crate::run_in;

#[test]
fn shared_kubernetes_vectors_all_pass() {
    let Some(text) = crate::shared_conformance("hpa", "Kubernetes' HPA") else { return };
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last.split_whitespace().next().unwrap().parse().unwrap();
    assert!(passed >= 70, "{last}");
}

#[test]
fn a_wrong_expectation_fails_with_a_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    // Hand-computed: util = 3000 * 100 / 6000 = 50, ratio 50 / 30 = 1.667, ceil(1.667 * 3) = 5.
    let good = r#"{"id": "own-1", "kind": "replica_calc_resource_utilization", "confidence": "verified",
        "inputs": {"current_replicas": 3, "target_utilization_percent": 30, "tolerance": {"scale_up": 0.1, "scale_down": 0.1},
                   "pods": [{"class": "ready", "request_m": 2000, "usage_m": 600}, {"class": "ready", "request_m": 2000, "usage_m": 1000},
                            {"class": "ready", "request_m": 2000, "usage_m": 1400}]},
        "expected": {"desired_replicas": 5, "utilization_percent": 50, "raw_average_m": 1000}}"#;
    // Default scale-up rules allow max(3 + 4, 3 * 2) = 7 at once, not 8.
    let bad = r#"{"id": "own-2", "kind": "behavior_rate_limit", "confidence": "verified",
        "inputs": {"current_replicas": 3, "prenormalized_desired": 100, "min_replicas": 1, "max_replicas": 50,
                   "scale_up_rules": null, "scale_down_rules": null, "scale_up_events": [], "scale_down_events": []},
        "expected": {"desired_replicas": 8, "condition": "ScaleUpLimit"}}"#;
    std::fs::write(dir.path().join("v.json"), format!("[{good}, {bad}]")).unwrap();
    let out = run_in(dir.path(), &["conformance", "hpa", "v.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "FAIL own-2 (behavior_rate_limit, verified): desired_replicas: expected 8, got 7\n1 passed, 1 failed\n"
    );
    std::fs::write(dir.path().join("broken.json"), "[{").unwrap();
    let out = run_in(dir.path(), &["conformance", "hpa", "broken.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: broken.json:1:"));
}
