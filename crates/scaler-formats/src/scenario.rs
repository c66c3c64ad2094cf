//! Scenario files (SPEC section 7): `[trace]`, `[cluster]` and `[scaler]`.
//!
//! A scenario is read once into types that cannot be invalid. Every refusal
//! names the file, line and column (or the `--set` argument) and the rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scaler_core::suggest;
use scaler_core::{ConfigError, ConfigValue, Decimal, DecimalError, DurationMs, ScalerConfig};

use scaler_model::trace::RateExpansion;
use scaler_model::{Faults, SimParams};

use crate::error::InputError;
use crate::tomldoc::{Doc, Node, Table, Value};

// The model's settings types, as the scenario file names them.
pub use scaler_model::random::DurationDist;
pub use scaler_model::trace::{DurationSpec, Resample, Spread};
pub use scaler_model::{Cluster, Spot, WarmPool};

/// The root tables a scenario file may have.
pub const TABLES: &[&str] = &["trace", "cluster", "scaler", "sweep", "faults"];

/// The keys of the `[cluster]` table.
pub const CLUSTER_KEYS: &[&str] = &[
    "initial_workers",
    "slots_per_worker",
    "provision_delay_s",
    "price_per_worker_hour",
    "billing_increment_s",
    "billing_minimum_s",
    "slo_wait_s",
    "warmup_s",
    "ephemeral_workers",
    "on_demand_base",
    "spot_percent",
    "spot_price_per_worker_hour",
    "spot_interruptions_per_hour",
    "spot_notice_s",
    "warm_pool_size",
    "warm_start_delay_s",
    "warm_price_per_worker_hour",
    "warm_reuse_on_scale_in",
];

/// The most workers the simulator models (a guard against a typo allocating billions).
pub const MAX_SIM_WORKERS: u32 = 1_000_000;

/// The most ticks a `metrics_window` may span in the simulator: the window keeps a sample
/// per tick (at most 72 bytes with its max/min queues), so this bounds its memory.
pub const MAX_SIM_WINDOW_SAMPLES: u64 = 10_000_000;

/// Which kind of trace file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// `arrival_s,duration_s`, one row per task.
    Tasks,
    /// `timestamp_s,arrivals[,mean_duration_s]`, arrivals per interval.
    Rates,
}

/// The `[trace]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSpec {
    /// The trace file, resolved against the scenario's folder (against the working folder
    /// when the path begins with `${VAR}` or comes from `--set`/`--trace`).
    pub path: PathBuf,
    /// The format, or `None` to detect it from the header.
    pub format: Option<TraceFormat>,
    /// Arrival placement for rate traces.
    pub spread: Spread,
    /// Durations for rate traces (`duration_s` or `duration`).
    pub duration: Option<DurationSpec>,
    /// How the seed resamples a task trace (`resample`; [`Resample::None`] when absent:
    /// the trace is replayed as recorded).
    pub resample: Resample,
}

impl TraceSpec {
    /// How the model expands this trace if it is a rate trace.
    #[must_use]
    pub fn expansion(&self) -> RateExpansion {
        RateExpansion { spread: self.spread, duration: self.duration }
    }
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file's stem (`quickstart` for `sims/quickstart.toml`).
    pub name: String,
    /// The scenario file.
    pub path: PathBuf,
    /// The trace.
    pub trace: TraceSpec,
    /// The cluster.
    pub cluster: Cluster,
    /// The scaler.
    pub scaler: ScalerConfig,
    /// The seed every random choice derives from.
    pub seed: u64,
    /// Injected faults (`[faults]`; `swarm = true` draws the rates from the seed).
    pub faults: Faults,
}

impl Scenario {
    /// The simulator's parameters for a run with `seed`.
    #[must_use]
    pub fn params(&self, seed: u64) -> SimParams {
        SimParams { cluster: self.cluster.clone(), scaler: self.scaler.clone(), faults: self.faults.clone(), seed }
    }
}

/// Command-line changes to a scenario.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `table.key=value` assignments, applied in order.
    pub set: Vec<String>,
    /// A trace file that replaces `trace.path` (relative to the working folder).
    pub trace: Option<PathBuf>,
    /// A seed that replaces `trace.seed`.
    pub seed: Option<u64>,
}

/// Reads and validates a scenario file with command-line overrides.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Scenario, InputError> {
    let mut doc = Doc::read(path)?;
    for a in &overrides.set {
        doc.set_override(a)?;
    }
    from_doc(&doc, overrides)
}

/// Validates a parsed scenario document.
pub fn from_doc(doc: &Doc, overrides: &Overrides) -> Result<Scenario, InputError> {
    doc.allow_only(TABLES)?;
    let scaler = scaler_config(doc)?;
    let trace_t = Tbl::root(doc, "trace", &["path", "format", "spread", "duration_s", "duration", "seed", "resample"])?;
    let cluster_t = Tbl::root(doc, "cluster", CLUSTER_KEYS)?;
    let base = doc.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let path = match &overrides.trace {
        Some(p) => p.clone(),
        None => {
            let (text, node) =
                trace_t.string("path")?.ok_or_else(|| trace_t.missing("path", "the trace file to replay"))?;
            let expanded = expand_env(text).map_err(|m| doc.error_node(node, format!("trace.path = {text:?}: {m}")))?;
            let p = PathBuf::from(expanded);
            // A path that begins with `${VAR}` is the variable's value, and a relative value is
            // resolved as a shell user means it: from the working folder (the README's
            // `SCALER_REAL_TRACES=../shared/traces`), not from the scenario's folder.
            let from_env = text.starts_with("${");
            if p.is_absolute() || node.origin.is_some() {
                p
            } else if from_env {
                std::env::current_dir().map_or_else(|_| p.clone(), |cwd| cwd.join(&p))
            } else {
                base.join(p)
            }
        }
    };
    let format = match trace_t.string("format")? {
        None => None,
        Some(("tasks", _)) => Some(TraceFormat::Tasks),
        Some(("rates", _)) => Some(TraceFormat::Rates),
        Some((other, node)) => {
            return Err(doc.error_node(node, format!("trace.format = {other:?}: must be \"tasks\" or \"rates\"")))
        }
    };
    let spread = match trace_t.string("spread")? {
        None | Some(("even", _)) => Spread::Even,
        Some(("poisson", _)) => Spread::Poisson,
        Some((other, node)) => {
            return Err(doc.error_node(node, format!("trace.spread = {other:?}: must be \"even\" or \"poisson\"")))
        }
    };
    let constant = trace_t.seconds("duration_s", true)?;
    let dist = match trace_t.get("duration") {
        None => None,
        Some(node) => Some(duration_dist(doc, node)?),
    };
    let duration = match (constant, dist) {
        (Some(_), Some(_)) => {
            let node = trace_t.get("duration").expect("present");
            return Err(doc.error_node(
                node,
                "trace.duration: give either duration_s (constant) or duration (a distribution), not both",
            ));
        }
        (Some(c), None) => Some(DurationSpec::Constant(c)),
        (None, Some(d)) => Some(DurationSpec::Dist(d)),
        (None, None) => None,
    };
    if format == Some(TraceFormat::Tasks) {
        if let Some(node) = trace_t.get("duration_s").or_else(|| trace_t.get("duration")) {
            return Err(doc.error_node(
                node,
                "trace: duration_s and duration apply to rate traces only (a task trace has its own durations)",
            ));
        }
    }
    let resample = match trace_t.get("resample") {
        None => Resample::None,
        Some(node) => resample(doc, node)?,
    };
    if format == Some(TraceFormat::Rates) && resample != Resample::None {
        return Err(doc.error_node(trace_t.get("resample").expect("present"), RESAMPLE_RATES));
    }
    let seed = match overrides.seed {
        Some(s) => s,
        None => trace_t.whole("seed", u64::MAX)?.unwrap_or(0),
    };
    let max_workers_rule = |n: u32, key: &str| -> Result<(), InputError> {
        if n > MAX_SIM_WORKERS {
            let at = doc.get("scaler").map(|(_, _, node)| node);
            let msg = format!("{key} = {n}: the simulator models at most {MAX_SIM_WORKERS} workers");
            return Err(match at {
                Some(node) => doc.error_node(node, msg),
                None => InputError::file(&doc.path, msg),
            });
        }
        Ok(())
    };
    max_workers_rule(scaler.max_workers(), "scaler.max_workers")?;
    let samples = scaler.metrics_window().as_ms() / scaler.evaluation_interval().as_ms().max(1);
    if samples > MAX_SIM_WINDOW_SAMPLES {
        let at = doc.get("scaler").map(|(_, _, node)| node);
        let msg = format!(
            "scaler.metrics_window = {} holds {samples} evaluation intervals of {} s: the simulator keeps a sample per tick, at most {MAX_SIM_WINDOW_SAMPLES} (about 720 MB); a longer evaluation_interval or a shorter metrics_window",
            scaler.metrics_window(),
            scaler.evaluation_interval()
        );
        return Err(match at {
            Some(node) => doc.error_node(node, msg),
            None => InputError::file(&doc.path, msg),
        });
    }
    let initial_workers = match cluster_t.whole("initial_workers", u64::from(MAX_SIM_WORKERS))? {
        Some(n) => u32::try_from(n).unwrap_or(MAX_SIM_WORKERS),
        None => scaler.min_workers(),
    };
    let slots = cluster_t.whole("slots_per_worker", 1_000_000)?.unwrap_or(1);
    if slots == 0 {
        let node = cluster_t.get("slots_per_worker").expect("present");
        return Err(doc.error_node(node, "cluster.slots_per_worker = 0: must be >= 1"));
    }
    let ephemeral_workers = match cluster_t.get("ephemeral_workers") {
        None => false,
        Some(n) => match n.value {
            Value::Bool(b) => b,
            _ => return Err(cluster_t.bad("ephemeral_workers", n, "must be true or false")),
        },
    };
    if ephemeral_workers && slots != 1 {
        let node = cluster_t.get("ephemeral_workers").expect("present");
        return Err(doc.error_node(
            node,
            format!(
                "cluster.ephemeral_workers = true: an ephemeral worker runs one task, so slots_per_worker must be 1 (it is {slots})"
            ),
        ));
    }
    let on_demand_price = price(&cluster_t, "price_per_worker_hour", 1.0)?;
    let cluster = Cluster {
        spot: spot_capacity(&cluster_t, on_demand_price)?,
        warm_pool: warm_pool(&cluster_t)?,
        ephemeral_workers,
        initial_workers,
        slots_per_worker: u32::try_from(slots).unwrap_or(1),
        provision_delay: cluster_t.seconds("provision_delay_s", false)?.unwrap_or(DurationMs::ZERO),
        price_per_worker_hour: on_demand_price,
        billing_increment: cluster_t.seconds("billing_increment_s", true)?.unwrap_or(DurationMs(1000)),
        billing_minimum: cluster_t.seconds("billing_minimum_s", false)?.unwrap_or(DurationMs::ZERO),
        slo_wait: cluster_t.seconds("slo_wait_s", false)?.unwrap_or(DurationMs(60_000)),
        warmup: cluster_t.seconds("warmup_s", false)?.unwrap_or(DurationMs::ZERO),
    };
    let faults_t = Tbl::root(
        doc,
        "faults",
        &[
            "provision_failure",
            "provision_jitter",
            "crash_rate_per_hour",
            "missing_observation",
            "stale_metrics",
            "scaling_failure",
            "swarm",
        ],
    )?;
    let prob = |k: &str| -> Result<f64, InputError> {
        let v = faults_t.number(k)?.unwrap_or(0.0);
        if v > 1.0 {
            return Err(faults_t.bad(k, faults_t.get(k).expect("present"), "must be a probability between 0 and 1"));
        }
        Ok(v)
    };
    let swarm = match faults_t.get("swarm") {
        None => false,
        Some(n) => match n.value {
            Value::Bool(b) => b,
            _ => return Err(faults_t.bad("swarm", n, "must be true or false")),
        },
    };
    let faults = if swarm {
        Faults::swarm(seed)
    } else {
        Faults {
            provision_failure: prob("provision_failure")?,
            provision_jitter: faults_t.number("provision_jitter")?.unwrap_or(0.0),
            crash_rate_per_hour: faults_t.number("crash_rate_per_hour")?.unwrap_or(0.0),
            missing_observation: prob("missing_observation")?,
            stale_metrics: prob("stale_metrics")?,
            scaling_failure: prob("scaling_failure")?,
        }
    };
    if faults.provision_failure >= 1.0 {
        let node = faults_t.get("provision_failure").expect("present");
        return Err(faults_t.bad("provision_failure", node, "must be below 1 (no worker could ever start)"));
    }
    let name = doc.path.file_stem().map_or_else(|| "scenario".to_string(), |s| s.to_string_lossy().into_owned());
    Ok(Scenario {
        faults,
        name,
        path: doc.path.clone(),
        trace: TraceSpec { path, format, spread, duration, resample },
        cluster,
        scaler,
        seed,
    })
}

/// The highest `price_per_worker_hour` accepted. The cost is the price times billed worker
/// hours; with at most [`MAX_SIM_WORKERS`] workers over any trace a `u64` of milliseconds can
/// span (about 5e12 hours), a price up to this bound keeps every cost below 1e31, far from
/// `f64`'s overflow to infinity (which JSON cannot hold).
pub const MAX_PRICE_PER_WORKER_HOUR: f64 = 1e12;

fn price(cluster_t: &Tbl<'_>, key: &str, default: f64) -> Result<f64, InputError> {
    let v = cluster_t.number(key)?.unwrap_or(default);
    if v > MAX_PRICE_PER_WORKER_HOUR {
        let node = cluster_t.get(key).expect("present");
        return Err(cluster_t.bad(
            key,
            node,
            "must be at most 1e12 per worker-hour (a higher price can overflow the cost to infinity)",
        ));
    }
    Ok(v)
}

/// `[cluster]`'s warm pool: `warm_pool_size` stopped workers (none when 0 or absent; then the
/// other warm keys are refused rather than ignored).
fn warm_pool(cluster_t: &Tbl<'_>) -> Result<Option<WarmPool>, InputError> {
    let size = cluster_t.whole("warm_pool_size", u64::from(MAX_SIM_WORKERS))?.unwrap_or(0);
    if size == 0 {
        for k in ["warm_start_delay_s", "warm_price_per_worker_hour", "warm_reuse_on_scale_in"] {
            if let Some(n) = cluster_t.get(k) {
                return Err(cluster_t.bad(k, n, "applies to a warm pool: set warm_pool_size too"));
            }
        }
        return Ok(None);
    }
    let reuse = match cluster_t.get("warm_reuse_on_scale_in") {
        None => false,
        Some(n) => match n.value {
            Value::Bool(b) => b,
            _ => return Err(cluster_t.bad("warm_reuse_on_scale_in", n, "must be true or false")),
        },
    };
    Ok(Some(WarmPool {
        size: u32::try_from(size).unwrap_or(MAX_SIM_WORKERS),
        start_delay: cluster_t.seconds("warm_start_delay_s", false)?.unwrap_or(DurationMs::ZERO),
        price_per_worker_hour: price(cluster_t, "warm_price_per_worker_hour", 0.0)?,
        reuse_on_scale_in: reuse,
    }))
}

/// The most spot interruptions per worker-hour (one a second): more is no pool at all.
const MAX_SPOT_INTERRUPTIONS_PER_HOUR: f64 = 3600.0;

/// `[cluster]`'s spot capacity: `spot_percent` of the workers above `on_demand_base` are
/// spot (none when 0 or absent; then the other spot keys are refused rather than ignored).
fn spot_capacity(cluster_t: &Tbl<'_>, on_demand_price: f64) -> Result<Option<Spot>, InputError> {
    let percent = cluster_t.whole("spot_percent", 100)?.unwrap_or(0);
    if percent == 0 {
        for k in ["on_demand_base", "spot_price_per_worker_hour", "spot_interruptions_per_hour", "spot_notice_s"] {
            if let Some(n) = cluster_t.get(k) {
                return Err(cluster_t.bad(k, n, "applies to spot capacity: set spot_percent (1 to 100) too"));
            }
        }
        return Ok(None);
    }
    let rate = cluster_t.number("spot_interruptions_per_hour")?.unwrap_or(0.0);
    if rate > MAX_SPOT_INTERRUPTIONS_PER_HOUR {
        let node = cluster_t.get("spot_interruptions_per_hour").expect("present");
        return Err(cluster_t.bad("spot_interruptions_per_hour", node, "must be at most 3600 (one a second)"));
    }
    Ok(Some(Spot {
        on_demand_base: u32::try_from(cluster_t.whole("on_demand_base", u64::from(MAX_SIM_WORKERS))?.unwrap_or(0))
            .unwrap_or(MAX_SIM_WORKERS),
        spot_percent: u32::try_from(percent).unwrap_or(100),
        price_per_worker_hour: price(cluster_t, "spot_price_per_worker_hour", on_demand_price)?,
        interruptions_per_hour: rate,
        notice: cluster_t.seconds("spot_notice_s", false)?.unwrap_or(DurationMs::from_secs(120)),
    }))
}

/// Replaces `${VAR}` in a path with the environment variable's value.
fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| "unclosed `${` in path".to_string())?;
        let var = &after[..end];
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => out.push_str(&v),
            _ => return Err(format!("uses ${{{var}}}, which is not set (set {var}, or pass --trace FILE)")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Why a rate trace takes no `trace.resample`.
pub const RESAMPLE_RATES: &str = "trace.resample applies to task traces only: a rate trace's seed already draws its arrivals (spread = \"poisson\") and its durations (trace.duration)";

/// The default bin of `resample = "jitter"`: arrivals recorded to the second.
pub const JITTER_RESOLUTION_DEFAULT: DurationMs = DurationMs(1000);

/// The default block of `resample = "block_bootstrap"`: a day.
pub const BOOTSTRAP_BLOCK_DEFAULT: DurationMs = DurationMs(86_400_000);

/// `trace.resample`: `"none"`, `"jitter"`, `"block_bootstrap"`, or a table
/// `{ method = "jitter", resolution_s = 1 }` / `{ method = "block_bootstrap", block_s = 86400 }`.
fn resample(doc: &Doc, node: &Node) -> Result<Resample, InputError> {
    const METHODS: &str = "must be \"none\", \"jitter\" or \"block_bootstrap\"";
    let by_name = |name: &str, at: &Node| -> Result<Resample, InputError> {
        match name {
            "none" => Ok(Resample::None),
            "jitter" => Ok(Resample::Jitter { resolution_ms: JITTER_RESOLUTION_DEFAULT.as_ms() }),
            "block_bootstrap" => Ok(Resample::BlockBootstrap { block_ms: BOOTSTRAP_BLOCK_DEFAULT.as_ms() }),
            other => Err(doc.error_node(at, format!("trace.resample = {other:?}: {METHODS}"))),
        }
    };
    match &node.value {
        Value::String(s) => by_name(s, node),
        Value::Table(t) => {
            let tbl = Tbl { doc, name: "trace.resample", entries: t, parent: node };
            let (method, mnode) = tbl.string("method")?.ok_or_else(|| {
                tbl.missing("method", "\"jitter\" or \"block_bootstrap\"")
            })?;
            match method {
                "none" => {
                    tbl.allow_only(&["method"])?;
                    Ok(Resample::None)
                }
                "jitter" => {
                    tbl.allow_only(&["method", "resolution_s"])?;
                    let r = tbl.seconds("resolution_s", true)?.unwrap_or(JITTER_RESOLUTION_DEFAULT);
                    Ok(Resample::Jitter { resolution_ms: r.as_ms() })
                }
                "block_bootstrap" => {
                    tbl.allow_only(&["method", "block_s"])?;
                    let b = tbl.seconds("block_s", true)?.unwrap_or(BOOTSTRAP_BLOCK_DEFAULT);
                    Ok(Resample::BlockBootstrap { block_ms: b.as_ms() })
                }
                other => Err(doc.error_node(mnode, format!("trace.resample.method = {other:?}: {METHODS}"))),
            }
        }
        other => Err(doc.error_node(
            node,
            format!(
                "trace.resample must be a string (\"jitter\", \"block_bootstrap\") or a table like {{ method = \"block_bootstrap\", block_s = 86400 }}, not {}",
                other.kind()
            ),
        )),
    }
}

fn duration_dist(doc: &Doc, node: &Node) -> Result<DurationDist, InputError> {
    let Value::Table(t) = &node.value else {
        return Err(
            doc.error_node(node, "trace.duration: must be a table like { dist = \"exponential\", mean_s = 30 }")
        );
    };
    let tbl = Tbl { doc, name: "trace.duration", entries: t, parent: node };
    let (dist, dnode) = tbl
        .string("dist")?
        .ok_or_else(|| tbl.missing("dist", "\"exponential\", \"lognormal\", \"pareto\" or \"uniform\""))?;
    let allowed: &[&str] = match dist {
        "exponential" => &["dist", "mean_s"],
        "lognormal" => &["dist", "mean_s", "cv"],
        "pareto" => &["dist", "mean_s", "alpha"],
        "uniform" => &["dist", "min_s", "max_s"],
        other => {
            return Err(doc.error_node(
                dnode,
                format!(
                "trace.duration.dist = {other:?}: must be \"exponential\", \"lognormal\", \"pareto\" or \"uniform\""
            ),
            ))
        }
    };
    tbl.allow_only(allowed)?;
    let positive = |key: &str, what: &str| -> Result<f64, InputError> {
        let v = tbl.number(key)?.ok_or_else(|| tbl.missing(key, what))?;
        if v <= 0.0 {
            return Err(
                doc.error_node(tbl.get(key).expect("present"), format!("trace.duration.{key} = {v}: must be > 0"))
            );
        }
        Ok(v)
    };
    let d = match dist {
        "exponential" => DurationDist::Exponential { mean_s: positive("mean_s", "the mean in seconds")? },
        "lognormal" => DurationDist::LogNormal {
            mean_s: positive("mean_s", "the mean in seconds")?,
            cv: positive("cv", "the coefficient of variation")?,
        },
        "pareto" => {
            let mean_s = positive("mean_s", "the mean in seconds")?;
            let alpha = positive("alpha", "the shape (> 1)")?;
            if alpha <= 1.0 {
                return Err(doc.error_node(
                    tbl.get("alpha").expect("present"),
                    format!("trace.duration.alpha = {alpha}: must be > 1 (the mean is infinite otherwise)"),
                ));
            }
            DurationDist::Pareto { mean_s, alpha }
        }
        _ => {
            let min_s = tbl.number("min_s")?.ok_or_else(|| tbl.missing("min_s", "the lower bound in seconds"))?;
            let max_s = tbl.number("max_s")?.ok_or_else(|| tbl.missing("max_s", "the upper bound in seconds"))?;
            if min_s < 0.0 || max_s < min_s {
                return Err(
                    doc.error_node(node, format!("trace.duration: need 0 <= min_s <= max_s, got {min_s} and {max_s}"))
                );
            }
            DurationDist::Uniform { min_s, max_s }
        }
    };
    // Validate by constructing: the sampler's own constructor is the rule.
    d.check().map_err(|e| match tbl.get(e.key) {
        Some(at) => tbl.bad(e.key, at, e.rule),
        None => doc.error_node(node, format!("trace.duration.{e}")),
    })?;
    Ok(d)
}

/// A table being read: refuses unknown keys, reads typed values with located errors.
struct Tbl<'d> {
    doc: &'d Doc,
    name: &'static str,
    entries: &'d Table,
    parent: &'d Node,
}

static EMPTY_TABLE: Table = Vec::new();
static EMPTY_NODE: Node = Node { value: Value::Bool(false), span: 0..0, origin: None };

impl<'d> Tbl<'d> {
    /// The root table `name` (empty when absent), with unknown keys refused.
    fn root(doc: &'d Doc, name: &'static str, known: &[&str]) -> Result<Tbl<'d>, InputError> {
        let tbl = match doc.get(name) {
            None => Tbl { doc, name, entries: &EMPTY_TABLE, parent: &EMPTY_NODE },
            Some((_, _, node)) => match &node.value {
                Value::Table(t) => Tbl { doc, name, entries: t, parent: node },
                other => return Err(doc.error_node(node, format!("`{name}` must be a table, not {}", other.kind()))),
            },
        };
        tbl.allow_only(known)?;
        Ok(tbl)
    }

    fn allow_only(&self, known: &[&str]) -> Result<(), InputError> {
        for (k, span, node) in self.entries {
            if !known.contains(&k.as_str()) {
                let msg = format!("unknown key `{}.{k}`{}", self.name, suggest(k, known));
                return Err(match node.origin {
                    Some(_) => self.doc.error_node(node, msg),
                    None => self.doc.error_at(span.start, msg),
                });
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&'d Node> {
        self.entries.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n)
    }

    fn missing(&self, key: &str, what: &str) -> InputError {
        let msg = format!("{}.{key} is required: {what}", self.name);
        if self.parent.origin.is_some() || self.parent.span != (0..0) {
            self.doc.error_node(self.parent, msg)
        } else {
            InputError::file(&self.doc.path, msg)
        }
    }

    fn bad(&self, key: &str, node: &Node, rule: &str) -> InputError {
        let shown = match &node.value {
            Value::Integer(t) | Value::Float(t) => t.clone(),
            Value::String(s) => format!("{s:?}"),
            other => other.kind().to_string(),
        };
        self.doc.error_node(node, format!("{}.{key} = {shown}: {rule}", self.name))
    }

    fn string(&self, key: &str) -> Result<Option<(&'d str, &'d Node)>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::String(s) => Ok(Some((s.as_str(), n))),
                _ => Err(self.bad(key, n, "must be a string")),
            },
        }
    }

    fn decimal(&self, key: &str) -> Result<Option<(Decimal<'d>, &'d Node)>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => {
                let text = n.value.number_text().ok_or_else(|| self.bad(key, n, "must be a number"))?;
                let d = Decimal::parse(text).map_err(|e| self.bad(key, n, &e.to_string()))?;
                Ok(Some((d, n)))
            }
        }
    }

    /// Seconds rounded to ms; `positive` refuses 0.
    ///
    /// A string is a duration with units (`"90s"`, `"5m"`, `"1h30m"`).
    fn seconds(&self, key: &str, positive: bool) -> Result<Option<DurationMs>, InputError> {
        if let Some(n) = self.get(key) {
            if let Value::String(s) = &n.value {
                let d = DurationMs::parse_with_units(s).map_err(|e| self.bad(key, n, &e.to_string()))?;
                if positive && d.as_ms() == 0 {
                    return Err(self.bad(key, n, "must be > 0 seconds"));
                }
                return Ok(Some(d));
            }
            if n.value.number_text().is_none() {
                return Err(self.bad(
                    key,
                    n,
                    "must be a number of seconds or a duration such as \"90s\", \"5m\", \"1h30m\"",
                ));
            }
        }
        let Some((d, n)) = self.decimal(key)? else { return Ok(None) };
        let rule = if positive { "must be > 0 seconds" } else { "must be >= 0 seconds" };
        if d.is_negative() || (positive && d.is_zero()) {
            return Err(self.bad(key, n, rule));
        }
        d.to_positive_scaled_u64(3).map(|ms| Some(DurationMs(ms))).map_err(|e| match e {
            DecimalError::RoundsToZero => self.bad(key, n, "is positive but rounds to 0 ms"),
            other => self.bad(key, n, &other.to_string()),
        })
    }

    /// A whole number `0..=max`.
    fn whole(&self, key: &str, max: u64) -> Result<Option<u64>, InputError> {
        let Some((d, n)) = self.decimal(key)? else { return Ok(None) };
        let v = d.to_whole_u64().map_err(|e| match e {
            DecimalError::Negative => self.bad(key, n, "must be >= 0"),
            other => self.bad(key, n, &other.to_string()),
        })?;
        if v > max {
            return Err(self.bad(key, n, &format!("must be at most {max}")));
        }
        Ok(Some(v))
    }

    /// A non-negative number (for prices and distribution parameters, which never decide anything).
    fn number(&self, key: &str) -> Result<Option<f64>, InputError> {
        let Some((d, n)) = self.decimal(key)? else { return Ok(None) };
        if d.is_negative() {
            return Err(self.bad(key, n, "must be >= 0"));
        }
        let text = n.value.number_text().unwrap_or("0");
        let v: f64 = text.parse().map_err(|_| self.bad(key, n, "must be a number"))?;
        if !v.is_finite() {
            return Err(self.bad(key, n, "must be finite"));
        }
        Ok(Some(v))
    }
}

/// Reads the `[scaler]` table of a scenario or configuration file, or the configuration a
/// Kubernetes manifest describes (a file named `.yaml` or `.yml`: see [`crate::manifest`]).
pub fn read_scaler_config(path: &Path) -> Result<ScalerConfig, InputError> {
    if crate::manifest::is_manifest_path(path) {
        return crate::manifest::read(&[path.to_path_buf()], None)?.config();
    }
    let doc = Doc::read(path)?;
    doc.allow_only(TABLES)?;
    scaler_config(&doc)
}

/// Builds the configuration from the document's `[scaler]` table (defaults when absent).
pub fn scaler_config(doc: &Doc) -> Result<ScalerConfig, InputError> {
    let Some((_, key_span, node)) = doc.get("scaler") else {
        return ScalerConfig::builder().build().map_err(|e| doc.error_at(0, e.prefixed("scaler.").to_string()));
    };
    let Value::Table(table) = &node.value else {
        return Err(doc.error_node(node, format!("`scaler` must be a table, not {}", node.value.kind())));
    };
    if let Some((_, mspan, mnode)) = table.iter().find(|(k, _, _)| k == "manifest") {
        return manifest_config(doc, table, mspan.start, mnode);
    }
    let mut b = ScalerConfig::builder();
    for (key, kspan, v) in table {
        let value = config_value(doc, key, v)?;
        if let Err(e) = b.set(key, &value) {
            let msg = e.clone().prefixed("scaler.").to_string();
            return Err(match (&e, locate(table, e.key())) {
                (_, Some((_, n))) if n.origin.is_some() => doc.error_node(n, msg),
                (ConfigError::UnknownKey { .. }, Some((ks, _))) => doc.error_at(ks, msg),
                (ConfigError::Invalid { .. }, Some((_, n))) => doc.error_node(n, msg),
                _ => doc.error_at(kspan.start, msg),
            });
        }
    }
    b.build().map_err(|e| {
        let msg = e.clone().prefixed("scaler.").to_string();
        match locate(table, e.key()) {
            Some((_, n)) => doc.error_node(n, msg),
            None if node.origin.is_some() => doc.error_node(node, msg),
            None => doc.error_at(key_span.start, msg),
        }
    })
}

/// `[scaler] manifest = "hpa.yaml"`: the manifest's configuration (the path relative to the
/// scenario's folder), with the keys beside `manifest`. A key beside it may set only what the
/// manifest does not (its defaults, such as `evaluation_interval`, or any key it has no field
/// for); one the manifest sets too is refused, naming both places. `policy` may repeat the
/// manifest's own. A `--set` override (a sweep's values) replaces the manifest's value.
/// The file `[scaler] manifest = REL` names: relative to the scenario's folder (as written
/// in the file; a `--set` value is relative to the working folder).
fn manifest_file(doc: &Doc, rel: &str, mnode: &Node) -> PathBuf {
    let p = PathBuf::from(rel);
    if p.is_absolute() || mnode.origin.is_some() {
        p
    } else {
        doc.path.parent().map_or_else(|| p.clone(), |b| b.join(&p))
    }
}

/// The workload of the configuration `path` (a manifest, or a scenario whose `[scaler]`
/// names one): what an export of it should name instead of placeholders. The default when the
/// configuration has no manifest.
pub fn workload_of(path: &Path) -> Result<crate::manifest::Workload, InputError> {
    if crate::manifest::is_manifest_path(path) {
        return Ok(crate::manifest::read(&[path.to_path_buf()], None)?.workload);
    }
    workload_of_doc(&Doc::read(path)?)
}

/// [`workload_of`] for a scenario document already read.
pub fn workload_of_doc(doc: &Doc) -> Result<crate::manifest::Workload, InputError> {
    match manifest_path(doc) {
        Some(m) => Ok(crate::manifest::read(&[m], None)?.workload),
        None => Ok(crate::manifest::Workload::default()),
    }
}

/// The manifest file the scenario's `[scaler]` table names, if it names one.
#[must_use]
pub fn manifest_path(doc: &Doc) -> Option<PathBuf> {
    let (_, _, node) = doc.get("scaler")?;
    let Value::Table(table) = &node.value else { return None };
    let (_, _, mnode) = table.iter().find(|(k, _, _)| k == "manifest")?;
    match &mnode.value {
        Value::String(rel) => Some(manifest_file(doc, rel, mnode)),
        _ => None,
    }
}

fn manifest_config(doc: &Doc, table: &Table, key_at: usize, mnode: &Node) -> Result<ScalerConfig, InputError> {
    let Value::String(rel) = &mnode.value else {
        return Err(doc.error_node(mnode, "scaler.manifest must be a string: the manifest file (.yaml)"));
    };
    let path = manifest_file(doc, rel, mnode);
    // A scenario's manifest is a file beside it: a device or pipe (`/dev/stdin`) is refused
    // rather than read (a scenario is read more than once, and never waits on input).
    if std::fs::metadata(&path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return Err(doc.error_node(mnode, format!("scaler.manifest = {rel:?}: is not a regular file")));
    }
    let m = crate::manifest::read(&[path], None).map_err(|e| {
        if e.location == crate::error::Location::File && e.message.starts_with("cannot read") {
            doc.error_node(mnode, format!("scaler.manifest = {rel:?}: {}: {}", e.path.display(), e.message))
        } else {
            e
        }
    })?;
    // The keys beside `manifest`, flattened to what `ConfigBuilder::set` takes.
    let mut beside: Vec<(String, &Node, usize)> = Vec::new();
    for (key, kspan, v) in table {
        if key == "manifest" {
            continue;
        }
        match (&v.value, scaler_core::PolicyKind::from_name(key).is_some()) {
            (Value::Table(t), true) => {
                for (k2, ks2, v2) in t {
                    beside.push((format!("{key}.{k2}"), v2, ks2.start));
                }
            }
            _ => beside.push((key.clone(), v, kspan.start)),
        }
    }
    let mut b = ScalerConfig::builder();
    let mut sources = crate::manifest::Sources::default();
    let skip: Vec<String> = beside.iter().map(|(k, _, _)| k.clone()).collect();
    m.apply(&mut b, &mut sources, &skip)?;
    let at_of = |node: &Node, offset: usize| -> crate::manifest::InputErrorAt {
        let e = match node.origin {
            Some(_) => doc.error_node(node, ""),
            None => doc.error_at(offset, ""),
        };
        crate::manifest::InputErrorAt { path: e.path, location: e.location }
    };
    for (key, node, offset) in &beside {
        if let Some(entry) = m.carries(key) {
            let same_policy = key == "policy"
                && matches!(&node.value, Value::String(s) if Some(s.as_str()) == Some(m.system.policy()));
            if same_policy {
                continue;
            }
            if node.origin.is_none() {
                let msg = format!(
                    "scaler.{key} is set both here and by the manifest, {}:{}:{} ({}): a key beside `manifest` may set only what the manifest does not; remove one",
                    entry.file.display(),
                    entry.line,
                    entry.col,
                    entry.at
                );
                return Err(doc.error_at(*offset, msg));
            }
        }
        let value = config_value(doc, key, node)?;
        sources.other(key, at_of(node, *offset));
        if let Err(e) = b.set(key, &value) {
            return Err(sources.locate(&e).unwrap_or_else(|| doc.error_at(*offset, e.prefixed("scaler.").to_string())));
        }
    }
    b.build().map_err(|e| sources.locate(&e).unwrap_or_else(|| doc.error_at(key_at, e.prefixed("scaler.").to_string())))
}

/// The key offset and value node of a (possibly dotted) key in a table.
fn locate<'t>(table: &'t Table, key: &str) -> Option<(usize, &'t Node)> {
    let (head, rest) = key.split_once('.').map_or((key, None), |(h, r)| (h, Some(r)));
    let (_, ks, node) = table.iter().find(|(k, _, _)| k == head)?;
    match (rest, &node.value) {
        (None, _) => Some((ks.start, node)),
        (Some(r), Value::Table(t)) => locate(t, r).or(Some((ks.start, node))),
        (Some(_), _) => Some((ks.start, node)),
    }
}

/// Converts a TOML node to a configuration value, keeping number literals exact.
pub fn config_value(doc: &Doc, key: &str, node: &Node) -> Result<ConfigValue, InputError> {
    Ok(match &node.value {
        Value::Integer(t) | Value::Float(t) => ConfigValue::Number(t.clone()),
        // A Kubernetes `behavior` block pasted as it is, YAML in a TOML string.
        Value::String(s) if matches!(key, "hpa.behavior" | "keda.behavior") && s.contains(':') => {
            let (line, col) = crate::error::line_col(&doc.text, node.span.start);
            let name =
                format!("{}:{line}:{col}: scaler.{key} (its YAML, by the block's own lines)", doc.path.display());
            crate::manifest::pasted_yaml(Path::new(&name), "behavior", s)?
        }
        Value::String(s) => ConfigValue::String(s.clone()),
        Value::Bool(b) => ConfigValue::Bool(*b),
        Value::Table(t) => {
            let mut m = BTreeMap::new();
            for (k, _, v) in t {
                m.insert(k.clone(), config_value(doc, &format!("{key}.{k}"), v)?);
            }
            ConfigValue::Table(m)
        }
        Value::Array(a) => ConfigValue::Array(a.iter().map(|n| config_value(doc, key, n)).collect::<Result<_, _>>()?),
        Value::Datetime(_) => {
            return Err(doc.error_node(node, format!("scaler.{key}: must not be {}", node.value.kind())))
        }
    })
}
