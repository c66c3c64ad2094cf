//! A small, fast, streaming CSV reader for the project's formats (SPEC section 5).
//!
//! - a header row is required (a file without one is refused); columns may come
//!   in any order; extra columns are ignored; a duplicated column is refused;
//! - a UTF-8 byte-order mark is ignored; CRLF line ends are accepted; blank
//!   lines are skipped;
//! - fields may be quoted (`"12"`, with `""` for a quote inside); a quoted field
//!   may not span lines;
//! - a row must have as many fields as the header;
//! - a line longer than [`MAX_LINE_BYTES`] is refused instead of being buffered.
//!
//! Errors carry the file, the line (the header is line 1) and the column.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{InputError, Location};

/// The longest line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How much is read from the file at a time.
const CHUNK_BYTES: usize = 1 << 18;

/// What [`CsvReader::next_row`] found.
#[derive(Debug)]
pub enum Next {
    /// The end of the file.
    End,
    /// A well-formed row, readable with [`CsvReader::get`].
    Row,
    /// A malformed row (wrong field count, broken quoting).
    Bad(InputError),
}

/// Reads CSV records one at a time, reusing its buffers.
pub struct CsvReader<R> {
    src: R,
    path: PathBuf,
    line_no: u64,
    /// Bytes read from `src`: `chunk[pos..end]` is not consumed yet.
    chunk: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    /// The current line is the file's last and has no line end (a torn write).
    unterminated: bool,
    /// The current line, without its line end, as a range of `chunk`.
    line: (usize, usize),
    unquoted: Vec<u8>,
    /// Field byte ranges into the line (or into `unquoted` when `quoted` is set).
    fields: Vec<(usize, usize)>,
    quoted: bool,
    header: Vec<String>,
}

/// Opens `path` for reading, refusing directories with a clear message.
pub fn open_file(path: &Path) -> Result<File, InputError> {
    let meta =
        std::fs::metadata(path).map_err(|e| InputError::file(path, format!("cannot read: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(InputError::file(path, "is a directory, not a file"));
    }
    File::open(path).map_err(|e| InputError::file(path, format!("cannot read: {}", io_reason(&e))))
}

/// The system's message without Rust's " (os error N)" suffix.
#[must_use]
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl CsvReader<File> {
    /// Opens a CSV file and reads its header.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let src = open_file(path)?;
        CsvReader::new(src, path)
    }
}

impl<R: Read> CsvReader<R> {
    /// Wraps a reader (named `path` in errors) and reads the header row.
    pub fn new(src: R, path: &Path) -> Result<Self, InputError> {
        let mut r = CsvReader {
            src,
            path: path.to_path_buf(),
            line_no: 0,
            chunk: vec![0; CHUNK_BYTES],
            pos: 0,
            end: 0,
            eof: false,
            unterminated: false,
            line: (0, 0),
            unquoted: Vec::new(),
            fields: Vec::with_capacity(16),
            quoted: false,
            header: Vec::new(),
        };
        if !r.read_line()? {
            return Err(InputError::file(path, "is empty: a header row is required"));
        }
        if r.line_bytes().starts_with(b"\xEF\xBB\xBF") {
            r.line.0 += 3;
        }
        r.split()?;
        let mut header = Vec::with_capacity(r.fields.len());
        for i in 0..r.fields.len() {
            let name = r.field_str(i, "header")?.trim().to_string();
            if name.is_empty() {
                return Err(InputError {
                    path: r.path.clone(),
                    location: Location::Field(1, i + 1, String::new()),
                    message: "empty column name in header".into(),
                });
            }
            if header.contains(&name) {
                return Err(InputError {
                    path: r.path.clone(),
                    location: Location::Field(1, i + 1, name.clone()),
                    message: format!("duplicate column `{name}` in header"),
                });
            }
            header.push(name);
        }
        r.header = header;
        Ok(r)
    }

    /// The header's column names.
    #[must_use]
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The file's name as given.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index of column `name`, if the header has it.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The indices of `names`, or an error naming the first missing column.
    pub fn require<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], InputError> {
        let mut out = [0; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = self.column(name).ok_or_else(|| {
                InputError::line(
                    &self.path,
                    1,
                    format!(
                        "missing column `{name}` (the header has: {}; required: {})",
                        self.header.join(","),
                        names.join(",")
                    ),
                )
            })?;
        }
        Ok(out)
    }

    /// Advances to the next non-blank row.
    ///
    /// An `Err` is fatal (the file cannot be read on); [`Next::Bad`] is a
    /// malformed row that a caller may skip.
    pub fn next_row(&mut self) -> Result<Next, InputError> {
        loop {
            if !self.read_line()? {
                return Ok(Next::End);
            }
            if self.line_bytes().iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if let Err(e) = self.split() {
                return Ok(Next::Bad(e));
            }
            if self.fields.len() != self.header.len() {
                return Ok(Next::Bad(InputError::line(
                    &self.path,
                    self.line_no,
                    format!("row has {} fields but the header has {}", self.fields.len(), self.header.len()),
                )));
            }
            return Ok(Next::Row);
        }
    }

    /// True when the current row is the file's last and has no line end: what a crash or a
    /// full disk leaves of a row being written.
    #[must_use]
    pub fn unterminated(&self) -> bool {
        self.unterminated
    }

    /// The current row's line number.
    #[must_use]
    pub fn line(&self) -> u64 {
        self.line_no
    }

    /// Field `i` of the current row, trimmed of surrounding blanks.
    pub fn get(&self, i: usize) -> Result<&str, InputError> {
        let name = self.header.get(i).map_or("", String::as_str);
        Ok(self.field_str(i, name)?.trim_matches([' ', '\t']))
    }

    /// Field `i` of the current row as bytes, trimmed of surrounding blanks (no UTF-8 check).
    #[must_use]
    pub fn get_bytes(&self, i: usize) -> &[u8] {
        let (s, e) = self.fields[i];
        let mut b = if self.quoted { &self.unquoted[s..e] } else { &self.line_bytes()[s..e] };
        while let [b' ' | b'\t', rest @ ..] = b {
            b = rest;
        }
        while let [rest @ .., b' ' | b'\t'] = b {
            b = rest;
        }
        b
    }

    /// An error about field `i` of the current row.
    #[must_use]
    pub fn field_error(&self, i: usize, message: impl Into<String>) -> InputError {
        InputError {
            path: self.path.clone(),
            location: Location::Field(self.line_no, i + 1, self.header.get(i).cloned().unwrap_or_default()),
            message: message.into(),
        }
    }

    fn field_str(&self, i: usize, name: &str) -> Result<&str, InputError> {
        let (s, e) = self.fields[i];
        let bytes = if self.quoted { &self.unquoted[s..e] } else { &self.line_bytes()[s..e] };
        std::str::from_utf8(bytes).map_err(|_| InputError {
            path: self.path.clone(),
            location: Location::Field(self.line_no, i + 1, name.to_string()),
            message: "is not valid UTF-8".into(),
        })
    }

    /// The current line's bytes.
    fn line_bytes(&self) -> &[u8] {
        &self.chunk[self.line.0..self.line.1]
    }

    /// Finds the next line in `chunk`, reading more as needed; `false` at end of file.
    fn read_line(&mut self) -> Result<bool, InputError> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.chunk[self.pos..self.end]) {
                self.line = (self.pos, self.pos + i);
                self.pos += i + 1;
                self.unterminated = false;
                break;
            }
            if self.end - self.pos > MAX_LINE_BYTES {
                return Err(InputError::line(
                    &self.path,
                    self.line_no + 1,
                    format!("line is longer than {MAX_LINE_BYTES} bytes"),
                ));
            }
            if self.eof {
                if self.pos == self.end {
                    return Ok(false);
                }
                self.line = (self.pos, self.end);
                self.pos = self.end;
                self.unterminated = true;
                break;
            }
            // Keep the partial line, make room, read more.
            self.chunk.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            if self.end == self.chunk.len() {
                let grown = (self.chunk.len() * 2).min(MAX_LINE_BYTES + CHUNK_BYTES);
                self.chunk.resize(grown, 0);
            }
            match self.src.read(&mut self.chunk[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(InputError::line(
                        &self.path,
                        self.line_no + 1,
                        format!("cannot read: {}", io_reason(&e)),
                    ));
                }
            }
        }
        if self.line.1 > self.line.0 && self.chunk[self.line.1 - 1] == b'\r' {
            self.line.1 -= 1;
        }
        if self.line.1 - self.line.0 > MAX_LINE_BYTES {
            return Err(InputError::line(
                &self.path,
                self.line_no + 1,
                format!("line is longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
        self.line_no += 1;
        Ok(true)
    }

    /// An error about the field being split (the next one after those already found).
    fn split_error(&self, message: &str) -> InputError {
        let i = self.fields.len();
        InputError {
            path: self.path.clone(),
            location: Location::Field(self.line_no, i + 1, self.header.get(i).cloned().unwrap_or_default()),
            message: message.into(),
        }
    }

    /// Splits the current line into fields.
    fn split(&mut self) -> Result<(), InputError> {
        self.fields.clear();
        let line = &self.chunk[self.line.0..self.line.1];
        // One pass for the common unquoted line; a quote anywhere switches to the full parser.
        let mut start = 0;
        let mut has_quote = false;
        for (i, &c) in line.iter().enumerate() {
            if c == b',' {
                self.fields.push((start, i));
                start = i + 1;
            } else if c == b'"' {
                has_quote = true;
                break;
            }
        }
        if !has_quote {
            self.quoted = false;
            self.fields.push((start, line.len()));
            return Ok(());
        }
        self.fields.clear();
        self.quoted = true;
        self.unquoted.clear();
        let b = line;
        let mut i = 0;
        loop {
            // One field starting at i.
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            let start = self.unquoted.len();
            if i < b.len() && b[i] == b'"' {
                i += 1;
                loop {
                    if i >= b.len() {
                        return Err(self.split_error("unterminated quoted field (a quoted field may not span lines)"));
                    }
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            self.unquoted.push(b'"');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    self.unquoted.push(b[i]);
                    i += 1;
                }
                while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                    i += 1;
                }
                if i < b.len() && b[i] != b',' {
                    return Err(self.split_error("unexpected text after a closing quote"));
                }
            } else {
                while i < b.len() && b[i] != b',' {
                    self.unquoted.push(b[i]);
                    i += 1;
                }
            }
            self.fields.push((start, self.unquoted.len()));
            if i >= b.len() {
                break;
            }
            i += 1; // the comma
        }
        Ok(())
    }
}

/// Reads a whole CSV reader's remaining rows (for small files and tests).
pub fn read_all_rows<R: Read>(src: R, path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), InputError> {
    let mut r = CsvReader::new(src, path)?;
    let mut rows = Vec::new();
    loop {
        match r.next_row()? {
            Next::End => break,
            Next::Bad(e) => return Err(e),
            Next::Row => {}
        }
        let row = (0..r.header().len()).map(|i| r.get(i).map(str::to_string)).collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    Ok((r.header().to_vec(), rows))
}
