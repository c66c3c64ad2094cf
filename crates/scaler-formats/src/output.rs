//! Output files that are never half-written: data goes to a temporary file in
//! the target's directory, which replaces the target only once complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::csvio::io_reason;
use crate::error::{InputError, SimError};

/// Writes `path` atomically: `write` fills a buffered temporary file; on success it
/// is flushed, synced and renamed over `path`; on any error it is removed.
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, SimError>,
) -> Result<T, SimError> {
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
        .prefix(".scaler-partial-")
        .tempfile_in(&dir)
        .map_err(|e| InputError::file(path, format!("cannot write: {}", io_reason(&e))))?;
    let (file, tmp_path) = tmp.into_parts();
    set_default_permissions(&file, path);
    let mut w = BufWriter::with_capacity(1 << 16, file);
    let value = write(&mut w)?;
    let file = w.into_inner().map_err(|e| SimError::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| SimError::io(path, e))?;
    tmp_path.persist(path).map_err(|e| SimError::io(path, e.error))?;
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
pub struct Chunked<'w, W: Write> {
    /// The pending bytes.
    pub buf: Vec<u8>,
    out: &'w mut W,
    path: &'w Path,
}

impl<'w, W: Write> Chunked<'w, W> {
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
        self.out.write_all(&self.buf).map_err(|e| SimError::io(self.path, e))?;
        self.buf.clear();
        Ok(())
    }
}
