//! Replays the committed fuzzing corpus (fuzz/corpus/<target>/) through the fuzz entry
//! points: no input may panic. Fast; no fuzzing happens here.

use std::path::Path;

#[test]
fn the_committed_corpus_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 4] = [
        ("observations_csv", scaler_sim::fuzzing::observations_csv),
        ("trace_csv", scaler_sim::fuzzing::trace_csv),
        ("scenario_toml", scaler_sim::fuzzing::scenario_toml),
        ("core_ops", scaler_sim::fuzzing::core_ops),
    ];
    let mut total = 0;
    for (name, f) in targets {
        let dir = root.join(name);
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            f(&data);
            n += 1;
        }
        assert!(n > 0, "no corpus for {name}");
        total += n;
    }
    assert!(total >= 40, "{total} corpus files");
}
