//! `scaler-sim replay`: recorded observations through the engine, open loop.
//!
//! Every observation is taken into the window and a decision is made at its
//! timestamp; a scaling decision is assumed to succeed (the cooldown starts
//! then). The decisions do not feed back into the observations.

use std::io::Write;
use std::path::Path;

use scaler_core::{Action, Decision, Outcome, Scaler, ScalerConfig};

use crate::error::{InputError, Location, SimError};
use crate::fmtnum::{push_fixed9, push_ms_as_seconds, push_u64};
use crate::observations::{for_each_batch, ObservationReader};
use crate::output::Chunked;

/// The decisions file's header (SPEC section 5).
pub const DECISIONS_HEADER: &str =
    "timestamp_s,action,target_workers,reason,window_utilization,current_workers,pending_tasks\n";

/// What a replay did.
#[derive(Debug, Default)]
pub struct ReplayReport {
    /// Decisions written.
    pub rows: u64,
    /// Invalid rows skipped (with `skip_invalid`).
    pub skipped: u64,
    /// The first invalid row skipped.
    pub first_skipped: Option<InputError>,
    /// Scale-up decisions.
    pub scale_ups: u64,
    /// Scale-down decisions.
    pub scale_downs: u64,
    /// An invalid last row without a line end (what a crash or a full disk leaves of a row
    /// being recorded), skipped in any case.
    pub torn_last_row: Option<InputError>,
}

/// Replays the observations file at `observations` through a scaler with `config`,
/// writing the decisions CSV to `out` (named `out_name` in errors).
///
/// An invalid row stops the replay with its error, unless `skip_invalid`, in which
/// case it is counted and skipped (an out-of-order row included).
pub fn replay<W: Write>(
    config: &ScalerConfig,
    observations: &Path,
    out: &mut W,
    out_name: &Path,
    skip_invalid: bool,
) -> Result<ReplayReport, SimError> {
    let mut scaler = Scaler::new(config.clone());
    let mut w = Chunked::new(out, out_name);
    w.buf.extend_from_slice(DECISIONS_HEADER.as_bytes());
    let mut report = ReplayReport::default();
    let skip = |e: InputError, report: &mut ReplayReport| -> Result<(), SimError> {
        if !skip_invalid {
            return Err(e.into());
        }
        report.skipped += 1;
        report.first_skipped.get_or_insert(e);
        Ok(())
    };
    let reader = ObservationReader::open(observations)?;
    let ts_column = reader.timestamp_column();
    let at_timestamp = |line: u64, message: String| InputError {
        path: observations.to_path_buf(),
        location: Location::Field(line, ts_column, "timestamp_s".into()),
        message,
    };
    for_each_batch(reader, |rows| {
        for row in rows {
            let obs = match &row.obs {
                Ok(o) => *o,
                Err(e) if row.torn => {
                    report.torn_last_row = Some(e.clone());
                    continue;
                }
                Err(e) => {
                    skip(e.clone(), &mut report)?;
                    continue;
                }
            };
            // The core's one step, deciding at the observation's own time; an observation
            // refused by the window (out of order) is an invalid row.
            let tick = match scaler.tick(obs.timestamp, Some(obs)) {
                Ok(t) => t,
                Err(e) => {
                    skip(at_timestamp(row.line, e.to_string()), &mut report)?;
                    continue;
                }
            };
            let d = tick.decision;
            match d.action {
                Action::ScaleUp => report.scale_ups += 1,
                Action::ScaleDown => report.scale_downs += 1,
                Action::Hold => {}
            }
            if let Some(ticket) = tick.ticket {
                // Replay assumes every scaling succeeds.
                scaler.outcome(ticket, Outcome::Applied).map_err(|e| at_timestamp(row.line, e.to_string()))?;
            }
            push_decision(&mut w.buf, &d);
            report.rows += 1;
            w.maybe_flush()?;
        }
        Ok(())
    })?;
    w.flush()?;
    Ok(report)
}

/// Appends one decision as a row of the decisions file (with its line end).
pub fn push_decision(b: &mut Vec<u8>, d: &Decision) {
    push_ms_as_seconds(b, d.at.as_ms());
    b.push(b',');
    b.extend_from_slice(d.action.as_str().as_bytes());
    b.push(b',');
    push_u64(b, u64::from(d.target_workers));
    b.push(b',');
    b.extend_from_slice(d.reason.as_str().as_bytes());
    b.push(b',');
    if let Some(u) = d.window_utilization {
        push_fixed9(b, u);
    }
    b.push(b',');
    push_u64(b, u64::from(d.current_workers));
    b.push(b',');
    push_u64(b, d.pending_tasks);
    b.push(b'\n');
}
