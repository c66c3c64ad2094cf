//! `conformance keda` on the shared vectors and on small hand-written vectors of our own.

use crate::run_in;

#[test]
fn shared_keda_vectors_all_pass() {
    if let Some(text) = crate::shared_conformance("keda", "KEDA's") {
        assert_eq!(text, "77 passed, 0 failed\n");
    }
}

#[test]
fn a_wrong_expectation_fails_with_a_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    // Hand-computed: active at 0 replicas with minReplicaCount 2: scale to 2, lastActiveTime now.
    let good = r#"{"id": "own-keda-1", "kind": "keda_request_scale", "confidence": "verified",
        "inputs": {"scaled_object": {"min_replica_count": 2, "max_replica_count": null, "idle_replica_count": null,
                                     "cooldown_period_s": null, "initial_cooldown_period_s": null,
                                     "polling_interval_s": null, "fallback": null, "annotations": {}},
                   "status": {"last_active_time_s": null, "created_at_s": null},
                   "now_s": 0, "current_replicas": 0, "is_active": true, "is_error": false},
        "expected": {"replicas": 2, "scale_updated": true, "active_condition": "True", "last_active_time_set": true}}"#;
    // The second failure is more than the threshold 1: a Value target of 5 with 3 replicas over
    // 7 ready pods serves 5 * 1000 * 3/7 = 2142.857 milli-units, truncated to 2142, not 2143.
    let bad = r#"{"id": "own-keda-2", "kind": "keda_fallback", "confidence": "unsure",
        "inputs": {"fallback": {"failure_threshold": 1, "replicas": 3, "behavior": ""},
                   "metric_target": {"type": "Value", "value": 5.0}, "health_before": {"failures": 1, "status": "Failing"},
                   "other_health": {}, "scaler": {"error": "x"}, "current_replicas": 7, "ready_replicas": 7,
                   "uses_scaling_modifiers": false},
        "expected": {"error": null, "metric_value": 2.143}}"#;
    // Active at 10 s (lastActiveTime 10), cooldown 20 s: at 30 s, 10 + 20 < 30 is false, so
    // the target stays at 1 (the derived 0 is wrong); only at 31 s does it go to 0.
    let bad_derived = r#"{"id": "own-keda-3", "kind": "keda_poll_sequence", "confidence": "unsure",
        "inputs": {"scaled_object": {"min_replica_count": null, "max_replica_count": null, "idle_replica_count": null,
                                     "cooldown_period_s": 20, "initial_cooldown_period_s": null,
                                     "polling_interval_s": null, "fallback": null, "annotations": {}},
                   "triggers": [{"name": "q", "metric_type": "AverageValue", "target": 1.0, "activation": 0.0}],
                   "initial_replicas": 0, "created_at_s": -1,
                   "steps": [{"t_s": 10, "results": [{"value": 3.0}]}, {"t_s": 30, "results": [{"value": 0.0}]},
                             {"t_s": 31, "results": [{"error": true}]}]},
        "expected": {"steps": [{"replicas": 1, "last_active_time_s": 10}, {"is_active": false}, {"is_error": true}]},
        "derived": {"steps": [{"metric_values": [3.0]}, {"replicas": 0}, {"replicas": 0}]}}"#;
    std::fs::write(dir.path().join("v.json"), format!("[{good}, {bad}, {bad_derived}]")).unwrap();
    let out = run_in(dir.path(), &["conformance", "keda", "v.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "FAIL own-keda-2 (keda_fallback, unsure): metric_value: expected 2.143, got 2.142\n\
         FAIL own-keda-3 (keda_poll_sequence, unsure): steps[1].replicas: expected 0, got 1 (derived)\n\
         1 passed, 2 failed\n"
    );
    // A kind of another system is refused, naming it.
    std::fs::write(
        dir.path().join("other.json"),
        r#"[{"id": "x", "kind": "kpa_scale", "confidence": "verified", "inputs": {}}]"#,
    )
    .unwrap();
    let out = run_in(dir.path(), &["conformance", "keda", "other.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "FAIL x (kpa_scale, verified): unknown vector kind `kpa_scale`\n0 passed, 1 failed\n"
    );
}
