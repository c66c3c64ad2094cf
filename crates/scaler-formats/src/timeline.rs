//! `timeline.csv` (SPEC section 5): one row per tick.

use scaler_model::TickRow;

use crate::fmtnum::{format_money, push_fixed9, push_ms_as_seconds, push_u64};

/// The timeline's header (SPEC section 5).
pub const TIMELINE_HEADER: &str = "time_s,current_workers,ready,provisioning,draining,pending_tasks,running_tasks,worker_utilization,window_utilization,action,target_workers,reason,cost\n";

/// Appends one timeline row.
pub fn push_tick_row(b: &mut Vec<u8>, r: &TickRow) {
    push_ms_as_seconds(b, r.time.as_ms());
    for v in [
        u64::from(r.current_workers),
        u64::from(r.ready),
        u64::from(r.provisioning),
        u64::from(r.draining),
        r.pending_tasks,
        r.running_tasks,
    ] {
        b.push(b',');
        push_u64(b, v);
    }
    b.push(b',');
    push_fixed9(b, r.worker_utilization.to_fixed9());
    b.push(b',');
    if let Some(u) = r.decision.window_utilization {
        push_fixed9(b, u);
    }
    b.push(b',');
    b.extend_from_slice(r.decision.action.as_str().as_bytes());
    b.push(b',');
    push_u64(b, u64::from(r.decision.target_workers));
    b.push(b',');
    b.extend_from_slice(r.decision.reason.as_str().as_bytes());
    b.push(b',');
    b.extend_from_slice(format_money(r.cost).as_bytes());
    b.push(b'\n');
}
