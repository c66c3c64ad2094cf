//! `scaler-sim`: replays recorded metrics through `scaler-core`, and (by later
//! work) simulates worker pools on workload traces.
//!
//! Everything here reads files and writes files; the decisions themselves are
//! all made by `scaler-core`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod charts;
pub mod compare;
pub mod conformance;
pub mod csvio;
pub mod error;
pub mod fields;
pub mod fmtnum;
pub mod fuzzing;
pub mod gen;
pub mod observations;
pub mod output;
pub mod replay;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod soak;
pub mod sweep;
pub mod tomldoc;
pub mod trace;

pub use error::{InputError, Location, SimError};
