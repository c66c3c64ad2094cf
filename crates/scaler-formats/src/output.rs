//! Output files that are never half-written: data goes to a temporary file in
//! the target's directory, which replaces the target only once complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::csvio::io_reason;
use crate::error::{InputError, SimError};

/// Where an output path leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `-`: standard output.
    Stdout,
    /// Something that is not a regular file (`/dev/stdout`, `/dev/null`, a pipe): written
    /// directly, since it cannot be replaced.
    Direct(PathBuf),
    /// A regular file (or one to create), written atomically. A symbolic link leads to its
    /// target, which is replaced while the link stays a link.
    File(PathBuf),
}

/// Resolves an output path: `-`, a device or pipe, or a regular file through any links.
pub fn resolve_output(path: &Path) -> Result<Target, InputError> {
    if path.as_os_str() == "-" {
        return Ok(Target::Stdout);
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(InputError::file(path, "is a directory; give a file name")),
        // A regular file, through any links: the real file is replaced, the links stay.
        Ok(m) if m.is_file() => std::fs::canonicalize(path)
            .map(Target::File)
            .map_err(|e| InputError::file(path, format!("cannot resolve: {}", io_reason(&e)))),
        // A device or a pipe (`/dev/stdout` leads to one): opened by its name.
        Ok(_) => Ok(Target::Direct(path.to_path_buf())),
        // Nothing there yet: follow a dangling link to the name it gives, one link at a time.
        Err(_) => {
            let mut p = path.to_path_buf();
            for _ in 0..40 {
                match std::fs::symlink_metadata(&p) {
                    Ok(m) if m.file_type().is_symlink() => {
                        let to = std::fs::read_link(&p)
                            .map_err(|e| InputError::file(path, format!("cannot read the link: {}", io_reason(&e))))?;
                        p = match p.parent() {
                            Some(dir) if to.is_relative() => dir.join(to),
                            _ => to,
                        };
                    }
                    _ => return Ok(Target::File(p)),
                }
            }
            Err(InputError::file(path, "has too many levels of symbolic links"))
        }
    }
}

/// The identity of an existing file, following links: its device and inode (elsewhere, its
/// canonical path).
fn identity(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(format!("{}:{}", m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(path).ok().map(|p| p.to_string_lossy().into_owned())
    }
}

/// Refuses an output that is one of the inputs, however either is named (through links,
/// `..`, or another spelling): writing it would destroy the input.
pub fn refuse_input_as_output(output: &Path, inputs: &[&Path]) -> Result<(), InputError> {
    let Some(out) = identity(output) else { return Ok(()) };
    for input in inputs {
        if identity(input).as_deref() == Some(out.as_str()) {
            return Err(InputError::file(
                output,
                format!(
                    "is also an input ({}): writing it would destroy that input; choose another output",
                    input.display()
                ),
            ));
        }
    }
    Ok(())
}

/// [`refuse_input_as_output`] for each file `names` a command writes into `dir`.
pub fn refuse_outputs_over_inputs(dir: &Path, names: &[&str], inputs: &[&Path]) -> Result<(), InputError> {
    names.iter().try_for_each(|n| refuse_input_as_output(&dir.join(n), inputs))
}

/// Writes `path`: atomically for a regular file (`write` fills a buffered temporary file;
/// on success it is flushed, synced and renamed over the file, through any symbolic link,
/// which stays a link; on any error it is removed), directly for standard output (`-`) and
/// for what is not a regular file (`/dev/stdout`, `/dev/null`, a pipe).
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, SimError>,
) -> Result<T, SimError> {
    let target = match resolve_output(path)? {
        Target::File(p) => p,
        Target::Stdout => {
            #[cfg(unix)]
            let file = {
                use std::os::fd::AsFd;
                let fd = std::io::stdout()
                    .as_fd()
                    .try_clone_to_owned()
                    .map_err(|e| SimError::io(path, "duplicate standard output for", e))?;
                File::from(fd)
            };
            #[cfg(not(unix))]
            let file = File::create("CON").map_err(|e| SimError::io(path, "open the console for", e))?;
            return write_directly(path, file, write);
        }
        Target::Direct(p) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .map_err(|e| SimError::io(path, "open for writing", e))?;
            return write_directly(path, file, write);
        }
    };
    let path = target.as_path();
    if path.is_dir() {
        return Err(InputError::file(path, "is a directory; give a file name").into());
    }
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(InputError::file(path, format!("cannot write: directory {} does not exist", dir.display())).into());
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{}{}-", crate::output_set::PARTIAL_PREFIX, std::process::id()))
        .tempfile_in(&dir)
        .map_err(|e| InputError::file(path, format!("cannot write: {}", io_reason(&e))))?;
    let (file, tmp_path) = tmp.into_parts();
    set_default_permissions(&file, path);
    let mut w = BufWriter::with_capacity(1 << 16, file);
    let value = write(&mut w)?;
    let file = w.into_inner().map_err(|e| SimError::io(path, "write", e.into_error()))?;
    file.sync_all().map_err(|e| SimError::io(path, "sync", e))?;
    tmp_path.persist(path).map_err(|e| SimError::io(path, "replace", e.error))?;
    Ok(value)
}

fn write_directly<T>(
    path: &Path,
    file: File,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, SimError>,
) -> Result<T, SimError> {
    let mut w = BufWriter::with_capacity(1 << 16, file);
    let value = write(&mut w)?;
    w.flush().map_err(|e| SimError::io(path, "write", e))?;
    Ok(value)
}

/// Gives a temporary file the permissions a plainly created file would have
/// (those of the file it replaces, else `rw-r--r--`), instead of the private ones
/// temporary files are made with.
pub fn set_default_permissions(file: &File, target: &Path) {
    let perms = match std::fs::metadata(target) {
        Ok(m) => m.permissions(),
        Err(_) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::Permissions::from_mode(0o644)
            }
            #[cfg(not(unix))]
            {
                return;
            }
        }
    };
    // Best effort: a file system without permissions keeps the default.
    let _ = file.set_permissions(perms);
}

/// A writer that flushes a byte buffer to `out` once it passes 64 KiB.
pub struct Chunked<'w, W: Write + ?Sized> {
    /// The pending bytes.
    pub buf: Vec<u8>,
    out: &'w mut W,
    path: &'w Path,
}

impl<'w, W: Write + ?Sized> Chunked<'w, W> {
    /// Wraps `out`, named `path` in errors.
    pub fn new(out: &'w mut W, path: &'w Path) -> Self {
        Chunked { buf: Vec::with_capacity(1 << 17), out, path }
    }

    /// Writes the buffer out if it is large.
    pub fn maybe_flush(&mut self) -> Result<(), SimError> {
        if self.buf.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffer out.
    pub fn flush(&mut self) -> Result<(), SimError> {
        self.out.write_all(&self.buf).map_err(|e| SimError::io(self.path, "write", e))?;
        self.buf.clear();
        Ok(())
    }
}
