//! actions-runner-controller's runner scale sets as a policy, over [`crate::arc`]: at every
//! decision the listener sizes `min(minRunners + assigned jobs, maxRunners)` and picks its
//! patch id ([`ListenerState::desired_runners`]), and the EphemeralRunnerSet controller's
//! rules decide what the pool does with it:
//!
//! - more runners wanted than there are: create the difference (`arc_create`);
//! - fewer, with a patch id above 0: nothing (`arc_scale_down_ignored`): ARC waits for its
//!   ephemeral runners to finish their jobs and exit;
//! - fewer, with patch id 0 (no job event since the last call, and the count is and was
//!   exactly `minRunners`): delete idle runners, at most the excess (`arc_delete_idle`);
//!   runners still starting and runners with a job are never deleted;
//! - as many: `arc_steady`.
//!
//! The pool this is for has ephemeral workers (`[cluster] ephemeral_workers = true` in the
//! simulator): a worker runs one job and exits, so the runners that count are the current
//! workers. The mapping to the pool is [`crate::arc`]'s: the assigned jobs are the pending
//! plus running tasks; an idle runner is a ready worker without a task (`ready_workers -
//! busy_slots` from the observation's pool counts; without them, `current_workers -
//! running_tasks`).
//!
//! Job events (`JobStarted`, `JobCompleted`) are not in an observation, so they are read
//! from two consecutive observations: a change in the running tasks, fewer pending tasks, or
//! fewer workers (an ephemeral worker exits with its job) means a job started or completed
//! in between. A job that starts and completes between two observations while nothing else
//! changes is not seen; with decisions every few seconds and jobs of minutes, that case
//! needs a job shorter than the interval.

use alloc::format;
use alloc::string::String;

use crate::arc::{ArcConfig, ListenerState, PatchKind};
use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::policy::{Ctx, Policy, Verdict};
use crate::read::{unknown, whole};

/// Settings of the `arc` policy (`[scaler.arc]`): the AutoscalingRunnerSet's bounds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArcPolicy {
    /// `minRunners`: idle runners kept on top of the assigned jobs (default 0).
    pub min_runners: u32,
    /// `maxRunners`: the cap on `minRunners + assigned jobs` (default unset: `MaxInt32`).
    pub max_runners: Option<u32>,
}

impl ArcPolicy {
    /// The validated bounds.
    fn config(&self) -> Result<ArcConfig, crate::arc::ArcConfigError> {
        ArcConfig::from_spec(Some(i64::from(self.min_runners)), self.max_runners.map(i64::from))
    }
}

/// What the pool looked like at the previous decision, to infer job events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Seen {
    /// Pending tasks.
    pub pending: u64,
    /// Running tasks.
    pub running: u64,
    /// Current workers.
    pub workers: u32,
}

/// The `arc` policy's memory: the listener's state, the last listener call and what the
/// previous decision saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ArcState {
    /// The listener (patch sequence, last target, dirty flag).
    pub listener: ListenerState,
    /// The last call's `(replicas, forced)`: its desired runners, and whether its patch id
    /// was 0 ("force the state").
    pub last: Option<(u64, bool)>,
    /// The pool at the previous decision.
    pub seen: Option<Seen>,
}

impl Policy for ArcPolicy {
    const NAME: &'static str = "arc";
    const KEYS: &'static [&'static str] = &["min_runners", "max_runners"];
    type State = ArcState;

    fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "min_runners" => self.min_runners = whole(key, v, "must be a whole number >= 0 (minRunners)")?,
            "max_runners" => self.max_runners = Some(whole(key, v, "must be a whole number >= 0 (maxRunners)")?),
            _ => return Err(unknown(key, Self::KEYS)),
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.config().map(|_| ()).map_err(|e| {
            let v = ConfigValue::Integer(i64::from(self.min_runners));
            ConfigError::invalid("arc.min_runners", &v, format!("{e}"))
        })
    }

    fn to_toml(&self) -> Option<String> {
        Some(match self.max_runners {
            Some(m) => format!("{{ min_runners = {}, max_runners = {m} }}", self.min_runners),
            None => format!("{{ min_runners = {} }}", self.min_runners),
        })
    }

    fn uses_cooldown(&self) -> bool {
        false
    }

    /// One listener call per decision, whatever the shared rules then decide.
    fn observe(&self, ctx: &Ctx<'_>, st: &mut ArcState) {
        let o = ctx.window.newest();
        let now = Seen { pending: o.pending_tasks, running: o.running_tasks, workers: o.current_workers };
        if let Some(prev) = st.seen {
            if now.running != prev.running || now.pending < prev.pending || now.workers < prev.workers {
                st.listener.job_event();
            }
        }
        st.seen = Some(now);
        // Validated with the configuration, so the bounds are always valid here.
        let config = self.config().unwrap_or_default();
        let assigned = o.pending_tasks.saturating_add(o.running_tasks);
        let d = st.listener.desired_runners(&config, assigned);
        st.last = Some((d.spec.replicas, d.kind == PatchKind::Forced));
    }

    fn decide(&self, ctx: &Ctx<'_>, st: &mut ArcState) -> Verdict {
        let o = ctx.window.newest();
        let n = u64::from(o.current_workers);
        let Some((replicas, forced)) = st.last else {
            return Verdict::new(i64::from(o.current_workers), Reason::ArcSteady);
        };
        let to_i64 = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        match replicas.cmp(&n) {
            core::cmp::Ordering::Greater => Verdict::new(to_i64(replicas), Reason::ArcCreate),
            core::cmp::Ordering::Equal => Verdict::new(to_i64(n), Reason::ArcSteady),
            core::cmp::Ordering::Less if !forced => Verdict::new(to_i64(n), Reason::ArcScaleDownIgnored),
            core::cmp::Ordering::Less => {
                let idle = match o.pool() {
                    Some(c) => u64::from(c.ready_workers).saturating_sub(c.busy_slots),
                    None => n.saturating_sub(o.running_tasks),
                };
                let delete = (n - replicas).min(idle);
                if delete == 0 {
                    return Verdict::new(to_i64(n), Reason::ArcSteady);
                }
                Verdict::new(to_i64(n - delete), Reason::ArcDeleteIdle)
            }
        }
    }
}
