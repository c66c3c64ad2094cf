//! The one integration-test binary of scaler-sim.

mod cases;
mod conformance;
mod fuzz_corpus;
mod replay;
mod run;
mod sweep;

use std::path::{Path, PathBuf};
use std::process::Output;

/// The built `scaler-sim` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_scaler-sim"))
}

/// Runs `scaler-sim` with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(bin()).args(args).current_dir(dir).output().expect("run scaler-sim")
}

/// Compares `actual` with the golden file `path`, or rewrites it when `UPDATE_GOLDEN=1`.
pub fn golden(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(path, actual).unwrap();
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| format!("<missing {}>", path.display()));
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{} differs (rerun with UPDATE_GOLDEN=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ))
    }
}
