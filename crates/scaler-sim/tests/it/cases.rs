//! Data-driven command cases: every folder under `tests/cases/` holds an `args`
//! file, the inputs it names, and the expected standard output, standard error,
//! exit status and output file. `UPDATE_GOLDEN=1` rewrites the expectations.

use std::collections::BTreeSet;
use std::path::Path;

use crate::{golden, run_in};

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("expected."))
        .collect()
}

#[test]
fn command_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let args_text = std::fs::read_to_string(dir.join("args")).unwrap();
        let args: Vec<&str> = args_text.split_whitespace().collect();
        let before = files(&dir);
        let out = run_in(&dir, &args);
        count += 1;
        let status = format!("{}\n", out.status.code().map_or("signal".into(), |c| c.to_string()));
        let check = |failures: &mut Vec<String>, file: &str, actual: &str| {
            if let Err(e) = golden(&dir.join(file), actual) {
                failures.push(format!("[{name}] {e}"));
            }
        };
        check(&mut failures, "expected.status", &status);
        check(&mut failures, "expected.stdout", &String::from_utf8_lossy(&out.stdout));
        check(&mut failures, "expected.stderr", &String::from_utf8_lossy(&out.stderr));
        // Whatever the command left behind: only a complete out.csv, and only on success.
        let created: Vec<String> = files(&dir).difference(&before).cloned().collect();
        for f in &created {
            let path = dir.join(f);
            if f == "out.csv" && out.status.success() {
                let text = std::fs::read_to_string(&path).unwrap();
                check(&mut failures, "expected.out.csv", &text);
            } else if f == "out" && path.is_dir() && out.status.success() {
                // An output folder: every file in it is a golden file `expected.out.NAME`.
                let mut inner: Vec<_> = std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()).collect();
                inner.sort();
                for p in inner {
                    let n = p.file_name().unwrap().to_string_lossy().into_owned();
                    if n.ends_with(".png") || n.ends_with(".svg") {
                        // Charts: checked elsewhere (tests/it/charts.rs); here only present and non-empty.
                        if std::fs::metadata(&p).map_or(true, |m| m.len() == 0) {
                            failures.push(format!("[{name}] chart {n} is empty"));
                        }
                        continue;
                    }
                    check(&mut failures, &format!("expected.out.{n}"), &std::fs::read_to_string(&p).unwrap());
                }
            } else {
                failures.push(format!("[{name}] left {f} behind (status {status})"));
            }
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.lines().count() != 1 || stderr.contains("panicked") {
                failures.push(format!("[{name}] an error must be one line without a panic: {stderr}"));
            }
        }
    }
    assert!(count >= 20, "expected the case folders, found {count}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
