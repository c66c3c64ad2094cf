//! `import hpa|keda|kpa`: a Kubernetes manifest as written, into a `[scaler]` table.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Format, ImportOptions, ImportReport};
use crate::error::SimError;

/// Imports the manifest(s) in `inputs` into a `[scaler]` table on `out`.
pub fn import(
    _format: Format,
    _opts: &ImportOptions,
    _inputs: &[PathBuf],
    _out: &mut dyn Write,
    _out_path: &Path,
) -> Result<ImportReport, SimError> {
    Err(super::not_yet("manifest"))
}
