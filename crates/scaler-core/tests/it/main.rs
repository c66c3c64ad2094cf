//! The one integration-test binary of scaler-core.

mod arc;
mod arc_policy;
mod config;
mod exact;
mod hpa_extremes;
mod hpa_vectors;
mod keda;
mod keda_policy;
mod kpa;
mod kpa_policy;
mod model;
mod policies;
mod purity;
mod rules;
mod snapshot;
mod step;
mod target_tracking;
mod units;
mod window;

use scaler_core::{ConfigValue, DurationMs, Fixed9, Observation, ScalerConfig, TimeMs};

/// A configuration from TOML text (the `[scaler]` keys), panicking on error (tests only).
pub fn cfg(toml_text: &str) -> ScalerConfig {
    try_cfg(toml_text).unwrap_or_else(|e| panic!("config {toml_text:?}: {e}"))
}

/// A configuration from TOML text, or the error's message.
pub fn try_cfg(toml_text: &str) -> Result<ScalerConfig, String> {
    let table: std::collections::BTreeMap<String, ConfigValue> =
        toml::from_str(toml_text).map_err(|e| e.to_string())?;
    ScalerConfig::from_pairs(table.iter().map(|(k, v)| (k.as_str(), v))).map_err(|e| e.to_string())
}

/// An observation from seconds and a decimal utilization.
pub fn obs(t_s: &str, workers: u32, pending: u64, util: &str) -> Observation {
    Observation::new(
        TimeMs::parse_seconds(t_s).unwrap(),
        workers,
        pending,
        0,
        DurationMs::ZERO,
        Fixed9::parse(util).unwrap(),
    )
    .unwrap()
}

/// Reports the pending scaling decision (if any) as applied: what replay does.
pub fn applied(s: &mut scaler_core::Scaler) {
    if let Some(t) = s.pending_ticket() {
        s.outcome(t, scaler_core::Outcome::Applied).unwrap();
    }
}

/// One step as the simulator takes it: `Scaler::tick` at `t_s` with an observation of
/// `(workers, pending, running)` (10 s tasks, utilization 0.5) or none, every scaling
/// applied; returns `action target reason`.
pub fn step(s: &mut scaler_core::Scaler, t_s: u64, o: Option<(u32, u64, u64)>) -> String {
    let now = TimeMs(t_s * 1000);
    let obs = o.map(|(n, p, r)| {
        Observation::new(now, n, p, r, DurationMs::from_secs(10), Fixed9::parse("0.5").unwrap()).unwrap()
    });
    let tick = s.tick(now, obs).unwrap();
    if let Some(k) = tick.ticket {
        s.outcome(k, scaler_core::Outcome::Applied).unwrap();
    }
    let d = tick.decision;
    format!("{} {} {}", d.action, d.target_workers, d.reason)
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
