//! AWS step scaling as a policy: two alarms on the window's utilization, each with step
//! adjustments whose bounds are relative to its threshold, decided with exact decimals.
//!
//! AWS's bound rules (`MetricIntervalLowerBound` / `MetricIntervalUpperBound` in the
//! StepAdjustment reference) depend on the direction: for the scale-out alarm (metric
//! above its threshold) a step applies when `lower <= metric - threshold < upper`; for
//! the scale-in alarm (metric below its threshold) when `lower < metric - threshold <= upper`.
//! An absent bound is infinite. Warm-up is the generic `warmup_period` of `[scaler]`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::config::{ConfigError, ConfigValue};
use crate::decision::Reason;
use crate::policy::{Ctx, Policy, Verdict};
use crate::read::{fixed, one_of, signed_fixed, signed_whole, table, unknown, whole};
use crate::units::Fixed9;

/// How a step adjustment is read (AWS `AdjustmentType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustmentType {
    /// Add or remove this many workers.
    ChangeInCapacity,
    /// Add or remove this percentage of the current workers.
    PercentChangeInCapacity,
    /// Set exactly this many workers.
    ExactCapacity,
}

/// One step: its bounds on `metric - threshold` in units of `10^-9` (`None`: infinite)
/// and its adjustment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepAdjustment {
    /// `MetricIntervalLowerBound`.
    pub lower: Option<i64>,
    /// `MetricIntervalUpperBound`.
    pub upper: Option<i64>,
    /// `ScalingAdjustment`.
    pub adjustment: i64,
}

/// Settings of the `step` policy (`[scaler.step]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepConfig {
    /// The scale-out alarm: utilization above this.
    pub upper_threshold: Fixed9,
    /// The scale-in alarm: utilization below this.
    pub lower_threshold: Fixed9,
    /// How adjustments are read.
    pub adjustment_type: AdjustmentType,
    /// Steps for the scale-out alarm.
    pub scale_out: Vec<StepAdjustment>,
    /// Steps for the scale-in alarm.
    pub scale_in: Vec<StepAdjustment>,
    /// For percent adjustments: change at least this many workers.
    pub min_adjustment_magnitude: i64,
}

const TENTH: i64 = 100_000_000;

impl Default for StepConfig {
    fn default() -> Self {
        StepConfig {
            upper_threshold: Fixed9::from_units(800_000_000),
            lower_threshold: Fixed9::from_units(300_000_000),
            adjustment_type: AdjustmentType::ChangeInCapacity,
            scale_out: alloc::vec![
                StepAdjustment { lower: Some(0), upper: Some(TENTH), adjustment: 1 },
                StepAdjustment { lower: Some(TENTH), upper: None, adjustment: 3 },
            ],
            scale_in: alloc::vec![StepAdjustment { lower: None, upper: Some(0), adjustment: -1 }],
            min_adjustment_magnitude: 0,
        }
    }
}

fn steps_from(key: &str, v: &ConfigValue) -> Result<Vec<StepAdjustment>, ConfigError> {
    let ConfigValue::Array(a) = v else {
        return Err(ConfigError::invalid(key, v, "must be a list like [{ lower = 0, upper = 0.1, adjustment = 1 }]"));
    };
    let mut out = Vec::new();
    for (i, s) in a.iter().enumerate() {
        let k = format!("{key}[{i}]");
        let t = table(&k, s, "{ lower = ..., upper = ..., adjustment = ... }")?;
        if let Some(extra) = t.keys().find(|x| !["lower", "upper", "adjustment"].contains(&x.as_str())) {
            return Err(unknown(&format!("{k}.{extra}"), &["lower", "upper", "adjustment"]));
        }
        let bound = |name: &str| t.get(name).map(|val| signed_fixed(&format!("{k}.{name}"), val)).transpose();
        let adj = t.get("adjustment").ok_or_else(|| ConfigError::invalid(&k, s, "needs `adjustment`"))?;
        let adjustment = signed_whole(&format!("{k}.adjustment"), adj)?;
        let (lower, upper) = (bound("lower")?, bound("upper")?);
        if let (Some(l), Some(u)) = (lower, upper) {
            if l >= u {
                return Err(ConfigError::invalid(&k, s, "lower must be below upper"));
            }
        }
        out.push(StepAdjustment { lower, upper, adjustment });
    }
    Ok(out)
}

/// Writes a bound in units of `10^-9` as a decimal.
fn signed_text(units: i64) -> String {
    let f = Fixed9::from_units(units.unsigned_abs());
    if units < 0 {
        format!("-{f}")
    } else {
        format!("{f}")
    }
}

impl Policy for StepConfig {
    const NAME: &'static str = "step";
    const KEYS: &'static [&'static str] =
        &["upper_threshold", "lower_threshold", "adjustment_type", "scale_out", "scale_in", "min_adjustment_magnitude"];
    type State = ();

    fn set(&mut self, key: &str, sub: &str, v: &ConfigValue) -> Result<(), ConfigError> {
        match sub {
            "upper_threshold" => self.upper_threshold = fixed(key, v, "must be >= 0")?,
            "lower_threshold" => self.lower_threshold = fixed(key, v, "must be >= 0")?,
            "adjustment_type" => {
                self.adjustment_type = one_of(
                    key,
                    v,
                    &[
                        ("ChangeInCapacity", AdjustmentType::ChangeInCapacity),
                        ("PercentChangeInCapacity", AdjustmentType::PercentChangeInCapacity),
                        ("ExactCapacity", AdjustmentType::ExactCapacity),
                    ],
                )?;
            }
            "scale_out" => self.scale_out = steps_from(key, v)?,
            "scale_in" => self.scale_in = steps_from(key, v)?,
            "min_adjustment_magnitude" => {
                self.min_adjustment_magnitude = i64::from(whole(key, v, "must be a whole number >= 0")?);
            }
            "warmup_s" => {
                return Err(ConfigError::invalid(
                    key,
                    v,
                    "is no longer a step setting: use `warmup_period` in [scaler], the one warm-up of every policy",
                ))
            }
            _ => return Err(unknown(key, Self::KEYS)),
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.lower_threshold >= self.upper_threshold {
            let v = ConfigValue::Number(format!("{}", self.lower_threshold));
            return Err(ConfigError::invalid(
                "step.lower_threshold",
                &v,
                format!("must be < step.upper_threshold ({})", self.upper_threshold),
            ));
        }
        Ok(())
    }

    fn to_toml(&self) -> Option<String> {
        let t = match self.adjustment_type {
            AdjustmentType::ChangeInCapacity => "ChangeInCapacity",
            AdjustmentType::PercentChangeInCapacity => "PercentChangeInCapacity",
            AdjustmentType::ExactCapacity => "ExactCapacity",
        };
        let steps = |v: &[StepAdjustment]| {
            let items: Vec<String> = v
                .iter()
                .map(|s| {
                    let mut parts = Vec::new();
                    if let Some(l) = s.lower {
                        parts.push(format!("lower = {}", signed_text(l)));
                    }
                    if let Some(u) = s.upper {
                        parts.push(format!("upper = {}", signed_text(u)));
                    }
                    parts.push(format!("adjustment = {}", s.adjustment));
                    format!("{{ {} }}", parts.join(", "))
                })
                .collect();
            format!("[{}]", items.join(", "))
        };
        Some(format!(
            "{{ upper_threshold = {}, lower_threshold = {}, adjustment_type = \"{t}\", scale_out = {}, scale_in = {}, min_adjustment_magnitude = {} }}",
            self.upper_threshold,
            self.lower_threshold,
            steps(&self.scale_out),
            steps(&self.scale_in),
            self.min_adjustment_magnitude,
        ))
    }

    fn decide(&self, ctx: &Ctx<'_>, _state: &mut ()) -> Verdict {
        let w = ctx.window;
        let agg = ctx.config.utilization_aggregate();
        let n = i64::from(ctx.current_workers());
        // `metric` compared exactly with `threshold + bound`.
        let cmp_at =
            |threshold: Fixed9, bound: i64| w.cmp_units(agg, i128::from(threshold.units()) + i128::from(bound));
        let step = if w.above(agg, self.upper_threshold) {
            let a = self.upper_threshold;
            // Above the threshold: lower bound inclusive, upper exclusive.
            let found = self.scale_out.iter().find(|s| {
                s.lower.is_none_or(|l| cmp_at(a, l) != Ordering::Less)
                    && s.upper.is_none_or(|u| cmp_at(a, u) == Ordering::Less)
            });
            found.map(|s| (s.adjustment, Reason::StepScaleOut))
        } else if w.below(agg, self.lower_threshold) {
            let a = self.lower_threshold;
            // Below the threshold: lower bound exclusive, upper inclusive.
            let found = self.scale_in.iter().find(|s| {
                s.lower.is_none_or(|l| cmp_at(a, l) == Ordering::Greater)
                    && s.upper.is_none_or(|u| cmp_at(a, u) != Ordering::Greater)
            });
            found.map(|s| (s.adjustment, Reason::StepScaleIn))
        } else {
            None
        };
        let Some((adj, reason)) = step else { return Verdict::new(n, Reason::NoAlarm) };
        let target = match self.adjustment_type {
            AdjustmentType::ChangeInCapacity => n.saturating_add(adj),
            AdjustmentType::PercentChangeInCapacity => {
                n.saturating_add(percent_change(n, adj, self.min_adjustment_magnitude))
            }
            AdjustmentType::ExactCapacity => adj,
        };
        Verdict::new(target, reason)
    }
}

/// AWS's rounding of a percent change, exactly: `n * pct / 100` rounded toward zero, except
/// that a change between 0 and 1 in magnitude becomes 1 (with its sign); then at least
/// `min_magnitude` in magnitude.
#[must_use]
pub fn percent_change(n: i64, pct: i64, min_magnitude: i64) -> i64 {
    let x = i128::from(n) * i128::from(pct);
    // Rust's integer division truncates toward zero.
    let mut c = i64::try_from(x / 100).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX });
    if c == 0 && x != 0 {
        c = if x > 0 { 1 } else { -1 };
    }
    if min_magnitude > 0 && c != 0 && c.abs() < min_magnitude {
        c = c.signum() * min_magnitude;
    }
    c
}
