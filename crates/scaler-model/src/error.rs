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
