//! Errors that point at the input that caused them: file, line, column, rule.

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::path::{Path, PathBuf};

use scaler_model::ModelError;

/// Where in an input file something went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (cannot open, not a file, ...).
    File,
    /// A line (1-based; the header is line 1).
    Line(u64),
    /// A line and a character column (1-based), as in TOML files.
    LineCol(u64, u64),
    /// A CSV field: line, 1-based column number and the column's header name.
    Field(u64, usize, String),
    /// A place in a JSON or YAML document, as a path from its root (`data.result[3].values[7]`).
    Path(String),
}

/// Bad input: one clear line that names the file, the place and the rule broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    /// The file as the user named it.
    pub path: PathBuf,
    /// Where in the file.
    pub location: Location,
    /// What is wrong, and the rule it breaks.
    pub message: String,
}

impl InputError {
    /// An error about the file as a whole.
    pub fn file(path: &Path, message: impl Into<String>) -> InputError {
        InputError { path: path.to_path_buf(), location: Location::File, message: message.into() }
    }

    /// An error at a line.
    pub fn line(path: &Path, line: u64, message: impl Into<String>) -> InputError {
        InputError { path: path.to_path_buf(), location: Location::Line(line), message: message.into() }
    }

    /// An error at a place in a JSON or YAML document (`data.result[3].values[7]`).
    pub fn at_path(path: &Path, at: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError { path: path.to_path_buf(), location: Location::Path(at.into()), message: message.into() }
    }

    /// The line the error is on, if any.
    #[must_use]
    pub fn line_number(&self) -> Option<u64> {
        match self.location {
            Location::File | Location::Path(_) => None,
            Location::Line(l) | Location::LineCol(l, _) | Location::Field(l, _, _) => Some(l),
        }
    }
}

/// `text` with every control character (C0, DEL, C1: `\0`, `\n`, ESC, ...) escaped as Rust
/// writes it in a string literal (`\0`, `\n`, `\u{1b}`), so that text taken from an input
/// can neither move the cursor, recolour the terminal nor forge a line of output.
#[must_use]
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

impl fmt::Display for InputError {
    /// One line; the path, the column name and the message (which may quote the input)
    /// have their control characters escaped ([`escape_control`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display().to_string();
        let p = escape_control(&path);
        let m = escape_control(&self.message);
        match &self.location {
            Location::File => write!(f, "{p}: {m}"),
            Location::Line(l) => write!(f, "{p}:{l}: {m}"),
            Location::LineCol(l, c) => write!(f, "{p}:{l}:{c}: {m}"),
            Location::Field(l, c, name) => write!(f, "{p}:{l}: column {c} ({}): {m}", escape_control(name)),
            Location::Path(at) => write!(f, "{p}: at {}: {m}", escape_control(at)),
        }
    }
}

/// Any failure of a simulator command.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The input is invalid.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The simulation broke one of its own invariants: a bug, to be reported with the seed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Reading or writing failed.
    #[error("{}: cannot {doing}: {source}", escape_control(&path.display().to_string()))]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What was being done (`write`, `read`, `sync`, ...).
        doing: &'static str,
        /// What the system said.
        source: std::io::Error,
    },
}

impl From<Infallible> for SimError {
    fn from(never: Infallible) -> SimError {
        match never {}
    }
}

impl SimError {
    /// A broken invariant (reported as the model reports its own).
    #[must_use]
    pub fn invariant(what: String) -> SimError {
        SimError::Model(ModelError::Invariant(what))
    }

    /// An IO failure on `path` while doing `doing` (a verb phrase: "write", "read").
    pub fn io(path: &Path, doing: &'static str, source: std::io::Error) -> SimError {
        SimError::Io { path: path.to_path_buf(), doing, source }
    }
}

/// Converts a byte offset in `text` to a 1-based line and character column.
#[must_use]
pub fn line_col(text: &str, offset: usize) -> (u64, u64) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..]).chars().count() as u64 + 1;
    (line, col)
}
