//! The objective language: `minimize METRIC [subject to METRIC[@qNN] OP NUMBER [and ...]]`.
//!
//! A constraint is checked on the mean over the seeds, or, written `METRIC@qNN`, on the
//! seeds' spread: it must hold for at least NN % of the seeds. For `<=` and `<` that is
//! the nearest-rank NN-th percentile of the metric across the seeds (the `ceil(NN/100 * n)`-th
//! smallest of the `n` seeds' values); for `>=` and `>`, the (100 - NN)-th
//! (see [`super::spread::percentile`]).

use scaler_formats::results::SettingResult;
use scaler_model::METRICS;

/// A comparison in a constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl Op {
    pub(crate) fn holds(self, v: f64, bound: f64) -> bool {
        match self {
            Op::Le => v <= bound,
            Op::Lt => v < bound,
            Op::Ge => v >= bound,
            Op::Gt => v > bound,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }
}

/// `metric op bound`.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// Index into [`METRICS`].
    pub metric: usize,
    /// The comparison.
    pub op: Op,
    /// The bound.
    pub bound: f64,
    /// `@qNN`: the constraint must hold for at least NN % of the seeds (1 to 100); `None`:
    /// on the mean over the seeds.
    pub at: Option<u8>,
}

impl Constraint {
    /// The percentile across the seeds this constraint checks: NN for `<=` and `<` (the
    /// high tail), 100 - NN for `>=` and `>` (the low tail); `None` for the mean.
    #[must_use]
    pub fn percentile(&self) -> Option<u8> {
        self.at.map(|q| match self.op {
            Op::Le | Op::Lt => q,
            Op::Ge | Op::Gt => 100 - q,
        })
    }
}

/// What the sweep optimises: `minimize cost subject to wait_p95_s <= 30 and ...`.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// Maximize instead of minimize.
    pub maximize: bool,
    /// Index into [`METRICS`].
    pub metric: usize,
    /// Constraints that a recommendation must meet.
    pub constraints: Vec<Constraint>,
}

impl Objective {
    /// True when `metrics` (in [`METRICS`] order, means over the seeds) meet every
    /// constraint, each checked on the mean (a `@qNN` constraint too: use [`Objective::holds`]
    /// where the seeds' spread is known).
    #[must_use]
    pub fn feasible(&self, metrics: &[f64]) -> bool {
        self.constraints.iter().all(|c| c.op.holds(metrics[c.metric], c.bound))
    }

    /// The value constraint `c` is checked on for result `r`: its percentile across the
    /// seeds for a `@qNN` constraint of a sweep with several seeds (the result's spread
    /// column), the mean otherwise (with one seed the percentile is that seed's value).
    #[must_use]
    pub fn checked_value(&self, c: &Constraint, r: &SettingResult) -> f64 {
        super::spread::constraint_value(self, c, r)
    }

    /// True when result `r` meets every constraint, each on its [`Objective::checked_value`].
    #[must_use]
    pub fn holds(&self, r: &SettingResult) -> bool {
        self.constraints.iter().all(|c| c.op.holds(self.checked_value(c, r), c.bound))
    }

    /// The distinct `(metric, percentile)` pairs the `@qNN` constraints check, in order of
    /// appearance: a multi-seed sweep's `METRIC_qNN` columns.
    #[must_use]
    pub fn quantiles(&self) -> Vec<(usize, u8)> {
        let mut out: Vec<(usize, u8)> = Vec::new();
        for c in &self.constraints {
            if let Some(p) = c.percentile() {
                if !out.contains(&(c.metric, p)) {
                    out.push((c.metric, p));
                }
            }
        }
        out
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", if self.maximize { "maximize" } else { "minimize" }, METRICS[self.metric])?;
        for (i, c) in self.constraints.iter().enumerate() {
            let join = if i == 0 { " subject to " } else { " and " };
            let at = c.at.map_or_else(String::new, |q| format!("@q{q}"));
            write!(f, "{join}{}{at} {} {}", METRICS[c.metric], c.op.as_str(), c.bound)?;
        }
        Ok(())
    }
}

pub(crate) fn metric_index(name: &str) -> Result<usize, String> {
    METRICS
        .iter()
        .position(|m| *m == name)
        .ok_or_else(|| format!("unknown metric `{name}`{}", scaler_core::suggest(name, METRICS)))
}

/// `METRIC` or `METRIC@qNN` (NN a whole number from 1 to 100).
fn constrained_metric(word: &str) -> Result<(usize, Option<u8>), String> {
    let Some((name, at)) = word.split_once('@') else { return Ok((metric_index(word)?, None)) };
    let rule = "a quantile across the seeds is written METRIC@qNN, NN a whole number from 1 to 100 (e.g. wait_p95_s@q90 <= 5: at least 90 % of the seeds meet it)";
    let digits = at.strip_prefix('q').ok_or_else(|| format!("`{word}`: {rule}"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{word}`: {rule}"));
    }
    let q = digits.parse::<u8>().ok().filter(|q| (1..=100).contains(q)).ok_or_else(|| format!("`{word}`: {rule}"))?;
    Ok((metric_index(name)?, Some(q)))
}

/// Parses `minimize METRIC [subject to METRIC[@qNN] OP NUMBER [and ...]]` (or `maximize`).
pub fn parse_objective(text: &str) -> Result<Objective, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let maximize = match words.first() {
        Some(&"minimize") => false,
        Some(&"maximize") => true,
        _ => {
            return Err(
                "must start with `minimize` or `maximize`, e.g. \"minimize cost subject to wait_p95_s <= 30\"".into()
            )
        }
    };
    let metric = metric_index(words.get(1).ok_or("names no metric")?)?;
    let mut constraints = Vec::new();
    let mut i = 2;
    if i < words.len() {
        if words.get(i) != Some(&"subject") || words.get(i + 1) != Some(&"to") {
            return Err(format!("expected `subject to` after the metric, found `{}`", words[i]));
        }
        i += 2;
        loop {
            let (Some(m), Some(op), Some(b)) = (words.get(i), words.get(i + 1), words.get(i + 2)) else {
                return Err("a constraint is `METRIC OP NUMBER`, with OP one of <=, <, >=, >".into());
            };
            let op = match *op {
                "<=" => Op::Le,
                "<" => Op::Lt,
                ">=" => Op::Ge,
                ">" => Op::Gt,
                other => return Err(format!("unknown comparison `{other}` (use <=, <, >= or >)")),
            };
            let bound: f64 = b.parse().map_err(|_| format!("`{b}` is not a number"))?;
            if !bound.is_finite() {
                return Err(format!("`{b}` is not a finite number"));
            }
            let (metric, at) = constrained_metric(m)?;
            constraints.push(Constraint { metric, op, bound, at });
            i += 3;
            match words.get(i) {
                None => break,
                Some(&"and") => i += 1,
                Some(other) => return Err(format!("expected `and` between constraints, found `{other}`")),
            }
        }
    }
    Ok(Objective { maximize, metric, constraints })
}

/// The index of a metric known to exist.
pub(crate) fn metric(name: &str) -> usize {
    metric_index(name).expect("a known metric")
}
