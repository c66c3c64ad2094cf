//! A command's output files committed as one set.
//!
//! A command that writes several files into a folder (`run`, `sweep`, `merge`, `compare`,
//! `plot`) opens the folder as an [`OutputDir`] and builds its files in an [`OutputSet`]:
//! a private staging folder `DIR/.scaler-staging-<pid>-<random>/`. Nothing in `DIR` changes
//! until [`OutputSet::commit`], which
//!
//! 1. syncs every staged file,
//! 2. writes a journal, `COMMIT`, into the staging folder, listing the files to put in
//!    place and the stale files of the command's set to remove (a file the previous run
//!    wrote and this one does not, such as `recommended_timeline.csv` when no setting meets
//!    the constraints), and syncs it,
//! 3. renames each staged file over its final name (through a symbolic link, which stays a
//!    link) and removes the stale ones,
//! 4. removes the journal and the staging folder.
//!
//! A set that failed or was killed before step 2 leaves the folder as it was; its staging
//! folder is removed by the next command that opens the folder. A kill during step 3 is
//! rolled forward by the next command that opens the folder (every staged file is complete
//! once the journal exists), so the folder always ends with one whole set, never a mix.
//!
//! [`OutputDir::open`] holds an advisory lock on the folder (`flock`) for as long as the
//! value lives, so two commands never write one folder at once; while holding it, it rolls
//! forward or removes what earlier killed commands left (staging folders, and the temporary
//! files of [`crate::output::write_atomically`] whose process is gone).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::csvio::io_reason;
use crate::error::{InputError, SimError};
use crate::output::{resolve_output, Target};

/// The prefix of staging folders.
const STAGING_PREFIX: &str = ".scaler-staging-";
/// The journal's name inside a staging folder.
const JOURNAL: &str = "COMMIT";
/// The prefix of [`crate::output::write_atomically`]'s temporary files.
pub(crate) const PARTIAL_PREFIX: &str = ".scaler-partial-";

fn fail(path: &Path, doing: &str, e: &std::io::Error) -> SimError {
    InputError::file(path, format!("cannot {doing}: {}", io_reason(e))).into()
}

/// What opening a folder found of earlier, killed commands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Sets whose commit was interrupted, now completed.
    pub rolled_forward: usize,
    /// Staging folders and temporary files removed.
    pub removed: usize,
}

impl Recovery {
    /// A sentence for the user, or `None` when nothing was found.
    #[must_use]
    pub fn notice(&self, dir: &Path) -> Option<String> {
        match (self.rolled_forward, self.removed) {
            (0, 0) => None,
            (r, d) => Some(format!(
                "{}: completed {r} interrupted commit(s) and removed {d} leftover(s) of killed runs",
                dir.display()
            )),
        }
    }
}

/// An output folder held by this process.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    /// The open folder, locked; `None` where the platform cannot lock folders.
    _lock: Option<File>,
    /// This value created the folder: remove it again if nothing was committed.
    created: bool,
    committed: std::cell::Cell<bool>,
    recovery: Recovery,
}

impl OutputDir {
    /// Creates `dir` if needed, locks it, and rolls forward or removes earlier leftovers.
    ///
    /// # Errors
    /// `dir` is a file or cannot be created or read; another command holds it.
    pub fn open(dir: &Path) -> Result<OutputDir, SimError> {
        if dir.exists() && !dir.is_dir() {
            return Err(InputError::file(dir, "the output folder is a file; give a folder").into());
        }
        let created = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| fail(dir, "create the output folder", &e))?;
        let lock =
            match File::open(dir) {
                Ok(f) => match f.try_lock() {
                    Ok(()) => Some(f),
                    Err(std::fs::TryLockError::WouldBlock) => return Err(InputError::file(
                        dir,
                        "another scaler-sim command is writing into this folder; wait for it or choose another --out",
                    )
                    .into()),
                    Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => None,
                    Err(std::fs::TryLockError::Error(e)) => return Err(fail(dir, "lock the output folder", &e)),
                },
                // Some platforms cannot open a folder as a file: go on without the lock.
                Err(_) => None,
            };
        let recovery = recover(dir)?;
        Ok(OutputDir { dir: dir.to_path_buf(), _lock: lock, created, committed: false.into(), recovery })
    }

    /// The folder.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// What opening found of earlier, killed commands.
    #[must_use]
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Starts a set. `set_names` lists every file the command writes as part of its set:
    /// those it does not produce this time are removed at commit, so no stale file of an
    /// earlier run stays beside the new ones.
    ///
    /// # Errors
    /// The staging folder cannot be created.
    pub fn stage(&self, set_names: &[&str]) -> Result<OutputSet<'_>, SimError> {
        let staging = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
            .tempdir_in(&self.dir)
            .map_err(|e| fail(&self.dir, "create a staging folder in the output folder", &e))?
            .keep();
        Ok(OutputSet {
            out: self,
            staging,
            set_names: set_names.iter().map(|s| (*s).to_string()).collect(),
            written: Vec::new(),
            done: false,
        })
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if self.created && !self.committed.get() {
            // Only succeeds when empty: a folder with anything in it stays.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Files being built for one commit into an [`OutputDir`].
#[derive(Debug)]
pub struct OutputSet<'d> {
    out: &'d OutputDir,
    staging: PathBuf,
    set_names: Vec<String>,
    written: Vec<String>,
    done: bool,
}

impl OutputSet<'_> {
    /// The staging path for the output file `name`: write it there (the set records it).
    pub fn path(&mut self, name: &str) -> PathBuf {
        debug_assert!(!name.contains('/') && name != JOURNAL, "a plain file name");
        if !self.written.iter().any(|n| n == name) {
            self.written.push(name.to_string());
        }
        self.staging.join(name)
    }

    /// The staging folder, where the files written so far can be read back.
    #[must_use]
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The final path of `name`, for messages.
    #[must_use]
    pub fn final_path(&self, name: &str) -> PathBuf {
        self.out.dir.join(name)
    }

    /// Creates the output file `name` for writing.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(&mut self, name: &str) -> Result<BufWriter<File>, SimError> {
        let path = self.path(name);
        let f = File::create(&path).map_err(|e| fail(&self.final_path(name), "write", &e))?;
        Ok(BufWriter::with_capacity(1 << 16, f))
    }

    /// Writes the whole output file `name`.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), SimError> {
        let mut w = self.create(name)?;
        let final_path = self.final_path(name);
        w.write_all(bytes).and_then(|()| w.flush()).map_err(|e| fail(&final_path, "write", &e))
    }

    /// Puts every written file in place and removes the set's files not written this
    /// time, as one commit (see the module documentation). Returns the final paths.
    ///
    /// # Errors
    /// A file cannot be synced or moved into place; what was not moved yet is moved by the
    /// next command that opens the folder.
    pub fn commit(self) -> Result<Vec<PathBuf>, SimError> {
        self.commit_until(None)
    }

    /// For tests of recovery: commits as [`OutputSet::commit`] does, but stops after
    /// `steps` of the journal's steps (puts and removals), leaving the folder exactly as a
    /// kill at that point would.
    ///
    /// # Errors
    /// As [`OutputSet::commit`].
    #[doc(hidden)]
    pub fn commit_interrupted(self, steps: usize) -> Result<(), SimError> {
        self.commit_until(Some(steps)).map(|_| ())
    }

    fn commit_until(mut self, steps: Option<usize>) -> Result<Vec<PathBuf>, SimError> {
        // Everything that can be checked before the commit point is: a destination that
        // cannot be replaced fails the command with the old set untouched.
        for name in &self.written {
            let dest = self.out.dir.join(name);
            resolve_output(&dest)?;
            let p = self.staging.join(name);
            File::open(&p).and_then(|f| f.sync_all()).map_err(|e| fail(&dest, "sync", &e))?;
        }
        let mut journal = String::new();
        for name in &self.written {
            journal.push_str(&format!("put {name}\n"));
        }
        for name in self.set_names.iter().filter(|n| !self.written.contains(n)) {
            journal.push_str(&format!("remove {name}\n"));
        }
        let jtmp = self.staging.join(".journal");
        let jpath = self.staging.join(JOURNAL);
        std::fs::write(&jtmp, journal.as_bytes())
            .and_then(|()| File::open(&jtmp)?.sync_all())
            .and_then(|()| std::fs::rename(&jtmp, &jpath))
            .map_err(|e| fail(&jpath, "write the commit journal", &e))?;
        sync_dir(&self.staging);
        // From here on the set is committed: what is not done now, the next opener does.
        self.done = true;
        self.out.committed.set(true);
        roll_forward(&self.out.dir, &self.staging, steps)?;
        Ok(self.written.iter().map(|n| self.out.dir.join(n)).collect())
    }
}

impl Drop for OutputSet<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Syncs a folder's entries (renames in it) to disk; best effort.
fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Carries out a staging folder's journal (idempotently), then removes the folder; with
/// `steps`, stops after that many steps as a kill would.
fn roll_forward(dir: &Path, staging: &Path, steps: Option<usize>) -> Result<(), SimError> {
    let jpath = staging.join(JOURNAL);
    let journal = std::fs::read_to_string(&jpath).map_err(|e| fail(&jpath, "read the commit journal", &e))?;
    for (i, line) in journal.lines().enumerate() {
        if steps == Some(i) {
            return Ok(());
        }
        if let Some(name) = line.strip_prefix("put ") {
            let from = staging.join(name);
            // Already moved by an earlier, interrupted roll-forward.
            if from.exists() {
                put_in_place(&from, &dir.join(name))?;
            }
        } else if let Some(name) = line.strip_prefix("remove ") {
            let stale = dir.join(name);
            match std::fs::remove_file(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(&stale, "remove a stale output of an earlier run", &e)),
            }
        }
    }
    if steps.is_some() {
        // Killed after the last step, before the staging folder went.
        return Ok(());
    }
    sync_dir(dir);
    std::fs::remove_dir_all(staging).map_err(|e| fail(staging, "remove the staging folder", &e))
}

/// Moves a finished file over `dest`: through a symbolic link to the file it names (the
/// link stays), copied where a rename cannot reach (another file system, a device).
fn put_in_place(from: &Path, dest: &Path) -> Result<(), SimError> {
    let target = match resolve_output(dest)? {
        Target::File(p) => p,
        Target::Direct(p) => {
            // A pipe or device under the output's name: write into it.
            let mut src = File::open(from).map_err(|e| fail(from, "read a staged output", &e))?;
            let mut dst = std::fs::OpenOptions::new().write(true).open(&p).map_err(|e| fail(dest, "write", &e))?;
            std::io::copy(&mut src, &mut dst).map_err(|e| fail(dest, "write", &e))?;
            return std::fs::remove_file(from).map_err(|e| fail(from, "remove a staged output", &e));
        }
        Target::Stdout => unreachable!("an output name is never `-`"),
    };
    if let Ok(m) = std::fs::metadata(&target) {
        // The replaced file's permissions carry over.
        let _ = std::fs::set_permissions(from, m.permissions());
    }
    match std::fs::rename(from, &target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            // The link leads to another file system: copy beside the target, then rename.
            let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let tmp = tempfile::Builder::new()
                .prefix(&format!("{PARTIAL_PREFIX}{}-", std::process::id()))
                .tempfile_in(parent)
                .map_err(|e| fail(dest, "write", &e))?;
            let (mut f, tmp_path) = tmp.into_parts();
            let mut src = File::open(from).map_err(|e| fail(from, "read a staged output", &e))?;
            std::io::copy(&mut src, &mut f).and_then(|_| f.sync_all()).map_err(|e| fail(dest, "write", &e))?;
            if let Ok(m) = std::fs::metadata(from) {
                let _ = f.set_permissions(m.permissions());
            }
            tmp_path.persist(&target).map_err(|e| fail(dest, "replace", &e.error))?;
            std::fs::remove_file(from).map_err(|e| fail(from, "remove a staged output", &e))
        }
        Err(e) => Err(fail(dest, "replace", &e)),
    }
}

/// Whether process `pid` may still be running (where this cannot be told: yes).
fn may_be_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        proc.join(pid.to_string()).exists()
    } else {
        true
    }
}

/// The process id in a leftover's name `PREFIX<pid>-<random>`.
fn pid_of(rest: &str) -> Option<u32> {
    rest.split_once('-').and_then(|(pid, _)| pid.parse().ok())
}

/// A temporary output of an earlier version, `.<name>.<ext>.partial-<random>` (no longer
/// made: `run` now stages its files).
fn is_old_partial(name: &str) -> bool {
    let Some((stem, _)) = name.strip_prefix('.').and_then(|n| n.split_once(".partial-")) else { return false };
    [".csv", ".json", ".png", ".svg", ".html"].iter().any(|ext| stem.ends_with(ext))
}

/// With the folder locked: completes interrupted commits and removes the staging folders
/// and temporary files of killed commands.
fn recover(dir: &Path) -> Result<Recovery, SimError> {
    let mut rec = Recovery::default();
    let entries = std::fs::read_dir(dir).map_err(|e| fail(dir, "list the output folder", &e))?;
    let mut staging = Vec::new();
    let mut partials = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(STAGING_PREFIX) {
            // The lock is held: no live command is building this set.
            if entry.path().is_dir() {
                staging.push(entry.path());
            }
        } else if let Some(rest) = name.strip_prefix(PARTIAL_PREFIX) {
            // A single-file write does not take the lock: only a dead process's file goes.
            if pid_of(rest).is_some_and(|pid| !may_be_running(pid)) {
                partials.push(entry.path());
            }
        } else if is_old_partial(name) {
            partials.push(entry.path());
        }
    }
    staging.sort();
    for s in staging {
        if s.join(JOURNAL).exists() {
            roll_forward(dir, &s, None)?;
            rec.rolled_forward += 1;
        } else {
            std::fs::remove_dir_all(&s).map_err(|e| fail(&s, "remove a killed run's staging folder", &e))?;
            rec.removed += 1;
        }
    }
    for p in partials {
        std::fs::remove_file(&p).map_err(|e| fail(&p, "remove a killed run's temporary file", &e))?;
        rec.removed += 1;
    }
    Ok(rec)
}
