//! The one integration-test binary of scaler-sim.

mod cases;
mod conformance;
mod fuzz_corpus;
mod hostile;
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

/// Says that a test was skipped and why: `NOTICE: <what> skipped: <var> is not set`, on
/// stdout (shown with `--nocapture`) and written straight to the process's stderr, which
/// libtest does not capture, so that a plain `cargo test` shows it too (`eprintln!` would be
/// captured with the test's output and shown only on failure).
pub fn skip_notice(what: &str, var: &str) {
    use std::io::Write;
    let line = format!("NOTICE: {what} skipped: {var} is not set");
    println!("{line}");
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
