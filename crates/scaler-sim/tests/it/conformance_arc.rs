//! `conformance arc` on the shared vectors and on small hand-written vectors of our own.

use crate::run_in;

#[test]
fn shared_arc_vectors_all_pass() {
    if let Some(text) = crate::shared_conformance("arc", "actions-runner-controller's") {
        assert_eq!(text, "23 passed, 0 failed\n");
    }
}

#[test]
fn a_wrong_expectation_fails_with_a_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    // Hand-computed, minRunners 2: the first call sizes 2 + 0 = 2 with patch id 0 (the
    // sequence starts at 0); the second is quiet at 2 == previous == minRunners, so it forces
    // the state (patch id 0) while the sequence moves to 1; the third is dirty, 2 + 3 = 5,
    // patch id = sequence 2.
    let good = r#"{"id": "own-arc-1", "kind": "arc_desired_runners", "confidence": "verified",
        "inputs": {"config": {"min_runners": 2, "max_runners": 10},
                   "initial_state": {"target_runners": -1, "patch_seq": -1, "dirty": false},
                   "calls": [{"dirty_before": false, "count": 0}, {"dirty_before": false, "count": 0},
                             {"dirty_before": true, "count": 3}]},
        "expected": {"calls": [{"patch_id": 0, "target_runners": 2, "patch_seq": 0},
                               {"patch_id": 0, "target_runners": 2, "patch_seq": 1},
                               {"patch_id": 2, "target_runners": 5, "patch_seq": 2, "dirty_after": false}]}}"#;
    // Patch 1 creates 3 runners; two register and run; patch 2 asks for 1, but a patch id
    // above 0 never scales down (and nothing has finished), so 3 remain, not 1.
    let bad = r#"{"id": "own-arc-2", "kind": "arc_ephemeral_runner_set", "confidence": "unsure",
        "inputs": {"phases": [{"spec": {"replicas": 3, "patch_id": 1}},
                              {"set_runners": [{"index": 0, "phase": "Running", "runner_id": 7},
                                               {"index": 1, "phase": "Running", "runner_id": 8}]},
                              {"spec": {"replicas": 1, "patch_id": 2}}]},
        "expected": {"phases": [{"runner_count": 3, "pending": 3}, {"runner_count": 3, "pending": 1},
                                {"runner_count": 1}]}}"#;
    // `derived` is compared too: the first call's sequence number is 0, not 1.
    let bad_derived = r#"{"id": "own-arc-3", "kind": "arc_desired_runners", "confidence": "unsure",
        "inputs": {"config": {"min_runners": 0, "max_runners": 4},
                   "initial_state": {"target_runners": -1, "patch_seq": -1, "dirty": false},
                   "calls": [{"dirty_before": true, "count": 9}]},
        "expected": {"calls": [{"patch_id": 0, "target_runners": 4}]},
        "derived": {"calls": [{"patch_seq": 1}]}}"#;
    std::fs::write(dir.path().join("v.json"), format!("[{good}, {bad}, {bad_derived}]")).unwrap();
    let out = run_in(dir.path(), &["conformance", "arc", "v.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "FAIL own-arc-2 (arc_ephemeral_runner_set, unsure): phases[2].runner_count: expected 1, got 3\n\
         FAIL own-arc-3 (arc_desired_runners, unsure): calls[0].patch_seq: expected 1, got 0 (derived)\n\
         1 passed, 2 failed\n"
    );
}

#[test]
fn a_vector_of_another_system_or_a_bad_input_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let hpa = r#"{"id": "own-arc-4", "kind": "kpa_scale", "confidence": "verified", "inputs": {}, "expected": {}}"#;
    let index = r#"{"id": "own-arc-5", "kind": "arc_ephemeral_runner_set", "confidence": "verified",
        "inputs": {"phases": [{"spec": {"replicas": 1, "patch_id": 1}}, {"set_runners": [{"index": 1, "phase": "Running"}]}]},
        "expected": {"phases": [{"runner_count": 1}, {"runner_count": 1}]}}"#;
    let short = r#"{"id": "own-arc-6", "kind": "arc_desired_runners", "confidence": "verified",
        "inputs": {"config": {"min_runners": 0, "max_runners": 4},
                   "initial_state": {"target_runners": -1, "patch_seq": -1, "dirty": false},
                   "calls": [{"dirty_before": false, "count": 1}, {"dirty_before": false, "count": 1}]},
        "expected": {"calls": [{"patch_id": 0}]}}"#;
    std::fs::write(dir.path().join("v.json"), format!("[{hpa}, {index}, {short}]")).unwrap();
    let out = run_in(dir.path(), &["conformance", "arc", "v.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "FAIL own-arc-4 (kpa_scale, verified): kind `kpa_scale` is not an arc vector\n\
         FAIL own-arc-5 (arc_ephemeral_runner_set, verified): phases[1].set_runners: runners 1..2: out of range (the set holds 1)\n\
         FAIL own-arc-6 (arc_desired_runners, verified): expected.calls: expected a list of 2 entries, got [{\"patch_id\":0}]\n\
         0 passed, 3 failed\n"
    );
}
