//! `scaler-formats`: every file the scaler tools read or write. CSV with located
//! errors, TOML with spans and number literals kept as text, scenarios into validated
//! types, task and rate traces into the model's sources, observations, decisions
//! (`replay`), timelines, summaries, sweep results and recommendations, and atomic
//! output files.
//!
//! Numbers are read by `scaler_core::units` only; nothing here prints.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod csvio;
pub mod error;
pub mod export;
pub mod fields;
pub mod fmtnum;
pub mod import;
pub mod manifest;
pub mod observations;
pub mod origin;
pub mod output;
pub mod output_set;
pub mod recommendation;
pub mod replay;
pub mod results;
pub mod scenario;
pub mod summary;
pub mod timeline;
pub mod tomldoc;
pub mod trace;

pub use error::{InputError, Location, SimError};
