//! The `[sweep]` table into settings: the swept keys and their values, seeds, the
//! objective and the heatmap's axes; a setting is applied as `--set`-style overrides on
//! the scenario document, so it is validated by the same code.

use std::path::PathBuf;

use scaler_formats::error::InputError;
use scaler_formats::scenario::{self, Overrides, Scenario, CLUSTER_KEYS};
use scaler_formats::tomldoc::{Doc, Node, Value};

use super::objective::{metric_index, parse_objective, Objective};

/// One swept key and its values (as TOML text).
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// `scaler.cooldown_period`, `cluster.provision_delay_s`, ...
    pub key: String,
    /// The values, as TOML text (`120`, `"max"`, `{ percent = 50, min = 1 }`).
    pub values: Vec<String>,
    /// The values as files and messages show them: a string without its TOML quotes
    /// (`max`), anything else as its TOML text.
    pub cells: Vec<String>,
    /// A continuous range (`{ min = 0.5, max = 0.95 }`) the adaptive search samples;
    /// `values` and `cells` then hold the values it drew (empty until it draws them).
    pub range: Option<Range>,
}

/// A continuous axis: the lattice `min, min + step, ..., <= max`, in units of `10^-9`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// The smallest value, in `10^-9` units.
    pub min_units: i64,
    /// The largest value, in `10^-9` units (`>= min_units`).
    pub max_units: i64,
    /// The lattice step, in `10^-9` units (`> 0`).
    pub step_units: i64,
    /// Values are whole numbers (`integer = true`).
    pub integer: bool,
}

/// How the settings are searched (`[sweep] search`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// Every setting of the cartesian product (the default).
    Grid,
    /// Successive halving over growing prefixes of the trace (`sweep::adaptive`).
    Adaptive {
        /// Settings the first rung starts from (`None`: the whole grid, or 100 with ranges).
        candidates: Option<usize>,
        /// The reduction factor: each rung keeps `1/eta` of the settings on `eta` times the
        /// trace (default 3).
        eta: usize,
        /// Rungs, the last on the whole trace (default 4: 1/27, 1/9, 1/3 and all of it).
        rungs: usize,
    },
}

/// The most settings a grid may have (each is a whole simulation run).
pub const MAX_SETTINGS: u64 = 100_000_000;

/// The most settings the adaptive search may start from (`sweep.candidates`).
pub const MAX_CANDIDATES: usize = 1_000_000;

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
    /// `holdout`: the share of the trace's time span, at its end, that the tuning runs do
    /// not see and the recommendation is checked on (`None`: no held-out check).
    pub holdout: Option<f64>,
    /// `tune_limits`: the limits ([`LIMITS`]) this sweep may vary all the same.
    pub tune_limits: Vec<String>,
    /// How the settings are searched.
    pub search: Search,
    /// The settings as value indices, one per axis, when they are a list the adaptive
    /// search drew rather than the cartesian product (setting `i` is `points[i]`).
    pub points: Option<Vec<Vec<usize>>>,
}

/// Keys that are safety limits, not tuning knobs: a sweep refuses to vary them unless
/// `[sweep] tune_limits` names them (a limit tuned down to the cheapest value that met the
/// objective on one trace caps the pool below a peak that trace did not have).
pub const LIMITS: &[&str] =
    &["scaler.max_workers", "scaler.arc.max_runners", "scaler.keda.max_replica_count", "scaler.kpa.max-scale"];

impl SweepSpec {
    /// How many settings the product makes.
    #[must_use]
    pub fn settings(&self) -> usize {
        match &self.points {
            Some(p) => p.len(),
            None => self.axes.iter().map(|a| a.values.len()).product(),
        }
    }

    /// The value index of every axis for setting `i` (last axis fastest).
    #[must_use]
    pub fn coordinates(&self, mut i: usize) -> Vec<usize> {
        if let Some(p) = &self.points {
            return p[i].clone();
        }
        let mut c = vec![0; self.axes.len()];
        for (k, a) in self.axes.iter().enumerate().rev() {
            c[k] = i % a.values.len();
            i /= a.values.len();
        }
        c
    }

    /// The swept keys, in order.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.key.clone()).collect()
    }

    /// The values of setting `i`, as TOML text.
    #[must_use]
    pub fn values(&self, i: usize) -> Vec<&str> {
        self.coordinates(i).iter().zip(&self.axes).map(|(&c, a)| a.values[c].as_str()).collect()
    }

    /// The values of setting `i` as files and messages show them (see [`Axis::cells`]).
    #[must_use]
    pub fn cells(&self, i: usize) -> Vec<&str> {
        self.coordinates(i).iter().zip(&self.axes).map(|(&c, a)| a.cells[c].as_str()).collect()
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
    let mut search: Option<(String, &Node)> = None;
    let mut holdout = None;
    let mut tune_limits = Vec::new();
    let mut knobs: Vec<(&str, usize, &Node)> = Vec::new();
    for (key, kspan, n) in table {
        match key.as_str() {
            "search" => match &n.value {
                Value::String(s) if s == "grid" || s == "adaptive" => search = Some((s.clone(), n)),
                _ => return Err(doc.error_node(n, "sweep.search must be \"grid\" (the default) or \"adaptive\"")),
            },
            "candidates" | "eta" | "rungs" => {
                let (least, most) = match key.as_str() {
                    "candidates" => (1, MAX_CANDIDATES),
                    "eta" => (2, 100),
                    _ => (1, 10),
                };
                let v = match &n.value {
                    Value::Integer(t) => t.parse::<usize>().ok().filter(|v| (least..=most).contains(v)),
                    _ => None,
                };
                let Some(v) = v else {
                    return Err(doc.error_node(n, format!("sweep.{key} must be a whole number from {least} to {most}")));
                };
                knobs.push((key.as_str(), v, n));
            }
            "holdout" => holdout = Some(parse_holdout(doc, n)?),
            "tune_limits" => tune_limits = parse_tune_limits(doc, n)?,
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
                        scaler_core::suggest(
                            other,
                            &[
                                "seeds",
                                "objective",
                                "heatmap",
                                "search",
                                "candidates",
                                "eta",
                                "rungs",
                                "holdout",
                                "tune_limits",
                                "scaler",
                                "cluster"
                            ]
                        )
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
    let adaptive = search.as_ref().is_some_and(|(s, _)| s == "adaptive");
    if !adaptive {
        if let Some((k, _, n)) = knobs.first() {
            return Err(doc.error_node(
                n,
                format!("sweep.{k} is a setting of the adaptive search: add search = \"adaptive\" or remove it"),
            ));
        }
        if let Some(a) = axes.iter().find(|a| a.range.is_some()) {
            return Err(doc.error_node(
                node,
                format!(
                    "sweep.{} is a continuous range: only search = \"adaptive\" samples ranges (the grid needs a list of values, e.g. [0.6, 0.7, 0.8])",
                    a.key
                ),
            ));
        }
    }
    let knob = |name: &str| knobs.iter().find(|(k, _, _)| *k == name).map(|(_, v, _)| *v);
    let search = if adaptive {
        Search::Adaptive {
            candidates: knob("candidates"),
            eta: knob("eta").unwrap_or(3),
            rungs: knob("rungs").unwrap_or(4),
        }
    } else {
        Search::Grid
    };
    // The grid's size, counted without overflow and bounded: each setting is a whole simulation.
    // A range counts as one value here (the adaptive search draws `candidates` settings).
    let count = axes.iter().try_fold(1u64, |n, a| n.checked_mul(a.values.len().max(1) as u64));
    if count.is_none_or(|n| n > MAX_SETTINGS) {
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        return Err(doc.error_node(
            node,
            format!(
                "the sweep's grid has {} settings ({}); at most {MAX_SETTINGS}: sweep fewer values per key",
                count.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string()),
                sizes.join(" x ")
            ),
        ));
    }
    refuse_limits(doc, table, &axes, &tune_limits)?;
    // A policy's key must apply to some setting: otherwise it would be swept for nothing.
    let selectable: Vec<String> = match axes.iter().find(|a| a.key == "scaler.policy") {
        Some(a) => a.values.iter().map(|v| v.trim_matches('"').to_string()).collect(),
        None => vec![base.scaler.policy().as_str().to_string()],
    };
    for a in &axes {
        if let Some(p) = policy_table_of(&a.key) {
            if !selectable.iter().any(|s| s == p) {
                return Err(doc.error_node(
                    node,
                    format!(
                        "sweep key `{}` is a setting of policy = \"{p}\", which no setting of this sweep selects (policy = {}): add \"{p}\" to sweep.scaler.policy or remove the key",
                        a.key,
                        selectable.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(" or ")
                    ),
                ));
            }
        }
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
            let multi: Vec<usize> = axes
                .iter()
                .enumerate()
                .filter(|(_, a)| a.values.len() > 1 || a.range.is_some())
                .map(|(i, _)| i)
                .collect();
            (multi.len() >= 2).then(|| [multi[0], multi[1]])
        }
    };
    Ok(SweepSpec { axes, seeds, objective, heatmap, holdout, tune_limits, search, points: None })
}

/// `holdout`: a share of the trace's span strictly between 0 and 1.
fn parse_holdout(doc: &Doc, n: &Node) -> Result<f64, InputError> {
    let rule = "sweep.holdout must be a number between 0 and 1 (exclusive): the share of the trace's time span, at its end, held out of the tuning, e.g. 0.25";
    let (Value::Float(t) | Value::Integer(t)) = &n.value else {
        return Err(doc.error_node(n, rule));
    };
    match t.replace('_', "").parse::<f64>() {
        Ok(h) if h > 0.0 && h < 1.0 => Ok(h),
        _ => Err(doc.error_node(n, format!("sweep.holdout = {t}: {rule}"))),
    }
}

/// `tune_limits`: a list of limits ([`LIMITS`]).
fn parse_tune_limits(doc: &Doc, n: &Node) -> Result<Vec<String>, InputError> {
    let example = format!("e.g. tune_limits = [\"{}\"]", LIMITS[0]);
    let Value::Array(a) = &n.value else {
        return Err(doc.error_node(n, format!("sweep.tune_limits must be a list of limits to sweep, {example}")));
    };
    a.iter()
        .map(|x| match &x.value {
            Value::String(s) if LIMITS.contains(&s.as_str()) => Ok(s.clone()),
            Value::String(s) => Err(doc.error_node(
                x,
                format!(
                    "sweep.tune_limits: `{s}` is not a limit (the limits are {}){}",
                    LIMITS.join(", "),
                    scaler_core::suggest(s, LIMITS)
                ),
            )),
            _ => Err(doc.error_node(x, format!("sweep.tune_limits must be a list of key names, {example}"))),
        })
        .collect()
}

/// Refuses a swept limit that `tune_limits` does not name, at its key in the file.
fn refuse_limits(
    doc: &Doc,
    table: &[(String, std::ops::Range<usize>, Node)],
    axes: &[Axis],
    tune_limits: &[String],
) -> Result<(), InputError> {
    let Some(a) = axes.iter().find(|a| LIMITS.contains(&a.key.as_str()) && !tune_limits.contains(&a.key)) else {
        return Ok(());
    };
    // The key's place in the file: `scaler.max_workers = [...]` under [sweep].
    let mut entries = table;
    let mut at = None;
    for part in a.key.split('.') {
        let Some((_, kspan, n)) = entries.iter().find(|(k, _, _)| k == part) else { break };
        at = Some(kspan.start);
        match &n.value {
            Value::Table(t) => entries = t,
            _ => break,
        }
    }
    let message = format!(
        "sweep key `{0}` is a limit, not a tuning knob: the cheapest value that meets the objective on this trace caps the pool below any peak the trace does not have; set it to what the system can afford, or sweep it anyway with tune_limits = [\"{0}\"] in [sweep]",
        a.key
    );
    Err(match at {
        Some(offset) => doc.error_at(offset, message),
        None => InputError::file(&doc.path, message),
    })
}

fn collect_axes(doc: &Doc, prefix: &str, node: &Node, axes: &mut Vec<Axis>) -> Result<(), InputError> {
    let Value::Table(t) = &node.value else {
        return Err(doc.error_node(node, format!("sweep.{prefix} must be a table of lists")));
    };
    for (k, kspan, n) in t {
        let key = format!("{prefix}.{}", scaler_formats::tomldoc::key_part(k));
        let known = if let Some(rest) = key.strip_prefix("scaler.") {
            let head = rest.split('.').next().unwrap_or(rest);
            scaler_core::KEYS.contains(&head) || scaler_core::PolicyKind::from_name(head).is_some()
        } else if prefix.starts_with("scaler.") {
            true
        } else {
            CLUSTER_KEYS.contains(&k.as_str())
        };
        match &n.value {
            Value::Table(t) if known && super::adaptive::is_range(t) => {
                let range = super::adaptive::parse_range(doc, &key, n, t)?;
                axes.push(Axis { key, values: Vec::new(), cells: Vec::new(), range: Some(range) });
            }
            // A table with `min` or `max` and a plain value is a range gone wrong (a table of
            // swept keys holds lists): say what a range is rather than "must be a list".
            Value::Table(t)
                if known
                    && t.iter().any(|(n, _, _)| n == "min" || n == "max")
                    && t.iter().any(|(_, _, v)| !matches!(v.value, Value::Array(_) | Value::Table(_))) =>
            {
                const RANGE_KEYS: [&str; 4] = ["min", "max", "step", "integer"];
                let why = match t.iter().find(|(n, _, _)| !RANGE_KEYS.contains(&n.as_str())) {
                    Some((other, _, _)) => {
                        format!("`{other}` is not a key of a range{}", scaler_core::suggest(other, &RANGE_KEYS))
                    }
                    None => {
                        let missing = if t.iter().any(|(n, _, _)| n == "min") { "max" } else { "min" };
                        format!("it has no `{missing}`")
                    }
                };
                return Err(doc.error_node(
                    n,
                    format!(
                        "sweep.{key}: a continuous range is {{ min = A, max = B }} with an optional step = S or integer = true; {why}"
                    ),
                ));
            }
            Value::Table(_) if known && key.starts_with("scaler.") => collect_axes(doc, &key, n, axes)?,
            Value::Array(a) => {
                if !known {
                    let list: &[&str] = if prefix == "cluster" { CLUSTER_KEYS } else { scaler_core::KEYS };
                    return Err(doc.error_at(
                        kspan.start,
                        format!("sweep key `{key}` does not exist{}", scaler_core::suggest(k, list)),
                    ));
                }
                if a.is_empty() {
                    return Err(doc.error_node(n, format!("sweep.{key} is an empty list")));
                }
                let values = a.iter().map(|v| toml_text(&v.value)).collect();
                let cells = a
                    .iter()
                    .map(|v| match &v.value {
                        Value::String(s) => s.clone(),
                        other => toml_text(other),
                    })
                    .collect();
                axes.push(Axis { key, values, cells, range: None });
            }
            _ if !known => {
                let list: &[&str] = if prefix == "cluster" { CLUSTER_KEYS } else { scaler_core::KEYS };
                return Err(doc.error_at(
                    kspan.start,
                    format!("sweep key `{key}` does not exist{}", scaler_core::suggest(k, list)),
                ));
            }
            other => {
                return Err(doc.error_node(n, format!("sweep.{key} must be a list of values, not {}", other.kind())))
            }
        }
    }
    Ok(())
}

/// The policy whose table a swept key belongs to (`scaler.hpa.tolerance` → `hpa`).
fn policy_table_of(key: &str) -> Option<&str> {
    let (head, rest) = key.strip_prefix("scaler.")?.split_once('.')?;
    (!rest.is_empty() && scaler_core::PolicyKind::from_name(head).is_some()).then_some(head)
}

/// The base scenario's `[scaler] policy` (the default when it sets none).
fn base_policy(base: &Doc) -> String {
    let policy = base.get("scaler").and_then(|(_, _, n)| match &n.value {
        Value::Table(t) => t.iter().find(|(k, _, _)| k == "policy").and_then(|(_, _, n)| match &n.value {
            Value::String(s) => Some(s.clone()),
            _ => None,
        }),
        _ => None,
    });
    // Not written in [scaler]: the configuration's own (a `manifest` names its policy).
    policy.unwrap_or_else(|| {
        scaler_formats::scenario::scaler_config(base)
            .map_or(scaler_core::PolicyKind::default(), |c| c.policy())
            .as_str()
            .to_string()
    })
}

/// The scenario of setting `i`, or why it is invalid.
///
/// A key of a policy's table (`scaler.hpa.*`) applies only to the settings of that policy:
/// in a sweep over `scaler.policy`, the other policies' settings leave it out (a table for a
/// policy that is not selected is refused), so they repeat for each of its values.
pub fn setting_scenario(base: &Doc, spec: &SweepSpec, i: usize) -> Result<Scenario, InputError> {
    let mut doc = base.clone();
    let values = spec.values(i);
    let policy = spec
        .axes
        .iter()
        .zip(&values)
        .find(|(a, _)| a.key == "scaler.policy")
        .map_or_else(|| base_policy(base), |(_, v)| v.trim_matches('"').to_string());
    for (axis, value) in spec.axes.iter().zip(values) {
        if policy_table_of(&axis.key).is_some_and(|p| p != policy) {
            continue;
        }
        doc.set_override(&format!("{}={value}", axis.key))?;
    }
    let o = Overrides { trace: Some(PathBuf::from("(loaded once)")), ..Overrides::default() };
    scenario::from_doc(&doc, &o)
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
        "cluster.warmup_s" => c.warmup.to_string(),
        _ => {
            // Look the key up in the configuration written back as TOML.
            let k = key.strip_prefix("scaler.").unwrap_or(key);
            let text: String = sc.scaler.to_pairs().iter().map(|(n, v)| format!("{n} = {v}\n")).collect();
            let table: toml::Table = toml::from_str(&text).unwrap_or_default();
            let mut cur: Option<&toml::Value> = None;
            for (i, part) in scaler_formats::tomldoc::key_path(k).unwrap_or_default().iter().enumerate() {
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
