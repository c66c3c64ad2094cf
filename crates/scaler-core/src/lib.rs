//! `scaler-core`: a pure auto-scaling decision engine.
//!
//! It holds the metrics window and the scale-up / scale-down rules, as pure
//! functions over an injected clock and injected metrics. It performs no IO,
//! reads no clock, draws no random numbers and starts no threads: it is
//! `no_std` (with `alloc`), so it cannot.
//!
//! The behaviour is the contract in `SPEC.md` sections 1 to 4: a configuration
//! validated once ([`ScalerConfig`]), a half-open metrics window with exact
//! aggregates ([`MetricsWindow`]), the seed's threshold policy and the policies people
//! run (Kubernetes HPA, KEDA, Knative's KPA, AWS step scaling, queue-based, predictive),
//! one module each in [`policy`] (each system's own arithmetic in [`hpa`], [`keda`],
//! [`kpa`] and [`arc`]), and the stateful [`Scaler`] that every driver steps the same way:
//! [`Scaler::tick`] with the tick's observation, then [`Scaler::outcome`] with what
//! became of a scaling. [`Observation::from_pool`] is the one way a pool's state
//! becomes an observation.
//!
//! ```
//! use scaler_core::{Action, DurationMs, Observation, Outcome, PoolSnapshot, Reason, Scaler, ScalerConfig, TimeMs};
//!
//! let config = ScalerConfig::builder()
//!     .min_workers(1)
//!     .max_workers(8)
//!     .cooldown_period(DurationMs::from_secs(120))
//!     .build()?;
//! let mut scaler = Scaler::new(config);
//!
//! // The embedder samples its pool and passes the time in: 4 ready workers, 4 busy slots.
//! let now = TimeMs(60_000);
//! let pool = PoolSnapshot {
//!     ready_workers: 4,
//!     provisioning_workers: 0,
//!     busy_slots: 4,
//!     slots_per_worker: 1,
//!     pending_tasks: 12,
//!     running_tasks: 4,
//!     avg_task_duration: DurationMs::from_secs(30),
//! };
//! let tick = scaler.tick(now, Some(Observation::from_pool(now, &pool)?))?;
//! let d = tick.decision;
//! assert_eq!((d.action, d.target_workers, d.reason), (Action::ScaleUp, 6, Reason::UtilizationHigh));
//!
//! // The cooldown starts only once the embedder reports that the scaling was applied.
//! scaler.outcome(tick.ticket.expect("a scaling has a ticket"), Outcome::Applied)?;
//! let next = scaler.next_tick(now);
//! assert_eq!(next, TimeMs(120_000));
//! let pool = PoolSnapshot { ready_workers: 6, busy_slots: 6, pending_tasks: 3, running_tasks: 6, ..pool };
//! let tick = scaler.tick(next, Some(Observation::from_pool(next, &pool)?))?;
//! assert_eq!(tick.decision.reason, Reason::Cooldown);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod arc;
mod config;
mod decision;
mod exact;
pub mod hpa;
pub mod keda;
pub mod kpa;
mod observation;
pub mod policy;
mod read;
mod scaler;
mod units;
mod utilization;
mod window;

pub use config::{suggest, Aggregate, ConfigBuilder, ConfigError, ConfigValue, ScalerConfig, Step, KEYS};
pub use decision::{Action, Decision, Reason};
pub use observation::{CompletionWindow, Observation, ObservationError, PoolCounts, PoolSnapshot, OBSERVATIONS_HEADER};
pub use policy::{PolicyConfig, PolicyKind, PolicyState};
pub use scaler::{
    Outcome, OutcomeError, RestoreError, Scaler, ScalerSnapshot, StepError, Tick, Ticket, SNAPSHOT_VERSION,
};
pub use units::{parse_count, Decimal, DecimalError, DurationMs, DurationTextError, Fixed9, TimeMs};
pub use utilization::Utilization;
pub use window::{ClockError, MetricsWindow, WindowSummary};
