//! Entry points for fuzzing: each takes arbitrary bytes and must neither panic, hang nor
//! use unbounded memory. The `fuzz/` targets call them under libFuzzer; an integration
//! test replays the committed corpus through them on every CI run.

use std::path::{Path, PathBuf};

use scaler_core::{DurationMs, Fixed9, Observation, Outcome, Scaler, ScalerConfig, TimeMs};

use scaler_formats::csvio::CsvReader;
use scaler_formats::observations::ObservationReader;
use scaler_formats::scenario::{self, DurationDist, DurationSpec, Overrides, Spread, TraceFormat, TraceSpec};
use scaler_formats::tomldoc::Doc;
use scaler_formats::trace;

/// The most rows or tasks one input is read for (a rate row may ask for billions of tasks).
const MAX_ITEMS: usize = 20_000;

/// The observations reader on arbitrary bytes.
pub fn observations_csv(data: &[u8]) {
    let Ok(csv) = CsvReader::new(data, Path::new("fuzz.csv")) else { return };
    let Ok(mut r) = ObservationReader::from_csv(csv) else { return };
    let mut scaler = Scaler::new(ScalerConfig::default());
    for _ in 0..MAX_ITEMS {
        match r.next_observation() {
            Ok(Some(Ok(o))) => {
                if scaler.observe(o).is_ok() {
                    let _ = scaler.decide(o.timestamp);
                }
            }
            Ok(Some(Err(_))) => {}
            Ok(None) | Err(_) => return,
        }
    }
}

/// Both trace readers (tasks, rates with even and Poisson spreading) on arbitrary bytes.
pub fn trace_csv(data: &[u8]) {
    let specs = [
        (Some(TraceFormat::Tasks), Spread::Even, None),
        (Some(TraceFormat::Rates), Spread::Even, Some(DurationSpec::Constant(DurationMs(1000)))),
        (
            Some(TraceFormat::Rates),
            Spread::Poisson,
            Some(DurationSpec::Dist(DurationDist::Exponential { mean_s: 3.0 })),
        ),
        (None, Spread::Even, None),
    ];
    for (format, spread, duration) in specs {
        let spec = TraceSpec { path: PathBuf::from("fuzz.csv"), format, spread, duration };
        let owned = data.to_vec();
        let Ok(csv) = CsvReader::new(std::io::Cursor::new(owned), Path::new("fuzz.csv")) else { return };
        let Ok(mut src) = trace::from_reader(csv, &spec, 7) else { continue };
        for _ in 0..MAX_ITEMS {
            match src.next_task() {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
}

/// The scenario and configuration parser, sweeps included, on arbitrary bytes.
pub fn scenario_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = Doc::parse(Path::new("fuzz.toml"), text.to_string()) else { return };
    let _ = scenario::scaler_config(&doc);
    let o = Overrides { trace: Some(PathBuf::from("fuzz.csv")), ..Overrides::default() };
    if let Ok(sc) = scenario::from_doc(&doc, &o) {
        if let Ok(spec) = crate::sweep::parse_spec(&doc, &sc) {
            for i in 0..spec.settings().min(8) {
                let _ = crate::sweep::setting_scenario(&doc, &spec, i);
            }
        }
    }
    let mut d2 = doc.clone();
    let _ = d2.set_override(text.lines().next().unwrap_or(""));
}

fn u64_at(data: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    for (k, slot) in b.iter_mut().enumerate() {
        *slot = data.get(i + k).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

/// Sequences of observe / decide / record calls on the core with arbitrary numbers,
/// times going backwards and extreme values, under every policy.
pub fn core_ops(data: &[u8]) {
    let Some(&first) = data.first() else { return };
    let policy = ["threshold", "hpa", "step", "queue", "predictive"][usize::from(first % 5)];
    let text = format!(
        "policy = \"{policy}\"\nmin_workers = {}\nmax_workers = {}\ncooldown_period = {}\nmetrics_window = {}\nevaluation_interval = 7\nwarmup_period = {}\n[predictive]\nseason_s = 70\n",
        first % 3,
        3 + u64::from(first % 40),
        u64::from(first % 7) * 10,
        1 + u64::from(first % 11) * 13,
        u64::from(first % 2) * 30,
    );
    let Ok(table) = toml::from_str::<std::collections::BTreeMap<String, scaler_core::ConfigValue>>(&text) else {
        return;
    };
    let Ok(cfg) = ScalerConfig::from_pairs(table.iter().map(|(k, v)| (k.as_str(), v))) else { return };
    let mut s = Scaler::new(cfg);
    let mut i = 1;
    while i + 17 <= data.len() && i < 16 * 4096 {
        let op = data[i];
        let t = TimeMs(u64_at(data, i + 1) % (1 << 40));
        let v = u64_at(data, i + 9);
        match op % 4 {
            0 | 1 => {
                let n = u32::try_from(v % 5000).unwrap_or(0);
                let util = Fixed9::from_units(v % 1_000_000_001);
                if let Ok(o) = Observation::new(t, n, v >> 40, v >> 50, DurationMs(v % 100_000), util) {
                    let _ = s.observe(o);
                }
            }
            2 => {
                if let Ok(d) = s.decide(t) {
                    if let Some(ticket) = s.pending_ticket() {
                        let outcome = if v % 3 != 0 { Outcome::Applied } else { Outcome::Failed };
                        assert!(d.is_scaling());
                        let _ = s.outcome(ticket, outcome);
                    }
                }
            }
            _ => {
                let _ = s.next_tick(t);
                let raw = Observation::from_f64(
                    t,
                    f64::from_bits(v),
                    f64::from_bits(v.rotate_left(7)),
                    1.0,
                    f64::from_bits(v ^ 0x55),
                    f64::from_bits(v >> 3),
                );
                if let Ok(o) = raw {
                    let _ = s.observe(o);
                }
            }
        }
        i += 17;
    }
}
