//! Decision policies, one module each behind the [`Policy`] trait.
//!
//! A policy owns its settings (read, validated and printed by itself), its state (plain
//! data, serializable) and its decision; the rules every policy shares (SPEC section 4,
//! rules 1 to 4: no metrics, below `min_workers`, above `max_workers`, cooldown) are
//! written once here (`shared_rules`, applied by `PolicyConfig`'s dispatch), and a policy's verdict is clamped to
//! `[min_workers, max_workers]` here too.
//!
//! Adding a policy: write one module with a type implementing [`Policy`], and add one
//! line to the `register!` list at the end of this file (plus its reasons to
//! `decision.rs` if it needs new ones).

use alloc::string::String;
use core::fmt::Debug;

use crate::config::{ConfigError, ConfigValue, ScalerConfig};
use crate::decision::{Action, Decision, Reason};
use crate::units::TimeMs;
use crate::window::WindowSummary;

pub mod arc;
pub mod hpa;
pub mod keda;
pub mod kpa;
pub mod predictive;
pub mod queue;
pub mod step;
pub mod target_tracking;
pub mod threshold;

/// What a policy sees when it decides: the configuration, the window (never empty) and
/// the time.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The whole configuration (the seed's parameters and the policy's settings).
    pub config: &'a ScalerConfig,
    /// The window at `now`, with at least one sample.
    pub window: &'a WindowSummary<'a>,
    /// The decision time.
    pub now: TimeMs,
    /// When the last successful scaling happened.
    pub last_scaled_at: Option<TimeMs>,
}

impl Ctx<'_> {
    /// `current_workers` of the newest observation.
    #[must_use]
    pub fn current_workers(&self) -> u32 {
        self.window.newest().current_workers
    }
}

/// A policy's proposal: the worker count it wants and why. The shared code clamps the
/// target to `[min_workers, max_workers]` and derives the action from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Workers wanted (any integer; clamped afterwards).
    pub target: i64,
    /// The rule that decided.
    pub reason: Reason,
}

impl Verdict {
    /// A proposal of `target` workers for `reason`.
    #[must_use]
    pub fn new(target: impl Into<i64>, reason: Reason) -> Verdict {
        Verdict { target: target.into(), reason }
    }
}

/// One decision policy: its settings are `Self`, its memory is [`Policy::State`].
pub trait Policy: Clone + Debug + PartialEq + Default {
    /// The name in `[scaler] policy = "..."` and of its table `[scaler.NAME]`.
    const NAME: &'static str;
    /// The keys of its table, for suggestions on a typo.
    const KEYS: &'static [&'static str];
    /// What it remembers between decisions (plain data; serde with the `serde` feature).
    type State: Clone + Debug + PartialEq + Default;

    /// Sets `sub` of its table (`key` is the full key, for messages).
    fn set(&mut self, key: &str, sub: &str, value: &ConfigValue) -> Result<(), ConfigError>;

    /// Checks rules that span its keys.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Its table as an inline TOML table (`{ a = 1, b = 2 }`), `None` when it has no settings.
    fn to_toml(&self) -> Option<String>;

    /// Whether the seed's cooldown (rule 4) applies to it.
    fn uses_cooldown(&self) -> bool {
        true
    }

    /// Called at every decision with a non-empty window, before the shared rules, for
    /// policies that learn from every sample (idle tracking, forecasts).
    fn observe(&self, _ctx: &Ctx<'_>, _state: &mut Self::State) {}

    /// Its decision, once the shared rules 1 to 4 have not decided.
    fn decide(&self, ctx: &Ctx<'_>, state: &mut Self::State) -> Verdict;

    /// A scaling from `from` to `to` workers that this policy decided was applied at `at`.
    fn on_applied(&self, _state: &mut Self::State, _at: TimeMs, _from: u32, _to: u32) {}
}

/// The decision for a clamped target and a reason.
pub(crate) fn decision_for(ctx: &Ctx<'_>, target: i64, reason: Reason) -> Decision {
    let cfg = ctx.config;
    let n = ctx.current_workers();
    let target = u32::try_from(target.clamp(i64::from(cfg.min_workers()), i64::from(cfg.max_workers())))
        .unwrap_or(cfg.max_workers());
    let action = match target.cmp(&n) {
        core::cmp::Ordering::Greater => Action::ScaleUp,
        core::cmp::Ordering::Less => Action::ScaleDown,
        core::cmp::Ordering::Equal => Action::Hold,
    };
    Decision {
        at: ctx.now,
        action,
        target_workers: target,
        reason,
        window_utilization: Some(ctx.window.value(cfg.utilization_aggregate())),
        current_workers: n,
        pending_tasks: ctx.window.newest().pending_tasks,
    }
}

/// The hold of rule 1 (an empty window): target 0.
pub(crate) fn no_metrics(now: TimeMs) -> Decision {
    Decision {
        at: now,
        action: Action::Hold,
        target_workers: 0,
        reason: Reason::NoMetrics,
        window_utilization: None,
        current_workers: 0,
        pending_tasks: 0,
    }
}

/// Rules 2 to 4, shared by every policy (rule 4 only when the policy uses the cooldown).
pub(crate) fn shared_rules(ctx: &Ctx<'_>, uses_cooldown: bool) -> Option<Verdict> {
    let cfg = ctx.config;
    let n = ctx.current_workers();
    if n < cfg.min_workers() {
        return Some(Verdict::new(cfg.min_workers(), Reason::BelowMinWorkers));
    }
    if n > cfg.max_workers() {
        return Some(Verdict::new(cfg.max_workers(), Reason::AboveMaxWorkers));
    }
    if uses_cooldown {
        if let Some(s) = ctx.last_scaled_at {
            // A scaling "in the future" (now < s) also counts as within the cooldown.
            if ctx.now < s || ctx.now.saturating_since(s) < cfg.cooldown_period() {
                return Some(Verdict::new(n, Reason::Cooldown));
            }
        }
    }
    None
}

/// Defines the policy list once: [`PolicyKind`], [`PolicyConfig`], [`PolicyState`] and
/// their dispatch all follow from it.
macro_rules! register {
    ($($variant:ident => $module:ident :: $ty:ident,)*) => {
        /// Which decision policy runs (the default is the first registered: `threshold`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        #[non_exhaustive]
        pub enum PolicyKind {
            $(
                #[doc = concat!("`", stringify!($module), "`: see [`", stringify!($module), "::", stringify!($ty), "`].")]
                $variant,
            )*
        }

        impl Default for PolicyKind {
            fn default() -> PolicyKind {
                PolicyKind::ALL[0]
            }
        }

        impl PolicyKind {
            /// Every policy, in registration order.
            pub const ALL: &'static [PolicyKind] = &[$(PolicyKind::$variant),*];

            /// The name used in configuration files.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(PolicyKind::$variant => <$module::$ty as Policy>::NAME,)*
                }
            }

            /// The policy with this name.
            #[must_use]
            pub fn from_name(name: &str) -> Option<PolicyKind> {
                PolicyKind::ALL.iter().copied().find(|k| k.as_str() == name)
            }

            /// The keys of its table.
            #[must_use]
            pub fn keys(self) -> &'static [&'static str] {
                match self {
                    $(PolicyKind::$variant => <$module::$ty as Policy>::KEYS,)*
                }
            }
        }

        /// The selected policy's settings.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum PolicyConfig {
            $(
                #[doc = concat!("`", stringify!($module), "`: see [`", stringify!($module), "::", stringify!($ty), "`].")]
                $variant($module::$ty),
            )*
        }

        /// The state of whichever policy runs.
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[non_exhaustive]
        pub enum PolicyState {
            $(
                #[doc = concat!("The state of `", stringify!($module), "`.")]
                $variant(<$module::$ty as Policy>::State),
            )*
        }

        impl PolicyConfig {
            /// The default settings of `kind`.
            #[must_use]
            pub fn default_for(kind: PolicyKind) -> PolicyConfig {
                match kind {
                    $(PolicyKind::$variant => PolicyConfig::$variant(<$module::$ty>::default()),)*
                }
            }

            /// Which policy these settings are for.
            #[must_use]
            pub fn kind(&self) -> PolicyKind {
                match self {
                    $(PolicyConfig::$variant(_) => PolicyKind::$variant,)*
                }
            }

            pub(crate) fn set(&mut self, key: &str, sub: &str, value: &ConfigValue) -> Result<(), ConfigError> {
                match self {
                    $(PolicyConfig::$variant(p) => p.set(key, sub, value),)*
                }
            }

            pub(crate) fn validate(&self) -> Result<(), ConfigError> {
                match self {
                    $(PolicyConfig::$variant(p) => p.validate(),)*
                }
            }

            pub(crate) fn to_toml(&self) -> Option<String> {
                match self {
                    $(PolicyConfig::$variant(p) => p.to_toml(),)*
                }
            }

            /// A fresh state for these settings.
            #[must_use]
            pub fn fresh_state(&self) -> PolicyState {
                match self {
                    $(PolicyConfig::$variant(_) => PolicyState::$variant(Default::default()),)*
                }
            }

            pub(crate) fn decide(&self, ctx: &Ctx<'_>, state: &mut PolicyState) -> Decision {
                if !self.matches(state) {
                    *state = self.fresh_state();
                }
                match (self, state) {
                    $(
                        (PolicyConfig::$variant(p), PolicyState::$variant(s)) => {
                            p.observe(ctx, s);
                            let v = shared_rules(ctx, p.uses_cooldown()).unwrap_or_else(|| p.decide(ctx, s));
                            decision_for(ctx, v.target, v.reason)
                        }
                    )*
                    #[allow(unreachable_patterns)]
                    _ => unreachable!("the state was made to match"),
                }
            }

            pub(crate) fn on_applied(&self, state: &mut PolicyState, at: TimeMs, from: u32, to: u32) {
                match (self, state) {
                    $((PolicyConfig::$variant(p), PolicyState::$variant(s)) => p.on_applied(s, at, from, to),)*
                    #[allow(unreachable_patterns)]
                    _ => {}
                }
            }

            /// True when `state` is this policy's.
            #[must_use]
            pub fn matches(&self, state: &PolicyState) -> bool {
                match (self, state) {
                    $((PolicyConfig::$variant(_), PolicyState::$variant(_)) => true,)*
                    #[allow(unreachable_patterns)]
                    _ => false,
                }
            }
        }
    };
}

register! {
    Threshold => threshold::Threshold,
    Hpa => hpa::HpaConfig,
    Step => step::StepConfig,
    Queue => queue::QueueConfig,
    Predictive => predictive::PredictiveConfig,
    Keda => keda::KedaConfig,
    Kpa => kpa::KpaConfig,
    TargetTracking => target_tracking::TargetTrackingConfig,
    Arc => arc::ArcPolicy,
}
