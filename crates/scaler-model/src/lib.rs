//! `scaler-model`: the closed-loop simulation model (SPEC section 6), a discrete-event
//! worker pool with `scaler-core` deciding at every tick, and the task sources that
//! feed it from memory.
//!
//! Nothing here reads or writes files, prints or reads a clock: traces arrive as
//! already-parsed rows (`scaler-formats` reads the files), and every random draw comes
//! from a stream derived from the run's seed.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod engine;
pub mod error;
pub mod faults;
pub mod pool;
pub mod random;
pub mod stats;
pub mod summary;
pub mod tasks;
pub mod trace;

pub use engine::{simulate, Engine, SimParams};
pub use error::ModelError;
pub use faults::{FaultCounts, Faults};
pub use pool::{Cluster, Spot, WarmPool};
pub use summary::{Summary, TickRow, METRICS};
pub use trace::{Task, TaskSource, VecSource};
