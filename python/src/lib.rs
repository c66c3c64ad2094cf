//! `scaler._scaler`: the Rust side of the `scaler` Python package.
//!
//! Every decision is made by `scaler-core`; every file is read and written by
//! `scaler-formats`; `replay`, `simulate` and `sweep` call the same library code as the
//! `scaler-sim` commands of the same names. The Python package (`python/scaler/`) adds
//! the asyncio monitoring loop of the seed's `AutoScaler`, which hands each tick's
//! counts to [`Core`], the same step `scaler-runtime` takes.
//!
//! No error crosses the boundary as a panic: invalid input is a `ValueError` with the
//! command line's message, a failed read or write an `OSError`, a broken invariant of the
//! simulator a `RuntimeError`.
#![forbid(unsafe_code)]

mod core;
mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use scaler_core::{ConfigValue, ScalerConfig};
use scaler_formats::error::SimError;
use scaler_formats::scenario::{self, Overrides};

use crate::table::Table;

/// A [`SimError`] as the Python exception a user expects, with the command line's text.
pub(crate) fn sim_err(e: SimError) -> PyErr {
    match e {
        SimError::Input(e) => PyValueError::new_err(e.to_string()),
        e @ SimError::Io { .. } => PyOSError::new_err(e.to_string()),
        e @ SimError::Model(_) => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A Python value as a configuration value: numbers keep their decimal text (Python's
/// shortest round-trip repr), so that `0.8` is exactly 0.8 as in a TOML file.
fn config_value(key: &str, v: &Bound<'_, PyAny>) -> PyResult<ConfigValue> {
    if v.is_instance_of::<PyBool>() {
        return Ok(ConfigValue::Bool(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(match v.extract::<i64>() {
            Ok(i) => ConfigValue::Integer(i),
            Err(_) => ConfigValue::Number(v.str()?.to_string()),
        });
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(ConfigValue::Number(v.repr()?.to_string()));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(ConfigValue::String(v.extract()?));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut m = BTreeMap::new();
        for (k, x) in d.iter() {
            let k: String = k.str()?.to_string();
            let sub = format!("{key}.{k}");
            m.insert(k, config_value(&sub, &x)?);
        }
        return Ok(ConfigValue::Table(m));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let mut a = Vec::new();
        for x in v.try_iter()? {
            a.push(config_value(key, &x?)?);
        }
        return Ok(ConfigValue::Array(a));
    }
    // decimal.Decimal and fractions print their exact decimal text.
    let ty = v.get_type().name()?.to_string();
    if ty == "Decimal" {
        return Ok(ConfigValue::Number(v.str()?.to_string()));
    }
    Err(PyValueError::new_err(format!(
        "scaler.{key}: a {ty} is not a configuration value (use a number, text, bool or dict)"
    )))
}

/// The configuration from keyword settings, through the same validation as a `[scaler]`
/// table; a refusal is a `ValueError` with the command line's message.
fn config_from_dict(settings: &Bound<'_, PyDict>) -> PyResult<ScalerConfig> {
    let mut pairs: Vec<(String, ConfigValue)> = Vec::new();
    for (k, v) in settings.iter() {
        if v.is_none() {
            continue;
        }
        let k: String = k.str()?.to_string();
        let value = config_value(&k, &v)?;
        pairs.push((k, value));
    }
    ScalerConfig::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v)))
        .map_err(|e| PyValueError::new_err(e.prefixed("scaler.").to_string()))
}

/// A validated scaler configuration (the `[scaler]` table of a scenario).
///
/// `Config(**settings)` validates keyword settings (`min_workers=2, cooldown_period=60`,
/// `scale_up_step={"percent": 50, "min": 1}`, `policy="hpa"`, ...);
/// `Config.from_file(path)` reads the `[scaler]` table of a TOML file as
/// `scaler-sim replay --config` does. Invalid settings raise `ValueError` with the
/// command line's message (key, value and rule).
#[pyclass(module = "scaler", frozen)]
#[derive(Clone)]
pub struct Config {
    pub(crate) inner: ScalerConfig,
}

#[pymethods]
impl Config {
    #[new]
    #[pyo3(signature = (**settings))]
    fn new(settings: Option<&Bound<'_, PyDict>>) -> PyResult<Config> {
        let inner = match settings {
            Some(d) => config_from_dict(d)?,
            None => ScalerConfig::builder().build().map_err(|e| PyValueError::new_err(e.to_string()))?,
        };
        Ok(Config { inner })
    }

    /// Reads the `[scaler]` table of a scenario or configuration file (TOML).
    #[staticmethod]
    fn from_file(path: PathBuf) -> PyResult<Config> {
        scenario::read_scaler_config(&path)
            .map(|inner| Config { inner })
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The settings as `{key: value-as-TOML-text}`, every key of the configuration.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.inner.to_pairs() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// The configuration as a `[scaler]` TOML table.
    fn to_toml(&self) -> String {
        let mut s = String::from("[scaler]\n");
        for (k, v) in self.inner.to_pairs() {
            s.push_str(&format!("{k} = {v}\n"));
        }
        s
    }

    fn __repr__(&self) -> String {
        let parts: Vec<String> = self.inner.to_pairs().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("scaler.Config({})", parts.join(", "))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.extract::<Config>().is_ok_and(|o| o.inner.to_pairs() == self.inner.to_pairs())
    }

    #[getter]
    fn min_workers(&self) -> u32 {
        self.inner.min_workers()
    }
    #[getter]
    fn max_workers(&self) -> u32 {
        self.inner.max_workers()
    }
    /// Seconds.
    #[getter]
    fn evaluation_interval(&self) -> f64 {
        ms_to_s(self.inner.evaluation_interval().as_ms())
    }
    /// Seconds.
    #[getter]
    fn metrics_window(&self) -> f64 {
        ms_to_s(self.inner.metrics_window().as_ms())
    }
    /// Seconds.
    #[getter]
    fn cooldown_period(&self) -> f64 {
        ms_to_s(self.inner.cooldown_period().as_ms())
    }
    /// The policy's name (`threshold`, `hpa`, ...).
    #[getter]
    fn policy(&self) -> String {
        self.inner.policy().as_str().to_string()
    }
}

pub(crate) fn ms_to_s(ms: u64) -> f64 {
    std::time::Duration::from_millis(ms).as_secs_f64()
}

/// A `Config`, a dict of settings, or a path of a TOML file with a `[scaler]` table.
pub(crate) fn any_config(config: &Bound<'_, PyAny>) -> PyResult<ScalerConfig> {
    if let Ok(c) = config.extract::<Config>() {
        return Ok(c.inner);
    }
    if let Ok(d) = config.cast::<PyDict>() {
        return config_from_dict(d);
    }
    if let Ok(p) = config.extract::<PathBuf>() {
        return scenario::read_scaler_config(&p).map_err(|e| PyValueError::new_err(e.to_string()));
    }
    Err(PyValueError::new_err("config must be a scaler.Config, a dict of settings or the path of a TOML file"))
}

/// Replays an observations file through the scaler, as `scaler-sim replay` does: the same
/// function ([`scaler_formats::replay::replay`]) writes the same decisions file into memory.
/// Returns `(decisions, report)`.
#[pyfunction]
#[pyo3(signature = (config, observations, skip_invalid=false))]
fn replay_file<'py>(
    py: Python<'py>,
    config: &Bound<'py, PyAny>,
    observations: PathBuf,
    skip_invalid: bool,
) -> PyResult<(Table, Bound<'py, PyDict>)> {
    let cfg = any_config(config)?;
    let (buf, report) = py
        .detach(|| {
            let mut buf = Vec::with_capacity(1 << 20);
            let r = scaler_formats::replay::replay(&cfg, &observations, &mut buf, Path::new("<memory>"), skip_invalid);
            r.map(|r| (buf, r))
        })
        .map_err(sim_err)?;
    let d = PyDict::new(py);
    d.set_item("rows", report.rows)?;
    d.set_item("skipped", report.skipped)?;
    d.set_item("first_skipped", report.first_skipped.map(|e| e.to_string()))?;
    d.set_item("scale_ups", report.scale_ups)?;
    d.set_item("scale_downs", report.scale_downs)?;
    d.set_item("torn_last_row", report.torn_last_row.map(|e| e.to_string()))?;
    let table = Table::from_csv(buf).map_err(PyValueError::new_err)?;
    Ok((table, d))
}

/// Runs a scenario through the simulator as `scaler-sim run` does (without writing
/// files): returns `(summary_json, timeline, observations)`.
#[pyfunction]
#[pyo3(signature = (scenario_path, set=Vec::new(), trace=None, seed=None))]
fn simulate_file(
    py: Python<'_>,
    scenario_path: PathBuf,
    set: Vec<String>,
    trace: Option<PathBuf>,
    seed: Option<u64>,
) -> PyResult<(String, Table, Table)> {
    let overrides = Overrides { set, trace, seed };
    let (json, tl, obs) = py
        .detach(|| -> Result<_, SimError> {
            let sc = scenario::load(&scenario_path, &overrides)?;
            run_in_memory(&sc)
        })
        .map_err(sim_err)?;
    let tl = Table::from_csv(tl).map_err(PyValueError::new_err)?;
    let obs = Table::from_csv(obs).map_err(PyValueError::new_err)?;
    Ok((json, tl, obs))
}

/// The body of `scaler-sim run` (`crates/scaler-sim/src/run.rs`), into memory: the same
/// trace source, simulator, row writers and summary.
fn run_in_memory(sc: &scenario::Scenario) -> Result<(String, Vec<u8>, Vec<u8>), SimError> {
    use scaler_formats::timeline::{push_tick_row, TIMELINE_HEADER};
    let origin = scaler_formats::origin::trace_origin(&sc.trace.path).unix_ms();
    let mut source = scaler_formats::trace::open(&sc.trace, sc.seed)?;
    let mut tl = Vec::with_capacity(1 << 20);
    let mut obs = Vec::with_capacity(1 << 20);
    tl.extend_from_slice(TIMELINE_HEADER.as_bytes());
    obs.extend_from_slice(scaler_formats::observations::header_line().as_bytes());
    let summary = scaler_model::simulate(sc.params(sc.seed), &mut source, |row| {
        push_tick_row(&mut tl, row);
        if row.observed {
            scaler_formats::observations::push_row(&mut obs, &row.observation);
        }
        Ok::<(), SimError>(())
    })?;
    let json = scaler_formats::summary::summary_json_with_origin(&summary, sc, origin)?;
    Ok((json, tl, obs))
}

/// Runs a sweep as `scaler-sim sweep` does, into the folder `out`: returns
/// `(recommendation_json, results_csv_path, files, feasible, notices)`.
#[pyfunction]
#[pyo3(signature = (scenario_path, out, threads=0, resume=false))]
fn sweep_file(
    py: Python<'_>,
    scenario_path: PathBuf,
    out: PathBuf,
    threads: usize,
    resume: bool,
) -> PyResult<(String, Vec<String>, bool, Vec<String>)> {
    py.detach(|| sweep_impl(&scenario_path, &out, threads, resume)).map_err(sim_err)
}

fn sweep_impl(
    scenario_path: &Path,
    out: &Path,
    threads: usize,
    resume: bool,
) -> Result<(String, Vec<String>, bool, Vec<String>), SimError> {
    use scaler_formats::output_set::OutputDir;
    use scaler_formats::tomldoc::Doc;
    use scaler_sim::{report, sweep};
    let doc = Doc::read(scenario_path)?;
    let base = scenario::from_doc(&doc, &Overrides::default())?;
    let spec = sweep::parse_spec(&doc, &base)?;
    let mut outputs = vec!["results.partial.csv", "sweep.json"];
    outputs.extend(sweep::SWEEP_DATA);
    outputs.extend(report::SWEEP_CHARTS);
    scaler_formats::output::refuse_outputs_over_inputs(out, &outputs, &[scenario_path, base.trace.path.as_path()])?;
    let req = sweep::SweepRequest {
        scenario: scenario_path.to_path_buf(),
        out: out.to_path_buf(),
        resume,
        shard: (0, 1),
        threads,
        progress: false,
        overrides: Default::default(),
    };
    let dir = OutputDir::open(out)?;
    let mut notices: Vec<String> = dir.recovery().notice(out).into_iter().collect();
    let (trace, now) = sweep::load_trace(&doc, &spec, &base)?;
    let run = sweep::run_shard_report(&req, &doc, &spec, &trace, &now, &mut |_, _| {})?;
    notices.extend(run.notices);
    let names: Vec<&str> = sweep::SWEEP_DATA.iter().chain(report::SWEEP_CHARTS).copied().collect();
    let mut set = dir.stage(&names)?;
    let outcome = sweep::finalize(&mut set, &doc, &spec, &base, &trace, run.results)?;
    let staged = set.staging().to_path_buf();
    let origin = scaler_formats::origin::trace_origin(&base.trace.path).unix_ms();
    report::plot_sweep(&staged, &mut set, Some(&doc.text), None, origin)?;
    let files: Vec<String> = set.commit()?.iter().map(|p| p.display().to_string()).collect();
    let json = sweep::recommendation_json(&spec, &base, &outcome)?;
    Ok((json, files, outcome.feasible, notices))
}

/// Reads a CSV file (any of the project's outputs) as a [`Table`].
#[pyfunction]
fn read_csv(py: Python<'_>, path: PathBuf) -> PyResult<Table> {
    let bytes =
        py.detach(|| std::fs::read(&path)).map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))?;
    Table::from_csv(bytes).map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))
}

/// The configuration keys, in order.
#[pyfunction]
fn config_keys() -> Vec<&'static str> {
    scaler_core::KEYS.to_vec()
}

#[pymodule]
fn _scaler(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Config>()?;
    m.add_class::<Table>()?;
    m.add_class::<core::Core>()?;
    m.add_function(wrap_pyfunction!(replay_file, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_file, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_file, m)?)?;
    m.add_function(wrap_pyfunction!(read_csv, m)?)?;
    m.add_function(wrap_pyfunction!(config_keys, m)?)?;
    m.add("CLUSTER_KEYS", scenario::CLUSTER_KEYS.to_vec())?;
    Ok(())
}
