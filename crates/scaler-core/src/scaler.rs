//! A small stateful holder for embedders: the window, the cooldown, and the policy.

use crate::config::ScalerConfig;
use crate::decision::Decision;
use crate::observation::{Observation, ObservationError};
use crate::policies::{self, PolicyState};
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
    state: PolicyState,
    /// The last decision, whose scaling `record_scaled` confirms.
    last_decision: Option<Decision>,
    /// Recent scale-ups `(time, workers added)` for `warmup_period`.
    warming: alloc::collections::VecDeque<(TimeMs, u32)>,
}

impl Scaler {
    /// A scaler with an empty window and no scaling yet.
    #[must_use]
    pub fn new(config: ScalerConfig) -> Scaler {
        let window = MetricsWindow::new(config.metrics_window());
        let state = PolicyState::new(&config);
        Scaler {
            config,
            window,
            last_scaled_at: None,
            state,
            last_decision: None,
            warming: alloc::collections::VecDeque::new(),
        }
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
        let state = core::mem::replace(&mut self.state, PolicyState::Threshold);
        let (d, state) = policies::decide(&self.config, state, summary.as_ref(), self.last_scaled_at, now);
        self.state = state;
        let warm = self.config.warmup_period();
        while self.warming.front().is_some_and(|&(t, _)| now.saturating_since(t) >= warm) {
            self.warming.pop_front();
        }
        let d = policies::apply_warmup(d, self.warming.iter().map(|&(_, k)| k).sum());
        self.last_decision = Some(d);
        Ok(d)
    }

    /// Records that a scaling succeeded at `at`: the cooldown starts then.
    pub fn record_scaled(&mut self, at: TimeMs) {
        self.last_scaled_at = Some(at);
        if let Some(d) = self.last_decision.take() {
            if d.target_workers > d.current_workers && self.config.warmup_period() > crate::units::DurationMs::ZERO {
                self.warming.push_back((at, d.target_workers - d.current_workers));
            }
            let state = core::mem::replace(&mut self.state, PolicyState::Threshold);
            self.state = policies::record(state, at, d.current_workers, d.target_workers);
        }
    }

    /// The policy's state (serializable with the `serde` feature).
    #[must_use]
    pub fn policy_state(&self) -> &PolicyState {
        &self.state
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
