//! `import csv`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ImportOptions, ImportReport};
use crate::error::SimError;

/// Imports `inputs` into `out`.
pub fn import(
    _opts: &ImportOptions,
    _inputs: &[PathBuf],
    _out: &mut dyn Write,
    _out_path: &Path,
) -> Result<ImportReport, SimError> {
    Err(super::not_yet("csv"))
}
