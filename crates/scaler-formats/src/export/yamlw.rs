//! A small deterministic YAML writer (block style, two-space indents, sequences at their
//! key's indent as `kubectl` prints them, strings double-quoted).

/// A YAML value to write.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Y {
    /// A plain scalar written as is (numbers, and words known to be plain).
    Plain(String),
    /// A string, written double-quoted.
    Str(String),
    /// A sequence.
    Seq(Vec<Y>),
    /// A mapping in order.
    Map(Vec<(String, Y)>),
    /// A value with a comment on its key's line.
    Note(Box<Y>, &'static str),
}

/// A mapping entry with a comment on its line.
pub(crate) trait Commented {
    /// This entry with `note` as a comment.
    fn commented(self, note: &'static str) -> Self;
}

impl Commented for (String, Y) {
    fn commented(self, note: &'static str) -> Self {
        (self.0, Y::Note(Box::new(self.1), note))
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && k.starts_with(|c: char| c.is_ascii_alphanumeric());
    if plain {
        k.to_string()
    } else {
        quote(k)
    }
}

impl Y {
    /// A string value.
    pub(crate) fn str(s: &str) -> Y {
        Y::Str(s.to_string())
    }

    fn scalar(&self) -> Option<String> {
        match self {
            Y::Plain(s) => Some(s.clone()),
            Y::Str(s) => Some(quote(s)),
            Y::Seq(v) if v.is_empty() => Some("[]".into()),
            Y::Map(m) if m.is_empty() => Some("{}".into()),
            _ => None,
        }
    }

    /// The document's text.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.block(0, &mut out);
        out
    }

    fn block(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Y::Map(m) => {
                for (k, v) in m {
                    let (v, note) = match v {
                        Y::Note(inner, n) => (inner.as_ref(), format!("  # {n}")),
                        other => (other, String::new()),
                    };
                    match v.scalar() {
                        Some(s) => out.push_str(&format!("{pad}{}: {s}{note}\n", key(k))),
                        None => {
                            out.push_str(&format!("{pad}{}:{note}\n", key(k)));
                            match v {
                                Y::Seq(_) => v.block(indent, out),
                                _ => v.block(indent + 2, out),
                            }
                        }
                    }
                }
            }
            Y::Seq(items) => {
                for item in items {
                    match item.scalar() {
                        Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                        None => {
                            let mut inner = String::new();
                            item.block(indent + 2, &mut inner);
                            // The first line's indent becomes "- ".
                            let body = inner.get(indent + 2..).unwrap_or("");
                            out.push_str(&format!("{pad}- {body}"));
                        }
                    }
                }
            }
            Y::Note(inner, n) => {
                out.push_str(&format!("{pad}# {n}\n"));
                inner.block(indent, out);
            }
            other => out.push_str(&format!("{pad}{}\n", other.scalar().unwrap_or_default())),
        }
    }
}
