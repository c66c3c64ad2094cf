//! The objective language: `minimize METRIC [subject to METRIC OP NUMBER [and ...]]`.

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
    /// True when `metrics` (in [`METRICS`] order) meet every constraint.
    #[must_use]
    pub fn feasible(&self, metrics: &[f64]) -> bool {
        self.constraints.iter().all(|c| c.op.holds(metrics[c.metric], c.bound))
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", if self.maximize { "maximize" } else { "minimize" }, METRICS[self.metric])?;
        for (i, c) in self.constraints.iter().enumerate() {
            let join = if i == 0 { " subject to " } else { " and " };
            write!(f, "{join}{} {} {}", METRICS[c.metric], c.op.as_str(), c.bound)?;
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

/// Parses `minimize METRIC [subject to METRIC OP NUMBER [and ...]]` (or `maximize`).
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
            constraints.push(Constraint { metric: metric_index(m)?, op, bound });
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
