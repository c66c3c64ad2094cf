//! The stateful holder every driver uses: the window, the cooldown, the warm-up and the
//! policy's state, advanced by one step per tick.
//!
//! The step is the same in replay, the simulator and the runtime:
//! 1. [`Scaler::tick`] takes the tick's observation (if one arrived) and decides;
//! 2. the driver applies a scaling decision (or does not: replay assumes success, the
//!    simulator may inject a failure, the runtime calls the cloud);
//! 3. [`Scaler::outcome`] reports what happened, tied to the decision by its [`Ticket`].
//!
//! Only an [`Outcome::Applied`] starts the cooldown (SPEC section 4), counts toward the
//! warm-up and feeds the policy's memory (HPA's rate-limit events); an
//! [`Outcome::Unknown`] (a call that timed out) starts the cooldown only.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::config::ScalerConfig;
use crate::decision::{Action, Decision, Reason};
use crate::observation::{Observation, ObservationError};
use crate::policy::{self, Ctx, PolicyState};
use crate::units::{DurationMs, TimeMs};
use crate::utilization::Utilization;
use crate::window::{ClockError, MetricsWindow};

/// Names one scaling decision, so that its outcome is reported for that decision and no other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Ticket(u64);

/// What became of a scaling decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The pool was asked for the target and the request succeeded: the cooldown starts at
    /// the decision's time.
    Applied,
    /// The request failed: no cooldown starts, and the next tick decides again from what it
    /// observes.
    Failed,
    /// The request's effect is unknown (it timed out: it may have been applied, or may still
    /// be): the cooldown starts, so that a late effect cannot be compounded by further
    /// scalings, but nothing else counts it as applied (no warm-up, no policy memory); the
    /// next decision is made from a fresh observation.
    Unknown,
}

/// The result of one step: the decision, and a ticket when it asks for a scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a scaling decision's outcome must be reported with Scaler::outcome"]
pub struct Tick {
    /// What the scaler decided.
    pub decision: Decision,
    /// `Some` exactly when the decision scales: report its outcome with [`Scaler::outcome`].
    pub ticket: Option<Ticket>,
}

/// Why a step was refused; a refused step changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The observation was refused.
    #[error(transparent)]
    Observation(#[from] ObservationError),
    /// The time went backwards.
    #[error(transparent)]
    Clock(#[from] ClockError),
}

/// An outcome that answers no pending decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    /// The ticket is not the latest scaling decision's (a later decision replaced it, or its
    /// outcome was already reported).
    #[error("the outcome is for a decision that is no longer pending (a later decision replaced it, or it was already reported)")]
    NotPending,
}

/// A snapshot that cannot be restored with this configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// The policy state is of another policy than the configuration selects.
    #[error("the snapshot's policy state is not for policy = \"{0}\"")]
    PolicyMismatch(&'static str),
    /// The window's samples are out of order or newer than its newest observation.
    #[error("the snapshot's window is inconsistent: {0}")]
    Window(&'static str),
    /// The snapshot was written by an incompatible version.
    #[error("snapshot version {0} is not supported (this build reads version {SNAPSHOT_VERSION})")]
    Version(u32),
}

/// The version of [`ScalerSnapshot`] this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Everything a [`Scaler`] holds besides its configuration, as plain data (serde with the
/// `serde` feature): persist it and [`Scaler::restore`] resumes exactly where it was.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScalerSnapshot {
    /// [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// The window's samples, oldest first.
    pub window_samples: Vec<(TimeMs, Utilization)>,
    /// The newest observation taken.
    pub newest: Option<Observation>,
    /// The latest decision time.
    pub horizon: Option<TimeMs>,
    /// When the last applied scaling was decided.
    pub last_scaled_at: Option<TimeMs>,
    /// The policy's memory.
    pub state: PolicyState,
    /// The scaling decision awaiting its outcome.
    pub pending: Option<(Ticket, Decision)>,
    /// The next ticket's number.
    pub next_ticket: u64,
    /// Applied scale-ups still warming up: `(time, workers added)`.
    pub warming: Vec<(TimeMs, u32)>,
}

/// The engine a driver steps: [`Scaler::tick`] at each tick, [`Scaler::outcome`] once a
/// scaling was applied or failed, [`Scaler::next_tick`] to know when to wake up.
///
/// It reads no clock and performs no IO; every time is passed in.
#[derive(Clone, Debug)]
pub struct Scaler {
    config: ScalerConfig,
    window: MetricsWindow,
    last_scaled_at: Option<TimeMs>,
    state: PolicyState,
    pending: Option<(Ticket, Decision)>,
    next_ticket: u64,
    warming: VecDeque<(TimeMs, u32)>,
}

impl Scaler {
    /// A scaler with an empty window and no scaling yet.
    #[must_use]
    pub fn new(config: ScalerConfig) -> Scaler {
        let window = MetricsWindow::new(config.metrics_window());
        let state = config.policy_config().fresh_state();
        Scaler { config, window, last_scaled_at: None, state, pending: None, next_ticket: 0, warming: VecDeque::new() }
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

    /// When the last applied scaling was decided.
    #[must_use]
    pub fn last_scaled_at(&self) -> Option<TimeMs> {
        self.last_scaled_at
    }

    /// The policy's state (serializable with the `serde` feature).
    #[must_use]
    pub fn policy_state(&self) -> &PolicyState {
        &self.state
    }

    /// Takes an observation into the window. A refused observation changes nothing.
    pub fn observe(&mut self, obs: Observation) -> Result<(), ObservationError> {
        self.window.observe(obs)
    }

    /// One step at `now`: takes `observation` (none when the tick's metrics did not arrive)
    /// and decides. A refused observation or a clock going backwards changes nothing.
    pub fn tick(&mut self, now: TimeMs, observation: Option<Observation>) -> Result<Tick, StepError> {
        if let Some(o) = observation {
            // Every check before anything changes, so that a refused step changes nothing.
            self.window.check_order(&o)?;
            self.window.check_clock(now, Some(o.timestamp))?;
            self.window.observe(o)?;
        }
        let decision = self.decide(now)?;
        Ok(Tick { decision, ticket: self.pending_ticket() })
    }

    /// Decides at `now` without taking an observation (the window as it stands), for
    /// drivers that observe separately with [`Scaler::observe`]. A scaling decision is
    /// pending until [`Scaler::outcome`] reports on it, or the next decision replaces it;
    /// [`Scaler::pending_ticket`] names it.
    pub fn decide(&mut self, now: TimeMs) -> Result<Decision, ClockError> {
        let cfg = &self.config;
        let Some(window) = self.window.summary_at(now)? else {
            self.pending = None;
            return Ok(policy::no_metrics(now));
        };
        let ctx = Ctx { config: cfg, window: &window, now, last_scaled_at: self.last_scaled_at };
        let d = cfg.policy_config().decide(&ctx, &mut self.state);
        let warm = cfg.warmup_period();
        while self.warming.front().is_some_and(|&(t, _)| now.saturating_since(t) >= warm) {
            self.warming.pop_front();
        }
        let d = apply_warmup(d, self.warming.iter().map(|&(_, k)| k).fold(0u32, u32::saturating_add));
        self.pending = None;
        if d.is_scaling() {
            let t = Ticket(self.next_ticket);
            self.next_ticket += 1;
            self.pending = Some((t, d));
        }
        Ok(d)
    }

    /// The ticket of the scaling decision awaiting its outcome, if any.
    #[must_use]
    pub fn pending_ticket(&self) -> Option<Ticket> {
        self.pending.map(|(t, _)| t)
    }

    /// Reports what became of the scaling decision named by `ticket`.
    pub fn outcome(&mut self, ticket: Ticket, outcome: Outcome) -> Result<(), OutcomeError> {
        let Some((t, d)) = self.pending else { return Err(OutcomeError::NotPending) };
        if t != ticket {
            return Err(OutcomeError::NotPending);
        }
        self.pending = None;
        if outcome == Outcome::Unknown {
            self.last_scaled_at = Some(d.at);
        }
        if outcome == Outcome::Applied {
            let at = d.at;
            self.last_scaled_at = Some(at);
            if d.target_workers > d.current_workers && self.config.warmup_period() > DurationMs::ZERO {
                self.warming.push_back((at, d.target_workers - d.current_workers));
            }
            self.config.policy_config().on_applied(&mut self.state, at, d.current_workers, d.target_workers);
        }
        Ok(())
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

    /// Everything but the configuration, as plain data.
    #[must_use]
    pub fn snapshot(&self) -> ScalerSnapshot {
        ScalerSnapshot {
            version: SNAPSHOT_VERSION,
            window_samples: self.window.samples().collect(),
            newest: self.window.newest().copied(),
            horizon: self.window.horizon(),
            last_scaled_at: self.last_scaled_at,
            state: self.state.clone(),
            pending: self.pending,
            next_ticket: self.next_ticket,
            warming: self.warming.iter().copied().collect(),
        }
    }

    /// A scaler that resumes from `snapshot` under `config`: it decides from here on exactly
    /// as the scaler that took the snapshot would have.
    pub fn restore(config: ScalerConfig, snapshot: ScalerSnapshot) -> Result<Scaler, RestoreError> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(RestoreError::Version(snapshot.version));
        }
        if !config.policy_config().matches(&snapshot.state) {
            return Err(RestoreError::PolicyMismatch(config.policy().as_str()));
        }
        let window = MetricsWindow::restore(
            config.metrics_window(),
            &snapshot.window_samples,
            snapshot.newest,
            snapshot.horizon,
        )
        .ok_or(RestoreError::Window("samples out of order or newer than the newest observation"))?;
        Ok(Scaler {
            config,
            window,
            last_scaled_at: snapshot.last_scaled_at,
            state: snapshot.state,
            pending: snapshot.pending,
            next_ticket: snapshot.next_ticket,
            warming: snapshot.warming.into_iter().collect(),
        })
    }
}

/// The warm-up (`warmup_period`): a scale-up adds only what the `warming` workers (added
/// within the warm-up period) do not already cover; when they cover it all, hold. The
/// bound rule (`below_min_workers`) is not reduced.
fn apply_warmup(mut d: Decision, warming: u32) -> Decision {
    if d.action != Action::ScaleUp || warming == 0 || d.reason == Reason::BelowMinWorkers {
        return d;
    }
    let wanted = d.target_workers - d.current_workers;
    if warming >= wanted {
        d.action = Action::Hold;
        d.target_workers = d.current_workers;
        d.reason = Reason::WarmingUp;
    } else {
        d.target_workers = d.current_workers + (wanted - warming);
    }
    d
}
