//! Replays the committed fuzzing corpus (fuzz/corpus/<target>/) through the fuzz entry
//! points: no input may panic. Fast; no fuzzing happens here.

use std::path::Path;
use std::time::Instant;

use scaler_sim::fuzzing::{self, Reach};

/// Every fuzz target of `fuzz/Cargo.toml`, with the function it calls. An entry returns how
/// far the input got where the target has deep paths that a drifting check could cut off.
type Target = (&'static str, fn(&[u8]) -> Option<Reach>);

const TARGETS: [Target; 6] = [
    ("observations_csv", |d| {
        fuzzing::observations_csv(d);
        None
    }),
    ("trace_csv", |d| {
        fuzzing::trace_csv(d);
        None
    }),
    ("scenario_toml", |d| {
        fuzzing::scenario_toml(d);
        None
    }),
    ("core_ops", |d| {
        fuzzing::core_ops(d);
        None
    }),
    ("sweep_manifest", |d| Some(fuzzing::sweep_manifest(d))),
    ("policy_config", |d| Some(fuzzing::policy_config(d))),
];

/// The corpus files of one target, sorted (empty when the folder is missing).
fn corpus_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[test]
fn the_committed_corpus_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut empty = Vec::new();
    let mut total = 0;
    let started = Instant::now();
    for (name, f) in TARGETS {
        let dir = root.join(name);
        let files = match corpus_files(&dir) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("NOTICE: fuzz corpus {} cannot be read ({e}): target {name} is not replayed", dir.display());
                Vec::new()
            }
        };
        if files.is_empty() {
            eprintln!("NOTICE: fuzz corpus {} has no files: target {name} is not replayed", dir.display());
            empty.push(name);
            continue;
        }
        let t = Instant::now();
        let mut deepest = None;
        for path in &files {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let reach = f(&data);
            deepest = deepest.max(reach);
        }
        eprintln!("fuzz corpus {name}: {} files replayed in {:.2?}", files.len(), t.elapsed());
        // A target with deep paths must still reach them with its committed corpus: a check
        // that now refuses every input earlier would leave the corpus exercising nothing.
        if let Some(deepest) = deepest {
            assert_eq!(deepest, Reach::Finished, "no {name} corpus file gets all the way through any more");
        }
        total += files.len();
    }
    eprintln!("fuzz corpus: {total} files replayed in {:.2?}", started.elapsed());
    assert!(empty.is_empty(), "fuzz corpus missing or empty for {empty:?} (see the NOTICE lines above)");
}

/// The sweep_manifest corpus reaches both commands: a merge and a resume, each all the way.
#[test]
fn the_sweep_manifest_corpus_merges_and_resumes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sweep_manifest");
    let files = corpus_files(&dir).unwrap_or_default();
    let finished = |resume: bool| {
        files.iter().any(|p| {
            let data = std::fs::read(p).unwrap_or_default();
            data.first().is_some_and(|f| (f & 1 == 1) == resume) && fuzzing::sweep_manifest(&data) == Reach::Finished
        })
    };
    assert!(finished(false), "no sweep_manifest corpus file merges all the way");
    assert!(finished(true), "no sweep_manifest corpus file resumes all the way");
}
