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
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{InputError, Location};

/// The longest line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

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
    buf: Vec<u8>,
    unquoted: Vec<u8>,
    /// Field byte ranges into `buf` (or into `unquoted` when `quoted` is set).
    fields: Vec<(usize, usize)>,
    quoted: bool,
    header: Vec<String>,
}

/// Opens `path` for reading, refusing directories with a clear message.
pub fn open_file(path: &Path) -> Result<BufReader<File>, InputError> {
    let meta =
        std::fs::metadata(path).map_err(|e| InputError::file(path, format!("cannot read: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(InputError::file(path, "is a directory, not a file"));
    }
    let f = File::open(path).map_err(|e| InputError::file(path, format!("cannot read: {}", io_reason(&e))))?;
    Ok(BufReader::with_capacity(1 << 16, f))
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

impl CsvReader<BufReader<File>> {
    /// Opens a CSV file and reads its header.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let src = open_file(path)?;
        CsvReader::new(src, path)
    }
}

impl<R: BufRead> CsvReader<R> {
    /// Wraps a reader (named `path` in errors) and reads the header row.
    pub fn new(src: R, path: &Path) -> Result<Self, InputError> {
        let mut r = CsvReader {
            src,
            path: path.to_path_buf(),
            line_no: 0,
            buf: Vec::with_capacity(256),
            unquoted: Vec::new(),
            fields: Vec::with_capacity(16),
            quoted: false,
            header: Vec::new(),
        };
        if !r.read_line()? {
            return Err(InputError::file(path, "is empty: a header row is required"));
        }
        if r.buf.starts_with(b"\xEF\xBB\xBF") {
            r.buf.drain(..3);
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
            if self.buf.iter().all(u8::is_ascii_whitespace) {
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
        let bytes = if self.quoted { &self.unquoted[s..e] } else { &self.buf[s..e] };
        std::str::from_utf8(bytes).map_err(|_| InputError {
            path: self.path.clone(),
            location: Location::Field(self.line_no, i + 1, name.to_string()),
            message: "is not valid UTF-8".into(),
        })
    }

    /// Reads one line into `buf` without its line end; `false` at end of file.
    fn read_line(&mut self) -> Result<bool, InputError> {
        self.buf.clear();
        let mut any = false;
        loop {
            let avail = match self.src.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(InputError::line(
                        &self.path,
                        self.line_no + 1,
                        format!("cannot read: {}", io_reason(&e)),
                    ))
                }
            };
            if avail.is_empty() {
                if !any {
                    return Ok(false);
                }
                break;
            }
            any = true;
            match memchr::memchr(b'\n', avail) {
                Some(i) => {
                    self.buf.extend_from_slice(&avail[..i]);
                    self.src.consume(i + 1);
                    break;
                }
                None => {
                    let n = avail.len();
                    self.buf.extend_from_slice(avail);
                    self.src.consume(n);
                }
            }
            if self.buf.len() > MAX_LINE_BYTES {
                return Err(InputError::line(
                    &self.path,
                    self.line_no + 1,
                    format!("line is longer than {MAX_LINE_BYTES} bytes"),
                ));
            }
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(InputError::line(
                &self.path,
                self.line_no + 1,
                format!("line is longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        self.line_no += 1;
        Ok(true)
    }

    /// Splits `buf` into fields.
    fn split(&mut self) -> Result<(), InputError> {
        self.fields.clear();
        if memchr::memchr(b'"', &self.buf).is_none() {
            self.quoted = false;
            let mut start = 0;
            for i in memchr::memchr_iter(b',', &self.buf) {
                self.fields.push((start, i));
                start = i + 1;
            }
            self.fields.push((start, self.buf.len()));
            return Ok(());
        }
        self.quoted = true;
        self.unquoted.clear();
        let b = &self.buf;
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
                        return Err(InputError {
                            path: self.path.clone(),
                            location: Location::Field(
                                self.line_no,
                                self.fields.len() + 1,
                                self.header.get(self.fields.len()).cloned().unwrap_or_default(),
                            ),
                            message: "unterminated quoted field (a quoted field may not span lines)".into(),
                        });
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
                    return Err(InputError {
                        path: self.path.clone(),
                        location: Location::Field(
                            self.line_no,
                            self.fields.len() + 1,
                            self.header.get(self.fields.len()).cloned().unwrap_or_default(),
                        ),
                        message: "unexpected text after a closing quote".into(),
                    });
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
    let mut r = CsvReader::new(BufReader::new(src), path)?;
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
