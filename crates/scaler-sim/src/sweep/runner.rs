//! The parallel runner: every setting once per seed on the shared trace, shards,
//! `results.partial.csv` appended as settings finish, `--resume`, and `merge`'s checks.
//! It never prints: progress goes to a callback.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use scaler_formats::csvio::io_reason;
use scaler_formats::error::{InputError, SimError};
use scaler_formats::output_set::OutputSet;
use scaler_formats::results::{self, Expected, SettingResult, Torn, TornRow};
use scaler_formats::scenario::Scenario;
use scaler_formats::timeline::{push_tick_row, TIMELINE_HEADER};
use scaler_formats::tomldoc::Doc;
use scaler_model::simulate;
use scaler_model::trace::LoadedTrace;

use super::spec::{setting_scenario, SweepSpec};
use super::spread;

/// Runs a scenario once per seed on the shared trace; means of the metrics.
pub fn run_seeds(sc: &Scenario, trace: &LoadedTrace, seeds: &[u64]) -> Result<Vec<f64>, SimError> {
    Ok(spread::means(&run_each_seed(sc, trace, seeds)?))
}

/// Runs a scenario once per seed on the shared trace (each seed's source resampled as the
/// trace says); the metrics of each seed, in seed order.
pub fn run_each_seed(sc: &Scenario, trace: &LoadedTrace, seeds: &[u64]) -> Result<Vec<Vec<f64>>, SimError> {
    Ok(run_each_seed_summary(sc, trace, seeds)?.iter().map(|s| s.values().to_vec()).collect())
}

/// [`run_each_seed`], keeping each seed's whole summary (for what the metrics do not
/// carry, such as `measured_tasks`).
pub fn run_each_seed_summary(
    sc: &Scenario,
    trace: &LoadedTrace,
    seeds: &[u64],
) -> Result<Vec<scaler_model::Summary>, SimError> {
    seeds.iter().map(|&seed| run_summary(sc, trace, seed)).collect()
}

fn run_setting(base: &Doc, spec: &SweepSpec, trace: &LoadedTrace, i: usize) -> Result<SettingResult, SimError> {
    match setting_scenario(base, spec, i) {
        Err(e) => Ok(SettingResult {
            index: i,
            status: format!("invalid: {}", e.message),
            metrics: Vec::new(),
            spread: Vec::new(),
        }),
        Ok(sc) => {
            let per_seed = run_each_seed(&sc, trace, &spec.seeds)?;
            Ok(SettingResult {
                index: i,
                status: "ok".into(),
                metrics: spread::means(&per_seed),
                spread: spread::values(&spec.objective, &per_seed),
            })
        }
    }
}

/// What a sweep's results depend on, as they are now: the scenario as the sweep uses it
/// and the trace's content. Stored in `sweep.json`; `--resume` and `merge` refuse a folder
/// whose inputs differ, naming what changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inputs {
    /// SHA-256 (hex) of the scenario's text, the trace path it resolves to, the seeds and
    /// every swept key with its values (which generate every setting's override list).
    pub scenario_sha256: String,
    /// The trace file the scenario resolves to (absolute when it exists).
    pub trace: PathBuf,
    /// SHA-256 (hex) of the trace file's bytes.
    pub trace_sha256: String,
    /// The trace file's size in bytes (shown, not compared: the hash covers it).
    pub trace_bytes: u64,
}

/// Feeds one length-prefixed field to the hash, so that no two field lists hash alike.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::with_capacity(2 * digest.len()), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The inputs of the sweep `spec` of the scenario `doc`, whose trace is `trace_path`
/// (the trace is read through once, streamed, for its hash).
pub fn inputs(doc: &Doc, spec: &SweepSpec, trace_path: &Path) -> Result<Inputs, InputError> {
    let trace = std::fs::canonicalize(trace_path).unwrap_or_else(|_| trace_path.to_path_buf());
    let mut h = Sha256::new();
    field(&mut h, b"scaler sweep scenario v1");
    field(&mut h, doc.text.as_bytes());
    // The manifest the scenario's [scaler] names is part of the scenario.
    if let Some(m) = scaler_formats::scenario::manifest_path(doc) {
        let (sha, _) = scaler_formats::origin::sha256_file(&m).map_err(|e| {
            InputError::file(&m, format!("cannot read the manifest to fingerprint it: {}", io_reason(&e)))
        })?;
        field(&mut h, sha.as_bytes());
    }
    field(&mut h, trace.as_os_str().as_encoded_bytes());
    field(&mut h, &(spec.seeds.len() as u64).to_le_bytes());
    for seed in &spec.seeds {
        h.update(seed.to_le_bytes());
    }
    field(&mut h, &(spec.axes.len() as u64).to_le_bytes());
    for axis in &spec.axes {
        field(&mut h, axis.key.as_bytes());
        field(&mut h, &(axis.values.len() as u64).to_le_bytes());
        for v in &axis.values {
            field(&mut h, v.as_bytes());
        }
    }
    let (trace_sha256, trace_bytes) = scaler_formats::origin::sha256_file(&trace).map_err(|e| {
        InputError::file(trace_path, format!("cannot read the trace to fingerprint it: {}", io_reason(&e)))
    })?;
    Ok(Inputs { scenario_sha256: hex(&h.finalize()), trace, trace_sha256, trace_bytes })
}

/// The sweep's trace, loaded, and the sweep's inputs fingerprinted around it: the trace is
/// hashed before and after it is read and refused if it changed meanwhile, so the hash a
/// manifest records is that of the content the settings ran on.
pub fn load_trace(doc: &Doc, spec: &SweepSpec, base: &Scenario) -> Result<(LoadedTrace, Inputs), SimError> {
    let before = inputs(doc, spec, &base.trace.path)?;
    let trace = scaler_formats::trace::load(&base.trace)?;
    let (after, _) = scaler_formats::origin::sha256_file(&before.trace).map_err(|e| {
        InputError::file(&base.trace.path, format!("cannot read the trace to fingerprint it: {}", io_reason(&e)))
    })?;
    if after != before.trace_sha256 {
        return Err(InputError::file(
            &base.trace.path,
            "changed while it was being read (its content hash differs before and after); run again once nothing writes it",
        )
        .into());
    }
    Ok((trace, before))
}

/// The first 16 hex digits of a hash, for messages.
fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

/// Why a manifest without the hashes is refused.
const PREDATES: &str = "this sweep.json predates change detection (it has no content hashes of the scenario and \
                        the trace), so its results cannot be checked against the inputs; start a new --out";

/// Why the sweep a manifest describes was not made from `now`'s inputs, in a sentence for
/// `cannot {what}: ...`; `None` when it was.
fn changed_inputs(old: &Manifest, now: &Inputs) -> Option<String> {
    let (Some(scenario_sha256), Some(trace), Some(trace_sha256)) =
        (&old.scenario_sha256, &old.trace, &old.trace_sha256)
    else {
        return Some(PREDATES.into());
    };
    let scenario = old.scenario.display();
    if *trace != now.trace {
        return Some(format!(
            "the scenario {scenario} now reads the trace {} but this sweep used {}; start a new --out or restore the scenario",
            now.trace.display(),
            trace.display()
        ));
    }
    if *scenario_sha256 != now.scenario_sha256 {
        return Some(format!(
            "the scenario {scenario} changed since this sweep started (hash {}, now {}, covering the manifest it names); start a new --out or restore the scenario",
            short(scenario_sha256),
            short(&now.scenario_sha256)
        ));
    }
    if *trace_sha256 != now.trace_sha256 {
        return Some(format!(
            "the trace {} changed since this sweep started (content hash {}, now {}, {} bytes); start a new --out or restore the trace",
            trace.display(),
            short(trace_sha256),
            short(&now.trace_sha256),
            now.trace_bytes
        ));
    }
    None
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
    /// Report progress (through `run_shard_report`'s callback; the caller shows it).
    pub progress: bool,
    /// The command line's overrides, recorded in `sweep.json` for `merge`.
    pub overrides: SweepOverrides,
}

/// Reads finished settings from a results file (partial or final) of this sweep, as
/// `merge` does: a malformed or torn row anywhere is refused with the file and line, and so
/// is a row whose swept values are not the ones the sweep now gives its setting.
pub fn read_results(path: &Path, spec: &SweepSpec) -> Result<Vec<SettingResult>, InputError> {
    read_sweep_results(path, spec, TornRow::Refuse).map(|(r, _)| r)
}

/// Reads a sweep's results file; with [`TornRow::Drop`] a torn last row is left out and
/// returned.
fn read_sweep_results(
    path: &Path,
    spec: &SweepSpec,
    torn: TornRow,
) -> Result<(Vec<SettingResult>, Option<Torn>), InputError> {
    let axes = spec.keys();
    let spread = spread::columns(spec);
    let read = results::read_sweep(path, Expected { axes: &axes, settings: spec.settings(), spread: &spread }, torn)?;
    let mut out = Vec::with_capacity(read.table.rows.len());
    for row in read.table.rows {
        let want = spec.cells(row.result.index);
        if let Some(k) = (0..want.len()).find(|&k| row.values[k] != want[k]) {
            return Err(InputError::line(
                path,
                row.line,
                format!(
                    "setting {} has {} = {} but the sweep now gives it {} (the scenario changed since this row was written)",
                    row.result.index, axes[k], row.values[k], want[k]
                ),
            ));
        }
        out.push(row.result);
    }
    Ok((out, read.torn))
}

/// The manifest a sweep folder carries, so that `--resume` and `merge` can check it.
///
/// A manifest written before change detection (with only a `fingerprint` of the scenario's
/// text and the trace's size) still reads, without the hashes; `--resume` and `merge` refuse
/// it, saying so.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Manifest {
    /// The scenario file (absolute).
    pub scenario: PathBuf,
    /// [`Inputs::scenario_sha256`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_sha256: Option<String>,
    /// [`Inputs::trace`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<PathBuf>,
    /// [`Inputs::trace_sha256`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_sha256: Option<String>,
    /// [`Inputs::trace_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_bytes: Option<u64>,
    /// Settings in the whole sweep.
    pub settings: usize,
    /// `[index, count]`.
    pub shard: [usize; 2],
    /// The command line's `--set`, `--seed` and `--trace` (absent when none was given):
    /// `merge` applies them again, so it reads the scenario the shards swept.
    #[serde(default, skip_serializing_if = "SweepOverrides::is_empty")]
    pub overrides: SweepOverrides,
}

impl Manifest {
    /// Writes it as `out/sweep.json`, atomically.
    pub fn write_to(&self, out: &Path) -> Result<(), SimError> {
        let path = out.join("sweep.json");
        let json = serde_json::to_string_pretty(self).expect("serializable") + "\n";
        scaler_formats::output::write_atomically(&path, |w| {
            w.write_all(json.as_bytes()).map_err(|e| SimError::io(&path, "write", e))
        })
    }

    /// The manifest of the sweep `req` asks for, with the inputs as they are `now`.
    #[must_use]
    pub fn of(req: &SweepRequest, spec: &SweepSpec, now: &Inputs) -> Manifest {
        Manifest {
            scenario: std::fs::canonicalize(&req.scenario).unwrap_or_else(|_| req.scenario.clone()),
            scenario_sha256: Some(now.scenario_sha256.clone()),
            trace: Some(now.trace.clone()),
            trace_sha256: Some(now.trace_sha256.clone()),
            trace_bytes: Some(now.trace_bytes),
            settings: spec.settings(),
            shard: [req.shard.0, req.shard.1],
            overrides: req.overrides.clone(),
        }
    }
}

/// A sweep's command-line overrides, as its `sweep.json` records them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SweepOverrides {
    /// `--set table.key=value`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    /// `--seed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `--trace`, absolute (the merge may run in another folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<PathBuf>,
}

impl SweepOverrides {
    /// True when the command line gave none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.seed.is_none() && self.trace.is_none()
    }

    /// As the scenario reader takes them.
    #[must_use]
    pub fn to_overrides(&self) -> scaler_formats::scenario::Overrides {
        scaler_formats::scenario::Overrides { set: self.set.clone(), trace: self.trace.clone(), seed: self.seed }
    }
}

/// What [`run_shard_report`] did: every result known for the shard, and what the caller
/// should tell the user (a torn row dropped on resume).
#[derive(Clone, Debug)]
pub struct ShardRun {
    /// Every result known for the shard (resumed ones included), by setting.
    pub results: Vec<SettingResult>,
    /// Notices, one sentence each.
    pub notices: Vec<String>,
}

/// True when the file holds a line end (its header was written whole).
fn has_line_end(path: &Path) -> std::io::Result<bool> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Ok(false),
            Ok(n) if buf[..n].contains(&b'\n') => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Runs the sweep's share of settings, appending each to `results.partial.csv` as one
/// write (the whole line with its line end), so that a kill tears at most the last row.
///
/// With `--resume`, the folder's `sweep.json` must describe this very sweep: the same
/// scenario file, shard, scenario hash (text, trace path, seeds, swept values) and trace
/// content hash; otherwise it is refused, naming what changed. A torn last row (no line
/// end, or a field count that does not match) is cut from the file and its setting runs
/// again, with a notice; a malformed row before the last is refused with file and line.
///
/// `progress(done, total)` is called once when the settings start (with those already
/// done by an earlier run) and again after each finished setting.
pub fn run_shard_report(
    req: &SweepRequest,
    doc: &Doc,
    spec: &SweepSpec,
    trace: &LoadedTrace,
    now: &Inputs,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ShardRun, SimError> {
    if spec.search != super::spec::Search::Grid {
        return Err(InputError::file(
            &req.scenario,
            "sweep.search = \"adaptive\": the adaptive search runs through sweep::run_adaptive, not the grid's runner",
        )
        .into());
    }
    // With `[sweep] holdout`, the settings see only the trace's tuning part (a cut that
    // leaves a part without tasks is refused before anything is written).
    let tuning = super::holdout::tuning_trace(&doc.path, trace, spec.holdout)?;
    let trace = &tuning;
    let out = &req.out;
    std::fs::create_dir_all(out)
        .map_err(|e| InputError::file(out, format!("cannot create the output folder: {}", io_reason(&e))))?;
    let manifest = Manifest::of(req, spec, now);
    let manifest_path = out.join("sweep.json");
    let partial = out.join("results.partial.csv");
    let mut done: BTreeMap<usize, SettingResult> = BTreeMap::new();
    let mut notices = Vec::new();
    // Resume only a partial file whose header was written whole; otherwise start it again.
    let resuming =
        req.resume && partial.exists() && has_line_end(&partial).map_err(|e| SimError::io(&partial, "read", e))?;
    if resuming {
        let refuse =
            |why: String| -> SimError { InputError::file(&manifest_path, format!("cannot resume: {why}")).into() };
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| refuse(format!("this folder has no readable sweep.json ({})", io_reason(&e))))?;
        let old: Manifest = serde_json::from_str(&text)
            .map_err(|e| refuse(format!("this folder's sweep.json is not a sweep manifest: {e}")))?;
        if old.scenario != manifest.scenario {
            return Err(refuse(format!(
                "this folder is a sweep of {}, not of {}; start a new --out",
                old.scenario.display(),
                manifest.scenario.display()
            )));
        }
        if old.shard != manifest.shard {
            return Err(refuse(format!(
                "this folder holds shard {}/{}, not {}/{}; resume it with --shard {}/{} or start a new --out",
                old.shard[0], old.shard[1], req.shard.0, req.shard.1, old.shard[0], old.shard[1]
            )));
        }
        if let Some(why) = changed_inputs(&old, now) {
            return Err(refuse(why));
        }
        let (rows, torn) = read_sweep_results(&partial, spec, TornRow::Drop)?;
        for r in rows {
            done.insert(r.index, r);
        }
        if let Some(t) = torn {
            // Cut the torn row so that the next row starts on a line of its own.
            OpenOptions::new()
                .write(true)
                .open(&partial)
                .and_then(|f| f.set_len(t.offset))
                .map_err(|e| SimError::io(&partial, "cut the torn last row of", e))?;
            notices.push(format!(
                "{}:{}: dropped a torn last row ({}); its setting runs again",
                partial.display(),
                t.line,
                t.reason
            ));
        }
    }
    let mut file = if resuming {
        OpenOptions::new().append(true).open(&partial).map_err(|e| SimError::io(&partial, "open for appending", e))?
    } else {
        // The partial file is started before the manifest is written: a kill between
        // leaves an empty sweep under the old manifest, never old rows under a new one.
        let mut f = File::create(&partial).map_err(|e| SimError::io(&partial, "create", e))?;
        let head = results::header_with(&spec.keys(), &spread::columns(spec)) + "\n";
        f.write_all(head.as_bytes()).and_then(|()| f.flush()).map_err(|e| SimError::io(&partial, "write", e))?;
        f
    };
    manifest.write_to(out)?;
    let (si, sn) = req.shard;
    let todo: Vec<usize> = (0..spec.settings()).filter(|i| i % sn == si && !done.contains_key(i)).collect();
    let total = (0..spec.settings()).filter(|i| i % sn == si).count();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(req.threads)
        .build()
        .map_err(|e| SimError::invariant(format!("thread pool: {e}")))?;
    progress(done.len(), total);
    let spread_columns = spread::columns(spec).len();
    let (tx, rx) = mpsc::channel::<Result<SettingResult, SimError>>();
    let mut first_error = None;
    let mut write_failed = false;
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
                    // One write per row: a kill tears at most this row, never glues two.
                    // After a failed write nothing more is written: the torn row stays the last.
                    let row = results::line_with_end(&r, &spec.cells(r.index), spread_columns);
                    if !write_failed {
                        if let Err(e) = file.write_all(&row).and_then(|()| file.flush()) {
                            write_failed = true;
                            first_error.get_or_insert(SimError::io(&partial, "append a result to", e));
                        }
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
    Ok(ShardRun { results: done.into_values().collect(), notices })
}

/// One run's summary on the shared trace.
pub fn run_summary(sc: &Scenario, trace: &LoadedTrace, seed: u64) -> Result<scaler_model::Summary, SimError> {
    let params = sc.params(seed);
    simulate(params, &mut trace.source(seed), |_| Ok(()))
}

/// Runs a scenario once with `seed`, streaming its timeline into the set's file `name`
/// (memory does not grow with the number of ticks). Returns the run's summary.
pub fn timeline_into(
    sc: &Scenario,
    trace: &LoadedTrace,
    seed: u64,
    set: &mut OutputSet<'_>,
    name: &str,
) -> Result<scaler_model::Summary, SimError> {
    let path = set.final_path(name);
    let mut w = set.create(name)?;
    w.write_all(TIMELINE_HEADER.as_bytes()).map_err(|e| SimError::io(&path, "write", e))?;
    let mut line = Vec::with_capacity(256);
    let summary = simulate(sc.params(seed), &mut trace.source(seed), |r| {
        line.clear();
        push_tick_row(&mut line, r);
        w.write_all(&line).map_err(|e| SimError::io(&path, "write", e))
    })?;
    w.flush().map_err(|e| SimError::io(&path, "write", e))?;
    Ok(summary)
}

/// Checks that the manifest `merge` gathered describes the sweep its scenario now defines:
/// the same number of settings (so that no result index can fall outside the sweep), then
/// the same inputs as they are now on disk: the scenario (its text after the trace path is
/// resolved, its seeds and swept values) and the trace's content. A refusal names what
/// changed; a manifest written before change detection is refused, saying so.
pub fn check_manifest_settings(
    dirs: &[PathBuf],
    m: &Manifest,
    spec: &SweepSpec,
    now: &Inputs,
) -> Result<(), InputError> {
    let mpath = dirs.first().map_or_else(|| PathBuf::from("sweep.json"), |d| d.join("sweep.json"));
    if m.settings != spec.settings() {
        return Err(InputError::file(
            &mpath,
            format!(
                "settings = {}: the scenario's [sweep] now has {} settings (the scenario changed since the sweep ran?)",
                m.settings,
                spec.settings()
            ),
        ));
    }
    if m.scenario_sha256.is_none() || m.trace.is_none() || m.trace_sha256.is_none() {
        return Err(InputError::file(&mpath, format!("cannot merge: {PREDATES}")));
    }
    match changed_inputs(m, now) {
        None => Ok(()),
        Some(why) => Err(InputError::file(&mpath, format!("cannot merge: {why}"))),
    }
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
                let first_path = dirs[0].join("sweep.json");
                let differs = if f.scenario != m.scenario {
                    Some(format!("is a sweep of {}", m.scenario.display()))
                } else if f.settings != m.settings || f.shard[1] != m.shard[1] {
                    Some(format!("has {} settings in {} shards", m.settings, m.shard[1]))
                } else if f.trace != m.trace {
                    Some(format!("reads the trace {}", m.trace.as_deref().unwrap_or(Path::new("(unknown)")).display()))
                } else if f.overrides != m.overrides {
                    Some(format!(
                        "was swept with other --set, --seed or --trace options ({:?} against {:?})",
                        m.overrides, f.overrides
                    ))
                } else if f.scenario_sha256 != m.scenario_sha256 {
                    Some("ran a different version of the scenario (its hash differs)".to_string())
                } else if f.trace_sha256 != m.trace_sha256 {
                    Some("ran on a different content of the trace (its hash differs)".to_string())
                } else {
                    None
                };
                if let Some(d) = differs {
                    return Err(InputError::file(
                        &mpath,
                        format!("belongs to another sweep than {}: it {d}", first_path.display()),
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
