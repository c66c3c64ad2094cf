//! YAML documents with the line and column of every value.
//!
//! Read with `saphyr` 0.3: it is maintained, implements YAML 1.2 (the core schema, so `no`
//! and `on` are strings, as in Kubernetes' own parser), reads multi-document streams
//! (`---`), bounds alias expansion, and its marked nodes carry their positions, so an error
//! names the line and column. (`serde_yaml`, the usual choice, is unmaintained.)
//!
//! Numbers keep the text written in the file (`0.10` stays `0.10`): they are read later
//! as exact decimals, never through a binary float.

use std::path::Path;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::error::{InputError, Location};

/// A YAML value.
#[derive(Clone, Debug, PartialEq)]
pub enum YValue {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its decimal text (`.inf` and `.nan` as written).
    Number(String),
    /// A string (a quoted `"70"` stays a string).
    Str(String),
    /// A sequence.
    Seq(Vec<YNode>),
    /// A mapping, keys in file order.
    Map(Vec<(String, YNode)>),
}

/// A YAML value and where it starts (1-based line and column).
#[derive(Clone, Debug, PartialEq)]
pub struct YNode {
    /// The value.
    pub value: YValue,
    /// Its line.
    pub line: u64,
    /// Its column.
    pub col: u64,
}

impl YValue {
    /// What kind of value this is, for messages.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            YValue::Null => "null",
            YValue::Bool(_) => "a boolean",
            YValue::Number(_) => "a number",
            YValue::Str(_) => "a string",
            YValue::Seq(_) => "a list",
            YValue::Map(_) => "a mapping",
        }
    }
}

impl YNode {
    /// The value of `key` when this is a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&YNode> {
        match &self.value {
            YValue::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value of `key`, unless it is absent or null.
    #[must_use]
    pub fn get_some(&self, key: &str) -> Option<&YNode> {
        self.get(key).filter(|n| n.value != YValue::Null)
    }

    /// The text of a string, or `None`.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            YValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The largest manifest read (4 MiB: a `kubectl get -o yaml` of one object is a few KiB).
pub const MAX_YAML_BYTES: u64 = 4 << 20;

/// Reads a YAML file (every document of it).
pub fn read(path: &Path) -> Result<(String, Vec<YNode>), InputError> {
    let cannot = |e: std::io::Error| InputError::file(path, format!("cannot read: {}", crate::csvio::io_reason(&e)));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(InputError::file(path, "is a directory, not a file"));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(path).map_err(cannot)?, MAX_YAML_BYTES + 1),
        &mut bytes,
    )
    .map_err(cannot)?;
    if bytes.len() as u64 > MAX_YAML_BYTES {
        return Err(InputError::file(
            path,
            format!("is larger than {} MiB: a manifest is a small YAML file", MAX_YAML_BYTES >> 20),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        InputError::file(path, format!("is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
    })?;
    let docs = parse(path, &text)?;
    Ok((text, docs))
}

/// Parses YAML text named `path` in errors.
pub fn parse(path: &Path, text: &str) -> Result<Vec<YNode>, InputError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| {
        let m = e.marker();
        InputError {
            path: path.to_path_buf(),
            location: Location::LineCol(m.line() as u64, m.col() as u64 + 1),
            message: format!("invalid YAML: {}", e.info()),
        }
    })?;
    // Character index -> byte offset, for the literal text of numbers.
    let offsets: Option<Vec<usize>> = (!text.is_ascii()).then(|| text.char_indices().map(|(b, _)| b).collect());
    let conv = Conv { path, text, offsets };
    docs.iter().map(|d| conv.node(d, 0)).collect()
}

/// The deepest nesting read (a guard against a stack overflow on hostile input).
const MAX_DEPTH: usize = 64;

struct Conv<'a> {
    path: &'a Path,
    text: &'a str,
    offsets: Option<Vec<usize>>,
}

impl Conv<'_> {
    fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.text.len()),
            Some(o) => o.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    fn node(&self, n: &MarkedYaml<'_>, depth: usize) -> Result<YNode, InputError> {
        let (line, col) = (n.span.start.line() as u64, n.span.start.col() as u64 + 1);
        let err = |msg: String| InputError {
            path: self.path.to_path_buf(),
            location: Location::LineCol(line, col),
            message: msg,
        };
        if depth > MAX_DEPTH {
            return Err(err(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let value = match &n.data {
            YamlData::Value(s) => self.scalar(s, n),
            YamlData::Representation(text, _, _) => YValue::Str(text.to_string()),
            YamlData::Tagged(_, inner) => return self.node(inner, depth + 1),
            YamlData::Sequence(items) => {
                YValue::Seq(items.iter().map(|i| self.node(i, depth + 1)).collect::<Result<_, _>>()?)
            }
            YamlData::Mapping(m) => {
                let mut out = Vec::with_capacity(m.len());
                for (k, v) in m {
                    let key = match self.node(k, depth + 1)?.value {
                        YValue::Str(s) | YValue::Number(s) => s,
                        YValue::Bool(b) => b.to_string(),
                        YValue::Null => "null".to_string(),
                        other => return Err(err(format!("a mapping key must be a scalar, not {}", other.kind()))),
                    };
                    out.push((key, self.node(v, depth + 1)?));
                }
                YValue::Map(out)
            }
            YamlData::Alias(_) | YamlData::BadValue => return Err(err("unresolved alias or bad value".to_string())),
        };
        Ok(YNode { value, line, col })
    }

    fn scalar(&self, s: &Scalar<'_>, n: &MarkedYaml<'_>) -> YValue {
        match s {
            Scalar::Null => YValue::Null,
            Scalar::Boolean(b) => YValue::Bool(*b),
            Scalar::Integer(i) => YValue::Number(i.to_string()),
            Scalar::FloatingPoint(f) => {
                let raw = self.text.get(self.byte(n.span.start.index())..self.byte(n.span.end.index())).unwrap_or("");
                let raw = raw.trim();
                let decimal = !raw.is_empty()
                    && raw.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
                    && raw.parse::<f64>().ok() == Some(f.into_inner());
                if decimal {
                    YValue::Number(raw.trim_start_matches('+').to_string())
                } else if f.is_finite() {
                    YValue::Number(format!("{}", f.into_inner()))
                } else {
                    YValue::Number(raw.to_string())
                }
            }
            Scalar::String(t) => YValue::Str(t.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text_and_quoted_numbers_are_strings() {
        let docs = parse(Path::new("t.yaml"), "a: 0.10\nb: '70'\nc: 7\nd: é\ne: 1.50\n---\nx: [1, 2]\n").unwrap();
        assert_eq!(docs.len(), 2);
        let d = &docs[0];
        assert_eq!(d.get("a").unwrap().value, YValue::Number("0.10".into()));
        assert_eq!(d.get("b").unwrap().value, YValue::Str("70".into()));
        assert_eq!(d.get("c").unwrap().value, YValue::Number("7".into()));
        assert_eq!(d.get("e").unwrap().value, YValue::Number("1.50".into()));
        assert_eq!((d.get("c").unwrap().line, d.get("c").unwrap().col), (3, 4));
        let e = parse(Path::new("t.yaml"), "a: [1,\n").unwrap_err().to_string();
        assert!(e.starts_with("t.yaml:") && e.contains("invalid YAML"), "{e}");
    }
}
