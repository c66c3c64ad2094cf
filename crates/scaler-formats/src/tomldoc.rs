//! TOML documents with the position of every key and value, so that an error
//! in a scenario or configuration names its line and column.
//!
//! Numbers keep the literal text the user wrote: `1.0005` is read as a decimal,
//! never through a binary float.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::csvio::io_reason;
use scaler_core::suggest;

use crate::error::{line_col, InputError, Location};

/// A TOML value with its literal numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An integer, as decimal text.
    Integer(String),
    /// A float, as written (underscores removed).
    Float(String),
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// A date or time (not used by the project; kept to report it).
    Datetime(String),
    /// An array.
    Array(Vec<Node>),
    /// A table, keys in file order.
    Table(Table),
}

impl Value {
    /// What kind of value this is, for messages.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }

    /// The decimal text of a number.
    #[must_use]
    pub fn number_text(&self) -> Option<&str> {
        match self {
            Value::Integer(t) | Value::Float(t) => Some(t),
            _ => None,
        }
    }
}

/// A value and where it stands in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Its byte range in the file.
    pub span: Range<usize>,
    /// The command-line argument it came from (`--set k=v`), instead of the file.
    pub origin: Option<String>,
}

/// A table's entries: key, the key's byte range, and the value.
pub type Table = Vec<(String, Range<usize>, Node)>;

/// The largest scenario or configuration file read (16 MiB).
pub const MAX_TOML_BYTES: u64 = 16 << 20;

/// A parsed TOML file.
#[derive(Clone, Debug)]
pub struct Doc {
    /// The file as the user named it.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The root table.
    pub root: Table,
}

impl Doc {
    /// Reads and parses a TOML file.
    pub fn read(path: &Path) -> Result<Doc, InputError> {
        let meta =
            std::fs::metadata(path).map_err(|e| InputError::file(path, format!("cannot read: {}", io_reason(&e))))?;
        if meta.is_dir() {
            return Err(InputError::file(path, "is a directory, not a file"));
        }
        // A scenario is a small file: read at most MAX_TOML_BYTES (a path such as /dev/zero
        // must not be read forever).
        let cannot = |e: std::io::Error| InputError::file(path, format!("cannot read: {}", io_reason(&e)));
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::fs::File::open(path).map_err(cannot)?, MAX_TOML_BYTES + 1),
            &mut bytes,
        )
        .map_err(cannot)?;
        if bytes.len() as u64 > MAX_TOML_BYTES {
            return Err(InputError::file(
                path,
                format!(
                    "is larger than {} MiB: a scenario or configuration is a small TOML file",
                    MAX_TOML_BYTES >> 20
                ),
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            InputError::file(
                path,
                format!("is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
            )
        })?;
        Doc::parse(path, text)
    }

    /// Parses TOML text named `path` in errors.
    pub fn parse(path: &Path, text: String) -> Result<Doc, InputError> {
        let root = {
            let parsed = DeTable::parse(&text).map_err(|e| {
                let (line, col) = e.span().map_or((1, 1), |s| line_col(&text, s.start));
                let msg = e.message().trim().replace('\n', " ");
                InputError {
                    path: path.to_path_buf(),
                    location: Location::LineCol(line, col),
                    message: format!("invalid TOML: {msg}"),
                }
            })?;
            convert_table(parsed.get_ref())
        };
        Ok(Doc { path: path.to_path_buf(), text, root })
    }

    /// An error at a byte offset of the file.
    #[must_use]
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> InputError {
        let (line, col) = line_col(&self.text, offset);
        InputError { path: self.path.clone(), location: Location::LineCol(line, col), message: message.into() }
    }

    /// An error about a value: at its line and column, or naming the `--set` argument it came from.
    #[must_use]
    pub fn error_node(&self, node: &Node, message: impl Into<String>) -> InputError {
        match &node.origin {
            Some(arg) => InputError::file(std::path::Path::new(arg), message),
            None => self.error_at(node.span.start, message),
        }
    }

    /// Applies `--set table.key=value`: the value is read as TOML (a bare word as a string)
    /// and replaces or adds the key, creating the table if needed. A part of the key with a
    /// dot in it is quoted, as in TOML: `scaler.kpa."autoscaling.knative.dev/window"=60s`.
    pub fn set_override(&mut self, assignment: &str) -> Result<(), InputError> {
        let arg = format!("--set {assignment}");
        let Some((key, text)) = split_assignment(assignment) else {
            let why = if assignment.matches('"').count() % 2 == 1 {
                "a quoted part of the key is not closed"
            } else {
                "expected table.key=value"
            };
            return Err(InputError::file(Path::new(&arg), why));
        };
        let Some(owned) = key_path(key.trim()) else {
            return Err(InputError::file(Path::new(&arg), "a quoted part of the key is not closed"));
        };
        let parts: Vec<&str> = owned.iter().map(String::as_str).collect();
        if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
            return Err(InputError::file(Path::new(&arg), "expected table.key=value, e.g. scaler.cooldown_period=120"));
        }
        let text = text.trim();
        let value = match Doc::parse(Path::new(&arg), format!("v = {text}")) {
            Ok(d) if d.root.len() == 1 => {
                d.root.into_iter().next().map(|(_, _, n)| n.value).unwrap_or(Value::String(text.into()))
            }
            _ => Value::String(text.to_string()),
        };
        let mut node = Node { value, span: 0..0, origin: Some(arg.clone()) };
        mark_origin(&mut node, &arg);
        let mut table = &mut self.root;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let pos = table.iter().position(|(k, _, _)| k == part);
            if last {
                match pos {
                    Some(p) => table[p].2 = node,
                    None => table.push(((*part).to_string(), 0..0, node)),
                }
                return Ok(());
            }
            let p = match pos {
                Some(p) => p,
                None => {
                    let origin = Some(arg.clone());
                    table.push((
                        (*part).to_string(),
                        0..0,
                        Node { value: Value::Table(Vec::new()), span: 0..0, origin },
                    ));
                    table.len() - 1
                }
            };
            match &mut table[p].2.value {
                Value::Table(t) => table = t,
                other => {
                    let kind = other.kind();
                    return Err(InputError::file(
                        Path::new(&arg),
                        format!("`{}` is {kind}, not a table", parts[..=i].join(".")),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The entry `name` of the root table.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&(String, Range<usize>, Node)> {
        self.root.iter().find(|(k, _, _)| k == name)
    }

    /// Refuses any root key not in `known`, naming the closest known one.
    pub fn allow_only(&self, known: &[&str]) -> Result<(), InputError> {
        for (k, span, node) in &self.root {
            if !known.contains(&k.as_str()) {
                let msg = format!("unknown table or key `{k}`{}", suggest(k, known));
                return Err(match node.origin {
                    Some(_) => self.error_node(node, msg),
                    None => self.error_at(span.start, msg),
                });
            }
        }
        Ok(())
    }
}

fn mark_origin(node: &mut Node, arg: &str) {
    node.origin = Some(arg.to_string());
    match &mut node.value {
        Value::Table(t) => t.iter_mut().for_each(|(_, _, n)| mark_origin(n, arg)),
        Value::Array(a) => a.iter_mut().for_each(|n| mark_origin(n, arg)),
        _ => {}
    }
}

fn convert_table(t: &DeTable<'_>) -> Table {
    t.iter()
        .map(|(k, v)| {
            (
                k.get_ref().to_string(),
                k.span(),
                Node { value: convert_value(v.get_ref()), span: v.span(), origin: None },
            )
        })
        .collect()
}

fn convert_value(v: &DeValue<'_>) -> Value {
    match v {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            let raw = i.as_str().replace('_', "");
            let text = if i.radix() == 10 {
                raw
            } else {
                i64::from_str_radix(
                    raw.trim_start_matches("0x").trim_start_matches("0o").trim_start_matches("0b"),
                    i.radix(),
                )
                .map_or(raw, |n| n.to_string())
            };
            Value::Integer(text)
        }
        DeValue::Float(f) => Value::Float(f.as_str().replace('_', "")),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(a) => Value::Array(
            a.iter().map(|n| Node { value: convert_value(n.get_ref()), span: n.span(), origin: None }).collect(),
        ),
        DeValue::Table(t) => Value::Table(convert_table(t)),
    }
}

/// A dotted key's parts, a `"quoted"` part taken whole (`scaler.kpa."a.b/c"` is
/// `["scaler", "kpa", "a.b/c"]`); `None` when a quote is not closed.
#[must_use]
pub fn key_path(key: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => loop {
                match chars.next()? {
                    '"' => break,
                    q => cur.push(q),
                }
            },
            '.' => parts.push(std::mem::take(&mut cur)),
            other => cur.push(other),
        }
    }
    parts.push(cur);
    Some(parts)
}

/// A key part as a dotted key writes it: bare when it is a bare TOML key
/// (`A-Za-z0-9_-`), quoted otherwise (`"autoscaling.knative.dev/window"`).
#[must_use]
pub fn key_part(part: &str) -> String {
    if !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        part.to_string()
    } else {
        format!("\"{part}\"")
    }
}

/// `key=value`, split at the first `=` outside a quoted part of the key.
fn split_assignment(s: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '=' if !quoted => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}
