//! Text from an input is echoed in messages with its control characters escaped: a field,
//! a header name, a TOML key or a file name holding ESC or NUL cannot recolour the terminal
//! or cut the message.

use std::path::Path;

use scaler_formats::csvio::{read_all_rows, CsvReader};
use scaler_formats::observations::ObservationReader;
use scaler_formats::scenario::{self, Overrides};
use scaler_formats::tomldoc::Doc;

const HOSTILE: &str = "\u{1b}[31mred\u{0}";

fn assert_clean(e: &str) {
    assert!(!e.chars().any(char::is_control), "raw control character in {e:?}");
    assert!(e.contains("\\u{1b}[31mred\\0"), "the hostile text, escaped, in {e:?}");
}

#[test]
fn a_field_with_esc_and_nul_is_escaped() {
    let header = "timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n";
    let text = format!("{header}0,1,0,0,0,{HOSTILE}\n");
    let csv = CsvReader::new(std::io::Cursor::new(text.into_bytes()), Path::new("obs.csv")).unwrap();
    let mut r = ObservationReader::from_csv(csv).unwrap();
    let e = r.next_observation().unwrap().unwrap().unwrap_err().to_string();
    assert_clean(&e);
    assert!(e.starts_with("obs.csv:2: column 6 (worker_utilization): "), "{e}");
}

#[test]
fn header_names_are_escaped() {
    let e = read_all_rows(format!("{HOSTILE},{HOSTILE}\n").as_bytes(), Path::new("t.csv")).unwrap_err().to_string();
    assert_clean(&e);
    // A missing column lists the header it found.
    let csv = CsvReader::new(std::io::Cursor::new(format!("{HOSTILE}\n1\n").into_bytes()), Path::new("o.csv")).unwrap();
    let e = ObservationReader::from_csv(csv).err().unwrap().to_string();
    assert_clean(&e);
}

#[test]
fn toml_keys_and_values_are_escaped() {
    let doc =
        Doc::parse(Path::new("s.toml"), "[trace]\npath = \"t.csv\"\n\"\\u001b[31mred\\u0000\" = 1\n".into()).unwrap();
    let e = scenario::from_doc(&doc, &Overrides::default()).unwrap_err().to_string();
    assert_clean(&e);
    let doc = Doc::parse(Path::new("s.toml"), "[trace]\npath = \"t.csv\"\nspread = \"\\u001b[31mred\\u0000\"\n".into())
        .unwrap();
    let e = scenario::from_doc(&doc, &Overrides::default()).unwrap_err().to_string();
    assert_clean(&e);
}

#[test]
fn file_names_are_escaped() {
    let e = scaler_formats::error::InputError::file(Path::new(HOSTILE), "is missing").to_string();
    assert_eq!(e, "\\u{1b}[31mred\\0: is missing");
    let e = scaler_formats::error::SimError::io(Path::new(HOSTILE), "write", std::io::Error::other("no")).to_string();
    assert_eq!(e, "\\u{1b}[31mred\\0: cannot write: no");
}
