//! A small stateful holder for embedders: the window, the cooldown, and the policy.

use crate::config::ScalerConfig;
use crate::decision::Decision;
use crate::observation::{Observation, ObservationError};
use crate::threshold;
use crate::units::TimeMs;
use crate::window::{ClockError, MetricsWindow};

/// The engine an embedder drives: [`Scaler::observe`] samples, [`Scaler::decide`]
/// at each tick, [`Scaler::record_scaled`] once a scaling has succeeded, and
/// [`Scaler::next_tick`] to know when to wake up.
///
/// It reads no clock and performs no IO; every time is passed in.
#[derive(Clone, Debug)]
pub struct Scaler {
    config: ScalerConfig,
    window: MetricsWindow,
    last_scaled_at: Option<TimeMs>,
}

impl Scaler {
    /// A scaler with an empty window and no scaling yet.
    #[must_use]
    pub fn new(config: ScalerConfig) -> Scaler {
        let window = MetricsWindow::new(config.metrics_window());
        Scaler { config, window, last_scaled_at: None }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ScalerConfig {
        &self.config
    }

    /// The metrics window.
    #[must_use]
    pub fn window(&self) -> &MetricsWindow {
        &self.window
    }

    /// When the last successful scaling happened.
    #[must_use]
    pub fn last_scaled_at(&self) -> Option<TimeMs> {
        self.last_scaled_at
    }

    /// Takes an observation into the window. A refused observation changes nothing.
    pub fn observe(&mut self, obs: Observation) -> Result<(), ObservationError> {
        self.window.observe(obs)
    }

    /// Decides at `now` (which must not go backwards, nor be before the newest observation).
    ///
    /// Deciding does not start the cooldown: call [`Scaler::record_scaled`]
    /// once the embedder has applied a scaling decision successfully.
    pub fn decide(&mut self, now: TimeMs) -> Result<Decision, ClockError> {
        let summary = self.window.summary_at(now)?;
        Ok(threshold::decide(&self.config, summary.as_ref(), self.last_scaled_at, now))
    }

    /// Records that a scaling succeeded at `at`: the cooldown starts then.
    pub fn record_scaled(&mut self, at: TimeMs) {
        self.last_scaled_at = Some(at);
    }

    /// The first tick strictly after `now` (ticks are at `k * evaluation_interval`).
    #[must_use]
    pub fn next_tick(&self, now: TimeMs) -> TimeMs {
        let i = self.config.evaluation_interval().as_ms();
        TimeMs((now.0 / i).saturating_add(1).saturating_mul(i))
    }

    /// True when `now` is a tick (`now = k * evaluation_interval`).
    #[must_use]
    pub fn is_tick(&self, now: TimeMs) -> bool {
        now.0 % self.config.evaluation_interval().as_ms() == 0
    }
}
