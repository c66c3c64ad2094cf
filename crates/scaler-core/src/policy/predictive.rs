//! A predictive policy: the seed's thresholds (reactive), raised to what an additive
//! Holt-Winters forecast of demand one `horizon` ahead needs. It never scales in on a
//! forecast alone. Settings are read exactly; the model itself is float arithmetic
//! (a forecast, not a comparison the contract fixes).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::policy::threshold::rules_5_to_7;
use crate::policy::{Ctx, Policy, Verdict};
use crate::read::{seconds, unit_interval, unknown, whole_at_least};
use crate::units::{DurationMs, Fixed9};

/// Settings of the `predictive` policy (`[scaler.predictive]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PredictiveConfig {
    /// The season (a day).
    pub season: DurationMs,
    /// How far ahead to forecast (about one provisioning delay).
    pub horizon: DurationMs,
    /// Level smoothing, `0..=1`.
    pub alpha: Fixed9,
    /// Trend smoothing, `0..=1`.
    pub beta: Fixed9,
    /// Seasonal smoothing, `0..=1`.
    pub gamma: Fixed9,
    /// Workers for a forecast demand `d`: `ceil(d / (target_utilization * tasks_per_worker))`.
    pub target_utilization: Fixed9,
    /// Tasks a worker runs at once.
    pub tasks_per_worker: u32,
}

impl Default for PredictiveConfig {
    fn default() -> Self {
        PredictiveConfig {
            season: DurationMs::from_secs(86_400),
            horizon: DurationMs::from_secs(300),
            alpha: Fixed9::from_units(300_000_000),
            beta: Fixed9::from_units(10_000_000),
            gamma: Fixed9::from_units(300_000_000),
            target_utilization: Fixed9::from_units(700_000_000),
            tasks_per_worker: 1,
        }
    }
}

/// The `predictive` policy's memory: an additive Holt-Winters model of demand
/// (pending + running tasks) sampled at every decision.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PredictiveState {
    /// Level.
    pub level: f64,
    /// Trend per slot.
    pub trend: f64,
    /// Seasonal offsets, one per evaluation interval of the season.
    pub seasonal: Vec<f64>,
    /// Samples taken.
    pub samples: u64,
    /// The last forecast of demand `horizon` ahead.
    pub last_forecast: f64,
}

fn ceil_f(x: f64) -> i64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let t = x as i64;
    #[allow(clippy::cast_precision_loss)]
    // Saturating: a forecast beyond i64 (the cast saturates to i64::MAX) stays there.
    if (t as f64) < x {
        t.saturating_add(1)
    } else {
        t
    }
}

impl PredictiveConfig {
    fn slots(&self, interval_ms: u64) -> usize {
        usize::try_from((self.season.as_ms() / interval_ms.max(1)).max(1)).unwrap_or(1)
    }
}

impl Policy for PredictiveConfig {
    const NAME: &'static str = "predictive";
    const KEYS: &'static [&'static str] =
        &["season_s", "horizon_s", "alpha", "beta", "gamma", "target_utilization", "tasks_per_worker"];
    type State = PredictiveState;

    fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "season_s" => self.season = seconds(key, v, true)?,
            "horizon_s" => self.horizon = seconds(key, v, false)?,
            "alpha" => self.alpha = unit_interval(key, v, false)?,
            "beta" => self.beta = unit_interval(key, v, false)?,
            "gamma" => self.gamma = unit_interval(key, v, false)?,
            "target_utilization" => self.target_utilization = unit_interval(key, v, true)?,
            "tasks_per_worker" => self.tasks_per_worker = whole_at_least(key, v, 1)?,
            _ => return Err(unknown(key, Self::KEYS)),
        }
        Ok(())
    }

    fn to_toml(&self) -> Option<String> {
        Some(format!(
            "{{ season_s = {}, horizon_s = {}, alpha = {}, beta = {}, gamma = {}, target_utilization = {}, tasks_per_worker = {} }}",
            self.season, self.horizon, self.alpha, self.beta, self.gamma, self.target_utilization, self.tasks_per_worker
        ))
    }

    fn observe(&self, ctx: &Ctx<'_>, st: &mut PredictiveState) {
        let interval = ctx.config.evaluation_interval().as_ms().max(1);
        let slots = self.slots(interval);
        if st.seasonal.len() != slots {
            st.seasonal = alloc::vec![0.0; slots];
            st.samples = 0;
        }
        let slot = usize::try_from((ctx.now.0 / interval) % slots as u64).unwrap_or(0);
        let o = ctx.window.newest();
        #[allow(clippy::cast_precision_loss)]
        let demand = o.pending_tasks.saturating_add(o.running_tasks) as f64;
        let (alpha, beta, gamma) = (self.alpha.to_f64(), self.beta.to_f64(), self.gamma.to_f64());
        if st.samples == 0 {
            st.level = demand;
            st.trend = 0.0;
        } else {
            let prev = st.level;
            st.level = alpha * (demand - st.seasonal[slot]) + (1.0 - alpha) * (st.level + st.trend);
            st.trend = beta * (st.level - prev) + (1.0 - beta) * st.trend;
            st.seasonal[slot] = gamma * (demand - st.level) + (1.0 - gamma) * st.seasonal[slot];
        }
        st.samples += 1;
        let h = usize::try_from(self.horizon.as_ms().div_ceil(interval)).unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let forecast = (st.level + h as f64 * st.trend + st.seasonal[(slot + h) % slots]).max(0.0);
        st.last_forecast = forecast;
    }

    fn decide(&self, ctx: &Ctx<'_>, st: &mut PredictiveState) -> Verdict {
        let reactive = rules_5_to_7(ctx);
        // Until a whole season has been seen, the seasonal terms are unreliable: be reactive.
        let slots = self.slots(ctx.config.evaluation_interval().as_ms());
        if st.samples < slots as u64 {
            return reactive;
        }
        let needed = ceil_f(st.last_forecast / (self.target_utilization.to_f64() * f64::from(self.tasks_per_worker)));
        let n = i64::from(ctx.current_workers());
        let needed = needed.min(i64::from(ctx.config.max_workers()));
        let r = reactive.target;
        if r >= n && needed > r.max(n) {
            // Holding or scaling up: up to what the forecast needs.
            return Verdict::new(needed, Reason::ForecastHigh);
        }
        if r < n && needed > r {
            // Scaling in: never below what the forecast needs (and never on the forecast alone).
            let t = needed.min(n);
            return if t == n { Verdict::new(n, Reason::ForecastHigh) } else { Verdict::new(t, reactive.reason) };
        }
        reactive
    }
}
