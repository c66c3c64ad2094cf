//! `scaler-sim diff RUN_A RUN_B`: two `run` folders compared figure by figure.
//!
//! Each folder must hold the `summary.json` that `run` writes; every metric of
//! [`scaler_model::METRICS`] is read from both, and the change from A to B is given in
//! percent of A. A change from 0 has no percentage: it is reported as [`Change::New`]
//! (both values are still shown), never as an infinity.

use std::path::{Path, PathBuf};

use scaler_formats::error::InputError;
use scaler_model::METRICS;

/// How a figure changed from run A to run B.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    /// `100 * (b - a) / |a|`, with `a != 0`; 0 when both are 0.
    Pct(f64),
    /// A was 0 and B is not: no percentage exists.
    New,
}

impl Change {
    /// The change as text: `+5.3 %`, `-12.0 %`, `0.0 %` or `new`.
    #[must_use]
    pub fn text(self) -> String {
        match self {
            Change::New => "new".to_string(),
            Change::Pct(0.0) => "0.0 %".to_string(),
            Change::Pct(p) => format!("{p:+.1} %"),
        }
    }
}

/// The change from `a` to `b`.
#[must_use]
pub fn change(a: f64, b: f64) -> Change {
    if a == 0.0 {
        if b == 0.0 {
            Change::Pct(0.0)
        } else {
            Change::New
        }
    } else {
        Change::Pct(100.0 * (b - a) / a.abs())
    }
}

/// One figure of the two runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The metric's name, as in `summary.json`.
    pub metric: &'static str,
    /// Run A's value.
    pub a: f64,
    /// Run B's value.
    pub b: f64,
    /// From A to B.
    pub change: Change,
}

/// One run folder's summary, as `diff` reads it.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// The folder.
    pub dir: PathBuf,
    /// The scenario's name and the seed, when `summary.json` records them.
    pub scenario: Option<String>,
    /// The seed.
    pub seed: Option<u64>,
    /// The metrics, in [`METRICS`] order.
    pub values: Vec<f64>,
}

/// The largest `summary.json` read (a run's is under 2 KiB).
const MAX_SUMMARY_BYTES: u64 = 1 << 20;

/// Reads `dir/summary.json`, refusing a folder without one (or with a metric missing or
/// not a number), naming the file and the key.
pub fn read_run(dir: &Path) -> Result<RunSummary, InputError> {
    if !dir.is_dir() {
        return Err(InputError::file(dir, "is not a folder (give two folders `scaler-sim run` wrote)"));
    }
    let path = dir.join("summary.json");
    // A summary is a small regular file: a pipe or a device there is refused, not read.
    if let Ok(m) = std::fs::metadata(&path) {
        if !m.is_file() || m.len() > MAX_SUMMARY_BYTES {
            return Err(InputError::file(&path, "is not a summary `run` wrote (not a regular file of at most 1 MiB)"));
        }
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(InputError::file(
                dir,
                "has no summary.json: it is not a folder `scaler-sim run` wrote (a sweep's folder has recommendation.json instead)",
            ))
        }
        Err(e) => return Err(InputError::file(&path, format!("cannot be read: {e}"))),
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| InputError::file(&path, format!("is not valid JSON: {e}")))?;
    let Some(obj) = v.as_object() else {
        return Err(InputError::file(&path, "is not a JSON object (a run's summary)"));
    };
    let mut values = Vec::with_capacity(METRICS.len());
    for name in METRICS {
        let x = obj
            .get(*name)
            .ok_or_else(|| {
                InputError::file(&path, format!("has no `{name}`: not a summary this version of `run` writes"))
            })?
            .as_f64()
            .ok_or_else(|| InputError::file(&path, format!("`{name}` is not a number")))?;
        values.push(x);
    }
    Ok(RunSummary {
        dir: dir.to_path_buf(),
        scenario: obj.get("scenario").and_then(serde_json::Value::as_str).map(str::to_string),
        seed: obj.get("seed").and_then(serde_json::Value::as_u64),
        values,
    })
}

/// Every metric of the two runs with its change, in [`METRICS`] order.
#[must_use]
pub fn rows(a: &RunSummary, b: &RunSummary) -> Vec<Row> {
    METRICS
        .iter()
        .zip(a.values.iter().zip(&b.values))
        .map(|(m, (&x, &y))| Row { metric: m, a: x, b: y, change: change(x, y) })
        .collect()
}

fn describe(r: &RunSummary) -> String {
    let mut s = r.dir.display().to_string();
    match (&r.scenario, r.seed) {
        (Some(n), Some(seed)) => s.push_str(&format!(" (scenario {n}, seed {seed})")),
        (Some(n), None) => s.push_str(&format!(" (scenario {n})")),
        (None, Some(seed)) => s.push_str(&format!(" (seed {seed})")),
        (None, None) => {}
    }
    s
}

/// The table `diff` prints (values to 4 decimals; `--json` has them in full).
#[must_use]
pub fn text(a: &RunSummary, b: &RunSummary) -> String {
    let mut t = format!("A: {}\nB: {}\n", describe(a), describe(b));
    t.push_str(&format!("{:<22} {:>14} {:>14} {:>10}\n", "metric", "A", "B", "change"));
    for r in rows(a, b) {
        let (x, y) = (crate::report::readable(r.a), crate::report::readable(r.b));
        t.push_str(&format!("{:<22} {x:>14} {y:>14} {:>10}\n", r.metric, r.change.text()));
    }
    t
}

/// The same as one JSON object: `{"a": DIR, "b": DIR, "metrics": [{"metric", "a", "b",
/// "change", "change_pct"}]}` (`change_pct` is absent for a change from 0, whose `change`
/// is `"new"`).
#[must_use]
pub fn json(a: &RunSummary, b: &RunSummary) -> serde_json::Value {
    let metrics: Vec<serde_json::Value> = rows(a, b)
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({ "metric": r.metric, "a": r.a, "b": r.b, "change": r.change.text() });
            if let Change::Pct(p) = r.change {
                v["change_pct"] = serde_json::Value::from(p);
            }
            v
        })
        .collect();
    serde_json::json!({
        "a": a.dir.display().to_string(),
        "b": b.dir.display().to_string(),
        "metrics": metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_percent_of_a_and_a_change_from_zero_is_new() {
        for (a, b, want) in [
            (10.0, 11.0, "+10.0 %"),
            (10.0, 5.0, "-50.0 %"),
            (-4.0, -2.0, "+50.0 %"),
            (3.0, 3.0, "0.0 %"),
            (0.0, 0.0, "0.0 %"),
            (0.0, 7.0, "new"),
            (0.0, -7.0, "new"),
        ] {
            assert_eq!(change(a, b).text(), want, "{a} -> {b}");
        }
        assert_eq!(change(0.0, 1.0), Change::New);
        assert_eq!(change(8.0, 10.0), Change::Pct(25.0));
    }
}
