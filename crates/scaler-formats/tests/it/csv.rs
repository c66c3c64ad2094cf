//! The CSV reader on its own.

use std::path::Path;

use scaler_formats::csvio::read_all_rows;

fn rows(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    read_all_rows(text.as_bytes(), Path::new("t.csv")).map_err(|e| e.to_string())
}

#[test]
fn quoting_bom_crlf_blank_lines() {
    let (h, r) = rows("\u{feff}a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n\r\n 2 , 3\n").unwrap();
    assert_eq!(h, ["a", "b"]);
    assert_eq!(r, [vec!["x,1".to_string(), "say \"hi\"".to_string()], vec!["2".to_string(), "3".to_string()]]);
}

#[test]
fn no_trailing_newline_and_header_only() {
    assert_eq!(rows("a\n1").unwrap().1, [vec!["1".to_string()]]);
    assert!(rows("a,b\n").unwrap().1.is_empty());
    assert!(rows("a,b").unwrap().1.is_empty());
}

#[test]
fn errors_name_line_and_column() {
    assert_eq!(rows("").unwrap_err(), "t.csv: is empty: a header row is required");
    assert_eq!(rows("a,a\n").unwrap_err(), "t.csv:1: column 2 (a): duplicate column `a` in header");
    assert_eq!(rows("a,b\n1,2\n1,2,\n").unwrap_err(), "t.csv:3: row has 3 fields but the header has 2");
    assert_eq!(
        rows("a,b\n1,\"2\n").unwrap_err(),
        "t.csv:2: column 2 (b): unterminated quoted field (a quoted field may not span lines)"
    );
    assert_eq!(rows("a,b\n1,\"2\"x\n").unwrap_err(), "t.csv:2: column 2 (b): unexpected text after a closing quote");
    assert_eq!(rows("a,,b\n").unwrap_err(), "t.csv:1: column 2 (): empty column name in header");
}

#[test]
fn overlong_line_is_refused_without_buffering_it_all() {
    let mut text = String::from("a\n");
    text.push_str(&"9".repeat(scaler_formats::csvio::MAX_LINE_BYTES + 10));
    let err = rows(&text).unwrap_err();
    assert!(err.starts_with("t.csv:2: line is longer than"), "{err}");
}

#[test]
fn fast_observation_rows_equal_the_cores_formatting() {
    use scaler_core::{DurationMs, Fixed9, Observation, PoolSnapshot, TimeMs};
    use scaler_formats::observations::{COLUMNS, EXACT_COLUMNS};
    let all: Vec<&str> = COLUMNS.iter().chain(EXACT_COLUMNS.iter()).copied().collect();
    assert_eq!(scaler_formats::observations::header_line(), all.join(",") + "\n");
    // A pool observation carries its exact counts in the last three columns.
    let pool = PoolSnapshot {
        ready_workers: 68,
        provisioning_workers: 2,
        busy_slots: 67,
        slots_per_worker: 1,
        pending_tasks: 4,
        running_tasks: 67,
        avg_task_duration: DurationMs(1500),
    };
    let o = Observation::from_pool(TimeMs(60_000), &pool).unwrap();
    let mut b = Vec::new();
    scaler_formats::observations::push_row(&mut b, &o);
    assert_eq!(String::from_utf8(b).unwrap(), "60,70,4,67,1.5,0.985294118,68,67,68\n");
    assert_eq!(o.csv_row(), "60,70,4,67,1.5,0.985294118,68,67,68\n");
    for (t, n, p, r, d, u) in [
        (0u64, 0u32, 0u64, 0u64, 0u64, 0u64),
        (1500, 3, 7, 2, 30_001, 333_333_333),
        (u64::MAX, u32::MAX, u64::MAX, 1, 1, 1_000_000_000),
    ] {
        let o = Observation::new(TimeMs(t), n, p, r, DurationMs(d), Fixed9::from_units(u)).unwrap();
        let mut b = Vec::new();
        scaler_formats::observations::push_row(&mut b, &o);
        assert_eq!(String::from_utf8(b).unwrap(), o.csv_row());
    }
}
