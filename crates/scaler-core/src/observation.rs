//! One sample of the metrics the seed design names, and the one way a pool becomes one.

use alloc::collections::VecDeque;

use crate::units::{DurationMs, Fixed9, TimeMs};
use crate::utilization::Utilization;

/// One sample of the pool's metrics at `timestamp` (SPEC section 1).
///
/// The fields are typed so that an observation cannot hold a negative, NaN or
/// infinite value; [`Observation::new`] refuses a utilization above 1, and
/// [`Observation::from_f64`] checks raw numbers from an embedder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    /// Busy share of the workers' capacity, `0..=1`, exact.
    worker_utilization: Utilization,
    /// The exact pool counts behind the utilization, when the observation was made from a
    /// pool ([`Observation::from_pool`]) or read with them (the observations file's
    /// `ready_workers`, `busy_slots`, `total_slots` columns).
    #[cfg_attr(feature = "serde", serde(default))]
    pool: Option<PoolCounts>,
}

/// The exact counts behind a pool's utilization (SPEC section 6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PoolCounts {
    /// Ready workers (not provisioning, not draining).
    pub ready_workers: u32,
    /// Busy slots of the ready workers.
    pub busy_slots: u64,
    /// Slots of the ready workers.
    pub total_slots: u64,
}

/// What a driver knows of its pool at one instant: the simulator's engine and the
/// runtime's registry and distributor both report this, and
/// [`Observation::from_pool`] turns it into the observation, so both observe alike.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PoolSnapshot {
    /// Workers that are ready (draining workers are not counted).
    pub ready_workers: u32,
    /// Workers requested and not yet ready.
    pub provisioning_workers: u32,
    /// Busy slots of the ready workers (a worker with `k` running tasks has `k` busy slots).
    pub busy_slots: u64,
    /// Task slots per worker (at least 1).
    pub slots_per_worker: u32,
    /// Tasks waiting for a slot.
    pub pending_tasks: u64,
    /// Tasks running anywhere, draining workers included.
    pub running_tasks: u64,
    /// Mean duration of the tasks completed within the metrics window (0 if none);
    /// [`CompletionWindow`] computes it.
    pub avg_task_duration: DurationMs,
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

/// A field that breaks its rule.
fn invalid(field: &'static str, value: impl core::fmt::Display, rule: &'static str) -> ObservationError {
    ObservationError::InvalidField { field, value: alloc::format!("{value}"), rule }
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
        let Some(u) = Utilization::from_fixed9(worker_utilization) else {
            return Err(invalid("worker_utilization", worker_utilization, "must be between 0 and 1"));
        };
        Ok(Observation {
            timestamp,
            current_workers,
            pending_tasks,
            running_tasks,
            avg_task_duration,
            worker_utilization: u,
            pool: None,
        })
    }

    /// The observation of a pool at `timestamp` (SPEC section 6.4): `current_workers` =
    /// ready + provisioning, and the utilization `busy_slots / (ready * slots_per_worker)`
    /// kept exact (1 when no worker is ready and tasks are pending, else 0).
    pub fn from_pool(timestamp: TimeMs, pool: &PoolSnapshot) -> Result<Observation, ObservationError> {
        if pool.slots_per_worker == 0 {
            return Err(invalid("slots_per_worker", 0, "must be >= 1"));
        }
        let current = pool
            .ready_workers
            .checked_add(pool.provisioning_workers)
            .ok_or_else(|| invalid("current_workers", pool.provisioning_workers, "is too large"))?;
        let total_slots = u64::from(pool.ready_workers) * u64::from(pool.slots_per_worker);
        let counts = PoolCounts { ready_workers: pool.ready_workers, busy_slots: pool.busy_slots, total_slots };
        Observation::with_counts(
            timestamp,
            current,
            pool.pending_tasks,
            pool.running_tasks,
            pool.avg_task_duration,
            counts,
        )
    }

    /// An observation whose utilization comes from exact pool counts (what replay does with
    /// the `ready_workers`, `busy_slots`, `total_slots` columns). Refuses more busy than
    /// total slots and more ready workers than current workers.
    pub fn with_counts(
        timestamp: TimeMs,
        current_workers: u32,
        pending_tasks: u64,
        running_tasks: u64,
        avg_task_duration: DurationMs,
        counts: PoolCounts,
    ) -> Result<Observation, ObservationError> {
        let Some(u) = Utilization::of_pool(counts.busy_slots, counts.total_slots, pending_tasks) else {
            return Err(invalid("busy_slots", counts.busy_slots, "must be <= total_slots"));
        };
        if counts.ready_workers > current_workers {
            return Err(invalid("ready_workers", counts.ready_workers, "must be <= current_workers"));
        }
        Ok(Observation {
            timestamp,
            current_workers,
            pending_tasks,
            running_tasks,
            avg_task_duration,
            worker_utilization: u,
            pool: Some(counts),
        })
    }

    /// The same observation at another time (a stale sample re-delivered).
    #[must_use]
    pub fn at(mut self, timestamp: TimeMs) -> Observation {
        self.timestamp = timestamp;
        self
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
        fn count(field: &'static str, x: f64, max: f64) -> Result<u64, ObservationError> {
            if !x.is_finite() {
                return Err(invalid(field, x, "must be a finite number"));
            }
            if x < 0.0 {
                return Err(invalid(field, x, "must not be negative"));
            }
            if x > max {
                return Err(invalid(field, x, "is too large"));
            }
            // Finite, non-negative and within range: the cast is exact for whole numbers.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = x as u64;
            #[allow(clippy::cast_precision_loss)]
            if n as f64 != x {
                return Err(invalid(field, x, "must be a whole number"));
            }
            Ok(n)
        }
        let workers = count("current_workers", current_workers, f64::from(u32::MAX))?;
        let pending = count("pending_tasks", pending_tasks, 9.0e15)?;
        let running = count("running_tasks", running_tasks, 9.0e15)?;
        if !avg_task_duration_s.is_finite() || avg_task_duration_s < 0.0 {
            return Err(invalid("avg_task_duration_s", avg_task_duration_s, "must be a finite number >= 0"));
        }
        let avg = crate::units::DurationMs::parse_seconds(&alloc::format!("{avg_task_duration_s}")).map_err(|_| {
            invalid(
                "avg_task_duration_s",
                avg_task_duration_s,
                "must be a duration in seconds that rounds to at least 1 ms",
            )
        })?;
        if !worker_utilization.is_finite() {
            return Err(invalid("worker_utilization", worker_utilization, "must be a finite number"));
        }
        let util = Fixed9::from_f64(worker_utilization)
            .ok_or_else(|| invalid("worker_utilization", worker_utilization, "must be between 0 and 1"))?;
        let workers =
            u32::try_from(workers).map_err(|_| invalid("current_workers", current_workers, "is too large"))?;
        Observation::new(timestamp, workers, pending, running, avg, util)
    }

    /// Busy share of the workers' capacity, `0..=1`, exact.
    #[must_use]
    pub fn worker_utilization(&self) -> Utilization {
        self.worker_utilization
    }

    /// The exact pool counts, when known.
    #[must_use]
    pub fn pool(&self) -> Option<PoolCounts> {
        self.pool
    }

    /// Ready workers: the exact count when known, else every current worker.
    #[must_use]
    pub fn ready_workers(&self) -> u32 {
        self.pool.map_or(self.current_workers, |p| p.ready_workers)
    }

    /// One row of the observations file (SPEC section 5), with its line end, in the
    /// column order of [`OBSERVATIONS_HEADER`]: the six columns of the contract, then the
    /// exact counts (`ready_workers,busy_slots,total_slots`, empty when unknown).
    /// Pure formatting: writing it is the embedder's job.
    #[must_use]
    pub fn csv_row(&self) -> alloc::string::String {
        let exact = match self.pool {
            Some(p) => alloc::format!("{},{},{}", p.ready_workers, p.busy_slots, p.total_slots),
            None => alloc::string::String::from(",,"),
        };
        alloc::format!(
            "{},{},{},{},{},{},{exact}\n",
            self.timestamp,
            self.current_workers,
            self.pending_tasks,
            self.running_tasks,
            self.avg_task_duration,
            self.worker_utilization
        )
    }
}

/// The header line of the observations file, with its line end: the contract's six columns,
/// then the exact pool counts that make a replay of a recording exact.
pub const OBSERVATIONS_HEADER: &str = "timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization,ready_workers,busy_slots,total_slots\n";

/// The durations of tasks completed within the metrics window, for `avg_task_duration_s`
/// (SPEC section 6.4): completions are recorded as they happen and their mean read at a
/// tick, O(1) amortized.
#[derive(Clone, Debug, Default)]
pub struct CompletionWindow {
    /// `(completion time, summed duration ms, count)`, oldest first; one entry per instant.
    entries: VecDeque<(TimeMs, u128, u64)>,
    sum_ms: u128,
    count: u64,
}

impl CompletionWindow {
    /// An empty window.
    #[must_use]
    pub fn new() -> CompletionWindow {
        CompletionWindow::default()
    }

    /// Records a task of `duration` completed at `at` (times must not decrease).
    #[inline]
    pub fn record(&mut self, at: TimeMs, duration: DurationMs) {
        match self.entries.back_mut() {
            Some((t, s, c)) if *t == at => {
                *s += u128::from(duration.as_ms());
                *c += 1;
            }
            _ => self.entries.push_back((at, u128::from(duration.as_ms()), 1)),
        }
        self.sum_ms += u128::from(duration.as_ms());
        self.count += 1;
    }

    /// The mean duration of the tasks completed in `(now - window, now]`, rounded to the
    /// millisecond (halves up); 0 when none. Forgets what has left the window.
    pub fn mean_at(&mut self, now: TimeMs, window: DurationMs) -> DurationMs {
        while let Some(&(t, s, c)) = self.entries.front() {
            if u128::from(t.as_ms()) + u128::from(window.as_ms()) > u128::from(now.as_ms()) {
                break;
            }
            self.entries.pop_front();
            self.sum_ms -= s;
            self.count -= c;
        }
        if self.count == 0 {
            return DurationMs::ZERO;
        }
        let c = u128::from(self.count);
        DurationMs(u64::try_from((self.sum_ms + c / 2) / c).unwrap_or(u64::MAX))
    }
}
