//! `scaler-sim sweep`: many settings of one scenario, the cost / latency frontier,
//! and a recommendation.
//!
//! The scenario's `[sweep]` table lists values for any `scaler.*` or `cluster.*` key;
//! the settings are their cartesian product (the last key varies fastest). Each
//! setting runs once per seed, in parallel, on a trace parsed once and shared.
//! Finished settings are appended to `results.partial.csv` as they complete, so an
//! interrupted sweep continues with `--resume`; `--shard I/N` runs every N-th
//! setting, and `merge` combines shard folders into the files one machine writes.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;

use scaler_formats::csvio::{io_reason, CsvReader, Next};
use scaler_formats::error::{InputError, SimError};
use scaler_formats::fmtnum::fmt_num;
use scaler_formats::scenario::{self, Overrides, Scenario, CLUSTER_KEYS};
use scaler_formats::timeline::write_timeline;
use scaler_formats::tomldoc::{Doc, Node, Value};
use scaler_model::trace::LoadedTrace;
use scaler_model::{simulate, TickRow, METRICS};

/// One swept key and its values (as TOML text).
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// `scaler.cooldown_period`, `cluster.provision_delay_s`, ...
    pub key: String,
    /// The values, as TOML text (`120`, `"max"`, `{ percent = 50, min = 1 }`).
    pub values: Vec<String>,
}

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
    fn holds(self, v: f64, bound: f64) -> bool {
        match self {
            Op::Le => v <= bound,
            Op::Lt => v < bound,
            Op::Ge => v >= bound,
            Op::Gt => v > bound,
        }
    }

    fn as_str(self) -> &'static str {
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

fn metric_index(name: &str) -> Result<usize, String> {
    METRICS
        .iter()
        .position(|m| *m == name)
        .ok_or_else(|| format!("unknown metric `{name}`{}", scaler_core::config::suggest(name, METRICS)))
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

/// The `[sweep]` table.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// The swept keys, in file order.
    pub axes: Vec<Axis>,
    /// Seeds per setting (metrics are averaged over them).
    pub seeds: Vec<u64>,
    /// What to optimise.
    pub objective: Objective,
    /// The two axes of the heatmap, if there are two.
    pub heatmap: Option<[usize; 2]>,
}

impl SweepSpec {
    /// How many settings the product makes.
    #[must_use]
    pub fn settings(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// The value index of every axis for setting `i` (last axis fastest).
    #[must_use]
    pub fn coordinates(&self, mut i: usize) -> Vec<usize> {
        let mut c = vec![0; self.axes.len()];
        for (k, a) in self.axes.iter().enumerate().rev() {
            c[k] = i % a.values.len();
            i /= a.values.len();
        }
        c
    }

    /// The values of setting `i`.
    #[must_use]
    pub fn values(&self, i: usize) -> Vec<&str> {
        self.coordinates(i).iter().zip(&self.axes).map(|(&c, a)| a.values[c].as_str()).collect()
    }
}

/// TOML text of a value.
fn toml_text(v: &Value) -> String {
    match v {
        Value::Integer(t) | Value::Float(t) | Value::Datetime(t) => t.clone(),
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(|n| toml_text(&n.value)).collect::<Vec<_>>().join(", ")),
        Value::Table(t) => {
            format!(
                "{{ {} }}",
                t.iter().map(|(k, _, n)| format!("{k} = {}", toml_text(&n.value))).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// Reads the `[sweep]` table; every mistake is reported before any work starts.
pub fn parse_spec(doc: &Doc, base: &Scenario) -> Result<SweepSpec, InputError> {
    let Some((_, _, node)) = doc.get("sweep") else {
        return Err(InputError::file(
            &doc.path,
            "has no [sweep] table: list values to try, e.g. scaler.cooldown_period = [60, 120, 300]",
        ));
    };
    let Value::Table(table) = &node.value else {
        return Err(doc.error_node(node, "`sweep` must be a table"));
    };
    let mut axes = Vec::new();
    let mut seeds = vec![base.seed];
    let mut objective = None;
    let mut heatmap_keys: Option<(Vec<String>, &Node)> = None;
    for (key, kspan, n) in table {
        match key.as_str() {
            "seeds" => {
                let Value::Array(a) = &n.value else {
                    return Err(doc.error_node(n, "sweep.seeds must be a list of whole numbers"));
                };
                if a.is_empty() {
                    return Err(doc.error_node(n, "sweep.seeds is an empty list"));
                }
                seeds = a
                    .iter()
                    .map(|s| match &s.value {
                        Value::Integer(t) => t
                            .parse::<u64>()
                            .map_err(|_| doc.error_node(s, format!("sweep.seeds: {t} is not a seed (0 to 2^64-1)"))),
                        _ => Err(doc.error_node(s, "sweep.seeds must be whole numbers")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "objective" => {
                let Value::String(text) = &n.value else {
                    return Err(doc.error_node(n, "sweep.objective must be a string"));
                };
                objective = Some(
                    parse_objective(text).map_err(|m| doc.error_node(n, format!("sweep.objective = {text:?}: {m}")))?,
                );
            }
            "heatmap" => {
                let names = match &n.value {
                    Value::Array(a) => a
                        .iter()
                        .map(|x| if let Value::String(s) = &x.value { Some(s.clone()) } else { None })
                        .collect::<Option<Vec<_>>>(),
                    _ => None,
                };
                match names {
                    Some(v) if v.len() == 2 => heatmap_keys = Some((v, n)),
                    _ => return Err(doc.error_node(n, "sweep.heatmap must name two swept keys, e.g. [\"scaler.scale_up_threshold\", \"scaler.cooldown_period\"]")),
                }
            }
            "scaler" | "cluster" => collect_axes(doc, key, n, &mut axes)?,
            other => {
                return Err(doc.error_at(
                    kspan.start,
                    format!(
                        "unknown key `sweep.{other}`{} (swept keys go under sweep.scaler or sweep.cluster)",
                        scaler_core::config::suggest(other, &["seeds", "objective", "heatmap", "scaler", "cluster"])
                    ),
                ))
            }
        }
    }
    if axes.is_empty() {
        return Err(doc.error_node(
            node,
            "the [sweep] table lists no values to try, e.g. scaler.cooldown_period = [60, 120, 300]",
        ));
    }
    let objective = objective.unwrap_or(Objective {
        maximize: false,
        metric: metric_index("cost").expect("known"),
        constraints: Vec::new(),
    });
    let heatmap = match heatmap_keys {
        Some((names, n)) => {
            let find = |name: &str| {
                axes.iter().position(|a: &Axis| a.key == name).ok_or_else(|| {
                    doc.error_node(n, format!("sweep.heatmap names `{name}`, which the sweep does not vary"))
                })
            };
            Some([find(&names[0])?, find(&names[1])?])
        }
        None => {
            let multi: Vec<usize> =
                axes.iter().enumerate().filter(|(_, a)| a.values.len() > 1).map(|(i, _)| i).collect();
            (multi.len() >= 2).then(|| [multi[0], multi[1]])
        }
    };
    Ok(SweepSpec { axes, seeds, objective, heatmap })
}

fn collect_axes(doc: &Doc, prefix: &str, node: &Node, axes: &mut Vec<Axis>) -> Result<(), InputError> {
    let Value::Table(t) = &node.value else {
        return Err(doc.error_node(node, format!("sweep.{prefix} must be a table of lists")));
    };
    for (k, kspan, n) in t {
        let key = format!("{prefix}.{k}");
        let known = if let Some(rest) = key.strip_prefix("scaler.") {
            let head = rest.split('.').next().unwrap_or(rest);
            scaler_core::config::KEYS.contains(&head)
        } else if prefix.starts_with("scaler.") {
            true
        } else {
            CLUSTER_KEYS.contains(&k.as_str())
        };
        match &n.value {
            Value::Table(_) if known && key.starts_with("scaler.") => collect_axes(doc, &key, n, axes)?,
            Value::Array(a) => {
                if !known {
                    let list: &[&str] = if prefix == "cluster" { CLUSTER_KEYS } else { scaler_core::config::KEYS };
                    return Err(doc.error_at(
                        kspan.start,
                        format!("sweep key `{key}` does not exist{}", scaler_core::config::suggest(k, list)),
                    ));
                }
                if a.is_empty() {
                    return Err(doc.error_node(n, format!("sweep.{key} is an empty list")));
                }
                axes.push(Axis { key, values: a.iter().map(|v| toml_text(&v.value)).collect() });
            }
            _ if !known => {
                let list: &[&str] = if prefix == "cluster" { CLUSTER_KEYS } else { scaler_core::config::KEYS };
                return Err(doc.error_at(
                    kspan.start,
                    format!("sweep key `{key}` does not exist{}", scaler_core::config::suggest(k, list)),
                ));
            }
            other => {
                return Err(doc.error_node(n, format!("sweep.{key} must be a list of values, not {}", other.kind())))
            }
        }
    }
    Ok(())
}

/// The result of one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingResult {
    /// The setting's index.
    pub index: usize,
    /// `ok`, or `invalid: ...` for a setting that failed validation.
    pub status: String,
    /// Means over the seeds, in [`METRICS`] order (empty when invalid).
    pub metrics: Vec<f64>,
}

/// The scenario of setting `i`, or why it is invalid.
pub fn setting_scenario(base: &Doc, spec: &SweepSpec, i: usize) -> Result<Scenario, InputError> {
    let mut doc = base.clone();
    for (axis, value) in spec.axes.iter().zip(spec.values(i)) {
        doc.set_override(&format!("{}={value}", axis.key))?;
    }
    let o = Overrides { trace: Some(PathBuf::from("(loaded once)")), ..Overrides::default() };
    scenario::from_doc(&doc, &o)
}

/// Runs a scenario once per seed on the shared trace; means of the metrics.
pub fn run_seeds(sc: &Scenario, trace: &LoadedTrace, seeds: &[u64]) -> Result<Vec<f64>, SimError> {
    let mut sum = vec![0.0; METRICS.len()];
    for &seed in seeds {
        let params = sc.params(seed);
        let s = simulate(params, &mut trace.source(seed), |_| Ok::<(), SimError>(()))?;
        for (acc, v) in sum.iter_mut().zip(s.values()) {
            *acc += v;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let n = seeds.len() as f64;
    Ok(sum.into_iter().map(|v| v / n).collect())
}

fn run_setting(base: &Doc, spec: &SweepSpec, trace: &LoadedTrace, i: usize) -> Result<SettingResult, SimError> {
    match setting_scenario(base, spec, i) {
        Err(e) => Ok(SettingResult { index: i, status: format!("invalid: {}", e.message), metrics: Vec::new() }),
        Ok(sc) => Ok(SettingResult { index: i, status: "ok".into(), metrics: run_seeds(&sc, trace, &spec.seeds)? }),
    }
}

/// Shard `i` of `n` (0-based): parsed from `I/N`.
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (a, b) =
        text.split_once('/').ok_or("expected I/N, e.g. 0/4 (the 0-based shard index, then the shard count)")?;
    let i: usize = a.trim().parse().map_err(|_| format!("`{a}` is not a shard index"))?;
    let n: usize = b.trim().parse().map_err(|_| format!("`{b}` is not a shard count"))?;
    if n == 0 {
        return Err("the shard count must be at least 1".into());
    }
    if i >= n {
        return Err(format!(
            "shard index {i} must be below the shard count {n} (indices are 0-based: 0/{n} to {}/{n})",
            n - 1
        ));
    }
    Ok((i, n))
}

/// FNV-1a of the scenario's text and the trace's size: resuming or merging a sweep
/// whose inputs changed is refused.
fn fingerprint(doc: &Doc, trace_path: &Path) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let len = std::fs::metadata(trace_path).map(|m| m.len()).unwrap_or(0);
    for b in doc.text.as_bytes().iter().chain(len.to_le_bytes().iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// What `sweep` is asked to do.
#[derive(Clone, Debug)]
pub struct SweepRequest {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The output folder.
    pub out: PathBuf,
    /// Continue an interrupted sweep.
    pub resume: bool,
    /// `(index, count)`.
    pub shard: (usize, usize),
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Progress on standard error.
    pub progress: bool,
}

/// The header of `results.csv` and `results.partial.csv`.
fn results_header(spec: &SweepSpec) -> String {
    let mut cols = vec!["setting".to_string()];
    cols.extend(spec.axes.iter().map(|a| a.key.clone()));
    cols.push("status".into());
    cols.extend(METRICS.iter().map(|m| (*m).to_string()));
    cols.join(",")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn result_line(spec: &SweepSpec, r: &SettingResult) -> String {
    let mut f = vec![r.index.to_string()];
    f.extend(spec.values(r.index).iter().map(|v| csv_field(v)));
    f.push(csv_field(&r.status));
    if r.metrics.is_empty() {
        f.extend(std::iter::repeat_n(String::new(), METRICS.len()));
    } else {
        f.extend(r.metrics.iter().map(|v| fmt_num(*v)));
    }
    f.join(",")
}

/// Reads finished settings from a results file (partial or final).
pub fn read_results(path: &Path, spec: &SweepSpec) -> Result<Vec<SettingResult>, InputError> {
    let mut csv = CsvReader::open(path)?;
    let expected = results_header(spec);
    if csv.header().join(",") != expected {
        return Err(InputError::line(path, 1, format!("the columns are not this sweep's: expected {expected}")));
    }
    let status_col = 1 + spec.axes.len();
    let mut out = Vec::new();
    loop {
        match csv.next_row()? {
            Next::End => break,
            Next::Bad(e) => return Err(e),
            Next::Row => {}
        }
        let index: usize = csv.get(0)?.parse().map_err(|_| csv.field_error(0, "not a setting index"))?;
        if index >= spec.settings() {
            return Err(
                csv.field_error(0, format!("setting {index} is beyond this sweep's {} settings", spec.settings()))
            );
        }
        let status = csv.get(status_col)?.to_string();
        let metrics = if status == "ok" {
            (0..METRICS.len())
                .map(|k| {
                    let c = status_col + 1 + k;
                    csv.get(c)?.parse::<f64>().map_err(|_| csv.field_error(c, "not a number"))
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        out.push(SettingResult { index, status, metrics });
    }
    Ok(out)
}

/// The manifest a sweep folder carries, so that `--resume` and `merge` can check it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Manifest {
    /// The scenario file (absolute).
    pub scenario: PathBuf,
    /// Fingerprint of the scenario's text and trace.
    pub fingerprint: String,
    /// Settings in the whole sweep.
    pub settings: usize,
    /// `[index, count]`.
    pub shard: [usize; 2],
}

/// Runs the sweep's share of settings, appending each to `results.partial.csv`.
/// Returns every result known for that share (resumed ones included).
pub fn run_shard(
    req: &SweepRequest,
    doc: &Doc,
    spec: &SweepSpec,
    base: &Scenario,
    trace: &LoadedTrace,
) -> Result<Vec<SettingResult>, SimError> {
    let out = &req.out;
    std::fs::create_dir_all(out)
        .map_err(|e| InputError::file(out, format!("cannot create the output folder: {}", io_reason(&e))))?;
    let manifest = Manifest {
        scenario: std::fs::canonicalize(&req.scenario).unwrap_or_else(|_| req.scenario.clone()),
        fingerprint: fingerprint(doc, &base.trace.path),
        settings: spec.settings(),
        shard: [req.shard.0, req.shard.1],
    };
    let manifest_path = out.join("sweep.json");
    let partial = out.join("results.partial.csv");
    let mut done: BTreeMap<usize, SettingResult> = BTreeMap::new();
    if req.resume && partial.exists() {
        let old: Manifest = std::fs::read_to_string(&manifest_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| InputError::file(&manifest_path, "cannot resume: this folder has no readable sweep.json"))?;
        if old != manifest {
            return Err(InputError::file(&manifest_path, "cannot resume: the scenario, its trace or the shard changed since this sweep started (start again without --resume)").into());
        }
        for r in read_results(&partial, spec)? {
            done.insert(r.index, r);
        }
    }
    let json = serde_json::to_string_pretty(&manifest).expect("serializable") + "\n";
    scaler_formats::output::write_atomically(&manifest_path, |w| {
        w.write_all(json.as_bytes()).map_err(|e| SimError::io(&manifest_path, e))
    })?;
    let mut file = if req.resume && partial.exists() {
        OpenOptions::new().append(true).open(&partial).map_err(|e| SimError::io(&partial, e))?
    } else {
        let mut f = File::create(&partial).map_err(|e| SimError::io(&partial, e))?;
        writeln!(f, "{}", results_header(spec)).map_err(|e| SimError::io(&partial, e))?;
        f
    };
    let (si, sn) = req.shard;
    let todo: Vec<usize> = (0..spec.settings()).filter(|i| i % sn == si && !done.contains_key(i)).collect();
    let total = (0..spec.settings()).filter(|i| i % sn == si).count();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(req.threads)
        .build()
        .map_err(|e| SimError::invariant(format!("thread pool: {e}")))?;
    let mut progress = Progress::new(req.progress, total, done.len());
    let (tx, rx) = mpsc::channel::<Result<SettingResult, SimError>>();
    let mut first_error = None;
    std::thread::scope(|s| {
        s.spawn(move || {
            pool.install(|| {
                todo.par_iter().for_each_with(tx, |tx, &i| {
                    let _ = tx.send(run_setting(doc, spec, trace, i));
                });
            });
        });
        for r in rx {
            match r {
                Ok(r) => {
                    if let Err(e) = writeln!(file, "{}", result_line(spec, &r)).and_then(|()| file.flush()) {
                        first_error.get_or_insert(SimError::io(&partial, e));
                    }
                    done.insert(r.index, r);
                    progress.tick();
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    progress.finish();
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(done.into_values().collect())
}

/// A progress bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    total: usize,
    done: usize,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    fn new(enabled: bool, total: usize, done: usize) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (enabled && tty).then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} settings  {elapsed} elapsed, ETA {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_position(done as u64);
            b
        });
        Progress { bar, plain: enabled && !tty, total, done, started: Instant::now(), last_line: Instant::now() }
    }

    fn tick(&mut self) {
        self.done += 1;
        if let Some(b) = &self.bar {
            b.inc(1);
        } else if self.plain && (self.last_line.elapsed().as_secs() >= 10 || self.done == self.total) {
            self.last_line = Instant::now();
            let el = self.started.elapsed().as_secs_f64();
            #[allow(clippy::cast_precision_loss)]
            let frac = self.done as f64 / self.total.max(1) as f64;
            let eta = if frac > 0.0 { el / frac - el } else { 0.0 };
            eprintln!(
                "swept {}/{} settings ({:.0} %), {el:.0} s elapsed, ETA {eta:.0} s",
                self.done,
                self.total,
                frac * 100.0
            );
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The outcome of a whole sweep.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Every setting, by index.
    pub results: Vec<SettingResult>,
    /// The baseline's metrics (the scenario's own settings).
    pub baseline: Vec<f64>,
    /// The recommended setting's index, if any setting ran.
    pub recommended: Option<usize>,
    /// Whether the recommendation meets every constraint.
    pub feasible: bool,
    /// Settings on the cost / wait-p95 frontier.
    pub frontier_p95: Vec<usize>,
    /// Settings on the cost / SLO-violation frontier.
    pub frontier_slo: Vec<usize>,
}

fn metric(name: &str) -> usize {
    metric_index(name).expect("a known metric")
}

/// Settings not dominated in (cost, `other`), both minimized, ordered by cost.
#[must_use]
pub fn frontier(results: &[SettingResult], other: usize) -> Vec<usize> {
    let cost = metric("cost");
    let mut ok: Vec<&SettingResult> = results.iter().filter(|r| r.status == "ok").collect();
    ok.sort_by(|a, b| {
        a.metrics[cost]
            .total_cmp(&b.metrics[cost])
            .then(a.metrics[other].total_cmp(&b.metrics[other]))
            .then(a.index.cmp(&b.index))
    });
    let mut best = f64::INFINITY;
    let mut out = Vec::new();
    for r in ok {
        if r.metrics[other] < best {
            best = r.metrics[other];
            out.push(r.index);
        }
    }
    out
}

/// Picks the recommendation: the best objective among settings meeting every
/// constraint; if none does, the one closest to meeting them.
#[must_use]
pub fn recommend(results: &[SettingResult], objective: &Objective) -> (Option<usize>, bool) {
    let ok: Vec<&SettingResult> = results.iter().filter(|r| r.status == "ok").collect();
    let sign = if objective.maximize { -1.0 } else { 1.0 };
    let feasible: Vec<&&SettingResult> = ok.iter().filter(|r| objective.feasible(&r.metrics)).collect();
    if let Some(best) = feasible.iter().min_by(|a, b| {
        (sign * a.metrics[objective.metric])
            .total_cmp(&(sign * b.metrics[objective.metric]))
            .then(a.index.cmp(&b.index))
    }) {
        return (Some(best.index), true);
    }
    let violation = |r: &SettingResult| -> f64 {
        objective
            .constraints
            .iter()
            .map(|c| {
                let v = r.metrics[c.metric];
                let miss = match c.op {
                    Op::Le | Op::Lt => v - c.bound,
                    Op::Ge | Op::Gt => c.bound - v,
                };
                miss.max(0.0) / c.bound.abs().max(1e-9)
            })
            .sum()
    };
    let closest = ok.iter().min_by(|a, b| violation(a).total_cmp(&violation(b)).then(a.index.cmp(&b.index)));
    (closest.map(|r| r.index), false)
}

/// Percentage change from `base` to `new` (`None` when the base is zero).
#[must_use]
pub fn change_pct(base: f64, new: f64) -> Option<f64> {
    (base != 0.0).then(|| (new - base) / base.abs() * 100.0)
}

/// One run's summary on the shared trace.
pub fn run_summary(sc: &Scenario, trace: &LoadedTrace, seed: u64) -> Result<scaler_model::Summary, SimError> {
    let params = sc.params(seed);
    simulate(params, &mut trace.source(seed), |_| Ok(()))
}

/// Runs a scenario once with its first seed, keeping the timeline (for charts).
pub fn timeline_of(sc: &Scenario, trace: &LoadedTrace, seed: u64) -> Result<Vec<TickRow>, SimError> {
    let mut rows = Vec::new();
    let params = sc.params(seed);
    simulate(params, &mut trace.source(seed), |r| {
        rows.push(*r);
        Ok::<(), SimError>(())
    })?;
    Ok(rows)
}

/// Computes the recommendation and the frontiers, runs the baseline and the
/// recommended setting for their timelines, and writes every final file.
pub fn finalize(
    out: &Path,
    doc: &Doc,
    spec: &SweepSpec,
    base: &Scenario,
    trace: &LoadedTrace,
    results: Vec<SettingResult>,
) -> Result<Outcome, SimError> {
    let baseline = run_seeds(base, trace, &spec.seeds)?;
    let (recommended, feasible) = recommend(&results, &spec.objective);
    let outcome = Outcome {
        frontier_p95: frontier(&results, metric("wait_p95_s")),
        frontier_slo: frontier(&results, metric("slo_violation_ratio")),
        results,
        baseline,
        recommended,
        feasible,
    };
    // results.csv, sorted by setting.
    let results_path = out.join("results.csv");
    scaler_formats::output::write_atomically(&results_path, |w| {
        let mut text = results_header(spec) + "\n";
        for r in &outcome.results {
            text.push_str(&result_line(spec, r));
            text.push('\n');
        }
        w.write_all(text.as_bytes()).map_err(|e| SimError::io(&results_path, e))
    })?;
    // pareto.csv
    let pareto_path = out.join("pareto.csv");
    scaler_formats::output::write_atomically(&pareto_path, |w| {
        let mut cols = vec!["frontier".to_string(), "setting".into()];
        cols.extend(spec.axes.iter().map(|a| a.key.clone()));
        cols.extend(["cost".into(), "wait_p95_s".into(), "slo_violation_ratio".into()]);
        let mut text = cols.join(",") + "\n";
        for (name, list) in
            [("cost_vs_wait_p95", &outcome.frontier_p95), ("cost_vs_slo_violations", &outcome.frontier_slo)]
        {
            for &i in list {
                let r = &outcome.results.iter().find(|r| r.index == i).expect("present");
                let mut f = vec![name.to_string(), i.to_string()];
                f.extend(spec.values(i).iter().map(|v| csv_field(v)));
                for m in ["cost", "wait_p95_s", "slo_violation_ratio"] {
                    f.push(fmt_num(r.metrics[metric(m)]));
                }
                text.push_str(&(f.join(",") + "\n"));
            }
        }
        w.write_all(text.as_bytes()).map_err(|e| SimError::io(&pareto_path, e))
    })?;
    // Timelines of the baseline and the recommendation (first seed).
    let seed = spec.seeds[0];
    let base_rows = timeline_of(base, trace, seed)?;
    write_timeline(&out.join("baseline_timeline.csv"), &base_rows)?;
    if let Some(i) = outcome.recommended {
        let sc = setting_scenario(doc, spec, i)?;
        let rec_rows = timeline_of(&sc, trace, seed)?;
        write_timeline(&out.join("recommended_timeline.csv"), &rec_rows)?;
    }
    // recommendation.json
    let rec_path = out.join("recommendation.json");
    let json = recommendation_json(spec, base, &outcome);
    scaler_formats::output::write_atomically(&rec_path, |w| {
        w.write_all(json.as_bytes()).map_err(|e| SimError::io(&rec_path, e))
    })?;
    Ok(outcome)
}

fn metrics_object(values: &[f64]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, v) in METRICS.iter().zip(values) {
        m.insert((*k).to_string(), serde_json::json!(v));
    }
    serde_json::Value::Object(m)
}

/// The recommendation as JSON.
#[must_use]
pub fn recommendation_json(spec: &SweepSpec, base: &Scenario, o: &Outcome) -> String {
    let axes: Vec<&str> = spec.axes.iter().map(|a| a.key.as_str()).collect();
    let baseline_params: serde_json::Map<String, serde_json::Value> =
        spec.axes.iter().map(|a| (a.key.clone(), serde_json::Value::from(current_value(base, &a.key)))).collect();
    let mut v = serde_json::json!({
        "objective": spec.objective.to_string(),
        "seeds": spec.seeds,
        "settings": spec.settings(),
        "axes": axes,
        "heatmap": spec.heatmap.map(|[a, b]| vec![spec.axes[a].key.clone(), spec.axes[b].key.clone()]),
        "feasible": o.feasible,
        "baseline": { "params": baseline_params, "metrics": metrics_object(&o.baseline) },
        "frontier_cost_vs_wait_p95": o.frontier_p95,
        "frontier_cost_vs_slo_violations": o.frontier_slo,
    });
    if let Some(i) = o.recommended {
        let r = o.results.iter().find(|r| r.index == i).expect("present");
        let params: serde_json::Map<String, serde_json::Value> =
            spec.axes.iter().zip(spec.values(i)).map(|(a, v)| (a.key.clone(), serde_json::Value::from(v))).collect();
        let mut change = serde_json::Map::new();
        for (k, (b, n)) in METRICS.iter().zip(o.baseline.iter().zip(&r.metrics)) {
            change
                .insert((*k).to_string(), change_pct(*b, *n).map_or(serde_json::Value::Null, |p| serde_json::json!(p)));
        }
        v["recommended"] = serde_json::json!({ "setting": i, "params": params, "metrics": metrics_object(&r.metrics), "change_pct": change });
    } else {
        v["recommended"] = serde_json::Value::Null;
    }
    serde_json::to_string_pretty(&v).expect("serializable") + "\n"
}

/// The scenario's own value of a swept key, as text (for the baseline's row).
#[must_use]
pub fn current_value(sc: &Scenario, key: &str) -> String {
    let c = &sc.cluster;
    match key {
        "cluster.initial_workers" => c.initial_workers.to_string(),
        "cluster.slots_per_worker" => c.slots_per_worker.to_string(),
        "cluster.provision_delay_s" => c.provision_delay.to_string(),
        "cluster.price_per_worker_hour" => c.price_per_worker_hour.to_string(),
        "cluster.billing_increment_s" => c.billing_increment.to_string(),
        "cluster.billing_minimum_s" => c.billing_minimum.to_string(),
        "cluster.slo_wait_s" => c.slo_wait.to_string(),
        _ => {
            // Look the key up in the configuration written back as TOML.
            let k = key.strip_prefix("scaler.").unwrap_or(key);
            let text: String = sc.scaler.to_pairs().iter().map(|(n, v)| format!("{n} = {v}\n")).collect();
            let table: toml::Table = toml::from_str(&text).unwrap_or_default();
            let mut cur: Option<&toml::Value> = None;
            for (i, part) in k.split('.').enumerate() {
                cur = if i == 0 { table.get(part) } else { cur.and_then(|v| v.get(part)) };
            }
            match cur {
                Some(toml::Value::String(s)) => format!("{s:?}"),
                Some(v) => v.to_string(),
                None => "(default)".to_string(),
            }
        }
    }
}

/// A readable recommendation for the terminal.
#[must_use]
pub fn recommendation_text(spec: &SweepSpec, base: &Scenario, o: &Outcome) -> String {
    let mut t = String::new();
    let ok = o.results.iter().filter(|r| r.status == "ok").count();
    t.push_str(&format!("objective: {}\n", spec.objective));
    t.push_str(&format!(
        "settings: {} ({} ran, {} invalid), seeds: {:?}\n",
        spec.settings(),
        ok,
        o.results.len() - ok,
        spec.seeds
    ));
    let Some(i) = o.recommended else {
        t.push_str("no setting ran successfully: nothing to recommend\n");
        return t;
    };
    let r = o.results.iter().find(|r| r.index == i).expect("present");
    if !o.feasible {
        t.push_str("no setting meets every constraint; the closest one is:\n");
    }
    t.push_str(&format!("recommended: setting {i}\n"));
    for (a, v) in spec.axes.iter().zip(spec.values(i)) {
        let was = current_value(base, &a.key);
        let note = if was == v { String::new() } else { format!("   (baseline {was})") };
        t.push_str(&format!("  {} = {v}{note}\n", a.key));
    }
    let mut parts = Vec::new();
    for (name, label) in [
        ("cost", "cost"),
        ("wait_p95_s", "p95 wait"),
        ("wait_p99_s", "p99 wait"),
        ("slo_violation_ratio", "SLO violations"),
    ] {
        let k = metric(name);
        let (b, n) = (o.baseline[k], r.metrics[k]);
        let pct = change_pct(b, n).map_or_else(|| "n/a".to_string(), |p| format!("{p:+.0}%"));
        parts.push(format!("{label} {pct} ({} -> {})", short(b), short(n)));
    }
    t.push_str(&format!("  against the baseline: {}\n", parts.join(", ")));
    t
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// Checks that shard folders belong to one sweep and cover it; returns their manifest
/// and the union of their results.
pub fn gather_shards(dirs: &[PathBuf]) -> Result<(Manifest, Vec<PathBuf>), InputError> {
    let mut first: Option<Manifest> = None;
    let mut seen = vec![false; 0];
    let mut partials = Vec::new();
    for d in dirs {
        let mpath = d.join("sweep.json");
        let text = std::fs::read_to_string(&mpath)
            .map_err(|e| InputError::file(&mpath, format!("cannot read: {}", io_reason(&e))))?;
        let m: Manifest =
            serde_json::from_str(&text).map_err(|e| InputError::file(&mpath, format!("not a sweep manifest: {e}")))?;
        match &first {
            None => {
                seen = vec![false; m.shard[1]];
                first = Some(m.clone());
            }
            Some(f) => {
                if f.fingerprint != m.fingerprint
                    || f.settings != m.settings
                    || f.shard[1] != m.shard[1]
                    || f.scenario != m.scenario
                {
                    return Err(InputError::file(
                        &mpath,
                        "belongs to another sweep (scenario, trace or shard count differ)",
                    ));
                }
            }
        }
        if seen[m.shard[0]] {
            return Err(InputError::file(&mpath, format!("shard {}/{} is given twice", m.shard[0], m.shard[1])));
        }
        seen[m.shard[0]] = true;
        partials.push(d.join("results.partial.csv"));
    }
    let m = first.ok_or_else(|| InputError::file(Path::new("merge"), "give at least one shard folder"))?;
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(InputError::file(Path::new("merge"), format!("shard {missing}/{} is missing", m.shard[1])));
    }
    Ok((m, partials))
}
