//! actions-runner-controller's runner scale set arithmetic, exactly as upstream decides: the
//! listener's desired runners and the EphemeralRunnerSet's reconciliation. Pure functions
//! over explicit state; the `arc` policy and `scaler-sim conformance arc` both call them.
//!
//! Upstream (actions/actions-runner-controller `gha-runner-scale-set` 0.14, with the listener
//! from actions/scaleset v0.4.0) works in two halves, and so does this module:
//!
//! 1. **The listener** ([`ListenerState`]). It long-polls GitHub for the scale set's jobs and,
//!    for the initial session, after every message batch and on every empty poll, calls
//!    `HandleDesiredRunnerCount(TotalAssignedJobs)`. That turns the count of assigned jobs
//!    into a patch of the EphemeralRunnerSet, `{replicas, patchID}`
//!    ([`ListenerState::desired_runners`]):
//!    - `replicas = min(minRunners + assigned_jobs, maxRunners)`: `minRunners` are idle
//!      runners kept *on top of* the jobs, and the sum is capped by `maxRunners`;
//!    - the patch id is a sequence number (the first call's is 0; after `MaxInt32` it wraps
//!      to 1), except that it is **0**, "force the state", when no job started or completed
//!      since the last call ([`ListenerState::job_event`] marks that) and the count is, and
//!      was, exactly `minRunners`.
//! 2. **The EphemeralRunnerSet controller** ([`EphemeralRunnerSet`]). Each reconcile
//!    ([`EphemeralRunnerSet::reconcile`]) compares the spec's `replicas` with the runners
//!    that count (pending, running and failed; not succeeded or outdated), but only when the
//!    spec's patch id is 0 or differs from the newest patch id among the runners
//!    (`latest`); a repeated patch id does nothing at all. Then:
//!    - too few runners: it creates the difference (pending, unregistered, annotated with the
//!      spec's patch id);
//!    - too many, with a patch id above 0: it does **nothing** (a scale-down request is
//!      ignored; upstream waits for the ephemeral runners to finish);
//!    - too many, with patch id 0: it deletes up to the excess of *idle* runners, pending ones
//!      (oldest first) and then running ones (oldest first), skipping runners not yet
//!      registered with the service and runners with a job;
//!    - in every case of that branch, and only there, it then deletes every finished
//!      (succeeded) runner.
//!
//!    [`EphemeralRunnerSet::settle`] reconciles until nothing changes, the way the controller
//!    is re-triggered by its own writes.
//!
//! Configuration: [`ArcConfig`] (the AutoscalingRunnerSet's `minRunners` and `maxRunners`,
//! unset meaning 0 and `MaxInt32`; invalid when `maxRunners < minRunners`). Neither half has a
//! timing parameter, so nothing here takes a time: one call of the listener is one tick.
//!
//! One tick, then the next:
//!
//! ```
//! use scaler_core::arc::{ArcConfig, EphemeralRunnerSet, ListenerState, ReconcileAction, RunnerPhase};
//!
//! let config = ArcConfig::from_spec(Some(1), Some(10))?;
//! let mut listener = ListenerState::new();
//! let mut set = EphemeralRunnerSet::new();
//! // The initial session: 3 jobs assigned, so 1 + 3 runners, with patch id 0.
//! let d = listener.desired_runners(&config, 3);
//! set.patch(d.spec);
//! set.settle();
//! assert_eq!((d.spec.replicas, d.spec.patch_id, set.len()), (4, 0, 4));
//! // The runners register and come online; three take the jobs, and one of those finishes.
//! set.update_first(4, |r| r.phase == RunnerPhase::Pending, |r| {
//!     r.phase = RunnerPhase::Running;
//!     r.registered = true;
//! });
//! set.update_first(3, |r| r.phase == RunnerPhase::Running, |r| r.has_job = true);
//! listener.job_event(); // JobStarted
//! set.update_first(1, |r| r.has_job, |r| r.phase = RunnerPhase::Succeeded);
//! listener.job_event(); // JobCompleted
//! // The next batch: 2 jobs left, so 3 runners with patch id 1. Three count (two busy, one
//! // idle): steady, and the finished runner is cleaned up.
//! let d = listener.desired_runners(&config, 2);
//! set.patch(d.spec);
//! let s = set.settle();
//! assert_eq!((d.spec.patch_id, s.first.action, s.cleaned, set.len()), (1, ReconcileAction::Steady, 1, 3));
//! # Ok::<(), scaler_core::arc::ArcConfigError>(())
//! ```
//!
//! Arithmetic never panics: counts are `u64` and sums saturate; runners are kept as runs of
//! identical runners ([`RunnerGroup`]), so creating `MaxInt32` runners is one entry, not two
//! billion.
//!
//! # A simulator with ephemeral workers
//!
//! ARC's runners are ephemeral: a runner takes one job, finishes (`Succeeded`) and is deleted;
//! a new job gets a new runner. A worker pool maps onto it one worker per runner:
//!
//! | pool | ARC |
//! | --- | --- |
//! | pending + running tasks | `TotalAssignedJobs`, the listener's `assigned_jobs` |
//! | a task started or completed since the last tick | a `JobStarted` / `JobCompleted` message: [`ListenerState::job_event`] |
//! | a tick | one listener call ([`ListenerState::desired_runners`]), then [`EphemeralRunnerSet::settle`] on the patched spec |
//! | a provisioning worker | a `Pending` runner, not registered (`runner_id` 0) |
//! | a ready idle worker | a `Running` runner, registered, without a job |
//! | a busy worker | a `Running` runner with a job ([`Runner::has_job`]) |
//! | a worker that finished its (one) task | a `Succeeded` runner: it takes no other task |
//! | a crashed worker | a `Failed` runner (still counted, never deleted by scaling) |
//! | workers after the tick | [`EphemeralRunnerSet::len`]: created runners are workers to start; deleted and cleaned-up runners are workers to stop |
//!
//! A succeeded runner is still in [`EphemeralRunnerSet::len`] until a reconcile acts (a
//! repeated patch id keeps it). Where a finished worker stays up until it is removed (the
//! emulation of persistent workers below), that is right; in a pool whose workers exit with
//! their task, the workers are `len - counts().succeeded`.
//!
//! The set is the policy's state across ticks: it remembers each runner's patch id, which
//! decides whether a patch is acted on at all. Between ticks the adapter moves runners between
//! phases as the pool reports (provisioning done: [`EphemeralRunnerSet::update_first`] from
//! `Pending` unregistered to `Running` registered; a task started: `has_job`; a task completed:
//! `Succeeded`), then patches the spec and settles.
//!
//! Persistent workers (a worker takes task after task) do not fit without this emulation.
//! Under steady load every call is dirty, so every patch id is above 0 and the controller never
//! deletes a runner: the pool shrinks only because finished runners are cleaned up, and only
//! runners that *finished* are. So a worker that completed a task must be reported as a
//! `Succeeded` runner (it is then removed on the next new patch id, and a fresh runner is
//! created if jobs remain); the simulator cannot express a fresh pod per job, so such a
//! replacement is a net count. Explicit deletion of idle runners happens only with patch id 0,
//! a quiet call at exactly `minRunners`.
//!
//! Not modelled: runners being deleted (upstream counts a deleting runner's patch id in
//! `latest` until it is gone; here a deletion is immediate), the `Outdated` clean-up of the
//! whole set (an outdated runner is counted nowhere and kept), and the service refusing to
//! remove a runner it knows to be busy before its job id reaches the runner's status.

use alloc::vec::Vec;
use core::ops::Range;

/// Go's `math.MaxInt32`: the `maxRunners` of an AutoscalingRunnerSet that does not set one.
pub const DEFAULT_MAX_RUNNERS: u64 = 2_147_483_647;

/// Go's `math.MaxInt32`: the largest patch sequence number; the listener's next one is 1.
pub const MAX_PATCH_SEQ: u32 = 2_147_483_647;

/// The patch id that "forces the state": the controller reconciles, and may delete idle
/// runners, whatever patch ids its runners carry.
pub const FORCE_PATCH_ID: u32 = 0;

/// Why an ARC configuration is refused; each names the field, its value and the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArcConfigError {
    /// `minRunners` or `maxRunners` is negative.
    #[error("{field} = {value}: must be >= 0 (the AutoscalingRunnerSet's minimum)")]
    Negative {
        /// `minRunners` or `maxRunners`.
        field: &'static str,
        /// The value given.
        value: i64,
    },
    /// `maxRunners < minRunners` (the listener's configuration check).
    #[error(
        "minRunners = {min_runners}: must not be greater than maxRunners = {max_runners} \
         (MinRunners \"{min_runners}\" cannot be greater than MaxRunners \"{max_runners}\")"
    )]
    MinAboveMax {
        /// `minRunners`.
        min_runners: u64,
        /// `maxRunners`.
        max_runners: u64,
    },
}

impl ArcConfigError {
    /// The field the error is about (`minRunners` or `maxRunners`).
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            ArcConfigError::Negative { field, .. } => field,
            ArcConfigError::MinAboveMax { .. } => "minRunners",
        }
    }
}

/// A runner scale set's bounds, valid by construction: `minRunners <= maxRunners`.
///
/// Upstream these are the AutoscalingRunnerSet's `minRunners` and `maxRunners`, copied into
/// the listener's configuration (`MinRunners`, `MaxRunners`). The default is the unset
/// pair: 0 and `MaxInt32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArcConfig {
    min_runners: u64,
    max_runners: u64,
}

impl Default for ArcConfig {
    fn default() -> Self {
        ArcConfig { min_runners: 0, max_runners: DEFAULT_MAX_RUNNERS }
    }
}

fn non_negative(field: &'static str, value: i64) -> Result<u64, ArcConfigError> {
    u64::try_from(value).map_err(|_| ArcConfigError::Negative { field, value })
}

impl ArcConfig {
    /// Both bounds given (Go `int`s): each `>= 0`, and `maxRunners >= minRunners`.
    pub fn new(min_runners: i64, max_runners: i64) -> Result<ArcConfig, ArcConfigError> {
        let min_runners = non_negative("minRunners", min_runners)?;
        let max_runners = non_negative("maxRunners", max_runners)?;
        if max_runners < min_runners {
            return Err(ArcConfigError::MinAboveMax { min_runners, max_runners });
        }
        Ok(ArcConfig { min_runners, max_runners })
    }

    /// The effective bounds of an AutoscalingRunnerSet whose `minRunners` / `maxRunners` may
    /// be unset (`None`): unset `minRunners` is 0, unset `maxRunners` is `MaxInt32`
    /// ([`DEFAULT_MAX_RUNNERS`]); then validated as [`ArcConfig::new`].
    pub fn from_spec(min_runners: Option<i64>, max_runners: Option<i64>) -> Result<ArcConfig, ArcConfigError> {
        ArcConfig::new(min_runners.unwrap_or(0), max_runners.unwrap_or(i64::from(i32::MAX)))
    }

    /// `minRunners`: idle runners kept on top of the assigned jobs.
    #[must_use]
    pub fn min_runners(&self) -> u64 {
        self.min_runners
    }

    /// `maxRunners`: the cap on `minRunners + assigned jobs`.
    #[must_use]
    pub fn max_runners(&self) -> u64 {
        self.max_runners
    }
}

/// What the listener writes to the EphemeralRunnerSet's spec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RunnerSetSpec {
    /// Runners wanted.
    pub replicas: u64,
    /// The patch id: 0 forces the state; any other value is acted on once.
    pub patch_id: u32,
}

/// The listener's state between calls (upstream's `targetRunners`, `patchSeq`, `dirty`).
/// The default is a new listener: upstream's `-1`, `-1`, `false`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ListenerState {
    /// The replicas of the last patch (`None` before the first call: upstream's `-1`).
    pub target_runners: Option<u64>,
    /// The last patch sequence number (`None` before the first call: upstream's `-1`).
    pub patch_seq: Option<u32>,
    /// A job started or completed since the last call.
    pub dirty: bool,
}

/// How the listener chose the patch id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PatchKind {
    /// The first call: the sequence starts at 0, so the patch id is 0.
    Initial,
    /// No job event since the last call and the count is, and was, `minRunners`: patch id 0,
    /// "force the state" (the controller may delete idle runners).
    Forced,
    /// The patch id is the sequence number (above 0): acted on once by the controller, which
    /// never scales down for it.
    Sequenced,
}

/// One listener call's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DesiredRunners {
    /// The patch written to the EphemeralRunnerSet.
    pub spec: RunnerSetSpec,
    /// How its patch id was chosen.
    pub kind: PatchKind,
    /// `minRunners + assigned jobs` was above `maxRunners`, so `replicas` is `maxRunners`.
    pub capped: bool,
    /// A job event had been handled since the previous call.
    pub was_dirty: bool,
}

impl ListenerState {
    /// A new listener (nothing patched yet).
    #[must_use]
    pub const fn new() -> ListenerState {
        ListenerState { target_runners: None, patch_seq: None, dirty: false }
    }

    /// A `JobStarted` or `JobCompleted` message was handled: the next call is dirty.
    pub fn job_event(&mut self) {
        self.dirty = true;
    }

    /// `HandleDesiredRunnerCount(assigned_jobs)`'s arithmetic (`setDesiredWorkerState`):
    /// reads and clears `dirty`, advances the patch sequence (wrapping after `MaxInt32` to 1),
    /// sizes `min(minRunners + assigned_jobs, maxRunners)`, and picks the patch id.
    pub fn desired_runners(&mut self, config: &ArcConfig, assigned_jobs: u64) -> DesiredRunners {
        let was_dirty = core::mem::take(&mut self.dirty);
        let seq = match self.patch_seq {
            None => 0,
            Some(s) if s >= MAX_PATCH_SEQ => 1,
            Some(s) => s + 1,
        };
        self.patch_seq = Some(seq);
        let wanted = config.min_runners.saturating_add(assigned_jobs);
        let replicas = wanted.min(config.max_runners);
        let previous = self.target_runners.replace(replicas);
        let forced = !was_dirty && previous == Some(replicas) && replicas == config.min_runners;
        let (patch_id, kind) = if forced {
            (FORCE_PATCH_ID, PatchKind::Forced)
        } else if seq == 0 {
            (seq, PatchKind::Initial)
        } else {
            (seq, PatchKind::Sequenced)
        };
        DesiredRunners {
            spec: RunnerSetSpec { replicas, patch_id },
            kind,
            capped: wanted > config.max_runners,
            was_dirty,
        }
    }
}

/// An EphemeralRunner's phase (an empty phase is `Pending`, as upstream counts it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RunnerPhase {
    /// Created, its pod not yet running.
    #[default]
    Pending,
    /// Online.
    Running,
    /// Finished its job: deleted by the next reconcile that acts.
    Succeeded,
    /// Failed: still counted towards the replicas, never deleted by scaling.
    Failed,
    /// To be upgraded: counted nowhere, kept.
    Outdated,
}

/// One EphemeralRunner, as far as scaling looks at it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Runner {
    /// Its phase.
    pub phase: RunnerPhase,
    /// The spec's patch id when it was created (annotation `actions.github.com/patch-id`).
    pub patch_id: u32,
    /// Registered with the service (upstream: `status.runnerId != 0`).
    pub registered: bool,
    /// It has been assigned a job (upstream: `status.jobId` is set).
    pub has_job: bool,
}

impl Runner {
    /// A runner as the controller creates it for `patch_id`: pending, unregistered, no job.
    #[must_use]
    pub const fn created(patch_id: u32) -> Runner {
        Runner { phase: RunnerPhase::Pending, patch_id, registered: false, has_job: false }
    }

    /// Deletable by a forced scale-down: registered and without a job.
    #[must_use]
    pub const fn is_idle(&self) -> bool {
        self.registered && !self.has_job
    }
}

/// `count` identical runners, consecutive in creation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RunnerGroup {
    /// How many.
    pub count: u64,
    /// What each is.
    pub runner: Runner,
}

/// Runners per phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RunnerCounts {
    /// `Pending` (or no phase yet).
    pub pending: u64,
    /// `Running`.
    pub running: u64,
    /// `Succeeded`.
    pub succeeded: u64,
    /// `Failed`.
    pub failed: u64,
    /// `Outdated`.
    pub outdated: u64,
}

impl RunnerCounts {
    /// What the controller compares with the replicas: pending + running + failed.
    #[must_use]
    pub fn scale_total(&self) -> u64 {
        self.pending.saturating_add(self.running).saturating_add(self.failed)
    }

    /// Every runner.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.scale_total().saturating_add(self.succeeded).saturating_add(self.outdated)
    }

    /// No runner at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What one reconcile did with the replicas (its clean-up is counted apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReconcileAction {
    /// The spec's patch id is above 0 and equals the runners' newest: nothing at all, not
    /// even the clean-up of finished runners.
    SamePatch,
    /// Fewer runners counted than replicas: `created` new ones.
    ScaleUp {
        /// Runners created.
        created: u64,
    },
    /// As many runners counted as replicas.
    Steady,
    /// More runners counted than replicas, with a patch id above 0: the request is ignored.
    ScaleDownIgnored {
        /// Runners counted above the replicas.
        excess: u64,
    },
    /// More runners counted than replicas, with patch id 0: idle registered runners deleted,
    /// pending ones first, oldest first; `deleted < wanted` when too few were idle.
    ScaleDown {
        /// Runners counted above the replicas.
        wanted: u64,
        /// Runners deleted.
        deleted: u64,
    },
}

/// One reconcile's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reconcile {
    /// What it did with the replicas.
    pub action: ReconcileAction,
    /// Finished (succeeded) runners deleted.
    pub cleaned: u64,
    /// The newest patch id among the runners before it (0 when there were none).
    pub latest_patch_id: u32,
    /// Pending + running + failed runners before it.
    pub scale_total: u64,
}

impl Reconcile {
    /// Runners created by it.
    #[must_use]
    pub fn created(&self) -> u64 {
        match self.action {
            ReconcileAction::ScaleUp { created } => created,
            _ => 0,
        }
    }

    /// Runners deleted by its scale-down (not counting the clean-up).
    #[must_use]
    pub fn deleted(&self) -> u64 {
        match self.action {
            ReconcileAction::ScaleDown { deleted, .. } => deleted,
            _ => 0,
        }
    }

    /// It changed the set.
    #[must_use]
    pub fn changed(&self) -> bool {
        self.created() > 0 || self.deleted() > 0 || self.cleaned > 0
    }
}

/// Reconciles run until nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Settled {
    /// The first reconcile: the controller's answer to the patch.
    pub first: Reconcile,
    /// Reconciles run, the last of which changed nothing: 1 when the first changed nothing,
    /// else 2 (3 only after a creation cut short at `u64::MAX` runners).
    pub passes: u32,
    /// Runners created in all.
    pub created: u64,
    /// Runners deleted by scale-downs in all.
    pub deleted: u64,
    /// Finished runners cleaned up in all.
    pub cleaned: u64,
}

/// A range of runners that the set does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("runners {start}..{end}: out of range (the set holds {len})")]
pub struct RunnerRangeError {
    /// The range's start.
    pub start: u64,
    /// The range's end (exclusive).
    pub end: u64,
    /// Runners in the set.
    pub len: u64,
}

/// An EphemeralRunnerSet: the spec the listener patches and its runners in creation order
/// (oldest first), as runs of identical runners.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EphemeralRunnerSet {
    /// The spec (the listener's last patch).
    pub spec: RunnerSetSpec,
    groups: Vec<RunnerGroup>,
}

impl EphemeralRunnerSet {
    /// An empty set with a zero spec.
    #[must_use]
    pub const fn new() -> EphemeralRunnerSet {
        EphemeralRunnerSet { spec: RunnerSetSpec { replicas: 0, patch_id: 0 }, groups: Vec::new() }
    }

    /// The runners, oldest first, identical neighbours merged.
    #[must_use]
    pub fn groups(&self) -> &[RunnerGroup] {
        &self.groups
    }

    /// Runners of every phase.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.groups.iter().fold(0u64, |n, g| n.saturating_add(g.count))
    }

    /// No runner at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runners per phase.
    #[must_use]
    pub fn counts(&self) -> RunnerCounts {
        let mut c = RunnerCounts::default();
        for g in &self.groups {
            let slot = match g.runner.phase {
                RunnerPhase::Pending => &mut c.pending,
                RunnerPhase::Running => &mut c.running,
                RunnerPhase::Succeeded => &mut c.succeeded,
                RunnerPhase::Failed => &mut c.failed,
                RunnerPhase::Outdated => &mut c.outdated,
            };
            *slot = slot.saturating_add(g.count);
        }
        c
    }

    /// The newest patch id among the runners (0 when there are none): upstream's
    /// `latestPatchID`, the largest `actions.github.com/patch-id` annotation.
    #[must_use]
    pub fn latest_patch_id(&self) -> u32 {
        self.groups.iter().filter(|g| g.count > 0).map(|g| g.runner.patch_id).max().unwrap_or(0)
    }

    /// The listener's patch: replaces the spec.
    pub fn patch(&mut self, spec: RunnerSetSpec) {
        self.spec = spec;
    }

    /// Adds `count` runners as the newest (saturating: the set never holds more than
    /// `u64::MAX`); returns how many were added.
    pub fn push(&mut self, count: u64, runner: Runner) -> u64 {
        let count = count.min(u64::MAX - self.len());
        self.groups.push(RunnerGroup { count, runner });
        self.normalize();
        count
    }

    /// Applies `f` to the runners at positions `range` (in creation order).
    pub fn update(&mut self, range: Range<u64>, mut f: impl FnMut(&mut Runner)) -> Result<(), RunnerRangeError> {
        let (a, b) = self.split_range(&range)?;
        for g in &mut self.groups[a..b] {
            f(&mut g.runner);
        }
        self.normalize();
        Ok(())
    }

    /// Removes the runners at positions `range` (in creation order).
    pub fn remove(&mut self, range: Range<u64>) -> Result<(), RunnerRangeError> {
        let (a, b) = self.split_range(&range)?;
        self.groups.drain(a..b);
        self.normalize();
        Ok(())
    }

    /// Applies `f` to the `n` oldest runners for which `matches` holds (fewer when fewer
    /// match); returns how many it changed.
    pub fn update_first(&mut self, n: u64, matches: impl Fn(&Runner) -> bool, mut f: impl FnMut(&mut Runner)) -> u64 {
        let mut left = n;
        let mut i = 0;
        while left > 0 && i < self.groups.len() {
            let g = self.groups[i];
            if g.count > 0 && matches(&g.runner) {
                let take = left.min(g.count);
                if take < g.count {
                    self.groups[i].count = take;
                    self.groups.insert(i + 1, RunnerGroup { count: g.count - take, runner: g.runner });
                }
                f(&mut self.groups[i].runner);
                left -= take;
            }
            i += 1;
        }
        self.normalize();
        n - left
    }

    /// One reconcile of the controller (`EphemeralRunnerSetReconciler.Reconcile`'s scaling).
    pub fn reconcile(&mut self) -> Reconcile {
        let latest_patch_id = self.latest_patch_id();
        let scale_total = self.counts().scale_total();
        let spec = self.spec;
        if spec.patch_id != FORCE_PATCH_ID && spec.patch_id == latest_patch_id {
            return Reconcile { action: ReconcileAction::SamePatch, cleaned: 0, latest_patch_id, scale_total };
        }
        let action = if scale_total < spec.replicas {
            let created = self.push(spec.replicas - scale_total, Runner::created(spec.patch_id));
            ReconcileAction::ScaleUp { created }
        } else if scale_total == spec.replicas {
            ReconcileAction::Steady
        } else if spec.patch_id != FORCE_PATCH_ID {
            ReconcileAction::ScaleDownIgnored { excess: scale_total - spec.replicas }
        } else {
            let wanted = scale_total - spec.replicas;
            let pending = self.remove_first(wanted, |r| r.phase == RunnerPhase::Pending && r.is_idle());
            let running = self.remove_first(wanted - pending, |r| r.phase == RunnerPhase::Running && r.is_idle());
            ReconcileAction::ScaleDown { wanted, deleted: pending + running }
        };
        // Upstream defers this clean-up inside the same branch: a repeated patch id skips it.
        let cleaned = self.remove_first(u64::MAX, |r| r.phase == RunnerPhase::Succeeded);
        Reconcile { action, cleaned, latest_patch_id, scale_total }
    }

    /// Reconciles until a reconcile changes nothing, the way the controller is re-triggered
    /// by its own writes, and sums what they did.
    ///
    /// It ends, after two reconciles in practice: a creation leaves as many runners counted
    /// as replicas (its runners carry the spec's patch id, so the next reconcile skips a
    /// patch id above 0), and nothing later lowers that count; the first scale-down deletes
    /// every idle runner it may; the first clean-up removes every finished runner; and no
    /// phase changes meanwhile. Only a creation cut short at `u64::MAX` runners can take a
    /// third.
    pub fn settle(&mut self) -> Settled {
        let first = self.reconcile();
        let mut s =
            Settled { first, passes: 1, created: first.created(), deleted: first.deleted(), cleaned: first.cleaned };
        let mut last = first;
        while last.changed() {
            last = self.reconcile();
            s.passes = s.passes.saturating_add(1);
            s.created = s.created.saturating_add(last.created());
            s.deleted = s.deleted.saturating_add(last.deleted());
            s.cleaned = s.cleaned.saturating_add(last.cleaned);
        }
        debug_assert!(s.passes <= 4, "settle took {} reconciles", s.passes);
        s
    }

    /// Removes the `n` oldest runners for which `matches` holds; returns how many.
    fn remove_first(&mut self, n: u64, matches: impl Fn(&Runner) -> bool) -> u64 {
        let mut left = n;
        for g in &mut self.groups {
            if left == 0 {
                break;
            }
            if matches(&g.runner) {
                let take = left.min(g.count);
                g.count -= take;
                left -= take;
            }
        }
        self.normalize();
        n - left
    }

    /// Splits groups so that `range` is made of whole groups; returns their indices.
    fn split_range(&mut self, range: &Range<u64>) -> Result<(usize, usize), RunnerRangeError> {
        let len = self.len();
        if range.start > range.end || range.end > len {
            return Err(RunnerRangeError { start: range.start, end: range.end, len });
        }
        let a = self.split_at(range.start);
        let b = self.split_at(range.end);
        Ok((a, b))
    }

    /// Splits the group holding position `pos` so that a group starts there; returns the
    /// index of that group (the number of groups when `pos` is the end).
    fn split_at(&mut self, pos: u64) -> usize {
        let mut start = 0u64;
        for i in 0..self.groups.len() {
            if start == pos {
                return i;
            }
            let g = self.groups[i];
            let end = start.saturating_add(g.count);
            if pos < end {
                let head = pos - start;
                self.groups[i].count = head;
                self.groups.insert(i + 1, RunnerGroup { count: g.count - head, runner: g.runner });
                return i + 1;
            }
            start = end;
        }
        self.groups.len()
    }

    /// Drops empty groups and merges identical neighbours.
    fn normalize(&mut self) {
        let mut out: Vec<RunnerGroup> = Vec::with_capacity(self.groups.len());
        for g in self.groups.drain(..) {
            if g.count == 0 {
                continue;
            }
            match out.last_mut() {
                Some(last) if last.runner == g.runner && last.count.checked_add(g.count).is_some() => {
                    last.count += g.count;
                }
                _ => out.push(g),
            }
        }
        self.groups = out;
    }
}
