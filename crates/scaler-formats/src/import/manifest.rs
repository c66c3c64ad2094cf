//! `import hpa|keda|kpa`: a Kubernetes manifest as written, into a `[scaler]` table.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Format, ImportOptions, ImportReport};
use crate::error::{InputError, SimError};
use crate::manifest::{self, System};

/// Imports the manifest(s) in `inputs` into a `[scaler]` table on `out`.
///
/// The table is validated (the configuration is built) before anything is written: a
/// manifest whose values break a rule is refused with the field's line and column.
pub fn import(
    format: Format,
    opts: &ImportOptions,
    inputs: &[PathBuf],
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<ImportReport, SimError> {
    let system = match format {
        Format::Hpa => System::Hpa,
        Format::Keda => System::Keda,
        _ => System::Kpa,
    };
    refuse_options(format, opts)?;
    let m = manifest::read(inputs, Some(system))?;
    m.config()?;
    let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    let text = m.to_toml(&format!("scaler-sim import {} {}", format.as_str(), names.join(" ")));
    out.write_all(text.as_bytes()).map_err(|e| SimError::io(out_path, "write", e))?;
    let mut notices = m.notices.clone();
    for (k, v, why) in &m.defaults {
        notices.push(format!("{k} = {v} (default: {why})"));
    }
    Ok(ImportReport {
        wrote: "[scaler] table",
        read: m.documents,
        written: (m.entries.len() + m.defaults.len()) as u64,
        left_out: m.left_out.clone(),
        origin_unix_ms: None,
        notices,
    })
}

/// A manifest import takes no options: each given one is refused, naming it.
fn refuse_options(format: Format, o: &ImportOptions) -> Result<(), SimError> {
    let given = [
        ("--as", o.shape.is_some()),
        ("--counts", o.counts),
        ("--select", !o.select.is_empty()),
        ("--column", !o.columns.is_empty()),
        ("--accept-partial", o.accept_partial),
        ("--labels", !o.labels.is_empty()),
        ("--time-column", o.time_column.is_some()),
        ("--time-format", o.time_format.is_some()),
        ("--time-zone", o.time_zone.is_some()),
        ("--value-column", o.value_column.is_some()),
        ("--step-s", o.step_s.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
        let arg = format!("import {}", format.as_str());
        return Err(InputError::file(
            Path::new(&arg),
            format!("{flag} does not apply: a manifest import writes a [scaler] table and takes no options"),
        )
        .into());
    }
    Ok(())
}
