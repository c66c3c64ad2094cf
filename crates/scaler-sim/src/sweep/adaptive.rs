//! `[sweep] search = "adaptive"`: successive halving over growing prefixes of the trace.
//!
//! The candidates are the grid's settings (all of them, or a seeded sample of
//! `candidates`), or, when an axis is a continuous range, `candidates` settings drawn by a
//! seeded Latin hypercube on the ranges' lattices (every list axis stratified alike). Rung
//! `r` of `R` runs every surviving candidate on the first `1/eta^(R-1-r)` of the trace's
//! time span (the source stops at the cut-off; the run then drains what arrived), ranks them
//! by a penalised objective and keeps the best `ceil(n/eta)`; the last rung runs the whole
//! trace, exactly as the grid does, and the recommendation is picked among those settings by
//! [`super::frontier::recommend`], as the grid's is. Everything is in setting order and
//! seeded, so the output is byte-identical for the same inputs whatever the thread count.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use scaler_formats::error::{InputError, SimError};
use scaler_formats::results::SettingResult;
use scaler_formats::scenario::Scenario;
use scaler_formats::tomldoc::{Doc, Node, Value};
use scaler_model::simulate;
use scaler_model::trace::{LoadedTrace, Task, TaskSource};

use super::objective::{Objective, Op};
use super::runner::{run_each_seed, Inputs, Manifest, SweepRequest};
use super::spec::{setting_scenario, Range, Search, SweepSpec};

/// Candidates drawn when an axis is a range and `sweep.candidates` is not given.
pub const DEFAULT_RANGE_CANDIDATES: usize = 100;

/// How much a constraint may be missed on a prefix and still count as met, relative to its
/// bound: a prefix's metrics are a noisy estimate of the whole trace's.
pub const PREFIX_SLACK: f64 = 0.1;

/// One rung of the search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rung {
    /// The share of the trace's time span run: `1/fraction_den`.
    pub fraction_den: u64,
    /// Arrivals at or after this time (ms) were left out (`None`: the whole trace).
    pub until_ms: Option<u64>,
    /// Settings run on this rung.
    pub settings: usize,
    /// Settings kept for the next rung (on the last: the settings of the results).
    pub kept: usize,
}

/// What the adaptive search did, for `recommendation.json` and the terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchReport {
    /// Settings the first rung started from (invalid ones included).
    pub candidates: usize,
    /// Candidates that were invalid settings (they run nowhere; they are rows of
    /// `results.csv`, as in the grid).
    pub invalid: usize,
    /// The rungs, the last on the whole trace.
    pub rungs: Vec<Rung>,
}

impl SearchReport {
    /// The work done, in whole-trace runs per seed (each rung's settings times its share).
    #[must_use]
    pub fn whole_trace_runs(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        self.rungs.iter().map(|r| r.settings as f64 / r.fraction_den as f64).sum()
    }
}

/// The finished search: the spec with its settings (a drawn list when an axis is a range),
/// the rows of `results.csv` (the candidates run on the whole trace, and the invalid ones),
/// and the report.
#[derive(Clone, Debug)]
pub struct AdaptiveRun {
    /// The sweep with the settings the search drew ([`SweepSpec::points`]).
    pub spec: SweepSpec,
    /// By setting.
    pub results: Vec<SettingResult>,
    /// What was run at which share of the trace.
    pub report: SearchReport,
}

/// A task source that ends at the first arrival at or after `until_ms`.
struct Prefix<S> {
    inner: S,
    until_ms: u64,
    ended: bool,
}

impl<S: TaskSource> TaskSource for Prefix<S> {
    type Error = S::Error;

    fn next_task(&mut self) -> Result<Option<Task>, S::Error> {
        if self.ended {
            return Ok(None);
        }
        match self.inner.next_task()? {
            Some(t) if t.arrival_ms < self.until_ms => Ok(Some(t)),
            _ => {
                self.ended = true;
                Ok(None)
            }
        }
    }
}

/// The trace's time span `[start, end)` in ms: first to last arrival (tasks) or first row
/// to the end of the last row's interval (rates).
#[must_use]
pub fn trace_span_ms(trace: &LoadedTrace) -> (u64, u64) {
    match trace {
        LoadedTrace::Tasks(t, _) => (t.first().map_or(0, |t| t.arrival_ms), t.last().map_or(0, |t| t.arrival_ms + 1)),
        LoadedTrace::Rates(rows, _) => (
            rows.first().map_or(0, |r| r.ts_ms),
            rows.iter().map(|r| r.ts_ms.saturating_add(r.interval_ms)).max().unwrap_or(0),
        ),
    }
}

/// Means of the metrics over the seeds, on the trace's arrivals before `until_ms`.
fn run_prefix(sc: &Scenario, trace: &LoadedTrace, seeds: &[u64], until_ms: u64) -> Result<Vec<Vec<f64>>, SimError> {
    seeds
        .iter()
        .map(|&seed| {
            let mut source = Prefix { inner: trace.source(seed), until_ms, ended: false };
            let s = simulate(sc.params(seed), &mut source, |_| Ok::<(), SimError>(()))?;
            Ok(s.values().to_vec())
        })
        .collect()
}

/// A table with `min` and `max` and nothing but `min`, `max`, `step` and `integer` is a
/// continuous range (any other table is a policy's or a step's table of swept keys).
pub(super) fn is_range(t: &[(String, std::ops::Range<usize>, Node)]) -> bool {
    let has = |k: &str| t.iter().any(|(n, _, _)| n == k);
    has("min") && has("max") && t.iter().all(|(n, _, _)| ["min", "max", "step", "integer"].contains(&n.as_str()))
}

/// Reads `{ min = A, max = B [, step = S] [, integer = true] }`, exactly (9 decimals).
pub(super) fn parse_range(
    doc: &Doc,
    key: &str,
    node: &Node,
    t: &[(String, std::ops::Range<usize>, Node)],
) -> Result<Range, InputError> {
    let get = |k: &str| t.iter().find(|(n, _, _)| n == k).map(|(_, _, v)| v);
    let integer = match get("integer") {
        None => false,
        Some(Node { value: Value::Bool(b), .. }) => *b,
        Some(v) => return Err(doc.error_node(v, format!("sweep.{key}.integer must be true or false"))),
    };
    let number = |k: &str| -> Result<Option<i64>, InputError> {
        let Some(v) = get(k) else { return Ok(None) };
        let text = match &v.value {
            Value::Integer(t) => t,
            Value::Float(t) if !integer => t,
            Value::Float(_) => {
                return Err(doc.error_node(v, format!("sweep.{key}.{k} must be a whole number (integer = true)")))
            }
            _ => return Err(doc.error_node(v, format!("sweep.{key}.{k} must be a number"))),
        };
        let d = scaler_core::Decimal::parse(text)
            .map_err(|e| doc.error_node(v, format!("sweep.{key}.{k} = {text}: {e}")))?;
        d.to_scaled_i64(9).map(Some).map_err(|e| doc.error_node(v, format!("sweep.{key}.{k} = {text}: {e}")))
    };
    let min_units = number("min")?.expect("a range has min");
    let max_units = number("max")?.expect("a range has max");
    if max_units < min_units {
        return Err(doc.error_node(node, format!("sweep.{key}: max must not be below min")));
    }
    let step_units = match number("step")? {
        Some(s) if s <= 0 => {
            return Err(doc.error_node(get("step").expect("read"), format!("sweep.{key}.step must be above 0")))
        }
        Some(s) if integer && s % 1_000_000_000 != 0 => {
            return Err(doc.error_node(
                get("step").expect("read"),
                format!("sweep.{key}.step must be a whole number (integer = true)"),
            ))
        }
        Some(s) => s,
        None if integer => 1_000_000_000,
        // The finest power of ten at most a thousandth of the span (a nanounit at least).
        None => {
            let mut s: i64 = 1;
            while s.saturating_mul(10).saturating_mul(1000) <= max_units - min_units {
                s *= 10;
            }
            s
        }
    };
    Ok(Range { min_units, max_units, step_units, integer })
}

/// A range's value `k` steps above its minimum, as exact decimal text (`0.65`, `120`).
#[must_use]
pub fn range_text(r: &Range, k: u64) -> String {
    let units = i128::from(r.min_units) + i128::from(r.step_units) * i128::from(k);
    let neg = units < 0;
    let a = units.unsigned_abs();
    let (whole, frac) = (a / 1_000_000_000, a % 1_000_000_000);
    let mut t = String::new();
    if neg {
        t.push('-');
    }
    let _ = write!(t, "{whole}");
    if r.integer {
        return t;
    }
    let f = format!("{frac:09}");
    let f = f.trim_end_matches('0');
    let _ = write!(t, ".{}", if f.is_empty() { "0" } else { f });
    t
}

/// How many lattice points a range has.
#[must_use]
pub fn range_points(r: &Range) -> u64 {
    let span = i128::from(r.max_units) - i128::from(r.min_units);
    u64::try_from(span / i128::from(r.step_units) + 1).unwrap_or(u64::MAX)
}

/// `n` distinct indices below `total`, seeded (Floyd's algorithm), in increasing order.
fn sample_indices(rng: &mut ChaCha8Rng, total: usize, n: usize) -> Vec<usize> {
    let mut set = BTreeSet::new();
    for j in total - n..total {
        let t = rng.random_range(0..=j);
        if !set.insert(t) {
            set.insert(j);
        }
    }
    set.into_iter().collect()
}

/// A Latin-hypercube column: `n` indices below `count`, one per stratum, shuffled.
fn lhs_column(rng: &mut ChaCha8Rng, count: u64, n: usize) -> Vec<u64> {
    let (c, m) = (u128::from(count), n as u128);
    let mut col: Vec<u64> = (0..m)
        .map(|k| {
            let lo = k * c / m;
            let hi = ((k + 1) * c / m).max(lo + 1);
            #[allow(clippy::cast_possible_truncation)] // below `count`, a u64
            let v = rng.random_range(lo as u64..hi as u64);
            v
        })
        .collect();
    for i in (1..col.len()).rev() {
        let j = rng.random_range(0..=i);
        col.swap(i, j);
    }
    col
}

/// The candidates: the spec whose settings they are, and their indices in it.
fn candidates(spec: &SweepSpec, wanted: Option<usize>) -> (SweepSpec, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seeds[0] ^ 0x6164_6170_7469_7665);
    let mut spec = spec.clone();
    if spec.axes.iter().all(|a| a.range.is_none()) {
        let total = spec.settings();
        let list = match wanted {
            Some(n) if n < total => sample_indices(&mut rng, total, n),
            _ => (0..total).collect(),
        };
        return (spec, list);
    }
    let n = wanted.unwrap_or(DEFAULT_RANGE_CANDIDATES);
    let mut columns: Vec<Vec<usize>> = Vec::with_capacity(spec.axes.len());
    for axis in &mut spec.axes {
        match axis.range {
            None => {
                let col = lhs_column(&mut rng, axis.values.len() as u64, n);
                columns.push(col.into_iter().map(|v| usize::try_from(v).expect("an index")).collect());
            }
            Some(r) => {
                let col = lhs_column(&mut rng, range_points(&r), n);
                let drawn: Vec<u64> = col.iter().copied().collect::<BTreeSet<u64>>().into_iter().collect();
                axis.values = drawn.iter().map(|&k| range_text(&r, k)).collect();
                axis.cells = axis.values.clone();
                columns.push(col.iter().map(|k| drawn.binary_search(k).expect("drawn")).collect());
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut points = Vec::with_capacity(n);
    for k in 0..n {
        let p: Vec<usize> = columns.iter().map(|c| c[k]).collect();
        if seen.insert(p.clone()) {
            points.push(p);
        }
    }
    let list = (0..points.len()).collect();
    spec.points = Some(points);
    (spec, list)
}

/// How far `metrics` miss the constraints, each bound loosened by `slack` (relative), as
/// the sum of relative misses (0: met).
fn violation(objective: &Objective, r: &SettingResult, slack: f64) -> f64 {
    objective
        .constraints
        .iter()
        .map(|c| {
            let v = objective.checked_value(c, r);
            let scale = c.bound.abs().max(1e-9);
            let miss = match c.op {
                Op::Le | Op::Lt => v - c.bound,
                Op::Ge | Op::Gt => c.bound - v,
            };
            (miss / scale - slack).max(0.0)
        })
        .sum()
}

/// The survivors of a rung: settings meeting the constraints (within [`PREFIX_SLACK`]) by
/// objective, then the others by how far they miss; ties by setting. The best `keep`.
fn survivors(objective: &Objective, mut rows: Vec<SettingResult>, keep: usize) -> Vec<usize> {
    let sign = if objective.maximize { -1.0 } else { 1.0 };
    let key = |r: &SettingResult| {
        let v = violation(objective, r, PREFIX_SLACK);
        if v > 0.0 {
            (1u8, v)
        } else {
            (0u8, sign * r.metrics[objective.metric])
        }
    };
    rows.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(a.index.cmp(&b.index))
    });
    let mut kept: Vec<usize> = rows.into_iter().take(keep).map(|r| r.index).collect();
    kept.sort_unstable();
    kept
}

/// Writes the folder's `sweep.json` (so that `plot` finds the scenario).
fn write_manifest(req: &SweepRequest, spec: &SweepSpec, now: &Inputs) -> Result<(), SimError> {
    let out = &req.out;
    std::fs::create_dir_all(out).map_err(|e| {
        InputError::file(out, format!("cannot create the output folder: {}", scaler_formats::csvio::io_reason(&e)))
    })?;
    // One shard of one: the adaptive search does not shard.
    Manifest::of(&SweepRequest { shard: (0, 1), ..req.clone() }, spec, now).write_to(out)
}

/// Runs the adaptive search of `spec` (whose [`SweepSpec::search`] is adaptive).
///
/// `progress(done, total)` is called once at the start and after each rung's setting;
/// `total` is the number of runs the rungs plan.
pub fn run_adaptive(
    req: &SweepRequest,
    doc: &Doc,
    spec: &SweepSpec,
    trace: &LoadedTrace,
    now: &Inputs,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<AdaptiveRun, SimError> {
    let Search::Adaptive { candidates: wanted, eta, rungs } = spec.search else {
        return Err(SimError::invariant("run_adaptive: the sweep's search is the grid".to_string()));
    };
    let (spec, list) = candidates(spec, wanted);
    let spec = &spec;
    // With `[sweep] holdout`, every rung sees only the trace's tuning part, as the grid's
    // settings do.
    let tuning = super::holdout::tuning_trace(&doc.path, trace, spec.holdout)?;
    let trace = &tuning;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(req.threads)
        .build()
        .map_err(|e| SimError::invariant(format!("thread pool: {e}")))?;
    // The invalid candidates are rows of results.csv, and run nowhere.
    let checked: Vec<(usize, Result<Scenario, InputError>)> =
        pool.install(|| list.par_iter().map(|&i| (i, setting_scenario(doc, spec, i))).collect());
    let mut results = Vec::new();
    let mut alive: Vec<(usize, Scenario)> = Vec::with_capacity(checked.len());
    for (i, sc) in checked {
        match sc {
            Ok(sc) => alive.push((i, sc)),
            Err(e) => results.push(SettingResult {
                index: i,
                status: format!("invalid: {}", e.message),
                metrics: vec![],
                spread: vec![],
            }),
        }
    }
    let invalid = results.len();
    let mut report = SearchReport { candidates: list.len(), invalid, rungs: Vec::new() };
    // The plan: n, ceil(n/eta), ... settings.
    let mut planned = Vec::with_capacity(rungs);
    let mut n = alive.len();
    for _ in 0..rungs {
        planned.push(n);
        n = n.div_ceil(eta);
    }
    let total: usize = planned.iter().sum();
    let mut done = 0;
    progress(done, total);
    write_manifest(req, spec, now)?;
    let (start, end) = trace_span_ms(trace);
    let eta64 = eta as u64;
    for r in 0..rungs {
        let den = eta64.checked_pow(u32::try_from(rungs - 1 - r).expect("at most 10 rungs")).unwrap_or(u64::MAX);
        let until = (den > 1).then(|| start + (end - start).div_ceil(den));
        // A prefix that ends within every setting's warm-up measures no task: all would tie
        // and the lowest indices survive. Such a rung is skipped (recorded with 0 settings).
        if until.is_some_and(|u| alive.iter().all(|(_, sc)| u <= sc.cluster.warmup.as_ms())) {
            report.rungs.push(Rung { fraction_den: den, until_ms: until, settings: 0, kept: alive.len() });
            done += alive.len();
            progress(done, total);
            continue;
        }
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let pool = &pool;
        // (setting, metric means, spread columns: the grid's row on the whole trace).
        type Row = (usize, Vec<f64>, Vec<f64>);
        let rows: Vec<Result<Row, SimError>> = std::thread::scope(|s| {
            let alive = &alive;
            let handle = s.spawn(move || {
                pool.install(|| {
                    alive
                        .par_iter()
                        .map_with(tx, |tx, (i, sc)| {
                            let m = match until {
                                Some(u) => run_prefix(sc, trace, &spec.seeds, u),
                                None => run_each_seed(sc, trace, &spec.seeds),
                            }
                            .map(|per| {
                                // Means and the spread columns: a `@qNN` constraint ranks
                                // a prefix on the same value the last rung picks on.
                                (super::spread::means(&per), super::spread::values(&spec.objective, &per))
                            });
                            let _ = tx.send(());
                            m.map(|(m, spread)| (*i, m, spread))
                        })
                        .collect()
                })
            });
            for () in rx {
                done += 1;
                progress(done, total);
            }
            handle.join().expect("the rung's runs")
        });
        let rows = rows.into_iter().collect::<Result<Vec<_>, _>>()?;
        let ran = rows.len();
        if until.is_none() {
            results.extend(rows.into_iter().map(|(index, metrics, spread)| SettingResult {
                index,
                status: "ok".into(),
                metrics,
                spread,
            }));
            report.rungs.push(Rung { fraction_den: den, until_ms: None, settings: ran, kept: ran });
            break;
        }
        let keep = ran.div_ceil(eta);
        let rows = rows
            .into_iter()
            .map(|(index, metrics, spread)| SettingResult { index, status: "ok".into(), metrics, spread })
            .collect();
        let kept = survivors(&spec.objective, rows, keep);
        report.rungs.push(Rung { fraction_den: den, until_ms: until, settings: ran, kept: kept.len() });
        let mut next = kept.into_iter().peekable();
        alive.retain(|(i, _)| {
            if next.peek() == Some(i) {
                next.next();
                true
            } else {
                false
            }
        });
    }
    results.sort_by_key(|r| r.index);
    Ok(AdaptiveRun { spec: spec.clone(), results, report })
}
