//! `scaler-sim`: the command line's commands. Each module is one command (or the
//! shared machinery of one): `run`, `gen`, `compare`, `diff`, `soak`, `conformance`, the
//! fuzzing entry points, `sweep`, and the charts and report.
//!
//! The model is `scaler-model`, the files are `scaler-formats`; the decisions
//! themselves are all made by `scaler-core`. Only `main.rs` prints.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod charts;
pub mod compare;
pub mod conformance;
pub mod diff;
pub mod fuzzing;
pub mod gen;
pub mod report;
pub mod run;
pub mod soak;
pub mod sweep;
