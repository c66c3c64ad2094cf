//! The wall-clock time of a trace's 0: `import` writes it into `TRACE.meta.json` beside the
//! trace it writes, with the trace's SHA-256, and charts and summaries read it back from
//! there, but only while the hash still matches (a trace edited or regenerated since has no
//! origin rather than a wrong one).

use std::io::Read;
use std::path::{Path, PathBuf};

/// The most a meta file may hold (it is a few hundred bytes).
const MAX_META_BYTES: u64 = 1 << 20;

/// The meta file of an imported `output`: `output` with `.meta.json` appended.
#[must_use]
pub fn meta_path(output: &Path) -> PathBuf {
    let mut s = output.as_os_str().to_os_string();
    s.push(".meta.json");
    PathBuf::from(s)
}

/// What is known of a trace's wall-clock origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceOrigin {
    /// No meta file beside the trace (or one without an origin).
    Unknown,
    /// Time 0 of the trace is this many ms after the Unix epoch.
    Known(i64),
    /// A meta file is there but describes another file (its `sha256` differs): ignored.
    Stale(PathBuf),
}

impl TraceOrigin {
    /// The origin, when known.
    #[must_use]
    pub fn unix_ms(&self) -> Option<i64> {
        match self {
            TraceOrigin::Known(ms) => Some(*ms),
            _ => None,
        }
    }
}

/// Reads the origin of `trace` from its meta file, checking the trace's SHA-256 against it.
/// Any problem with the meta file (absent, unreadable, not JSON, no origin) is `Unknown`:
/// the origin only labels charts, and never decides anything.
#[must_use]
pub fn trace_origin(trace: &Path) -> TraceOrigin {
    let meta = meta_path(trace);
    // Only a regular file: a pipe or a device there must not block a run.
    if !std::fs::metadata(&meta).is_ok_and(|m| m.is_file()) || !std::fs::metadata(trace).is_ok_and(|m| m.is_file()) {
        return TraceOrigin::Unknown;
    }
    let Ok(file) = std::fs::File::open(&meta) else { return TraceOrigin::Unknown };
    let mut text = String::new();
    if file.take(MAX_META_BYTES).read_to_string(&mut text).is_err() {
        return TraceOrigin::Unknown;
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { return TraceOrigin::Unknown };
    let (Some(ms), Some(sha)) = (v["origin_unix_ms"].as_i64(), v["sha256"].as_str()) else {
        return TraceOrigin::Unknown;
    };
    match sha256_file(trace) {
        Ok((actual, _)) if actual == sha => TraceOrigin::Known(ms),
        Ok(_) => TraceOrigin::Stale(meta),
        Err(_) => TraceOrigin::Unknown,
    }
}

/// The SHA-256 (lowercase hex) of a file's content, streamed, and its size in bytes: the
/// one fingerprint of inputs (a trace's meta file, a sweep's change detection).
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        len += n as u64;
    }
    Ok((format!("{:x}", h.finalize()), len))
}

/// `unix_ms` as RFC 3339 in UTC (`2024-03-01T12:00:00Z`), or the number if out of range.
#[must_use]
pub fn format_utc(unix_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(unix_ms)
        .map_or_else(|_| format!("{unix_ms} ms after the epoch"), |t| t.to_string())
}

/// The wall-clock time `hours` after `origin_ms`, short, for a chart's axis (`03-01 14:00`).
#[must_use]
pub fn axis_label(origin_ms: i64, hours: f64) -> String {
    #[allow(clippy::cast_possible_truncation)]
    let ms = origin_ms.saturating_add((hours * 3_600_000.0).round() as i64);
    jiff::Timestamp::from_millisecond(ms)
        .map_or_else(|_| format!("{hours:.1}"), |t| t.strftime("%m-%d %H:%M").to_string())
}
