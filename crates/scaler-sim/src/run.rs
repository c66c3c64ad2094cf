//! `scaler-sim run`: one scenario through the simulator, written to an output folder.
//!
//! Outputs (SPEC section 5, plus `observations.csv`, an extension): all are
//! written to temporary files in the output folder and renamed into place
//! only once the whole run has succeeded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use scaler_formats::csvio::io_reason;
use scaler_formats::error::{InputError, SimError};
use scaler_formats::fmtnum::format_money;
use scaler_formats::observations;
use scaler_formats::scenario::Scenario;
use scaler_formats::summary::summary_json;
use scaler_formats::timeline::{push_tick_row, TIMELINE_HEADER};
use scaler_formats::trace;
use scaler_model::{simulate, Summary};

/// The output files of a run, written next to their final names until the run succeeds.
struct Outputs {
    dir: PathBuf,
    /// The folder did not exist before: remove it again if the run fails.
    created_dir: bool,
    files: Vec<(&'static str, BufWriter<File>, tempfile::TempPath)>,
}

impl Outputs {
    fn create(dir: &Path, names: &[&'static str]) -> Result<Outputs, SimError> {
        if dir.exists() && !dir.is_dir() {
            return Err(InputError::file(dir, "--out must be a folder, and this is a file").into());
        }
        let created_dir = !dir.exists();
        std::fs::create_dir_all(dir)
            .map_err(|e| InputError::file(dir, format!("cannot create the output folder: {}", io_reason(&e))))?;
        let mut files = Vec::new();
        for &name in names {
            let tmp = NamedTempFile::with_prefix_in(format!(".{name}.partial-"), dir)
                .map_err(|e| InputError::file(&dir.join(name), format!("cannot write: {}", io_reason(&e))))?;
            let (f, path) = tmp.into_parts();
            scaler_formats::output::set_default_permissions(&f, &dir.join(name));
            files.push((name, BufWriter::with_capacity(1 << 16, f), path));
        }
        Ok(Outputs { dir: dir.to_path_buf(), created_dir, files })
    }

    fn write(&mut self, i: usize, bytes: &[u8]) -> Result<(), SimError> {
        let (name, w, _) = &mut self.files[i];
        let path = self.dir.join(*name);
        w.write_all(bytes).map_err(|e| SimError::io(&path, e))
    }

    /// Removes the temporary files, and the folder if this run created it.
    fn abandon(self) {
        let Outputs { dir, created_dir, files } = self;
        drop(files);
        if created_dir {
            let _ = std::fs::remove_dir(&dir);
        }
    }

    fn commit(self) -> Result<Vec<PathBuf>, SimError> {
        let mut done = Vec::new();
        let mut staged = Vec::new();
        let Outputs { dir, files, .. } = self;
        for (name, w, tmp) in files {
            let path = dir.join(name);
            let f = w.into_inner().map_err(|e| SimError::io(&path, e.into_error()))?;
            f.sync_all().map_err(|e| SimError::io(&path, e))?;
            staged.push((path, tmp));
        }
        for (path, tmp) in staged {
            tmp.persist(&path).map_err(|e| SimError::io(&path, e.error))?;
            done.push(path);
        }
        Ok(done)
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct RunResult {
    /// The summary.
    pub summary: Summary,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// Runs `scenario` and writes `timeline.csv`, `observations.csv` and `summary.json` into `out`.
pub fn run_to_dir(scenario: &Scenario, out: &Path) -> Result<RunResult, SimError> {
    let mut source = trace::open(&scenario.trace, scenario.seed)?;
    let mut outputs = Outputs::create(out, &["timeline.csv", "observations.csv", "summary.json"])?;
    outputs.write(0, TIMELINE_HEADER.as_bytes())?;
    outputs.write(1, observations::header_line().as_bytes())?;
    let params = scenario.params(scenario.seed);
    let mut line = Vec::with_capacity(256);
    let result = simulate(params, &mut source, |row| {
        line.clear();
        push_tick_row(&mut line, row);
        outputs.write(0, &line)?;
        if !row.observed {
            return Ok(());
        }
        line.clear();
        observations::push_row(&mut line, &row.observation);
        outputs.write(1, &line)
    })
    .and_then(|summary| {
        let json = summary_json(&summary, scenario)?;
        outputs.write(2, json.as_bytes())?;
        Ok(summary)
    });
    match result {
        Ok(summary) => {
            let files = outputs.commit()?;
            Ok(RunResult { summary, files })
        }
        Err(e) => {
            outputs.abandon();
            Err(e)
        }
    }
}

/// A short, readable table of a summary.
#[must_use]
pub fn summary_table(s: &Summary, scenario: &Scenario) -> String {
    let slo = scenario.cluster.slo_wait;
    let pct = s.slo_violation_ratio * 100.0;
    let mut t = String::new();
    t.push_str(&format!("  tasks               {}\n", s.tasks));
    t.push_str(&format!("  cost                {}\n", format_money(s.cost)));
    t.push_str(&format!(
        "  wait mean/p95/p99   {:.3} s / {:.3} s / {:.3} s (max {:.3} s)\n",
        s.wait_mean_s, s.wait_p95_s, s.wait_p99_s, s.wait_max_s
    ));
    t.push_str(&format!("  SLO violations      {pct:.2} % of tasks waited > {slo} s\n"));
    t.push_str(&format!("  scale ups/downs     {} / {}\n", s.scale_ups, s.scale_downs));
    t.push_str(&format!("  workers mean/max    {:.2} / {}\n", s.mean_workers, s.max_workers));
    t.push_str(&format!("  worker-seconds      {:.3}\n", s.worker_seconds));
    t.push_str(&format!("  end time            {} s\n", s.end_time_s));
    t
}
