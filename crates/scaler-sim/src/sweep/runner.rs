//! The parallel runner: every setting once per seed on the shared trace, shards,
//! `results.partial.csv` appended as settings finish, `--resume`, and `merge`'s checks.
//! It never prints: progress goes to a callback.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rayon::prelude::*;

use scaler_formats::csvio::io_reason;
use scaler_formats::error::{InputError, SimError};
use scaler_formats::results::{self, Expected, SettingResult};
use scaler_formats::scenario::Scenario;
use scaler_formats::tomldoc::Doc;
use scaler_model::trace::LoadedTrace;
use scaler_model::{simulate, TickRow, METRICS};

use super::spec::{setting_scenario, SweepSpec};

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
    /// Report progress (through `run_shard`'s callback; the caller shows it).
    pub progress: bool,
}

/// Reads finished settings from a results file (partial or final) of this sweep.
pub fn read_results(path: &Path, spec: &SweepSpec) -> Result<Vec<SettingResult>, InputError> {
    let axes = spec.keys();
    let table = results::read(path, Some(Expected { axes: &axes, settings: spec.settings() }))?;
    Ok(table.rows.into_iter().map(|r| r.result).collect())
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
///
/// `progress(done, total)` is called once when the settings start (with those already
/// done by an earlier run) and again after each finished setting.
pub fn run_shard(
    req: &SweepRequest,
    doc: &Doc,
    spec: &SweepSpec,
    base: &Scenario,
    trace: &LoadedTrace,
    progress: &mut dyn FnMut(usize, usize),
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
        writeln!(f, "{}", results::header(&spec.keys())).map_err(|e| SimError::io(&partial, e))?;
        f
    };
    let (si, sn) = req.shard;
    let todo: Vec<usize> = (0..spec.settings()).filter(|i| i % sn == si && !done.contains_key(i)).collect();
    let total = (0..spec.settings()).filter(|i| i % sn == si).count();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(req.threads)
        .build()
        .map_err(|e| SimError::invariant(format!("thread pool: {e}")))?;
    progress(done.len(), total);
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
                    if let Err(e) =
                        writeln!(file, "{}", results::line(&r, &spec.values(r.index))).and_then(|()| file.flush())
                    {
                        first_error.get_or_insert(SimError::io(&partial, e));
                    }
                    done.insert(r.index, r);
                    progress(done.len(), total);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(done.into_values().collect())
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

/// Checks that the manifest `merge` gathered describes the sweep its scenario now defines
/// (the same number of settings), so that no result index can fall outside the sweep.
pub fn check_manifest_settings(dirs: &[PathBuf], m: &Manifest, spec: &SweepSpec) -> Result<(), InputError> {
    if m.settings == spec.settings() {
        return Ok(());
    }
    let mpath = dirs.first().map_or_else(|| PathBuf::from("sweep.json"), |d| d.join("sweep.json"));
    Err(InputError::file(
        &mpath,
        format!(
            "settings = {}: the scenario's [sweep] now has {} settings (the scenario changed since the sweep ran?)",
            m.settings,
            spec.settings()
        ),
    ))
}

/// Checks that shard folders belong to one sweep and cover it; returns their manifest
/// and the union of their results. Every index and count read from a `sweep.json` is
/// validated (a shard count of at least 1, an index below it, at least one setting; nothing
/// is sized by a count read from the file) and a refusal names the file and the JSON path.
pub fn gather_shards(dirs: &[PathBuf]) -> Result<(Manifest, Vec<PathBuf>), InputError> {
    let mut first: Option<Manifest> = None;
    // The shard indices seen; a set, not a vector sized by a count read from the file.
    let mut seen = std::collections::BTreeSet::new();
    let mut partials = Vec::new();
    for d in dirs {
        let mpath = d.join("sweep.json");
        let text = std::fs::read_to_string(&mpath)
            .map_err(|e| InputError::file(&mpath, format!("cannot read: {}", io_reason(&e))))?;
        let m: Manifest =
            serde_json::from_str(&text).map_err(|e| InputError::file(&mpath, format!("not a sweep manifest: {e}")))?;
        // Every number read from the file is checked before it sizes or indexes anything.
        let [index, count] = m.shard;
        if count == 0 {
            return Err(InputError::file(&mpath, "shard[1] = 0: the shard count must be at least 1"));
        }
        if index >= count {
            return Err(InputError::file(
                &mpath,
                format!("shard[0] = {index}: the shard index must be below the shard count shard[1] = {count}"),
            ));
        }
        if m.settings == 0 {
            return Err(InputError::file(&mpath, "settings = 0: a sweep has at least one setting"));
        }
        match &first {
            None => first = Some(m.clone()),
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
        if !seen.insert(index) {
            return Err(InputError::file(&mpath, format!("shard {index}/{count} is given twice")));
        }
        partials.push(d.join("results.partial.csv"));
    }
    let m = first.ok_or_else(|| InputError::file(Path::new("merge"), "give at least one shard folder"))?;
    // At most `dirs.len() + 1` indices are looked at: the indices seen are distinct.
    if let Some(missing) = (0..m.shard[1]).find(|i| !seen.contains(i)) {
        return Err(InputError::file(Path::new("merge"), format!("shard {missing}/{} is missing", m.shard[1])));
    }
    Ok((m, partials))
}
