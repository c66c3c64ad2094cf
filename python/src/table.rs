//! [`Table`]: a CSV file the project wrote (decisions, timeline, observations, results),
//! held as its exact bytes and read into Python values on demand, so that a million-row
//! replay costs no Python object until a row is asked for.

use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList, PySlice, PyString};

/// How a column's cells become Python values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Text (`action`, `reason`, a swept value such as `{ percent = 50, min = 1 }`).
    Text,
    /// A whole number (worker and task counts).
    Int,
    /// A number (times, utilizations, cost); an integer-looking cell is still a float.
    Float,
    /// A number if it reads as one, else text.
    Auto,
}

fn kind_of(name: &str) -> Kind {
    match name {
        "action" | "reason" | "frontier" => Kind::Text,
        "target_workers" | "current_workers" | "pending_tasks" | "running_tasks" | "ready" | "provisioning"
        | "draining" | "ready_workers" | "busy_slots" | "total_slots" | "setting" | "tasks" | "scale_ups"
        | "scale_downs" | "max_workers" | "runs" => Kind::Int,
        "timestamp_s" | "time_s" | "worker_utilization" | "window_utilization" | "cost" | "avg_task_duration_s" => {
            Kind::Float
        }
        _ => Kind::Auto,
    }
}

/// Splits one CSV line (no line end) into cells, honouring double quotes.
fn split_cells(line: &str) -> Vec<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    if !line.contains('"') {
        return line.split(',').map(Cow::Borrowed).collect();
    }
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(Cow::Owned(std::mem::take(&mut cur))),
            (c, _) => cur.push(c),
        }
    }
    cells.push(Cow::Owned(cur));
    cells
}

/// A table of rows: the decisions of `replay`, the timeline and observations of
/// `simulate`, the results of `sweep`.
///
/// It is a sequence of dicts (`len(t)`, `t[i]`, `t[-1]`, `t[a:b]`, iteration), one per
/// CSV row, keyed by the file's columns; empty cells are `None`. `to_csv()` is the file
/// exactly as the command line writes it, `columns()` a dict of lists, `to_pandas()` a
/// DataFrame (needs pandas).
#[pyclass(module = "scaler", frozen, sequence)]
pub struct Table {
    text: String,
    names: Vec<String>,
    kinds: Vec<Kind>,
    /// Byte offset of each row's start; one more entry: the end of the text.
    starts: Vec<usize>,
}

impl Table {
    /// Reads CSV bytes with a header (every row must end with a line end, as the
    /// project's writers end them; a last row without one is taken too).
    pub fn from_csv(bytes: Vec<u8>) -> Result<Table, String> {
        let text = String::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
        let header_end = text.find('\n').unwrap_or(text.len());
        let header = text[..header_end].trim_end_matches('\r').trim_start_matches('\u{feff}');
        let names: Vec<String> = if header.is_empty() {
            Vec::new()
        } else {
            split_cells(header).into_iter().map(|c| c.into_owned()).collect()
        };
        let kinds = names.iter().map(|n| kind_of(n)).collect();
        let first = (header_end + 1).min(text.len());
        let body = &text.as_bytes()[first..];
        let mut starts = Vec::with_capacity(memchr::memchr_iter(b'\n', body).count() + 2);
        starts.push(first);
        starts.extend(memchr::memchr_iter(b'\n', body).map(|i| first + i + 1));
        if starts.last() != Some(&text.len()) {
            // The last row has no line end: it still ends the text.
            starts.push(text.len());
        }
        Ok(Table { text, names, kinds, starts })
    }

    fn rows(&self) -> usize {
        self.starts.len() - 1
    }

    fn line(&self, i: usize) -> &str {
        let s = &self.text[self.starts[i]..self.starts[i + 1]];
        s.trim_end_matches('\n').trim_end_matches('\r')
    }

    fn cell<'py>(&self, py: Python<'py>, kind: Kind, cell: &str) -> PyResult<Bound<'py, PyAny>> {
        if cell.is_empty() {
            return Ok(py.None().into_bound(py));
        }
        let as_text = || cell.into_pyobject(py).map(|s| s.into_any());
        match kind {
            Kind::Text => Ok(as_text()?),
            Kind::Int => match cell.parse::<i64>() {
                Ok(i) => Ok(i.into_pyobject(py)?.into_any()),
                Err(_) => match cell.parse::<f64>() {
                    Ok(f) => Ok(f.into_pyobject(py)?.into_any()),
                    Err(_) => Ok(as_text()?),
                },
            },
            Kind::Float => match cell.parse::<f64>() {
                Ok(f) => Ok(f.into_pyobject(py)?.into_any()),
                Err(_) => Ok(as_text()?),
            },
            Kind::Auto => match (cell.parse::<i64>(), cell.parse::<f64>()) {
                (Ok(i), _) => Ok(i.into_pyobject(py)?.into_any()),
                (_, Ok(f)) => Ok(f.into_pyobject(py)?.into_any()),
                _ => Ok(as_text()?),
            },
        }
    }

    fn keys<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyString>> {
        self.names.iter().map(|n| PyString::intern(py, n)).collect()
    }

    fn row<'py>(&self, py: Python<'py>, keys: &[Bound<'py, PyString>], i: usize) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let cells = split_cells(self.line(i));
        for (j, name) in keys.iter().enumerate() {
            let v = match cells.get(j) {
                Some(c) => self.cell(py, self.kinds[j], c)?,
                None => py.None().into_bound(py),
            };
            d.set_item(name, v)?;
        }
        Ok(d)
    }
}

#[pymethods]
impl Table {
    fn __len__(&self) -> usize {
        self.rows()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, index: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let n = self.rows();
        if let Ok(slice) = index.cast::<PySlice>() {
            let idx = slice.indices(isize::try_from(n).unwrap_or(isize::MAX))?;
            let list = PyList::empty(py);
            let keys = self.keys(py);
            let mut i = idx.start;
            for _ in 0..idx.slicelength {
                list.append(self.row(py, &keys, usize::try_from(i).unwrap_or(0))?)?;
                i += idx.step;
            }
            return Ok(list.into_any());
        }
        let i: i64 = index.extract().map_err(|_| PyTypeError::new_err("a Table is indexed by an int or a slice"))?;
        let n64 = i64::try_from(n).unwrap_or(i64::MAX);
        let j = if i < 0 { i + n64 } else { i };
        if j < 0 || j >= n64 {
            return Err(PyIndexError::new_err(format!("row {i} of a table of {n} rows")));
        }
        Ok(self.row(py, &self.keys(py), usize::try_from(j).unwrap_or(0))?.into_any())
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.to_list(py)?.try_iter()
    }

    /// The column names, in the file's order.
    #[getter]
    fn header(&self) -> Vec<String> {
        self.names.clone()
    }

    /// Every row as a dict, in a list.
    fn to_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let keys = self.keys(py);
        let rows = (0..self.rows()).map(|i| self.row(py, &keys, i)).collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, rows)
    }

    /// The table as `{column: [values...]}`.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let cols: Vec<Bound<'py, PyList>> = self.names.iter().map(|_| PyList::empty(py)).collect();
        for i in 0..self.rows() {
            let cells = split_cells(self.line(i));
            for (j, col) in cols.iter().enumerate() {
                let v = match cells.get(j) {
                    Some(c) => self.cell(py, self.kinds[j], c)?,
                    None => py.None().into_bound(py),
                };
                col.append(v)?;
            }
        }
        let d = PyDict::new(py);
        for (name, col) in self.keys(py).into_iter().zip(cols) {
            d.set_item(name, col)?;
        }
        Ok(d)
    }

    /// The CSV text, byte for byte what the command line writes.
    fn to_csv(&self) -> &str {
        &self.text
    }

    /// A pandas DataFrame of the table (raises ImportError without pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pd = py.import("pandas")?;
        let cols = self.columns(py)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("columns", self.names.clone())?;
        pd.getattr("DataFrame")?.call((cols,), Some(&kwargs))
    }

    fn __repr__(&self) -> String {
        format!("<scaler.Table: {} rows x [{}]>", self.rows(), self.names.join(", "))
    }
}
