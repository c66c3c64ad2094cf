//! Scenario files (SPEC section 7). For now: the `[scaler]` table, which is
//! also what `replay --config` reads.

use std::collections::BTreeMap;
use std::path::Path;

use scaler_core::{ConfigError, ConfigValue, ScalerConfig};

use crate::error::InputError;
use crate::tomldoc::{Doc, Node, Table, Value};

/// The root tables a scenario file may have.
pub const TABLES: &[&str] = &["trace", "cluster", "scaler"];

/// Reads the `[scaler]` table of a scenario or configuration file.
pub fn read_scaler_config(path: &Path) -> Result<ScalerConfig, InputError> {
    let doc = Doc::read(path)?;
    doc.allow_only(TABLES)?;
    scaler_config(&doc)
}

/// Builds the configuration from the document's `[scaler]` table (defaults when absent).
pub fn scaler_config(doc: &Doc) -> Result<ScalerConfig, InputError> {
    let Some((_, key_span, node)) = doc.get("scaler") else {
        return ScalerConfig::builder().build().map_err(|e| doc.error_at(0, e.prefixed("scaler.").to_string()));
    };
    let Value::Table(table) = &node.value else {
        return Err(doc.error_at(node.span.start, format!("`scaler` must be a table, not {}", node.value.kind())));
    };
    let mut b = ScalerConfig::builder();
    for (key, kspan, v) in table {
        let value = config_value(doc, key, v)?;
        if let Err(e) = b.set(key, &value) {
            let at = match &e {
                ConfigError::UnknownKey { key: k, .. } => locate(table, k).map_or(kspan.start, |(ks, _)| ks),
                ConfigError::Invalid { key: k, .. } => locate(table, k).map_or(v.span.start, |(_, vs)| vs),
            };
            return Err(doc.error_at(at, e.prefixed("scaler.").to_string()));
        }
    }
    b.build().map_err(|e| {
        let at = locate(table, e.key()).map_or(key_span.start, |(_, vs)| vs);
        doc.error_at(at, e.prefixed("scaler.").to_string())
    })
}

/// The key and value offsets of a (possibly dotted) key in a table.
fn locate(table: &Table, key: &str) -> Option<(usize, usize)> {
    let (head, rest) = key.split_once('.').map_or((key, None), |(h, r)| (h, Some(r)));
    let (_, ks, node) = table.iter().find(|(k, _, _)| k == head)?;
    match (rest, &node.value) {
        (None, _) => Some((ks.start, node.span.start)),
        (Some(r), Value::Table(t)) => locate(t, r).or(Some((ks.start, node.span.start))),
        (Some(_), _) => Some((ks.start, node.span.start)),
    }
}

/// Converts a TOML node to a configuration value, keeping number literals exact.
pub fn config_value(doc: &Doc, key: &str, node: &Node) -> Result<ConfigValue, InputError> {
    Ok(match &node.value {
        Value::Integer(t) | Value::Float(t) => ConfigValue::Number(t.clone()),
        Value::String(s) => ConfigValue::String(s.clone()),
        Value::Bool(b) => ConfigValue::Bool(*b),
        Value::Table(t) => {
            let mut m = BTreeMap::new();
            for (k, _, v) in t {
                m.insert(k.clone(), config_value(doc, &format!("{key}.{k}"), v)?);
            }
            ConfigValue::Table(m)
        }
        Value::Array(_) | Value::Datetime(_) => {
            return Err(doc.error_at(node.span.start, format!("scaler.{key}: must not be {}", node.value.kind())))
        }
    })
}

/// Parses a command-line value (`120`, `0.5`, `"mean"`, `mean`, `{ percent = 10 }`) as TOML,
/// falling back to a bare string.
pub fn parse_cli_value(text: &str) -> ConfigValue {
    let doc = Doc::parse(Path::new("--set"), format!("v = {text}"));
    match doc {
        Ok(d) => match d.root.first() {
            Some((_, _, node)) => config_value(&d, "v", node).unwrap_or_else(|_| ConfigValue::String(text.to_string())),
            None => ConfigValue::String(text.to_string()),
        },
        Err(_) => ConfigValue::String(text.to_string()),
    }
}
