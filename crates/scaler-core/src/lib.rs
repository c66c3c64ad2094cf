//! `scaler-core`: a pure auto-scaling decision engine.
//!
//! It holds the metrics window and the scale-up / scale-down rules, as pure
//! functions over an injected clock and injected metrics. It performs no IO,
//! reads no clock, draws no random numbers and starts no threads: it is
//! `no_std` (with `alloc`), so it cannot.
//!
//! The behaviour is the contract in `SPEC.md` sections 1 to 4: a configuration
//! validated once ([`ScalerConfig`]), a half-open metrics window
//! ([`MetricsWindow`]), and the seed's threshold policy ([`threshold::decide`]),
//! wrapped for embedders in a small stateful [`Scaler`].
//!
//! ```
//! use scaler_core::{Action, DurationMs, Fixed9, Observation, Reason, Scaler, ScalerConfig, TimeMs};
//!
//! let config = ScalerConfig::builder()
//!     .min_workers(1)
//!     .max_workers(8)
//!     .cooldown_period(DurationMs::from_secs(120))
//!     .build()?;
//! let mut scaler = Scaler::new(config);
//!
//! // The embedder samples its pool and passes the time in.
//! let now = TimeMs(60_000);
//! let util = Fixed9::parse("0.95").unwrap();
//! scaler.observe(Observation::new(now, 4, 12, 4, DurationMs::from_secs(30), util)?)?;
//! let d = scaler.decide(now)?;
//! assert_eq!((d.action, d.target_workers, d.reason), (Action::ScaleUp, 6, Reason::UtilizationHigh));
//!
//! // The cooldown starts only once the embedder reports that the scaling succeeded.
//! scaler.record_scaled(now);
//! let next = scaler.next_tick(now);
//! assert_eq!(next, TimeMs(120_000));
//! scaler.observe(Observation::new(next, 6, 3, 6, DurationMs::from_secs(30), util)?)?;
//! assert_eq!(scaler.decide(next)?.reason, Reason::Cooldown);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod config;
pub mod decision;
pub mod hpa;
pub mod observation;
pub mod policies;
pub mod scaler;
pub mod threshold;
pub mod units;
pub mod window;

pub use config::{Aggregate, ConfigBuilder, ConfigError, ConfigValue, PolicyKind, ScalerConfig, Step};
pub use decision::{Action, Decision, Reason};
pub use observation::{Observation, ObservationError, OBSERVATIONS_HEADER};
pub use scaler::Scaler;
pub use units::{parse_scaled, parse_whole, Decimal, DecimalError, DurationMs, Fixed9, TimeMs};
pub use window::{ClockError, MetricsWindow, WindowSummary};
