//! The one integration-test binary of scaler-sim.

mod adaptive;
mod cases;
mod conformance;
mod conformance_arc;
mod conformance_keda;
mod conformance_kpa;
mod fuzz_corpus;
mod hostile;
mod import_jobs;
mod import_metrics;
mod manifest_export;
mod replay;
mod report;
mod run;
mod seeds;
mod shard;
mod sweep;
mod sweep_trust;

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

/// Runs `scaler-sim` with `args` in `dir` under an address-space limit of `mem_mib` MiB and
/// a wall-clock limit: a regression that exhausts memory or hangs fails the test (with what
/// happened), not the machine.
pub fn run_limited(dir: &Path, args: &[&str], mem_mib: u64, timeout: std::time::Duration) -> Output {
    use std::io::Read;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", mem_mib * 1024))
        .arg(bin())
        .args(args)
        .current_dir(dir)
        // Per-thread malloc arenas reserve address space they never use.
        .env("MALLOC_ARENA_MAX", "2")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run scaler-sim");
    // Drain both pipes on threads, so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scaler-sim {args:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let stdout = t_out.join().expect("reader");
    let stderr = t_err.join().expect("reader");
    Output { status, stdout, stderr }
}

/// Runs `conformance POLICY` on the shared `POLICY_vectors.json` (from `SCALER_CONFORMANCE`)
/// and returns its standard output, after checking that it exited 0; `None`, with a notice,
/// when the folder is not given. `system` names whose vectors they are, for the notice.
pub fn shared_conformance(policy: &str, system: &str) -> Option<String> {
    let Some(dir) = std::env::var_os("SCALER_CONFORMANCE") else {
        skip_notice(
            &format!("`conformance {policy}` on {system} vectors (CI sets it to ../shared/conformance)"),
            "SCALER_CONFORMANCE",
        );
        return None;
    };
    let file = Path::new(&dir).join(format!("{policy}_vectors.json"));
    let out = run_in(Path::new("."), &["conformance", policy, file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    Some(text)
}

/// The page `page` as headless Chromium (`SCALER_CHROMIUM`) leaves it after its scripts ran
/// with `#selftest`, and what Chromium logged; `None`, with a notice naming `what`, when the
/// variable is not set (`.ci/run` installs Debian's chromium and sets it).
pub fn browser(page: &Path, what: &str) -> Option<(String, String)> {
    let Some(chromium) = std::env::var_os("SCALER_CHROMIUM") else {
        skip_notice(what, "SCALER_CHROMIUM");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}#selftest", page.canonicalize().unwrap().display()))
        .output()
        .expect("run chromium");
    Some((String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// A task trace of bursts and lulls: `tasks` arrivals, alternating every `burst` tasks
/// between gaps of `gaps_ms[0]` and `gaps_ms[1]`, durations of 2 to 26 s drawn by an LCG from
/// `seed`; arrivals in ms (`12.345`) or, with `whole_seconds`, truncated to the second.
pub fn bursty_trace(seed: u64, tasks: u64, burst: u64, gaps_ms: [u64; 2], whole_seconds: bool) -> String {
    let mut t = String::from("arrival_s,duration_s\n");
    let mut x = seed;
    let mut at = 0u64;
    for i in 0..tasks {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        at += gaps_ms[usize::from(!(i / burst).is_multiple_of(2))];
        let d = 2 + (x >> 40) % 25;
        if whole_seconds {
            t.push_str(&format!("{},{d}\n", at / 1000));
        } else {
            t.push_str(&format!("{}.{:03},{d}\n", at / 1000, at % 1000));
        }
    }
    t
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
