//! The model's own failures.

use std::convert::Infallible;

/// A simulation that broke one of its own invariants: a bug, to be reported with the seed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// An invariant of the model does not hold (conservation, bounds, time order, ...).
    #[error("simulation invariant broken: {0}")]
    Invariant(String),
    /// The run can never finish: tasks wait that nothing can ever run (the message says
    /// what is stuck). A property of the scenario, not a bug.
    #[error("the run cannot progress: {0}")]
    Stuck(String),
    /// Memory for what the run must hold could not be allocated: a property of the input
    /// and the machine, not a bug.
    #[error("out of memory: {bytes} bytes could not be allocated to hold {what}; {lower}")]
    OutOfMemory {
        /// What was being held.
        what: &'static str,
        /// About how many bytes the structure needed in all.
        bytes: u64,
        /// What to lower (or to give the run more memory).
        lower: &'static str,
    },
}

impl From<Infallible> for ModelError {
    fn from(never: Infallible) -> ModelError {
        match never {}
    }
}

/// A broken invariant.
pub(crate) fn invariant(what: String) -> ModelError {
    ModelError::Invariant(what)
}
