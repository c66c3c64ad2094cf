//! One sample of the metrics the seed design names.

use crate::units::{DurationMs, Fixed9, TimeMs};

/// One sample of the pool's metrics at `timestamp` (SPEC section 1).
///
/// The fields are typed so that an observation cannot hold a negative, NaN or
/// infinite value; [`Observation::new`] refuses a utilization above 1, and
/// [`Observation::from_f64`] checks raw numbers from an embedder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Observation {
    /// When the sample was taken.
    pub timestamp: TimeMs,
    /// Provisioning plus ready workers.
    pub current_workers: u32,
    /// Tasks waiting in the queue.
    pub pending_tasks: u64,
    /// Tasks running anywhere.
    pub running_tasks: u64,
    /// Mean duration of recently completed tasks.
    pub avg_task_duration: DurationMs,
    /// Busy share of the workers' capacity, `0..=1`.
    worker_utilization: Fixed9,
}

/// Why an observation was refused. A refused observation leaves the window unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObservationError {
    /// Older than the newest observation already taken.
    #[error("timestamp_s {timestamp} is older than the newest observation already taken ({newest}); observations must arrive in non-decreasing time order")]
    OutOfOrder {
        /// The refused observation's time.
        timestamp: TimeMs,
        /// The newest time already taken.
        newest: TimeMs,
    },
    /// A field is negative, NaN, infinite, too large, or (utilization) above 1.
    #[error("{field} = {value}: {rule}")]
    InvalidField {
        /// The field's name as in the observations file.
        field: &'static str,
        /// The value as given.
        value: alloc::string::String,
        /// The rule it breaks.
        rule: &'static str,
    },
}

impl Observation {
    /// An observation from typed values; refuses a utilization above 1.
    pub fn new(
        timestamp: TimeMs,
        current_workers: u32,
        pending_tasks: u64,
        running_tasks: u64,
        avg_task_duration: DurationMs,
        worker_utilization: Fixed9,
    ) -> Result<Observation, ObservationError> {
        if worker_utilization > Fixed9::ONE {
            return Err(ObservationError::InvalidField {
                field: "worker_utilization",
                value: alloc::format!("{worker_utilization}"),
                rule: "must be between 0 and 1",
            });
        }
        Ok(Observation {
            timestamp,
            current_workers,
            pending_tasks,
            running_tasks,
            avg_task_duration,
            worker_utilization,
        })
    }

    /// An observation from raw numbers as an embedder might collect them.
    ///
    /// Refuses negative, NaN or infinite values, fractional counts and a utilization above 1.
    pub fn from_f64(
        timestamp: TimeMs,
        current_workers: f64,
        pending_tasks: f64,
        running_tasks: f64,
        avg_task_duration_s: f64,
        worker_utilization: f64,
    ) -> Result<Observation, ObservationError> {
        fn bad(field: &'static str, x: f64, rule: &'static str) -> ObservationError {
            ObservationError::InvalidField { field, value: alloc::format!("{x}"), rule }
        }
        fn count(field: &'static str, x: f64, max: f64) -> Result<u64, ObservationError> {
            if !x.is_finite() {
                return Err(bad(field, x, "must be a finite number"));
            }
            if x < 0.0 {
                return Err(bad(field, x, "must not be negative"));
            }
            if x > max {
                return Err(bad(field, x, "is too large"));
            }
            // Finite, non-negative and within range: the cast is exact for whole numbers.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = x as u64;
            #[allow(clippy::cast_precision_loss)]
            if n as f64 != x {
                return Err(bad(field, x, "must be a whole number"));
            }
            Ok(n)
        }
        let workers = count("current_workers", current_workers, f64::from(u32::MAX))?;
        let pending = count("pending_tasks", pending_tasks, 9.0e15)?;
        let running = count("running_tasks", running_tasks, 9.0e15)?;
        if !avg_task_duration_s.is_finite() || avg_task_duration_s < 0.0 {
            return Err(bad("avg_task_duration_s", avg_task_duration_s, "must be a finite number >= 0"));
        }
        let avg = crate::units::DurationMs::parse_seconds(&alloc::format!("{avg_task_duration_s}")).map_err(|_| {
            bad(
                "avg_task_duration_s",
                avg_task_duration_s,
                "must be a duration in seconds that rounds to at least 1 ms",
            )
        })?;
        if !worker_utilization.is_finite() {
            return Err(bad("worker_utilization", worker_utilization, "must be a finite number"));
        }
        let util = Fixed9::from_f64(worker_utilization)
            .ok_or_else(|| bad("worker_utilization", worker_utilization, "must be between 0 and 1"))?;
        let workers = u32::try_from(workers).map_err(|_| bad("current_workers", current_workers, "is too large"))?;
        Observation::new(timestamp, workers, pending, running, avg, util)
    }

    /// Busy share of the workers' capacity, `0..=1`.
    #[must_use]
    pub fn worker_utilization(&self) -> Fixed9 {
        self.worker_utilization
    }

    /// One row of the observations file (SPEC section 5), with its line end, in the
    /// column order of [`OBSERVATIONS_HEADER`]. Pure formatting: writing it is the embedder's job.
    #[must_use]
    pub fn csv_row(&self) -> alloc::string::String {
        alloc::format!(
            "{},{},{},{},{},{}\n",
            self.timestamp,
            self.current_workers,
            self.pending_tasks,
            self.running_tasks,
            self.avg_task_duration,
            self.worker_utilization
        )
    }
}

/// The header line of the observations file, with its line end.
pub const OBSERVATIONS_HEADER: &str =
    "timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n";
